"""HTTP probes against a running server, with httpx, each bounded by a timeout."""

from __future__ import annotations

import httpx

from harness.observation import Check
from harness.scenario import HttpProbe

_BODY_PREVIEW = 200


def _preview(body: str) -> str:
    return body if len(body) <= _BODY_PREVIEW else body[:_BODY_PREVIEW] + "..."


def run_http_probe(probe: HttpProbe, host: str, port: int, timeout_s: float) -> Check:
    """Send one request and check status, body and headers; never raises."""
    name = f"http {probe.describe()}"
    netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    url = f"http://{netloc}{probe.path}"
    try:
        # trust_env=False: a proxy from the user's environment must never see loopback probes.
        with httpx.Client(timeout=timeout_s, trust_env=False) as client:
            response = client.request(
                probe.method,
                url,
                headers=dict(probe.request_headers),
                content=probe.request_body.encode() if probe.request_body is not None else None,
            )
    except httpx.TimeoutException:
        return Check(name, False, f"no complete response within {timeout_s:g}s")
    except httpx.HTTPError as exc:
        return Check(name, False, f"request failed: {type(exc).__name__}: {exc}")
    problems = []
    body = response.text
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
    detail = "; ".join(problems) or f"status {response.status_code}, {len(response.content)} bytes"
    return Check(name, not problems, detail)
