// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IReceivableLedger} from "./IReceivableLedger.sol";
import {IParticipantRegistry} from "./IParticipantRegistry.sol";
import {IGreenLabels} from "./IGreenLabels.sol";
import {IErrors} from "./IErrors.sol";

/// @title IDiscountMarket
/// @notice Financiers offer to buy parts of confirmed receivables at an annual discount rate; a holder
/// accepts and, in one transaction, is paid the discounted price in settlement tokens while the units go
/// to the financier (delivery versus payment).
/// @dev Pricing: simple (bank) discount, day count ACT/365 with a started day counted as a whole day:
/// days = ceil((dueDate - now) / 86400); price = floor(nominal * (3_650_000 - rateBps * days) / 3_650_000),
/// where nominal = floor(units * outstanding / face) is what the units still claim (= units before any
/// repayment or credit note). The market moves a holder's units only in `acceptOffer`, called by that holder.
/// Rounding is down, in favour of the paying financier, at most one minor unit.
/// Green preference: when an offer is made on a receivable that is green at that moment
/// (`IGreenLabels.isGreen`), the maker's green programme for its debtor (`IGreenLabels.preference`) is taken
/// off the rate it gives: the offer stores and prices at the applied rate max(rateBps - discountBps, 0). The
/// preference is fixed when the offer is made: a label withdrawn (or expired) later does not change an existing
/// offer; offers made after it get none.
/// Shared errors (`IErrors`) it throws: `ZeroAddress` (constructor), `ZeroAmount`, `NotActiveFinancier` (the
/// caller of `makeOffer`/`cancelOffer`, or the maker at fill time), `CallerNotActive` (the caller of
/// `acceptOffer`).
interface IDiscountMarket is IErrors {
    /// @notice An offer. Three storage slots.
    /// @param maker The financier.
    /// @param rateBps Annual discount rate in basis points (the applied rate: after any green preference).
    /// @param expiry Last timestamp at which the offer can be accepted.
    /// @param cancelled Whether the maker cancelled it.
    /// @param receivableId The receivable.
    /// @param maxAmount Most units the maker will buy.
    /// @param filled Units bought so far.
    struct Offer {
        address maker;
        uint16 rateBps;
        uint40 expiry;
        bool cancelled;
        uint256 receivableId;
        uint128 maxAmount;
        uint128 filled;
    }

    /// @notice The maker's EIP-2612 permit of the settlement token for this market, applied in the same
    /// transaction as its offer (`makeOfferWithPermit`).
    /// @param value The allowance the maker signed (what the market may spend for all its offers).
    /// @param deadline Last timestamp at which the permit is valid.
    /// @param v Signature v.
    /// @param r Signature r.
    /// @param s Signature s.
    struct PermitSignature {
        uint256 value;
        uint256 deadline;
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    /// @notice Thrown when an offer does not exist.
    /// @param offerId The offer.
    error UnknownOffer(uint256 offerId);
    /// @notice Thrown when someone other than the maker cancels an offer.
    /// @param offerId The offer.
    /// @param caller The caller.
    error NotMaker(uint256 offerId, address caller);
    /// @notice Thrown when an offer is accepted after its expiry.
    /// @param offerId The offer.
    /// @param expiry Its expiry.
    error OfferExpired(uint256 offerId, uint256 expiry);
    /// @notice Thrown when a cancelled offer is accepted or cancelled again.
    /// @param offerId The offer.
    error OfferCancelled(uint256 offerId);
    /// @notice Thrown when a fill would exceed the offer's remaining amount.
    /// @param offerId The offer.
    /// @param amount Units requested.
    /// @param remaining Units still available.
    error OfferExceeded(uint256 offerId, uint256 amount, uint256 remaining);
    /// @notice Thrown when the maker tries to fill its own offer.
    /// @param offerId The offer.
    error SelfFill(uint256 offerId);
    /// @notice Thrown for a rate above `MAX_RATE_BPS`.
    /// @param rateBps The rate given.
    error InvalidRate(uint256 rateBps);
    /// @notice Thrown for an expiry not in the future, or beyond 2^40 - 1 (what the offer stores; it also keeps
    /// the expiry within the read model's 64-bit integer column).
    /// @param expiry The expiry given.
    error InvalidExpiry(uint256 expiry);
    /// @notice Thrown for an amount above 2^128-1.
    /// @param amount The amount given.
    error AmountTooLarge(uint256 amount);
    /// @notice Thrown when pricing at or after the due date.
    /// @param dueDate The due date.
    /// @param timestamp The pricing time.
    error Matured(uint256 dueDate, uint256 timestamp);
    /// @notice Thrown when rate x days reaches 100% (price would be zero or negative).
    /// @param rateBps The rate.
    /// @param daysToMaturity The days counted.
    error DiscountTooLarge(uint256 rateBps, uint256 daysToMaturity);
    /// @notice Thrown when a fill would be priced at zero (amount too small).
    /// @param offerId The offer.
    /// @param amount Units requested.
    error ZeroPrice(uint256 offerId, uint256 amount);
    /// @notice Thrown when a fill would pay less than the holder's floor (`acceptOfferAtLeast`): the price
    /// fell since the holder saw it (a day more was counted, or a repayment or credit note came first).
    /// @param offerId The offer.
    /// @param price The price the fill would pay.
    /// @param minPrice The holder's floor.
    error PriceBelowMinimum(uint256 offerId, uint256 price, uint256 minPrice);
    /// @notice Thrown when an offer is made on a receivable that is not confirmed, is disputed or matured.
    /// @param receivableId The receivable.
    error NotDiscountable(uint256 receivableId);

    /// @notice Emitted when a financier makes an offer.
    /// @param offerId The new offer id.
    /// @param receivableId The receivable.
    /// @param maker The financier.
    /// @param maxAmount Most units it will buy.
    /// @param rateBps Annual discount rate in basis points: the applied rate the offer stores (the rate given
    /// less the maker's green preference, if any; see `GreenPreferenceApplied`).
    /// @param expiry Last acceptance timestamp.
    event OfferMade(
        uint256 indexed offerId,
        uint256 indexed receivableId,
        address indexed maker,
        uint256 maxAmount,
        uint256 rateBps,
        uint256 expiry
    );
    /// @notice Emitted right after `OfferMade` when the maker's green programme applied to the offer (the
    /// receivable was green and the maker has a programme for its debtor).
    /// @param offerId The offer.
    /// @param receivableId The receivable.
    /// @param standardRateBps The rate the maker gave.
    /// @param discountBps The maker's programme discount for the receivable's debtor.
    /// @param appliedRateBps The rate the offer stores: max(standardRateBps - discountBps, 0).
    event GreenPreferenceApplied(
        uint256 indexed offerId,
        uint256 indexed receivableId,
        uint256 standardRateBps,
        uint256 discountBps,
        uint256 appliedRateBps
    );
    /// @notice Emitted when the maker cancels an offer.
    /// @param offerId The offer.
    /// @param maker The financier.
    /// @param unfilled Units that were still available.
    event OfferCancelledBy(uint256 indexed offerId, address indexed maker, uint256 unfilled);
    /// @notice Emitted when a holder accepts (part of) an offer: price paid and units delivered.
    /// @param offerId The offer.
    /// @param receivableId The receivable.
    /// @param maker The financier (buyer, payer).
    /// @param holder The seller (payee).
    /// @param amount Units delivered.
    /// @param price Settlement tokens paid.
    /// @param daysToMaturity Days counted (ACT/365, started day counts).
    /// @param filled Units filled on this offer so far.
    event OfferFilled(
        uint256 indexed offerId,
        uint256 indexed receivableId,
        address indexed maker,
        address holder,
        uint256 amount,
        uint256 price,
        uint256 daysToMaturity,
        uint256 filled
    );

    /// @notice The ledger whose receivables are traded.
    /// @return The ledger.
    function ledger() external view returns (IReceivableLedger);

    /// @notice The participant registry.
    /// @return The registry.
    function registry() external view returns (IParticipantRegistry);

    /// @notice The green labels and programmes asked, when an offer is made, for the maker's green preference.
    /// @return The green labels contract.
    function greenLabels() external view returns (IGreenLabels);

    /// @notice Makes an offer (no escrow: the maker approves this market for the settlement token).
    /// Active financier only. If the receivable is green now and the maker has a green programme for its
    /// debtor, the offer stores the applied rate max(rateBps - discount, 0) and `GreenPreferenceApplied` is
    /// emitted after `OfferMade`; the preference is fixed now (a label withdrawn later does not change this
    /// offer).
    /// @param receivableId A confirmed, undisputed, not yet due receivable.
    /// @param maxAmount Most units to buy (> 0).
    /// @param rateBps Annual discount rate in basis points (<= MAX_RATE_BPS), before any green preference.
    /// @param expiry Last acceptance timestamp (> now, <= 2^40 - 1).
    /// @return offerId The new offer id (sequential, from 1).
    function makeOffer(uint256 receivableId, uint256 maxAmount, uint256 rateBps, uint256 expiry)
        external
        returns (uint256 offerId);

    /// @notice `makeOffer` and the maker's EIP-2612 permit for this market in one transaction: the offer is
    /// made, then the maker's allowance for this market is set to `permit.value` (typically what it was plus
    /// `maxAmount`). If the offer is refused, the permit is not applied either (allowance and permit nonce
    /// unchanged). A permit that someone else already submitted (front-running) is accepted when the allowance
    /// is already `permit.value`; otherwise the token's error is re-thrown (`ERC2612InvalidSigner`,
    /// `ERC2612ExpiredSignature`, `CallerNotActive`). Emits `OfferMade` (then `GreenPreferenceApplied` when
    /// the maker's green preference applies, as in `makeOffer`) and the token's `Approval`.
    /// @param receivableId A confirmed, undisputed, not yet due receivable.
    /// @param maxAmount Most units to buy (> 0).
    /// @param rateBps Annual discount rate in basis points (<= MAX_RATE_BPS), before any green preference.
    /// @param expiry Last acceptance timestamp (> now, <= 2^40 - 1).
    /// @param permit The maker's permit of the receivable's settlement token, spender this market.
    /// @return offerId The new offer id.
    function makeOfferWithPermit(
        uint256 receivableId,
        uint256 maxAmount,
        uint256 rateBps,
        uint256 expiry,
        PermitSignature calldata permit
    ) external returns (uint256 offerId);

    /// @notice Cancels an offer. Its maker only (while active).
    /// @param offerId The offer.
    function cancelOffer(uint256 offerId) external;

    /// @notice Sells `amount` units of the offer's receivable to its maker at the discounted price:
    /// the price moves maker -> caller in settlement tokens and the units caller -> maker, atomically.
    /// @param offerId The offer.
    /// @param amount Units to sell (<= remaining; the caller's effective balance).
    /// @return price Settlement tokens received.
    function acceptOffer(uint256 offerId, uint256 amount) external returns (uint256 price);

    /// @notice `acceptOffer`, but reverts with `PriceBelowMinimum` unless the price is at least `minPrice`:
    /// a holder who was shown a price is never paid less than it.
    /// @param offerId The offer.
    /// @param amount Units to sell (<= remaining; the caller's effective balance).
    /// @param minPrice The least the caller accepts to be paid, in settlement tokens.
    /// @return price Settlement tokens received (>= `minPrice`).
    function acceptOfferAtLeast(uint256 offerId, uint256 amount, uint256 minPrice) external returns (uint256 price);

    /// @notice The discounted price (see the interface NatSpec for convention and rounding).
    /// @param amount Units (minor units of nominal).
    /// @param rateBps Annual rate in basis points.
    /// @param dueDate Due date (unix seconds).
    /// @param timestamp Pricing time (unix seconds), before `dueDate`.
    /// @return price floor(amount * (3_650_000 - rateBps * days) / 3_650_000).
    /// @return daysToMaturity ceil((dueDate - timestamp) / 86400).
    function quote(uint256 amount, uint256 rateBps, uint256 dueDate, uint256 timestamp)
        external
        pure
        returns (uint256 price, uint256 daysToMaturity);

    /// @notice `quote` at the rate an offer with a green preference stores: the applied rate
    /// max(rateBps - discountBps, 0).
    /// @param amount Units (minor units of nominal).
    /// @param rateBps Annual rate in basis points, before the preference.
    /// @param discountBps The green preference (a financier's programme discount) in basis points.
    /// @param dueDate Due date (unix seconds).
    /// @param timestamp Pricing time (unix seconds), before `dueDate`.
    /// @return price `quote(amount, appliedRateBps, dueDate, timestamp)`'s price.
    /// @return daysToMaturity ceil((dueDate - timestamp) / 86400).
    /// @return appliedRateBps rateBps > discountBps ? rateBps - discountBps : 0.
    function quoteWithPreference(
        uint256 amount,
        uint256 rateBps,
        uint256 discountBps,
        uint256 dueDate,
        uint256 timestamp
    ) external pure returns (uint256 price, uint256 daysToMaturity, uint256 appliedRateBps);

    /// @notice An offer.
    /// @param offerId The offer.
    /// @return The offer (all zero if unknown).
    function offer(uint256 offerId) external view returns (Offer memory);

    /// @notice Number of offers made (also the last id).
    /// @return The count.
    function offerCount() external view returns (uint256);
}
