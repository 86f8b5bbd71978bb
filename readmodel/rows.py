"""Row look-ups of one projection batch: the rows it touched, held strongly so a look-up is no SELECT.

The projections (``readmodel.projector``, ``readmodel.warehouse``) run with autoflush off, and the ORM's
identity map is weak and does not hold rows added but not flushed yet: ``get`` and ``put`` keep every
row a batch touched in ``session.info``, so a row written earlier in the batch is found again.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

from sqlmodel import Session, SQLModel

_T = TypeVar("_T", bound=SQLModel)


def cache(session: Session) -> dict[tuple[type[SQLModel], Any], Any]:
    """Strong references to the projection rows a batch touched."""
    rows: dict[tuple[type[SQLModel], Any], Any] = session.info.setdefault("rm_cache", {})
    return rows


def get(session: Session, model: type[_T], key: Any) -> _T | None:
    """The row of ``model`` with primary key ``key`` (from the batch, else the database), or ``None``."""
    rows = cache(session)
    row = rows.get((model, key))
    if row is None:
        row = session.get(model, key)
        if row is not None:
            rows[(model, key)] = row
    return cast(_T | None, row)


def put(session: Session, row: _T, key: Any) -> _T:
    """Add ``row`` (primary key ``key``) to the session and to the batch's rows."""
    session.add(row)
    cache(session)[(type(row), key)] = row
    return row
