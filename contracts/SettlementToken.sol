// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ISettlementToken} from "./interfaces/ISettlementToken.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";

/// @title SettlementToken
/// @notice ERC-20 for tokenized bank deposits, the means of payment of the platform. Minted only by issuers
/// the operator appointed (each up to its cap), burned by them; moves between active participants.
/// @dev Every balance change passes `_update`, which refuses a sender, receiver or acting spender that is
/// not an active participant, except that a suspended participant may pay, or be paid by, a platform
/// contract (role System): suspension stops new dealings, not the settlement of existing debts.
/// EIP-2612 `permit` (OpenZeppelin's `ERC20Permit`; EIP-712 domain: the token's name, version "1") sets an
/// allowance by the owner's signature under the same rule as `approve`, so that the ledger and the market can
/// take the approval and the action it pays for in one transaction (`repayWithPermit`, `makeOfferWithPermit`).
contract SettlementToken is ISettlementToken, ERC20, ERC20Permit, AccessControl {
    /// @notice Role that appoints issuers and sets their caps (granted to the deployer).
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");

    struct Issuer {
        uint128 cap;
        uint128 issued;
    }

    IParticipantRegistry private immutable _registry;
    uint8 private immutable _decimals;
    bytes3 private immutable _currency;
    mapping(address issuer => Issuer) private _issuers;

    /// @param name_ Token name (also the name of its EIP-712 domain, version "1", for `permit`).
    /// @param symbol_ Token symbol.
    /// @param currency_ The ISO 4217 alphabetic code of the currency the token is a deposit in (three letters
    /// A-Z; `InvalidCurrency` otherwise).
    /// @param decimals_ Decimals (minor units per major unit = 10**decimals): the currency's ISO 4217 minor
    /// unit, which the deployment plan and the gateway check.
    /// @param registry_ The participant registry.
    constructor(
        string memory name_,
        string memory symbol_,
        bytes3 currency_,
        uint8 decimals_,
        IParticipantRegistry registry_
    ) ERC20(name_, symbol_) ERC20Permit(name_) {
        if (address(registry_) == address(0)) revert ZeroAddress();
        for (uint256 i = 0; i < 3; ++i) {
            bytes1 c = currency_[i];
            if (c < "A" || c > "Z") revert InvalidCurrency(currency_);
        }
        _registry = registry_;
        _decimals = decimals_;
        _currency = currency_;
        _grantRole(DEFAULT_ADMIN_ROLE, _msgSender());
        _grantRole(OPERATOR_ROLE, _msgSender());
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
    function currency() external view returns (bytes3) {
        return _currency;
    }

    /// @inheritdoc ISettlementToken
    function mint(address to, uint256 amount) external {
        address financier = _requireFinancier(_msgSender());
        _requireNotOperator(financier); // an issuer that later became operator or admin can no longer mint
        Issuer storage i = _issuers[financier];
        (uint256 cap, uint256 issued) = (i.cap, i.issued);
        if (issued + amount > cap) revert IssuerCapExceeded(financier, cap, issued, amount);
        i.issued = uint128(issued + amount);
        _mint(to, amount);
        emit Minted(financier, to, amount, totalSupply(), issued + amount);
    }

    /// @inheritdoc ISettlementToken
    function burn(uint256 amount) external {
        address financier = _requireFinancier(_msgSender());
        Issuer storage i = _issuers[financier];
        uint256 issued = i.issued;
        if (amount > issued) revert BurnExceedsIssued(financier, issued, amount);
        i.issued = uint128(issued - amount);
        _burn(financier, amount);
        emit Burned(financier, amount, totalSupply(), issued - amount);
    }

    /// @inheritdoc ISettlementToken
    function setIssuerCap(address account, uint256 cap) external onlyRole(OPERATOR_ROLE) {
        _requireFinancier(account);
        _requireNotOperator(account);
        if (cap > type(uint128).max) revert IssuerCapExceeded(account, type(uint128).max, 0, cap);
        Issuer storage i = _issuers[account];
        i.cap = uint128(cap);
        emit IssuerCapSet(account, cap, i.issued, _msgSender());
    }

    /// @inheritdoc ISettlementToken
    function issuer(address account) external view returns (uint256 cap, uint256 issued) {
        Issuer storage i = _issuers[account];
        return (i.cap, i.issued);
    }

    /// @notice ERC-20 approve; the caller must be an active participant.
    /// @param spender The spender.
    /// @param value The allowance.
    /// @return True.
    function approve(address spender, uint256 value) public override(ERC20, IERC20) returns (bool) {
        _requireMayApprove(_msgSender(), spender);
        return super.approve(spender, value);
    }

    /// @notice EIP-2612: sets `owner`'s allowance for `spender` to `value` with the owner's EIP-712 signature.
    /// The owner must be allowed to approve as for `approve` (active, or suspended and approving a platform
    /// contract); reverts `ERC2612ExpiredSignature` after `deadline`, `ERC2612InvalidSigner` for a signature
    /// that is not the owner's over its current nonce. Emits `Approval`.
    /// @param owner The owner of the tokens and signer.
    /// @param spender The spender.
    /// @param value The allowance.
    /// @param deadline Last timestamp at which the signature is valid.
    /// @param v Signature v.
    /// @param r Signature r.
    /// @param s Signature s.
    function permit(address owner, address spender, uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        public
        override
    {
        _requireMayApprove(owner, spender);
        super.permit(owner, spender, value, deadline, v, r, s);
    }

    /// @dev An owner may approve while active; a suspended one only a platform contract (to pull a repayment).
    function _requireMayApprove(address owner, address spender) private view {
        if (!_registry.isActive(owner) && !(_isKnown(owner) && _isSystem(spender))) revert CallerNotActive(owner);
    }

    /// @dev The single choke point of every balance change (transfer, transferFrom, mint, burn).
    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0)) {
            if (!_registry.isActive(from) && !(_isKnown(from) && _isSystem(to))) revert SenderNotActive(from);
            address caller = _msgSender();
            if (caller != from && !_registry.isActive(caller)) revert CallerNotActive(caller);
        }
        if (to != address(0) && !_registry.isActive(to) && !(_isKnown(to) && _isSystem(from))) {
            revert ReceiverNotActive(to);
        }
        super._update(from, to, value);
    }

    /// @dev Onboarded (active or suspended).
    function _isKnown(address account) private view returns (bool) {
        // slither-disable-next-line unused-return
        (, IParticipantRegistry.Status status,) = _registry.participant(account);
        return status != IParticipantRegistry.Status.None;
    }

    /// @dev An active platform contract (the ledger, the market).
    function _isSystem(address account) private view returns (bool) {
        return account != address(0) && _registry.hasActiveRole(account, IParticipantRegistry.Role.System);
    }

    /// @dev The operator never creates money: no key with the token's operator or admin role issues.
    function _requireNotOperator(address account) private view {
        if (hasRole(OPERATOR_ROLE, account) || hasRole(DEFAULT_ADMIN_ROLE, account)) {
            revert OperatorCannotIssue(account);
        }
    }

    function _requireFinancier(address account) private view returns (address) {
        if (!_registry.hasActiveRole(account, IParticipantRegistry.Role.Financier)) revert NotActiveFinancier(account);
        return account;
    }

    /// @inheritdoc AccessControl
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return super.supportsInterface(interfaceId);
    }
}
