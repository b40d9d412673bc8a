"""A minimal WebSocket client (RFC 6455): the opening handshake, one text echo, close.

Enough to check what servers get wrong in practice: the handshake status, the
accept key, the negotiated subprotocol, and that a message makes it through.
Standard library only, so it runs the same against every server release.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import socket
import struct
import time

from harness.runner.endpoints import Address
from harness.runner.observation import Check
from harness.scenario.checks import WebSocketProbe

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_MAX_HEAD = 64 * 1024


class _Closed(Exception):
    """The server closed the connection (or sent something we cannot read)."""


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (clients must mask)."""
    head = bytes([0x80 | opcode])
    length = len(payload)
    if length < 126:
        head += bytes([0x80 | length])
    elif length < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", length)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", length)
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class _Reader:
    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline
        self.buffer = bytearray()

    def _fill(self) -> None:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        self.sock.settimeout(remaining)
        chunk = self.sock.recv(65536)
        if not chunk:
            raise _Closed
        self.buffer += chunk

    def head(self) -> bytes:
        while b"\r\n\r\n" not in self.buffer:
            if len(self.buffer) > _MAX_HEAD:
                raise _Closed
            self._fill()
        end = self.buffer.index(b"\r\n\r\n") + 4
        head = bytes(self.buffer[:end])
        del self.buffer[:end]
        return head

    def exactly(self, count: int) -> bytes:
        while len(self.buffer) < count:
            self._fill()
        data = bytes(self.buffer[:count])
        del self.buffer[:count]
        return data

    def frame(self) -> tuple[int, bytes]:
        first, second = self.exactly(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self.exactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self.exactly(8))
        mask = self.exactly(4) if second & 0x80 else b""
        payload = self.exactly(length)
        if mask:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return first & 0x0F, payload


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise _Closed
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


def websocket_check(target: Address, probe: WebSocketProbe, timeout_s: float) -> Check:
    """Handshake, optionally one text message and its answer; never raises."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {probe.path} HTTP/1.1",
        f"Host: {target.host_header()}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    if probe.subprotocols:
        lines.append(f"Sec-WebSocket-Protocol: {', '.join(probe.subprotocols)}")
    lines += [f"{name}: {value}" for name, value in probe.request_headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    deadline = time.monotonic() + timeout_s
    try:
        with target.connect(timeout_s) as sock:
            sock.sendall(request)
            reader = _Reader(sock, deadline)
            status, headers = _parse_head(reader.head())
            problems = _handshake_problems(probe, status, headers, key)
            if problems or status != 101:
                return Check(probe.id, not problems, "; ".join(problems) or f"status {status}")
            detail = f"status 101, subprotocol {headers.get('sec-websocket-protocol', '')!r}"
            if probe.send is not None:
                sock.sendall(encode_frame(0x1, probe.send.encode()))
                opcode, payload = reader.frame()
                text = payload.decode("utf-8", errors="replace")
                if probe.receive is not None and (opcode != 0x1 or text != probe.receive):
                    problems.append(f"answer (opcode {opcode}) {text!r}, wanted {probe.receive!r}")
                detail += f", answer {text!r}"
            with contextlib.suppress(OSError):
                sock.sendall(encode_frame(0x8, struct.pack("!H", 1000)))
    except TimeoutError:
        return Check(probe.id, False, f"no complete answer within {timeout_s:g}s")
    except _Closed:
        return Check(probe.id, False, "the server closed the connection during the exchange")
    except OSError as exc:
        return Check(probe.id, False, f"connection failed: {exc}")
    return Check(probe.id, not problems, "; ".join(problems) or detail)


def _handshake_problems(
    probe: WebSocketProbe, status: int, headers: dict[str, str], key: str
) -> list[str]:
    problems = []
    if status != probe.status:
        problems.append(f"status {status}, wanted {probe.status}")
        return problems
    if status != 101:
        return problems
    if headers.get("sec-websocket-accept") != accept_key(key):
        problems.append(f"bad Sec-WebSocket-Accept {headers.get('sec-websocket-accept')!r}")
    chosen = headers.get("sec-websocket-protocol", "")
    if probe.subprotocol is not None and chosen != probe.subprotocol:
        problems.append(f"subprotocol {chosen!r}, wanted {probe.subprotocol!r}")
    return problems
