// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IErrors} from "./IErrors.sol";
import {IParticipantRegistry} from "./IParticipantRegistry.sol";
import {IReceivableLedger} from "./IReceivableLedger.sol";

/// @title IGreenLabels
/// @notice Green receivables. An active certifier (`IParticipantRegistry.Role.Certifier`) labels a pending or
/// confirmed receivable as green against a catalogue of green activities (e.g. "CN-GFSPC-2025", "EU-TAXONOMY",
/// "LMA-GLP"), with the hash of its evidence and of its signed attestation (the gateway checks the attestation
/// off chain), until a validity date. The label belongs to the receivable id: it follows every unit of it
/// through splits and transfers. The certifier that made it, or an active regulator, withdraws a live label
/// (greenwashing found); an expired or withdrawn label may be replaced by a new one.
/// A financier sets its own green programme per debtor: a discount, in basis points, off the annual rate it
/// offers for green receivables of that debtor. The discount market asks `preference` when an offer is made
/// and applies it to that offer once (see `IDiscountMarket.makeOffer`).
/// Shared errors (`IErrors`) it throws: `ZeroAddress` (constructor, a zero debtor in `setProgramme`),
/// `NotActiveFinancier` (the caller of `setProgramme`).
interface IGreenLabels is IErrors {
    /// @notice A receivable's green label, as its certifier recorded it. Six storage slots.
    /// @param certifier The certifier that recorded it (zero: never labelled).
    /// @param validUntil Last timestamp at which it is valid (unix seconds, inclusive).
    /// @param labelledAt When it was recorded (block timestamp).
    /// @param withdrawn Whether its certifier or a regulator withdrew it.
    /// @param benefitKg Environmental benefit: kg CO2e avoided (0: none measured).
    /// @param catalogue The green catalogue or taxonomy, e.g. bytes32("CN-GFSPC-2025"), bytes32("EU-TAXONOMY").
    /// @param category The catalogue's category code, e.g. bytes32("3.2.1").
    /// @param evidenceHash SHA-256 of the evidence.
    /// @param attestationHash SHA-256 of the signed attestation document (checked off chain by the gateway).
    struct Label {
        address certifier;
        uint40 validUntil;
        uint40 labelledAt;
        bool withdrawn;
        uint64 benefitKg;
        bytes32 catalogue;
        bytes32 category;
        bytes32 evidenceHash;
        bytes32 attestationHash;
    }

    /// @notice Thrown when the caller of `label` (or the certifier of a label withdrawing it) is not an active
    /// certifier.
    /// @param account The caller.
    error NotActiveCertifier(address account);
    /// @notice Thrown when a receivable does not exist.
    /// @param receivableId The receivable.
    error UnknownReceivable(uint256 receivableId);
    /// @notice Thrown when a receivable is neither pending nor confirmed (rejected or settled).
    /// @param receivableId The receivable.
    error NotLabellable(uint256 receivableId);
    /// @notice Thrown when a receivable with a live label (neither withdrawn nor expired) is labelled again.
    /// @param receivableId The receivable.
    error AlreadyLabelled(uint256 receivableId);
    /// @notice Thrown when a label is withdrawn from a receivable that has no live label.
    /// @param receivableId The receivable.
    error NotLabelled(uint256 receivableId);
    /// @notice Thrown when a label is withdrawn by neither its certifier nor an active regulator.
    /// @param receivableId The receivable.
    /// @param caller The caller.
    error NotLabelCertifier(uint256 receivableId, address caller);
    /// @notice Thrown for a validity not in the future, or beyond 2^40 - 1 (what the label stores).
    /// @param validUntil The validity given.
    error InvalidValidity(uint256 validUntil);
    /// @notice Thrown for a programme discount above 10_000 basis points.
    /// @param discountBps The discount given.
    error InvalidDiscount(uint256 discountBps);
    /// @notice Thrown when a catalogue, category, evidence hash or attestation hash is zero.
    error ZeroHash();
    /// @notice Thrown for an environmental benefit above 2^64 - 1 kg (what the label stores).
    /// @param benefitKg The benefit given.
    error BenefitTooLarge(uint256 benefitKg);

    /// @notice Emitted when a certifier labels a receivable green (also when it replaces an expired or
    /// withdrawn label).
    /// @param receivableId The receivable.
    /// @param certifier The certifier.
    /// @param catalogue The green catalogue.
    /// @param category The catalogue's category code.
    /// @param evidenceHash SHA-256 of the evidence.
    /// @param validUntil Last timestamp at which the label is valid.
    /// @param benefitKg kg CO2e avoided (0: none measured).
    /// @param attestationHash SHA-256 of the signed attestation document.
    event GreenLabelled(
        uint256 indexed receivableId,
        address indexed certifier,
        bytes32 catalogue,
        bytes32 category,
        bytes32 evidenceHash,
        uint256 validUntil,
        uint256 benefitKg,
        bytes32 attestationHash
    );
    /// @notice Emitted when a live label is withdrawn.
    /// @param receivableId The receivable.
    /// @param by Its certifier or a regulator.
    /// @param reasonHash Hash of the off-chain record of the reason (e.g. the greenwashing finding).
    event GreenLabelWithdrawn(uint256 indexed receivableId, address indexed by, bytes32 reasonHash);
    /// @notice Emitted when a financier sets, replaces or ends (0) its green programme for a debtor.
    /// @param financier The financier.
    /// @param debtor The debtor.
    /// @param discountBps The discount off its offered rate for green receivables of that debtor.
    event GreenProgrammeSet(address indexed financier, address indexed debtor, uint256 discountBps);

    /// @notice The participant registry (who is an active certifier, regulator, financier).
    /// @return The registry.
    function registry() external view returns (IParticipantRegistry);

    /// @notice The ledger whose receivables are labelled.
    /// @return The ledger.
    function ledger() external view returns (IReceivableLedger);

    /// @notice Labels a receivable green. Active certifier only. An expired or withdrawn label is replaced;
    /// a live one is not (`AlreadyLabelled`). Emits `GreenLabelled`.
    /// @param receivableId A receivable that exists and is pending or confirmed (disputed or not).
    /// @param catalogue The green catalogue or taxonomy (not zero).
    /// @param category The catalogue's category code (not zero).
    /// @param evidenceHash SHA-256 of the evidence (not zero).
    /// @param validUntil Last timestamp at which the label is valid (> now, <= 2^40 - 1).
    /// @param benefitKg kg CO2e avoided (0: none measured; <= 2^64 - 1).
    /// @param attestationHash SHA-256 of the signed attestation document (not zero).
    function label(
        uint256 receivableId,
        bytes32 catalogue,
        bytes32 category,
        bytes32 evidenceHash,
        uint256 validUntil,
        uint256 benefitKg,
        bytes32 attestationHash
    ) external;

    /// @notice Withdraws a live label (greenwashing found): the receivable is no longer green. Its certifier
    /// (while an active certifier) or an active regulator only. Offers made while it was green keep their
    /// rate; new offers get no preference. Emits `GreenLabelWithdrawn`.
    /// @param receivableId The receivable.
    /// @param reasonHash Hash of the off-chain record of the reason.
    function withdraw(uint256 receivableId, bytes32 reasonHash) external;

    /// @notice The caller (an active financier) sets its own green programme for one debtor: its offers on
    /// green receivables of that debtor carry `discountBps` less than the rate it offers (floored at 0); 0
    /// ends the programme. Emits `GreenProgrammeSet`.
    /// @param debtor The debtor (not zero; its status is not checked, so a programme can end at any time).
    /// @param discountBps The discount in basis points (<= 10_000).
    function setProgramme(address debtor, uint256 discountBps) external;

    /// @notice A receivable's label, live or not.
    /// @param receivableId The receivable.
    /// @return The label (all zero if never labelled).
    function labelOf(uint256 receivableId) external view returns (Label memory);

    /// @notice Whether a receivable is green now: labelled, not withdrawn and not expired.
    /// @param receivableId The receivable.
    /// @return True if labelled, not withdrawn, and block.timestamp <= validUntil.
    function isGreen(uint256 receivableId) external view returns (bool);

    /// @notice A financier's green programme for a debtor.
    /// @param financier The financier.
    /// @param debtor The debtor.
    /// @return discountBps The discount in basis points (0: no programme).
    function programme(address financier, address debtor) external view returns (uint256 discountBps);

    /// @notice The discount an offer by `financier` on `receivableId` gets now.
    /// @param financier The financier.
    /// @param receivableId The receivable.
    /// @return discountBps `isGreen(receivableId) ? programme(financier, debtor of the receivable) : 0`.
    function preference(address financier, uint256 receivableId) external view returns (uint256 discountBps);
}
