"""Standalone reproduction scripts: one results cell, recreated without the harness.

A cell is named `SCENARIO:VERSION:PYTHON:PLATFORM[:VARIANT...]`, the parts of
its results key in order: `port-zero-startup:0.13.4:3.8:linux`, and for a
matrix cell also its extras (`[standard]`), axis values (`http=h11`) and a
non-default resolution (`resolution=release-date`).  A name may leave out the
platform and variant parts when only one cell fits.

The script (POSIX `sh`, or PowerShell for Windows cells) creates a virtual
environment with the cell's exact resolved versions, writes the app, and runs
`repro_driver.py` with the cell's command, requests, checks and signatures.
Everything from the app and the results is written through quoted
here-documents (never expanded by the shell); the driver's data is a Python
literal.
"""

from __future__ import annotations

import base64
import hashlib
import pprint
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.atomic import write_text_atomic
from harness.errors import UsageError
from harness.outcomes import Outcome
from harness.platforms import WINDOWS, family
from harness.results import CellResult
from harness.scenario.model import Scenario

_DRIVER = Path(__file__).with_name("repro_driver.py")
#: Outcomes worth a script: the server ran and something failed.
FAILING = frozenset({Outcome.KNOWN_FAILURE, Outcome.NEW_FAILURE, Outcome.TIMEOUT, Outcome.FLAKY})
MAX_FILE_BYTES = 256 * 1024


def cell_name(cell: CellResult) -> str:
    parts = [cell.scenario, cell.version, cell.python, cell.platform]
    if cell.extras:
        parts.append("[" + ",".join(cell.extras) + "]")
    parts += [f"{name}={value}" for name, value in sorted(cell.axes.items())]
    if cell.resolution != "latest":
        parts.append(f"resolution={cell.resolution}")
    return ":".join(parts)


def file_stem(cell: CellResult) -> str:
    """A file name for the cell's script (only safe characters)."""
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", cell_name(cell).replace(":", "_"))[:150]


def find_cell(cells: Sequence[CellResult], name: str) -> CellResult:
    """The one cell a name designates; a usage error listing candidates otherwise."""
    parts = name.split(":")
    if len(parts) < 3:
        raise UsageError(f"cell {name!r}: name it SCENARIO:VERSION:PYTHON[:PLATFORM[:VARIANT]]")
    scenario, version, python, *rest = parts
    python = python.removeprefix("py")
    found = [
        cell
        for cell in cells
        if cell.scenario == scenario
        and cell.version == version
        and cell.python == python
        and set(rest) <= set(cell_name(cell).split(":")[3:])
    ]
    if len(found) == 1:
        return found[0]
    if not found:
        near = sorted({cell_name(c) for c in cells if c.scenario == scenario})[:10]
        hint = f"; cells of {scenario}: {', '.join(near)}" if near else ""
        raise UsageError(f"no cell {name!r} in the results{hint}")
    names = ", ".join(sorted(cell_name(c) for c in found)[:10])
    raise UsageError(f"cell {name!r} is ambiguous: {names}")


@dataclass(frozen=True)
class Script:
    name: str
    text: str
    shell: str  # "sh" or "ps1"


def _app_files(scenario: Scenario) -> dict[str, str]:
    """The app module (and files the command names in {app_dir}), by file name."""
    files: dict[str, str] = {}
    module = scenario.server.app.split(":", 1)[0]
    if "." in module:
        raise UsageError(f"{scenario.id}: the app {module} is a package; scripts take one module")
    names = [f"{module}.py"] + [
        m.group(1)
        for token in scenario.server.command
        for m in [re.match(r"\{app_dir\}/([\w.-]+\.py)$", token)]
        if m
    ]
    for name in dict.fromkeys(names):
        path = scenario.server.app_dir / name
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise UsageError(f"{path}: too large for a script")
            files[name] = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return files


def _spec(cell: CellResult, scenario: Scenario) -> dict[str, Any]:
    server = scenario.server
    if server.listen.kind != "tcp":
        raise UsageError(f"{scenario.id} listens on {server.listen.kind}: scripts speak TCP only")
    not_replicated = [f"raw exchange {r.id}" for r in scenario.raw]
    not_replicated += [f"websocket {w.id}" for w in scenario.websocket]
    not_replicated += [f"listening {e.id}" for e in scenario.listening]
    not_replicated += [f"path {p.id}" for p in scenario.paths]
    not_replicated += [f"imports {i.id}" for i in scenario.imports]
    if any(p.session or p.same_connection is not None for p in scenario.http):
        not_replicated.append("keep-alive sessions (each request uses its own connection)")
    seen = cell.outcome + (f" {cell.signature}" if cell.signature else "")
    if cell.fingerprint:
        seen += f" ({cell.fingerprint})"
    return {
        "app": server.app,
        "command": list(server.command),
        "host": server.host,
        "port": server.port,
        "ready": server.ready_pattern.pattern if server.ready_pattern else None,
        "env": dict(server.env),
        "axes": dict(cell.axes),
        "ready_s": scenario.limits.ready_s,
        "probe_s": scenario.limits.probe_s,
        "log_s": scenario.limits.log_s,
        "http": [
            {
                "method": p.method,
                "path": p.path,
                "request_headers": dict(p.request_headers),
                "request_body": p.request_body,
                "status": p.status,
                "body": p.body,
                "body_contains": p.body_contains,
                "headers": dict(p.headers),
                "absent_headers": list(p.absent_headers),
                "wait_s": p.wait_s,
                "json": dict(p.json) if p.json is not None else None,
            }
            for p in scenario.http
        ],
        "logs": [
            {
                "pattern": e.pattern.pattern,
                "min_count": e.min_count,
                "max_count": e.max_count,
                "distinct_min": e.distinct_min,
                "description": e.description,
            }
            for e in scenario.logs
        ],
        "exit": {
            "signal": scenario.exit.signal,
            "target": scenario.exit.target,
            "within_s": scenario.exit.within_s,
            "codes": list(scenario.exit.codes),
        },
        "signatures": [
            {"id": s.id, "pattern": s.pattern.pattern if s.pattern else None}
            for s in scenario.signatures
            if s.applies_to(cell.platform)
        ],
        "not_replicated": not_replicated,
        "harness_saw": seen,
    }


def _pins(cell: CellResult) -> list[str]:
    pins = [
        f"{name}=={version}"
        for name, version in sorted(cell.resolved.items())
        if name not in ("pip", "setuptools", "wheel")
    ]
    if not any(p.startswith(f"{cell.package}==") for p in pins):
        extras = f"[{','.join(cell.extras)}]" if cell.extras else ""
        pins.insert(0, f"{cell.package}{extras}=={cell.version}")
    for pin in pins:
        if not re.fullmatch(r"[A-Za-z0-9._\[\],-]+==[A-Za-z0-9._+!-]+", pin):
            raise UsageError(f"resolved version {pin[:60]!r} is not a plain pin")
    return pins


def _header(cell: CellResult, scenario: Scenario, mark: str) -> list[str]:
    lines = [
        "Reproduces one cell of a uvicorn-regress-harness run, without the harness: "
        + cell_name(cell),
        f"{cell.package} {cell.version} on CPython {cell.python_full or cell.python}, "
        f"{cell.platform}; scenario {scenario.id}: {scenario.title}",
        f"The harness saw: {cell.outcome}" + (f" ({cell.signature})" if cell.signature else ""),
        "Run it in an empty folder. Exit code: 0 every check held, 1 the failure shows, "
        "2 the set-up failed.",
    ]
    if scenario.upstream.issue:
        lines.append(f"Upstream: {scenario.upstream.issue}")
    return [mark + " " + "".join(ch if ch.isprintable() else " " for ch in line) for line in lines]


def _delimiter(texts: Sequence[str]) -> str:
    digest = hashlib.sha256("".join(texts).encode()).hexdigest()[:12]
    return f"HARNESS_EOF_{digest}"


def driver_source(spec: dict[str, Any]) -> str:
    """The driver with its data first (after the one import that must lead)."""
    future = "from __future__ import annotations\n"
    body = _DRIVER.read_text(encoding="utf-8").replace(future, "", 1)
    data = "SPEC = " + pprint.pformat(spec, width=100, sort_dicts=False) + "\n"
    return future + data + body


def shell_script(cell: CellResult, scenario: Scenario) -> Script:
    files = {f"app/{k}": v for k, v in _app_files(scenario).items()}
    files["drive.py"] = driver_source(_spec(cell, scenario))
    end = _delimiter(list(files.values()))
    python = f"python{cell.python}"
    lines = [
        "#!/bin/sh",
        *_header(cell, scenario, "#"),
        f"# Interpreter: $PYTHON, else {python} on PATH.",
        "set -eu",
        f'PY="${{PYTHON:-{python}}}"',
        "mkdir -p app",
        '"$PY" -m venv venv || exit 2',
        "venv/bin/python -m pip install --disable-pip-version-check -q \\",
        "    " + " ".join(f"'{pin}'" for pin in _pins(cell)) + " || exit 2",
    ]
    for name, text in files.items():
        lines += [f"cat > {name} <<'{end}'", text.rstrip("\n"), end]
    lines += ["venv/bin/python drive.py"]
    return Script(file_stem(cell) + ".sh", "\n".join(lines) + "\n", "sh")


def powershell_script(cell: CellResult, scenario: Scenario) -> Script:
    files = {f"app\\{k}": v for k, v in _app_files(scenario).items()}
    files["drive.py"] = driver_source(_spec(cell, scenario))
    lines = [
        *_header(cell, scenario, "#"),
        f"# Interpreter: $env:PYTHON, else the py launcher's -{cell.python}.",
        "$ErrorActionPreference = 'Stop'",
        "if ($env:PYTHON) { & $env:PYTHON -m venv venv } else { & py "
        f"-{cell.python} -m venv venv }}",
        "if ($LASTEXITCODE -ne 0) { exit 2 }",
        "& .\\venv\\Scripts\\python.exe -m pip install --disable-pip-version-check -q "
        + " ".join(f"'{pin}'" for pin in _pins(cell)),
        "if ($LASTEXITCODE -ne 0) { exit 2 }",
        "New-Item -ItemType Directory -Force app | Out-Null",
    ]
    for name, text in files.items():
        if re.search(r"(?m)^'@", text):
            encoded = base64.b64encode(text.encode()).decode()
            value = f"[Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('{encoded}'))"
            lines.append(f'[IO.File]::WriteAllText("$PWD\\{name}", {value})')
        else:
            lines += [f'[IO.File]::WriteAllText("$PWD\\{name}", @\'', text.rstrip("\n"), "'@)"]
    lines += ["& .\\venv\\Scripts\\python.exe drive.py", "exit $LASTEXITCODE"]
    return Script(file_stem(cell) + ".ps1", "\r\n".join(lines) + "\r\n", "ps1")


def script_for(cell: CellResult, scenario: Scenario, shell: str | None = None) -> Script:
    """The script for a cell: PowerShell for Windows cells, sh otherwise (or as asked)."""
    if cell.scenario != scenario.id:
        raise UsageError(f"cell {cell_name(cell)} is not of scenario {scenario.id}")
    if not cell.resolved and not cell.version:
        raise UsageError(f"{cell_name(cell)}: the results record no environment")
    wanted = shell or ("ps1" if family(cell.platform) == WINDOWS else "sh")
    return powershell_script(cell, scenario) if wanted == "ps1" else shell_script(cell, scenario)


def write_scripts(
    folder: Path, cells: Sequence[CellResult], scenarios: dict[str, Scenario]
) -> dict[str, str]:
    """Scripts for the failing cells whose scenario is known; cell name -> file name."""
    written: dict[str, str] = {}
    for cell in cells:
        scenario = scenarios.get(cell.scenario)
        if cell.outcome not in FAILING or scenario is None:
            continue
        try:
            script = script_for(cell, scenario)
        except UsageError:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(folder / script.name, script.text)
        written[cell_name(cell)] = script.name
    return written
