"""Warehouse devices, their signed readings, and alerts (issue 13, docs/warehouse.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from api.auth import Principal, PrincipalDep, require
from api.deps import IdPath, PagingDep, SessionDep, StateDep
from api.errors import error_responses
from api.idempotency import IdempotencyDep
from api.schemas.common import Page
from api.schemas.lifecycle import TxOut
from api.schemas.warehouse import (
    AlertOut,
    ClearIn,
    DeviceBindingIn,
    DeviceId,
    DeviceIn,
    DeviceOut,
    ReadingBatchIn,
    ReadingBatchOut,
    ReadingDayOut,
    ReadingIn,
    ReadingOut,
)
from api.services import devices, readings
from domain.roles import Role

router = APIRouter(prefix="/warehouse", tags=["warehouse devices"])
ERRORS = error_responses(400, 401, 403, 404, 409, 422, 503)
READS = error_responses(401, 403, 404, 422, 503)
Warehouse = Annotated[Principal, require(Role.LOGISTICS)]
Operator = Annotated[Principal, require(Role.OPERATOR)]


@router.post("/devices", status_code=201, response_model=DeviceOut, responses=ERRORS)
def register_device(
    body: DeviceIn, principal: Warehouse, state: StateDep, session: SessionDep, idem: IdempotencyDep
) -> DeviceOut:
    """Register a device of mine: the platform CA certifies its key, bound to my warehouse, its location
    and the receipts it watches (receipts I issued, stored there)."""
    return idem.run(body, lambda: devices.register(state, session, principal.member, body))


@router.get("/devices", response_model=Page[DeviceOut], responses=READS)
def list_devices(principal: PrincipalDep, session: SessionDep, paging: PagingDep) -> Page[DeviceOut]:
    """My devices (a warehouse); all of them for operator and regulator."""
    return paging.page_of(*devices.list_devices(session, principal, paging.limit, paging.offset))


@router.put("/devices/{device_id}/binding", response_model=DeviceOut, responses=ERRORS)
def rebind_device(
    device_id: DeviceId, body: DeviceBindingIn, principal: Warehouse, state: StateDep, session: SessionDep
) -> DeviceOut:
    """Bind my device to other receipts or another location: a new certificate, the old one revoked."""
    return devices.rebind(state, session, principal.member, device_id, body)


@router.post("/devices/{device_id}/suspend", response_model=DeviceOut, responses=ERRORS)
def suspend_device(device_id: DeviceId, principal: Warehouse, session: SessionDep) -> DeviceOut:
    """Suspend my device: its readings are refused (DEVICE_SUSPENDED) until it is reinstated."""
    return devices.set_status(session, principal.member, device_id, devices.SUSPENDED)


@router.post("/devices/{device_id}/reinstate", response_model=DeviceOut, responses=ERRORS)
def reinstate_device(device_id: DeviceId, principal: Warehouse, session: SessionDep) -> DeviceOut:
    """Reinstate my suspended device."""
    return devices.set_status(session, principal.member, device_id, devices.ACTIVE)


@router.post("/devices/{device_id}/revoke", response_model=DeviceOut, responses=ERRORS)
def revoke_device(device_id: DeviceId, principal: Warehouse, session: SessionDep) -> DeviceOut:
    """Revoke my device for good: its certificate is revoked (DEVICE_REVOKED)."""
    return devices.set_status(session, principal.member, device_id, devices.REVOKED)


@router.post(
    "/readings", status_code=201, response_model=ReadingOut, responses=error_responses(400, 422, 503)
)
def submit_reading(body: ReadingIn, state: StateDep, session: SessionDep) -> ReadingOut:
    """A device's signed reading (no API key: the device's certificate authenticates it). Verified, counted,
    and checked by the alert rules; an alert it raises is recorded on chain. A copy of an accepted
    reading is READING_REPLAYED."""
    return readings.ingest(state, session, body.reading)


@router.post("/readings/batch", response_model=ReadingBatchOut, responses=error_responses(400, 422, 503))
def submit_readings(body: ReadingBatchIn, state: StateDep, session: SessionDep) -> ReadingBatchOut:
    """Up to 100 signed readings at once (an IoT gateway's uplink; no API key): each judged on its own, in
    order, as by POST /warehouse/readings; the answer says, per reading, what it proved or why it was
    refused."""
    return readings.ingest_batch(state, session, body.readings)


@router.get("/receipts/{receipt_id}/readings", response_model=Page[ReadingDayOut], responses=READS)
def receipt_readings(
    receipt_id: IdPath, principal: PrincipalDep, state: StateDep, session: SessionDep, paging: PagingDep
) -> Page[ReadingDayOut]:
    """A receipt's readings, per device and day: count, first and last, least, greatest and last values."""
    return paging.page(readings.reading_days(state, session, principal, receipt_id))


@router.get("/receipts/{receipt_id}/alerts", response_model=Page[AlertOut], responses=READS)
def receipt_alerts(
    receipt_id: IdPath, principal: PrincipalDep, state: StateDep, session: SessionDep, paging: PagingDep
) -> Page[AlertOut]:
    """A receipt's alerts (open and cleared), with the rule's words and the evidence's hash."""
    return paging.page(readings.list_alerts(state, session, principal, receipt_id))


@router.post("/alerts/{alert_id}/clear", response_model=TxOut, responses=ERRORS)
def clear_alert(
    alert_id: IdPath,
    body: ClearIn,
    principal: Warehouse,
    state: StateDep,
    session: SessionDep,
    idem: IdempotencyDep,
) -> TxOut:
    """Clear an alert on a receipt of mine: my signed explanation and the new readings it cites."""
    return idem.run(body, lambda: readings.clear_alert(state, session, principal.member, alert_id, body))


@router.post("/silence-check", response_model=list[AlertOut], responses=ERRORS)
def silence_check(_: Operator, state: StateDep, session: SessionDep) -> list[AlertOut]:
    """Raise DEVICE_SILENT on receipts with a device silent past its heartbeat (the gateway's background
    loop does this by itself; this runs it now)."""
    return readings.check_silence(state, session)
