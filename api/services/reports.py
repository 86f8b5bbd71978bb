"""Reading the indexed read model (``rm_`` tables) for the gateway's views and reports."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, TypeVar

from fastapi import Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel
from sqlmodel import Session, select

from api.models import Participant
from api.schemas.common import Page
from api.schemas.reports import PartyRefOut, ReceivableOut
from api.state import AppState
from readmodel.projector import outstanding
from readmodel.tables import RmReceivable

GRACE_PERIOD = 3 * 86_400  # ReceivableLedger.GRACE_PERIOD


class Names:
    """Participant names by chain address (one query per request)."""

    def __init__(self, session: Session) -> None:
        self._by_address = {p.chain_address.lower(): p for p in session.exec(select(Participant)).all()}

    def ref(self, address: str) -> PartyRefOut:
        p = self._by_address.get(address.lower())
        return PartyRefOut(
            address=address, participant_id=p.id if p else None, name=p.legal_name if p else None
        )


def chain_now(state: AppState) -> int:
    """The chain's clock (latest block time): what the contracts compare due dates with."""
    return int(state.chain().w3.eth.get_block("latest")["timestamp"])


def day(ts: int) -> date:
    return datetime.fromtimestamp(ts, UTC).date()


def is_overdue(r: RmReceivable, now: int) -> bool:
    return r.status == "CONFIRMED" and now > r.due_date + GRACE_PERIOD


def receivable_out(r: RmReceivable, names: Names, now: int) -> ReceivableOut:
    return ReceivableOut(
        id=r.id,
        creditor=names.ref(r.creditor),
        debtor=names.ref(r.debtor),
        face_value_minor=int(r.face_value),
        outstanding_minor=outstanding(r),
        repaid_minor=int(r.repaid),
        diluted_minor=int(r.diluted),
        issue_date=day(r.issue_date),
        due_date=day(r.due_date),
        status=r.status,
        disputed=r.disputed,
        overdue=is_overdue(r, now),
        bundle_hash=r.bundle_hash,
        delivery_hash=r.delivery_hash,
    )


def _flat(model: BaseModel) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in model.model_dump(mode="json").items():
        if isinstance(value, dict):  # a party: its name, else its address
            out[key] = value.get("name") or value.get("address")
        else:
            out[key] = value
    return out


def as_csv(rows: Sequence[BaseModel], filename: str) -> Response:
    """Rows as CSV (nested parties flattened to their name)."""
    buf = io.StringIO()
    flat = [_flat(r) for r in rows]
    if flat:
        writer = csv.DictWriter(buf, fieldnames=list(flat[0]))
        writer.writeheader()
        writer.writerows(flat)
    return Response(
        buf.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
    )


T = TypeVar("T", bound=BaseModel)


@dataclass
class Paging:
    """`limit` and `offset` of a list (JSON); a CSV export has every row."""

    limit: Annotated[int, Query(ge=1, le=500)] = 100
    offset: Annotated[int, Query(ge=0)] = 0


PagingDep = Annotated[Paging, Depends()]


def page_or_csv(rows: list[T], paging: Paging, fmt: str, filename: str) -> Page[T] | Response:
    if fmt == "csv":
        return as_csv(rows, filename)
    return Page(
        items=rows[paging.offset : paging.offset + paging.limit],
        total=len(rows),
        limit=paging.limit,
        offset=paging.offset,
    )
