// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ParticipantRegistry} from "../../../contracts/ParticipantRegistry.sol";
import {SettlementToken} from "../../../contracts/SettlementToken.sol";
import {ReceivableLedger} from "../../../contracts/ReceivableLedger.sol";
import {DiscountMarket} from "../../../contracts/DiscountMarket.sol";
import {PlainERC1155} from "../../../contracts/bench/PlainERC1155.sol";
import {WarehouseReceipts} from "../../../contracts/WarehouseReceipts.sol";
import {GreenLabels} from "../../../contracts/GreenLabels.sol";
import {IWarehouseReceipts} from "../../../contracts/interfaces/IWarehouseReceipts.sol";
import {IParticipantRegistry} from "../../../contracts/interfaces/IParticipantRegistry.sol";
import {IReceivableLedger} from "../../../contracts/interfaces/IReceivableLedger.sol";
import {IDiscountMarket} from "../../../contracts/interfaces/IDiscountMarket.sol";

interface VmScript {
    function startBroadcast(uint256) external;
    function stopBroadcast() external;
    function addr(uint256) external returns (address);
    function sign(uint256, bytes32) external returns (uint8, bytes32, bytes32);
}

/// @notice Sends every platform operation once as a real transaction (run by bench/gas against a fresh Anvil).
/// bench/gas reads the receipts: gasUsed is the whole transaction (21,000 base, calldata, cold accesses,
/// refunds). The order of the transactions is the contract with bench/gas; see its LABELS.
contract GasBench {
    VmScript internal constant vm = VmScript(address(uint160(uint256(keccak256("hevm cheat code")))));
    // Anvil's first default account (public test key) pays for the setup and funds the actors.
    uint256 internal constant K0 = 0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80;
    uint256 internal constant K_VERIFIER = 0xB001;
    uint256 internal constant K_DEBTOR = 0xB002;
    uint256 internal constant K_SUPPLIER = 0xB003;
    uint256 internal constant K_SUPPLIER2 = 0xB004;
    uint256 internal constant K_FINANCIER = 0xB005;
    uint256 internal constant K_RELAYER = 0xB006;
    uint256 internal constant K_SUPPLIER3 = 0xB007;
    uint256 internal constant K_FIN_TWO_STEP = 0xB008; // offers as the gateway made them before issue 10
    uint256 internal constant K_FIN_PERMIT = 0xB009; // offers as the gateway makes them now
    uint256 internal constant K_WAREHOUSE = 0xB00A;
    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");

    ParticipantRegistry internal registry;
    SettlementToken internal token;
    ReceivableLedger internal ledger;
    DiscountMarket internal market;
    PlainERC1155 internal plain;
    address internal verifier;
    address internal debtor;
    address internal supplier;
    address internal supplier2;
    address internal financier;
    address internal relayer;
    address internal supplier3;
    address internal finTwoStep;
    address internal finPermit;

    function run() external {
        verifier = vm.addr(K_VERIFIER);
        debtor = vm.addr(K_DEBTOR);
        supplier = vm.addr(K_SUPPLIER);
        supplier2 = vm.addr(K_SUPPLIER2);
        financier = vm.addr(K_FINANCIER);
        relayer = vm.addr(K_RELAYER);
        supplier3 = vm.addr(K_SUPPLIER3);
        finTwoStep = vm.addr(K_FIN_TWO_STEP);
        finPermit = vm.addr(K_FIN_PERMIT);
        _setup();
        _measure();
    }

    function _setup() internal {
        address admin = vm.addr(K0);
        vm.startBroadcast(K0);
        payable(verifier).transfer(1 ether);
        payable(debtor).transfer(1 ether);
        payable(supplier).transfer(1 ether);
        payable(supplier2).transfer(1 ether);
        payable(financier).transfer(1 ether);
        payable(relayer).transfer(1 ether);
        payable(supplier3).transfer(1 ether);
        payable(finTwoStep).transfer(1 ether);
        payable(finPermit).transfer(1 ether);
        registry = new ParticipantRegistry(admin);
        token = new SettlementToken("Tokenized Deposit EUR", "tEUR", "EUR", 2, registry);
        ledger = new ReceivableLedger(registry);
        market = new DiscountMarket(ledger, registry, new GreenLabels(registry, ledger));
        plain = new PlainERC1155();
        registry.onboard(address(ledger), IParticipantRegistry.Role.System, 0);
        registry.onboard(address(market), IParticipantRegistry.Role.System, 0);
        ledger.setMarket(address(market));
        registry.onboard(verifier, IParticipantRegistry.Role.Verifier, keccak256("V"));
        registry.onboard(debtor, IParticipantRegistry.Role.CoreEnterprise, keccak256("CE"));
        registry.onboard(supplier, IParticipantRegistry.Role.Supplier, keccak256("S1"));
        registry.onboard(supplier2, IParticipantRegistry.Role.Supplier, keccak256("S2"));
        registry.onboard(supplier3, IParticipantRegistry.Role.Supplier, keccak256("S3"));
        registry.onboard(financier, IParticipantRegistry.Role.Financier, keccak256("F"));
        registry.onboard(finTwoStep, IParticipantRegistry.Role.Financier, keccak256("F2"));
        registry.onboard(finPermit, IParticipantRegistry.Role.Financier, keccak256("F3"));
        token.setIssuerCap(financier, 1e15); // the operator appoints the settlement bank as issuer
        vm.stopBroadcast();

        vm.startBroadcast(K_FINANCIER);
        // each financier grants its own line, per settlement token; the token's first line indexes it
        ledger.setCreditLine(debtor, address(token), 1e15); // setCreditLine (debtor's first line, new token)
        token.mint(debtor, 1e12);
        token.mint(financier, 1e12);
        token.approve(address(market), type(uint256).max);
        vm.stopBroadcast();

        vm.startBroadcast(K_FIN_TWO_STEP);
        ledger.setCreditLine(debtor, address(token), 1); // setCreditLine (a second grantor, token indexed)
        vm.stopBroadcast();
    }

    function _register(uint256 face, bytes32 fp) internal returns (uint256) {
        return ledger.registerInvoice(_invoice(face, fp));
    }

    /// @dev Invoices per `registerInvoices` in the gas table (bench/gas divides by it).
    uint256 internal constant BATCH = 16;

    function _registerBatch(uint256 n) internal {
        IReceivableLedger.Invoice[] memory invoices = new IReceivableLedger.Invoice[](n);
        for (uint256 i = 0; i < n; ++i) {
            invoices[i] = _invoice(1_000_00 + i, keccak256(abi.encode("batch", i)));
        }
        ledger.registerInvoices(invoices);
    }

    function _invoice(uint256 face, bytes32 fp) internal view returns (IReceivableLedger.Invoice memory) {
        return IReceivableLedger.Invoice({
            creditor: supplier,
            debtor: debtor,
            faceValue: face,
            token: address(token),
            issueDate: block.timestamp - 1 days,
            dueDate: block.timestamp + 90 days,
            bundleHash: fp,
            deliveryHash: keccak256(abi.encode("delivery", fp)),
            fingerprint: fp
        });
    }

    function _measure() internal {
        vm.startBroadcast(K_VERIFIER);
        uint256 id1 = _register(1_000_000_00, keccak256("fp1")); // M: tokenize (first invoice of the ledger)
        uint256 id2 = _register(1_000_000_00, keccak256("fp2")); // M: tokenize
        uint256 id3 = _register(500_000_00, keccak256("fp3")); // setup
        _registerBatch(BATCH); // M: tokenize a batch (registerInvoices)
        vm.stopBroadcast();

        vm.startBroadcast(K_DEBTOR);
        ledger.endorse(id1); // M: endorse (debtor's first payable)
        ledger.endorse(id2); // M: endorse
        token.approve(address(ledger), type(uint256).max);
        vm.stopBroadcast();

        bytes memory sig = _endorsement(id3, block.timestamp + 1 hours);
        vm.startBroadcast(K_RELAYER);
        ledger.endorseBySig(id3, true, block.timestamp + 1 hours, sig); // M: endorseBySig (debtor's first nonce)
        vm.stopBroadcast();

        vm.startBroadcast(K_SUPPLIER);
        ledger.safeTransferFrom(supplier, supplier2, id2, 250_000_00, ""); // M: transfer part (new holder)
        ledger.safeTransferFrom(supplier, supplier2, id2, 50_000_00, ""); // M: transfer part (existing holder)
        ledger.safeTransferFrom(supplier, supplier3, id2, 50_000_00, ""); // setup: a holder without cash
        vm.stopBroadcast();

        vm.startBroadcast(K_FINANCIER);
        uint256 offerId = market.makeOffer(id2, 300_000_00, 450, block.timestamp + 1 days); // M: makeOffer
        vm.stopBroadcast();

        vm.startBroadcast(K_SUPPLIER);
        market.acceptOffer(offerId, 200_000_00); // M: acceptOffer (first cash, new holder)
        vm.stopBroadcast();

        vm.startBroadcast(K_DEBTOR);
        ledger.repay(id2, 400_000_00); // M: repay (partial)
        vm.stopBroadcast();

        vm.startBroadcast(K_SUPPLIER2);
        ledger.redeem(id2); // M: redeem (after partial repayment)
        vm.stopBroadcast();

        vm.startBroadcast(K_DEBTOR);
        ledger.repay(id2, 600_000_00); // M: repay (final)
        vm.stopBroadcast();

        vm.startBroadcast(K_SUPPLIER);
        ledger.redeem(id2); // M: redeem (after final repayment)
        vm.stopBroadcast();

        vm.startBroadcast(K_SUPPLIER3);
        ledger.redeem(id2); // M: redeem (after final repayment, the holder's first settlement tokens)
        vm.stopBroadcast();

        vm.startBroadcast(K0);
        plain.mint(supplier, 1, 1_000_000_00); // M: plain OZ ERC-1155 mint (new id, new holder)
        vm.stopBroadcast();

        // transfers of a partially repaid receivable: both parties are settled first
        vm.startBroadcast(K_DEBTOR);
        ledger.repay(id1, 300_000_00); // setup
        vm.stopBroadcast();
        vm.startBroadcast(K_SUPPLIER);
        ledger.safeTransferFrom(supplier, supplier3, id1, 100_000_00, ""); // M: transfer after repayment, new holder
        ledger.safeTransferFrom(supplier, supplier3, id1, 100_000_00, ""); // M: same, both settled already
        vm.stopBroadcast();

        _measureApprovals(id1);
        _measureWarehouse();
    }

    /// @dev Issue 13: warehouse receipts. The supplier owns the goods; the settlement bank lends against them.
    function _measureWarehouse() internal {
        address warehouse = vm.addr(K_WAREHOUSE);
        vm.startBroadcast(K0);
        payable(warehouse).transfer(1 ether);
        WarehouseReceipts receipts = new WarehouseReceipts(registry, token, vm.addr(K0));
        registry.onboard(address(receipts), IParticipantRegistry.Role.System, 0);
        registry.onboard(warehouse, IParticipantRegistry.Role.Logistics, keccak256("W"));
        receipts.appointWarehouse(warehouse, true);
        vm.stopBroadcast();
        vm.startBroadcast(K_VERIFIER);
        receipts.recordPrice(bytes16("SOYBEAN"), bytes4("KGM"), 450_00, block.timestamp, keccak256("p1")); // M
        vm.stopBroadcast();
        vm.startBroadcast(K_FINANCIER);
        token.approve(address(receipts), type(uint256).max); // setup
        vm.stopBroadcast();
        vm.startBroadcast(K_WAREHOUSE);
        uint256 r1 = receipts.issue(supplier, _lot("LOT-1")); // M: issue (the warehouse's first)
        uint256 r2 = receipts.issue(supplier, _lot("LOT-2")); // M: issue
        vm.stopBroadcast();
        IWarehouseReceipts.LoanTerms memory terms =
            IWarehouseReceipts.LoanTerms(100_000_00, 800, block.timestamp + 180 days, 7000, 8000);
        vm.startBroadcast(K_FINANCIER);
        uint256 loan1 = receipts.offerLoan(r1, terms); // M: offerLoan
        uint256 loan2 = receipts.offerLoan(r2, terms); // setup
        vm.stopBroadcast();
        vm.startBroadcast(K_SUPPLIER);
        receipts.acceptLoan(loan1); // M: acceptLoan (pledge and principal paid out)
        receipts.acceptLoan(loan2); // M: acceptLoan
        vm.stopBroadcast();
        vm.startBroadcast(K_VERIFIER);
        receipts.recordAlert(r1, "SEAL_OPENED", keccak256("readings-1")); // M: recordAlert (first)
        receipts.recordAlert(r1, "WEIGHT_BELOW_RECEIPT", keccak256("readings-2")); // M: recordAlert
        vm.stopBroadcast();
        vm.startBroadcast(K_FINANCIER);
        receipts.release(loan2); // M: release
        vm.stopBroadcast();
    }

    function _lot(bytes32 lotRef) internal pure returns (IWarehouseReceipts.Lot memory) {
        return IWarehouseReceipts.Lot(
            bytes16("SOYBEAN"), "No. 2 yellow", 500_000, bytes4("KGM"), "SILO-4", lotRef, keccak256(abi.encode(lotRef))
        );
    }

    /// @dev Issue 10: the gateway's two transactions (approve, then the action) against one (the action with a
    /// permit). Each account starts with no allowance and no permit used; first and ordinary cases.
    function _measureApprovals(uint256 id1) internal {
        uint256 id4 = _registerConfirmed(keccak256("fp4"));
        vm.startBroadcast(K_FIN_TWO_STEP);
        token.approve(address(market), 300_000_00); // M: approve (two-step offer, first)
        market.makeOffer(id4, 300_000_00, 450, block.timestamp + 1 days); // M: makeOffer (two-step, first)
        token.approve(address(market), 400_000_00); // M: approve (two-step offer, raised)
        market.makeOffer(id4, 100_000_00, 450, block.timestamp + 1 days); // M: makeOffer (two-step, second)
        vm.stopBroadcast();

        IDiscountMarket.PermitSignature memory p = _permit(K_FIN_PERMIT, address(market), 300_000_00);
        vm.startBroadcast(K_FIN_PERMIT);
        market.makeOfferWithPermit(id4, 300_000_00, 450, block.timestamp + 1 days, p); // M: with permit, first
        vm.stopBroadcast();
        p = _permit(K_FIN_PERMIT, address(market), 400_000_00);
        vm.startBroadcast(K_FIN_PERMIT);
        market.makeOfferWithPermit(id4, 100_000_00, 450, block.timestamp + 1 days, p); // M: with permit, second
        vm.stopBroadcast();

        // repayments of id1 (partially repaid before), the debtor's allowance for the ledger back at zero
        vm.startBroadcast(K_DEBTOR);
        token.approve(address(ledger), 0); // setup
        token.approve(address(ledger), 50_000_00); // M: approve (two-step repayment)
        ledger.repay(id1, 50_000_00); // M: repay (two-step)
        vm.stopBroadcast();
        p = _permit(K_DEBTOR, address(ledger), 50_000_00);
        vm.startBroadcast(K_DEBTOR);
        ledger.repayWithPermit(id1, 50_000_00, p.deadline, p.v, p.r, p.s); // M: repay with permit (first nonce)
        vm.stopBroadcast();
        p = _permit(K_DEBTOR, address(ledger), 50_000_00);
        vm.startBroadcast(K_DEBTOR);
        ledger.repayWithPermit(id1, 50_000_00, p.deadline, p.v, p.r, p.s); // M: repay with permit (second)
        vm.stopBroadcast();
    }

    function _registerConfirmed(bytes32 fp) internal returns (uint256 id) {
        vm.startBroadcast(K_VERIFIER);
        id = _register(1_000_000_00, fp);
        vm.stopBroadcast();
        vm.startBroadcast(K_DEBTOR);
        ledger.endorse(id);
        vm.stopBroadcast();
    }

    function _permit(uint256 key, address spender, uint256 value)
        internal
        returns (IDiscountMarket.PermitSignature memory p)
    {
        address owner = vm.addr(key);
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 structHash =
            keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, token.nonces(owner), deadline));
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash));
        (p.v, p.r, p.s) = vm.sign(key, digest);
        (p.value, p.deadline) = (value, deadline);
    }

    function _endorsement(uint256 id, uint256 deadline) internal returns (bytes memory) {
        IReceivableLedger.Receivable memory rec = ledger.receivable(id);
        bytes32 structHash = keccak256(
            abi.encode(
                ledger.ENDORSEMENT_TYPEHASH(),
                id,
                rec.creditor,
                rec.faceValue,
                rec.dueDate,
                rec.bundleHash,
                true,
                ledger.nonces(debtor),
                deadline
            )
        );
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", ledger.DOMAIN_SEPARATOR(), structHash));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(K_DEBTOR, digest);
        return abi.encodePacked(r, s, v);
    }
}
