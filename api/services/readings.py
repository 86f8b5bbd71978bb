"""Signed readings of warehouse devices, the alerts their rules raise, and clearing an alert (issue 13).

A reading (``domain.warehouse.readings``) is verified against the platform CA, the revocation list, the
device's binding, its counter and the clock; accepted, it raises the device's counter (a conditional
``UPDATE``: of two copies sent at once exactly one is accepted) and its day's aggregate, in one database
transaction, so a refused reading leaves nothing behind. Its alerts (``domain.warehouse.rules``; a code
already open on the receipt is not raised again) are then recorded on chain by the verifier, and the gateway
keeps the rule's words and the reading as evidence (``warehouse_alert``). Webhooks follow from the chain's
events (``api.services.notifications``).

Readings are about the devices' time: they are checked against the gateway's wall clock, as document
signatures are (ARCHITECTURE.md, "One clock").
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.errors import ApiError
from api.models import (
    Participant,
    WarehouseAlert,
    WarehouseAlertClaim,
    WarehouseDevice,
    WarehouseReadingDay,
)
from api.schemas.lifecycle import TxOut
from api.schemas.warehouse import (
    AlertOut,
    ClearIn,
    ItemError,
    ReadingBatchOut,
    ReadingDayOut,
    ReadingOut,
    ReadingResult,
)
from api.services.lifecycle import Caller, act
from api.services.participants import revocation_check
from api.services.txerrors import on_chain
from api.services.warehouse import read_receipt
from api.state import AppState
from domain.warehouse.devices import DeviceKind
from domain.warehouse.errors import WarehouseError
from domain.warehouse.readings import ReceiptFacts, VerifiedReading, verify_reading
from domain.warehouse.rules import (
    Alert,
    evaluate_reading,
    rule_cleared,
    silence_alerts,
    verify_explanation,
)
from readmodel.tables import RmAlert, RmWarehouseReceipt

DAY = 86_400

#: One alert recorder per receipt in this process: two readings of one receipt raising the same code at
#: once record it once (across processes the open-code check can race; see docs/warehouse.md).
_receipt_locks: dict[int, threading.Lock] = {}
_receipt_locks_guard = threading.Lock()


def _receipt_lock(rid: int) -> threading.Lock:
    with _receipt_locks_guard:
        return _receipt_locks.setdefault(rid, threading.Lock())


def receipt_facts(
    state: AppState, session: Session, rid: int, geofence: str | None = None
) -> ReceiptFacts | None:
    """What the read model says of a receipt in store (``None``: unknown or surrendered), with the geofence
    of the GPS tag asking, if one is. A receipt issued a moment ago is looked for again after catching up."""
    row = session.get(RmWarehouseReceipt, rid)
    if row is None:
        state.catch_up()
        session.expire_all()
        row = session.get(RmWarehouseReceipt, rid)
    if row is None or row.surrendered:
        return None
    return ReceiptFacts(
        receipt_id=rid,
        warehouse=row.warehouse,
        commodity=row.commodity,
        quantity=int(row.quantity),
        unit=row.unit,
        location=row.location,
        geofence=geofence,
    )


#: DER of a device certificate by its thumbprint (the SHA-256 of that DER: an entry never goes stale)
_DER_BY_THUMBPRINT: dict[str, bytes] = {}
_DER_CACHE_SIZE = 4096


def _der(row: WarehouseDevice) -> bytes:
    der = _DER_BY_THUMBPRINT.get(row.thumbprint)
    if der is None:
        der = x509.load_pem_x509_certificate(row.certificate_pem.encode()).public_bytes(
            serialization.Encoding.DER
        )
        if len(_DER_BY_THUMBPRINT) >= _DER_CACHE_SIZE:
            _DER_BY_THUMBPRINT.clear()
        _DER_BY_THUMBPRINT[row.thumbprint] = der
    return der


def _verify(
    state: AppState,
    session: Session,
    token: str,
    *,
    replay_check: bool = True,
    facts: dict[int, ReceiptFacts | None] | None = None,
) -> VerifiedReading:
    """``verify_reading`` against the gateway's registry: the device's row, found by the certificate's
    thumbprint, gives the certificate, its revocation (a revoked device's certificate is in the revocation
    list and its row says so), its counter and, for a GPS tag, the geofence. The receipts looked up are
    left in ``facts``."""
    facts = {} if facts is None else facts
    device: list[WarehouseDevice] = []

    def certificate(thumbprint: str) -> bytes | None:
        row = session.exec(
            select(WarehouseDevice).where(col(WarehouseDevice.thumbprint) == thumbprint)
        ).first()
        if row is None:
            return None
        device.append(row)
        return _der(row)

    def revoked(_serial: int) -> bool:
        return bool(device) and device[0].status == "revoked"

    def receipt(rid: int) -> ReceiptFacts | None:
        if rid not in facts:
            tag = device[0] if device and device[0].kind == DeviceKind.GPS_TAG.value else None
            facts[rid] = receipt_facts(state, session, rid, tag.location if tag else None)
        return facts[rid]

    def last_seq(_device_id: str) -> int | None:
        if not replay_check or not device or device[0].last_seq == 0:
            return None
        return device[0].last_seq

    try:
        return verify_reading(
            token,
            ca_root=state.ca().certificate,
            certificates=certificate,
            revoked=revoked,
            last_seq=last_seq,
            now=int(time.time()),
            receipt=receipt,
        )
    except WarehouseError as exc:
        raise ApiError(422, exc.code.value, str(exc)) from exc


def _merge(summary: dict[str, dict[str, Any]], measurements: dict[str, Any]) -> None:
    for name, value in measurements.items():
        entry = summary.setdefault(name, {})
        entry["last"] = value
        if isinstance(value, int):
            entry["min"] = min(entry.get("min", value), value)
            entry["max"] = max(entry.get("max", value), value)


def _accept(session: Session, reading: VerifiedReading) -> None:
    """Raise the device's counter to the reading's and add it to its day, in one transaction; 422
    ``READING_REPLAYED`` when another request accepted this counter (or a later one) first."""
    device_id = reading.device.device_id
    row = session.get(WarehouseDevice, device_id)
    if row is None:
        raise ApiError(422, "DEVICE_CERT_UNTRUSTED", f"Device {device_id} is not registered.")
    if row.status != "active":
        raise ApiError(
            422, "DEVICE_SUSPENDED", f"Device {device_id} is {row.status}: its readings are refused."
        )
    raised = session.execute(
        update(WarehouseDevice)
        .where(col(WarehouseDevice.device_id) == device_id, col(WarehouseDevice.last_seq) < reading.seq)
        .values(last_seq=reading.seq, last_seen=reading.iat)
    )
    if raised.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise ApiError(422, "READING_REPLAYED", f"Device {device_id} sent counter {reading.seq} before.")
    day = reading.iat // DAY
    agg = session.get(WarehouseReadingDay, (reading.receipt_id, device_id, day))
    if agg is None:
        agg = WarehouseReadingDay(
            receipt_id=reading.receipt_id,
            device_id=device_id,
            day=day,
            first_iat=reading.iat,
            last_iat=reading.iat,
            last_seq=reading.seq,
            measurements="{}",
        )
    summary = json.loads(agg.measurements)
    _merge(summary, dict(reading.measurements))
    agg.count += 1
    agg.first_iat, agg.last_iat = min(agg.first_iat, reading.iat), max(agg.last_iat, reading.iat)
    agg.last_seq = reading.seq
    agg.measurements = json.dumps(summary, sort_keys=True)
    session.add(agg)
    session.commit()


def open_codes(session: Session, rid: int) -> set[str]:
    """Codes of the receipt's open alerts: recorded by this gateway and not cleared, or seen on chain."""
    mine = session.exec(
        select(WarehouseAlert.code).where(
            col(WarehouseAlert.receipt_id) == rid, col(WarehouseAlert.cleared_at).is_(None)
        )
    ).all()
    indexed = session.exec(
        select(RmAlert.code).where(col(RmAlert.receipt_id) == rid, col(RmAlert.cleared).is_(False))
    ).all()
    return set(mine) | set(indexed)


#: A claim whose recording has not finished after this long is taken to be abandoned (its process died).
CLAIM_TIMEOUT = timedelta(minutes=5)


def _claim(session: Session, alert: Alert) -> bool:
    """Claim ``alert``'s code on its receipt for this process (committed): False when another holds it."""
    stale = datetime.now(UTC) - CLAIM_TIMEOUT
    session.execute(
        delete(WarehouseAlertClaim).where(
            col(WarehouseAlertClaim.receipt_id) == alert.receipt_id,
            col(WarehouseAlertClaim.code) == alert.code.value,
            col(WarehouseAlertClaim.alert_id).is_(None),
            col(WarehouseAlertClaim.claimed_at) < stale,
        )
    )
    # an alert cleared on chain without the gateway (the warehouse's own wallet) frees its code too
    cleared = select(RmAlert.alert_id).where(col(RmAlert.cleared).is_(True))
    session.execute(
        delete(WarehouseAlertClaim).where(
            col(WarehouseAlertClaim.receipt_id) == alert.receipt_id,
            col(WarehouseAlertClaim.code) == alert.code.value,
            col(WarehouseAlertClaim.alert_id).in_(cleared),
        )
    )
    session.add(WarehouseAlertClaim(receipt_id=alert.receipt_id, code=alert.code.value))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


def _release(session: Session, receipt_id: int, code: str) -> None:
    session.execute(
        delete(WarehouseAlertClaim).where(
            col(WarehouseAlertClaim.receipt_id) == receipt_id, col(WarehouseAlertClaim.code) == code
        )
    )
    session.commit()


def record_alerts(
    state: AppState, session: Session, alerts: Sequence[Alert], evidence: str
) -> list[AlertOut]:
    """Record each alert on chain from the verifier's account and keep its words and evidence. An alert
    whose code another process (or request) is recording, or recorded and is open, is left out: the
    claim (``warehouse_alert_claim``) is taken before the transaction is sent and released if it fails."""
    chain = state.chain()
    wh = chain.platform.warehouse
    out = []
    for alert in alerts:
        if not _claim(session, alert):
            continue
        try:
            alert_id, receipt = on_chain(
                partial(
                    wh.record_alert, chain.verifier, alert.receipt_id, alert.code_bytes32, alert.evidence_hash
                )
            )
        except BaseException:
            _release(session, alert.receipt_id, alert.code.value)
            raise
        row = WarehouseAlert(
            alert_id=alert_id,
            receipt_id=alert.receipt_id,
            code=alert.code.value,
            message=alert.message[:500],
            device_id=alert.devices[0] if alert.devices else None,
            evidence=evidence,
            evidence_hash="0x" + alert.evidence_hash.hex(),
        )
        session.add(row)
        claim = session.get(WarehouseAlertClaim, (alert.receipt_id, alert.code.value))
        if claim is not None:
            claim.alert_id = alert_id
            session.add(claim)
        session.commit()
        out.append(_alert_out(row, int(receipt["blockNumber"])))
    return out


def ingest(state: AppState, session: Session, token: str) -> ReadingOut:
    """Verify and accept one reading; record the alerts it raises."""
    looked_up: dict[int, ReceiptFacts | None] = {}
    reading = _verify(state, session, token, facts=looked_up)
    _accept(session, reading)
    facts = looked_up.get(reading.receipt_id)
    alerts: list[AlertOut] = []
    # the open codes are asked only when a rule fires (a normal reading costs no query for them)
    fired = evaluate_reading(facts, reading) if facts is not None else []
    if fired:
        with _receipt_lock(reading.receipt_id):
            already = open_codes(session, reading.receipt_id)
            alerts = record_alerts(state, session, [a for a in fired if a.code not in already], token)
    return ReadingOut(
        device_id=reading.device.device_id,
        receipt_id=reading.receipt_id,
        seq=reading.seq,
        iat=reading.iat,
        digest="0x" + reading.digest.hex(),
        alerts=alerts,
    )


def ingest_batch(state: AppState, session: Session, tokens: Sequence[str]) -> ReadingBatchOut:
    """Each reading of a batch judged on its own, in order, as ``ingest`` judges one: a refused reading
    leaves nothing behind and does not stop the others."""
    results = []
    for index, token in enumerate(tokens):
        try:
            results.append(ReadingResult(index=index, reading=ingest(state, session, token), error=None))
        except ApiError as exc:
            session.rollback()
            error = ItemError(code=exc.code, message=exc.message)
            results.append(ReadingResult(index=index, reading=None, error=error))
    accepted = sum(r.reading is not None for r in results)
    return ReadingBatchOut(accepted=accepted, refused=len(results) - accepted, results=results)


def check_silence(state: AppState, session: Session, now: int | None = None) -> list[AlertOut]:
    """Raise ``DEVICE_SILENT`` on every receipt whose active devices include one silent past its heartbeat
    (a device that never spoke counts from its registration)."""
    now = now if now is not None else int(time.time())
    by_receipt: dict[int, dict[str, tuple[int, int]]] = {}
    for d in session.exec(select(WarehouseDevice).where(col(WarehouseDevice.status) == "active")).all():
        seen = d.last_seen if d.last_seen is not None else int(d.created_at.timestamp())
        for rid in json.loads(d.receipt_ids):
            by_receipt.setdefault(rid, {})[d.device_id] = (seen, d.heartbeat_s)
    out: list[AlertOut] = []
    for rid, devices in sorted(by_receipt.items()):
        facts = receipt_facts(state, session, rid)
        if facts is None:
            continue
        heartbeat = min(h for _, h in devices.values())
        with _receipt_lock(rid):
            alerts = silence_alerts(
                facts,
                {d: s for d, (s, _) in devices.items()},
                heartbeat,
                now,
                open_codes=open_codes(session, rid),
            )
            out += record_alerts(state, session, alerts, str(alerts[0].facts["statement"]) if alerts else "")
    return out


def clear_alert(
    state: AppState, session: Session, warehouse: Participant, alert_id: int, body: ClearIn
) -> TxOut:
    """The receipt's warehouse clears an open alert: its signed explanation, citing new readings (each a
    reading of this receipt the gateway accepted before, sent again here as evidence) that no longer trip
    the rule; then ``clearAlert`` with ``explanation_digest`` from the warehouse's account."""
    rid = alert_id >> 16
    facts = receipt_facts(state, session, rid)
    if facts is None or facts.warehouse != warehouse.chain_address.lower():
        raise ApiError(404, "ALERT_NOT_FOUND", f"No alert {alert_id} on a receipt of yours.")
    code = _open_alert_code(session, alert_id)
    try:
        explanation = verify_explanation(
            body.explanation,
            ca_root=state.ca().certificate,
            revoked=revocation_check(session),
            receipt=facts,
            alert_id=alert_id,
            code=code,
            now=int(time.time()),
        )
    except WarehouseError as exc:
        raise ApiError(422, exc.code.value, str(exc)) from exc
    readings = [_verify(state, session, t, replay_check=False) for t in body.readings]
    if [r.digest for r in readings] != list(explanation.readings):
        raise ApiError(
            422, "EXPLANATION_MISMATCH", "The readings sent are not the ones the explanation cites."
        )
    if any(_not_accepted(session, r) for r in readings):
        raise ApiError(
            422, "READING_NOT_ACCEPTED", "Send the new readings to POST /warehouse/readings first."
        )
    silent = _alert_devices(session, alert_id)
    if not rule_cleared(code, facts, readings, silent=silent):
        raise ApiError(409, "ALERT_NOT_CLEARED", f"The new readings still trip {code} on receipt {rid}.")
    wh = state.chain().platform.warehouse
    out = act(
        state,
        session,
        warehouse,
        lambda s: wh.clear_alert(s, alert_id, explanation.explanation_hash),
        receipt_id=rid,
    )
    row = session.get(WarehouseAlert, alert_id)
    if row is not None:
        row.explanation = body.explanation
        row.cleared_at = datetime.now(UTC)
        session.add(row)
        session.commit()
    _release(session, rid, code)
    out.alert_id = alert_id
    return out


def _open_alert_code(session: Session, alert_id: int) -> str:
    row = session.get(WarehouseAlert, alert_id)
    if row is not None and row.cleared_at is None:
        return row.code
    indexed = session.get(RmAlert, alert_id)
    if indexed is not None and not indexed.cleared and row is None:
        return indexed.code
    raise ApiError(404, "ALERT_NOT_FOUND", f"No open alert {alert_id}.")


def _alert_devices(session: Session, alert_id: int) -> list[str]:
    row = session.get(WarehouseAlert, alert_id)
    if row is None or row.code != "DEVICE_SILENT":
        return []
    return sorted(json.loads(row.evidence).get("devices", {}))


def _not_accepted(session: Session, reading: VerifiedReading) -> bool:
    row = session.get(WarehouseDevice, reading.device.device_id)
    return row is None or row.last_seq < reading.seq


def _alert_out(row: WarehouseAlert, block: int | None, indexed: RmAlert | None = None) -> AlertOut:
    return AlertOut(
        alert_id=row.alert_id,
        receipt_id=row.receipt_id,
        code=row.code,
        message=row.message,
        device_id=row.device_id,
        evidence_hash=row.evidence_hash,
        recorded_block=block if block is not None else (indexed.recorded_block if indexed else None),
        cleared=row.cleared_at is not None or bool(indexed and indexed.cleared),
        explanation=row.explanation,
    )


def list_alerts(state: AppState, session: Session, caller: Caller, rid: int) -> list[AlertOut]:
    """A receipt's alerts, as the chain has them with the gateway's words (404 for a receipt the caller
    may not see)."""
    read_receipt(state, session, caller, rid)
    mine = {
        a.alert_id: a
        for a in session.exec(select(WarehouseAlert).where(col(WarehouseAlert.receipt_id) == rid))
    }
    out = []
    for indexed in session.exec(
        select(RmAlert).where(col(RmAlert.receipt_id) == rid).order_by(col(RmAlert.alert_id))
    ):
        row = mine.get(indexed.alert_id)
        if row is None:
            out.append(
                AlertOut(
                    alert_id=indexed.alert_id,
                    receipt_id=rid,
                    code=indexed.code,
                    message=None,
                    device_id=None,
                    evidence_hash=indexed.evidence_hash,
                    recorded_block=indexed.recorded_block,
                    cleared=indexed.cleared,
                    explanation=None,
                )
            )
        else:
            out.append(_alert_out(row, None, indexed))
    return out


def reading_days(state: AppState, session: Session, caller: Caller, rid: int) -> list[ReadingDayOut]:
    """A receipt's readings, aggregated per device and day (404 for a receipt the caller may not see)."""
    read_receipt(state, session, caller, rid)  # after the caller's own transactions
    rows = session.exec(
        select(WarehouseReadingDay)
        .where(col(WarehouseReadingDay.receipt_id) == rid)
        .order_by(col(WarehouseReadingDay.day), col(WarehouseReadingDay.device_id))
    ).all()
    return [
        ReadingDayOut(
            device_id=r.device_id,
            day=r.day,
            count=r.count,
            first_iat=r.first_iat,
            last_iat=r.last_iat,
            last_seq=r.last_seq,
            measurements=json.loads(r.measurements),
        )
        for r in rows
    ]
