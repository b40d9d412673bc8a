"""Parse a scenario's `[expect]` tables.

Every expectation may carry an `id`: it names the check in results, and a
signature can say which checks must have failed (`checks = ["id"]`) when the
evidence of a bug is on the client side rather than in the server's output.
Every expectation may also say where it applies (`applies = {...}`, see
`harness.scenario.applicability`).  The `[[signature]]`s are parsed in
`harness.scenario.signature_table`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from harness.scenario.applicability import Applicability
from harness.scenario.applies_table import AxisValues
from harness.scenario.check_ids import TOKEN_RE, CheckIds, check_headers
from harness.scenario.checks import (
    CompareExpectation,
    ExitExpectation,
    HttpProbe,
    ImportExpectation,
    ListeningExpectation,
    LogExpectation,
    PathExpectation,
    RawExchange,
    RawMatch,
    WebSocketProbe,
)
from harness.scenario.compare_table import parse_compare
from harness.scenario.hosts import is_loopback_host
from harness.scenario.placeholders import PlaceholderError, check_template
from harness.scenario.toml_table import Table

SIGNALS = frozenset({"SIGINT", "SIGTERM"})
#: The largest `request_body_size` (16 MiB): enough to make any server pause reading.
MAX_REQUEST_BODY = 16 * 1024 * 1024
_ADDRESS_RE = re.compile(r"^(?P<host>\[[0-9a-fA-F:]+\]|[^\s:\[\]]+):(?P<port>\d{1,5})$")


@dataclass(frozen=True)
class Expectations:
    """Everything under `[expect]`."""

    http: tuple[HttpProbe, ...]
    logs: tuple[LogExpectation, ...]
    exit: ExitExpectation
    raw: tuple[RawExchange, ...]
    websocket: tuple[WebSocketProbe, ...]
    listening: tuple[ListeningExpectation, ...]
    paths: tuple[PathExpectation, ...]
    imports: tuple[ImportExpectation, ...]
    compare: tuple[CompareExpectation, ...] = ()
    #: Check name -> where it applies (only checks that say so).
    applies: dict[str, Applicability] = field(default_factory=dict)

    def check_ids(self) -> set[str]:
        """Every check name a signature may refer to."""
        names: set[str] = {"ready", "exit", "stopped", "port"}
        names.update(probe.check_name() for probe in self.http)
        names.update(log.check_name() for log in self.logs)
        groups = (self.raw, self.websocket, self.listening, self.paths, self.imports, self.compare)
        for group in groups:
            names.update(item.id for item in group)
        return names


def parse_expect(
    table: Table, known_placeholders: Iterable[str], axis_values: AxisValues | None = None
) -> Expectations:
    """`axis_values`: the axes a check's `applies.when` may name, with their values."""
    ids = CheckIds(axis_values)
    known = set(known_placeholders)
    http = tuple(_parse_http(item, ids) for item in table.tables("http"))
    logs = tuple(_parse_log(item, ids) for item in table.tables("log"))
    raw = tuple(_parse_raw(item, ids, n) for n, item in enumerate(table.tables("raw")))
    websocket = tuple(
        _parse_websocket(item, ids, n) for n, item in enumerate(table.tables("websocket"))
    )
    listening = tuple(
        _parse_listening(item, ids, n) for n, item in enumerate(table.tables("listening"))
    )
    paths = tuple(_parse_path(item, ids, n, known) for n, item in enumerate(table.tables("path")))
    imports = tuple(_parse_imports(item, ids, n) for n, item in enumerate(table.tables("imports")))
    http_names = {probe.check_name() for probe in http}
    compare = tuple(
        parse_compare(item, ids, n, http_names) for n, item in enumerate(table.tables("compare"))
    )
    exit_expectation = _parse_exit(table.table("exit"))
    table.finish()
    return Expectations(
        http, logs, exit_expectation, raw, websocket, listening, paths, imports, compare,
        ids.applies,
    )  # fmt: skip


def parse_probe(table: Table) -> HttpProbe:
    """A stand-alone HTTP probe (a capability probe of an `applies` table)."""
    return _parse_http(table, CheckIds())


def _parse_exit(table: Table) -> ExitExpectation:
    signal_name = table.string("signal", "SIGINT")
    if signal_name not in SIGNALS | {"none"}:
        raise table.error("signal", f"must be one of {', '.join(sorted(SIGNALS))} or 'none'")
    target = table.choice("target", ("group", "parent"), "group")
    expectation = ExitExpectation(
        signal=signal_name,
        target=target,
        within_s=table.number("within_s", 10.0, minimum=0.1),
        codes=table.int_list("codes", (0,)),
    )
    table.finish()
    return expectation


def _request_path(table: Table) -> str:
    path = table.string("path", "/")
    if not path.startswith("/"):
        raise table.error("path", f"must start with '/', got {path!r}")
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in path):
        raise table.error("path", f"must not contain spaces or control characters: {path!r}")
    return path


def _parse_http(table: Table, ids: CheckIds) -> HttpProbe:
    probe_id = ids.take(table, None)
    method = table.string("method", "GET").upper()
    if not TOKEN_RE.fullmatch(method):
        raise table.error("method", f"{method!r} is not a valid HTTP method")
    path = _request_path(table)
    request_headers = table.string_map("request_headers")
    check_headers(table, "request_headers", request_headers.items())
    headers = table.string_map("headers")
    check_headers(table, "headers", headers.items())
    absent_headers = table.strings("absent_headers")
    check_headers(table, "absent_headers", ((name, "") for name in absent_headers))
    json_value = table.raw("json")
    if json_value is not None and not isinstance(json_value, dict):
        raise table.error("json", "must be a table of the keys the JSON body must contain")
    session = table.opt_string("session")
    same_connection = table.opt_bool("same_connection")
    if same_connection is not None and session is None:
        raise table.error("same_connection", "needs a `session` (a connection to compare with)")
    request_body = table.opt_string("request_body")
    body_size = table.opt_int("request_body_size", minimum=1, maximum=MAX_REQUEST_BODY)
    if body_size is not None and request_body is not None:
        raise table.error("request_body_size", "give either request_body or request_body_size")
    probe = HttpProbe(
        method=method,
        path=path,
        request_headers=request_headers,
        request_body=request_body,
        request_body_size=body_size,
        status=table.opt_int("status", minimum=100, maximum=599),
        body=table.opt_string("body", keep_empty=True),
        body_contains=table.opt_string("body_contains"),
        headers=headers,
        absent_headers=absent_headers,
        id=probe_id,
        session=session,
        wait_s=table.number("wait_s", 0.0),
        same_connection=same_connection,
        json=json_value,
    )
    ids.conditions(table, probe.check_name())
    table.finish()
    return probe


def _parse_log(table: Table, ids: CheckIds) -> LogExpectation:
    log_id = ids.take(table, None)
    pattern = table.regex("pattern")
    min_count = table.opt_int("min_count")
    max_count = table.opt_int("max_count")
    distinct_min = table.opt_int("distinct_min", minimum=1)
    if distinct_min is not None and pattern.groups < 1:
        raise table.error("distinct_min", "needs a capture group in the pattern")
    if min_count is None and max_count is None and distinct_min is None:
        min_count = 1
    expectation = LogExpectation(
        pattern=pattern,
        min_count=min_count,
        max_count=max_count,
        distinct_min=distinct_min,
        description=table.string("description", ""),
        id=log_id,
    )
    ids.conditions(table, expectation.check_name())
    table.finish()
    return expectation


def _latin1(table: Table, key: str, text: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        raise table.error(key, "must only use characters \\u0000-\\u00ff (one byte each)") from None


def _count_bounds(table: Table) -> tuple[int | None, int | None]:
    """`count` (exact) or `min_count`/`max_count`; default: at least once."""
    count = table.opt_int("count")
    min_count = table.opt_int("min_count")
    max_count = table.opt_int("max_count")
    if count is not None:
        if min_count is not None or max_count is not None:
            raise table.error("count", "use either count or min_count/max_count")
        return count, count
    if min_count is None and max_count is None:
        return 1, None
    return min_count, max_count


def _parse_raw(table: Table, ids: CheckIds, index: int) -> RawExchange:
    raw_id = ids.take(table, f"raw-{index}")
    assert raw_id is not None
    chunks = table.string_or_strings("send")
    if not chunks:
        raise table.error("send", "is required: the bytes to write (a string or a list)")
    matches = []
    for item in table.tables("match"):
        pattern = item.regex("pattern")
        low, high = _count_bounds(item)
        matches.append(RawMatch(pattern, low, high))
        item.finish()
    exchange = RawExchange(
        id=raw_id,
        send=tuple(_latin1(table, "send", chunk) for chunk in chunks),
        gap_s=table.number("gap_s", 0.0),
        half_close=table.boolean("half_close", False),
        read_s=table.number("read_s", 5.0, minimum=0.1),
        max_bytes=table.opt_int("max_bytes", minimum=1) or 1024 * 1024,
        until=table.opt_regex("until"),
        matches=tuple(matches),
        closed=table.opt_bool("closed"),
    )
    ids.conditions(table, raw_id)
    table.finish()
    return exchange


def _parse_websocket(table: Table, ids: CheckIds, index: int) -> WebSocketProbe:
    ws_id = ids.take(table, f"websocket-{index}")
    assert ws_id is not None
    path = _request_path(table)
    request_headers = table.string_map("request_headers")
    check_headers(table, "request_headers", request_headers.items())
    subprotocols = table.strings("subprotocols")
    check_headers(table, "subprotocols", ((name, "") for name in subprotocols))
    send = table.opt_string("send", keep_empty=True)
    receive = table.opt_string("receive", keep_empty=True)
    if receive is not None and send is None:
        raise table.error("receive", "needs `send` (the message to answer)")
    probe = WebSocketProbe(
        id=ws_id,
        path=path,
        subprotocols=subprotocols,
        request_headers=request_headers,
        status=table.opt_int("status", minimum=100, maximum=599) or 101,
        subprotocol=table.opt_string("subprotocol", keep_empty=True),
        send=send,
        receive=receive,
    )
    ids.conditions(table, ws_id)
    table.finish()
    return probe


def parse_address(table: Table, key: str, text: str) -> tuple[str, int]:
    match = _ADDRESS_RE.match(text)
    if match is None:
        raise table.error(key, f"{text!r} must look like HOST:PORT, e.g. 127.0.0.1:8000")
    host = match.group("host").strip("[]")
    port = int(match.group("port"))
    if not 0 < port < 65536:
        raise table.error(key, f"port {port} is out of range")
    require_loopback(table, key, host)
    return host, port


def require_loopback(table: Table, key: str, host: str) -> None:
    if not is_loopback_host(host):
        raise table.error(key, f"servers may only listen on loopback, not {host!r}")


def _parse_listening(table: Table, ids: CheckIds, index: int) -> ListeningExpectation:
    check_id = ids.take(table, f"listening-{index}")
    assert check_id is not None
    host, port = parse_address(table, "address", table.string("address"))
    accepting = table.opt_bool("accepting")
    if accepting is None:
        raise table.error("accepting", "is required (true or false)")
    ids.conditions(table, check_id)
    table.finish()
    return ListeningExpectation(check_id, host, port, accepting)


def _parse_path(table: Table, ids: CheckIds, index: int, known: set[str]) -> PathExpectation:
    check_id = ids.take(table, f"path-{index}")
    assert check_id is not None
    path = table.string("path")
    try:
        check_template(path, known)
    except PlaceholderError as exc:
        raise table.error("path", str(exc)) from None
    exists = table.opt_bool("exists")
    if exists is None:
        raise table.error("exists", "is required (true or false)")
    expectation = PathExpectation(
        id=check_id,
        path=path,
        exists=exists,
        when=table.choice("when", ("running", "exited"), "running"),
        kind=table.choice("kind", ("any", "socket", "file", "dir"), "any"),
    )
    ids.conditions(table, check_id)
    table.finish()
    return expectation


def _parse_imports(table: Table, ids: CheckIds, index: int) -> ImportExpectation:
    check_id = ids.take(table, f"imports-{index}")
    assert check_id is not None
    process = table.choice("process", ("parent", "others", "all"), "all")
    low, high = _count_bounds(table)
    ids.conditions(table, check_id)
    table.finish()
    return ImportExpectation(check_id, process, low, high)
