from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from domain.text import JSON_SCHEMA_PATTERN, JSON_SCHEMA_PATTERN_MULTILINE, check_text

T = TypeVar("T")

#: The largest integer a BIGINT column holds: the bound of every id, block number, offset and Unix time
#: the API accepts (the chain's counters and clocks never come near it; the ABI's uint256 would hold
#: more, but nothing above this could be stored in the read model).
DB_INT_MAX = 2**63 - 1


@dataclass(frozen=True)
class _Pattern:
    """Adds the character rule to the field's JSON schema (OpenAPI): documentation, and what a client or
    a generator keeps to. ``domain.text.check_text`` is the rule itself."""

    pattern: str

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema: dict[str, Any] = handler(schema)
        json_schema.setdefault("pattern", self.pattern)
        return json_schema


def _one_line(value: str) -> str:
    return check_text(value)


def _multi_line(value: str) -> str:
    return check_text(value, multiline=True)


#: A name, an identifier or a one-line text of a request: no control character (tab and line breaks
#: included), no bidirectional control, no invisible formatting character (``domain.text``); 422
#: ``REQUEST_INVALID`` naming the field and the character otherwise.
PlainText = Annotated[str, AfterValidator(_one_line), _Pattern(JSON_SCHEMA_PATTERN)]
#: Free text of several lines (a dispute reason, a PEM key): as ``PlainText``, but tab, line feed and
#: carriage return are allowed.
MultilineText = Annotated[str, AfterValidator(_multi_line), _Pattern(JSON_SCHEMA_PATTERN_MULTILINE)]


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    total: int = Field(description="Number of items across all pages.")
    limit: int
    offset: int


#: A currency of the request: an ISO 4217 alphabetic code. Whether the platform settles in it is the
#: service's check (422 ``CURRENCY_NOT_SETTLEABLE``), so that a well-formed code it has no token for gets a
#: message naming the codes it has.
CurrencyCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Z]{3}$",
        description="ISO 4217 code of a settlement currency of the platform (GET /settlement/currencies).",
        examples=["CNY"],
    ),
]
