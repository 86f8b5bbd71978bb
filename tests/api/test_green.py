"""Green receivables through the gateway (issue 14, part 2): every refusal of an attestation leaves no
label on chain; a programme's rate is applied exactly to new offers; a withdrawn label stops it; the
reports add up."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from cli.sample import Actor, Gateway
from domain.green.attestation import verify_attestation
from domain.maths import discount_price
from readmodel.reconcile import compare_with_chain
from readmodel.tables import RmGreenLabel
from tests.api.harness import (
    BUYER_GLN,
    appoint_issuer,
    bundle_body,
    call_as,
    distinct_trade,
    green_attestation,
    ok_as,
    onboard,
    trade_parties,
)


def _code(resp: httpx.Response) -> str:
    return str(resp.json()["error"]["code"])


@pytest.fixture(scope="module")
def w(gw: Gateway) -> dict[str, Any]:
    core, supplier = trade_parties(gw, custodial=True)
    o = lambda *a: onboard(gw, *a, custodial=True)  # noqa: E731
    actors = {
        "core": core,
        "supplier": supplier,
        "bank": o("financier", "Green Bank AG", "DE333333333", []),
        "bank2": o("financier", "Grey Bank AG", "DE444444444", []),
        "certifier": o("certifier", "China Green Assessors Ltd.", "91110000MA01GREEN1", []),
        "certifier2": o("certifier", "Other Assessors Ltd.", "91110000MA01GREEN2", []),
        "regulator": o("regulator", "Supervisor", "SE9999999998", []),
    }
    for bank in ("bank", "bank2"):
        appoint_issuer(gw, actors[bank].participant_id)
        ok_as(
            gw,
            actors[bank],
            "POST",
            "/settlement/mint",
            {"currency": "EUR", "to_participant_id": actors[bank].participant_id, "amount": 10**9},
        )
    signers = {"Order": core, "DespatchAdvice": supplier, "Invoice": supplier}
    rids = {}
    for tag in ("G-1", "G-2", "G-3"):
        out = ok_as(
            gw, supplier, "POST", "/bundles", bundle_body(distinct_trade(tag, BUYER_GLN), signers), 201
        )
        ok_as(gw, core, "POST", f"/receivables/{out['receivable_id']}/endorse", {"accept": True})
        rids[tag] = out["receivable_id"]
    return {**actors, "rids": rids}


def _fingerprint(gw: Gateway, w: dict[str, Any], rid: int) -> str:
    """What the supplier hands its certifier with the evidence: the receivable's id and fingerprint."""
    return str(ok_as(gw, w["supplier"], "GET", f"/receivables/{rid}")["fingerprint"])


def _attestation(
    gw: Gateway, w: dict[str, Any], signer: Actor, rid: int, *, kg: int = 50_000, **over: Any
) -> dict[str, str]:
    today = datetime.fromtimestamp(gw.state.chain_now(), UTC).date()
    fields = {"benefit": {"kg_co2e": kg, "method": "GHG Protocol, grid-average avoided emissions"}, **over}
    fingerprint = fields.pop("fingerprint", None) or _fingerprint(gw, w, rid)
    return green_attestation(signer, rid, fingerprint, today, **fields)


def test_every_refused_attestation_leaves_no_label(gw: Gateway, w: dict[str, Any]) -> None:
    rid, rid2 = w["rids"]["G-1"], w["rids"]["G-2"]
    certifier, green = w["certifier"], gw.state.chain().platform.green
    good = _attestation(gw, w, certifier, rid)
    forged = {
        **good,
        "attestation_base64": _attestation(gw, w, certifier, rid, kg=9_999_999)["attestation_base64"],
    }
    today = datetime.fromtimestamp(gw.state.chain_now(), UTC).date()
    refusals = [
        (certifier, forged, 422, "SIG_INVALID"),
        (
            certifier,
            _attestation(
                gw,
                w,
                certifier,
                rid,
                valid_from=(today - timedelta(days=30)).isoformat(),
                valid_until=(today - timedelta(days=1)).isoformat(),
            ),
            422,
            "ATTESTATION_EXPIRED",
        ),
        (
            certifier,
            _attestation(gw, w, w["supplier"], rid),
            422,
            "SIG_ROLE_MISMATCH",
        ),  # a non-certifier signed
        (w["supplier"], good, 403, "FORBIDDEN_ROLE"),  # a non-certifier records
        (w["bank"], good, 403, "FORBIDDEN_ROLE"),
        (certifier, _attestation(gw, w, certifier, rid2), 422, "ATTESTATION_RECEIVABLE_MISMATCH"),
        (
            certifier,
            _attestation(gw, w, certifier, rid, fingerprint=_fingerprint(gw, w, rid2)),
            422,
            "ATTESTATION_RECEIVABLE_MISMATCH",
        ),
        (certifier, _attestation(gw, w, w["certifier2"], rid), 422, "ATTESTATION_NOT_YOURS"),
        (certifier, {**good, "attestation_base64": "not base64!"}, 422, "ATTESTATION_MALFORMED"),
        (
            certifier,
            _attestation(gw, w, certifier, rid, catalogue="MADE-UP"),
            422,
            "ATTESTATION_CATALOGUE_UNKNOWN",
        ),
    ]
    for who, body, status, code in refusals:
        resp = call_as(gw, who, "POST", f"/green/labels/{rid}", body)
        assert (resp.status_code, _code(resp)) == (status, code), resp.text
        assert not green.is_green(rid)
    missing = call_as(gw, certifier, "POST", "/green/labels/999999", _attestation(gw, w, certifier, rid))
    assert missing.status_code == 404
    ok_as(gw, certifier, "POST", f"/green/labels/{rid}", good)
    assert green.is_green(rid)
    again = call_as(gw, certifier, "POST", f"/green/labels/{rid}", _attestation(gw, w, certifier, rid))
    assert again.status_code == 409 and _code(again) == "CHAIN_ALREADY_LABELLED", again.text


def test_a_programme_prices_green_offers_and_a_withdrawal_stops_it(gw: Gateway, w: dict[str, Any]) -> None:
    rid, rid2, rid3 = (w["rids"][t] for t in ("G-1", "G-2", "G-3"))
    bank, bank2, core = w["bank"], w["bank2"], w["core"]
    ok_as(
        gw,
        w["certifier"],
        "POST",
        f"/green/labels/{rid3}",
        _attestation(gw, w, w["certifier"], rid3, kg=20_000),
    )
    label = ok_as(gw, bank2, "GET", f"/green/labels/{rid}")  # a financier reads it while in the market
    assert (label["catalogue"], label["category"], label["live"], label["benefit_kg_co2e"]) == (
        "CN-GFSPC-2025",
        "3.2.1",
        True,
        50_000,
    )
    hidden = call_as(gw, w["certifier2"], "GET", f"/green/labels/{rid}")
    assert hidden.status_code == 404 and _code(hidden) == "LABEL_NOT_FOUND"
    # the attestation behind it: what the certifier signed, its hash the one on chain, its signature good
    kept = ok_as(gw, bank2, "GET", f"/green/labels/{rid}/attestation")
    payload = base64.b64decode(kept["attestation_base64"])
    on_chain = gw.state.chain().platform.green.label_of(rid).attestation_hash
    assert hashlib.sha256(payload).digest() == on_chain and "0x" + kept["sha256"] == label["attestation_hash"]
    fingerprint = _fingerprint(gw, w, rid)
    checked = verify_attestation(
        payload,
        kept["signature"],
        receivable_id=rid,
        receivable_of=lambda fp: rid if fp == fingerprint else 0,
        ca_cert=gw.state.ca().certificate,
        is_revoked=set(),
        today=datetime.fromtimestamp(gw.state.chain_now(), UTC).date(),
    )
    assert checked.signer_chain_address.lower() == w["certifier"].address.lower()
    hidden = call_as(gw, w["certifier2"], "GET", f"/green/labels/{rid}/attestation")
    assert hidden.status_code == 404 and _code(hidden) == "LABEL_NOT_FOUND"

    ok_as(gw, bank, "PUT", f"/green/programmes/{core.participant_id}", {"discount_bps": 150})
    assert [p["discount_bps"] for p in ok_as(gw, core, "GET", "/green/programmes")] == [150]
    assert ok_as(gw, bank2, "GET", "/green/programmes") == []
    refused = call_as(
        gw, w["supplier"], "PUT", f"/green/programmes/{core.participant_id}", {"discount_bps": 1}
    )
    assert refused.status_code == 403

    expiry = gw.state.chain_now() + 86_400

    def offer(who: Actor, receivable: int, rate: int = 600) -> dict[str, Any]:
        made = ok_as(
            gw,
            who,
            "POST",
            "/offers",
            {"receivable_id": receivable, "max_amount": 100_000, "rate_bps": rate, "expiry": expiry},
            201,
        )
        offers = ok_as(gw, who, "GET", f"/offers?receivable_id={receivable}")["items"]
        return next(o for o in offers if o["offer_id"] == made["offer_id"])

    green_offer = offer(bank, rid)
    assert (green_offer["rate_bps"], green_offer["standard_rate_bps"], green_offer["green_discount_bps"]) == (
        450,
        600,
        150,
    )
    assert offer(bank, rid2)["rate_bps"] == 600  # not green
    assert offer(bank2, rid)["rate_bps"] == 600  # no programme
    assert offer(bank, rid, rate=100)["rate_bps"] == 0  # never below 0

    # the holder's quote and the fill are priced at the applied rate, exactly
    receivable = ok_as(gw, w["supplier"], "GET", f"/receivables/{rid}")
    quote = ok_as(gw, w["supplier"], "GET", f"/offers/{green_offer['offer_id']}/quote?amount=100000")
    due = int(datetime.fromisoformat(receivable["due_date"]).replace(tzinfo=UTC).timestamp())
    now = gw.state.chain_now()
    assert quote["price_minor"] in {discount_price(100_000, 450, due, t)[0] for t in (now, now + 1, now + 2)}
    ok_as(gw, w["supplier"], "POST", f"/offers/{green_offer['offer_id']}/accept", {"amount": 100_000})

    # reports: overseers see the platform, a financier its purchases
    by_category = ok_as(gw, w["regulator"], "GET", "/green/report?by=category")
    faces = {
        r: ok_as(gw, w["supplier"], "GET", f"/receivables/{r}")["face_value_minor"] for r in (rid, rid2, rid3)
    }
    (line,) = by_category["lines"]
    assert (line["key"], line["receivables"]) == ("CN-GFSPC-2025 3.2.1", 2)
    assert line["green_minor"] == faces[rid] + faces[rid3] and line["benefit_kg_co2e"] == 70_000
    assert line["green_share_bps"] == line["green_minor"] * 10_000 // line["total_minor"]
    assert line["total_minor"] >= sum(faces.values())
    mine = ok_as(gw, bank, "GET", "/green/report?by=financier")["lines"]
    assert [(x["key"], x["green_minor"], x["total_minor"]) for x in mine] == [
        (bank.participant_id, 100_000, 100_000)
    ]
    assert mine[0]["benefit_kg_co2e"] == 50_000 * 100_000 // faces[rid]
    assert ok_as(gw, bank2, "GET", "/green/report?by=financier")["lines"] == []
    csv = call_as(gw, w["regulator"], "GET", "/green/report?by=debtor&format=csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert core.participant_id in csv.text
    assert call_as(gw, w["supplier"], "GET", "/green/report").status_code == 403

    # greenwashing found: another certifier cannot withdraw, a regulator can; new offers lose the preference
    wrong = call_as(gw, w["certifier2"], "POST", f"/green/labels/{rid}/withdrawal", {"reason": "not mine"})
    assert wrong.status_code in (403, 409, 422) and _code(wrong) == "CHAIN_NOT_LABEL_CERTIFIER", wrong.text
    ok_as(gw, w["regulator"], "POST", f"/green/labels/{rid}/withdrawal", {"reason": "greenwashing"})
    assert not gw.state.chain().platform.green.is_green(rid)
    after = offer(bank, rid)
    assert (after["rate_bps"], after["green_discount_bps"]) == (600, 0)
    before = ok_as(gw, bank, "GET", f"/offers?receivable_id={rid}")["items"]
    assert next(o for o in before if o["offer_id"] == green_offer["offer_id"])["rate_bps"] == 450
    withdrawn = ok_as(gw, w["regulator"], "GET", f"/green/labels/{rid}")
    assert (withdrawn["live"], withdrawn["withdrawn"]) == (False, True)
    (line,) = ok_as(gw, w["regulator"], "GET", "/green/report")["lines"]
    assert (line["receivables"], line["benefit_kg_co2e"]) == (1, 20_000)  # only the live label counts
    # the read model's labels, programmes and offers' preferences equal the contracts' views
    gw.state.chain().indexer.run_once()
    assert compare_with_chain(gw.state.chain().platform, gw.state.engine) == []
    with Session(gw.state.engine) as s:  # and a row that drifted is caught
        row = s.get(RmGreenLabel, rid3)
        assert row is not None
        row.benefit_kg = "1"
        s.add(row)
        s.commit()
    assert [d for d in compare_with_chain(gw.state.chain().platform, gw.state.engine) if "green label" in d]


def test_a_label_recorded_without_the_gateway_has_no_attestation_to_show(
    gw: Gateway, w: dict[str, Any]
) -> None:
    """The certifier's key calls the contract directly (as a self-custody certifier could): the label is
    on chain and read, but the gateway holds no attestation for it."""
    from api.models import Participant
    from api.services.accounts import sender_for

    rid = w["rids"]["G-2"]
    with Session(gw.state.engine) as s:
        certifier = s.get(Participant, w["certifier"].participant_id)
        assert certifier is not None
        sender = sender_for(gw.state, s, certifier)
    until = gw.state.chain_now() + 30 * 86_400
    gw.state.chain().platform.green.label(
        sender,
        rid,
        b"LMA-GLP".ljust(32, b"\0"),
        b"green_buildings".ljust(32, b"\0"),
        b"\x01" * 32,
        until,
        0,
        b"\x02" * 32,
    )
    assert ok_as(gw, w["regulator"], "GET", f"/green/labels/{rid}")["category"] == "green_buildings"
    missing = call_as(gw, w["regulator"], "GET", f"/green/labels/{rid}/attestation")
    assert missing.status_code == 404 and _code(missing) == "ATTESTATION_NOT_FOUND"
