"""Credit profiles from platform history (issue 14; docs/credit.md): who may read which, the scorecard,
consents, the operator's suggestions and the regulator's distribution.

A profile is the read model's record of a participant (``readmodel.credit``: counters kept event by event,
and a few index look-ups of the present) scored with the deployment's points table, as of the read
model's block. **Who reads what** (anything else is 404 ``CREDIT_PROFILE_NOT_FOUND``, so a refusal does
not tell whether the profile exists):

- every participant its own profile; the regulator every profile;
- the operator core enterprises' profiles (it caps their credit: ``GET /credit/debtors``);
- a financier the profile of a supplier or core enterprise that is the creditor or the debtor of a
  receivable the financier holds or ever held, has made an offer on, or is offered now (a receivable in
  the discount market: confirmed, undisputed, not matured; ``GET /discountable`` shows it to every
  financier); or that consented to it (``PUT /credit/consents/{financier}``, until revoked). A
  financier's own profile (its portfolio) is its own and the regulator's only.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import false, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.errors import ApiError
from api.models import CreditConsent, Participant, utcnow
from api.schemas.credit import (
    ConsentOut,
    CreditProfileOut,
    DebtorRecordOut,
    DebtorSuggestionOut,
    DistributionOut,
    FactorOut,
    FinancierRecordOut,
    GradeCountOut,
    ScoreBandOut,
    ScorecardOut,
    SupplierRecordOut,
)
from api.services.lifecycle import Caller, participant_in_role_or_404
from api.services.reports import Names, as_of
from api.state import AppState
from domain.credit import (
    FACTORS,
    FactorResult,
    Scorecard,
    ScoreRole,
    score_debtor,
    top_reasons,
)
from domain.credit.policy import suggest
from domain.maths import yield_of_sums_bps
from domain.roles import Role
from readmodel import credit as records
from readmodel.projector import claim
from readmodel.tables import RmHolding, RmInvolvement, RmOffer, RmReceivable

#: the regulator's histogram of scores, in bands of this many points
SCORE_BAND = 20


def _not_found(participant_id: str) -> ApiError:
    return ApiError(404, "CREDIT_PROFILE_NOT_FOUND", f"No credit profile of {participant_id} for you.")


# ----------------------------------------------------------------------------------- histories


def _factor_out(role: ScoreRole, r: FactorResult) -> FactorOut:
    unit = next(spec.unit for spec in FACTORS[role] if spec.factor == r.factor)
    return FactorOut(
        factor=r.factor.value,
        value=r.value,
        unit=unit.value or "count",
        bin=r.bin_label,
        points=r.points,
        reason_code=r.reason_code,
        reason=r.reason,
        shortfall=r.shortfall,
    )


def scorecard_out(card: Scorecard) -> ScorecardOut:
    return ScorecardOut(
        score=card.score,
        grade=card.grade,
        base=card.base,
        table_version=card.table_version,
        factors=[_factor_out(card.role, f) for f in card.factors],
        top_reasons=[_factor_out(card.role, f) for f in top_reasons(card)],
    )


def _financier_out(session: Session, record: records.Record, address: str, now: int) -> FinancierRecordOut:
    h = record.history
    exposure = 0
    overdue = session.exec(  # its positions in overdue receivables: its holdings only, by index
        select(RmHolding, RmReceivable)
        .join(RmReceivable, col(RmReceivable.id) == RmHolding.receivable_id)
        .where(RmHolding.holder == address, RmHolding.balance != "0")
    ).all()
    for holding, r in overdue:
        if records.is_overdue(r, now):
            exposure += claim(r, int(holding.balance))
    return FinancierRecordOut(
        purchases=h.financier_fills,
        bought_minor=int(h.financier_bought),
        paid_minor=int(h.financier_paid),
        yield_bps=yield_of_sums_bps(
            int(h.financier_bought), int(h.financier_paid), int(h.financier_weighted)
        ),
        overdue_exposure_minor=exposure,
    )


# ----------------------------------------------------------------------------------- who reads what


def _consented(session: Session, subject: Participant, financier: Participant) -> bool:
    return _open_consent(session, subject.id, financier.id) is not None


def _related(session: Session, financier: str, subject: str, now: int) -> bool:
    """``subject`` is creditor or debtor of a receivable ``financier`` holds or held, made an offer on,
    or is offered in the market now (each an indexed look-up, stopping at the first row)."""
    party = or_(col(RmReceivable.creditor) == subject, col(RmReceivable.debtor) == subject)
    held = (
        select(RmReceivable.id)
        .join(RmInvolvement, col(RmInvolvement.receivable_id) == RmReceivable.id)
        .where(RmInvolvement.party == financier, party)
    )
    offered = (
        select(RmReceivable.id)
        .join(RmOffer, col(RmOffer.receivable_id) == RmReceivable.id)
        .where(RmOffer.maker == financier, party)
    )
    market = select(RmReceivable.id).where(
        party,
        RmReceivable.status == "CONFIRMED",
        col(RmReceivable.disputed) == false(),
        col(RmReceivable.due_date) > now,
    )
    return any(session.exec(q.limit(1)).first() is not None for q in (held, offered, market))


def may_read(session: Session, caller: Caller, subject: Participant, now: int) -> bool:
    """The rules of the module's docstring; an allow-list (a role added later reads nothing)."""
    role, me = caller.role, caller.participant
    if role == Role.REGULATOR or (me is not None and me.id == subject.id):
        return True
    if role == Role.OPERATOR:
        return subject.role == Role.CORE_ENTERPRISE
    if role == Role.FINANCIER and me is not None and Role(subject.role) in records.SCORED:
        return _consented(session, subject, me) or _related(
            session, me.chain_address, subject.chain_address, now
        )
    return False


# ----------------------------------------------------------------------------------- reads


def _time(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def profile(state: AppState, session: Session, caller: Caller, participant_id: str) -> CreditProfileOut:
    """``participant_id``'s credit profile as of the read model's block, if ``caller`` may read it."""
    subject = session.get(Participant, participant_id)
    if subject is None or subject.status == "pending":
        raise _not_found(participant_id)
    view = as_of(state, caller)
    if not may_read(session, caller, subject, view.now):
        raise _not_found(participant_id)
    record = records.record(session, subject.chain_address, view.now)
    role = Role(subject.role)
    if record is None or (role not in records.SCORED and role != Role.FINANCIER):
        raise _not_found(participant_id)
    out = CreditProfileOut(
        participant=Names(session, state).ref(subject.chain_address),
        role=role.value,
        as_of_block=view.block,
        as_of=_time(view.now),
        tenure_days=records.tenure_days(record, view.now),
    )
    if role == Role.FINANCIER:
        out.financier = _financier_out(session, record, subject.chain_address, view.now)
        return out
    card = records.scorecard_of(records.SCORED[role], record, view.now, state.settings.credit_table)
    out.scorecard = scorecard_out(card)
    if role == Role.CORE_ENTERPRISE:
        out.debtor = DebtorRecordOut.model_validate(
            records.debtor_history(record, view.now), from_attributes=True
        )
    else:
        out.supplier = SupplierRecordOut.model_validate(
            records.supplier_history(record, view.now), from_attributes=True
        )
    return out


def debtors(
    state: AppState, session: Session, caller: Caller, limit: int | None, offset: int
) -> tuple[list[DebtorSuggestionOut], int]:
    """Every core enterprise with its score, grade, suggested line and rate band (operator, regulator)."""
    view = as_of(state, caller)
    table = state.settings.credit_table
    query = select(Participant).where(
        Participant.role == Role.CORE_ENTERPRISE.value, Participant.status != "pending"
    )
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = []
    names = Names(session, state)
    page = session.exec(query.order_by(col(Participant.id)).offset(offset).limit(limit)).all()
    found = records.records(session, [p.chain_address for p in page], view.now)
    for p in page:
        record = found.get(p.chain_address)
        if record is None:  # onboarded, not yet in the read model
            continue
        card = score_debtor(records.debtor_history(record, view.now), table)
        s = suggest(card.grade, int(record.history.debtor_payables), records.tenure_days(record, view.now))
        rows.append(
            DebtorSuggestionOut(
                participant=names.ref(p.chain_address),
                score=card.score,
                grade=card.grade,
                run_rate_minor=s.run_rate_minor,
                credit_line_minor=s.credit_line_minor,
                rate_min_bps=s.rate_min_bps,
                rate_max_bps=s.rate_max_bps,
                credit_limit_minor=record.credit_limit,
                as_of_block=view.block,
            )
        )
    return rows, total


def distribution(state: AppState, session: Session, caller: Caller) -> list[DistributionOut]:
    """Per scored role: participants per grade and per band of :data:`SCORE_BAND` points (regulator)."""
    view = as_of(state, caller)
    table = state.settings.credit_table
    out = []
    for role, scored in records.SCORED.items():
        members = session.exec(select(Participant.chain_address).where(Participant.role == role.value)).all()
        found = records.records(session, members, view.now)
        cards = [records.scorecard_of(scored, r, view.now, table) for r in found.values()]
        grades = Counter(c.grade for c in cards)
        bands = Counter(c.score - c.score % SCORE_BAND for c in cards)
        out.append(
            DistributionOut(
                role=role.value,
                participants=len(cards),
                grades=[GradeCountOut(grade=g.grade, participants=grades[g.grade]) for g in table.grades],
                scores=[
                    ScoreBandOut(lower=lo, upper=lo + SCORE_BAND, participants=n)
                    for lo, n in sorted(bands.items())
                ],
                as_of_block=view.block,
                as_of=_time(view.now),
            )
        )
    return out


# ----------------------------------------------------------------------------------- consents


def _consent_out(names: Names, session: Session, c: CreditConsent) -> ConsentOut:
    subject, financier = session.get(Participant, c.subject_id), session.get(Participant, c.financier_id)
    assert subject is not None and financier is not None  # foreign keys
    return ConsentOut(
        subject=names.ref(subject.chain_address),
        financier=names.ref(financier.chain_address),
        granted_at=c.granted_at,
        revoked_at=c.revoked_at,
    )


def grant(session: Session, subject: Participant, financier_id: str) -> ConsentOut:
    """``subject`` lets financier ``financier_id`` read its profile (idempotent: an open consent is
    answered as it is)."""
    financier = participant_in_role_or_404(session, financier_id, Role.FINANCIER)
    open_ = _open_consent(session, subject.id, financier.id)
    if open_ is None:
        session.add(CreditConsent(subject_id=subject.id, financier_id=financier.id))
        try:
            session.commit()
        except IntegrityError:  # a concurrent grant of the same pair won (one open consent per pair)
            session.rollback()
        open_ = _open_consent(session, subject.id, financier.id)
        assert open_ is not None, "an open consent was just written"
    return _consent_out(Names(session), session, open_)


def _open_consent(session: Session, subject_id: str, financier_id: str) -> CreditConsent | None:
    return session.exec(
        select(CreditConsent).where(
            CreditConsent.subject_id == subject_id,
            CreditConsent.financier_id == financier_id,
            col(CreditConsent.revoked_at).is_(None),
        )
    ).first()


def revoke(session: Session, subject: Participant, financier_id: str) -> ConsentOut:
    """End ``subject``'s open consent to ``financier_id`` (404 ``CONSENT_NOT_FOUND`` if none is open)."""
    open_ = _open_consent(session, subject.id, financier_id)
    if open_ is None:
        raise ApiError(404, "CONSENT_NOT_FOUND", f"You have no open consent for {financier_id}.")
    open_.revoked_at = utcnow()
    session.add(open_)
    session.commit()
    session.refresh(open_)
    return _consent_out(Names(session), session, open_)


def consents(
    session: Session, caller: Caller, limit: int | None, offset: int
) -> tuple[list[ConsentOut], int]:
    """Consents given (a supplier, a core enterprise), received (a financier), or all (the regulator);
    newest first, revoked ones included."""
    query = select(CreditConsent)
    me = caller.participant
    if caller.role != Role.REGULATOR:
        if me is None:
            return [], 0
        column = CreditConsent.financier_id if caller.role == Role.FINANCIER else CreditConsent.subject_id
        query = query.where(column == me.id)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    names = Names(session)
    page = session.exec(query.order_by(col(CreditConsent.id).desc()).offset(offset).limit(limit)).all()
    return [_consent_out(names, session, c) for c in page], total
