// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ISettlementToken} from "./interfaces/ISettlementToken.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";

/// @title SettlementToken
/// @notice ERC-20 for tokenized bank deposits, the means of payment of the platform. Minted and burned only
/// by active financier-banks; moves only between active participants of the registry.
/// @dev Every balance change passes `_update`, which refuses a sender, receiver or acting spender that is
/// not an active participant. Platform contracts are participants with role System.
contract SettlementToken is ISettlementToken, ERC20 {
    IParticipantRegistry private immutable _registry;
    uint8 private immutable _decimals;

    /// @param name_ Token name.
    /// @param symbol_ Token symbol.
    /// @param decimals_ Decimals (minor units per major unit = 10**decimals).
    /// @param registry_ The participant registry.
    constructor(string memory name_, string memory symbol_, uint8 decimals_, IParticipantRegistry registry_)
        ERC20(name_, symbol_)
    {
        if (address(registry_) == address(0)) revert IParticipantRegistry.ZeroAddress();
        _registry = registry_;
        _decimals = decimals_;
    }

    /// @inheritdoc ISettlementToken
    function registry() external view returns (IParticipantRegistry) {
        return _registry;
    }

    /// @notice Decimals of the token, fixed at deployment.
    /// @return The decimals.
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @inheritdoc ISettlementToken
    function mint(address to, uint256 amount) external {
        address financier = _requireFinancier();
        _mint(to, amount);
        emit Minted(financier, to, amount, totalSupply());
    }

    /// @inheritdoc ISettlementToken
    function burn(uint256 amount) external {
        address financier = _requireFinancier();
        _burn(financier, amount);
        emit Burned(financier, amount, totalSupply());
    }

    /// @notice ERC-20 approve; the caller must be an active participant.
    /// @param spender The spender.
    /// @param value The allowance.
    /// @return True.
    function approve(address spender, uint256 value) public override(ERC20, IERC20) returns (bool) {
        address owner = _msgSender();
        if (!_registry.isActive(owner)) revert CallerNotActive(owner);
        return super.approve(spender, value);
    }

    /// @dev The single choke point of every balance change (transfer, transferFrom, mint, burn).
    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0)) {
            if (!_registry.isActive(from)) revert SenderNotActive(from);
            address caller = _msgSender();
            if (caller != from && !_registry.isActive(caller)) revert CallerNotActive(caller);
        }
        if (to != address(0) && !_registry.isActive(to)) revert ReceiverNotActive(to);
        super._update(from, to, value);
    }

    function _requireFinancier() private view returns (address financier) {
        financier = _msgSender();
        if (!_registry.hasActiveRole(financier, IParticipantRegistry.Role.Financier)) {
            revert NotActiveFinancier(financier);
        }
    }
}
