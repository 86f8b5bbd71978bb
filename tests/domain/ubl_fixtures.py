"""The demo's UBL documents as parsed documents, for the rule tests: the EU trade (``cli/demo_data``, the
fixtures the tests break one rule at a time) and the CN trade (``cli/demo_data/cn``)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TypeVar

from domain.documents.model import Document
from domain.documents.ubl import parse_document

EU_TRADE = Path(__file__).resolve().parents[2] / "cli" / "demo_data"
CN_TRADE = EU_TRADE / "cn"

_D = TypeVar("_D", bound=Document)


@cache
def _parsed(path: Path) -> Document:
    return parse_document(path.read_bytes())


def fixture(folder: Path, name: str, kind: type[_D]) -> _D:
    """The document ``folder/name``, parsed once, checked to be a ``kind``."""
    doc = _parsed(folder / name)
    assert isinstance(doc, kind), f"{folder / name} is a {type(doc).__name__}, not a {kind.__name__}"
    return doc
