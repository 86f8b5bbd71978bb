"""Settlement tokens (tokenized bank deposits), one per currency: appointed issuers mint up to their cap in
each currency they were appointed in."""

from __future__ import annotations

from sqlmodel import Session

from api.models import Participant
from api.schemas.lifecycle import BalanceOut, IssuerOut, MintIn, TxOut
from api.services.currencies import settlement_token
from api.services.lifecycle import act, participant_in_role_or_404, participant_or_404, tx_hash
from api.services.txerrors import on_chain
from api.state import AppState
from domain.roles import Role


def mint(state: AppState, session: Session, issuer: Participant, body: MintIn) -> TxOut:
    """Mint to a participant's account in the body's currency, signed by the issuing financier (the
    contract checks its cap in that token)."""
    token = settlement_token(state, body.currency)
    to = participant_or_404(session, body.to_participant_id)
    return act(
        state, session, issuer, lambda s: token.mint(s, to.chain_address, body.amount), amount=body.amount
    )


def balance(state: AppState, p: Participant, currency: str) -> BalanceOut:
    return BalanceOut(
        participant_id=p.id,
        chain_address=p.chain_address,
        currency=currency,
        settlement_balance_minor=settlement_token(state, currency).balance_of(p.chain_address),
    )


def issuer(
    state: AppState, session: Session, financier_id: str, currency: str, tx: str | None = None
) -> IssuerOut:
    """A financier's issuing cap in a currency and what it has issued in it and not yet seen burned."""
    token = settlement_token(state, currency)
    p = participant_in_role_or_404(session, financier_id, Role.FINANCIER)
    cap, issued = token.issuer(p.chain_address)
    return IssuerOut(
        participant_id=p.id,
        chain_address=p.chain_address,
        currency=currency,
        cap_minor=cap,
        issued_minor=issued,
        tx_hash=tx,
    )


def set_issuer_cap(
    state: AppState, session: Session, financier_id: str, currency: str, cap_minor: int
) -> IssuerOut:
    """Appoint a financier as issuer in a currency, or change its cap there (signed by the operator)."""
    token = settlement_token(state, currency)
    p = participant_in_role_or_404(session, financier_id, Role.FINANCIER)
    chain = state.chain()
    receipt = on_chain(lambda: token.set_issuer_cap(chain.operator, p.chain_address, cap_minor))
    return issuer(state, session, financier_id, currency, tx_hash(receipt))
