"""Characters refused in every identifier, name and free text the platform takes in: one home.

A control character or an invisible formatting character in a name or an identifier makes two
strings that look the same differ (``7350000000026`` and ``7350000000026\u200b``), reorders what a
reviewer reads (a right-to-left override turns ``INV-1\u202e02-gnp.exe`` around), or breaks logs,
CSV exports and terminals. None has a place in a company name, an identifier or a dispute reason.

Refused (:data:`FORBIDDEN_RANGES`; fixed code points, not Unicode categories, so the rule does not move
with the Python version's Unicode tables):

- C0 controls U+0000-U+001F, DEL U+007F and the C1 controls U+0080-U+009F. Free text of several lines
  (``multiline=True``: a dispute reason, a PEM key or request) keeps tab, line feed and carriage return;
  one-line text (names, identifiers, file names) refuses them too.
- bidirectional controls: U+061C ALM, U+200E LRM, U+200F RLM, U+202A-U+202E (embeddings, overrides),
  U+2066-U+2069 (isolates);
- invisible characters: U+00AD soft hyphen, U+180E Mongolian vowel separator, U+200B zero-width space,
  U+200C/U+200D zero-width (non-)joiner, U+2060-U+2064 (word joiner, invisible operators),
  U+206A-U+206F (deprecated format controls; U+2065 unassigned), U+FEFF byte order mark (zero-width
  no-break space), U+FFF9-U+FFFB interlinear annotation, U+E0000-U+E007F tag characters (invisible ASCII);
- U+2028/U+2029 line and paragraph separators (line breaks that most tools do not show as such);
- U+D800-U+DFFF: a lone surrogate (JSON's ``"\\ud800"``) is no character at all.

Zero-width joiners are part of some scripts (Persian ZWNJ) and of emoji sequences: a company or a
reason that needs them is written without them; nothing the platform does depends on them.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "FORBIDDEN_RANGES",
    "JSON_SCHEMA_PATTERN",
    "JSON_SCHEMA_PATTERN_MULTILINE",
    "LINE_BREAKS",
    "check_text",
    "forbidden_characters",
]

#: Every refused code point, as inclusive ranges (tab, line feed and carriage return are allowed in
#: multi-line text; see :func:`forbidden_characters`).
FORBIDDEN_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x001F),
    (0x007F, 0x009F),
    (0x00AD, 0x00AD),
    (0x061C, 0x061C),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x206F),
    (0xD800, 0xDFFF),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0xE0000, 0xE007F),
)

#: Allowed in multi-line free text only.
LINE_BREAKS = "\t\n\r"


_Ranges = tuple[tuple[int, int], ...]


def _class(ranges: _Ranges, escape: str) -> str:
    """A regular-expression character class body, each code point written with ``escape``."""
    return "".join(
        escape.format(a) if a == b else f"{escape.format(a)}-{escape.format(b)}" for a, b in ranges
    )


def _without_line_breaks(ranges: _Ranges) -> _Ranges:
    out: list[tuple[int, int]] = []
    for a, b in ranges:
        start = a
        for cp in range(a, b + 1):
            if chr(cp) in LINE_BREAKS:
                if start < cp:
                    out.append((start, cp - 1))
                start = cp + 1
        if start <= b:
            out.append((start, b))
    return tuple(out)


_PYTHON_ESCAPE = "\\U{:08x}"
_ONE_LINE = re.compile(f"[{_class(FORBIDDEN_RANGES, _PYTHON_ESCAPE)}]")
_MULTI_LINE = re.compile(f"[{_class(_without_line_breaks(FORBIDDEN_RANGES), _PYTHON_ESCAPE)}]")


def _bmp(ranges: _Ranges) -> _Ranges:
    return tuple((a, b) for a, b in ranges if b <= 0xFFFF and a != 0xD800)


#: The same rule as an OpenAPI/JSON Schema ``pattern`` for one-line text (documentation, and what a
#: client-side generator such as schemathesis keeps to). Only the Basic Multilingual Plane is written
#: out (``\\uXXXX`` is read alike by ECMA-262 and Python); the tag characters U+E0000-U+E007F are
#: refused by :func:`check_text` all the same. Lone surrogates are left out too: no generator makes them.
JSON_SCHEMA_PATTERN = "^[^" + _class(_bmp(FORBIDDEN_RANGES), "\\u{:04x}") + "]*$"
#: The pattern of multi-line text: tab, line feed and carriage return allowed.
JSON_SCHEMA_PATTERN_MULTILINE = (
    "^[^" + _class(_bmp(_without_line_breaks(FORBIDDEN_RANGES)), "\\u{:04x}") + "]*$"
)


def _name(ch: str) -> str:
    return f"U+{ord(ch):04X}" + (f" {name}" if (name := unicodedata.name(ch, "")) else "")


def forbidden_characters(text: str, *, multiline: bool = False) -> list[tuple[int, str]]:
    """The refused characters of ``text``, each as (position, ``U+XXXX NAME``), in order (empty: fine)."""
    pattern = _MULTI_LINE if multiline else _ONE_LINE
    return [(m.start(), _name(m.group())) for m in pattern.finditer(text)]


def check_text(text: str, *, multiline: bool = False) -> str:
    """``text`` unchanged, or ``ValueError`` naming the first refused character and where it is."""
    found = forbidden_characters(text, multiline=multiline)
    if found:
        at, name = found[0]
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        kind = "control, bidirectional or invisible formatting character"
        raise ValueError(f"contains a {kind}: {name} at position {at}{more}")
    return text
