"""Versioned results files: one record per cell, written atomically.

Results from shards and platforms merge by concatenating their `cells`; every
record carries its full key and its evidence, so a report can be made from
results alone.  Optional top-level fields (added within schema 1; readers of
older files get empty values) make merged reports judge claims like the run
did: `releases` (the package's release list the claims were judged against)
and `scenarios` (title, upstream links and signatures of each scenario run);
`requires_python` (each release's declared Pythons) lets a report tell a
release that does not support a Python from one that was not run on it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from harness import __version__
from harness.atomic import write_text_atomic
from harness.boundedread import RESULTS_BYTES, FileRefused, read_text
from harness.errors import ResultsFormatError
from harness.outcomes import Outcome
from harness.plan.cells import CellKey, cell_key
from harness.scenario.model import Scenario
from harness.schema_check import SchemaViolation, Validator

SCHEMA = 1
OUTPUT_TAIL_CHARS = 12_000
#: Evidence a cell may carry into any report, whatever a results file holds:
#: characters of a reason or a check's detail, and checks and attempts kept.
TEXT_CHARS = 2_000
MAX_CHECKS = 200
MAX_ATTEMPTS = 200
#: The published format (docs/reports.md); every file is checked against it.
SCHEMA_FILE = Path(__file__).with_name("results.schema.json")


def clip(text: str, limit: int = TEXT_CHARS) -> str:
    """At most `limit` characters, marked where cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _bounded(records: Sequence[Mapping[str, Any]], limit: int) -> tuple[Mapping[str, Any], ...]:
    """At most `limit` records, each with its texts clipped (its output tail as a tail)."""
    kept = []
    for record in records[:limit]:
        bounded = dict(record)
        for key, value in record.items():
            if isinstance(value, str):
                bounded[key] = output_tail(value) if key == "output_tail" else clip(value)
        kept.append(bounded)
    return tuple(kept)


def output_tail(text: str, limit: int = OUTPUT_TAIL_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text[-limit:]
    newline = cut.find("\n")
    return "[...]\n" + (cut[newline + 1 :] if 0 <= newline < 200 else cut)


@dataclass(frozen=True)
class CellResult:
    """The judged result of one cell, with the evidence behind the judgement."""

    scenario: str
    package: str
    version: str
    python: str
    platform: str
    outcome: Outcome
    expected: bool
    reason: str
    signature: str | None = None
    fingerprint: str | None = None
    duration_s: float = 0.0
    exit_code: int | None = None
    output_tail: str = ""
    python_full: str | None = None
    extras: tuple[str, ...] = ()
    backend: str | None = None
    env_reused: bool | None = None
    env_build_s: float | None = None
    resolved: Mapping[str, str] = field(default_factory=dict)
    checks: tuple[Mapping[str, Any], ...] = ()
    address: str | None = None
    stop: str | None = None
    #: Every run of the cell when there was more than one (--repeat, flaky retries).
    attempts: tuple[Mapping[str, Any], ...] = ()
    #: Why the cell is in the run: "selected" (the version selection), "narrowing"
    #: (added to pin a claim's edge) or "bisect" (a bisect probe).
    origin: str = "selected"
    #: When the result reuses an earlier observation from the cell cache instead
    #: of running now: the UTC time of that observation.  None: it ran in this run.
    from_cell_cache: str | None = None
    #: The scenario's matrix axis values for this cell (e.g. {"http": "h11"}).
    axes: Mapping[str, str] = field(default_factory=dict)
    #: How the environment was resolved: "latest" or "release-date".
    resolution: str = "latest"
    #: The `--exclude-newer` bound used for a "release-date" resolution.
    exclude_newer: str | None = None
    #: Further signatures that matched besides `signature` (which is the first).
    also_matched: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Callers may pass an outcome's name; the record always holds the member.
        object.__setattr__(self, "outcome", Outcome(self.outcome))
        # Bounded evidence in every report, however much a server printed or a file holds.
        object.__setattr__(self, "output_tail", output_tail(self.output_tail))
        object.__setattr__(self, "reason", clip(self.reason))
        object.__setattr__(self, "checks", _bounded(self.checks, MAX_CHECKS))
        object.__setattr__(self, "attempts", _bounded(self.attempts, MAX_ATTEMPTS))

    @property
    def key(self) -> CellKey:
        return cell_key(self.scenario, self.package, self.version, self.python, self.platform,
                        self.extras, self.axes.items(), self.resolution)  # fmt: skip

    @property
    def variant(self) -> str:
        """What sets the cell apart beyond version, Python and platform."""
        parts = [f"[{','.join(self.extras)}]"] if self.extras else []
        parts += [f"{name}={value}" for name, value in self.axes.items()]
        if self.resolution != "latest":
            parts.append(f"resolution={self.resolution}")
        return " ".join(parts)

    @property
    def signatures(self) -> tuple[str, ...]:
        """Every signature that matched the cell, the cell's own first."""
        return (self.signature, *self.also_matched) if self.signature else self.also_matched

    @property
    def gates(self) -> bool:
        """Whether it counts for the run's verdict: cells added only to pin a claim's
        edge inform the claims but do not gate (a merge conflict always does)."""
        return self.origin == "selected" or self.outcome == Outcome.CONFLICT

    @property
    def parsed_version(self) -> Version:
        return Version(self.version)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["extras"] = list(self.extras)
        data["checks"] = [dict(check) for check in self.checks]
        data["attempts"] = [dict(attempt) for attempt in self.attempts]
        data["resolved"] = dict(self.resolved)
        data["axes"] = dict(self.axes)
        data["also_matched"] = list(self.also_matched)
        data["duration_s"] = round(self.duration_s, 3)
        if self.env_build_s is not None:
            data["env_build_s"] = round(self.env_build_s, 3)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any], source: str) -> CellResult:
        try:
            Version(str(data["version"]))
            return cls(
                scenario=str(data["scenario"]),
                package=str(data["package"]),
                version=str(data["version"]),
                python=str(data["python"]),
                platform=str(data["platform"]),
                outcome=Outcome(str(data["outcome"])),
                expected=bool(data["expected"]),
                reason=str(data.get("reason", "")),
                signature=data.get("signature"),
                fingerprint=data.get("fingerprint"),
                duration_s=float(data.get("duration_s") or 0.0),
                exit_code=data.get("exit_code"),
                output_tail=str(data.get("output_tail") or ""),
                python_full=data.get("python_full"),
                extras=tuple(data.get("extras") or ()),
                backend=data.get("backend"),
                env_reused=data.get("env_reused"),
                env_build_s=data.get("env_build_s"),
                resolved=dict(data.get("resolved") or {}),
                checks=tuple(data.get("checks") or ()),
                address=data.get("address"),
                stop=data.get("stop"),
                attempts=tuple(data.get("attempts") or ()),
                origin=str(data.get("origin") or "selected"),
                from_cell_cache=data.get("from_cell_cache"),
                axes={str(k): str(v) for k, v in dict(data.get("axes") or {}).items()},
                resolution=str(data.get("resolution") or "latest"),
                exclude_newer=data.get("exclude_newer"),
                also_matched=tuple(str(s) for s in data.get("also_matched") or ()),
            )
        except (KeyError, TypeError, ValueError, InvalidVersion) as exc:
            raise ResultsFormatError(f"{source}: malformed cell record ({exc!r})") from None


@dataclass
class RunResults:
    cells: list[CellResult]
    claims: list[dict[str, Any]] = field(default_factory=list)
    complete: bool = True
    started_at: str = ""
    finished_at: str = ""
    command: Sequence[str] = ()
    notes: list[str] = field(default_factory=list)
    releases: dict[str, list[str]] = field(default_factory=dict)
    scenarios: dict[str, dict[str, Any]] = field(default_factory=dict)
    run_id: str = ""
    #: Per package, each release's `requires-python` (releases that declare one).
    requires_python: dict[str, dict[str, str]] = field(default_factory=dict)
    #: The edges a `bisect` run found (absent for other commands).
    bisect: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "schema": SCHEMA,
            "harness_version": __version__,
            "run_id": self.run_id,
            "complete": self.complete,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "command": list(self.command),
            "notes": self.notes,
            "summary": summarise(self.cells),
            "claims": self.claims,
            "releases": self.releases,
            "requires_python": self.requires_python,
            "scenarios": self.scenarios,
            "cells": [cell.to_json() for cell in self.cells],
        }
        if self.bisect is not None:
            data["bisect"] = self.bisect
        return data


def describe_scenario(scenario: Scenario) -> dict[str, Any]:
    """What a report shows of a scenario when its file is not at hand."""
    return {
        "title": scenario.title,
        "source": str(scenario.source),
        "description": scenario.description.strip(),
        "package": scenario.package,
        "platforms": sorted(scenario.platforms),
        "upstream": {
            "issue": scenario.upstream.issue,
            "fix": scenario.upstream.fix,
            "links": list(scenario.upstream.links),
        },
        "signatures": [
            {
                "id": signature.id,
                "description": signature.description,
                "platforms": sorted(signature.platforms),
                "claim": signature.claim.describe(),
            }
            for signature in scenario.signatures
        ],
    }


def summarise(cells: Iterable[CellResult]) -> dict[str, Any]:
    """Counts; `unexpected` are the cells that gate the run (the selection's),
    `unexpected_not_gated` those added only to pin a claim's edge."""
    counts: dict[str, int] = {}
    unexpected = not_gated = 0
    total = 0
    for cell in cells:
        total += 1
        counts[cell.outcome] = counts.get(cell.outcome, 0) + 1
        if not cell.expected:
            if cell.gates:
                unexpected += 1
            else:
                not_gated += 1
    summary: dict[str, Any] = {"cells": total, "unexpected": unexpected, "outcomes": counts}
    if not_gated:
        summary["unexpected_not_gated"] = not_gated
    return summary


def write_results(path: Path, results: RunResults) -> None:
    write_text_atomic(path, json.dumps(results.to_json(), indent=2) + "\n")


def _not_json(name: str) -> None:
    """`NaN` and `Infinity` are Python's JSON extensions, not JSON: refused."""
    raise ValueError(f"{name} is not a JSON number")


@functools.cache
def _validator() -> Validator:
    return Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def load_results(path: Path) -> RunResults:
    """Read a results file strictly (`harness/results.schema.json`): anything else
    is a `ResultsFormatError` naming the file and the first bad field (exit 3)."""
    source = str(path)
    try:
        data = json.loads(read_text(path, RESULTS_BYTES), parse_constant=_not_json)
    except FileRefused as exc:
        raise ResultsFormatError(f"{source}: {exc}") from None
    except OSError as exc:
        raise ResultsFormatError(f"{source}: cannot read ({exc.strerror or exc})") from None
    except RecursionError:
        raise ResultsFormatError(f"{source}: not valid JSON (nested too deeply)") from None
    except ValueError as exc:
        raise ResultsFormatError(f"{source}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or "schema" not in data:
        raise ResultsFormatError(f"{source}: not a harness results file (no 'schema')")
    schema = data["schema"]
    if isinstance(schema, int) and not isinstance(schema, bool) and schema != SCHEMA:
        raise ResultsFormatError(
            f"{source}: results schema {data['schema']!r} is not supported "
            f"(this harness reads schema {SCHEMA})"
        )
    try:
        _validator().check(data)
    except SchemaViolation as exc:
        raise ResultsFormatError(f"{source}: {exc}") from None
    cells = data["cells"]
    return RunResults(
        cells=[CellResult.from_json(cell, source) for cell in cells],
        claims=list(data.get("claims") or []),
        complete=bool(data.get("complete", True)),
        started_at=str(data.get("started_at", "")),
        finished_at=str(data.get("finished_at", "")),
        command=tuple(data.get("command") or ()),
        notes=list(data.get("notes") or []),
        releases=_releases(data.get("releases"), source),
        requires_python=_requires_python(data.get("requires_python"), source),
        scenarios=_scenarios(data.get("scenarios"), source),
        run_id=str(data.get("run_id") or ""),
        bisect=data.get("bisect") if isinstance(data.get("bisect"), dict) else None,
    )


def _releases(value: Any, source: str) -> dict[str, list[str]]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
        raise ResultsFormatError(f"{source}: 'releases' must map package names to version lists")
    releases: dict[str, list[str]] = {}
    for package, versions in value.items():
        try:
            releases[str(package)] = [str(Version(str(v))) for v in versions]
        except InvalidVersion as exc:
            raise ResultsFormatError(f"{source}: releases.{package}: {exc}") from None
    return releases


def _requires_python(value: Any, source: str) -> dict[str, dict[str, str]]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(specs, dict) and all(isinstance(s, str) for s in specs.values())
        for specs in value.values()
    ):
        raise ResultsFormatError(
            f"{source}: 'requires_python' must map package names to {{version: specifier}}"
        )
    return {str(package): {str(v): s for v, s in specs.items()} for package, specs in value.items()}


def _scenarios(value: Any, source: str) -> dict[str, dict[str, Any]]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise ResultsFormatError(f"{source}: 'scenarios' must map scenario ids to objects")
    return {str(key): dict(info) for key, info in value.items()}
