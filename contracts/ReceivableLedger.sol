// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
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

/// @title ReceivableLedger
/// @notice Tokenized trade receivables for supply-chain finance: registration by the verifier, endorsement
/// by the debtor (direct or EIP-712), credit lines, split transfers, delivery to the discount market,
/// partial repayment with O(1) pull redemption, disputes and credit notes.
/// @dev ERC-1155 id = receivable id; one unit = one minor unit of unpaid nominal. Every balance change goes
/// through `_update`, which first settles both parties against repayments and credit notes (lazily, O(1))
/// and then applies the same compliance rules as the public `canTransfer`.
///
/// Settlement maths: the receivable's outstanding nominal is O = face - diluted - repaid, and N = face -
/// diluted. Each holder stores `mark` = (repaid + diluted) when it was last settled, i.e. the outstanding
/// O_ck = face - mark it last saw. Credit notes are only allowed before the first repayment, so a holder
/// whose O_ck > N was settled before (some) dilution: it keeps ceil(bal * N / O_ck) units after dilution,
/// and of these ceil(kept * O / min(O_ck, N)) after repayment. Burned units are credited as cash (`owed`)
/// or recorded as diluted. Rounding keeps units with the holder, never cash: cash credited is further
/// capped by (repaid - settledRepaid), so the ledger can never owe more than it was repaid.
contract ReceivableLedger is IReceivableLedger, ERC1155, AccessControl, EIP712, Nonces, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Role that resolves disputes and grants credit lines (granted to the deployer).
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");
    /// @inheritdoc IReceivableLedger
    bytes32 public constant ENDORSEMENT_TYPEHASH =
        keccak256("Endorsement(uint256 receivableId,bool accept,uint256 nonce,uint256 deadline)");
    /// @notice Time after the due date before an unpaid receivable shows as overdue.
    uint256 public constant GRACE_PERIOD = 3 days;

    bytes32 private constant OK = "OK";

    struct CreditLine {
        uint128 limit;
        uint128 used;
    }

    /// @dev Storage layout of a receivable: two slots written at registration, one more at the first
    /// repayment or credit note, a fourth only when credit-note units are settled. Amounts fit in 64 bits
    /// (face <= 2^64-1 minor units); the settlement token is stored once and referenced by index.
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
        // slot 2: zero until the first repayment or credit note
        uint64 repaid;
        uint64 diluted;
        uint64 settledRepaid;
        uint64 redeemed;
        // slot 3
        uint64 settledDiluted;
    }

    /// @dev One slot per (receivable, holder): the ERC-1155 balance lives here, next to the settlement
    /// checkpoint, so that a settlement and a balance change cost one storage write. (OpenZeppelin's
    /// `_balances` mapping is not used: `_update` and `balanceOf` are overridden.)
    struct HolderState {
        uint64 balance; // stored ERC-1155 balance (units of unpaid nominal as of `mark`)
        uint64 mark; // repaid + diluted of the receivable when this holder was last settled
        uint128 owed; // settled, not yet redeemed cash
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
    mapping(address debtor => CreditLine) private _creditLines;
    // slither-disable-next-line uninitialized-state
    mapping(uint256 id => mapping(address holder => HolderState)) private _holders;

    /// @param registry_ The participant registry. The deployer receives DEFAULT_ADMIN_ROLE and OPERATOR_ROLE.
    constructor(IParticipantRegistry registry_) ERC1155("") EIP712("SCF Receivable Ledger", "1") {
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
        _market = newMarket;
        emit MarketSet(newMarket, _msgSender());
    }

    // ====================================================================== credit lines

    /// @inheritdoc IReceivableLedger
    function setCreditLine(address debtor, uint256 limit) external {
        address caller = _msgSender();
        if (!hasRole(OPERATOR_ROLE, caller) && _role(caller) != IParticipantRegistry.Role.Financier) {
            revert NotOperatorOrFinancier(caller);
        }
        if (_role(debtor) != IParticipantRegistry.Role.CoreEnterprise) revert DebtorNotActiveCoreEnterprise(debtor);
        CreditLine storage line = _creditLines[debtor];
        uint256 used = line.used;
        if (limit < used || limit > type(uint128).max) revert CreditLineBelowUsage(debtor, limit, used);
        line.limit = uint128(limit);
        emit CreditLineSet(debtor, limit, used, caller);
    }

    /// @inheritdoc IReceivableLedger
    function creditLine(address debtor) external view returns (uint256 limit, uint256 used) {
        CreditLine storage line = _creditLines[debtor];
        return (line.limit, line.used);
    }

    // ====================================================================== tokenization

    /// @inheritdoc IReceivableLedger
    function registerInvoice(
        address creditor,
        address debtor,
        uint256 faceValue,
        address token,
        uint256 issueDate,
        uint256 dueDate,
        bytes32 bundleHash,
        bytes32 fingerprint
    ) external returns (uint256 id) {
        address verifier = _msgSender();
        _requireRole(verifier, IParticipantRegistry.Role.Verifier);
        if (faceValue == 0) revert InvalidInvoice("ZERO_FACE");
        if (faceValue > type(uint64).max) revert InvalidInvoice("FACE_TOO_LARGE");
        if (issueDate >= dueDate || dueDate > type(uint40).max) revert InvalidInvoice("BAD_DATES");
        if (fingerprint == bytes32(0)) revert InvalidInvoice("ZERO_FINGERPRINT");
        uint256 existing = _idByFingerprint[fingerprint];
        if (existing != 0) revert DuplicateFingerprint(fingerprint, existing);
        if (_role(creditor) != IParticipantRegistry.Role.Supplier) revert CreditorNotActiveSupplier(creditor);
        if (_role(debtor) != IParticipantRegistry.Role.CoreEnterprise) revert DebtorNotActiveCoreEnterprise(debtor);

        uint32 tokenIndex = _tokenIndex[token];
        if (tokenIndex == 0) {
            // first invoice in this token: remember it once (two extra slots, paid once per token)
            if (token.code.length == 0) revert InvalidInvoice("BAD_TOKEN");
            tokenIndex = ++_tokenCount;
            _tokenIndex[token] = tokenIndex;
            _tokenByIndex[tokenIndex] = token;
        }
        id = ++_count;
        _idByFingerprint[fingerprint] = id;
        Record storage r = _receivables[id];
        (r.creditor, r.faceValue, r.tokenIndex) = (creditor, uint64(faceValue), tokenIndex);
        (r.debtor, r.issueDate, r.dueDate, r.status) = (debtor, uint40(issueDate), uint40(dueDate), Status.Pending);
        emit InvoiceRegistered(
            id, creditor, debtor, token, faceValue, issueDate, dueDate, bundleHash, fingerprint, verifier
        );
        _mint(creditor, id, faceValue, "");
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
            settledDiluted: r.settledDiluted
        });
    }

    /// @inheritdoc IReceivableLedger
    function discountTerms(uint256 id)
        external
        view
        returns (address token, uint256 dueDate, Status status, bool disputed)
    {
        Record storage r = _receivables[id];
        return (_tokenByIndex[r.tokenIndex], r.dueDate, r.status, r.disputed);
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
        address debtor = _receivables[id].debtor;
        if (debtor == address(0)) revert WrongStatus(id, Status.None, Status.Pending);
        bytes32 structHash = keccak256(abi.encode(ENDORSEMENT_TYPEHASH, id, accept, _useNonce(debtor), deadline));
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
            CreditLine storage line = _creditLines[debtor];
            (uint256 limit, uint256 used) = (line.limit, line.used);
            if (used + amount > limit) revert CreditLineExceeded(debtor, limit, used, amount);
            line.used = uint128(used + amount);
            r.status = Status.Confirmed;
            emit Endorsed(id, debtor, amount, used + amount, bySig);
        } else {
            r.status = Status.Rejected;
            address creditor = r.creditor;
            emit Rejected(id, debtor, creditor, amount, bySig);
            // Pending units cannot move, so the creditor holds all of them.
            _holders[id][creditor].balance = 0;
            emit TransferSingle(_msgSender(), creditor, address(0), id, amount);
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
        override(ERC1155, IERC1155)
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
    ) public override(ERC1155, IERC1155) nonReentrant {
        super.safeBatchTransferFrom(from, to, ids, values, data);
    }

    /// @notice Approves an operator for all of the caller's receivables. Caller must be an active participant.
    /// @param operator The operator.
    /// @param approved Whether approved.
    function setApprovalForAll(address operator, bool approved) public override(ERC1155, IERC1155) {
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
        reason = _check(_receivables[id], from, to, _effectiveBalance(id, from), amount);
        ok = reason == OK;
    }

    /// @notice Effective balance: the holder's unpaid nominal after pro-rata settlement against all
    /// repayments and credit notes so far (what the stored balance becomes at its next settlement).
    /// @param account The holder.
    /// @param id The receivable.
    /// @return The effective balance.
    function balanceOf(address account, uint256 id) public view override(ERC1155, IERC1155) returns (uint256) {
        return _effectiveBalance(id, account);
    }

    /// @notice The stored (possibly not yet settled) ERC-1155 balance.
    /// @param account The holder.
    /// @param id The receivable.
    /// @return The stored balance.
    function storedBalanceOf(address account, uint256 id) external view returns (uint256) {
        return _holders[id][account].balance;
    }

    /// @dev The single choke point of every balance change (replaces OpenZeppelin's bookkeeping, same events
    /// and errors). A transfer first settles both parties against repayments and credit notes, then runs
    /// the compliance check. Mints happen only in `registerInvoice` (receiver checked there); burns only in
    /// settlement and rejection, which write the holder slot directly.
    function _update(address from, address to, uint256[] memory ids, uint256[] memory values) internal override {
        if (ids.length != values.length) revert ERC1155InvalidArrayLength(ids.length, values.length);
        address operator = _msgSender();
        bool isTransfer = from != address(0) && to != address(0);
        if (isTransfer && operator != from && _role(operator) == IParticipantRegistry.Role.None) {
            revert CallerNotActive(operator);
        }
        for (uint256 i = 0; i < ids.length; ++i) {
            _move(from, to, ids[i], values[i], isTransfer);
        }
        if (ids.length == 1) {
            emit TransferSingle(operator, from, to, ids[0], values[0]);
        } else {
            emit TransferBatch(operator, from, to, ids, values);
        }
    }

    function _move(address from, address to, uint256 id, uint256 amount, bool isTransfer) private {
        if (isTransfer) {
            Record storage r = _receivables[id];
            _settle(id, r, from);
            _settle(id, r, to);
            bytes32 reason = _check(r, from, to, _holders[id][from].balance, amount);
            if (reason != OK) revert TransferNotAllowed(from, to, id, amount, reason);
        }
        if (from != address(0)) {
            HolderState storage f = _holders[id][from];
            uint256 fromBalance = f.balance;
            if (fromBalance < amount) revert ERC1155InsufficientBalance(from, fromBalance, amount, id);
            f.balance = uint64(fromBalance - amount);
        }
        if (to != address(0)) {
            // cannot overflow: the units of one receivable never exceed its face value (< 2^64)
            _holders[id][to].balance += uint64(amount);
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
        Record storage r = _receivables[id];
        address debtor = r.debtor;
        address caller = _msgSender();
        if (caller != debtor) revert NotDebtor(id, caller, debtor);
        _requireRole(caller, IParticipantRegistry.Role.CoreEnterprise);
        Status status = r.status;
        if (status != Status.Confirmed) revert WrongStatus(id, status, Status.Confirmed);
        if (r.disputed) revert ReceivableDisputed(id);
        if (amount == 0) revert ZeroAmount();
        uint256 repaid = r.repaid;
        uint256 open = uint256(r.faceValue) - r.diluted - repaid;
        if (amount > open) revert RepaymentExceedsOutstanding(id, amount, open);
        r.repaid = uint64(repaid + amount);
        if (amount == open) r.status = Status.Settled;
        CreditLine storage line = _creditLines[debtor];
        uint256 used = line.used - amount; // used >= outstanding of each confirmed receivable
        line.used = uint128(used);
        emit Repaid(id, debtor, amount, repaid + amount, open - amount, used);
        // `caller` is msg.sender, checked above to be the debtor: it pays for itself.
        // slither-disable-next-line arbitrary-send-erc20
        IERC20(_tokenByIndex[r.tokenIndex]).safeTransferFrom(caller, address(this), amount);
    }

    /// @inheritdoc IReceivableLedger
    function redeem(uint256 id) external nonReentrant returns (uint256 amount) {
        address holder = _msgSender();
        if (_role(holder) == IParticipantRegistry.Role.None) revert CallerNotActive(holder);
        Record storage r = _receivables[id];
        _settle(id, r, holder);
        HolderState storage h = _holders[id][holder];
        amount = h.owed;
        if (amount == 0) revert NothingToRedeem(id, holder);
        if (h.balance == 0) delete _holders[id][holder]; // nothing left: clear the slot (gas refund)
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
        if (h.balance == 0 || h.mark == uint256(r.repaid) + r.diluted) return h.owed;
        (uint256 cash,) = _settlement(r, h.mark, h.balance);
        return h.owed + cash;
    }

    /// @inheritdoc IReceivableLedger
    function isOverdue(uint256 id) external view returns (bool) {
        Record storage r = _receivables[id];
        return r.status == Status.Confirmed && block.timestamp > uint256(r.dueDate) + GRACE_PERIOD;
    }

    /// @dev Brings `holder`'s stored balance up to date with the receivable's repayments and credit notes:
    /// burns the settled units, credits the cash share to `owed`, moves the checkpoint. O(1), one storage
    /// write of the holder's slot, none when nothing happened since its last settlement.
    function _settle(uint256 id, Record storage r, address holder) private {
        HolderState memory h = _holders[id][holder];
        uint256 reduced = uint256(r.repaid) + r.diluted;
        if (h.mark == reduced) return;
        uint256 cash = 0;
        uint256 diluted = 0;
        if (h.balance != 0) {
            (cash, diluted) = _settlement(r, h.mark, h.balance);
            if (cash != 0) r.settledRepaid += uint64(cash);
            if (diluted != 0) r.settledDiluted += uint64(diluted);
        }
        uint256 remaining = h.balance - cash - diluted;
        uint256 newOwed = h.owed + cash;
        _holders[id][holder] = HolderState(uint64(remaining), uint64(reduced), uint128(newOwed));
        if (h.balance != 0) {
            emit HolderSettled(id, holder, cash, diluted, remaining, newOwed);
            if (cash + diluted != 0) emit TransferSingle(_msgSender(), holder, address(0), id, cash + diluted);
        }
    }

    /// @dev Units of `balance` (last settled at `mark`) to burn as repaid cash and as diluted nominal.
    function _settlement(Record storage r, uint256 mark, uint256 balance)
        private
        view
        returns (uint256 cash, uint256 diluted)
    {
        uint256 face = r.faceValue;
        uint256 repaid = r.repaid;
        uint256 totalDiluted = r.diluted;
        uint256 seen = face - mark; // outstanding when last settled
        uint256 nominal = face - totalDiluted;
        uint256 open = nominal - repaid;
        uint256 kept = balance;
        uint256 base = seen;
        if (seen > nominal) {
            // settled before (some) dilution: all dilution precedes any repayment
            kept = Math.mulDiv(balance, nominal, seen, Math.Rounding.Ceil);
            base = nominal;
        }
        uint256 keptAfterRepay = open == 0 ? 0 : Math.mulDiv(kept, open, base, Math.Rounding.Ceil);
        diluted = balance - kept;
        cash = kept - keptAfterRepay;
        if (diluted != 0) {
            // (slot 3 is read only when there is dilution to settle)
            uint256 dilutionLeft = totalDiluted - r.settledDiluted;
            if (diluted > dilutionLeft) diluted = dilutionLeft;
        }
        uint256 cashLeft = repaid - r.settledRepaid;
        if (cash > cashLeft) cash = cashLeft;
    }

    function _effectiveBalance(uint256 id, address holder) private view returns (uint256) {
        HolderState memory h = _holders[id][holder];
        if (h.balance == 0) return 0;
        Record storage r = _receivables[id];
        if (h.mark == uint256(r.repaid) + r.diluted) return h.balance;
        (uint256 cash, uint256 diluted) = _settlement(r, h.mark, h.balance);
        return h.balance - cash - diluted;
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
            _creditLines[r.debtor].used
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
        CreditLine storage line = _creditLines[r.debtor];
        uint256 used = line.used - amount; // disputes exist only on confirmed receivables
        line.used = uint128(used);
        emit DisputeResolved(id, _msgSender(), amount, totalDiluted, open - amount, used);
    }

    // ====================================================================== internals

    function _role(address account) private view returns (IParticipantRegistry.Role) {
        return _registry.activeRole(account);
    }

    function _requireRole(address account, IParticipantRegistry.Role role) private view {
        if (_role(account) != role) revert UnauthorizedParticipant(account, role);
    }

    /// @inheritdoc ERC1155
    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC1155, AccessControl, IERC165)
        returns (bool)
    {
        return super.supportsInterface(interfaceId);
    }
}
