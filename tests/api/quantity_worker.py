"""Claim quantities of one delivery from several threads of this process (PostgreSQL concurrency test).

Arguments: database URL, debtor id, supplier id, threads, attempts per thread. Every attempt opens
a transaction, locks the order and delivery (``consumption.lock``), claims 3 of the 10 delivered
units for a new bundle and commits, or rolls back when nothing is open. Prints the number of
claims that were committed.
"""

from __future__ import annotations

import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from sqlalchemy import create_engine
from sqlmodel import Session

from api.models import Bundle
from api.services import consumption
from domain.rules.lines import DeliveryShare, LineUse

USE = LineUse(
    order_id="PO-PG",
    order_line="1",
    ordered=Decimal(100),
    invoiced=Decimal(3),
    deliveries=(DeliveryShare("DespatchAdvice", "DA-PG", Decimal(10)),),
)


def main() -> None:
    url, debtor, supplier, threads, attempts = sys.argv[1:6]
    engine = create_engine(url, pool_size=int(threads) + 2)

    def attempt() -> int:
        bundle_id = str(uuid.uuid4())
        with Session(engine) as session:
            consumption.lock(session, debtor, supplier, [USE])
            plan = consumption.claim(session, bundle_id, debtor, supplier, [USE])
            if plan.shortfalls:
                session.rollback()
                return 0
            session.add(
                Bundle(
                    id=bundle_id,
                    supplier_id=supplier,
                    debtor_id=debtor,
                    status="tokenizing",
                    invoice_number=bundle_id,
                    fingerprint=bundle_id,
                    bundle_hash="0x",
                    face_value=1,
                    currency="EUR",
                    issue_date=0,
                    due_date=0,
                )
            )
            session.commit()
            return 1

    def run(_: int) -> int:
        return sum(attempt() for _ in range(int(attempts)))

    with ThreadPoolExecutor(max_workers=int(threads)) as pool:
        won = sum(pool.map(run, range(int(threads))))
    engine.dispose()
    print(won)


if __name__ == "__main__":
    main()
