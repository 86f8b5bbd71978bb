"""Settlement tokens (tokenized bank deposits): appointed issuers mint up to their cap."""

from __future__ import annotations

from sqlmodel import Session

from api.models import Participant
from api.schemas.lifecycle import BalanceOut, IssuerOut, MintIn, TxOut
from api.services.lifecycle import act, participant_in_role_or_404, participant_or_404, tx_hash
from api.services.txerrors import on_chain
from api.state import AppState
from domain.roles import Role


def mint(state: AppState, session: Session, issuer: Participant, body: MintIn) -> TxOut:
    """Mint to a participant's account, signed by the issuing financier (the contract checks its cap)."""
    to = participant_or_404(session, body.to_participant_id)
    token = state.chain().platform.token
    return act(
        state, session, issuer, lambda s: token.mint(s, to.chain_address, body.amount), amount=body.amount
    )


def balance(state: AppState, p: Participant) -> BalanceOut:
    return BalanceOut(
        participant_id=p.id,
        chain_address=p.chain_address,
        settlement_balance_minor=state.chain().platform.token.balance_of(p.chain_address),
    )


def issuer(state: AppState, session: Session, financier_id: str, tx: str | None = None) -> IssuerOut:
    """A financier's issuing cap and what it has issued and not yet seen burned."""
    p = participant_in_role_or_404(session, financier_id, Role.FINANCIER)
    cap, issued = state.chain().platform.token.issuer(p.chain_address)
    return IssuerOut(
        participant_id=p.id, chain_address=p.chain_address, cap_minor=cap, issued_minor=issued, tx_hash=tx
    )


def set_issuer_cap(state: AppState, session: Session, financier_id: str, cap_minor: int) -> IssuerOut:
    """Appoint a financier as issuer, or change its cap (signed by the operator)."""
    p = participant_in_role_or_404(session, financier_id, Role.FINANCIER)
    chain = state.chain()
    receipt = on_chain(
        lambda: chain.platform.token.set_issuer_cap(chain.operator, p.chain_address, cap_minor)
    )
    return issuer(state, session, financier_id, tx_hash(receipt))
