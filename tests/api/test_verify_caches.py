"""Issue 11: what verification caches never outlives what it caches.

- A certificate's CA signature and profile are remembered once checked (``domain.identity.signing``),
  its revocation never: a signer verified a moment ago is refused the moment its certificate is revoked.
- The ledger's answers are remembered per block (``api.services.ledger_view``): a new block is a new
  view, so the chain's clock and the debtor's credit line move with the chain.
"""

from __future__ import annotations

from tests.api.harness import (
    BUYER_GLN,
    SELLER_GLN,
    Actor,
    Gateway,
    bundle_body,
    grant_credit,
    onboard,
    trade,
)


def _verify(gw: Gateway, supplier: Actor, body: dict[str, object]) -> set[str]:
    resp = gw.request("POST", "/bundles/verify", supplier.api_key, json=body)
    assert resp.status_code == 200, resp.text
    return {v["code"] for v in resp.json()["violations"]}


def test_a_certificate_revoked_after_a_verification_is_refused_at_once(gw: Gateway) -> None:
    core = onboard(gw, "core_enterprise", "Cache Buyer AB", "SE0000000301", [("0088", BUYER_GLN)])
    assert grant_credit(gw, core.participant_id, 10**9).status_code == 200
    supplier = onboard(gw, "supplier", "Cache Seller AB", "SE0000000302", [("0088", SELLER_GLN)])
    body = bundle_body(trade("INV-CACHE-1"), {"Order": core, "DespatchAdvice": supplier, "Invoice": supplier})
    assert _verify(gw, supplier, body) == set()
    assert _verify(gw, supplier, body) == set()  # the certificates' checks are cached now
    resp = gw.request(
        "POST", f"/participants/{core.participant_id}/certificate/revoke", gw.operator_key, json={}
    )
    assert resp.status_code == 200, resp.text
    assert "CERT_REVOKED" in _verify(gw, supplier, body)


def test_ledger_answers_follow_new_blocks(gw: Gateway) -> None:
    core = onboard(gw, "core_enterprise", "Clock Buyer AB", "SE0000000311", [("0088", "7350000000311")])
    supplier = onboard(gw, "supplier", "Clock Seller AB", "SE0000000312", [("0088", "7350000000312")])
    docs = {
        kind: data.replace(BUYER_GLN.encode(), b"7350000000311").replace(
            SELLER_GLN.encode(), b"7350000000312"
        )
        for kind, data in trade("INV-CACHE-2").items()
    }
    body = bundle_body(docs, {"Order": core, "DespatchAdvice": supplier, "Invoice": supplier})
    assert "CREDIT_LIMIT_EXCEEDED" in _verify(gw, supplier, body)  # no line yet, at this block
    assert grant_credit(gw, core.participant_id, 10**9).status_code == 200  # a new block
    assert "CREDIT_LIMIT_EXCEEDED" not in _verify(gw, supplier, body)
    gw.advance_time(400 * 86_400)  # past the invoice's due date, by the chain's clock
    assert "DUE_DATE_PASSED" in _verify(gw, supplier, body)
