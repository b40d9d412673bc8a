"""HTTP probes against a running server, with httpx, each bounded in time and size.

A misbehaving server may never finish a response, trickle it a byte at a time
(so no single read ever times out), or send an endless body.  So the body is
streamed: the probe's deadline is checked after every chunk and at most
`MAX_BODY_BYTES` are kept.  Every read is bounded by `probe_s` too, so a probe
takes at most twice `probe_s` (plus its `wait_s`), whatever the server does.

Probes that name the same `session` share one client, so they travel on one
keep-alive connection when the server keeps it open; `same_connection` checks
that (or that it was closed in between).  Every complete response is kept
(`ProbeSessions.answers`) for the comparisons between responses.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from harness import httpx_import
from harness.runner.endpoints import Address
from harness.runner.observation import Check
from harness.runner.probes.compare import Answer
from harness.scenario.checks import HttpProbe

if TYPE_CHECKING:
    import httpx

_BODY_PREVIEW = 200
MAX_BODY_BYTES = 1024 * 1024


def _preview(body: str) -> str:
    return body if len(body) <= _BODY_PREVIEW else body[:_BODY_PREVIEW] + "..."


_context_lock = threading.Lock()
_context: ssl.SSLContext | None = None


def _ssl_context() -> ssl.SSLContext:
    """One TLS context for every probe, built once.  Probes speak plain HTTP to
    loopback, but an httpx client builds a context (loading the CA store) on
    creation unless given one: ~30-80 ms of CPU per probe otherwise."""
    global _context
    with _context_lock:
        if _context is None:
            _context = ssl.create_default_context()
        return _context


def prewarm() -> None:
    """Import httpx and build the TLS context now, before the first probe needs
    them: called on a background thread when a run starts, it overlaps with the
    first servers' start-up instead of delaying their probes."""
    httpx_import.load()
    _ssl_context()


def _client(target: Address, timeout_s: float) -> httpx.Client:
    httpx_import.load()
    import httpx  # here, not at the top: see httpx_import

    # trust_env=False: a proxy from the user's environment must never see loopback probes.
    transport = httpx.HTTPTransport(uds=target.uds) if target.uds is not None else None
    return httpx.Client(
        timeout=timeout_s, trust_env=False, transport=transport, verify=_ssl_context()
    )


def json_problems(expected: Mapping[str, Any], actual: Any, where: str = "") -> list[str]:
    """What keeps `actual` from containing `expected` (tables compare as subsets)."""
    if not isinstance(actual, Mapping):
        return [f"{where or 'body'} is {type(actual).__name__}, not an object"]
    problems = []
    for key, wanted in expected.items():
        path = f"{where}.{key}" if where else key
        if key not in actual:
            problems.append(f"{path} missing")
        elif isinstance(wanted, Mapping):
            problems.extend(json_problems(wanted, actual[key], path))
        elif actual[key] != wanted:
            problems.append(f"{path} is {actual[key]!r}, wanted {wanted!r}")
    return problems


class ProbeSessions:
    """One httpx client per named session (plus a fresh one per unnamed probe)."""

    def __init__(self, target: Address, timeout_s: float, cancel: threading.Event) -> None:
        self.target = target
        self.timeout_s = timeout_s
        self.cancel = cancel
        self._clients: dict[str, httpx.Client] = {}
        self._streams: dict[str, object] = {}
        #: Check name -> the complete response it received.
        self.answers: dict[str, Answer] = {}

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def __enter__(self) -> ProbeSessions:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def run(self, probe: HttpProbe) -> Check:
        """Send one request and check status, body, headers; never raises."""
        name = probe.check_name()
        if probe.wait_s and self.cancel.wait(probe.wait_s):
            return Check(name, False, "interrupted")
        if probe.session is None:
            with _client(self.target, self.timeout_s) as client:
                return self._send(probe, client, name)
        if probe.session not in self._clients:
            self._clients[probe.session] = _client(self.target, self.timeout_s)
        return self._send(probe, self._clients[probe.session], name)

    def _send(self, probe: HttpProbe, client: httpx.Client, name: str) -> Check:
        import httpx  # loaded by _client already

        url = self.target.base_url() + probe.path
        deadline = time.monotonic() + self.timeout_s
        received = bytearray()
        try:
            with client.stream(
                probe.method,
                url,
                headers=dict(probe.request_headers),
                content=probe.body_bytes(),
            ) as response:
                for chunk in response.iter_bytes():
                    received += chunk
                    if len(received) > MAX_BODY_BYTES:
                        return Check(
                            name,
                            False,
                            f"status {response.status_code}, body larger than "
                            f"{MAX_BODY_BYTES} bytes: stopped reading",
                        )
                    if time.monotonic() > deadline:
                        return _timed_out(name, self.timeout_s, received)
        except httpx.TimeoutException:
            return _timed_out(name, self.timeout_s, received)
        except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError, UnicodeError) as exc:
            return Check(name, False, f"request failed: {type(exc).__name__}: {exc}")
        body = bytes(received).decode(response.encoding or "utf-8", errors="replace")
        headers: dict[str, tuple[str, ...]] = {}
        for key, value in response.headers.multi_items():
            headers[key.lower()] = (*headers.get(key.lower(), ()), value)
        self.answers[name] = Answer(response.status_code, headers, body)
        problems = _response_problems(probe, response, body)
        if probe.session is not None:
            stream = response.extensions.get("network_stream")
            previous = self._streams.get(probe.session)
            if probe.same_connection is not None and previous is not None:
                reused = stream is previous
                if reused != probe.same_connection:
                    problems.append(
                        "reused the previous connection"
                        if reused
                        else "opened a new connection (the previous one was closed)"
                    )
            if stream is not None:
                self._streams[probe.session] = stream
        detail = "; ".join(problems) or f"status {response.status_code}, {len(received)} bytes"
        return Check(name, not problems, detail)


def _response_problems(probe: HttpProbe, response: httpx.Response, body: str) -> list[str]:
    problems = []
    if probe.status is not None and response.status_code != probe.status:
        problems.append(f"status {response.status_code}, wanted {probe.status}")
    if probe.body is not None and body != probe.body:
        problems.append(f"body {_preview(body)!r}, wanted {probe.body!r}")
    if probe.body_contains is not None and probe.body_contains not in body:
        problems.append(f"body {_preview(body)!r} lacks {probe.body_contains!r}")
    for header, wanted in probe.headers.items():
        got = response.headers.get(header)
        if got != wanted:
            problems.append(f"header {header}: {got!r}, wanted {wanted!r}")
    for header in probe.absent_headers:
        if header in response.headers:
            problems.append(f"header {header} present ({response.headers[header]!r})")
    if probe.json is not None:
        try:
            document = json.loads(body)
        except ValueError:
            problems.append(f"body is not JSON: {_preview(body)!r}")
        else:
            problems.extend(json_problems(probe.json, document))
    return problems


def _timed_out(name: str, timeout_s: float, received: bytearray) -> Check:
    so_far = f" ({len(received)} bytes of body so far)" if received else ""
    return Check(name, False, f"no complete response within {timeout_s:g}s{so_far}", timed_out=True)
