// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Base, Vm} from "./utils/Base.sol";
import {GreenLabels} from "../../contracts/GreenLabels.sol";
import {IGreenLabels} from "../../contracts/interfaces/IGreenLabels.sol";
import {IDiscountMarket} from "../../contracts/interfaces/IDiscountMarket.sol";
import {IReceivableLedger} from "../../contracts/interfaces/IReceivableLedger.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {IErrors} from "../../contracts/interfaces/IErrors.sol";

/// @dev Green receivables: labels by certifiers, withdrawal, financiers' programmes, and the preference the
/// discount market applies when an offer is made.
contract GreenLabelsTest is Base {
    bytes32 internal constant CATALOGUE = bytes32("CN-GFSPC-2025");
    bytes32 internal constant CATEGORY = bytes32("3.2.1");
    bytes32 internal constant EVIDENCE = keccak256("evidence");
    bytes32 internal constant ATTESTATION = keccak256("attestation");
    uint256 internal constant BENEFIT = 12_500;
    address internal certifier2 = address(0xCE28);

    uint256 internal id; // confirmed, held by supplier, debtor `debtor`
    uint256 internal validUntil;

    function setUp() public override {
        super.setUp();
        vm.prank(admin);
        registry.onboard(certifier2, IParticipantRegistry.Role.Certifier, keccak256("G2"));
        id = _confirmed(FACE);
        validUntil = T0 + 60 days;
        for (uint256 i = 0; i < 2; ++i) {
            address f = i == 0 ? financier : financier2;
            _cash(f, 100 * FACE);
            _approve(f, address(market), type(uint256).max);
        }
    }

    function _label(uint256 rid) internal {
        _labelBy(certifier, rid, validUntil);
    }

    function _labelBy(address by, uint256 rid, uint256 until) internal {
        vm.prank(by);
        green.label(rid, CATALOGUE, CATEGORY, EVIDENCE, until, BENEFIT, ATTESTATION);
    }

    function _programme(address f, address d, uint256 bps) internal {
        vm.prank(f);
        green.setProgramme(d, bps);
    }

    function _offer(address f, uint256 rid, uint256 rate) internal returns (uint256) {
        vm.prank(f);
        return market.makeOffer(rid, FACE, rate, block.timestamp + 30 days);
    }

    function _expectLabelRevert(address by, uint256 rid, bytes memory err) internal {
        vm.prank(by);
        vm.expectRevert(err);
        green.label(rid, CATALOGUE, CATEGORY, EVIDENCE, validUntil, BENEFIT, ATTESTATION);
    }

    /// @dev Number of `GreenPreferenceApplied` events among the recorded logs.
    function _preferenceEvents() internal returns (uint256 n) {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].topics.length != 0 && logs[i].topics[0] == IDiscountMarket.GreenPreferenceApplied.selector) {
                ++n;
            }
        }
    }

    // ------------------------------------------------------------------ deployment

    function test_constructor() public {
        vm.assertEq(address(green.registry()), address(registry));
        vm.assertEq(address(green.ledger()), address(ledger));
        vm.expectRevert(IErrors.ZeroAddress.selector);
        new GreenLabels(IParticipantRegistry(address(0)), ledger);
        vm.expectRevert(IErrors.ZeroAddress.selector);
        new GreenLabels(registry, IReceivableLedger(address(0)));
    }

    function test_certifierRole_code() public view {
        vm.assertEq(uint256(IParticipantRegistry.Role.Certifier), 9);
        vm.assertEq(uint256(IParticipantRegistry.Role.PriceSource), 8);
        vm.assertTrue(registry.hasActiveRole(certifier, IParticipantRegistry.Role.Certifier));
    }

    // ------------------------------------------------------------------ label

    function test_label_byCertifier() public {
        vm.warp(T0 + 1 hours);
        vm.expectEmit(true, true, false, true, address(green));
        emit IGreenLabels.GreenLabelled(id, certifier, CATALOGUE, CATEGORY, EVIDENCE, validUntil, BENEFIT, ATTESTATION);
        _label(id);
        IGreenLabels.Label memory l = green.labelOf(id);
        vm.assertEq(l.certifier, certifier);
        vm.assertEq(uint256(l.validUntil), validUntil);
        vm.assertEq(uint256(l.labelledAt), T0 + 1 hours);
        vm.assertFalse(l.withdrawn);
        vm.assertEq(uint256(l.benefitKg), BENEFIT);
        vm.assertEq(l.catalogue, CATALOGUE);
        vm.assertEq(l.category, CATEGORY);
        vm.assertEq(l.evidenceHash, EVIDENCE);
        vm.assertEq(l.attestationHash, ATTESTATION);
        vm.assertTrue(green.isGreen(id));
        // another receivable is untouched
        uint256 other = _confirmed(FACE);
        vm.assertFalse(green.isGreen(other));
        vm.assertEq(green.labelOf(other).certifier, address(0));
    }

    function test_label_pendingAndDisputed_zeroBenefit_maxBounds() public {
        uint256 pending = _register(FACE);
        vm.prank(certifier);
        green.label(pending, CATALOGUE, CATEGORY, EVIDENCE, type(uint40).max, 0, ATTESTATION);
        vm.assertTrue(green.isGreen(pending));
        vm.prank(debtor);
        ledger.endorse(pending);
        vm.assertTrue(green.isGreen(pending)); // the label stays through the endorsement
        vm.prank(regulator);
        ledger.dispute(id, keccak256("dispute"));
        vm.prank(certifier);
        green.label(id, CATALOGUE, CATEGORY, EVIDENCE, T0 + 1, type(uint64).max, ATTESTATION);
        vm.assertEq(uint256(green.labelOf(id).benefitKg), type(uint64).max);
    }

    function test_label_refusedForNonCertifiers() public {
        address[6] memory others = [supplier, financier, admin, regulator, debtor, verifier];
        for (uint256 i = 0; i < others.length; ++i) {
            _expectLabelRevert(
                others[i], id, abi.encodeWithSelector(IGreenLabels.NotActiveCertifier.selector, others[i])
            );
        }
        _expectLabelRevert(outsider, id, abi.encodeWithSelector(IGreenLabels.NotActiveCertifier.selector, outsider));
        vm.prank(admin);
        registry.suspend(certifier);
        _expectLabelRevert(certifier, id, abi.encodeWithSelector(IGreenLabels.NotActiveCertifier.selector, certifier));
        vm.prank(admin);
        registry.reinstate(certifier);
        _label(id);
        vm.assertTrue(green.isGreen(id));
    }

    function test_label_refusedForUnknownRejectedSettled() public {
        _expectLabelRevert(certifier, 999, abi.encodeWithSelector(IGreenLabels.UnknownReceivable.selector, 999));
        _expectLabelRevert(certifier, 0, abi.encodeWithSelector(IGreenLabels.UnknownReceivable.selector, 0));
        uint256 rejected = _register(FACE);
        vm.prank(debtor);
        ledger.reject(rejected);
        _expectLabelRevert(certifier, rejected, abi.encodeWithSelector(IGreenLabels.NotLabellable.selector, rejected));
        _repay(id, FACE);
        vm.assertEq(uint256(_status(id)), uint256(IReceivableLedger.Status.Settled));
        _expectLabelRevert(certifier, id, abi.encodeWithSelector(IGreenLabels.NotLabellable.selector, id));
    }

    function test_label_refusedForBadInput() public {
        vm.warp(T0 + 10);
        uint256[3] memory bad = [T0 + 9, T0 + 10, uint256(type(uint40).max) + 1];
        for (uint256 i = 0; i < bad.length; ++i) {
            vm.prank(certifier);
            vm.expectRevert(abi.encodeWithSelector(IGreenLabels.InvalidValidity.selector, bad[i]));
            green.label(id, CATALOGUE, CATEGORY, EVIDENCE, bad[i], BENEFIT, ATTESTATION);
        }
        vm.startPrank(certifier);
        vm.expectRevert(IGreenLabels.ZeroHash.selector);
        green.label(id, 0, CATEGORY, EVIDENCE, validUntil, BENEFIT, ATTESTATION);
        vm.expectRevert(IGreenLabels.ZeroHash.selector);
        green.label(id, CATALOGUE, 0, EVIDENCE, validUntil, BENEFIT, ATTESTATION);
        vm.expectRevert(IGreenLabels.ZeroHash.selector);
        green.label(id, CATALOGUE, CATEGORY, 0, validUntil, BENEFIT, ATTESTATION);
        vm.expectRevert(IGreenLabels.ZeroHash.selector);
        green.label(id, CATALOGUE, CATEGORY, EVIDENCE, validUntil, BENEFIT, 0);
        uint256 tooMuch = uint256(type(uint64).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(IGreenLabels.BenefitTooLarge.selector, tooMuch));
        green.label(id, CATALOGUE, CATEGORY, EVIDENCE, validUntil, tooMuch, ATTESTATION);
        vm.stopPrank();
        vm.assertFalse(green.isGreen(id));
    }

    function test_label_liveNotOverwritten_expiredOrWithdrawnReplaced() public {
        _label(id);
        _expectLabelRevert(certifier, id, abi.encodeWithSelector(IGreenLabels.AlreadyLabelled.selector, id));
        _expectLabelRevert(certifier2, id, abi.encodeWithSelector(IGreenLabels.AlreadyLabelled.selector, id));
        // still live on its last valid second
        vm.warp(validUntil);
        vm.prank(certifier2);
        vm.expectRevert(abi.encodeWithSelector(IGreenLabels.AlreadyLabelled.selector, id));
        green.label(id, CATALOGUE, CATEGORY, EVIDENCE, validUntil + 1 days, BENEFIT, ATTESTATION);
        // expired: another certifier replaces it
        vm.warp(validUntil + 1);
        vm.assertFalse(green.isGreen(id));
        vm.prank(certifier2);
        green.label(id, bytes32("EU-TAXONOMY"), bytes32("7.1"), EVIDENCE, validUntil + 30 days, 7, ATTESTATION);
        IGreenLabels.Label memory l = green.labelOf(id);
        vm.assertEq(l.certifier, certifier2);
        vm.assertEq(l.catalogue, bytes32("EU-TAXONOMY"));
        vm.assertEq(uint256(l.labelledAt), validUntil + 1);
        vm.assertEq(uint256(l.benefitKg), 7);
        vm.assertTrue(green.isGreen(id));
        // withdrawn: replaced, and the new label is not withdrawn
        vm.prank(regulator);
        green.withdraw(id, keccak256("greenwashing"));
        vm.assertTrue(green.labelOf(id).withdrawn);
        _labelBy(certifier, id, validUntil + 60 days);
        l = green.labelOf(id);
        vm.assertEq(l.certifier, certifier);
        vm.assertFalse(l.withdrawn);
        vm.assertTrue(green.isGreen(id));
    }

    // ------------------------------------------------------------------ the label follows the id

    function test_label_followsSplitTransferAndMarket() public {
        _label(id);
        _move(supplier, supplier2, id, FACE / 4);
        _move(supplier2, supplier3, id, FACE / 8);
        vm.assertEq(ledger.balanceOf(supplier, id), FACE - FACE / 4);
        vm.assertEq(ledger.balanceOf(supplier2, id), FACE / 8);
        vm.assertEq(ledger.balanceOf(supplier3, id), FACE / 8);
        vm.assertTrue(green.isGreen(id));
        // a financier buys part of supplier3's units through the market: still the same id, still green
        uint256 oid = _offer(financier, id, 500);
        vm.prank(supplier3);
        market.acceptOffer(oid, FACE / 16);
        vm.assertEq(ledger.balanceOf(financier, id), FACE / 16);
        vm.assertTrue(green.isGreen(id));
        vm.assertEq(green.labelOf(id).certifier, certifier);
        // ... until the label expires, for every holder's units at once
        vm.warp(validUntil);
        vm.assertTrue(green.isGreen(id));
        vm.warp(validUntil + 1);
        vm.assertFalse(green.isGreen(id));
        vm.assertEq(green.labelOf(id).certifier, certifier); // the record stays, expired
    }

    // ------------------------------------------------------------------ withdraw

    function test_withdraw_byCertifier() public {
        _label(id);
        vm.expectEmit(true, true, false, true, address(green));
        emit IGreenLabels.GreenLabelWithdrawn(id, certifier, keccak256("found"));
        vm.prank(certifier);
        green.withdraw(id, keccak256("found"));
        vm.assertFalse(green.isGreen(id));
        IGreenLabels.Label memory l = green.labelOf(id);
        vm.assertTrue(l.withdrawn);
        vm.assertEq(l.certifier, certifier);
        vm.assertEq(l.evidenceHash, EVIDENCE);
        // not twice
        vm.prank(certifier);
        vm.expectRevert(abi.encodeWithSelector(IGreenLabels.NotLabelled.selector, id));
        green.withdraw(id, 0);
    }

    function test_withdraw_byRegulator() public {
        _label(id);
        vm.expectEmit(true, true, false, true, address(green));
        emit IGreenLabels.GreenLabelWithdrawn(id, regulator, keccak256("greenwashing"));
        vm.prank(regulator);
        green.withdraw(id, keccak256("greenwashing"));
        vm.assertFalse(green.isGreen(id));
        vm.prank(regulator);
        vm.expectRevert(abi.encodeWithSelector(IGreenLabels.NotLabelled.selector, id));
        green.withdraw(id, 0);
    }

    function test_withdraw_refused() public {
        // without a label
        vm.prank(certifier);
        vm.expectRevert(abi.encodeWithSelector(IGreenLabels.NotLabelled.selector, id));
        green.withdraw(id, 0);
        vm.prank(regulator);
        vm.expectRevert(abi.encodeWithSelector(IGreenLabels.NotLabelled.selector, 999));
        green.withdraw(999, 0);
        _label(id);
        address[7] memory others = [certifier2, financier, supplier, debtor, admin, verifier, outsider];
        for (uint256 i = 0; i < others.length; ++i) {
            vm.prank(others[i]);
            vm.expectRevert(abi.encodeWithSelector(IGreenLabels.NotLabelCertifier.selector, id, others[i]));
            green.withdraw(id, 0);
        }
        // a suspended certifier can't withdraw its own label, nor a suspended regulator
        vm.startPrank(admin);
        registry.suspend(certifier);
        registry.suspend(regulator);
        vm.stopPrank();
        vm.prank(certifier);
        vm.expectRevert(abi.encodeWithSelector(IGreenLabels.NotActiveCertifier.selector, certifier));
        green.withdraw(id, 0);
        vm.prank(regulator);
        vm.expectRevert(abi.encodeWithSelector(IGreenLabels.NotLabelCertifier.selector, id, regulator));
        green.withdraw(id, 0);
        vm.assertTrue(green.isGreen(id));
        // an expired label is not live: nothing to withdraw
        vm.warp(validUntil + 1);
        vm.prank(admin);
        registry.reinstate(certifier);
        vm.prank(certifier);
        vm.expectRevert(abi.encodeWithSelector(IGreenLabels.NotLabelled.selector, id));
        green.withdraw(id, 0);
    }

    // ------------------------------------------------------------------ programmes

    function test_programme_setReplaceEnd() public {
        vm.expectEmit(true, true, false, true, address(green));
        emit IGreenLabels.GreenProgrammeSet(financier, debtor, 150);
        _programme(financier, debtor, 150);
        vm.assertEq(green.programme(financier, debtor), 150);
        vm.assertEq(green.programme(financier2, debtor), 0);
        vm.assertEq(green.programme(financier, debtor2), 0);
        vm.expectEmit(true, true, false, true, address(green));
        emit IGreenLabels.GreenProgrammeSet(financier, debtor, 10_000);
        _programme(financier, debtor, 10_000);
        vm.assertEq(green.programme(financier, debtor), 10_000);
        vm.expectEmit(true, true, false, true, address(green));
        emit IGreenLabels.GreenProgrammeSet(financier, debtor, 0);
        _programme(financier, debtor, 0);
        vm.assertEq(green.programme(financier, debtor), 0);
        // a programme for a suspended debtor can still be set and ended
        vm.prank(admin);
        registry.suspend(debtor2);
        _programme(financier2, debtor2, 75);
        vm.assertEq(green.programme(financier2, debtor2), 75);
    }

    function test_programme_refused() public {
        address[7] memory others = [supplier, debtor, certifier, regulator, verifier, admin, outsider];
        for (uint256 i = 0; i < others.length; ++i) {
            vm.prank(others[i]);
            vm.expectRevert(abi.encodeWithSelector(IErrors.NotActiveFinancier.selector, others[i]));
            green.setProgramme(debtor, 100);
        }
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(IGreenLabels.InvalidDiscount.selector, 10_001));
        green.setProgramme(debtor, 10_001);
        vm.prank(financier);
        vm.expectRevert(IErrors.ZeroAddress.selector);
        green.setProgramme(address(0), 100);
        vm.prank(admin);
        registry.suspend(financier);
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(IErrors.NotActiveFinancier.selector, financier));
        green.setProgramme(debtor, 100);
        vm.assertEq(green.programme(financier, debtor), 0);
    }

    // ------------------------------------------------------------------ preference in the market

    function test_preference_view() public {
        _programme(financier, debtor, 150);
        vm.assertEq(green.preference(financier, id), 0); // not green
        _label(id);
        vm.assertEq(green.preference(financier, id), 150);
        vm.assertEq(green.preference(financier2, id), 0);
        vm.assertEq(green.preference(financier, 999), 0);
        vm.warp(validUntil + 1);
        vm.assertEq(green.preference(financier, id), 0);
    }

    function test_market_greenOfferGetsPreference() public {
        _label(id);
        _programme(financier, debtor, 150);
        vm.expectEmit(true, true, true, true, address(market));
        emit IDiscountMarket.OfferMade(1, id, financier, FACE, 350, T0 + 30 days);
        vm.expectEmit(true, true, false, true, address(market));
        emit IDiscountMarket.GreenPreferenceApplied(1, id, 500, 150, 350);
        uint256 oid = _offer(financier, id, 500);
        vm.assertEq(uint256(market.offer(oid).rateBps), 350);

        // the fill is priced at the applied rate
        vm.warp(T0 + 3 days);
        (uint256 expected, uint256 d) = market.quote(FACE / 4, 350, T0 + 90 days, block.timestamp);
        (uint256 p2, uint256 d2, uint256 applied) =
            market.quoteWithPreference(FACE / 4, 500, 150, T0 + 90 days, block.timestamp);
        vm.assertEq(p2, expected);
        vm.assertEq(d2, d);
        vm.assertEq(applied, 350);
        uint256 before = token.balanceOf(supplier);
        vm.expectEmit(true, true, true, true, address(market));
        emit IDiscountMarket.OfferFilled(oid, id, financier, supplier, FACE / 4, expected, d, FACE / 4);
        vm.prank(supplier);
        uint256 price = market.acceptOffer(oid, FACE / 4);
        vm.assertEq(price, expected);
        vm.assertEq(token.balanceOf(supplier) - before, expected);
        vm.assertEq(ledger.balanceOf(financier, id), FACE / 4);
    }

    function test_market_preferenceFloorsAtZero() public {
        _label(id);
        _programme(financier, debtor, 800);
        vm.expectEmit(true, true, false, true, address(market));
        emit IDiscountMarket.GreenPreferenceApplied(1, id, 500, 800, 0);
        uint256 oid = _offer(financier, id, 500);
        vm.assertEq(uint256(market.offer(oid).rateBps), 0);
        vm.prank(supplier);
        vm.assertEq(market.acceptOffer(oid, FACE / 2), FACE / 2); // at rate 0 the price is the nominal
        // a zero rate with a programme: preference applied, still zero
        vm.expectEmit(true, true, false, true, address(market));
        emit IDiscountMarket.GreenPreferenceApplied(2, id, 0, 800, 0);
        _offer(financier, id, 0);
    }

    function test_market_noPreference_otherFinancierDebtorNonGreenExpired() public {
        uint256 id2 = _register(supplier, debtor2, FACE, T0 + 90 days); // another debtor's, green too
        vm.prank(debtor2);
        ledger.endorse(id2);
        uint256 plain = _confirmed(FACE); // the same debtor's, not green
        _label(id);
        _label(id2);
        _programme(financier, debtor, 150); // financier: only for `debtor`; financier2: none
        vm.recordLogs();
        uint256 a = _offer(financier2, id, 500); // another financier
        uint256 b = _offer(financier, id2, 500); // another debtor
        uint256 c = _offer(financier, plain, 500); // not green
        vm.assertEq(_preferenceEvents(), 0);
        vm.assertEq(uint256(market.offer(a).rateBps), 500);
        vm.assertEq(uint256(market.offer(b).rateBps), 500);
        vm.assertEq(uint256(market.offer(c).rateBps), 500);
        // a programme for debtor2 is the financier's own: it applies only to its own offers
        _programme(financier2, debtor2, 40);
        vm.assertEq(uint256(market.offer(_offer(financier2, id2, 500)).rateBps), 460);
        vm.assertEq(uint256(market.offer(_offer(financier2, id, 500)).rateBps), 500);
        // an expired label gives no preference
        vm.warp(validUntil + 1);
        vm.recordLogs();
        uint256 e = _offer(financier, id, 500);
        vm.assertEq(_preferenceEvents(), 0);
        vm.assertEq(uint256(market.offer(e).rateBps), 500);
        // an ended programme neither
        vm.warp(T0);
        _programme(financier, debtor, 0);
        vm.assertEq(uint256(market.offer(_offer(financier, id, 500)).rateBps), 500);
    }

    function test_market_withdrawnLabel_oldOfferKeepsRate_newOfferNone() public {
        _label(id);
        _programme(financier, debtor, 150);
        uint256 before = _offer(financier, id, 500);
        vm.assertEq(uint256(market.offer(before).rateBps), 350);
        vm.prank(regulator);
        green.withdraw(id, keccak256("greenwashing"));
        vm.recordLogs();
        uint256 afterwards = _offer(financier, id, 500);
        vm.assertEq(_preferenceEvents(), 0);
        vm.assertEq(uint256(market.offer(afterwards).rateBps), 500);
        vm.assertEq(uint256(market.offer(before).rateBps), 350);
        // the earlier offer is still filled at its stored rate
        vm.warp(T0 + 1 days);
        (uint256 expected,) = market.quote(FACE / 10, 350, T0 + 90 days, block.timestamp);
        vm.prank(supplier);
        vm.assertEq(market.acceptOffer(before, FACE / 10), expected);
        (uint256 standard,) = market.quote(FACE / 10, 500, T0 + 90 days, block.timestamp);
        vm.prank(supplier);
        vm.assertEq(market.acceptOffer(afterwards, FACE / 10), standard);
        vm.assertGt(expected, standard, "the green offer pays more");
    }

    function test_market_invalidRateCheckedBeforePreference() public {
        _label(id);
        _programme(financier, debtor, 10_000);
        vm.prank(financier);
        vm.expectRevert(abi.encodeWithSelector(IDiscountMarket.InvalidRate.selector, 10_001));
        market.makeOffer(id, FACE, 10_001, T0 + 1 days);
    }

    // ------------------------------------------------------------------ quoteWithPreference

    function test_quoteWithPreference_examples() public view {
        (uint256 p, uint256 d, uint256 a) = market.quoteWithPreference(FACE, 500, 150, T0 + 90 days, T0);
        (uint256 q, uint256 e) = market.quote(FACE, 350, T0 + 90 days, T0);
        vm.assertEq(p, q);
        vm.assertEq(d, e);
        vm.assertEq(a, 350);
        (p,, a) = market.quoteWithPreference(FACE, 500, 501, T0 + 90 days, T0);
        vm.assertEq(p, FACE);
        vm.assertEq(a, 0);
        (p,, a) = market.quoteWithPreference(FACE, 500, 500, T0 + 90 days, T0);
        vm.assertEq(p, FACE);
        vm.assertEq(a, 0);
    }

    function testFuzz_quoteWithPreference_equalsQuoteAtAppliedRate(
        uint256 amount,
        uint256 rate,
        uint256 discount,
        uint256 dueDate,
        uint256 timestamp
    ) public view {
        amount = bound(amount, 0, type(uint128).max);
        rate = bound(rate, 0, 20_000);
        discount = bound(discount, 0, 20_000);
        timestamp = bound(timestamp, 0, type(uint40).max);
        dueDate = bound(dueDate, 0, type(uint40).max);
        uint256 applied = rate > discount ? rate - discount : 0;
        (bool ok1, bytes memory r1) = address(market)
            .staticcall(
                abi.encodeCall(IDiscountMarket.quoteWithPreference, (amount, rate, discount, dueDate, timestamp))
            );
        (bool ok2, bytes memory r2) =
            address(market).staticcall(abi.encodeCall(IDiscountMarket.quote, (amount, applied, dueDate, timestamp)));
        vm.assertEq(ok1, ok2, "both succeed or both revert");
        if (!ok1) {
            vm.assertEq(keccak256(r1), keccak256(r2), "same error");
            return;
        }
        (uint256 p1, uint256 d1, uint256 a1) = abi.decode(r1, (uint256, uint256, uint256));
        (uint256 p2, uint256 d2) = abi.decode(r2, (uint256, uint256));
        vm.assertEq(p1, p2);
        vm.assertEq(d1, d2);
        vm.assertEq(a1, applied);
    }
}
