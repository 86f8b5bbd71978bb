"""Custodial chain accounts: the gateway signs lifecycle transactions for participants that let it.

A participant onboarded without a ``chain_address`` gets a fresh key, sealed under the master
secret (AES-256-GCM; the participant id is associated data) and stored in ``ChainAccount``. The
participant then acts through the API with its API key. A participant that brings its own address
keeps its key and signs itself (e.g. EIP-712 endorsements, relayed by the gateway).

Every sending account has one ``DbNonceSender`` per process, and all processes share its nonce
counter through the database.
"""

from __future__ import annotations

from eth_account import Account
from sqlmodel import Session

from api.errors import ApiError
from api.models import ChainAccount, Participant
from api.state import AppState
from chain.client import Sender
from domain.identity import decrypt_blob, derive_blob_key, encrypt_blob


def _key(state: AppState) -> bytes:
    return derive_blob_key(state.settings.effective_secret_key, purpose="custodial-keys")


def new_custodial_account(state: AppState, participant_id: str) -> ChainAccount:
    acct = Account.create()
    sealed = encrypt_blob(_key(state), bytes(acct.key), associated_data=participant_id.encode())
    return ChainAccount(participant_id=participant_id, address=acct.address, sealed_key=sealed)


def fund(state: AppState, address: str) -> None:
    """Give a new custodial account gas money, where gas is not free."""
    settings = state.settings
    if settings.gas_price == 0 or settings.custodial_funding_wei == 0:
        return
    chain = state.chain()
    chain.operator.send({"to": address, "value": settings.custodial_funding_wei})  # type: ignore[typeddict-item]


def sender_for(state: AppState, session: Session, participant: Participant) -> Sender:
    """The participant's sender (one per account per process); 409 if it holds its own key."""
    account = session.get(ChainAccount, participant.id)
    if account is None:
        raise ApiError(
            409,
            "NOT_CUSTODIAL",
            "This participant signs its own transactions; the gateway holds no key for it.",
        )
    sealed, aad = account.sealed_key, participant.id.encode()
    return state.sender(
        account.address, lambda: "0x" + decrypt_blob(_key(state), sealed, associated_data=aad).hex()
    )
