// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Base, Vm} from "./utils/Base.sol";
import {SettlementToken} from "../../contracts/SettlementToken.sol";
import {ISettlementToken} from "../../contracts/interfaces/ISettlementToken.sol";
import {IReceivableLedger} from "../../contracts/interfaces/IReceivableLedger.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

/// @dev Credit lines are per (debtor, settlement token): a line, a platform limit and the usage in one
/// currency never cover, cap or count an invoice in another. Two settlement tokens, both with 2 decimals:
/// Base's EUR token (`token`, indexed 1 by Base's lines) and a CNY token (indexed 2 by the CNY line below).
contract CurrencyCreditTest is Base {
    SettlementToken internal eur;
    SettlementToken internal cny;
    /// @dev A core enterprise no financier granted any line, in any token.
    address internal debtor3 = address(0xDEB9);

    uint256 internal constant CNY_LIMIT = 50_000_000_00; // the financier's CNY line to `debtor`
    uint256 internal constant EUR_FACE = 300_000_00;
    uint256 internal constant CNY_FACE = 2_000_000_00;
    uint256 internal constant CNY_FACE2 = 700_000_00;

    function setUp() public override {
        super.setUp();
        eur = token;
        vm.startPrank(admin);
        cny = new SettlementToken("Tokenized Deposit CNY", "tCNY", "CNY", 2, registry);
        cny.setIssuerCap(financier, type(uint128).max);
        registry.onboard(debtor3, IParticipantRegistry.Role.CoreEnterprise, keccak256("CE3"));
        vm.stopPrank();
        vm.prank(financier);
        ledger.setCreditLine(debtor, address(cny), CNY_LIMIT);
    }

    // ------------------------------------------------------------------ helpers

    function _invoiceIn(address tok, address debtor_, uint256 face)
        internal
        returns (IReceivableLedger.Invoice memory inv)
    {
        inv = _invoice(supplier, debtor_, face, T0 + 90 days);
        inv.token = tok;
    }

    function _registerIn(address tok, address debtor_, uint256 face) internal returns (uint256 id) {
        IReceivableLedger.Invoice memory inv = _invoiceIn(tok, debtor_, face);
        vm.prank(verifier);
        id = ledger.registerInvoice(inv);
    }

    function _confirmedIn(address tok, uint256 face) internal returns (uint256 id) {
        id = _registerIn(tok, debtor, face);
        vm.prank(debtor);
        ledger.endorse(id);
    }

    /// @dev The debtor gets `amount` of `tok` and approves the ledger for it.
    function _fund(SettlementToken tok, uint256 amount) internal {
        vm.prank(financier);
        tok.mint(debtor, amount);
        vm.prank(debtor);
        tok.approve(address(ledger), amount);
    }

    function _repayIn(SettlementToken tok, uint256 id, uint256 amount) internal {
        _fund(tok, amount);
        vm.prank(debtor);
        ledger.repay(id, amount);
    }

    function _used(address debtor_, address tok) internal view returns (uint256 used) {
        (, used) = ledger.creditLine(debtor_, tok);
    }

    function _limit(address debtor_, address tok) internal view returns (uint256 limit) {
        (limit,) = ledger.creditLine(debtor_, tok);
    }

    // ------------------------------------------------------------------ lines per token

    function test_lineInOneCurrencyDoesNotCoverAnother() public {
        vm.prank(financier);
        ledger.setCreditLine(debtor3, address(cny), CNY_LIMIT);
        vm.assertEq(_limit(debtor3, address(cny)), CNY_LIMIT);
        vm.assertEq(_limit(debtor3, address(eur)), 0);
        // an EUR invoice finds no EUR line: limit 0, used 0, whatever the CNY line
        IReceivableLedger.Invoice memory inv = _invoiceIn(address(eur), debtor3, 1);
        vm.prank(verifier);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableLedger.CreditLineExceeded.selector, debtor3, address(eur), 0, 0, 1)
        );
        ledger.registerInvoice(inv);
        // the same invoice in CNY fits the CNY line
        inv.token = address(cny);
        vm.prank(verifier);
        uint256 id = ledger.registerInvoice(inv);
        vm.assertEq(ledger.receivable(id).token, address(cny));
        vm.assertEq(_used(debtor3, address(cny)), 1);
        vm.assertEq(_used(debtor3, address(eur)), 0);
        vm.assertEq(ledger.receivableCount(), 1);
    }

    function test_invoiceInTokenWithoutAnyLineReverts() public {
        vm.prank(admin);
        SettlementToken usd = new SettlementToken("Tokenized Deposit USD", "tUSD", "USD", 2, registry);
        (uint256 limit, uint256 used) = ledger.creditLine(debtor, address(usd));
        vm.assertEq(limit, 0);
        vm.assertEq(used, 0);
        // a contract no line (nor platform limit) was ever set in, for any debtor
        IReceivableLedger.Invoice memory inv = _invoiceIn(address(usd), debtor, FACE);
        vm.prank(verifier);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableLedger.CreditLineExceeded.selector, debtor, address(usd), 0, 0, FACE)
        );
        ledger.registerInvoice(inv);
        // an address without code, the same
        inv.token = outsider;
        vm.prank(verifier);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableLedger.CreditLineExceeded.selector, debtor, outsider, 0, 0, FACE)
        );
        ledger.registerInvoice(inv);
        // a batch is refused as a whole
        IReceivableLedger.Invoice[] memory batch = new IReceivableLedger.Invoice[](2);
        batch[0] = _invoiceIn(address(eur), debtor, 1);
        batch[1] = _invoiceIn(address(usd), debtor, 2);
        vm.prank(verifier);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableLedger.CreditLineExceeded.selector, debtor, address(usd), 0, 0, 2)
        );
        ledger.registerInvoices(batch);
        vm.assertEq(ledger.receivableCount(), 0);
        vm.assertEq(_used(debtor, address(eur)), 0);
    }

    function test_usageIsCountedPerToken() public {
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.CreditReserved(1, debtor, EUR_FACE, EUR_FACE);
        uint256 e = _registerIn(address(eur), debtor, EUR_FACE);
        // the CNY reservation reports the CNY usage only
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.CreditReserved(2, debtor, CNY_FACE, CNY_FACE);
        uint256 c = _registerIn(address(cny), debtor, CNY_FACE);
        (uint256 limit, uint256 used) = ledger.creditLine(debtor, address(eur));
        vm.assertEq(limit, LIMIT);
        vm.assertEq(used, EUR_FACE, "EUR usage");
        (limit, used) = ledger.creditLine(debtor, address(cny));
        vm.assertEq(limit, CNY_LIMIT);
        vm.assertEq(used, CNY_FACE, "CNY usage");
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.Endorsed(c, debtor, CNY_FACE, CNY_FACE, false);
        vm.prank(debtor);
        ledger.endorse(c);
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.Endorsed(e, debtor, EUR_FACE, EUR_FACE, false);
        vm.prank(debtor);
        ledger.endorse(e);
        // the CNY usage takes no EUR room: the EUR line can be used to its last cent, and no further
        _registerIn(address(eur), debtor, LIMIT - EUR_FACE);
        vm.assertEq(_used(debtor, address(eur)), LIMIT);
        IReceivableLedger.Invoice memory inv = _invoiceIn(address(eur), debtor, 1);
        vm.prank(verifier);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableLedger.CreditLineExceeded.selector, debtor, address(eur), LIMIT, LIMIT, 1)
        );
        ledger.registerInvoice(inv);
        // ... while the CNY line still has its own room
        _registerIn(address(cny), debtor, CNY_LIMIT - CNY_FACE);
        vm.assertEq(_used(debtor, address(cny)), CNY_LIMIT);
        vm.assertEq(_used(debtor, address(eur)), LIMIT);
        // another debtor's usage is untouched in both
        vm.assertEq(_used(debtor2, address(eur)), 0);
        vm.assertEq(_used(debtor2, address(cny)), 0);
    }

    function test_rejectionReleasesOnlyItsOwnToken() public {
        uint256 e = _registerIn(address(eur), debtor, EUR_FACE);
        uint256 c1 = _registerIn(address(cny), debtor, CNY_FACE);
        _registerIn(address(cny), debtor, CNY_FACE2);
        vm.assertEq(_used(debtor, address(cny)), CNY_FACE + CNY_FACE2);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IReceivableLedger.Rejected(c1, debtor, supplier, CNY_FACE, false, CNY_FACE2);
        vm.prank(debtor);
        ledger.reject(c1);
        vm.assertEq(_used(debtor, address(cny)), CNY_FACE2);
        vm.assertEq(_used(debtor, address(eur)), EUR_FACE);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IReceivableLedger.Rejected(e, debtor, supplier, EUR_FACE, false, 0);
        vm.prank(debtor);
        ledger.reject(e);
        vm.assertEq(_used(debtor, address(eur)), 0);
        vm.assertEq(_used(debtor, address(cny)), CNY_FACE2);
    }

    function test_repaymentReleasesOnlyItsOwnToken() public {
        uint256 e = _confirmedIn(address(eur), EUR_FACE);
        uint256 c = _confirmedIn(address(cny), CNY_FACE);
        uint256 part = 123_456_78;
        // partial
        _fund(cny, part);
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.Repaid(c, debtor, part, part, CNY_FACE - part, CNY_FACE - part);
        vm.prank(debtor);
        ledger.repay(c, part);
        vm.assertEq(_used(debtor, address(cny)), CNY_FACE - part);
        vm.assertEq(_used(debtor, address(eur)), EUR_FACE);
        vm.assertEq(cny.balanceOf(address(ledger)), part);
        vm.assertEq(eur.balanceOf(address(ledger)), 0);
        // full
        _fund(cny, CNY_FACE - part);
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.Repaid(c, debtor, CNY_FACE - part, CNY_FACE, 0, 0);
        vm.prank(debtor);
        ledger.repay(c, CNY_FACE - part);
        vm.assertEq(uint256(_status(c)), uint256(IReceivableLedger.Status.Settled));
        vm.assertEq(_used(debtor, address(cny)), 0);
        vm.assertEq(_used(debtor, address(eur)), EUR_FACE);
        vm.assertEq(cny.balanceOf(address(ledger)), CNY_FACE);
        // the EUR receivable releases EUR only
        _fund(eur, 1_00);
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.Repaid(e, debtor, 1_00, 1_00, EUR_FACE - 1_00, EUR_FACE - 1_00);
        vm.prank(debtor);
        ledger.repay(e, 1_00);
        vm.assertEq(_used(debtor, address(eur)), EUR_FACE - 1_00);
        vm.assertEq(_used(debtor, address(cny)), 0);
        vm.assertEq(eur.balanceOf(address(ledger)), 1_00);
        vm.assertEq(cny.balanceOf(address(ledger)), CNY_FACE);
    }

    function test_creditNoteReleasesOnlyItsOwnToken() public {
        uint256 e = _confirmedIn(address(eur), EUR_FACE);
        uint256 c = _confirmedIn(address(cny), CNY_FACE);
        uint256 note = 250_000_00;
        vm.prank(regulator);
        ledger.dispute(c, keccak256("short delivery"));
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.DisputeResolved(c, admin, note, note, CNY_FACE - note, CNY_FACE - note);
        vm.prank(admin);
        ledger.resolveWithCreditNote(c, note);
        vm.assertEq(_used(debtor, address(cny)), CNY_FACE - note);
        vm.assertEq(_used(debtor, address(eur)), EUR_FACE);
        // a dispute lifted without a credit note reports the usage in the receivable's own token
        vm.prank(regulator);
        ledger.dispute(e, keccak256("quality"));
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.DisputeResolved(e, admin, 0, 0, EUR_FACE, EUR_FACE);
        vm.prank(admin);
        ledger.resolveDispute(e);
        // a credit note of the whole EUR receivable frees EUR only
        _creditNote(e, EUR_FACE);
        vm.assertEq(_used(debtor, address(eur)), 0);
        vm.assertEq(_used(debtor, address(cny)), CNY_FACE - note);
    }

    function test_platformLimitCapsOneTokenOnly() public {
        uint256 cap = 1_000_000_00;
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IReceivableLedger.PlatformLimitSet(debtor, address(cny), true, cap, cap, 0, admin);
        vm.prank(admin);
        ledger.setPlatformLimit(debtor, address(cny), true, cap);
        vm.assertEq(_limit(debtor, address(cny)), cap);
        vm.assertEq(_limit(debtor, address(eur)), LIMIT, "the EUR line is not capped");
        (bool capped, uint256 c, uint256 granted) = ledger.platformLimit(debtor, address(cny));
        vm.assertTrue(capped);
        vm.assertEq(c, cap);
        vm.assertEq(granted, CNY_LIMIT);
        (capped, c, granted) = ledger.platformLimit(debtor, address(eur));
        vm.assertFalse(capped);
        vm.assertEq(c, 0);
        vm.assertEq(granted, LIMIT);
        (capped,,) = ledger.platformLimit(debtor2, address(cny));
        vm.assertFalse(capped, "another debtor's cap");
        // a CNY invoice above the cap is refused, an EUR one of the same amount is not
        IReceivableLedger.Invoice memory inv = _invoiceIn(address(cny), debtor, cap + 1);
        vm.prank(verifier);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableLedger.CreditLineExceeded.selector, debtor, address(cny), cap, 0, cap + 1)
        );
        ledger.registerInvoice(inv);
        inv.token = address(eur);
        vm.prank(verifier);
        ledger.registerInvoice(inv);
        vm.assertEq(_used(debtor, address(eur)), cap + 1);
        vm.assertEq(_used(debtor, address(cny)), 0);
        // capping EUR leaves the CNY cap as it was
        vm.prank(admin);
        ledger.setPlatformLimit(debtor, address(eur), true, 5);
        vm.assertEq(_limit(debtor, address(eur)), 5);
        vm.assertEq(_limit(debtor, address(cny)), cap);
        vm.prank(admin);
        ledger.setPlatformLimit(debtor, address(cny), false, 0);
        vm.assertEq(_limit(debtor, address(cny)), CNY_LIMIT);
        vm.assertEq(_limit(debtor, address(eur)), 5);
    }

    function test_creditLineOfIsPerDebtorGrantorAndToken() public {
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IReceivableLedger.CreditLineSet(debtor, financier2, address(cny), 7, CNY_LIMIT + 7, 0);
        vm.prank(financier2);
        ledger.setCreditLine(debtor, address(cny), 7);
        vm.prank(financier);
        ledger.setCreditLine(debtor2, address(cny), 9);
        vm.assertEq(ledger.creditLineOf(debtor, financier, address(cny)), CNY_LIMIT);
        vm.assertEq(ledger.creditLineOf(debtor, financier, address(eur)), LIMIT);
        vm.assertEq(ledger.creditLineOf(debtor, financier2, address(cny)), 7);
        vm.assertEq(ledger.creditLineOf(debtor, financier2, address(eur)), 0);
        vm.assertEq(ledger.creditLineOf(debtor2, financier, address(cny)), 9);
        vm.assertEq(ledger.creditLineOf(debtor2, financier, address(eur)), LIMIT);
        vm.assertEq(ledger.creditLineOf(debtor2, financier2, address(cny)), 0);
        vm.assertEq(ledger.creditLineOf(debtor3, financier, address(cny)), 0);
        // lowering one's EUR line leaves its CNY line, and everybody's CNY sum, as they were
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IReceivableLedger.CreditLineSet(debtor, financier, address(eur), 3, 3, 0);
        vm.prank(financier);
        ledger.setCreditLine(debtor, address(eur), 3);
        vm.assertEq(ledger.creditLineOf(debtor, financier, address(eur)), 3);
        vm.assertEq(ledger.creditLineOf(debtor, financier, address(cny)), CNY_LIMIT);
        vm.assertEq(_limit(debtor, address(eur)), 3);
        vm.assertEq(_limit(debtor, address(cny)), CNY_LIMIT + 7);
        vm.assertEq(_limit(debtor2, address(cny)), 9);
        vm.assertEq(_limit(debtor2, address(eur)), LIMIT);
        (,, uint256 granted) = ledger.platformLimit(debtor, address(cny));
        vm.assertEq(granted, CNY_LIMIT + 7);
        (,, granted) = ledger.platformLimit(debtor, address(eur));
        vm.assertEq(granted, 3);
    }

    // ------------------------------------------------------------------ token index

    function test_setCreditLine_tokenWithoutCodeReverts() public {
        address[3] memory noCode = [address(0x1234), address(0), outsider];
        for (uint256 i = 0; i < noCode.length; ++i) {
            vm.prank(financier);
            vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.TokenNotContract.selector, noCode[i]));
            ledger.setCreditLine(debtor, noCode[i], 1);
            vm.assertEq(ledger.creditLineOf(debtor, financier, noCode[i]), 0);
            vm.assertEq(_limit(debtor, noCode[i]), 0);
        }
        // so no invoice can ever be registered in it
        IReceivableLedger.Invoice memory inv = _invoiceIn(address(0x1234), debtor, 1);
        vm.prank(verifier);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableLedger.CreditLineExceeded.selector, debtor, address(0x1234), 0, 0, 1)
        );
        ledger.registerInvoice(inv);
    }

    function test_setPlatformLimit_tokenWithoutCodeReverts() public {
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.TokenNotContract.selector, address(0x1234)));
        ledger.setPlatformLimit(debtor, address(0x1234), true, 1);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.TokenNotContract.selector, address(0)));
        ledger.setPlatformLimit(debtor, address(0), false, 0);
        vm.stopPrank();
        (bool capped, uint256 cap, uint256 granted) = ledger.platformLimit(debtor, address(0x1234));
        vm.assertFalse(capped);
        vm.assertEq(cap, 0);
        vm.assertEq(granted, 0);
    }

    function _indexedLogs(Vm.Log[] memory logs) internal pure returns (uint256 n, address tok, uint256 index) {
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].topics[0] == IReceivableLedger.SettlementTokenIndexed.selector) {
                ++n;
                tok = address(uint160(uint256(logs[i].topics[1])));
                index = abi.decode(logs[i].data, (uint256));
            }
        }
    }

    function test_settlementTokenIndexedOncePerToken() public {
        vm.startPrank(admin);
        SettlementToken usd = new SettlementToken("Tokenized Deposit USD", "tUSD", "USD", 2, registry);
        SettlementToken gbp = new SettlementToken("Tokenized Deposit GBP", "tGBP", "GBP", 2, registry);
        vm.stopPrank();
        // the first line in a token indexes it (EUR is 1, CNY 2), before the line's own event
        vm.expectEmit(true, false, false, true, address(ledger));
        emit IReceivableLedger.SettlementTokenIndexed(address(usd), 3);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IReceivableLedger.CreditLineSet(debtor, financier, address(usd), 100, 100, 0);
        vm.prank(financier);
        ledger.setCreditLine(debtor, address(usd), 100);
        // later lines and limits in the same token, for any debtor or grantor, emit none
        vm.recordLogs();
        vm.prank(financier);
        ledger.setCreditLine(debtor, address(usd), 200);
        vm.prank(financier2);
        ledger.setCreditLine(debtor, address(usd), 50);
        vm.prank(financier);
        ledger.setCreditLine(debtor2, address(usd), 10);
        vm.prank(admin);
        ledger.setPlatformLimit(debtor, address(usd), true, 120);
        vm.prank(financier);
        ledger.setCreditLine(debtor3, address(eur), 1);
        vm.prank(financier2);
        ledger.setCreditLine(debtor, address(cny), 1);
        (uint256 n,,) = _indexedLogs(vm.getRecordedLogs());
        vm.assertEq(n, 0, "an indexed token was indexed again");
        vm.assertEq(_limit(debtor, address(usd)), 120);
        // a platform limit is a first use too
        vm.recordLogs();
        vm.prank(admin);
        ledger.setPlatformLimit(debtor, address(gbp), true, 1);
        (uint256 n2, address tok, uint256 index) = _indexedLogs(vm.getRecordedLogs());
        vm.assertEq(n2, 1);
        vm.assertEq(tok, address(gbp));
        vm.assertEq(index, 4);
        vm.recordLogs();
        vm.prank(financier);
        ledger.setCreditLine(debtor, address(gbp), 5);
        (n,,) = _indexedLogs(vm.getRecordedLogs());
        vm.assertEq(n, 0);
        vm.assertEq(_limit(debtor, address(gbp)), 1);
        // registration never indexes: an invoice in each token resolves to it
        uint256 id = _registerIn(address(usd), debtor, 120);
        vm.assertEq(ledger.receivable(id).token, address(usd));
        id = _registerIn(address(gbp), debtor, 1);
        vm.assertEq(ledger.receivable(id).token, address(gbp));
    }

    // ------------------------------------------------------------------ repayment in the receivable's token

    function test_repayPullsTheReceivablesOwnToken() public {
        uint256 c = _confirmedIn(address(cny), CNY_FACE);
        uint256 amount = 100_000_00;
        // the debtor holds and approved EUR only
        _cash(debtor, 2 * CNY_FACE);
        _approve(debtor, address(ledger), type(uint256).max);
        vm.prank(debtor);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(ledger), 0, amount)
        );
        ledger.repay(c, amount);
        // approving CNY is not enough without CNY
        vm.prank(debtor);
        cny.approve(address(ledger), amount);
        vm.prank(debtor);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, debtor, 0, amount));
        ledger.repay(c, amount);
        // nothing moved
        vm.assertEq(ledger.outstanding(c), CNY_FACE);
        vm.assertEq(uint256(ledger.receivable(c).repaid), 0);
        vm.assertEq(uint256(_status(c)), uint256(IReceivableLedger.Status.Confirmed));
        vm.assertEq(_used(debtor, address(cny)), CNY_FACE);
        vm.assertEq(eur.balanceOf(debtor), 2 * CNY_FACE);
        vm.assertEq(eur.balanceOf(address(ledger)), 0);
        vm.assertEq(eur.allowance(debtor, address(ledger)), type(uint256).max);
        vm.assertEq(cny.balanceOf(debtor), 0);
        vm.assertEq(cny.balanceOf(address(ledger)), 0);
        vm.assertEq(cny.allowance(debtor, address(ledger)), amount);
        // with CNY it pays in CNY, and the EUR stays where it was
        vm.prank(financier);
        cny.mint(debtor, amount);
        vm.prank(debtor);
        ledger.repay(c, amount);
        vm.assertEq(cny.balanceOf(address(ledger)), amount);
        vm.assertEq(cny.balanceOf(debtor), 0);
        vm.assertEq(eur.balanceOf(debtor), 2 * CNY_FACE);
        vm.assertEq(eur.balanceOf(address(ledger)), 0);
        vm.assertEq(_used(debtor, address(cny)), CNY_FACE - amount);
        // and the holder is paid in CNY
        vm.assertEq(_redeem(supplier, c), amount);
        vm.assertEq(cny.balanceOf(supplier), amount);
        vm.assertEq(eur.balanceOf(supplier), 0);
    }

    // ------------------------------------------------------------------ SettlementToken currency

    function test_currency_returnsTheCode() public {
        vm.assertEq(bytes32(eur.currency()), bytes32(bytes3("EUR")));
        vm.assertEq(bytes32(cny.currency()), bytes32(bytes3("CNY")));
        vm.assertEq(cny.decimals(), 2);
        SettlementToken edge = new SettlementToken("x", "x", "AZZ", 0, registry);
        vm.assertEq(bytes32(edge.currency()), bytes32(bytes3("AZZ")));
        vm.assertEq(edge.decimals(), 0);
    }

    function test_constructor_rejectsInvalidCurrency() public {
        bytes3[6] memory bad = [bytes3("eur"), bytes3("E1R"), bytes3(0), bytes3("@UR"), bytes3("EU["), bytes3("EU")];
        for (uint256 i = 0; i < bad.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(ISettlementToken.InvalidCurrency.selector, bad[i]));
            new SettlementToken("Tokenized Deposit", "tX", bad[i], 2, registry);
        }
    }

    // ------------------------------------------------------------------ fuzz

    /// @dev Six invoices for one debtor, each in EUR or CNY, then per invoice one of: stay pending, endorse,
    /// reject, endorse and repay (partly or fully), endorse and a credit note, endorse, credit note and repay.
    /// Per token, the reserved credit equals that token's open nominal (pending and confirmed, unpaid,
    /// undiluted), read back from the ledger and from the test's own ghost.
    function testFuzz_usagePerTokenEqualsOpenNominal(
        uint256[6] calldata faces,
        uint256 tokenBits,
        uint256[6] calldata actions
    ) public {
        uint256[6] memory ids;
        bool[6] memory inCny;
        uint256[2] memory ghost; // [EUR, CNY]
        for (uint256 i = 0; i < 6; ++i) {
            inCny[i] = (tokenBits >> i) & 1 == 1;
            uint256 face = bound(faces[i], 1, 1_000_000_00); // six fit in either line
            ids[i] = _registerIn(inCny[i] ? address(cny) : address(eur), debtor, face);
            ghost[inCny[i] ? 1 : 0] += face;
        }
        for (uint256 i = 0; i < 6; ++i) {
            uint256 id = ids[i];
            uint256 face = ledger.outstanding(id);
            SettlementToken tok = inCny[i] ? cny : eur;
            uint256 k = inCny[i] ? 1 : 0;
            uint256 action = actions[i] % 6;
            if (action == 0) continue;
            if (action == 2) {
                vm.prank(debtor);
                ledger.reject(id);
                ghost[k] -= face;
                continue;
            }
            vm.prank(debtor);
            ledger.endorse(id);
            uint256 open = face;
            if (action == 4 || action == 5) {
                uint256 note = bound(actions[i] >> 8, 1, face);
                _creditNote(id, note);
                ghost[k] -= note;
                open -= note;
            }
            if ((action == 3 || action == 5) && open != 0) {
                uint256 amount = bound(actions[i] >> 128, 1, open);
                _repayIn(tok, id, amount);
                ghost[k] -= amount;
            }
        }
        uint256[2] memory openNominal;
        for (uint256 i = 0; i < 6; ++i) {
            IReceivableLedger.Status st = _status(ids[i]);
            if (st == IReceivableLedger.Status.Pending || st == IReceivableLedger.Status.Confirmed) {
                openNominal[inCny[i] ? 1 : 0] += ledger.outstanding(ids[i]);
            }
        }
        vm.assertEq(_used(debtor, address(eur)), openNominal[0], "EUR usage != EUR open nominal");
        vm.assertEq(_used(debtor, address(cny)), openNominal[1], "CNY usage != CNY open nominal");
        vm.assertEq(openNominal[0], ghost[0], "EUR ghost");
        vm.assertEq(openNominal[1], ghost[1], "CNY ghost");
    }
}
