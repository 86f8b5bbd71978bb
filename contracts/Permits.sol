// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";

/// @title Permits
/// @notice Applies the caller's EIP-2612 permit inside the transaction of the action it pays for, so that the
/// approval and the action are one atomic step: if the action reverts, so does the permit (allowance and
/// permit nonce unchanged).
/// @dev Front-running: a permit is visible in the pending transaction, and anyone may submit it to the token
/// first. The nonce is then used and our `permit` call reverts, although the allowance is already exactly
/// what the owner signed. As OpenZeppelin advises (ERC20Permit, "security considerations"), the call is made
/// in a try/catch: when it fails and the allowance already equals the signed `value`, the action goes on
/// with it; otherwise the token's own error (`ERC2612InvalidSigner`, `ERC2612ExpiredSignature`, the token's
/// participant check) is re-thrown unchanged, so that callers see why the permit was refused. Only the owner
/// itself calls the actions that use this (it is `msg.sender`), so an allowance it set before by `approve`
/// and found here equal to `value` is its own consent too.
library Permits {
    /// @notice Sets `owner`'s allowance for `spender` to `value` with the owner's EIP-2612 signature.
    /// @param token The token (ERC-20 with ERC-2612 permit).
    /// @param owner The signer and owner of the tokens (the caller of the action).
    /// @param spender The contract that spends the allowance in the same transaction.
    /// @param value The allowance signed.
    /// @param deadline The permit's deadline.
    /// @param v Signature v.
    /// @param r Signature r.
    /// @param s Signature s.
    function permit(
        address token,
        address owner,
        address spender,
        uint256 value,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) internal {
        try IERC20Permit(token).permit(owner, spender, value, deadline, v, r, s) {
            return;
        } catch (bytes memory reason) {
            // the same permit, already submitted by someone else: the allowance is what the owner signed
            if (IERC20(token).allowance(owner, spender) == value) return;
            // re-throw the token's error unchanged
            // slither-disable-next-line assembly
            assembly ("memory-safe") {
                revert(add(reason, 0x20), mload(reason))
            }
        }
    }
}
