// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {IGreenLabels} from "./interfaces/IGreenLabels.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {IReceivableLedger} from "./interfaces/IReceivableLedger.sol";

/// @title GreenLabels
/// @notice Green labels of receivables by certifiers, and financiers' green programmes (see `IGreenLabels`).
/// @dev No admin: a label is the certifier's (or, withdrawn, a regulator's) act, a programme the financier's.
/// Labels are keyed by receivable id, so they follow every unit of it through splits and transfers without
/// any hook in the ledger. The ledger and the registry are read with view calls only. Every state change emits
/// an event the read model can follow.
contract GreenLabels is IGreenLabels, Context {
    /// @notice Highest programme discount: 100 % (the discounted rate is floored at 0).
    uint256 public constant MAX_DISCOUNT_BPS = 10_000;

    IParticipantRegistry private immutable _registry;
    IReceivableLedger private immutable _ledger;

    mapping(uint256 receivableId => Label) private _labels;
    mapping(address financier => mapping(address debtor => uint256 discountBps)) private _programmes;

    /// @param registry_ The participant registry.
    /// @param ledger_ The receivable ledger.
    constructor(IParticipantRegistry registry_, IReceivableLedger ledger_) {
        if (address(registry_) == address(0) || address(ledger_) == address(0)) revert ZeroAddress();
        _registry = registry_;
        _ledger = ledger_;
    }

    /// @inheritdoc IGreenLabels
    function registry() external view returns (IParticipantRegistry) {
        return _registry;
    }

    /// @inheritdoc IGreenLabels
    function ledger() external view returns (IReceivableLedger) {
        return _ledger;
    }

    /// @inheritdoc IGreenLabels
    function label(
        uint256 receivableId,
        bytes32 catalogue,
        bytes32 category,
        bytes32 evidenceHash,
        uint256 validUntil,
        uint256 benefitKg,
        bytes32 attestationHash
    ) external {
        address certifier = _msgSender();
        if (!_registry.hasActiveRole(certifier, IParticipantRegistry.Role.Certifier)) {
            revert NotActiveCertifier(certifier);
        }
        if (
            catalogue == bytes32(0) || category == bytes32(0) || evidenceHash == bytes32(0)
                || attestationHash == bytes32(0)
        ) revert ZeroHash();
        if (validUntil <= block.timestamp || validUntil > type(uint40).max) revert InvalidValidity(validUntil);
        if (benefitKg > type(uint64).max) revert BenefitTooLarge(benefitKg);
        IReceivableLedger.Status status = _ledger.receivable(receivableId).status;
        if (status == IReceivableLedger.Status.None) revert UnknownReceivable(receivableId);
        if (status != IReceivableLedger.Status.Pending && status != IReceivableLedger.Status.Confirmed) {
            revert NotLabellable(receivableId);
        }
        if (_isLive(_labels[receivableId])) revert AlreadyLabelled(receivableId);
        _labels[receivableId] = Label({
            certifier: certifier,
            validUntil: uint40(validUntil),
            labelledAt: uint40(block.timestamp),
            withdrawn: false,
            benefitKg: uint64(benefitKg),
            catalogue: catalogue,
            category: category,
            evidenceHash: evidenceHash,
            attestationHash: attestationHash
        });
        emit GreenLabelled(
            receivableId, certifier, catalogue, category, evidenceHash, validUntil, benefitKg, attestationHash
        );
    }

    /// @inheritdoc IGreenLabels
    function withdraw(uint256 receivableId, bytes32 reasonHash) external {
        Label storage l = _labels[receivableId];
        if (!_isLive(l)) revert NotLabelled(receivableId);
        address caller = _msgSender();
        if (caller == l.certifier) {
            // its own certifier, while it is an active one (once suspended, a regulator withdraws for it)
            if (!_registry.hasActiveRole(caller, IParticipantRegistry.Role.Certifier)) {
                revert NotActiveCertifier(caller);
            }
        } else if (!_registry.hasActiveRole(caller, IParticipantRegistry.Role.Regulator)) {
            revert NotLabelCertifier(receivableId, caller);
        }
        l.withdrawn = true;
        emit GreenLabelWithdrawn(receivableId, caller, reasonHash);
    }

    /// @inheritdoc IGreenLabels
    function setProgramme(address debtor, uint256 discountBps) external {
        address financier = _msgSender();
        if (!_registry.hasActiveRole(financier, IParticipantRegistry.Role.Financier)) {
            revert NotActiveFinancier(financier);
        }
        if (debtor == address(0)) revert ZeroAddress();
        if (discountBps > MAX_DISCOUNT_BPS) revert InvalidDiscount(discountBps);
        _programmes[financier][debtor] = discountBps;
        emit GreenProgrammeSet(financier, debtor, discountBps);
    }

    /// @inheritdoc IGreenLabels
    function labelOf(uint256 receivableId) external view returns (Label memory) {
        return _labels[receivableId];
    }

    /// @inheritdoc IGreenLabels
    function isGreen(uint256 receivableId) external view returns (bool) {
        return _isLive(_labels[receivableId]);
    }

    /// @inheritdoc IGreenLabels
    function programme(address financier, address debtor) external view returns (uint256 discountBps) {
        return _programmes[financier][debtor];
    }

    /// @inheritdoc IGreenLabels
    /// @dev The common case (not green) reads one slot and returns before asking the ledger for the debtor.
    function preference(address financier, uint256 receivableId) external view returns (uint256 discountBps) {
        if (!_isLive(_labels[receivableId])) return 0;
        return _programmes[financier][_ledger.receivable(receivableId).debtor];
    }

    /// @dev Labelled, not withdrawn, not expired: one storage slot (certifier, validUntil, withdrawn).
    function _isLive(Label storage l) private view returns (bool) {
        return l.certifier != address(0) && !l.withdrawn && block.timestamp <= l.validUntil;
    }
}
