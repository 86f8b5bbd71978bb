"""Receivables: the lifecycle writes (endorse or reject, by the gateway or by the debtor's EIP-712
signature; transfer; repay; redeem; dispute; resolve) and the read-model reads (list, one, involvement).

Writes load the receivable from the chain (404 ``RECEIVABLE_NOT_FOUND`` when it does not exist, or is
not owed by the calling debtor where only its debtor may act) and send through ``api.services.lifecycle``
(custodial key, reverts as API errors). Reads see what the caller is party to, holds or held.
"""

from __future__ import annotations

from eth_utils import keccak
from sqlmodel import Session, col, select
from web3.types import TxReceipt

from api.errors import ApiError
from api.models import Participant
from api.schemas.lifecycle import EndorsementRequest, TxOut
from api.schemas.reports import ReceivableOut
from api.services.currencies import check_currency
from api.services.lifecycle import Caller, act, address_of, participant_or_404, tx_out
from api.services.offers import permit_race_retryable
from api.services.reports import Found, Names, as_of, receivable_out
from api.services.txerrors import on_chain
from api.state import AppState, ReadView
from chain.client import Sender
from chain.contracts import Receivable, ReceivableStatus, endorsement_typed_data
from domain.roles import OVERSEERS, Role
from readmodel.projector import ALL, tally
from readmodel.tables import RmInvolvement, RmReceivable

ENDORSEMENT_VALIDITY = 3600  # seconds from the chain's clock, when the debtor names no deadline


def load(state: AppState, rid: int) -> Receivable:
    """The receivable as the ledger has it now."""
    r = state.chain().platform.ledger.receivable(rid)
    if r.status == ReceivableStatus.NONE:
        raise ApiError(404, "RECEIVABLE_NOT_FOUND", f"No receivable {rid}.")
    return r


def load_owed_by(state: AppState, debtor: Participant, rid: int) -> Receivable:
    """The receivable, if ``debtor`` owes it (to anyone else it does not exist)."""
    r = load(state, rid)
    if debtor.chain_address != r.debtor:
        raise ApiError(404, "RECEIVABLE_NOT_FOUND", f"No receivable {rid} owed by you.")
    return r


# ---------------------------------------------------------------------------------------- writing


def endorse(state: AppState, session: Session, debtor: Participant, rid: int, accept: bool) -> TxOut:
    """Confirm (``accept``) or reject a payable, signed by the gateway with the debtor's custodial key."""
    load_owed_by(state, debtor, rid)
    ledger = state.chain().platform.ledger
    action = ledger.endorse if accept else ledger.reject
    return act(state, session, debtor, lambda s: action(s, rid), receivable_id=rid)


def endorsement_request(
    state: AppState, debtor: Participant, rid: int, accept: bool, deadline: int
) -> EndorsementRequest:
    """The EIP-712 typed data ``debtor`` signs itself (``deadline`` 0: an hour from the chain's clock)."""
    r = load_owed_by(state, debtor, rid)
    chain = state.chain()
    nonce = chain.platform.ledger.nonce(r.debtor)
    deadline = deadline or state.chain_now() + ENDORSEMENT_VALIDITY
    typed = endorsement_typed_data(
        chain.w3.eth.chain_id, chain.platform.ledger.address, r, rid, accept, nonce, deadline
    )
    return EndorsementRequest(typed_data=typed, nonce=nonce)


def endorse_by_signature(
    state: AppState, debtor: Participant, rid: int, accept: bool, deadline: int, signature: str
) -> TxOut:
    """Relay the debtor's own EIP-712 endorsement (``0x`` + 65 bytes hex) from the operator account;
    the contract checks signer, nonce, deadline and chain."""
    load_owed_by(state, debtor, rid)
    chain = state.chain()
    sig = bytes.fromhex(signature[2:])
    receipt = on_chain(
        lambda: chain.platform.ledger.endorse_by_sig(chain.operator, rid, accept, deadline, sig)
    )
    return tx_out(receipt, receivable_id=rid)


def transfer(
    state: AppState, session: Session, holder: Participant, rid: int, to_participant_id: str, amount: int
) -> TxOut:
    """Move ``amount`` units of ``holder``'s position to another participant (a split)."""
    load(state, rid)
    to = participant_or_404(session, to_participant_id)
    ledger = state.chain().platform.ledger
    return act(
        state, session, holder, lambda s: ledger.transfer(s, to.chain_address, rid, amount), receivable_id=rid
    )


def repay(
    state: AppState, session: Session, debtor: Participant, rid: int, amount: int, currency: str | None = None
) -> TxOut:
    """Repay ``amount`` in the receivable's settlement token, approval and repayment in one transaction (an
    EIP-2612 permit of exactly ``amount``, signed with the debtor's custodial key, spent entirely): a
    repayment the chain refuses leaves the allowance as it was. ``currency``, when the client names it,
    must be the receivable's (422 ``CURRENCY_MISMATCH``): a repayment is only ever in that token."""
    r = load_owed_by(state, debtor, rid)
    check_currency(state, r.token, currency)
    platform = state.chain().platform
    token = platform.token_at(r.token)

    def action(s: Sender) -> TxReceipt:
        return platform.ledger.repay_with_permit(s, token, rid, amount)

    with permit_race_retryable():
        return act(state, session, debtor, action, receivable_id=rid, amount=amount)


def redeem(state: AppState, session: Session, holder: Participant, rid: int) -> TxOut:
    """Collect ``holder``'s pro-rata share of what was repaid; ``amount`` is what the ledger owed it."""
    load(state, rid)
    ledger = state.chain().platform.ledger
    owed = ledger.owed(rid, holder.chain_address)
    return act(state, session, holder, lambda s: ledger.redeem(s, rid), receivable_id=rid, amount=owed)


def dispute(state: AppState, session: Session, by: Participant, role: Role, rid: int, reason: str) -> TxOut:
    """Mark the receivable disputed (keccak256 of ``reason`` on chain): a core enterprise only what it
    owes, a regulator any."""
    if role == Role.CORE_ENTERPRISE:
        load_owed_by(state, by, rid)
    else:
        load(state, rid)
    ledger = state.chain().platform.ledger
    reason_hash = keccak(text=reason)
    return act(state, session, by, lambda s: ledger.dispute(s, rid, reason_hash), receivable_id=rid)


def resolve(state: AppState, rid: int, action: str, amount: int | None) -> TxOut:
    """The operator resolves a dispute: ``lift`` the freeze, or ``credit_note`` (dilute ``amount`` pro
    rata over the holders)."""
    load(state, rid)
    chain = state.chain()
    ledger = chain.platform.ledger
    if action == "credit_note":
        if amount is None:
            raise ApiError(422, "AMOUNT_REQUIRED", "A credit note needs an amount.")
        credit = amount
        receipt = on_chain(lambda: ledger.resolve_with_credit_note(chain.operator, rid, credit))
    else:
        receipt = on_chain(lambda: ledger.resolve_dispute(chain.operator, rid))
    return tx_out(receipt, receivable_id=rid)


# ------------------------------------------------------------------ reading (from the read model)


def involved(session: Session, caller: Caller, r: RmReceivable) -> bool:
    """Whether the caller may see ``r``: an overseer, its creditor or debtor, or a present or past holder
    (the projector's ``rm_involvement``: one key look-up)."""
    if caller.role in OVERSEERS:
        return True
    return session.get(RmInvolvement, (address_of(caller), r.id)) is not None


def indexed(state: AppState, session: Session, caller: Caller, rid: int) -> tuple[RmReceivable, ReadView]:
    """The read model's row of a receivable the caller may see (else 404 ``RECEIVABLE_NOT_FOUND``), and
    the view it was read in (after the caller's own transactions)."""
    view = as_of(state, caller)
    r = session.get(RmReceivable, rid)
    if r is None or not involved(session, caller, r):
        raise ApiError(404, "RECEIVABLE_NOT_FOUND", f"No receivable {rid}.")
    return r, view


def read(state: AppState, session: Session, caller: Caller, rid: int) -> ReceivableOut:
    r, view = indexed(state, session, caller, rid)
    return receivable_out(r, Names(session, state), view.now)


def list_visible(
    state: AppState, session: Session, caller: Caller, limit: int | None = None, offset: int = 0
) -> Found[ReceivableOut]:
    """Every receivable ``involved`` would show the caller, by id: one page in SQL (over
    ``rm_involvement`` for a participant), the total a tally."""
    view = as_of(state, caller)
    if caller.role in OVERSEERS:
        query = select(RmReceivable).order_by(col(RmReceivable.id))
        party = ALL
    else:
        party = address_of(caller)
        query = (
            select(RmReceivable)
            .join(RmInvolvement, col(RmInvolvement.receivable_id) == col(RmReceivable.id))
            .where(RmInvolvement.party == party)
            .order_by(col(RmInvolvement.receivable_id))
        )
    names = Names(session, state)
    rows = [receivable_out(r, names, view.now) for r in session.exec(query.offset(offset).limit(limit)).all()]
    return rows, tally(session, "receivables", party)
