"""Decoding custom errors and event logs with the contracts' ABIs, for ``chain.client`` and ``readmodel``.

The ABI work is the libraries': type strings, selectors and topics from ``eth_utils``, type grammar and
values from ``eth_abi``. What is ours is how decoded values are presented (``to_json``): addresses
checksummed, bytes as 0x-hex, tuples and arrays as lists, and for ``rm_event.args`` integers as decimal
strings.

web3's ``get_event_data`` would decode a log too, but costs ten times more in the indexer's hot path
(measured on these machines: about 2 ms against 0.1-0.2 ms per ``Transfer`` log), and it reads an indexed
static array or struct as a value where the topic holds its hash. tests/chain/test_abi.py checks that both
decode the indexed contracts' events alike.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from eth_abi.abi import default_codec
from eth_abi.grammar import ABIType, BasicType, TupleType, parse
from eth_typing import ABIError, ABIEvent
from eth_utils import (
    collapse_if_tuple,
    event_abi_to_log_topic,
    function_abi_to_4byte_selector,
    get_abi_input_names,
    get_abi_input_types,
    to_checksum_address,
)
from hexbytes import HexBytes

#: Solidity's built-in errors (``require(cond, "message")`` and failed assertions / arithmetic).
BUILTIN_ERRORS: list[dict[str, Any]] = [
    {"type": "error", "name": "Error", "inputs": [{"name": "message", "type": "string"}]},
    {"type": "error", "name": "Panic", "inputs": [{"name": "code", "type": "uint256"}]},
]


@functools.lru_cache(maxsize=8192)
def checksum(address: str) -> str:
    """The EIP-55 form of ``address`` (cached: a few accounts recur in every batch of logs)."""
    return str(to_checksum_address(address))


def to_json(value: Any, abi_type: ABIType, *, int_as_str: bool = False) -> Any:
    """A value ``eth_abi`` decoded as ``abi_type``, JSON-plain: addresses checksummed, bytes as 0x-hex,
    tuples and arrays as lists, integers as they are or (``int_as_str``) as decimal strings."""
    if abi_type.is_array:
        return [to_json(v, abi_type.item_type, int_as_str=int_as_str) for v in value]
    if isinstance(abi_type, TupleType):
        return [to_json(v, t, int_as_str=int_as_str) for v, t in zip(value, abi_type.components, strict=True)]
    if isinstance(abi_type, BasicType) and abi_type.base == "address":
        return checksum(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if int_as_str and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


# ------------------------------------------------------------------------------------------ errors


@dataclass(frozen=True)
class DecodedRevert:
    """A contract revert, decoded from its custom error (or Error(string)/Panic(uint))."""

    name: str
    args: dict[str, Any]
    raw: str

    def __str__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.args.items())
        return f"{self.name}({inner})"


class ErrorDecoder:
    """Maps 4-byte selectors of custom errors (from contract ABIs) to their ABI entries."""

    def __init__(self, abis: Iterable[list[dict[str, Any]]] = ()) -> None:
        self._errors: dict[bytes, ABIError] = {}
        self.add(BUILTIN_ERRORS)
        for abi in abis:
            self.add(abi)

    def add(self, abi: list[dict[str, Any]]) -> None:
        for item in abi:
            if item.get("type") == "error":
                error = cast(ABIError, item)
                self._errors[function_abi_to_4byte_selector(error)] = error

    def decode(self, data: str | bytes | None) -> DecodedRevert:
        raw = HexBytes(data or b"")
        error = self._errors.get(bytes(raw[:4]))
        if error is None:
            return DecodedRevert("UnknownRevert", {}, raw.to_0x_hex())
        types = get_abi_input_types(error)
        try:
            values = default_codec.decode(types, bytes(raw[4:]))
        except Exception:  # malformed payload: keep the raw bytes
            return DecodedRevert(error["name"], {}, raw.to_0x_hex())
        names = [name or f"arg{n}" for n, name in enumerate(get_abi_input_names(error))]
        args = {n: to_json(v, parse(t)) for n, v, t in zip(names, values, types, strict=True)}
        return DecodedRevert(error["name"], args, raw.to_0x_hex())


# ------------------------------------------------------------------------------------------ events


def _topic_type(indexed: dict[str, Any]) -> str:
    """How an indexed input's topic decodes: a value type as itself; a string, bytes, array or struct
    (a reference type, static or not) is stored as its keccak hash, so as ``bytes32``."""
    abi_type = collapse_if_tuple(indexed)
    parsed = parse(abi_type)
    return "bytes32" if parsed.is_dynamic or parsed.is_array or isinstance(parsed, TupleType) else abi_type


@dataclass(frozen=True)
class EventSpec:
    """One event of an ABI, ready to decode its logs."""

    name: str
    topic: bytes  # topic 0
    names: tuple[str, ...]  # the indexed inputs first, then the others: the order of the decoded args
    topic_types: tuple[str, ...]
    data_types: tuple[str, ...]

    @classmethod
    def of(cls, event: ABIEvent) -> EventSpec:
        indexed = [i for i in event["inputs"] if i.get("indexed")]
        others = [i for i in event["inputs"] if not i.get("indexed")]
        return cls(
            name=event["name"],
            topic=event_abi_to_log_topic(event),
            names=tuple(i["name"] for i in indexed + others),
            topic_types=tuple(_topic_type(cast(dict[str, Any], i)) for i in indexed),
            data_types=tuple(collapse_if_tuple(cast(dict[str, Any], i)) for i in others),
        )

    @property
    def plain(self) -> bool:
        """Every input a value type (no struct, array, string or bytes): ``values`` decodes it."""
        return all(
            not (p.is_array or p.is_dynamic or isinstance(p, TupleType))
            for p in map(parse, self.topic_types + self.data_types)
        )

    def values(self, topics: Sequence[bytes], data: bytes) -> dict[str, Any]:
        """The arguments of a log of a ``plain`` event as web3 gives them: integers, ``bytes``,
        checksummed addresses (inputs in the ABI's order: indexed ones first, as ``names``)."""
        return {n: checksum(v) if t == "address" else v for n, v, t in self._decoded(topics, data)}

    def decode(self, topics: Sequence[bytes], data: bytes) -> dict[str, Any]:
        """The arguments of a log of this event, as ``rm_event.args`` stores them (``to_json`` with
        integers as strings: they may exceed 2^53 and 2^63); an indexed reference type is the 0x-hex
        hash its topic holds. Raises if the log does not match (topic count, data)."""
        return {n: to_json(v, parse(t), int_as_str=True) for n, v, t in self._decoded(topics, data)}

    def _decoded(self, topics: Sequence[bytes], data: bytes) -> list[tuple[str, Any, str]]:
        """(name, value as ``eth_abi`` decodes it, type) of each argument; raises if the log does not
        match (topic count, data)."""
        if len(topics) != 1 + len(self.topic_types) or topics[0] != self.topic:
            raise ValueError(f"{self.name}: expected {1 + len(self.topic_types)} topics, got {len(topics)}")
        values = default_codec.decode(self.topic_types, b"".join(topics[1:])) + default_codec.decode(
            self.data_types, data
        )
        return list(zip(self.names, values, self.topic_types + self.data_types, strict=True))


def event_specs(abi: list[dict[str, Any]]) -> dict[bytes, EventSpec]:
    """The (non-anonymous) events of ``abi`` by their topic 0."""
    events = [cast(ABIEvent, i) for i in abi if i.get("type") == "event" and not i.get("anonymous")]
    return {spec.topic: spec for spec in map(EventSpec.of, events)}


# ------------------------------------------------------------------------------------------ functions


@dataclass(frozen=True)
class FunctionSpec:
    """One (not overloaded) function of an ABI, ready to encode its calls."""

    selector: bytes
    types: tuple[str, ...]

    def encode(self, args: Sequence[Any]) -> str:
        """The call data, 0x-hex (``eth_abi`` refuses a value of the wrong type or size)."""
        return "0x" + (self.selector + default_codec.encode(self.types, list(args))).hex()


def function_specs(abi: list[dict[str, Any]]) -> dict[str, FunctionSpec]:
    """The functions of ``abi`` by name; an overloaded name is left out (web3 picks among them)."""
    functions = [i for i in abi if i.get("type") == "function"]
    names = [f["name"] for f in functions]
    return {
        f["name"]: FunctionSpec(
            function_abi_to_4byte_selector(cast(Any, f)), tuple(get_abi_input_types(cast(Any, f)))
        )
        for f in functions
        if names.count(f["name"]) == 1
    }
