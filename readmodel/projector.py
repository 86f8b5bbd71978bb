"""The projector: applies one decoded chain event to the read-model tables, and replays them all.

The ledger settles holders lazily (``IReceivableLedger``: units are constant shares; a holder's cash is
brought up to date at its next transfer or redeem, and on a settled receivable its units are burned then).
The projection keeps what the contract keeps per holder — stored units, ``mark``, ``owed`` and the
fractional remainder ``rem`` — from ``TransferSingle``, ``HolderSettled``, ``Repaid``,
``DisputeResolved`` and ``Redeemed``, and computes ``balanceOf`` and ``owed`` with the same integer
maths as the contract (``settlement`` below; docs/contracts.md). This module is the one Python mirror
of the ledger's settlement maths: reports and the gateway call ``outstanding``/``claim`` from here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import tuple_
from sqlmodel import Session, SQLModel, col, delete, select

from domain.roles import Role
from readmodel import credit, green
from readmodel.rows import cache as _cache
from readmodel.rows import get as _get
from readmodel.rows import put as _put
from readmodel.tables import (
    PROJECTIONS,
    RmCalendar,
    RmCreditGrant,
    RmCreditLine,
    RmDispute,
    RmEvent,
    RmFill,
    RmHolding,
    RmInvolvement,
    RmOffer,
    RmParticipant,
    RmPayment,
    RmReceivable,
    RmTally,
    RmTokenBalance,
    RmTransfer,
)
from readmodel.warehouse import apply_warehouse

_T = TypeVar("_T", bound=SQLModel)


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
    block_timestamp: int  # the block's, by the chain's clock

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
            row.block_timestamp,
        )


def _add(a: str, b: int) -> str:
    return str(int(a) + b)


def _receivable(session: Session, rid: int) -> RmReceivable | None:
    return _get(session, RmReceivable, rid)


def offer_receivable(session: Session, offer_id: int) -> int | None:
    """The receivable of offer ``offer_id`` (one the batch made is seen too)."""
    offer = _get(session, RmOffer, offer_id)
    return offer.receivable_id if offer is not None else None


def _holding(session: Session, rid: int, holder: str) -> RmHolding:
    h = _get(session, RmHolding, (rid, holder))
    if h is None:
        h = _put(session, RmHolding(receivable_id=rid, holder=holder), (rid, holder))
    return h


def _refresh_all_holdings(session: Session, r: RmReceivable) -> None:
    session.flush()
    for h in session.exec(select(RmHolding).where(RmHolding.receivable_id == r.id)).all():
        _cache(session)[(RmHolding, (h.receivable_id, h.holder))] = h
        _refresh(session, r, h)


# ------------------------------------------------------------- tallies (a list's total in one look-up)

ALL = "*"  # the party of a platform-wide tally


def tally(session: Session, kind: str, party: str) -> int:
    """The counter ``(kind, party)`` (``readmodel.tables.RmTally``); 0 if never counted."""
    row = session.get(RmTally, (kind, party))
    return row.n if row is not None else 0


def _count(session: Session, kind: str, party: str, delta: int) -> None:
    row = _get(session, RmTally, (kind, party)) or _put(
        session, RmTally(kind=kind, party=party, n=0), (kind, party)
    )
    row.n += delta


def _live(h: RmHolding) -> bool:
    """A position ``GET /holdings`` shows: units, or cash to redeem."""
    return h.balance != "0" or h.redeemable != "0"


def _refresh(session: Session, r: RmReceivable, h: RmHolding) -> None:
    """``refresh_holding``, keeping the holder's count of live positions."""
    was = _live(h)
    refresh_holding(r, h)
    if _live(h) != was:
        _count(session, "holdings", h.holder, 1 if not was else -1)


def _involve(session: Session, party: str, rid: int, *, new: bool = False) -> None:
    """``party`` may see receivable ``rid`` from now on (creditor, debtor, a holder); ``new``: the
    receivable was just registered (nobody is involved yet: no look-up)."""
    if new or _get(session, RmInvolvement, (party, rid)) is None:
        _put(session, RmInvolvement(party=party, receivable_id=rid), (party, rid))
        _count(session, "receivables", party, 1)


#: what a receivable counts for: status, disputed, outstanding (None before it exists)
Footprint = tuple[str, bool, int] | None


def _footprint(r: RmReceivable | None) -> Footprint:
    return (r.status, r.disputed, outstanding(r)) if r is not None else None


def _weigh(session: Session, r: RmReceivable, fp: Footprint, sign: int) -> None:
    if fp is None:
        return
    status, disputed, owed = fp
    _count(session, "receivables", ALL, sign)
    _count(session, "payables", r.debtor, sign)
    _count(session, f"payables:{status}", r.debtor, sign)
    if status != "CONFIRMED":
        return
    if not disputed:
        _count(session, "discountable", ALL, sign)
    key = (r.debtor, r.due_date, r.token)
    day = _get(session, RmCalendar, key) or _put(
        session, RmCalendar(debtor=r.debtor, due_date=r.due_date, token=r.token, receivables=0), key
    )
    if day.receivables == 0 and sign > 0:
        _count(session, "calendar", r.debtor, 1)
    day.receivables += sign
    day.outstanding = _add(day.outstanding, sign * owed)
    if day.receivables == 0:
        _count(session, "calendar", r.debtor, -1)


def _reweigh(session: Session, before: Footprint, r: RmReceivable | None) -> None:
    """Move ``r``'s counts (tallies, calendar) from what it was (``before``) to what it is."""
    after = _footprint(r)
    if r is not None and after != before:
        _weigh(session, r, before, -1)
        _weigh(session, r, after, 1)


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
        # a movement between two holders leaves both up to date: the ledger settled the sender (its
        # HolderSettled precedes this event when it had repayments to catch up on) and a receiver that held
        # units, and a receiver without units gets its `mark` with the units it receives (no HolderSettled)
        if r is not None and frm != ZERO_ADDRESS and to != ZERO_ADDRESS:
            h.mark = r.repaid
        if r is not None:
            _refresh(session, r, h)
    if r is not None and to != ZERO_ADDRESS:
        _involve(session, to, rid)


def apply_event(session: Session, ev: EventRecord) -> None:
    """Apply one event to the projections (the caller owns the transaction)."""
    with session.no_autoflush:
        _apply(session, ev)


def _role_name(code: int) -> str:
    """``SUPPLIER`` for the chain's role code 1; the number itself for a code this version doesn't know."""
    try:
        role = Role.from_chain(code)
    except ValueError:
        return str(code)
    return role.name if role is not None else "NONE"


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
                role_name=_role_name(role),
                status="ACTIVE",
                identity_hash=a["identityHash"],
                onboarded_block=ev.block_number,
                onboarded_tx=ev.tx_hash,
                onboarded_time=ev.block_timestamp,
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
    elif ev.contract == "WarehouseReceipts":
        apply_warehouse(session, ev)
    elif ev.contract == "GreenLabels":
        green.apply_green(session, ev.event, ev.args, ev.block_number, ev.tx_hash)


def _apply_ledger(session: Session, ev: EventRecord) -> None:
    raw = ev.args.get("id")
    rid = int(raw) if isinstance(raw, str) and raw.isdigit() else None
    known = rid is not None and ev.event != "InvoiceRegistered"  # a new receivable counted nothing yet
    r = _receivable(session, rid) if known and rid is not None else None
    before = _footprint(r)
    was = r.status if r is not None else None
    _apply_ledger_event(session, ev)
    if rid is not None:
        r = _receivable(session, rid)
        _reweigh(session, before, r)
        if r is not None:
            credit.apply_ledger(session, ev.event, ev.args, ev.block_timestamp, r, was)


def _apply_ledger_event(session: Session, ev: EventRecord) -> None:
    a, e = ev.args, ev.event
    if e == "InvoiceRegistered":
        _involve(session, a["creditor"], int(a["id"]), new=True)
        _involve(session, a["debtor"], int(a["id"]), new=True)
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
        line = _credit_line(session, a["debtor"], a["token"])
        line.credit_limit, line.used = a["available"], a["used"]
        key = (a["debtor"], a["grantor"], a["token"])
        grant = _get(session, RmCreditGrant, key) or _put(
            session, RmCreditGrant(debtor=a["debtor"], grantor=a["grantor"], token=a["token"]), key
        )
        line.granted = _add(line.granted, int(a["limit"]) - int(grant.credit_limit))
        grant.credit_limit = a["limit"]
        return
    if e == "PlatformLimitSet":
        line = _credit_line(session, a["debtor"], a["token"])
        line.credit_limit, line.used = a["available"], a["used"]
        line.platform_cap = a["cap"] if a["capped"] else None
        return
    if "id" not in a:  # MarketSet, ApprovalForAll, RoleGranted, ...: raw events only
        return
    r = _receivable(session, int(a["id"]))
    if r is None:
        return
    if e == "CreditReserved":
        _set_used(session, r.debtor, r.token, a["creditUsed"])
    elif e == "Endorsed":
        r.status = "CONFIRMED"
        _set_used(session, r.debtor, r.token, a["creditUsed"])
    elif e == "Rejected":
        r.status = "REJECTED"
        _set_used(session, r.debtor, r.token, a["creditUsed"])
    elif e == "Repaid":
        r.repaid = a["totalRepaid"]
        if int(a["outstanding"]) == 0:
            r.status = "SETTLED"
        _set_used(session, r.debtor, r.token, a["creditUsed"])
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
            _refresh(session, r, h)
    elif e == "Redeemed":
        r.redeemed = a["totalRedeemed"]
        h = _holding(session, r.id, a["holder"])
        h.owed = "0"
        _refresh(session, r, h)
        session.add(_payment(ev, "redemption", r.id, a["holder"], a["amount"], a["totalRedeemed"]))
    elif e == "Disputed":
        r.disputed = True
        r.disputes += 1
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
        _set_used(session, r.debtor, r.token, a["creditUsed"])
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


def _credit_line(session: Session, debtor: str, token: str) -> RmCreditLine:
    key = (debtor, token)
    return _get(session, RmCreditLine, key) or _put(session, RmCreditLine(debtor=debtor, token=token), key)


def _set_used(session: Session, debtor: str, token: str, used: str) -> None:
    _credit_line(session, debtor, token).used = used


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
    elif e == "GreenPreferenceApplied":
        o = _get(session, RmOffer, int(a["offerId"]))
        if o is not None:
            o.standard_rate_bps, o.green_discount_bps = int(a["standardRateBps"]), int(a["discountBps"])
    elif e == "OfferCancelledBy":
        o = _get(session, RmOffer, int(a["offerId"]))
        if o is not None:
            o.cancelled = True
    elif e == "OfferFilled":
        o = _get(session, RmOffer, int(a["offerId"]))
        if o is not None:
            o.filled = a["filled"]
        r = _receivable(session, int(a["receivableId"]))
        if r is not None:
            credit.apply_fill(session, a, r)
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
