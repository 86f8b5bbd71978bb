"""EIP-2612 permits through the typed clients, on a real Anvil: the typed data the client signs is the
token's own (domain and digest), the atomic offer and repayment apply it, and a refused action applies
nothing."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak
from web3 import Web3

from chain.abi import DecodedRevert
from chain.client import Sender, TransactionReverted
from chain.contracts import Platform, permit_typed_data, with_fresh_permit
from domain.roles import Role

DAY = 86_400


def _participant(w3: Web3, op: Sender, platform: Platform, role: Role) -> Sender:
    acct = Account.create()
    op.send({"to": acct.address, "value": 10**18})
    platform.registry.onboard(op, acct.address, role, b"\x01" * 32)
    return Sender(w3, acct.key.to_0x_hex(), decoder=op.decoder)


def test_the_permit_typed_data_is_the_tokens(w3: Web3, sender: Sender, platform: Platform) -> None:
    token = platform.tokens["EUR"]
    typed = permit_typed_data(
        w3.eth.chain_id, token.address, token.name(), sender.address, platform.market.address, 5, 0, 10
    )
    signable = encode_typed_data(full_message=typed)
    assert signable.header == token.call("DOMAIN_SEPARATOR")  # domain: name, version "1", chain, token
    domain = token.call("eip712Domain")
    assert (domain.name, domain.version, domain.verifyingContract) == (token.name(), "1", token.address)
    digest = keccak(b"\x19\x01" + signable.header + signable.body)
    p = token.sign_permit(sender.account, platform.market.address, 5, 10, nonce=0)
    assert Account._recover_hash(digest, vrs=(p.v, p.r, p.s)) == sender.address


def test_offer_and_repayment_with_permit(w3: Web3, sender: Sender, platform: Platform) -> None:
    op = sender
    verifier = _participant(w3, op, platform, Role.VERIFIER)
    core = _participant(w3, op, platform, Role.CORE_ENTERPRISE)
    supplier = _participant(w3, op, platform, Role.SUPPLIER)
    bank = _participant(w3, op, platform, Role.FINANCIER)
    ledger, token, market = platform.ledger, platform.tokens["EUR"], platform.market
    ledger.set_credit_line(bank, core.address, token.address, 10**9)
    token.set_issuer_cap(op, bank.address, 10**12)
    token.mint(bank, core.address, 10**6)
    now = int(w3.eth.get_block("latest")["timestamp"])

    def register(fp: bytes) -> int:
        rid, _ = ledger.register_invoice(
            verifier,
            creditor=supplier.address,
            debtor=core.address,
            face_value=100_000,
            token=token.address,
            issue_date=now,
            due_date=now + 90 * DAY,
            bundle_hash=b"\xbb" * 32,
            delivery_hash=b"\xdd" * 32,
            fingerprint=fp,
        )
        return rid

    pending, rid = register(b"\xf1" * 32), register(b"\xf2" * 32)
    ledger.endorse(core, rid)

    # an offer the market refuses applies no permit
    with pytest.raises(TransactionReverted) as refused:
        market.make_offer_with_permit(bank, token, pending, 1_000, 500, now + DAY)
    assert refused.value.revert.name == "NotDiscountable"
    assert token.allowance(bank.address, market.address) == 0 and token.nonce(bank.address) == 0
    # offers raise the allowance by their amount, one transaction each
    oid, _ = market.make_offer_with_permit(bank, token, rid, 1_000, 500, now + DAY)
    market.make_offer_with_permit(bank, token, rid, 250, 500, now + DAY)
    assert market.offer(oid).max_amount == 1_000
    assert token.allowance(bank.address, market.address) == 1_250 and token.nonce(bank.address) == 2

    # a repayment the ledger refuses applies no permit; one it accepts spends exactly its permit
    with pytest.raises(TransactionReverted) as over:
        ledger.repay_with_permit(core, token, rid, 100_001)
    assert over.value.revert.name == "RepaymentExceedsOutstanding"
    assert token.allowance(core.address, ledger.address) == 0 and token.nonce(core.address) == 0
    ledger.repay_with_permit(core, token, rid, 40_000)
    assert ledger.outstanding(rid) == 60_000
    assert token.allowance(core.address, ledger.address) == 0 and token.nonce(core.address) == 1
    assert token.balance_of(core.address) == 10**6 - 40_000

    # a stale permit (its nonce used by another permit meanwhile) is refused with the token's error
    stale = token.sign_permit(core.account, ledger.address, 1_000, now + DAY)
    token.permit(
        op, core.address, ledger.address, token.sign_permit(core.account, ledger.address, 0, now + DAY)
    )
    with pytest.raises(TransactionReverted) as lost:
        ledger.transact(core, "repayWithPermit", rid, 1_000, stale.deadline, stale.v, stale.r, stale.s)
    assert lost.value.revert.name == "ERC2612InvalidSigner"


def test_with_fresh_permit_retries_a_lost_race_once() -> None:
    calls: list[str] = []

    def send(losses: int, name: str = "ERC2612InvalidSigner") -> str:
        calls.append(name)
        if len(calls) <= losses:
            raise TransactionReverted(DecodedRevert(name, {}, "0x"))
        return "sent"

    assert with_fresh_permit(lambda: send(1)) == "sent" and len(calls) == 2
    calls.clear()
    with pytest.raises(TransactionReverted):  # a second loss is raised
        with_fresh_permit(lambda: send(2))
    assert len(calls) == 2
    calls.clear()
    with pytest.raises(TransactionReverted):  # any other revert is not retried
        with_fresh_permit(lambda: send(1, "NotDiscountable"))
    assert len(calls) == 1
