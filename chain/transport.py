"""JSON-RPC over HTTP with one keep-alive connection per thread, under web3's ``HTTPProvider``.

web3's provider posts every JSON-RPC request through ``requests``, which cost about 2-3 ms of Python per
call on these machines against 0.3-0.6 ms for the standard library's ``http.client`` on a kept-alive
connection (measured side by side against one Anvil: ``eth_getBlockByNumber``). A verification asks the
node two or three things, a tokenization about eight: most of their time was that overhead.

:class:`KeepAliveTransport` takes the place of the provider's session manager (its one method
``make_post_request``), so web3 itself is unchanged: request encoding, batches, caching, retries of
reads and error formatting are still its own. What this module keeps from ``requests`` is what the
rest of the platform relies on, its exceptions:

- the connection cannot be made, or breaks before an answer: ``requests.exceptions.ConnectionError``
  (the gateway answers 503 ``CHAIN_UNAVAILABLE``; a transaction that met it is taken as never sent, as
  with ``requests``);
- no answer in time: ``requests.exceptions.ConnectTimeout`` / ``ReadTimeout`` (a transaction's outcome
  is then unknown, and asked of the node);
- an HTTP error status: ``requests.exceptions.HTTPError``.

A connection idle for more than ``IDLE_SECONDS``, or one the node has closed (its socket readable before
a request, as ``urllib3`` checks), is not reused; a request that still meets a connection the node closed
meanwhile is sent once more on a new one, except a transaction (``eth_sendRawTransaction``), which is
never sent twice by this layer. Endpoints reached
through a proxy (``HTTP(S)_PROXY``) keep web3's own ``requests`` session, which honours it.
"""

from __future__ import annotations

import base64
import http.client
import json
import select
import socket
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import requests

__all__ = ["IDLE_SECONDS", "KeepAliveTransport", "usable_for"]

#: a connection idle for longer is closed and made again (nodes close idle keep-alive connections)
IDLE_SECONDS = 2.0
_SEND = b'"eth_sendRawTransaction"'


@dataclass
class _Endpoint:
    https: bool
    host: str
    port: int | None
    path: str
    authorization: str | None


def _endpoint(uri: str) -> _Endpoint:
    parts = urlsplit(uri)
    authorization = None
    if parts.username is not None:
        user = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(user.encode()).decode()
    return _Endpoint(
        https=parts.scheme == "https",
        host=parts.hostname or "localhost",
        port=parts.port,
        path=(parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
        authorization=authorization,
    )


def usable_for(uri: str) -> bool:
    """Whether this transport can serve ``uri``: plain HTTP(S), no proxy configured for it."""
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    proxies = urllib.request.getproxies()
    return not (proxies.get(parts.scheme) and not urllib.request.proxy_bypass(parts.hostname))


class KeepAliveTransport:
    """``make_post_request`` of web3's session manager over ``http.client`` (see the module)."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._endpoints: dict[str, _Endpoint] = {}

    def make_post_request(self, endpoint_uri: str, data: bytes | dict[str, Any], **kwargs: Any) -> bytes:
        """POST ``data`` to ``endpoint_uri``; the response body. ``timeout`` and ``headers`` as web3
        passes them."""
        body = data if isinstance(data, bytes) else json.dumps(data).encode()
        timeout = float(kwargs.get("timeout") or 10.0)
        endpoint = self._endpoints.get(endpoint_uri)
        if endpoint is None:
            endpoint = self._endpoints[endpoint_uri] = _endpoint(endpoint_uri)
        headers = {"Content-Type": "application/json", **dict(kwargs.get("headers") or {})}
        if endpoint.authorization is not None:
            headers.setdefault("Authorization", endpoint.authorization)
        for attempt in range(2):
            connection, reused = self._connection(endpoint_uri, endpoint, timeout)
            try:
                return self._exchange(connection, endpoint, body, headers)
            except _Stale as stale:
                self._drop(endpoint_uri)
                if reused and attempt == 0 and _SEND not in body:
                    continue  # the node had closed it before it read the request: send it once more
                raise requests.exceptions.ConnectionError(str(stale.__cause__)) from stale.__cause__
            except BaseException:
                self._drop(endpoint_uri)
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _exchange(
        self,
        connection: http.client.HTTPConnection,
        endpoint: _Endpoint,
        body: bytes,
        headers: dict[str, str],
    ) -> bytes:
        try:
            connection.request("POST", endpoint.path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
        except TimeoutError as exc:
            if connection.sock is None:
                raise requests.exceptions.ConnectTimeout(str(exc)) from exc
            raise requests.exceptions.ReadTimeout(str(exc)) from exc
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
            raise _Stale() from exc
        except (OSError, http.client.HTTPException) as exc:
            raise requests.exceptions.ConnectionError(str(exc)) from exc
        if response.status >= 400:
            error = requests.exceptions.HTTPError(f"{response.status} {response.reason} from the node")
            error.response = _response(response.status, content)
            raise error
        if response.will_close:
            self._drop_connection(connection)
        else:
            self._used()[id(connection)] = time.monotonic()
        return content

    def _connections(self) -> dict[str, http.client.HTTPConnection]:
        found: dict[str, http.client.HTTPConnection] = self._local.__dict__.setdefault("connections", {})
        return found

    def _used(self) -> dict[int, float]:
        found: dict[int, float] = self._local.__dict__.setdefault("used", {})
        return found

    def _connection(
        self, uri: str, endpoint: _Endpoint, timeout: float
    ) -> tuple[http.client.HTTPConnection, bool]:
        connections = self._connections()
        found = connections.get(uri)
        idle = time.monotonic() - self._used().get(id(found), float("-inf"))
        if found is not None and found.sock is not None and idle <= IDLE_SECONDS and not _closed(found.sock):
            found.timeout = timeout
            found.sock.settimeout(timeout)
            return found, True
        if found is not None:
            self._used().pop(id(found), None)
            found.close()
        factory = http.client.HTTPSConnection if endpoint.https else http.client.HTTPConnection
        made = factory(endpoint.host, endpoint.port, timeout=timeout)
        connections[uri] = made
        return made, False

    def _drop(self, uri: str) -> None:
        found = self._connections().pop(uri, None)
        if found is not None:
            self._used().pop(id(found), None)
            found.close()

    def _drop_connection(self, connection: http.client.HTTPConnection) -> None:
        connections = self._connections()
        for uri, held in list(connections.items()):
            if held is connection:
                del connections[uri]
        self._used().pop(id(connection), None)
        connection.close()


def _closed(sock: socket.socket) -> bool:
    """Whether the node closed the connection (or wrote to it unasked): a kept-alive socket that is
    readable before a request is sent (``urllib3`` asks the same before it reuses one)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class _Stale(Exception):
    """The connection broke before an answer came (the node closed it, or went away)."""


def _response(status: int, content: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = content
    return response
