"""One page of a query: the rows of ``limit``/``offset`` and the total count, in two statements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import func
from sqlmodel import Session, select
from sqlmodel.sql.expression import SelectOfScalar

from api.schemas.common import Page

_Row = TypeVar("_Row")
_Out = TypeVar("_Out")


def page(
    session: Session,
    query: SelectOfScalar[_Row],
    order: Any,
    limit: int,
    offset: int,
    out: Callable[[_Row], _Out],
) -> Page[_Out]:
    """``query`` ordered by ``order``, cut to ``limit`` rows after ``offset``, each row made by ``out``."""
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(order).offset(offset).limit(limit)).all()
    return Page(items=[out(r) for r in rows], total=total, limit=limit, offset=offset)
