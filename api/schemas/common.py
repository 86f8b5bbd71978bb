from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")

#: The largest integer a BIGINT column holds: the bound of every id, block number, offset and Unix time
#: the API accepts (the chain's counters and clocks never come near it; the ABI's uint256 would hold
#: more, but nothing above this could be stored in the read model).
DB_INT_MAX = 2**63 - 1


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    total: int = Field(description="Number of items across all pages.")
    limit: int
    offset: int
