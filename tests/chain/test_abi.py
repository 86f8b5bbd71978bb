"""chain.abi: custom errors and event logs decoded with eth_utils / eth_abi, and the JSON forms we keep.

``rm_event.args`` is stored JSON that existing read models hold and replay: the exact bytes are pinned
here. The events of the indexed contracts are also checked against web3's own log decoder.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from eth_abi import encode
from eth_abi.codec import ABICodec
from eth_abi.tools import get_abi_strategy
from eth_utils import collapse_if_tuple, keccak
from hexbytes import HexBytes
from hypothesis import given, settings
from hypothesis import strategies as st
from web3 import Web3
from web3._utils.abi import build_strict_registry
from web3._utils.events import get_event_data
from web3.datastructures import AttributeDict
from web3.types import LogReceipt

from chain.abi import DecodedRevert, ErrorDecoder, event_specs, function_specs
from chain.compiler import Artifact
from chain.plan import ARTIFACT_OF
from readmodel.indexer import CONTRACTS, EventDecoder

A = "0x52908400098527886e0f7030069857d2e4169ee7"  # EIP-55 test vector
A_SUM = "0x52908400098527886E0F7030069857D2E4169EE7"
B = "0xde709f2102306220921060314715629080e2fb77"
B_SUM = "0xde709f2102306220921060314715629080e2fb77"  # all lower case is its checksum form
TOKEN = "0x" + "11" * 20


def inp(name: str, type_: str, indexed: bool = False, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "indexed": indexed, **extra}


def event(name: str, *inputs: dict[str, Any]) -> dict[str, Any]:
    return {"type": "event", "name": name, "anonymous": False, "inputs": list(inputs)}


TRANSFER = event(
    "Transfer", inp("from", "address", True), inp("to", "address", True), inp("value", "uint256")
)
BATCH = event(
    "TransferBatch",
    inp("operator", "address", True),
    inp("from", "address", True),
    inp("to", "address", True),
    inp("ids", "uint256[]"),
    inp("values", "uint256[]"),
)
URI = event("URI", inp("value", "string"), inp("id", "uint256", True))
MIXED = event(
    "Mixed",
    inp("reason", "bytes32", True),
    inp("flag", "bool"),
    inp("delta", "int64"),
    inp("blob", "bytes"),
    inp("small", "uint8[2]"),
    inp("who", "address[]"),
    inp("pair", "tuple", components=[{"name": "at", "type": "address"}, {"name": "n", "type": "uint128"}]),
)
HASHED = event(
    "Hashed",
    inp("text", "string", True),
    inp("blob", "bytes", True),
    inp("list", "uint256[]", True),
    inp("fixed", "uint256[2]", True),
    inp("pair", "tuple", True, components=[{"name": "n", "type": "uint256"}]),
)
ABI = [TRANSFER, BATCH, URI, MIXED, HASHED, {**event("Anon", inp("x", "uint256")), "anonymous": True}]


def _dynamic(abi_type: str) -> bool:
    return abi_type in ("string", "bytes") or abi_type.endswith("]") or abi_type.startswith("(")


def log(ev: dict[str, Any], *values: Any, address: str = TOKEN, topics: list[bytes] | None = None) -> Any:
    types = [collapse_if_tuple(i) for i in ev["inputs"]]
    topic0 = keccak(text=f"{ev['name']}({','.join(types)})")
    indexed = [(t, v) for i, t, v in zip(ev["inputs"], types, values, strict=True) if i["indexed"]]
    if topics is None:
        # a value type is its ABI word (bytes16 left-aligned in 32 bytes); a dynamic one is given as its hash
        topics = [v if _dynamic(t) else encode([t], [v]) for t, v in indexed]
    data = [(t, v) for i, t, v in zip(ev["inputs"], types, values, strict=True) if not i["indexed"]]
    return AttributeDict(
        {
            "address": address,
            "topics": [HexBytes(topic0), *map(HexBytes, topics)],
            "data": HexBytes(encode([t for t, _ in data], [v for _, v in data])),
            "blockNumber": 7,
            "blockHash": HexBytes(b"\2" * 32),
            "transactionHash": HexBytes(b"\1" * 32),
            "transactionIndex": 0,
            "logIndex": 3,
        }
    )


@pytest.fixture
def decoder() -> EventDecoder:
    return EventDecoder({"Token": TOKEN}, {"Token": ABI})


def stored(decoded: tuple[str, str, dict[str, Any]]) -> str:
    """What the indexer writes to rm_event.args."""
    return json.dumps(decoded[2], separators=(",", ":"))


# ------------------------------------------------------------------------------------------ events


def test_stored_event_args_are_byte_identical(decoder: EventDecoder) -> None:
    big = 2**256 - 1
    contract, name, _ = got = decoder.decode(log(TRANSFER, A, B, big))
    assert (contract, name) == ("Token", "Transfer")
    assert stored(got) == f'{{"from":"{A_SUM}","to":"{B_SUM}","value":"{big}"}}'

    got = decoder.decode(log(BATCH, A, A, B, [1, 2**70], [0, 5]))
    assert stored(got) == (
        f'{{"operator":"{A_SUM}","from":"{A_SUM}","to":"{B_SUM}","ids":["1","{2**70}"],"values":["0","5"]}}'
    )

    got = decoder.decode(log(URI, "ipfs://x", 42))
    assert got[1] == "URI" and stored(got) == '{"id":"42","value":"ipfs://x"}'  # indexed inputs first

    got = decoder.decode(log(MIXED, b"\xab" * 32, True, -5, b"\x00\x01", [3, 255], [A, B], (A, 9)))
    assert stored(got) == (
        '{"reason":"0x' + "ab" * 32 + '","flag":true,"delta":"-5","blob":"0x0001","small":["3","255"],'
        f'"who":["{A_SUM}","{B_SUM}"],"pair":["{A_SUM}","9"]}}'
    )


def test_indexed_reference_types_are_their_topic_hash(decoder: EventDecoder) -> None:
    hashes = [keccak(text=str(n)) for n in range(5)]
    got = decoder.decode(log(HASHED, "a", b"b", [1], [1, 2], (3,), topics=hashes))
    assert got[1] == "Hashed"
    assert list(got[2].values()) == [HexBytes(h).to_0x_hex() for h in hashes]


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param(log(TRANSFER, A, B, 1, topics=[encode(["address"], [A])]), id="topic-missing"),
        pytest.param(log(TRANSFER, A, B, 1, topics=[encode(["address"], [A])] * 3), id="topic-extra"),
        pytest.param(AttributeDict({**log(URI, "x", 1), "data": HexBytes(b"\0" * 31)}), id="data-short"),
        pytest.param(log(TRANSFER, A, B, 1, address=A), id="other-contract"),
        pytest.param(AttributeDict({**log(TRANSFER, A, B, 1), "topics": []}), id="no-topics"),
        pytest.param(log({**event("Anon", inp("x", "uint256")), "anonymous": True}, 1), id="anonymous"),
    ],
)
def test_logs_that_do_not_match_are_kept_raw(decoder: EventDecoder, entry: LogReceipt) -> None:
    contract, name, args = decoder.decode(entry)
    assert name == "Unknown"
    assert contract == ("Token" if entry["address"] == TOKEN else A_SUM)
    assert args == {
        "topics": [HexBytes(t).to_0x_hex() for t in entry["topics"]],
        "data": HexBytes(entry["data"]).to_0x_hex(),
    }


def test_event_specs_skip_anonymous_events() -> None:
    assert sorted(s.name for s in event_specs(ABI).values()) == [
        "Hashed",
        "Mixed",
        "Transfer",
        "TransferBatch",
        "URI",
    ]


def _web3_json(value: Any) -> Any:
    """A value web3 decoded, in rm_event.args form (the oracle's side)."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return HexBytes(value).to_0x_hex()
    if isinstance(value, Mapping):
        return [_web3_json(v) for v in value.values()]
    return [_web3_json(v) for v in value]


@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_indexed_contract_events_decode_as_web3_does(
    artifacts: dict[str, Artifact], data: st.DataObject
) -> None:
    codec = ABICodec(build_strict_registry())
    for name in sorted({ARTIFACT_OF[n] for n in CONTRACTS}):  # each compiled contract once
        abi = artifacts[name].abi
        decoder = EventDecoder({name: TOKEN}, {name: abi})
        for ev in abi:
            if ev["type"] != "event":
                continue
            entry = log(ev, *(data.draw(get_abi_strategy(collapse_if_tuple(i))) for i in ev["inputs"]))
            expected = get_event_data(codec, ev, entry)["args"]
            assert decoder.decode(entry) == (
                name,
                ev["name"],
                {k: _web3_json(v) for k, v in expected.items()},
            )


# ------------------------------------------------------------------- the clients' fast paths (no web3)


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_calls_encode_as_web3_does(artifacts: dict[str, Artifact], data: st.DataObject) -> None:
    """``ContractClient.encode`` encodes with ``eth_abi`` what web3's ``encode_abi`` would (every
    function of every contract, not overloaded, with any values web3 takes)."""
    w3 = Web3()
    for artifact in artifacts.values():
        contract = w3.eth.contract(abi=artifact.abi)
        for fn, spec in function_specs(artifact.abi).items():
            args = [data.draw(get_abi_strategy(t)) for t in spec.types]
            try:
                expected = contract.encode_abi(fn, args=args)
            except Exception:  # a value web3's strict checks refuse (the fast path falls back to web3)
                continue
            assert spec.encode(args) == expected, fn


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_plain_events_decode_as_web3_does(artifacts: dict[str, Artifact], data: st.DataObject) -> None:
    """``ContractClient.events`` gives an event of value types the arguments web3 gives (integers,
    bytes, checksummed addresses); the others are decoded by web3 itself."""
    codec = ABICodec(build_strict_registry())
    plain = 0
    for artifact in artifacts.values():
        specs = event_specs(artifact.abi)
        for ev in artifact.abi:
            if ev["type"] != "event" or ev.get("anonymous"):
                continue
            spec = specs[keccak(text=f"{ev['name']}({','.join(collapse_if_tuple(i) for i in ev['inputs'])})")]
            if not spec.plain:
                continue
            plain += 1
            entry = log(ev, *(data.draw(get_abi_strategy(collapse_if_tuple(i))) for i in ev["inputs"]))
            expected = dict(get_event_data(codec, ev, entry)["args"])
            got = spec.values([bytes(t) for t in entry["topics"]], bytes(entry["data"]))
            assert got == expected and list(got) == [i["name"] for i in ev["inputs"] if i.get("indexed")] + [
                i["name"] for i in ev["inputs"] if not i.get("indexed")
            ]
    assert plain >= 20  # most of the platform's events take the fast path


# ------------------------------------------------------------------------------------------ errors

ERRORS = [
    {"type": "error", "name": "AlreadyOnboarded", "inputs": [{"name": "account", "type": "address"}]},
    {
        "type": "error",
        "name": "Exceeded",
        "inputs": [
            {"name": "", "type": "uint256"},
            {"name": "reason", "type": "bytes32"},
            {"name": "ok", "type": "bool"},
            {"name": "note", "type": "string"},
        ],
    },
]


def revert(signature: str, types: list[str], values: list[Any]) -> str:
    return HexBytes(keccak(text=signature)[:4] + encode(types, values)).to_0x_hex()


def test_custom_errors_are_decoded_by_name() -> None:
    decoder = ErrorDecoder([ERRORS])
    raw = revert("AlreadyOnboarded(address)", ["address"], [A])
    assert decoder.decode(raw) == DecodedRevert("AlreadyOnboarded", {"account": A_SUM}, raw)
    assert decoder.decode(bytes(HexBytes(raw))) == decoder.decode(raw)

    raw = revert(
        "Exceeded(uint256,bytes32,bool,string)",
        ["uint256", "bytes32", "bool", "string"],
        [7, b"r" * 32, True, "n"],
    )
    got = decoder.decode(raw)
    assert got.args == {"arg0": 7, "reason": "0x" + "72" * 32, "ok": True, "note": "n"}
    assert str(got) == f"Exceeded(arg0=7, reason='0x{'72' * 32}', ok=True, note='n')"


def test_builtin_unknown_and_malformed_reverts() -> None:
    decoder = ErrorDecoder()
    raw = revert("Error(string)", ["string"], ["no"])
    assert decoder.decode(raw) == DecodedRevert("Error", {"message": "no"}, raw)
    raw = revert("Panic(uint256)", ["uint256"], [0x11])
    assert decoder.decode(raw) == DecodedRevert("Panic", {"code": 0x11}, raw)
    assert decoder.decode("0xdeadbeef") == DecodedRevert("UnknownRevert", {}, "0xdeadbeef")
    assert decoder.decode(None) == DecodedRevert("UnknownRevert", {}, "0x")
    raw = revert("Error(string)", ["string"], ["no"])[:-2]
    assert decoder.decode(raw) == DecodedRevert("Error", {}, raw)  # malformed: the name, the raw bytes
    decoder.add(ERRORS)
    raw = revert("AlreadyOnboarded(address)", ["address"], [B])
    assert decoder.decode(raw).args == {"account": B_SUM}
