// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IWarehouseReceipts} from "./interfaces/IWarehouseReceipts.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {IDiscountMarket} from "./interfaces/IDiscountMarket.sol";
import {Permits} from "./Permits.sol";

/// @title WarehouseReceipts
/// @notice Electronic warehouse receipts and loans against them (see `IWarehouseReceipts`).
/// @dev ERC-721 (OpenZeppelin 5): `_update` is the one place a receipt changes hands, is minted or burned, and
/// the one place `Transfer` is emitted. The override refuses to move a pledged or frozen receipt (title to an
/// unpaid pledgee, the one internal move, ends the pledge first), a transfer by a suspended owner, and a
/// transfer to anyone but an active participant. Every state change emits an event the read model can follow.
contract WarehouseReceipts is IWarehouseReceipts, ERC721, AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Role that appoints warehouses (granted to the deployer).
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");
    /// @notice Highest loan rate: 100 % a year.
    uint256 public constant MAX_RATE_BPS = 10_000;
    /// @notice Time after maturity before an unpaid pledgee may take title.
    uint256 public constant GRACE_PERIOD = 7 days;
    /// @notice Time a borrower has to cure a margin call.
    uint256 public constant MARGIN_CALL_PERIOD = 3 days;
    /// @notice Most receipts pledged for one loan (bounds every loop over a loan's collateral).
    uint256 public constant MAX_COLLATERAL = 8;
    /// @notice A price is per this many units of its unit (per tonne for kilograms).
    uint256 public constant PRICE_QUANTITY = 1000;

    uint256 private constant YEAR_BPS_DAYS = 365 * 10_000;

    IParticipantRegistry private immutable _registry;
    IERC20 private immutable _token;

    mapping(uint256 receiptId => Receipt) private _receipts;
    mapping(bytes32 fingerprint => uint256 receiptId) private _byFingerprint;
    mapping(address account => bool) private _warehouses;
    mapping(uint256 loanId => Loan) private _loans;
    /// @dev open alerts: receipt => word (alert number >> 8) => one bit per alert number (number & 255)
    mapping(uint256 receiptId => mapping(uint256 word => uint256 bits)) private _openAlerts;
    /// @dev the receipts a loan holds after its first (index 1 .. collateralCount - 1)
    mapping(uint256 loanId => mapping(uint256 index => uint256 receiptId)) private _extraCollateral;
    mapping(bytes24 commodityUnit => Price) private _prices;
    uint256 private _receiptCount;
    uint256 private _loanCount;

    /// @param registry_ The participant registry asked before every movement.
    /// @param token_ The settlement token loans are paid out and repaid in.
    /// @param admin The operator.
    constructor(IParticipantRegistry registry_, IERC20 token_, address admin) ERC721("SCF Warehouse Receipt", "SCFWR") {
        if (address(registry_) == address(0) || address(token_) == address(0) || admin == address(0)) {
            revert ZeroAddress();
        }
        _registry = registry_;
        _token = token_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(OPERATOR_ROLE, admin);
    }

    // ====================================================================== receipts

    /// @inheritdoc IWarehouseReceipts
    function appointWarehouse(address warehouse, bool appointed) external onlyRole(OPERATOR_ROLE) {
        if (warehouse == address(0)) revert ZeroAddress();
        if (appointed && !_registry.hasActiveRole(warehouse, IParticipantRegistry.Role.Logistics)) {
            revert NotWarehouse(warehouse);
        }
        _warehouses[warehouse] = appointed;
        emit WarehouseAppointed(warehouse, appointed);
    }

    /// @inheritdoc IWarehouseReceipts
    function issue(address owner, Lot calldata lot) external returns (uint256 receiptId) {
        address warehouse = _msgSender();
        if (!_warehouses[warehouse] || !_registry.hasActiveRole(warehouse, IParticipantRegistry.Role.Logistics)) {
            revert NotWarehouse(warehouse);
        }
        if (lot.commodity == bytes16(0) || lot.unit == bytes4(0) || lot.lotRef == bytes32(0)) revert IncompleteLot();
        if (lot.quantity == 0) revert ZeroAmount();
        bytes32 fingerprint = keccak256(abi.encode(warehouse, lot.lotRef));
        uint256 existing = _byFingerprint[fingerprint];
        if (existing != 0) revert DuplicateLot(fingerprint, existing);
        receiptId = ++_receiptCount;
        _byFingerprint[fingerprint] = receiptId;
        _receipts[receiptId] = Receipt({
            warehouse: warehouse,
            quantity: lot.quantity,
            commodity: lot.commodity,
            unit: lot.unit,
            loanId: 0,
            openAlerts: 0,
            alertsRecorded: 0,
            frozen: false
        });
        emit ReceiptIssued(receiptId, warehouse, owner, lot, fingerprint);
        _mint(owner, receiptId); // `_update` checks that the owner is an active participant
    }

    /// @inheritdoc IWarehouseReceipts
    function surrender(uint256 receiptId) external {
        address owner = _ownerOrRevert(receiptId);
        address caller = _msgSender();
        if (caller != owner) revert NotOwner(receiptId, caller);
        if (!_registry.isActive(owner)) revert CallerNotActive(owner); // goods-out is a movement of value
        emit ReceiptSurrendered(receiptId, owner);
        _burn(receiptId); // `_update` refuses a pledged or frozen receipt
        delete _receipts[receiptId];
    }

    /// @dev The one choke point of ownership: a pledged or frozen receipt does not move (mint excepted); the
    /// new owner must be an active participant. Then OpenZeppelin moves it and emits `Transfer`.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        address owner = _ownerOf(tokenId);
        if (owner != address(0)) {
            Receipt storage r = _receipts[tokenId];
            if (r.loanId != 0 || r.frozen) revert ReceiptLocked(tokenId, r.loanId);
            // a transfer (`auth` set) moves the owner's value: a suspended owner can't; title to an unpaid
            // pledgee (`auth` zero) is the pledgee's remedy and goes whatever the borrower's status
            // slither-disable-next-line calls-loop
            if (auth != address(0) && !_registry.isActive(owner)) revert CallerNotActive(owner);
        }
        // slither-disable-next-line calls-loop
        if (to != address(0) && !_registry.isActive(to)) revert CallerNotActive(to);
        return super._update(to, tokenId, auth);
    }

    // ====================================================================== loans

    /// @inheritdoc IWarehouseReceipts
    function offerLoan(uint256 receiptId, LoanTerms calldata terms) external returns (uint256 loanId) {
        loanId = _offerLoan(receiptId, terms);
    }

    /// @inheritdoc IWarehouseReceipts
    function offerLoanWithPermit(
        uint256 receiptId,
        LoanTerms calldata terms,
        IDiscountMarket.PermitSignature calldata permit
    ) external returns (uint256 loanId) {
        loanId = _offerLoan(receiptId, terms);
        // the lender (msg.sender) signed the permit for this contract: the allowance the payout spends
        Permits.permit(
            address(_token), _msgSender(), address(this), permit.value, permit.deadline, permit.v, permit.r, permit.s
        );
    }

    function _offerLoan(uint256 receiptId, LoanTerms calldata terms) private returns (uint256 loanId) {
        address lender = _msgSender();
        _requireFinancier(lender);
        _ownerOrRevert(receiptId);
        if (terms.principal == 0) revert ZeroAmount();
        // below 2^112 the due amount (at most 10,000 bp a year for 2^40 seconds) stays below 2^128
        if (terms.principal > type(uint112).max) revert AmountTooLarge(terms.principal, type(uint112).max);
        if (terms.rateBps > MAX_RATE_BPS) revert InvalidRate(terms.rateBps);
        if (terms.maturity <= block.timestamp || terms.maturity > type(uint40).max) {
            revert InvalidMaturity(terms.maturity);
        }
        if (terms.ltvLimitBps == 0 || terms.ltvLimitBps > terms.marginCallBps || terms.marginCallBps > 10_000) {
            revert InvalidLoanToValue(terms.ltvLimitBps, terms.marginCallBps);
        }
        uint256 value = _valueOf(_receipts[receiptId]);
        if (terms.principal * 10_000 > value * terms.ltvLimitBps) {
            revert LoanToValueTooHigh(_loanCount + 1, terms.principal, value);
        }
        loanId = ++_loanCount;
        _loans[loanId] = Loan({
            lender: lender,
            receiptId: uint64(receiptId),
            state: LoanState.Offered,
            rateBps: uint16(terms.rateBps),
            maturity: uint40(terms.maturity),
            principal: uint128(terms.principal),
            ltvLimitBps: uint16(terms.ltvLimitBps),
            marginCallBps: uint16(terms.marginCallBps),
            marginDeadline: 0,
            collateralCount: 1,
            due: uint128(terms.principal), // the principal until it starts: the start then rewrites a used slot
            repaid: 0
        });
        emit LoanOffered(
            loanId,
            receiptId,
            lender,
            terms.principal,
            terms.rateBps,
            terms.maturity,
            terms.ltvLimitBps,
            terms.marginCallBps
        );
    }

    /// @inheritdoc IWarehouseReceipts
    function withdrawLoan(uint256 loanId) external {
        Loan storage l = _loanOf(loanId);
        if (_msgSender() != l.lender) revert NotLender(loanId, _msgSender());
        if (l.state != LoanState.Offered) revert WrongLoanState(loanId, l.state);
        l.state = LoanState.Withdrawn;
        emit LoanWithdrawn(loanId);
    }

    /// @inheritdoc IWarehouseReceipts
    function acceptLoan(uint256 loanId) external returns (uint256 due) {
        Loan storage l = _loanOf(loanId);
        if (l.state != LoanState.Offered) revert WrongLoanState(loanId, l.state);
        uint256 receiptId = l.receiptId;
        address borrower = _msgSender();
        if (borrower != _ownerOrRevert(receiptId)) revert NotOwner(receiptId, borrower);
        // the payout below refuses a suspended lender or borrower (`SettlementToken` checks both); the lender
        // was an active financier when it offered
        address lender = l.lender;
        if (l.maturity <= block.timestamp) revert InvalidMaturity(l.maturity);
        Receipt storage r = _receipts[receiptId];
        if (r.loanId != 0 || r.frozen) revert ReceiptLocked(receiptId, r.loanId);
        uint256 principal = l.principal;
        // within the loan-to-value limit when offered; a later fall of the price is what margin calls are for
        due = _due(principal, l.rateBps, l.maturity, block.timestamp); // < 2^128: principal < 2^112
        l.state = LoanState.Active;
        l.due = uint128(due);
        r.loanId = uint32(loanId);
        emit LoanStarted(loanId, receiptId, borrower, due);
        // Effects are done: the loan is active and the receipt locked before the one external call, to the
        // platform's settlement token (no hooks), so no reentrancy guard is needed here. The lender made this
        // offer itself and approved this contract for it.
        // slither-disable-next-line arbitrary-send-erc20
        _token.safeTransferFrom(lender, borrower, principal);
    }

    /// @inheritdoc IWarehouseReceipts
    function addCollateral(uint256 loanId, uint256 receiptId) external {
        Loan storage l = _loanOf(loanId);
        if (l.state != LoanState.Active) revert WrongLoanState(loanId, l.state);
        address caller = _msgSender();
        address borrower = _ownerOf(l.receiptId);
        if (caller != borrower || caller != _ownerOrRevert(receiptId)) revert NotOwner(receiptId, caller);
        Receipt storage r = _receipts[receiptId];
        if (r.loanId != 0 || r.frozen) revert ReceiptLocked(receiptId, r.loanId);
        uint256 count = l.collateralCount;
        if (count >= MAX_COLLATERAL) revert TooMuchCollateral(loanId);
        _extraCollateral[loanId][count] = receiptId;
        l.collateralCount = uint8(count + 1);
        r.loanId = uint32(loanId);
        emit CollateralAdded(loanId, receiptId);
        _cureIfWithin(loanId, l);
    }

    /// @inheritdoc IWarehouseReceipts
    function recordPrice(bytes16 commodity, bytes4 unit, uint256 perThousand, uint256 observedAt, bytes32 sourceHash)
        external
    {
        address caller = _msgSender();
        if (!_registry.hasActiveRole(caller, IParticipantRegistry.Role.Verifier)) revert NotVerifier(caller);
        if (perThousand == 0) revert ZeroAmount();
        if (perThousand > type(uint128).max) revert AmountTooLarge(perThousand, type(uint128).max);
        Price storage p = _prices[_priceKey(commodity, unit)];
        if (observedAt <= p.observedAt || observedAt > block.timestamp) revert StalePrice(observedAt, p.observedAt);
        p.perThousand = uint128(perThousand);
        p.observedAt = uint40(observedAt);
        emit PriceRecorded(commodity, unit, perThousand, observedAt, sourceHash);
    }

    /// @inheritdoc IWarehouseReceipts
    function callMargin(uint256 loanId) external returns (uint256 deadline) {
        Loan storage l = _loanOf(loanId);
        if (l.state != LoanState.Active) revert WrongLoanState(loanId, l.state);
        uint256 outstanding = uint256(l.due) - l.repaid;
        uint256 value = _collateralValue(loanId, l);
        if (l.marginDeadline != 0 || outstanding * 10_000 <= value * l.marginCallBps) {
            revert MarginNotCallable(loanId, outstanding, value);
        }
        deadline = block.timestamp + MARGIN_CALL_PERIOD;
        l.marginDeadline = uint40(deadline);
        emit MarginCalled(loanId, deadline, outstanding, value);
    }

    /// @inheritdoc IWarehouseReceipts
    function cureMarginCall(uint256 loanId) external {
        Loan storage l = _loanOf(loanId);
        if (l.state != LoanState.Active || l.marginDeadline == 0) revert WrongLoanState(loanId, l.state);
        if (!_cureIfWithin(loanId, l)) {
            revert MarginNotCallable(loanId, uint256(l.due) - l.repaid, _collateralValue(loanId, l));
        }
    }

    /// @inheritdoc IWarehouseReceipts
    function repay(uint256 loanId, uint256 amount) external nonReentrant {
        _pay(_msgSender(), _repay(loanId, amount), amount);
    }

    /// @inheritdoc IWarehouseReceipts
    function repayWithPermit(uint256 loanId, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        nonReentrant
    {
        address lender = _repay(loanId, amount); // checks and effects first
        // the payer (msg.sender) permits exactly the amount this repayment pulls
        Permits.permit(address(_token), _msgSender(), address(this), amount, deadline, v, r, s);
        _pay(_msgSender(), lender, amount);
    }

    /// @dev The checks and effects of a repayment by the caller; returns the lender to pay.
    function _repay(uint256 loanId, uint256 amount) private returns (address lender) {
        Loan storage l = _loanOf(loanId);
        if (l.state != LoanState.Active) revert WrongLoanState(loanId, l.state);
        if (amount == 0) revert ZeroAmount();
        uint256 left = uint256(l.due) - l.repaid;
        if (amount > left) revert AmountTooLarge(amount, left);
        uint256 repaid = uint256(l.repaid) + amount;
        l.repaid = uint128(repaid);
        // suspension never stops the settlement of an existing debt
        emit LoanRepaid(loanId, _msgSender(), amount, repaid);
        if (repaid == l.due) _endPledge(loanId, l, LoanState.Repaid);
        else _cureIfWithin(loanId, l);
        lender = l.lender;
    }

    /// @dev Moves a repayment payer -> this contract -> lender: the token lets a suspended account pay a
    /// platform contract only, so a suspended borrower still repays; nothing stays here.
    function _pay(address payer, address lender, uint256 amount) private {
        _token.safeTransferFrom(payer, address(this), amount);
        _token.safeTransfer(lender, amount);
    }

    /// @inheritdoc IWarehouseReceipts
    function release(uint256 loanId) external {
        Loan storage l = _loanOf(loanId);
        if (_msgSender() != l.lender) revert NotLender(loanId, _msgSender());
        if (l.state != LoanState.Active) revert WrongLoanState(loanId, l.state);
        _endPledge(loanId, l, LoanState.Released);
    }

    /// @inheritdoc IWarehouseReceipts
    function claimCollateral(uint256 loanId) external {
        Loan storage l = _loanOf(loanId);
        address lender = l.lender;
        if (_msgSender() != lender) revert NotLender(loanId, _msgSender());
        if (l.state != LoanState.Active) revert WrongLoanState(loanId, l.state);
        uint256 from = uint256(l.maturity) + GRACE_PERIOD;
        uint256 called = l.marginDeadline;
        if (block.timestamp < from && (called == 0 || block.timestamp < called)) {
            revert NotInDefault(loanId, called == 0 ? from : Math.min(from, called));
        }
        uint256 count = l.collateralCount;
        _endPledge(loanId, l, LoanState.Defaulted);
        // at most MAX_COLLATERAL receipts; each move asks the registry whether the pledgee is active
        for (uint256 i = 0; i < count; ++i) {
            // slither-disable-next-line calls-loop
            _update(lender, _collateralAt(loanId, l, i), address(0)); // the pledge and its freezes ended above
        }
    }

    /// @dev The pledge ends for every receipt of the loan, and so do the pledgee's freezes (only a pledgee
    /// may freeze). At most `MAX_COLLATERAL` receipts.
    function _endPledge(uint256 loanId, Loan storage l, LoanState state) private {
        l.state = state;
        l.marginDeadline = 0;
        emit PledgeEnded(loanId, l.receiptId, state);
        uint256 count = l.collateralCount;
        for (uint256 i = 0; i < count; ++i) {
            uint256 receiptId = _collateralAt(loanId, l, i);
            Receipt storage r = _receipts[receiptId];
            r.loanId = 0;
            if (r.frozen) {
                r.frozen = false;
                emit ReceiptFrozen(receiptId, false);
            }
        }
    }

    /// @dev Ends an open margin call when outstanding is within the threshold; whether it did.
    function _cureIfWithin(uint256 loanId, Loan storage l) private returns (bool) {
        if (l.marginDeadline == 0) return false;
        uint256 outstanding = uint256(l.due) - l.repaid;
        if (outstanding * 10_000 > _collateralValue(loanId, l) * l.marginCallBps) return false;
        l.marginDeadline = 0;
        emit MarginCallCured(loanId);
        return true;
    }

    // ====================================================================== alerts and freezes

    /// @inheritdoc IWarehouseReceipts
    function recordAlert(uint256 receiptId, bytes32 code, bytes32 evidenceHash) external returns (uint256 alertId) {
        address caller = _msgSender();
        if (!_registry.hasActiveRole(caller, IParticipantRegistry.Role.Verifier)) revert NotVerifier(caller);
        _ownerOrRevert(receiptId);
        Receipt storage r = _receipts[receiptId];
        uint256 number = uint256(r.alertsRecorded) + 1;
        if (number > type(uint16).max) revert TooManyAlerts(receiptId);
        r.alertsRecorded = uint16(number);
        r.openAlerts += 1;
        _openAlerts[receiptId][number >> 8] |= 1 << (number & 255);
        alertId = (receiptId << 16) | number;
        emit AlertRecorded(alertId, receiptId, code, evidenceHash);
    }

    /// @inheritdoc IWarehouseReceipts
    function clearAlert(uint256 alertId, bytes32 explanationHash) external {
        uint256 receiptId = alertId >> 16;
        uint256 number = alertId & type(uint16).max;
        uint256 bit = 1 << (number & 255);
        mapping(uint256 => uint256) storage words = _openAlerts[receiptId];
        if (words[number >> 8] & bit == 0) revert UnknownAlert(alertId);
        Receipt storage r = _receipts[receiptId];
        address caller = _msgSender();
        if (caller != r.warehouse || !_registry.hasActiveRole(caller, IParticipantRegistry.Role.Logistics)) {
            revert NotWarehouse(caller);
        }
        words[number >> 8] &= ~bit;
        r.openAlerts -= 1;
        emit AlertCleared(alertId, receiptId, explanationHash);
    }

    /// @inheritdoc IWarehouseReceipts
    function setFrozen(uint256 receiptId, bool frozen) external {
        _ownerOrRevert(receiptId);
        Receipt storage r = _receipts[receiptId];
        uint256 loanId = r.loanId;
        if (loanId == 0) revert ReceiptLocked(receiptId, 0); // only a pledged receipt has a pledgee
        if (_msgSender() != _loans[loanId].lender) revert NotLender(loanId, _msgSender());
        if (r.frozen == frozen) revert FreezeUnchanged(receiptId, frozen);
        r.frozen = frozen;
        emit ReceiptFrozen(receiptId, frozen);
    }

    // ====================================================================== views

    /// @inheritdoc IWarehouseReceipts
    function receipt(uint256 receiptId) external view returns (Receipt memory) {
        _ownerOrRevert(receiptId);
        return _receipts[receiptId];
    }

    /// @inheritdoc IWarehouseReceipts
    function loan(uint256 loanId) external view returns (Loan memory) {
        return _loans[loanId];
    }

    /// @inheritdoc IWarehouseReceipts
    function receiptByFingerprint(bytes32 fingerprint) external view returns (uint256) {
        return _byFingerprint[fingerprint];
    }

    /// @inheritdoc IWarehouseReceipts
    function collateral(uint256 loanId) external view returns (uint256[] memory receiptIds) {
        Loan storage l = _loans[loanId];
        uint256 count = l.state == LoanState.None ? 0 : l.collateralCount;
        receiptIds = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            receiptIds[i] = _collateralAt(loanId, l, i);
        }
    }

    /// @inheritdoc IWarehouseReceipts
    function collateralValue(uint256 loanId) external view returns (uint256 value) {
        return _collateralValue(loanId, _loanOf(loanId));
    }

    /// @inheritdoc IWarehouseReceipts
    function price(bytes16 commodity, bytes4 unit) external view returns (Price memory) {
        return _prices[_priceKey(commodity, unit)];
    }

    /// @inheritdoc IWarehouseReceipts
    function isWarehouse(address account) external view returns (bool) {
        return _warehouses[account];
    }

    /// @inheritdoc IWarehouseReceipts
    function dueAmount(uint256 principal, uint256 rateBps, uint256 maturity, uint256 start)
        external
        pure
        returns (uint256 due)
    {
        return _due(principal, rateBps, maturity, start);
    }

    /// @inheritdoc AccessControl
    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }

    // ====================================================================== internals

    function _due(uint256 principal, uint256 rateBps, uint256 maturity, uint256 start) private pure returns (uint256) {
        if (maturity <= start) revert InvalidMaturity(maturity);
        uint256 days_ = Math.ceilDiv(maturity - start, 1 days);
        // principal < 2^112 (offers), rate <= 10^4 < 2^14, days < 2^40 / 86400 < 2^24: the product fits 256 bits
        return principal + principal * rateBps * days_ / YEAR_BPS_DAYS;
    }

    function _collateralAt(uint256 loanId, Loan storage l, uint256 index) private view returns (uint256) {
        return index == 0 ? l.receiptId : _extraCollateral[loanId][index];
    }

    /// @dev Sum over the loan's receipts (at most `MAX_COLLATERAL`) of quantity x price / `PRICE_QUANTITY`.
    function _collateralValue(uint256 loanId, Loan storage l) private view returns (uint256 value) {
        uint256 count = l.collateralCount;
        for (uint256 i = 0; i < count; ++i) {
            value += _valueOf(_receipts[_collateralAt(loanId, l, i)]);
        }
    }

    function _valueOf(Receipt storage r) private view returns (uint256) {
        uint256 perThousand = _prices[_priceKey(r.commodity, r.unit)].perThousand;
        if (perThousand == 0) revert NoPrice(r.commodity, r.unit);
        return uint256(r.quantity) * perThousand / PRICE_QUANTITY; // < 2^96 x 2^128: fits 256 bits
    }

    function _priceKey(bytes16 commodity, bytes4 unit) private pure returns (bytes24) {
        return bytes24(commodity) | (bytes24(unit) >> 128);
    }

    function _loanOf(uint256 loanId) private view returns (Loan storage l) {
        l = _loans[loanId];
        if (l.state == LoanState.None) revert UnknownLoan(loanId);
    }

    function _ownerOrRevert(uint256 receiptId) private view returns (address owner) {
        owner = _ownerOf(receiptId);
        if (owner == address(0)) revert UnknownReceipt(receiptId);
    }

    function _requireFinancier(address account) private view {
        if (!_registry.hasActiveRole(account, IParticipantRegistry.Role.Financier)) revert NotActiveFinancier(account);
    }
}
