"""Party identifiers the platform checks itself: the unified social credit code (统一社会信用代码).

Every legal entity and other organization in mainland China has one unified social credit code (USCC),
GB 32100-2015 *The coding rule of the unified social credit identifier for legal entities and other
organizations*: it is at once the company's registry number, its organization code and its taxpayer
identification number. 18 characters from the 31 of :data:`USCC_ALPHABET` (digits and the capital letters
but I, O, S, V and Z):

=========  ========================================================================================
position   meaning
=========  ========================================================================================
1          registration authority (``9``: market regulation, the companies' registry)
2          kind of organization (``1``: a company)
3-8        the registering authority's administrative division (GB/T 2260), digits
9-17       the organization code (GB 11714-1997); position 17 is that code's own check character
18         the check character of the whole code (GB/T 17710, ISO 7064 style, modulo 31)
=========  ========================================================================================

The platform names this scheme :data:`USCC_SCHEME` (``"USCC"``) wherever a scheme is stated: the
``schemeID`` of a UBL ``cac:PartyIdentification/cbc:ID`` or ``cac:PartyLegalEntity/cbc:CompanyID``, and
the ``scheme`` of an onboarding request's ``party_identifiers``. ISO 6523 (the Peppol ICD code list, the
schemes such as ``0088`` for a GLN) has no ICD for the unified social credit code, so the platform uses
this mnemonic, as it reads ``GLN`` for ``0088``; it is not a Peppol code.

Pure and typed: no third-party import. :func:`uscc_with_check` makes valid codes from their first
characters (tests and the demo make theirs with it, instead of inventing "valid" ones).

Codes issued in Fujian's pilot before the standard (2014-2015, ``91350100M0001TGQXM`` and the like) do not
satisfy the check character; :func:`is_valid_uscc` refuses them like any other code that fails it.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "USCC_ALPHABET",
    "USCC_LENGTH",
    "USCC_SCHEME",
    "is_valid_uscc",
    "organization_check_character",
    "uscc_check_character",
    "uscc_error",
    "uscc_with_check",
]

USCC_SCHEME: Final = "USCC"
"""The schemeID of a unified social credit code on the platform (no ISO 6523 ICD exists for it)."""

USCC_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters of a code, in the order of their values 0-30 (no I, O, S, V, Z)."""

USCC_LENGTH: Final = 18

_VALUES: Final = {ch: value for value, ch in enumerate(USCC_ALPHABET)}
#: weights of positions 1-17 for the check character: 3 ** (i - 1) mod 31
_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(USCC_LENGTH - 1))
#: weights of the organization code's positions 1-8 (the code's positions 9-16), GB 11714-1997
_ORG_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)
_REGION: Final = slice(2, 8)
_ORG_BODY: Final = slice(8, 16)


def _org_value(ch: str) -> int:
    """A character's value in the organization code: digits 0-9, letters A=10 ... Z=35 (GB 11714)."""
    return int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10


def _refuse_characters(text: str) -> None:
    bad = [ch for ch in text if ch not in _VALUES]
    if bad:
        raise ValueError(f"not characters of a unified social credit code: {', '.join(map(ascii, bad))}")


def organization_check_character(body: str) -> str:
    """The check character of an organization code's 8-character ``body`` (GB 11714-1997): weights
    3, 7, 9, 10, 5, 8, 4, 2; ``11 - sum mod 11``, 10 written ``X`` and 11 written ``0``."""
    if len(body) != len(_ORG_WEIGHTS):
        raise ValueError(f"an organization code's body has {len(_ORG_WEIGHTS)} characters, not {len(body)}")
    _refuse_characters(body)
    check = 11 - sum(_org_value(ch) * w for ch, w in zip(body, _ORG_WEIGHTS, strict=True)) % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def uscc_check_character(first17: str) -> str:
    """The 18th character of the code whose first 17 characters are ``first17``: weights 3 ** (i - 1)
    mod 31 over positions 1-17, ``(31 - sum mod 31) mod 31`` as a character of :data:`USCC_ALPHABET`."""
    if len(first17) != USCC_LENGTH - 1:
        raise ValueError(f"the check character follows {USCC_LENGTH - 1} characters, not {len(first17)}")
    _refuse_characters(first17)
    total = sum(_VALUES[ch] * w for ch, w in zip(first17, _WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_with_check(first17: str) -> str:
    """The whole code from its first characters, with the check characters computed.

    ``first17``: the first 17 characters (the 18th, the check character, is appended), or the first 16
    (the organization code's check character, position 17, is computed first, then the 18th). With 17
    characters the 17th is taken as given, so a code whose organization code fails its own check can be
    made too (tests do). Raises ``ValueError`` for another length or a character outside the alphabet.
    """
    if len(first17) == USCC_LENGTH - 2:
        first17 += organization_check_character(first17[_ORG_BODY])
    return first17 + uscc_check_character(first17)


def uscc_error(code: str) -> str | None:
    """What is wrong with ``code`` as a unified social credit code, in a sentence; None when it is valid.

    Checked in order: the length, every character (capital letters only), the region code's digits, the
    organization code's check character (position 17), the check character (position 18).
    """
    if len(code) != USCC_LENGTH:
        return f"A unified social credit code has {USCC_LENGTH} characters, not {len(code)}."
    for position, ch in enumerate(code, start=1):
        if ch not in _VALUES:
            hint = " (letters are written in capitals)" if ch.upper() in _VALUES else ""
            return (
                f"Character {position} ({ch!a}) is not one of a unified social credit code's: digits and"
                f" the capital letters but I, O, S, V and Z{hint}."
            )
    region = code[_REGION]
    if not region.isdigit():
        return (
            f"Characters 3-8 ({region}) are the registering authority's region code (GB/T 2260): digits only."
        )
    expected = organization_check_character(code[_ORG_BODY])
    if code[16] != expected:
        return (
            f"The organization code (characters 9-17, {code[8:17]}) fails its check (GB 11714): its"
            f" check character is {expected}, not {code[16]}."
        )
    check = uscc_check_character(code[:17])
    if code[17] != check:
        return f"The check character (character 18) is {check}, not {code[17]}: the code is mistyped."
    return None


def is_valid_uscc(code: str) -> bool:
    """Whether ``code`` is a unified social credit code: 18 characters of :data:`USCC_ALPHABET` (capital
    letters), digits in the region code, and both check characters right."""
    return uscc_error(code) is None
