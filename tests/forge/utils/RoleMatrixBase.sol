// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Base} from "./Base.sol";

/// @dev What every role x function matrix shares: a named set of actors, and `_check`, which calls a
/// function as each of them and requires success exactly for the allowed ones, and again for each allowed
/// one once suspended only where the contract keeps the right (see `RoleMatrixTest`).
abstract contract RoleMatrixBase is Base {
    address[] internal actors;
    mapping(address => string) internal names;

    function _actor(address a, string memory name) internal {
        actors.push(a);
        names[a] = name;
    }

    function _check(address target, bytes memory data, address[] memory allowed, string memory fn) internal {
        _check(target, data, allowed, new address[](0), fn);
    }

    /// @param stillWhenSuspended The allowed actors that keep the right while suspended.
    function _check(
        address target,
        bytes memory data,
        address[] memory allowed,
        address[] memory stillWhenSuspended,
        string memory fn
    ) internal {
        for (uint256 i = 0; i < actors.length; ++i) {
            address a = actors[i];
            bool expected;
            for (uint256 j = 0; j < allowed.length; ++j) {
                if (allowed[j] == a) expected = true;
            }
            uint256 snap = vm.snapshotState();
            vm.prank(a);
            (bool ok,) = target.call(data);
            vm.revertToState(snap);
            vm.assertEq(ok, expected, string.concat(fn, " called by ", names[a]));
            if (expected && registry.isActive(a)) {
                snap = vm.snapshotState();
                vm.prank(admin);
                registry.suspend(a);
                vm.prank(a);
                (ok,) = target.call(data);
                vm.revertToState(snap);
                bool still;
                for (uint256 j = 0; j < stillWhenSuspended.length; ++j) {
                    if (stillWhenSuspended[j] == a) still = true;
                }
                vm.assertEq(ok, still, string.concat(fn, " called by suspended ", names[a]));
            }
        }
    }

    function _none() internal pure returns (address[] memory r) {
        r = new address[](0);
    }

    function _only(address a) internal pure returns (address[] memory r) {
        r = new address[](1);
        r[0] = a;
    }

    function _two(address a, address b) internal pure returns (address[] memory r) {
        r = new address[](2);
        (r[0], r[1]) = (a, b);
    }

    function _except(address[] memory all, address a) internal pure returns (address[] memory r) {
        uint256 n;
        for (uint256 i = 0; i < all.length; ++i) {
            if (all[i] != a) ++n;
        }
        r = new address[](n);
        n = 0;
        for (uint256 i = 0; i < all.length; ++i) {
            if (all[i] != a) r[n++] = all[i];
        }
    }

    function _participants() internal view returns (address[] memory r) {
        uint256 n;
        for (uint256 i = 0; i < actors.length; ++i) {
            if (registry.isActive(actors[i])) ++n;
        }
        r = new address[](n);
        n = 0;
        for (uint256 i = 0; i < actors.length; ++i) {
            if (registry.isActive(actors[i])) r[n++] = actors[i];
        }
    }
}
