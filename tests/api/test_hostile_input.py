"""Hostile input is refused before it can hurt: a deeply nested JSON body no longer kills the gateway.

The crash is a segfault, so the gateway under attack runs in a child process: on the old code the child
dies (and the test fails on its exit status) instead of taking the test runner with it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.middleware import json_depth
from chain.settings import PROJECT_ROOT

_CHILD = textwrap.dedent(
    """
    import json, sys
    from starlette.testclient import TestClient
    from api.main import create_app
    from api.settings import Settings

    app = create_app(Settings(data_dir=sys.argv[1], operator_api_key="scf_operator_test_key_0123456789"))
    out = {}
    with TestClient(app, raise_server_exceptions=False) as client:
        deep = b"[" * 100_000 + b"]" * 100_000
        for path in ("/participants", "/bundles", "/bundles/verify", "/offers"):
            r = client.post(path, content=deep, headers={"content-type": "application/json"})
            out[path] = [r.status_code, r.json()["error"]["code"]]
        nested_in_object = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
        headers = {"content-type": "application/json"}
        r = client.post("/participants", content=nested_in_object, headers=headers)
        out["object"] = [r.status_code, r.json()["error"]["code"]]
        # a shallow body still reaches the route: unauthenticated, as before
        r = client.post("/participants", json={"legal_name": "x"})
        out["shallow"] = [r.status_code, r.json()["error"]["code"]]
        out["recursion_limit"] = sys.getrecursionlimit()
    print(json.dumps(out))
    """
)


def test_a_deeply_nested_body_is_refused_and_the_gateway_lives(tmp_path: Path) -> None:
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tmp_path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 0, f"the gateway died (exit {child.returncode}): {child.stderr[-2000:]}"
    out = json.loads(child.stdout.strip().splitlines()[-1])
    for path in ("/participants", "/bundles", "/bundles/verify", "/offers", "object"):
        assert out[path] == [422, "JSON_TOO_DEEP"], path
    assert out["shallow"] == [401, "UNAUTHENTICATED"]
    assert out["recursion_limit"] <= 1000


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        (b"", 0),
        (b"1", 0),
        (b"{}", 1),
        (b'{"a": [1, {"b": []}]}', 4),
        (b'{"a": "[[[[{{{{"}', 1),  # brackets inside a string do not count
        (b'{"a": "\\"[[[", "b": [[]]}', 3),  # an escaped quote does not end the string
        (b'{"a": "\\\\", "b": [[]]}', 3),  # an escaped backslash does
        (b'["\\u005b", ["x"]]', 2),
        (b"[" * 40 + b"]" * 40, 40),
    ],
)
def test_json_depth_counts_nesting_outside_strings(text: bytes, depth: int) -> None:
    assert json_depth(text) == depth


def nesting(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((nesting(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((nesting(v) for v in value), default=0)
    return 0


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\u005bu'),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=20,
)


@given(_JSON, st.booleans())
def test_json_depth_equals_the_nesting_of_any_json_value(value: object, ascii_only: bool) -> None:
    assert json_depth(json.dumps(value, ensure_ascii=ascii_only).encode()) == nesting(value)


def test_json_depth_equals_the_parsers_nesting_on_real_bodies() -> None:

    samples = [
        {"documents": [{"name": "a[1].xml", "content": "eyJ9XQ==", "signature": "x.y.z"}], "attachments": {}},
        {"legal_name": 'Acme "[{" GmbH', "party_identifiers": [{"scheme": "0088", "id": "1}"}]},
        [[[]], [[[{"k": ["\\\\", '\\"', "[{"]}]]]],
    ]
    for sample in samples:
        assert json_depth(json.dumps(sample).encode()) == nesting(sample)
