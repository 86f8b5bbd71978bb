"""Chain events that people must hear of, turned into webhook messages (issue 13).

The source is the read model's event log (``rm_event``), not the requests that caused the events: an alert
the verifier recorded, a margin called by anyone, a freeze a pledgee sent with its own wallet all notify
alike. ``dispatch`` reads the events after its cursor (``notification_cursor``) and queues, in one database
transaction with the cursor's move, a message for each party of each event (``api.services.webhooks.enqueue``;
the event's ``tx_hash:log_index`` is its key, so a second pass over the same event queues nothing more). The
background indexer's leader runs it after each turn.

Who hears what (besides every regulator, who hears everything):

=================================  ===================================================================
``warehouse.alert.recorded``       the receipt's owner, its warehouse, its pledgee
``warehouse.alert.cleared``        the same
``warehouse.receipt.frozen``       the same (``frozen``: true or false)
``warehouse.loan.margin_called``   the loan's borrower and lender (``deadline``, ``outstanding``, ``value``)
``warehouse.loan.margin_cured``    the same
``warehouse.loan.defaulted``       the same (the pledgee took title)
=================================  ===================================================================

A reorganization that takes an event back does not take its message back: the message says which block
and transaction it comes from.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.models import NotificationCursor, Participant, WarehouseAlert
from api.services.webhooks import EventType, enqueue
from api.state import AppState
from chain.plan import WAREHOUSE_CURRENCY
from domain.roles import Role
from readmodel.tables import RmEvent, RmLoan, RmWarehouseReceipt
from readmodel.warehouse import code_text

CURSOR = "webhooks"
BATCH = 500
CONTRACT = "WarehouseReceipts"
#: ``PledgeEnded``'s state when the pledgee took title (``IWarehouseReceipts.LoanState.Defaulted``)
DEFAULTED = 5

EVENTS: dict[str, EventType] = {
    "AlertRecorded": EventType.WAREHOUSE_ALERT_RECORDED,
    "AlertCleared": EventType.WAREHOUSE_ALERT_CLEARED,
    "ReceiptFrozen": EventType.WAREHOUSE_RECEIPT_FROZEN,
    "MarginCalled": EventType.WAREHOUSE_LOAN_MARGIN_CALLED,
    "MarginCallCured": EventType.WAREHOUSE_LOAN_MARGIN_CURED,
    "PledgeEnded": EventType.WAREHOUSE_LOAN_DEFAULTED,
}


def _ids(session: Session, addresses: set[str]) -> set[str]:
    wanted = {a.lower() for a in addresses if a}
    if not wanted:
        return set()
    rows = session.exec(
        select(Participant.id).where(func.lower(col(Participant.chain_address)).in_(sorted(wanted)))
    ).all()
    return set(rows)


def _regulators(session: Session) -> set[str]:
    return set(session.exec(select(Participant.id).where(col(Participant.role) == Role.REGULATOR)).all())


def _receipt_parties(session: Session, rid: int) -> set[str]:
    r = session.get(RmWarehouseReceipt, rid)
    if r is None:
        return set()
    parties = {r.owner, r.warehouse}
    if r.loan_id is not None:
        loan = session.get(RmLoan, r.loan_id)
        if loan is not None:
            parties.add(loan.lender)
    return parties


def _loan_parties(session: Session, loan_id: int) -> set[str]:
    loan = session.get(RmLoan, loan_id)
    return set() if loan is None else {loan.lender, loan.borrower or ""}


def _message(session: Session, ev: RmEvent, args: dict[str, Any]) -> tuple[set[str], dict[str, Any]] | None:
    """The parties and payload of a notifiable event, or ``None`` when it is not one."""
    where = {"block_number": ev.block_number, "tx_hash": ev.tx_hash}
    if ev.event in ("AlertRecorded", "AlertCleared"):
        rid, aid = int(args["receiptId"]), int(args["alertId"])
        payload: dict[str, Any] = {"alert_id": aid, "receipt_id": rid, **where}
        if ev.event == "AlertRecorded":
            note = session.get(WarehouseAlert, aid)
            code = code_text(args["code"])
            payload |= {
                "code": code,
                "evidence_hash": args["evidenceHash"],
                "message": note.message if note else None,
            }
        else:
            payload["explanation_hash"] = args["explanationHash"]
        return _receipt_parties(session, rid), payload
    if ev.event == "ReceiptFrozen":
        rid = int(args["receiptId"])
        return _receipt_parties(session, rid), {"receipt_id": rid, "frozen": bool(args["frozen"]), **where}
    if ev.event == "PledgeEnded" and int(args["state"]) != DEFAULTED:
        return None
    loan_id = int(args["loanId"])
    payload = {"loan_id": loan_id, **where}
    if ev.event == "MarginCalled":
        payload |= {
            "deadline": int(args["deadline"]),
            "outstanding": int(args["outstanding"]),
            "value": int(args["value"]),
            "currency": WAREHOUSE_CURRENCY,  # the warehouse's loans are in its one settlement token
        }
    elif ev.event == "PledgeEnded":
        payload["receipt_id"] = int(args["receiptId"])
    return _loan_parties(session, loan_id), payload


def dispatch(state: AppState) -> int:
    """Queue the webhook messages of the events after the cursor (at most ``BATCH`` events a call); the
    number of messages queued."""
    queued = 0
    with Session(state.engine) as session:
        cursor = session.get(NotificationCursor, CURSOR) or NotificationCursor(name=CURSOR, event_id=0)
        events = session.exec(
            select(RmEvent)
            .where(col(RmEvent.id) > cursor.event_id)
            .where(col(RmEvent.contract) == CONTRACT)
            .where(col(RmEvent.event).in_(sorted(EVENTS)))
            .order_by(col(RmEvent.id))
            .limit(BATCH)
        ).all()
        if not events:
            return 0
        regulators = _regulators(session)
        for ev in events:
            found = _message(session, ev, json.loads(ev.args))
            if found is not None:
                parties, payload = found
                recipients = _ids(session, parties) | regulators
                queued += enqueue(
                    session, recipients, EVENTS[ev.event], payload, f"{ev.tx_hash}:{ev.log_index}"
                )
            assert ev.id is not None
            cursor.event_id = ev.id
        session.add(cursor)
        session.commit()
    return queued
