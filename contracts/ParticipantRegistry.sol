// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";

/// @title ParticipantRegistry
/// @notice Permissioning for the supply-chain-finance ledger: operators onboard participants with a
/// role, and may suspend and reinstate them. Other contracts consult it before every movement of value.
contract ParticipantRegistry is IParticipantRegistry, AccessControl {
    /// @notice Role allowed to onboard, suspend and reinstate participants.
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");

    struct Record {
        Role role;
        Status status;
        bytes32 identityHash;
    }

    mapping(address account => Record) private _records;

    /// @param admin Receives DEFAULT_ADMIN_ROLE and OPERATOR_ROLE.
    constructor(address admin) {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(OPERATOR_ROLE, admin);
    }

    /// @inheritdoc IParticipantRegistry
    function onboard(address account, Role role, bytes32 identityHash) external onlyRole(OPERATOR_ROLE) {
        if (account == address(0)) revert ZeroAddress();
        if (role == Role.None) revert InvalidRole();
        if (_records[account].status != Status.None) revert AlreadyOnboarded(account);
        _records[account] = Record({role: role, status: Status.Active, identityHash: identityHash});
        emit ParticipantOnboarded(account, role, identityHash, _msgSender());
    }

    /// @inheritdoc IParticipantRegistry
    function suspend(address account) external onlyRole(OPERATOR_ROLE) {
        _requireStatus(account, Status.Active);
        _records[account].status = Status.Suspended;
        emit ParticipantSuspended(account, _msgSender());
    }

    /// @inheritdoc IParticipantRegistry
    function reinstate(address account) external onlyRole(OPERATOR_ROLE) {
        _requireStatus(account, Status.Suspended);
        _records[account].status = Status.Active;
        emit ParticipantReinstated(account, _msgSender());
    }

    /// @inheritdoc IParticipantRegistry
    function participant(address account) external view returns (Role role, Status status, bytes32 identityHash) {
        Record storage r = _records[account];
        return (r.role, r.status, r.identityHash);
    }

    /// @inheritdoc IParticipantRegistry
    function isActive(address account) external view returns (bool) {
        return _records[account].status == Status.Active;
    }

    /// @inheritdoc IParticipantRegistry
    function hasActiveRole(address account, Role role) external view returns (bool) {
        Record storage r = _records[account];
        return r.status == Status.Active && r.role == role;
    }

    /// @inheritdoc IParticipantRegistry
    function activeRole(address account) external view returns (Role) {
        Record storage r = _records[account];
        return r.status == Status.Active ? r.role : Role.None;
    }

    function _requireStatus(address account, Status expected) private view {
        Status current = _records[account].status;
        if (current == Status.None) revert UnknownParticipant(account);
        if (current != expected) revert InvalidStatus(account, current);
    }
}
