// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Base} from "./utils/Base.sol";
import {SettlementToken} from "../../contracts/SettlementToken.sol";
import {ISettlementToken} from "../../contracts/interfaces/ISettlementToken.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {IErrors} from "../../contracts/interfaces/IErrors.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

contract SettlementTokenTest is Base {
    address internal financier3 = address(0xF003); // an active financier the operator never appointed

    function setUp() public override {
        super.setUp();
        vm.prank(admin);
        registry.onboard(financier3, IParticipantRegistry.Role.Financier, keccak256("F3"));
    }

    function test_metadata() public view {
        vm.assertEq(token.decimals(), 2);
        vm.assertEq(keccak256(bytes(token.symbol())), keccak256("tEUR"));
        vm.assertEq(keccak256(bytes(token.name())), keccak256("Tokenized Deposit EUR"));
        vm.assertEq(address(token.registry()), address(registry));
        vm.assertTrue(token.hasRole(token.OPERATOR_ROLE(), admin));
        vm.assertTrue(token.hasRole(token.DEFAULT_ADMIN_ROLE(), admin));
        vm.assertTrue(token.supportsInterface(0x7965db0b)); // AccessControl
    }

    function test_constructor_zeroRegistry() public {
        vm.expectRevert(IErrors.ZeroAddress.selector);
        new SettlementToken("a", "b", "EUR", 2, IParticipantRegistry(address(0)));
    }

    // ------------------------------------------------------------------ issuers

    function test_mint_onlyAppointedActiveFinancier() public {
        vm.expectEmit(true, true, false, true, address(token));
        emit ISettlementToken.Minted(financier, supplier, 100, 100, 100);
        _cash(supplier, 100);
        vm.assertEq(token.balanceOf(supplier), 100);
        (uint256 cap, uint256 issued) = token.issuer(financier);
        vm.assertEq(cap, type(uint128).max);
        vm.assertEq(issued, 100);
        // not a financier at all (the operator included): NotActiveFinancier
        address[6] memory notFinanciers = [supplier, debtor, verifier, regulator, outsider, admin];
        for (uint256 i = 0; i < notFinanciers.length; ++i) {
            vm.prank(notFinanciers[i]);
            vm.expectRevert(abi.encodeWithSelector(IErrors.NotActiveFinancier.selector, notFinanciers[i]));
            token.mint(supplier, 1);
        }
        // a financier the operator never appointed: cap 0
        vm.prank(financier3);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.IssuerCapExceeded.selector, financier3, 0, 0, 1));
        token.mint(supplier, 1);
        // a suspended issuer
        vm.prank(admin);
        registry.suspend(financier);
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(IErrors.NotActiveFinancier.selector, financier));
        token.mint(supplier, 1);
        vm.assertEq(token.totalSupply(), 100);
    }

    function test_mint_withinCapOnly() public {
        vm.expectEmit(true, true, false, true, address(token));
        emit ISettlementToken.IssuerCapSet(financier3, 100, 0, admin);
        vm.prank(admin);
        token.setIssuerCap(financier3, 100);
        vm.prank(financier3);
        token.mint(supplier, 60);
        vm.prank(financier3);
        token.mint(financier3, 40);
        vm.prank(financier3);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.IssuerCapExceeded.selector, financier3, 100, 100, 1));
        token.mint(supplier, 1);
        // burning frees room under the cap
        vm.expectEmit(true, false, false, true, address(token));
        emit ISettlementToken.Burned(financier3, 30, 70, 70);
        vm.prank(financier3);
        token.burn(30);
        vm.expectEmit(true, true, false, true, address(token));
        emit ISettlementToken.Minted(financier3, supplier, 30, 100, 100);
        vm.prank(financier3);
        token.mint(supplier, 30);
        (uint256 cap, uint256 issued) = token.issuer(financier3);
        vm.assertEq(cap, 100);
        vm.assertEq(issued, 100);
        // a cap of 0 removes the right to mint; what was issued stays
        vm.expectEmit(true, true, false, true, address(token));
        emit ISettlementToken.IssuerCapSet(financier3, 0, 100, admin);
        vm.prank(admin);
        token.setIssuerCap(financier3, 0);
        vm.prank(financier3);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.IssuerCapExceeded.selector, financier3, 0, 100, 1));
        token.mint(supplier, 1);
        // an issuer's cap is its own: another issuer's room is not shared
        (cap, issued) = token.issuer(financier2);
        vm.assertEq(issued, 0);
    }

    function test_burn_atMostIssued() public {
        _cash(financier, 100);
        vm.expectEmit(true, false, false, true, address(token));
        emit ISettlementToken.Burned(financier, 40, 60, 60);
        vm.prank(financier);
        token.burn(40);
        vm.assertEq(token.totalSupply(), 60);
        // financier2 holds tokens financier issued, but it issued nothing itself
        vm.prank(financier);
        token.transfer(financier2, 10);
        vm.prank(financier2);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.BurnExceedsIssued.selector, financier2, 0, 10));
        token.burn(10);
        // financier holds more than it has outstanding: it burns at most what it issued
        _cash(supplier, 5);
        vm.prank(supplier);
        token.transfer(financier, 5);
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.BurnExceedsIssued.selector, financier, 65, 66));
        token.burn(66);
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IErrors.NotActiveFinancier.selector, supplier));
        token.burn(1);
    }

    function test_setIssuerCap_operatorOnly() public {
        bytes32 role = token.OPERATOR_ROLE();
        address[5] memory others = [financier, financier3, supplier, verifier, outsider];
        for (uint256 i = 0; i < others.length; ++i) {
            vm.prank(others[i]);
            vm.expectRevert(
                abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, others[i], role)
            );
            token.setIssuerCap(financier3, 1);
        }
        // only active financiers can be appointed
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(IErrors.NotActiveFinancier.selector, supplier));
        token.setIssuerCap(supplier, 1);
        registry.suspend(financier3);
        vm.expectRevert(abi.encodeWithSelector(IErrors.NotActiveFinancier.selector, financier3));
        token.setIssuerCap(financier3, 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISettlementToken.IssuerCapExceeded.selector,
                financier2,
                type(uint128).max,
                0,
                uint256(type(uint128).max) + 1
            )
        );
        token.setIssuerCap(financier2, uint256(type(uint128).max) + 1);
        vm.stopPrank();
    }

    /// The operator never creates money: it cannot appoint itself (nor any holder of the token's admin
    /// roles), even after having itself onboarded as a financier.
    function test_setIssuerCap_operatorCannotAppointItself() public {
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IErrors.NotActiveFinancier.selector, admin));
        token.setIssuerCap(admin, 1);
        vm.prank(admin);
        registry.onboard(admin, IParticipantRegistry.Role.Financier, keccak256("operator as bank"));
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.OperatorCannotIssue.selector, admin));
        token.setIssuerCap(admin, 1);
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.OperatorCannotIssue.selector, admin));
        token.mint(admin, 1);
        // nor a financier that holds an operator or admin role of the token
        bytes32 operatorRole = token.OPERATOR_ROLE();
        bytes32 adminRole = token.DEFAULT_ADMIN_ROLE();
        vm.prank(admin);
        token.grantRole(operatorRole, financier3);
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.OperatorCannotIssue.selector, financier3));
        token.setIssuerCap(financier3, 1);
        vm.prank(admin);
        token.grantRole(adminRole, financier2);
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.OperatorCannotIssue.selector, financier2));
        token.setIssuerCap(financier2, 1);
    }

    function test_mint_issuerThatBecameOperatorCannotMint() public {
        // financier holds a cap from setUp; granted the token's operator role later, it can no longer mint
        bytes32 operatorRole = token.OPERATOR_ROLE();
        vm.prank(admin);
        token.grantRole(operatorRole, financier);
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.OperatorCannotIssue.selector, financier));
        token.mint(financier, 1);
        vm.prank(admin);
        token.revokeRole(operatorRole, financier);
        vm.prank(financier);
        token.mint(financier, 1);
        vm.assertEq(token.balanceOf(financier), 1);
    }

    // ------------------------------------------------------------------ movements

    function test_mint_receiverMustBeActive() public {
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.ReceiverNotActive.selector, outsider));
        token.mint(outsider, 1);
        vm.prank(admin);
        registry.suspend(supplier);
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.ReceiverNotActive.selector, supplier));
        token.mint(supplier, 1);
    }

    function test_transfer_rules() public {
        _cash(supplier, 100);
        vm.prank(supplier);
        token.transfer(supplier2, 10);
        vm.assertEq(token.balanceOf(supplier2), 10);
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.ReceiverNotActive.selector, outsider));
        token.transfer(outsider, 1);
        vm.prank(admin);
        registry.suspend(supplier);
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.SenderNotActive.selector, supplier));
        token.transfer(supplier2, 1);
    }

    function test_approve_andTransferFrom_rules() public {
        _cash(supplier, 100);
        vm.prank(outsider);
        vm.expectRevert(abi.encodeWithSelector(IErrors.CallerNotActive.selector, outsider));
        token.approve(supplier, 1);
        _approve(supplier, supplier2, 50);
        vm.prank(supplier2);
        token.transferFrom(supplier, supplier3, 20);
        vm.assertEq(token.balanceOf(supplier3), 20);
        vm.prank(admin);
        registry.suspend(supplier2);
        vm.prank(supplier2);
        vm.expectRevert(abi.encodeWithSelector(IErrors.CallerNotActive.selector, supplier2));
        token.transferFrom(supplier, supplier3, 1);
    }

    /// A suspended participant deals only with the platform's contracts: it may approve and pay a System
    /// contract (repay through the ledger) and be paid by one (redeem), never deal with another participant.
    function test_suspended_onlyWithSystemContracts() public {
        _cash(supplier, 100);
        _cash(supplier2, 100);
        vm.prank(admin);
        registry.suspend(supplier);
        // with another participant: refused both ways
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.SenderNotActive.selector, supplier));
        token.transfer(supplier2, 1);
        vm.prank(supplier2);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.ReceiverNotActive.selector, supplier));
        token.transfer(supplier, 1);
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IErrors.CallerNotActive.selector, supplier));
        token.approve(supplier2, 1);
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.ReceiverNotActive.selector, supplier));
        token.mint(supplier, 1);
        // an allowance given before the suspension cannot be used to move its tokens to a participant
        vm.prank(admin);
        registry.reinstate(supplier);
        _approve(supplier, supplier2, 50);
        vm.prank(admin);
        registry.suspend(supplier);
        vm.prank(supplier2);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.SenderNotActive.selector, supplier));
        token.transferFrom(supplier, supplier3, 1);
        // with a System contract: allowed
        vm.prank(supplier);
        token.approve(address(ledger), 7);
        vm.assertEq(token.allowance(supplier, address(ledger)), 7);
        vm.prank(address(ledger));
        token.transferFrom(supplier, address(ledger), 7);
        vm.prank(address(ledger));
        token.transfer(supplier, 2);
        vm.assertEq(token.balanceOf(supplier), 95);
        // a suspended System contract is no way out
        vm.prank(admin);
        registry.suspend(address(ledger));
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IErrors.CallerNotActive.selector, supplier));
        token.approve(address(ledger), 1);
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.SenderNotActive.selector, supplier));
        token.transfer(address(ledger), 1);
    }
}
