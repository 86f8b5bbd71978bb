"""Credit profiles through the gateway (issue 14): who may read which profile (each refusal), consents,
the scorecard's arithmetic, the operator's suggestions and the regulator's distribution."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from cli.sample import Actor, Gateway
from domain.credit import DEFAULT_TABLE, table_json
from domain.credit.policy import suggest
from tests.api.harness import (
    BUYER_GLN,
    appoint_issuer,
    bundle_body,
    call_as,
    distinct_trade,
    ok_as,
    onboard,
    trade_parties,
)
from tests.conftest import make_settings


def _refused(gw: Gateway, who: Actor | None, subject: Actor) -> None:
    resp = call_as(gw, who, "GET", f"/credit/profiles/{subject.participant_id}")
    assert resp.status_code == 404, resp.text
    assert resp.json()["error"]["code"] == "CREDIT_PROFILE_NOT_FOUND"


@pytest.fixture(scope="module")
def parties(gw: Gateway) -> tuple[Actor, Actor]:
    """The sample trade's buyer and seller, custodial: the gateway signs their repayment and sale."""
    return trade_parties(gw, custodial=True)


@pytest.fixture(scope="module")
def core(parties: tuple[Actor, Actor]) -> Actor:
    return parties[0]


@pytest.fixture(scope="module")
def supplier(parties: tuple[Actor, Actor]) -> Actor:
    return parties[1]


@pytest.fixture(scope="module")
def world(gw: Gateway, core: Actor, supplier: Actor, other_supplier: Actor) -> dict[str, Any]:
    bank = onboard(gw, "financier", "Credit Bank AG", "DE111111111", [], custodial=True)
    bank2 = onboard(gw, "financier", "Stranger Bank AG", "DE222222222", [], custodial=True)
    regulator = onboard(gw, "regulator", "Supervisor", "SE9999999999", [])
    appoint_issuer(gw, bank.participant_id)
    for to in (bank, core):
        ok_as(
            gw,
            bank,
            "POST",
            "/settlement/mint",
            {"currency": "EUR", "to_participant_id": to.participant_id, "amount": 10**9},
        )
    signers = {"Order": core, "DespatchAdvice": supplier, "Invoice": supplier}
    rids = []
    for tag in ("CR-1", "CR-2"):
        out = ok_as(
            gw, supplier, "POST", "/bundles", bundle_body(distinct_trade(tag, BUYER_GLN), signers), 201
        )
        ok_as(gw, core, "POST", f"/receivables/{out['receivable_id']}/endorse", {"accept": True})
        rids.append(out["receivable_id"])
    return {"bank": bank, "bank2": bank2, "regulator": regulator, "rids": rids}


def test_every_refusal_and_every_reader(
    gw: Gateway, world: dict[str, Any], core: Actor, supplier: Actor, other_supplier: Actor
) -> None:
    bank, bank2, regulator = world["bank"], world["bank2"], world["regulator"]
    # each its own; the regulator all; the operator the core enterprise's only
    for who in (supplier, core, bank, other_supplier):
        ok_as(gw, who, "GET", f"/credit/profiles/{who.participant_id}")
    for subject in (supplier, core, bank, other_supplier):
        ok_as(gw, regulator, "GET", f"/credit/profiles/{subject.participant_id}")
    ok_as(gw, None, "GET", f"/credit/profiles/{core.participant_id}")
    _refused(gw, None, supplier)
    _refused(gw, None, bank)
    # participants do not read each other's
    _refused(gw, supplier, core)
    _refused(gw, core, supplier)
    _refused(gw, other_supplier, supplier)
    _refused(gw, supplier, bank)  # a financier's portfolio: its own and the regulator's
    _refused(gw, bank2, bank)
    # a financier reads the parties of receivables offered to it in the market ...
    for financier in (bank, bank2):
        ok_as(gw, financier, "GET", f"/credit/profiles/{supplier.participant_id}")
        ok_as(gw, financier, "GET", f"/credit/profiles/{core.participant_id}")
    # the offer screen shows both parties' scores and grades, as their profiles give them
    market = {r["receivable_id"]: r for r in ok_as(gw, bank2, "GET", "/discountable?limit=500")["items"]}
    row = market[world["rids"][1]]
    sp = ok_as(gw, bank2, "GET", f"/credit/profiles/{supplier.participant_id}")["scorecard"]
    dp = ok_as(gw, bank2, "GET", f"/credit/profiles/{core.participant_id}")["scorecard"]
    assert row["creditor"]["participant_id"] == supplier.participant_id
    assert (row["creditor_score"], row["creditor_grade"]) == (sp["score"], sp["grade"])
    assert (row["debtor_score"], row["debtor_grade"]) == (dp["score"], dp["grade"])
    # ... not a supplier with none, until it consents (and not after it revokes)
    _refused(gw, bank2, other_supplier)
    given = ok_as(gw, other_supplier, "PUT", f"/credit/consents/{bank2.participant_id}")
    assert given["revoked_at"] is None and given["financier"]["participant_id"] == bank2.participant_id
    assert ok_as(gw, other_supplier, "PUT", f"/credit/consents/{bank2.participant_id}") == given  # idempotent
    ok_as(gw, bank2, "GET", f"/credit/profiles/{other_supplier.participant_id}")
    _refused(gw, bank, other_supplier)  # a consent is to one financier
    revoked = ok_as(gw, other_supplier, "DELETE", f"/credit/consents/{bank2.participant_id}")
    assert revoked["revoked_at"] is not None
    _refused(gw, bank2, other_supplier)
    gone = call_as(gw, other_supplier, "DELETE", f"/credit/consents/{bank2.participant_id}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "CONSENT_NOT_FOUND"
    wrong = call_as(gw, other_supplier, "PUT", f"/credit/consents/{core.participant_id}")
    assert wrong.status_code == 404 and wrong.json()["error"]["code"] == "FINANCIER_NOT_FOUND"
    # the record of consents: the subject's, the financier's, the regulator's
    for who in (other_supplier, bank2, regulator):
        items = ok_as(gw, who, "GET", "/credit/consents")["items"]
        assert [(c["subject"]["participant_id"], c["revoked_at"] is not None) for c in items] == [
            (other_supplier.participant_id, True)
        ]
    assert ok_as(gw, bank, "GET", "/credit/consents")["items"] == []
    # an unknown participant is the same answer as a forbidden one
    nobody = call_as(gw, regulator, "GET", "/credit/profiles/nobody")
    assert nobody.status_code == 404 and nobody.json()["error"]["code"] == "CREDIT_PROFILE_NOT_FOUND"


def test_a_discount_and_a_repayment_show_in_the_profiles(
    gw: Gateway, world: dict[str, Any], core: Actor, supplier: Actor
) -> None:
    bank, regulator = world["bank"], world["regulator"]
    rid = world["rids"][0]
    receivable = ok_as(gw, supplier, "GET", f"/receivables/{rid}")
    face = receivable["face_value_minor"]
    now = gw.state.chain_now()
    offer = ok_as(
        gw,
        bank,
        "POST",
        "/offers",
        {"receivable_id": rid, "max_amount": face // 2, "rate_bps": 600, "expiry": now + 86_400},
        201,
    )
    ok_as(gw, supplier, "POST", f"/offers/{offer['offer_id']}/accept", {"amount": face // 2})
    ok_as(gw, core, "POST", f"/receivables/{rid}/repayments", {"amount": face})  # before its due date

    mine = ok_as(gw, supplier, "GET", f"/credit/profiles/{supplier.participant_id}")
    assert mine["supplier"]["receivables"] >= 2 and mine["supplier"]["financed_minor"] >= face // 2
    card = mine["scorecard"]
    assert card["score"] == card["base"] + sum(f["points"] for f in card["factors"])
    assert card["table_version"] == DEFAULT_TABLE.version and card["grade"] == DEFAULT_TABLE.grade(
        card["score"]
    )
    assert [f["factor"] for f in card["factors"]] == [
        "financed_volume",
        "dispute_share",
        "dilution_share",
        "rejected_endorsements",
        "buyer_concentration",
        "tenure",
    ]
    assert all(r["shortfall"] > 0 for r in card["top_reasons"])

    debtor = ok_as(gw, bank, "GET", f"/credit/profiles/{core.participant_id}")
    assert debtor["debtor"]["repayments_on_time"] == 1 and debtor["debtor"]["repayments_late"] == 0
    assert debtor["as_of_block"] >= 1 and debtor["scorecard"]["factors"][0]["factor"] == "on_time_rate"
    assert debtor["scorecard"]["factors"][0]["value"] == 10_000  # 1 of 1 on time

    # the financier's own record: its purchase, exactly, and the yield of the same sums
    fills = ok_as(gw, bank, "GET", "/portfolio")
    own = ok_as(gw, bank, "GET", f"/credit/profiles/{bank.participant_id}")["financier"]
    assert own["purchases"] == 1 and own["bought_minor"] == face // 2
    assert own["paid_minor"] == fills["lines"][0]["purchase_price_minor"]
    assert own["yield_bps"] == fills["lines"][0]["yield_bps"]  # one purchase: the same yield

    # the bank keeps reading the parties of a receivable it held once it left the market (settled)
    ok_as(gw, bank, "GET", f"/credit/profiles/{supplier.participant_id}")

    # the operator: one row per core enterprise, the suggestion of its grade and record
    rows = ok_as(gw, None, "GET", "/credit/debtors")["items"]
    row = next(r for r in rows if r["participant"]["participant_id"] == core.participant_id)
    profile = ok_as(gw, None, "GET", f"/credit/profiles/{core.participant_id}")
    assert (row["score"], row["grade"]) == (profile["scorecard"]["score"], profile["scorecard"]["grade"])
    expected = suggest(
        profile["scorecard"]["grade"], profile["debtor"]["payables_minor"], profile["tenure_days"]
    )
    assert row["credit_line_minor"] == expected.credit_line_minor
    assert (row["rate_min_bps"], row["rate_max_bps"]) == (expected.rate_min_bps, expected.rate_max_bps)
    forbidden = call_as(gw, supplier, "GET", "/credit/debtors")
    assert forbidden.status_code == 403

    # the regulator: every scored participant counted once, per grade and per band
    dist = {d["role"]: d for d in ok_as(gw, regulator, "GET", "/credit/distribution")}
    assert set(dist) == {"core_enterprise", "supplier"}
    for d in dist.values():
        assert sum(g["participants"] for g in d["grades"]) == d["participants"]
        assert sum(b["participants"] for b in d["scores"]) == d["participants"]
        assert all(b["upper"] - b["lower"] == 20 for b in d["scores"])
    assert dist["supplier"]["participants"] >= 2 and dist["core_enterprise"]["participants"] >= 1
    assert call_as(gw, None, "GET", "/credit/distribution").status_code == 403


def test_the_table_is_a_setting_checked_at_start(tmp_path: Path) -> None:
    own = tmp_path / "table.json"
    own.write_text(table_json(DEFAULT_TABLE).replace('"scf-default-1"', '"bank-2027-1"'), encoding="utf-8")
    assert make_settings(tmp_path, credit_table_file=own).credit_table.version == "bank-2027-1"
    assert make_settings(tmp_path).credit_table is DEFAULT_TABLE
    bad = tmp_path / "bad.json"
    bad.write_text(table_json(DEFAULT_TABLE).replace('"base": 600', '"base": 600.5'), encoding="utf-8")
    for path, says in ((bad, "base"), (tmp_path / "missing.json", "cannot read")):
        with pytest.raises(ValidationError) as caught:
            make_settings(tmp_path, credit_table_file=path)
        assert "SCF_CREDIT_TABLE_FILE" in str(caught.value) and says in str(caught.value)


def test_concurrent_grants_make_one_consent(gw: Gateway, world: dict[str, Any], supplier: Actor) -> None:
    """Six simultaneous grants of one pair: each answered 200 with the same consent, one row open."""
    bank2 = world["bank2"]
    with ThreadPoolExecutor(6) as pool:
        answers = list(
            pool.map(
                lambda _: call_as(gw, supplier, "PUT", f"/credit/consents/{bank2.participant_id}"), range(6)
            )
        )
    assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
    assert len({a.json()["granted_at"] for a in answers}) == 1
    mine = ok_as(gw, supplier, "GET", "/credit/consents")["items"]
    assert [c["revoked_at"] for c in mine if c["financier"]["participant_id"] == bank2.participant_id] == [
        None
    ]
