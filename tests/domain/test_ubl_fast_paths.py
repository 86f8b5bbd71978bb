"""The parser's fast paths say exactly what the slow ones said (issue 11: the parser within 5x of lxml).

- the keccak256 ``source_hash`` is computed when first read, and is then the same bytes everywhere
  (attribute, equality, ``dataclasses.replace``), whichever thread reads it first;
- identifiers skip the whitespace squash only when they hold no whitespace;
- the model's ``__init__`` (see ``model._install_fast_init``) takes the parameters the dataclass's
  would and leaves the objects frozen values;
- dates and party identifiers are reused from bounded caches, never a refused literal;
- the child index answers like lxml's own look-ups, in document order, whatever the prefixes (a
  tag's one child, or the list of its children when it repeats).
"""

from __future__ import annotations

import dataclasses
import inspect
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from domain.documents import model, ubl
from domain.documents.errors import DocumentError
from domain.documents.model import Invoice, _squash
from domain.documents.ubl import parse_document

FIXTURES = Path(__file__).resolve().parents[2] / "cli" / "demo_data"


def test_source_hash_is_computed_on_first_read_and_is_the_keccak() -> None:
    data = (FIXTURES / "invoice.xml").read_bytes()
    first, second = parse_document(data), parse_document(data)
    assert first == second and hash(first) == hash(second)  # equality reads it
    assert first.source_hash == keccak(data) == second.source_hash
    third = parse_document(data)
    assert dataclasses.replace(third, id="X").source_hash == keccak(data)
    assert dataclasses.replace(third, source_hash=b"").source_hash == b""
    assert third.source_hash == keccak(data)
    assert repr(parse_document(data)).count(repr(keccak(data))) == 1


def test_source_hash_read_by_many_threads_at_once() -> None:
    data = (FIXTURES / "invoice.xml").read_bytes()
    doc = parse_document(data)
    assert isinstance(doc, Invoice)
    seen: list[bytes] = []
    threads = [threading.Thread(target=lambda: seen.append(doc.source_hash)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [keccak(data)] * 8


@given(st.text())
def test_squash_removes_exactly_the_whitespace(text: str) -> None:
    assert _squash(text) == "".join(text.split())


def test_child_index_matches_lxml_in_document_order() -> None:
    data = (FIXTURES / "invoice.xml").read_bytes()
    root = etree.fromstring(data)
    state = ubl._State()
    for el in root.iter():
        index = state.index(el)
        for tag, found in index.items():
            children = found if isinstance(found, list) else [found]
            assert children == list(el.iterchildren(tag))
            assert isinstance(found, list) == (len(children) > 1)  # a list only for a repeated tag
        assert sum(len(v) if isinstance(v, list) else 1 for v in index.values()) == len(el)


MODEL_CLASSES = [
    cls
    for cls in vars(model).values()
    if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == model.__name__
]


@pytest.mark.parametrize("cls", MODEL_CLASSES, ids=lambda cls: cls.__name__)
def test_model_init_is_the_one_dataclass_would_write(cls: type) -> None:
    """The fast ``__init__`` takes exactly the dataclass's parameters; the class stays frozen."""
    fields = dataclasses.fields(cls)
    expected = [
        inspect.Parameter(
            f.name,
            inspect.Parameter.KEYWORD_ONLY if f.kw_only else inspect.Parameter.POSITIONAL_OR_KEYWORD,
            default=inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default,
            annotation=f.type,
        )
        for f in fields
    ]
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]  # type: ignore[misc]
    assert params == sorted(expected, key=lambda p: p.kind)
    assert cls.__init__.__qualname__ == f"{cls.__qualname__}.__init__"  # type: ignore[misc]
    assert "_set0" in cls.__init__.__globals__  # type: ignore[misc]  # the fast one, not dataclass's


def test_model_objects_stay_frozen_values() -> None:
    doc = parse_document((FIXTURES / "invoice.xml").read_bytes())
    assert isinstance(doc, Invoice)
    line = doc.lines[0]
    for obj, name in ((doc, "id"), (doc, "source_hash"), (line, "quantity"), (line.item, "name")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, name, None)
        with pytest.raises(dataclasses.FrozenInstanceError):
            delattr(obj, name)
    with pytest.raises(AttributeError):
        object.__setattr__(line, "not_a_field", 1)  # slotted: no instance dict
    assert dataclasses.replace(line) == line and hash(dataclasses.replace(line)) == hash(line)
    assert dataclasses.replace(doc, lines=doc.lines) == doc
    assert repr(line).startswith("Line(id='1', quantity=Decimal(")
    ref = model.PartyRef(" gln ", "73 5000 0000 019")  # __post_init__ still normalizes
    assert (ref.scheme, ref.id) == ("0088", "7350000000019") and ref == model.PartyRef(
        "0088", "7350000000019"
    )
    assert model.Identifier("a", "b") < model.Identifier("a", "c")
    with pytest.raises(ValueError, match="non-empty id"):
        model.Identifier("GLN", " ")
    with pytest.raises(TypeError, match="missing"):
        model.Line("1")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="positional argument"):
        model.Order(model.DocumentKind.ORDER)  # type: ignore[call-arg]
    assert model.DeliveryLine("1", Decimal(2), None, model.Item()).rejected_quantity == Decimal(0)


def test_value_caches_stay_bounded_and_never_hold_a_refused_value() -> None:
    """Dates and party identifiers read once are reused; a bad literal is refused every time."""
    data = (FIXTURES / "invoice.xml").read_bytes()
    first = parse_document(data)
    assert parse_document(data) == first
    for n in range(ubl._PARTY_REFS_SIZE + 5):
        ubl._party_ref_of("GLN", f"{n:013d}")
    assert 0 < len(ubl._PARTY_REFS) <= ubl._PARTY_REFS_SIZE
    assert ubl._party_ref_of("GLN", " 73 5000 ") == model.PartyRef("0088", "735000")
    bad = data.replace(b"<cbc:IssueDate>", b"<cbc:IssueDate>2026-02-30", 1)
    for _ in range(2):
        with pytest.raises(DocumentError) as caught:
            parse_document(bad)
        assert caught.value.code == "UBL_INVALID_VALUE"
        assert caught.value.field == "/Invoice/cbc:IssueDate"
    assert len(ubl._DATES) <= ubl._DATES_SIZE
    assert all(isinstance(value, date) for value in ubl._DATES.values())
