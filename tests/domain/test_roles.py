"""The one Role enum: its API, certificate and chain faces agree with the contract and the CA."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domain.roles import Role

REPO = Path(__file__).resolve().parents[2]


def test_chain_codes_follow_the_registry_enum() -> None:
    source = (REPO / "contracts" / "interfaces" / "IParticipantRegistry.sol").read_text()
    body = re.search(r"enum Role\s*\{([^}]*)\}", source)
    assert body is not None
    names = [n.strip() for n in re.sub(r"//[^\n]*", "", body.group(1)).split(",") if n.strip()]
    assert names[0] == "None"
    for code, name in enumerate(names[1:], start=1):
        role = Role.from_chain(code)
        assert role is not None and role.certificate_name == name
        assert role.chain_code == code
    assert Role.from_chain(0) is None
    with pytest.raises(ValueError):
        Role.from_chain(len(names))


def test_certificate_names_round_trip_and_operator_has_no_chain_role() -> None:
    assert Role.CORE_ENTERPRISE.certificate_name == "CoreEnterprise"
    for role in Role:
        if role in (Role.OPERATOR, Role.SYSTEM):
            with pytest.raises(ValueError):
                Role.from_certificate(role.certificate_name)
        else:
            assert Role.from_certificate(role.certificate_name) is role
    with pytest.raises(ValueError):
        _ = Role.OPERATOR.chain_code


def test_only_participant_roles_are_onboardable() -> None:
    assert {r for r in Role if r.onboardable} == {
        Role.SUPPLIER,
        Role.CORE_ENTERPRISE,
        Role.FINANCIER,
        Role.REGULATOR,
        Role.LOGISTICS,
        Role.PRICE_SOURCE,
        Role.CERTIFIER,
    }


def test_the_ca_certifies_no_operator_or_system_identity() -> None:
    from domain.identity import ParticipantIdentity

    for role in (Role.OPERATOR, Role.SYSTEM):
        assert not role.certified
        with pytest.raises(ValueError, match="no certificate"):
            ParticipantIdentity("Acme", "DE1", role, "0x" + "11" * 20)
    assert ParticipantIdentity("Acme", "DE1", "Supplier", "0x" + "11" * 20).role is Role.SUPPLIER
    assert (
        ParticipantIdentity("Acme", "DE1", "core_enterprise", "0x" + "11" * 20).role is Role.CORE_ENTERPRISE
    )
