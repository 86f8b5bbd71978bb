// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Base} from "./utils/Base.sol";
import {IReceivableLedger} from "../../contracts/interfaces/IReceivableLedger.sol";
import {IDiscountMarket} from "../../contracts/interfaces/IDiscountMarket.sol";
import {ISettlementToken} from "../../contracts/interfaces/ISettlementToken.sol";
import {IErrors} from "../../contracts/interfaces/IErrors.sol";
import {IGreenLabels} from "../../contracts/interfaces/IGreenLabels.sol";
import {IERC1155Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

/// @dev Issue 8, "no key that can take what isn't its own": what the most powerful keys cannot do, each
/// refusal named, and what suspension does and does not stop. (The full role x function matrix is in
/// RoleMatrix.t.sol; the details of each rule are in the contract's own test file.)
contract LeastPrivilegeTest is Base {
    uint256 internal id;

    function setUp() public override {
        super.setUp();
        id = _confirmed(FACE);
        _move(supplier, supplier2, id, FACE / 2);
    }

    /// The operator (admin of every contract) cannot create money, grant credit, move or redeem anybody's
    /// units, or re-point the market.
    function test_operatorCannotTakeWhatIsNotItsOwn() public {
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(IErrors.NotActiveFinancier.selector, admin));
        token.mint(admin, 1);
        vm.expectRevert(abi.encodeWithSelector(IErrors.NotActiveFinancier.selector, admin));
        token.setIssuerCap(admin, 1);
        vm.expectRevert(abi.encodeWithSelector(IErrors.NotActiveFinancier.selector, admin));
        ledger.setCreditLine(debtor, address(token), 2 * LIMIT);
        vm.expectRevert(abi.encodeWithSelector(IERC1155Errors.ERC1155MissingApprovalForAll.selector, admin, supplier));
        ledger.safeTransferFrom(supplier, financier, id, 1, "");
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.NotMarket.selector, admin));
        ledger.marketTransfer(supplier, financier, id, 1);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.MarketAlreadySet.selector, address(market)));
        ledger.setMarket(admin);
        vm.expectRevert(abi.encodeWithSelector(IErrors.CallerNotActive.selector, admin));
        ledger.redeem(id);
        vm.stopPrank();
        // it caps credit, never raises it above what financiers granted
        vm.prank(admin);
        ledger.setPlatformLimit(debtor, address(token), true, 100 * LIMIT);
        (uint256 limit,) = ledger.creditLine(debtor, address(token));
        vm.assertEq(limit, LIMIT);
        vm.assertEq(ledger.balanceOf(supplier, id), FACE / 2);
        vm.assertEq(token.totalSupply(), 0);
    }

    /// A financier grants only its own credit and moves nobody's units but through an accepted offer.
    function test_financierCannotTakeWhatIsNotItsOwn() public {
        vm.prank(financier2);
        ledger.setCreditLine(debtor, address(token), 0); // lowering "its" line touches only its own (zero) line
        vm.assertEq(ledger.creditLineOf(debtor, financier, address(token)), LIMIT);
        vm.prank(financier2);
        ledger.setCreditLine(debtor, address(token), 3);
        vm.assertEq(ledger.creditLineOf(debtor, financier, address(token)), LIMIT);
        vm.assertEq(ledger.creditLineOf(debtor, financier2, address(token)), 3);
        (uint256 limit,) = ledger.creditLine(debtor, address(token));
        vm.assertEq(limit, LIMIT + 3);
        vm.prank(financier);
        vm.expectRevert(
            abi.encodeWithSelector(IERC1155Errors.ERC1155MissingApprovalForAll.selector, financier, supplier)
        );
        ledger.safeTransferFrom(supplier, financier, id, 1, "");
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.NotMarket.selector, financier));
        ledger.marketTransfer(supplier, financier, id, 1);
        // its own offer cannot be filled by itself, nor by anybody on the holder's behalf
        _cash(financier, FACE);
        _approve(financier, address(market), FACE);
        vm.prank(financier);
        uint256 oid = market.makeOffer(id, FACE, 0, T0 + 1 days);
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.SelfFill.selector, oid));
        market.acceptOffer(oid, 1);
        vm.prank(supplier3); // holds nothing: the market delivers only the caller's own units
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.TransferNotAllowed.selector,
                supplier3,
                financier,
                id,
                1,
                bytes32("INSUFFICIENT_BALANCE")
            )
        );
        market.acceptOffer(oid, 1);
        vm.assertEq(ledger.balanceOf(supplier, id), FACE / 2);
        vm.assertEq(ledger.balanceOf(supplier2, id), FACE / 2);
        // an issuer mints within its cap only, burns at most what it issued
        vm.prank(admin);
        token.setIssuerCap(financier2, 10);
        vm.prank(financier2);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.IssuerCapExceeded.selector, financier2, 10, 0, 11));
        token.mint(financier2, 11);
        vm.prank(financier);
        token.transfer(financier2, 5);
        vm.prank(financier2);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.BurnExceedsIssued.selector, financier2, 0, 5));
        token.burn(5);
    }

    /// Suspension stops new dealings, never the settlement of existing debts: a suspended debtor approves
    /// the ledger and repays, a suspended holder redeems; neither can deal with another participant.
    function test_suspension_settlesButDoesNotDeal() public {
        _cash(debtor, FACE);
        vm.prank(supplier2);
        ledger.setApprovalForAll(financier, true);
        vm.startPrank(admin);
        registry.suspend(debtor);
        registry.suspend(supplier2);
        vm.stopPrank();

        // the suspended debtor pays its debt through the ledger ...
        _approve(debtor, address(ledger), FACE);
        vm.prank(debtor);
        ledger.repay(id, FACE / 4);
        // ... but cannot pay or empower anybody else, nor take on a new obligation
        vm.prank(debtor);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.SenderNotActive.selector, debtor));
        token.transfer(supplier, 1);
        vm.prank(debtor);
        vm.expectRevert(abi.encodeWithSelector(IErrors.CallerNotActive.selector, debtor));
        token.approve(supplier, 1);
        IReceivableLedger.Invoice memory inv = _invoice(supplier, debtor, 1, T0 + 30 days);
        vm.prank(verifier);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.DebtorNotActiveCoreEnterprise.selector, debtor));
        ledger.registerInvoice(inv);

        // the suspended holder redeems what its units earned ...
        vm.assertEq(_redeem(supplier2, id), FACE / 8);
        // ... but cannot move its units, directly, through an approved operator or through the market
        vm.prank(supplier2);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.TransferNotAllowed.selector, supplier2, supplier, id, 1, bytes32("SENDER_NOT_ACTIVE")
            )
        );
        ledger.safeTransferFrom(supplier2, supplier, id, 1, "");
        vm.prank(financier);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.TransferNotAllowed.selector, supplier2, financier, id, 1, bytes32("SENDER_NOT_ACTIVE")
            )
        );
        ledger.safeTransferFrom(supplier2, financier, id, 1, "");
        _cash(financier, FACE);
        _approve(financier, address(market), FACE);
        vm.prank(financier);
        uint256 oid = market.makeOffer(id, FACE, 0, T0 + 1 days);
        vm.prank(supplier2);
        vm.expectRevert(abi.encodeWithSelector(IErrors.CallerNotActive.selector, supplier2));
        market.acceptOffer(oid, 1);
        // ... nor move the cash it was paid to another participant, nor be paid by one
        vm.prank(supplier2);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.SenderNotActive.selector, supplier2));
        token.transfer(supplier, 1);
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.ReceiverNotActive.selector, supplier2));
        token.transfer(supplier2, 1);

        // the debtor settles the rest; the holder's final settlement burns its units and pays its share
        vm.prank(debtor);
        ledger.repay(id, FACE - FACE / 4);
        vm.assertEq(_redeem(supplier2, id), FACE / 2 - FACE / 8);
        vm.assertEq(_redeem(supplier, id), FACE / 2);
        vm.assertEq(token.balanceOf(supplier2), FACE / 2);
        vm.assertEq(ledger.storedBalanceOf(supplier2, id), 0);
        vm.assertEq(token.balanceOf(address(ledger)), 0);
    }

    /// Green labels: the operator can neither label, withdraw a label nor set a programme; a certifier labels
    /// but moves no value (it can't hold units nor make offers) and sets no programme; a financier's programme
    /// is its own and changes nobody else's.
    function test_greenLabels_noKeyBeyondItsOwn() public {
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(IGreenLabels.NotActiveCertifier.selector, admin));
        green.label(id, bytes32("EU-TAXONOMY"), bytes32("7.1"), keccak256("e"), T0 + 1 days, 0, keccak256("a"));
        vm.expectRevert(abi.encodeWithSelector(IErrors.NotActiveFinancier.selector, admin));
        green.setProgramme(debtor, 100);
        vm.stopPrank();
        vm.prank(certifier);
        green.label(id, bytes32("EU-TAXONOMY"), bytes32("7.1"), keccak256("e"), T0 + 1 days, 0, keccak256("a"));
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IGreenLabels.NotLabelCertifier.selector, id, admin));
        green.withdraw(id, 0);
        vm.prank(certifier);
        vm.expectRevert(abi.encodeWithSelector(IErrors.NotActiveFinancier.selector, certifier));
        green.setProgramme(debtor, 100);
        vm.prank(certifier);
        vm.expectRevert(abi.encodeWithSelector(IErrors.NotActiveFinancier.selector, certifier));
        market.makeOffer(id, 1, 0, T0 + 1 days);
        vm.prank(supplier);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.TransferNotAllowed.selector,
                supplier,
                certifier,
                id,
                1,
                bytes32("RECEIVER_ROLE_NOT_ALLOWED")
            )
        );
        ledger.safeTransferFrom(supplier, certifier, id, 1, "");
        vm.prank(financier2);
        green.setProgramme(debtor, 300);
        vm.assertEq(green.programme(financier, debtor), 0);
        vm.assertEq(green.programme(financier2, debtor), 300);
        vm.assertEq(green.preference(financier, id), 0);
        vm.assertEq(green.preference(financier2, id), 300);
    }
}
