// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Base} from "./utils/Base.sol";
import {IReceivableLedger} from "../../contracts/interfaces/IReceivableLedger.sol";

/// @dev Issue 8, "every cent exact": the reproductions from the issue and a fuzz campaign that tracks each
/// holder's exact entitlement itself (never reading it back from the ledger).
///
/// A holder's exact entitlement is E / face, with E = sum over repayments of (units held) * (amount repaid).
/// Before the receivable is settled a holder has been credited exactly floor(E / face); after it, each
/// holder's cash is floor(E / face) or that plus one (only when E / face is not whole), and all cash
/// together is exactly what the debtor repaid.
contract SettlementTest is Base {
    // ------------------------------------------------------------------ the issue's reproductions

    /// Face 3 split 1/1/1, credit note 1, repay 2: each holder is owed exactly 2/3. In every redemption
    /// order the three payments are 0, 1, 1 (sum 2), nobody's redemption reverts and no unit is left.
    function test_issue_threeThirds_everyOrder() public {
        uint256 id = _confirmed(3);
        _move(supplier, supplier2, id, 1);
        _move(supplier, supplier3, id, 1);
        _creditNote(id, 1);
        _repay(id, 2);
        vm.assertEq(uint256(_status(id)), uint256(IReceivableLedger.Status.Settled));
        address[3] memory holders = [supplier, supplier2, supplier3];
        uint8[3][6] memory orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
        uint256 snap = vm.snapshotState();
        for (uint256 o = 0; o < orders.length; ++o) {
            vm.revertToState(snap);
            uint256 sum;
            for (uint256 k = 0; k < 3; ++k) {
                address h = holders[orders[o][k]];
                vm.assertEq(ledger.balanceOf(h, id), 0);
                vm.assertEq(ledger.storedBalanceOf(h, id), 1);
                uint256 cash = _redeem(h, id); // never reverts, even when the cash is 0
                vm.assertEq(cash, k == 0 ? 0 : 1, "cumulative rounding: 0, then 1, then 1");
                // within one minor unit of the exact share 2/3: |3 * cash - 2| < 3
                _assertWithinOne(cash, 2, 3);
                vm.assertEq(ledger.balanceOf(h, id), 0);
                vm.assertEq(ledger.storedBalanceOf(h, id), 0, "units burned");
                vm.assertEq(ledger.remainderOf(id, h), 0);
                vm.assertEq(ledger.owed(id, h), 0);
                vm.assertEq(token.balanceOf(h), cash);
                sum += cash;
            }
            vm.assertEq(sum, 2, "cash sums to the repayment");
            vm.assertEq(token.balanceOf(address(ledger)), 0);
            IReceivableLedger.Receivable memory r = ledger.receivable(id);
            vm.assertEq(uint256(r.redeemed), 2);
            vm.assertEq(uint256(r.settledRepaid), 2);
            vm.assertEq(uint256(r.remainderPool), 6);
        }
    }

    /// Face 1,000,000 held 1 / 999,999, credit note 500,000, repayment 500,000: exact shares 0.5 and
    /// 499,999.5. Whichever order they redeem in, the cash is 500,000 in total and each is within half a
    /// unit of its share; the later one gets the pooled unit.
    function test_issue_oneUnitHolder_bothOrders() public {
        uint256 face = 1_000_000;
        uint256 id = _confirmed(face);
        _move(supplier, supplier2, id, 1); // supplier2 holds 1 unit, supplier 999,999
        _creditNote(id, 500_000);
        _repay(id, 500_000);
        uint256 snap = vm.snapshotState();
        for (uint256 order = 0; order < 2; ++order) {
            vm.revertToState(snap);
            uint256 small;
            uint256 big;
            if (order == 0) {
                small = _redeem(supplier2, id);
                big = _redeem(supplier, id);
                vm.assertEq(small, 0);
                vm.assertEq(big, 500_000);
            } else {
                big = _redeem(supplier, id);
                small = _redeem(supplier2, id);
                vm.assertEq(big, 499_999);
                vm.assertEq(small, 1);
            }
            vm.assertEq(small + big, 500_000, "cash sums to the repayment");
            // |cash * face - E| < face, E = units * repaid
            _assertWithinOne(small, 1 * 500_000, face);
            _assertWithinOne(big, 999_999 * 500_000, face);
            vm.assertEq(ledger.storedBalanceOf(supplier, id), 0);
            vm.assertEq(ledger.storedBalanceOf(supplier2, id), 0);
            vm.assertEq(token.balanceOf(address(ledger)), 0);
            vm.assertEq(uint256(ledger.receivable(id).redeemed), 500_000);
        }
    }

    function _assertWithinOne(uint256 cash, uint256 exact, uint256 face) internal pure {
        vm.assertLt(cash * face, exact + face, "paid a unit or more above the exact share");
        vm.assertLt(exact, cash * face + face, "paid a unit or more below the exact share");
    }

    // ------------------------------------------------------------------ fuzz with its own exact accounting

    address[4] internal hs;
    uint256[4] internal units; // the test's own record of each holder's units
    uint256[4] internal ex; // the test's own exact numerator E per holder
    uint256[4] internal paid; // cash each holder redeemed
    uint256 internal fuzzFace;
    uint256 internal repaidTotal;
    uint256 internal rid;
    uint256 internal n;

    function _rand(uint256 seed, uint256 k) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, k)));
    }

    /// Random face, 3-4 holders with random splits, an optional credit note, then up to ten steps of
    /// partial repayments, transfers and (partial) redemptions in random order, then the rest is repaid
    /// and everybody redeems in a random order.
    function testFuzz_cumulativeRounding(uint256 seed) public {
        n = 3 + (seed & 1);
        fuzzFace = bound(_rand(seed, 0), 5, LIMIT);
        if (fuzzFace % n == 0) fuzzFace += 1; // shares that do not divide evenly
        hs = [supplier, supplier2, supplier3, financier];
        rid = _confirmed(fuzzFace);
        units[0] = fuzzFace;
        for (uint256 i = 1; i < n; ++i) {
            uint256 amt = bound(_rand(seed, i), 1, units[0] - (n - i));
            _move(supplier, hs[i], rid, amt);
            units[0] -= amt;
            units[i] = amt;
        }
        uint256 r0 = _rand(seed, 10);
        if (r0 % 3 == 0) {
            _creditNote(rid, bound(r0 >> 8, 1, fuzzFace - 1));
        } else if (r0 % 29 == 1) {
            _creditNote(rid, fuzzFace); // fully diluted: nothing is ever repaid
        }
        for (uint256 k = 0; k < 10 && ledger.outstanding(rid) != 0; ++k) {
            uint256 r = _rand(seed, 100 + k);
            uint256 action = r % 3;
            if (action == 0) {
                uint256 open = ledger.outstanding(rid);
                _repayTracked(bound(r >> 8, 1, open > 3 ? open / 2 : open));
            } else if (action == 1) {
                uint256 from = (r >> 8) % n;
                uint256 to = (r >> 16) % n;
                if (from == to || units[from] == 0) continue;
                uint256 amt = bound(r >> 24, 1, units[from]);
                _move(hs[from], hs[to], rid, amt);
                units[from] -= amt;
                units[to] += amt;
            } else {
                _redeemMidway((r >> 8) % n);
            }
            _checkMidway();
        }
        uint256 rest = ledger.outstanding(rid);
        if (rest != 0) _repayTracked(rest);
        vm.assertEq(uint256(_status(rid)), uint256(IReceivableLedger.Status.Settled));

        // everybody redeems, in a random order
        uint256 total;
        uint256 start = _rand(seed, 999) % n;
        bool reverse = (seed >> 1) & 1 == 1;
        for (uint256 j = 0; j < n; ++j) {
            uint256 h = reverse ? (start + n - j) % n : (start + j) % n;
            _redeemFinal(h);
        }
        for (uint256 i = 0; i < n; ++i) {
            total += paid[i];
            _assertWithinOne(paid[i], ex[i], fuzzFace);
            if (ex[i] % fuzzFace == 0) vm.assertEq(paid[i] * fuzzFace, ex[i], "a whole share is paid exactly");
            vm.assertEq(ledger.storedBalanceOf(hs[i], rid), 0, "a unit was left");
            vm.assertEq(ledger.balanceOf(hs[i], rid), 0);
            vm.assertEq(ledger.owed(rid, hs[i]), 0);
            vm.assertEq(ledger.remainderOf(rid, hs[i]), 0);
        }
        IReceivableLedger.Receivable memory rec = ledger.receivable(rid);
        vm.assertEq(total, repaidTotal, "sum of cash == amount repaid");
        vm.assertEq(uint256(rec.repaid), repaidTotal);
        vm.assertEq(uint256(rec.redeemed), repaidTotal);
        vm.assertEq(uint256(rec.settledRepaid), repaidTotal);
        vm.assertEq(token.balanceOf(address(ledger)), 0, "cash left in the ledger");
    }

    function _repayTracked(uint256 amount) internal {
        for (uint256 i = 0; i < n; ++i) {
            ex[i] += units[i] * amount;
        }
        repaidTotal += amount;
        _repay(rid, amount);
    }

    /// @dev Before settlement a holder's credited cash is exactly floor(E / fuzzFace).
    function _redeemMidway(uint256 h) internal {
        uint256 due = ex[h] / fuzzFace - paid[h];
        vm.assertEq(ledger.owed(rid, hs[h]), due);
        if (due == 0) {
            vm.prank(hs[h]);
            vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.NothingToRedeem.selector, rid, hs[h]));
            ledger.redeem(rid);
            return;
        }
        vm.assertEq(_redeem(hs[h], rid), due);
        paid[h] += due;
        vm.assertEq(paid[h], ex[h] / fuzzFace);
        vm.assertEq(ledger.remainderOf(rid, hs[h]), ex[h] % fuzzFace);
    }

    function _checkMidway() internal view {
        if (_status(rid) == IReceivableLedger.Status.Settled) return;
        uint256 sum;
        for (uint256 i = 0; i < n; ++i) {
            vm.assertEq(ledger.balanceOf(hs[i], rid), units[i], "units moved other than by transfers");
            vm.assertEq(ledger.owed(rid, hs[i]) + paid[i], ex[i] / fuzzFace, "credited cash != floor(E / fuzzFace)");
            sum += units[i];
        }
        vm.assertEq(sum, fuzzFace);
    }

    function _redeemFinal(uint256 h) internal {
        address holder = hs[h];
        bool nothing = units[h] == 0 && ex[h] % fuzzFace == 0 && ex[h] / fuzzFace == paid[h];
        if (nothing) {
            vm.prank(holder);
            vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.NothingToRedeem.selector, rid, holder));
            ledger.redeem(rid);
            return;
        }
        uint256 quoted = ledger.owed(rid, holder);
        uint256 cash = _redeem(holder, rid);
        vm.assertEq(cash, quoted, "owed() quoted what redeem paid");
        paid[h] += cash;
        units[h] = 0;
    }
}
