// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC1155} from "@openzeppelin/contracts/token/ERC1155/IERC1155.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IReceivableLedger} from "./interfaces/IReceivableLedger.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {ReceivableUnits} from "./ReceivableUnits.sol";
import {Permits} from "./Permits.sol";

/// @title ReceivableLedger
/// @notice Tokenized trade receivables for supply-chain finance: registration by the verifier, endorsement
/// by the debtor (direct or EIP-712), credit lines, split transfers, delivery to the discount market,
/// partial repayment with O(1) pull redemption, disputes and credit notes.
/// @dev ERC-1155 id = receivable id; `faceValue` units are minted to the creditor and their total never
/// changes until the receivable is settled (or rejected): a unit is a 1/face share. Every balance change (the
/// mint at registration, the burns of rejection and of final settlement, transfers, market deliveries) goes
/// through `_update` (OpenZeppelin 5 style, see `ReceivableUnits`): the override checks a transfer against the
/// same compliance rules as the public `canTransfer`, settles both parties against repayments (lazily, O(1)),
/// and calls `super._update`, which moves the units and emits the ERC-1155 event. Every write of a holder's
/// settlement state emits `HolderSettled`.
///
/// Settlement maths (exact): each holder stores `mark` = the receivable's `repaid` when it last settled and
/// `rem`, the fractional part of its cash entitlement in 1/face minor units. Settling adds
/// balance * (repaid - mark) to rem*; floor(rem* / face) is credited to `owed`, rem* mod face is kept. So at any
/// time a holder's credited cash is the floor of its exact pro-rata share sum(units_t * dRepaid_t) / face.
/// Since the units always sum to face, the remainders of all holders sum to a multiple of face once the
/// receivable is settled. Each holder settling after that adds its remainder to `remainderPool` (C) and is
/// paid floor((C + rem) / face) - floor(C / face) more (0 or 1): cumulative rounding in settlement order.
/// Hence every holder's cash is its exact share rounded down or up, and all cash paid sums to `repaid`.
contract ReceivableLedger is
    IReceivableLedger,
    ReceivableUnits,
    AccessControl,
    EIP712,
    Nonces,
    ReentrancyGuardTransient
{
    using SafeERC20 for IERC20;

    /// @notice Role that resolves disputes and grants credit lines (granted to the deployer).
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");
    /// @inheritdoc IReceivableLedger
    bytes32 public constant ENDORSEMENT_TYPEHASH = keccak256(
        "Endorsement(uint256 receivableId,address creditor,uint256 faceValue,uint256 dueDate,bytes32 bundleHash,bool accept,uint256 nonce,uint256 deadline)"
    );
    /// @notice Time after the due date before an unpaid receivable shows as overdue.
    uint256 public constant GRACE_PERIOD = 3 days;
    /// @notice Most invoices `registerInvoices` takes in one transaction (bounds its loop and its gas).
    uint256 public constant MAX_INVOICES_PER_BATCH = 64;

    bytes32 private constant OK = "OK";

    /// @dev A debtor's credit in one settlement token: slot 0 is what registration reads and writes; slot 1
    /// changes only when a line or the platform limit is set. available = capped ? min(granted, cap) : granted.
    /// Amounts are minor units of that token: lines, limits and usage never add up across currencies.
    struct Credit {
        // slot 0
        uint128 available;
        uint128 used;
        // slot 1
        uint128 granted;
        uint120 cap;
        bool capped;
    }

    /// @dev Storage layout of a receivable: three slots written at registration (the third is the bundle
    /// hash), one more at the first repayment or credit note, a fifth only when remainders are pooled.
    /// Amounts fit in 64 bits (face <= 2^64-1 minor units); the settlement token is stored by index.
    struct Record {
        // slot 0
        address creditor;
        uint64 faceValue;
        uint32 tokenIndex;
        // slot 1
        address debtor;
        uint40 issueDate;
        uint40 dueDate;
        Status status;
        bool disputed;
        // slot 2
        bytes32 bundleHash;
        // slot 3: zero until the first repayment or credit note
        uint64 repaid;
        uint64 diluted;
        uint64 settledRepaid;
        uint64 redeemed;
        // slot 4: written only when holders settle after full settlement
        uint128 remainderPool;
    }

    IParticipantRegistry private immutable _registry;
    address private _market;
    uint256 private _count;
    uint32 private _tokenCount;
    mapping(uint256 id => Record) private _receivables;
    mapping(address token => uint32 index) private _tokenIndex;
    mapping(uint32 index => address token) private _tokenByIndex;
    mapping(bytes32 fingerprint => uint256 id) private _idByFingerprint;
    // Written through storage pointers (slither's uninitialized-state does not follow them).
    // slither-disable-next-line uninitialized-state
    mapping(address debtor => mapping(uint32 tokenIndex => Credit)) private _credit;
    mapping(address debtor => mapping(address grantor => mapping(uint32 tokenIndex => uint256 limit))) private _lines;

    // The holders' slots (`HolderState`: units and settlement state) are `ReceivableUnits._holders`.

    /// @param registry_ The participant registry. The deployer receives DEFAULT_ADMIN_ROLE and OPERATOR_ROLE.
    constructor(IParticipantRegistry registry_) EIP712("SCF Receivable Ledger", "1") {
        if (address(registry_) == address(0)) revert ZeroAddress();
        _registry = registry_;
        _grantRole(DEFAULT_ADMIN_ROLE, _msgSender());
        _grantRole(OPERATOR_ROLE, _msgSender());
    }

    // ====================================================================== admin

    /// @inheritdoc IReceivableLedger
    function registry() external view returns (IParticipantRegistry) {
        return _registry;
    }

    /// @inheritdoc IReceivableLedger
    function market() external view returns (address) {
        return _market;
    }

    /// @inheritdoc IReceivableLedger
    function setMarket(address newMarket) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newMarket == address(0)) revert ZeroAddress();
        address current = _market;
        if (current != address(0)) revert MarketAlreadySet(current);
        _market = newMarket;
        emit MarketSet(newMarket, _msgSender());
    }

    // ====================================================================== credit lines

    /// @inheritdoc IReceivableLedger
    function setCreditLine(address debtor, address token, uint256 limit) external {
        address grantor = _msgSender();
        if (_role(grantor) != IParticipantRegistry.Role.Financier) revert NotActiveFinancier(grantor);
        if (limit > type(uint128).max) revert CreditLimitTooLarge(limit);
        uint32 tokenIndex = _indexOf(token);
        uint256 previous = _lines[debtor][grantor][tokenIndex];
        // raising needs an active core enterprise; a grantor may always cut its own exposure (suspended debtor)
        (IParticipantRegistry.Role role, IParticipantRegistry.Status status) = _registration(debtor);
        if (
            role != IParticipantRegistry.Role.CoreEnterprise
                || (limit > previous && status != IParticipantRegistry.Status.Active)
        ) revert DebtorNotActiveCoreEnterprise(debtor);
        _lines[debtor][grantor][tokenIndex] = limit;
        Credit storage c = _credit[debtor][tokenIndex];
        uint256 granted = uint256(c.granted) - previous + limit;
        if (granted > type(uint128).max) revert CreditLimitTooLarge(granted);
        c.granted = uint128(granted);
        uint256 available = _available(c);
        c.available = uint128(available);
        emit CreditLineSet(debtor, grantor, token, limit, available, c.used);
    }

    /// @inheritdoc IReceivableLedger
    function setPlatformLimit(address debtor, address token, bool capped, uint256 cap)
        external
        onlyRole(OPERATOR_ROLE)
    {
        if (debtor == address(0)) revert ZeroAddress();
        if (cap > type(uint120).max) revert CreditLimitTooLarge(cap);
        if (!capped) cap = 0;
        Credit storage c = _credit[debtor][_indexOf(token)];
        (c.capped, c.cap) = (capped, uint120(cap));
        uint256 available = _available(c);
        c.available = uint128(available);
        emit PlatformLimitSet(debtor, token, capped, cap, available, c.used, _msgSender());
    }

    /// @inheritdoc IReceivableLedger
    function creditLine(address debtor, address token) external view returns (uint256 limit, uint256 used) {
        Credit storage c = _credit[debtor][_tokenIndex[token]];
        return (c.available, c.used);
    }

    /// @inheritdoc IReceivableLedger
    function creditLineOf(address debtor, address grantor, address token) external view returns (uint256 limit) {
        return _lines[debtor][grantor][_tokenIndex[token]];
    }

    /// @inheritdoc IReceivableLedger
    function platformLimit(address debtor, address token)
        external
        view
        returns (bool capped, uint256 cap, uint256 granted)
    {
        Credit storage c = _credit[debtor][_tokenIndex[token]];
        return (c.capped, c.cap, c.granted);
    }

    /// @dev The index of a settlement token, given one on its first line or limit (two slots, paid once per
    /// token). A token without an index has no credit anywhere, so no invoice in it can be registered.
    function _indexOf(address token) private returns (uint32 tokenIndex) {
        tokenIndex = _tokenIndex[token];
        if (tokenIndex == 0) {
            if (token.code.length == 0) revert TokenNotContract(token);
            tokenIndex = ++_tokenCount;
            _tokenIndex[token] = tokenIndex;
            _tokenByIndex[tokenIndex] = token;
            emit SettlementTokenIndexed(token, tokenIndex);
        }
    }

    function _available(Credit storage c) private view returns (uint256) {
        uint256 granted = c.granted;
        return c.capped && c.cap < granted ? c.cap : granted;
    }

    // ====================================================================== tokenization

    /// @inheritdoc IReceivableLedger
    function registerInvoice(Invoice calldata invoice) external returns (uint256 id) {
        address verifier = _msgSender();
        _requireRole(verifier, IParticipantRegistry.Role.Verifier);
        id = _register(invoice, verifier);
    }

    /// @inheritdoc IReceivableLedger
    function registerInvoices(Invoice[] calldata invoices) external returns (uint256 firstId) {
        address verifier = _msgSender();
        _requireRole(verifier, IParticipantRegistry.Role.Verifier);
        uint256 n = invoices.length;
        if (n == 0 || n > MAX_INVOICES_PER_BATCH) revert BatchSizeInvalid(n, MAX_INVOICES_PER_BATCH);
        firstId = _register(invoices[0], verifier);
        for (uint256 i = 1; i < n; ++i) {
            _register(invoices[i], verifier);
        }
    }

    /// @dev One invoice's registration (the caller checked the verifier's role).
    function _register(Invoice calldata invoice, address verifier) private returns (uint256 id) {
        uint256 faceValue = invoice.faceValue;
        if (faceValue == 0) revert ZeroFaceValue();
        if (faceValue > type(uint64).max) revert FaceValueTooLarge(faceValue, type(uint64).max);
        (uint256 issueDate, uint256 dueDate) = (invoice.issueDate, invoice.dueDate);
        if (issueDate >= dueDate) revert DueDateNotAfterIssue(issueDate, dueDate);
        if (dueDate > type(uint40).max) revert DueDateTooLate(dueDate, type(uint40).max);
        bytes32 fingerprint = invoice.fingerprint;
        if (fingerprint == bytes32(0)) revert ZeroFingerprint();
        uint256 existing = _idByFingerprint[fingerprint];
        if (existing != 0) revert DuplicateFingerprint(fingerprint, existing);
        (address creditor, address debtor) = (invoice.creditor, invoice.debtor);
        if (_role(creditor) != IParticipantRegistry.Role.Supplier) revert CreditorNotActiveSupplier(creditor);
        if (_role(debtor) != IParticipantRegistry.Role.CoreEnterprise) revert DebtorNotActiveCoreEnterprise(debtor);
        uint32 tokenIndex = _tokenIndex[invoice.token]; // 0: no line was ever set in it, so no credit either
        uint256 creditUsed = _reserveCredit(debtor, invoice.token, tokenIndex, faceValue);
        id = ++_count;
        _idByFingerprint[fingerprint] = id;
        Record storage r = _receivables[id];
        (r.creditor, r.faceValue, r.tokenIndex) = (creditor, uint64(faceValue), tokenIndex);
        (r.debtor, r.issueDate, r.dueDate, r.status) = (debtor, uint40(issueDate), uint40(dueDate), Status.Pending);
        r.bundleHash = invoice.bundleHash;
        _emitRegistered(id, invoice, verifier);
        emit CreditReserved(id, debtor, faceValue, creditUsed);
        _mint(creditor, id, faceValue, "");
    }

    function _emitRegistered(uint256 id, Invoice calldata invoice, address verifier) private {
        emit InvoiceRegistered(
            id,
            invoice.creditor,
            invoice.debtor,
            invoice.token,
            invoice.faceValue,
            invoice.issueDate,
            invoice.dueDate,
            invoice.bundleHash,
            invoice.deliveryHash,
            invoice.fingerprint,
            verifier
        );
    }

    /// @dev Reserves `amount` of the debtor's available credit in the token (pending receivables count against
    /// the line).
    function _reserveCredit(address debtor, address token, uint32 tokenIndex, uint256 amount)
        private
        returns (uint256 used)
    {
        Credit storage c = _credit[debtor][tokenIndex];
        (uint256 available, uint256 before) = (c.available, c.used);
        if (before + amount > available) revert CreditLineExceeded(debtor, token, available, before, amount);
        used = before + amount;
        c.used = uint128(used);
    }

    /// @dev Releases `amount` of the debtor's reserved credit in the receivable's token (repayment, credit
    /// note, rejection).
    function _releaseCredit(address debtor, uint32 tokenIndex, uint256 amount) private returns (uint256 used) {
        Credit storage c = _credit[debtor][tokenIndex];
        used = c.used - amount; // used >= the unpaid, undiluted nominal of every reserved receivable
        c.used = uint128(used);
    }

    /// @inheritdoc IReceivableLedger
    function receivableIdByFingerprint(bytes32 fingerprint) external view returns (uint256) {
        return _idByFingerprint[fingerprint];
    }

    /// @inheritdoc IReceivableLedger
    function receivableCount() external view returns (uint256) {
        return _count;
    }

    /// @inheritdoc IReceivableLedger
    function receivable(uint256 id) external view returns (Receivable memory) {
        Record storage r = _receivables[id];
        return Receivable({
            token: _tokenByIndex[r.tokenIndex],
            faceValue: r.faceValue,
            debtor: r.debtor,
            issueDate: r.issueDate,
            dueDate: r.dueDate,
            status: r.status,
            disputed: r.disputed,
            creditor: r.creditor,
            redeemed: r.redeemed,
            repaid: r.repaid,
            diluted: r.diluted,
            settledRepaid: r.settledRepaid,
            remainderPool: r.remainderPool,
            bundleHash: r.bundleHash
        });
    }

    /// @inheritdoc IReceivableLedger
    function discountTerms(uint256 id)
        external
        view
        returns (address token, uint256 dueDate, Status status, bool disputed, uint256 faceValue, uint256 open)
    {
        Record storage r = _receivables[id];
        faceValue = r.faceValue;
        open = faceValue - r.diluted - r.repaid;
        return (_tokenByIndex[r.tokenIndex], r.dueDate, r.status, r.disputed, faceValue, open);
    }

    /// @inheritdoc IReceivableLedger
    function outstanding(uint256 id) external view returns (uint256) {
        Record storage r = _receivables[id];
        return uint256(r.faceValue) - r.diluted - r.repaid;
    }

    // ====================================================================== endorsement

    /// @inheritdoc IReceivableLedger
    function endorse(uint256 id) external {
        _endorse(id, _msgSender(), true, false);
    }

    /// @inheritdoc IReceivableLedger
    function reject(uint256 id) external {
        _endorse(id, _msgSender(), false, false);
    }

    /// @inheritdoc IReceivableLedger
    function endorseBySig(uint256 id, bool accept, uint256 deadline, bytes calldata signature) external {
        if (block.timestamp > deadline) revert ExpiredSignature(deadline);
        Record storage r = _receivables[id];
        address debtor = r.debtor;
        if (debtor == address(0)) revert WrongStatus(id, Status.None, Status.Pending);
        bytes32 structHash = keccak256(
            abi.encode(
                ENDORSEMENT_TYPEHASH,
                id,
                r.creditor,
                r.faceValue,
                r.dueDate,
                r.bundleHash,
                accept,
                _useNonce(debtor),
                deadline
            )
        );
        address signer = ECDSA.recoverCalldata(_hashTypedDataV4(structHash), signature);
        if (signer != debtor) revert InvalidSigner(id, signer, debtor);
        _endorse(id, debtor, accept, true);
    }

    /// @notice The EIP-712 domain separator of this ledger (chain id and address bound).
    /// @return The domain separator.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function _endorse(uint256 id, address caller, bool accept, bool bySig) private {
        Record storage r = _receivables[id];
        address debtor = r.debtor;
        if (caller != debtor) revert NotDebtor(id, caller, debtor);
        Status status = r.status;
        if (status != Status.Pending) revert WrongStatus(id, status, Status.Pending);
        _requireRole(debtor, IParticipantRegistry.Role.CoreEnterprise);
        uint256 amount = r.faceValue; // nothing can be repaid or diluted while pending
        if (accept) {
            r.status = Status.Confirmed;
            emit Endorsed(id, debtor, amount, _credit[debtor][r.tokenIndex].used, bySig);
        } else {
            r.status = Status.Rejected;
            address creditor = r.creditor;
            emit Rejected(id, debtor, creditor, amount, bySig, _releaseCredit(debtor, r.tokenIndex, amount));
            // Pending units cannot move, so the creditor holds all of them.
            _burn(creditor, id, amount);
        }
    }

    // ====================================================================== transfers

    /// @notice ERC-1155 transfer of part or all of a receivable; passes `canTransfer`. The caller (holder or
    /// approved operator) must be an active participant.
    /// @param from Holder.
    /// @param to Receiver (active supplier, core enterprise other than the debtor, or financier).
    /// @param id Receivable.
    /// @param value Units.
    /// @param data Passed to the receiver hook.
    function safeTransferFrom(address from, address to, uint256 id, uint256 value, bytes memory data)
        public
        override(ReceivableUnits, IERC1155)
        nonReentrant
    {
        super.safeTransferFrom(from, to, id, value, data);
    }

    /// @notice ERC-1155 batch transfer; every element passes `canTransfer`.
    /// @param from Holder.
    /// @param to Receiver.
    /// @param ids Receivables.
    /// @param values Units per receivable.
    /// @param data Passed to the receiver hook.
    function safeBatchTransferFrom(
        address from,
        address to,
        uint256[] memory ids,
        uint256[] memory values,
        bytes memory data
    ) public override(ReceivableUnits, IERC1155) nonReentrant {
        super.safeBatchTransferFrom(from, to, ids, values, data);
    }

    /// @notice Approves an operator for all of the caller's receivables. Caller must be an active participant.
    /// @param operator The operator.
    /// @param approved Whether approved.
    function setApprovalForAll(address operator, bool approved) public override(ReceivableUnits, IERC1155) {
        address caller = _msgSender();
        if (_role(caller) == IParticipantRegistry.Role.None) revert CallerNotActive(caller);
        super.setApprovalForAll(operator, approved);
    }

    /// @inheritdoc IReceivableLedger
    function marketTransfer(address from, address to, uint256 id, uint256 amount) external nonReentrant {
        if (_msgSender() != _market) revert NotMarket(_msgSender());
        _safeTransferFrom(from, to, id, amount, "");
    }

    /// @inheritdoc IReceivableLedger
    function canTransfer(address from, address to, uint256 id, uint256 amount)
        external
        view
        returns (bool ok, bytes32 reason)
    {
        reason = _check(_receivables[id], from, to, _holders[id][from].balance, amount);
        ok = reason == OK;
    }

    /// @notice Units held. Repayments and credit notes do not change units; once the receivable is settled
    /// (fully repaid or diluted) every unit has become cash, and this returns 0 (the stored units are burned
    /// when the holder settles, see `storedBalanceOf`).
    /// @param account The holder.
    /// @param id The receivable.
    /// @return The units.
    function balanceOf(address account, uint256 id) public view override(ReceivableUnits, IERC1155) returns (uint256) {
        if (_receivables[id].status == Status.Settled) return 0;
        return _holders[id][account].balance;
    }

    /// @notice The stored ERC-1155 balance (units not yet burned by the holder's final settlement).
    /// @param account The holder.
    /// @param id The receivable.
    /// @return The stored balance.
    function storedBalanceOf(address account, uint256 id) external view returns (uint256) {
        return _holders[id][account].balance;
    }

    /// @dev The choke point of every balance change (OpenZeppelin 5 style): the mint of registration, the
    /// burns of rejection and of final settlement, transfers and market deliveries all arrive here, and
    /// `super._update` moves the units and emits `TransferSingle`/`TransferBatch`. A transfer (neither side
    /// zero) is first checked (acting operator active; each element passes the `canTransfer` rules) and both
    /// parties are brought up to date with repayments. Mints and burns need no settlement: the mint happens at
    /// registration (nothing repaid yet), the burns on a pending receivable (rejection, receiver checked at
    /// registration) or right after the holder's final settlement (`redeem`).
    function _update(address from, address to, uint256[] memory ids, uint256[] memory values) internal override {
        if (from != address(0) && to != address(0)) _beforeTransfer(from, to, ids, values);
        super._update(from, to, ids, values);
    }

    /// @dev Checks and settles every element of a transfer before any unit moves. An element is checked
    /// against the sender's units as the earlier elements of the same batch leave them (a batch may name an
    /// id twice): the outcome, and the error, are those of sending the elements one by one.
    function _beforeTransfer(address from, address to, uint256[] memory ids, uint256[] memory values) private {
        if (ids.length != values.length) revert ERC1155InvalidArrayLength(ids.length, values.length);
        address operator = _msgSender();
        if (operator != from && _role(operator) == IParticipantRegistry.Role.None) revert CallerNotActive(operator);
        for (uint256 i = 0; i < ids.length; ++i) {
            (uint256 id, uint256 amount) = (ids[i], values[i]);
            Record storage r = _receivables[id];
            HolderState storage f = _holders[id][from];
            uint256 units = f.balance;
            if (from != to) {
                for (uint256 j = 0; j < i; ++j) {
                    if (ids[j] == id) units -= values[j]; // earlier elements passed: no underflow
                }
            }
            bytes32 reason = _check(r, from, to, units, amount);
            if (reason != OK) revert TransferNotAllowed(from, to, id, amount, reason);
            _settle(id, r, from, f);
            // A receiver that holds units is settled like any holder. A receiver without units has no cash to
            // settle (its remainder, below one minor unit, cannot change); its checkpoint starts at `repaid`
            // with the units it receives now, which this move's TransferSingle/TransferBatch records.
            HolderState storage t = _holders[id][to];
            if (t.balance != 0) {
                _settle(id, r, to, t);
            } else {
                uint64 repaid = r.repaid;
                if (t.mark != repaid) t.mark = repaid;
            }
        }
    }

    function _check(Record storage r, address from, address to, uint256 balance, uint256 amount)
        private
        view
        returns (bytes32)
    {
        Status status = r.status;
        if (status == Status.None) return "UNKNOWN_RECEIVABLE";
        if (status == Status.Settled) return "SETTLED";
        if (status != Status.Confirmed) return "NOT_CONFIRMED";
        if (r.disputed) return "DISPUTED";
        if (block.timestamp >= r.dueDate) return "MATURED";
        if (amount == 0) return "ZERO_AMOUNT";
        if (_role(from) == IParticipantRegistry.Role.None) return "SENDER_NOT_ACTIVE";
        IParticipantRegistry.Role toRole = _role(to);
        if (toRole == IParticipantRegistry.Role.None) return "RECEIVER_NOT_ACTIVE";
        if (
            toRole != IParticipantRegistry.Role.Supplier && toRole != IParticipantRegistry.Role.Financier
                && toRole != IParticipantRegistry.Role.CoreEnterprise
        ) return "RECEIVER_ROLE_NOT_ALLOWED";
        if (to == r.debtor) return "RECEIVER_IS_DEBTOR";
        if (balance < amount) return "INSUFFICIENT_BALANCE";
        return OK;
    }

    // ====================================================================== repayment

    /// @inheritdoc IReceivableLedger
    function repay(uint256 id, uint256 amount) external nonReentrant {
        address token = _repay(id, amount);
        // `msg.sender` was checked by `_repay` to be the debtor: it pays for itself.
        // slither-disable-next-line arbitrary-send-erc20
        IERC20(token).safeTransferFrom(_msgSender(), address(this), amount);
    }

    /// @inheritdoc IReceivableLedger
    function repayWithPermit(uint256 id, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        nonReentrant
    {
        address token = _repay(id, amount);
        address debtor = _msgSender(); // checked by `_repay`: it permits and pays for itself
        Permits.permit(token, debtor, address(this), amount, deadline, v, r, s);
        // slither-disable-next-line arbitrary-send-erc20
        IERC20(token).safeTransferFrom(debtor, address(this), amount); // spends exactly the permitted allowance
    }

    /// @dev The checks and effects of a repayment by the caller; returns the settlement token to pull.
    function _repay(uint256 id, uint256 amount) private returns (address token) {
        Record storage r = _receivables[id];
        address debtor = r.debtor;
        address caller = _msgSender();
        if (caller != debtor) revert NotDebtor(id, caller, debtor);
        // active or suspended: suspension never stops the payment of an existing debt
        (IParticipantRegistry.Role role,) = _registration(caller);
        if (role != IParticipantRegistry.Role.CoreEnterprise) {
            revert UnauthorizedParticipant(caller, IParticipantRegistry.Role.CoreEnterprise);
        }
        Status status = r.status;
        if (status != Status.Confirmed) revert WrongStatus(id, status, Status.Confirmed);
        if (r.disputed) revert ReceivableDisputed(id);
        if (amount == 0) revert ZeroAmount();
        uint256 repaid = r.repaid;
        uint256 open = uint256(r.faceValue) - r.diluted - repaid;
        if (amount > open) revert RepaymentExceedsOutstanding(id, amount, open);
        r.repaid = uint64(repaid + amount);
        if (amount == open) r.status = Status.Settled;
        uint256 used = _releaseCredit(debtor, r.tokenIndex, amount);
        emit Repaid(id, debtor, amount, repaid + amount, open - amount, used);
        token = _tokenByIndex[r.tokenIndex];
    }

    /// @inheritdoc IReceivableLedger
    function redeem(uint256 id) external nonReentrant returns (uint256 amount) {
        address holder = _msgSender();
        // active or suspended participants: suspension never stops the redemption of a repaid debt
        (, IParticipantRegistry.Status pStatus) = _registration(holder);
        if (pStatus == IParticipantRegistry.Status.None) revert CallerNotActive(holder);
        Record storage r = _receivables[id];
        HolderState storage h = _holders[id][holder];
        (bool finalized, uint256 burned) = _settle(id, r, holder, h);
        if (burned != 0) _burn(holder, id, burned); // the final settlement's units, through `_update`
        amount = h.owed;
        if (amount == 0) {
            // a final settlement that burned units or pooled a remainder is a state change worth keeping
            if (!finalized) revert NothingToRedeem(id, holder);
            return 0;
        }
        if (h.balance == 0 && h.rem == 0) delete _holders[id][holder]; // nothing left: clear the slot
        else h.owed = 0;
        uint256 total = uint256(r.redeemed) + amount;
        r.redeemed = uint64(total);
        emit Redeemed(id, holder, amount, total);
        IERC20(_tokenByIndex[r.tokenIndex]).safeTransfer(holder, amount);
    }

    /// @inheritdoc IReceivableLedger
    function owed(uint256 id, address holder) external view returns (uint256) {
        Record storage r = _receivables[id];
        HolderState memory h = _holders[id][holder];
        (uint256 cash,,,,) = _settlement(r, h);
        return uint256(h.owed) + cash;
    }

    /// @notice A holder's fractional cash entitlement not yet paid, in 1/faceValue minor units.
    /// @param id The receivable.
    /// @param holder The holder.
    /// @return The remainder as of the holder's last settlement.
    function remainderOf(uint256 id, address holder) external view returns (uint256) {
        return _holders[id][holder].rem;
    }

    /// @inheritdoc IReceivableLedger
    function isOverdue(uint256 id) external view returns (bool) {
        Record storage r = _receivables[id];
        return r.status == Status.Confirmed && block.timestamp > uint256(r.dueDate) + GRACE_PERIOD;
    }

    /// @dev Brings `holder` up to date with the receivable's repayments: credits its exact share (floor) to
    /// `owed`, keeps the fraction in `rem`, moves the checkpoint; on a settled receivable also pays its share
    /// of the pooled remainders and returns its units for the caller to burn (`_burn`, after this). O(1), one
    /// write of the holder's slot, and every write emits `HolderSettled`. Nothing is written (the common case)
    /// when nothing was repaid since its last settlement, or when it holds no units on an open receivable (no
    /// cash can be due to it: its checkpoint moves when units arrive, see `_beforeTransfer`). Returns whether
    /// this was a final settlement, and the units to burn.
    function _settle(uint256 id, Record storage r, address holder, HolderState storage s)
        private
        returns (bool isFinal, uint256 burned)
    {
        uint64 repaid = r.repaid;
        bool settled = r.status == Status.Settled;
        if (!settled && (s.mark == repaid || s.balance == 0)) return (false, 0);
        HolderState memory h = s;
        if (settled && h.balance == 0 && h.rem == 0) return (false, 0); // nothing left to settle
        uint256 cash;
        uint256 rem;
        uint256 pool; // stays 0 while the receivable is open: only final settlements fill the pool
        (cash, rem, burned, isFinal, pool) = _settlement(r, h);
        if (isFinal) {
            // cumulative rounding: the pool's integer part grows by 0 or 1 per holder
            pool += rem;
            r.remainderPool = uint128(pool);
            rem = 0;
        }
        if (cash != 0) r.settledRepaid += uint64(cash);
        h.owed += uint64(cash);
        (h.mark, h.rem) = (repaid, uint64(rem));
        _holders[id][holder] = h; // one write; the units are burned by the caller, through `_update`
        emit HolderSettled(id, holder, cash, burned, h.balance - burned, h.owed, h.rem, pool);
    }

    /// @dev What settling `h` now would do: cash to credit, remainder to keep (before pooling), units to burn,
    /// whether it is a final settlement (receivable settled, holder still has units or a remainder) and, for a
    /// final settlement, the remainder pool before it (0 otherwise).
    function _settlement(Record storage r, HolderState memory h)
        private
        view
        returns (uint256 cash, uint256 rem, uint256 burned, bool isFinal, uint256 pool)
    {
        uint256 face = r.faceValue;
        uint256 repaid = r.repaid;
        uint256 total = uint256(h.rem) + uint256(h.balance) * (repaid - h.mark);
        if (face != 0) (cash, rem) = (total / face, total % face);
        isFinal = r.status == Status.Settled && (h.balance != 0 || h.rem != 0);
        if (isFinal) {
            pool = r.remainderPool;
            cash += (pool + rem) / face - pool / face;
            burned = h.balance;
        }
    }

    // ====================================================================== disputes

    /// @inheritdoc IReceivableLedger
    function dispute(uint256 id, bytes32 reasonHash) external {
        Record storage r = _receivables[id];
        address caller = _msgSender();
        IParticipantRegistry.Role role = _role(caller);
        bool isDebtor = caller == r.debtor && role == IParticipantRegistry.Role.CoreEnterprise;
        if (!isDebtor && role != IParticipantRegistry.Role.Regulator) revert NotDebtorOrRegulator(id, caller);
        Status status = r.status;
        if (status != Status.Confirmed) revert WrongStatus(id, status, Status.Confirmed);
        if (r.disputed) revert ReceivableDisputed(id);
        r.disputed = true;
        emit Disputed(id, caller, reasonHash);
    }

    /// @inheritdoc IReceivableLedger
    function resolveDispute(uint256 id) external onlyRole(OPERATOR_ROLE) {
        Record storage r = _receivables[id];
        if (!r.disputed) revert NotDisputed(id);
        r.disputed = false;
        emit DisputeResolved(
            id,
            _msgSender(),
            0,
            r.diluted,
            uint256(r.faceValue) - r.diluted - r.repaid,
            _credit[r.debtor][r.tokenIndex].used
        );
    }

    /// @inheritdoc IReceivableLedger
    function resolveWithCreditNote(uint256 id, uint256 amount) external onlyRole(OPERATOR_ROLE) {
        Record storage r = _receivables[id];
        if (!r.disputed) revert NotDisputed(id);
        uint256 repaid = r.repaid;
        if (repaid != 0) revert DilutionAfterRepayment(id, repaid);
        if (amount == 0) revert ZeroAmount();
        uint256 totalDiluted = r.diluted;
        uint256 open = uint256(r.faceValue) - totalDiluted;
        if (amount > open) revert CreditNoteExceedsOutstanding(id, amount, open);
        totalDiluted += amount;
        r.diluted = uint64(totalDiluted);
        r.disputed = false;
        if (amount == open) r.status = Status.Settled;
        uint256 used = _releaseCredit(r.debtor, r.tokenIndex, amount);
        emit DisputeResolved(id, _msgSender(), amount, totalDiluted, open - amount, used);
    }

    // ====================================================================== internals

    function _role(address account) private view returns (IParticipantRegistry.Role) {
        return _registry.activeRole(account);
    }

    /// @dev Role and status as onboarded, whether active or suspended (for what suspension must not stop).
    function _registration(address account)
        private
        view
        returns (IParticipantRegistry.Role role, IParticipantRegistry.Status status)
    {
        // slither-disable-next-line unused-return
        (role, status,) = _registry.participant(account);
    }

    function _requireRole(address account, IParticipantRegistry.Role role) private view {
        if (_role(account) != role) revert UnauthorizedParticipant(account, role);
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ReceivableUnits, AccessControl, IERC165)
        returns (bool)
    {
        return super.supportsInterface(interfaceId);
    }
}
