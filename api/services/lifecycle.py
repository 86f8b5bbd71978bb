"""Sending lifecycle transactions for a participant: one place that maps results to ``TxOut``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sqlmodel import Session
from web3.types import TxReceipt

from api import journal
from api.errors import ApiError
from api.models import Participant
from api.schemas.lifecycle import TxOut
from api.services.accounts import sender_for
from api.services.txerrors import on_chain
from api.state import AppState
from chain.client import Sender
from domain.roles import Role


class Caller(Protocol):
    """Who is asking (``api.auth.Principal`` is one): a role, and the participant (none for the operator)."""

    @property
    def role(self) -> Role: ...

    @property
    def participant(self) -> Participant | None: ...


def address_of(caller: Caller) -> str:
    """The caller's chain address ("" for the operator, which holds nothing)."""
    return caller.participant.chain_address if caller.participant else ""


def act(
    state: AppState,
    session: Session,
    participant: Participant,
    action: Callable[[Sender], TxReceipt],
    *,
    kind: str = "tx",
    **out: int | None,
) -> TxOut:
    """Send ``action`` with the participant's custodial key; reverts become API errors. ``kind`` names
    how ``api.services.recovery`` rebuilds the answer from the receipt if the request is interrupted."""
    return act_with_receipt(state, session, participant, action, kind=kind, **out)[0]


def act_with_receipt(
    state: AppState,
    session: Session,
    participant: Participant,
    action: Callable[[Sender], TxReceipt],
    *,
    kind: str = "tx",
    **out: int | None,
) -> tuple[TxOut, TxReceipt]:
    """``act``, also returning the receipt (for the events it carries)."""
    sender = sender_for(state, session, participant)
    journal.describe(kind, **out)
    receipt = on_chain(lambda: action(sender))
    return tx_out(receipt, **out), receipt


def tx_out(receipt: TxReceipt, **out: int | None) -> TxOut:
    """The API's view of a mined transaction."""
    return TxOut(tx_hash=tx_hash(receipt), block_number=receipt["blockNumber"], **out)


def participant_in_role_or_404(session: Session, participant_id: str, role: Role) -> Participant:
    """The participant, if it has ``role`` (e.g. a core enterprise); else 404 ``<ROLE>_NOT_FOUND``."""
    p = session.get(Participant, participant_id)
    if p is None or p.role != role:
        raise ApiError(404, f"{role.name}_NOT_FOUND", f"No {role.value.replace('_', ' ')} {participant_id}.")
    return p


def participant_or_404(session: Session, participant_id: str) -> Participant:
    p = session.get(Participant, participant_id)
    if p is None or p.status == "pending":
        raise ApiError(404, "PARTICIPANT_NOT_FOUND", f"No participant {participant_id}.")
    return p


def tx_hash(receipt: TxReceipt) -> str:
    """A mined transaction's hash, ``0x``-hex."""
    return receipt["transactionHash"].to_0x_hex()
