// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC1155} from "@openzeppelin/contracts/token/ERC1155/IERC1155.sol";
import {IParticipantRegistry} from "./IParticipantRegistry.sol";
import {IErrors} from "./IErrors.sol";

/// @title IReceivableLedger
/// @notice Tokenized trade receivables. Each receivable is an ERC-1155 id with `faceValue` units minted to
/// the creditor; a unit is a 1/faceValue share of the receivable (before any credit note or repayment, one
/// minor unit of nominal). Units never change with repayments or credit notes: a holder of `u` units is owed
/// exactly u/faceValue of every repayment, pulled with `redeem`. Cash is paid in whole minor units: each
/// holder keeps its exact fractional remainder, and when the receivable is settled the remainders are paid
/// out in the order holders settle (cumulative rounding), so that every holder's cash is within one minor
/// unit of its exact share and the sum of all cash equals the amount repaid. See docs/contracts.md.
/// Shared errors (`IErrors`) it throws: `ZeroAddress` (constructor, `setMarket`, `setPlatformLimit`),
/// `ZeroAmount` (`repay`, `resolveWithCreditNote`), `NotActiveFinancier` (`setCreditLine`), `CallerNotActive`
/// (an acting operator or approver that is not active; `redeem` by an address that is no participant).
interface IReceivableLedger is IERC1155, IErrors {
    /// @notice Lifecycle of a receivable. `Disputed` is a separate flag on top of `Confirmed`.
    enum Status {
        None, // no receivable with this id
        Pending, // registered by the verifier, waiting for the debtor's endorsement
        Confirmed, // endorsed by the debtor: a payable that consumes the debtor's credit line
        Rejected, // rejected by the debtor: all units burned, fingerprint stays used
        Settled // outstanding nominal is zero: fully repaid and/or diluted
    }

    /// @notice State of a receivable as returned by `receivable(id)`. The field widths are the stored ones
    /// (amounts in 64 bits, face value < 2^64; dates in 40 bits; the pool of remainders, in 1/faceValue
    /// minor units, in 128 bits); only the token is stored differently (by index).
    /// @param token Settlement token the receivable is denominated and repaid in.
    /// @param faceValue Face value at registration, in minor units of `token`.
    /// @param debtor The core enterprise that owes the money.
    /// @param issueDate Invoice issue date (unix seconds).
    /// @param dueDate Invoice due date (unix seconds).
    /// @param status Lifecycle status.
    /// @param disputed Whether transfers and discounting are frozen by a dispute.
    /// @param creditor The supplier that sold the goods (first holder).
    /// @param redeemed Settlement tokens paid out to holders so far.
    /// @param repaid Settlement tokens repaid by the debtor so far.
    /// @param diluted Nominal removed by credit notes so far.
    /// @param settledRepaid Cash credited to holders' `owed` so far (at most `repaid`).
    /// @param remainderPool Sum of the fractional remainders (in 1/faceValue units) of the holders settled
    /// after full settlement; drives who receives the remainder units (see `owed`).
    /// @param bundleHash Hash of the verified document bundle (bound by EIP-712 endorsements).
    struct Receivable {
        address token;
        uint64 faceValue;
        address debtor;
        uint40 issueDate;
        uint40 dueDate;
        Status status;
        bool disputed;
        address creditor;
        uint64 redeemed;
        uint64 repaid;
        uint64 diluted;
        uint64 settledRepaid;
        uint128 remainderPool;
        bytes32 bundleHash;
    }

    /// @notice A verified invoice to register.
    /// @param creditor The supplier (first holder).
    /// @param debtor The core enterprise that owes.
    /// @param faceValue Face value in minor units of `token`.
    /// @param token The settlement token.
    /// @param issueDate Issue date (unix seconds).
    /// @param dueDate Due date (unix seconds).
    /// @param bundleHash Hash of the verified document bundle.
    /// @param deliveryHash SHA-256 of the delivery document the invoice rests on.
    /// @param fingerprint Fingerprint of (seller, invoice number).
    struct Invoice {
        address creditor;
        address debtor;
        uint256 faceValue;
        address token;
        uint256 issueDate;
        uint256 dueDate;
        bytes32 bundleHash;
        bytes32 deliveryHash;
        bytes32 fingerprint;
    }

    // ------------------------------------------------------------------ errors

    /// @notice Thrown when the caller lacks the participant role an action requires (or is not active).
    /// @param account The caller.
    /// @param required The role required.
    error UnauthorizedParticipant(address account, IParticipantRegistry.Role required);
    /// @notice Thrown when a debtor-only action is called by someone else.
    /// @param id The receivable.
    /// @param caller The caller (or signer).
    /// @param debtor The receivable's debtor.
    error NotDebtor(uint256 id, address caller, address debtor);
    /// @notice Thrown when `dispute` is called by neither the debtor nor an active regulator.
    /// @param id The receivable.
    /// @param caller The caller.
    error NotDebtorOrRegulator(uint256 id, address caller);
    /// @notice Thrown when a receivable is not in the status an action requires.
    /// @param id The receivable (zero status means it does not exist).
    /// @param current Its current status.
    /// @param required The status required.
    error WrongStatus(uint256 id, Status current, Status required);
    /// @notice Thrown when a fingerprint is registered a second time.
    /// @param fingerprint The (seller, invoice number) fingerprint.
    /// @param existingId The receivable that already uses it.
    error DuplicateFingerprint(bytes32 fingerprint, uint256 existingId);
    /// @notice Thrown when an invoice has a face value of zero.
    error ZeroFaceValue();
    /// @notice Thrown when an invoice's face value does not fit the stored 64 bits.
    /// @param faceValue The face value given.
    /// @param max The largest face value accepted (2^64 - 1 minor units).
    error FaceValueTooLarge(uint256 faceValue, uint256 max);
    /// @notice Thrown when an invoice's due date is not after its issue date.
    /// @param issueDate The issue date given.
    /// @param dueDate The due date given.
    error DueDateNotAfterIssue(uint256 issueDate, uint256 dueDate);
    /// @notice Thrown when an invoice's due date does not fit the stored 40 bits.
    /// @param dueDate The due date given.
    /// @param max The latest due date accepted (2^40 - 1).
    error DueDateTooLate(uint256 dueDate, uint256 max);
    /// @notice Thrown when an invoice's fingerprint is zero.
    error ZeroFingerprint();

    /// @notice A batch of `size` invoices is empty or larger than `max`.
    error BatchSizeInvalid(uint256 size, uint256 max);
    /// @notice Thrown when a credit line or platform limit is first set in a settlement token that is not a
    /// contract.
    /// @param token The token given.
    error TokenNotContract(address token);
    /// @notice Thrown when the invoice creditor is not an active supplier.
    /// @param creditor The creditor given.
    error CreditorNotActiveSupplier(address creditor);
    /// @notice Thrown when the invoice debtor is not an active core enterprise.
    /// @param debtor The debtor given.
    error DebtorNotActiveCoreEnterprise(address debtor);
    /// @notice Thrown when a registration would push the debtor's reserved credit in the invoice's settlement
    /// token (pending and confirmed unpaid nominal) over its available limit in that token. An invoice in a
    /// token no line was ever set in has a limit of 0.
    /// @param debtor The debtor.
    /// @param token The invoice's settlement token.
    /// @param limit Its available limit in the token: the sum of its granted lines, capped by the platform limit.
    /// @param used Its reserved credit in the token before this registration.
    /// @param amount The nominal that would be added.
    error CreditLineExceeded(address debtor, address token, uint256 limit, uint256 used, uint256 amount);
    /// @notice Thrown when a credit limit does not fit in 128 bits.
    /// @param limit The limit given.
    error CreditLimitTooLarge(uint256 limit);
    /// @notice Thrown when the market is set a second time (it is fixed once set).
    /// @param market The market already set.
    error MarketAlreadySet(address market);
    /// @notice Thrown when an endorsement signature is past its deadline.
    /// @param deadline The signed deadline.
    error ExpiredSignature(uint256 deadline);
    /// @notice Thrown when an endorsement signature was not made by the debtor for this exact message
    /// (wrong chain, contract, nonce, id or decision all recover a different signer).
    /// @param id The receivable.
    /// @param signer The recovered signer.
    /// @param debtor The receivable's debtor.
    error InvalidSigner(uint256 id, address signer, address debtor);
    /// @notice Thrown when a movement of units fails the compliance check (see `canTransfer`).
    /// @param from Sender.
    /// @param to Receiver.
    /// @param id Receivable.
    /// @param amount Units.
    /// @param reason The reason code.
    error TransferNotAllowed(address from, address to, uint256 id, uint256 amount, bytes32 reason);
    /// @notice Thrown when a repayment is larger than the outstanding nominal.
    /// @param id The receivable.
    /// @param amount The amount given.
    /// @param outstanding The outstanding nominal.
    error RepaymentExceedsOutstanding(uint256 id, uint256 amount, uint256 outstanding);
    /// @notice Thrown when a credit note is larger than the outstanding nominal.
    /// @param id The receivable.
    /// @param amount The amount given.
    /// @param outstanding The outstanding nominal.
    error CreditNoteExceedsOutstanding(uint256 id, uint256 amount, uint256 outstanding);
    /// @notice Thrown when a credit note is requested after a repayment (pro-rata dilution is exact only
    /// before cash has been paid).
    /// @param id The receivable.
    /// @param repaid The amount already repaid.
    error DilutionAfterRepayment(uint256 id, uint256 repaid);
    /// @notice Thrown when a holder has nothing to redeem.
    /// @param id The receivable.
    /// @param holder The holder.
    error NothingToRedeem(uint256 id, address holder);
    /// @notice Thrown when an action needs the receivable to be free of disputes.
    /// @param id The receivable.
    error ReceivableDisputed(uint256 id);
    /// @notice Thrown when an action needs an open dispute.
    /// @param id The receivable.
    error NotDisputed(uint256 id);
    /// @notice Thrown when `marketTransfer` is called by anyone but the market.
    /// @param caller The caller.
    error NotMarket(address caller);

    // ------------------------------------------------------------------ events

    /// @notice Emitted when the verifier registers an invoice (followed by the ERC-1155 mint to the creditor).
    /// @param id The new receivable id.
    /// @param creditor The supplier, first holder of all units.
    /// @param debtor The core enterprise that owes.
    /// @param token The settlement token.
    /// @param faceValue Face value in minor units (= units minted).
    /// @param issueDate Invoice issue date.
    /// @param dueDate Invoice due date.
    /// @param bundleHash Hash of the verified document bundle (also stored, see `receivable`).
    /// @param deliveryHash SHA-256 of the delivery document (despatch or receipt advice) the invoice rests on.
    /// @param fingerprint Fingerprint of (seller, invoice number).
    /// @param verifier The verifier that registered it.
    event InvoiceRegistered(
        uint256 indexed id,
        address indexed creditor,
        address indexed debtor,
        address token,
        uint256 faceValue,
        uint256 issueDate,
        uint256 dueDate,
        bytes32 bundleHash,
        bytes32 deliveryHash,
        bytes32 fingerprint,
        address verifier
    );
    /// @notice Emitted when a registration reserves the face value on the debtor's credit.
    /// @param id The receivable.
    /// @param debtor The debtor.
    /// @param amount Nominal reserved.
    /// @param creditUsed The debtor's reserved credit afterwards.
    event CreditReserved(uint256 indexed id, address indexed debtor, uint256 amount, uint256 creditUsed);
    /// @notice Emitted when the debtor confirms a receivable.
    /// @param id The receivable.
    /// @param debtor The debtor.
    /// @param amount Nominal confirmed (already reserved at registration).
    /// @param creditUsed The debtor's reserved credit (unchanged by the confirmation).
    /// @param bySignature Whether confirmed by a relayed EIP-712 signature.
    event Endorsed(uint256 indexed id, address indexed debtor, uint256 amount, uint256 creditUsed, bool bySignature);
    /// @notice Emitted when the debtor rejects a receivable (all units of the creditor are burned, the
    /// reserved credit is released).
    /// @param id The receivable.
    /// @param debtor The debtor.
    /// @param creditor The creditor whose units were burned.
    /// @param amount Units burned.
    /// @param bySignature Whether rejected by a relayed EIP-712 signature.
    /// @param creditUsed The debtor's reserved credit afterwards.
    event Rejected(
        uint256 indexed id,
        address indexed debtor,
        address indexed creditor,
        uint256 amount,
        bool bySignature,
        uint256 creditUsed
    );
    /// @notice Emitted when a financier sets its own credit line to a debtor in one settlement token.
    /// @param debtor The core enterprise.
    /// @param grantor The financier granting the line.
    /// @param token The settlement token (currency) of the line.
    /// @param limit The grantor's new limit, in the token's minor units.
    /// @param available The debtor's available limit in the token afterwards (sum of lines, capped by the
    /// platform limit).
    /// @param used The debtor's reserved credit in the token.
    event CreditLineSet(
        address indexed debtor,
        address indexed grantor,
        address indexed token,
        uint256 limit,
        uint256 available,
        uint256 used
    );
    /// @notice Emitted when the operator sets or removes the platform limit that caps a debtor's lines in one
    /// settlement token.
    /// @param debtor The core enterprise.
    /// @param token The settlement token (currency) of the cap.
    /// @param capped Whether a cap applies.
    /// @param cap The cap (0 when not capped).
    /// @param available The debtor's available limit in the token afterwards.
    /// @param used The debtor's reserved credit in the token.
    /// @param operator The operator.
    event PlatformLimitSet(
        address indexed debtor,
        address indexed token,
        bool capped,
        uint256 cap,
        uint256 available,
        uint256 used,
        address indexed operator
    );
    /// @notice Emitted when a settlement token gets its index, on the first credit line or platform limit set
    /// in it (receivables store their token by index).
    /// @param token The settlement token.
    /// @param index Its index (from 1).
    event SettlementTokenIndexed(address indexed token, uint256 index);
    /// @notice Emitted when the debtor repays.
    /// @param id The receivable.
    /// @param debtor The debtor.
    /// @param amount Amount repaid now.
    /// @param totalRepaid Total repaid so far.
    /// @param outstanding Nominal still unpaid.
    /// @param creditUsed The debtor's usage after the repayment.
    event Repaid(
        uint256 indexed id,
        address indexed debtor,
        uint256 amount,
        uint256 totalRepaid,
        uint256 outstanding,
        uint256 creditUsed
    );
    /// @notice Emitted when a holder is brought up to date with the repayments since it last settled. Once
    /// the receivable is settled, this also burns the holder's units (an ERC-1155 transfer to zero follows)
    /// and pays its remainder share.
    /// @param id The receivable.
    /// @param holder The holder.
    /// @param cash Cash credited to `owed` now.
    /// @param burned Units burned now (non-zero only once the receivable is settled).
    /// @param balance The holder's units afterwards.
    /// @param owed Cash the holder may redeem afterwards.
    /// @param remainder The holder's fractional remainder afterwards, in 1/faceValue minor units.
    /// @param remainderPool The receivable's remainder pool afterwards.
    event HolderSettled(
        uint256 indexed id,
        address indexed holder,
        uint256 cash,
        uint256 burned,
        uint256 balance,
        uint256 owed,
        uint256 remainder,
        uint256 remainderPool
    );
    /// @notice Emitted when a holder redeems its repaid share.
    /// @param id The receivable.
    /// @param holder The holder (and receiver of the cash).
    /// @param amount Settlement tokens paid.
    /// @param totalRedeemed Total paid out for this receivable so far.
    event Redeemed(uint256 indexed id, address indexed holder, uint256 amount, uint256 totalRedeemed);
    /// @notice Emitted when a receivable is disputed (transfers and discounting frozen).
    /// @param id The receivable.
    /// @param by The debtor or regulator.
    /// @param reasonHash Hash of the off-chain dispute record.
    event Disputed(uint256 indexed id, address indexed by, bytes32 reasonHash);
    /// @notice Emitted when a dispute is resolved.
    /// @param id The receivable.
    /// @param operator The operator.
    /// @param creditNote Nominal removed by a credit note (0 when the freeze is simply lifted).
    /// @param totalDiluted Total nominal removed by credit notes so far.
    /// @param outstanding Nominal still unpaid.
    /// @param creditUsed The debtor's usage afterwards.
    event DisputeResolved(
        uint256 indexed id,
        address indexed operator,
        uint256 creditNote,
        uint256 totalDiluted,
        uint256 outstanding,
        uint256 creditUsed
    );
    /// @notice Emitted when the market address is set.
    /// @param market The new market.
    /// @param admin The admin that set it.
    event MarketSet(address indexed market, address indexed admin);

    // ------------------------------------------------------------------ admin & roles

    /// @notice The participant registry consulted on every action and movement.
    /// @return The registry.
    function registry() external view returns (IParticipantRegistry);

    /// @notice The discount market, the only address allowed to call `marketTransfer`.
    /// @return The market (zero until set).
    function market() external view returns (address);

    /// @notice Sets the discount market, once (DEFAULT_ADMIN_ROLE; the deployment plan does it). The market
    /// can never be changed afterwards (`MarketAlreadySet`), so no key can point `marketTransfer` elsewhere.
    /// @param newMarket The market contract (not zero).
    function setMarket(address newMarket) external;

    // ------------------------------------------------------------------ credit lines

    /// @notice The caller (an active financier) sets its own credit line to a core enterprise in one settlement
    /// token (raising it needs the debtor active; lowering works while the debtor is suspended too). A grantor
    /// may lower its line below the debtor's usage: later registrations are refused until repayments free
    /// room. Lines in different tokens are separate: an invoice uses only the lines in its own token.
    /// @param debtor An active core enterprise.
    /// @param token The settlement token (currency) of the line; a contract (`TokenNotContract`).
    /// @param limit The caller's new limit, in the token's minor units (< 2^128).
    function setCreditLine(address debtor, address token, uint256 limit) external;

    /// @notice The operator caps (or un-caps) the sum of a debtor's lines in one settlement token.
    /// OPERATOR_ROLE only.
    /// @param debtor A core enterprise.
    /// @param token The settlement token (currency) of the cap; a contract (`TokenNotContract`).
    /// @param capped Whether a cap applies.
    /// @param cap The cap, in the token's minor units (< 2^128; ignored when not capped).
    function setPlatformLimit(address debtor, address token, bool capped, uint256 cap) external;

    /// @notice One grantor's line to a debtor in one settlement token.
    /// @param debtor The core enterprise.
    /// @param grantor The financier.
    /// @param token The settlement token.
    /// @return limit The grantor's limit.
    function creditLineOf(address debtor, address grantor, address token) external view returns (uint256 limit);

    /// @notice The platform limit of a debtor in one settlement token.
    /// @param debtor The core enterprise.
    /// @param token The settlement token.
    /// @return capped Whether a cap applies.
    /// @return cap The cap.
    /// @return granted The sum of all grantors' lines in the token.
    function platformLimit(address debtor, address token)
        external
        view
        returns (bool capped, uint256 cap, uint256 granted);

    /// @notice A debtor's available credit limit and its reserved credit in one settlement token.
    /// @param debtor The core enterprise.
    /// @param token The settlement token.
    /// @return limit The available limit: the sum of all grantors' lines in the token, capped by the platform
    /// limit.
    /// @return used Reserved credit: unpaid, undiluted nominal of its pending and confirmed receivables in the
    /// token.
    function creditLine(address debtor, address token) external view returns (uint256 limit, uint256 used);

    // ------------------------------------------------------------------ tokenization

    /// @notice Registers a verified invoice, reserves its face value on the debtor's credit
    /// (`CreditLineExceeded` if it does not fit) and mints all its units to the creditor (status Pending).
    /// Active Verifier only.
    /// @param invoice The invoice: creditor (an active supplier), debtor (an active core enterprise),
    /// faceValue (1 .. 2^64-1 minor units of token), token (its settlement token: credit is reserved on the
    /// debtor's lines in that token only; none was ever set in it: `CreditLineExceeded` with a limit of 0),
    /// issueDate < dueDate (unix seconds, < 2^40), bundleHash (stored), deliveryHash, fingerprint (unique, not 0).
    /// @return id The new receivable id (sequential, from 1).
    function registerInvoice(Invoice calldata invoice) external returns (uint256 id);

    /// @notice Registers several verified invoices in one transaction, each exactly as `registerInvoice`
    /// would (the same checks, events and mint), in the order given; all or none (any refusal reverts the
    /// whole batch). Active Verifier only.
    /// @param invoices 1 .. `MAX_INVOICES_PER_BATCH` invoices.
    /// @return firstId The id of the first; the others follow it in order (`firstId + i`).
    function registerInvoices(Invoice[] calldata invoices) external returns (uint256 firstId);

    /// @notice The receivable registered under `fingerprint`, 0 if none.
    /// @param fingerprint Fingerprint of (seller, invoice number).
    /// @return id The receivable id.
    function receivableIdByFingerprint(bytes32 fingerprint) external view returns (uint256 id);

    /// @notice Number of receivables registered (also the last id).
    /// @return The count.
    function receivableCount() external view returns (uint256);

    /// @notice The stored state of a receivable.
    /// @param id The receivable.
    /// @return The receivable (all zero if unknown).
    function receivable(uint256 id) external view returns (Receivable memory);

    /// @notice What the discount market needs to price and gate an offer.
    /// @param id The receivable.
    /// @return token The settlement token.
    /// @return dueDate The due date.
    /// @return status The status.
    /// @return disputed Whether frozen by a dispute.
    /// @return faceValue Units in existence (the face value).
    /// @return open Outstanding nominal: `units * open / faceValue` is what `units` will still be paid.
    function discountTerms(uint256 id)
        external
        view
        returns (address token, uint256 dueDate, Status status, bool disputed, uint256 faceValue, uint256 open);

    /// @notice Nominal still unpaid: face - repaid - diluted.
    /// @param id The receivable.
    /// @return The outstanding nominal.
    function outstanding(uint256 id) external view returns (uint256);

    // ------------------------------------------------------------------ endorsement

    /// @notice The debtor confirms a pending receivable (its credit was reserved at registration).
    /// @param id The receivable.
    function endorse(uint256 id) external;

    /// @notice The debtor rejects a pending receivable; the creditor's units are burned and the reserved
    /// credit released.
    /// @param id The receivable.
    function reject(uint256 id) external;

    /// @notice Confirms or rejects on behalf of the debtor with its EIP-712 signature over
    /// `Endorsement(uint256 receivableId,address creditor,uint256 faceValue,uint256 dueDate,bytes32 bundleHash,bool accept,uint256 nonce,uint256 deadline)`
    /// in domain ("SCF Receivable Ledger", "1", chainid, this): the signature binds what is endorsed, not only
    /// the id. Anyone may relay. Uses and increments the debtor's nonce.
    /// @param id The receivable.
    /// @param accept True to confirm, false to reject.
    /// @param deadline Last valid timestamp.
    /// @param signature 65-byte ECDSA signature (low-s only).
    function endorseBySig(uint256 id, bool accept, uint256 deadline, bytes calldata signature) external;

    /// @notice The EIP-712 typehash of the endorsement message.
    /// @return The typehash.
    // solhint-disable-next-line func-name-mixedcase
    function ENDORSEMENT_TYPEHASH() external view returns (bytes32);

    // ------------------------------------------------------------------ transfers

    /// @notice ERC-3643 style compliance check that every movement of units passes.
    /// @param from Sender.
    /// @param to Receiver.
    /// @param id Receivable.
    /// @param amount Units.
    /// @return ok Whether the movement is allowed now.
    /// @return reason "OK" or the first failing rule: UNKNOWN_RECEIVABLE, NOT_CONFIRMED, SETTLED, DISPUTED,
    /// MATURED, ZERO_AMOUNT, SENDER_NOT_ACTIVE, RECEIVER_NOT_ACTIVE, RECEIVER_ROLE_NOT_ALLOWED,
    /// RECEIVER_IS_DEBTOR, INSUFFICIENT_BALANCE.
    function canTransfer(address from, address to, uint256 id, uint256 amount)
        external
        view
        returns (bool ok, bytes32 reason);

    /// @notice Delivery leg of a discount: moves units from the holder to the financier. Only the market fixed
    /// at deployment may call it, and it does so only inside `acceptOffer`, for the holder that accepted
    /// (`from` is the caller of `acceptOffer`); it passes the same compliance check as any transfer.
    /// @param from The holder.
    /// @param to The financier.
    /// @param id The receivable.
    /// @param amount Units.
    function marketTransfer(address from, address to, uint256 id, uint256 amount) external;

    // ------------------------------------------------------------------ repayment

    /// @notice The debtor repays `amount` (partial or full, any time); pulls settlement tokens from the
    /// caller and frees the same amount of credit line. A suspended debtor can still repay: suspension stops
    /// new obligations, never the payment of existing ones.
    /// @param id A confirmed, undisputed receivable.
    /// @param amount 1 .. outstanding.
    function repay(uint256 id, uint256 amount) external;

    /// @notice `repay` with the debtor's EIP-2612 permit of the receivable's settlement token in the same
    /// transaction: the ledger's allowance is set to exactly `amount` and the repayment spends it all (zero is
    /// left). If the repayment is refused, the permit is not applied either (allowance and permit nonce
    /// unchanged). A permit that someone else already submitted (front-running) is accepted when the
    /// allowance is already `amount`; otherwise the token's error is re-thrown (`ERC2612InvalidSigner`,
    /// `ERC2612ExpiredSignature`). A suspended debtor can use it too. Emits `Repaid` (and the token's
    /// `Approval` and `Transfer`).
    /// @param id A confirmed, undisputed receivable.
    /// @param amount 1 .. outstanding; also the permit's value.
    /// @param deadline Last timestamp at which the permit is valid.
    /// @param v Signature v.
    /// @param r Signature r.
    /// @param s Signature s.
    function repayWithPermit(uint256 id, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external;

    /// @notice Pays the caller its settled share of repayments (pull; O(1)). Once the receivable is settled
    /// this also burns the caller's units and pays its remainder share (possibly 0: it still succeeds when
    /// it had units or a remainder to settle). Open to suspended participants too.
    /// @param id The receivable.
    /// @return amount Settlement tokens paid.
    function redeem(uint256 id) external returns (uint256 amount);

    /// @notice Cash `holder` could redeem now (including repayments it has not been settled against yet and,
    /// on a settled receivable, the remainder unit it would receive if it settled now).
    /// @param id The receivable.
    /// @param holder The holder.
    /// @return The amount.
    function owed(uint256 id, address holder) external view returns (uint256);

    /// @notice Whether the receivable is confirmed, not settled and past its due date plus `GRACE_PERIOD`.
    /// @param id The receivable.
    /// @return True if overdue.
    function isOverdue(uint256 id) external view returns (bool);

    // ------------------------------------------------------------------ disputes

    /// @notice Freezes transfers, discounting and repayment of a confirmed receivable.
    /// Debtor or active regulator.
    /// @param id The receivable.
    /// @param reasonHash Hash of the off-chain dispute record.
    function dispute(uint256 id, bytes32 reasonHash) external;

    /// @notice Lifts a dispute without changing the receivable. Ledger operator only.
    /// @param id The receivable.
    function resolveDispute(uint256 id) external;

    /// @notice Resolves a dispute by a credit note: reduces the outstanding nominal by `amount`, pro rata
    /// over all holders (lazily), frees the same amount of credit line and lifts the freeze. Ledger
    /// operator only; only before any repayment.
    /// @param id The receivable.
    /// @param amount 1 .. outstanding.
    function resolveWithCreditNote(uint256 id, uint256 amount) external;
}
