"""A receivable's provenance: its anchored documents, every event that concerns it (endorsement,
transfers, offers and discounts, repayments, redemptions, disputes) and the tree of its splits.

``rm_event.receivable_id`` and ``offer_id`` (indexed; set from the event's arguments, a cancellation's
receivable from its offer) make the history an index look-up: the rows of this receivable, or of one of
its offers; the exact test (``concerns``) still runs on those.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from api.models import Bundle, Document
from api.schemas.reports import Provenance, ProvenanceEvent, TransferNode
from api.services.lifecycle import Caller
from api.services.receivables import indexed
from api.services.reports import Names, receivable_out
from api.state import AppState
from readmodel.tables import RmEvent, RmOffer, RmReceivable, RmTransfer

EVENT_KIND = {
    "InvoiceRegistered": "tokenized",
    "Endorsed": "endorsed",
    "Rejected": "rejected",
    "TransferSingle": "transfer",
    "OfferMade": "offer",
    "OfferCancelledBy": "offer_cancelled",
    "OfferFilled": "discount",
    "Repaid": "repayment",
    "Redeemed": "redemption",
    "Disputed": "dispute",
    "DisputeResolved": "dispute_resolved",
    "GreenLabelled": "green_labelled",
    "GreenLabelWithdrawn": "green_label_withdrawn",
    "GreenPreferenceApplied": "green_preference",
}


def concerns(event: str, args: dict[str, Any], rid: int, offers: set[int]) -> bool:
    """Whether the event is about receivable ``rid`` (a cancellation: about one of its ``offers``)."""
    if event in ("OfferCancelledBy",):
        return int(args.get("offerId", 0)) in offers
    for key in ("id", "receivableId"):
        if key in args:
            return int(args[key]) == rid
    return False


def events(session: Session, rid: int) -> list[ProvenanceEvent]:
    """The events about ``rid`` in chain order; mints and burns are left out (they show as tokenization,
    settlement and dilution)."""
    offers = {o for o in session.exec(select(RmOffer.offer_id).where(RmOffer.receivable_id == rid)).all()}
    query = (
        select(RmEvent)
        .where(col(RmEvent.event).in_(list(EVENT_KIND)))
        .where(or_(col(RmEvent.receivable_id) == rid, col(RmEvent.offer_id).in_(sorted(offers))))
        .order_by(col(RmEvent.block_number), col(RmEvent.log_index))
    )
    out: list[ProvenanceEvent] = []
    for ev in session.exec(query).all():
        args = json.loads(ev.args)
        if not concerns(ev.event, args, rid, offers):
            continue
        if ev.event == "TransferSingle" and 0 in (int(args["from"], 16), int(args["to"], 16)):
            continue
        out.append(
            ProvenanceEvent(
                kind=EVENT_KIND[ev.event],
                block_number=ev.block_number,
                tx_hash=ev.tx_hash,
                log_index=ev.log_index,
                details=args,
            )
        )
    return out


def documents(session: Session, rid: int) -> list[dict[str, str]]:
    """The documents of the bundle ``rid`` was tokenized from (none for a receivable registered without
    the gateway)."""
    bundle = session.exec(select(Bundle).where(Bundle.receivable_id == rid)).first()
    if bundle is None:
        return []
    return [
        {"id": d.id, "kind": d.kind, "name": d.name, "sha256": d.sha256}
        for d in session.exec(select(Document).where(Document.bundle_id == bundle.id)).all()
    ]


def transfer_tree(session: Session, r: RmReceivable, names: Names) -> TransferNode:
    """The creditor at the root; each transfer a child of the sender's latest receipt (or of the root)."""
    root = TransferNode(
        holder=names.ref(r.creditor),
        amount_minor=int(r.face_value),
        block_number=r.registered_block,
        tx_hash=r.registered_tx,
    )
    latest: dict[str, TransferNode] = {r.creditor.lower(): root}
    moves = session.exec(
        select(RmTransfer)
        .where(RmTransfer.receivable_id == r.id)
        .order_by(col(RmTransfer.block_number), col(RmTransfer.log_index), col(RmTransfer.batch_index))
    ).all()
    for t in moves:
        if 0 in (int(t.from_address, 16), int(t.to_address, 16)):
            continue
        parent = latest.get(t.from_address.lower(), root)
        node = TransferNode(
            holder=names.ref(t.to_address),
            amount_minor=int(t.amount),
            block_number=t.block_number,
            tx_hash=t.tx_hash,
        )
        parent.children.append(node)
        latest[t.to_address.lower()] = node
    return root


def provenance(state: AppState, session: Session, caller: Caller, rid: int) -> Provenance:
    """The whole history of a receivable the caller may see (else 404 ``RECEIVABLE_NOT_FOUND``)."""
    r, view = indexed(state, session, caller, rid)
    names = Names(session, state)
    return Provenance(
        receivable=receivable_out(r, names, view.now),
        documents=documents(session, rid),
        events=events(session, rid),
        transfer_tree=transfer_tree(session, r, names),
    )
