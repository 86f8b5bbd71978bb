"""Safe UBL 2.1 parsing into the internal model.

``parse_document`` takes the bytes an ERP sent, refuses anything unsafe before building a tree and
maps the document onto :mod:`domain.documents.model`:

* size is checked first (``XML_TOO_LARGE``);
* any DOCTYPE is refused (``XML_DTD_FORBIDDEN``): a byte scan in UTF-8/16/32 before parsing, and the
  parsed document's doctype after, so no DTD, internal entity (billion laughs) or external entity
  (XXE) is ever processed;
* lxml parses with ``resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False``;
* element depth is counted while parsing and parsing stops past ``max_depth`` (``XML_TOO_DEEP``).

Elements are found by namespace URI, never by prefix, and by name, never by position, so any
prefixes and any order of optional elements parse. Whatever the gateway needs and the document
lacks raises ``UBL_MISSING_FIELD`` naming the field's path.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeVar

from lxml import etree

from domain.documents.errors import DocumentError
from domain.documents.model import (
    AllowanceCharge,
    DeliveryLine,
    DespatchAdvice,
    Document,
    DocumentKind,
    Identifier,
    Invoice,
    Item,
    Line,
    MonetaryTotal,
    Order,
    Party,
    PartyRef,
    Price,
    ReceiptAdvice,
    TaxCategory,
    TaxSubtotal,
    TaxTotal,
    hash_on_demand,
)
from domain.documents.money import is_currency_code
from domain.fingerprint import document_hash

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "NAMESPACES",
    "ROOT_NAMESPACES",
    "parse_despatch_advice",
    "parse_document",
    "parse_invoice",
    "parse_order",
    "parse_receipt_advice",
]

DEFAULT_MAX_BYTES: Final = 2 * 1024 * 1024
"""2 MiB: a Peppol invoice with hundreds of lines is well below 1 MiB (attachments excepted)."""

DEFAULT_MAX_DEPTH: Final = 64
"""UBL business content nests about 8 deep; signatures in UBLExtensions add about a dozen more."""

CAC: Final = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC: Final = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
NAMESPACES: Final = {"cac": CAC, "cbc": CBC}

ROOT_NAMESPACES: Final = {
    kind: f"urn:oasis:names:specification:ubl:schema:xsd:{kind.value}-2" for kind in DocumentKind if kind.ubl
}

_PARSER_OPTIONS: Final[dict[str, bool]] = {
    "resolve_entities": False,
    "load_dtd": False,
    "no_network": True,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}

_DOCTYPE_MARKERS: Final = tuple(  # UTF-8 first: the one marker without a NUL byte
    "<!DOCTYPE".encode(codec) for codec in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)

_DECIMAL_RE: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_MAX_NUMBER_CHARS: Final = 40
_DATE_RE: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:Z|[+-]\d{2}:\d{2})?")


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------


class _Parsers(threading.local):
    """One hardened parser per thread: lxml parsers serialize their users, so threads do not share one."""

    def __init__(self) -> None:
        self.parser = etree.XMLParser(**_PARSER_OPTIONS)


_PARSERS: Final = _Parsers()


@functools.cache
def _too_deep(max_depth: int) -> Any:
    """An XPath that is true when some element lies ``max_depth + 1`` levels deep (the root is level 1).

    Evaluated by libxml2 in C over the parsed tree, level by level: far cheaper than counting depth in
    Python at every element (``iterparse``), and the tree it walks is bounded by ``max_bytes`` and by
    libxml2's own depth limit (256 without ``huge_tree``), both enforced while parsing.
    """
    return etree.XPath("boolean(" + "/*" * (max_depth + 1) + ")")


def _load(data: bytes, *, max_bytes: int, max_depth: int) -> Any:
    """Parse ``data`` with every safety check; return the lxml root element."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("parse_document takes the document's bytes")
    if len(data) > max_bytes:
        raise DocumentError(
            "XML_TOO_LARGE", f"the document has {len(data)} bytes; at most {max_bytes} allowed"
        )
    raw = bytes(data)
    # every marker holds a 0x21; the UTF-16/32 ones (all but the first) hold NULs too
    markers = _DOCTYPE_MARKERS if b"\0" in raw else _DOCTYPE_MARKERS[:1]
    if b"!" in raw and any(marker in raw for marker in markers):
        raise DocumentError("XML_DTD_FORBIDDEN", "documents with a DOCTYPE are refused")
    try:
        root = etree.fromstring(raw, _PARSERS.parser)
    except etree.XMLSyntaxError as exc:
        message = str(exc)
        if "Excessive depth" in message:
            raise DocumentError("XML_TOO_DEEP", "elements nest too deeply") from None
        raise DocumentError("XML_MALFORMED", f"the document is not well-formed XML: {message}") from None
    if root is None:
        raise DocumentError("XML_MALFORMED", "the document has no root element")
    if root.getroottree().docinfo.doctype:
        raise DocumentError("XML_DTD_FORBIDDEN", "documents with a DOCTYPE are refused")
    if _too_deep(max_depth)(root):
        raise DocumentError("XML_TOO_DEEP", f"elements nest deeper than {max_depth} levels")
    return root


_KINDS_BY_TAG: Final = {f"{{{namespace}}}{kind.value}": kind for kind, namespace in ROOT_NAMESPACES.items()}


def _kind_of(root: Any) -> DocumentKind:
    kind = _KINDS_BY_TAG.get(root.tag)
    if kind is not None:
        return kind
    qname = etree.QName(root)
    for kind, namespace in ROOT_NAMESPACES.items():
        if qname.localname == kind.value and qname.namespace == namespace:
            return kind
    raise DocumentError(
        "UBL_UNKNOWN_DOCUMENT",
        f"the root element {{{qname.namespace or ''}}}{qname.localname} is not a supported UBL 2.1 document",
        field=f"/{qname.localname}",
    )


# --------------------------------------------------------------------------------------------------
# Element access
# --------------------------------------------------------------------------------------------------


class _State:
    """Per-parse state: the currencies the document's amounts carry, and the child index.

    The index maps an element to its children by Clark tag, built the first time the element is
    looked into: one pass over its children instead of a tag-matching scan per look-up (lxml's
    ``iterchildren(tag)`` costs microseconds per call; a dict look-up does not). A tag maps to its
    one child, or to the list of its children (two or more, in document order) when it repeats:
    most tags do not, and a look-up then neither builds nor unpacks a list.
    """

    __slots__ = ("children", "currencies")

    def __init__(self, children: dict[Any, dict[str, Any]] | None = None) -> None:
        self.currencies: set[str] = set()
        self.children: dict[Any, dict[str, Any]] = {} if children is None else children

    def index(self, el: Any) -> dict[str, Any]:
        """``el``'s children by Clark tag: the child, or a list of two or more in document order."""
        found = self.children.get(el)
        if found is None:
            found = {}
            for child in el[:]:  # a slice is built in C; iterating makes a tag matcher per element
                tag = child.tag
                if tag in found:
                    same = found[tag]
                    if same.__class__ is list:
                        same.append(child)
                    else:
                        found[tag] = [same, child]
                else:
                    found[tag] = child
            self.children[el] = found
        return found


def _text(el: Any) -> str | None:
    """The element's text content (its descendants' text included), stripped; None when empty."""
    if len(el):  # has children: join every text node below it, as ``itertext`` yields them
        value = "".join(el.itertext()).strip()
    else:
        text = el.text
        value = text.strip() if text else ""
    return value or None


class _Node:
    """An lxml element plus its XPath-like path, with typed accessors that raise DocumentError.

    ``rel`` paths are ``prefix:Local`` steps joined by ``/``, looked up in the parse's child index.
    The path (for error messages only) is put together when asked for: a node keeps the node it was
    found from, the ``rel`` that found it and its position among its namesakes (0: not counted).
    Leaves (amounts, quantities, identifiers) are read from their element without a node of their
    own: an error names them as ``rel`` below the node they were looked up from, the same path.
    ``kids`` keeps the element's child index once looked into.
    """

    __slots__ = ("base", "el", "kids", "pos", "rel", "state")

    def __init__(self, el: Any, base: _Node | None, rel: str, state: _State, pos: int = 0) -> None:
        self.el = el
        self.base = base
        self.rel = rel
        self.state = state
        self.pos = pos
        self.kids: dict[str, Any] | None = None

    def _index(self) -> dict[str, Any]:
        """The element's children by Clark tag (see :meth:`_State.index`), kept on the node."""
        kids = self.kids = self.state.index(self.el)
        return kids

    @property
    def path(self) -> str:
        """The node's XPath-like path, e.g. ``/Invoice/cac:InvoiceLine[2]/cac:Item``."""
        base = self.base
        here = self.rel if base is None else f"{base.path}/{self.rel}"
        return f"{here}[{self.pos}]" if self.pos else here

    def _find(self, rel: str) -> Any:
        """The element at ``rel`` (every step at most once, see :meth:`find`), or None."""
        tag = _TAGS.get(rel)
        if tag is not None:  # one step
            found = (self.kids or self._index()).get(tag)
            if found.__class__ is list:
                raise self._repeated(rel)
            return found
        state = self.state
        el = self.el
        for tag in _STEPS.get(rel) or _clark(rel):
            found = (state.children.get(el) or state.index(el)).get(tag)
            if found is None:
                return None
            if found.__class__ is list:
                raise self._repeated(rel)
            el = found
        return el

    def _repeated(self, rel: str) -> DocumentError:
        """The ``UBL_REPEATED_ELEMENT`` error of the first step of ``rel`` found more than once."""
        el = self.el
        for position, tag in enumerate(_STEPS[rel]):
            found = self.state.index(el)[tag]
            if found.__class__ is list:
                path = "/".join((self.path, *rel.split("/")[: position + 1]))
                return DocumentError(
                    "UBL_REPEATED_ELEMENT",
                    f"the document states {path} {len(found)} times; UBL 2.1 allows it once",
                    field=path,
                )
            el = found
        raise AssertionError(f"no step of {rel} repeats")  # pragma: no cover - called on a repeat only

    def _all(self, rel: str) -> list[Any]:
        """Elements at the child path ``rel``, in document order (ElementPath ``a/b``)."""
        tag = _TAGS.get(rel)
        if tag is not None:  # one step
            found = (self.kids or self._index()).get(tag)
            if found is None:
                return []
            return found if found.__class__ is list else [found]
        state = self.state
        children = state.children
        parents = [self.el]
        for tag in _STEPS.get(rel) or _clark(rel):
            below = []
            for parent in parents:
                found = (children.get(parent) or state.index(parent)).get(tag)
                if found is not None:
                    if found.__class__ is list:
                        below.extend(found)
                    else:
                        below.append(found)
            parents = below
        return parents

    def find(self, rel: str) -> _Node | None:
        """The element at ``rel``, whose every step UBL 2.1 allows at most once here.

        A step present more than once raises ``UBL_REPEATED_ELEMENT``: the document would say two
        things, and taking the first would let the rest pass unseen.
        """
        el = self._find(rel)
        return None if el is None else _Node(el, self, rel, self.state)

    def first(self, rel: str) -> _Node | None:
        """The first element at ``rel``, for paths UBL 2.1 lets repeat (see docs/documents.md)."""
        el = self._first(rel)
        return None if el is None else _Node(el, self, rel, self.state)

    def first_text(self, rel: str) -> str | None:
        el = self._first(rel)
        return None if el is None else _text(el)

    def _first(self, rel: str) -> Any:
        """The first lxml element at ``rel``, or None."""
        tag = _TAGS.get(rel)
        if tag is None:
            found = self._all(rel)
            return found[0] if found else None
        el = (self.kids or self._index()).get(tag)
        return el[0] if el.__class__ is list else el

    def findall(self, rel: str) -> list[_Node]:
        state = self.state
        return [_Node(el, self, rel, state, index) for index, el in enumerate(self._all(rel), start=1)]

    def require(self, rel: str) -> _Node:
        el = self._find(rel)
        if el is None:
            raise _missing(f"{self.path}/{rel}")
        return _Node(el, self, rel, self.state)

    def text_of(self, rel: str) -> str | None:
        tag = _TAGS.get(rel)
        if tag is None:
            el = self._find(rel)
        else:  # one step: :meth:`_find` inlined (the most frequent look-up)
            el = (self.kids or self._index()).get(tag)
            if el.__class__ is list:
                raise self._repeated(rel)
        if el is None:
            return None
        if len(el):
            return _text(el)
        text = el.text
        return (text.strip() or None) if text else None

    def texts_of(self, rel: str) -> tuple[str, ...]:
        return tuple([text for el in self._all(rel) if (text := _text(el)) is not None])

    def req_text(self, rel: str) -> str:
        text = self.text_of(rel)
        if text is None:
            raise _missing(f"{self.path}/{rel}")
        return text

    def decimal_of(self, rel: str) -> Decimal | None:
        text = self.text_of(rel)
        return None if text is None else _decimal(text, self, rel)

    def req_decimal(self, rel: str) -> Decimal:
        el = self._find(rel)
        if el is None:
            raise _missing(f"{self.path}/{rel}")
        return _decimal(_text(el), self, rel)

    def amount_of(self, rel: str) -> Decimal | None:
        el = self._find(rel)
        text = None if el is None else _text(el)
        return None if text is None else _amount(el, text, self, rel, self.state)

    def req_amount(self, rel: str) -> Decimal:
        el = self._find(rel)
        if el is None:
            raise _missing(f"{self.path}/{rel}")
        return _amount(el, _text(el), self, rel, self.state)

    def date_of(self, rel: str) -> date | None:
        text = self.text_of(rel)
        if text is None:
            return None
        known = _DATES.get(text)
        if known is not None:
            return known
        match = _DATE_RE.fullmatch(text)
        try:
            if match is None:
                raise ValueError
            value = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            raise _invalid(f"{self.path}/{rel}", f"{text[:40]!r} is not a date (YYYY-MM-DD)") from None
        if len(_DATES) >= _DATES_SIZE:
            _DATES.clear()
        _DATES[text] = value
        return value

    def req_date(self, rel: str) -> date:
        value = self.date_of(rel)
        if value is None:
            raise _missing(f"{self.path}/{rel}")
        return value

    def bool_of(self, rel: str) -> bool:
        el = self._find(rel)
        if el is None:
            raise _missing(f"{self.path}/{rel}")
        text = (_text(el) or "").lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise _invalid(f"{self.path}/{rel}", f"{text[:20]!r} is not a boolean")

    def currency_of(self, rel: str) -> str | None:
        text = self.text_of(rel)
        if text is None:
            return None
        if not is_currency_code(text):
            raise _invalid(f"{self.path}/{rel}", f"{text[:20]!r} is not an ISO 4217 currency code")
        return text


def _path(node: _Node, rel: str | None) -> str:
    """The path of ``rel`` below ``node`` (``node``'s own with None): for error messages."""
    return node.path if rel is None else f"{node.path}/{rel}"


_DECIMALS: Final[dict[str, Decimal]] = {}
"""Decimal literals already read, and their value (a Decimal is immutable; reading one is exact,
whatever the context). Emptied when it holds ``_DECIMALS_SIZE``."""
_DECIMALS_SIZE: Final = 4096
_DATES: Final[dict[str, date]] = {}
"""Date literals already read, and their date (immutable); emptied when it holds ``_DATES_SIZE``."""
_DATES_SIZE: Final = 4096
_CURRENCIES: Final[set[str]] = set()
"""currencyIDs already found valid (three capital letters: at most 17,576)."""


def _decimal(text: str | None, node: _Node, rel: str | None) -> Decimal:
    """``text`` (the text of the element at ``rel`` below ``node``) as a decimal number."""
    known = _DECIMALS.get(text)  # type: ignore[arg-type]  # None is never a key
    if known is not None:
        return known
    if text is None:
        raise _missing(_path(node, rel))
    if len(text) > _MAX_NUMBER_CHARS or not _DECIMAL_RE.fullmatch(text):
        raise _invalid(_path(node, rel), f"{text[:_MAX_NUMBER_CHARS]!r} is not a decimal number")
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid literals
        raise _invalid(_path(node, rel), f"{text!r} is not a decimal number") from None
    if len(_DECIMALS) >= _DECIMALS_SIZE:
        _DECIMALS.clear()
    _DECIMALS[text] = value
    return value


def _amount(el: Any, text: str | None, node: _Node, rel: str | None, state: _State | None) -> Decimal:
    """A monetary amount (``el``, at ``rel`` below ``node``); its currencyID is recorded in ``state``
    (unless None)."""
    value = _decimal(text, node, rel)
    currency = el.get("currencyID")
    if currency is not None:
        currency = currency.strip()
    if currency:
        if currency not in _CURRENCIES:
            if not is_currency_code(currency):
                raise _invalid(f"{_path(node, rel)}/@currencyID", f"{currency!r} is not an ISO 4217 code")
            _CURRENCIES.add(currency)
        if state is not None:
            state.currencies.add(currency)
    return value


_STEPS: Final[dict[str, tuple[str, ...]]] = {}
"""``rel`` paths as Clark-notation steps (see :func:`_clark`)."""
_TAGS: Final[dict[str, str]] = {}
"""One-step ``rel`` paths as the Clark tag of their one step."""


def _clark(rel: str) -> tuple[str, ...]:
    """``cac:A/cbc:B`` as Clark-notation steps: ``({urn:...}A, {urn:...}B)`` (remembered)."""
    steps = []
    for step in rel.split("/"):
        prefix, _, local = step.partition(":")
        steps.append(f"{{{NAMESPACES[prefix]}}}{local}")
    if len(steps) == 1:
        _TAGS[rel] = steps[0]
    _STEPS[rel] = tuple(steps)
    return _STEPS[rel]


def _missing(path: str) -> DocumentError:
    return DocumentError("UBL_MISSING_FIELD", f"the document lacks {path}", field=path)


def _invalid(path: str, message: str) -> DocumentError:
    return DocumentError("UBL_INVALID_VALUE", message, field=path)


# --------------------------------------------------------------------------------------------------
# Common aggregates
# --------------------------------------------------------------------------------------------------


def _attr(el: Any, name: str) -> str | None:
    """The attribute ``name`` of ``el``, stripped; None when absent or blank."""
    value = el.get(name)
    return value.strip() or None if isinstance(value, str) else None


_PARTY_REFS: Final[dict[tuple[str, str], PartyRef]] = {}
"""PartyRefs already built, by their (scheme, id) as the document states them: a PartyRef is an
immutable value, and the same parties come back document after document. Emptied when it holds
``_PARTY_REFS_SIZE``."""
_PARTY_REFS_SIZE: Final = 4096


def _party_ref_of(scheme: str, text: str) -> PartyRef:
    key = (scheme, text)
    ref = _PARTY_REFS.get(key)
    if ref is None:
        ref = PartyRef(scheme, text)
        if len(_PARTY_REFS) >= _PARTY_REFS_SIZE:
            _PARTY_REFS.clear()
        _PARTY_REFS[key] = ref
    return ref


def _party_ref(el: Any, scheme: str | None = None) -> PartyRef | None:
    """The identifier element ``el`` as a PartyRef (``scheme``, else its schemeID); None when empty."""
    text = _text(el)
    if text is None:
        return None
    return _party_ref_of(scheme if scheme is not None else _attr(el, "schemeID") or "", text)


def _refs(elements: list[Any]) -> tuple[PartyRef, ...]:
    return tuple([ref for el in elements if (ref := _party_ref(el)) is not None])


def _party(node: _Node) -> Party:
    endpoint = node._find("cbc:EndpointID")
    tax_ids = []
    for scheme_node in node.findall("cac:PartyTaxScheme"):
        company = scheme_node._find("cbc:CompanyID")
        if company is not None:
            ref = _party_ref(company, scheme_node.text_of("cac:TaxScheme/cbc:ID") or "TAX")
            if ref is not None:
                tax_ids.append(ref)
    return Party(
        name=node.first_text("cac:PartyName/cbc:Name"),
        registration_name=node.first_text("cac:PartyLegalEntity/cbc:RegistrationName"),
        endpoint=None if endpoint is None else _party_ref(endpoint),
        identifiers=_refs(node._all("cac:PartyIdentification/cbc:ID")),
        legal_ids=_refs(node._all("cac:PartyLegalEntity/cbc:CompanyID")),
        tax_ids=tuple(tax_ids),
        country=node.text_of("cac:PostalAddress/cac:Country/cbc:IdentificationCode"),
    )


def _tax_category(node: _Node) -> TaxCategory:
    return TaxCategory(
        id=node.req_text("cbc:ID"),
        percent=node.decimal_of("cbc:Percent"),
        scheme=node.text_of("cac:TaxScheme/cbc:ID") or "VAT",
        exemption_reason=node.first_text("cbc:TaxExemptionReason"),
    )


_T = TypeVar("_T")


def _optional(node: _Node | None, parse: Callable[[_Node], _T]) -> _T | None:
    return None if node is None else parse(node)


def _allowance_charge(node: _Node) -> AllowanceCharge:
    return AllowanceCharge(
        is_charge=node.bool_of("cbc:ChargeIndicator"),
        amount=node.req_amount("cbc:Amount"),
        base_amount=node.amount_of("cbc:BaseAmount"),
        multiplier_percent=node.decimal_of("cbc:MultiplierFactorNumeric"),
        reason_code=node.text_of("cbc:AllowanceChargeReasonCode"),
        reason=node.first_text("cbc:AllowanceChargeReason"),
        tax_category=_optional(node.first("cac:TaxCategory"), _tax_category),
    )


def _allowance_charges(node: _Node) -> tuple[AllowanceCharge, ...]:
    return tuple([_allowance_charge(child) for child in node.findall("cac:AllowanceCharge")])


def _price(node: _Node) -> Price:
    base = node._find("cbc:BaseQuantity")
    base_text = None if base is None else _text(base)
    allowance = node.first("cac:AllowanceCharge")  # 0..n in UBL 2.1; the first carries the gross price
    return Price(
        amount=node.req_amount("cbc:PriceAmount"),
        base_quantity=None if base_text is None else _decimal(base_text, node, "cbc:BaseQuantity"),
        base_unit_code=None if base is None else _attr(base, "unitCode"),
        gross_amount=None if allowance is None else allowance.amount_of("cbc:BaseAmount"),
        discount=None if allowance is None else allowance.amount_of("cbc:Amount"),
    )


def _item(node: _Node | None) -> Item:
    if node is None:
        return Item()
    standard = node._find("cac:StandardItemIdentification/cbc:ID")
    standard_text = None if standard is None else _text(standard)
    return Item(
        name=node.text_of("cbc:Name"),
        seller_item_id=node.text_of("cac:SellersItemIdentification/cbc:ID"),
        buyer_item_id=node.text_of("cac:BuyersItemIdentification/cbc:ID"),
        standard_item_id=(
            None
            if standard is None or standard_text is None
            else Identifier(_attr(standard, "schemeID") or "", standard_text)
        ),
    )


def _tax_total(node: _Node) -> tuple[TaxTotal, set[str]]:
    """A TaxTotal and the currencies of its amounts (recorded by the caller, see ``_tax_totals``)."""
    inner = _Node(node.el, node.base, node.rel, _State(node.state.children), node.pos)
    amount_el = inner._find("cbc:TaxAmount")
    if amount_el is None:
        raise _missing(f"{inner.path}/cbc:TaxAmount")
    subtotals = tuple(
        TaxSubtotal(
            taxable_amount=sub.req_amount("cbc:TaxableAmount"),
            tax_amount=sub.req_amount("cbc:TaxAmount"),
            category=_tax_category(sub.require("cac:TaxCategory")),
        )
        for sub in inner.findall("cac:TaxSubtotal")
    )
    total = TaxTotal(
        tax_amount=_amount(amount_el, _text(amount_el), inner, "cbc:TaxAmount", inner.state),
        currency=_attr(amount_el, "currencyID"),
        subtotals=subtotals,
    )
    return total, inner.state.currencies


def _tax_totals(root: _Node, tax_currency: str | None, currency: str | None) -> tuple[TaxTotal, ...]:
    """Every TaxTotal; amounts of the one stated in a separate tax currency are not recorded."""
    totals = []
    for node in root.findall("cac:TaxTotal"):
        total, currencies = _tax_total(node)
        in_tax_currency = (
            tax_currency is not None and tax_currency != currency and total.currency == tax_currency
        )
        if not in_tax_currency:
            root.state.currencies.update(currencies)
        totals.append(total)
    return tuple(totals)


def _monetary_total(node: _Node | None, *, required: tuple[str, ...]) -> MonetaryTotal:
    if node is None:
        return MonetaryTotal()
    for name in required:
        node.req_amount(f"cbc:{name}")
    return MonetaryTotal(
        line_extension=node.amount_of("cbc:LineExtensionAmount"),
        tax_exclusive=node.amount_of("cbc:TaxExclusiveAmount"),
        tax_inclusive=node.amount_of("cbc:TaxInclusiveAmount"),
        allowance_total=node.amount_of("cbc:AllowanceTotalAmount"),
        charge_total=node.amount_of("cbc:ChargeTotalAmount"),
        prepaid=node.amount_of("cbc:PrepaidAmount"),
        payable_rounding=node.amount_of("cbc:PayableRoundingAmount"),
        payable=node.amount_of("cbc:PayableAmount"),
    )


def _header(root: _Node, kind: DocumentKind, data: bytes) -> dict[str, Any]:
    return {
        "kind": kind,
        "id": root.req_text("cbc:ID"),
        "issue_date": root.req_date("cbc:IssueDate"),
        "customization_id": root.text_of("cbc:CustomizationID"),
        "profile_id": root.text_of("cbc:ProfileID"),
        "notes": root.texts_of("cbc:Note"),
        "order_reference": _order_reference(root, kind),
        "order_references": root.texts_of("cac:OrderReference/cbc:ID"),
        "despatch_references": root.texts_of("cac:DespatchDocumentReference/cbc:ID"),
        "receipt_references": root.texts_of("cac:ReceiptDocumentReference/cbc:ID"),
        "source_hash": hash_on_demand(data, document_hash),
    }


def _order_reference(root: _Node, kind: DocumentKind) -> str | None:
    """OrderReference/ID: 0..1 in an invoice, credit note or receipt advice; 0..n in a despatch
    advice (whose lines name their own order), where the first is the header's."""
    ref = (
        root.first("cac:OrderReference")
        if kind is DocumentKind.DESPATCH_ADVICE
        else root.find("cac:OrderReference")
    )
    return None if ref is None else ref.text_of("cbc:ID")


def _order_line_ref(line: _Node) -> tuple[str | None, str | None]:
    """(LineID, OrderReference/ID) of a line's first OrderLineReference (0..n or 1..n in UBL 2.1)."""
    ref = line.first("cac:OrderLineReference")
    if ref is None:
        return None, None
    return ref.text_of("cbc:LineID"), ref.text_of("cac:OrderReference/cbc:ID")


def _first_required(node: _Node, rel: str) -> _Node:
    found = node.first(rel)
    if found is None:
        raise _missing(f"{node.path}/{rel}")
    return found


def _require_lines(root: _Node, tag: str) -> list[_Node]:
    lines = root.findall(tag)
    if not lines:
        raise _missing(f"{root.path}/{tag}")
    return lines


def _quantity(node: _Node, rel: str) -> tuple[Decimal, str | None]:
    el = node._find(rel)
    if el is None:
        raise _missing(f"{node.path}/{rel}")
    return _decimal(_text(el), node, rel), _attr(el, "unitCode")


# --------------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------------


def _order_line(node: _Node) -> Line:
    item = node.find("cac:Item")
    quantity, unit = _quantity(node, "cbc:Quantity")
    return Line(
        id=node.req_text("cbc:ID"),
        quantity=quantity,
        unit_code=unit,
        item=_item(item),
        line_extension_amount=node.amount_of("cbc:LineExtensionAmount"),
        price=_optional(node.find("cac:Price"), _price),
        allowance_charges=_allowance_charges(node),
        tax_category=None
        if item is None
        else _optional(item.first("cac:ClassifiedTaxCategory"), _tax_category),
        note=node.first_text("cbc:Note"),
    )


def _order(root: _Node, data: bytes) -> Order:
    currency = root.currency_of("cbc:DocumentCurrencyCode")
    delivery = root.first("cac:Delivery")  # 0..n
    period = None if delivery is None else delivery.find("cac:RequestedDeliveryPeriod")
    lines = tuple(
        [_order_line(line.require("cac:LineItem")) for line in _require_lines(root, "cac:OrderLine")]
    )
    return Order(
        **_header(root, DocumentKind.ORDER, data),
        currency=currency,
        buyer=_party(root.require("cac:BuyerCustomerParty/cac:Party")),
        seller=_party(root.require("cac:SellerSupplierParty/cac:Party")),
        lines=lines,
        allowance_charges=_allowance_charges(root),
        tax_totals=_tax_totals(root, None, currency),
        monetary_total=_monetary_total(root.find("cac:AnticipatedMonetaryTotal"), required=()),
        payment_terms=root.texts_of("cac:PaymentTerms/cbc:Note"),
        requested_delivery_start=None if period is None else period.date_of("cbc:StartDate"),
        requested_delivery_end=None if period is None else period.date_of("cbc:EndDate"),
        amount_currencies=frozenset(root.state.currencies),
    )


def _invoice_line(node: _Node, quantity_tag: str) -> Line:
    item = node.require("cac:Item")
    quantity, unit = _quantity(node, quantity_tag)
    return Line(
        id=node.req_text("cbc:ID"),
        quantity=quantity,
        unit_code=unit,
        item=_item(item),
        line_extension_amount=node.req_amount("cbc:LineExtensionAmount"),
        price=_price(node.require("cac:Price")),
        order_line_ref=_order_line_ref(node)[0],
        allowance_charges=_allowance_charges(node),
        tax_category=_tax_category(_first_required(item, "cac:ClassifiedTaxCategory")),
        note=node.first_text("cbc:Note"),
    )


def _invoice(root: _Node, data: bytes, kind: DocumentKind) -> Invoice:
    credit = kind is DocumentKind.CREDIT_NOTE
    currency = root.currency_of("cbc:DocumentCurrencyCode")
    if currency is None:
        raise _missing(f"{root.path}/cbc:DocumentCurrencyCode")
    tax_currency = root.currency_of("cbc:TaxCurrencyCode")
    due_date = root.date_of("cbc:DueDate")
    if due_date is None:
        due_date = next(
            (d for means in root.findall("cac:PaymentMeans") if (d := means.date_of("cbc:PaymentDueDate"))),
            None,
        )
    line_tag, quantity_tag = (
        ("cac:CreditNoteLine", "cbc:CreditedQuantity")
        if credit
        else ("cac:InvoiceLine", "cbc:InvoicedQuantity")
    )
    lines = tuple([_invoice_line(line, quantity_tag) for line in _require_lines(root, line_tag)])
    for node in root.findall("cac:AllowanceCharge"):
        if node._find("cac:TaxCategory") is None:  # EN 16931 BR-32 / BR-37: needed for the VAT breakdown
            raise _missing(f"{node.path}/cac:TaxCategory")
    totals = _monetary_total(
        root.require("cac:LegalMonetaryTotal"),
        required=("LineExtensionAmount", "TaxExclusiveAmount", "TaxInclusiveAmount", "PayableAmount"),
    )
    return Invoice(
        **_header(root, kind, data),
        currency=currency,
        tax_currency=tax_currency,
        type_code=root.text_of("cbc:CreditNoteTypeCode" if credit else "cbc:InvoiceTypeCode"),
        due_date=due_date,
        seller=_party(root.require("cac:AccountingSupplierParty/cac:Party")),
        buyer=_party(root.require("cac:AccountingCustomerParty/cac:Party")),
        actual_delivery_date=_optional(
            root.first("cac:Delivery"), lambda d: d.date_of("cbc:ActualDeliveryDate")
        ),
        lines=lines,
        allowance_charges=_allowance_charges(root),
        tax_totals=_tax_totals(root, tax_currency, currency),
        monetary_total=totals,
        payment_terms=root.texts_of("cac:PaymentTerms/cbc:Note"),
        amount_currencies=frozenset(root.state.currencies),
    )


def _delivery_line(node: _Node, quantity_tag: str) -> DeliveryLine:
    quantity, unit = _quantity(node, quantity_tag)
    line_ref, order_ref = _order_line_ref(node)
    return DeliveryLine(
        id=node.req_text("cbc:ID"),
        quantity=quantity,
        unit_code=unit,
        item=_item(node.first("cac:Item")),  # 1..n (despatch) or 0..n (receipt): the first describes it
        order_line_ref=line_ref,
        order_ref=order_ref,
        rejected_quantity=node.decimal_of("cbc:RejectedQuantity") or Decimal(0),
        short_quantity=node.decimal_of("cbc:ShortQuantity") or Decimal(0),
        received_date=node.date_of("cbc:ReceivedDate"),
    )


def _delivery_parties(root: _Node) -> dict[str, Any]:
    return {
        "despatch_supplier": _party(root.require("cac:DespatchSupplierParty/cac:Party")),
        "delivery_customer": _party(root.require("cac:DeliveryCustomerParty/cac:Party")),
        "buyer": _optional(root.find("cac:BuyerCustomerParty/cac:Party"), _party),
        "seller": _optional(root.find("cac:SellerSupplierParty/cac:Party"), _party),
    }


def _despatch_advice(root: _Node, data: bytes) -> DespatchAdvice:
    delivery = root.find("cac:Shipment/cac:Delivery")
    estimated = None if delivery is None else delivery.find("cac:EstimatedDeliveryPeriod")
    lines = tuple(
        [_delivery_line(n, "cbc:DeliveredQuantity") for n in _require_lines(root, "cac:DespatchLine")]
    )
    return DespatchAdvice(
        **_header(root, DocumentKind.DESPATCH_ADVICE, data),
        **_delivery_parties(root),
        lines=lines,
        despatch_date=None if delivery is None else delivery.date_of("cac:Despatch/cbc:ActualDespatchDate"),
        delivery_date=None if delivery is None else delivery.date_of("cbc:ActualDeliveryDate"),
        estimated_delivery_start=None if estimated is None else estimated.date_of("cbc:StartDate"),
        estimated_delivery_end=None if estimated is None else estimated.date_of("cbc:EndDate"),
    )


def _receipt_advice(root: _Node, data: bytes) -> ReceiptAdvice:
    lines = tuple(
        [_delivery_line(n, "cbc:ReceivedQuantity") for n in _require_lines(root, "cac:ReceiptLine")]
    )
    return ReceiptAdvice(
        **_header(root, DocumentKind.RECEIPT_ADVICE, data),
        **_delivery_parties(root),
        lines=lines,
        received_date=root.date_of("cac:Shipment/cac:Delivery/cbc:ActualDeliveryDate"),
    )


def _build(root_el: Any, kind: DocumentKind, data: bytes) -> Document:
    root = _Node(root_el, None, f"/{kind.value}", _State())
    if kind is DocumentKind.ORDER:
        return _order(root, data)
    if kind in (DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE):
        return _invoice(root, data, kind)
    if kind is DocumentKind.DESPATCH_ADVICE:
        return _despatch_advice(root, data)
    return _receipt_advice(root, data)


def parse_document(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH
) -> Document:
    """Parse a UBL 2.1 Order, Invoice, CreditNote, DespatchAdvice or ReceiptAdvice.

    The kind is taken from the root element and its namespace. Raises :class:`DocumentError`.
    """
    root = _load(data, max_bytes=max_bytes, max_depth=max_depth)
    return _build(root, _kind_of(root), bytes(data))


_D = TypeVar("_D", Order, Invoice, DespatchAdvice, ReceiptAdvice)


def _parse_as(
    data: bytes, expected: type[_D], kinds: tuple[DocumentKind, ...], max_bytes: int, max_depth: int
) -> _D:
    root = _load(data, max_bytes=max_bytes, max_depth=max_depth)
    kind = _kind_of(root)
    if kind not in kinds:
        raise DocumentError(
            "UBL_UNKNOWN_DOCUMENT",
            f"expected {' or '.join(k.value for k in kinds)}, got {kind.value}",
            field=f"/{kind.value}",
        )
    document = _build(root, kind, bytes(data))
    assert isinstance(document, expected)
    return document


def parse_order(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH
) -> Order:
    return _parse_as(data, Order, (DocumentKind.ORDER,), max_bytes, max_depth)


def parse_invoice(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH
) -> Invoice:
    """Parse an Invoice or a CreditNote (``kind`` tells them apart)."""
    return _parse_as(data, Invoice, (DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE), max_bytes, max_depth)


def parse_despatch_advice(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH
) -> DespatchAdvice:
    return _parse_as(data, DespatchAdvice, (DocumentKind.DESPATCH_ADVICE,), max_bytes, max_depth)


def parse_receipt_advice(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH
) -> ReceiptAdvice:
    return _parse_as(data, ReceiptAdvice, (DocumentKind.RECEIPT_ADVICE,), max_bytes, max_depth)
