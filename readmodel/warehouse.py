"""Projection of ``WarehouseReceipts`` events: receipts, loans and their collateral, alerts, prices.

Like ``readmodel.projector`` (which hands these events here), every row is derived from events alone, so
the tables can be rebuilt from ``rm_event`` at any time. Codes (commodity, unit) are the contract's
left-aligned ``bytes16``/``bytes4`` read as ASCII text; the grade and location are ``bytes32`` texts.
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, col, select

from readmodel.rows import cache, get, put
from readmodel.tables import RmAlert, RmLoan, RmLoanCollateral, RmPrice, RmReceiptEvent, RmWarehouseReceipt

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"

#: ``IWarehouseReceipts.LoanState`` names by number.
LOAN_STATES = ("NONE", "OFFERED", "ACTIVE", "REPAID", "RELEASED", "DEFAULTED", "WITHDRAWN")


def code_text(hex_value: str) -> str:
    """A left-aligned ``bytesN`` code (``0x534f59...00``) as its text (``SOYBEAN``); bytes that are not
    printable ASCII are kept as ``\\xNN`` escapes, so nothing is lost or invented."""
    raw = bytes.fromhex(hex_value.removeprefix("0x")).rstrip(b"\x00")
    return raw.decode("ascii", "backslashreplace") if raw.isascii() else raw.hex()


def _receipt(session: Session, rid: int) -> RmWarehouseReceipt | None:
    return get(session, RmWarehouseReceipt, rid)


def _loan(session: Session, loan_id: int) -> RmLoan | None:
    return get(session, RmLoan, loan_id)


def _collateral(session: Session, loan_id: int) -> list[int]:
    """The receipts of a loan: the batch's rows first (not flushed yet), then the database's."""
    ids = {
        key[1]
        for (model, key), row in cache(session).items()
        if model is RmLoanCollateral and key[0] == loan_id and row is not None
    }
    ids.update(
        session.exec(
            select(RmLoanCollateral.receipt_id).where(col(RmLoanCollateral.loan_id) == loan_id)
        ).all()
    )
    return sorted(ids)


def _pledge(session: Session, loan_id: int, rid: int, block: int) -> None:
    put(session, RmLoanCollateral(loan_id=loan_id, receipt_id=rid, block_number=block), (loan_id, rid))
    r = _receipt(session, rid)
    if r is not None:
        r.loan_id = loan_id


def _receipts_of(session: Session, ev: Any) -> list[int]:
    """The receipts an event touches: its receipt, or every receipt of its loan."""
    a = ev.args
    if "receiptId" in a and ev.event != "PledgeEnded":  # a pledge ends for every receipt of its loan
        return [int(a["receiptId"])]
    if "tokenId" in a:
        return [int(a["tokenId"])]
    if "loanId" in a:
        held = _collateral(session, int(a["loanId"]))
        if held:
            return held
        loan = _loan(session, int(a["loanId"]))
        return [loan.receipt_id] if loan is not None else []
    return []


def apply_warehouse(session: Session, ev: Any) -> None:
    """Apply one ``WarehouseReceipts`` event (an ``EventRecord``) to the warehouse tables, and to the
    history of every receipt it touches."""
    _apply_event(session, ev)
    detail = json.dumps(ev.args, sort_keys=True, separators=(",", ":"))
    for rid in _receipts_of(session, ev):
        session.add(
            RmReceiptEvent(
                receipt_id=rid,
                block_number=ev.block_number,
                log_index=ev.log_index,
                tx_hash=ev.tx_hash,
                event=ev.event,
                detail=detail,
            )
        )


def _apply_event(session: Session, ev: Any) -> None:
    a, e = ev.args, ev.event
    if e == "ReceiptIssued":
        commodity, grade, quantity, unit, location, lot_ref, evidence = a["lot"]
        rid = int(a["receiptId"])
        put(
            session,
            RmWarehouseReceipt(
                receipt_id=rid,
                warehouse=a["warehouse"],
                owner=a["owner"],
                commodity=code_text(commodity),
                grade=code_text(grade),
                quantity=str(quantity),
                unit=code_text(unit),
                location=code_text(location),
                lot_ref=lot_ref,
                evidence_hash=evidence,
                fingerprint=a["fingerprint"],
                issued_block=ev.block_number,
                issued_tx=ev.tx_hash,
            ),
            rid,
        )
    elif e == "Transfer":
        r = _receipt(session, int(a["tokenId"]))
        if r is not None and a["to"] != ZERO_ADDRESS:  # a mint comes before its ReceiptIssued
            r.owner = a["to"]
    elif e == "ReceiptSurrendered":
        r = _receipt(session, int(a["receiptId"]))
        if r is not None:
            r.surrendered = True
    elif e == "LoanOffered":
        loan_id = int(a["loanId"])
        put(
            session,
            RmLoan(
                loan_id=loan_id,
                receipt_id=int(a["receiptId"]),
                lender=a["lender"],
                state="OFFERED",
                principal=a["principal"],
                rate_bps=int(a["rateBps"]),
                maturity=int(a["maturity"]),
                ltv_limit_bps=int(a["ltvLimitBps"]),
                margin_call_bps=int(a["marginCallBps"]),
                due=a["principal"],
                offered_block=ev.block_number,
                offered_tx=ev.tx_hash,
            ),
            loan_id,
        )
    elif e == "PriceRecorded":
        key = (code_text(a["commodity"]), code_text(a["unit"]))
        price = get(session, RmPrice, key)
        if price is None:
            price = put(
                session,
                RmPrice(
                    commodity=key[0],
                    unit=key[1],
                    source_hash=a["sourceHash"],
                    observed_at=int(a["observedAt"]),
                    block_number=ev.block_number,
                ),
                key,
            )
        price.per_thousand = a["perThousand"]
        price.observed_at = int(a["observedAt"])
        price.source_hash = a["sourceHash"]
        price.block_number = ev.block_number
    else:
        _apply_change(session, ev)


def _apply_change(session: Session, ev: Any) -> None:
    """Events that change a loan, a receipt's pledge, freeze or alerts."""
    a, e = ev.args, ev.event
    if e in ("LoanWithdrawn", "LoanStarted", "LoanRepaid", "PledgeEnded", "MarginCalled", "MarginCallCured"):
        loan = _loan(session, int(a["loanId"]))
        if loan is None:
            return
        if e == "LoanWithdrawn":
            loan.state = "WITHDRAWN"
        elif e == "LoanStarted":
            loan.state, loan.borrower, loan.due = "ACTIVE", a["borrower"], a["due"]
            loan.started_block = ev.block_number
            _pledge(session, loan.loan_id, int(a["receiptId"]), ev.block_number)
        elif e == "LoanRepaid":
            loan.repaid = a["repaid"]
        elif e == "PledgeEnded":
            loan.state, loan.margin_deadline = LOAN_STATES[int(a["state"])], None
            for rid in _collateral(session, loan.loan_id):
                r = _receipt(session, rid)
                if r is not None and r.loan_id == loan.loan_id:
                    r.loan_id = None
        elif e == "MarginCalled":
            loan.margin_deadline = int(a["deadline"])
        else:
            loan.margin_deadline = None
    elif e == "CollateralAdded":
        _pledge(session, int(a["loanId"]), int(a["receiptId"]), ev.block_number)
    elif e == "ReceiptFrozen":
        r = _receipt(session, int(a["receiptId"]))
        if r is not None:
            r.frozen = bool(a["frozen"])
    elif e == "AlertRecorded":
        alert_id, rid = int(a["alertId"]), int(a["receiptId"])
        put(
            session,
            RmAlert(
                alert_id=alert_id,
                receipt_id=rid,
                code=code_text(a["code"]),
                evidence_hash=a["evidenceHash"],
                recorded_block=ev.block_number,
                recorded_tx=ev.tx_hash,
            ),
            alert_id,
        )
        r = _receipt(session, rid)
        if r is not None:
            r.open_alerts += 1
            r.alerts_recorded += 1
    elif e == "AlertCleared":
        alert = get(session, RmAlert, int(a["alertId"]))
        if alert is not None:
            alert.cleared, alert.explanation_hash = True, a["explanationHash"]
            alert.cleared_block = ev.block_number
        r = _receipt(session, int(a["receiptId"]))
        if r is not None:
            r.open_alerts -= 1
