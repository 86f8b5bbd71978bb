"""Market profiles: what differs between the markets the platform serves, as one named set of defaults.

A deployment runs one profile (``SCF_PROFILE``; each value can still be set on its own):

- ``cn`` (the default: the platform's first users are Chinese supply chains). Receivables in CNY; a tenor of
  6 months in principle and 1 year at most, the rule for Chinese supply-chain payment vouchers (the
  People's Bank of China's rules for supply-chain bills and the industry's receivable vouchers: due
  "within 6 months in principle, at most 1 year"). Parties are identified by their unified social credit
  code (统一社会信用代码, GB 32100-2015, ``domain.identifiers``).
- ``eu``: receivables in EUR, due within 180 days (the tenor the platform kept before profiles), parties
  identified by their VAT or registry numbers (Peppol's ISO 6523 schemes).

Tenors are counted in days from the invoice's issue date to its due date. Above ``principle_tenor_days`` and
up to ``max_tenor_days`` an invoice is accepted and flagged (``tenor_above_principle``); above
``max_tenor_days`` it is refused (``DATE_TENOR_EXCEEDED``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ProfileName = Literal["cn", "eu"]


@dataclass(frozen=True)
class MarketProfile:
    name: ProfileName
    currency: str  # ISO 4217: the portal's and the demo's default currency
    principle_tenor_days: int
    max_tenor_days: int
    description: str


PROFILES: dict[ProfileName, MarketProfile] = {
    "cn": MarketProfile(
        name="cn",
        currency="CNY",
        principle_tenor_days=183,  # 6 months
        max_tenor_days=365,  # 1 year
        description="Chinese supply chains: CNY, 6 months in principle, 1 year at most",
    ),
    "eu": MarketProfile(
        name="eu",
        currency="EUR",
        principle_tenor_days=180,
        max_tenor_days=180,
        description="European supply chains: EUR, 180 days at most",
    ),
}
