"""Green receivables (issue 14; docs/green.md): certifiers' labels from signed attestations, withdrawals,
financiers' programmes, and the green reports.

- **Label**: a certifier posts its signed attestation (``domain.green.attestation``); the gateway checks it
  against the receivable on chain (id and fingerprint) and the chain's day, and the certifier's own
  account records the label (``GreenLabels.label``): the label on chain is attributable to its certifier.
  A certifier cannot record an attestation another certifier signed.
- **Withdraw**: the label's certifier, or a regulator (greenwashing found).
- **Programmes**: a financier's own, per core enterprise: ``discount_bps`` below its offered rate on green
  receivables of that debtor, applied by the market when an offer is made.
- **Reads**: a label is seen by whoever may see its receivable, its certifier, and every financier while
  the receivable is in the market; programmes by their financier, the debtor they name, and overseers.
- **Reports**: overseers see the platform; a financier its own purchases.
"""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from datetime import UTC, datetime
from fractions import Fraction

from eth_utils import keccak
from sqlalchemy import false, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.errors import ApiError
from api.models import GreenAttestation, Participant
from api.schemas.green import (
    AttestationOut,
    GreenBy,
    GreenLineOut,
    GreenReportOut,
    LabelIn,
    LabelOut,
    ProgrammeOut,
)
from api.schemas.lifecycle import TxOut
from api.services.lifecycle import Caller, act, address_of, participant_in_role_or_404
from api.services.participants import revocation_check
from api.services.receivables import involved, load
from api.services.reports import Names, as_of
from api.state import AppState
from domain.green.attestation import AttestationError, bytes32_text, verify_attestation
from domain.roles import OVERSEERS, Role
from readmodel.tables import RmFill, RmGreenLabel, RmGreenProgramme, RmReceivable

BPS = 10_000


def _day(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


# ----------------------------------------------------------------------------------- writes


def label(state: AppState, session: Session, certifier: Participant, rid: int, body: LabelIn) -> TxOut:
    """Verify the attestation for receivable ``rid`` and record the label with the certifier's account."""
    try:
        payload = base64.b64decode(body.attestation_base64, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, "ATTESTATION_MALFORMED", "attestation_base64 is not base64.") from None
    load(state, rid)  # 404 RECEIVABLE_NOT_FOUND
    chain = state.chain()
    ledger, green = chain.platform.ledger, chain.platform.green
    now = state.chain_now()
    try:
        verified = verify_attestation(
            payload,
            body.signature,
            receivable_id=rid,
            receivable_of=lambda fingerprint: ledger.receivable_id_by_fingerprint(
                bytes.fromhex(fingerprint[2:])
            ),
            ca_cert=state.ca().certificate,
            is_revoked=revocation_check(session),
            today=_day(now).date(),
        )
    except AttestationError as exc:
        raise ApiError(422, exc.code, exc.message) from None
    if verified.signer_chain_address.lower() != certifier.chain_address.lower():
        raise ApiError(
            422,
            "ATTESTATION_NOT_YOURS",
            "Another certifier signed this attestation: it records its own labels.",
        )
    a = verified.attestation
    _keep(session, rid, certifier, payload, body.signature, verified.digest)
    return act(
        state,
        session,
        certifier,
        lambda s: green.label(
            s,
            rid,
            bytes32_text(a.catalogue),
            bytes32_text(a.category),
            bytes.fromhex(a.evidence_sha256),
            a.valid_until_time,
            a.benefit_kg_co2e,
            verified.digest,
        ),
        receivable_id=rid,
    )


def _keep(
    session: Session, rid: int, certifier: Participant, payload: bytes, signature: str, digest: bytes
) -> None:
    """Keep the attestation before its label is sent (a label recorded without it would have nothing to
    show); the same bytes kept twice are one row, and a kept attestation whose label never made it to the
    chain is served to nobody (it is found only through a label's ``attestationHash``)."""
    if session.get(GreenAttestation, digest.hex()) is not None:
        return
    session.add(
        GreenAttestation(
            sha256=digest.hex(),
            receivable_id=rid,
            certifier_id=certifier.id,
            content=payload,
            signature=signature,
        )
    )
    try:
        session.commit()
    except IntegrityError:  # the same attestation kept by a concurrent request
        session.rollback()


def withdraw(state: AppState, session: Session, by: Participant, rid: int, reason: str) -> TxOut:
    """Withdraw a receivable's live label (its certifier, or a regulator); ``keccak(reason)`` on chain."""
    green = state.chain().platform.green
    return act(state, session, by, lambda s: green.withdraw(s, rid, keccak(text=reason)), receivable_id=rid)


def set_programme(
    state: AppState, session: Session, financier: Participant, debtor_id: str, discount_bps: int
) -> TxOut:
    """The financier's programme for one core enterprise (0 ends it)."""
    debtor = participant_in_role_or_404(session, debtor_id, Role.CORE_ENTERPRISE)
    green = state.chain().platform.green
    return act(
        state, session, financier, lambda s: green.set_programme(s, debtor.chain_address, discount_bps)
    )


# ----------------------------------------------------------------------------------- reads


def _label_out(names: Names, row: RmGreenLabel, now: int) -> LabelOut:
    return LabelOut(
        receivable_id=row.receivable_id,
        certifier=names.ref(row.certifier),
        catalogue=row.catalogue,
        category=row.category,
        evidence_hash=row.evidence_hash,
        attestation_hash=row.attestation_hash,
        valid_until=_day(row.valid_until),
        benefit_kg_co2e=int(row.benefit_kg),
        live=not row.withdrawn and now <= row.valid_until,
        withdrawn=row.withdrawn,
        withdrawn_by=names.ref(row.withdrawn_by) if row.withdrawn_by else None,
        labelled_block=row.labelled_block,
    )


def read_label(state: AppState, session: Session, caller: Caller, rid: int) -> LabelOut:
    """A receivable's label, for who may see it (else 404 ``LABEL_NOT_FOUND``)."""
    view = as_of(state, caller)
    row = session.get(RmGreenLabel, rid)
    r = session.get(RmReceivable, rid)
    if row is None or r is None:
        raise ApiError(404, "LABEL_NOT_FOUND", f"No green label on receivable {rid}.")
    in_market = r.status == "CONFIRMED" and not r.disputed and r.due_date > view.now
    allowed = (
        involved(session, caller, r)
        or address_of(caller).lower() == row.certifier.lower()
        or (caller.role == Role.FINANCIER and in_market)
    )
    if not allowed:
        raise ApiError(404, "LABEL_NOT_FOUND", f"No green label on receivable {rid}.")
    return _label_out(Names(session, state), row, view.now)


def read_attestation(state: AppState, session: Session, caller: Caller, rid: int) -> AttestationOut:
    """The signed attestation behind a receivable's label, for whoever may read the label: its SHA-256 is
    the label's ``attestationHash`` on chain (404 ``ATTESTATION_NOT_FOUND`` if the label was recorded
    without the gateway)."""
    label = read_label(state, session, caller, rid)
    kept = session.get(GreenAttestation, label.attestation_hash.removeprefix("0x"))
    if kept is None:
        raise ApiError(
            404, "ATTESTATION_NOT_FOUND", f"The gateway holds no attestation for receivable {rid}."
        )
    return AttestationOut(
        receivable_id=rid,
        sha256=kept.sha256,
        attestation_base64=base64.b64encode(kept.content).decode("ascii"),
        signature=kept.signature,
    )


def list_labels(
    state: AppState, session: Session, caller: Caller, limit: int | None, offset: int
) -> tuple[list[LabelOut], int]:
    """Labels a certifier recorded; every label for overseers (others read a label by its receivable)."""
    view = as_of(state, caller)
    query = select(RmGreenLabel)
    if caller.role not in OVERSEERS:
        query = query.where(RmGreenLabel.certifier == address_of(caller))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    page = session.exec(query.order_by(col(RmGreenLabel.receivable_id)).offset(offset).limit(limit)).all()
    names = Names(session, state)
    return [_label_out(names, r, view.now) for r in page], total


def programmes(state: AppState, session: Session, caller: Caller) -> list[ProgrammeOut]:
    """Programmes in force: a financier's own, those naming a core enterprise, or all (overseers)."""
    as_of(state, caller)
    query = select(RmGreenProgramme).where(RmGreenProgramme.discount_bps > 0)
    me = address_of(caller)
    if caller.role not in OVERSEERS:
        query = query.where(or_(col(RmGreenProgramme.financier) == me, col(RmGreenProgramme.debtor) == me))
    names = Names(session, state)
    return [
        ProgrammeOut(
            financier=names.ref(p.financier),
            debtor=names.ref(p.debtor),
            discount_bps=p.discount_bps,
            set_block=p.set_block,
        )
        for p in session.exec(
            query.order_by(col(RmGreenProgramme.financier), col(RmGreenProgramme.debtor))
        ).all()
    ]


# ----------------------------------------------------------------------------------- reports


class _Line:
    def __init__(self) -> None:
        self.receivables = 0
        self.green = 0
        self.total = 0
        self.benefit = Fraction(0)


def report(state: AppState, session: Session, caller: Caller, by: GreenBy) -> GreenReportOut:
    """Green volume and share by catalogue category, debtor or financier, with the benefit financed.

    Overseers: every receivable (face value; by financier, every purchase). A financier: its own
    purchases only (nominal bought), whatever ``by``. Only live labels count (a withdrawn or expired one
    does not)."""
    view = as_of(state, caller)
    live = {
        g.receivable_id: g
        for g in session.exec(
            select(RmGreenLabel).where(
                col(RmGreenLabel.withdrawn) == false(), col(RmGreenLabel.valid_until) >= view.now
            )
        ).all()
    }
    receivables = {
        r.id: r for r in session.exec(select(RmReceivable).where(RmReceivable.status != "REJECTED"))
    }
    overseer = caller.role in OVERSEERS
    # the universe: (receivable, group of "by financier", weight) with weight = face or the nominal bought
    items: list[tuple[int, str, int]] = []
    if overseer and by != "financier":
        items = [(rid, "", int(r.face_value)) for rid, r in receivables.items()]
    else:
        fills = select(RmFill)
        if not overseer:
            fills = fills.where(RmFill.maker == address_of(caller))
        items = [(f.receivable_id, f.maker, int(f.amount)) for f in session.exec(fills).all()]
    names = Names(session, state)
    # groups are (key, currency): amounts of two currencies are never added
    lines: dict[tuple[str, str], _Line] = defaultdict(_Line)
    totals: dict[tuple[str, str], int] = defaultdict(int)
    counted: set[tuple[str, str, int]] = set()
    for rid, maker, weight in items:
        r = receivables.get(rid)
        if r is None:
            continue
        currency = names.currency(r.token)
        key = {"debtor": r.debtor, "financier": maker}.get(by, "")
        totals[key, currency] += weight
        g = live.get(rid)
        if g is None:
            continue
        line_key = f"{g.catalogue} {g.category}" if by == "category" else key
        line = lines[line_key, currency]
        if (line_key, currency, rid) not in counted:
            counted.add((line_key, currency, rid))
            line.receivables += 1
        line.green += weight
        line.benefit += Fraction(int(g.benefit_kg) * weight, int(r.face_value))
    out = []
    for key, currency in sorted(lines):
        line = lines[key, currency]
        total = totals["" if by == "category" else key, currency]
        ref = names.ref(key) if by != "category" else None
        out.append(
            GreenLineOut(
                key=(ref.participant_id or key) if ref else key,
                name=ref.name if ref else None,
                currency=currency,
                receivables=line.receivables,
                green_minor=line.green,
                total_minor=total,
                green_share_bps=line.green * BPS // total if total else 0,
                benefit_kg_co2e=int(line.benefit),
            )
        )
    return GreenReportOut(by=by, as_of_block=view.block, as_of=_day(view.now), lines=out)
