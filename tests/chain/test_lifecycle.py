"""The whole receivable lifecycle through the typed Python clients, on a real Anvil.

Tokenize -> endorse by EIP-712 signature (relayed) -> split to tier 2 -> discount (DvP) ->
maturity -> partial and full repayment -> every holder redeems its pro-rata share.
"""

from __future__ import annotations

import pytest
from eth_account import Account
from web3 import Web3

from chain.abi import ErrorDecoder
from chain.client import Sender, TransactionReverted
from chain.compiler import Artifact
from chain.contracts import Participant, ParticipantStatus, Platform, ReceivableStatus
from domain.maths import discount_price
from domain.roles import Role

DAY = 86_400


def _fund_and_sender(w3: Web3, funder: Sender, artifacts: dict[str, Artifact]) -> tuple[Sender, str]:
    acct = Account.create()
    funder.send({"to": acct.address, "value": 10**18})
    return Sender(w3, acct.key.to_0x_hex(), decoder=funder.decoder), acct.key.to_0x_hex()


def test_full_lifecycle(w3: Web3, sender: Sender, platform: Platform, artifacts: dict[str, Artifact]) -> None:
    op = sender
    verifier, _ = _fund_and_sender(w3, op, artifacts)
    core, core_key = _fund_and_sender(w3, op, artifacts)
    tier1, _ = _fund_and_sender(w3, op, artifacts)
    tier2, _ = _fund_and_sender(w3, op, artifacts)
    bank, _ = _fund_and_sender(w3, op, artifacts)
    relayer, _ = _fund_and_sender(w3, op, artifacts)
    for s, role in [
        (verifier, Role.VERIFIER),
        (core, Role.CORE_ENTERPRISE),
        (tier1, Role.SUPPLIER),
        (tier2, Role.SUPPLIER),
        (bank, Role.FINANCIER),
        (relayer, Role.SUPPLIER),
    ]:
        platform.registry.onboard(op, s.address, role, b"\x01" * 32)

    ledger, token, market = platform.ledger, platform.tokens["EUR"], platform.market
    ledger.set_credit_line(
        bank, core.address, token.address, 1_000_000_00
    )  # lines belong to the financier granting them
    token.set_issuer_cap(op, bank.address, 10**12)  # the operator appoints the bank as issuer
    now = w3.eth.get_block("latest")["timestamp"]
    due = now + 90 * DAY
    rid, _ = ledger.register_invoice(
        verifier,
        creditor=tier1.address,
        debtor=core.address,
        face_value=100_000_00,
        token=token.address,
        issue_date=now,
        due_date=due,
        bundle_hash=b"\xbb" * 32,
        delivery_hash=b"\xdd" * 32,
        fingerprint=b"\xf1" * 32,
    )
    assert ledger.receivable(rid).status == ReceivableStatus.PENDING
    assert ledger.balance_of(tier1.address, rid) == 100_000_00
    assert ledger.credit_line(core.address, token.address) == (
        1_000_000_00,
        100_000_00,
    )  # reserved at registration

    # the same fingerprint can never be registered twice
    with pytest.raises(TransactionReverted) as dup:
        ledger.register_invoice(
            verifier,
            creditor=tier1.address,
            debtor=core.address,
            face_value=1,
            token=token.address,
            issue_date=now,
            due_date=due,
            bundle_hash=b"\xcc" * 32,
            delivery_hash=b"\xdd" * 32,
            fingerprint=b"\xf1" * 32,
        )
    assert dup.value.revert.name == "DuplicateFingerprint"

    # endorsement by the debtor's EIP-712 signature, relayed by someone else
    deadline = now + DAY
    sig = ledger.sign_endorsement(core_key, rid, True, ledger.nonce(core.address), deadline)
    ledger.endorse_by_sig(relayer, rid, True, deadline, sig)
    assert ledger.receivable(rid).status == ReceivableStatus.CONFIRMED
    assert ledger.credit_line(core.address, token.address) == (1_000_000_00, 100_000_00)
    with pytest.raises(TransactionReverted) as replay:  # replay of the same signature
        ledger.endorse_by_sig(relayer, rid, True, deadline, sig)
    assert replay.value.revert.name == "InvalidSigner"

    # split 40,000.00 to the tier-2 supplier
    ledger.transfer(tier1, tier2.address, rid, 40_000_00)
    assert ledger.balance_of(tier2.address, rid) == 40_000_00

    # the bank buys 30,000.00 from tier 2 at 6 % p.a. (DvP)
    token.mint(bank, bank.address, 50_000_00)
    token.approve(bank, market.address, 50_000_00)
    offer_id, _ = market.make_offer(bank, rid, 30_000_00, 600, now + 10 * DAY)
    receipt = market.accept_offer(tier2, offer_id, 30_000_00)
    block_time = w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    price, _days = discount_price(30_000_00, 600, due, block_time)
    assert token.balance_of(tier2.address) == price
    assert token.balance_of(bank.address) == 50_000_00 - price
    assert ledger.balance_of(bank.address, rid) == 30_000_00
    assert ledger.balance_of(tier2.address, rid) == 10_000_00

    # maturity (Anvil's clock), then the core enterprise repays in two parts
    w3.provider.make_request("evm_increaseTime", [90 * DAY])  # type: ignore[arg-type]
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    token.mint(bank, core.address, 100_000_00)
    token.approve(core, ledger.address, 100_000_00)
    ledger.repay(core, rid, 50_000_00)
    assert ledger.credit_line(core.address, token.address) == (1_000_000_00, 50_000_00)
    # each holder is owed half of its units, pro rata
    assert ledger.owed(rid, tier1.address) == 30_000_00
    assert ledger.owed(rid, tier2.address) == 5_000_00
    assert ledger.owed(rid, bank.address) == 15_000_00
    ledger.repay(core, rid, 50_000_00)
    assert ledger.receivable(rid).status == ReceivableStatus.SETTLED
    before = {s.address: token.balance_of(s.address) for s in (tier1, tier2, bank)}
    for holder, units in [(tier1, 60_000_00), (tier2, 10_000_00), (bank, 30_000_00)]:
        ledger.redeem(holder, rid)
        assert token.balance_of(holder.address) - before[holder.address] == units
        assert ledger.balance_of(holder.address, rid) == 0
        assert ledger.stored_balance_of(holder.address, rid) == 0  # no unit left on a settled receivable
    assert ledger.credit_line(core.address, token.address) == (1_000_000_00, 0)
    assert token.balance_of(ledger.address) == 0
    with pytest.raises(TransactionReverted) as again:
        ledger.redeem(tier1, rid)
    assert again.value.revert.name == "NothingToRedeem"


def test_suspended_participant_cannot_receive(
    w3: Web3, sender: Sender, platform: Platform, artifacts: dict[str, Artifact]
) -> None:
    bank, _ = _fund_and_sender(w3, sender, artifacts)
    other, _ = _fund_and_sender(w3, sender, artifacts)
    platform.registry.onboard(sender, bank.address, Role.FINANCIER, b"\x00" * 32)
    platform.registry.onboard(sender, other.address, Role.SUPPLIER, b"\x00" * 32)
    with pytest.raises(TransactionReverted) as unappointed:  # only issuers the operator appointed mint
        platform.tokens["EUR"].mint(bank, bank.address, 1)
    assert unappointed.value.revert.name == "IssuerCapExceeded"
    platform.tokens["EUR"].set_issuer_cap(sender, bank.address, 10)
    platform.registry.suspend(sender, other.address)
    with pytest.raises(TransactionReverted) as suspended:
        platform.tokens["EUR"].mint(bank, other.address, 1)
    assert suspended.value.revert.name == "ReceiverNotActive"
    platform.registry.reinstate(sender, other.address)
    platform.tokens["EUR"].mint(bank, other.address, 1)
    assert platform.tokens["EUR"].balance_of(other.address) == 1
    assert isinstance(sender.decoder, ErrorDecoder)


def test_views_read_fields_by_name(
    w3: Web3, sender: Sender, platform: Platform, artifacts: dict[str, Artifact]
) -> None:
    """The typed views take struct fields and return values by their ABI names (``decode_tuples``)."""
    bank, _ = _fund_and_sender(w3, sender, artifacts)
    core, _ = _fund_and_sender(w3, sender, artifacts)
    platform.registry.onboard(sender, bank.address, Role.FINANCIER, b"\x07" * 32)
    platform.registry.onboard(sender, core.address, Role.CORE_ENTERPRISE, b"\x08" * 32)
    platform.registry.suspend(sender, core.address)
    assert platform.registry.participant(core.address) == Participant(
        Role.CORE_ENTERPRISE, ParticipantStatus.SUSPENDED, b"\x08" * 32
    )
    assert platform.registry.participant(Account.create().address) == Participant(
        None, ParticipantStatus.NONE, bytes(32)
    )
    platform.registry.reinstate(sender, core.address)

    platform.tokens["EUR"].set_issuer_cap(sender, bank.address, 10)
    platform.tokens["EUR"].mint(bank, bank.address, 3)
    assert platform.tokens["EUR"].issuer(bank.address) == (10, 3)

    ledger = platform.ledger
    assert ledger.platform_limit(core.address, platform.tokens["EUR"].address) == (None, 0)
    ledger.set_platform_limit(sender, core.address, platform.tokens["EUR"].address, 500)
    ledger.set_credit_line(bank, core.address, platform.tokens["EUR"].address, 200)
    assert ledger.platform_limit(core.address, platform.tokens["EUR"].address) == (500, 200)
    assert ledger.credit_line(core.address, platform.tokens["EUR"].address) == (200, 0)

    ok, reason = ledger.can_transfer(bank.address, core.address, 99, 1)
    assert ok is False and len(reason) == 32 and reason.rstrip(b"\0").isascii() and reason != bytes(32)

    now = int(w3.eth.get_block("latest")["timestamp"])
    due = now + 45 * DAY + 1
    assert platform.market.quote(1_000_000, 250, due, now) == discount_price(1_000_000, 250, due, now)
