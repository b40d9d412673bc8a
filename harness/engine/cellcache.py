"""Observed cells, kept so that bisect and claims checking need not run them again.

A cell's result is a function of what was run: the scenario (its file and the
app it serves), the environment (package==version, extras, pins, Python,
backend: the environment cache's identity) and the platform.  The cache is
keyed by exactly that, plus this harness's version, so a changed scenario or
a new classifier never reuses an old verdict.

Entries are single JSON files written atomically: two runs sharing a cache may
write the same entry, and the last complete write wins; a reader sees a whole
entry or none.  Only real observations are kept (a server ran and was judged);
install errors and skips are not, since they may be transient or are cheap.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness import __version__
from harness.atomic import write_text_atomic
from harness.clock import utc_now
from harness.envs.cache import EnvSpec
from harness.errors import ResultsFormatError
from harness.outcomes import Outcome
from harness.results import CellResult
from harness.scenario.model import Scenario

#: Bump when an entry's meaning changes: older entries are ignored.
CELL_FORMAT = 2


def scenario_fingerprint(scenario: Scenario) -> str:
    """A hash of what the scenario runs: its file and the Python files of its app folder."""
    digest = hashlib.sha256()
    app_dir = scenario.server.app_dir
    package = app_dir / scenario.server.app.split(":", 1)[0].split(".", 1)[0]
    files = sorted(app_dir.glob("*.py"))
    if package.is_dir():
        files += sorted(package.rglob("*.py"))
    for path in [scenario.source, *files]:
        digest.update(str(path.relative_to(app_dir) if path != scenario.source else "").encode())
        digest.update(b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"<unreadable>")
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def cell_identity(
    scenario: Scenario, spec: EnvSpec, platform: str, axes: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Everything an observation depends on, as stored beside it.

    `axes`: the cell's matrix values (e.g. `--http h11` or `httptools` in the same
    environment); left out when there are none, so plain cells keep their keys.
    """
    identity: dict[str, Any] = {
        "format": CELL_FORMAT,
        "harness": __version__,
        "scenario": scenario.id,
        "scenario_hash": scenario_fingerprint(scenario),
        "env": spec.key(),
        "package": spec.package,
        "version": str(spec.version),
        "python": str(spec.interpreter.version),
        "backend": spec.backend,
        "platform": platform,
    }
    if axes:
        identity["axes"] = dict(sorted(axes.items()))
    return identity


def _entry_name(identity: Mapping[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]
    version = re.sub(r"[^A-Za-z0-9_.]+", "_", str(identity["version"]))
    return f"{version}-py{identity['python']}-{identity['platform']}-{digest}.json"


class CellCache:
    """Stores and finds observed cells under `<cache>/cells/<scenario>/`."""

    def __init__(self, cache_dir: Path) -> None:
        self.root = cache_dir / "cells"

    def count(self, scenario_id: str) -> int:
        """How many observations of a scenario are kept (any harness version)."""
        folder = self.root / scenario_id
        return sum(1 for _ in folder.glob("*.json")) if folder.is_dir() else 0

    def _path(self, identity: Mapping[str, Any]) -> Path:
        return self.root / str(identity["scenario"]) / _entry_name(identity)

    def lookup(
        self,
        scenario: Scenario,
        spec: EnvSpec,
        platform: str,
        resolved_now: Mapping[str, str] | None = None,
        axes: Mapping[str, str] | None = None,
    ) -> CellResult | None:
        """The cached observation for this identity, marked with when it was made.

        `resolved_now` is what the environment holds today, when it exists: an
        observation made with other installed versions is not reused.
        """
        identity = cell_identity(scenario, spec, platform, axes)
        path = self._path(identity)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("identity") != identity:
            return None
        try:
            result = CellResult.from_json(entry["result"], str(path))
        except (KeyError, ResultsFormatError):
            return None
        if (
            resolved_now is not None
            and result.resolved
            and dict(result.resolved) != dict(resolved_now)
        ):
            return None
        return dataclasses.replace(result, from_cell_cache=str(entry.get("observed_at") or "?"))

    def store(self, scenario: Scenario, spec: EnvSpec, result: CellResult) -> bool:
        """Keep a fresh observation; False when it is not worth keeping."""
        if not Outcome(result.outcome).reproducible or result.from_cell_cache is not None:
            return False
        identity = cell_identity(scenario, spec, result.platform, result.axes)
        entry = {
            "identity": identity,
            "observed_at": utc_now(),
            "result": result.to_json(),
        }
        # Not flushed to disk: an entry lost to a power cut is only a cache miss,
        # and a flush per cell costs the run ~10 ms each, on its critical path.
        write_text_atomic(self._path(identity), json.dumps(entry, indent=1) + "\n", durable=False)
        return True
