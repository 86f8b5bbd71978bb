"""A delivery is financed once: platform-wide accounting of the quantities invoices finance.

Every tokenizing or tokenized bundle records, per order line its invoice finances, how much of the
**order line** it consumes and how much of each **delivery** (despatch or receipt advice) that
carries the line. An invoice may consume at most what is still open on both: ordered (delivered)
quantity minus what other bundles consume. Partial invoicing of one delivery over several
invoices stays possible.

What still counts (``docs/gateway.md``, "A delivery is financed once"):

* a receivable the debtor **rejected** consumes nothing any more;
* a receivable **diluted** by credit notes consumes ``quantity x (face - diluted) / face``,
  rounded *up* to the decimals the invoice stated the quantity with (so the freed part is rounded
  down); a full credit note frees everything;
* repayment, redemption, transfers, discounting and disputes free nothing;
* a bundle still being tokenized counts in full; one whose tokenization failed leaves no rows.

The read model (``rm_receivable``, kept by the indexer from chain events) says which receivables
are rejected or diluted; verification brings it up to date before it decides.

Concurrency: :func:`claim` runs inside the tokenizing transaction. It first updates one
``quantity_lock`` row per document, in key order, so concurrent claims on one order or delivery
run one after the other (a row lock on PostgreSQL, the write lock on SQLite), then recomputes what
is open from committed rows, and only then inserts its own rows. Of concurrent bundles over one
delivery, never more than the delivered quantity is financed in total.
"""

from __future__ import annotations

import decimal
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from api.models import Bundle, QuantityConsumption, QuantityLock
from domain.documents.numbers import normalize_invoice_number
from domain.rules.lines import LineUse
from readmodel.tables import RmReceivable

__all__ = [
    "CONSUMPTION_CODES",
    "Claims",
    "Consumed",
    "Draw",
    "Plan",
    "Shortfall",
    "claim",
    "consumed",
    "line_keys_of",
    "lock",
    "lock_documents",
    "lock_keys_of",
    "plan",
    "remaining_quantity",
]

CONSUMPTION_CODES: dict[str, str] = {
    "ORDER_ALREADY_FINANCED": (
        "More of an order line would be financed than is still open: earlier receivables already"
        " finance part of it (the message names them)."
    ),
    "DELIVERY_ALREADY_FINANCED": (
        "More of a delivery's goods would be financed than is still open: earlier receivables already"
        " finance part of the despatch or receipt advice (the message names them)."
    ),
}

_MAX_ID_CHARS = 100


@dataclass(frozen=True, slots=True)
class Draw:
    """One consumption row to record: ``quantity`` of ``line_key`` (a line of document ``lock_key``)."""

    line_key: str
    lock_key: str
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class Shortfall:
    code: str
    message: str
    order_line: str


@dataclass
class Consumed:
    """What other bundles consume of one line, and who they are (receivable ids, else bundle ids)."""

    total: Decimal = Decimal(0)
    holders: list[str] = field(default_factory=list)

    def names(self) -> str:
        return ", ".join(self.holders) or "none"


@dataclass(frozen=True, slots=True)
class Plan:
    """The bundle's draws on order and delivery lines, and what is over-consumed."""

    draws: tuple[Draw, ...] = ()
    shortfalls: tuple[Shortfall, ...] = ()


def _id_part(value: str) -> str:
    """A document or line ID as a key part: normalized like invoice numbers (look-alikes, case,
    separators), hashed if long."""
    text = normalize_invoice_number(value) or value.strip()
    if len(text) > _MAX_ID_CHARS:
        return "sha256-" + hashlib.sha256(text.encode()).hexdigest()
    return text


def order_lock(debtor_id: str, order_id: str) -> str:
    """The order, as its buyer (the debtor) numbered it: shared by every supplier invoicing it."""
    return f"order:{debtor_id}:{_id_part(order_id)}"


def delivery_lock(debtor_id: str, supplier_id: str, kind: str, document_id: str) -> str:
    return f"delivery:{debtor_id}:{supplier_id}:{kind}:{_id_part(document_id)}"


def _line(lock: str, order_line: str) -> str:
    return f"{lock}#{_id_part(order_line)}"


def remaining_quantity(quantity: Decimal, receivable: RmReceivable | None) -> Decimal:
    """What a recorded consumption still consumes, given its receivable's state on chain."""
    if receivable is None:
        return quantity  # still tokenizing, or not indexed yet: counts in full
    if receivable.status == "REJECTED":
        return Decimal(0)
    face, diluted = int(receivable.face_value), int(receivable.diluted)
    if diluted <= 0 or face <= 0:
        return quantity
    if diluted >= face:
        return Decimal(0)
    exponent = quantity.as_tuple().exponent
    quantum = Decimal(1).scaleb(min(int(exponent), 0))
    with decimal.localcontext() as ctx:
        ctx.prec = 200
        share = quantity * (face - diluted) / face
        return share.quantize(quantum, rounding=decimal.ROUND_CEILING)


def consumed(session: Session, line_keys: Iterable[str]) -> dict[str, Consumed]:
    """Per line key, what tokenizing and tokenized bundles still consume (see the module doc)."""
    keys = sorted(set(line_keys))
    if not keys:
        return {}
    rows = session.exec(
        select(QuantityConsumption, Bundle, RmReceivable)
        .join(Bundle, col(Bundle.id) == col(QuantityConsumption.bundle_id))
        .outerjoin(RmReceivable, col(RmReceivable.id) == col(Bundle.receivable_id))
        .where(col(QuantityConsumption.line_key).in_(keys))
        .order_by(col(QuantityConsumption.line_key), col(Bundle.receivable_id), col(Bundle.id))
    ).all()
    out: dict[str, Consumed] = {}
    for row, bundle, receivable in rows:
        still = remaining_quantity(Decimal(row.quantity), receivable)
        if still <= 0:
            continue
        entry = out.setdefault(row.line_key, Consumed())
        entry.total += still
        who = (
            f"receivable {bundle.receivable_id}"
            if bundle.receivable_id is not None
            else f"bundle {bundle.id} (being tokenized)"
        )
        if who not in entry.holders:
            entry.holders.append(who)
    return out


def _keys(debtor_id: str, supplier_id: str, use: LineUse) -> tuple[str, str, list[tuple[str, str]]]:
    olock = order_lock(debtor_id, use.order_id)
    deliveries = [
        (_line(lock, use.order_line), lock)
        for lock in (delivery_lock(debtor_id, supplier_id, s.kind, s.document_id) for s in use.deliveries)
    ]
    return _line(olock, use.order_line), olock, deliveries


def line_keys_of(debtor_id: str, supplier_id: str, uses: Sequence[LineUse]) -> list[str]:
    """Every order-line and delivery-line key the uses may draw on."""
    keys: list[str] = []
    for use in uses:
        okey, _, deliveries = _keys(debtor_id, supplier_id, use)
        keys += [okey, *(k for k, _ in deliveries)]
    return keys


def lock_keys_of(debtor_id: str, supplier_id: str, uses: Sequence[LineUse]) -> list[str]:
    """Every order and delivery document the uses may draw on, sorted."""
    locks: set[str] = set()
    for use in uses:
        _, olock, deliveries = _keys(debtor_id, supplier_id, use)
        locks |= {olock, *(lock for _, lock in deliveries)}
    return sorted(locks)


def plan(debtor_id: str, supplier_id: str, uses: Sequence[LineUse], taken: dict[str, Consumed]) -> Plan:
    """Allocate the invoice's quantities: each order line in full, and over the bundle's deliveries
    of that line in document order (kind, then ID), each up to what is still open on it."""
    draws: list[Draw] = []
    shortfalls: list[Shortfall] = []
    for use in uses:
        okey, olock, deliveries = _keys(debtor_id, supplier_id, use)
        before = taken.get(okey, Consumed())
        open_on_order = use.ordered - before.total
        if use.invoiced > open_on_order and use.invoiced <= use.ordered:
            shortfalls.append(
                Shortfall(
                    "ORDER_ALREADY_FINANCED",
                    f"Order {use.order_id} line {use.order_line}: {before.total} of the {use.ordered}"
                    f" ordered are already financed ({before.names()}); {max(open_on_order, Decimal(0))}"
                    f" remain open, but this invoice finances {use.invoiced}.",
                    use.order_line,
                )
            )
        draws.append(Draw(okey, olock, use.invoiced))
        capacity = sum((s.delivered for s in use.deliveries), Decimal(0))
        if use.invoiced > capacity:
            continue  # more than the bundle's deliveries carry at all: MATCH_INVOICED_EXCEEDS_DELIVERED
        remaining = use.invoiced
        holders: list[str] = []
        already = Decimal(0)
        for share, (key, lock) in zip(use.deliveries, deliveries, strict=True):
            other = taken.get(key, Consumed())
            already += other.total
            holders += [h for h in other.holders if h not in holders]
            take = min(max(share.delivered - other.total, Decimal(0)), remaining)
            if take > 0:
                draws.append(Draw(key, lock, take))
                remaining -= take
        if remaining > 0:
            documents = ", ".join(f"{s.kind} {s.document_id}" for s in use.deliveries)
            shortfalls.append(
                Shortfall(
                    "DELIVERY_ALREADY_FINANCED",
                    f"Order line {use.order_line}: {documents} delivered {capacity}, of which {already}"
                    f" are already financed ({', '.join(holders) or 'none'}); only"
                    f" {use.invoiced - remaining} remain open, but this invoice finances {use.invoiced}.",
                    use.order_line,
                )
            )
    return Plan(tuple(draws), tuple(shortfalls))


def _lock_rows(session: Session, keys: Sequence[str]) -> None:
    """Take each document's lock row (creating the new ones), in key order, in the open transaction:
    one insert of the missing rows and one update of all (SQLite: the database's write lock); on
    PostgreSQL the rows are locked ``FOR UPDATE`` in key order first, so that concurrent claims over
    overlapping documents wait for each other instead of deadlocking."""
    ordered = sorted(set(keys))
    if not ordered:
        return
    dialect = session.get_bind().dialect.name
    rows = [{"key": key, "claims": 0} for key in ordered]
    if dialect == "postgresql":
        session.execute(postgresql.insert(QuantityLock).values(rows).on_conflict_do_nothing())
        locked = select(QuantityLock.key).where(col(QuantityLock.key).in_(ordered))
        session.execute(locked.order_by(col(QuantityLock.key)).with_for_update())
    elif dialect == "sqlite":
        session.execute(sqlite.insert(QuantityLock).values(rows).on_conflict_do_nothing())
    else:  # pragma: no cover - the gateway runs on the two above
        for key in ordered:
            if session.get(QuantityLock, key) is None:
                session.add(QuantityLock(key=key, claims=0))
        session.flush()
    session.execute(
        update(QuantityLock)
        .where(col(QuantityLock.key).in_(ordered))
        .values(claims=col(QuantityLock.claims) + 1)
    )


def lock_documents(session: Session, lock_keys: Sequence[str]) -> None:
    """Take the locks of several bundles' documents (``lock_keys_of`` of each) in the open transaction,
    in key order."""
    _lock_rows(session, lock_keys)


def lock(session: Session, debtor_id: str, supplier_id: str, uses: Sequence[LineUse]) -> None:
    """Take the bundle's document locks in the open transaction (first statement of the claim)."""
    _lock_rows(session, lock_keys_of(debtor_id, supplier_id, uses))


class Claims:
    """Several bundles' claims in one transaction (a batch), in turn: what other bundles consume is read
    once for every line of the batch (the documents locked first, :func:`lock_documents`), and each
    bundle's staged draws count for the bundles after it."""

    def __init__(self, session: Session, line_keys: Iterable[str]) -> None:
        self._session = session
        self._taken = consumed(session, line_keys)

    def claim(self, bundle_id: str, debtor_id: str, supplier_id: str, uses: Sequence[LineUse]) -> Plan:
        """Like :func:`claim`, against the lines read at the start and the batch's earlier draws."""
        fresh = plan(debtor_id, supplier_id, uses, self._taken)
        if fresh.shortfalls:
            return fresh
        _stage_draws(self._session, bundle_id, fresh)
        holder = f"bundle {bundle_id} (being tokenized)"
        for draw in fresh.draws:
            entry = self._taken.setdefault(draw.line_key, Consumed())
            entry.total += draw.quantity
            if holder not in entry.holders:
                entry.holders.append(holder)
        return fresh


def _stage_draws(session: Session, bundle_id: str, fresh: Plan) -> None:
    for draw in fresh.draws:
        session.add(
            QuantityConsumption(
                line_key=draw.line_key,
                bundle_id=bundle_id,
                lock_key=draw.lock_key,
                quantity=str(draw.quantity),
            )
        )


def claim(
    session: Session, bundle_id: str, debtor_id: str, supplier_id: str, uses: Sequence[LineUse]
) -> Plan:
    """With the documents locked (:func:`lock`), recompute what is open from committed rows and stage
    this bundle's consumption rows (committed with the rest of the tokenizing transaction).

    Returns the fresh plan; when it has shortfalls nothing is staged and the caller must roll back.
    """
    fresh = plan(debtor_id, supplier_id, uses, consumed(session, line_keys_of(debtor_id, supplier_id, uses)))
    if fresh.shortfalls:
        return fresh
    _stage_draws(session, bundle_id, fresh)
    return fresh
