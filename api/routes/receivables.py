"""Receivables on the ledger: endorse, split and transfer, repay, redeem, dispute and resolve."""

from __future__ import annotations

from typing import Annotated

from eth_utils import keccak
from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse
from web3.types import TxReceipt

from api.auth import GatewayRole, Principal, require
from api.deps import SessionDep, StateDep
from api.errors import ApiError, error_responses
from api.schemas.lifecycle import (
    DisputeIn,
    EndorseIn,
    EndorsementRequest,
    EndorsementSignatureIn,
    RepayIn,
    ResolveIn,
    TransferIn,
    TxOut,
)
from api.services.idempotency import run_idempotent
from api.services.lifecycle import act, participant_or_404
from api.services.txerrors import on_chain
from chain.client import Sender
from chain.contracts import Receivable, ReceivableStatus, endorsement_typed_data

router = APIRouter(prefix="/receivables", tags=["receivables"])
ERRORS = error_responses(400, 401, 403, 404, 409, 422, 503)
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key")]
CoreEnterprise = Annotated[Principal, require(GatewayRole.CORE_ENTERPRISE)]
Operator = Annotated[Principal, require(GatewayRole.OPERATOR)]
Holder = Annotated[
    Principal, require(GatewayRole.SUPPLIER, GatewayRole.FINANCIER, GatewayRole.CORE_ENTERPRISE)
]
Disputer = Annotated[Principal, require(GatewayRole.CORE_ENTERPRISE, GatewayRole.REGULATOR)]


def load(state: StateDep, rid: int) -> Receivable:
    r = state.chain().platform.ledger.receivable(rid)
    if r.status == ReceivableStatus.NONE:
        raise ApiError(404, "RECEIVABLE_NOT_FOUND", f"No receivable {rid}.")
    return r


def _debtor_of(principal: Principal, r: Receivable, rid: int) -> None:
    assert principal.participant is not None
    if principal.participant.chain_address != r.debtor:
        raise ApiError(404, "RECEIVABLE_NOT_FOUND", f"No receivable {rid} owed by you.")


@router.post("/{rid}/endorse", response_model=TxOut, responses=ERRORS)
def endorse(
    rid: int,
    body: EndorseIn,
    principal: CoreEnterprise,
    state: StateDep,
    session: SessionDep,
    key: IdemKey = None,
) -> JSONResponse:
    """Confirm (consuming credit line) or reject a payable, signed by the gateway for the debtor."""
    assert principal.participant is not None
    debtor = principal.participant

    def run() -> tuple[int, TxOut]:
        _debtor_of(principal, load(state, rid), rid)
        ledger = state.chain().platform.ledger
        action = ledger.endorse if body.accept else ledger.reject
        return 200, act(state, session, debtor, lambda s: action(s, rid), receivable_id=rid)

    return run_idempotent(session, debtor.id, key, body, run)


@router.get("/{rid}/endorsement-request", response_model=EndorsementRequest, responses=ERRORS)
def endorsement_request(
    rid: int, principal: CoreEnterprise, state: StateDep, accept: bool = True, deadline: int = 0
) -> EndorsementRequest:
    """The EIP-712 typed data the debtor signs with its own key to endorse without a transaction."""
    r = load(state, rid)
    _debtor_of(principal, r, rid)
    chain = state.chain()
    nonce = chain.platform.ledger.nonce(r.debtor)
    deadline = deadline or int(chain.w3.eth.get_block("latest")["timestamp"]) + 3600
    typed = endorsement_typed_data(
        chain.w3.eth.chain_id, chain.platform.ledger.address, rid, accept, nonce, deadline
    )
    return EndorsementRequest(typed_data=typed, nonce=nonce)


@router.post("/{rid}/endorsement-signature", response_model=TxOut, responses=ERRORS)
def endorse_by_signature(
    rid: int,
    body: EndorsementSignatureIn,
    principal: CoreEnterprise,
    state: StateDep,
    session: SessionDep,
    key: IdemKey = None,
) -> JSONResponse:
    """Relay the debtor's EIP-712 endorsement (the contract checks signer, nonce, deadline, chain)."""
    assert principal.participant is not None

    def run() -> tuple[int, TxOut]:
        _debtor_of(principal, load(state, rid), rid)
        chain = state.chain()
        sig = bytes.fromhex(body.signature[2:])
        receipt = on_chain(
            lambda: chain.platform.ledger.endorse_by_sig(chain.operator, rid, body.accept, body.deadline, sig)
        )
        return 200, TxOut(
            tx_hash=receipt["transactionHash"].to_0x_hex(),
            block_number=receipt["blockNumber"],
            receivable_id=rid,
        )

    return run_idempotent(session, principal.participant.id, key, body, run)


@router.post("/{rid}/transfers", response_model=TxOut, responses=ERRORS)
def transfer(
    rid: int, body: TransferIn, principal: Holder, state: StateDep, session: SessionDep, key: IdemKey = None
) -> JSONResponse:
    """Split: move part of my holding to another participant (keeps debtor and due date)."""
    assert principal.participant is not None
    me = principal.participant

    def run() -> tuple[int, TxOut]:
        load(state, rid)
        to = participant_or_404(session, body.to_participant_id)
        ledger = state.chain().platform.ledger
        return 200, act(
            state,
            session,
            me,
            lambda s: ledger.transfer(s, to.chain_address, rid, body.amount),
            receivable_id=rid,
        )

    return run_idempotent(session, me.id, key, body, run)


@router.post("/{rid}/repayments", response_model=TxOut, responses=ERRORS)
def repay(
    rid: int,
    body: RepayIn,
    principal: CoreEnterprise,
    state: StateDep,
    session: SessionDep,
    key: IdemKey = None,
) -> JSONResponse:
    """Repay all or part of a payable in settlement tokens (the gateway approves the ledger first)."""
    assert principal.participant is not None
    me = principal.participant

    def run() -> tuple[int, TxOut]:
        _debtor_of(principal, load(state, rid), rid)
        platform = state.chain().platform

        def action(s: Sender) -> TxReceipt:
            platform.token.approve(s, platform.ledger.address, body.amount)
            return platform.ledger.repay(s, rid, body.amount)

        return 200, act(state, session, me, action, receivable_id=rid, amount=body.amount)

    return run_idempotent(session, me.id, key, body, run)


@router.post("/{rid}/redemptions", response_model=TxOut, responses=ERRORS)
def redeem(
    rid: int, principal: Holder, state: StateDep, session: SessionDep, key: IdemKey = None
) -> JSONResponse:
    """Collect my pro-rata share of what the debtor has repaid (pull)."""
    assert principal.participant is not None
    me = principal.participant
    body = EndorseIn(accept=True)  # no body: the key alone identifies the request

    def run() -> tuple[int, TxOut]:
        load(state, rid)
        ledger = state.chain().platform.ledger
        owed = ledger.owed(rid, me.chain_address)
        return 200, act(state, session, me, lambda s: ledger.redeem(s, rid), receivable_id=rid, amount=owed)

    return run_idempotent(session, me.id, key, body, run)


@router.post("/{rid}/disputes", response_model=TxOut, responses=ERRORS)
def dispute(
    rid: int, body: DisputeIn, principal: Disputer, state: StateDep, session: SessionDep, key: IdemKey = None
) -> JSONResponse:
    """Mark a receivable disputed (its debtor or a regulator): transfers and discounting freeze."""
    assert principal.participant is not None
    me = principal.participant

    def run() -> tuple[int, TxOut]:
        r = load(state, rid)
        if principal.role == GatewayRole.CORE_ENTERPRISE:
            _debtor_of(principal, r, rid)
        ledger = state.chain().platform.ledger
        reason = keccak(text=body.reason)
        return 200, act(state, session, me, lambda s: ledger.dispute(s, rid, reason), receivable_id=rid)

    return run_idempotent(session, me.id, key, body, run)


@router.post("/{rid}/resolution", response_model=TxOut, responses=ERRORS)
def resolve(
    rid: int, body: ResolveIn, _: Operator, state: StateDep, session: SessionDep, key: IdemKey = None
) -> JSONResponse:
    """Resolve a dispute (operator): lift the freeze, or dilute by a credit note pro rata over holders."""

    def run() -> tuple[int, TxOut]:
        load(state, rid)
        chain = state.chain()
        ledger = chain.platform.ledger
        if body.action == "credit_note":
            if body.amount is None:
                raise ApiError(422, "AMOUNT_REQUIRED", "A credit note needs an amount.")
            amount = body.amount
            receipt = on_chain(lambda: ledger.resolve_with_credit_note(chain.operator, rid, amount))
        else:
            receipt = on_chain(lambda: ledger.resolve_dispute(chain.operator, rid))
        return 200, TxOut(
            tx_hash=receipt["transactionHash"].to_0x_hex(),
            block_number=receipt["blockNumber"],
            receivable_id=rid,
        )

    return run_idempotent(session, "operator", key, body, run)
