"""The verification rules: every code a bundle can be refused with, and what it means."""

from __future__ import annotations

from fastapi import APIRouter

from api.schemas.bundles import RuleCode
from api.services import rules

router = APIRouter(tags=["bundles"])


@router.get("/rules", response_model=list[RuleCode])
def list_rules() -> list[RuleCode]:
    """Every violation code of bundle verification, with its meaning (public)."""
    return rules.all_rule_codes()
