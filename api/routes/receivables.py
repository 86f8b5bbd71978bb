"""Receivables on the ledger: endorse, split and transfer, repay, redeem, dispute and resolve."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from eth_utils import keccak
from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse, Response
from sqlmodel import col, select
from web3.types import TxReceipt

from api.auth import Principal, PrincipalDep, require
from api.deps import SessionDep, StateDep
from api.errors import ApiError, error_responses
from api.models import Bundle, Document
from api.schemas.common import Page
from api.schemas.lifecycle import (
    DisputeIn,
    EndorseIn,
    EndorsementRequest,
    EndorsementSignatureIn,
    NoBody,
    RepayIn,
    ResolveIn,
    TransferIn,
    TxOut,
)
from api.schemas.reports import Provenance, ProvenanceEvent, ReceivableOut, TransferNode
from api.services.idempotency import run_idempotent
from api.services.lifecycle import act, participant_or_404, tx_out
from api.services.reports import Names, PagingDep, chain_now, page_or_csv, receivable_out
from api.services.txerrors import on_chain
from chain.client import Sender
from chain.contracts import Receivable, ReceivableStatus, endorsement_typed_data
from domain.roles import Role
from readmodel.tables import RmEvent, RmOffer, RmReceivable, RmTransfer

router = APIRouter(prefix="/receivables", tags=["receivables"])
ERRORS = error_responses(400, 401, 403, 404, 409, 422, 503)
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key")]
CoreEnterprise = Annotated[Principal, require(Role.CORE_ENTERPRISE)]
Operator = Annotated[Principal, require(Role.OPERATOR)]
Holder = Annotated[Principal, require(Role.SUPPLIER, Role.FINANCIER, Role.CORE_ENTERPRISE)]
Disputer = Annotated[Principal, require(Role.CORE_ENTERPRISE, Role.REGULATOR)]
# repay and redeem settle existing debts: open to suspended participants too
Repayer = Annotated[Principal, require(Role.CORE_ENTERPRISE, settling=True)]
Redeemer = Annotated[
    Principal,
    require(Role.SUPPLIER, Role.FINANCIER, Role.CORE_ENTERPRISE, settling=True),
]


def load(state: StateDep, rid: int) -> Receivable:
    r = state.chain().platform.ledger.receivable(rid)
    if r.status == ReceivableStatus.NONE:
        raise ApiError(404, "RECEIVABLE_NOT_FOUND", f"No receivable {rid}.")
    return r


def _debtor_of(principal: Principal, r: Receivable, rid: int) -> None:
    if principal.member.chain_address != r.debtor:
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
    """Confirm or reject a payable (its credit was reserved at tokenization; a rejection releases it),
    signed by the gateway for the debtor."""
    debtor = principal.member

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
        chain.w3.eth.chain_id, chain.platform.ledger.address, r, rid, accept, nonce, deadline
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
    me = principal.member

    def run() -> tuple[int, TxOut]:
        _debtor_of(principal, load(state, rid), rid)
        chain = state.chain()
        sig = bytes.fromhex(body.signature[2:])
        receipt = on_chain(
            lambda: chain.platform.ledger.endorse_by_sig(chain.operator, rid, body.accept, body.deadline, sig)
        )
        return 200, tx_out(receipt, receivable_id=rid)

    return run_idempotent(session, me.id, key, body, run)


@router.post("/{rid}/transfers", response_model=TxOut, responses=ERRORS)
def transfer(
    rid: int, body: TransferIn, principal: Holder, state: StateDep, session: SessionDep, key: IdemKey = None
) -> JSONResponse:
    """Split: move part of my holding to another participant (keeps debtor and due date)."""
    me = principal.member

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
    principal: Repayer,
    state: StateDep,
    session: SessionDep,
    key: IdemKey = None,
) -> JSONResponse:
    """Repay all or part of a payable in settlement tokens (the gateway approves the ledger first)."""
    me = principal.member

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
    rid: int, principal: Redeemer, state: StateDep, session: SessionDep, key: IdemKey = None
) -> JSONResponse:
    """Collect my pro-rata share of what the debtor has repaid (pull)."""
    me = principal.member
    body = NoBody()

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
    me = principal.member

    def run() -> tuple[int, TxOut]:
        r = load(state, rid)
        if principal.role == Role.CORE_ENTERPRISE:
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
        return 200, tx_out(receipt, receivable_id=rid)

    return run_idempotent(session, "operator", key, body, run)


# ------------------------------------------------------------------ reading (from the read model)


def _involved(principal: Principal, session: SessionDep, r: RmReceivable) -> bool:
    if principal.role in (Role.OPERATOR, Role.REGULATOR):
        return True
    me = principal.participant.chain_address if principal.participant else ""
    if me in (r.creditor, r.debtor):
        return True
    held = session.exec(
        select(RmTransfer).where(RmTransfer.receivable_id == r.id, RmTransfer.to_address == me)
    ).first()
    return held is not None


def _indexed(state: StateDep, session: SessionDep, principal: Principal, rid: int) -> RmReceivable:
    state.catch_up()
    r = session.get(RmReceivable, rid)
    if r is None or not _involved(principal, session, r):
        raise ApiError(404, "RECEIVABLE_NOT_FOUND", f"No receivable {rid}.")
    return r


@router.get("", response_model=Page[ReceivableOut], responses=ERRORS)
def list_receivables(
    principal: PrincipalDep,
    state: StateDep,
    session: SessionDep,
    paging: PagingDep,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Page[ReceivableOut] | Response:
    """Receivables I am creditor, debtor or (past) holder of; all of them for operator and regulator."""
    state.catch_up()
    names, now = Names(session), chain_now(state)
    rows = [
        receivable_out(r, names, now)
        for r in session.exec(select(RmReceivable).order_by(col(RmReceivable.id))).all()
        if _involved(principal, session, r)
    ]
    return page_or_csv(rows, paging, format, "receivables")


@router.get("/{rid}", response_model=ReceivableOut, responses=ERRORS)
def read_receivable(rid: int, principal: PrincipalDep, state: StateDep, session: SessionDep) -> ReceivableOut:
    """One receivable, for the parties to it, its holders, the operator and the regulator."""
    r = _indexed(state, session, principal, rid)
    return receivable_out(r, Names(session), chain_now(state))


_EVENT_KIND = {
    "InvoiceRegistered": "tokenized",
    "Endorsed": "endorsed",
    "Rejected": "rejected",
    "TransferSingle": "transfer",
    "OfferMade": "offer",
    "OfferCancelledBy": "offer_cancelled",
    "OfferFilled": "discount",
    "Repaid": "repayment",
    "Redeemed": "redemption",
    "Disputed": "dispute",
    "DisputeResolved": "dispute_resolved",
}


def _concerns(event: str, args: dict[str, Any], rid: int, offers: set[int]) -> bool:
    if event in ("OfferCancelledBy",):
        return int(args.get("offerId", 0)) in offers
    for key in ("id", "receivableId"):
        if key in args:
            return int(args[key]) == rid
    return False


@router.get("/{rid}/provenance", response_model=Provenance, responses=ERRORS)
def provenance(rid: int, principal: PrincipalDep, state: StateDep, session: SessionDep) -> Provenance:
    """The receivable's whole history: anchored documents, endorsement, every split and transfer (as a
    tree), each discount with price and rate, repayments, redemptions and disputes, with blocks and
    transaction hashes."""
    r = _indexed(state, session, principal, rid)
    names = Names(session)
    offers = {o.offer_id for o in session.exec(select(RmOffer).where(RmOffer.receivable_id == rid)).all()}
    events: list[ProvenanceEvent] = []
    query = (
        select(RmEvent)
        .where(col(RmEvent.event).in_(list(_EVENT_KIND)))
        .order_by(col(RmEvent.block_number), col(RmEvent.log_index))
    )
    for ev in session.exec(query).all():
        args = json.loads(ev.args)
        if not _concerns(ev.event, args, rid, offers):
            continue
        if ev.event == "TransferSingle" and 0 in (int(args["from"], 16), int(args["to"], 16)):
            continue  # mints and burns are shown as tokenization, settlement and dilution
        events.append(
            ProvenanceEvent(
                kind=_EVENT_KIND[ev.event],
                block_number=ev.block_number,
                tx_hash=ev.tx_hash,
                log_index=ev.log_index,
                details=args,
            )
        )
    bundle = session.exec(select(Bundle).where(Bundle.receivable_id == rid)).first()
    documents = []
    if bundle is not None:
        documents = [
            {"id": d.id, "kind": d.kind, "name": d.name, "sha256": d.sha256}
            for d in session.exec(select(Document).where(Document.bundle_id == bundle.id)).all()
        ]
    return Provenance(
        receivable=receivable_out(r, names, chain_now(state)),
        documents=documents,
        events=events,
        transfer_tree=_transfer_tree(session, r, names),
    )


def _transfer_tree(session: SessionDep, r: RmReceivable, names: Names) -> TransferNode:
    root = TransferNode(
        holder=names.ref(r.creditor),
        amount_minor=int(r.face_value),
        block_number=r.registered_block,
        tx_hash=r.registered_tx,
    )
    latest: dict[str, TransferNode] = {r.creditor.lower(): root}
    moves = session.exec(
        select(RmTransfer)
        .where(RmTransfer.receivable_id == r.id)
        .order_by(col(RmTransfer.block_number), col(RmTransfer.log_index), col(RmTransfer.batch_index))
    ).all()
    for t in moves:
        if 0 in (int(t.from_address, 16), int(t.to_address, 16)):
            continue
        parent = latest.get(t.from_address.lower(), root)
        node = TransferNode(
            holder=names.ref(t.to_address),
            amount_minor=int(t.amount),
            block_number=t.block_number,
            tx_hash=t.tx_hash,
        )
        parent.children.append(node)
        latest[t.to_address.lower()] = node
    return root
