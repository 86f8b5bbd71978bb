from __future__ import annotations

from collections.abc import Iterator

import pytest

from chain.compiler import Artifact
from tests.api.harness import BUYER_GLN, SELLER_GLN, Actor, Gateway, grant_credit, onboard, start_gateway


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, artifacts: dict[str, Artifact]) -> Iterator[Gateway]:
    gateway = start_gateway(tmp_path_factory.mktemp("gateway"))
    yield gateway
    gateway.stop()


@pytest.fixture(scope="module")
def core(gw: Gateway) -> Actor:
    """Nordvik Retail AB, the buyer in the fixture trade, with a credit line of 1,000,000.00."""
    actor = onboard(gw, "core_enterprise", "Nordvik Retail AB", "SE5566778899", [("0088", BUYER_GLN)])
    resp = grant_credit(gw, actor.participant_id, 100_000_000)
    assert resp.status_code == 200, resp.text
    return actor


@pytest.fixture(scope="module")
def supplier(gw: Gateway) -> Actor:
    """Fabrikant Metall AB, the seller in the fixture trade."""
    return onboard(
        gw,
        "supplier",
        "Fabrikant Metall AB",
        "SE5561234567",
        [("0088", SELLER_GLN), ("VAT", "SE556123456701")],
    )


@pytest.fixture(scope="module")
def other_supplier(gw: Gateway) -> Actor:
    return onboard(gw, "supplier", "Another Supplier Oy", "FI12345678", [("0088", "6410000000017")])
