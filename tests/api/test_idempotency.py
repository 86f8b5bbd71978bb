"""``Idempotency-Key`` as a dependency: a key is bound to the caller, the method and path, and the body;
answers keep their route's declared model and status."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.harness import Actor, Gateway, onboard, start_gateway


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gateway, Actor]]:
    gateway = start_gateway(Path(tmp_path_factory.mktemp("idem")))
    bank = onboard(gateway, "financier", "Idem Bank", "IDEM-BANK-1", [], custodial=True)
    try:
        yield gateway, bank
    finally:
        gateway.stop()


def test_a_key_used_on_another_path_is_refused_not_replayed(gw: tuple[Gateway, Actor]) -> None:
    gateway, bank = gw
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = gateway.request("POST", "/offers/999/cancel", bank.api_key, headers=key)
    assert first.status_code == 404 and first.json()["error"]["code"] == "OFFER_NOT_FOUND"
    again = gateway.request("POST", "/offers/999/cancel", bank.api_key, headers=key)
    assert again.status_code == 404 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    # the same key and the same (empty) body on another offer used to replay "No offer 999."
    other = gateway.request("POST", "/offers/998/cancel", bank.api_key, headers=key)
    assert other.status_code == 422, other.text
    assert other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_idempotent_routes_document_their_model_status_and_key(gw: tuple[Gateway, Actor]) -> None:
    gateway, _ = gw
    spec = gateway.request("GET", "/openapi.json", None).json()
    make_offer = spec["paths"]["/offers"]["post"]
    assert make_offer["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TxOut"
    }
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in make_offer["parameters"])
    submit = spec["paths"]["/bundles"]["post"]
    assert submit["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BundleOut"
    }


def test_a_missing_key_is_400_and_runs_nothing(gw: tuple[Gateway, Actor]) -> None:
    gateway, bank = gw
    resp = gateway.request("POST", "/offers/999/cancel", bank.api_key)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "IDEMPOTENCY_KEY_REQUIRED"
