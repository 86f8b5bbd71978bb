"""Request guards that run before FastAPI reads a body: its size (413 ``REQUEST_TOO_LARGE``, checked
before the body is read whole) and its JSON nesting (422 ``JSON_TOO_DEEP``, checked before it is parsed);
and, outside them all, ``UnexpectedErrors``: a bug is answered 500 ``INTERNAL_ERROR`` in the envelope.
"""

from __future__ import annotations

import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_envelope

log = logging.getLogger(__name__)

#: What the client is told about an unexpected error: never the exception's own text (it may carry a
#: secret, a key, a node URL with credentials); the log has the traceback.
INTERNAL_ERROR_MESSAGE = "An unexpected error occurred; it has been logged. The request may be retried."


class UnexpectedErrors:
    """The outermost guard: an exception nothing else answered (a bug in a route, a service or a guard)
    is logged with its traceback and answered 500 ``INTERNAL_ERROR`` in the JSON envelope.

    Starlette's own last resort (``ServerErrorMiddleware``, outside every added middleware) answers plain
    text and re-raises, and uvicorn then closes the client's keep-alive connection. Here the exception
    stops: the answer is complete and the connection stays usable. Only when the response had already
    started (half an answer is out) is it re-raised, since closing the connection is then the one way
    to tell the client.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            log.exception("unexpected error answering %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await _send_error(send, 500, "INTERNAL_ERROR", INTERNAL_ERROR_MESSAGE)


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


#: Every byte but the brackets (braces are folded into brackets first).
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]")
_FOLD_BRACES = bytes.maketrans(b"{}", b"[]")


def json_depth(body: bytes, limit: int | None = None) -> int:
    """The deepest nesting of arrays and objects in ``body``, read as JSON text without parsing it:
    brackets inside strings do not count. With ``limit``, counting stops above it (the result is then
    ``limit + 1``).

    Every step is a C-speed bytes operation, so an adversarial body of the largest accepted size costs
    milliseconds, not seconds: escaped backslashes and escaped quotes are dropped, the text is split at
    the remaining quotes and only what lies outside strings is kept, its brackets are kept alone, and
    then each pass removes every innermost ``[]`` pair: the number of passes is the depth. Brackets left
    unmatched (invalid JSON) count as nesting too.
    """
    plain = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = b"".join(plain.split(b'"')[0::2])
    brackets = outside.translate(_FOLD_BRACES).translate(None, _NOT_BRACKETS)
    depth = 0
    cap = limit + 1 if limit is not None else None
    while brackets:
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):  # only unmatched brackets are left
            depth = max(depth, brackets.count(b"["), brackets.count(b"]"))
            break
        brackets = shorter
        depth += 1
        if cap is not None and depth >= cap:
            break
    return depth if cap is None else min(depth, cap)


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
        if json_depth(body, self.max_depth) > self.max_depth:
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
    body = json.dumps(error_envelope(code, message)).encode()
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
