// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Base, Vm} from "./utils/Base.sol";
import {IReceivableLedger} from "../../contracts/interfaces/IReceivableLedger.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {ReceivableLedger} from "../../contracts/ReceivableLedger.sol";
import {IErrors} from "../../contracts/interfaces/IErrors.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC1155Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC1155} from "@openzeppelin/contracts/token/ERC1155/IERC1155.sol";

contract ReceivableLedgerTest is Base {
    // ------------------------------------------------------------------ deployment & admin

    function test_constructor_rejectsZeroRegistry() public {
        vm.expectRevert(IErrors.ZeroAddress.selector);
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

    function test_setMarket_onceOnly() public {
        vm.prank(admin);
        ReceivableLedger fresh = new ReceivableLedger(registry);
        vm.assertEq(fresh.market(), address(0));
        vm.expectEmit(true, true, false, true, address(fresh));
        emit IReceivableLedger.MarketSet(address(0x1234), admin);
        vm.prank(admin);
        fresh.setMarket(address(0x1234));
        vm.assertEq(fresh.market(), address(0x1234));
        // fixed once set: not even the admin can point marketTransfer elsewhere, nor set the same market again
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.MarketAlreadySet.selector, address(0x1234)));
        fresh.setMarket(address(0x5678));
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.MarketAlreadySet.selector, address(0x1234)));
        fresh.setMarket(address(0x1234));
        // the deployed ledger (wired in setUp) refuses too
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.MarketAlreadySet.selector, address(market)));
        ledger.setMarket(address(0x5678));
        vm.assertEq(ledger.market(), address(market));
    }

    function test_setMarket_revertsZeroAndNonAdmin() public {
        vm.prank(admin);
        ReceivableLedger fresh = new ReceivableLedger(registry);
        vm.prank(admin);
        vm.expectRevert(IErrors.ZeroAddress.selector);
        fresh.setMarket(address(0));
        bytes32 adminRole = fresh.DEFAULT_ADMIN_ROLE();
        vm.prank(supplier);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, supplier, adminRole)
        );
        fresh.setMarket(address(1));
        vm.assertEq(fresh.market(), address(0));
    }

    // ------------------------------------------------------------------ credit lines

    function test_setCreditLine_eachFinancierSetsItsOwnLine() public {
        vm.assertEq(ledger.creditLineOf(debtor, financier, address(token)), LIMIT);
        vm.assertEq(ledger.creditLineOf(debtor, financier2, address(token)), 0);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IReceivableLedger.CreditLineSet(debtor, financier2, address(token), 5, LIMIT + 5, 0);
        vm.prank(financier2);
        ledger.setCreditLine(debtor, address(token), 5);
        vm.assertEq(ledger.creditLineOf(debtor, financier2, address(token)), 5);
        vm.assertEq(ledger.creditLineOf(debtor, financier, address(token)), LIMIT, "another grantor's line changed");
        (uint256 limit, uint256 used) = ledger.creditLine(debtor, address(token));
        vm.assertEq(limit, LIMIT + 5);
        vm.assertEq(used, 0);
        (bool capped, uint256 cap, uint256 granted) = ledger.platformLimit(debtor, address(token));
        vm.assertFalse(capped);
        vm.assertEq(cap, 0);
        vm.assertEq(granted, LIMIT + 5);
        // lowering one's own line only removes one's own share
        vm.prank(financier);
        ledger.setCreditLine(debtor, address(token), 7);
        (limit,) = ledger.creditLine(debtor, address(token));
        vm.assertEq(limit, 12);
        vm.assertEq(ledger.creditLineOf(debtor, financier2, address(token)), 5);
        // lines are per debtor
        vm.assertEq(ledger.creditLineOf(debtor2, financier, address(token)), LIMIT);
        (limit,) = ledger.creditLine(debtor2, address(token));
        vm.assertEq(limit, LIMIT);
    }

    function test_setCreditLine_onlyActiveFinancier() public {
        address[6] memory others = [admin, supplier, debtor, verifier, regulator, outsider];
        for (uint256 i = 0; i < others.length; ++i) {
            vm.prank(others[i]);
            vm.expectRevert(abi.encodeWithSelector(IErrors.NotActiveFinancier.selector, others[i]));
            ledger.setCreditLine(debtor, address(token), 2 * LIMIT);
        }
        vm.prank(admin);
        registry.suspend(financier);
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(IErrors.NotActiveFinancier.selector, financier));
        ledger.setCreditLine(debtor, address(token), 1);
        (uint256 limit,) = ledger.creditLine(debtor, address(token));
        vm.assertEq(limit, LIMIT);
    }

    function test_setCreditLine_mayGoBelowUsage() public {
        uint256 id = _confirmed(FACE);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IReceivableLedger.CreditLineSet(debtor, financier, address(token), FACE - 1, FACE - 1, FACE);
        vm.prank(financier);
        ledger.setCreditLine(debtor, address(token), FACE - 1);
        (uint256 limit, uint256 used) = ledger.creditLine(debtor, address(token));
        vm.assertEq(limit, FACE - 1);
        vm.assertEq(used, FACE);
        // no new obligation until repayments free room
        IReceivableLedger.Invoice memory inv = _invoice(supplier, debtor, 1, T0 + 30 days);
        vm.prank(verifier);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.CreditLineExceeded.selector, debtor, address(token), FACE - 1, FACE, 1
            )
        );
        ledger.registerInvoice(inv);
        _repay(id, 2);
        vm.prank(verifier);
        ledger.registerInvoice(inv);
        (, used) = ledger.creditLine(debtor, address(token));
        vm.assertEq(used, FACE - 1);
    }

    function test_setCreditLine_debtorMustBeActiveCoreEnterprise() public {
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.DebtorNotActiveCoreEnterprise.selector, supplier));
        ledger.setCreditLine(supplier, address(token), 1);
        vm.prank(admin);
        registry.suspend(debtor);
        // no new credit to a suspended debtor ...
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.DebtorNotActiveCoreEnterprise.selector, debtor));
        ledger.setCreditLine(debtor, address(token), LIMIT + 1);
        // ... but a grantor may always cut its own exposure
        vm.prank(financier);
        ledger.setCreditLine(debtor, address(token), 1);
        vm.assertEq(ledger.creditLineOf(debtor, financier, address(token)), 1);
        (uint256 available,) = ledger.creditLine(debtor, address(token));
        vm.assertEq(available, 1);
    }

    function test_setCreditLine_tooLarge() public {
        uint256 max = type(uint128).max;
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.CreditLimitTooLarge.selector, max + 1));
        ledger.setCreditLine(debtor, address(token), max + 1);
        vm.prank(financier);
        ledger.setCreditLine(debtor, address(token), max);
        // the sum of the lines must fit too
        vm.prank(financier2);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.CreditLimitTooLarge.selector, max + 1));
        ledger.setCreditLine(debtor, address(token), 1);
        vm.assertEq(ledger.creditLineOf(debtor, financier2, address(token)), 0);
    }

    function test_setPlatformLimit_capsTheSumOfLines() public {
        vm.prank(financier2);
        ledger.setCreditLine(debtor, address(token), LIMIT);
        (uint256 limit,) = ledger.creditLine(debtor, address(token));
        vm.assertEq(limit, 2 * LIMIT);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IReceivableLedger.PlatformLimitSet(debtor, address(token), true, FACE, FACE, 0, admin);
        vm.prank(admin);
        ledger.setPlatformLimit(debtor, address(token), true, FACE);
        (limit,) = ledger.creditLine(debtor, address(token));
        vm.assertEq(limit, FACE, "available = min(sum of lines, cap)");
        (bool capped, uint256 cap, uint256 granted) = ledger.platformLimit(debtor, address(token));
        vm.assertTrue(capped);
        vm.assertEq(cap, FACE);
        vm.assertEq(granted, 2 * LIMIT);
        _register(FACE);
        IReceivableLedger.Invoice memory inv = _invoice(supplier, debtor, 1, T0 + 30 days);
        vm.prank(verifier);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableLedger.CreditLineExceeded.selector, debtor, address(token), FACE, FACE, 1)
        );
        ledger.registerInvoice(inv);
        // a grantor raising its line does not lift the cap
        vm.prank(financier);
        ledger.setCreditLine(debtor, address(token), 3 * LIMIT);
        (limit,) = ledger.creditLine(debtor, address(token));
        vm.assertEq(limit, FACE);
        // a cap above the sum of the lines does not add credit
        vm.prank(admin);
        ledger.setPlatformLimit(debtor, address(token), true, 100 * LIMIT);
        (limit,) = ledger.creditLine(debtor, address(token));
        vm.assertEq(limit, 4 * LIMIT);
        // uncapped: the cap value is ignored and stored as 0
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IReceivableLedger.PlatformLimitSet(debtor, address(token), false, 0, 4 * LIMIT, FACE, admin);
        vm.prank(admin);
        ledger.setPlatformLimit(debtor, address(token), false, 5);
        (capped, cap,) = ledger.platformLimit(debtor, address(token));
        vm.assertFalse(capped);
        vm.assertEq(cap, 0);
    }

    function test_setPlatformLimit_operatorOnly() public {
        bytes32 role = ledger.OPERATOR_ROLE();
        address[5] memory others = [financier, financier2, debtor, verifier, outsider];
        for (uint256 i = 0; i < others.length; ++i) {
            vm.prank(others[i]);
            vm.expectRevert(
                abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, others[i], role)
            );
            ledger.setPlatformLimit(debtor, address(token), true, 0);
        }
        vm.startPrank(admin);
        vm.expectRevert(IErrors.ZeroAddress.selector);
        ledger.setPlatformLimit(address(0), address(token), true, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableLedger.CreditLimitTooLarge.selector, uint256(type(uint120).max) + 1)
        );
        ledger.setPlatformLimit(debtor, address(token), true, uint256(type(uint120).max) + 1);
        vm.stopPrank();
    }

    function test_credit_pendingReceivablesReserveTheLine() public {
        vm.prank(financier);
        ledger.setCreditLine(debtor, address(token), 2 * FACE);
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.CreditReserved(1, debtor, FACE, FACE);
        uint256 a = _register(FACE);
        uint256 b = _register(FACE);
        (uint256 limit, uint256 used) = ledger.creditLine(debtor, address(token));
        vm.assertEq(limit, 2 * FACE);
        vm.assertEq(used, 2 * FACE, "pending receivables count against the line");
        // a third pending receivable cannot be registered: endorsement can no longer finance past the line
        IReceivableLedger.Invoice memory inv = _invoice(supplier, debtor, 1, T0 + 30 days);
        vm.prank(verifier);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.CreditLineExceeded.selector, debtor, address(token), 2 * FACE, 2 * FACE, 1
            )
        );
        ledger.registerInvoice(inv);
        // both pending ones can be endorsed: their credit is already reserved
        vm.prank(debtor);
        ledger.endorse(a);
        vm.prank(debtor);
        ledger.endorse(b);
        (, used) = ledger.creditLine(debtor, address(token));
        vm.assertEq(used, 2 * FACE);
    }

    function test_credit_rejectionReleases() public {
        vm.prank(financier);
        ledger.setCreditLine(debtor, address(token), FACE);
        uint256 a = _register(FACE);
        IReceivableLedger.Invoice memory inv = _invoice(supplier, debtor, FACE, T0 + 30 days);
        vm.prank(verifier);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.CreditLineExceeded.selector, debtor, address(token), FACE, FACE, FACE
            )
        );
        ledger.registerInvoice(inv);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IReceivableLedger.Rejected(a, debtor, supplier, FACE, false, 0);
        vm.prank(debtor);
        ledger.reject(a);
        (, uint256 used) = ledger.creditLine(debtor, address(token));
        vm.assertEq(used, 0);
        vm.prank(verifier);
        ledger.registerInvoice(inv);
        (, used) = ledger.creditLine(debtor, address(token));
        vm.assertEq(used, FACE);
    }

    function test_credit_freedByRepaymentAndCreditNote() public {
        vm.prank(financier);
        ledger.setCreditLine(debtor, address(token), FACE);
        uint256 a = _confirmed(FACE);
        IReceivableLedger.Invoice memory inv = _invoice(supplier, debtor, FACE / 2, T0 + 30 days);
        vm.prank(verifier);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.CreditLineExceeded.selector, debtor, address(token), FACE, FACE, FACE / 2
            )
        );
        ledger.registerInvoice(inv);
        _creditNote(a, FACE / 4); // credit notes come before any repayment
        _repay(a, FACE / 4);
        (, uint256 used) = ledger.creditLine(debtor, address(token));
        vm.assertEq(used, FACE / 2);
        vm.prank(verifier);
        uint256 b = ledger.registerInvoice(inv);
        (uint256 limit, uint256 used2) = ledger.creditLine(debtor, address(token));
        vm.assertEq(used2, FACE);
        vm.assertEq(limit, used2);
        vm.prank(debtor);
        ledger.endorse(b);
    }

    // ------------------------------------------------------------------ registration

    function test_registerInvoice_mintsToCreditorPending() public {
        IReceivableLedger.Invoice memory inv = _invoice(supplier, debtor, FACE, T0 + 90 days);
        inv.bundleHash = keccak256("b");
        inv.deliveryHash = keccak256("despatch advice");
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IReceivableLedger.InvoiceRegistered(
            1,
            supplier,
            debtor,
            address(token),
            FACE,
            T0 - 1 days,
            T0 + 90 days,
            keccak256("b"),
            keccak256("despatch advice"),
            inv.fingerprint,
            verifier
        );
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.CreditReserved(1, debtor, FACE, FACE);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IERC1155.TransferSingle(verifier, address(0), supplier, 1, FACE);
        vm.prank(verifier);
        uint256 id = ledger.registerInvoice(inv);
        vm.assertEq(id, 1);
        vm.assertEq(ledger.receivableCount(), 1);
        vm.assertEq(ledger.balanceOf(supplier, id), FACE);
        vm.assertEq(ledger.storedBalanceOf(supplier, id), FACE);
        vm.assertEq(ledger.receivableIdByFingerprint(inv.fingerprint), id);
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
        vm.assertEq(r.bundleHash, keccak256("b"));
        vm.assertEq(uint256(r.remainderPool), 0);
        vm.assertEq(uint256(r.repaid), 0);
        (, uint256 used) = ledger.creditLine(debtor, address(token));
        vm.assertEq(used, FACE);
        (bool ok, bytes32 reason) = ledger.canTransfer(supplier, supplier2, id, 1);
        vm.assertFalse(ok);
        vm.assertEq(reason, bytes32("NOT_CONFIRMED"));
    }

    function test_registerInvoice_duplicateFingerprintReverts() public {
        IReceivableLedger.Invoice memory inv = _invoice(supplier, debtor, FACE, T0 + 1 days);
        vm.prank(verifier);
        uint256 id = ledger.registerInvoice(inv);
        (inv.creditor, inv.debtor, inv.faceValue) = (supplier2, debtor2, 5);
        vm.prank(verifier);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.DuplicateFingerprint.selector, inv.fingerprint, id));
        ledger.registerInvoice(inv);
    }

    function test_registerInvoice_validation() public {
        IReceivableLedger.Invoice memory inv = _invoice(supplier, debtor, 1, T0 + 1 days);
        vm.startPrank(verifier);
        inv.faceValue = 0;
        vm.expectRevert(IReceivableLedger.ZeroFaceValue.selector);
        ledger.registerInvoice(inv);
        inv.faceValue = uint256(type(uint64).max) + 1;
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.FaceValueTooLarge.selector, uint256(type(uint64).max) + 1, type(uint64).max
            )
        );
        ledger.registerInvoice(inv);
        inv.faceValue = 1;
        (inv.issueDate, inv.dueDate) = (2, 2);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.DueDateNotAfterIssue.selector, 2, 2));
        ledger.registerInvoice(inv);
        (inv.issueDate, inv.dueDate) = (3, 2);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.DueDateNotAfterIssue.selector, 3, 2));
        ledger.registerInvoice(inv);
        (inv.issueDate, inv.dueDate) = (1, uint256(type(uint40).max) + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.DueDateTooLate.selector, uint256(type(uint40).max) + 1, type(uint40).max
            )
        );
        ledger.registerInvoice(inv);
        (inv.issueDate, inv.dueDate) = (1, 2);
        inv.token = address(0x1234); // no line was ever set in it (a token without code cannot get one)
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableLedger.CreditLineExceeded.selector, debtor, address(0x1234), 0, 0, 1)
        );
        ledger.registerInvoice(inv);
        inv.token = address(token);
        bytes32 fp = inv.fingerprint;
        inv.fingerprint = 0;
        vm.expectRevert(IReceivableLedger.ZeroFingerprint.selector);
        ledger.registerInvoice(inv);
        inv.fingerprint = fp;
        inv.creditor = financier;
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.CreditorNotActiveSupplier.selector, financier));
        ledger.registerInvoice(inv);
        inv.creditor = supplier;
        inv.debtor = supplier2;
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.DebtorNotActiveCoreEnterprise.selector, supplier2));
        ledger.registerInvoice(inv);
        inv.debtor = debtor;
        inv.faceValue = LIMIT + 1;
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.CreditLineExceeded.selector, debtor, address(token), LIMIT, 0, LIMIT + 1
            )
        );
        ledger.registerInvoice(inv);
        vm.stopPrank();
        vm.assertEq(ledger.receivableCount(), 0);
    }

    function test_registerInvoice_suspendedPartiesRejected() public {
        IReceivableLedger.Invoice memory inv = _invoice(supplier, debtor, 1, T0 + 1 days);
        vm.prank(admin);
        registry.suspend(supplier);
        vm.prank(verifier);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.CreditorNotActiveSupplier.selector, supplier));
        ledger.registerInvoice(inv);
        vm.prank(admin);
        registry.suspend(debtor);
        inv.creditor = supplier2;
        vm.prank(verifier);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.DebtorNotActiveCoreEnterprise.selector, debtor));
        ledger.registerInvoice(inv);
        vm.prank(admin);
        registry.suspend(verifier);
        inv.debtor = debtor2;
        vm.prank(verifier);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.UnauthorizedParticipant.selector, verifier, IParticipantRegistry.Role.Verifier
            )
        );
        ledger.registerInvoice(inv);
    }

    // ------------------------------------------------------------------ endorsement

    function test_endorse_confirmsCreditAlreadyReserved() public {
        uint256 id = _register(FACE);
        (, uint256 used) = ledger.creditLine(debtor, address(token));
        vm.assertEq(used, FACE);
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.Endorsed(id, debtor, FACE, FACE, false);
        vm.prank(debtor);
        ledger.endorse(id);
        vm.assertEq(uint256(_status(id)), uint256(IReceivableLedger.Status.Confirmed));
        (, used) = ledger.creditLine(debtor, address(token));
        vm.assertEq(used, FACE);
    }

    function test_endorse_succeedsAfterLineLowered() public {
        // the reservation made at registration is what counts: a later cut of the line stops new
        // registrations, not the confirmation of receivables already within the line
        uint256 id = _register(FACE);
        vm.prank(financier);
        ledger.setCreditLine(debtor, address(token), 0);
        vm.prank(debtor);
        ledger.endorse(id);
        (uint256 limit, uint256 used) = ledger.creditLine(debtor, address(token));
        vm.assertEq(limit, 0);
        vm.assertEq(used, FACE);
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
        vm.prank(debtor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.UnauthorizedParticipant.selector, debtor, IParticipantRegistry.Role.CoreEnterprise
            )
        );
        ledger.reject(id);
    }

    function test_reject_burnsReleasesAndKeepsFingerprint() public {
        uint256 id = _register(FACE);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IReceivableLedger.Rejected(id, debtor, supplier, FACE, false, 0);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IERC1155.TransferSingle(debtor, supplier, address(0), id, FACE);
        vm.prank(debtor);
        ledger.reject(id);
        vm.assertEq(uint256(_status(id)), uint256(IReceivableLedger.Status.Rejected));
        vm.assertEq(ledger.balanceOf(supplier, id), 0);
        vm.assertEq(ledger.storedBalanceOf(supplier, id), 0);
        (, uint256 used) = ledger.creditLine(debtor, address(token));
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
        vm.expectRevert(abi.encodeWithSelector(IErrors.CallerNotActive.selector, financier));
        ledger.safeTransferFrom(supplier, supplier2, id, 1, "");
    }

    function test_setApprovalForAll_requiresActive() public {
        vm.prank(outsider);
        vm.expectRevert(abi.encodeWithSelector(IErrors.CallerNotActive.selector, outsider));
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

    function test_batchTransfer_repeatedId() public {
        uint256 a = _confirmed(FACE);
        uint256[] memory ids = new uint256[](2);
        uint256[] memory values = new uint256[](2);
        // an id named twice: each element is checked as if the earlier ones had moved (as if sent one by one)
        (ids[0], ids[1], values[0], values[1]) = (a, a, FACE - 10, 20);
        vm.prank(supplier);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.TransferNotAllowed.selector,
                supplier,
                supplier2,
                a,
                20,
                bytes32("INSUFFICIENT_BALANCE")
            )
        );
        ledger.safeBatchTransferFrom(supplier, supplier2, ids, values, "");
        (values[0], values[1]) = (10, 20);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IERC1155.TransferBatch(supplier, supplier, supplier2, ids, values);
        vm.prank(supplier);
        ledger.safeBatchTransferFrom(supplier, supplier2, ids, values, "");
        vm.assertEq(ledger.balanceOf(supplier2, a), 30);
        vm.assertEq(ledger.balanceOf(supplier, a), FACE - 30);
        // to oneself, each element may use all the units: nothing leaves
        (values[0], values[1]) = (FACE - 30, FACE - 30);
        vm.prank(supplier);
        ledger.safeBatchTransferFrom(supplier, supplier, ids, values, "");
        vm.assertEq(ledger.balanceOf(supplier, a), FACE - 30);
    }

    function test_transferAfterRepayment_onlyHoldersSettle() public {
        uint256 id = _confirmed(1000);
        _move(supplier, supplier2, id, 400);
        _repay(id, 500);
        // the sender holds units: HolderSettled, then the move; the new receiver has nothing to settle and
        // starts earning with the units it receives
        vm.recordLogs();
        _move(supplier, supplier3, id, 100);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        vm.assertEq(logs.length, 2);
        vm.assertEq(logs[0].topics[0], IReceivableLedger.HolderSettled.selector);
        vm.assertEq(logs[0].topics[2], bytes32(uint256(uint160(supplier))));
        vm.assertEq(logs[1].topics[0], IERC1155.TransferSingle.selector);
        vm.assertEq(ledger.owed(id, supplier3), 0);
        vm.assertEq(ledger.owed(id, supplier), 300);
        _repay(id, 100);
        vm.assertEq(ledger.owed(id, supplier3), 10);
        // a holder that sold all its units keeps its cash; redeeming it writes no settlement
        _move(supplier2, supplier3, id, 400);
        vm.recordLogs();
        vm.assertEq(_redeem(supplier2, id), 240);
        logs = vm.getRecordedLogs();
        vm.assertEq(logs.length, 2); // Redeemed, then the token's Transfer
        vm.assertEq(logs[0].topics[0], IReceivableLedger.Redeemed.selector);
        vm.assertEq(logs[1].topics[0], keccak256("Transfer(address,address,uint256)"));
        vm.assertEq(ledger.owed(id, supplier2), 0);
        vm.assertEq(ledger.owed(id, supplier3), 10);
    }

    function test_marketTransfer_onlyMarket() public {
        uint256 id = _confirmed(FACE);
        address[5] memory others = [supplier, financier, admin, address(ledger), outsider];
        for (uint256 i = 0; i < others.length; ++i) {
            vm.prank(others[i]);
            vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.NotMarket.selector, others[i]));
            ledger.marketTransfer(supplier, financier, id, 1);
        }
        vm.assertEq(ledger.balanceOf(supplier, id), FACE);
        vm.prank(address(market));
        ledger.marketTransfer(supplier, financier, id, 1);
        vm.assertEq(ledger.balanceOf(financier, id), 1);
        vm.prank(address(market));
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.TransferNotAllowed.selector, supplier, outsider, id, 1, bytes32("RECEIVER_NOT_ACTIVE")
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
        vm.assertEq(ledger.balanceOf(supplier, id), 0, "a settled receivable has no units left");
        vm.assertEq(ledger.storedBalanceOf(supplier, id), FACE / 2, "burned at the holder's settlement");
        // the final settlement burns the units (HolderSettled, then the ERC-1155 burn) and pays
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.HolderSettled(id, supplier, FACE / 2, FACE / 2, 0, FACE / 2, 0, 0);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IERC1155.TransferSingle(supplier, supplier, address(0), id, FACE / 2);
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.Redeemed(id, supplier, FACE / 2, FACE / 2);
        vm.assertEq(_redeem(supplier, id), FACE / 2);
        vm.assertEq(_redeem(supplier2, id), FACE / 4);
        vm.assertEq(_redeem(financier, id), FACE / 4);
        vm.assertEq(token.balanceOf(supplier), FACE / 2);
        vm.assertEq(token.balanceOf(address(ledger)), 0);
        IReceivableLedger.Receivable memory r = ledger.receivable(id);
        vm.assertEq(uint256(r.redeemed), FACE);
        vm.assertEq(uint256(r.settledRepaid), FACE);
        vm.assertEq(uint256(r.remainderPool), 0);
        vm.assertEq(ledger.storedBalanceOf(supplier, id), 0);
        vm.assertEq(ledger.storedBalanceOf(supplier2, id), 0);
        vm.assertEq(ledger.storedBalanceOf(financier, id), 0);
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.NothingToRedeem.selector, id, supplier));
        ledger.redeem(id);
    }

    function test_repay_partialThenTransferThenRedeem() public {
        uint256 id = _confirmed(1000);
        _move(supplier, supplier2, id, 300); // supplier 700, supplier2 300
        _repay(id, 400); // 40% repaid
        vm.assertEq(ledger.outstanding(id), 600);
        // units are shares: repayments do not change them
        vm.assertEq(ledger.balanceOf(supplier, id), 700);
        vm.assertEq(ledger.balanceOf(supplier2, id), 300);
        vm.assertEq(ledger.owed(id, supplier), 280);
        vm.assertEq(ledger.owed(id, supplier2), 120);
        (, uint256 used) = ledger.creditLine(debtor, address(token));
        vm.assertEq(used, 600);
        // the supplier moves units; the cash earned so far stays with it, the buyer earns from now on
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.HolderSettled(id, supplier, 280, 0, 700, 280, 0, 0);
        _move(supplier, supplier3, id, 20);
        vm.assertEq(ledger.storedBalanceOf(supplier, id), 680);
        vm.assertEq(ledger.balanceOf(supplier3, id), 20);
        vm.assertEq(ledger.owed(id, supplier), 280);
        vm.assertEq(ledger.owed(id, supplier3), 0);
        _repay(id, 600);
        vm.assertEq(_redeem(supplier, id), 280 + 408); // 680 * 600 / 1000
        vm.assertEq(_redeem(supplier2, id), 300);
        vm.assertEq(_redeem(supplier3, id), 12); // 20 * 600 / 1000
        vm.assertEq(token.balanceOf(address(ledger)), 0);
        vm.assertEq(uint256(ledger.receivable(id).redeemed), 1000);
    }

    function test_redeem_partialThenFinal() public {
        uint256 id = _confirmed(1000);
        _move(supplier, supplier2, id, 300);
        _repay(id, 400);
        vm.assertEq(_redeem(supplier2, id), 120);
        vm.assertEq(ledger.owed(id, supplier2), 0);
        vm.assertEq(ledger.storedBalanceOf(supplier2, id), 300, "a partial redemption burns nothing");
        vm.prank(supplier2);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.NothingToRedeem.selector, id, supplier2));
        ledger.redeem(id);
        _repay(id, 600);
        vm.assertEq(_redeem(supplier2, id), 180);
        vm.assertEq(_redeem(supplier, id), 700);
        vm.assertEq(token.balanceOf(address(ledger)), 0);
    }

    /// @dev The fraction of a holder that left stays its own: a seller keeps 1/3 of a unit of cash after
    /// selling its units, and whoever settles last after the final repayment receives the pooled unit.
    function test_rounding_fractionsPooledInSettlementOrder() public {
        uint256 snap = vm.snapshotState();
        for (uint256 order = 0; order < 2; ++order) {
            vm.revertToState(snap);
            uint256 id = _confirmed(3);
            _move(supplier, supplier2, id, 1); // supplier 2, supplier2 1
            _repay(id, 1); // exact shares: supplier 2/3, supplier2 1/3
            vm.prank(supplier2);
            vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.NothingToRedeem.selector, id, supplier2));
            ledger.redeem(id);
            _move(supplier2, supplier3, id, 1); // supplier2 leaves with 1/3 of a unit of cash
            vm.assertEq(ledger.remainderOf(id, supplier2), 1);
            vm.assertEq(ledger.storedBalanceOf(supplier2, id), 0);
            _repay(id, 2); // supplier 2/3 + 4/3 = 2, supplier2 1/3, supplier3 2/3
            vm.assertEq(_redeem(supplier, id), 2);
            address first = order == 0 ? supplier2 : supplier3;
            address second = order == 0 ? supplier3 : supplier2;
            vm.assertEq(ledger.owed(id, first), 0);
            vm.assertEq(ledger.owed(id, second), 0);
            vm.assertEq(_redeem(first, id), 0, "a final settlement with no cash still succeeds");
            vm.assertEq(ledger.owed(id, second), 1, "the pooled unit goes to the next holder to settle");
            vm.assertEq(_redeem(second, id), 1);
            vm.assertEq(token.balanceOf(supplier2) + token.balanceOf(supplier3), 1);
            vm.assertEq(token.balanceOf(address(ledger)), 0);
            IReceivableLedger.Receivable memory r = ledger.receivable(id);
            vm.assertEq(uint256(r.redeemed), 3);
            vm.assertEq(uint256(r.remainderPool), 3);
            vm.assertEq(ledger.remainderOf(id, supplier2), 0);
            vm.assertEq(ledger.remainderOf(id, supplier3), 0);
            vm.assertEq(ledger.storedBalanceOf(supplier3, id), 0);
            vm.prank(first);
            vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.NothingToRedeem.selector, id, first));
            ledger.redeem(id);
        }
    }

    function test_rounding_exactOverSeveralRepayments() public {
        uint256 id = _confirmed(10);
        _move(supplier, supplier2, id, 3);
        _move(supplier, supplier3, id, 3); // 4 / 3 / 3
        _repay(id, 1);
        _repay(id, 1);
        _repay(id, 1); // exact: 1.2 / 0.9 / 0.9
        vm.assertEq(ledger.owed(id, supplier), 1);
        vm.assertEq(ledger.owed(id, supplier2), 0);
        vm.assertEq(_redeem(supplier, id), 1);
        vm.assertEq(ledger.remainderOf(id, supplier), 2, "0.2 of a unit kept as 2/10");
        vm.prank(supplier2);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.NothingToRedeem.selector, id, supplier2));
        ledger.redeem(id);
        _repay(id, 7);
        vm.assertEq(_redeem(supplier, id), 3);
        vm.assertEq(_redeem(supplier2, id), 3);
        vm.assertEq(_redeem(supplier3, id), 3);
        vm.assertEq(uint256(ledger.receivable(id).redeemed), 10);
        vm.assertEq(token.balanceOf(address(ledger)), 0);
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
        vm.expectRevert(IErrors.ZeroAmount.selector);
        ledger.repay(id, 0);
        vm.prank(debtor);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableLedger.RepaymentExceedsOutstanding.selector, id, FACE + 1, FACE)
        );
        ledger.repay(id, FACE + 1);
        vm.prank(regulator);
        ledger.dispute(id, 0);
        vm.prank(debtor);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.ReceivableDisputed.selector, id));
        ledger.repay(id, 1);
        vm.prank(admin);
        ledger.resolveDispute(id);
        _repay(id, FACE);
        vm.prank(debtor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.WrongStatus.selector,
                id,
                IReceivableLedger.Status.Settled,
                IReceivableLedger.Status.Confirmed
            )
        );
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
        vm.assertEq(_redeem(supplier, id), FACE);
    }

    function test_redeem_suspendedHolderStillRedeems() public {
        uint256 id = _confirmed(FACE);
        _move(supplier, supplier2, id, FACE / 2);
        _repay(id, FACE / 2);
        vm.prank(admin);
        registry.suspend(supplier);
        // a partial redemption, then the final one after the last repayment
        vm.assertEq(_redeem(supplier, id), FACE / 4);
        _repay(id, FACE / 2);
        vm.assertEq(_redeem(supplier, id), FACE / 4);
        vm.assertEq(token.balanceOf(supplier), FACE / 2);
        vm.assertEq(ledger.storedBalanceOf(supplier, id), 0);
        // never onboarded: nothing to redeem and no right to act
        vm.prank(outsider);
        vm.expectRevert(abi.encodeWithSelector(IErrors.CallerNotActive.selector, outsider));
        ledger.redeem(id);
    }

    function test_repay_suspendedDebtorStillRepays() public {
        uint256 id = _confirmed(FACE);
        _cash(debtor, FACE);
        vm.prank(admin);
        registry.suspend(debtor);
        _approve(debtor, address(ledger), FACE); // a suspended debtor may allow the ledger to pull
        vm.prank(debtor);
        ledger.repay(id, FACE / 2);
        vm.prank(debtor);
        ledger.repay(id, FACE / 2);
        vm.assertEq(uint256(_status(id)), uint256(IReceivableLedger.Status.Settled));
        vm.assertEq(token.balanceOf(address(ledger)), FACE);
        (, uint256 used) = ledger.creditLine(debtor, address(token));
        vm.assertEq(used, 0);
        vm.assertEq(_redeem(supplier, id), FACE);
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
        // units are unchanged; each now claims 800/1000 of its nominal
        vm.assertEq(ledger.balanceOf(supplier, id), 750);
        vm.assertEq(ledger.balanceOf(supplier2, id), 250);
        vm.assertEq(ledger.outstanding(id), 800);
        (, uint256 used) = ledger.creditLine(debtor, address(token));
        vm.assertEq(used, 800);
        _move(supplier2, supplier3, id, 100); // 750 / 150 / 100
        _repay(id, 800);
        vm.assertEq(_redeem(supplier, id), 600);
        vm.assertEq(_redeem(supplier2, id), 120);
        vm.assertEq(_redeem(supplier3, id), 80);
        IReceivableLedger.Receivable memory r = ledger.receivable(id);
        vm.assertEq(uint256(r.diluted), 200);
        vm.assertEq(uint256(r.repaid), 800);
        vm.assertEq(uint256(r.settledRepaid), 800);
        vm.assertEq(uint256(r.redeemed), 800);
        vm.assertEq(token.balanceOf(address(ledger)), 0);
    }

    function test_creditNote_fullCancelsReceivable() public {
        uint256 id = _confirmed(1000);
        vm.prank(debtor);
        ledger.dispute(id, 0);
        vm.prank(admin);
        ledger.resolveWithCreditNote(id, 1000);
        vm.assertEq(uint256(_status(id)), uint256(IReceivableLedger.Status.Settled));
        vm.assertEq(ledger.balanceOf(supplier, id), 0);
        vm.assertEq(ledger.storedBalanceOf(supplier, id), 1000);
        vm.assertEq(ledger.owed(id, supplier), 0);
        (, uint256 used) = ledger.creditLine(debtor, address(token));
        vm.assertEq(used, 0);
        // the holder's settlement burns its units; no cash, no revert
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.HolderSettled(id, supplier, 0, 1000, 0, 0, 0, 0);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit IERC1155.TransferSingle(supplier, supplier, address(0), id, 1000);
        vm.assertEq(_redeem(supplier, id), 0);
        vm.assertEq(ledger.storedBalanceOf(supplier, id), 0);
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.NothingToRedeem.selector, id, supplier));
        ledger.redeem(id);
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
        vm.expectRevert(IErrors.ZeroAmount.selector);
        ledger.resolveWithCreditNote(id2, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableLedger.CreditNoteExceedsOutstanding.selector, id2, 1001, 1000)
        );
        ledger.resolveWithCreditNote(id2, 1001);
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ views and events

    function test_views() public {
        uint256 id = _confirmed(FACE);
        (address t, uint256 due, IReceivableLedger.Status st, bool disputed, uint256 face, uint256 open) =
            ledger.discountTerms(id);
        vm.assertEq(t, address(token));
        vm.assertEq(due, T0 + 90 days);
        vm.assertEq(uint256(st), uint256(IReceivableLedger.Status.Confirmed));
        vm.assertFalse(disputed);
        vm.assertEq(face, FACE);
        vm.assertEq(open, FACE);
        vm.assertEq(ledger.receivableCount(), 1);
        _move(supplier, supplier2, id, 100);
        address[] memory accounts = new address[](2);
        uint256[] memory ids = new uint256[](2);
        (accounts[0], accounts[1], ids[0], ids[1]) = (supplier, supplier2, id, id);
        _repay(id, FACE / 2);
        uint256[] memory b = ledger.balanceOfBatch(accounts, ids);
        vm.assertEq(b[0], FACE - 100);
        vm.assertEq(b[1], 100);
        vm.assertEq(ledger.storedBalanceOf(supplier2, id), 100);
        vm.assertEq(ledger.owed(id, supplier2), 50);
        vm.assertEq(ledger.owed(id, supplier), (FACE - 100) / 2);
        (,,,, face, open) = ledger.discountTerms(id);
        vm.assertEq(face, FACE);
        vm.assertEq(open, FACE / 2);
        (uint256 limit, uint256 used) = ledger.creditLine(debtor, address(token));
        vm.assertEq(limit, LIMIT);
        vm.assertEq(used, FACE / 2);
    }

    function test_views_secondToken() public {
        uint256 id = _confirmed(FACE);
        // a second token gets its own index; both resolve in views
        ReceivableLedgerTestToken other = new ReceivableLedgerTestToken();
        IReceivableLedger.Invoice memory inv = _invoice(supplier, debtor, 5, T0 + 1 days);
        inv.token = address(other);
        vm.prank(financier);
        ledger.setCreditLine(debtor, address(other), 5);
        vm.prank(verifier);
        uint256 id2 = ledger.registerInvoice(inv);
        vm.assertEq(ledger.receivable(id2).token, address(other));
        vm.assertEq(ledger.receivable(id).token, address(token));
    }

    function test_settlementAndRedeemEvents() public {
        uint256 id = _confirmed(1000);
        _move(supplier, supplier2, id, 400);
        _repay(id, 500);
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.HolderSettled(id, supplier2, 200, 0, 400, 200, 0, 0);
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.Redeemed(id, supplier2, 200, 200);
        vm.assertEq(_redeem(supplier2, id), 200);
        vm.assertEq(ledger.storedBalanceOf(supplier2, id), 400);
        vm.assertEq(token.balanceOf(supplier2), 200);
        IReceivableLedger.Receivable memory r = ledger.receivable(id);
        vm.assertEq(uint256(r.repaid), 500);
        vm.assertEq(uint256(r.settledRepaid), 200);
        vm.assertEq(uint256(r.redeemed), 200);
        // a fraction is reported in 1/face units
        _repay(id, 1);
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.HolderSettled(id, supplier2, 0, 0, 400, 0, 400, 0);
        _move(supplier2, supplier3, id, 1);
        vm.assertEq(ledger.remainderOf(id, supplier2), 400);
    }
}

/// @dev A bare contract standing in for a second settlement token (only its code size is checked).
contract ReceivableLedgerTestToken {
    function decimals() external pure returns (uint8) {
        return 6;
    }
}
