"""Load and validate scenario TOML files into `Scenario` values.

Scenario files are data reviewed like code, so the loader is strict: unknown
keys, wrong types, bad regexes, non-loopback hosts and unknown placeholders are
all refused with a `ScenarioError` naming the file and the field.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from harness.boundedread import SCENARIO_BYTES, FileRefused, read_text
from harness.errors import ScenarioError, UnknownScenarioError
from harness.platforms import KNOWN_PLATFORMS, TARGET_PLATFORMS, WINDOWS, family
from harness.scenario.app_dir import find_app_dir, not_found, own_app_dir
from harness.scenario.applicability import ScenarioApplicability
from harness.scenario.applies_table import parse_scenario_applies
from harness.scenario.bounds import check_bounds
from harness.scenario.check_ids import ID_RE
from harness.scenario.expectations import parse_address, parse_expect, parse_probe
from harness.scenario.expectations import require_loopback as _require_loopback
from harness.scenario.hosts import command_host_problem, env_host_problem
from harness.scenario.links import link_problem
from harness.scenario.model import (
    COMMON_PLACEHOLDERS,
    LISTEN_PLACEHOLDERS,
    RESERVED_AXES,
    RESOLUTIONS,
    Limits,
    Listen,
    Matrix,
    Scenario,
    ServerSpec,
    Upstream,
)
from harness.scenario.placeholders import PlaceholderError, check_template
from harness.scenario.signature_table import parse_signatures
from harness.scenario.toml_table import Table

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on older Pythons only
    import tomli as tomllib

#: The scenarios shipped with the harness.
BUILTIN_SCENARIOS_DIR = Path(__file__).resolve().parents[2] / "scenarios"

_ID_RE = ID_RE
_APP_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_ENV_NAME_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_AXIS_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_RESOURCE_RE = re.compile(r"^[a-z]+:\S+$")
_PYTHON_RE = re.compile(r"^\d+\.\d+$")
#: Variables a scenario may not set: they change how the interpreter or the loader
#: runs (not what the server does), or they are the harness's own process markers.
_ENV_RESERVED = re.compile(
    r"^(?:PATH|PYTHONPATH|PYTHONHOME|PYTHONSTARTUP|PYTHONINSPECT|PYTHONEXECUTABLE|"
    r"PYTHONUSERBASE|PYTHONNOUSERSITE|LD_\w*|DYLD_\w*|UVICORN_HARNESS_\w*|HARNESS_\w*)$"
)
#: Fixed ports below this need privileges a harness should not have.
MIN_FIXED_PORT = 1024


def load_scenario(path: Path) -> Scenario:
    """Parse one scenario file; raises `ScenarioError` naming the file and field."""
    source = str(path)
    try:
        raw = tomllib.loads(read_text(path, SCENARIO_BYTES))
    except FileRefused as exc:
        raise ScenarioError(source, "", str(exc)) from None
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
    top = Table(raw, str(path), "")
    scenario_id = top.string("id")
    if not _ID_RE.fullmatch(scenario_id):
        raise top.error("id", f"{scenario_id!r} must be lower-case letters, digits and dashes")
    title = top.string("title")
    description = top.string("description", "")
    package = top.string("package", "uvicorn")
    platforms = top.platforms("platforms", sorted(KNOWN_PLATFORMS))
    extras = top.strings("extras")
    pins = top.strings("pins")
    exclusive = top.strings("exclusive")
    for name in exclusive:
        if not _RESOURCE_RE.match(name):
            example = "e.g. tcp:127.0.0.1:8000"
            raise top.error("exclusive", f"{name!r} must look like KIND:NAME, {example}")
        if name.startswith("tcp:"):
            parse_address(top, "exclusive", name[4:])

    upstream = _parse_upstream(top.table("upstream"))

    matrix = _parse_matrix(top.table("matrix"), extras)
    server = _parse_server(top.table("server"), path, platforms, matrix)
    limits = _parse_limits(top.table("limits"))
    known = _known_placeholders(server.listen.kind, matrix)
    axis_values: dict[str, set[str]] = {name: set(values) for name, values in matrix.axes}
    axis_values["resolution"] = set(RESOLUTIONS)
    axis_values["extras"] = {",".join(option) for option in matrix.extras or (extras,)}
    expect = parse_expect(top.table("expect"), known, axis_values)
    signatures = parse_signatures(
        top.tables("signature"), platforms, axis_values, expect.check_ids()
    )
    applies, variants = parse_scenario_applies(top.table("applies"), axis_values, parse_probe)
    applicability = ScenarioApplicability(applies, variants, expect.applies)
    unfaithful = _parse_platform_notes(top.table("platform"), platforms)

    defaults = top.table("defaults")
    default_versions = defaults.strings("versions", ("latest",))
    if not default_versions:
        raise defaults.error("versions", "must name at least one version or selector")
    defaults.finish()
    top.finish()

    scenario = Scenario(
        id=scenario_id,
        title=title,
        description=description,
        source=path,
        package=package,
        server=server,
        platforms=platforms,
        http=expect.http,
        logs=expect.logs,
        exit=expect.exit,
        limits=limits,
        signatures=signatures,
        default_versions=default_versions,
        upstream=upstream,
        extras=extras,
        pins=pins,
        raw=expect.raw,
        websocket=expect.websocket,
        listening=expect.listening,
        paths=expect.paths,
        imports=expect.imports,
        matrix=matrix,
        exclusive=exclusive,
        unfaithful=unfaithful,
        compare=expect.compare,
        applicability=applicability,
    )
    check_bounds(scenario)
    return scenario


def _parse_upstream(table: Table) -> Upstream:
    """`[upstream]`: links shown in reports, so plain http(s) URLs only."""
    upstream = Upstream(
        issue=table.opt_string("issue"), fix=table.opt_string("fix"), links=table.strings("links")
    )
    named = [("issue", upstream.issue), ("fix", upstream.fix)]
    named += [(f"links[{index}]", link) for index, link in enumerate(upstream.links)]
    for field, link in named:
        problem = None if link is None else link_problem(link)
        if link is not None and problem is not None:
            raise table.error(field, f"{problem}: {link[:80]!r}")
    table.finish()
    return upstream


def _parse_platform_notes(table: Table, scenario_platforms: frozenset[str]) -> dict[str, str]:
    """`[platform.<target>] unfaithful = "why"`: targets whose results cannot count."""
    unfaithful: dict[str, str] = {}
    for name in table.field_names():
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


def _known_placeholders(listen_kind: str, matrix: Matrix) -> set[str]:
    return (
        set(COMMON_PLACEHOLDERS)
        | LISTEN_PLACEHOLDERS[listen_kind]
        | {name for name, _ in matrix.axes}
    )


def _parse_matrix(table: Table, extras: tuple[str, ...]) -> Matrix:
    """`[matrix]`: python, extras and resolution are reserved; other keys are axes."""
    pythons = table.strings("python")
    for text in pythons:
        if not _PYTHON_RE.match(text):
            raise table.error("python", f"{text!r} must be a minor version like '3.12'")
    resolutions = table.strings("resolution")
    for text in resolutions:
        if text not in RESOLUTIONS:
            raise table.error("resolution", f"{text!r} is not one of {', '.join(RESOLUTIONS)}")
    extras_value = table.raw("extras")
    extras_options: tuple[tuple[str, ...], ...] = ()
    if extras_value is not None:
        if not isinstance(extras_value, list) or not all(
            isinstance(option, list) and all(isinstance(item, str) for item in option)
            for option in extras_value
        ):
            example = "e.g. [[], ['standard']]"
            raise table.error("extras", f"must be a list of lists of extras, {example}")
        if extras:
            raise table.error("extras", "give extras either at the top or as a matrix axis")
        extras_options = tuple(tuple(option) for option in extras_value)
    axes: list[tuple[str, tuple[str, ...]]] = []
    reserved = RESERVED_AXES | COMMON_PLACEHOLDERS | {"port", "uds", "fd"}
    for name in table.field_names():
        if name in RESERVED_AXES:
            continue
        if not _AXIS_RE.match(name) or name in reserved:
            raise table.error(name, "is not a usable axis name (lower-case, not a placeholder)")
        values = table.strings(name)
        if not values or len(set(values)) != len(values):
            raise table.error(name, "must be a non-empty list of distinct strings")
        axes.append((name, values))
    for option_list, field in ((pythons, "python"), (resolutions, "resolution")):
        if len(set(option_list)) != len(option_list):
            raise table.error(field, "lists a value twice")
    table.finish()
    return Matrix(tuple(axes), extras_options, pythons, resolutions)


def _parse_server(
    table: Table, path: Path, platforms: frozenset[str], matrix: Matrix
) -> ServerSpec:
    app = table.string("app")
    if not _APP_RE.fullmatch(app):
        raise table.error("app", f"{app!r} must look like 'module:attribute'")
    module = app.split(":", 1)[0]
    own_dir = table.opt_string("app_dir")
    if own_dir is not None:
        app_dir = own_app_dir(table, own_dir, module, path)
    else:
        found = find_app_dir(module, path)
        if found is None:
            raise table.error("app", not_found(module, path))
        app_dir = found
    listen_kind = table.choice("listen", ("tcp", "uds", "fd"), "tcp")
    fd_as = table.choice("fd", ("inherited", "stdin"), "inherited")
    if table.has("fd") and listen_kind != "fd":
        raise table.error("fd", "only applies with listen = 'fd'")
    if listen_kind != "tcp" and WINDOWS in platforms:
        raise table.error("listen", f"{listen_kind!r} needs a POSIX platform: leave out 'windows'")
    command = table.strings("command")
    if not command:
        raise table.error("command", "must be a non-empty list")
    if command[0] not in ("uvicorn", "python"):
        raise table.error("command", "must start with 'uvicorn' or 'python' (run in the venv)")
    known = _known_placeholders(listen_kind, matrix)
    for index, token in enumerate(command):
        _check_placeholders(table, f"command[{index}]", token, known)
    host = table.string("host", "127.0.0.1")
    _require_loopback(table, "host", host)
    _refuse_public_hosts(table, command)
    port_value = table.opt_int("port", maximum=65535)
    if port_value is not None and 0 < port_value < MIN_FIXED_PORT:
        raise table.error(
            "port",
            f"must be 0 (the server picks), left out (the harness picks) or a fixed port "
            f"from {MIN_FIXED_PORT} to 65535, got {port_value}",
        )
    if port_value is not None and listen_kind != "tcp":
        raise table.error("port", "only applies with listen = 'tcp'")
    ready_pattern = table.opt_regex("ready")
    if ready_pattern is None and (port_value == 0 or listen_kind == "fd"):
        why = "the port is announced" if port_value == 0 else "a passed socket accepts at once"
        raise table.error("ready", f"is required here ({why}): the line that says it serves")
    env = table.string_map("env")
    for name, value in env.items():
        if not _ENV_NAME_RE.fullmatch(name):
            raise table.error("env", f"{name!r} is not a valid environment variable name")
        if _ENV_RESERVED.fullmatch(name):
            raise table.error(
                "env", f"{name!r} may not be set by a scenario (it is the harness's to set)"
            )
        _check_placeholders(table, f"env.{name}", value, known)
    table.finish()
    return ServerSpec(
        app=app,
        app_dir=app_dir,
        command=command,
        ready_pattern=ready_pattern,
        host=host,
        port=port_value,
        env=env,
        listen=Listen(listen_kind, fd_as),
    )


def _check_placeholders(table: Table, field: str, token: str, known: set[str]) -> None:
    try:
        check_template(token, known)
    except PlaceholderError as exc:
        raise table.error(field, str(exc)) from None


def _refuse_public_hosts(table: Table, command: tuple[str, ...]) -> None:
    """A host in the command (`--host`, `--bind`, a launcher's `host=`) or in a
    variable the server reads (`UVICORN_HOST`) must be loopback or `{host}`."""
    in_command = command_host_problem(command)
    if in_command is not None:
        index, value = in_command
        raise table.error(
            f"command[{index}]",
            f"servers may only listen on loopback (a literal or exactly {{host}}), not {value!r}",
        )
    in_env = env_host_problem(table.string_map("env"))
    if in_env is not None:
        name, value = in_env
        raise table.table("env").error(
            name, f"sets where the server listens: only loopback or exactly {{host}}, not {value!r}"
        )


def _parse_limits(table: Table) -> Limits:
    defaults = Limits()
    limits = Limits(
        ready_s=table.number("ready_s", defaults.ready_s, minimum=0.1),
        probe_s=table.number("probe_s", defaults.probe_s, minimum=0.1),
        log_s=table.number("log_s", defaults.log_s, minimum=0.0),
        kill_grace_s=table.number("kill_grace_s", defaults.kill_grace_s, minimum=0.1),
        connect_s=table.opt_number("connect_s", minimum=0.1),
    )
    table.finish()
    return limits


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
