// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Base} from "./utils/Base.sol";
import {SettlementToken} from "../../contracts/SettlementToken.sol";
import {ISettlementToken} from "../../contracts/interfaces/ISettlementToken.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";

contract SettlementTokenTest is Base {
    function test_metadata() public view {
        vm.assertEq(token.decimals(), 2);
        vm.assertEq(keccak256(bytes(token.symbol())), keccak256("tEUR"));
        vm.assertEq(keccak256(bytes(token.name())), keccak256("Tokenized Deposit EUR"));
        vm.assertEq(address(token.registry()), address(registry));
    }

    function test_constructor_zeroRegistry() public {
        vm.expectRevert(IParticipantRegistry.ZeroAddress.selector);
        new SettlementToken("a", "b", 2, IParticipantRegistry(address(0)));
    }

    function test_mint_onlyActiveFinancier() public {
        vm.expectEmit(true, true, false, true, address(token));
        emit ISettlementToken.Minted(financier, supplier, 100, 100);
        _cash(supplier, 100);
        vm.assertEq(token.balanceOf(supplier), 100);
        address[6] memory notFinanciers = [supplier, debtor, verifier, regulator, outsider, admin];
        for (uint256 i = 0; i < notFinanciers.length; ++i) {
            vm.prank(notFinanciers[i]);
            vm.expectRevert(abi.encodeWithSelector(ISettlementToken.NotActiveFinancier.selector, notFinanciers[i]));
            token.mint(supplier, 1);
        }
        vm.prank(admin);
        registry.suspend(financier);
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.NotActiveFinancier.selector, financier));
        token.mint(supplier, 1);
    }

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

    function test_burn() public {
        _cash(financier, 100);
        vm.expectEmit(true, false, false, true, address(token));
        emit ISettlementToken.Burned(financier, 40, 60);
        vm.prank(financier);
        token.burn(40);
        vm.assertEq(token.totalSupply(), 60);
        _cash(supplier, 5);
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.NotActiveFinancier.selector, supplier));
        token.burn(1);
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
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.CallerNotActive.selector, outsider));
        token.approve(supplier, 1);
        _approve(supplier, supplier2, 50);
        vm.prank(supplier2);
        token.transferFrom(supplier, supplier3, 20);
        vm.assertEq(token.balanceOf(supplier3), 20);
        vm.prank(admin);
        registry.suspend(supplier2);
        vm.prank(supplier2);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.CallerNotActive.selector, supplier2));
        token.transferFrom(supplier, supplier3, 1);
    }
}
