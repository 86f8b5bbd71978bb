"""``GET /participants/directory``: whom a member can pay or deal with. Active members only, by name,
and nothing but id, legal name and role: no chain address, registration id or identifiers, no
suspended member, no regulator, no platform account."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.harness import Gateway, onboard, start_gateway


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = start_gateway(Path(tmp_path_factory.mktemp("directory")))
    try:
        yield gateway
    finally:
        gateway.stop()


def test_the_directory_lists_active_members_by_name_and_nothing_more(gw: Gateway) -> None:
    alpha = onboard(gw, "supplier", "Alpha Castings AB", "SE000DIR0001", [], custodial=True)
    beta = onboard(gw, "supplier", "Beta Casting Oy", "FI000DIR0002", [], custodial=True)
    gone = onboard(gw, "supplier", "Gamma Castings AS", "NO000DIR0003", [], custodial=True)
    bank = onboard(gw, "financier", "Casting Finance", "SE000DIR0004", [], custodial=True)
    onboard(gw, "regulator", "Casting Authority", "SE000DIR0005", [], custodial=True)
    assert (
        gw.request("POST", f"/participants/{gone.participant_id}/suspend", gw.operator_key).status_code == 200
    )

    found = gw.request("GET", "/participants/directory?name=CASTING", alpha.api_key)
    assert found.status_code == 200, found.text
    items = found.json()["items"]
    assert items == [  # by name
        {"id": alpha.participant_id, "legal_name": "Alpha Castings AB", "role": "supplier"},
        {"id": beta.participant_id, "legal_name": "Beta Casting Oy", "role": "supplier"},
        {"id": bank.participant_id, "legal_name": "Casting Finance", "role": "financier"},
    ]
    assert all(set(i) == {"id", "legal_name", "role"} for i in items)

    suppliers = gw.request("GET", "/participants/directory?role=supplier&name=cast", bank.api_key).json()
    assert {i["legal_name"] for i in suppliers["items"]} == {"Alpha Castings AB", "Beta Casting Oy"}
    assert suppliers["total"] == 2
    # the platform's own accounts (the ledger, the market, the verifier) are never listed
    everyone = gw.request("GET", "/participants/directory?limit=500", gw.operator_key).json()["items"]
    assert {i["role"] for i in everyone} <= {"supplier", "core_enterprise", "financier", "logistics"}
    assert gw.request("GET", "/participants/directory", None).status_code == 401
    # the name is text, not a pattern: "%" and "_" match only themselves
    for pattern in ("%", "_", "Alpha%AB"):
        got = gw.request("GET", "/participants/directory", alpha.api_key, params={"name": pattern})
        assert got.status_code == 200 and got.json()["items"] == [], pattern
