// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Base} from "./utils/Base.sol";
import {IReceivableLedger} from "../../contracts/interfaces/IReceivableLedger.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";

/// @dev EIP-712 endorsement: the happy paths and every rejection the issue asks for.
contract Endorsement712Test is Base {
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    function _domain(uint256 chainId, address verifying) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256("SCF Receivable Ledger"), keccak256("1"), chainId, verifying)
        );
    }

    /// @dev The digest over the terms the ledger stores for `id` (what the debtor sees in its wallet).
    function _digest(uint256 chainId, address verifying, uint256 id, bool accept, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        IReceivableLedger.Receivable memory r = ledger.receivable(id);
        return _digestTerms(
            chainId, verifying, id, r.creditor, r.faceValue, r.dueDate, r.bundleHash, accept, nonce, deadline
        );
    }

    function _digestTerms(
        uint256 chainId,
        address verifying,
        uint256 id,
        address creditor,
        uint256 face,
        uint256 due,
        bytes32 bundleHash,
        bool accept,
        uint256 nonce,
        uint256 deadline
    ) internal pure returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256(
                    "Endorsement(uint256 receivableId,address creditor,uint256 faceValue,uint256 dueDate,bytes32 bundleHash,bool accept,uint256 nonce,uint256 deadline)"
                ),
                id,
                creditor,
                face,
                due,
                bundleHash,
                accept,
                nonce,
                deadline
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", _domain(chainId, verifying), structHash));
    }

    /// @dev The InvalidSigner error the ledger raises for `sig` on receivable `id` with the debtor's nonce.
    function _invalid(uint256 id, bool accept, uint256 deadline, bytes memory sig) internal view returns (bytes memory) {
        bytes32 digest = _digest(block.chainid, address(ledger), id, accept, ledger.nonces(debtor), deadline);
        return abi.encodeWithSelector(IReceivableLedger.InvalidSigner.selector, id, ECDSA.recover(digest, sig), debtor);
    }

    function _sign(uint256 key, bytes32 digest) internal returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function _sig(uint256 id, bool accept, uint256 deadline) internal returns (bytes memory) {
        return _sign(DEBTOR_KEY, _digest(block.chainid, address(ledger), id, accept, ledger.nonces(debtor), deadline));
    }

    function test_typehashAndDomain() public view {
        vm.assertEq(
            ledger.ENDORSEMENT_TYPEHASH(),
            keccak256(
                "Endorsement(uint256 receivableId,address creditor,uint256 faceValue,uint256 dueDate,bytes32 bundleHash,bool accept,uint256 nonce,uint256 deadline)"
            )
        );
        vm.assertEq(ledger.DOMAIN_SEPARATOR(), _domain(block.chainid, address(ledger)));
    }

    function test_endorseBySig_relayedByAnyone() public {
        uint256 id = _register(FACE);
        bytes memory sig = _sig(id, true, T0 + 1 hours);
        vm.expectEmit(true, true, false, true, address(ledger));
        emit IReceivableLedger.Endorsed(id, debtor, FACE, FACE, true);
        vm.prank(outsider); // relayer needs no role
        ledger.endorseBySig(id, true, T0 + 1 hours, sig);
        vm.assertEq(uint256(_status(id)), uint256(IReceivableLedger.Status.Confirmed));
        vm.assertEq(ledger.nonces(debtor), 1);
    }

    function test_endorseBySig_reject() public {
        uint256 id = _register(FACE);
        bytes memory sig = _sig(id, false, T0);
        ledger.endorseBySig(id, false, T0, sig); // deadline == now is still valid
        vm.assertEq(uint256(_status(id)), uint256(IReceivableLedger.Status.Rejected));
        vm.assertEq(ledger.balanceOf(supplier, id), 0);
    }

    function test_rejects_wrongChainId() public {
        uint256 id = _register(FACE);
        bytes32 digest = _digest(block.chainid + 1, address(ledger), id, true, 0, T0 + 1);
        bytes memory sig = _sign(DEBTOR_KEY, digest);
        address wrongSigner = ECDSA.recover(_digest(block.chainid, address(ledger), id, true, 0, T0 + 1), sig);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.InvalidSigner.selector, id, wrongSigner, debtor));
        ledger.endorseBySig(id, true, T0 + 1, sig);
        vm.assertEq(ledger.nonces(debtor), 0);
    }

    function test_rejects_signatureReplayedOnAnotherChain() public {
        uint256 id = _register(FACE);
        bytes memory sig = _sig(id, true, T0 + 1);
        vm.chainId(block.chainid + 7); // the same ledger seen under a different chain id (fork)
        vm.expectRevert(_invalid(id, true, T0 + 1, sig));
        ledger.endorseBySig(id, true, T0 + 1, sig);
    }

    function test_rejects_wrongVerifyingContract() public {
        uint256 id = _register(FACE);
        bytes memory sig = _sign(DEBTOR_KEY, _digest(block.chainid, address(market), id, true, 0, T0 + 1));
        vm.expectRevert(_invalid(id, true, T0 + 1, sig));
        ledger.endorseBySig(id, true, T0 + 1, sig);
        vm.assertEq(uint256(_status(id)), uint256(IReceivableLedger.Status.Pending));
    }

    function test_rejects_expiredDeadline() public {
        uint256 id = _register(FACE);
        bytes memory sig = _sig(id, true, T0 - 1);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.ExpiredSignature.selector, T0 - 1));
        ledger.endorseBySig(id, true, T0 - 1, sig);
    }

    function test_rejects_reusedNonce() public {
        uint256 id = _register(FACE);
        uint256 id2 = _register(FACE);
        bytes memory sig = _sig(id, true, T0 + 1);
        ledger.endorseBySig(id, true, T0 + 1, sig);
        // the exact replay
        vm.expectRevert(_invalid(id, true, T0 + 1, sig));
        ledger.endorseBySig(id, true, T0 + 1, sig);
        // a signature made with the consumed nonce for another receivable
        bytes memory old = _sign(DEBTOR_KEY, _digest(block.chainid, address(ledger), id2, true, 0, T0 + 1));
        vm.expectRevert(_invalid(id2, true, T0 + 1, old));
        ledger.endorseBySig(id2, true, T0 + 1, old);
        vm.assertEq(uint256(_status(id2)), uint256(IReceivableLedger.Status.Pending));
    }

    function test_rejects_highS() public {
        uint256 id = _register(FACE);
        bytes32 digest = _digest(block.chainid, address(ledger), id, true, 0, T0 + 1);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(DEBTOR_KEY, digest);
        // the malleable twin (r, n - s, v ^ 1) recovers the same key with plain ecrecover
        bytes32 highS = bytes32(SECP256K1_N - uint256(s));
        uint8 flippedV = v == 27 ? 28 : 27;
        vm.assertEq(ecrecover(digest, flippedV, r, highS), debtor);
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureS.selector, highS));
        ledger.endorseBySig(id, true, T0 + 1, abi.encodePacked(r, highS, flippedV));
        // the canonical one still works
        ledger.endorseBySig(id, true, T0 + 1, abi.encodePacked(r, s, v));
    }

    function test_rejects_wrongSignerAndWrongDecision() public {
        uint256 id = _register(FACE);
        bytes memory other = _sign(DEBTOR2_KEY, _digest(block.chainid, address(ledger), id, true, 0, T0 + 1));
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.InvalidSigner.selector, id, debtor2, debtor));
        ledger.endorseBySig(id, true, T0 + 1, other);
        bytes memory rejectSig = _sig(id, false, T0 + 1);
        vm.expectRevert(_invalid(id, true, T0 + 1, rejectSig)); // signed "reject", relayed as "accept"
        ledger.endorseBySig(id, true, T0 + 1, rejectSig);
    }

    function test_rejects_malformedAndUnknown() public {
        uint256 id = _register(FACE);
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureLength.selector, 3));
        ledger.endorseBySig(id, true, T0 + 1, hex"010203");
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.WrongStatus.selector,
                999,
                IReceivableLedger.Status.None,
                IReceivableLedger.Status.Pending
            )
        );
        ledger.endorseBySig(999, true, T0 + 1, hex"010203");
    }

    function test_endorseBySig_suspendedDebtorRejected() public {
        uint256 id = _register(FACE);
        bytes memory sig = _sig(id, true, T0 + 1);
        vm.prank(admin);
        registry.suspend(debtor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.UnauthorizedParticipant.selector, debtor, IParticipantRegistry.Role.CoreEnterprise
            )
        );
        ledger.endorseBySig(id, true, T0 + 1, sig);
        vm.assertEq(ledger.nonces(debtor), 0, "a failed relay consumes no nonce");
    }

    // ------------------------------------------------------------------ the signature binds the terms

    /// A signature binds what is endorsed, not only the id: the debtor signs to confirm receivable #1 as
    /// it sees it (face A); the state is rolled back and a different receivable #1 is registered (face B,
    /// or another creditor, due date or bundle). Submitting the old signature fails with InvalidSigner.
    function test_rejects_sameIdOtherTerms() public {
        uint256 deadline = T0 + 1 hours;
        for (uint256 variant = 0; variant < 4; ++variant) {
            uint256 snap = vm.snapshotState();
            uint256 seen = _register(FACE); // what the debtor was shown and signed
            vm.assertEq(seen, 1);
            bytes memory sig = _sig(seen, true, deadline);
            vm.revertToState(snap);

            IReceivableLedger.Invoice memory inv = _invoice(supplier, debtor, FACE, T0 + 90 days);
            if (variant == 0) inv.faceValue = FACE + 1;
            if (variant == 1) inv.creditor = supplier2;
            if (variant == 2) inv.dueDate = T0 + 91 days;
            if (variant == 3) inv.bundleHash = keccak256("another bundle");
            vm.prank(verifier);
            uint256 id = ledger.registerInvoice(inv);
            vm.assertEq(id, 1, "same id, other terms");
            vm.expectRevert(_invalid(id, true, deadline, sig));
            ledger.endorseBySig(id, true, deadline, sig);
            vm.assertEq(uint256(_status(id)), uint256(IReceivableLedger.Status.Pending));
            vm.assertEq(ledger.nonces(debtor), 0);
            // the debtor's signature over the real terms works
            ledger.endorseBySig(id, true, deadline, _sig(id, true, deadline));
            vm.assertEq(uint256(_status(id)), uint256(IReceivableLedger.Status.Confirmed));
            vm.revertToState(snap);
        }
    }

    function test_digestCoversEveryTerm() public {
        uint256 id = _register(FACE);
        IReceivableLedger.Receivable memory r = ledger.receivable(id);
        bytes32 d = _digest(block.chainid, address(ledger), id, true, 0, T0 + 1);
        // the helper recomputes the ledger's digest: a signature over it is accepted
        bytes32 d2 = _digestTerms(
            block.chainid, address(ledger), id, r.creditor, r.faceValue, r.dueDate, r.bundleHash, true, 0, T0 + 1
        );
        vm.assertEq(d, d2);
        vm.assertTrue(
            d != _digestTerms(block.chainid, address(ledger), id, supplier2, r.faceValue, r.dueDate, r.bundleHash, true, 0, T0 + 1)
        );
        ledger.endorseBySig(id, true, T0 + 1, _sign(DEBTOR_KEY, d));
    }
}
