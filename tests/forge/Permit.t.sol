// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Base} from "./utils/Base.sol";
import {IDiscountMarket} from "../../contracts/interfaces/IDiscountMarket.sol";
import {IReceivableLedger} from "../../contracts/interfaces/IReceivableLedger.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {IErrors} from "../../contracts/interfaces/IErrors.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {WarehouseReceipts} from "../../contracts/WarehouseReceipts.sol";
import {IWarehouseReceipts} from "../../contracts/interfaces/IWarehouseReceipts.sol";

/// @dev EIP-2612 permits of the settlement token, and the atomic approve-and-act paths of the market
/// (`makeOfferWithPermit`), the ledger (`repayWithPermit`) and the warehouse receipts (`offerLoanWithPermit`,
/// `repayWithPermit`): a refused action applies no permit (allowance and
/// nonce unchanged), wrong signers and expired permits are refused, a front-run permit does not block the action.
contract PermitTest is Base {
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
    uint256 internal constant BANK_KEY = 0xBA4C;
    uint256 internal constant PRIOR = 7; // an allowance the owner gave before (by approve)

    address internal bank;
    uint256 internal id;

    function setUp() public override {
        super.setUp();
        bank = vm.addr(BANK_KEY);
        vm.prank(admin);
        registry.onboard(bank, IParticipantRegistry.Role.Financier, keccak256("BANK"));
        id = _confirmed(FACE);
        _cash(bank, 10 * FACE);
        _cash(debtor, FACE);
        _approve(bank, address(market), PRIOR);
        _approve(debtor, address(ledger), PRIOR);
    }

    // ------------------------------------------------------------------ helpers

    function _permit(uint256 key, address owner, address spender, uint256 value, uint256 nonce, uint256 deadline)
        internal
        returns (IDiscountMarket.PermitSignature memory p)
    {
        bytes32 structHash = keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, nonce, deadline));
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash));
        (p.v, p.r, p.s) = vm.sign(key, digest);
        (p.value, p.deadline) = (value, deadline);
    }

    function _bankPermit(uint256 value) internal returns (IDiscountMarket.PermitSignature memory) {
        return _permit(BANK_KEY, bank, address(market), value, token.nonces(bank), T0 + 1 hours);
    }

    function _debtorPermit(uint256 value) internal returns (IDiscountMarket.PermitSignature memory) {
        return _permit(DEBTOR_KEY, debtor, address(ledger), value, token.nonces(debtor), T0 + 1 hours);
    }

    function _offer(uint256 rid, uint256 maxAmount, uint256 expiry, IDiscountMarket.PermitSignature memory p)
        internal
        returns (uint256)
    {
        vm.prank(bank);
        return market.makeOfferWithPermit(rid, maxAmount, 500, expiry, p);
    }

    function _repay(uint256 rid, uint256 amount, IDiscountMarket.PermitSignature memory p) internal {
        vm.prank(debtor);
        ledger.repayWithPermit(rid, amount, p.deadline, p.v, p.r, p.s);
    }

    // ------------------------------------------------------------------ the token's permit

    function test_permit_domainIsTheTokensNameVersion1() public view {
        bytes32 expected = keccak256(
            abi.encode(
                DOMAIN_TYPEHASH, keccak256("Tokenized Deposit EUR"), keccak256("1"), block.chainid, address(token)
            )
        );
        vm.assertEq(token.DOMAIN_SEPARATOR(), expected);
        (, string memory name, string memory version,, address verifying,,) = token.eip712Domain();
        vm.assertEq(keccak256(bytes(name)), keccak256(bytes(token.name())));
        vm.assertEq(keccak256(bytes(version)), keccak256("1"));
        vm.assertEq(verifying, address(token));
    }

    function test_permit_setsAllowanceAndUsesNonce() public {
        IDiscountMarket.PermitSignature memory p = _bankPermit(123);
        vm.prank(outsider); // anyone may submit it
        token.permit(bank, address(market), p.value, p.deadline, p.v, p.r, p.s);
        vm.assertEq(token.allowance(bank, address(market)), 123);
        vm.assertEq(token.nonces(bank), 1);
        vm.expectPartialRevert(ERC20Permit.ERC2612InvalidSigner.selector); // replay: the nonce is used
        token.permit(bank, address(market), p.value, p.deadline, p.v, p.r, p.s);
    }

    function test_permit_followsTheApproveRuleForSuspendedOwners() public {
        vm.prank(admin);
        registry.suspend(debtor);
        // a suspended owner may still permit a platform contract (to repay) ...
        IDiscountMarket.PermitSignature memory p = _debtorPermit(5);
        token.permit(debtor, address(ledger), p.value, p.deadline, p.v, p.r, p.s);
        vm.assertEq(token.allowance(debtor, address(ledger)), 5);
        // ... but nobody else, as with approve
        p = _permit(DEBTOR_KEY, debtor, supplier, 5, token.nonces(debtor), T0 + 1 hours);
        vm.expectRevert(abi.encodeWithSelector(IErrors.CallerNotActive.selector, debtor));
        token.permit(debtor, supplier, p.value, p.deadline, p.v, p.r, p.s);
    }

    // ------------------------------------------------------------------ makeOfferWithPermit

    function test_makeOfferWithPermit_offersAndApprovesInOneCall() public {
        IDiscountMarket.PermitSignature memory p = _bankPermit(PRIOR + FACE / 2);
        vm.expectEmit(true, true, true, true, address(market));
        emit IDiscountMarket.OfferMade(1, id, bank, FACE / 2, 500, T0 + 1 days);
        uint256 oid = _offer(id, FACE / 2, T0 + 1 days, p);
        vm.assertEq(oid, 1);
        vm.assertEq(market.offer(oid).maker, bank);
        vm.assertEq(token.allowance(bank, address(market)), PRIOR + FACE / 2);
        vm.assertEq(token.nonces(bank), 1);
        // the offer can be filled from that allowance
        vm.prank(supplier);
        uint256 price = market.acceptOffer(oid, FACE / 2);
        vm.assertEq(token.allowance(bank, address(market)), PRIOR + FACE / 2 - price);
    }

    function test_makeOfferWithPermit_refusedOfferAppliesNoPermit() public {
        uint256 pending = _register(FACE);
        IDiscountMarket.PermitSignature memory p = _bankPermit(PRIOR + FACE);
        vm.prank(bank);
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.NotDiscountable.selector, pending));
        market.makeOfferWithPermit(pending, FACE, 500, T0 + 1 days, p);
        vm.prank(bank);
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.InvalidExpiry.selector, T0));
        market.makeOfferWithPermit(id, FACE, 500, T0, p);
        vm.prank(bank);
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.InvalidRate.selector, 10_001));
        market.makeOfferWithPermit(id, FACE, 10_001, T0 + 1 days, p);
        vm.assertEq(token.allowance(bank, address(market)), PRIOR, "allowance unchanged");
        vm.assertEq(token.nonces(bank), 0, "nonce unchanged");
        vm.assertEq(market.offerCount(), 0);
        // the same permit still works for an offer that is accepted
        _offer(id, FACE, T0 + 1 days, p);
        vm.assertEq(token.allowance(bank, address(market)), PRIOR + FACE);
    }

    function test_makeOfferWithPermit_wrongSigner() public {
        IDiscountMarket.PermitSignature memory p =
            _permit(DEBTOR_KEY, bank, address(market), PRIOR + 1, token.nonces(bank), T0 + 1 hours);
        bytes32 digest = keccak256(
            abi.encodePacked(
                "\x19\x01",
                token.DOMAIN_SEPARATOR(),
                keccak256(abi.encode(PERMIT_TYPEHASH, bank, address(market), PRIOR + 1, 0, T0 + 1 hours))
            )
        );
        vm.assertEq(ecrecover(digest, p.v, p.r, p.s), debtor);
        vm.prank(bank);
        vm.expectRevert(abi.encodeWithSelector(ERC20Permit.ERC2612InvalidSigner.selector, debtor, bank));
        market.makeOfferWithPermit(id, 1, 500, T0 + 1 days, p);
        vm.assertEq(token.allowance(bank, address(market)), PRIOR);
        vm.assertEq(market.offerCount(), 0);
    }

    function test_makeOfferWithPermit_permitForAnotherSpenderIsRefused() public {
        // signed for the ledger, not the market: the market's digest recovers someone else
        IDiscountMarket.PermitSignature memory p =
            _permit(BANK_KEY, bank, address(ledger), PRIOR + 1, token.nonces(bank), T0 + 1 hours);
        vm.prank(bank);
        vm.expectPartialRevert(ERC20Permit.ERC2612InvalidSigner.selector); // (<some address>, bank)
        market.makeOfferWithPermit(id, 1, 500, T0 + 1 days, p);
        vm.assertEq(token.allowance(bank, address(market)), PRIOR);
    }

    function test_makeOfferWithPermit_expiredPermit() public {
        IDiscountMarket.PermitSignature memory p =
            _permit(BANK_KEY, bank, address(market), PRIOR + 1, token.nonces(bank), T0 - 1);
        vm.prank(bank);
        vm.expectRevert(abi.encodeWithSelector(ERC20Permit.ERC2612ExpiredSignature.selector, T0 - 1));
        market.makeOfferWithPermit(id, 1, 500, T0 + 1 days, p);
        vm.assertEq(token.allowance(bank, address(market)), PRIOR);
        vm.assertEq(token.nonces(bank), 0);
    }

    function test_makeOfferWithPermit_frontRunPermitDoesNotBlockTheOffer() public {
        IDiscountMarket.PermitSignature memory p = _bankPermit(PRIOR + 10);
        vm.prank(outsider); // someone copies the permit out of the pending transaction and submits it first
        token.permit(bank, address(market), p.value, p.deadline, p.v, p.r, p.s);
        uint256 oid = _offer(id, 10, T0 + 1 days, p);
        vm.assertEq(oid, 1);
        vm.assertEq(token.allowance(bank, address(market)), PRIOR + 10);
        vm.assertEq(token.nonces(bank), 1);
    }

    function test_makeOfferWithPermit_stalePermitIsRefused() public {
        // two offers signed against the same nonce and allowance (a race): the second is refused
        IDiscountMarket.PermitSignature memory first = _bankPermit(PRIOR + 10);
        IDiscountMarket.PermitSignature memory second = _bankPermit(PRIOR + 20);
        _offer(id, 10, T0 + 1 days, first);
        vm.prank(bank);
        vm.expectPartialRevert(ERC20Permit.ERC2612InvalidSigner.selector); // (<recovered with nonce 1>, bank)
        market.makeOfferWithPermit(id, 20, 500, T0 + 1 days, second);
        vm.assertEq(token.allowance(bank, address(market)), PRIOR + 10);
        vm.assertEq(market.offerCount(), 1);
    }

    function test_makeOfferWithPermit_onlyActiveFinancier() public {
        IDiscountMarket.PermitSignature memory p =
            _permit(DEBTOR_KEY, debtor, address(market), 1, token.nonces(debtor), T0 + 1 hours);
        vm.prank(debtor);
        vm.expectRevert(abi.encodeWithSelector(IErrors.NotActiveFinancier.selector, debtor));
        market.makeOfferWithPermit(id, 1, 500, T0 + 1 days, p);
        vm.assertEq(token.allowance(debtor, address(market)), 0);
    }

    // ------------------------------------------------------------------ makeOffer's expiry bound

    function test_makeOffer_expiryBoundedBy40Bits() public {
        uint256 max = type(uint40).max;
        vm.startPrank(financier);
        uint256 oid = market.makeOffer(id, 1, 500, max);
        vm.assertEq(uint256(market.offer(oid).expiry), max);
        uint256[4] memory tooLate =
            [max + 1, uint256(uint64(type(int64).max)), uint256(type(uint64).max), type(uint256).max];
        for (uint256 i = 0; i < tooLate.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.InvalidExpiry.selector, tooLate[i]));
            market.makeOffer(id, 1, 500, tooLate[i]);
        }
        vm.stopPrank();
    }

    function testFuzz_makeOffer_expiryFitsTheReadModel(uint256 expiry) public {
        vm.prank(financier);
        try market.makeOffer(id, 1, 500, expiry) returns (uint256 oid) {
            vm.assertTrue(expiry > T0 && expiry <= type(uint40).max);
            vm.assertEq(uint256(market.offer(oid).expiry), expiry);
            vm.assertLe(expiry, uint256(uint64(type(int64).max)), "fits a signed 64-bit column");
        } catch (bytes memory reason) {
            vm.assertTrue(expiry <= T0 || expiry > type(uint40).max);
            vm.assertEq(
                keccak256(reason), keccak256(abi.encodeWithSelector(IDiscountMarket.InvalidExpiry.selector, expiry))
            );
        }
    }

    // ------------------------------------------------------------------ repayWithPermit

    function test_repayWithPermit_permitsAndSpendsExactlyTheAmount() public {
        IDiscountMarket.PermitSignature memory p = _debtorPermit(FACE / 4);
        uint256 before = token.balanceOf(debtor);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IReceivableLedger.Repaid(id, debtor, FACE / 4, FACE / 4, FACE - FACE / 4, FACE - FACE / 4);
        _repay(id, FACE / 4, p);
        vm.assertEq(token.allowance(debtor, address(ledger)), 0, "exactly consumed");
        vm.assertEq(token.balanceOf(debtor), before - FACE / 4);
        vm.assertEq(token.balanceOf(address(ledger)), FACE / 4);
        vm.assertEq(token.nonces(debtor), 1);
        vm.assertEq(ledger.outstanding(id), FACE - FACE / 4);
    }

    function test_repayWithPermit_refusedRepaymentAppliesNoPermit() public {
        IDiscountMarket.PermitSignature memory p = _debtorPermit(FACE + 1);
        vm.prank(debtor);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableLedger.RepaymentExceedsOutstanding.selector, id, FACE + 1, FACE)
        );
        ledger.repayWithPermit(id, FACE + 1, p.deadline, p.v, p.r, p.s);
        uint256 pending = _register(FACE);
        p = _debtorPermit(1);
        vm.prank(debtor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.WrongStatus.selector,
                pending,
                IReceivableLedger.Status.Pending,
                IReceivableLedger.Status.Confirmed
            )
        );
        ledger.repayWithPermit(pending, 1, p.deadline, p.v, p.r, p.s);
        vm.assertEq(token.allowance(debtor, address(ledger)), PRIOR, "allowance unchanged");
        vm.assertEq(token.nonces(debtor), 0, "nonce unchanged");
        vm.assertEq(ledger.outstanding(id), FACE);
    }

    function test_repayWithPermit_notTheDebtor() public {
        IDiscountMarket.PermitSignature memory p = _debtorPermit(1);
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.NotDebtor.selector, id, supplier, debtor));
        ledger.repayWithPermit(id, 1, p.deadline, p.v, p.r, p.s);
        vm.assertEq(token.nonces(debtor), 0);
    }

    function test_repayWithPermit_wrongSigner() public {
        IDiscountMarket.PermitSignature memory p =
            _permit(DEBTOR2_KEY, debtor, address(ledger), 100, token.nonces(debtor), T0 + 1 hours);
        vm.prank(debtor);
        vm.expectRevert(abi.encodeWithSelector(ERC20Permit.ERC2612InvalidSigner.selector, debtor2, debtor));
        ledger.repayWithPermit(id, 100, p.deadline, p.v, p.r, p.s);
        vm.assertEq(token.allowance(debtor, address(ledger)), PRIOR);
        vm.assertEq(ledger.outstanding(id), FACE);
    }

    function test_repayWithPermit_permitForAnotherAmountIsRefused() public {
        IDiscountMarket.PermitSignature memory p = _debtorPermit(100); // signed for 100, used for 99
        vm.prank(debtor);
        vm.expectPartialRevert(ERC20Permit.ERC2612InvalidSigner.selector); // (<some address>, debtor)
        ledger.repayWithPermit(id, 99, p.deadline, p.v, p.r, p.s);
        vm.assertEq(token.allowance(debtor, address(ledger)), PRIOR);
    }

    function test_repayWithPermit_expiredPermit() public {
        IDiscountMarket.PermitSignature memory p =
            _permit(DEBTOR_KEY, debtor, address(ledger), 100, token.nonces(debtor), T0 - 1);
        vm.prank(debtor);
        vm.expectRevert(abi.encodeWithSelector(ERC20Permit.ERC2612ExpiredSignature.selector, T0 - 1));
        ledger.repayWithPermit(id, 100, p.deadline, p.v, p.r, p.s);
        vm.assertEq(token.allowance(debtor, address(ledger)), PRIOR);
        vm.assertEq(token.nonces(debtor), 0);
    }

    function test_repayWithPermit_frontRunPermitDoesNotBlockTheRepayment() public {
        IDiscountMarket.PermitSignature memory p = _debtorPermit(100);
        vm.prank(outsider);
        token.permit(debtor, address(ledger), p.value, p.deadline, p.v, p.r, p.s);
        _repay(id, 100, p);
        vm.assertEq(token.allowance(debtor, address(ledger)), 0);
        vm.assertEq(ledger.outstanding(id), FACE - 100);
        // replaying the same (used) permit with its allowance spent is refused
        vm.prank(debtor);
        vm.expectPartialRevert(ERC20Permit.ERC2612InvalidSigner.selector); // (<recovered with nonce 1>, debtor)
        ledger.repayWithPermit(id, 100, p.deadline, p.v, p.r, p.s);
        vm.assertEq(ledger.outstanding(id), FACE - 100);
    }

    function test_repayWithPermit_bySuspendedDebtor() public {
        vm.prank(admin);
        registry.suspend(debtor);
        _repay(id, FACE, _debtorPermit(FACE));
        vm.assertEq(uint256(_status(id)), uint256(IReceivableLedger.Status.Settled));
        vm.assertEq(token.allowance(debtor, address(ledger)), 0);
    }

    function testFuzz_repayWithPermit_allOrNothing(uint256 amount) public {
        amount = bound(amount, 1, 2 * FACE);
        IDiscountMarket.PermitSignature memory p = _debtorPermit(amount);
        vm.prank(debtor);
        try ledger.repayWithPermit(id, amount, p.deadline, p.v, p.r, p.s) {
            vm.assertLe(amount, FACE);
            vm.assertEq(token.allowance(debtor, address(ledger)), 0);
            vm.assertEq(token.nonces(debtor), 1);
            vm.assertEq(ledger.outstanding(id), FACE - amount);
        } catch {
            vm.assertGt(amount, FACE, "only an amount above the outstanding is refused");
            vm.assertEq(token.allowance(debtor, address(ledger)), PRIOR);
            vm.assertEq(token.nonces(debtor), 0);
            vm.assertEq(ledger.outstanding(id), FACE);
        }
    }
    // ------------------------------------------------------------------ warehouse loans with a permit

    function _warehouse() internal returns (WarehouseReceipts w, uint256 rid) {
        address store = address(0x3A1);
        w = _warehouseReceipts(store);
        vm.prank(verifier);
        w.recordPrice(bytes16("SOYBEAN"), bytes4("KGM"), 450_00, T0, 0); // 450.00 a tonne
        vm.prank(store);
        rid = w.issue(
            debtor, IWarehouseReceipts.Lot(bytes16("SOYBEAN"), "No. 2", 500_000, bytes4("KGM"), "S1", "LOT-1", 0)
        );
        _approve(bank, address(w), PRIOR);
    }

    function test_offerLoanWithPermit_offersAndApprovesInOneCallRefusedAppliesNothing() public {
        (WarehouseReceipts w, uint256 rid) = _warehouse(); // worth 225,000.00
        IDiscountMarket.PermitSignature memory p =
            _permit(BANK_KEY, bank, address(w), PRIOR + 150_000_00, token.nonces(bank), T0 + 1 hours);
        // above the loan-to-value limit: refused, and neither the allowance nor the nonce moved
        vm.prank(bank);
        vm.expectRevert(
            abi.encodeWithSelector(IWarehouseReceipts.LoanToValueTooHigh.selector, 1, 160_000_00, 225_000_00)
        );
        w.offerLoanWithPermit(rid, IWarehouseReceipts.LoanTerms(160_000_00, 800, T0 + 90 days, 7000, 8000), p);
        vm.assertEq(token.allowance(bank, address(w)), PRIOR, "allowance unchanged");
        vm.assertEq(token.nonces(bank), 0, "nonce unchanged");
        // the same permit with terms within the limit: offer and allowance in one transaction
        vm.prank(bank);
        uint256 loanId =
            w.offerLoanWithPermit(rid, IWarehouseReceipts.LoanTerms(150_000_00, 800, T0 + 90 days, 7000, 8000), p);
        vm.assertEq(token.allowance(bank, address(w)), PRIOR + 150_000_00);
        vm.assertEq(token.nonces(bank), 1);
        uint256 before = token.balanceOf(debtor);
        vm.prank(debtor);
        uint256 due = w.acceptLoan(loanId);
        vm.assertEq(token.balanceOf(debtor), before + 150_000_00);
        vm.assertEq(token.allowance(bank, address(w)), PRIOR);
        // repay part with a permit for exactly that amount; a repayment above what is due applies nothing
        IDiscountMarket.PermitSignature memory q =
            _permit(DEBTOR_KEY, debtor, address(w), due + 1, token.nonces(debtor), T0 + 1 hours);
        vm.prank(debtor);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.AmountTooLarge.selector, due + 1, due));
        w.repayWithPermit(loanId, due + 1, q.deadline, q.v, q.r, q.s);
        vm.assertEq(token.nonces(debtor), 0, "nonce unchanged");
        q = _permit(DEBTOR_KEY, debtor, address(w), 1_000_00, token.nonces(debtor), T0 + 1 hours);
        uint256 lent = token.balanceOf(bank);
        vm.prank(debtor);
        w.repayWithPermit(loanId, 1_000_00, q.deadline, q.v, q.r, q.s);
        vm.assertEq(token.balanceOf(bank), lent + 1_000_00);
        vm.assertEq(uint256(w.loan(loanId).repaid), 1_000_00);
        vm.assertEq(token.allowance(debtor, address(w)), 0);
    }

    function test_offerLoanWithPermit_onlyAnActiveFinancierAndItsOwnSignature() public {
        (WarehouseReceipts w, uint256 rid) = _warehouse();
        IWarehouseReceipts.LoanTerms memory terms = IWarehouseReceipts.LoanTerms(1_00, 800, T0 + 90 days, 7000, 8000);
        // signed by someone else than the caller
        IDiscountMarket.PermitSignature memory p =
            _permit(DEBTOR_KEY, bank, address(w), PRIOR + 1_00, token.nonces(bank), T0 + 1 hours);
        vm.prank(bank);
        vm.expectRevert(abi.encodeWithSelector(ERC20Permit.ERC2612InvalidSigner.selector, debtor, bank));
        w.offerLoanWithPermit(rid, terms, p);
        // a suspended financier, with its own valid permit
        p = _permit(BANK_KEY, bank, address(w), PRIOR + 1_00, token.nonces(bank), T0 + 1 hours);
        vm.prank(admin);
        registry.suspend(bank);
        vm.prank(bank);
        vm.expectRevert(abi.encodeWithSelector(IErrors.NotActiveFinancier.selector, bank));
        w.offerLoanWithPermit(rid, terms, p);
        vm.assertEq(token.allowance(bank, address(w)), PRIOR);
    }
}
