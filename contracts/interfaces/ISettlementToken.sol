// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IParticipantRegistry} from "./IParticipantRegistry.sol";
import {IErrors} from "./IErrors.sol";

/// @title ISettlementToken
/// @notice An ERC-20 standing for tokenized bank deposits. Only issuers appointed by the operator (settlement
/// banks, active financiers) mint it, each up to the cap the operator set, and burn what they issued. It moves
/// between active participants; a suspended participant may still pay a platform contract (role System:
/// repay a debt) and be paid by one (redeem), never anyone else. The token also implements OpenZeppelin's
/// `IERC20Permit` (EIP-2612; EIP-712 domain: the token's name, version "1"), under the same rule as `approve`.
/// Shared errors (`IErrors`) it throws: `ZeroAddress` (constructor), `NotActiveFinancier` (mint, burn,
/// appointment), `CallerNotActive` (an acting spender or an approving owner, by `approve` or `permit`, that is
/// not active).
interface ISettlementToken is IERC20, IErrors {
    /// @notice Thrown when a mint would take the issuer's outstanding issuance over its cap.
    /// @param issuer The issuer.
    /// @param cap Its cap.
    /// @param issued Its outstanding issuance before the mint.
    /// @param amount The amount to mint.
    error IssuerCapExceeded(address issuer, uint256 cap, uint256 issued, uint256 amount);
    /// @notice Thrown when an issuer burns more than it has outstanding.
    /// @param issuer The issuer.
    /// @param issued Its outstanding issuance.
    /// @param amount The amount to burn.
    error BurnExceedsIssued(address issuer, uint256 issued, uint256 amount);
    /// @notice Thrown when the operator would appoint itself (or another key of the token's admin roles) as an
    /// issuer: the operator never creates money.
    /// @param account The account.
    error OperatorCannotIssue(address account);
    /// @notice Thrown when value would be credited to an address that is not an active participant.
    /// @param account The receiving address (unknown or suspended).
    error ReceiverNotActive(address account);
    /// @notice Thrown when the constructor is given a currency code that is not three letters A-Z.
    /// @param currency The code given.
    error InvalidCurrency(bytes3 currency);
    /// @notice Thrown when value would leave an address that is not an active participant.
    /// @param account The sending address (unknown or suspended).
    error SenderNotActive(address account);

    /// @notice Emitted when an issuer mints tokens (besides the ERC-20 `Transfer` from zero).
    /// @param financier The minting issuer.
    /// @param to The receiver.
    /// @param amount The amount minted.
    /// @param totalSupply The total supply after the mint.
    /// @param issued The issuer's outstanding issuance after the mint.
    event Minted(address indexed financier, address indexed to, uint256 amount, uint256 totalSupply, uint256 issued);
    /// @notice Emitted when an issuer burns its own tokens (besides the ERC-20 `Transfer` to zero).
    /// @param financier The burning issuer.
    /// @param amount The amount burned.
    /// @param totalSupply The total supply after the burn.
    /// @param issued The issuer's outstanding issuance after the burn.
    event Burned(address indexed financier, uint256 amount, uint256 totalSupply, uint256 issued);
    /// @notice Emitted when the operator sets an issuer's cap (0 removes the right to mint).
    /// @param issuer The issuer.
    /// @param cap The most it may have outstanding.
    /// @param issued Its outstanding issuance.
    /// @param operator The operator.
    event IssuerCapSet(address indexed issuer, uint256 cap, uint256 issued, address indexed operator);

    /// @notice The currency the token is a deposit in: an ISO 4217 alphabetic code, fixed at deployment. The
    /// receivables registered in this token are denominated, discounted, repaid and redeemed in it.
    /// @return The three-letter code, e.g. "CNY".
    function currency() external view returns (bytes3);

    /// @notice The participant registry consulted on every movement.
    /// @return The registry.
    function registry() external view returns (IParticipantRegistry);

    /// @notice Mints `amount` to `to`. Caller must be an active financier appointed as issuer, and its
    /// outstanding issuance (minted minus burned) stays within its cap; `to` must be an active participant.
    /// @param to The receiver.
    /// @param amount The amount, in minor units.
    function mint(address to, uint256 amount) external;

    /// @notice Burns `amount` of the caller's own tokens, at most its outstanding issuance. Caller must be an
    /// active financier.
    /// @param amount The amount, in minor units.
    function burn(uint256 amount) external;

    /// @notice Appoints an issuer or changes its cap (0 stops further minting). OPERATOR_ROLE only; the issuer
    /// must be an active financier and hold none of the token's admin roles.
    /// @param account The issuer.
    /// @param cap The most it may have outstanding, in minor units.
    function setIssuerCap(address account, uint256 cap) external;

    /// @notice An issuer's cap and outstanding issuance.
    /// @param account The issuer.
    /// @return cap Its cap.
    /// @return issued Minted minus burned.
    function issuer(address account) external view returns (uint256 cap, uint256 issued);
}
