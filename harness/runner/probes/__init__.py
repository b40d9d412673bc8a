"""Probes and checks against a running server, one module per kind.

* `http`: HTTP requests with httpx, bounded in time and size; shared keep-alive sessions.
* `raw`: raw bytes on a socket (pipelined, malformed, hostile), checked on the wire.
* `websocket`: a minimal RFC 6455 client: handshake, one text echo, close.
* `state`: what the server leaves around it: listening addresses, paths, app imports.

All of them reach the server through an `endpoints.Address` and answer with an
`observation.Check`; a misbehaving server fails a check, it does not hang the run.
"""
