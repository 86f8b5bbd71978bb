// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IErrors} from "./IErrors.sol";

/// @title IParticipantRegistry
/// @notice Who may act on the platform, and in which role. Every contract that moves value asks
/// this registry before it does so: an unknown or suspended address can neither act nor receive.
/// Shared errors (`IErrors`) it throws: `ZeroAddress` (a zero admin or participant).
interface IParticipantRegistry is IErrors {
    /// @notice The business role of a participant. `System` is for the platform's own contracts
    /// (ledger, market) so that they may hold settlement tokens in escrow. `Logistics` is a carrier or
    /// warehouse that signs delivery evidence; an appointed one issues warehouse receipts. `PriceSource` signs
    /// commodity price observations off chain (the gateway's verifier records them); it moves no value.
    /// `Certifier` is an accredited green-finance certifier (verifier of a green taxonomy) that labels
    /// receivables as green in `GreenLabels`; it moves no value and cannot hold receivables.
    enum Role {
        None,
        Supplier,
        CoreEnterprise,
        Financier,
        Verifier,
        Regulator,
        System,
        Logistics,
        PriceSource,
        Certifier
    }

    /// @notice Lifecycle of a participant record.
    enum Status {
        None,
        Active,
        Suspended
    }

    /// @notice Thrown when an address that is not a participant is suspended, reinstated or changed.
    /// @param account The address that has no participant record.
    error UnknownParticipant(address account);
    /// @notice Thrown when an address is onboarded a second time.
    /// @param account The address that already has a participant record.
    error AlreadyOnboarded(address account);
    /// @notice Thrown when `Role.None` is given where a real role is required.
    error InvalidRole();
    /// @notice Thrown when a participant is not in the status an operation requires.
    /// @param account The participant.
    /// @param status The participant's current status.
    error InvalidStatus(address account, Status status);

    /// @notice Emitted when a participant is onboarded.
    /// @param account The participant's chain address.
    /// @param role The role it was given.
    /// @param identityHash Hash of the off-chain identity record (legal name, registration id, certificate).
    /// @param operator The operator that onboarded it.
    event ParticipantOnboarded(address indexed account, Role indexed role, bytes32 identityHash, address indexed operator);
    /// @notice Emitted when a participant is suspended.
    /// @param account The participant.
    /// @param operator The operator that suspended it.
    event ParticipantSuspended(address indexed account, address indexed operator);
    /// @notice Emitted when a suspended participant is reinstated.
    /// @param account The participant.
    /// @param operator The operator that reinstated it.
    event ParticipantReinstated(address indexed account, address indexed operator);

    /// @notice Onboards `account` with `role`. Operator only.
    /// @param account The participant's chain address.
    /// @param role The role to give (not `None`).
    /// @param identityHash Hash of the off-chain identity record.
    function onboard(address account, Role role, bytes32 identityHash) external;

    /// @notice Suspends an active participant: it can neither act nor receive value. Operator only.
    /// @param account The participant.
    function suspend(address account) external;

    /// @notice Reinstates a suspended participant. Operator only.
    /// @param account The participant.
    function reinstate(address account) external;

    /// @notice The participant record of `account` (all zero for an unknown address).
    /// @param account The address to look up.
    /// @return role The role.
    /// @return status The status.
    /// @return identityHash The identity hash recorded at onboarding.
    function participant(address account) external view returns (Role role, Status status, bytes32 identityHash);

    /// @notice Whether `account` is an active participant (any role).
    /// @param account The address to check.
    /// @return True if onboarded and not suspended.
    function isActive(address account) external view returns (bool);

    /// @notice Whether `account` is an active participant with exactly `role`.
    /// @param account The address to check.
    /// @param role The role required.
    /// @return True if onboarded with `role` and not suspended.
    function hasActiveRole(address account, Role role) external view returns (bool);

    /// @notice The role of `account` if it is an active participant, `Role.None` otherwise (unknown or
    /// suspended). One storage read: the hot path of every compliance check.
    /// @param account The address to look up.
    /// @return role The active role, or `Role.None`.
    function activeRole(address account) external view returns (Role role);
}
