// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IParticipantRegistry} from "./IParticipantRegistry.sol";

/// @title ISettlementToken
/// @notice An ERC-20 standing for tokenized bank deposits. Only active financier-banks mint and burn it,
/// and it only ever moves between active participants of the registry.
interface ISettlementToken is IERC20 {
    /// @notice Thrown when the caller is not an active financier (mint, burn).
    /// @param account The caller.
    error NotActiveFinancier(address account);
    /// @notice Thrown when value would be credited to an address that is not an active participant.
    /// @param account The receiving address (unknown or suspended).
    error ReceiverNotActive(address account);
    /// @notice Thrown when value would leave an address that is not an active participant.
    /// @param account The sending address (unknown or suspended).
    error SenderNotActive(address account);
    /// @notice Thrown when an address that is not an active participant tries to move someone else's
    /// tokens or to grant an allowance.
    /// @param account The acting address.
    error CallerNotActive(address account);

    /// @notice Emitted when a financier mints tokens (besides the ERC-20 `Transfer` from zero).
    /// @param financier The minting financier.
    /// @param to The receiver.
    /// @param amount The amount minted.
    /// @param totalSupply The total supply after the mint.
    event Minted(address indexed financier, address indexed to, uint256 amount, uint256 totalSupply);
    /// @notice Emitted when a financier burns its own tokens (besides the ERC-20 `Transfer` to zero).
    /// @param financier The burning financier.
    /// @param amount The amount burned.
    /// @param totalSupply The total supply after the burn.
    event Burned(address indexed financier, uint256 amount, uint256 totalSupply);

    /// @notice The participant registry consulted on every movement.
    /// @return The registry.
    function registry() external view returns (IParticipantRegistry);

    /// @notice Mints `amount` to `to`. Caller must be an active Financier; `to` must be an active participant.
    /// @param to The receiver.
    /// @param amount The amount, in minor units.
    function mint(address to, uint256 amount) external;

    /// @notice Burns `amount` of the caller's own tokens. Caller must be an active Financier.
    /// @param amount The amount, in minor units.
    function burn(uint256 amount) external;
}
