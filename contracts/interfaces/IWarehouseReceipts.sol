// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IErrors} from "./IErrors.sol";
import {IDiscountMarket} from "./IDiscountMarket.sol";

/// @title IWarehouseReceipts
/// @notice Electronic warehouse receipts (one ERC-721 token per lot of goods) and loans against them.
/// An appointed warehouse issues a receipt for goods it holds; the same lot can't be issued twice. The owner
/// transfers it, or pledges it to a financier for a loan in the settlement token: the financier offers the
/// terms, the owner accepts, and the principal is paid out in the same transaction. A pledged receipt can't
/// move, be pledged again or be surrendered until the loan is repaid (the pledge is then released) or the
/// pledgee releases it; after maturity plus `GRACE_PERIOD` an unpaid pledgee takes title. The gateway's
/// verifier records alerts raised by signed sensor readings; the pledgee can freeze the receipt; the
/// warehouse clears an alert with a signed explanation. Goods-out: the owner surrenders (burns) the receipt.
/// Valuation: the verifier records commodity prices (observed by price sources whose signatures the gateway
/// checked); collateral value = sum of quantity x price / `PRICE_QUANTITY`. A loan is offered only within its
/// loan-to-value limit at the latest price; when outstanding / value crosses its margin-call threshold (a fall
/// of the price after the offer included), anyone may call the margin:
/// the borrower then has `MARGIN_CALL_PERIOD` to top up with more receipts (at most `MAX_COLLATERAL` per loan)
/// or repay, after which the pledgee may take title to every receipt of the loan.
/// @dev Interest is simple, ACT/365, a started day counted whole, fixed when the loan starts:
/// due = principal + floor(principal * rateBps * days / 3_650_000), days = ceil((maturity - start) / 86400).
/// Rounding is down, in favour of the borrower. Suspension stops new obligations and movements of value
/// (issuing, accepting a loan, transfers, surrender, taking title), never the settlement of a loan: a
/// suspended borrower repays and adds collateral, a suspended lender releases or withdraws.
/// Shared errors (`IErrors`) it throws: `ZeroAddress` (constructor), `ZeroAmount`, `CallerNotActive` (an
/// owner, borrower or recipient that is not an active participant), `NotActiveFinancier` (a lender).
interface IWarehouseReceipts is IErrors {
    /// @notice A receipt's record. Two storage slots; the lot's grade, storage location, lot reference and
    /// goods-in evidence are in the `ReceiptIssued` event.
    /// @param warehouse The warehouse that issued it (and holds the goods).
    /// @param quantity Quantity in the unit's smallest step (e.g. kilograms).
    /// @param commodity Commodity code (e.g. "SOYBEAN").
    /// @param unit UN/ECE Recommendation 20 unit code (e.g. "KGM").
    /// @param loanId The loan it is pledged for (0: not pledged).
    /// @param openAlerts Alerts recorded and not yet cleared.
    /// @param alertsRecorded Alerts ever recorded (an alert's id is receipt id << 16 | its number).
    /// @param frozen Whether its pledgee froze it.
    struct Receipt {
        address warehouse;
        uint96 quantity;
        bytes16 commodity;
        bytes4 unit;
        uint32 loanId;
        uint16 openAlerts;
        uint16 alertsRecorded;
        bool frozen;
    }

    /// @notice What a warehouse declares when it issues a receipt.
    /// @param commodity Commodity code.
    /// @param grade Grade or quality class.
    /// @param quantity Quantity in the unit's smallest step.
    /// @param unit UN/ECE Recommendation 20 unit code.
    /// @param location The storage location's identifier in the warehouse.
    /// @param lotRef Keccak-256 of the lot's normalized identity at the warehouse (its lot number).
    /// @param evidenceHash Hash of the goods-in evidence (weighbridge ticket, inspection report).
    struct Lot {
        bytes16 commodity;
        bytes32 grade;
        uint96 quantity;
        bytes4 unit;
        bytes32 location;
        bytes32 lotRef;
        bytes32 evidenceHash;
    }

    /// @notice A loan's state.
    enum LoanState {
        None,
        Offered,
        Active,
        Repaid,
        Released,
        Defaulted,
        Withdrawn
    }

    /// @notice A loan against one or more receipts (the first is `receiptId`). Three storage slots.
    /// @param lender The financier (the pledgee once active).
    /// @param receiptId The first receipt pledged.
    /// @param state Offered, then Active, then Repaid, Released or Defaulted (or Withdrawn by its lender).
    /// @param rateBps Annual simple interest in basis points.
    /// @param maturity When it is due (unix seconds).
    /// @param principal Paid out to the owner when the loan starts.
    /// @param ltvLimitBps The most the principal could be of the collateral's value when offered.
    /// @param marginCallBps Outstanding above this share of the collateral's value lets anyone call the margin.
    /// @param marginDeadline While a margin call is open: when the pledgee may take title (0: none open).
    /// @param collateralCount Receipts pledged for it.
    /// @param due Principal plus interest, fixed when the loan starts (the principal before).
    /// @param repaid Repaid so far.
    struct Loan {
        address lender;
        uint64 receiptId;
        LoanState state;
        uint16 rateBps;
        uint40 maturity;
        uint128 principal;
        uint16 ltvLimitBps;
        uint16 marginCallBps;
        uint40 marginDeadline;
        uint8 collateralCount;
        uint128 due;
        uint128 repaid;
    }

    /// @notice A loan's terms, as its lender offers them.
    /// @param principal Paid out to the owner when it accepts.
    /// @param rateBps Annual simple interest in basis points (<= `MAX_RATE_BPS`).
    /// @param maturity When it is due.
    /// @param ltvLimitBps The most the principal may be of the collateral's value when offered (1..10_000).
    /// @param marginCallBps The margin-call threshold (`ltvLimitBps`..10_000).
    struct LoanTerms {
        uint256 principal;
        uint256 rateBps;
        uint256 maturity;
        uint256 ltvLimitBps;
        uint256 marginCallBps;
    }

    /// @notice The latest verified price of a commodity in a unit. One storage slot.
    /// @param perThousand Minor units of the settlement token per `PRICE_QUANTITY` units.
    /// @param observedAt When the price source observed it.
    struct Price {
        uint128 perThousand;
        uint40 observedAt;
    }

    /// @notice Thrown when a warehouse issues a receipt for a lot it already issued one for.
    /// @param fingerprint keccak256(warehouse, lotRef).
    /// @param receiptId The receipt issued for it.
    error DuplicateLot(bytes32 fingerprint, uint256 receiptId);
    /// @notice Thrown when the caller is not an appointed, active warehouse.
    /// @param account The caller.
    error NotWarehouse(address account);
    /// @notice Thrown when a lot declares no commodity, unit or lot reference.
    error IncompleteLot();
    /// @notice Thrown when a pledged or frozen receipt would move or be surrendered.
    /// @param receiptId The receipt.
    /// @param loanId The loan it is pledged for (0 when only frozen).
    error ReceiptLocked(uint256 receiptId, uint256 loanId);
    /// @notice Thrown when a receipt does not exist (never issued, or surrendered).
    /// @param receiptId The receipt.
    error UnknownReceipt(uint256 receiptId);
    /// @notice Thrown when a loan does not exist.
    /// @param loanId The loan.
    error UnknownLoan(uint256 loanId);
    /// @notice Thrown when a loan is not in the state the action needs.
    /// @param loanId The loan.
    /// @param state Its state.
    error WrongLoanState(uint256 loanId, LoanState state);
    /// @notice Thrown when someone else than the receipt's owner acts as its owner.
    /// @param receiptId The receipt.
    /// @param caller The caller.
    error NotOwner(uint256 receiptId, address caller);
    /// @notice Thrown when someone else than the loan's lender acts as its lender (or pledgee).
    /// @param loanId The loan.
    /// @param caller The caller.
    error NotLender(uint256 loanId, address caller);
    /// @notice Thrown for a rate above `MAX_RATE_BPS`.
    /// @param rateBps The rate given.
    error InvalidRate(uint256 rateBps);
    /// @notice Thrown for a maturity not in the future, or beyond 2^40 - 1.
    /// @param maturity The maturity given.
    error InvalidMaturity(uint256 maturity);
    /// @notice Thrown for a principal above 2^112 - 1, or a repayment above what is still due.
    /// @param amount The amount given.
    /// @param most The most allowed.
    error AmountTooLarge(uint256 amount, uint256 most);
    /// @notice Thrown when a pledgee claims title before maturity plus `GRACE_PERIOD`.
    /// @param loanId The loan.
    /// @param claimableFrom When it can be claimed.
    error NotInDefault(uint256 loanId, uint256 claimableFrom);
    /// @notice Thrown when the caller is not the gateway's active verifier.
    /// @param account The caller.
    error NotVerifier(address account);
    /// @notice Thrown when an alert does not exist or is cleared already.
    /// @param alertId The alert.
    error UnknownAlert(uint256 alertId);
    /// @notice Thrown when a receipt has had 65,535 alerts recorded (its alert numbers are used up).
    /// @param receiptId The receipt.
    error TooManyAlerts(uint256 receiptId);
    /// @notice Thrown for loan-to-value terms out of order (0 < limit <= margin call <= 10_000).
    /// @param ltvLimitBps The limit given.
    /// @param marginCallBps The threshold given.
    error InvalidLoanToValue(uint256 ltvLimitBps, uint256 marginCallBps);
    /// @notice Thrown when no price is recorded for a commodity in a unit.
    /// @param commodity The commodity.
    /// @param unit The unit.
    error NoPrice(bytes16 commodity, bytes4 unit);
    /// @notice Thrown for a price observed in the future, or not after the one recorded.
    /// @param observedAt The observation time given.
    /// @param latest The one recorded.
    error StalePrice(uint256 observedAt, uint256 latest);
    /// @notice Thrown when a loan would be offered above its loan-to-value limit.
    /// @param loanId The loan the offer would have been.
    /// @param principal Its principal.
    /// @param value The collateral's value.
    error LoanToValueTooHigh(uint256 loanId, uint256 principal, uint256 value);
    /// @notice Thrown when the margin is called while outstanding is within the threshold, or a call is open.
    /// @param loanId The loan.
    /// @param outstanding What is still due.
    /// @param value The collateral's value.
    error MarginNotCallable(uint256 loanId, uint256 outstanding, uint256 value);
    /// @notice Thrown when a loan would hold more than `MAX_COLLATERAL` receipts.
    /// @param loanId The loan.
    error TooMuchCollateral(uint256 loanId);
    /// @notice Thrown when a receipt's pledgee freezes it twice, or unfreezes it while not frozen.
    /// @param receiptId The receipt.
    /// @param frozen Whether it is frozen.
    error FreezeUnchanged(uint256 receiptId, bool frozen);

    /// @notice The operator appointed a warehouse, or withdrew the appointment.
    /// @param warehouse The warehouse.
    /// @param appointed Whether it may issue receipts.
    event WarehouseAppointed(address indexed warehouse, bool appointed);
    /// @notice A receipt was issued (and minted to `owner`: ERC-721 `Transfer` from zero).
    /// @param receiptId The receipt.
    /// @param warehouse The issuing warehouse.
    /// @param owner The first owner.
    /// @param lot Everything the warehouse declared.
    /// @param fingerprint keccak256(warehouse, lotRef): the lot's identity on the ledger.
    event ReceiptIssued(
        uint256 indexed receiptId, address indexed warehouse, address indexed owner, Lot lot, bytes32 fingerprint
    );
    /// @notice A receipt was surrendered for the goods (and burned: ERC-721 `Transfer` to zero).
    /// @param receiptId The receipt.
    /// @param owner Its last owner.
    event ReceiptSurrendered(uint256 indexed receiptId, address indexed owner);
    /// @notice A financier offered a loan against a receipt.
    /// @param loanId The loan.
    /// @param receiptId The receipt.
    /// @param lender The financier.
    /// @param principal The amount it would pay out.
    /// @param rateBps Annual simple interest.
    /// @param maturity When it would be due.
    /// @param ltvLimitBps The loan-to-value limit it was offered within.
    /// @param marginCallBps Its margin-call threshold.
    event LoanOffered(
        uint256 indexed loanId,
        uint256 indexed receiptId,
        address indexed lender,
        uint256 principal,
        uint256 rateBps,
        uint256 maturity,
        uint256 ltvLimitBps,
        uint256 marginCallBps
    );
    /// @notice The lender withdrew an offer no owner had accepted.
    /// @param loanId The loan.
    event LoanWithdrawn(uint256 indexed loanId);
    /// @notice The owner accepted: the receipt is pledged and the principal was paid to the owner.
    /// @param loanId The loan.
    /// @param receiptId The receipt.
    /// @param borrower The owner.
    /// @param due Principal plus interest to maturity.
    event LoanStarted(uint256 indexed loanId, uint256 indexed receiptId, address indexed borrower, uint256 due);
    /// @notice A repayment (in full or in part) was paid to the lender.
    /// @param loanId The loan.
    /// @param payer Who paid.
    /// @param amount The amount.
    /// @param repaid Repaid so far.
    event LoanRepaid(uint256 indexed loanId, address indexed payer, uint256 amount, uint256 repaid);
    /// @notice The pledge ended: repaid in full, released by the pledgee, or title taken after a default.
    /// @param loanId The loan.
    /// @param receiptId The receipt.
    /// @param state How it ended (Repaid, Released or Defaulted).
    event PledgeEnded(uint256 indexed loanId, uint256 indexed receiptId, LoanState state);
    /// @notice The verifier recorded an alert raised by a rule on signed readings.
    /// @param alertId The alert.
    /// @param receiptId The receipt.
    /// @param code The rule's code (e.g. "WEIGHT_BELOW_RECEIPT").
    /// @param evidenceHash Hash of the readings that raised it.
    event AlertRecorded(uint256 indexed alertId, uint256 indexed receiptId, bytes32 code, bytes32 evidenceHash);
    /// @notice The warehouse cleared an alert with an explanation.
    /// @param alertId The alert.
    /// @param receiptId The receipt.
    /// @param explanationHash Hash of its signed explanation and the new readings.
    event AlertCleared(uint256 indexed alertId, uint256 indexed receiptId, bytes32 explanationHash);
    /// @notice The verifier recorded a commodity price observed by a price source.
    /// @param commodity The commodity.
    /// @param unit The unit.
    /// @param perThousand Minor units per `PRICE_QUANTITY` units.
    /// @param observedAt When it was observed.
    /// @param sourceHash Hash of the price source's signed observation.
    event PriceRecorded(
        bytes16 indexed commodity, bytes4 indexed unit, uint256 perThousand, uint256 observedAt, bytes32 sourceHash
    );
    /// @notice The borrower pledged one more receipt for a loan.
    /// @param loanId The loan.
    /// @param receiptId The receipt.
    event CollateralAdded(uint256 indexed loanId, uint256 indexed receiptId);
    /// @notice Outstanding crossed the margin-call threshold: the borrower has until `deadline`.
    /// @param loanId The loan.
    /// @param deadline When the pledgee may take title unless cured.
    /// @param outstanding What was still due.
    /// @param value The collateral's value.
    event MarginCalled(uint256 indexed loanId, uint256 deadline, uint256 outstanding, uint256 value);
    /// @notice An open margin call was cured (repayment, more collateral or a higher price).
    /// @param loanId The loan.
    event MarginCallCured(uint256 indexed loanId);
    /// @notice The pledgee froze or unfroze a receipt.
    /// @param receiptId The receipt.
    /// @param frozen Whether it is frozen now.
    event ReceiptFrozen(uint256 indexed receiptId, bool frozen);

    /// @notice Appoints a warehouse (an active Logistics participant), or withdraws the appointment. Operator.
    /// @param warehouse The warehouse.
    /// @param appointed Whether it may issue receipts.
    function appointWarehouse(address warehouse, bool appointed) external;

    /// @notice Issues a receipt for a lot the caller (an appointed warehouse) holds, to `owner`.
    /// @param owner The goods' owner (an active participant).
    /// @param lot What the warehouse declares.
    /// @return receiptId The new receipt.
    function issue(address owner, Lot calldata lot) external returns (uint256 receiptId);

    /// @notice Surrenders a receipt for its goods (goods-out): burns it. Its owner, when not pledged or frozen.
    /// @param receiptId The receipt.
    function surrender(uint256 receiptId) external;

    /// @notice Offers a loan against a receipt (an active financier). Nothing moves until the owner accepts.
    /// @param receiptId The receipt.
    /// @param terms Principal, rate, maturity, loan-to-value limit and margin-call threshold.
    /// @return loanId The offer.
    function offerLoan(uint256 receiptId, LoanTerms calldata terms) external returns (uint256 loanId);

    /// @notice Offers a loan and sets the lender's allowance for this contract with its EIP-2612 permit, in one
    /// transaction: an offer that reverts leaves the allowance and the permit nonce as they were.
    /// @param receiptId The receipt.
    /// @param terms Principal, rate, maturity, loan-to-value limit and margin-call threshold.
    /// @param permit The lender's permit for this contract (its `value` covers this principal and any other
    /// offer of the lender still open).
    /// @return loanId The offer.
    function offerLoanWithPermit(
        uint256 receiptId,
        LoanTerms calldata terms,
        IDiscountMarket.PermitSignature calldata permit
    ) external returns (uint256 loanId);

    /// @notice Withdraws an offer no owner has accepted. Its lender.
    /// @param loanId The offer.
    function withdrawLoan(uint256 loanId) external;

    /// @notice Accepts a loan offer: pledges the receipt and pays the principal lender -> owner. Its owner.
    /// @param loanId The offer.
    /// @return due Principal plus interest to maturity.
    function acceptLoan(uint256 loanId) external returns (uint256 due);

    /// @notice Pledges one more receipt of the borrower for an active loan (at most `MAX_COLLATERAL`).
    /// @param loanId The loan.
    /// @param receiptId The receipt (the borrower's, not pledged or frozen).
    function addCollateral(uint256 loanId, uint256 receiptId) external;

    /// @notice Records a commodity price a price source observed. The gateway's active verifier.
    /// @param commodity The commodity.
    /// @param unit The unit its quantities are in.
    /// @param perThousand Minor units per `PRICE_QUANTITY` units.
    /// @param observedAt When it was observed (after the price recorded, not in the future).
    /// @param sourceHash Hash of the price source's signed observation.
    function recordPrice(bytes16 commodity, bytes4 unit, uint256 perThousand, uint256 observedAt, bytes32 sourceHash)
        external;

    /// @notice Calls the margin of a loan whose outstanding is above its threshold of the collateral's value.
    /// Anyone (the condition is on the ledger).
    /// @param loanId The loan.
    /// @return deadline When the pledgee may take title unless it is cured.
    function callMargin(uint256 loanId) external returns (uint256 deadline);

    /// @notice Ends an open margin call once outstanding is within the threshold again. Anyone.
    /// @param loanId The loan.
    function cureMarginCall(uint256 loanId) external;

    /// @notice Repays (part of) an active loan; the payer pays the lender. Repaid in full, the pledge ends.
    /// @param loanId The loan.
    /// @param amount At most what is still due.
    function repay(uint256 loanId, uint256 amount) external;

    /// @notice Repays (part of) an active loan with the payer's EIP-2612 permit for exactly `amount`, applied in
    /// the same transaction.
    /// @param loanId The loan.
    /// @param amount At most what is still due.
    /// @param deadline The permit's deadline.
    /// @param v Signature v.
    /// @param r Signature r.
    /// @param s Signature s.
    function repayWithPermit(uint256 loanId, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external;

    /// @notice Releases the pledge without (full) repayment. Its lender.
    /// @param loanId The loan.
    function release(uint256 loanId) external;

    /// @notice Takes title to every receipt of a loan unpaid after maturity plus `GRACE_PERIOD`, or after the
    /// deadline of an open margin call. Its lender.
    /// @param loanId The loan.
    function claimCollateral(uint256 loanId) external;

    /// @notice Records an alert against a receipt. The gateway's active verifier.
    /// @param receiptId The receipt.
    /// @param code The rule's code.
    /// @param evidenceHash Hash of the readings that raised it.
    /// @return alertId The alert.
    function recordAlert(uint256 receiptId, bytes32 code, bytes32 evidenceHash) external returns (uint256 alertId);

    /// @notice Clears an alert. The warehouse that issued the receipt.
    /// @param alertId The alert.
    /// @param explanationHash Hash of its signed explanation and the new readings.
    function clearAlert(uint256 alertId, bytes32 explanationHash) external;

    /// @notice Freezes or unfreezes a pledged receipt. Its pledgee.
    /// @param receiptId The receipt.
    /// @param frozen Whether to freeze it.
    function setFrozen(uint256 receiptId, bool frozen) external;

    /// @notice A receipt's record (reverts `UnknownReceipt` when there is none).
    /// @param receiptId The receipt.
    /// @return The record.
    function receipt(uint256 receiptId) external view returns (Receipt memory);

    /// @notice A loan (its state `None` when there is none).
    /// @param loanId The loan.
    /// @return The loan.
    function loan(uint256 loanId) external view returns (Loan memory);

    /// @notice The receipt issued for a lot, or 0.
    /// @param fingerprint keccak256(warehouse, lotRef).
    /// @return The receipt.
    function receiptByFingerprint(bytes32 fingerprint) external view returns (uint256);

    /// @notice The receipts pledged for a loan.
    /// @param loanId The loan.
    /// @return receiptIds The first, then those added.
    function collateral(uint256 loanId) external view returns (uint256[] memory receiptIds);

    /// @notice What a loan's collateral is worth at the latest prices.
    /// @param loanId The loan.
    /// @return value Sum of quantity x price / `PRICE_QUANTITY` (reverts `NoPrice` when one is missing).
    function collateralValue(uint256 loanId) external view returns (uint256 value);

    /// @notice The latest verified price of a commodity in a unit.
    /// @param commodity The commodity.
    /// @param unit The unit.
    /// @return The price (zero when none).
    function price(bytes16 commodity, bytes4 unit) external view returns (Price memory);

    /// @notice Whether an account is an appointed warehouse.
    /// @param account The account.
    /// @return Whether it may issue receipts (when also an active Logistics participant).
    function isWarehouse(address account) external view returns (bool);

    /// @notice Principal plus interest of a loan started now (the formula in the interface NatSpec).
    /// @param principal The principal (below 2^112, as an offer requires; a far larger one overflows).
    /// @param rateBps Annual rate in basis points.
    /// @param maturity When it is due.
    /// @param start When it starts (before `maturity`).
    /// @return due Principal plus interest.
    function dueAmount(uint256 principal, uint256 rateBps, uint256 maturity, uint256 start)
        external
        pure
        returns (uint256 due);
}
