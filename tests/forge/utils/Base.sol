// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ParticipantRegistry} from "../../../contracts/ParticipantRegistry.sol";
import {SettlementToken} from "../../../contracts/SettlementToken.sol";
import {ReceivableLedger} from "../../../contracts/ReceivableLedger.sol";
import {DiscountMarket} from "../../../contracts/DiscountMarket.sol";
import {WarehouseReceipts} from "../../../contracts/WarehouseReceipts.sol";
import {GreenLabels} from "../../../contracts/GreenLabels.sol";
import {IParticipantRegistry} from "../../../contracts/interfaces/IParticipantRegistry.sol";
import {IReceivableLedger} from "../../../contracts/interfaces/IReceivableLedger.sol";

/// @dev The cheatcodes these tests use. npm forge-std 1.1.2 is incomplete (no ds-test), so we declare our own.
interface Vm {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    struct Gas {
        uint64 gasLimit;
        uint64 gasTotalUsed;
        uint64 gasMemoryUsed;
        int64 gasRefunded;
        uint64 gasRemaining;
    }

    function warp(uint256) external;
    function prank(address) external;
    function startPrank(address) external;
    function stopPrank() external;
    function expectRevert(bytes calldata) external;
    function expectRevert(bytes4) external;
    function expectPartialRevert(bytes4) external;
    function sign(uint256, bytes32) external returns (uint8, bytes32, bytes32);
    function addr(uint256) external returns (address);
    function chainId(uint256) external;
    function expectEmit(bool, bool, bool, bool, address) external;
    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory);
    function label(address, string calldata) external;
    function assume(bool) external pure;
    function snapshotState() external returns (uint256);
    function revertToState(uint256) external returns (bool);
    function lastCallGas() external view returns (Gas memory);
    function pauseGasMetering() external;
    function resumeGasMetering() external;
    function cool(address) external;
    function assertEq(uint256, uint256) external pure;
    function assertEq(uint256, uint256, string calldata) external pure;
    function assertEq(address, address) external pure;
    function assertEq(address, address, string calldata) external pure;
    function assertEq(bytes32, bytes32) external pure;
    function assertEq(bytes32, bytes32, string calldata) external pure;
    function assertEq(bool, bool) external pure;
    function assertEq(bool, bool, string calldata) external pure;
    function assertTrue(bool) external pure;
    function assertTrue(bool, string calldata) external pure;
    function assertFalse(bool) external pure;
    function assertFalse(bool, string calldata) external pure;
    function assertLe(uint256, uint256) external pure;
    function assertLe(uint256, uint256, string calldata) external pure;
    function assertGe(uint256, uint256) external pure;
    function assertGe(uint256, uint256, string calldata) external pure;
    function assertLt(uint256, uint256, string calldata) external pure;
    function assertGt(uint256, uint256, string calldata) external pure;
    function toString(uint256) external pure returns (string memory);
}

abstract contract TestBase {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        if (max <= min) return min;
        return min + (x % (max - min + 1));
    }
}

/// @dev Deploys the platform as chain/plan.py does and onboards one participant per role.
abstract contract Base is TestBase {
    ParticipantRegistry internal registry;
    SettlementToken internal token;
    ReceivableLedger internal ledger;
    DiscountMarket internal market;
    GreenLabels internal green;

    address internal admin = address(0xA11CE);
    uint256 internal constant DEBTOR_KEY = 0xDEB7;
    uint256 internal constant DEBTOR2_KEY = 0xDEB8;
    address internal debtor;
    address internal debtor2;
    address internal supplier = address(0x5001);
    address internal supplier2 = address(0x5002);
    address internal supplier3 = address(0x5003);
    address internal financier = address(0xF001);
    address internal financier2 = address(0xF002);
    address internal verifier = address(0x7E41);
    address internal regulator = address(0x4E6);
    address internal certifier = address(0xCE27);
    address internal outsider = address(0xBAD);

    uint256 internal constant T0 = 1_750_000_000; // 2025-06-15
    uint256 internal constant FACE = 1_000_000_00; // 1,000,000.00 tEUR
    uint256 internal constant LIMIT = 10_000_000_00;
    uint256 internal fpCounter;

    function setUp() public virtual {
        vm.warp(T0);
        debtor = vm.addr(DEBTOR_KEY);
        debtor2 = vm.addr(DEBTOR2_KEY);
        vm.startPrank(admin);
        registry = new ParticipantRegistry(admin);
        token = new SettlementToken("Tokenized Deposit EUR", "tEUR", "EUR", 2, registry);
        ledger = new ReceivableLedger(registry);
        green = new GreenLabels(registry, ledger);
        market = new DiscountMarket(ledger, registry, green);
        registry.onboard(address(ledger), IParticipantRegistry.Role.System, 0);
        registry.onboard(address(market), IParticipantRegistry.Role.System, 0);
        ledger.setMarket(address(market));
        registry.onboard(debtor, IParticipantRegistry.Role.CoreEnterprise, keccak256("CE1"));
        registry.onboard(debtor2, IParticipantRegistry.Role.CoreEnterprise, keccak256("CE2"));
        registry.onboard(supplier, IParticipantRegistry.Role.Supplier, keccak256("S1"));
        registry.onboard(supplier2, IParticipantRegistry.Role.Supplier, keccak256("S2"));
        registry.onboard(supplier3, IParticipantRegistry.Role.Supplier, keccak256("S3"));
        registry.onboard(financier, IParticipantRegistry.Role.Financier, keccak256("F1"));
        registry.onboard(financier2, IParticipantRegistry.Role.Financier, keccak256("F2"));
        registry.onboard(verifier, IParticipantRegistry.Role.Verifier, keccak256("V"));
        registry.onboard(regulator, IParticipantRegistry.Role.Regulator, keccak256("R"));
        registry.onboard(certifier, IParticipantRegistry.Role.Certifier, keccak256("G"));
        token.setIssuerCap(financier, type(uint128).max);
        token.setIssuerCap(financier2, type(uint128).max);
        vm.stopPrank();
        vm.startPrank(financier);
        ledger.setCreditLine(debtor, address(token), LIMIT);
        ledger.setCreditLine(debtor2, address(token), LIMIT);
        vm.stopPrank();
        vm.label(debtor, "debtor");
        vm.label(supplier, "supplier");
        vm.label(financier, "financier");
    }

    function _fingerprint() internal returns (bytes32) {
        return keccak256(abi.encode(supplier, "INV", ++fpCounter));
    }

    function _register(address creditor, address debtor_, uint256 face, uint256 due) internal returns (uint256 id) {
        vm.prank(verifier);
        id = ledger.registerInvoice(_invoice(creditor, debtor_, face, due));
    }

    function _invoice(address creditor, address debtor_, uint256 face, uint256 due)
        internal
        returns (IReceivableLedger.Invoice memory)
    {
        return IReceivableLedger.Invoice({
            creditor: creditor,
            debtor: debtor_,
            faceValue: face,
            token: address(token),
            issueDate: T0 - 1 days,
            dueDate: due,
            bundleHash: keccak256("bundle"),
            deliveryHash: keccak256("delivery"),
            fingerprint: _fingerprint()
        });
    }

    function _register(uint256 face) internal returns (uint256) {
        return _register(supplier, debtor, face, T0 + 90 days);
    }

    function _confirmed(uint256 face) internal returns (uint256 id) {
        id = _register(face);
        vm.prank(debtor);
        ledger.endorse(id);
    }

    function _cash(address to, uint256 amount) internal {
        vm.prank(financier);
        token.mint(to, amount);
    }

    /// @dev Warehouse receipts on this registry and token, as the deployment plan wires them (a system
    /// participant), with `store` onboarded as Logistics (identity keccak256("W1")) and appointed.
    function _warehouseReceipts(address store) internal returns (WarehouseReceipts w) {
        vm.startPrank(admin);
        w = new WarehouseReceipts(registry, token, admin);
        registry.onboard(address(w), IParticipantRegistry.Role.System, 0);
        registry.onboard(store, IParticipantRegistry.Role.Logistics, keccak256("W1"));
        w.appointWarehouse(store, true);
        vm.stopPrank();
    }

    function _approve(address owner, address spender, uint256 amount) internal {
        vm.prank(owner);
        token.approve(spender, amount);
    }

    function _repay(uint256 id, uint256 amount) internal {
        _cash(debtor, amount);
        _approve(debtor, address(ledger), amount);
        vm.prank(debtor);
        ledger.repay(id, amount);
    }

    /// @dev A credit note of `amount` on a confirmed receivable: the regulator disputes, the operator resolves.
    function _creditNote(uint256 id, uint256 amount) internal {
        vm.prank(regulator);
        ledger.dispute(id, keccak256("credit note"));
        vm.prank(admin);
        ledger.resolveWithCreditNote(id, amount);
    }

    function _redeem(address holder, uint256 id) internal returns (uint256) {
        vm.prank(holder);
        return ledger.redeem(id);
    }

    function _move(address from, address to, uint256 id, uint256 amount) internal {
        vm.prank(from);
        ledger.safeTransferFrom(from, to, id, amount, "");
    }

    function _status(uint256 id) internal view returns (IReceivableLedger.Status) {
        return ledger.receivable(id).status;
    }
}
