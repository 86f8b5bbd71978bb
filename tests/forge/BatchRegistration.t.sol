// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Base} from "./utils/Base.sol";
import {IReceivableLedger} from "../../contracts/interfaces/IReceivableLedger.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";

/// @notice `registerInvoices`: each invoice exactly as `registerInvoice` registers it, all or none.
contract BatchRegistrationTest is Base {
    function _batch(uint256 n, uint256 face) internal returns (IReceivableLedger.Invoice[] memory invoices) {
        invoices = new IReceivableLedger.Invoice[](n);
        for (uint256 i = 0; i < n; ++i) {
            invoices[i] = _invoice(supplier, debtor, face + i, T0 + 90 days);
        }
    }

    function test_registersEachInOrder_likeOneByOne() public {
        IReceivableLedger.Invoice[] memory invoices = _batch(5, 1_000);
        vm.prank(verifier);
        uint256 first = ledger.registerInvoices(invoices);
        vm.assertEq(first, 1);
        vm.assertEq(ledger.receivableCount(), 5);
        for (uint256 i = 0; i < 5; ++i) {
            IReceivableLedger.Receivable memory r = ledger.receivable(first + i);
            vm.assertEq(r.faceValue, 1_000 + i);
            vm.assertEq(r.creditor, supplier);
            vm.assertEq(uint8(r.status), uint8(IReceivableLedger.Status.Pending));
            vm.assertEq(ledger.receivableIdByFingerprint(invoices[i].fingerprint), first + i);
            vm.assertEq(ledger.balanceOf(supplier, first + i), 1_000 + i);
        }
        (, uint256 used) = ledger.creditLine(debtor, address(token));
        vm.assertEq(used, 5 * 1_000 + 10);
    }

    function test_emitsTheSameEventsAsOneByOne() public {
        IReceivableLedger.Invoice[] memory invoices = _batch(2, 7_000);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IReceivableLedger.InvoiceRegistered(
            1,
            supplier,
            debtor,
            address(token),
            7_000,
            invoices[0].issueDate,
            invoices[0].dueDate,
            invoices[0].bundleHash,
            invoices[0].deliveryHash,
            invoices[0].fingerprint,
            verifier
        );
        vm.prank(verifier);
        ledger.registerInvoices(invoices);
    }

    function test_allOrNone_aDuplicateRevertsTheWholeBatch() public {
        IReceivableLedger.Invoice[] memory invoices = _batch(3, 1_000);
        invoices[2].fingerprint = invoices[0].fingerprint;
        vm.prank(verifier);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableLedger.DuplicateFingerprint.selector, invoices[0].fingerprint, 1)
        );
        ledger.registerInvoices(invoices);
        vm.assertEq(ledger.receivableCount(), 0);
        (, uint256 used) = ledger.creditLine(debtor, address(token));
        vm.assertEq(used, 0);
    }

    function test_allOrNone_overTheCreditLine() public {
        IReceivableLedger.Invoice[] memory invoices = _batch(2, LIMIT / 2 + 1);
        vm.prank(verifier);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.CreditLineExceeded.selector,
                debtor,
                address(token),
                LIMIT,
                LIMIT / 2 + 1,
                LIMIT / 2 + 2
            )
        );
        ledger.registerInvoices(invoices);
        vm.assertEq(ledger.receivableCount(), 0);
    }

    function test_sizeBounds() public {
        uint256 max = ledger.MAX_INVOICES_PER_BATCH();
        vm.startPrank(verifier);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.BatchSizeInvalid.selector, 0, max));
        ledger.registerInvoices(new IReceivableLedger.Invoice[](0));
        IReceivableLedger.Invoice[] memory tooMany = _batch(max + 1, 1);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.BatchSizeInvalid.selector, max + 1, max));
        ledger.registerInvoices(tooMany);
        ledger.registerInvoices(_batch(max, 1));
        vm.stopPrank();
        vm.assertEq(ledger.receivableCount(), max);
    }

    function test_onlyAnActiveVerifier() public {
        IReceivableLedger.Invoice[] memory invoices = _batch(1, 1_000);
        vm.prank(supplier);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.UnauthorizedParticipant.selector, supplier, IParticipantRegistry.Role.Verifier
            )
        );
        ledger.registerInvoices(invoices);
    }
}
