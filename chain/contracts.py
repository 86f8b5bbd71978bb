"""Typed clients for the deployed contracts.

Each client wraps one contract: views return typed values, state-changing methods take the
``Sender`` that signs and return the receipt (raising ``TransactionReverted`` with the decoded
custom error). ``Platform`` bundles the five contracts of the deployment plan.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, TypeVar

from eth_abi.exceptions import EncodingError
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError
from web3.logs import DISCARD
from web3.types import TxReceipt

from chain.abi import event_specs, function_specs
from chain.client import Sender, TransactionReverted
from chain.compiler import Artifact
from chain.plan import SETTLEMENT_CURRENCIES, WAREHOUSE_CURRENCY, token_name
from domain.roles import Role


class ParticipantStatus(IntEnum):
    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2


class ReceivableStatus(IntEnum):
    """``IReceivableLedger.Status``."""

    NONE = 0
    PENDING = 1
    CONFIRMED = 2
    REJECTED = 3
    SETTLED = 4


T = TypeVar("T")

#: What a permit signed against a stale nonce reverts with (the recovered signer is not the owner).
STALE_PERMIT_ERROR = "ERC2612InvalidSigner"
#: Seconds from the chain's clock a permit signed by the gateway stays valid; it is used in the same
#: transaction at once, so this only has to cover the time to mine it.
PERMIT_VALIDITY = 3600


@dataclass(frozen=True)
class PermitSignature:
    """An EIP-2612 permit: the allowance, its deadline and the owner's signature (the fields of
    ``IDiscountMarket.PermitSignature``)."""

    value: int
    deadline: int
    v: int
    r: bytes
    s: bytes

    def as_tuple(self) -> tuple[int, int, int, bytes, bytes]:
        return (self.value, self.deadline, self.v, self.r, self.s)


_permit_locks: dict[tuple[str, str], threading.Lock] = {}
_permit_locks_guard = threading.Lock()


@contextmanager
def permit_lock(token: str, owner: str) -> Iterator[None]:
    """Serialize, in this process, the permits of one owner on one token from reading its nonce and
    allowance until the transaction that uses them is mined: concurrent requests of one account then
    never sign the same nonce. (Across processes, ``with_fresh_permit`` retries the one that loses.)"""
    with _permit_locks_guard:
        lock = _permit_locks.setdefault((token.lower(), owner.lower()), threading.Lock())
    with lock:
        yield


def with_fresh_permit(send: Callable[[], T]) -> T:
    """Run ``send`` (which reads the owner's permit nonce and allowance, signs and sends); if another
    transaction used that nonce first (``ERC2612InvalidSigner``: a race with another process), read, sign
    and send once more. A second loss is raised."""
    try:
        return send()
    except TransactionReverted as exc:
        if exc.revert.name != STALE_PERMIT_ERROR:
            raise
    return send()


@dataclass(frozen=True)
class Participant:
    role: Role | None  # None: not registered
    status: ParticipantStatus
    identity_hash: bytes


@dataclass(frozen=True)
class Receivable:
    token: str
    face_value: int
    debtor: str
    issue_date: int
    due_date: int
    status: ReceivableStatus
    disputed: bool
    creditor: str
    redeemed: int
    repaid: int
    diluted: int
    settled_repaid: int
    remainder_pool: int
    bundle_hash: bytes


@dataclass(frozen=True)
class Offer:
    maker: str
    rate_bps: int
    expiry: int
    cancelled: bool
    receivable_id: int
    max_amount: int
    filled: int


class ContractClient:
    """Base: one contract at one address.

    Calls are encoded and events decoded straight with ``eth_abi`` (``chain.abi``) when the ABI allows
    it: web3's contract machinery matches the ABI and hashes its entries on every call, which cost more
    than the rest of a transaction's Python in the tokenization bench (about 2 ms a call). An overloaded
    function, a value ``eth_abi`` will not take as it is, or an event with a struct or an array goes
    through web3 as before; tests/chain/test_abi.py checks that both ways agree."""

    def __init__(self, w3: Web3, address: str, abi: list[dict[str, Any]]) -> None:
        self.w3 = w3
        # decode_tuples: structs and multiple return values come back as named tuples (fields by name)
        self.contract: Contract = w3.eth.contract(
            address=Web3.to_checksum_address(address), abi=abi, decode_tuples=True
        )
        self._functions = function_specs(abi)
        self._events = {spec.name: spec for spec in event_specs(abi).values() if spec.plain}

    def encode(self, fn: str, *args: Any) -> str:
        """The call data of ``fn(*args)``, 0x-hex."""
        spec = self._functions.get(fn)
        if spec is not None:
            try:
                return spec.encode(args)
            except (TypeError, ValueError, OverflowError, EncodingError):
                pass  # a value in a form only web3's normalizers take (a hex string for bytes, say)
        return str(self.contract.encode_abi(fn, args=list(args)))

    @property
    def address(self) -> str:
        return str(self.contract.address)

    def call(self, fn: str, *args: Any) -> Any:
        return self.contract.functions[fn](*args).call()

    def transact(self, sender: Sender, fn: str, *args: Any) -> TxReceipt:
        return sender.send({"to": self.contract.address, "data": HexStr(self.encode(fn, *args))})

    def events(self, receipt: TxReceipt, name: str) -> list[dict[str, Any]]:
        """Decoded ``name`` events of this contract in ``receipt`` (their ``args``: integers, bytes,
        checksummed addresses, as web3 gives them), in log order."""
        spec = self._events.get(name)
        if spec is None:
            return [
                dict(e["args"]) for e in self.contract.events[name]().process_receipt(receipt, errors=DISCARD)
            ]
        mine = self.address.lower()
        return [
            spec.values([bytes(t) for t in log["topics"]], bytes(log["data"]))
            for log in receipt["logs"]
            if str(log["address"]).lower() == mine and log["topics"] and bytes(log["topics"][0]) == spec.topic
        ]


class ParticipantRegistryClient(ContractClient):
    def onboard(self, sender: Sender, account: str, role: Role, identity_hash: bytes) -> TxReceipt:
        return self.transact(sender, "onboard", account, role.chain_code, identity_hash)

    def suspend(self, sender: Sender, account: str) -> TxReceipt:
        return self.transact(sender, "suspend", account)

    def reinstate(self, sender: Sender, account: str) -> TxReceipt:
        return self.transact(sender, "reinstate", account)

    def participant(self, account: str) -> Participant:
        p = self.call("participant", account)
        return Participant(Role.from_chain(p.role), ParticipantStatus(p.status), bytes(p.identityHash))

    def is_active(self, account: str) -> bool:
        return bool(self.call("isActive", account))


class SettlementTokenClient(ContractClient):
    def mint(self, sender: Sender, to: str, amount: int) -> TxReceipt:
        return self.transact(sender, "mint", to, amount)

    def burn(self, sender: Sender, amount: int) -> TxReceipt:
        return self.transact(sender, "burn", amount)

    def set_issuer_cap(self, sender: Sender, issuer: str, cap: int) -> TxReceipt:
        """Appoint ``issuer`` (an active financier) or change its cap (token operator only)."""
        return self.transact(sender, "setIssuerCap", issuer, cap)

    def issuer(self, account: str) -> tuple[int, int]:
        """``(cap, issued)`` of an issuer."""
        i = self.call("issuer", account)
        return int(i.cap), int(i.issued)

    def approve(self, sender: Sender, spender: str, amount: int) -> TxReceipt:
        return self.transact(sender, "approve", spender, amount)

    def transfer(self, sender: Sender, to: str, amount: int) -> TxReceipt:
        return self.transact(sender, "transfer", to, amount)

    def balance_of(self, account: str) -> int:
        return int(self.call("balanceOf", account))

    def currency(self) -> str:
        """The ISO 4217 code of the currency the token is a deposit in (fixed at deployment)."""
        return bytes(self.call("currency")).decode("ascii")

    def allowance(self, owner: str, spender: str) -> int:
        return int(self.call("allowance", owner, spender))

    def raise_allowance(self, sender: Sender, spender: str, by: int) -> TxReceipt:
        """Approve ``spender`` for what it may spend already plus ``by`` (a transaction of its own; the
        gateway uses the atomic ``*_with_permit`` paths instead)."""
        return self.approve(sender, spender, self.allowance(sender.address, spender) + by)

    def nonce(self, owner: str) -> int:
        """``owner``'s next EIP-2612 permit nonce."""
        return int(self.call("nonces", owner))

    def name(self) -> str:
        return str(self.call("name"))

    def permit(self, sender: Sender, owner: str, spender: str, p: PermitSignature) -> TxReceipt:
        """Submit a signed permit on its own (anyone may)."""
        return self.transact(sender, "permit", owner, spender, p.value, p.deadline, p.v, p.r, p.s)

    def sign_permit(
        self, account: LocalAccount, spender: str, value: int, deadline: int, nonce: int | None = None
    ) -> PermitSignature:
        """``account``'s EIP-2612 permit for ``spender`` to spend ``value`` until ``deadline``, over its
        current permit nonce (or ``nonce``)."""
        typed = permit_typed_data(
            self.w3.eth.chain_id,
            self.address,
            self.name(),
            account.address,
            spender,
            value,
            self.nonce(account.address) if nonce is None else nonce,
            deadline,
        )
        signed = account.sign_message(encode_typed_data(full_message=typed))
        return PermitSignature(
            value, deadline, int(signed.v), signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")
        )

    def permit_deadline(self) -> int:
        """A deadline ``PERMIT_VALIDITY`` seconds after the latest block (the chain's clock)."""
        return int(self.w3.eth.get_block("latest")["timestamp"]) + PERMIT_VALIDITY

    def total_supply(self) -> int:
        return int(self.call("totalSupply"))

    def decimals(self) -> int:
        return int(self.call("decimals"))


@dataclass(frozen=True)
class InvoiceTerms:
    """What ``registerInvoice`` records of one invoice (amounts in minor units, dates in unix seconds)."""

    creditor: str
    debtor: str
    face_value: int
    token: str
    issue_date: int
    due_date: int
    bundle_hash: bytes
    delivery_hash: bytes
    fingerprint: bytes

    def as_tuple(self) -> tuple[Any, ...]:
        """The ABI tuple ``IReceivableLedger.Invoice``, in its field order."""
        return (
            self.creditor,
            self.debtor,
            self.face_value,
            self.token,
            self.issue_date,
            self.due_date,
            self.bundle_hash,
            self.delivery_hash,
            self.fingerprint,
        )


class ReceivableLedgerClient(ContractClient):
    _max_batch: int | None = None

    def set_credit_line(self, sender: Sender, debtor: str, token: str, limit: int) -> TxReceipt:
        """The sender (an active financier) sets its own line to ``debtor`` in the settlement token at
        ``token`` (minor units of its currency)."""
        return self.transact(sender, "setCreditLine", debtor, token, limit)

    def set_platform_limit(self, sender: Sender, debtor: str, token: str, cap: int | None) -> TxReceipt:
        """The operator caps the sum of ``debtor``'s lines in ``token`` (``None`` removes the cap)."""
        return self.transact(sender, "setPlatformLimit", debtor, token, cap is not None, cap or 0)

    def credit_line(self, debtor: str, token: str) -> tuple[int, int]:
        """``(available, used)`` in ``token``: the sum of the lines capped by the platform limit, and the
        reserved credit (pending and confirmed unpaid nominal of the receivables in that token)."""
        line = self.call("creditLine", debtor, token)
        return int(line.limit), int(line.used)

    def credit_line_of(self, debtor: str, grantor: str, token: str) -> int:
        return int(self.call("creditLineOf", debtor, grantor, token))

    def platform_limit(self, debtor: str, token: str) -> tuple[int | None, int]:
        """``(cap or None, sum of the grantors' lines)`` in ``token``."""
        p = self.call("platformLimit", debtor, token)
        return (int(p.cap) if p.capped else None), int(p.granted)

    def register_invoice(self, sender: Sender, **terms: Any) -> tuple[int, TxReceipt]:
        """Tokenize an invoice (verifier only; reserves its face value on the debtor's credit);
        returns the new receivable id and the receipt. ``terms``: the fields of ``InvoiceTerms``."""
        receipt = self.transact(sender, "registerInvoice", InvoiceTerms(**terms).as_tuple())
        (event,) = self.events(receipt, "InvoiceRegistered")
        return int(event["id"]), receipt

    def register_invoices(
        self, sender: Sender, invoices: Sequence[InvoiceTerms]
    ) -> tuple[list[int], TxReceipt]:
        """Tokenize several invoices in one transaction (all or none; at most ``max_batch()``); returns
        their new receivable ids, in order, and the receipt."""
        receipt = self.transact(sender, "registerInvoices", [i.as_tuple() for i in invoices])
        ids = [int(e["id"]) for e in self.events(receipt, "InvoiceRegistered")]
        return ids, receipt

    def max_batch(self) -> int:
        """How many invoices one ``registerInvoices`` takes (a constant of the contract: asked once)."""
        if self._max_batch is None:
            self._max_batch = int(self.call("MAX_INVOICES_PER_BATCH"))
        return self._max_batch

    def receivable(self, rid: int) -> Receivable:
        r = self.call("receivable", rid)
        return Receivable(
            token=r.token,
            face_value=int(r.faceValue),
            debtor=r.debtor,
            issue_date=int(r.issueDate),
            due_date=int(r.dueDate),
            status=ReceivableStatus(r.status),
            disputed=bool(r.disputed),
            creditor=r.creditor,
            redeemed=int(r.redeemed),
            repaid=int(r.repaid),
            diluted=int(r.diluted),
            settled_repaid=int(r.settledRepaid),
            remainder_pool=int(r.remainderPool),
            bundle_hash=bytes(r.bundleHash),
        )

    def receivable_id_by_fingerprint(self, fingerprint: bytes) -> int:
        return int(self.call("receivableIdByFingerprint", fingerprint))

    def receivable_count(self) -> int:
        return int(self.call("receivableCount"))

    def outstanding(self, rid: int) -> int:
        return int(self.call("outstanding", rid))

    def balance_of(self, account: str, rid: int) -> int:
        return int(self.call("balanceOf", account, rid))

    def owed(self, rid: int, holder: str) -> int:
        return int(self.call("owed", rid, holder))

    def stored_balance_of(self, account: str, rid: int) -> int:
        return int(self.call("storedBalanceOf", account, rid))

    def remainder_of(self, rid: int, holder: str) -> int:
        return int(self.call("remainderOf", rid, holder))

    def is_overdue(self, rid: int) -> bool:
        return bool(self.call("isOverdue", rid))

    def can_transfer(self, frm: str, to: str, rid: int, amount: int) -> tuple[bool, bytes]:
        result = self.call("canTransfer", frm, to, rid, amount)
        return bool(result.ok), bytes(result.reason)

    def endorse(self, sender: Sender, rid: int) -> TxReceipt:
        return self.transact(sender, "endorse", rid)

    def reject(self, sender: Sender, rid: int) -> TxReceipt:
        return self.transact(sender, "reject", rid)

    def endorse_by_sig(
        self, sender: Sender, rid: int, accept: bool, deadline: int, signature: bytes
    ) -> TxReceipt:
        return self.transact(sender, "endorseBySig", rid, accept, deadline, signature)

    def nonce(self, account: str) -> int:
        return int(self.call("nonces", account))

    def sign_endorsement(self, key: str, rid: int, accept: bool, nonce: int, deadline: int) -> bytes:
        """The debtor's EIP-712 signature over an endorsement of receivable ``rid`` as it stands on this
        ledger (its creditor, face value, due date and bundle hash are part of the message)."""
        typed = endorsement_typed_data(
            self.w3.eth.chain_id, self.address, self.receivable(rid), rid, accept, nonce, deadline
        )
        signed = Account.sign_message(encode_typed_data(full_message=typed), key)
        return bytes(signed.signature)

    def transfer(self, sender: Sender, to: str, rid: int, amount: int) -> TxReceipt:
        """Split: move ``amount`` units of ``rid`` from the sender to ``to``."""
        return self.transact(sender, "safeTransferFrom", sender.address, to, rid, amount, b"")

    def repay(self, sender: Sender, rid: int, amount: int) -> TxReceipt:
        """Repay with an allowance given before (the two-step path of external wallets)."""
        return self.transact(sender, "repay", rid, amount)

    def repay_with_permit(
        self, sender: Sender, token: SettlementTokenClient, rid: int, amount: int
    ) -> TxReceipt:
        """Approve and repay in one transaction: the sender signs a permit of exactly ``amount`` for this
        ledger on ``token`` (the receivable's settlement token), which the repayment spends entirely. A
        refused repayment leaves the allowance and the permit nonce as they were."""

        def send() -> TxReceipt:
            with permit_lock(token.address, sender.address):
                p = token.sign_permit(sender.account, self.address, amount, token.permit_deadline())
                return self.transact(sender, "repayWithPermit", rid, amount, p.deadline, p.v, p.r, p.s)

        return with_fresh_permit(send)

    def redeem(self, sender: Sender, rid: int) -> TxReceipt:
        return self.transact(sender, "redeem", rid)

    def dispute(self, sender: Sender, rid: int, reason_hash: bytes) -> TxReceipt:
        return self.transact(sender, "dispute", rid, reason_hash)

    def resolve_dispute(self, sender: Sender, rid: int) -> TxReceipt:
        return self.transact(sender, "resolveDispute", rid)

    def resolve_with_credit_note(self, sender: Sender, rid: int, amount: int) -> TxReceipt:
        return self.transact(sender, "resolveWithCreditNote", rid, amount)


class DiscountMarketClient(ContractClient):
    def make_offer(
        self, sender: Sender, rid: int, max_amount: int, rate_bps: int, expiry: int
    ) -> tuple[int, TxReceipt]:
        receipt = self.transact(sender, "makeOffer", rid, max_amount, rate_bps, expiry)
        (event,) = self.events(receipt, "OfferMade")
        return int(event["offerId"]), receipt

    def make_offer_with_permit(
        self,
        sender: Sender,
        token: SettlementTokenClient,
        rid: int,
        max_amount: int,
        rate_bps: int,
        expiry: int,
    ) -> tuple[int, TxReceipt]:
        """Approve and offer in one transaction: the sender signs a permit raising its allowance for this
        market on ``token`` (the receivable's settlement token) by ``max_amount``, applied with the offer.
        A refused offer leaves the allowance and the permit nonce as they were."""

        def send() -> tuple[int, TxReceipt]:
            with permit_lock(token.address, sender.address):
                value = token.allowance(sender.address, self.address) + max_amount
                p = token.sign_permit(sender.account, self.address, value, token.permit_deadline())
                receipt = self.transact(
                    sender, "makeOfferWithPermit", rid, max_amount, rate_bps, expiry, p.as_tuple()
                )
            (event,) = self.events(receipt, "OfferMade")
            return int(event["offerId"]), receipt

        return with_fresh_permit(send)

    def cancel_offer(self, sender: Sender, offer_id: int) -> TxReceipt:
        return self.transact(sender, "cancelOffer", offer_id)

    def accept_offer(
        self, sender: Sender, offer_id: int, amount: int, min_price: int | None = None
    ) -> TxReceipt:
        """Sell ``amount`` units to the offer; with ``min_price``, never for less (``acceptOfferAtLeast``)."""
        if min_price is None:
            return self.transact(sender, "acceptOffer", offer_id, amount)
        return self.transact(sender, "acceptOfferAtLeast", offer_id, amount, min_price)

    def quote(self, amount: int, rate_bps: int, due_date: int, timestamp: int) -> tuple[int, int]:
        q = self.call("quote", amount, rate_bps, due_date, timestamp)
        return int(q.price), int(q.daysToMaturity)

    def quote_with_preference(
        self, amount: int, rate_bps: int, discount_bps: int, due_date: int, timestamp: int
    ) -> tuple[int, int, int]:
        """(price, days, applied rate) at ``rate_bps`` less a green programme's ``discount_bps``."""
        q = self.call("quoteWithPreference", amount, rate_bps, discount_bps, due_date, timestamp)
        return int(q.price), int(q.daysToMaturity), int(q.appliedRateBps)

    def offer_count(self) -> int:
        return int(self.call("offerCount"))

    def offer(self, offer_id: int) -> Offer:
        o = self.call("offer", offer_id)
        return Offer(
            maker=o.maker,
            rate_bps=int(o.rateBps),
            expiry=int(o.expiry),
            cancelled=bool(o.cancelled),
            receivable_id=int(o.receivableId),
            max_amount=int(o.maxAmount),
            filled=int(o.filled),
        )


class LoanState(IntEnum):
    """``IWarehouseReceipts.LoanState``."""

    NONE = 0
    OFFERED = 1
    ACTIVE = 2
    REPAID = 3
    RELEASED = 4
    DEFAULTED = 5
    WITHDRAWN = 6


@dataclass(frozen=True)
class Lot:
    """What a warehouse declares when it issues a receipt (``IWarehouseReceipts.Lot``): codes as the
    contract's left-aligned ``bytes16``/``bytes4``, the rest 32-byte values (hashes or short texts)."""

    commodity: bytes
    grade: bytes
    quantity: int
    unit: bytes
    location: bytes
    lot_ref: bytes
    evidence_hash: bytes

    def as_tuple(self) -> tuple[Any, ...]:
        return (
            self.commodity,
            self.grade,
            self.quantity,
            self.unit,
            self.location,
            self.lot_ref,
            self.evidence_hash,
        )


@dataclass(frozen=True)
class WarehouseReceipt:
    """``IWarehouseReceipts.Receipt`` plus its owner."""

    owner: str
    warehouse: str
    quantity: int
    commodity: bytes
    unit: bytes
    loan_id: int
    open_alerts: int
    alerts_recorded: int
    frozen: bool


@dataclass(frozen=True)
class LoanTerms:
    """A loan's terms as its lender offers them (``IWarehouseReceipts.LoanTerms``)."""

    principal: int
    rate_bps: int
    maturity: int
    ltv_limit_bps: int
    margin_call_bps: int

    def as_tuple(self) -> tuple[int, int, int, int, int]:
        return (self.principal, self.rate_bps, self.maturity, self.ltv_limit_bps, self.margin_call_bps)


@dataclass(frozen=True)
class Loan:
    """``IWarehouseReceipts.Loan``."""

    lender: str
    receipt_id: int
    state: LoanState
    rate_bps: int
    maturity: int
    principal: int
    ltv_limit_bps: int
    margin_call_bps: int
    margin_deadline: int
    collateral_count: int
    due: int
    repaid: int


class WarehouseReceiptsClient(ContractClient):
    """Warehouse receipts and loans against them (``contracts/WarehouseReceipts.sol``)."""

    def appoint_warehouse(self, sender: Sender, warehouse: str, appointed: bool) -> TxReceipt:
        return self.transact(sender, "appointWarehouse", warehouse, appointed)

    def is_warehouse(self, account: str) -> bool:
        return bool(self.call("isWarehouse", Web3.to_checksum_address(account)))

    def issue(self, sender: Sender, owner: str, lot: Lot) -> tuple[int, TxReceipt]:
        receipt = self.transact(sender, "issue", owner, lot.as_tuple())
        (event,) = self.events(receipt, "ReceiptIssued")
        return int(event["receiptId"]), receipt

    def surrender(self, sender: Sender, rid: int) -> TxReceipt:
        return self.transact(sender, "surrender", rid)

    def transfer(self, sender: Sender, to: str, rid: int) -> TxReceipt:
        return self.transact(sender, "transferFrom", sender.address, to, rid)

    def offer_loan_with_permit(
        self, sender: Sender, token: SettlementTokenClient, rid: int, terms: LoanTerms
    ) -> tuple[int, TxReceipt]:
        """Offer a loan and raise the lender's allowance for this contract by its principal, in one
        transaction (a refused offer leaves allowance and permit nonce as they were)."""

        def send() -> tuple[int, TxReceipt]:
            with permit_lock(token.address, sender.address):
                value = token.allowance(sender.address, self.address) + terms.principal
                p = token.sign_permit(sender.account, self.address, value, token.permit_deadline())
                receipt = self.transact(sender, "offerLoanWithPermit", rid, terms.as_tuple(), p.as_tuple())
            (event,) = self.events(receipt, "LoanOffered")
            return int(event["loanId"]), receipt

        return with_fresh_permit(send)

    def withdraw_loan(self, sender: Sender, loan_id: int) -> TxReceipt:
        return self.transact(sender, "withdrawLoan", loan_id)

    def accept_loan(self, sender: Sender, loan_id: int) -> TxReceipt:
        return self.transact(sender, "acceptLoan", loan_id)

    def add_collateral(self, sender: Sender, loan_id: int, rid: int) -> TxReceipt:
        return self.transact(sender, "addCollateral", loan_id, rid)

    def repay_with_permit(
        self, sender: Sender, token: SettlementTokenClient, loan_id: int, amount: int
    ) -> TxReceipt:
        """Approve exactly ``amount`` and repay it in one transaction."""

        def send() -> TxReceipt:
            with permit_lock(token.address, sender.address):
                p = token.sign_permit(sender.account, self.address, amount, token.permit_deadline())
                return self.transact(sender, "repayWithPermit", loan_id, amount, p.deadline, p.v, p.r, p.s)

        return with_fresh_permit(send)

    def release(self, sender: Sender, loan_id: int) -> TxReceipt:
        return self.transact(sender, "release", loan_id)

    def claim_collateral(self, sender: Sender, loan_id: int) -> TxReceipt:
        return self.transact(sender, "claimCollateral", loan_id)

    def call_margin(self, sender: Sender, loan_id: int) -> TxReceipt:
        return self.transact(sender, "callMargin", loan_id)

    def cure_margin_call(self, sender: Sender, loan_id: int) -> TxReceipt:
        return self.transact(sender, "cureMarginCall", loan_id)

    def record_price(
        self,
        sender: Sender,
        commodity: bytes,
        unit: bytes,
        per_thousand: int,
        observed_at: int,
        source_hash: bytes,
    ) -> TxReceipt:
        return self.transact(sender, "recordPrice", commodity, unit, per_thousand, observed_at, source_hash)

    def record_alert(
        self, sender: Sender, rid: int, code: bytes, evidence_hash: bytes
    ) -> tuple[int, TxReceipt]:
        receipt = self.transact(sender, "recordAlert", rid, code, evidence_hash)
        (event,) = self.events(receipt, "AlertRecorded")
        return int(event["alertId"]), receipt

    def clear_alert(self, sender: Sender, alert_id: int, explanation_hash: bytes) -> TxReceipt:
        return self.transact(sender, "clearAlert", alert_id, explanation_hash)

    def set_frozen(self, sender: Sender, rid: int, frozen: bool) -> TxReceipt:
        return self.transact(sender, "setFrozen", rid, frozen)

    def receipt(self, rid: int) -> WarehouseReceipt | None:
        """The receipt, or ``None`` when there is none (never issued, or surrendered)."""
        try:
            r = self.call("receipt", rid)
            owner = self.call("ownerOf", rid)
        except ContractCustomError:
            return None
        return WarehouseReceipt(
            owner=str(owner),
            warehouse=str(r.warehouse),
            quantity=int(r.quantity),
            commodity=bytes(r.commodity),
            unit=bytes(r.unit),
            loan_id=int(r.loanId),
            open_alerts=int(r.openAlerts),
            alerts_recorded=int(r.alertsRecorded),
            frozen=bool(r.frozen),
        )

    def loan(self, loan_id: int) -> Loan:
        lo = self.call("loan", loan_id)
        return Loan(
            lender=str(lo.lender),
            receipt_id=int(lo.receiptId),
            state=LoanState(int(lo.state)),
            rate_bps=int(lo.rateBps),
            maturity=int(lo.maturity),
            principal=int(lo.principal),
            ltv_limit_bps=int(lo.ltvLimitBps),
            margin_call_bps=int(lo.marginCallBps),
            margin_deadline=int(lo.marginDeadline),
            collateral_count=int(lo.collateralCount),
            due=int(lo.due),
            repaid=int(lo.repaid),
        )

    def receipt_by_fingerprint(self, fingerprint: bytes) -> int:
        return int(self.call("receiptByFingerprint", fingerprint))

    def collateral(self, loan_id: int) -> list[int]:
        return [int(r) for r in self.call("collateral", loan_id)]

    def collateral_value(self, loan_id: int) -> int | None:
        """What the loan's collateral is worth at the latest prices; ``None`` while a commodity of it has no
        price recorded (the contract's ``NoPrice``)."""
        try:
            return int(self.call("collateralValue", loan_id))
        except ContractCustomError:
            return None

    def price(self, commodity: bytes, unit: bytes) -> tuple[int, int]:
        """``(perThousand, observedAt)`` of the latest recorded price (zeros when none)."""
        p = self.call("price", commodity, unit)
        return int(p.perThousand), int(p.observedAt)

    def due_amount(self, principal: int, rate_bps: int, maturity: int, start: int) -> int:
        return int(self.call("dueAmount", principal, rate_bps, maturity, start))


#: the EIP-712 domain fields of every typed message the platform signs (name, version 1, chain, contract)
EIP712_DOMAIN = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def endorsement_typed_data(
    chain_id: int, ledger: str, terms: Receivable, rid: int, accept: bool, nonce: int, deadline: int
) -> dict[str, Any]:
    """EIP-712 typed data of an ``Endorsement``: the receivable's id and what is endorsed (creditor,
    face value, due date, bundle hash), the decision, the debtor's nonce and a deadline."""
    return {
        "types": {
            "EIP712Domain": EIP712_DOMAIN,
            "Endorsement": [
                {"name": "receivableId", "type": "uint256"},
                {"name": "creditor", "type": "address"},
                {"name": "faceValue", "type": "uint256"},
                {"name": "dueDate", "type": "uint256"},
                {"name": "bundleHash", "type": "bytes32"},
                {"name": "accept", "type": "bool"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Endorsement",
        "domain": {
            "name": "SCF Receivable Ledger",
            "version": "1",
            "chainId": chain_id,
            "verifyingContract": Web3.to_checksum_address(ledger),
        },
        "message": {
            "receivableId": rid,
            "creditor": Web3.to_checksum_address(terms.creditor),
            "faceValue": terms.face_value,
            "dueDate": terms.due_date,
            "bundleHash": "0x" + terms.bundle_hash.hex(),
            "accept": accept,
            "nonce": nonce,
            "deadline": deadline,
        },
    }


def permit_typed_data(
    chain_id: int,
    token: str,
    name: str,
    owner: str,
    spender: str,
    value: int,
    nonce: int,
    deadline: int,
) -> dict[str, Any]:
    """EIP-712 typed data of an EIP-2612 ``Permit`` on the settlement token ``token`` (its domain: the
    token's ``name``, version "1")."""
    return {
        "types": {
            "EIP712Domain": EIP712_DOMAIN,
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Permit",
        "domain": {
            "name": name,
            "version": "1",
            "chainId": chain_id,
            "verifyingContract": Web3.to_checksum_address(token),
        },
        "message": {
            "owner": Web3.to_checksum_address(owner),
            "spender": Web3.to_checksum_address(spender),
            "value": value,
            "nonce": nonce,
            "deadline": deadline,
        },
    }


@dataclass(frozen=True)
class GreenLabel:
    """``IGreenLabels.Label``: a receivable's green label as its certifier recorded it."""

    certifier: str
    valid_until: int
    labelled_at: int
    withdrawn: bool
    benefit_kg: int
    catalogue: bytes
    category: bytes
    evidence_hash: bytes
    attestation_hash: bytes


class GreenLabelsClient(ContractClient):
    """Green labels recorded by certifiers, and financiers' green programmes (``IGreenLabels``)."""

    def label(
        self,
        sender: Sender,
        rid: int,
        catalogue: bytes,
        category: bytes,
        evidence_hash: bytes,
        valid_until: int,
        benefit_kg: int,
        attestation_hash: bytes,
    ) -> TxReceipt:
        return self.transact(
            sender,
            "label",
            rid,
            catalogue,
            category,
            evidence_hash,
            valid_until,
            benefit_kg,
            attestation_hash,
        )

    def withdraw(self, sender: Sender, rid: int, reason_hash: bytes) -> TxReceipt:
        return self.transact(sender, "withdraw", rid, reason_hash)

    def set_programme(self, sender: Sender, debtor: str, discount_bps: int) -> TxReceipt:
        return self.transact(sender, "setProgramme", debtor, discount_bps)

    def label_of(self, rid: int) -> GreenLabel:
        x = self.call("labelOf", rid)
        return GreenLabel(
            certifier=x.certifier,
            valid_until=int(x.validUntil),
            labelled_at=int(x.labelledAt),
            withdrawn=bool(x.withdrawn),
            benefit_kg=int(x.benefitKg),
            catalogue=bytes(x.catalogue),
            category=bytes(x.category),
            evidence_hash=bytes(x.evidenceHash),
            attestation_hash=bytes(x.attestationHash),
        )

    def is_green(self, rid: int) -> bool:
        return bool(self.call("isGreen", rid))

    def programme(self, financier: str, debtor: str) -> int:
        return int(self.call("programme", financier, debtor))


@dataclass
class Platform:
    """The contracts of one deployment: one settlement token per currency (``tokens``, by ISO 4217 code)
    and the five platform contracts."""

    registry: ParticipantRegistryClient
    tokens: dict[str, SettlementTokenClient]
    ledger: ReceivableLedgerClient
    market: DiscountMarketClient
    warehouse: WarehouseReceiptsClient
    green: GreenLabelsClient

    @classmethod
    def from_addresses(cls, w3: Web3, artifacts: dict[str, Artifact], addresses: dict[str, str]) -> Platform:
        token_abi = artifacts["SettlementToken"].abi
        return cls(
            registry=ParticipantRegistryClient(
                w3, addresses["ParticipantRegistry"], artifacts["ParticipantRegistry"].abi
            ),
            tokens={
                code: SettlementTokenClient(w3, addresses[token_name(code)], token_abi)
                for code in SETTLEMENT_CURRENCIES
                if token_name(code) in addresses
            },
            ledger=ReceivableLedgerClient(
                w3, addresses["ReceivableLedger"], artifacts["ReceivableLedger"].abi
            ),
            market=DiscountMarketClient(w3, addresses["DiscountMarket"], artifacts["DiscountMarket"].abi),
            warehouse=WarehouseReceiptsClient(
                w3, addresses["WarehouseReceipts"], artifacts["WarehouseReceipts"].abi
            ),
            green=GreenLabelsClient(w3, addresses["GreenLabels"], artifacts["GreenLabels"].abi),
        )

    def currency_at(self, address: str) -> str | None:
        """The currency of the platform's settlement token at ``address``; None for any other address."""
        wanted = address.lower()
        return next((code for code, t in self.tokens.items() if t.address.lower() == wanted), None)

    def token_at(self, address: str) -> SettlementTokenClient:
        """The settlement token at ``address`` (a receivable's token): the platform's own client for one of
        its tokens, else a client of that address with the token ABI (the chain refuses what it cannot do)."""
        currency = self.currency_at(address)
        if currency is not None:
            return self.tokens[currency]
        any_token = next(iter(self.tokens.values()))
        return SettlementTokenClient(any_token.w3, address, list(any_token.contract.abi))  # type: ignore[arg-type]

    @property
    def warehouse_token(self) -> SettlementTokenClient:
        """The token warehouse-receipt loans are made and repaid in (``WarehouseReceipts``' constructor)."""
        return self.tokens[WAREHOUSE_CURRENCY]
