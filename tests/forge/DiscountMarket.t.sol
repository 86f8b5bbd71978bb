// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Base} from "./utils/Base.sol";
import {DiscountMarket} from "../../contracts/DiscountMarket.sol";
import {IDiscountMarket} from "../../contracts/interfaces/IDiscountMarket.sol";
import {IReceivableLedger} from "../../contracts/interfaces/IReceivableLedger.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {ISettlementToken} from "../../contracts/interfaces/ISettlementToken.sol";
import {IErrors} from "../../contracts/interfaces/IErrors.sol";
import {IGreenLabels} from "../../contracts/interfaces/IGreenLabels.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

contract DiscountMarketTest is Base {
    uint256 internal id;

    function setUp() public override {
        super.setUp();
        id = _confirmed(FACE);
        _cash(financier, 100 * FACE);
        _approve(financier, address(market), type(uint256).max);
    }

    function _offer(uint256 maxAmount, uint256 rate, uint256 expiry) internal returns (uint256) {
        vm.prank(financier);
        return market.makeOffer(id, maxAmount, rate, expiry);
    }

    // ------------------------------------------------------------------ quote

    function test_quote_examples() public view {
        // 90 days at 5%: 1,000,000.00 * (1 - 0.05 * 90 / 365)
        (uint256 price, uint256 d) = market.quote(FACE, 500, T0 + 90 days, T0);
        vm.assertEq(d, 90);
        vm.assertEq(price, (FACE * (3_650_000 - 500 * 90)) / 3_650_000);
        vm.assertEq(price, 98767123); // 987,671.23 rounded down
        // a started day counts as a whole day
        (, d) = market.quote(FACE, 500, T0 + 90 days, T0 + 1);
        vm.assertEq(d, 90);
        (, d) = market.quote(FACE, 500, T0 + 90 days + 1, T0);
        vm.assertEq(d, 91);
        (price, d) = market.quote(FACE, 500, T0 + 1, T0);
        vm.assertEq(d, 1);
        // zero rate is par
        (price,) = market.quote(FACE, 0, T0 + 10 days, T0);
        vm.assertEq(price, FACE);
    }

    function test_quote_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.Matured.selector, T0, T0));
        market.quote(FACE, 500, T0, T0);
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.DiscountTooLarge.selector, 10_000, 365));
        market.quote(FACE, 10_000, T0 + 365 days, T0);
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.DiscountTooLarge.selector, type(uint256).max, 1));
        market.quote(FACE, type(uint256).max, T0 + 1, T0);
    }

    function testFuzz_quote_matchesReference(uint256 amount, uint256 rate, uint256 secs) public view {
        amount = bound(amount, 0, type(uint128).max);
        rate = bound(rate, 0, 10_000);
        secs = bound(secs, 1, 364 days);
        uint256 d = (secs + 1 days - 1) / 1 days;
        (uint256 price, uint256 days_) = market.quote(amount, rate, T0 + secs, T0);
        vm.assertEq(days_, d);
        vm.assertEq(price, (amount * (3_650_000 - rate * d)) / 3_650_000);
        vm.assertLe(price, amount);
    }

    // ------------------------------------------------------------------ offers

    function test_makeOffer() public {
        vm.expectEmit(true, true, true, true, address(market));
        emit IDiscountMarket.OfferMade(1, id, financier, FACE / 2, 500, T0 + 1 days);
        uint256 oid = _offer(FACE / 2, 500, T0 + 1 days);
        vm.assertEq(oid, 1);
        vm.assertEq(market.offerCount(), 1);
        IDiscountMarket.Offer memory o = market.offer(oid);
        vm.assertEq(o.maker, financier);
        vm.assertEq(uint256(o.rateBps), 500);
        vm.assertEq(uint256(o.expiry), T0 + 1 days);
        vm.assertEq(o.receivableId, id);
        vm.assertEq(uint256(o.maxAmount), FACE / 2);
        vm.assertEq(uint256(o.filled), 0);
        vm.assertFalse(o.cancelled);
    }

    function test_makeOffer_validation() public {
        vm.startPrank(financier);
        vm.expectRevert(IErrors.ZeroAmount.selector);
        market.makeOffer(id, 0, 500, T0 + 1);
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.AmountTooLarge.selector, uint256(type(uint128).max) + 1));
        market.makeOffer(id, uint256(type(uint128).max) + 1, 500, T0 + 1);
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.InvalidRate.selector, 10_001));
        market.makeOffer(id, 1, 10_001, T0 + 1);
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.InvalidExpiry.selector, T0));
        market.makeOffer(id, 1, 500, T0);
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.NotDiscountable.selector, 999));
        market.makeOffer(999, 1, 500, T0 + 1);
        vm.stopPrank();
        uint256 pending = _register(FACE);
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.NotDiscountable.selector, pending));
        market.makeOffer(pending, 1, 500, T0 + 1);
        vm.prank(debtor);
        ledger.dispute(id, 0);
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.NotDiscountable.selector, id));
        market.makeOffer(id, 1, 500, T0 + 1);
    }

    function test_makeOffer_onlyActiveFinancier() public {
        address[5] memory others = [supplier, debtor, verifier, regulator, outsider];
        for (uint256 i = 0; i < others.length; ++i) {
            vm.prank(others[i]);
            vm.expectRevert(abi.encodeWithSelector(IErrors.NotActiveFinancier.selector, others[i]));
            market.makeOffer(id, 1, 500, T0 + 1);
        }
    }

    function test_cancelOffer() public {
        uint256 oid = _offer(FACE, 500, T0 + 1 days);
        vm.prank(financier2);
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.NotMaker.selector, oid, financier2));
        market.cancelOffer(oid);
        vm.expectEmit(true, true, false, true, address(market));
        emit IDiscountMarket.OfferCancelledBy(oid, financier, FACE);
        vm.prank(financier);
        market.cancelOffer(oid);
        vm.assertTrue(market.offer(oid).cancelled);
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.OfferCancelled.selector, oid));
        market.cancelOffer(oid);
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.OfferCancelled.selector, oid));
        market.acceptOffer(oid, 1);
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.UnknownOffer.selector, 77));
        market.cancelOffer(77);
    }

    // ------------------------------------------------------------------ acceptance (DvP)

    function test_acceptOffer_deliveryVersusPayment() public {
        uint256 oid = _offer(FACE / 2, 500, T0 + 1 days);
        vm.warp(T0 + 30 days - 10); // 60 days (and 10 s, counted as a day) left: 61 days
        (uint256 expected, uint256 d) = market.quote(FACE / 4, 500, T0 + 90 days, block.timestamp);
        vm.assertEq(d, 61);
        vm.warp(T0 + 1 hours);
        (expected, d) = market.quote(FACE / 4, 500, T0 + 90 days, block.timestamp);
        vm.expectEmit(true, true, true, true, address(market));
        emit IDiscountMarket.OfferFilled(oid, id, financier, supplier, FACE / 4, expected, d, FACE / 4);
        vm.prank(supplier);
        uint256 price = market.acceptOffer(oid, FACE / 4);
        vm.assertEq(price, expected);
        vm.assertEq(token.balanceOf(supplier), price);
        vm.assertEq(ledger.balanceOf(financier, id), FACE / 4);
        vm.assertEq(ledger.balanceOf(supplier, id), FACE - FACE / 4);
        vm.assertEq(uint256(market.offer(oid).filled), FACE / 4);
        // a second holder fills the rest; the offer can't be overfilled
        _move(supplier, supplier2, id, FACE / 4 + 1);
        vm.prank(supplier2);
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.OfferExceeded.selector, oid, FACE / 4 + 1, FACE / 4));
        market.acceptOffer(oid, FACE / 4 + 1);
        vm.prank(supplier2);
        market.acceptOffer(oid, FACE / 4);
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.OfferExceeded.selector, oid, 1, 0));
        market.acceptOffer(oid, 1);
    }

    function test_acceptOfferAtLeast_neverPaysBelowTheFloor() public {
        uint256 oid = _offer(FACE, 500, T0 + 1 days);
        vm.warp(T0 + 1 hours);
        (uint256 shown,) = market.quote(FACE / 4, 500, T0 + 90 days, block.timestamp);
        // a part repayment lands before the holder's fill: its units now claim less and the price falls;
        // the floor the holder saw refuses the fill and nothing moves
        _repay(id, FACE / 10);
        (uint256 later,) = market.quote(FACE / 4 - FACE / 40, 500, T0 + 90 days, block.timestamp);
        require(later < shown, "the repayment lowers the price");
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.PriceBelowMinimum.selector, oid, later, shown));
        market.acceptOfferAtLeast(oid, FACE / 4, shown);
        vm.assertEq(token.balanceOf(supplier), 0);
        vm.assertEq(ledger.balanceOf(supplier, id), FACE);
        vm.assertEq(uint256(market.offer(oid).filled), 0);
        // at the floor, or with none, the fill goes through at the price of its block
        vm.prank(supplier);
        vm.assertEq(market.acceptOfferAtLeast(oid, FACE / 4, later), later);
        vm.assertEq(token.balanceOf(supplier), later);
        vm.prank(supplier);
        vm.assertEq(market.acceptOfferAtLeast(oid, FACE / 4, 0), later);
    }

    function test_acceptOffer_expired() public {
        uint256 oid = _offer(FACE, 500, T0 + 1 days);
        vm.warp(T0 + 1 days); // expiry itself is still valid
        vm.prank(supplier);
        market.acceptOffer(oid, 10);
        vm.warp(T0 + 1 days + 1);
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.OfferExpired.selector, oid, T0 + 1 days));
        market.acceptOffer(oid, 10);
    }

    function test_acceptOffer_guards() public {
        uint256 oid = _offer(FACE, 500, T0 + 1 days);
        vm.prank(supplier);
        vm.expectRevert(IErrors.ZeroAmount.selector);
        market.acceptOffer(oid, 0);
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.UnknownOffer.selector, 5));
        market.acceptOffer(5, 1);
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.SelfFill.selector, oid));
        market.acceptOffer(oid, 1);
        vm.prank(outsider);
        vm.expectRevert(abi.encodeWithSelector(IErrors.CallerNotActive.selector, outsider));
        market.acceptOffer(oid, 1);
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.ZeroPrice.selector, oid, 1));
        market.acceptOffer(oid, 1); // 1 unit at 5% for 90 days rounds to 0
        // holder without enough units: the delivery leg fails, the payment leg is undone
        vm.prank(supplier2);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.TransferNotAllowed.selector,
                supplier2,
                financier,
                id,
                100,
                bytes32("INSUFFICIENT_BALANCE")
            )
        );
        market.acceptOffer(oid, 100);
        vm.assertEq(token.balanceOf(supplier2), 0);
    }

    function test_acceptOffer_suspendedMakerOrHolder() public {
        uint256 oid = _offer(FACE, 500, T0 + 1 days);
        vm.prank(admin);
        registry.suspend(financier);
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IErrors.NotActiveFinancier.selector, financier));
        market.acceptOffer(oid, 100);
        vm.prank(admin);
        registry.reinstate(financier);
        vm.prank(admin);
        registry.suspend(supplier);
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IErrors.CallerNotActive.selector, supplier));
        market.acceptOffer(oid, 100);
    }

    function test_acceptOffer_disputedOrMaturedFrozen() public {
        uint256 oid = _offer(FACE, 500, T0 + 200 days);
        vm.prank(regulator);
        ledger.dispute(id, 0);
        vm.prank(supplier);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.TransferNotAllowed.selector, supplier, financier, id, 100, bytes32("DISPUTED")
            )
        );
        market.acceptOffer(oid, 100);
        vm.prank(admin);
        ledger.resolveDispute(id);
        vm.warp(T0 + 90 days);
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.Matured.selector, T0 + 90 days, T0 + 90 days));
        market.acceptOffer(oid, 100);
    }

    function test_acceptOffer_makerWithoutFundsOrAllowance() public {
        vm.prank(financier2);
        uint256 oid = market.makeOffer(id, FACE, 500, T0 + 1 days);
        (uint256 price,) = market.quote(FACE, 500, T0 + 90 days, T0);
        vm.prank(supplier);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(market), 0, price)
        );
        market.acceptOffer(oid, FACE);
        vm.assertEq(ledger.balanceOf(supplier, id), FACE);
        // with an allowance but no money
        vm.prank(financier2);
        token.approve(address(market), type(uint256).max);
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, financier2, 0, price));
        market.acceptOffer(oid, FACE);
        vm.assertEq(ledger.balanceOf(supplier, id), FACE);
    }

    // ------------------------------------------------------------------ pricing by claim

    /// After a partial repayment a unit claims only its share of the outstanding nominal: the market pays
    /// for floor(units * outstanding / face), not for the units.
    function test_acceptOffer_pricesTheClaimAfterRepayment() public {
        _move(supplier, supplier2, id, FACE / 2);
        _repay(id, FACE / 2);
        (address t, uint256 due,,, uint256 face, uint256 open) = ledger.discountTerms(id);
        vm.assertEq(t, address(token));
        vm.assertEq(face, FACE);
        vm.assertEq(open, FACE / 2);
        uint256 oid = _offer(FACE, 500, T0 + 1 days);
        (uint256 expected,) = market.quote(FACE / 8, 500, due, block.timestamp);
        vm.prank(supplier);
        uint256 price = market.acceptOffer(oid, FACE / 4);
        vm.assertEq(price, expected, "priced on the nominal the units still claim");
        vm.assertEq(ledger.balanceOf(financier, id), FACE / 4);
        // the seller keeps what its units earned before the sale; the buyer earns from now on
        vm.assertEq(ledger.owed(id, supplier), FACE / 4);
        vm.assertEq(ledger.owed(id, financier), 0);
        _repay(id, FACE / 2);
        vm.assertEq(_redeem(financier, id), FACE / 8);
        vm.assertEq(_redeem(supplier, id), FACE / 4 + FACE / 8);
        vm.assertEq(_redeem(supplier2, id), FACE / 2);
    }

    /// At par (rate 0) the price is exactly floor(units * outstanding / face), rounded down.
    function test_acceptOffer_claimRoundsDown() public {
        _creditNote(id, 1); // outstanding FACE - 1
        uint256 oid = _offer(FACE, 0, T0 + 1 days);
        vm.prank(supplier);
        vm.assertEq(market.acceptOffer(oid, 3), 2); // floor(3 * (FACE - 1) / FACE)
        vm.prank(supplier);
        vm.assertEq(market.acceptOffer(oid, FACE / 2), FACE / 2 - 1); // floor(FACE/2 - 1/2)
        vm.prank(supplier);
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.ZeroPrice.selector, oid, 1));
        market.acceptOffer(oid, 1); // floor((FACE - 1) / FACE) = 0
    }

    // ------------------------------------------------------------------ least privilege

    /// The market moves units only from the caller of acceptOffer: nobody else (not another holder, not
    /// the maker, not the operator) can make it deliver somebody's units.
    function test_acceptOffer_movesOnlyTheCallersUnits() public {
        uint256 oid = _offer(FACE, 500, T0 + 1 days);
        _move(supplier, supplier2, id, 100);
        // a holder of no units cannot sell the supplier's
        vm.prank(supplier3);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.TransferNotAllowed.selector,
                supplier3,
                financier,
                id,
                1_000,
                bytes32("INSUFFICIENT_BALANCE")
            )
        );
        market.acceptOffer(oid, 1_000);
        // another holder sells only its own units, never more than it holds
        vm.prank(supplier2);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableLedger.TransferNotAllowed.selector,
                supplier2,
                financier,
                id,
                101,
                bytes32("INSUFFICIENT_BALANCE")
            )
        );
        market.acceptOffer(oid, 101);
        vm.prank(supplier2);
        market.acceptOffer(oid, 100);
        vm.assertEq(ledger.balanceOf(supplier2, id), 0);
        vm.assertEq(ledger.balanceOf(supplier, id), FACE - 100, "the supplier's units did not move");
        // the maker cannot fill its own offer; outsiders cannot act; nobody but the market calls marketTransfer
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.SelfFill.selector, oid));
        market.acceptOffer(oid, 1_000);
        vm.prank(outsider);
        vm.expectRevert(abi.encodeWithSelector(IErrors.CallerNotActive.selector, outsider));
        market.acceptOffer(oid, 1_000);
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.NotMarket.selector, admin));
        ledger.marketTransfer(supplier, financier, id, 1_000);
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(IReceivableLedger.NotMarket.selector, financier));
        ledger.marketTransfer(supplier, financier, id, 1_000);
        vm.assertEq(ledger.balanceOf(supplier, id), FACE - 100);
        vm.assertEq(ledger.balanceOf(financier, id), 100);
    }

    function test_constructor_zero() public {
        vm.expectRevert(IErrors.ZeroAddress.selector);
        new DiscountMarket(IReceivableLedger(address(0)), registry, green);
        vm.expectRevert(IErrors.ZeroAddress.selector);
        new DiscountMarket(ledger, IParticipantRegistry(address(0)), green);
        vm.expectRevert(IErrors.ZeroAddress.selector);
        new DiscountMarket(ledger, registry, IGreenLabels(address(0)));
        vm.assertEq(address(market.ledger()), address(ledger));
        vm.assertEq(address(market.registry()), address(registry));
        vm.assertEq(address(market.greenLabels()), address(green));
    }
}
