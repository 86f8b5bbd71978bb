"""Credit profiles from platform history, consents, the operator's suggestions and the regulator's
distribution (issue 14; docs/credit.md). Who may read which profile: ``api.services.credit``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response

from api.auth import Principal, PrincipalDep, require
from api.csvout import Format, found_or_csv, window
from api.deps import PagingDep, SessionDep, StateDep
from api.errors import error_responses
from api.schemas.common import Page
from api.schemas.credit import ConsentOut, CreditProfileOut, DebtorSuggestionOut, DistributionOut
from api.services import credit
from domain.roles import Role

router = APIRouter(prefix="/credit", tags=["credit profiles"])
READS = error_responses(401, 403, 404, 422, 503)
WRITES = error_responses(401, 403, 404, 422, 503)
Subject = Annotated[Principal, require(Role.SUPPLIER, Role.CORE_ENTERPRISE)]
Overseer = Annotated[Principal, require(Role.OPERATOR, Role.REGULATOR)]
Regulator = Annotated[Principal, require(Role.REGULATOR)]


@router.get("/profiles/{participant_id}", response_model=CreditProfileOut, responses=READS)
def read_profile(
    participant_id: str, principal: PrincipalDep, state: StateDep, session: SessionDep
) -> CreditProfileOut:
    """A participant's credit profile as of the read model's block: its record, and for a supplier or a
    core enterprise its scorecard with each factor's points and reason. Yours; a counterparty's of a
    receivable you hold, made an offer on or are offered, or one that consented (a financier); a core
    enterprise's (the operator); any (the regulator)."""
    return credit.profile(state, session, principal, participant_id)


@router.get("/debtors", response_model=Page[DebtorSuggestionOut], responses=READS)
def list_debtors(
    principal: Overseer, state: StateDep, session: SessionDep, paging: PagingDep, format: Format = "json"
) -> Page[DebtorSuggestionOut] | Response:
    """Every core enterprise with its score, grade, a suggested credit line and rate band."""
    found = credit.debtors(state, session, principal, *window(paging, format))
    return found_or_csv(found, paging, format, "debtors")


@router.get("/distribution", response_model=list[DistributionOut], responses=READS)
def read_distribution(principal: Regulator, state: StateDep, session: SessionDep) -> list[DistributionOut]:
    """How the scores of suppliers and core enterprises are distributed: per grade and per 20 points."""
    return credit.distribution(state, session, principal)


@router.put("/consents/{financier_id}", response_model=ConsentOut, responses=WRITES)
def grant_consent(financier_id: str, principal: Subject, session: SessionDep) -> ConsentOut:
    """Let a financier read my credit profile, until I revoke it (granting again changes nothing)."""
    return credit.grant(session, principal.member, financier_id)


@router.delete("/consents/{financier_id}", response_model=ConsentOut, responses=WRITES)
def revoke_consent(financier_id: str, principal: Subject, session: SessionDep) -> ConsentOut:
    """Revoke my consent to a financier: from now on it reads my profile only as the rules allow."""
    return credit.revoke(session, principal.member, financier_id)


@router.get("/consents", response_model=Page[ConsentOut], responses=READS)
def list_consents(principal: PrincipalDep, session: SessionDep, paging: PagingDep) -> Page[ConsentOut]:
    """Consents I gave (a supplier, a core enterprise) or received (a financier), revoked ones included;
    all of them (the regulator)."""
    return paging.page_of(*credit.consents(session, principal, paging.limit, paging.offset))
