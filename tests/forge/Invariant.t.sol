// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Base, TestBase} from "./utils/Base.sol";
import {ParticipantRegistry} from "../../contracts/ParticipantRegistry.sol";
import {SettlementToken} from "../../contracts/SettlementToken.sol";
import {ReceivableLedger} from "../../contracts/ReceivableLedger.sol";
import {DiscountMarket} from "../../contracts/DiscountMarket.sol";
import {IReceivableLedger} from "../../contracts/interfaces/IReceivableLedger.sol";

/// @dev Bounded random actions over the whole platform with ghost totals. No invariant loops over holders:
/// unit totals per receivable are ghosts updated from the balances of the parties each action touches,
/// and every action also checks that an uninvolved bystander's balances did not move.
contract Handler is TestBase {
    ParticipantRegistry internal registry;
    SettlementToken internal token;
    ReceivableLedger internal ledger;
    DiscountMarket internal market;
    address internal admin;
    address internal verifier;
    address internal regulator;
    address[] internal actors; // suppliers, financiers, debtors, an outsider
    address[3] internal suspendable;

    uint256 internal constant MAX_IDS = 8;
    uint256[] public ids;
    uint256[] public offers;
    mapping(uint256 => bytes32) public fpOf;
    mapping(uint256 => uint256) public ghostUnits; // sum of stored balances
    mapping(uint256 => uint256) public ghostRedeemed;
    mapping(uint256 => bool) public rejected;
    mapping(address => uint256) public ghostUsed; // confirmed unpaid nominal per debtor
    uint256 public ghostMinted;
    uint256 public ghostBurned;
    uint256 public ghostLedgerCash;
    bool public duplicateAccepted;
    bool public inactiveCredited;
    bool public bystanderMoved;
    bool public conservationBroken;
    bool public redeemStuck;
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

    // ------------------------------------------------------------------ helpers

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % actors.length];
    }

    function _id(uint256 seed) internal view returns (uint256) {
        return ids[seed % ids.length];
    }

    function _funded(address who, uint256 amount) internal {
        uint256 have = token.balanceOf(who);
        if (have >= amount || !registry.isActive(who)) return;
        // a fresh financier mints for the test economy (counted as mint)
        vm.prank(actors[3]);
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

    function _credited(address, bool wasActive, bool increased) internal {
        if (increased && !wasActive) inactiveCredited = true;
    }

    // ------------------------------------------------------------------ actions

    function register(uint256 seedC, uint256 seedD, uint256 face, uint256 dueDays) external {
        if (ids.length >= MAX_IDS) return;
        calls["register"]++;
        address creditor = actors[seedC % 3];
        address debtor = actors[5 + (seedD % 2)];
        face = bound(face, 1, 1e9);
        uint256 due = block.timestamp + bound(dueDays, 1, 365) * 1 days;
        bytes32 fp = keccak256(abi.encode(creditor, "INV", ids.length));
        bool active = registry.isActive(creditor);
        vm.prank(verifier);
        try ledger.registerInvoice(creditor, debtor, face, address(token), block.timestamp - 1, due, 0, fp) returns (
            uint256 id
        ) {
            ids.push(id);
            fpOf[id] = fp;
            ghostUnits[id] += face;
            _credited(creditor, active, true);
            successes["register"]++;
        } catch {}
    }

    /// @dev Composite step so that depth 50 reaches multi-holder receivables: register, endorse, split.
    function originate(uint256 seedC, uint256 face, uint256 seedTo, uint256 part) external {
        if (ids.length >= MAX_IDS) return;
        calls["originate"]++;
        uint256 n = ids.length;
        this.register(seedC, seedC >> 8, face, seedC >> 16);
        if (ids.length == n) return;
        uint256 id = ids[n];
        this.endorse(n, true);
        address creditor = ledger.receivable(id).creditor;
        uint256 bal = ledger.balanceOf(creditor, id);
        if (bal < 3) return;
        this.transferFrom(id, creditor, _actor(seedTo), bound(part, 1, bal / 2));
        this.transferFrom(id, creditor, _actor(seedTo >> 8), bound(part >> 64, 1, bal / 2));
    }

    function registerDuplicate(uint256 seed, uint256 seedC) external {
        if (ids.length == 0) return;
        calls["registerDuplicate"]++;
        bytes32 fp = fpOf[_id(seed)];
        vm.prank(verifier);
        try ledger.registerInvoice(actors[seedC % 3], actors[5], 1, address(token), 1, 2, 0, fp) {
            duplicateAccepted = true;
        } catch {}
    }

    function endorse(uint256 seed, bool accept) external {
        if (ids.length == 0) return;
        calls[accept ? bytes32("endorse") : bytes32("reject")]++;
        uint256 id = seed % 4 == 0 ? _id(seed) : _pick(seed, IReceivableLedger.Status.Pending);
        IReceivableLedger.Receivable memory r = ledger.receivable(id);
        uint256 before = ledger.storedBalanceOf(r.creditor, id);
        vm.prank(r.debtor);
        if (accept) {
            try ledger.endorse(id) {
                ghostUsed[r.debtor] += r.faceValue;
                successes["endorse"]++;
            } catch {}
        } else {
            try ledger.reject(id) {
                rejected[id] = true;
                successes["reject"]++;
                ghostUnits[id] -= before - ledger.storedBalanceOf(r.creditor, id);
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
        this.transferFrom(id, from, to, amount);
    }

    /// @dev Not a fuzz target (see targetSelectors); called by the actions above.
    function transferFrom(uint256 id, address from, address to, uint256 amount) external {
        if (from == to) return;
        address by = _bystander(uint256(uint160(from)) + id, from, to);
        uint256 byBefore = ledger.storedBalanceOf(by, id);
        uint256 sumBefore = ledger.storedBalanceOf(from, id) + ledger.storedBalanceOf(to, id);
        uint256 toBefore = ledger.balanceOf(to, id);
        bool toActive = registry.isActive(to);
        vm.prank(from);
        try ledger.safeTransferFrom(from, to, id, amount, "") {
            _afterTransfer(id, from, to, sumBefore);
            _credited(to, toActive, ledger.balanceOf(to, id) > toBefore);
        } catch {}
        if (ledger.storedBalanceOf(by, id) != byBefore) bystanderMoved = true;
    }

    function _afterTransfer(uint256 id, address from, address to, uint256 sumBefore) internal {
        uint256 sumAfter = ledger.storedBalanceOf(from, id) + ledger.storedBalanceOf(to, id);
        ghostUnits[id] = ghostUnits[id] + sumAfter - sumBefore;
        successes["transfer"]++;
    }

    function repay(uint256 seed, uint256 amount) external {
        if (ids.length == 0) return;
        calls["repay"]++;
        uint256 id = seed % 4 == 0 ? _id(seed) : _pick(seed, IReceivableLedger.Status.Confirmed);
        IReceivableLedger.Receivable memory r = ledger.receivable(id);
        uint256 open = ledger.outstanding(id);
        if (open == 0) return;
        amount = bound(amount, 1, open);
        _funded(r.debtor, amount);
        vm.prank(r.debtor);
        try token.approve(address(ledger), amount) {} catch {}
        vm.prank(r.debtor);
        try ledger.repay(id, amount) {
            ghostUsed[r.debtor] -= amount;
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

    function _redeem(uint256 id, address holder, uint256 seed) internal {
        address by = _bystander(seed >> 8, holder, holder);
        uint256 byBefore = ledger.storedBalanceOf(by, id);
        uint256 before = ledger.storedBalanceOf(holder, id);
        uint256 cashBefore = token.balanceOf(holder);
        uint256 owedBefore = ledger.owed(id, holder);
        bool active = registry.isActive(holder);
        vm.prank(holder);
        try ledger.redeem(id) returns (uint256 paid) {
            ghostRedeemed[id] += paid;
            ghostLedgerCash -= paid;
            ghostUnits[id] -= before - ledger.storedBalanceOf(holder, id);
            if (token.balanceOf(holder) != cashBefore + paid || paid != owedBefore) conservationBroken = true;
            _credited(holder, active, paid > 0);
            successes["redeem"]++;
        } catch {
            // an active holder with a positive claim must always be paid: the ledger never owes more than it holds
            if (active && owedBefore > 0) redeemStuck = true;
        }
        if (ledger.storedBalanceOf(by, id) != byBefore) bystanderMoved = true;
    }

    function dispute(uint256 seed, bool byRegulator) external {
        if (ids.length == 0) return;
        calls["dispute"]++;
        uint256 id = _id(seed);
        address by = byRegulator ? regulator : ledger.receivable(id).debtor;
        vm.prank(by);
        try ledger.dispute(id, keccak256("d")) {
            successes["dispute"]++;
        } catch {}
    }

    function resolve(uint256 seed, uint256 note, bool withNote) external {
        if (ids.length == 0) return;
        calls["resolve"]++;
        uint256 id = _id(seed);
        for (uint256 k = 0; k < ids.length && !ledger.receivable(id).disputed; ++k) {
            id = _id((seed % ids.length) + k); // prefer a disputed receivable (at most MAX_IDS probes)
        }
        if (!withNote) {
            vm.prank(admin);
            try ledger.resolveDispute(id) {} catch {}
            return;
        }
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
        uint256 sumBefore = ledger.storedBalanceOf(holder, id) + ledger.storedBalanceOf(maker, id);
        uint256 cashSum = token.balanceOf(holder) + token.balanceOf(maker);
        uint256 makerUnits = ledger.balanceOf(maker, id);
        bool makerActive = registry.isActive(maker);
        bool holderActive = registry.isActive(holder);
        vm.prank(holder);
        try market.acceptOffer(oid, amount) returns (uint256 price) {
            uint256 sumAfter = ledger.storedBalanceOf(holder, id) + ledger.storedBalanceOf(maker, id);
            ghostUnits[id] = ghostUnits[id] + sumAfter - sumBefore;
            if (token.balanceOf(holder) + token.balanceOf(maker) != cashSum) conservationBroken = true;
            _credited(maker, makerActive, ledger.balanceOf(maker, id) > makerUnits);
            _credited(holder, holderActive, price > 0);
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
        uint256 toBefore = token.balanceOf(to);
        bool active = registry.isActive(to);
        vm.prank(from);
        try token.transfer(to, amount) {
            if (token.balanceOf(from) + token.balanceOf(to) != sum) conservationBroken = true;
            _credited(to, active, token.balanceOf(to) > toBefore);
        } catch {}
    }

    function mintBurn(uint256 seedTo, uint256 amount, bool burn) external {
        calls["mintBurn"]++;
        address f = actors[3 + (seedTo % 2)];
        if (burn) {
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
            _credited(to, active, amount > 0);
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

    function setCreditLine(uint256 seedD, uint256 limit) external {
        calls["setCreditLine"]++;
        address debtor = actors[5 + (seedD % 2)];
        limit = bound(limit, 0, 1e13);
        vm.prank(admin);
        try ledger.setCreditLine(debtor, limit) {} catch {}
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
        vm.prank(admin);
        ledger.setCreditLine(debtor, 5e12);
    }

    function targetContracts() public view returns (address[] memory t) {
        t = new address[](1);
        t[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory s) {
        bytes4[] memory sel = new bytes4[](17);
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
        s = new FuzzSelector[](1);
        s[0] = FuzzSelector(address(handler), sel);
    }

    /// (a) per receivable: stored units + units settled against repayment + units settled against credit
    /// notes == face; settled cash <= repaid; settled dilution <= dilution; redeemed == ghost <= settled cash.
    /// Together: holders' balances + redeemed (+ owed) == face - dilution, up to rounding dust kept by holders.
    function invariant_a_unitsConserved() public view {
        uint256 n = handler.idCount();
        for (uint256 i = 0; i < n; ++i) {
            uint256 id = handler.ids(i);
            IReceivableLedger.Receivable memory r = ledger.receivable(id);
            uint256 units = handler.ghostUnits(id);
            if (handler.rejected(id)) {
                vm.assertEq(units, 0, "rejected receivable kept units");
                continue;
            }
            vm.assertEq(units + r.settledRepaid + r.settledDiluted, r.faceValue, "units not conserved");
            vm.assertLe(r.settledRepaid, r.repaid, "settled more cash than repaid");
            vm.assertLe(r.settledDiluted, r.diluted, "settled more dilution than credit notes");
            vm.assertEq(r.redeemed, handler.ghostRedeemed(id), "redeemed total");
            vm.assertLe(r.redeemed, r.settledRepaid, "redeemed more than settled");
            vm.assertGe(units, ledger.outstanding(id), "holders lost unpaid nominal");
        }
        vm.assertFalse(handler.bystanderMoved(), "an uninvolved holder's balance moved");
        vm.assertFalse(handler.redeemStuck(), "an active holder's positive claim could not be redeemed");
    }

    /// (b) a debtor's confirmed unpaid total never exceeds its credit line and equals the ghost.
    function invariant_b_creditLine() public view {
        address[2] memory ds = [debtor, debtor2];
        for (uint256 i = 0; i < 2; ++i) {
            (uint256 limit, uint256 used) = ledger.creditLine(ds[i]);
            vm.assertLe(used, limit, "credit line exceeded");
            vm.assertEq(used, handler.ghostUsed(ds[i]), "credit usage drifted");
        }
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

    /// (d) settlement tokens are conserved outside mint and burn; the ledger holds exactly repaid - redeemed.
    function invariant_d_tokenConservation() public view {
        vm.assertEq(token.totalSupply(), handler.ghostMinted() - handler.ghostBurned(), "supply drift");
        vm.assertEq(token.balanceOf(address(ledger)), handler.ghostLedgerCash(), "ledger cash drift");
        vm.assertFalse(handler.conservationBroken(), "a transfer created or destroyed tokens");
    }

    /// (e) nothing is ever credited to an unregistered or suspended address.
    function invariant_e_noValueToInactive() public view {
        vm.assertFalse(handler.inactiveCredited(), "value credited to an inactive address");
    }

    /// @dev The handler is not vacuous: a fixed pseudo-random walk makes every kind of action succeed.
    function test_handlerReachesEveryAction() public {
        uint256 x = 42;
        for (uint256 i = 0; i < 600; ++i) {
            x = uint256(keccak256(abi.encode(x)));
            uint256 k = x % 17;
            uint256 a2 = (k == 2 || k == 6) ? (x >> 40) & 1 : x >> 40;
            uint256 a3 = (k == 7 || k == 12) ? (x >> 80) & 1 : x >> 80;
            (bool ok,) = address(handler).call(
                abi.encodeWithSelector(targetSelectors()[0].selectors[k], x >> 8, a2, a3, x >> 120, x >> 160)
            );
            ok;
        }
        invariant_a_unitsConserved();
        string[10] memory names = [
            "register", "endorse", "transfer", "repay", "redeem", "dispute", "creditNote", "makeOffer", "acceptOffer", "reject"
        ];
        for (uint256 i = 0; i < names.length; ++i) {
            vm.assertGt(handler.successes(bytes32(bytes(names[i]))), 0, names[i]);
        }
    }
}
