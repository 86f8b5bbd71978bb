"""Lists and reports as CSV (``?format=csv``), in the route layer: services return rows (pydantic models),
this turns them into a ``text/csv`` download or a JSON ``Page``."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Query
from fastapi.responses import Response
from pydantic import BaseModel

from api.deps import Paging
from api.schemas.common import Page

Format = Annotated[Literal["json", "csv"], Query(description="`csv` for a spreadsheet.")]

#: OpenAPI ``responses`` entry of a route that declares a JSON ``response_model`` and may answer CSV.
CSV_ALTERNATIVE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}

_Row = TypeVar("_Row", bound=BaseModel)


def _flat(model: BaseModel) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in model.model_dump(mode="json").items():
        if isinstance(value, dict):  # a party: its name, else its address
            out[key] = value.get("name") or value.get("address")
        else:
            out[key] = value
    return out


def csv_response(rows: Sequence[BaseModel], filename: str) -> Response:
    """Rows as a CSV attachment (nested parties flattened to their name; no rows: an empty body)."""
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


def page_or_csv(rows: Sequence[_Row], paging: Paging, fmt: str, filename: str) -> Page[_Row] | Response:
    """JSON: one page of ``rows``; CSV: every row."""
    if fmt == "csv":
        return csv_response(rows, filename)
    return paging.page(rows)


def window(paging: Paging, fmt: str) -> tuple[int | None, int]:
    """The ``(limit, offset)`` a service cuts its query to: one page, or every row for CSV."""
    return (None, 0) if fmt == "csv" else (paging.limit, paging.offset)


def found_or_csv(
    found: tuple[Sequence[_Row], int], paging: Paging, fmt: str, filename: str
) -> Page[_Row] | Response:
    """A page a service cut in SQL (its rows and the total), or its every row as CSV (``window``)."""
    rows, total = found
    return csv_response(rows, filename) if fmt == "csv" else paging.page_of(rows, total)
