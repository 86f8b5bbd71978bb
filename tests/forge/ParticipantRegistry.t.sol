// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {TestBase} from "./utils/Base.sol";
import {ParticipantRegistry} from "../../contracts/ParticipantRegistry.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {IErrors} from "../../contracts/interfaces/IErrors.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

contract ParticipantRegistryTest is TestBase {
    ParticipantRegistry internal registry;
    address internal admin = address(0xA11CE);
    address internal alice = address(0xA1);

    function setUp() public {
        registry = new ParticipantRegistry(admin);
    }

    function test_constructor() public {
        vm.assertTrue(registry.hasRole(registry.OPERATOR_ROLE(), admin));
        vm.assertTrue(registry.hasRole(registry.DEFAULT_ADMIN_ROLE(), admin));
        vm.expectRevert(IErrors.ZeroAddress.selector);
        new ParticipantRegistry(address(0));
    }

    function test_onboard_suspend_reinstate() public {
        vm.expectEmit(true, true, true, true, address(registry));
        emit IParticipantRegistry.ParticipantOnboarded(alice, IParticipantRegistry.Role.Supplier, keccak256("id"), admin);
        vm.prank(admin);
        registry.onboard(alice, IParticipantRegistry.Role.Supplier, keccak256("id"));
        (IParticipantRegistry.Role role, IParticipantRegistry.Status status, bytes32 idHash) = registry.participant(alice);
        vm.assertEq(uint256(role), uint256(IParticipantRegistry.Role.Supplier));
        vm.assertEq(uint256(status), uint256(IParticipantRegistry.Status.Active));
        vm.assertEq(idHash, keccak256("id"));
        vm.assertTrue(registry.isActive(alice));
        vm.assertTrue(registry.hasActiveRole(alice, IParticipantRegistry.Role.Supplier));
        vm.assertFalse(registry.hasActiveRole(alice, IParticipantRegistry.Role.Financier));
        vm.assertEq(uint256(registry.activeRole(alice)), uint256(IParticipantRegistry.Role.Supplier));

        vm.prank(admin);
        registry.suspend(alice);
        vm.assertFalse(registry.isActive(alice));
        vm.assertFalse(registry.hasActiveRole(alice, IParticipantRegistry.Role.Supplier));
        vm.assertEq(uint256(registry.activeRole(alice)), uint256(IParticipantRegistry.Role.None));
        vm.prank(admin);
        vm.expectRevert(
            abi.encodeWithSelector(
                IParticipantRegistry.InvalidStatus.selector, alice, IParticipantRegistry.Status.Suspended
            )
        );
        registry.suspend(alice);

        vm.prank(admin);
        registry.reinstate(alice);
        vm.assertEq(uint256(registry.activeRole(alice)), uint256(IParticipantRegistry.Role.Supplier));
    }

    function test_onboard_errors() public {
        vm.startPrank(admin);
        vm.expectRevert(IErrors.ZeroAddress.selector);
        registry.onboard(address(0), IParticipantRegistry.Role.Supplier, 0);
        vm.expectRevert(IParticipantRegistry.InvalidRole.selector);
        registry.onboard(alice, IParticipantRegistry.Role.None, 0);
        registry.onboard(alice, IParticipantRegistry.Role.Supplier, 0);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.AlreadyOnboarded.selector, alice));
        registry.onboard(alice, IParticipantRegistry.Role.Financier, 0);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.UnknownParticipant.selector, address(0xB0B)));
        registry.suspend(address(0xB0B));
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.UnknownParticipant.selector, address(0xB0B)));
        registry.reinstate(address(0xB0B));
        vm.stopPrank();
    }

    function test_unknownIsInactive() public view {
        vm.assertFalse(registry.isActive(alice));
        vm.assertEq(uint256(registry.activeRole(alice)), uint256(IParticipantRegistry.Role.None));
    }

    function test_onlyOperator() public {
        bytes32 role = registry.OPERATOR_ROLE();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, role));
        registry.onboard(alice, IParticipantRegistry.Role.Supplier, 0);
    }
}
