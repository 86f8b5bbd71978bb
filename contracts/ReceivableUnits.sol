// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC1155} from "@openzeppelin/contracts/token/ERC1155/IERC1155.sol";
import {IERC1155MetadataURI} from "@openzeppelin/contracts/token/ERC1155/extensions/IERC1155MetadataURI.sol";
import {ERC1155Utils} from "@openzeppelin/contracts/token/ERC1155/utils/ERC1155Utils.sol";
import {IERC1155Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {IERC165, ERC165} from "@openzeppelin/contracts/utils/introspection/ERC165.sol";
import {Arrays} from "@openzeppelin/contracts/utils/Arrays.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title ReceivableUnits
/// @notice The ERC-1155 bookkeeping of the ledger's receivable units: OpenZeppelin Contracts 5.7 `ERC1155`
/// (MIT; same functions, events, errors, approvals, acceptance checks and ERC-165 answers, empty URI) with one
/// change of storage: a holder's balance lives in its `HolderState` slot, beside the settlement state the ledger
/// keeps per (receivable, holder), instead of in a mapping of its own. A settlement and a balance change then
/// cost one storage write, and no storage is left unused.
/// @dev As in OpenZeppelin 5, `_update` is the single choke point: it is the only function that changes a
/// balance and the only one that emits `TransferSingle` / `TransferBatch`; `_mint`, `_burn` and the transfers
/// all reach it. A derived contract adds its rules by overriding `_update` and calling `super._update`.
/// Balances are 64 bits: a mint or a credit past 2^64 - 1 reverts (`SafeCastOverflowedUintDowncast`).
abstract contract ReceivableUnits is Context, ERC165, IERC1155, IERC1155MetadataURI, IERC1155Errors {
    using Arrays for uint256[];
    using Arrays for address[];

    /// @dev One slot per (receivable, holder). `balance` is the ERC-1155 balance and is written only by
    /// `_update`; the other three fields are the ledger's settlement state (see `ReceivableLedger`).
    struct HolderState {
        uint64 balance; // ERC-1155 balance (units; constant through repayments)
        uint64 mark; // `repaid` of the receivable when this holder was last settled
        uint64 owed; // settled, not yet redeemed cash
        uint64 rem; // fractional cash entitlement, in 1/face minor units (< face)
    }

    // Written through storage pointers (slither's uninitialized-state does not follow them).
    // slither-disable-next-line uninitialized-state
    mapping(uint256 id => mapping(address holder => HolderState)) internal _holders;

    mapping(address account => mapping(address operator => bool)) private _operatorApprovals;

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) public view virtual override(ERC165, IERC165) returns (bool) {
        return interfaceId == type(IERC1155).interfaceId || interfaceId == type(IERC1155MetadataURI).interfaceId
            || super.supportsInterface(interfaceId);
    }

    /// @notice The metadata URI of every id: empty (receivables carry no off-chain metadata URI).
    /// @return The empty string.
    function uri(uint256) public view virtual returns (string memory) {
        return "";
    }

    /// @notice The units `account` holds of receivable `id` (the stored balance).
    /// @param account The holder.
    /// @param id The receivable.
    /// @return The units.
    function balanceOf(address account, uint256 id) public view virtual returns (uint256) {
        return _holders[id][account].balance;
    }

    /// @notice Batched `balanceOf`.
    /// @param accounts The holders.
    /// @param ids The receivables (same length as `accounts`).
    /// @return The units of each (holder, receivable) pair.
    function balanceOfBatch(address[] memory accounts, uint256[] memory ids)
        public
        view
        virtual
        returns (uint256[] memory)
    {
        if (accounts.length != ids.length) revert ERC1155InvalidArrayLength(ids.length, accounts.length);
        uint256[] memory batchBalances = new uint256[](accounts.length);
        for (uint256 i = 0; i < accounts.length; ++i) {
            batchBalances[i] = balanceOf(accounts.unsafeMemoryAccess(i), ids.unsafeMemoryAccess(i));
        }
        return batchBalances;
    }

    /// @notice Grants or revokes `operator`'s permission to move all of the caller's units.
    /// @param operator The operator (not zero).
    /// @param approved Whether approved.
    function setApprovalForAll(address operator, bool approved) public virtual {
        _setApprovalForAll(_msgSender(), operator, approved);
    }

    /// @notice Whether `operator` may move all of `account`'s units.
    /// @param account The holder.
    /// @param operator The operator.
    /// @return True if approved.
    function isApprovedForAll(address account, address operator) public view virtual returns (bool) {
        return _operatorApprovals[account][operator];
    }

    /// @notice Moves `value` units of `id` from `from` to `to` (the holder or its approved operator).
    /// @param from Holder.
    /// @param to Receiver.
    /// @param id Receivable.
    /// @param value Units.
    /// @param data Passed to the receiver hook.
    function safeTransferFrom(address from, address to, uint256 id, uint256 value, bytes memory data)
        public
        virtual
    {
        _checkAuthorized(_msgSender(), from);
        _safeTransferFrom(from, to, id, value, data);
    }

    /// @notice Batched `safeTransferFrom`.
    /// @param from Holder.
    /// @param to Receiver.
    /// @param ids Receivables.
    /// @param values Units per receivable.
    /// @param data Passed to the receiver hook.
    function safeBatchTransferFrom(
        address from,
        address to,
        uint256[] memory ids,
        uint256[] memory values,
        bytes memory data
    ) public virtual {
        _checkAuthorized(_msgSender(), from);
        _safeBatchTransferFrom(from, to, ids, values, data);
    }

    /// @dev Reverts with `ERC1155MissingApprovalForAll` unless `operator` is `owner` or approved by it.
    function _checkAuthorized(address operator, address owner) internal view virtual {
        if (owner != operator && !isApprovedForAll(owner, operator)) {
            revert ERC1155MissingApprovalForAll(operator, owner);
        }
    }

    /// @dev Moves `values[i]` units of `ids[i]` from `from` to `to`; mints if `from` is zero, burns if `to` is.
    /// The one place where balances change and where `TransferSingle` (one element) or `TransferBatch` is
    /// emitted. No acceptance check here (see `_updateWithAcceptanceCheck`).
    function _update(address from, address to, uint256[] memory ids, uint256[] memory values) internal virtual {
        if (ids.length != values.length) revert ERC1155InvalidArrayLength(ids.length, values.length);
        address operator = _msgSender();
        for (uint256 i = 0; i < ids.length; ++i) {
            uint256 id = ids.unsafeMemoryAccess(i);
            uint256 value = values.unsafeMemoryAccess(i);
            if (from != address(0)) {
                HolderState storage f = _holders[id][from];
                uint256 fromBalance = f.balance;
                if (fromBalance < value) revert ERC1155InsufficientBalance(from, fromBalance, value, id);
                unchecked {
                    // cannot underflow: value <= fromBalance
                    f.balance = uint64(fromBalance - value);
                }
            }
            if (to != address(0)) {
                HolderState storage t = _holders[id][to];
                t.balance = SafeCast.toUint64(t.balance + value);
            }
        }
        if (ids.length == 1) {
            emit TransferSingle(operator, from, to, ids.unsafeMemoryAccess(0), values.unsafeMemoryAccess(0));
        } else {
            emit TransferBatch(operator, from, to, ids, values);
        }
    }

    /// @dev `_update`, then the ERC-1155 acceptance check on a receiver that has code (as OpenZeppelin's).
    function _updateWithAcceptanceCheck(
        address from,
        address to,
        uint256[] memory ids,
        uint256[] memory values,
        bytes memory data,
        bool batch
    ) internal virtual {
        _update(from, to, ids, values);
        if (to != address(0)) {
            address operator = _msgSender();
            if (batch) {
                ERC1155Utils.checkOnERC1155BatchReceived(operator, from, to, ids, values, data);
            } else {
                ERC1155Utils.checkOnERC1155Received(
                    operator, from, to, ids.unsafeMemoryAccess(0), values.unsafeMemoryAccess(0), data
                );
            }
        }
    }

    /// @dev Transfer of one id between two non-zero addresses (emits `TransferSingle`).
    function _safeTransferFrom(address from, address to, uint256 id, uint256 value, bytes memory data) internal {
        if (to == address(0)) revert ERC1155InvalidReceiver(address(0));
        if (from == address(0)) revert ERC1155InvalidSender(address(0));
        (uint256[] memory ids, uint256[] memory values) = _asSingletonArrays(id, value);
        _updateWithAcceptanceCheck(from, to, ids, values, data, false);
    }

    /// @dev Batched `_safeTransferFrom` (emits `TransferBatch`).
    function _safeBatchTransferFrom(
        address from,
        address to,
        uint256[] memory ids,
        uint256[] memory values,
        bytes memory data
    ) internal {
        if (to == address(0)) revert ERC1155InvalidReceiver(address(0));
        if (from == address(0)) revert ERC1155InvalidSender(address(0));
        _updateWithAcceptanceCheck(from, to, ids, values, data, true);
    }

    /// @dev Creates `value` units of `id` for `to` (emits `TransferSingle` from zero).
    function _mint(address to, uint256 id, uint256 value, bytes memory data) internal {
        if (to == address(0)) revert ERC1155InvalidReceiver(address(0));
        (uint256[] memory ids, uint256[] memory values) = _asSingletonArrays(id, value);
        _updateWithAcceptanceCheck(address(0), to, ids, values, data, false);
    }

    /// @dev Destroys `value` units of `id` held by `from` (emits `TransferSingle` to zero).
    function _burn(address from, uint256 id, uint256 value) internal {
        if (from == address(0)) revert ERC1155InvalidSender(address(0));
        (uint256[] memory ids, uint256[] memory values) = _asSingletonArrays(id, value);
        _updateWithAcceptanceCheck(from, address(0), ids, values, "", false);
    }

    /// @dev Approves or revokes `operator` for all of `owner`'s units (emits `ApprovalForAll`).
    function _setApprovalForAll(address owner, address operator, bool approved) internal virtual {
        if (owner == address(0)) revert ERC1155InvalidApprover(address(0));
        if (operator == address(0)) revert ERC1155InvalidOperator(address(0));
        _operatorApprovals[owner][operator] = approved;
        emit ApprovalForAll(owner, operator, approved);
    }

    // OpenZeppelin's memory-safe assembly, unchanged (cheaper than two `new uint256[](1)`).
    // slither-disable-start assembly
    /// @dev Two one-element memory arrays (as OpenZeppelin's).
    function _asSingletonArrays(uint256 element1, uint256 element2)
        private
        pure
        returns (uint256[] memory array1, uint256[] memory array2)
    {
        assembly ("memory-safe") {
            array1 := mload(0x40)
            mstore(array1, 1)
            mstore(add(array1, 0x20), element1)
            array2 := add(array1, 0x40)
            mstore(array2, 1)
            mstore(add(array2, 0x20), element2)
            mstore(0x40, add(array2, 0x40))
        }
    }
    // slither-disable-end assembly
}
