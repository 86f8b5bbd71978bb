// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";

/// @title PlainERC1155
/// @notice Gas baseline for bench/gas only: a bare OpenZeppelin ERC-1155 with an open mint. NOT for deployment.
contract PlainERC1155 is ERC1155 {
    constructor() ERC1155("") {}

    /// @notice Mints `amount` of `id` to `to` (anyone may call: benchmark only).
    /// @param to Receiver.
    /// @param id Token id.
    /// @param amount Amount.
    function mint(address to, uint256 id, uint256 amount) external {
        _mint(to, id, amount, "");
    }
}
