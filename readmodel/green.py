"""Projection of ``GreenLabels`` events: receivables' green labels and financiers' green programmes.

Like ``readmodel.projector`` (which hands these events here), derived from events alone: rebuilt from
``rm_event`` after a reorganization. A label's catalogue and category are its ``bytes32`` codes as text.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from readmodel.rows import get, put
from readmodel.tables import RmGreenLabel, RmGreenProgramme
from readmodel.warehouse import code_text


def apply_green(session: Session, event: str, a: dict[str, Any], block: int, tx: str) -> None:
    """Apply one ``GreenLabels`` event (the caller owns the transaction)."""
    if event == "GreenLabelled":
        rid = int(a["receivableId"])
        label = get(session, RmGreenLabel, rid)
        fields = {
            "certifier": a["certifier"],
            "catalogue": code_text(a["catalogue"]),
            "category": code_text(a["category"]),
            "evidence_hash": a["evidenceHash"],
            "attestation_hash": a["attestationHash"],
            "valid_until": int(a["validUntil"]),
            "benefit_kg": a["benefitKg"],
            "labelled_block": block,
            "labelled_tx": tx,
            "withdrawn": False,
            "withdrawn_by": None,
            "withdrawn_reason": None,
            "withdrawn_block": None,
        }
        if label is None:
            put(session, RmGreenLabel(receivable_id=rid, **fields), rid)
        else:  # an expired or withdrawn label replaced
            for key, value in fields.items():
                setattr(label, key, value)
    elif event == "GreenLabelWithdrawn":
        label = get(session, RmGreenLabel, int(a["receivableId"]))
        if label is not None:
            label.withdrawn, label.withdrawn_by = True, a["by"]
            label.withdrawn_reason, label.withdrawn_block = a["reasonHash"], block
    elif event == "GreenProgrammeSet":
        financier, debtor = a["financier"], a["debtor"]
        row = get(session, RmGreenProgramme, (financier, debtor)) or put(
            session,
            RmGreenProgramme(financier=financier, debtor=debtor, discount_bps=0, set_block=block),
            (financier, debtor),
        )
        row.discount_bps, row.set_block = int(a["discountBps"]), block
