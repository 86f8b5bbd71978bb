"""``domain.text``: control, bidirectional and invisible formatting characters are refused; every other
character passes. One list, used by the API's request models and by the document rules."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.documents.model import Invoice, PartyRef
from domain.documents.ubl import parse_document
from domain.rules import verify_bundle
from domain.text import (
    FORBIDDEN_RANGES,
    JSON_SCHEMA_PATTERN,
    JSON_SCHEMA_PATTERN_MULTILINE,
    LINE_BREAKS,
    check_text,
    forbidden_characters,
)
from tests.domain.test_rules import FIXTURES, bundle, context, invoice


def _forbidden(cp: int) -> bool:
    return any(a <= cp <= b for a, b in FORBIDDEN_RANGES)


FORBIDDEN = st.sampled_from(
    sorted({cp for a, b in FORBIDDEN_RANGES for cp in (a, b, (a + b) // 2)})  # edges and middles
).map(chr) | st.integers(0, 0x10FFFF).filter(_forbidden).map(chr)
ALLOWED_TEXT = st.text(st.characters(codec=None).filter(lambda c: not _forbidden(ord(c))))

#: The characters the brief names, each refused wherever text is taken in.
NAMED = {
    "NUL": "\x00",
    "BEL": "\x07",
    "ESC": "\x1b",
    "DEL": "\x7f",
    "NEL (C1)": "\x85",
    "CSI (C1)": "\x9b",
    "LRE": "\u202a",
    "RLE": "\u202b",
    "PDF": "\u202c",
    "LRO": "\u202d",
    "RLO": "\u202e",
    "LRI": "\u2066",
    "RLI": "\u2067",
    "FSI": "\u2068",
    "PDI": "\u2069",
    "LRM": "\u200e",
    "RLM": "\u200f",
    "ALM": "\u061c",
    "ZWSP": "\u200b",
    "ZWNJ": "\u200c",
    "ZWJ": "\u200d",
    "word joiner": "\u2060",
    "BOM": "\ufeff",
    "soft hyphen": "\u00ad",
    "line separator": "\u2028",
    "tag A": "\U000e0041",
    "lone surrogate": "\ud800",
}


@pytest.mark.parametrize("name", sorted(NAMED))
def test_each_named_character_is_refused(name: str) -> None:
    ch = NAMED[name]
    text = f"Acme{ch}AB"
    with pytest.raises(ValueError, match=f"U\\+{ord(ch):04X}.* at position 4"):
        check_text(text)
    with pytest.raises(ValueError, match=f"U\\+{ord(ch):04X}"):
        check_text(text, multiline=True)


@given(ALLOWED_TEXT)
def test_text_without_them_passes_unchanged(text: str) -> None:
    assert check_text(text) == text
    assert forbidden_characters(text) == []


@given(ALLOWED_TEXT, FORBIDDEN, st.data())
def test_one_forbidden_character_anywhere_is_found_where_it_is(
    text: str, bad: str, data: st.DataObject
) -> None:
    at = data.draw(st.integers(0, len(text)))
    spiked = text[:at] + bad + text[at:]
    multiline = data.draw(st.booleans())
    if multiline and bad in LINE_BREAKS:
        assert check_text(spiked, multiline=True) == spiked
        return
    assert [pos for pos, _ in forbidden_characters(spiked, multiline=multiline)] == [at]
    with pytest.raises(ValueError, match=f"U\\+{ord(bad):04X}"):
        check_text(spiked, multiline=multiline)


def test_line_breaks_pass_in_multiline_text_only() -> None:
    reason = "Two widgets arrived damaged.\r\n\tSee receipt advice RA-5512.\n"
    assert check_text(reason, multiline=True) == reason
    with pytest.raises(ValueError, match="U\\+000D"):
        check_text(reason)


@pytest.mark.parametrize(
    "text",
    ["Fabrikant Metall AB", "Västerås Åkeri", "Nordvik Retail AB", "株式会社トヨタ", "שלום בע״מ", "Café 🚚"],
)
def test_ordinary_names_of_every_script_pass(text: str) -> None:
    assert check_text(text) == text


@pytest.mark.parametrize(
    ("pattern", "multiline"), [(JSON_SCHEMA_PATTERN, False), (JSON_SCHEMA_PATTERN_MULTILINE, True)]
)
def test_the_openapi_pattern_says_what_the_check_does_for_every_bmp_character(
    pattern: str, multiline: bool
) -> None:
    compiled = re.compile(pattern)
    for cp in range(0x10000):
        if 0xD800 <= cp <= 0xDFFF:
            continue  # lone surrogates: refused by the check, no generator makes them
        ch = chr(cp)
        assert bool(compiled.fullmatch(ch)) == (not forbidden_characters(ch, multiline=multiline)), hex(cp)


# ------------------------------------------------------------------------------- trade documents


@pytest.mark.parametrize("name", ["RLO", "LRI", "ZWSP", "BOM", "CSI (C1)", "tag A"])
def test_a_party_identifier_with_one_is_a_rule_violation(name: str) -> None:
    """Read from the document's bytes, as the gateway does: the seller's legal company id hides one."""
    ch = NAMED[name]
    raw = (FIXTURES / "invoice.xml").read_text()
    spiked = raw.replace(">5561234567</cbc:CompanyID>", f">5561{ch}234567</cbc:CompanyID>", 1)
    assert spiked != raw
    doc = parse_document(spiked.encode())
    assert isinstance(doc, Invoice)
    violations = verify_bundle(bundle(inv=replace(invoice(), seller=doc.seller)), context())
    assert [v.code for v in violations] == ["PARTY_ID_INVALID_CHARACTERS"]
    [v] = violations
    assert v.document == "Invoice" and v.field == "cac:AccountingSupplierParty/cac:Party"
    assert f"U+{ord(ch):04X}" in v.message and ch not in v.message  # the message shows it escaped


@pytest.mark.parametrize("where", ["endpoint", "identifiers", "legal_ids", "tax_ids", "scheme"])
def test_every_kind_of_party_identifier_is_checked(where: str) -> None:
    bad = PartyRef("0088", "7350000000026\u200b") if where != "scheme" else PartyRef("00\u202e88", "1")
    seller = invoice().seller
    if where == "endpoint":
        seller = replace(seller, endpoint=bad)
    elif where == "scheme":
        seller = replace(seller, legal_ids=(bad,))
    else:
        seller = replace(seller, **{where: (*getattr(seller, where), bad)})
    found = verify_bundle(bundle(inv=replace(invoice(), seller=seller)), context())
    assert "PARTY_ID_INVALID_CHARACTERS" in {v.code for v in found}
