// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {RoleMatrixBase} from "./utils/RoleMatrixBase.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {IReceivableLedger} from "../../contracts/interfaces/IReceivableLedger.sol";
import {IDiscountMarket} from "../../contracts/interfaces/IDiscountMarket.sol";
import {IGreenLabels} from "../../contracts/interfaces/IGreenLabels.sol";
import {ISettlementToken} from "../../contracts/interfaces/ISettlementToken.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @dev The role x function matrix: every state-changing function is called by every kind of actor; it must
/// succeed exactly for the actors that hold the right, and fail for each of them again once suspended, except
/// where suspension deliberately does not stop the settlement of existing debts (a suspended debtor repays,
/// a suspended holder redeems, both may approve a platform contract).
/// (endorseBySig is relayed by anyone; its right is the debtor's signature, see Endorsement712Test.)
contract RoleMatrixTest is RoleMatrixBase {
    uint256 internal idC; // confirmed, held by supplier
    uint256 internal idP; // pending
    uint256 internal idD; // confirmed and disputed
    uint256 internal idR; // fully repaid, supplier may redeem
    uint256 internal oid; // offer by financier on idC

    function setUp() public override {
        super.setUp();
        _actor(outsider, "unknown");
        _actor(supplier, "supplier (holder)");
        _actor(supplier2, "supplier (no units)");
        _actor(debtor, "core enterprise (debtor)");
        _actor(debtor2, "core enterprise (other)");
        _actor(financier, "financier (issuer)");
        _actor(financier2, "financier (not an issuer)");
        _actor(verifier, "verifier");
        _actor(regulator, "regulator");
        _actor(certifier, "certifier");
        _actor(address(market), "system (market)");
        _actor(address(ledger), "system (ledger)");
        _actor(admin, "operator");

        idC = _confirmed(FACE);
        idP = _register(FACE);
        idD = _confirmed(FACE);
        vm.prank(debtor);
        ledger.dispute(idD, 0);
        idR = _confirmed(FACE);
        _repay(idR, FACE);
        for (uint256 i = 0; i < actors.length; ++i) {
            if (registry.isActive(actors[i])) {
                _cash(actors[i], 10 * FACE);
                _approve(actors[i], address(ledger), type(uint256).max);
                _approve(actors[i], address(market), type(uint256).max);
            }
        }
        vm.prank(financier);
        oid = market.makeOffer(idC, FACE, 500, T0 + 10 days);
        vm.prank(certifier);
        green.label(idC, bytes32("EU-TAXONOMY"), bytes32("7.1"), keccak256("e"), T0 + 30 days, 0, keccak256("a"));
        vm.prank(admin);
        token.setIssuerCap(financier2, 0); // an active financier the operator did not appoint as issuer
        vm.prank(admin);
        registry.onboard(address(0x5555), IParticipantRegistry.Role.Supplier, 0);
        vm.prank(admin);
        registry.suspend(address(0x5555));
    }

    // ------------------------------------------------------------------ registry

    function test_matrix_registry() public {
        _check(
            address(registry),
            abi.encodeCall(IParticipantRegistry.onboard, (address(0x6666), IParticipantRegistry.Role.Supplier, 0)),
            _only(admin),
            "onboard"
        );
        _check(address(registry), abi.encodeCall(IParticipantRegistry.suspend, (supplier2)), _only(admin), "suspend");
        _check(
            address(registry),
            abi.encodeCall(IParticipantRegistry.reinstate, (address(0x5555))),
            _only(admin),
            "reinstate"
        );
    }

    // ------------------------------------------------------------------ settlement token

    function test_matrix_token() public {
        // money is created only by an appointed issuer, within its cap
        _check(address(token), abi.encodeCall(ISettlementToken.mint, (supplier, 1)), _only(financier), "mint");
        _check(address(token), abi.encodeCall(ISettlementToken.burn, (1)), _only(financier), "burn");
        _check(
            address(token), abi.encodeCall(ISettlementToken.setIssuerCap, (financier2, 5)), _only(admin), "setIssuerCap"
        );
        _check(address(token), abi.encodeCall(IERC20.transfer, (supplier2, 1)), _participants(), "transfer");
        _check(address(token), abi.encodeCall(IERC20.approve, (supplier2, 1)), _participants(), "approve");
        // approving a platform contract stays possible while suspended (to repay); the ledger itself, once
        // suspended, is no longer a platform contract
        address[] memory p = _participants();
        _check(
            address(token),
            abi.encodeCall(IERC20.approve, (address(ledger), 1)),
            p,
            _except(p, address(ledger)),
            "approve(ledger)"
        );
        _approve(supplier, address(0x7777), 0); // transferFrom: only an approved spender
        for (uint256 i = 0; i < actors.length; ++i) {
            if (registry.isActive(actors[i]) && actors[i] != supplier3) {
                vm.prank(supplier3);
                token.approve(actors[i], 0);
            }
        }
        _cash(supplier3, 10);
        vm.prank(supplier3);
        token.approve(regulator, 5);
        _check(
            address(token),
            abi.encodeCall(IERC20.transferFrom, (supplier3, supplier2, 1)),
            _only(regulator),
            "transferFrom"
        );
    }

    // ------------------------------------------------------------------ ledger

    function test_matrix_ledgerAdmin() public {
        // the market is fixed at deployment: nobody, the admin included, can set it again
        _check(address(ledger), abi.encodeCall(IReceivableLedger.setMarket, (address(0x1234))), _none(), "setMarket");
        // each financier sets its own line; the operator only caps the sum
        _check(
            address(ledger),
            abi.encodeCall(IReceivableLedger.setCreditLine, (debtor, address(token), 2 * LIMIT)),
            _two(financier, financier2),
            "setCreditLine"
        );
        _check(
            address(ledger),
            abi.encodeCall(IReceivableLedger.setPlatformLimit, (debtor, address(token), true, LIMIT)),
            _only(admin),
            "setPlatformLimit"
        );
        _check(address(ledger), abi.encodeCall(IReceivableLedger.resolveDispute, (idD)), _only(admin), "resolveDispute");
        _check(
            address(ledger),
            abi.encodeCall(IReceivableLedger.resolveWithCreditNote, (idD, 1)),
            _only(admin),
            "resolveWithCreditNote"
        );
    }

    function test_matrix_ledgerLifecycle() public {
        _check(
            address(ledger),
            abi.encodeCall(IReceivableLedger.registerInvoice, (_invoice(supplier, debtor, FACE, T0 + 30 days))),
            _only(verifier),
            "registerInvoice"
        );
        _check(address(ledger), abi.encodeCall(IReceivableLedger.endorse, (idP)), _only(debtor), "endorse");
        _check(address(ledger), abi.encodeCall(IReceivableLedger.reject, (idP)), _only(debtor), "reject");
        _check(
            address(ledger),
            abi.encodeWithSignature(
                "safeTransferFrom(address,address,uint256,uint256,bytes)", supplier, supplier2, idC, 1, ""
            ),
            _only(supplier),
            "safeTransferFrom"
        );
        uint256[] memory ids = new uint256[](1);
        uint256[] memory values = new uint256[](1);
        (ids[0], values[0]) = (idC, 1);
        _check(
            address(ledger),
            abi.encodeWithSignature(
                "safeBatchTransferFrom(address,address,uint256[],uint256[],bytes)", supplier, supplier2, ids, values, ""
            ),
            _only(supplier),
            "safeBatchTransferFrom"
        );
        _check(
            address(ledger),
            abi.encodeWithSignature("setApprovalForAll(address,bool)", supplier2, true),
            _participants(),
            "setApprovalForAll"
        );
        _check(
            address(ledger),
            abi.encodeCall(IReceivableLedger.marketTransfer, (supplier, financier, idC, 1)),
            _only(address(market)),
            "marketTransfer"
        );
        _check(
            address(ledger), abi.encodeCall(IReceivableLedger.repay, (idC, 1)), _only(debtor), _only(debtor), "repay"
        );
        _check(
            address(ledger), abi.encodeCall(IReceivableLedger.redeem, (idR)), _only(supplier), _only(supplier), "redeem"
        );
        _check(address(ledger), abi.encodeCall(IReceivableLedger.dispute, (idC, 0)), _two(debtor, regulator), "dispute");
    }

    // ------------------------------------------------------------------ market

    function test_matrix_market() public {
        _check(
            address(market),
            abi.encodeCall(IDiscountMarket.makeOffer, (idC, 1, 500, T0 + 1 days)),
            _two(financier, financier2),
            "makeOffer"
        );
        _check(address(market), abi.encodeCall(IDiscountMarket.cancelOffer, (oid)), _only(financier), "cancelOffer");
        _check(
            address(market), abi.encodeCall(IDiscountMarket.acceptOffer, (oid, 10_000)), _only(supplier), "acceptOffer"
        );
        _check(
            address(market),
            abi.encodeCall(IDiscountMarket.acceptOfferAtLeast, (oid, 10_000, 1)),
            _only(supplier),
            "acceptOfferAtLeast"
        );
    }

    // ------------------------------------------------------------------ green labels

    function test_matrix_green() public {
        // labelling is a certifier's act only; withdrawing, its own certifier's or a regulator's
        _check(
            address(green),
            abi.encodeCall(
                IGreenLabels.label,
                (idP, bytes32("EU-TAXONOMY"), bytes32("7.1"), keccak256("e"), T0 + 30 days, 0, keccak256("a"))
            ),
            _only(certifier),
            "label"
        );
        _check(
            address(green),
            abi.encodeCall(IGreenLabels.withdraw, (idC, keccak256("r"))),
            _two(certifier, regulator),
            "withdraw"
        );
        // each financier sets its own programme only
        _check(
            address(green),
            abi.encodeCall(IGreenLabels.setProgramme, (debtor, 100)),
            _two(financier, financier2),
            "setProgramme"
        );
    }
}
