// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Base, TestBase} from "./utils/Base.sol";
import {SettlementToken} from "../../contracts/SettlementToken.sol";
import {ParticipantRegistry} from "../../contracts/ParticipantRegistry.sol";
import {WarehouseReceipts} from "../../contracts/WarehouseReceipts.sol";
import {IWarehouseReceipts} from "../../contracts/interfaces/IWarehouseReceipts.sol";

/// @dev Bounded random actions over warehouse receipts and loans with GHOST accounting: the handler keeps
/// its own record of every receipt's owner, of which loan each receipt is pledged for, of every loan's
/// principal paid out and repayments, and of every actor's settlement tokens. It never reads those back from
/// the contract to decide what is right. The state is bounded (at most MAX_RECEIPTS receipts and MAX_LOANS
/// loans, six fixed actors), so the invariants loop over fixed sets only.
contract WarehouseHandler is TestBase {
    SettlementToken internal token;
    ParticipantRegistry internal registry;
    WarehouseReceipts internal receipts;
    address internal warehouse;
    address internal verifier;
    address[] internal actors; // 0-2 owners (suppliers), 3-4 lenders (financiers), 5 an outsider

    uint256 internal constant MAX_RECEIPTS = 12;
    uint256 internal constant MAX_LOANS = 12;
    uint256[] public receiptIds;
    uint256[] public loanIds;
    mapping(uint256 => address) public ghostOwner; // 0 once surrendered
    mapping(uint256 => uint256) public ghostPledgedFor; // receipt => active loan (0: free)
    mapping(uint256 => uint256) public ghostRepaid;
    mapping(uint256 => bool) public ghostActive;
    mapping(uint256 => uint256) public ghostCollateral; // loan => receipts pledged
    mapping(address => uint256) public ghostBalance;
    uint256 internal lotCounter;
    uint256 internal priceTime;
    bool public lockedMoved;
    bool public doubleIssued;
    bool public doublePledged;
    mapping(bytes32 => uint256) public successes;

    constructor(
        SettlementToken token_,
        ParticipantRegistry registry_,
        WarehouseReceipts receipts_,
        address warehouse_,
        address verifier_,
        address[] memory actors_
    ) {
        (token, registry, receipts, warehouse, verifier) = (token_, registry_, receipts_, warehouse_, verifier_);
        actors = actors_;
        for (uint256 i = 0; i < actors_.length; ++i) {
            ghostBalance[actors_[i]] = token_.balanceOf(actors_[i]);
        }
        priceTime = block.timestamp;
    }

    function receiptCount() external view returns (uint256) {
        return receiptIds.length;
    }

    function loanCount() external view returns (uint256) {
        return loanIds.length;
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function actorAt(uint256 i) external view returns (address) {
        return actors[i];
    }

    function _owner(uint256 seed) internal view returns (address) {
        return actors[seed % 3];
    }

    function _lender(uint256 seed) internal view returns (address) {
        return actors[3 + seed % 2];
    }

    function _receipt(uint256 seed) internal view returns (uint256) {
        return receiptIds[seed % receiptIds.length];
    }

    function _loan(uint256 seed) internal view returns (uint256) {
        return loanIds[seed % loanIds.length];
    }

    /// @dev Most often an active loan if there is one (the calls that can succeed), else any.
    function _activeLoan(uint256 seed) internal view returns (uint256 loanId) {
        loanId = _loan(seed);
        for (uint256 k = 1; k < loanIds.length && !ghostActive[loanId] && seed % 5 != 0; ++k) {
            loanId = _loan(seed + k);
        }
    }

    function _lot(uint256 quantity) internal returns (IWarehouseReceipts.Lot memory) {
        return IWarehouseReceipts.Lot({
            commodity: bytes16("SOYBEAN"),
            grade: bytes32("No. 2"),
            quantity: uint96(quantity),
            unit: bytes4("KGM"),
            location: bytes32("SILO-1"),
            lotRef: bytes32(++lotCounter),
            evidenceHash: bytes32(0)
        });
    }

    // ------------------------------------------------------------------ actions

    function issue(uint256 who, uint256 quantity) external {
        if (receiptIds.length >= MAX_RECEIPTS) return;
        address owner = _owner(who);
        vm.prank(warehouse);
        uint256 rid = receipts.issue(owner, _lot(bound(quantity, 1_000, 1_000_000)));
        receiptIds.push(rid);
        ghostOwner[rid] = owner;
        successes["issue"]++;
    }

    function issueTwice(uint256 seed) external {
        uint256 issued = lotCounter;
        if (issued == 0) return;
        IWarehouseReceipts.Lot memory lot = _lot(1_000);
        lot.lotRef = bytes32(bound(seed, 1, issued)); // a lot already issued
        lotCounter = issued;
        vm.prank(warehouse);
        try receipts.issue(actors[0], lot) {
            doubleIssued = true;
        } catch {}
    }

    function transfer(uint256 seed, uint256 to) external {
        if (receiptIds.length == 0) return;
        uint256 rid = _receipt(seed);
        address from = ghostOwner[rid];
        if (from == address(0)) return;
        address dest = _owner(to);
        vm.prank(from);
        try receipts.transferFrom(from, dest, rid) {
            if (ghostPledgedFor[rid] != 0) lockedMoved = true;
            ghostOwner[rid] = dest;
            successes["transfer"]++;
        } catch {}
    }

    function offerAndAccept(uint256 seed, uint256 who, uint256 principal, uint256 rate, uint256 days_) external {
        if (receiptIds.length == 0 || loanIds.length >= MAX_LOANS) return;
        uint256 rid = _receipt(seed);
        address owner = ghostOwner[rid];
        if (owner == address(0)) return;
        address lender = _lender(who);
        IWarehouseReceipts.LoanTerms memory terms = IWarehouseReceipts.LoanTerms(
            bound(principal, 1, 500_000_00),
            bound(rate, 0, 2_000),
            block.timestamp + bound(days_, 1, 365) * 1 days,
            7000,
            8000
        );
        vm.prank(lender);
        uint256 loanId = receipts.offerLoan(rid, terms);
        loanIds.push(loanId);
        vm.prank(owner);
        try receipts.acceptLoan(loanId) {
            if (ghostPledgedFor[rid] != 0) doublePledged = true;
            ghostPledgedFor[rid] = loanId;
            ghostActive[loanId] = true;
            ghostCollateral[loanId] = 1;
            ghostBalance[lender] -= terms.principal;
            ghostBalance[owner] += terms.principal;
            successes["accept"]++;
        } catch {}
    }

    function addCollateral(uint256 seed, uint256 loanSeed) external {
        if (receiptIds.length == 0 || loanIds.length == 0) return;
        uint256 loanId = _activeLoan(loanSeed);
        uint256 rid = _receipt(seed);
        if (ghostActive[loanId]) {
            // most often one of the borrower's own free receipts (the call that can succeed)
            address borrower = ghostOwner[receipts.loan(loanId).receiptId];
            for (uint256 k = 0; k < receiptIds.length && seed % 4 != 0; ++k) {
                uint256 candidate = _receipt(seed + k);
                if (ghostOwner[candidate] == borrower && ghostPledgedFor[candidate] == 0) {
                    rid = candidate;
                    break;
                }
            }
        }
        address owner = ghostOwner[rid];
        if (owner == address(0)) return;
        vm.prank(owner);
        try receipts.addCollateral(loanId, rid) {
            if (ghostPledgedFor[rid] != 0 || !ghostActive[loanId]) doublePledged = true;
            ghostPledgedFor[rid] = loanId;
            ghostCollateral[loanId]++;
            successes["addCollateral"]++;
        } catch {}
    }

    function repay(uint256 loanSeed, uint256 amount, uint256 payerSeed) external {
        if (loanIds.length == 0) return;
        uint256 loanId = _activeLoan(loanSeed);
        if (!ghostActive[loanId]) return;
        IWarehouseReceipts.Loan memory l = receipts.loan(loanId);
        uint256 left = uint256(l.due) - ghostRepaid[loanId];
        uint256 pay = bound(amount, 1, left);
        address payer = _owner(payerSeed);
        if (ghostBalance[payer] < pay) {
            vm.prank(actors[3]); // an issuer books a deposit for the payer
            token.mint(payer, pay - ghostBalance[payer]);
            ghostBalance[payer] = pay;
        }
        vm.prank(payer);
        token.approve(address(receipts), pay);
        vm.prank(payer);
        receipts.repay(loanId, pay);
        ghostRepaid[loanId] += pay;
        ghostBalance[payer] -= pay;
        ghostBalance[l.lender] += pay;
        if (ghostRepaid[loanId] == l.due) _ended(loanId);
        successes["repay"]++;
    }

    function release(uint256 loanSeed) external {
        if (loanIds.length == 0) return;
        uint256 loanId = _activeLoan(loanSeed);
        if (!ghostActive[loanId]) return;
        vm.prank(receipts.loan(loanId).lender);
        receipts.release(loanId);
        _ended(loanId);
        successes["release"]++;
    }

    function priceAndMargin(uint256 perThousand, uint256 loanSeed) external {
        priceTime = block.timestamp > priceTime ? block.timestamp : priceTime;
        if (priceTime == block.timestamp) vm.warp(block.timestamp + 1);
        priceTime = block.timestamp;
        vm.prank(verifier);
        receipts.recordPrice(bytes16("SOYBEAN"), bytes4("KGM"), bound(perThousand, 100_00, 900_00), priceTime, 0);
        for (uint256 k = 0; k < loanIds.length; ++k) {
            uint256 loanId = _loan(loanSeed + k);
            if (!ghostActive[loanId]) continue;
            try receipts.callMargin(loanId) {
                successes["marginCall"]++;
            } catch {}
        }
    }

    function claim(uint256 loanSeed, uint256 later) external {
        if (loanIds.length == 0) return;
        uint256 loanId = _activeLoan(loanSeed);
        if (!ghostActive[loanId]) return;
        vm.warp(block.timestamp + bound(later, 0, 400 days));
        address lender = receipts.loan(loanId).lender;
        uint256[] memory pledged = receipts.collateral(loanId);
        vm.prank(lender);
        try receipts.claimCollateral(loanId) {
            for (uint256 i = 0; i < pledged.length; ++i) {
                ghostOwner[pledged[i]] = lender;
            }
            _ended(loanId);
            successes["claim"]++;
        } catch {}
    }

    function surrender(uint256 seed) external {
        if (receiptIds.length == 0) return;
        uint256 rid = _receipt(seed);
        address owner = ghostOwner[rid];
        if (owner == address(0)) return;
        vm.prank(owner);
        try receipts.surrender(rid) {
            if (ghostPledgedFor[rid] != 0) lockedMoved = true;
            ghostOwner[rid] = address(0);
            successes["surrender"]++;
        } catch {}
    }

    function alertAndFreeze(uint256 seed, bool freeze) external {
        if (receiptIds.length == 0) return;
        uint256 rid = _receipt(seed);
        if (ghostOwner[rid] == address(0)) return;
        vm.prank(verifier);
        uint256 alertId = receipts.recordAlert(rid, "SEAL_OPENED", 0);
        uint256 loanId = ghostPledgedFor[rid];
        if (loanId != 0 && freeze) {
            vm.prank(receipts.loan(loanId).lender);
            try receipts.setFrozen(rid, true) {} catch {}
        }
        vm.prank(warehouse);
        receipts.clearAlert(alertId, 0);
        successes["alert"]++;
    }

    function _ended(uint256 loanId) internal {
        ghostActive[loanId] = false;
        for (uint256 i = 0; i < receiptIds.length; ++i) {
            if (ghostPledgedFor[receiptIds[i]] == loanId) ghostPledgedFor[receiptIds[i]] = 0;
        }
    }
}

contract WarehouseInvariantTest is Base {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    WarehouseReceipts internal receipts;
    WarehouseHandler internal handler;
    address internal warehouse = address(0x3A1);

    function setUp() public override {
        super.setUp();
        receipts = _warehouseReceipts(warehouse);
        vm.prank(verifier);
        receipts.recordPrice(bytes16("SOYBEAN"), bytes4("KGM"), 450_00, T0, 0);
        address[] memory actors = new address[](6);
        (actors[0], actors[1], actors[2]) = (supplier, supplier2, supplier3);
        (actors[3], actors[4], actors[5]) = (financier, financier2, outsider);
        for (uint256 i = 3; i < 5; ++i) {
            _cash(actors[i], 1e12);
            _approve(actors[i], address(receipts), type(uint256).max);
        }
        handler = new WarehouseHandler(token, registry, receipts, warehouse, verifier, actors);
    }

    function targetContracts() public view returns (address[] memory t) {
        t = new address[](1);
        t[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory s) {
        bytes4[] memory sel = new bytes4[](11);
        sel[0] = WarehouseHandler.issue.selector;
        sel[1] = WarehouseHandler.issueTwice.selector;
        sel[2] = WarehouseHandler.transfer.selector;
        sel[3] = WarehouseHandler.offerAndAccept.selector;
        sel[4] = WarehouseHandler.addCollateral.selector;
        sel[5] = WarehouseHandler.repay.selector;
        sel[6] = WarehouseHandler.release.selector;
        sel[7] = WarehouseHandler.priceAndMargin.selector;
        sel[8] = WarehouseHandler.claim.selector;
        sel[9] = WarehouseHandler.surrender.selector;
        sel[10] = WarehouseHandler.alertAndFreeze.selector;
        s = new FuzzSelector[](1);
        s[0] = FuzzSelector(address(handler), sel);
    }

    /// (a) Receipts: each is owned by whom the ghosts say (none once surrendered); a pledged one is pledged
    /// for the loan the ghosts say, that loan is active and lists it; a free one is pledged for nothing and
    /// not frozen; a lot is never issued twice; a pledged receipt never moved.
    function invariant_a_receiptsAndPledges() public view {
        vm.assertFalse(handler.doubleIssued(), "a lot was issued twice");
        vm.assertFalse(handler.doublePledged(), "a receipt was pledged twice");
        vm.assertFalse(handler.lockedMoved(), "a pledged receipt moved");
        uint256 n = handler.receiptCount();
        for (uint256 i = 0; i < n; ++i) {
            uint256 rid = handler.receiptIds(i);
            address owner = handler.ghostOwner(rid);
            if (owner == address(0)) {
                vm.assertEq(receipts.balanceOf(address(0xdead)), 0);
                continue;
            }
            vm.assertEq(receipts.ownerOf(rid), owner, "owner");
            IWarehouseReceipts.Receipt memory r = receipts.receipt(rid);
            uint256 loanId = handler.ghostPledgedFor(rid);
            vm.assertEq(uint256(r.loanId), loanId, "pledged for");
            if (loanId == 0) {
                vm.assertFalse(r.frozen, "a free receipt is frozen");
            } else {
                vm.assertEq(uint256(receipts.loan(loanId).state), uint256(IWarehouseReceipts.LoanState.Active));
            }
        }
    }

    /// (b) Loans: repaid equals the ghosts' repayments and never exceeds what is due; an active loan holds
    /// exactly the receipts the ghosts pledged for it; an ended one holds none pledged.
    function invariant_b_loans() public view {
        uint256 n = handler.loanCount();
        for (uint256 i = 0; i < n; ++i) {
            uint256 loanId = handler.loanIds(i);
            IWarehouseReceipts.Loan memory l = receipts.loan(loanId);
            vm.assertEq(uint256(l.repaid), handler.ghostRepaid(loanId), "repaid");
            vm.assertLe(uint256(l.repaid), uint256(l.due), "repaid above due");
            bool active = l.state == IWarehouseReceipts.LoanState.Active;
            vm.assertEq(active, handler.ghostActive(loanId), "active");
            if (active) vm.assertEq(uint256(l.collateralCount), handler.ghostCollateral(loanId), "collateral");
            uint256[] memory pledged = receipts.collateral(loanId);
            for (uint256 k = 0; k < pledged.length; ++k) {
                uint256 rid = pledged[k];
                if (handler.ghostOwner(rid) == address(0)) continue; // surrendered after the loan ended
                uint256 pledgedFor = receipts.receipt(rid).loanId;
                if (active) vm.assertEq(pledgedFor, loanId, "collateral lock");
                else vm.assertTrue(pledgedFor != loanId, "pledged for an ended loan");
            }
        }
    }

    /// (c) Money: the contract never holds settlement tokens; every actor's balance is what the ghosts
    /// counted (principal paid out, repayments paid to lenders, deposits booked).
    function invariant_c_money() public view {
        vm.assertEq(token.balanceOf(address(receipts)), 0, "the contract holds tokens");
        uint256 m = handler.actorCount();
        for (uint256 i = 0; i < m; ++i) {
            address a = handler.actorAt(i);
            vm.assertEq(token.balanceOf(a), handler.ghostBalance(a), "balance");
        }
    }

    /// @dev The handler is not vacuous: fixed pseudo-random walks reach every kind of action, and the
    /// invariants hold at the end of each.
    function test_handlerReachesEveryAction() public {
        bytes4[] memory sel = targetSelectors()[0].selectors;
        string[9] memory names =
            ["issue", "transfer", "accept", "addCollateral", "repay", "release", "marginCall", "claim", "surrender"];
        uint256[9] memory total;
        uint256 snap = vm.snapshotState();
        for (uint256 w = 0; w < 4; ++w) {
            vm.revertToState(snap);
            uint256 x = w;
            for (uint256 i = 0; i < 200; ++i) {
                x = uint256(keccak256(abi.encode(x)));
                (bool ok,) = address(handler)
                    .call(abi.encodeWithSelector(sel[x % sel.length], x >> 8, x >> 40, x >> 80, x >> 120, x >> 160));
                ok;
            }
            invariant_a_receiptsAndPledges();
            invariant_b_loans();
            invariant_c_money();
            for (uint256 k = 0; k < names.length; ++k) {
                total[k] += handler.successes(bytes32(bytes(names[k])));
            }
        }
        for (uint256 k = 0; k < names.length; ++k) {
            vm.assertGt(total[k], 0, names[k]);
        }
    }
}
