"""Property-based API testing with schemathesis against the live OpenAPI document of a real gateway (Anvil,
deployed contracts, SQLite, uvicorn), as the operator and as a supplier.

Every operation gets ``SCF_FUZZ_EXAMPLES`` generated requests per caller (default 5: ``make pytest``;
``make fuzz`` runs 50). Each answer must be no server error (5xx but 503), a status the document
declares for the operation, a declared content type and a body and headers that fit the declared schema.
Every failure of every operation is reported at once.

``test_the_openapi_document_declares_every_shared_status`` checks the document itself, without a gateway.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.main import create_app
from api.settings import Settings
from tests.api.harness import Actor, Gateway, onboard, start_gateway

EXAMPLES = int(os.environ.get("SCF_FUZZ_EXAMPLES", "5"))
#: Seconds per caller after which the operations left are not fuzzed (they are named in the summary);
#: 0: no bound (``make fuzz``). The default keeps ``make pytest`` well under a minute for this file.
BUDGET = float(os.environ.get("SCF_FUZZ_SECONDS", "40"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gateway, dict[str, Actor]]]:
    gw = start_gateway(Path(tmp_path_factory.mktemp("fuzz")))
    actors = {
        "supplier": onboard(gw, "supplier", "Fuzz Supplier AB", "FUZZ-S", [("0088", "7350000000903")]),
        "core_enterprise": onboard(gw, "core_enterprise", "Fuzz Core AB", "FUZZ-C", [], custodial=True),
        "financier": onboard(gw, "financier", "Fuzz Bank", "FUZZ-F", [], custodial=True),
    }
    try:
        yield gw, actors
    finally:
        gw.stop()


def _no_server_error_but_503(ctx: Any, response: Any, case: Any) -> bool | None:
    """5xx is a failure, except 503: the node or the database is away (declared, with Retry-After)."""
    if response.status_code == 503:
        return None
    return not_a_server_error(ctx, response, case)


def fuzz(gw: Gateway, api_key: str) -> tuple[list[str], dict[str, int], list[str], float]:
    """Every operation of the live document, ``EXAMPLES`` cases each: (failures, statuses seen, operations
    left out by the time budget, seconds)."""
    schema = schemathesis.openapi.from_url(f"{gw.url}/openapi.json")
    schema.config.update(base_url=gw.url)
    failures: list[str] = []
    statuses: dict[str, int] = {}
    left_out: list[str] = []
    started = time.monotonic()
    with requests.Session() as session:
        for result in schema.get_all_operations():
            operation = result.ok()
            if BUDGET and time.monotonic() - started > BUDGET:
                left_out.append(operation.label)
                continue
            auth = {"Authorization": f"Bearer {api_key}"}
            # valid requests (they must pass validation and reach the service) and invalid ones (they
            # must be refused with a declared 4xx), half and half
            strategy = st.one_of(
                operation.as_strategy(GenerationMode.POSITIVE, headers=auth),
                operation.as_strategy(GenerationMode.NEGATIVE, headers=auth),
            )

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],  # no shrinking: every failure is reported as found
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def run(case: Any) -> None:
                response = case.call(session=session, timeout=60)
                key = f"{response.status_code}"
                statuses[key] = statuses.get(key, 0) + 1
                case.validate_response(
                    response,
                    checks=[_no_server_error_but_503, *CHECKS[1:]],
                )

            try:
                run()
            except Exception as exc:
                failures.append(f"{operation.label}: {exc}"[:3000])
    return failures, statuses, left_out, time.monotonic() - started


@pytest.mark.parametrize("who", ["operator", "supplier"])
def test_every_operation_holds_to_the_openapi_document(
    fuzzed: tuple[Gateway, dict[str, Actor]], who: str, capsys: pytest.CaptureFixture[str]
) -> None:
    gw, actors = fuzzed
    key = gw.operator_key if who == "operator" else actors["supplier"].api_key
    failures, statuses, left_out, seconds = fuzz(gw, key)
    with capsys.disabled():
        total = sum(statuses.values())
        if left_out:
            print(
                f"\nschemathesis as {who}: out of time (SCF_FUZZ_SECONDS={BUDGET:g}), not fuzzed: {left_out}"
            )
        print(
            f"\nschemathesis as {who}: {total} requests, {EXAMPLES} examples/operation, {seconds:.1f} s, "
            f"statuses {dict(sorted(statuses.items()))}, {len(failures)} failing operations"
        )
    assert not failures, "\n\n".join(failures)
    assert not any(s.startswith("5") and s != "503" for s in statuses)


# ------------------------------------------------------------------------- the document itself


def test_the_openapi_document_declares_every_shared_status(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, operator_api_key="scf_operator_test_key_0123456789"))
    spec = app.openapi()
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
    operations = [(m.upper(), p, op) for p, ops in spec["paths"].items() for m, op in ops.items()]
    assert len(operations) >= 40
    for method, path, op in operations:
        responses = op["responses"]
        where = f"{method} {path}"
        for status in ("413", "500", "503"):
            assert status in responses, f"{where} lacks {status}"
        assert "Retry-After" in responses["503"]["headers"], where
        for status, response in responses.items():
            if int(status) >= 400:
                assert response["content"] == error, f"{where} {status}"
        names = {p["name"].lower() for p in op.get("parameters", [])}
        if "authorization" in names:
            assert {"401", "403"} <= set(responses), where
        if names or "requestBody" in op or method != "GET":
            assert "422" in responses, where
        if "idempotency-key" in names:
            assert {"400", "409", "422"} <= set(responses), where
            success = next(s for s in responses if s.startswith("2"))
            assert "Idempotent-Replayed" in responses[success]["headers"], where
        if "format" in names:
            assert "text/csv" in responses["200"]["content"], where
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    idempotent = [
        p for m, p, op in operations if m == "POST" and "Idempotency-Key" in str(op.get("parameters"))
    ]
    assert "/bundles" in idempotent and "/offers" in idempotent
