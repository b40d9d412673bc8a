"""Load and validate scenario TOML files into `Scenario` values.

Scenario files are data reviewed like code, so the loader is strict: unknown
keys, wrong types, bad regexes, non-loopback hosts and unknown placeholders are
all refused with a `ScenarioError` naming the file and the field.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import math
import re
import string
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from harness.errors import ScenarioError, UnknownScenarioError
from harness.platforms import KNOWN_PLATFORMS, TARGET_PLATFORMS, family
from harness.scenario import (
    COMMAND_PLACEHOLDERS,
    Claim,
    ExitExpectation,
    HttpProbe,
    Limits,
    LogExpectation,
    Scenario,
    ServerSpec,
    Signature,
    Upstream,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on older Pythons only
    import tomli as tomllib

#: The reference apps shipped with the harness.
BUILTIN_SERVER_DIR = Path(__file__).resolve().parent.parent / "server"
#: The scenarios shipped with the harness.
BUILTIN_SCENARIOS_DIR = Path(__file__).resolve().parent.parent / "scenarios"

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_APP_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_SIGNALS = frozenset({"SIGINT", "SIGTERM"})
_ENV_NAME_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_BARE_KEY_RE = re.compile(r"[A-Za-z0-9_-]+(?:\[[0-9]+\])?")
#: Variables a scenario may not set: they change how the interpreter or the loader
#: runs (not what the server does), or they are the harness's own process markers.
_ENV_RESERVED = re.compile(
    r"^(?:PATH|PYTHONPATH|PYTHONHOME|PYTHONSTARTUP|PYTHONINSPECT|PYTHONEXECUTABLE|"
    r"PYTHONUSERBASE|PYTHONNOUSERSITE|LD_\w*|DYLD_\w*|UVICORN_HARNESS_\w*)$"
)
_TOKEN_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP method or header name
_HEADER_VALUE_RE = re.compile(r"^[\t\x20-\x7e]*$")
#: Upper bound of every time limit: a wait must end in a human time scale.
MAX_LIMIT_S = 3600.0
#: Fixed ports below this need privileges a harness should not have.
MIN_FIXED_PORT = 1024


class _Table:
    """A TOML table read field by field; leftovers are reported as unknown keys."""

    def __init__(self, data: dict[str, Any], source: str, path: str) -> None:
        self._data = data
        self._seen: set[str] = set()
        self.source = source
        self.path = path

    def error(self, key: str, problem: str) -> ScenarioError:
        return ScenarioError(self.source, self._field(key), problem)

    def _field(self, key: str) -> str:
        # Keys that are not bare TOML keys are quoted, so the message stays one line.
        shown = key if _BARE_KEY_RE.fullmatch(key) else json.dumps(key)
        return f"{self.path}.{shown}" if self.path else shown

    def _get(self, key: str) -> Any:
        self._seen.add(key)
        return self._data.get(key)

    def has(self, key: str) -> bool:
        return key in self._data

    def keys(self) -> list[str]:
        return list(self._data)

    def string(self, key: str, default: str | None = None) -> str:
        value = self._get(key)
        if value is None:
            if default is None:
                raise self.error(key, "is required")
            return default
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, got {type(value).__name__}")
        _no_nul(self, key, value)
        return value

    def opt_string(self, key: str, keep_empty: bool = False) -> str | None:
        """An optional string; an empty string counts as absent unless `keep_empty`."""
        if not self.has(key):
            self._seen.add(key)
            return None
        value = self.string(key, "")
        return value if (value or keep_empty) else None

    def number(
        self, key: str, default: float, minimum: float = 0.0, maximum: float = MAX_LIMIT_S
    ) -> float:
        value = self._get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, f"must be a number, got {type(value).__name__}")
        if not math.isfinite(value):
            raise self.error(key, f"must be a finite number, got {value}")
        if value < minimum:
            raise self.error(key, f"must be at least {minimum}, got {value}")
        if value > maximum:
            raise self.error(key, f"must be at most {maximum:g}, got {value}")
        return float(value)

    def opt_int(self, key: str, minimum: int = 0, maximum: int | None = None) -> int | None:
        value = self._get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be an integer, got {type(value).__name__}")
        if value < minimum:
            raise self.error(key, f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise self.error(key, f"must be at most {maximum}, got {value}")
        return value

    def boolean(self, key: str, default: bool = False) -> bool:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {type(value).__name__}")
        return value

    def strings(self, key: str, default: Iterable[str] = ()) -> tuple[str, ...]:
        value = self._get(key)
        if value is None:
            return tuple(default)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.error(key, "must be a list of strings")
        for item in value:
            _no_nul(self, key, item)
        return tuple(value)

    def int_list(self, key: str, default: Iterable[int]) -> tuple[int, ...]:
        value = self._get(key)
        if value is None:
            return tuple(default)
        if not isinstance(value, list) or not all(
            isinstance(item, int) and not isinstance(item, bool) for item in value
        ):
            raise self.error(key, "must be a list of integers")
        return tuple(value)

    def string_map(self, key: str) -> dict[str, str]:
        value = self._get(key)
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise self.error(key, "must be a table of string values")
        for name, item in value.items():
            _no_nul(self, key, name)
            _no_nul(self, key, item)
        return dict(value)

    def table(self, key: str) -> _Table:
        value = self._get(key)
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise self.error(key, f"must be a table, got {type(value).__name__}")
        return _Table(value, self.source, self._field(key))

    def tables(self, key: str) -> Iterator[_Table]:
        value = self._get(key)
        if value is None:
            return
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self.error(key, "must be an array of tables ([[...]])")
        for index, item in enumerate(value):
            yield _Table(item, self.source, f"{self._field(key)}[{index}]")

    def regex(self, key: str, flags: int = re.MULTILINE) -> re.Pattern[str]:
        text = self.string(key)
        try:
            return re.compile(text, flags)
        except (re.error, OverflowError, RecursionError, ValueError) as exc:
            raise self.error(key, f"is not a valid regular expression: {exc}") from None

    def version(self, key: str) -> Version | None:
        text = self.opt_string(key)
        if text is None:
            return None
        try:
            return Version(text)
        except InvalidVersion:
            raise self.error(key, f"{text!r} is not a valid version") from None

    def platforms(self, key: str, default: Iterable[str]) -> frozenset[str]:
        names = self.strings(key, default)
        unknown = sorted(set(names) - KNOWN_PLATFORMS)
        if unknown:
            known = ", ".join(sorted(KNOWN_PLATFORMS))
            raise self.error(key, f"unknown platform {unknown[0]!r} (known: {known})")
        if not names:
            raise self.error(key, "must name at least one platform")
        return frozenset(names)

    def finish(self) -> None:
        unknown = sorted(set(self._data) - self._seen)
        if unknown:
            raise self.error(unknown[0], "unknown field")


def _no_nul(table: _Table, key: str, text: str) -> None:
    """NUL cannot be passed to a process or an HTTP request; refuse it up front."""
    if "\x00" in text:
        raise table.error(key, "must not contain a NUL character")


def load_scenario(path: Path) -> Scenario:
    """Parse one scenario file; raises `ScenarioError` naming the file and field."""
    source = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(source, "", f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ScenarioError(source, "", "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, "", f"invalid TOML: {exc}") from None
    except RecursionError:
        raise ScenarioError(source, "", "invalid TOML: nested too deeply") from None
    return parse_scenario(raw, path)


def parse_scenario(raw: dict[str, Any], path: Path) -> Scenario:
    """Validate an already-parsed TOML document."""
    top = _Table(raw, str(path), "")
    scenario_id = top.string("id")
    if not _ID_RE.fullmatch(scenario_id):
        raise top.error("id", f"{scenario_id!r} must be lower-case letters, digits and dashes")
    title = top.string("title")
    description = top.string("description", "")
    package = top.string("package", "uvicorn")
    platforms = top.platforms("platforms", sorted(KNOWN_PLATFORMS))
    extras = top.strings("extras")
    pins = top.strings("pins")

    upstream_table = top.table("upstream")
    upstream = Upstream(
        issue=upstream_table.opt_string("issue"),
        fix=upstream_table.opt_string("fix"),
        links=upstream_table.strings("links"),
    )
    upstream_table.finish()

    server = _parse_server(top.table("server"), path)
    limits = _parse_limits(top.table("limits"))
    http, logs, exit_expectation = _parse_expect(top.table("expect"))
    signatures = _parse_signatures(top, platforms)
    unfaithful = _parse_platform_notes(top.table("platform"), platforms)

    defaults = top.table("defaults")
    default_versions = defaults.strings("versions", ("latest",))
    if not default_versions:
        raise defaults.error("versions", "must name at least one version or selector")
    defaults.finish()
    top.finish()

    return Scenario(
        id=scenario_id,
        title=title,
        description=description,
        source=path,
        package=package,
        server=server,
        platforms=platforms,
        http=http,
        logs=logs,
        exit=exit_expectation,
        limits=limits,
        signatures=signatures,
        default_versions=default_versions,
        upstream=upstream,
        extras=extras,
        pins=pins,
        unfaithful=unfaithful,
    )


def _parse_platform_notes(table: _Table, scenario_platforms: frozenset[str]) -> dict[str, str]:
    """`[platform.<target>] unfaithful = "why"`: targets whose results cannot count."""
    unfaithful: dict[str, str] = {}
    for name in table.keys():  # noqa: SIM118 - a _Table, not a dict
        if name not in TARGET_PLATFORMS:
            known = ", ".join(sorted(TARGET_PLATFORMS))
            raise table.error(name, f"unknown platform {name!r} (known: {known})")
        if family(name) not in scenario_platforms:
            raise table.error(name, f"the scenario does not apply to {family(name)}")
        entry = table.table(name)
        reason = entry.string("unfaithful").strip()
        if not reason:
            raise entry.error("unfaithful", "must say why the platform is not faithful")
        entry.finish()
        unfaithful[name] = reason
    table.finish()
    return unfaithful


def _parse_server(table: _Table, path: Path) -> ServerSpec:
    app = table.string("app")
    if not _APP_RE.fullmatch(app):
        raise table.error("app", f"{app!r} must look like 'module:attribute'")
    app_dir = _find_app_dir(app.split(":", 1)[0], path)
    if app_dir is None:
        raise table.error(
            "app", f"module {app.split(':', 1)[0]!r} not found beside the scenario or in server/"
        )
    command = table.strings("command")
    if not command:
        raise table.error("command", "must be a non-empty list")
    if command[0] not in ("uvicorn", "python"):
        raise table.error("command", "must start with 'uvicorn' or 'python' (run in the venv)")
    for index, token in enumerate(command):
        _check_placeholders(table, f"command[{index}]", token)
    host = table.string("host", "127.0.0.1")
    _require_loopback(table, "host", host)
    for index, (flag, value) in enumerate(itertools.pairwise(command)):
        if flag in ("--host", "-h"):
            _require_loopback_token(table, f"command[{index + 1}]", value)
    for index, token in enumerate(command):
        if token.startswith("--host="):
            _require_loopback_token(table, f"command[{index}]", token.split("=", 1)[1])
    port_value = table.opt_int("port", maximum=65535)
    if port_value is not None and 0 < port_value < MIN_FIXED_PORT:
        raise table.error(
            "port",
            f"must be 0 (the server picks), left out (the harness picks) or a fixed port "
            f"from {MIN_FIXED_PORT} to 65535, got {port_value}",
        )
    ready_pattern = table.regex("ready")
    env = table.string_map("env")
    for name in env:
        if not _ENV_NAME_RE.fullmatch(name):
            raise table.error("env", f"{name!r} is not a valid environment variable name")
        if _ENV_RESERVED.fullmatch(name):
            raise table.error(
                "env", f"{name!r} may not be set by a scenario (it is the harness's to set)"
            )
    table.finish()
    return ServerSpec(
        app=app,
        app_dir=app_dir,
        command=command,
        ready_pattern=ready_pattern,
        host=host,
        port=port_value,
        env=env,
    )


def _check_placeholders(table: _Table, field: str, token: str) -> None:
    """Only plain `{name}` placeholders: no conversions, format specs or indexing."""
    known = ", ".join("{" + name + "}" for name in sorted(COMMAND_PLACEHOLDERS))
    try:
        parts = list(string.Formatter().parse(token))
    except ValueError as exc:
        raise table.error(field, f"bad placeholder syntax in {token!r}: {exc}") from None
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in COMMAND_PLACEHOLDERS:
            raise table.error(field, f"unknown placeholder {{{name}}} (known: {known})")
        if spec or conversion:
            raise table.error(field, f"placeholder {{{name}}} takes no format or conversion")


def _require_loopback_token(table: _Table, field: str, value: str) -> None:
    """A literal host in the command must be loopback; `{host}` is checked itself."""
    if value != "{host}":
        if "{" in value:
            raise table.error(field, f"a host must be literal or exactly {{host}}, not {value!r}")
        _require_loopback(table, field, value)


def _require_loopback(table: _Table, field: str, host: str) -> None:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise table.error(field, f"servers may only listen on loopback, not {host!r}")


def _find_app_dir(module: str, scenario_path: Path) -> Path | None:
    """The app lives beside the scenario, in a sibling `server/`, or in ours."""
    top_level = module.split(".", 1)[0]
    candidates = [
        scenario_path.parent,
        scenario_path.parent.parent / "server",
        BUILTIN_SERVER_DIR,
    ]
    for directory in candidates:
        if (directory / f"{top_level}.py").is_file() or (directory / top_level).is_dir():
            return directory.resolve()
    return None


def _parse_limits(table: _Table) -> Limits:
    defaults = Limits()
    limits = Limits(
        ready_s=table.number("ready_s", defaults.ready_s, minimum=0.1),
        probe_s=table.number("probe_s", defaults.probe_s, minimum=0.1),
        log_s=table.number("log_s", defaults.log_s, minimum=0.0),
        kill_grace_s=table.number("kill_grace_s", defaults.kill_grace_s, minimum=0.1),
    )
    table.finish()
    return limits


def _parse_expect(
    table: _Table,
) -> tuple[tuple[HttpProbe, ...], tuple[LogExpectation, ...], ExitExpectation]:
    probes = tuple(_parse_http(item) for item in table.tables("http"))
    logs = tuple(_parse_log(item) for item in table.tables("log"))
    exit_table = table.table("exit")
    signal_name = exit_table.string("signal", "SIGINT")
    if signal_name not in _SIGNALS:
        raise exit_table.error("signal", f"must be one of {', '.join(sorted(_SIGNALS))}")
    target = exit_table.string("target", "group")
    if target not in ("group", "parent"):
        raise exit_table.error("target", "must be 'group' or 'parent'")
    exit_expectation = ExitExpectation(
        signal=signal_name,
        target=target,
        within_s=exit_table.number("within_s", 10.0, minimum=0.1),
        codes=exit_table.int_list("codes", (0,)),
    )
    exit_table.finish()
    table.finish()
    return probes, logs, exit_expectation


def _check_headers(table: _Table, key: str, headers: Iterable[tuple[str, str]]) -> None:
    for name, value in headers:
        if not _TOKEN_RE.fullmatch(name):
            raise table.error(key, f"{name!r} is not a valid HTTP header name")
        if not _HEADER_VALUE_RE.fullmatch(value):
            raise table.error(key, f"the value of {name!r} must be printable ASCII")


def _parse_http(table: _Table) -> HttpProbe:
    method = table.string("method", "GET").upper()
    if not _TOKEN_RE.fullmatch(method):
        raise table.error("method", f"{method!r} is not a valid HTTP method")
    path = table.string("path", "/")
    if not path.startswith("/"):
        raise table.error("path", f"must start with '/', got {path!r}")
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in path):
        raise table.error("path", f"must not contain spaces or control characters: {path!r}")
    request_headers = table.string_map("request_headers")
    _check_headers(table, "request_headers", request_headers.items())
    headers = table.string_map("headers")
    _check_headers(table, "headers", headers.items())
    absent_headers = table.strings("absent_headers")
    _check_headers(table, "absent_headers", ((name, "") for name in absent_headers))
    probe = HttpProbe(
        method=method,
        path=path,
        request_headers=request_headers,
        request_body=table.opt_string("request_body"),
        status=table.opt_int("status", minimum=100, maximum=599),
        body=table.opt_string("body", keep_empty=True),
        body_contains=table.opt_string("body_contains"),
        headers=headers,
        absent_headers=absent_headers,
    )
    table.finish()
    return probe


def _parse_log(table: _Table) -> LogExpectation:
    pattern = table.regex("pattern")
    expectation = LogExpectation(
        pattern=pattern,
        min_count=table.opt_int("min_count"),
        max_count=table.opt_int("max_count"),
        distinct_min=table.opt_int("distinct_min", minimum=1),
        description=table.string("description", ""),
    )
    if expectation.distinct_min is not None and pattern.groups < 1:
        raise table.error("distinct_min", "needs a capture group in the pattern")
    if (
        expectation.min_count is None
        and expectation.max_count is None
        and (expectation.distinct_min is None)
    ):
        expectation = LogExpectation(
            pattern=pattern, min_count=1, description=expectation.description
        )
    table.finish()
    return expectation


def _parse_signatures(top: _Table, scenario_platforms: frozenset[str]) -> tuple[Signature, ...]:
    signatures: list[Signature] = []
    seen: set[str] = set()
    for table in top.tables("signature"):
        signature_id = table.string("id")
        if not _ID_RE.fullmatch(signature_id):
            raise table.error("id", f"{signature_id!r} must be lower-case letters, digits, dashes")
        if signature_id in seen:
            raise table.error("id", f"duplicate signature id {signature_id!r}")
        seen.add(signature_id)
        claim = Claim(
            fixed_in=table.version("fixed_in"), introduced_in=table.version("introduced_in")
        )
        if (
            claim.fixed_in is not None
            and claim.introduced_in is not None
            and claim.introduced_in >= claim.fixed_in
        ):
            raise table.error("introduced_in", "must be older than fixed_in")
        signatures.append(
            Signature(
                id=signature_id,
                pattern=table.regex("pattern"),
                platforms=table.platforms("platforms", sorted(scenario_platforms)),
                claim=claim,
                description=table.string("description", ""),
                flaky=table.boolean("flaky"),
            )
        )
        table.finish()
    return tuple(signatures)


def discover_scenario_files(directories: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for directory in directories:
        if not directory.is_dir():
            raise ScenarioError(str(directory), "", "scenarios directory does not exist")
        files.extend(sorted(directory.glob("*.toml")))
    return files


def load_scenarios(directories: Iterable[Path]) -> dict[str, Scenario]:
    """All scenarios in the given directories, keyed by id; duplicate ids are an error."""
    scenarios: dict[str, Scenario] = {}
    for path in discover_scenario_files(directories):
        scenario = load_scenario(path)
        if scenario.id in scenarios:
            other = scenarios[scenario.id].source
            raise ScenarioError(str(path), "id", f"{scenario.id!r} is already defined in {other}")
        scenarios[scenario.id] = scenario
    return scenarios


def select_scenarios(available: dict[str, Scenario], wanted: Iterable[str]) -> list[Scenario]:
    """The requested scenarios in request order, or all of them when none is named."""
    wanted = list(wanted)
    if not wanted:
        return [available[key] for key in sorted(available)]
    missing = [name for name in wanted if name not in available]
    if missing:
        known = ", ".join(sorted(available)) or "none"
        raise UnknownScenarioError(f"unknown scenario {missing[0]!r} (known: {known})")
    return [available[name] for name in dict.fromkeys(wanted)]
