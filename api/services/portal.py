"""The web portal's pages: which role sees which page, and what a page needs from the gateway.

The portal reads and acts only through the HTTP API (its pages' scripts call the same routes, with
the session cookie instead of the key: ``api.auth``), so the data and every rule stay in one place.
This module only says what each role's navigation holds; a page outside it is refused (403 page),
and the API refuses the calls anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.roles import Role


@dataclass(frozen=True)
class Page:
    slug: str  # the path under /app/
    title: str
    roles: frozenset[Role]
    nav: bool = True  # listed in the navigation (a receivable's page is reached from a list)


_EVERYONE = frozenset(Role)
SUPPLIER, CORE, FINANCIER = Role.SUPPLIER, Role.CORE_ENTERPRISE, Role.FINANCIER
OPERATOR, REGULATOR, LOGISTICS = Role.OPERATOR, Role.REGULATOR, Role.LOGISTICS
PRICE_SOURCE = Role.PRICE_SOURCE

#: every page, in navigation order
PAGES: tuple[Page, ...] = (
    Page("home", "Overview", _EVERYONE),
    Page("upload", "Submit documents", frozenset({SUPPLIER})),
    Page("bundles", "Submissions", frozenset({SUPPLIER, CORE, OPERATOR, REGULATOR})),
    Page("holdings", "Holdings", frozenset({SUPPLIER, FINANCIER, CORE, LOGISTICS})),
    Page("payables", "Payables", frozenset({CORE})),
    Page("calendar", "Payment calendar", frozenset({CORE})),
    Page("market", "Market", frozenset({FINANCIER})),
    Page("offers", "Offers", frozenset({FINANCIER, SUPPLIER})),
    Page("portfolio", "Portfolio", frozenset({FINANCIER})),
    Page("settlement", "Settlement tokens", frozenset({FINANCIER, OPERATOR})),
    Page(
        "warehouse",
        "Warehouse receipts",
        frozenset({SUPPLIER, CORE, FINANCIER, LOGISTICS, OPERATOR, REGULATOR}),
    ),
    Page("prices", "Commodity prices", frozenset({PRICE_SOURCE})),
    Page("receivables", "Receivables", frozenset({OPERATOR, REGULATOR})),
    Page("participants", "Participants", frozenset({OPERATOR, REGULATOR})),
    Page("platform", "Platform health", frozenset({OPERATOR, REGULATOR})),
    Page("receivable", "Receivable", _EVERYONE, nav=False),
    Page("profile", "Credit profile", frozenset({SUPPLIER, CORE, FINANCIER, OPERATOR, REGULATOR}), nav=False),
)
_BY_SLUG = {page.slug: page for page in PAGES}


def page(slug: str) -> Page | None:
    """The page at ``/app/<slug>``, or None."""
    return _BY_SLUG.get(slug)


def navigation(role: Role) -> list[Page]:
    """The pages a role's navigation lists, in order."""
    return [p for p in PAGES if p.nav and role in p.roles]
