"""The parser's fast paths say exactly what the slow ones said (issue 11: the parser within 5x of lxml).

- the keccak256 ``source_hash`` is computed when first read, and is then the same bytes everywhere
  (attribute, equality, ``dataclasses.replace``), whichever thread reads it first;
- identifiers skip the whitespace squash only when they hold no whitespace;
- the child index answers like lxml's own look-ups, in document order, whatever the prefixes (a
  tag's one child, or the list of its children when it repeats).
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from domain.documents import ubl
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
