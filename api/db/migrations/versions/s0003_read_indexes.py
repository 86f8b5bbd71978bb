"""Reads that stay flat as the ledger grows (issue 11).

Indexes for the read queries, a receivable and an offer column on ``rm_event`` (provenance by index),
the projector's tallies, calendar and involvements, the cursor block's timestamp, and the journal's
newest block per caller.

An existing read model is kept and completed from its own rows: each event's receivable and offer from
its ``args`` (a cancellation's receivable from its offer), the involvements, tallies and calendar from
the receivables, holdings and transfers, exactly as the projector keeps them; the cursor's timestamp is
left unknown until the next batch (reads then ask the node for the time). Nothing of the gateway's own
tables changes but two indexes on ``txjournal``.

Revision ID: s0003_read_indexes
Revises: s0002_tx_journal
Create Date: 2026-12-01
"""

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "s0003_read_indexes"
down_revision: str | None = "s0002_tx_journal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_TABLES = ("rm_involvement", "rm_calendar", "rm_tally")


def _big(name: str, *, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), autoincrement=False, nullable=nullable)


def _str(name: str, length: int) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=length), nullable=False)


ZERO = "0x" + "00" * 20
BIGINT_MAX = 2**63 - 1


def _arg_id(args: dict[str, Any], key: str) -> int | None:
    value = args.get(key)
    return int(value) if isinstance(value, str) and value.isdigit() and int(value) <= BIGINT_MAX else None


def _backfill() -> None:
    """The new columns and tables from the rows an existing read model holds (as the projector keeps
    them: ``readmodel.projector``)."""
    conn = op.get_bind()
    offers: dict[int, int] = {
        o: r for o, r in conn.execute(sa.text("SELECT offer_id, receivable_id FROM rm_offer")).all()
    }
    after = 0
    while True:
        page = conn.execute(
            sa.text("SELECT id, event, args FROM rm_event WHERE id > :after ORDER BY id LIMIT 5000"),
            {"after": after},
        ).all()
        if not page:
            break
        updates = []
        for row_id, event, raw in page:
            try:
                args = json.loads(raw)
            except ValueError:
                args = {}
            args = args if isinstance(args, dict) else {}
            rid = _arg_id(args, "id")
            rid = rid if rid is not None else _arg_id(args, "receivableId")
            offer = _arg_id(args, "offerId")
            if event == "OfferCancelledBy" and offer is not None:
                rid = offers.get(offer)
            if rid is not None or offer is not None:
                updates.append({"i": row_id, "r": rid, "o": offer})
        if updates:
            conn.execute(
                sa.text("UPDATE rm_event SET receivable_id = :r, offer_id = :o WHERE id = :i"), updates
            )
        after = page[-1][0]
    involved = set(conn.execute(sa.text("SELECT creditor, id FROM rm_receivable")).all())
    involved |= set(conn.execute(sa.text("SELECT debtor, id FROM rm_receivable")).all())
    involved |= set(
        conn.execute(
            sa.text(
                "SELECT DISTINCT t.to_address, t.receivable_id FROM rm_transfer t"
                " JOIN rm_receivable r ON r.id = t.receivable_id WHERE t.to_address != :zero"
            ),
            {"zero": ZERO},
        ).all()
    )
    tally: Counter[tuple[str, str]] = Counter()
    for party, _ in involved:
        tally["receivables", party] += 1
    days: dict[tuple[str, int], list[int]] = {}
    receivables = sa.text(
        "SELECT debtor, status, disputed, face_value, repaid, diluted, due_date FROM rm_receivable"
    )
    for debtor, status, disputed, face, repaid, diluted, due in conn.execute(receivables).all():
        tally["receivables", "*"] += 1
        tally["payables", debtor] += 1
        tally[f"payables:{status}", debtor] += 1
        if status == "CONFIRMED":
            if not disputed:
                tally["discountable", "*"] += 1
            day = days.setdefault((debtor, due), [0, 0])
            day[0] += 1
            day[1] += int(face) - int(repaid) - int(diluted)
    for debtor, _ in days:
        tally["calendar", debtor] += 1
    for (holder,) in conn.execute(
        sa.text("SELECT holder FROM rm_holding WHERE balance != '0' OR redeemable != '0'")
    ).all():
        tally["holdings", holder] += 1
    if involved:
        conn.execute(
            sa.text("INSERT INTO rm_involvement (party, receivable_id) VALUES (:p, :r)"),
            [{"p": p, "r": r} for p, r in sorted(involved)],
        )
    if days:
        conn.execute(
            sa.text(
                "INSERT INTO rm_calendar (debtor, due_date, receivables, outstanding) VALUES (:d, :t, :n, :o)"
            ),
            [{"d": d, "t": t, "n": n, "o": str(o)} for (d, t), (n, o) in sorted(days.items())],
        )
    if tally:
        conn.execute(
            sa.text("INSERT INTO rm_tally (kind, party, n) VALUES (:k, :p, :n)"),
            [{"k": k, "p": p, "n": n} for (k, p), n in sorted(tally.items())],
        )


def upgrade() -> None:
    with op.batch_alter_table("rm_cursor") as batch:
        batch.add_column(_big("block_timestamp", nullable=True))
    with op.batch_alter_table("rm_event") as batch:
        batch.add_column(_big("receivable_id", nullable=True))
        batch.add_column(_big("offer_id", nullable=True))
    op.create_index("ix_rm_event_receivable", "rm_event", ["receivable_id", "block_number", "log_index"])
    op.create_index("ix_rm_event_offer", "rm_event", ["offer_id"])
    op.create_index("ix_rm_receivable_debtor_due", "rm_receivable", ["debtor", "due_date"])
    op.create_index("ix_rm_receivable_debtor_status_due", "rm_receivable", ["debtor", "status", "due_date"])
    op.create_index("ix_rm_receivable_market", "rm_receivable", ["status", "disputed", "due_date"])
    op.drop_index("ix_rm_holding_holder", table_name="rm_holding")
    op.create_index("ix_rm_holding_holder_receivable", "rm_holding", ["holder", "receivable_id"])
    op.create_index(
        "ix_rm_transfer_in", "rm_transfer", ["receivable_id", "to_address", "block_number", "log_index"]
    )
    op.create_index("ix_rm_fill_maker", "rm_fill", ["maker"])
    op.create_table(
        "rm_involvement",
        _str("party", 42),
        _big("receivable_id"),
        sa.PrimaryKeyConstraint("party", "receivable_id"),
    )
    op.create_table(
        "rm_calendar",
        _str("debtor", 42),
        _big("due_date"),
        _big("receivables"),
        _str("outstanding", 78),
        sa.PrimaryKeyConstraint("debtor", "due_date"),
    )
    op.create_table(
        "rm_tally",
        _str("kind", 32),
        _str("party", 42),
        _big("n"),
        sa.PrimaryKeyConstraint("kind", "party"),
    )
    op.create_index("ix_txjournal_participant_block", "txjournal", ["participant_id", "block_number"])
    op.create_index("ix_txjournal_sender_block", "txjournal", ["sender", "block_number"])
    _backfill()


def downgrade() -> None:
    op.drop_index("ix_txjournal_sender_block", table_name="txjournal")
    op.drop_index("ix_txjournal_participant_block", table_name="txjournal")
    for table in reversed(NEW_TABLES):
        op.drop_table(table)
    op.drop_index("ix_rm_fill_maker", table_name="rm_fill")
    op.drop_index("ix_rm_transfer_in", table_name="rm_transfer")
    op.drop_index("ix_rm_holding_holder_receivable", table_name="rm_holding")
    op.create_index("ix_rm_holding_holder", "rm_holding", ["holder"])
    op.drop_index("ix_rm_receivable_market", table_name="rm_receivable")
    op.drop_index("ix_rm_receivable_debtor_status_due", table_name="rm_receivable")
    op.drop_index("ix_rm_receivable_debtor_due", table_name="rm_receivable")
    op.drop_index("ix_rm_event_offer", table_name="rm_event")
    op.drop_index("ix_rm_event_receivable", table_name="rm_event")
    with op.batch_alter_table("rm_event") as batch:
        batch.drop_column("offer_id")
        batch.drop_column("receivable_id")
    with op.batch_alter_table("rm_cursor") as batch:
        batch.drop_column("block_timestamp")
