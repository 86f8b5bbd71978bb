"""The read model: chain events projected into SQL tables (all prefixed ``rm_``).

Written only by ``chain.indexer``. Every projection is derived from events alone (``rm_event``), so
changes made without the gateway (a brownie script, a block explorer's "write" tab) show up as well,
and the projections can be rebuilt from ``rm_event`` at any time (that is how a reorganization is
undone).

Amounts are ``uint256`` on chain and may exceed 64 bits: they are stored as **decimal text**
(``String(78)``; no leading zeros, no sign, exact) in every table, and in ``rm_event.args`` every
integer is a JSON string of its decimal digits. Convert with ``int(...)``. Block numbers, ids and
dates fit in 64 bits and are ``BIGINT``. Addresses are EIP-55 checksummed, hashes ``0x`` + 64 hex.

The ledger settles holders lazily (``IReceivableLedger``: units are constant shares; a holder's cash is
brought up to date at its next transfer or redeem, and on a settled receivable its units are burned then).
The projection keeps what the contract keeps per holder — stored units, ``mark``, ``owed`` and the
fractional remainder ``rem`` — from ``TransferSingle``, ``HolderSettled``, ``Repaid``,
``DisputeResolved`` and ``Redeemed``, and computes ``balanceOf`` and ``owed`` with the same integer
maths as the contract (``settlement`` below; docs/contracts.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import BigInteger, Column, Engine, Index, Integer, Text, UniqueConstraint, tuple_
from sqlmodel import Field, Session, SQLModel, col, delete, select

from chain.contracts import Platform, Role

#: Autoincrementing 64-bit key (SQLite only autoincrements INTEGER PRIMARY KEY).
_ID_TYPE = BigInteger().with_variant(Integer(), "sqlite")

_T = TypeVar("_T", bound=SQLModel)

AMOUNT_LEN = 78  # len(str(2**256 - 1))


def _id() -> Any:
    return Field(default=None, sa_column=Column(_ID_TYPE, primary_key=True, autoincrement=True))


def _big(*, primary_key: bool = False, index: bool = False, nullable: bool = False) -> Any:
    return Field(
        default=None if nullable else ...,
        sa_column=Column(
            BigInteger, primary_key=primary_key, autoincrement=False, index=index, nullable=nullable
        ),
    )


def _amount(default: str = "0") -> Any:
    return Field(default=default, max_length=AMOUNT_LEN)


class RmCursor(SQLModel, table=True):
    """One row per indexer: the last block whose events are all in the read model."""

    __tablename__ = "rm_cursor"

    name: str = Field(primary_key=True, max_length=64)
    block_number: int = _big()
    block_hash: str | None = Field(default=None, max_length=66)


class RmBlock(SQLModel, table=True):
    """Recently processed blocks (every block with events, and each batch's last block).

    Compared with the chain before every batch to notice reorganizations; pruned to a window.
    ``parent_hash`` is known for batch ends only (the indexer reads no header for blocks that it
    only sees through their logs).
    """

    __tablename__ = "rm_block"

    number: int = _big(primary_key=True)
    hash: str = Field(max_length=66)
    parent_hash: str | None = Field(default=None, max_length=66)


class RmEvent(SQLModel, table=True):
    """A decoded log of one of the platform's contracts, exactly once (UNIQUE tx hash, log index)."""

    __tablename__ = "rm_event"
    __table_args__ = (
        UniqueConstraint("tx_hash", "log_index", name="uq_rm_event_tx_log"),
        Index("ix_rm_event_block_log", "block_number", "log_index"),
    )

    id: int | None = _id()
    block_number: int = _big()
    block_hash: str = Field(max_length=66)
    tx_hash: str = Field(max_length=66)
    tx_index: int
    log_index: int
    address: str = Field(max_length=42)
    contract: str = Field(max_length=64, index=True)
    event: str = Field(max_length=64, index=True)
    args: str = Field(sa_column=Column(Text, nullable=False))


class RmParticipant(SQLModel, table=True):
    __tablename__ = "rm_participant"

    address: str = Field(primary_key=True, max_length=42)
    role: int
    role_name: str = Field(max_length=32)
    status: str = Field(max_length=16)  # ACTIVE | SUSPENDED
    identity_hash: str = Field(max_length=66)
    onboarded_block: int = _big()
    onboarded_tx: str = Field(max_length=66)


class RmReceivable(SQLModel, table=True):
    __tablename__ = "rm_receivable"

    id: int = _big(primary_key=True)
    creditor: str = Field(max_length=42, index=True)
    debtor: str = Field(max_length=42, index=True)
    token: str = Field(max_length=42)
    face_value: str = _amount()
    issue_date: int = _big()
    due_date: int = _big()
    status: str = Field(max_length=16, index=True)  # ReceivableStatus name
    disputed: bool = False
    repaid: str = _amount()
    diluted: str = _amount()
    redeemed: str = _amount()
    settled_repaid: str = _amount()
    remainder_pool: str = _amount()
    bundle_hash: str = Field(max_length=66)
    delivery_hash: str = Field(default="0x" + "00" * 32, max_length=66)
    fingerprint: str = Field(max_length=66, unique=True)
    verifier: str = Field(max_length=42)
    registered_block: int = _big()
    registered_tx: str = Field(max_length=66)


class RmHolding(SQLModel, table=True):
    """A holder's position in one receivable.

    ``balance`` is what ``balanceOf`` returns (units; 0 once the receivable is settled);
    ``stored_balance``, ``mark``, ``owed`` and ``rem`` mirror the contract's ``HolderState``;
    ``redeemable`` is what ``owed(id, holder)`` returns (cash it could redeem now).
    """

    __tablename__ = "rm_holding"

    receivable_id: int = _big(primary_key=True)
    holder: str = Field(primary_key=True, max_length=42, index=True)
    balance: str = _amount()
    stored_balance: str = _amount()
    mark: str = _amount()
    owed: str = _amount()
    rem: str = _amount()
    redeemable: str = _amount()


class RmTransfer(SQLModel, table=True):
    """One ERC-1155 movement (``TransferSingle``, or one item of ``TransferBatch``).

    Mints have ``from`` zero, burns (rejection, settlement against repayment or credit note) ``to``
    zero; splits form a tree over these rows.
    """

    __tablename__ = "rm_transfer"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index", "batch_index", name="uq_rm_transfer"),)

    id: int | None = _id()
    receivable_id: int = _big(index=True)
    operator: str = Field(max_length=42)
    from_address: str = Field(max_length=42, index=True)
    to_address: str = Field(max_length=42, index=True)
    amount: str = _amount()
    block_number: int = _big()
    tx_hash: str = Field(max_length=66)
    log_index: int
    batch_index: int = 0


class RmOffer(SQLModel, table=True):
    __tablename__ = "rm_offer"

    offer_id: int = _big(primary_key=True)
    receivable_id: int = _big(index=True)
    maker: str = Field(max_length=42, index=True)
    max_amount: str = _amount()
    rate_bps: int
    expiry: int = _big()
    filled: str = _amount()
    cancelled: bool = False
    made_block: int = _big()
    made_tx: str = Field(max_length=66)


class RmFill(SQLModel, table=True):
    __tablename__ = "rm_fill"

    id: int | None = _id()
    offer_id: int = _big(index=True)
    receivable_id: int = _big(index=True)
    maker: str = Field(max_length=42)
    holder: str = Field(max_length=42)
    amount: str = _amount()
    price: str = _amount()
    days_to_maturity: int
    block_number: int = _big()
    tx_hash: str = Field(max_length=66)
    log_index: int


class RmPayment(SQLModel, table=True):
    """A repayment by the debtor (``kind="repayment"``) or a redemption by a holder (``"redemption"``)."""

    __tablename__ = "rm_payment"

    id: int | None = _id()
    kind: str = Field(max_length=16)
    receivable_id: int = _big(index=True)
    party: str = Field(max_length=42, index=True)
    amount: str = _amount()
    total: str = _amount()  # totalRepaid / totalRedeemed after this payment
    block_number: int = _big()
    tx_hash: str = Field(max_length=66)
    log_index: int


class RmDispute(SQLModel, table=True):
    __tablename__ = "rm_dispute"

    id: int | None = _id()
    receivable_id: int = _big(index=True)
    opened_by: str = Field(max_length=42)
    reason_hash: str = Field(max_length=66)
    opened_block: int = _big()
    opened_tx: str = Field(max_length=66)
    resolution: str | None = Field(default=None, max_length=16)  # None (open) | lifted | credit_note
    resolved_by: str | None = Field(default=None, max_length=42)
    credit_note: str = _amount()
    resolved_block: int | None = _big(nullable=True)
    resolved_tx: str | None = Field(default=None, max_length=66)


class RmCreditLine(SQLModel, table=True):
    """A debtor's credit: ``credit_limit`` is the available limit (sum of the lines, capped by the
    platform limit), ``used`` the reserved credit (pending and confirmed unpaid nominal)."""

    __tablename__ = "rm_credit_line"

    debtor: str = Field(primary_key=True, max_length=42)
    credit_limit: str = _amount()
    used: str = _amount()
    granted: str = _amount()
    platform_cap: str | None = Field(default=None, max_length=AMOUNT_LEN)


class RmCreditGrant(SQLModel, table=True):
    """One financier's line to one debtor."""

    __tablename__ = "rm_credit_grant"

    debtor: str = Field(primary_key=True, max_length=42)
    grantor: str = Field(primary_key=True, max_length=42, index=True)
    credit_limit: str = _amount()


class RmTokenBalance(SQLModel, table=True):
    """Settlement-token balances, from the ERC-20 ``Transfer`` events."""

    __tablename__ = "rm_token_balance"

    token: str = Field(primary_key=True, max_length=42)
    holder: str = Field(primary_key=True, max_length=42)
    balance: str = _amount()


#: The projection tables, emptied and rebuilt from ``rm_event`` after a reorganization.
PROJECTIONS: tuple[type[SQLModel], ...] = (
    RmParticipant,
    RmReceivable,
    RmHolding,
    RmTransfer,
    RmOffer,
    RmFill,
    RmPayment,
    RmDispute,
    RmCreditLine,
    RmCreditGrant,
    RmTokenBalance,
)


def settlement(r: RmReceivable, h: RmHolding) -> tuple[int, int, int, bool]:
    """``ReceivableLedger._settlement``: what settling ``h`` now would do — cash to credit, remainder to
    keep, units to burn, and whether it is a final settlement. Same integer maths as the contract."""
    face, repaid = int(r.face_value), int(r.repaid)
    stored, rem = int(h.stored_balance), int(h.rem)
    total = rem + stored * (repaid - int(h.mark))
    cash, new_rem = divmod(total, face) if face else (0, 0)
    final = r.status == "SETTLED" and (stored != 0 or rem != 0)
    burned = 0
    if final:
        pool = int(r.remainder_pool)
        cash += (pool + new_rem) // face - pool // face
        burned = stored
    return cash, new_rem, burned, final


def outstanding(r: RmReceivable) -> int:
    """``IReceivableLedger.outstanding``: face value minus repaid minus diluted."""
    return int(r.face_value) - int(r.repaid) - int(r.diluted)


def claim(r: RmReceivable, units: int) -> int:
    """Outstanding nominal that ``units`` still claim: floor(units * outstanding / face)
    (equal to ``units`` before any repayment or credit note)."""
    face = int(r.face_value)
    return units * outstanding(r) // face if face else 0


def refresh_holding(r: RmReceivable, h: RmHolding) -> None:
    """Recompute ``balance`` (``balanceOf``) and ``redeemable`` (``owed``) from the stored state."""
    cash, _, _, _ = settlement(r, h)
    h.balance = "0" if r.status == "SETTLED" else h.stored_balance
    h.redeemable = str(int(h.owed) + cash)


# ---------------------------------------------------------------------------------------- projections

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


@dataclass(frozen=True)
class EventRecord:
    """A decoded event as the projections see it (``args`` as stored in ``rm_event.args``)."""

    address: str
    contract: str
    event: str
    args: dict[str, Any]
    block_number: int
    tx_hash: str
    log_index: int

    @classmethod
    def from_row(cls, row: RmEvent) -> EventRecord:
        return cls(
            row.address,
            row.contract,
            row.event,
            json.loads(row.args),
            row.block_number,
            row.tx_hash,
            row.log_index,
        )


def _add(a: str, b: int) -> str:
    return str(int(a) + b)


def _cache(session: Session) -> dict[tuple[type[SQLModel], Any], Any]:
    """Strong references to the projection rows a batch touched (the ORM's identity map is weak, so
    without this every look-up of a row flushed earlier in the batch would be a SELECT)."""
    cache: dict[tuple[type[SQLModel], Any], Any] = session.info.setdefault("rm_cache", {})
    return cache


def _get(session: Session, model: type[_T], key: Any) -> _T | None:
    cache = _cache(session)
    row = cache.get((model, key))
    if row is None:
        row = session.get(model, key)
        if row is not None:
            cache[(model, key)] = row
    return cast(_T | None, row)


def _put(session: Session, row: _T, key: Any) -> _T:
    session.add(row)
    _cache(session)[(type(row), key)] = row
    return row


def _receivable(session: Session, rid: int) -> RmReceivable | None:
    return _get(session, RmReceivable, rid)


def _holding(session: Session, rid: int, holder: str) -> RmHolding:
    h = _get(session, RmHolding, (rid, holder))
    if h is None:
        h = _put(session, RmHolding(receivable_id=rid, holder=holder), (rid, holder))
    return h


def _refresh_all_holdings(session: Session, r: RmReceivable) -> None:
    session.flush()
    for h in session.exec(select(RmHolding).where(RmHolding.receivable_id == r.id)).all():
        _cache(session)[(RmHolding, (h.receivable_id, h.holder))] = h
        refresh_holding(r, h)


def _token_move(session: Session, token: str, holder: str, delta: int) -> None:
    row = _get(session, RmTokenBalance, (token, holder))
    if row is None:
        row = _put(session, RmTokenBalance(token=token, holder=holder), (token, holder))
    row.balance = _add(row.balance, delta)


def _unit_move(
    session: Session,
    ev: EventRecord,
    operator: str,
    frm: str,
    to: str,
    rid: int,
    amount: int,
    batch_index: int,
) -> None:
    session.add(
        RmTransfer(
            receivable_id=rid,
            operator=operator,
            from_address=frm,
            to_address=to,
            amount=str(amount),
            block_number=ev.block_number,
            tx_hash=ev.tx_hash,
            log_index=ev.log_index,
            batch_index=batch_index,
        )
    )
    r = _receivable(session, rid)
    for party, delta in ((frm, -amount), (to, amount)):
        if party == ZERO_ADDRESS:
            continue
        h = _holding(session, rid, party)
        h.stored_balance = _add(h.stored_balance, delta)
        # a movement between two holders settles both first and marks both as up to date
        if r is not None and frm != ZERO_ADDRESS and to != ZERO_ADDRESS:
            h.mark = r.repaid
        if r is not None:
            refresh_holding(r, h)


def apply_event(session: Session, ev: EventRecord) -> None:
    """Apply one event to the projections (the caller owns the transaction)."""
    with session.no_autoflush:
        _apply(session, ev)


def _apply(session: Session, ev: EventRecord) -> None:
    a = ev.args
    name = (ev.contract, ev.event)
    if name == ("ParticipantRegistry", "ParticipantOnboarded"):
        role = int(a["role"])
        _put(
            session,
            RmParticipant(
                address=a["account"],
                role=role,
                role_name=Role(role).name if role in Role._value2member_map_ else str(role),
                status="ACTIVE",
                identity_hash=a["identityHash"],
                onboarded_block=ev.block_number,
                onboarded_tx=ev.tx_hash,
            ),
            a["account"],
        )
    elif name in (
        ("ParticipantRegistry", "ParticipantSuspended"),
        ("ParticipantRegistry", "ParticipantReinstated"),
    ):
        p = _get(session, RmParticipant, a["account"])
        if p is not None:
            p.status = "SUSPENDED" if ev.event == "ParticipantSuspended" else "ACTIVE"
    elif name == ("SettlementToken", "Transfer"):
        token, value = ev.address, int(a["value"])
        if a["from"] != ZERO_ADDRESS:
            _token_move(session, token, a["from"], -value)
        if a["to"] != ZERO_ADDRESS:
            _token_move(session, token, a["to"], value)
    elif ev.contract == "ReceivableLedger":
        _apply_ledger(session, ev)
    elif ev.contract == "DiscountMarket":
        _apply_market(session, ev)


def _apply_ledger(session: Session, ev: EventRecord) -> None:
    a, e = ev.args, ev.event
    if e == "InvoiceRegistered":
        _put(
            session,
            RmReceivable(
                id=int(a["id"]),
                creditor=a["creditor"],
                debtor=a["debtor"],
                token=a["token"],
                face_value=a["faceValue"],
                issue_date=int(a["issueDate"]),
                due_date=int(a["dueDate"]),
                status="PENDING",
                bundle_hash=a["bundleHash"],
                delivery_hash=a["deliveryHash"],
                fingerprint=a["fingerprint"],
                verifier=a["verifier"],
                registered_block=ev.block_number,
                registered_tx=ev.tx_hash,
            ),
            int(a["id"]),
        )
        return
    if e == "TransferSingle":
        _unit_move(session, ev, a["operator"], a["from"], a["to"], int(a["id"]), int(a["value"]), 0)
        return
    if e == "TransferBatch":
        for i, (rid, value) in enumerate(zip(a["ids"], a["values"], strict=True)):
            _unit_move(session, ev, a["operator"], a["from"], a["to"], int(rid), int(value), i)
        return
    if e == "CreditLineSet":
        line = _credit_line(session, a["debtor"])
        line.credit_limit, line.used = a["available"], a["used"]
        key = (a["debtor"], a["grantor"])
        grant = _get(session, RmCreditGrant, key) or _put(
            session, RmCreditGrant(debtor=a["debtor"], grantor=a["grantor"]), key
        )
        line.granted = _add(line.granted, int(a["limit"]) - int(grant.credit_limit))
        grant.credit_limit = a["limit"]
        return
    if e == "PlatformLimitSet":
        line = _credit_line(session, a["debtor"])
        line.credit_limit, line.used = a["available"], a["used"]
        line.platform_cap = a["cap"] if a["capped"] else None
        return
    if "id" not in a:  # MarketSet, ApprovalForAll, RoleGranted, ...: raw events only
        return
    r = _receivable(session, int(a["id"]))
    if r is None:
        return
    if e == "CreditReserved":
        _set_used(session, r.debtor, a["creditUsed"])
    elif e == "Endorsed":
        r.status = "CONFIRMED"
        _set_used(session, r.debtor, a["creditUsed"])
    elif e == "Rejected":
        r.status = "REJECTED"
        _set_used(session, r.debtor, a["creditUsed"])
    elif e == "Repaid":
        r.repaid = a["totalRepaid"]
        if int(a["outstanding"]) == 0:
            r.status = "SETTLED"
        _set_used(session, r.debtor, a["creditUsed"])
        session.add(_payment(ev, "repayment", r.id, a["debtor"], a["amount"], a["totalRepaid"]))
        _refresh_all_holdings(session, r)
    elif e == "HolderSettled":
        r.settled_repaid = _add(r.settled_repaid, int(a["cash"]))
        r.remainder_pool = a["remainderPool"]
        h = _holding(session, r.id, a["holder"])
        h.owed, h.rem, h.mark = a["owed"], a["remainder"], r.repaid
        # the burn of final settlement follows as TransferSingle(holder -> 0)
        if r.status == "SETTLED":  # the pool changes what every holder's `owed` shows
            _refresh_all_holdings(session, r)
        else:
            refresh_holding(r, h)
    elif e == "Redeemed":
        r.redeemed = a["totalRedeemed"]
        h = _holding(session, r.id, a["holder"])
        h.owed = "0"
        refresh_holding(r, h)
        session.add(_payment(ev, "redemption", r.id, a["holder"], a["amount"], a["totalRedeemed"]))
    elif e == "Disputed":
        r.disputed = True
        session.add(
            RmDispute(
                receivable_id=r.id,
                opened_by=a["by"],
                reason_hash=a["reasonHash"],
                opened_block=ev.block_number,
                opened_tx=ev.tx_hash,
            )
        )
    elif e == "DisputeResolved":
        r.disputed = False
        r.diluted = a["totalDiluted"]
        if int(a["outstanding"]) == 0:
            r.status = "SETTLED"
        _set_used(session, r.debtor, a["creditUsed"])
        session.flush()
        d = session.exec(
            select(RmDispute)
            .where(RmDispute.receivable_id == r.id, col(RmDispute.resolution).is_(None))
            .order_by(col(RmDispute.id).desc())
        ).first()
        if d is not None:
            d.resolution = "credit_note" if int(a["creditNote"]) else "lifted"
            d.resolved_by, d.credit_note = a["operator"], a["creditNote"]
            d.resolved_block, d.resolved_tx = ev.block_number, ev.tx_hash
        _refresh_all_holdings(session, r)


def _credit_line(session: Session, debtor: str) -> RmCreditLine:
    return _get(session, RmCreditLine, debtor) or _put(session, RmCreditLine(debtor=debtor), debtor)


def _set_used(session: Session, debtor: str, used: str) -> None:
    _credit_line(session, debtor).used = used


def _payment(ev: EventRecord, kind: str, rid: int, party: str, amount: str, total: str) -> RmPayment:
    return RmPayment(
        kind=kind,
        receivable_id=rid,
        party=party,
        amount=amount,
        total=total,
        block_number=ev.block_number,
        tx_hash=ev.tx_hash,
        log_index=ev.log_index,
    )


def _apply_market(session: Session, ev: EventRecord) -> None:
    a, e = ev.args, ev.event
    if e == "OfferMade":
        _put(
            session,
            RmOffer(
                offer_id=int(a["offerId"]),
                receivable_id=int(a["receivableId"]),
                maker=a["maker"],
                max_amount=a["maxAmount"],
                rate_bps=int(a["rateBps"]),
                expiry=int(a["expiry"]),
                made_block=ev.block_number,
                made_tx=ev.tx_hash,
            ),
            int(a["offerId"]),
        )
    elif e == "OfferCancelledBy":
        o = _get(session, RmOffer, int(a["offerId"]))
        if o is not None:
            o.cancelled = True
    elif e == "OfferFilled":
        o = _get(session, RmOffer, int(a["offerId"]))
        if o is not None:
            o.filled = a["filled"]
        session.add(
            RmFill(
                offer_id=int(a["offerId"]),
                receivable_id=int(a["receivableId"]),
                maker=a["maker"],
                holder=a["holder"],
                amount=a["amount"],
                price=a["price"],
                days_to_maturity=int(a["daysToMaturity"]),
                block_number=ev.block_number,
                tx_hash=ev.tx_hash,
                log_index=ev.log_index,
            )
        )


def clear_projections(session: Session) -> None:
    _cache(session).clear()
    for table in PROJECTIONS:
        session.exec(delete(table))


REPLAY_PAGE = 5000


def rebuild_projections(session: Session) -> int:
    """Empty the projections and replay every stored event in chain order; returns the count."""
    clear_projections(session)
    session.flush()
    n, after = 0, (-1, -1)
    while True:  # pages in chain order (keyset), so memory stays bounded on a long history
        page = session.exec(
            select(RmEvent)
            .where(tuple_(col(RmEvent.block_number), col(RmEvent.log_index)) > tuple_(*after))
            .order_by(col(RmEvent.block_number), col(RmEvent.log_index))
            .limit(REPLAY_PAGE)
        ).all()
        if not page:
            return n
        for row in page:
            apply_event(session, EventRecord.from_row(row))
        n += len(page)
        after = (page[-1].block_number, page[-1].log_index)
        session.flush()
        session.expunge_all()  # written rows need not stay in memory
        _cache(session).clear()


# ---------------------------------------------------------------------------------------- comparison


def compare_with_chain(platform: Platform, engine: Engine) -> list[str]:
    """Differences between the read model and the chain's current state (empty when they agree).

    Reads, through the contracts' views, every receivable, holding, offer, credit line, participant
    and settlement-token balance the read model knows, plus the counters (``receivableCount``,
    ``offerCount``, ``totalSupply``) and, per receivable, the sum of stored balances — which catches
    holders the read model would not know. Compare against a chain that is not moving (or at the
    indexer's cursor), otherwise differences are expected.
    """
    diffs: list[str] = []

    def check(what: str, ours: Any, theirs: Any) -> None:
        if ours != theirs:
            diffs.append(f"{what}: read model {ours!r} != chain {theirs!r}")

    ledger, market = platform.ledger, platform.market
    with Session(engine) as s:
        receivables = s.exec(select(RmReceivable).order_by(col(RmReceivable.id))).all()
        count = ledger.receivable_count()
        check("receivableCount", [r.id for r in receivables], list(range(1, count + 1)))
        holdings: dict[int, list[RmHolding]] = {}
        for h in s.exec(select(RmHolding)).all():
            holdings.setdefault(h.receivable_id, []).append(h)
        for r in receivables:
            c = ledger.receivable(r.id)
            w = f"receivable {r.id}"
            check(f"{w} token", r.token, c.token)
            check(f"{w} face_value", int(r.face_value), c.face_value)
            check(f"{w} debtor", r.debtor, c.debtor)
            check(f"{w} creditor", r.creditor, c.creditor)
            check(f"{w} issue_date", r.issue_date, c.issue_date)
            check(f"{w} due_date", r.due_date, c.due_date)
            check(f"{w} status", r.status, c.status.name)
            check(f"{w} disputed", r.disputed, c.disputed)
            check(f"{w} repaid", int(r.repaid), c.repaid)
            check(f"{w} diluted", int(r.diluted), c.diluted)
            check(f"{w} redeemed", int(r.redeemed), c.redeemed)
            check(f"{w} settled_repaid", int(r.settled_repaid), c.settled_repaid)
            check(f"{w} remainder_pool", int(r.remainder_pool), c.remainder_pool)
            check(f"{w} bundle_hash", r.bundle_hash, "0x" + c.bundle_hash.hex())
            check(
                f"{w} fingerprint",
                r.id,
                ledger.receivable_id_by_fingerprint(bytes.fromhex(r.fingerprint[2:])),
            )
            stored_total = 0
            for h in holdings.get(r.id, []):
                hw = f"{w} holder {h.holder}"
                check(f"{hw} balance", int(h.balance), ledger.balance_of(h.holder, r.id))
                check(f"{hw} stored_balance", int(h.stored_balance), ledger.stored_balance_of(h.holder, r.id))
                check(f"{hw} remainder", int(h.rem), ledger.remainder_of(r.id, h.holder))
                check(f"{hw} redeemable", int(h.redeemable), ledger.owed(r.id, h.holder))
                stored_total += int(h.stored_balance)
            # units are constant until settlement: any holder the read model missed shows here
            if c.status.name in ("PENDING", "CONFIRMED"):
                check(f"{w} sum of stored balances", stored_total, c.face_value)
            elif c.status.name == "REJECTED":
                check(f"{w} sum of stored balances", stored_total, 0)

        offers = s.exec(select(RmOffer).order_by(col(RmOffer.offer_id))).all()
        check("offerCount", [o.offer_id for o in offers], list(range(1, int(market.call("offerCount")) + 1)))
        for o in offers:
            co = market.offer(o.offer_id)
            w = f"offer {o.offer_id}"
            check(f"{w} maker", o.maker, co.maker)
            check(f"{w} receivable_id", o.receivable_id, co.receivable_id)
            check(f"{w} max_amount", int(o.max_amount), co.max_amount)
            check(f"{w} rate_bps", o.rate_bps, co.rate_bps)
            check(f"{w} expiry", o.expiry, co.expiry)
            check(f"{w} filled", int(o.filled), co.filled)
            check(f"{w} cancelled", o.cancelled, co.cancelled)

        for line in s.exec(select(RmCreditLine)).all():
            check(
                f"credit line {line.debtor}",
                (int(line.credit_limit), int(line.used)),
                ledger.credit_line(line.debtor),
            )
            cap = None if line.platform_cap is None else int(line.platform_cap)
            check(
                f"platform limit {line.debtor}", (cap, int(line.granted)), ledger.platform_limit(line.debtor)
            )
        for g in s.exec(select(RmCreditGrant)).all():
            check(
                f"credit line of {g.grantor} to {g.debtor}",
                int(g.credit_limit),
                ledger.credit_line_of(g.debtor, g.grantor),
            )

        for p in s.exec(select(RmParticipant)).all():
            cp = platform.registry.participant(p.address)
            w = f"participant {p.address}"
            check(f"{w} role", p.role, int(cp.role))
            check(f"{w} status", p.status, cp.status.name)
            check(f"{w} identity_hash", p.identity_hash, "0x" + cp.identity_hash.hex())

        supply: dict[str, int] = {}
        for b in s.exec(select(RmTokenBalance)).all():
            if b.token != platform.token.address:
                diffs.append(f"token balance of {b.holder} in unknown token {b.token}")
                continue
            check(f"token balance {b.holder}", int(b.balance), platform.token.balance_of(b.holder))
            supply[b.token] = supply.get(b.token, 0) + int(b.balance)
        check("token totalSupply", supply.get(platform.token.address, 0), platform.token.total_supply())
    return diffs
