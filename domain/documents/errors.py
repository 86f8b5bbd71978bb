"""Typed parse errors with machine-readable codes."""

from __future__ import annotations

__all__ = ["PARSE_ERROR_CODES", "DocumentError"]

PARSE_ERROR_CODES: dict[str, str] = {
    "XML_TOO_LARGE": "The document is larger than the configured maximum size.",
    "XML_TOO_DEEP": "Elements are nested deeper than the configured maximum depth.",
    "XML_DTD_FORBIDDEN": "The document has a DOCTYPE; DTDs and entity declarations are refused.",
    "XML_MALFORMED": "The bytes are not well-formed XML.",
    "UBL_UNKNOWN_DOCUMENT": "The root element is not a supported UBL 2.1 document in its namespace.",
    "UBL_MISSING_FIELD": "A field the gateway needs is absent or empty.",
    "UBL_REPEATED_ELEMENT": (
        "An element that UBL 2.1 allows once (document ID, issue date, currency, a monetary total, due"
        " date...) appears more than once."
    ),
    "UBL_INVALID_VALUE": (
        "A field is present but its value is not valid (number, date, boolean, currency code)."
    ),
}
"""Every code a :class:`DocumentError` can carry, with its meaning."""


class DocumentError(ValueError):
    """A document was refused before or during parsing.

    ``code`` is one of :data:`PARSE_ERROR_CODES`; ``field`` names the offending element as an
    XPath-like path (``/Invoice/cac:LegalMonetaryTotal/cbc:PayableAmount``) when there is one.
    """

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        if code not in PARSE_ERROR_CODES:
            raise ValueError(f"unregistered document error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __str__(self) -> str:
        where = f" [{self.field}]" if self.field else ""
        return f"{self.code}: {self.message}{where}"
