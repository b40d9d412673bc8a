"""HTTP probes against a running server, with httpx, each bounded in time and size.

A misbehaving server may never finish a response, trickle it a byte at a time
(so no single read ever times out), or send an endless body.  So the body is
streamed: the probe's deadline is checked after every chunk and at most
`MAX_BODY_BYTES` are kept.  Every read is bounded by `probe_s` too, so a probe
takes at most twice `probe_s`, whatever the server does.
"""

from __future__ import annotations

import time

import httpx

from harness.observation import Check
from harness.scenario import HttpProbe

_BODY_PREVIEW = 200
MAX_BODY_BYTES = 1024 * 1024


def _preview(body: str) -> str:
    return body if len(body) <= _BODY_PREVIEW else body[:_BODY_PREVIEW] + "..."


def run_http_probe(probe: HttpProbe, host: str, port: int, timeout_s: float) -> Check:
    """Send one request and check status, body and headers; never raises."""
    name = f"http {probe.describe()}"
    netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    url = f"http://{netloc}{probe.path}"
    deadline = time.monotonic() + timeout_s
    received = bytearray()
    try:
        # trust_env=False: a proxy from the user's environment must never see loopback probes.
        with (
            httpx.Client(timeout=timeout_s, trust_env=False) as client,
            client.stream(
                probe.method,
                url,
                headers=dict(probe.request_headers),
                content=probe.request_body.encode() if probe.request_body is not None else None,
            ) as response,
        ):
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
                    return _timed_out(name, timeout_s, received)
    except httpx.TimeoutException:
        return _timed_out(name, timeout_s, received)
    except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError, UnicodeError) as exc:
        return Check(name, False, f"request failed: {type(exc).__name__}: {exc}")
    problems = []
    body = bytes(received).decode(response.encoding or "utf-8", errors="replace")
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
    detail = "; ".join(problems) or f"status {response.status_code}, {len(received)} bytes"
    return Check(name, not problems, detail)


def _timed_out(name: str, timeout_s: float, received: bytearray) -> Check:
    so_far = f" ({len(received)} bytes of body so far)" if received else ""
    return Check(name, False, f"no complete response within {timeout_s:g}s{so_far}", timed_out=True)
