// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Base, TestBase} from "./utils/Base.sol";
import {ParticipantRegistry} from "../../contracts/ParticipantRegistry.sol";
import {SettlementToken} from "../../contracts/SettlementToken.sol";
import {ReceivableLedger} from "../../contracts/ReceivableLedger.sol";
import {DiscountMarket} from "../../contracts/DiscountMarket.sol";
import {IReceivableLedger} from "../../contracts/interfaces/IReceivableLedger.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";

/// @dev Bounded random actions over the whole platform with GHOST accounting: the handler keeps its own
/// record of every holder's units, its exact entitlement numerator E (sum over repayments of units held *
/// amount repaid; the exact share is E / face), the cash it redeemed, each receivable's repayments and
/// redemptions, and each debtor's reserved credit. It never reads an entitlement back from the ledger
/// (`owed` is only compared against the ghosts). The state is bounded (at most MAX_IDS receivables, a fixed
/// set of eight actors), so the invariants below loop over that fixed set only.
contract Handler is TestBase {
    ParticipantRegistry internal registry;
    SettlementToken internal token;
    ReceivableLedger internal ledger;
    DiscountMarket internal market;
    address internal admin;
    address internal verifier;
    address internal regulator;
    address[] internal actors; // 0-2 suppliers, 3-4 financiers, 5-6 debtors, 7 an outsider
    address[3] internal suspendable;

    uint256 internal constant MAX_IDS = 8;
    uint256[] public ids;
    uint256[] public offers;
    mapping(uint256 => bytes32) public fpOf;
    mapping(uint256 => bool) public rejected;
    mapping(uint256 => uint256) public ghostRepaid;
    mapping(uint256 => uint256) public ghostRedeemed;
    mapping(uint256 => bool) public allRedeemed; // settled and every holder has redeemed its last unit of cash
    mapping(uint256 => mapping(address => uint256)) public ghostUnits;
    mapping(uint256 => mapping(address => uint256)) public ghostExact; // E, in 1/face minor units
    mapping(uint256 => mapping(address => uint256)) public ghostPaid;
    mapping(uint256 => mapping(address => bool)) public finalized; // redeemed after settlement
    mapping(address => uint256) public ghostUsed; // reserved credit per debtor: pending + confirmed unpaid
    uint256 public ghostMinted;
    uint256 public ghostBurned;
    uint256 public ghostLedgerCash; // sum of repaid - sum of redeemed
    uint256 public fractionalSettlements; // fully redeemed receivables where some exact share was not whole
    bool public duplicateAccepted;
    bool public inactiveCredited;
    bool public bystanderMoved;
    bool public conservationBroken;
    bool public redeemStuck;
    bool public unitsDrift;
    bool public roundingBroken;
    bool public overLine;
    mapping(bytes32 => uint256) public calls;
    mapping(bytes32 => uint256) public successes;

    constructor(
        ParticipantRegistry registry_,
        SettlementToken token_,
        ReceivableLedger ledger_,
        DiscountMarket market_,
        address[] memory actors_,
        address[3] memory suspendable_,
        address admin_,
        address verifier_,
        address regulator_
    ) {
        (registry, token, ledger, market) = (registry_, token_, ledger_, market_);
        actors = actors_;
        suspendable = suspendable_;
        (admin, verifier, regulator) = (admin_, verifier_, regulator_);
    }

    function idCount() external view returns (uint256) {
        return ids.length;
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function actorAt(uint256 i) external view returns (address) {
        return actors[i];
    }

    // ------------------------------------------------------------------ helpers

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % actors.length];
    }

    function _id(uint256 seed) internal view returns (uint256) {
        return ids[seed % ids.length];
    }

    function _face(uint256 id) internal view returns (uint256) {
        return ledger.receivable(id).faceValue;
    }

    function _settled(uint256 id) internal view returns (bool) {
        return ledger.receivable(id).status == IReceivableLedger.Status.Settled;
    }

    function _funded(address who, uint256 amount) internal {
        uint256 have = token.balanceOf(who);
        if (have >= amount || !registry.isActive(who)) return;
        vm.prank(actors[3]); // an issuer mints for the test economy (counted as mint)
        try token.mint(who, amount - have) {
            ghostMinted += amount - have;
        } catch {}
    }

    /// @dev A receivable in `status` if one exists (at most MAX_IDS probes), otherwise any.
    function _pick(uint256 seed, IReceivableLedger.Status status) internal view returns (uint256 id) {
        id = _id(seed);
        for (uint256 k = 1; k < ids.length && ledger.receivable(id).status != status; ++k) {
            id = _id((seed % ids.length) + k);
        }
    }

    function _bystander(uint256 seed, address a, address b) internal view returns (address c) {
        for (uint256 k = 0; k < 3; ++k) {
            c = actors[(seed + k) % actors.length];
            if (c != a && c != b) return c;
        }
    }

    function _checkUnits(uint256 id, address a) internal {
        if (ledger.storedBalanceOf(a, id) != ghostUnits[id][a]) unitsDrift = true;
    }

    function _moved(uint256 id, address from, address to, uint256 amount) internal {
        ghostUnits[id][from] -= amount;
        ghostUnits[id][to] += amount;
        _checkUnits(id, from);
        _checkUnits(id, to);
    }

    /// @dev Before settlement a holder has been paid at most floor(E / face) and is owed exactly the rest;
    /// after its final settlement it has been paid floor(E / face) or that plus one (never a unit off).
    function _checkShare(uint256 id, address h, bool settled) internal {
        uint256 face = _face(id);
        uint256 e = ghostExact[id][h];
        uint256 p = ghostPaid[id][h];
        if (!settled) {
            if (p != e / face) roundingBroken = true;
        } else if (!(p * face < e + face && e < p * face + face)) {
            roundingBroken = true;
        }
    }

    function _checkAllRedeemed(uint256 id) internal {
        if (allRedeemed[id]) return;
        uint256 face = _face(id);
        bool fraction;
        for (uint256 i = 0; i < actors.length; ++i) {
            address a = actors[i];
            uint256 e = ghostExact[id][a];
            if (!finalized[id][a] && (ghostUnits[id][a] != 0 || e != ghostPaid[id][a] * face)) return;
            if (e % face != 0) fraction = true;
        }
        allRedeemed[id] = true;
        if (fraction) ++fractionalSettlements;
    }

    // ------------------------------------------------------------------ actions

    function register(uint256 seedC, uint256 seedD, uint256 face, uint256 dueDays) public {
        if (ids.length >= MAX_IDS) return;
        calls["register"]++;
        address creditor = actors[seedC % 3];
        address debtor = actors[5 + (seedD % 2)];
        face = bound(face, 1, 1e9);
        uint256 due = block.timestamp + bound(dueDays, 1, 365) * 1 days;
        bytes32 fp = keccak256(abi.encode(creditor, "INV", ids.length));
        (uint256 available, uint256 used) = ledger.creditLine(debtor, address(token));
        bool active = registry.isActive(creditor);
        IReceivableLedger.Invoice memory inv = IReceivableLedger.Invoice({
            creditor: creditor,
            debtor: debtor,
            faceValue: face,
            token: address(token),
            issueDate: block.timestamp - 1,
            dueDate: due,
            bundleHash: keccak256("bundle"),
            deliveryHash: keccak256("delivery"),
            fingerprint: fp
        });
        vm.prank(verifier);
        try ledger.registerInvoice(inv) returns (uint256 id) {
            ids.push(id);
            fpOf[id] = fp;
            ghostUnits[id][creditor] = face;
            ghostUsed[debtor] += face;
            if (used + face > available) overLine = true;
            if (!active) inactiveCredited = true;
            successes["register"]++;
        } catch {}
    }

    /// @dev Composite step so that depth 50 reaches multi-holder receivables: register, endorse, split.
    function originate(uint256 seedC, uint256 face, uint256 seedTo, uint256 part) external {
        if (ids.length >= MAX_IDS) return;
        calls["originate"]++;
        uint256 n = ids.length;
        register(seedC, seedC >> 8, face, seedC >> 16);
        if (ids.length == n) return;
        uint256 id = ids[n];
        _endorse(id, true);
        address creditor = ledger.receivable(id).creditor;
        uint256 bal = ledger.balanceOf(creditor, id);
        if (bal < 3) return;
        _transferUnits(id, creditor, _actor(seedTo), bound(part, 1, bal / 2));
        _transferUnits(id, creditor, _actor(seedTo >> 8), bound(part >> 64, 1, bal / 2));
    }

    /// @dev Composite step so that depth 50 reaches fully redeemed receivables with fractional shares:
    /// originate a split receivable, optionally a credit note, a partial repayment, a transfer between
    /// holders, the final repayment, then everybody redeems.
    function settleCycle(uint256 seed, uint256 face, uint256 part, uint256 amount) external {
        if (ids.length >= MAX_IDS) return;
        calls["settleCycle"]++;
        uint256 n = ids.length;
        this.originate(seed, face, seed >> 32, part);
        if (ids.length == n) return;
        uint256 id = ids[n];
        if (seed % 3 == 0) {
            vm.prank(regulator);
            try ledger.dispute(id, keccak256("cycle")) {
                _creditNote(id, amount >> 128);
            } catch {}
        }
        _repayId(id, amount, false);
        address from = _actor(seed >> 64);
        _transferUnits(id, from, _actor(seed >> 96), bound(part >> 32, 1, 1 + ledger.balanceOf(from, id) / 2));
        _repayId(id, 0, true);
        _redeemAll(id, seed >> 128);
        if (allRedeemed[id]) successes["settleCycle"]++;
    }

    function registerDuplicate(uint256 seed, uint256 seedC) external {
        if (ids.length == 0) return;
        calls["registerDuplicate"]++;
        IReceivableLedger.Invoice memory inv = IReceivableLedger.Invoice({
            creditor: actors[seedC % 3],
            debtor: actors[5],
            faceValue: 1,
            token: address(token),
            issueDate: 1,
            dueDate: 2,
            bundleHash: 0,
            deliveryHash: 0,
            fingerprint: fpOf[_id(seed)]
        });
        vm.prank(verifier);
        try ledger.registerInvoice(inv) {
            duplicateAccepted = true;
        } catch {}
    }

    function endorse(uint256 seed, uint256 acceptSeed) external {
        if (ids.length == 0) return;
        bool accept = acceptSeed % 3 != 0;
        calls[accept ? bytes32("endorse") : bytes32("reject")]++;
        _endorse(seed % 4 == 0 ? _id(seed) : _pick(seed, IReceivableLedger.Status.Pending), accept);
    }

    function _endorse(uint256 id, bool accept) internal {
        IReceivableLedger.Receivable memory r = ledger.receivable(id);
        vm.prank(r.debtor);
        if (accept) {
            try ledger.endorse(id) {
                successes["endorse"]++;
            } catch {}
        } else {
            try ledger.reject(id) {
                rejected[id] = true;
                ghostUnits[id][r.creditor] = 0;
                ghostUsed[r.debtor] -= r.faceValue;
                _checkUnits(id, r.creditor);
                successes["reject"]++;
            } catch {}
        }
    }

    function transfer(uint256 seed, uint256 seedFrom, uint256 seedTo, uint256 amount) external {
        if (ids.length == 0) return;
        calls["transfer"]++;
        uint256 id = seed % 4 == 0 ? _id(seed) : _pick(seed, IReceivableLedger.Status.Confirmed);
        address from = seedFrom % 3 == 0 ? ledger.receivable(id).creditor : _actor(seedFrom >> 2);
        address to = _actor(seedTo);
        amount = bound(amount, 0, ledger.balanceOf(from, id) + 1);
        _transferUnits(id, from, to, amount);
    }

    function _transferUnits(uint256 id, address from, address to, uint256 amount) internal {
        if (from == to) return;
        address by = _bystander(uint256(uint160(from)) + id, from, to);
        uint256 byBefore = ledger.storedBalanceOf(by, id);
        bool toActive = registry.isActive(to);
        vm.prank(from);
        try ledger.safeTransferFrom(from, to, id, amount, "") {
            _moved(id, from, to, amount);
            if (!toActive) inactiveCredited = true;
            successes["transfer"]++;
        } catch {}
        if (ledger.storedBalanceOf(by, id) != byBefore) bystanderMoved = true;
    }

    function repay(uint256 seed, uint256 amount, uint256 fullSeed) external {
        if (ids.length == 0) return;
        calls["repay"]++;
        _repayId(seed % 4 == 0 ? _id(seed) : _pick(seed, IReceivableLedger.Status.Confirmed), amount, fullSeed % 3 == 0);
    }

    function _repayId(uint256 id, uint256 amount, bool full) internal {
        address debtor = ledger.receivable(id).debtor;
        uint256 open = ledger.outstanding(id);
        if (open == 0) return;
        amount = full ? open : bound(amount, 1, open);
        _funded(debtor, amount);
        vm.prank(debtor);
        try token.approve(address(ledger), amount) {} catch {}
        vm.prank(debtor);
        try ledger.repay(id, amount) {
            for (uint256 i = 0; i < actors.length; ++i) {
                address a = actors[i];
                ghostExact[id][a] += ghostUnits[id][a] * amount;
            }
            ghostRepaid[id] += amount;
            ghostUsed[debtor] -= amount;
            ghostLedgerCash += amount;
            successes["repay"]++;
        } catch {}
    }

    function redeem(uint256 seed, uint256 seedHolder) external {
        if (ids.length == 0) return;
        calls["redeem"]++;
        uint256 id = _id(seed);
        for (uint256 k = 1; k < ids.length && ledger.receivable(id).repaid == 0; ++k) {
            id = _id((seed % ids.length) + k); // prefer a receivable with repayments
        }
        _redeem(id, ledger.receivable(id).creditor, seed);
        _redeem(id, _actor(seedHolder), seed >> 16);
    }

    /// @dev Every actor redeems a settled receivable (if there is one), in an order drawn from `seed`.
    function redeemAll(uint256 seed) external {
        if (ids.length == 0) return;
        calls["redeemAll"]++;
        uint256 id = _pick(seed, IReceivableLedger.Status.Settled);
        _redeemAll(id, seed >> 8);
        if (allRedeemed[id]) successes["redeemAll"]++;
    }

    function _redeemAll(uint256 id, uint256 start) internal {
        for (uint256 i = 0; i < actors.length; ++i) {
            _redeem(id, actors[(start + i) % actors.length], start >> 16);
        }
    }

    function _redeem(uint256 id, address holder, uint256 seed) internal {
        address by = _bystander(seed >> 8, holder, holder);
        uint256 byBefore = ledger.storedBalanceOf(by, id);
        uint256 cashBefore = token.balanceOf(holder);
        uint256 owedBefore = ledger.owed(id, holder);
        bool settled = _settled(id);
        (, IParticipantRegistry.Status pStatus,) = registry.participant(holder);
        bool claim = ghostUnits[id][holder] != 0 || ghostExact[id][holder] > ghostPaid[id][holder] * _face(id);
        vm.prank(holder);
        try ledger.redeem(id) returns (uint256 paid) {
            if (paid != owedBefore || token.balanceOf(holder) != cashBefore + paid) conservationBroken = true;
            ghostPaid[id][holder] += paid;
            ghostRedeemed[id] += paid;
            ghostLedgerCash -= paid;
            if (settled) {
                ghostUnits[id][holder] = 0; // the final settlement burns the units
                finalized[id][holder] = true;
            }
            _checkUnits(id, holder);
            _checkShare(id, holder, settled);
            if (settled) _checkAllRedeemed(id);
            successes["redeem"]++;
        } catch {
            // any onboarded holder (suspended too) with a claim is always paid, and its final settlement
            // never reverts: the ledger never owes more than it holds
            bool owesFinal = settled && !finalized[id][holder] && claim;
            if (pStatus != IParticipantRegistry.Status.None && (owedBefore > 0 || owesFinal)) redeemStuck = true;
        }
        if (ledger.storedBalanceOf(by, id) != byBefore) bystanderMoved = true;
    }

    function dispute(uint256 seed, uint256 byRegulator) external {
        if (ids.length == 0) return;
        calls["dispute"]++;
        uint256 id = _id(seed);
        address by = byRegulator % 2 == 0 ? regulator : ledger.receivable(id).debtor;
        vm.prank(by);
        try ledger.dispute(id, keccak256("d")) {
            successes["dispute"]++;
        } catch {}
    }

    function resolve(uint256 seed, uint256 note, uint256 withNote) external {
        if (ids.length == 0) return;
        calls["resolve"]++;
        uint256 id = _id(seed);
        for (uint256 k = 0; k < ids.length && !ledger.receivable(id).disputed; ++k) {
            id = _id((seed % ids.length) + k); // prefer a disputed receivable (at most MAX_IDS probes)
        }
        if (withNote % 2 == 0) {
            vm.prank(admin);
            try ledger.resolveDispute(id) {} catch {}
            return;
        }
        _creditNote(id, note);
    }

    function _creditNote(uint256 id, uint256 note) internal {
        uint256 open = ledger.outstanding(id);
        if (open == 0) return;
        note = bound(note, 1, open);
        address debtor = ledger.receivable(id).debtor;
        vm.prank(admin);
        try ledger.resolveWithCreditNote(id, note) {
            ghostUsed[debtor] -= note;
            successes["creditNote"]++;
        } catch {}
    }

    function makeOffer(uint256 seed, uint256 seedF, uint256 amount, uint256 rate) external {
        if (ids.length == 0 || offers.length >= 16) return;
        calls["makeOffer"]++;
        uint256 id = seed % 4 == 0 ? _id(seed) : _pick(seed, IReceivableLedger.Status.Confirmed);
        address f = actors[3 + (seedF % 2)];
        amount = bound(amount, 1, 1e12);
        rate = bound(rate, 0, 2_000);
        _funded(f, 2e12);
        vm.prank(f);
        try token.approve(address(market), type(uint256).max) {} catch {}
        vm.prank(f);
        try market.makeOffer(id, amount, rate, block.timestamp + 30 days) returns (uint256 oid) {
            offers.push(oid);
            successes["makeOffer"]++;
        } catch {}
    }

    function cancelOffer(uint256 seed) external {
        if (offers.length == 0) return;
        calls["cancelOffer"]++;
        uint256 oid = offers[seed % offers.length];
        address maker = market.offer(oid).maker;
        vm.prank(maker);
        try market.cancelOffer(oid) {} catch {}
    }

    function acceptOffer(uint256 seed, uint256 seedHolder, uint256 amount) external {
        if (offers.length == 0) return;
        calls["acceptOffer"]++;
        uint256 oid = offers[seed % offers.length];
        address maker = market.offer(oid).maker;
        uint256 id = market.offer(oid).receivableId;
        address holder = seedHolder % 2 == 0 ? ledger.receivable(id).creditor : _actor(seedHolder >> 1);
        if (holder == maker) return;
        amount = bound(amount, 1, ledger.balanceOf(holder, id) + 1);
        uint256 cashSum = token.balanceOf(holder) + token.balanceOf(maker);
        bool makerActive = registry.isActive(maker);
        bool holderActive = registry.isActive(holder);
        vm.prank(holder);
        try market.acceptOffer(oid, amount) returns (uint256 price) {
            _moved(id, holder, maker, amount);
            if (token.balanceOf(holder) + token.balanceOf(maker) != cashSum) conservationBroken = true;
            if (!makerActive || (!holderActive && price > 0)) inactiveCredited = true;
            successes["acceptOffer"]++;
        } catch {}
    }

    function tokenTransfer(uint256 seedFrom, uint256 seedTo, uint256 amount) external {
        calls["tokenTransfer"]++;
        address from = _actor(seedFrom);
        address to = _actor(seedTo);
        if (from == to) return;
        amount = bound(amount, 0, token.balanceOf(from));
        uint256 sum = token.balanceOf(from) + token.balanceOf(to);
        bool active = registry.isActive(to);
        vm.prank(from);
        try token.transfer(to, amount) {
            if (token.balanceOf(from) + token.balanceOf(to) != sum) conservationBroken = true;
            if (!active && amount > 0) inactiveCredited = true;
        } catch {}
    }

    function mintBurn(uint256 seedTo, uint256 amount, uint256 burn) external {
        calls["mintBurn"]++;
        address f = actors[3 + (seedTo % 2)];
        if (burn % 2 == 1) {
            amount = bound(amount, 0, token.balanceOf(f));
            vm.prank(f);
            try token.burn(amount) {
                ghostBurned += amount;
            } catch {}
            return;
        }
        address to = _actor(seedTo >> 1);
        amount = bound(amount, 0, 1e12);
        bool active = registry.isActive(to);
        vm.prank(f);
        try token.mint(to, amount) {
            ghostMinted += amount;
            if (!active && amount > 0) inactiveCredited = true;
        } catch {}
    }

    function toggleSuspension(uint256 seed) external {
        calls["toggleSuspension"]++;
        address who = suspendable[seed % 3];
        bool active = registry.isActive(who);
        vm.prank(admin);
        if (active) registry.suspend(who);
        else registry.reinstate(who);
    }

    /// @dev A financier sets its own line (possibly below the debtor's usage).
    function setCreditLine(uint256 seedD, uint256 seedF, uint256 limit) external {
        calls["setCreditLine"]++;
        address debtor = actors[5 + (seedD % 2)];
        address f = actors[3 + (seedF % 2)];
        limit = bound(limit, 0, 1e13);
        vm.prank(f);
        try ledger.setCreditLine(debtor, address(token), limit) {} catch {}
    }

    function setPlatformLimit(uint256 seedD, uint256 cap, uint256 capped) external {
        calls["setPlatformLimit"]++;
        address debtor = actors[5 + (seedD % 2)];
        cap = bound(cap, 0, 1e13);
        vm.prank(admin);
        ledger.setPlatformLimit(debtor, address(token), capped % 4 != 0, cap);
    }

    function warp(uint256 secs) external {
        calls["warp"]++;
        vm.warp(block.timestamp + bound(secs, 1, 5 days));
    }
}

contract InvariantTest is Base {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    Handler internal handler;

    function setUp() public override {
        super.setUp();
        address[] memory actors = new address[](8);
        (actors[0], actors[1], actors[2], actors[3]) = (supplier, supplier2, supplier3, financier);
        (actors[4], actors[5], actors[6], actors[7]) = (financier2, debtor, debtor2, outsider);
        handler = new Handler(
            registry, token, ledger, market, actors, [supplier2, financier2, debtor2], admin, verifier, regulator
        );
        vm.prank(financier);
        ledger.setCreditLine(debtor, address(token), 5e12);
    }

    function targetContracts() public view returns (address[] memory t) {
        t = new address[](1);
        t[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory s) {
        bytes4[] memory sel = new bytes4[](20);
        sel[0] = Handler.register.selector;
        sel[1] = Handler.registerDuplicate.selector;
        sel[2] = Handler.endorse.selector;
        sel[3] = Handler.transfer.selector;
        sel[4] = Handler.repay.selector;
        sel[5] = Handler.redeem.selector;
        sel[6] = Handler.dispute.selector;
        sel[7] = Handler.resolve.selector;
        sel[8] = Handler.makeOffer.selector;
        sel[9] = Handler.cancelOffer.selector;
        sel[10] = Handler.acceptOffer.selector;
        sel[11] = Handler.tokenTransfer.selector;
        sel[12] = Handler.mintBurn.selector;
        sel[13] = Handler.toggleSuspension.selector;
        sel[14] = Handler.setCreditLine.selector;
        sel[15] = Handler.warp.selector;
        sel[16] = Handler.originate.selector;
        sel[17] = Handler.redeemAll.selector;
        sel[18] = Handler.setPlatformLimit.selector;
        sel[19] = Handler.settleCycle.selector;
        s = new FuzzSelector[](1);
        s[0] = FuzzSelector(address(handler), sel);
    }

    /// (a) Exact settlement, against the handler's own ghosts (loops over at most 8 receivables x 8 actors):
    /// for every holder, cash redeemed + `owed` is exactly floor(E / face) while the receivable is not
    /// settled, and floor or ceil of E / face after it; once every holder of a settled receivable has
    /// redeemed, redeemed == repaid exactly and no unit is left; while not settled the units sum to face.
    function invariant_a_exactSettlement() public view {
        uint256 n = handler.idCount();
        uint256 m = handler.actorCount();
        for (uint256 i = 0; i < n; ++i) {
            uint256 id = handler.ids(i);
            IReceivableLedger.Receivable memory r = ledger.receivable(id);
            uint256 face = r.faceValue;
            vm.assertEq(r.repaid, handler.ghostRepaid(id), "repaid");
            vm.assertEq(r.redeemed, handler.ghostRedeemed(id), "redeemed");
            bool settled = r.status == IReceivableLedger.Status.Settled;
            uint256 units;
            uint256 ghostUnits;
            for (uint256 j = 0; j < m; ++j) {
                address a = handler.actorAt(j);
                units += ledger.storedBalanceOf(a, id);
                ghostUnits += handler.ghostUnits(id, a);
                uint256 e = handler.ghostExact(id, a);
                uint256 cash = handler.ghostPaid(id, a) + ledger.owed(id, a);
                if (!settled) {
                    vm.assertEq(cash, e / face, "cash + owed != floor(E / face)");
                } else {
                    vm.assertLt(cash * face, e + face, "a holder gets a unit or more above its exact share");
                    vm.assertLt(e, cash * face + face, "a holder gets a unit or more below its exact share");
                }
            }
            vm.assertEq(units, ghostUnits, "units drift from the ghost");
            if (handler.rejected(id)) {
                vm.assertEq(units, 0, "rejected receivable kept units");
            } else if (!settled) {
                vm.assertEq(units, face, "units != face while not settled");
            }
            if (handler.allRedeemed(id)) {
                vm.assertEq(r.redeemed, r.repaid, "all redeemed: sum of cash != repaid");
                vm.assertEq(units, 0, "all redeemed: units left");
            }
            vm.assertLe(r.redeemed, r.repaid, "redeemed more than repaid");
        }
        vm.assertFalse(handler.roundingBroken(), "a redemption broke the floor/ceil rule");
        vm.assertFalse(handler.unitsDrift(), "a holder's units moved other than by its own transfers");
        vm.assertFalse(handler.bystanderMoved(), "an uninvolved holder's balance moved");
        vm.assertFalse(handler.redeemStuck(), "a holder's claim or final settlement could not be redeemed");
    }

    /// (b) a debtor's reserved credit equals the ghost (pending + confirmed, unpaid, undiluted), and no
    /// registration ever took it past the available limit.
    function invariant_b_creditLine() public view {
        address[2] memory ds = [debtor, debtor2];
        for (uint256 i = 0; i < 2; ++i) {
            (, uint256 used) = ledger.creditLine(ds[i], address(token));
            vm.assertEq(used, handler.ghostUsed(ds[i]), "credit usage drifted");
        }
        vm.assertFalse(handler.overLine(), "a registration exceeded the available credit");
    }

    /// (c) a fingerprint maps to at most one receivable.
    function invariant_c_fingerprintUnique() public view {
        vm.assertFalse(handler.duplicateAccepted(), "duplicate fingerprint accepted");
        uint256 n = handler.idCount();
        for (uint256 i = 0; i < n; ++i) {
            uint256 id = handler.ids(i);
            vm.assertEq(ledger.receivableIdByFingerprint(handler.fpOf(id)), id, "fingerprint remapped");
        }
    }

    /// (d) settlement tokens are conserved outside mint and burn; the ledger holds exactly
    /// sum(repaid) - sum(redeemed) (ghost totals).
    function invariant_d_tokenConservation() public view {
        vm.assertEq(token.totalSupply(), handler.ghostMinted() - handler.ghostBurned(), "supply drift");
        vm.assertEq(token.balanceOf(address(ledger)), handler.ghostLedgerCash(), "ledger cash != repaid - redeemed");
        vm.assertFalse(handler.conservationBroken(), "a transfer created or destroyed tokens");
    }

    /// (e) nothing is ever credited to an unregistered or suspended address (a suspended holder's own
    /// redemption, paid by the ledger, is the one allowed case).
    function invariant_e_noValueToInactive() public view {
        vm.assertFalse(handler.inactiveCredited(), "value credited to an inactive address");
    }

    /// @dev The handler is not vacuous: fixed pseudo-random walks (four of 250 steps, each from the initial
    /// state) make every kind of action succeed, including full redemption of settled receivables with
    /// fractional shares, and the invariants hold at the end of each.
    function test_handlerReachesEveryAction() public {
        bytes4[] memory sel = targetSelectors()[0].selectors;
        string[12] memory names = [
            "register",
            "endorse",
            "transfer",
            "repay",
            "redeem",
            "dispute",
            "creditNote",
            "makeOffer",
            "acceptOffer",
            "reject",
            "redeemAll",
            "settleCycle"
        ];
        uint256[12] memory total;
        uint256 fractional;
        uint256 snap = vm.snapshotState();
        for (uint256 w = 0; w < 4; ++w) {
            vm.revertToState(snap);
            uint256 x = w;
            for (uint256 i = 0; i < 250; ++i) {
                x = uint256(keccak256(abi.encode(x)));
                (bool ok,) = address(handler)
                    .call(abi.encodeWithSelector(sel[x % sel.length], x >> 8, x >> 40, x >> 80, x >> 120, x >> 160));
                ok;
            }
            invariant_a_exactSettlement();
            invariant_b_creditLine();
            invariant_c_fingerprintUnique();
            invariant_d_tokenConservation();
            invariant_e_noValueToInactive();
            for (uint256 k = 0; k < names.length; ++k) {
                total[k] += handler.successes(bytes32(bytes(names[k])));
            }
            fractional += handler.fractionalSettlements();
        }
        for (uint256 k = 0; k < names.length; ++k) {
            vm.assertGt(total[k], 0, names[k]);
        }
        vm.assertGt(fractional, 0, "no settlement with fractional shares was reached");
    }
}
