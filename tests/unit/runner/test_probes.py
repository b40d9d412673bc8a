"""The raw-socket and WebSocket clients against tiny in-process servers (fakes of
a real server: the end-to-end tests run them against uvicorn)."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from harness.runner.endpoints import Address
from harness.runner.output import LineWatch
from harness.runner.probes.raw import raw_check
from harness.runner.probes.websocket import accept_key, websocket_check
from harness.runner.probing import log_check
from harness.scenario.checks import LogExpectation, RawExchange, RawMatch, WebSocketProbe

Handler = Callable[[socket.socket], None]


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], Address]]:
    """Start a one-connection loopback server running `handler`; returns its target."""
    listeners: list[socket.socket] = []
    threads: list[threading.Thread] = []

    def start(handler: Handler) -> Address:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listeners.append(listener)

        def run() -> None:
            connection, _ = listener.accept()
            with connection:
                handler(connection)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        threads.append(thread)
        return Address("127.0.0.1", listener.getsockname()[1])

    yield start
    for thread in threads:
        thread.join(timeout=5)
    for listener in listeners:
        listener.close()


def read_request(connection: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def exchange(**kwargs: object) -> RawExchange:
    fields: dict[str, object] = {"id": "raw", "send": (b"GET / HTTP/1.1\r\n\r\n",), "read_s": 2}
    fields.update(kwargs)
    return RawExchange(**fields)  # type: ignore[arg-type]


def test_raw_counts_matches_and_sees_the_close(serve: Callable[[Handler], Address]) -> None:
    def answer_twice(connection: socket.socket) -> None:
        read_request(connection)
        connection.sendall(b"HTTP/1.1 200 OK\r\n\r\nhiHTTP/1.1 200 OK\r\n\r\nhi")

    target = serve(answer_twice)
    raw = exchange(
        matches=(RawMatch(re.compile(r"HTTP/1\.1 200 OK"), 2, 2),
                 RawMatch(re.compile(r"(?m)^Injected:"), None, 0)),
        closed=True,
    )  # fmt: skip
    check = raw_check(target, raw, threading.Event())
    assert check.ok, check.detail
    assert "closed by the server" in check.detail


def test_raw_failure_shows_what_arrived(serve: Callable[[Handler], Address]) -> None:
    def answer_once_and_hang(connection: socket.socket) -> None:
        read_request(connection)
        connection.sendall(b"HTTP/1.1 200 OK\r\nInjected: yes\r\n\r\nhi")
        connection.recv(10)  # until the client gives up

    target = serve(answer_once_and_hang)
    raw = exchange(
        read_s=0.5,
        matches=(RawMatch(re.compile(r"HTTP/1\.1 200"), 2, 2),
                 RawMatch(re.compile(r"(?m)^Injected: yes\r?$"), None, 0)),
        closed=True,
    )  # fmt: skip
    check = raw_check(target, raw, threading.Event())
    assert not check.ok
    assert "seen 1x" in check.detail and "seen 1x" in check.detail.split(";")[1]
    assert "still open after 0.5s" in check.detail
    assert "Injected: yes" in check.detail  # the evidence
    assert re.search(r" in 0\.[5-9]\d?s, open\)$", check.detail), "how long it waited, too"


def test_raw_until_stops_reading_early(serve: Callable[[Handler], Address]) -> None:
    done = threading.Event()

    def answer_and_keep_open(connection: socket.socket) -> None:
        read_request(connection)
        connection.sendall(b"HTTP/1.1 200 OK\r\n\r\nslept 3")
        done.wait(5)

    target = serve(answer_and_keep_open)
    raw = exchange(read_s=5, until=re.compile("slept 3"), closed=False)
    check = raw_check(target, raw, threading.Event())
    done.set()
    assert check.ok, check.detail
    elapsed = float(check.detail.split(" in ")[1].split("s")[0])
    assert elapsed < 4


def test_raw_connect_failure_is_a_failed_check() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    check = raw_check(Address("127.0.0.1", port), exchange(), threading.Event())
    assert not check.ok and "connect failed" in check.detail
    assert re.search(r" after \d+\.\d\ds$", check.detail)


def test_a_log_check_without_distinct_min_does_not_count_distinct_values() -> None:
    watch = LineWatch(re.compile(r"Started server process \[(\d+)\]"))
    watch.record(watch.scan("INFO: Started server process [42]"))
    plain = LogExpectation(re.compile(watch.pattern.pattern), min_count=1)
    assert log_check(plain, watch).detail == "seen 1x"
    distinct = LogExpectation(re.compile(watch.pattern.pattern), distinct_min=1)
    assert log_check(distinct, watch).detail == "seen 1x, 1 distinct"


def websocket_server(subprotocol: str | None, accept: str | None = None) -> Handler:
    def handle(connection: socket.socket) -> None:
        head = read_request(connection).decode("latin-1")
        key = re.search(r"Sec-WebSocket-Key: (\S+)", head)
        assert key is not None
        lines = ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Accept: {accept or accept_key(key.group(1))}"]  # fmt: skip
        if subprotocol:
            lines.append(f"Sec-WebSocket-Protocol: {subprotocol}")
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head2 = connection.recv(2)
        if len(head2) < 2:  # the client gave up after the handshake
            return
        second = head2[1]
        mask = connection.recv(4)
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(connection.recv(second & 0x7F)))
        connection.sendall(bytes([0x81, len(payload)]) + payload)  # unmasked echo
        connection.recv(64)  # the close frame

    return handle


def test_websocket_handshake_subprotocol_and_echo(serve: Callable[[Handler], Address]) -> None:
    target = serve(websocket_server("chat"))
    probe = WebSocketProbe("ws", "/ws", ("chat", "superchat"), subprotocol="chat",
                           send="hello", receive="hello")  # fmt: skip
    check = websocket_check(target, probe, timeout_s=3)
    assert check.ok, check.detail
    assert "'chat'" in check.detail and "'hello'" in check.detail


def test_websocket_wrong_subprotocol_and_bad_accept(serve: Callable[[Handler], Address]) -> None:
    target = serve(websocket_server(None, accept="bogus"))
    probe = WebSocketProbe("ws", "/", ("chat",), subprotocol="chat")
    check = websocket_check(target, probe, timeout_s=3)
    assert not check.ok
    assert "bad Sec-WebSocket-Accept" in check.detail
    assert "subprotocol '', wanted 'chat'" in check.detail


def test_websocket_refused_upgrade(serve: Callable[[Handler], Address]) -> None:
    def refuse(connection: socket.socket) -> None:
        read_request(connection)
        connection.sendall(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")

    target = serve(refuse)
    check = websocket_check(target, WebSocketProbe("ws"), timeout_s=3)
    assert not check.ok and check.detail == "status 400, wanted 101"
