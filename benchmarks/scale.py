"""Planning and reporting a large matrix without running it: time and peak memory.

The default is 100 releases x 8 Pythons x 3 scenarios (the two seed scenarios
and a copy of one: 2,400 cells).  This script first writes, in a scratch
folder, a release list of that many versions (with `requires-python`, so some
cells are skips) in the harness's index cache format, and a results file with
one realistic result per cell (pass logs, known-failure tracebacks).  Then a
fresh process does what `run` does around the cells, and times each step:

* plan: the release list read from the index cache (offline), selectors
  resolved, every scenario x release x Python cell planned with its skips
  (interpreters come from a stand-in finder: 8 made-up CPythons);
* report: the saved results loaded, claims judged, the terminal summary
  rendered, the results JSON, HTML, JUnit and Markdown written.

It prints the figures and that process's peak memory (max RSS, imports
included).  Asserts nothing.

    python benchmarks/scale.py [--versions 100] [--pythons 8] [--scenarios 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import io
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's harness

from packaging.specifiers import SpecifierSet  # noqa: E402
from packaging.version import Version  # noqa: E402

from harness.envs.index import Release, ReleaseIndex  # noqa: E402
from harness.envs.index_config import IndexConfig  # noqa: E402
from harness.envs.interpreters import Interpreter, PythonRequest  # noqa: E402
from harness.plan.cells import Cell, PlatformPlan, plan_cells  # noqa: E402
from harness.scenario.loader import BUILTIN_SCENARIOS_DIR, load_scenarios  # noqa: E402
from harness.scenario.model import Scenario  # noqa: E402

#: Releases the seed scenarios' claims name: the synthetic list includes them.
CLAIMED = ("0.12.1", "0.12.2", "0.13.3", "0.13.4", "0.14.0", "0.28.1", "0.29.0", "0.30.2", "0.30.3")


class StandInPythons:
    """The `PythonSource` of a machine with these interpreters (nothing is run)."""

    def __init__(self, minors: Sequence[str]) -> None:
        self.found = [
            Interpreter(Path(f"/opt/python{m}/bin/python{m}"), Version(f"{m}.4")) for m in minors
        ]

    def discovered(self) -> list[Interpreter]:
        return list(self.found)

    def resolve_all(self, texts: Iterable[str]) -> list[PythonRequest]:
        by_minor = {i.minor: i for i in self.found}
        return [
            PythonRequest(t, by_minor.get(t), "" if t in by_minor else "not found") for t in texts
        ]


def release_list(count: int) -> list[Release]:
    """`count` releases, oldest first, requiring newer Pythons as they go."""
    names = {Version(v) for v in CLAIMED}
    minor = 0
    while len(names) < count:
        for patch in range(3):
            names.add(Version(f"0.{minor}.{patch}"))
        minor += 1
    versions = sorted(names)[:count]
    floors = ("3.6", "3.7", "3.8", "3.9", "3.10")
    return [
        Release(v, SpecifierSet(f">={floors[min(i * len(floors) // count, len(floors) - 1)]}"))
        for i, v in enumerate(versions)
    ]


def scenarios(count: int) -> list[Scenario]:
    builtin = list(load_scenarios([BUILTIN_SCENARIOS_DIR]).values())
    found = builtin[:count]
    while len(found) < count:
        base = builtin[len(found) % len(builtin)]
        found.append(dataclasses.replace(base, id=f"{base.id}-copy{len(found)}"))
    return found


def minors(count: int) -> list[str]:
    return [f"3.{n}" for n in range(6, 6 + count)]


def plan(folder: Path, args: argparse.Namespace) -> list[Cell]:
    index = ReleaseIndex(IndexConfig(origin="scale"), folder, offline=True)
    pythons = StandInPythons(minors(args.pythons))
    return plan_cells(
        scenarios(args.scenarios),
        ">=0",
        minors(args.pythons),
        [PlatformPlan("linux", pythons, None)],
        index,
    )


def prepare(folder: Path, args: argparse.Namespace) -> int:
    """Write the index cache and the results file; returns the number of cells."""
    # Here, not at the top: the measuring child imports this module too, and must
    # not pay for report_scale's imports before its clock starts.
    from report_scale import PASS_LOG, TRACEBACK

    from harness.results import CellResult, RunResults, write_results

    index = ReleaseIndex(IndexConfig(origin="scale"), folder, offline=True)
    releases = release_list(args.versions)
    index._write_cache("uvicorn", releases)  # the format the harness itself keeps
    rng = random.Random(7)
    results = []
    broken = (Version("0.13.4"), Version("0.14.0"))  # port-zero's claimed bad range
    for cell in plan(folder, args):
        result = functools.partial(
            CellResult, scenario=cell.scenario.id, package="uvicorn", version=str(cell.version),
            python=cell.python.label, platform="linux", python_full=f"{cell.python.label}.4",
        )  # fmt: skip
        if not cell.runnable:
            results.append(result(outcome="skip", expected=True, reason=cell.skip_reason or ""))
            continue
        failing = cell.scenario.id == "port-zero-startup" and broken[0] <= cell.version < broken[1]
        pids = {k: rng.randrange(1000, 60000) for k in ("pid", "port", "peer")}
        results.append(
            result(
                outcome="known-failure" if failing else "pass",
                expected=True,
                reason="synthesised",
                signature="port0-getpeername-enotconn" if failing else None,
                duration_s=rng.uniform(0.3, 3.0),
                exit_code=1 if failing else 0,
                output_tail=TRACEBACK if failing else PASS_LOG.format(**pids),
                resolved={"uvicorn": str(cell.version), "h11": "0.14.0", "click": "8.1.7"},
                checks=({"name": "ready", "ok": not failing, "detail": "synthesised"},),
                env_reused=True,
            )
        )
    write_results(
        folder / "saved.json",
        RunResults(
            cells=results,
            started_at="2026-01-01T00:00:00Z",
            releases={"uvicorn": [str(r.version) for r in releases]},
        ),
    )
    return len(results)


def measure(folder: Path, args: argparse.Namespace) -> dict[str, object]:
    """In a fresh process: plan, then report from the saved results."""
    started = time.perf_counter()
    from rich.console import Console

    from harness.judge.claims import judge_claims
    from harness.reports.outputs import ReportPaths, report_for_run, write_reports
    from harness.reports.terminal_overview import render_overview
    from harness.results import RunResults, load_results, write_results

    steps: list[tuple[str, float]] = [("imports", time.perf_counter() - started)]

    def step(name: str, since: float) -> float:
        now = time.perf_counter()
        steps.append((name, now - since))
        return now

    mark = time.perf_counter()
    cells = plan(folder, args)
    mark = step(f"plan {len(cells):,} cells ({sum(not c.runnable for c in cells):,} skips)", mark)
    saved = load_results(folder / "saved.json")
    mark = step("load the saved results", mark)
    known = scenarios(args.scenarios)
    releases = {"uvicorn": [Version(v) for v in saved.releases["uvicorn"]]}
    claims = judge_claims(known, saved.cells, releases)
    mark = step(f"judge {len(claims)} claims", mark)
    results = RunResults(
        cells=saved.cells,
        claims=[c.to_json() for c in claims],
        releases=saved.releases,
        started_at=saved.started_at,
    )
    write_results(folder / "results.json", results)
    mark = step("write results.json", mark)
    report = report_for_run("results.json", results, known)
    console = Console(file=io.StringIO(), width=80, force_terminal=False)
    render_overview(console, report)
    mark = step("render the terminal summary (overview)", mark)
    paths = ReportPaths(folder / "index.html", folder / "junit.xml", folder / "summary.md")
    write_reports(report, paths)
    step("write HTML, JUnit, Markdown", mark)
    planning = steps[1][1]
    reporting = sum(seconds for _, seconds in steps[2:])
    return {
        "steps": steps,
        "plan_s": planning,
        "report_s": reporting,
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        / (2**20 if sys.platform == "darwin" else 1024),
        "sizes": {
            p.name: p.stat().st_size
            for p in (
                folder / "results.json",
                *[x for x in (paths.html, paths.junit, paths.markdown) if x],
            )
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=100)
    parser.add_argument("--pythons", type=int, default=8)
    parser.add_argument("--scenarios", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the files here instead of a temp dir")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child's side
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args)))
        return 0
    folder = args.keep or Path(tempfile.mkdtemp(prefix="scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    count = prepare(folder, args)
    child = [sys.executable, __file__, "--measure", str(folder)]
    child += [
        "--versions",
        str(args.versions),
        "--pythons",
        str(args.pythons),
        "--scenarios",
        str(args.scenarios),
    ]
    done = subprocess.run(child, capture_output=True, text=True, check=True)
    figures = json.loads(done.stdout)
    shape = f"{args.versions} releases x {args.pythons} Pythons x {args.scenarios} scenarios"
    print(f"{count:,} cells: {shape}")
    for name, seconds in figures["steps"]:
        print(f"  {name:<45} {seconds:6.3f} s")
    print(f"  {'planning':<45} {figures['plan_s']:6.3f} s")
    print(f"  {'reporting (everything after planning)':<45} {figures['report_s']:6.3f} s")
    total = figures["plan_s"] + figures["report_s"]
    print(f"  {'planning + reporting':<45} {total:6.3f} s   (target: under 2 s)")
    memory = f"{figures['max_rss_mib']:6.0f} MiB (target: under 200 MiB)"
    print(f"  {'peak memory of that process (max RSS)':<45} {memory}")
    for name, size in figures["sizes"].items():
        print(f"  size of {name:<37} {size / 2**10:8,.0f} KiB")
    if args.keep is None:
        shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
