"""Warehouse devices (issue 13): registered by their warehouse, certified by the platform CA, bound to the
warehouse, one storage location (a GPS tag: its geofence) and the receipts they watch; suspended, reinstated,
re-bound (a new certificate, the old one revoked as superseded) or revoked by their warehouse.

A device is registered only by an appointed warehouse, and only for receipts that warehouse issued and that
are stored where the device is (a GPS tag names the geofence instead). Its revoked certificates go into the
same revocation list as participants' (``certificate_revocation``), which every verification reads.
"""

from __future__ import annotations

import json

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlmodel import Session, col, select

from api.errors import ApiError
from api.models import CertificateRevocation, Participant, WarehouseDevice
from api.schemas.warehouse import DeviceBindingIn, DeviceIn, DeviceOut
from api.services.lifecycle import Caller
from api.services.reports import Names
from api.state import AppState
from domain.identity.ca import RevocationReason
from domain.roles import OVERSEERS
from domain.warehouse.devices import (
    DeviceBinding,
    DeviceKind,
    certificate_thumbprint,
    issue_device_certificate,
    reissue_device_certificate,
)
from readmodel.tables import RmWarehouseReceipt

ACTIVE, SUSPENDED, REVOKED = "active", "suspended", "revoked"


def _public_key(pem: str) -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError) as exc:
        raise ApiError(422, "DEVICE_KEY_INVALID", "public_key_pem is not a PEM public key.") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ApiError(422, "DEVICE_KEY_INVALID", "A device key is ECDSA P-256 (readings are signed ES256).")
    return key


def _check_receipts(
    state: AppState, session: Session, warehouse: Participant, kind: str, location: str, ids: list[int]
) -> None:
    """Every receipt was issued by ``warehouse``, is not surrendered, and (but for a GPS tag, whose location
    is a geofence) is stored at ``location``: else 422 ``DEVICE_RECEIPT_INVALID`` naming the first one."""
    state.read_after(warehouse.id, warehouse.chain_address)
    rows = {
        r.receipt_id: r
        for r in session.exec(
            select(RmWarehouseReceipt).where(col(RmWarehouseReceipt.receipt_id).in_(ids))
        ).all()
    }
    for rid in sorted(set(ids)):
        r = rows.get(rid)
        if r is None or r.surrendered or r.warehouse.lower() != warehouse.chain_address.lower():
            raise ApiError(
                422, "DEVICE_RECEIPT_INVALID", f"Receipt {rid} is not a receipt of yours in store."
            )
        if kind != DeviceKind.GPS_TAG and r.location != location:
            raise ApiError(
                422,
                "DEVICE_RECEIPT_INVALID",
                f"Receipt {rid} is stored at {r.location}, not at {location} where the device is.",
            )


def _out(row: WarehouseDevice, names: Names, session: Session) -> DeviceOut:
    owner = session.get(Participant, row.warehouse_id)
    assert owner is not None
    return DeviceOut(
        device_id=row.device_id,
        warehouse=names.ref(owner.chain_address),
        kind=row.kind,
        location=row.location,
        receipt_ids=json.loads(row.receipt_ids),
        status=row.status,  # type: ignore[arg-type]
        serial=row.serial,
        thumbprint=row.thumbprint,
        certificate_pem=row.certificate_pem,
        last_seq=row.last_seq,
        last_seen=row.last_seen,
        heartbeat_s=row.heartbeat_s,
    )


def register(state: AppState, session: Session, warehouse: Participant, body: DeviceIn) -> DeviceOut:
    """Certify and record a new device of the calling warehouse (409 ``DEVICE_EXISTS`` for a taken id)."""
    if not state.chain().platform.warehouse.is_warehouse(warehouse.chain_address):
        raise ApiError(403, "NOT_A_WAREHOUSE", "Only a warehouse the operator appointed registers devices.")
    if session.get(WarehouseDevice, body.device_id) is not None:
        raise ApiError(409, "DEVICE_EXISTS", f"Device {body.device_id} is registered already.")
    key = _public_key(body.public_key_pem)
    _check_receipts(state, session, warehouse, body.kind, body.location, body.receipt_ids)
    binding = DeviceBinding(
        body.device_id,
        DeviceKind(body.kind),
        warehouse.chain_address,
        body.location,
        frozenset(body.receipt_ids),
    )
    cert = issue_device_certificate(state.ca(), key, binding)
    row = WarehouseDevice(
        device_id=body.device_id,
        warehouse_id=warehouse.id,
        kind=body.kind,
        location=body.location,
        receipt_ids=json.dumps(sorted(binding.receipt_ids)),
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        thumbprint=certificate_thumbprint(cert),
        serial=str(cert.serial_number),
        status=ACTIVE,
        heartbeat_s=body.heartbeat_s,
    )
    session.add(row)
    session.commit()
    return _out(row, Names(session, state), session)


def _own(session: Session, warehouse: Participant, device_id: str) -> WarehouseDevice:
    row = session.get(WarehouseDevice, device_id)
    if row is None or row.warehouse_id != warehouse.id:
        raise ApiError(404, "DEVICE_NOT_FOUND", f"No device {device_id} of yours.")
    return row


def _revoke_serial(session: Session, row: WarehouseDevice, reason: RevocationReason) -> None:
    if session.get(CertificateRevocation, row.serial) is None:
        session.add(
            CertificateRevocation(serial=row.serial, participant_id=row.warehouse_id, reason=reason.value)
        )


def set_status(session: Session, warehouse: Participant, device_id: str, status: str) -> DeviceOut:
    """Suspend (its readings are refused until reinstated), reinstate, or revoke (for good: its
    certificate is revoked) a device of the calling warehouse."""
    row = _own(session, warehouse, device_id)
    if row.status == REVOKED:
        raise ApiError(409, "DEVICE_REVOKED", f"Device {device_id} is revoked.")
    if status == REVOKED:
        _revoke_serial(session, row, RevocationReason.CESSATION_OF_OPERATION)
    row.status = status
    session.add(row)
    session.commit()
    return _out(row, Names(session), session)


def rebind(
    state: AppState, session: Session, warehouse: Participant, device_id: str, body: DeviceBindingIn
) -> DeviceOut:
    """A new certificate for new receipts or another location (same key, same counter); the old certificate
    is revoked as superseded in the same database transaction."""
    row = _own(session, warehouse, device_id)
    if row.status == REVOKED:
        raise ApiError(409, "DEVICE_REVOKED", f"Device {device_id} is revoked.")
    location = body.location or row.location
    _check_receipts(state, session, warehouse, row.kind, location, body.receipt_ids)
    old = x509.load_pem_x509_certificate(row.certificate_pem.encode())
    cert = reissue_device_certificate(state.ca(), old, location=location, receipt_ids=body.receipt_ids)
    _revoke_serial(session, row, RevocationReason.SUPERSEDED)
    row.location = location
    row.receipt_ids = json.dumps(sorted(set(body.receipt_ids)))
    row.certificate_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    row.thumbprint = certificate_thumbprint(cert)
    row.serial = str(cert.serial_number)
    session.add(row)
    session.commit()
    return _out(row, Names(session, state), session)


def list_devices(session: Session, caller: Caller, limit: int, offset: int) -> tuple[list[DeviceOut], int]:
    """The calling warehouse's devices (every one for an overseer)."""
    query = select(WarehouseDevice)
    if caller.role not in OVERSEERS:
        query = query.where(
            col(WarehouseDevice.warehouse_id) == (caller.participant.id if caller.participant else "")
        )
    rows = session.exec(query.order_by(col(WarehouseDevice.device_id))).all()
    names = Names(session)
    return [_out(r, names, session) for r in rows[offset : offset + limit]], len(rows)
