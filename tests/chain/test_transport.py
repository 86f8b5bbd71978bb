"""chain.transport: JSON-RPC on kept-alive ``http.client`` connections under web3, failing the way the
platform expects of ``requests`` (its exceptions), against a real Anvil and real sockets."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from web3.types import RPCEndpoint

from chain.client import connect
from chain.node import AnvilNode
from chain.transport import KeepAliveTransport, usable_for


def test_calls_and_batches_over_one_kept_alive_connection(anvil: AnvilNode) -> None:
    w3 = connect(anvil.url)
    transport = w3.provider._request_session_manager  # type: ignore[attr-defined]
    assert isinstance(transport, KeepAliveTransport)
    assert w3.eth.chain_id == 31337
    first = transport._connections()[anvil.url]
    for _ in range(5):
        w3.eth.get_block("latest")
    assert transport._connections()[anvil.url] is first  # reused
    answers = w3.provider.make_batch_request(  # type: ignore[attr-defined]
        [(RPCEndpoint("eth_blockNumber"), []), (RPCEndpoint("eth_chainId"), [])]
    )
    assert [a["result"] for a in answers] == [hex(w3.eth.block_number), hex(31337)]


def test_a_restarted_node_is_reached_again_and_a_dead_one_is_a_connection_error(
    tmp_path: Path,
) -> None:
    node = AnvilNode(state_file=tmp_path / "state.json")
    node.start()
    w3 = connect(node.url)
    try:
        number = w3.eth.block_number
        node.stop()
        with pytest.raises(requests.exceptions.ConnectionError):
            w3.eth.get_block("latest")
        node = AnvilNode(state_file=node.state_file, port=node.port)
        node.start()
        assert w3.eth.block_number >= number  # a new connection, at once
        # a transaction on a connection the node closed while idle: it is sent on a new one (the closed
        # one is seen before it is used), not refused
        w3.eth.get_block("latest")
        node.stop()
        node = AnvilNode(state_file=node.state_file, port=node.port)
        node.start()
        account = w3.eth.accounts[0]
        tx = w3.eth.send_transaction({"from": account, "to": account, "value": 0})
        assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    finally:
        node.stop()


class _Server:
    """A local HTTP server answering every POST with ``handler(request_handler)``."""

    def __init__(self, respond: Callable[[BaseHTTPRequestHandler], None]) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                respond(self)

            def log_message(self, *_: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server_with() -> Iterator[Callable[[Callable[[BaseHTTPRequestHandler], None]], _Server]]:
    made: list[_Server] = []

    def make(respond: Callable[[BaseHTTPRequestHandler], None]) -> _Server:
        made.append(_Server(respond))
        return made[-1]

    yield make
    for s in made:
        s.close()


def _status(code: int) -> Callable[[BaseHTTPRequestHandler], None]:
    def respond(h: BaseHTTPRequestHandler) -> None:
        h.send_response(code)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return respond


def _hang_up(h: BaseHTTPRequestHandler) -> None:
    h.close_connection = True
    h.connection.shutdown(socket.SHUT_RDWR)


def _slow(h: BaseHTTPRequestHandler) -> None:
    time.sleep(1.5)
    _status(200)(h)


def test_failures_are_requests_exceptions(
    server_with: Callable[[Callable[[BaseHTTPRequestHandler], None]], _Server],
) -> None:
    """What the gateway's error mapping and the sender's unknown-outcome logic catch."""
    transport = KeepAliveTransport()
    data = b'{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}'
    with pytest.raises(requests.exceptions.HTTPError) as refused:
        transport.make_post_request(server_with(_status(401)).url, data, timeout=5)
    assert refused.value.response is not None and refused.value.response.status_code == 401
    with pytest.raises(requests.exceptions.ConnectionError):
        transport.make_post_request(server_with(_hang_up).url, data, timeout=5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        transport.make_post_request(server_with(_slow).url, data, timeout=0.5)
    with socket.socket() as unused:  # a port nobody listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(requests.exceptions.ConnectionError):
        transport.make_post_request(f"http://127.0.0.1:{port}", data, timeout=5)


def _scripted(script: list[str], seen: list[bytes]) -> Callable[[BaseHTTPRequestHandler], None]:
    """Answer the n-th request as ``script[n]`` says: ``ok`` (a JSON-RPC answer, connection kept) or
    ``hang-up`` (closed without an answer, after reading the request)."""

    def respond(h: BaseHTTPRequestHandler) -> None:
        step = script[len(seen)]
        seen.append(h.requestline.encode())
        if step == "hang-up":
            _hang_up(h)
            return
        body = b'{"jsonrpc":"2.0","id":1,"result":"0x1"}'
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return respond


READ = b'{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}'
SEND = b'{"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":["0x00"]}'


def test_a_read_is_sent_again_on_a_new_connection_a_transaction_never(
    server_with: Callable[[Callable[[BaseHTTPRequestHandler], None]], _Server],
) -> None:
    """A kept-alive connection breaks before the answer: a read is asked again on a new connection; a
    transaction is not sent twice by the transport (a connection error: the sender then asks the node
    whether it arrived)."""
    seen: list[bytes] = []
    url = server_with(_scripted(["ok", "hang-up", "ok"], seen)).url
    transport = KeepAliveTransport()
    assert transport.make_post_request(url, READ, timeout=5) == b'{"jsonrpc":"2.0","id":1,"result":"0x1"}'
    assert transport.make_post_request(url, READ, timeout=5) == b'{"jsonrpc":"2.0","id":1,"result":"0x1"}'
    assert len(seen) == 3

    seen.clear()
    url = server_with(_scripted(["ok", "hang-up", "ok"], seen)).url
    transport.make_post_request(url, READ, timeout=5)
    with pytest.raises(requests.exceptions.ConnectionError):
        transport.make_post_request(url, SEND, timeout=5)
    assert len(seen) == 2


def test_proxied_and_other_endpoints_keep_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    assert usable_for("http://127.0.0.1:8545") and usable_for("https://node.example:8545/rpc")
    assert not usable_for("ws://127.0.0.1:8546")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "localhost")
    assert not usable_for("https://node.example:8545")
    assert usable_for("https://localhost:8545")
