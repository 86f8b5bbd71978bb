// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {RoleMatrixBase} from "./utils/RoleMatrixBase.sol";
import {WarehouseReceipts} from "../../contracts/WarehouseReceipts.sol";
import {IWarehouseReceipts} from "../../contracts/interfaces/IWarehouseReceipts.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";

/// @dev The role x function matrix of `WarehouseReceipts`: every state-changing function called by every
/// kind of actor succeeds exactly for those with the right, and fails once they are suspended, except where
/// suspension deliberately leaves the settlement of a loan alone (a suspended borrower repays and adds
/// collateral; a suspended lender releases, withdraws an offer or freezes its collateral). Calling a margin
/// is open to anyone: its condition is on the ledger.
contract WarehouseRoleMatrixTest is RoleMatrixBase {
    WarehouseReceipts internal receipts;
    address internal warehouse = address(0x3A1);
    address internal carrier = address(0x3A3); // Logistics, not appointed
    uint256 internal ridFree; // supplier's, not pledged
    uint256 internal ridSpare; // supplier's, for a top-up
    uint256 internal ridPledged; // supplier's, pledged for `loanId`
    uint256 internal offered; // financier's offer on ridFree
    uint256 internal loanId; // active, financier lends to supplier
    uint256 internal calledLoan; // active, outstanding above the threshold after a price drop
    uint256 internal alertId; // open, on ridPledged

    function setUp() public override {
        super.setUp();
        receipts = _warehouseReceipts(warehouse);
        vm.prank(admin);
        registry.onboard(carrier, IParticipantRegistry.Role.Logistics, keccak256("C1"));
        _actor(outsider, "unknown");
        _actor(supplier, "supplier (owner, borrower)");
        _actor(supplier2, "supplier (other)");
        _actor(financier, "financier (lender)");
        _actor(financier2, "financier (other)");
        _actor(debtor, "core enterprise");
        _actor(verifier, "verifier");
        _actor(regulator, "regulator");
        _actor(warehouse, "warehouse (appointed)");
        _actor(carrier, "logistics (not appointed)");
        _actor(admin, "operator");

        vm.prank(verifier);
        receipts.recordPrice(bytes16("SOYBEAN"), bytes4("KGM"), 450_00, T0, 0);
        ridFree = _issue("LOT-FREE");
        ridSpare = _issue("LOT-SPARE");
        ridPledged = _issue("LOT-PLEDGED");
        uint256 ridCalled = _issue("LOT-CALLED");
        for (uint256 i = 0; i < actors.length; ++i) {
            if (registry.isActive(actors[i])) {
                _cash(actors[i], 10 * FACE);
                _approve(actors[i], address(receipts), type(uint256).max);
            }
        }
        vm.startPrank(financier);
        offered = receipts.offerLoan(ridFree, IWarehouseReceipts.LoanTerms(100_000_00, 800, T0 + 90 days, 7000, 8000));
        loanId = receipts.offerLoan(ridPledged, IWarehouseReceipts.LoanTerms(100_000_00, 800, T0 + 90 days, 7000, 8000));
        calledLoan =
            receipts.offerLoan(ridCalled, IWarehouseReceipts.LoanTerms(150_000_00, 800, T0 + 90 days, 7000, 8000));
        vm.stopPrank();
        vm.startPrank(supplier);
        receipts.acceptLoan(loanId);
        receipts.acceptLoan(calledLoan);
        vm.stopPrank();
        vm.warp(T0 + 1);
        vm.prank(verifier);
        receipts.recordPrice(bytes16("SOYBEAN"), bytes4("KGM"), 300_00, T0 + 1, 0); // calledLoan is now callable
        vm.prank(verifier);
        alertId = receipts.recordAlert(ridPledged, "SEAL_OPENED", 0);
    }

    function _issue(bytes32 lotRef) internal returns (uint256) {
        vm.prank(warehouse);
        return receipts.issue(
            supplier, IWarehouseReceipts.Lot(bytes16("SOYBEAN"), "No. 2", 500_000, bytes4("KGM"), "SILO-1", lotRef, 0)
        );
    }

    function test_matrix_warehouseReceipts() public {
        address w = address(receipts);
        _check(
            w, abi.encodeCall(IWarehouseReceipts.appointWarehouse, (carrier, true)), _only(admin), "appointWarehouse"
        );
        _check(
            w,
            abi.encodeCall(
                IWarehouseReceipts.issue,
                (supplier, IWarehouseReceipts.Lot(bytes16("SOYBEAN"), "No. 2", 1, bytes4("KGM"), "S", "NEW", 0))
            ),
            _only(warehouse),
            "issue"
        );
        _check(w, abi.encodeCall(IWarehouseReceipts.surrender, (ridFree)), _only(supplier), "surrender");
        _check(
            w,
            abi.encodeWithSignature("transferFrom(address,address,uint256)", supplier, supplier2, ridFree),
            _only(supplier),
            "transferFrom"
        );
        _check(
            w,
            abi.encodeCall(
                IWarehouseReceipts.offerLoan, (ridFree, IWarehouseReceipts.LoanTerms(1, 800, T0 + 30 days, 7000, 8000))
            ),
            _two(financier, financier2),
            "offerLoan"
        );
        _check(
            w,
            abi.encodeCall(IWarehouseReceipts.withdrawLoan, (offered)),
            _only(financier),
            _only(financier),
            "withdrawLoan"
        );
        _check(w, abi.encodeCall(IWarehouseReceipts.acceptLoan, (offered)), _only(supplier), "acceptLoan");
        _check(
            w,
            abi.encodeCall(IWarehouseReceipts.addCollateral, (loanId, ridSpare)),
            _only(supplier),
            _only(supplier),
            "addCollateral"
        );
        // anyone with settlement tokens may pay a debt: the payer's own tokens move to the lender
        address[] memory payers = _participants();
        _check(w, abi.encodeCall(IWarehouseReceipts.repay, (loanId, 1)), payers, payers, "repay");
        _check(w, abi.encodeCall(IWarehouseReceipts.release, (loanId)), _only(financier), _only(financier), "release");
        _check(
            w,
            abi.encodeCall(IWarehouseReceipts.setFrozen, (ridPledged, true)),
            _only(financier),
            _only(financier),
            "setFrozen"
        );
        _check(w, abi.encodeCall(IWarehouseReceipts.claimCollateral, (loanId)), _none(), "claimCollateral (not due)");
        _check(
            w,
            abi.encodeCall(IWarehouseReceipts.recordPrice, (bytes16("SOYBEAN"), bytes4("KGM"), 1, T0 + 1 - 0, 0)),
            _none(),
            "recordPrice (not newer)"
        );
        vm.warp(T0 + 2);
        _check(
            w,
            abi.encodeCall(IWarehouseReceipts.recordPrice, (bytes16("SOYBEAN"), bytes4("KGM"), 1, T0 + 2, 0)),
            _only(verifier),
            "recordPrice"
        );
        _check(
            w,
            abi.encodeCall(IWarehouseReceipts.recordAlert, (ridFree, "SEAL_OPENED", 0)),
            _only(verifier),
            "recordAlert"
        );
        _check(w, abi.encodeCall(IWarehouseReceipts.clearAlert, (alertId, 0)), _only(warehouse), "clearAlert");
        // the condition is on the ledger: anyone, suspended or not, may call a margin that is due
        address[] memory everyone = actors;
        _check(w, abi.encodeCall(IWarehouseReceipts.callMargin, (calledLoan)), everyone, everyone, "callMargin");
        _check(w, abi.encodeCall(IWarehouseReceipts.callMargin, (loanId)), _none(), "callMargin (within)");
    }
}
