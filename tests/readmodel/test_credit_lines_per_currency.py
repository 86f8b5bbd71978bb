"""A debtor's credit lines in two currencies are never added up (issue 14, part 3): its credit record
takes the utilisation of its most fully used line, whatever the order of the rows."""

from __future__ import annotations

from sqlmodel import Session, SQLModel, create_engine

from readmodel import credit
from readmodel.tables import RmCreditLine, RmParticipant

DEBTOR = "0x" + "ab" * 20
CNY, EUR, USD = ("0x" + c * 40 for c in "123")


def _record(lines: list[tuple[str, int, int]]) -> credit.Record:
    engine = create_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as s:
        s.add(
            RmParticipant(
                address=DEBTOR,
                role=2,
                role_name="CoreEnterprise",
                status="ACTIVE",
                identity_hash="0x" + "00" * 32,
                onboarded_block=1,
                onboarded_tx="0x" + "00" * 32,
                onboarded_time=0,
            )
        )
        for token, limit, used in lines:
            s.add(
                RmCreditLine(
                    debtor=DEBTOR, token=token, credit_limit=str(limit), used=str(used), granted=str(limit)
                )
            )
        s.commit()
        record = credit.record(s, DEBTOR, now=86_400)
    assert record is not None
    return record


def test_the_fullest_line_stands_for_the_debtor_and_no_amounts_are_added() -> None:
    # CNY 50 % used of 1,000,000.00; EUR 90 % used of 10,000.00: the EUR line, not 1,009,000.00 / 509,000.00
    lines = [(CNY, 100_000_000, 50_000_000), (EUR, 1_000_000, 900_000)]
    for order in (lines, lines[::-1]):
        r = _record(order)
        assert (r.credit_limit, r.credit_used) == (1_000_000, 900_000)


def test_usage_without_a_line_is_fullest_and_an_unused_line_is_emptiest() -> None:
    r = _record([(CNY, 100_000_000, 99_000_000), (USD, 0, 1), (EUR, 0, 0)])
    assert (r.credit_limit, r.credit_used) == (0, 1)
    r = _record([(EUR, 0, 0), (CNY, 100, 1)])
    assert (r.credit_limit, r.credit_used) == (100, 1)
