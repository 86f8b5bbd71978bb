"""Credit lines of core enterprises, held on chain by the ledger per settlement currency (docs/contracts.md).

Each financier sets only its own line to a core enterprise in a currency (signed with its own account); the
operator may cap the sum of all lines in a currency (platform limit). An invoice reserves credit only on the
lines in its own currency.
"""

from __future__ import annotations

from sqlmodel import Session

from api.models import Participant
from api.schemas.credit_lines import CreditLineOut
from api.services.accounts import sender_for
from api.services.currencies import settlement_token
from api.services.lifecycle import participant_in_role_or_404, tx_hash
from api.services.txerrors import on_chain
from api.state import AppState
from domain.roles import Role


def core_enterprise(session: Session, participant_id: str) -> Participant:
    return participant_in_role_or_404(session, participant_id, Role.CORE_ENTERPRISE)


def credit_line(
    state: AppState,
    core: Participant,
    currency: str,
    financier: Participant | None,
    tx: str | None = None,
) -> CreditLineOut:
    """The core enterprise's summed line, usage and platform cap in ``currency``; with ``financier``, its
    own line too."""
    token = settlement_token(state, currency).address
    ledger = state.chain().platform.ledger
    limit, used = ledger.credit_line(core.chain_address, token)
    cap, granted = ledger.platform_limit(core.chain_address, token)
    mine = (
        None
        if financier is None
        else ledger.credit_line_of(core.chain_address, financier.chain_address, token)
    )
    return CreditLineOut(
        participant_id=core.id,
        chain_address=core.chain_address,
        currency=currency,
        limit_minor=limit,
        used_minor=used,
        available_minor=max(limit - used, 0),
        granted_minor=granted,
        platform_cap_minor=cap,
        my_line_minor=mine,
        tx_hash=tx,
    )


def set_credit_line(
    state: AppState, session: Session, financier: Participant, core_id: str, currency: str, limit_minor: int
) -> CreditLineOut:
    token = settlement_token(state, currency).address
    core = core_enterprise(session, core_id)
    sender = sender_for(state, session, financier)
    ledger = state.chain().platform.ledger
    receipt = on_chain(lambda: ledger.set_credit_line(sender, core.chain_address, token, limit_minor))
    return credit_line(state, core, currency, financier, tx_hash(receipt))


def set_platform_limit(
    state: AppState, session: Session, core_id: str, currency: str, cap_minor: int | None
) -> CreditLineOut:
    token = settlement_token(state, currency).address
    core = core_enterprise(session, core_id)
    chain = state.chain()
    receipt = on_chain(
        lambda: chain.platform.ledger.set_platform_limit(chain.operator, core.chain_address, token, cap_minor)
    )
    return credit_line(state, core, currency, None, tx_hash(receipt))
