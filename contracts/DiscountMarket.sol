// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {IDiscountMarket} from "./interfaces/IDiscountMarket.sol";
import {IReceivableLedger} from "./interfaces/IReceivableLedger.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {IGreenLabels} from "./interfaces/IGreenLabels.sol";
import {Permits} from "./Permits.sol";

/// @title DiscountMarket
/// @notice Discounting of receivables against settlement tokens, delivery versus payment.
/// @dev Day count ACT/365; a started day counts as a full day; simple (bank) discount; price rounded down.
/// The price is on the nominal the bought units still claim: floor(units * outstanding / face).
/// No escrow: makers approve this contract for the settlement token (`approve` beforehand, or an EIP-2612
/// permit in the same transaction as the offer: `makeOfferWithPermit`); units move via
/// `IReceivableLedger.marketTransfer`, which applies the ledger's compliance check (confirmed, not disputed,
/// not matured, both parties active, holder's effective balance).
/// Green preference: when an offer is made, the maker's green programme for the receivable's debtor (if the
/// receivable is green now, `IGreenLabels.preference`) is taken off the rate it gives, and the offer stores the
/// applied rate. It is fixed then: a label withdrawn or expired later does not change an existing offer.
contract DiscountMarket is IDiscountMarket, Context, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Basis points times days in a 365-day year: the day-count denominator.
    uint256 public constant YEAR_BPS_DAYS = 3_650_000;
    /// @notice Highest annual rate an offer may carry (100%).
    uint256 public constant MAX_RATE_BPS = 10_000;

    IReceivableLedger private immutable _ledger;
    IParticipantRegistry private immutable _registry;
    IGreenLabels private immutable _green;
    uint256 private _count;
    mapping(uint256 offerId => Offer) private _offers;

    /// @param ledger_ The receivable ledger.
    /// @param registry_ The participant registry.
    /// @param green_ The green labels and programmes asked for the preference of each new offer.
    constructor(IReceivableLedger ledger_, IParticipantRegistry registry_, IGreenLabels green_) {
        if (address(ledger_) == address(0) || address(registry_) == address(0) || address(green_) == address(0)) {
            revert ZeroAddress();
        }
        _ledger = ledger_;
        _registry = registry_;
        _green = green_;
    }

    /// @inheritdoc IDiscountMarket
    function ledger() external view returns (IReceivableLedger) {
        return _ledger;
    }

    /// @inheritdoc IDiscountMarket
    function registry() external view returns (IParticipantRegistry) {
        return _registry;
    }

    /// @inheritdoc IDiscountMarket
    function greenLabels() external view returns (IGreenLabels) {
        return _green;
    }

    /// @inheritdoc IDiscountMarket
    function makeOffer(uint256 receivableId, uint256 maxAmount, uint256 rateBps, uint256 expiry)
        external
        returns (uint256 offerId)
    {
        (offerId,) = _makeOffer(receivableId, maxAmount, rateBps, expiry);
    }

    /// @inheritdoc IDiscountMarket
    function makeOfferWithPermit(
        uint256 receivableId,
        uint256 maxAmount,
        uint256 rateBps,
        uint256 expiry,
        PermitSignature calldata permit
    ) external returns (uint256 offerId) {
        address token;
        (offerId, token) = _makeOffer(receivableId, maxAmount, rateBps, expiry);
        // the receivable's settlement token; the maker (msg.sender) signed the permit for this market
        Permits.permit(token, _msgSender(), address(this), permit.value, permit.deadline, permit.v, permit.r, permit.s);
    }

    function _makeOffer(uint256 receivableId, uint256 maxAmount, uint256 rateBps, uint256 expiry)
        private
        returns (uint256 offerId, address token)
    {
        address maker = _msgSender();
        _requireFinancier(maker);
        if (maxAmount == 0) revert ZeroAmount();
        if (maxAmount > type(uint128).max) revert AmountTooLarge(maxAmount);
        if (rateBps > MAX_RATE_BPS) revert InvalidRate(rateBps);
        if (expiry <= block.timestamp || expiry > type(uint40).max) revert InvalidExpiry(expiry);
        uint256 dueDate;
        IReceivableLedger.Status status;
        bool disputed;
        // slither-disable-next-line unused-return
        (token, dueDate, status, disputed,,) = _ledger.discountTerms(receivableId);
        if (status != IReceivableLedger.Status.Confirmed || disputed || block.timestamp >= dueDate) {
            revert NotDiscountable(receivableId);
        }
        // the maker's green programme for the debtor, if the receivable is green now; fixed in the offer
        uint256 pref = _green.preference(maker, receivableId);
        uint256 applied = rateBps > pref ? rateBps - pref : 0;
        offerId = ++_count;
        _offers[offerId] = Offer({
            maker: maker,
            rateBps: uint16(applied),
            expiry: uint40(expiry),
            cancelled: false,
            receivableId: receivableId,
            maxAmount: uint128(maxAmount),
            filled: 0
        });
        emit OfferMade(offerId, receivableId, maker, maxAmount, applied, expiry);
        if (pref != 0) emit GreenPreferenceApplied(offerId, receivableId, rateBps, pref, applied);
    }

    /// @inheritdoc IDiscountMarket
    function cancelOffer(uint256 offerId) external {
        Offer storage o = _offers[offerId];
        address maker = o.maker;
        if (maker == address(0)) revert UnknownOffer(offerId);
        address caller = _msgSender();
        if (caller != maker) revert NotMaker(offerId, caller);
        _requireFinancier(caller);
        if (o.cancelled) revert OfferCancelled(offerId);
        o.cancelled = true;
        emit OfferCancelledBy(offerId, maker, uint256(o.maxAmount) - o.filled);
    }

    /// @inheritdoc IDiscountMarket
    function acceptOffer(uint256 offerId, uint256 amount) external nonReentrant returns (uint256 price) {
        return _accept(offerId, amount, 0);
    }

    /// @inheritdoc IDiscountMarket
    function acceptOfferAtLeast(uint256 offerId, uint256 amount, uint256 minPrice)
        external
        nonReentrant
        returns (uint256 price)
    {
        return _accept(offerId, amount, minPrice);
    }

    function _accept(uint256 offerId, uint256 amount, uint256 minPrice) private returns (uint256 price) {
        Offer storage o = _offers[offerId];
        address holder = _msgSender();
        address maker = _validateFill(o, offerId, holder, amount);
        uint256 receivableId = o.receivableId;
        (address token, uint256 p, uint256 daysToMaturity) = _priceOf(receivableId, amount, o.rateBps);
        price = p;
        // slither-disable-next-line incorrect-equality
        if (price == 0) revert ZeroPrice(offerId, amount);
        if (price < minPrice) revert PriceBelowMinimum(offerId, price, minPrice);

        uint256 filled = uint256(o.filled) + amount;
        o.filled = uint128(filled);
        emit OfferFilled(offerId, receivableId, maker, holder, amount, price, daysToMaturity, filled);

        // Payment leg, then delivery leg (which re-checks the receivable: confirmed, undisputed, not matured,
        // holder's effective balance, maker active and allowed to hold receivables).
        // `maker` created this offer itself (msg.sender of makeOffer) and approved the market for it; the amount
        // is bounded by its offer (amount <= remaining) and priced on chain.
        // slither-disable-next-line arbitrary-send-erc20
        IERC20(token).safeTransferFrom(maker, holder, price);
        _ledger.marketTransfer(holder, maker, receivableId, amount);
    }

    /// @dev Price of `amount` units: discounted nominal they still claim, floor(units * outstanding / face)
    /// (equal to `amount` before any repayment or credit note).
    function _priceOf(uint256 receivableId, uint256 amount, uint256 rateBps)
        private
        view
        returns (address token, uint256 price, uint256 daysToMaturity)
    {
        uint256 dueDate;
        uint256 face;
        uint256 open;
        // slither-disable-next-line unused-return
        (token, dueDate,,, face, open) = _ledger.discountTerms(receivableId);
        uint256 nominal = face == 0 ? 0 : Math.mulDiv(amount, open, face);
        (price, daysToMaturity) = _quote(nominal, rateBps, dueDate, block.timestamp);
    }

    function _validateFill(Offer storage o, uint256 offerId, address holder, uint256 amount)
        private
        view
        returns (address maker)
    {
        maker = o.maker;
        if (maker == address(0)) revert UnknownOffer(offerId);
        if (o.cancelled) revert OfferCancelled(offerId);
        uint256 expiry = o.expiry;
        if (block.timestamp > expiry) revert OfferExpired(offerId, expiry);
        if (amount == 0) revert ZeroAmount();
        uint256 remaining = uint256(o.maxAmount) - o.filled;
        if (amount > remaining) revert OfferExceeded(offerId, amount, remaining);
        if (holder == maker) revert SelfFill(offerId);
        if (!_registry.isActive(holder)) revert CallerNotActive(holder);
        _requireFinancier(maker);
    }

    /// @inheritdoc IDiscountMarket
    function quote(uint256 amount, uint256 rateBps, uint256 dueDate, uint256 timestamp)
        external
        pure
        returns (uint256 price, uint256 daysToMaturity)
    {
        return _quote(amount, rateBps, dueDate, timestamp);
    }

    /// @inheritdoc IDiscountMarket
    function quoteWithPreference(
        uint256 amount,
        uint256 rateBps,
        uint256 discountBps,
        uint256 dueDate,
        uint256 timestamp
    ) external pure returns (uint256 price, uint256 daysToMaturity, uint256 appliedRateBps) {
        appliedRateBps = rateBps > discountBps ? rateBps - discountBps : 0;
        (price, daysToMaturity) = _quote(amount, appliedRateBps, dueDate, timestamp);
    }

    /// @inheritdoc IDiscountMarket
    function offer(uint256 offerId) external view returns (Offer memory) {
        return _offers[offerId];
    }

    /// @inheritdoc IDiscountMarket
    function offerCount() external view returns (uint256) {
        return _count;
    }

    function _quote(uint256 amount, uint256 rateBps, uint256 dueDate, uint256 timestamp)
        private
        pure
        returns (uint256 price, uint256 daysToMaturity)
    {
        if (timestamp >= dueDate) revert Matured(dueDate, timestamp);
        daysToMaturity = Math.ceilDiv(dueDate - timestamp, 1 days);
        if (
            rateBps != 0
                && (rateBps >= YEAR_BPS_DAYS || daysToMaturity >= YEAR_BPS_DAYS || rateBps * daysToMaturity >= YEAR_BPS_DAYS)
        ) revert DiscountTooLarge(rateBps, daysToMaturity);
        price = Math.mulDiv(amount, YEAR_BPS_DAYS - rateBps * daysToMaturity, YEAR_BPS_DAYS);
    }

    function _requireFinancier(address account) private view {
        if (!_registry.hasActiveRole(account, IParticipantRegistry.Role.Financier)) revert NotActiveFinancier(account);
    }
}
