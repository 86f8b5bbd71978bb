// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Base} from "./utils/Base.sol";
import {WarehouseReceipts} from "../../contracts/WarehouseReceipts.sol";
import {IWarehouseReceipts} from "../../contracts/interfaces/IWarehouseReceipts.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {IErrors} from "../../contracts/interfaces/IErrors.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

contract WarehouseReceiptsTest is Base {
    WarehouseReceipts internal receipts;
    address internal warehouse = address(0x3A1);
    address internal warehouse2 = address(0x3A2);
    address internal carrier = address(0x3A3); // a Logistics participant the operator did not appoint

    uint256 internal constant QTY = 500_000; // 500 t in kilograms
    uint256 internal constant PRINCIPAL = 150_000_00; // 150,000.00
    uint256 internal constant PRICE = 450_00; // 450.00 a tonne: 500 t are worth 225,000.00

    function setUp() public override {
        super.setUp();
        // a system participant, as the ledger and the market: it moves settlement tokens for loans
        receipts = _warehouseReceipts(warehouse);
        vm.startPrank(admin);
        registry.onboard(warehouse2, IParticipantRegistry.Role.Logistics, keccak256("W2"));
        registry.onboard(carrier, IParticipantRegistry.Role.Logistics, keccak256("C1"));
        receipts.appointWarehouse(warehouse2, true);
        vm.stopPrank();
        _cash(financier, 100 * PRINCIPAL);
        _approve(financier, address(receipts), type(uint256).max);
        _cash(financier2, 100 * PRINCIPAL);
        _approve(financier2, address(receipts), type(uint256).max);
        vm.prank(verifier);
        receipts.recordPrice(bytes16("SOYBEAN"), bytes4("KGM"), PRICE, T0, keccak256("price source"));
    }

    /// @dev 70 % loan-to-value at the start, margin call above 80 %.
    function _terms(uint256 principal, uint256 rate, uint256 maturity)
        internal
        pure
        returns (IWarehouseReceipts.LoanTerms memory)
    {
        return IWarehouseReceipts.LoanTerms(principal, rate, maturity, 7000, 8000);
    }

    function _lot(bytes32 lotRef) internal pure returns (IWarehouseReceipts.Lot memory) {
        return IWarehouseReceipts.Lot({
            commodity: bytes16("SOYBEAN"),
            grade: bytes32("No. 2 yellow"),
            quantity: uint96(QTY),
            unit: bytes4("KGM"),
            location: bytes32("SILO-4"),
            lotRef: lotRef,
            evidenceHash: keccak256("weighbridge ticket")
        });
    }

    function _issue(bytes32 lotRef) internal returns (uint256) {
        vm.prank(warehouse);
        return receipts.issue(supplier, _lot(lotRef));
    }

    function _pledged(bytes32 lotRef) internal returns (uint256 rid, uint256 loanId) {
        rid = _issue(lotRef);
        vm.prank(financier);
        loanId = receipts.offerLoan(rid, _terms(PRINCIPAL, 800, T0 + 180 days));
        vm.prank(supplier);
        receipts.acceptLoan(loanId);
    }

    // ------------------------------------------------------------------ issue

    function test_issue_recordsTheLotAndMintsToItsOwner() public {
        bytes32 fp = keccak256(abi.encode(warehouse, bytes32("LOT-1")));
        vm.expectEmit(true, true, true, true, address(receipts));
        emit IWarehouseReceipts.ReceiptIssued(1, warehouse, supplier, _lot("LOT-1"), fp);
        uint256 rid = _issue("LOT-1");
        vm.assertEq(rid, 1);
        vm.assertEq(receipts.ownerOf(rid), supplier);
        IWarehouseReceipts.Receipt memory r = receipts.receipt(rid);
        vm.assertEq(r.warehouse, warehouse);
        vm.assertEq(uint256(r.quantity), QTY);
        vm.assertEq(bytes32(r.commodity), bytes32(bytes16("SOYBEAN")));
        vm.assertEq(receipts.receiptByFingerprint(fp), rid);
    }

    function test_issue_theSameLotTwiceIsRefused() public {
        uint256 rid = _issue("LOT-1");
        bytes32 fp = keccak256(abi.encode(warehouse, bytes32("LOT-1")));
        vm.prank(warehouse);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.DuplicateLot.selector, fp, rid));
        receipts.issue(supplier2, _lot("LOT-1"));
        // another warehouse's lot of the same number is another lot
        vm.prank(warehouse2);
        vm.assertEq(receipts.issue(supplier2, _lot("LOT-1")), 2);
    }

    function test_issue_onlyAnAppointedActiveWarehouse() public {
        for (uint256 i = 0; i < 4; i++) {
            address caller = [carrier, supplier, financier, admin][i];
            vm.prank(caller);
            vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.NotWarehouse.selector, caller));
            receipts.issue(supplier, _lot("LOT-X"));
        }
        vm.prank(admin);
        registry.suspend(warehouse);
        vm.prank(warehouse);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.NotWarehouse.selector, warehouse));
        receipts.issue(supplier, _lot("LOT-X"));
        // only a Logistics participant can be appointed, and only by the operator
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.NotWarehouse.selector, supplier));
        receipts.appointWarehouse(supplier, true);
        bytes32 operatorRole = receipts.OPERATOR_ROLE();
        vm.prank(warehouse2);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, warehouse2, operatorRole)
        );
        receipts.appointWarehouse(carrier, true);
    }

    function test_issue_validation() public {
        IWarehouseReceipts.Lot memory lot = _lot("LOT-V");
        lot.quantity = 0;
        vm.prank(warehouse);
        vm.expectRevert(IErrors.ZeroAmount.selector);
        receipts.issue(supplier, lot);
        lot = _lot(bytes32(0));
        vm.prank(warehouse);
        vm.expectRevert(IWarehouseReceipts.IncompleteLot.selector);
        receipts.issue(supplier, lot);
        vm.prank(warehouse);
        vm.expectRevert(abi.encodeWithSelector(IErrors.CallerNotActive.selector, outsider));
        receipts.issue(outsider, _lot("LOT-V"));
    }

    // ------------------------------------------------------------------ pledge

    function test_acceptLoan_paysThePrincipalAndLocksTheReceipt() public {
        uint256 rid = _issue("LOT-1");
        vm.prank(financier);
        uint256 loanId = receipts.offerLoan(rid, _terms(PRINCIPAL, 800, T0 + 180 days));
        uint256 due = receipts.dueAmount(PRINCIPAL, 800, T0 + 180 days, T0);
        vm.assertEq(due, PRINCIPAL + PRINCIPAL * 800 * 180 / 3_650_000);
        vm.prank(supplier2);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.NotOwner.selector, rid, supplier2));
        receipts.acceptLoan(loanId);
        vm.expectEmit(true, true, true, true, address(receipts));
        emit IWarehouseReceipts.LoanStarted(loanId, rid, supplier, due);
        vm.prank(supplier);
        vm.assertEq(receipts.acceptLoan(loanId), due);
        vm.assertEq(token.balanceOf(supplier), PRINCIPAL);
        vm.assertEq(uint256(receipts.receipt(rid).loanId), loanId);
        // a pledged receipt can't move, be pledged again or be surrendered
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.ReceiptLocked.selector, rid, loanId));
        receipts.transferFrom(supplier, supplier2, rid);
        vm.prank(financier2);
        uint256 second = receipts.offerLoan(rid, _terms(PRINCIPAL, 500, T0 + 90 days));
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.ReceiptLocked.selector, rid, loanId));
        receipts.acceptLoan(second);
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.ReceiptLocked.selector, rid, loanId));
        receipts.surrender(rid);
        // not even the pledgee moves it while the pledge runs (the lock is checked before any approval)
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.ReceiptLocked.selector, rid, loanId));
        receipts.transferFrom(supplier, financier, rid);
    }

    function test_offerLoan_validation() public {
        uint256 rid = _issue("LOT-1");
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IErrors.NotActiveFinancier.selector, supplier));
        receipts.offerLoan(rid, _terms(PRINCIPAL, 800, T0 + 1 days));
        vm.startPrank(financier);
        vm.expectRevert(IErrors.ZeroAmount.selector);
        receipts.offerLoan(rid, _terms(0, 800, T0 + 1 days));
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.InvalidRate.selector, 10_001));
        receipts.offerLoan(rid, _terms(PRINCIPAL, 10_001, T0 + 1 days));
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.InvalidMaturity.selector, T0));
        receipts.offerLoan(rid, _terms(PRINCIPAL, 800, T0));
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.UnknownReceipt.selector, 99));
        receipts.offerLoan(99, _terms(PRINCIPAL, 800, T0 + 1 days));
        IWarehouseReceipts.LoanTerms memory terms = _terms(PRINCIPAL, 800, T0 + 1 days);
        (terms.ltvLimitBps, terms.marginCallBps) = (8000, 7000); // the limit above the margin call
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.InvalidLoanToValue.selector, 8000, 7000));
        receipts.offerLoan(rid, terms);
        (terms.ltvLimitBps, terms.marginCallBps) = (0, 7000);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.InvalidLoanToValue.selector, 0, 7000));
        receipts.offerLoan(rid, terms);
        // an offer can be withdrawn until accepted, then not accepted
        uint256 loanId = receipts.offerLoan(rid, _terms(PRINCIPAL, 800, T0 + 1 days));
        receipts.withdrawLoan(loanId);
        vm.stopPrank();
        vm.prank(supplier);
        vm.expectRevert(
            abi.encodeWithSelector(
                IWarehouseReceipts.WrongLoanState.selector, loanId, IWarehouseReceipts.LoanState.Withdrawn
            )
        );
        receipts.acceptLoan(loanId);
    }

    function test_repay_inPartsThenInFullEndsThePledge() public {
        (uint256 rid, uint256 loanId) = _pledged("LOT-1");
        uint256 due = receipts.loan(loanId).due;
        _cash(supplier, due); // it has the principal, and the interest from elsewhere
        _approve(supplier, address(receipts), type(uint256).max);
        vm.prank(supplier);
        receipts.repay(loanId, due / 3);
        vm.assertEq(uint256(receipts.receipt(rid).loanId), loanId, "still pledged");
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.AmountTooLarge.selector, due, due - due / 3));
        receipts.repay(loanId, due);
        uint256 before = token.balanceOf(financier);
        vm.expectEmit(true, true, true, true, address(receipts));
        emit IWarehouseReceipts.PledgeEnded(loanId, rid, IWarehouseReceipts.LoanState.Repaid);
        vm.prank(supplier);
        receipts.repay(loanId, due - due / 3);
        vm.assertEq(token.balanceOf(financier), before + due - due / 3);
        vm.assertEq(uint256(receipts.receipt(rid).loanId), 0);
        // free again: it moves, and it can be surrendered for the goods
        vm.prank(supplier);
        receipts.transferFrom(supplier, supplier2, rid);
        vm.prank(supplier2);
        receipts.surrender(rid);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.UnknownReceipt.selector, rid));
        receipts.receipt(rid);
    }

    function test_release_onlyByThePledgee() public {
        (uint256 rid, uint256 loanId) = _pledged("LOT-1");
        for (uint256 i = 0; i < 3; i++) {
            address caller = [supplier, financier2, admin][i];
            vm.prank(caller);
            vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.NotLender.selector, loanId, caller));
            receipts.release(loanId);
        }
        vm.prank(financier);
        receipts.release(loanId);
        vm.assertEq(uint256(receipts.receipt(rid).loanId), 0);
        vm.prank(financier);
        vm.expectRevert(
            abi.encodeWithSelector(
                IWarehouseReceipts.WrongLoanState.selector, loanId, IWarehouseReceipts.LoanState.Released
            )
        );
        receipts.release(loanId);
    }

    function test_claimCollateral_afterMaturityAndGraceOnly() public {
        (uint256 rid, uint256 loanId) = _pledged("LOT-1");
        uint256 from = T0 + 180 days + receipts.GRACE_PERIOD();
        vm.warp(from - 1);
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.NotInDefault.selector, loanId, from));
        receipts.claimCollateral(loanId);
        vm.warp(from);
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.NotLender.selector, loanId, supplier));
        receipts.claimCollateral(loanId);
        vm.prank(financier);
        receipts.claimCollateral(loanId);
        vm.assertEq(receipts.ownerOf(rid), financier);
        vm.assertEq(uint256(receipts.loan(loanId).state), uint256(IWarehouseReceipts.LoanState.Defaulted));
        vm.assertEq(uint256(receipts.receipt(rid).loanId), 0);
    }

    // ------------------------------------------------------------------ alerts and freezes

    function test_alerts_recordedByTheVerifierClearedByTheWarehouse() public {
        (uint256 rid, uint256 loanId) = _pledged("LOT-1");
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.NotVerifier.selector, supplier));
        receipts.recordAlert(rid, "SEAL_OPENED", keccak256("readings"));
        vm.prank(verifier);
        uint256 alertId = receipts.recordAlert(rid, "SEAL_OPENED", keccak256("readings"));
        vm.assertEq(uint256(receipts.receipt(rid).openAlerts), 1);
        // the pledgee freezes it; only the pledgee, only once
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.NotLender.selector, loanId, supplier));
        receipts.setFrozen(rid, true);
        vm.prank(financier);
        receipts.setFrozen(rid, true);
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.FreezeUnchanged.selector, rid, true));
        receipts.setFrozen(rid, true);
        // the warehouse clears the alert with its explanation; nobody else can, and not twice
        vm.prank(warehouse2);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.NotWarehouse.selector, warehouse2));
        receipts.clearAlert(alertId, keccak256("explanation"));
        vm.prank(warehouse);
        receipts.clearAlert(alertId, keccak256("explanation"));
        vm.assertEq(uint256(receipts.receipt(rid).openAlerts), 0);
        vm.prank(warehouse);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.UnknownAlert.selector, alertId));
        receipts.clearAlert(alertId, keccak256("explanation"));
        // the freeze ends with the pledge
        vm.prank(financier);
        receipts.release(loanId);
        vm.assertFalse(receipts.receipt(rid).frozen);
    }

    // ------------------------------------------------------------------ valuation and margin calls

    function _price(uint256 perThousand, uint256 at) internal {
        vm.prank(verifier);
        receipts.recordPrice(bytes16("SOYBEAN"), bytes4("KGM"), perThousand, at, keccak256(abi.encode(at)));
    }

    function test_recordPrice_onlyTheVerifierAndOnlyNewer() public {
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.NotVerifier.selector, supplier));
        receipts.recordPrice(bytes16("SOYBEAN"), bytes4("KGM"), PRICE, T0, bytes32(0));
        vm.prank(verifier);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.StalePrice.selector, T0, T0));
        receipts.recordPrice(bytes16("SOYBEAN"), bytes4("KGM"), PRICE, T0, bytes32(0));
        vm.prank(verifier);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.StalePrice.selector, T0 + 1, T0));
        receipts.recordPrice(bytes16("SOYBEAN"), bytes4("KGM"), PRICE, T0 + 1, bytes32(0)); // in the future
        vm.warp(T0 + 1);
        _price(400_00, T0 + 1);
        vm.assertEq(uint256(receipts.price(bytes16("SOYBEAN"), bytes4("KGM")).perThousand), 400_00);
    }

    function test_offerLoan_withinTheLoanToValueLimitOnly() public {
        uint256 rid = _issue("LOT-1");
        uint256 value = QTY * PRICE / 1000; // 225,000.00
        uint256 most = value * 7000 / 10_000;
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.LoanToValueTooHigh.selector, 1, most + 1, value));
        receipts.offerLoan(rid, _terms(most + 1, 800, T0 + 90 days));
        vm.prank(financier);
        uint256 atLimit = receipts.offerLoan(rid, _terms(most, 800, T0 + 90 days));
        vm.prank(supplier);
        receipts.acceptLoan(atLimit);
        vm.assertEq(receipts.collateralValue(atLimit), value);
        // a commodity without a price can't be lent against
        IWarehouseReceipts.Lot memory lot = _lot("LOT-COPPER");
        lot.commodity = bytes16("COPPER");
        vm.prank(warehouse);
        uint256 copper = receipts.issue(supplier, lot);
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.NoPrice.selector, bytes16("COPPER"), bytes4("KGM")));
        receipts.offerLoan(copper, _terms(1, 800, T0 + 90 days));
    }

    function test_marginCall_afterAPriceDrop_curedByMoreCollateral() public {
        (, uint256 loanId) = _pledged("LOT-1");
        uint256 outstanding = receipts.loan(loanId).due;
        // within the threshold: nobody can call the margin
        vm.expectRevert(
            abi.encodeWithSelector(
                IWarehouseReceipts.MarginNotCallable.selector, loanId, outstanding, QTY * PRICE / 1000
            )
        );
        receipts.callMargin(loanId);
        // the price falls: outstanding is now above 80 % of the value, and anyone may call
        vm.warp(T0 + 1 days);
        _price(350_00, T0 + 1 days);
        uint256 value = QTY * 350_00 / 1000;
        vm.assertGt(outstanding * 10_000, value * 8000, "above the threshold");
        vm.expectEmit(true, true, true, true, address(receipts));
        emit IWarehouseReceipts.MarginCalled(loanId, T0 + 1 days + 3 days, outstanding, value);
        vm.prank(outsider);
        receipts.callMargin(loanId);
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.NotInDefault.selector, loanId, T0 + 4 days));
        receipts.claimCollateral(loanId);
        // the borrower pledges another lot: the call is cured at once
        uint256 second = _issue("LOT-2");
        vm.expectEmit(true, true, true, true, address(receipts));
        emit IWarehouseReceipts.MarginCallCured(loanId);
        vm.prank(supplier);
        receipts.addCollateral(loanId, second);
        vm.assertEq(uint256(receipts.loan(loanId).marginDeadline), 0);
        vm.assertEq(receipts.collateral(loanId).length, 2);
        vm.assertEq(uint256(receipts.receipt(second).loanId), loanId);
        vm.warp(T0 + 5 days);
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.NotInDefault.selector, loanId, T0 + 187 days));
        receipts.claimCollateral(loanId);
        // repaid in full, both receipts are free
        _cash(supplier, outstanding);
        _approve(supplier, address(receipts), type(uint256).max);
        vm.prank(supplier);
        receipts.repay(loanId, outstanding);
        vm.assertEq(uint256(receipts.receipt(second).loanId), 0);
        vm.assertEq(uint256(receipts.receipt(1).loanId), 0);
    }

    function test_marginCall_uncuredLetsThePledgeeTakeEveryReceipt() public {
        (uint256 rid, uint256 loanId) = _pledged("LOT-1");
        uint256 second = _issue("LOT-2");
        vm.prank(supplier);
        receipts.addCollateral(loanId, second);
        vm.warp(T0 + 1 days);
        _price(150_00, T0 + 1 days); // 1,000 t at 150.00: 150,000.00 against 150,000.00 and interest
        receipts.callMargin(loanId);
        vm.warp(T0 + 4 days);
        vm.prank(financier);
        receipts.claimCollateral(loanId);
        vm.assertEq(receipts.ownerOf(rid), financier);
        vm.assertEq(receipts.ownerOf(second), financier);
        vm.assertEq(uint256(receipts.loan(loanId).state), uint256(IWarehouseReceipts.LoanState.Defaulted));
    }

    function test_addCollateral_theBorrowersFreeReceiptsOnlyAndAtMostEight() public {
        (, uint256 loanId) = _pledged("LOT-1");
        vm.prank(warehouse);
        uint256 theirs = receipts.issue(supplier2, _lot("LOT-THEIRS"));
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.NotOwner.selector, theirs, supplier));
        receipts.addCollateral(loanId, theirs);
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.ReceiptLocked.selector, 1, loanId));
        receipts.addCollateral(loanId, 1);
        for (uint256 i = 2; i <= 8; i++) {
            uint256 more = _issue(bytes32(i));
            vm.prank(supplier);
            receipts.addCollateral(loanId, more);
        }
        uint256 ninth = _issue("LOT-9");
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IWarehouseReceipts.TooMuchCollateral.selector, loanId));
        receipts.addCollateral(loanId, ninth);
        vm.assertEq(receipts.collateral(loanId).length, 8);
        vm.assertEq(receipts.collateralValue(loanId), 8 * QTY * PRICE / 1000);
    }
}
