"""Request guards that run before FastAPI reads a body: its size (413 ``REQUEST_TOO_LARGE``, checked
before the body is read whole) and its JSON nesting (422 ``JSON_TOO_DEEP``, checked before it is parsed).
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._reject(send)

    async def _reject(self, send: Send) -> None:
        await _send_error(send, 413, "REQUEST_TOO_LARGE", f"The body exceeds {self.max_bytes} bytes.")


#: The bytes that matter to nesting: quotes, backslashes (escapes inside strings) and brackets.
_STRUCTURAL = re.compile(rb'["\\\[\]{}]')


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in ``body``, read as JSON text without parsing it
    (brackets inside strings do not count). Linear in the number of structural bytes."""
    depth = deepest = 0
    in_string = False
    escape_at = -1  # the position a backslash inside a string escapes
    for match in _STRUCTURAL.finditer(body):
        char, at = match.group(), match.start()
        if in_string:
            if at == escape_at:  # this byte is escaped: it neither escapes nor ends the string
                continue
            if char == b"\\":
                escape_at = at + 1
            elif char == b'"':
                in_string = False
            continue
        if char == b'"':
            in_string = True
        elif char in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif char in (b"]", b"}"):
            depth -= 1
    return deepest


class JsonDepthLimit:
    """Refuse a body nested deeper than ``max_depth`` before anything parses it (a deep enough body
    exhausts the parser's stack; no endpoint takes more than a few levels). The body, bounded by
    ``BodySizeLimit`` outside this guard, is read whole, checked, and handed on unchanged."""

    def __init__(self, app: ASGIApp, max_depth: int) -> None:
        self.app = app
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: let the app see it
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if json_depth(body) > self.max_depth:
            await _send_error(
                send,
                422,
                "JSON_TOO_DEEP",
                f"The body nests arrays and objects deeper than {self.max_depth} levels.",
            )
            return
        await self.app(
            scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send
        )


def _replay(messages: list[Message], then: Receive) -> Receive:
    """``messages`` first, then whatever the client sends next (its disconnect)."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await then()

    return replay


async def _send_error(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message, "details": None}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
