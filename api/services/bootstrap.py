"""Start-up tasks of a gateway against a deployed ledger."""

from __future__ import annotations

from api.deps import AppState
from chain.contracts import ParticipantStatus, Role
from chain.settings import Settings


def ensure_verifier(state: AppState) -> str:
    """Register the gateway's attesting account as the ledger's Verifier if it is not yet."""
    chain = state.chain()
    registry = chain.platform.registry
    record = registry.participant(chain.verifier.address)
    if record.status == ParticipantStatus.NONE:
        registry.onboard(chain.operator, chain.verifier.address, Role.VERIFIER, b"\x00" * 32)
    elif record.role != Role.VERIFIER:
        raise ValueError(f"the verifier account {chain.verifier.address} is registered as {record.role.name}")
    return chain.verifier.address


def bootstrap(settings: Settings, state: AppState) -> None:
    """Everything a fresh gateway needs once the contracts are deployed."""
    ensure_verifier(state)
    state.ca()  # creates the platform CA on first start
    settings.effective_operator_api_key  # noqa: B018 - generated on first start (local only)
