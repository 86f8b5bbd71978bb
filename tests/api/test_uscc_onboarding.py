"""Onboarding checks a unified social credit code given as a party identifier (scheme ``USCC``): a code
that is not one is refused with 422 ``PARTY_IDENTIFIER_INVALID`` before anything is stored or sent to the
chain; a valid one is registered (normalized as documents are read), and other schemes are not judged by
its rule."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlmodel import Session, func, select

from api.models import ChainAccount, Participant, PartyIdentifier
from chain.node import rpc
from domain.identifiers import uscc_with_check
from tests.api.harness import Gateway, onboard

#: Made for this test (check characters computed): a Hangzhou company's code, and the same code mistyped.
VALID = uscc_with_check("91330106MA2KQ7L3")
WRONG_CHECK = VALID[:17] + ("0" if VALID[17] != "0" else "1")
WRONG_ORG_CHECK = uscc_with_check(VALID[:16] + ("0" if VALID[16] != "0" else "1"))


def _request(registration_id: str, identifiers: list[tuple[str, str]]) -> dict[str, Any]:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "legal_name": "杭州西湖精工有限公司",
        "registration_id": registration_id,
        "role": "supplier",
        "party_identifiers": [{"scheme": s, "id": i} for s, i in identifiers],
        "signing_key_pem": pem.decode(),
    }


def _footprint(gw: Gateway) -> tuple[int, int, int, int]:
    """Rows of participants, party identifiers and custodial accounts, and the chain's latest block."""
    with Session(gw.state.engine) as session:
        participants, identifiers, accounts = (
            session.exec(select(func.count()).select_from(model)).one()
            for model in (Participant, PartyIdentifier, ChainAccount)
        )
    return participants, identifiers, accounts, int(rpc(gw.anvil.url, "eth_blockNumber"), 16)


def test_an_invalid_uscc_is_refused_and_changes_nothing(gw: Gateway) -> None:
    before = _footprint(gw)
    cases = {
        WRONG_CHECK: "check character (character 18)",
        WRONG_ORG_CHECK: "organization code",
        VALID[:17]: "18 characters",
        VALID[:9] + "I" + VALID[10:]: "Character 10 ('I')",
    }
    for code, problem in cases.items():
        # the registration id is 18 characters as a USCC is: it is not judged, the identifier is
        resp = gw.request(
            "POST",
            "/participants",
            gw.operator_key,
            json=_request(VALID, [("USCC", code), ("0088", "6901234000016")]),
        )
        assert resp.status_code == 422, resp.text
        error = resp.json()["error"]
        assert error["code"] == "PARTY_IDENTIFIER_INVALID", error
        assert problem in error["message"] and code in error["message"], error["message"]
        [detail] = error["details"]
        assert (detail["scheme"], detail["id"]) == ("USCC", code) and problem in detail["problem"]
    # the scheme is read as documents read it: "uscc" is USCC
    resp = gw.request("POST", "/participants", gw.operator_key, json=_request(VALID, [("uscc", WRONG_CHECK)]))
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "PARTY_IDENTIFIER_INVALID"
    assert _footprint(gw) == before
    listed = gw.request("GET", "/participants?limit=200", gw.operator_key).json()["items"]
    assert VALID not in {p["registration_id"] for p in listed}

    # nothing of the refused requests stands in the way: the same registration id, with the right code
    actor = onboard(gw, "supplier", "杭州西湖精工有限公司", VALID, [("USCC", VALID)], custodial=True)
    me = gw.request("GET", "/participants/me", actor.api_key).json()
    assert me["registration_id"] == VALID and me["legal_name"] == "杭州西湖精工有限公司"
    assert me["party_identifiers"] == [{"scheme": "USCC", "id": VALID}]


def test_a_valid_uscc_is_normalized_and_other_schemes_are_not_judged_by_it(gw: Gateway) -> None:
    code = uscc_with_check("91440300MA5FJ2K8")
    # lower case and spaces, as typed: normalized to the code as documents are read, then judged valid
    typed = f"{code[:8].lower()} {code[8:].lower()}"
    actor = onboard(gw, "core_enterprise", "深圳南山装备有限公司", code, [("uscc", typed), ("VAT", "x1")])
    me = gw.request("GET", "/participants/me", actor.api_key).json()
    assert {(i["scheme"], i["id"]) for i in me["party_identifiers"]} == {("USCC", code), ("VAT", "X1")}
    # a registered code is taken: the second onboarding conflicts (409), it is not judged invalid
    resp = gw.request(
        "POST", "/participants", gw.operator_key, json=_request("OTHER-REG-1", [("USCC", code)])
    )
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "PARTICIPANT_EXISTS"
