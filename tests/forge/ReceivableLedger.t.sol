// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Base} from "./utils/Base.sol";
import {IReceivableLedger} from "../../contracts/interfaces/IReceivableLedger.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {ReceivableLedger} from "../../contracts/ReceivableLedger.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC1155Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

contract ReceivableLedgerTest is Base {
    // ------------------------------------------------------------------ deployment & admin

    function test_constructor_rejectsZeroRegistry() public {
        vm.expectRevert(IReceivableLedger.ZeroAddress.selector);
        new ReceivableLedger(IParticipantRegistry(address(0)));
    }

    function test_constructor_wiring() public view {
        vm.assertEq(address(ledger.registry()), address(registry));
        vm.assertEq(ledger.market(), address(market));
        vm.assertTrue(ledger.hasRole(ledger.OPERATOR_ROLE(), admin));
        vm.assertTrue(ledger.hasRole(ledger.DEFAULT_ADMIN_ROLE(), admin));
        vm.assertEq(ledger.GRACE_PERIOD(), 3 days);
        vm.assertTrue(ledger.supportsInterface(0xd9b67a26)); // ERC-1155
        vm.assertTrue(ledger.supportsInterface(0x7965db0b)); // AccessControl
    }

    function test_setMarket() public {
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.MarketSet(address(0x1234), admin);
        vm.prank(admin);
        ledger.setMarket(address(0x1234));
        vm.assertEq(ledger.market(), address(0x1234));
    }

    function test_setMarket_revertsZeroAndNonAdmin() public {
        vm.prank(admin);
        vm.expectRevert(IReceivableLedger.ZeroAddress.selector);
        ledger.setMarket(address(0));
        bytes32 adminRole = ledger.DEFAULT_ADMIN_ROLE();
        vm.prank(supplier);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, supplier, adminRole)
        );
        ledger.setMarket(address(1));
    }

    // ------------------------------------------------------------------ credit lines

    function test_setCreditLine_byOperatorAndFinancier() public {
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.CreditLineSet(debtor, 5, 0, admin);
        vm.prank(admin);
        ledger.setCreditLine(debtor, 5);
        (uint256 limit, uint256 used) = ledger.creditLine(debtor);
        vm.assertEq(limit, 5);
        vm.assertEq(used, 0);
        vm.prank(financier);
        ledger.setCreditLine(debtor, 7);
        (limit,) = ledger.creditLine(debtor);
        vm.assertEq(limit, 7);
    }

    function test_setCreditLine_cannotGoBelowUsage() public {
        _confirmed(FACE);
        vm.prank(financier);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableLedger.CreditLineBelowUsage.selector, debtor, FACE - 1, FACE)
        );
        ledger.setCreditLine(debtor, FACE - 1);
        vm.prank(financier);
        ledger.setCreditLine(debtor, FACE); // exactly the usage is fine
    }

    function test_setCreditLine_debtorMustBeActiveCoreEnterprise() public {
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.DebtorNotActiveCoreEnterprise.selector, supplier));
        ledger.setCreditLine(supplier, 1);
        vm.prank(admin);
        registry.suspend(debtor);
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.DebtorNotActiveCoreEnterprise.selector, debtor));
        ledger.setCreditLine(debtor, 1);
    }

    function test_setCreditLine_suspendedFinancierRejected() public {
        vm.prank(admin);
        registry.suspend(financier);
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.NotOperatorOrFinancier.selector, financier));
        ledger.setCreditLine(debtor, 1);
    }

    // ------------------------------------------------------------------ registration

    function test_registerInvoice_mintsToCreditorPending() public {
        bytes32 fp = keccak256("S1/INV-1");
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IReceivableLedger.InvoiceRegistered(
            1, supplier, debtor, address(token), FACE, T0 - 1 days, T0 + 90 days, keccak256("b"), fp, verifier
        );
        vm.prank(verifier);
        uint256 id = ledger.registerInvoice(
            supplier, debtor, FACE, address(token), T0 - 1 days, T0 + 90 days, keccak256("b"), fp
        );
        vm.assertEq(id, 1);
        vm.assertEq(ledger.receivableCount(), 1);
        vm.assertEq(ledger.balanceOf(supplier, id), FACE);
        vm.assertEq(ledger.storedBalanceOf(supplier, id), FACE);
        vm.assertEq(ledger.receivableIdByFingerprint(fp), id);
        vm.assertEq(ledger.outstanding(id), FACE);
        IReceivableLedger.Receivable memory r = ledger.receivable(id);
        vm.assertEq(r.token, address(token));
        vm.assertEq(uint256(r.faceValue), FACE);
        vm.assertEq(r.debtor, debtor);
        vm.assertEq(r.creditor, supplier);
        vm.assertEq(uint256(r.issueDate), T0 - 1 days);
        vm.assertEq(uint256(r.dueDate), T0 + 90 days);
        vm.assertEq(uint256(r.status), uint256(IReceivableLedger.Status.Pending));
        vm.assertFalse(r.disputed);
        (bool ok, bytes32 reason) = ledger.canTransfer(supplier, supplier2, id, 1);
        vm.assertFalse(ok);
        vm.assertEq(reason, bytes32("NOT_CONFIRMED"));
    }

    function test_registerInvoice_duplicateFingerprintReverts() public {
        bytes32 fp = keccak256("S1/INV-1");
        vm.prank(verifier);
        uint256 id = ledger.registerInvoice(supplier, debtor, FACE, address(token), 1, 2, 0, fp);
        vm.prank(verifier);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.DuplicateFingerprint.selector, fp, id));
        ledger.registerInvoice(supplier2, debtor2, 5, address(token), 1, 2, 0, fp);
    }

    function test_registerInvoice_validation() public {
        bytes32 fp = keccak256("x");
        vm.startPrank(verifier);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.InvalidInvoice.selector, bytes32("ZERO_FACE")));
        ledger.registerInvoice(supplier, debtor, 0, address(token), 1, 2, 0, fp);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.InvalidInvoice.selector, bytes32("FACE_TOO_LARGE")));
        ledger.registerInvoice(supplier, debtor, uint256(type(uint64).max) + 1, address(token), 1, 2, 0, fp);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.InvalidInvoice.selector, bytes32("BAD_DATES")));
        ledger.registerInvoice(supplier, debtor, 1, address(token), 2, 2, 0, fp);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.InvalidInvoice.selector, bytes32("BAD_DATES")));
        ledger.registerInvoice(supplier, debtor, 1, address(token), 1, uint256(type(uint40).max) + 1, 0, fp);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.InvalidInvoice.selector, bytes32("BAD_TOKEN")));
        ledger.registerInvoice(supplier, debtor, 1, address(0x1234), 1, 2, 0, fp);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.InvalidInvoice.selector, bytes32("ZERO_FINGERPRINT")));
        ledger.registerInvoice(supplier, debtor, 1, address(token), 1, 2, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.CreditorNotActiveSupplier.selector, financier));
        ledger.registerInvoice(financier, debtor, 1, address(token), 1, 2, 0, fp);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.DebtorNotActiveCoreEnterprise.selector, supplier2));
        ledger.registerInvoice(supplier, supplier2, 1, address(token), 1, 2, 0, fp);
        vm.stopPrank();
    }

    function test_registerInvoice_suspendedPartiesRejected() public {
        vm.prank(admin);
        registry.suspend(supplier);
        vm.prank(verifier);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.CreditorNotActiveSupplier.selector, supplier));
        ledger.registerInvoice(supplier, debtor, 1, address(token), 1, 2, 0, keccak256("x"));
        vm.prank(admin);
        registry.suspend(verifier);
        vm.prank(verifier);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.UnauthorizedParticipant.selector, verifier, IParticipantRegistry.Role.Verifier
            )
        );
        ledger.registerInvoice(supplier2, debtor, 1, address(token), 1, 2, 0, keccak256("x"));
    }

    // ------------------------------------------------------------------ endorsement

    function test_endorse_confirmsAndConsumesCredit() public {
        uint256 id = _register(FACE);
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.Endorsed(id, debtor, FACE, FACE, false);
        vm.prank(debtor);
        ledger.endorse(id);
        vm.assertEq(uint256(_status(id)), uint256(IReceivableLedger.Status.Confirmed));
        (, uint256 used) = ledger.creditLine(debtor);
        vm.assertEq(used, FACE);
    }

    function test_endorse_creditLineExceeded() public {
        vm.prank(admin);
        ledger.setCreditLine(debtor, FACE + FACE / 2);
        _confirmed(FACE);
        uint256 id = _register(FACE);
        vm.prank(debtor);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableLedger.CreditLineExceeded.selector, debtor, FACE + FACE / 2, FACE, FACE)
        );
        ledger.endorse(id);
    }

    function test_endorse_onlyDebtorOnlyPending() public {
        uint256 id = _register(FACE);
        vm.prank(debtor2);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.NotDebtor.selector, id, debtor2, debtor));
        ledger.endorse(id);
        vm.prank(debtor);
        ledger.endorse(id);
        vm.prank(debtor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.WrongStatus.selector,
                id,
                IReceivableLedger.Status.Confirmed,
                IReceivableLedger.Status.Pending
            )
        );
        ledger.endorse(id);
    }

    function test_endorse_suspendedDebtorCannot() public {
        uint256 id = _register(FACE);
        vm.prank(admin);
        registry.suspend(debtor);
        vm.prank(debtor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.UnauthorizedParticipant.selector, debtor, IParticipantRegistry.Role.CoreEnterprise
            )
        );
        ledger.endorse(id);
    }

    function test_reject_burnsAndKeepsFingerprint() public {
        uint256 id = _register(FACE);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IReceivableLedger.Rejected(id, debtor, supplier, FACE, false);
        vm.prank(debtor);
        ledger.reject(id);
        vm.assertEq(uint256(_status(id)), uint256(IReceivableLedger.Status.Rejected));
        vm.assertEq(ledger.balanceOf(supplier, id), 0);
        (, uint256 used) = ledger.creditLine(debtor);
        vm.assertEq(used, 0);
        vm.prank(debtor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.WrongStatus.selector,
                id,
                IReceivableLedger.Status.Rejected,
                IReceivableLedger.Status.Pending
            )
        );
        ledger.endorse(id);
    }

    function test_endorse_unknownReceivable() public {
        vm.prank(debtor);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.NotDebtor.selector, 99, debtor, address(0)));
        ledger.endorse(99);
    }

    // ------------------------------------------------------------------ transfers

    function test_transfer_splitKeepsTerms() public {
        uint256 id = _confirmed(FACE);
        _move(supplier, supplier2, id, 300);
        _move(supplier2, supplier3, id, 100);
        _move(supplier, financier, id, 1_000);
        vm.assertEq(ledger.balanceOf(supplier, id), FACE - 1_300);
        vm.assertEq(ledger.balanceOf(supplier2, id), 200);
        vm.assertEq(ledger.balanceOf(supplier3, id), 100);
        vm.assertEq(ledger.balanceOf(financier, id), 1_000);
        vm.assertEq(ledger.receivable(id).debtor, debtor);
    }

    function test_transfer_reasons() public {
        uint256 id = _confirmed(FACE);
        _expectBlocked(supplier, outsider, id, 1, "RECEIVER_NOT_ACTIVE");
        _expectBlocked(supplier, verifier, id, 1, "RECEIVER_ROLE_NOT_ALLOWED");
        _expectBlocked(supplier, regulator, id, 1, "RECEIVER_ROLE_NOT_ALLOWED");
        _expectBlocked(supplier, address(market), id, 1, "RECEIVER_ROLE_NOT_ALLOWED");
        _expectBlocked(supplier, debtor, id, 1, "RECEIVER_IS_DEBTOR");
        _expectBlocked(supplier, supplier2, id, FACE + 1, "INSUFFICIENT_BALANCE");
        _expectBlocked(supplier, supplier2, id, 0, "ZERO_AMOUNT");
        _expectBlocked(supplier, supplier2, id + 1, 1, "UNKNOWN_RECEIVABLE");
        // another core enterprise may hold receivables of other debtors
        (bool ok, bytes32 reason) = ledger.canTransfer(supplier, debtor2, id, 1);
        vm.assertTrue(ok);
        vm.assertEq(reason, bytes32("OK"));
        vm.prank(admin);
        registry.suspend(supplier2);
        _expectBlocked(supplier, supplier2, id, 1, "RECEIVER_NOT_ACTIVE");
        vm.prank(admin);
        registry.suspend(supplier);
        _expectBlocked(supplier, supplier3, id, 1, "SENDER_NOT_ACTIVE");
        vm.prank(admin);
        registry.reinstate(supplier);
        vm.warp(T0 + 90 days);
        _expectBlocked(supplier, supplier3, id, 1, "MATURED");
    }

    function test_transfer_disputedAndSettledBlocked() public {
        uint256 id = _confirmed(FACE);
        vm.prank(debtor);
        ledger.dispute(id, keccak256("quality"));
        _expectBlocked(supplier, supplier2, id, 1, "DISPUTED");
        vm.prank(admin);
        ledger.resolveDispute(id);
        _move(supplier, supplier2, id, 1);
        _repay(id, FACE);
        _expectBlocked(supplier, supplier2, id, 1, "SETTLED");
    }

    function _expectBlocked(address from, address to, uint256 id, uint256 amount, bytes32 why) internal {
        (bool ok, bytes32 reason) = ledger.canTransfer(from, to, id, amount);
        vm.assertFalse(ok);
        vm.assertEq(reason, why);
        vm.prank(from);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableLedger.TransferNotAllowed.selector, from, to, id, amount, why)
        );
        ledger.safeTransferFrom(from, to, id, amount, "");
    }

    function test_transfer_operatorMustBeApprovedAndActive() public {
        uint256 id = _confirmed(FACE);
        vm.prank(financier);
        vm.expectRevert(
            abi.encodeWithSelector(IERC1155Errors.ERC1155MissingApprovalForAll.selector, financier, supplier)
        );
        ledger.safeTransferFrom(supplier, supplier2, id, 1, "");
        vm.prank(supplier);
        ledger.setApprovalForAll(financier, true);
        vm.prank(financier);
        ledger.safeTransferFrom(supplier, supplier2, id, 1, "");
        vm.prank(admin);
        registry.suspend(financier);
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.CallerNotActive.selector, financier));
        ledger.safeTransferFrom(supplier, supplier2, id, 1, "");
    }

    function test_setApprovalForAll_requiresActive() public {
        vm.prank(outsider);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.CallerNotActive.selector, outsider));
        ledger.setApprovalForAll(supplier, true);
    }

    function test_batchTransfer() public {
        uint256 a = _confirmed(FACE);
        uint256 b = _confirmed(FACE);
        uint256[] memory ids = new uint256[](2);
        uint256[] memory values = new uint256[](2);
        (ids[0], ids[1], values[0], values[1]) = (a, b, 10, 20);
        vm.prank(supplier);
        ledger.safeBatchTransferFrom(supplier, supplier2, ids, values, "");
        vm.assertEq(ledger.balanceOf(supplier2, a), 10);
        vm.assertEq(ledger.balanceOf(supplier2, b), 20);
        values[1] = FACE + 1;
        vm.prank(supplier);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.TransferNotAllowed.selector,
                supplier,
                supplier2,
                b,
                FACE + 1,
                bytes32("INSUFFICIENT_BALANCE")
            )
        );
        ledger.safeBatchTransferFrom(supplier, supplier2, ids, values, "");
    }

    function test_marketTransfer_onlyMarket() public {
        uint256 id = _confirmed(FACE);
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.NotMarket.selector, supplier));
        ledger.marketTransfer(supplier, financier, id, 1);
        vm.prank(address(market));
        ledger.marketTransfer(supplier, financier, id, 1);
        vm.assertEq(ledger.balanceOf(financier, id), 1);
        vm.prank(address(market));
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.TransferNotAllowed.selector,
                supplier,
                outsider,
                id,
                1,
                bytes32("RECEIVER_NOT_ACTIVE")
            )
        );
        ledger.marketTransfer(supplier, outsider, id, 1);
    }

    function test_transferGas_doesNotGrowWithSplits() public {
        uint256 id = _confirmed(FACE);
        _move(supplier, supplier2, id, 10);
        uint256 g0 = gasleft();
        _move(supplier, supplier2, id, 10);
        uint256 first = g0 - gasleft();
        for (uint256 i = 0; i < 40; ++i) {
            _move(supplier, i % 2 == 0 ? supplier3 : financier, id, 1);
        }
        g0 = gasleft();
        _move(supplier, supplier2, id, 10);
        uint256 later = g0 - gasleft();
        vm.assertLe(later, first + 200, "transfer gas grew with the number of splits");
    }

    // ------------------------------------------------------------------ repayment & redemption

    function test_repay_fullThenRedeemProRata() public {
        uint256 id = _confirmed(FACE);
        _move(supplier, supplier2, id, FACE / 4);
        _move(supplier, financier, id, FACE / 4);
        _cash(debtor, FACE);
        _approve(debtor, address(ledger), FACE);
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.Repaid(id, debtor, FACE, FACE, 0, 0);
        vm.prank(debtor);
        ledger.repay(id, FACE);
        vm.assertEq(uint256(_status(id)), uint256(IReceivableLedger.Status.Settled));
        vm.assertEq(ledger.owed(id, supplier), FACE / 2);
        vm.assertEq(ledger.balanceOf(supplier, id), 0);
        vm.prank(supplier);
        vm.assertEq(ledger.redeem(id), FACE / 2);
        vm.prank(supplier2);
        vm.assertEq(ledger.redeem(id), FACE / 4);
        vm.prank(financier);
        vm.assertEq(ledger.redeem(id), FACE / 4);
        vm.assertEq(token.balanceOf(supplier), FACE / 2);
        vm.assertEq(token.balanceOf(address(ledger)), 0);
        vm.assertEq(uint256(ledger.receivable(id).redeemed), FACE);
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.NothingToRedeem.selector, id, supplier));
        ledger.redeem(id);
    }

    function test_repay_partialThenTransferThenRedeem() public {
        uint256 id = _confirmed(1000);
        _move(supplier, supplier2, id, 300); // supplier 700, supplier2 300
        _repay(id, 400); // 40% repaid
        vm.assertEq(ledger.outstanding(id), 600);
        vm.assertEq(ledger.balanceOf(supplier, id), 420);
        vm.assertEq(ledger.balanceOf(supplier2, id), 180);
        vm.assertEq(ledger.owed(id, supplier), 280);
        (, uint256 used) = ledger.creditLine(debtor);
        vm.assertEq(used, 600);
        // the supplier moves effective units; its cash share stays with it
        _move(supplier, supplier3, id, 20);
        vm.assertEq(ledger.storedBalanceOf(supplier, id), 400);
        vm.assertEq(ledger.balanceOf(supplier3, id), 20);
        vm.assertEq(ledger.owed(id, supplier), 280);
        _repay(id, 600);
        vm.prank(supplier);
        vm.assertEq(ledger.redeem(id), 680);
        vm.prank(supplier2);
        vm.assertEq(ledger.redeem(id), 300);
        vm.prank(supplier3);
        vm.assertEq(ledger.redeem(id), 20);
        vm.assertEq(token.balanceOf(address(ledger)), 0);
    }

    function test_repay_roundingNeverOverpays() public {
        uint256 id = _confirmed(10);
        _move(supplier, supplier2, id, 3);
        _move(supplier, supplier3, id, 3); // 4 / 3 / 3
        _repay(id, 1);
        _repay(id, 1);
        _repay(id, 1);
        address[3] memory hs = [supplier, supplier2, supplier3];
        uint256 paid;
        for (uint256 i = 0; i < 3; ++i) {
            if (ledger.owed(id, hs[i]) > 0) {
                vm.prank(hs[i]);
                paid += ledger.redeem(id);
            }
        }
        vm.assertLe(paid, 3);
        _repay(id, 7);
        for (uint256 i = 0; i < 3; ++i) {
            if (ledger.owed(id, hs[i]) > 0) {
                vm.prank(hs[i]);
                paid += ledger.redeem(id);
            }
        }
        vm.assertLe(paid, 10);
        IReceivableLedger.Receivable memory r = ledger.receivable(id);
        vm.assertEq(uint256(r.redeemed), paid);
        vm.assertEq(token.balanceOf(address(ledger)), 10 - paid);
    }

    function test_repay_guards() public {
        uint256 id = _register(FACE);
        _cash(debtor, FACE + 1);
        _approve(debtor, address(ledger), FACE + 1);
        vm.prank(debtor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.WrongStatus.selector,
                id,
                IReceivableLedger.Status.Pending,
                IReceivableLedger.Status.Confirmed
            )
        );
        ledger.repay(id, 1);
        vm.prank(debtor);
        ledger.endorse(id);
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.NotDebtor.selector, id, supplier, debtor));
        ledger.repay(id, 1);
        vm.prank(debtor);
        vm.expectRevert(IReceivableLedger.ZeroAmount.selector);
        ledger.repay(id, 0);
        vm.prank(debtor);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.RepaymentExceedsOutstanding.selector, id, FACE + 1, FACE));
        ledger.repay(id, FACE + 1);
        vm.prank(regulator);
        ledger.dispute(id, 0);
        vm.prank(debtor);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.ReceivableDisputed.selector, id));
        ledger.repay(id, 1);
    }

    function test_repay_lateStillAllowedAndOverdue() public {
        uint256 id = _confirmed(FACE);
        vm.assertFalse(ledger.isOverdue(id));
        vm.warp(T0 + 90 days + 3 days);
        vm.assertFalse(ledger.isOverdue(id));
        vm.warp(T0 + 90 days + 3 days + 1);
        vm.assertTrue(ledger.isOverdue(id));
        _repay(id, FACE / 2);
        vm.assertTrue(ledger.isOverdue(id));
        _repay(id, FACE / 2);
        vm.assertFalse(ledger.isOverdue(id));
        vm.prank(supplier);
        ledger.redeem(id);
    }

    function test_redeem_suspendedHolderMustWait() public {
        uint256 id = _confirmed(FACE);
        _repay(id, FACE);
        vm.prank(admin);
        registry.suspend(supplier);
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.CallerNotActive.selector, supplier));
        ledger.redeem(id);
        vm.prank(admin);
        registry.reinstate(supplier);
        vm.prank(supplier);
        ledger.redeem(id);
        vm.assertEq(token.balanceOf(supplier), FACE);
    }

    function test_creditLine_freedByRepayment() public {
        vm.prank(admin);
        ledger.setCreditLine(debtor, FACE);
        uint256 a = _confirmed(FACE);
        uint256 b = _register(FACE);
        vm.prank(debtor);
        vm.expectRevert();
        ledger.endorse(b);
        _repay(a, FACE / 2);
        vm.prank(admin);
        ledger.setCreditLine(debtor, FACE + FACE / 2);
        vm.prank(debtor);
        ledger.endorse(b);
        (uint256 limit, uint256 used) = ledger.creditLine(debtor);
        vm.assertEq(used, FACE + FACE / 2);
        vm.assertEq(limit, used);
    }

    // ------------------------------------------------------------------ disputes & dilution

    function test_dispute_byDebtorOrRegulatorOnly() public {
        uint256 id = _confirmed(FACE);
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.NotDebtorOrRegulator.selector, id, supplier));
        ledger.dispute(id, 0);
        vm.prank(debtor2);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.NotDebtorOrRegulator.selector, id, debtor2));
        ledger.dispute(id, 0);
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.Disputed(id, regulator, keccak256("r"));
        vm.prank(regulator);
        ledger.dispute(id, keccak256("r"));
        vm.assertTrue(ledger.receivable(id).disputed);
        vm.prank(debtor);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.ReceivableDisputed.selector, id));
        ledger.dispute(id, 0);
    }

    function test_dispute_onlyConfirmed() public {
        uint256 id = _register(FACE);
        vm.prank(debtor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.WrongStatus.selector,
                id,
                IReceivableLedger.Status.Pending,
                IReceivableLedger.Status.Confirmed
            )
        );
        ledger.dispute(id, 0);
    }

    function test_resolveDispute_lifts() public {
        uint256 id = _confirmed(FACE);
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.NotDisputed.selector, id));
        ledger.resolveDispute(id);
        vm.prank(debtor);
        ledger.dispute(id, 0);
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.DisputeResolved(id, admin, 0, 0, FACE, FACE);
        vm.prank(admin);
        ledger.resolveDispute(id);
        vm.assertFalse(ledger.receivable(id).disputed);
    }

    function test_creditNote_dilutesProRata() public {
        uint256 id = _confirmed(1000);
        _move(supplier, supplier2, id, 250); // 750 / 250
        vm.prank(debtor);
        ledger.dispute(id, 0);
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.DisputeResolved(id, admin, 200, 200, 800, 800);
        vm.prank(admin);
        ledger.resolveWithCreditNote(id, 200);
        vm.assertEq(ledger.balanceOf(supplier, id), 600);
        vm.assertEq(ledger.balanceOf(supplier2, id), 200);
        vm.assertEq(ledger.outstanding(id), 800);
        (, uint256 used) = ledger.creditLine(debtor);
        vm.assertEq(used, 800);
        // dilution then repayment: cash follows the diluted balances
        _move(supplier2, supplier3, id, 100);
        _repay(id, 800);
        vm.prank(supplier);
        vm.assertEq(ledger.redeem(id), 600);
        vm.prank(supplier2);
        vm.assertEq(ledger.redeem(id), 100);
        vm.prank(supplier3);
        vm.assertEq(ledger.redeem(id), 100);
        IReceivableLedger.Receivable memory r = ledger.receivable(id);
        vm.assertEq(uint256(r.settledDiluted), 200);
        vm.assertEq(uint256(r.settledRepaid), 800);
    }

    function test_creditNote_fullCancelsReceivable() public {
        uint256 id = _confirmed(1000);
        vm.prank(debtor);
        ledger.dispute(id, 0);
        vm.prank(admin);
        ledger.resolveWithCreditNote(id, 1000);
        vm.assertEq(uint256(_status(id)), uint256(IReceivableLedger.Status.Settled));
        vm.assertEq(ledger.balanceOf(supplier, id), 0);
        vm.assertEq(ledger.owed(id, supplier), 0);
    }

    function test_creditNote_guards() public {
        uint256 id = _confirmed(1000);
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.NotDisputed.selector, id));
        ledger.resolveWithCreditNote(id, 1);
        _repay(id, 1);
        vm.prank(debtor);
        ledger.dispute(id, 0);
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.DilutionAfterRepayment.selector, id, 1));
        ledger.resolveWithCreditNote(id, 1);
        uint256 id2 = _confirmed(1000);
        vm.prank(debtor);
        ledger.dispute(id2, 0);
        vm.startPrank(admin);
        vm.expectRevert(IReceivableLedger.ZeroAmount.selector);
        ledger.resolveWithCreditNote(id2, 0);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.CreditNoteExceedsOutstanding.selector, id2, 1001, 1000));
        ledger.resolveWithCreditNote(id2, 1001);
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ fuzz: pro-rata exactness

    function testFuzz_settlementConserves(uint256 seed) public {
        uint256 face = bound(seed, 10, LIMIT);
        uint256 id = _confirmed(face);
        uint256 a = bound(seed >> 40, 1, face - 2);
        uint256 b = bound(seed >> 80, 1, face - a - 1);
        _move(supplier, supplier2, id, a);
        _move(supplier, supplier3, id, b);
        if (seed & 1 == 1) {
            vm.prank(debtor);
            ledger.dispute(id, 0);
            vm.prank(admin);
            ledger.resolveWithCreditNote(id, bound(seed >> 120, 1, face - 1));
        }
        uint256 open = ledger.outstanding(id);
        uint256 p = bound(seed >> 160, 1, open);
        _repay(id, p);
        if (p < open && seed & 2 == 2 && ledger.balanceOf(supplier2, id) > 1) {
            _move(supplier2, supplier3, id, ledger.balanceOf(supplier2, id) / 2);
        }
        _checkConservation(id, face, p);
    }

    function _checkConservation(uint256 id, uint256 face, uint256 p) internal {
        address[3] memory hs = [supplier, supplier2, supplier3];
        uint256 units;
        uint256 stored;
        uint256 cash;
        for (uint256 i = 0; i < 3; ++i) {
            address h = hs[i];
            units += ledger.balanceOf(h, id);
            uint256 o = ledger.owed(id, h);
            if (o > 0) {
                vm.prank(h);
                vm.assertEq(ledger.redeem(id), o);
                vm.assertEq(ledger.balanceOf(h, id), ledger.storedBalanceOf(h, id));
            }
            stored += ledger.storedBalanceOf(h, id);
            cash += o;
        }
        IReceivableLedger.Receivable memory r = ledger.receivable(id);
        vm.assertLe(cash, p, "paid more than repaid");
        vm.assertEq(cash, r.redeemed);
        vm.assertEq(stored + r.settledRepaid + r.settledDiluted, face, "units not conserved");
        vm.assertLe(r.settledDiluted, r.diluted);
        vm.assertLe(r.settledRepaid, r.repaid);
        vm.assertGe(units, ledger.outstanding(id), "holders lost unpaid nominal");
        vm.assertLe(units, ledger.outstanding(id) + 6, "more than two units of dust per holder");
    }

    // ------------------------------------------------------------------ views and events

    function test_views() public {
        uint256 id = _confirmed(FACE);
        (address t, uint256 due, IReceivableLedger.Status st, bool disputed) = ledger.discountTerms(id);
        vm.assertEq(t, address(token));
        vm.assertEq(due, T0 + 90 days);
        vm.assertEq(uint256(st), uint256(IReceivableLedger.Status.Confirmed));
        vm.assertFalse(disputed);
        vm.assertEq(ledger.receivableCount(), 1);
        _move(supplier, supplier2, id, 100);
        address[] memory accounts = new address[](2);
        uint256[] memory ids = new uint256[](2);
        (accounts[0], accounts[1], ids[0], ids[1]) = (supplier, supplier2, id, id);
        _repay(id, FACE / 2);
        uint256[] memory b = ledger.balanceOfBatch(accounts, ids);
        vm.assertEq(b[0], (FACE - 100) / 2);
        vm.assertEq(b[1], 50);
        vm.assertEq(ledger.storedBalanceOf(supplier2, id), 100); // not settled yet
        vm.assertEq(ledger.owed(id, supplier2), 50);
        (uint256 limit,) = ledger.creditLine(debtor);
        vm.assertEq(limit, LIMIT);
        // a second token gets its own index; both resolve in views
        ReceivableLedgerTestToken other = new ReceivableLedgerTestToken();
        vm.prank(verifier);
        uint256 id2 = ledger.registerInvoice(supplier, debtor, 5, address(other), 1, 2, 0, keccak256("other"));
        vm.assertEq(ledger.receivable(id2).token, address(other));
        vm.assertEq(ledger.receivable(id).token, address(token));
    }

    function test_settlementAndRedeemEvents() public {
        uint256 id = _confirmed(1000);
        _move(supplier, supplier2, id, 400);
        _repay(id, 500);
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.HolderSettled(id, supplier2, 200, 0, 200, 200);
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.Redeemed(id, supplier2, 200, 200);
        vm.prank(supplier2);
        ledger.redeem(id);
        vm.assertEq(ledger.storedBalanceOf(supplier2, id), 200);
        vm.assertEq(token.balanceOf(supplier2), 200);
        IReceivableLedger.Receivable memory r = ledger.receivable(id);
        vm.assertEq(uint256(r.repaid), 500);
        vm.assertEq(uint256(r.settledRepaid), 200);
        vm.assertEq(uint256(r.redeemed), 200);
    }
}

/// @dev A bare contract standing in for a second settlement token (only its code size is checked).
contract ReceivableLedgerTestToken {
    function decimals() external pure returns (uint8) {
        return 6;
    }
}
