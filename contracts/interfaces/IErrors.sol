// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IErrors
/// @notice The custom errors that more than one platform contract throws, declared once (in the manner of
/// OpenZeppelin's `IERC1155Errors`). Every platform interface that throws one of them inherits this interface;
/// no interface or contract redeclares them. Errors that only one contract throws stay in that contract's
/// interface. See contracts/GUIDELINES.md.
interface IErrors {
    /// @notice Thrown when the zero address is given where an address is required.
    error ZeroAddress();
    /// @notice Thrown when a zero amount is given where a positive amount is required.
    error ZeroAmount();
    /// @notice Thrown when an address that is not an active participant tries to act (or, where the contract
    /// says so, is not a participant at all).
    /// @param account The acting address.
    error CallerNotActive(address account);
    /// @notice Thrown when an action needs an active financier and `account` is not one (the caller of
    /// `setCreditLine`, `makeOffer`, `cancelOffer`, `mint`, `burn`, an issuer being appointed, or an offer's
    /// maker when the offer is filled).
    /// @param account The address that is not an active financier.
    error NotActiveFinancier(address account);
}
