"""The whole matrix five ways, in one run, on this machine: medians and ratios.

1. the harness, cold: a fresh cache directory (environments, release list, cell
   cache all empty); the installers' own download caches are warm (an untimed
   warm-up run fills them first; `--no-warmup` skips it);
2. the harness, warm: the same cache again;
3. a noxfile (`noxfile_baseline.py`) with nox's default virtualenv backend,
   cold (fresh `--envdir`) and with `-r` (reuse);
4. the same noxfile with `--default-venv-backend uv`, cold and with `-r`;
5. the floor: `minimal_driver.py` (uv environments built in parallel, cells a
   few at a time, the same checks, nothing else), cold and warm.

Every way runs the same cells with the same checks (`cellcheck.py` for the
baselines, the scenario files for the harness); their pass/fail verdicts are
compared and any difference is printed.  Each repetition runs every way once,
interleaved, so a burst of load on a shared machine hits them alike.  Besides
the wall time it records the CPU time of each way's processes, the load
average, and how much of the machine other processes used meanwhile.
Prints figures; asserts nothing.

    python benchmarks/bench.py [--repeat 3] [--versions V1,V2,...] [--python 3.10 ...]
                               [--scenario ID ...] [--ways harness,nox-uv,...]
                               [--jobs N] [--write benchmarks/RESULTS.md]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "benchmarks"
sys.path.insert(0, str(ROOT))  # measure this checkout's harness

from packaging.version import Version  # noqa: E402

from harness.envs.interpreters import InterpreterFinder  # noqa: E402

#: 12 releases over the range that can start at all today (see RESULTS.md on 0.11).
DEFAULT_VERSIONS = (
    "0.12.3,0.13.4,0.14.0,0.15.0,0.17.6,0.19.0,0.22.0,0.25.0,0.29.0,0.30.6,0.33.0,0.54.0"
)
DEFAULT_PYTHONS = ("3.10", "3.12")
DEFAULT_SCENARIOS = ("port-zero-startup", "two-worker-startup")
CELL_LINE = re.compile(r"^CELL (\S+) (\S+) (\S+) (pass|FAIL)\b", re.MULTILINE)

#: name, family, cold?
WAYS = (
    ("harness cold", "harness", True),
    ("harness warm", "harness", False),
    ("nox+virtualenv cold", "nox-virtualenv", True),
    ("nox+virtualenv -r", "nox-virtualenv", False),
    ("nox+uv cold", "nox-uv", True),
    ("nox+uv -r", "nox-uv", False),
    ("minimal cold", "minimal", True),
    ("minimal warm", "minimal", False),
)
#: (label, slower way, faster way, at least this ratio) - the issue's targets.
TARGETS = (
    ("harness cold / minimal cold", "harness cold", "minimal cold", None, 1.3),
    ("harness warm / minimal warm", "harness warm", "minimal warm", None, 1.3),
    ("nox+virtualenv cold / harness cold", "nox+virtualenv cold", "harness cold", 7.0, None),
    ("nox+uv cold / harness cold", "nox+uv cold", "harness cold", 2.5, None),
    ("nox+virtualenv -r / harness warm", "nox+virtualenv -r", "harness warm", 5.0, None),
    ("nox+uv -r / harness warm", "nox+uv -r", "harness warm", None, None),
)


@dataclass
class Matrix:
    versions: list[str]
    pythons: dict[str, Path]  # label -> interpreter
    scenarios: list[str]
    jobs: int | None

    @property
    def cells(self) -> int:
        return len(self.versions) * len(self.pythons) * len(self.scenarios)


@dataclass
class Measurement:
    way: str
    wall_s: float
    cpu_s: float
    load1: float
    others_cpu: float  # share of the machine's CPU used by other processes meanwhile
    exit_code: int
    verdicts: dict[tuple[str, str, str], bool] = field(default_factory=dict)
    problem: str = ""


def _busy_seconds() -> float | None:
    """CPU seconds the whole machine has spent busy (from /proc/stat)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    ticks = [int(value) for value in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Bench:
    def __init__(self, matrix: Matrix, workdir: Path) -> None:
        self.matrix = matrix
        self.workdir = workdir
        self.bin = workdir / "bin"
        self.bin.mkdir(parents=True, exist_ok=True)
        for label, interpreter in matrix.pythons.items():
            link = self.bin / f"python{label}"
            if not link.exists():
                link.symlink_to(interpreter)
        # Every way gets the same environment: the caller's, with the chosen
        # interpreters first on PATH (for nox), and bytecode caching allowed (a
        # user's PYTHONDONTWRITEBYTECODE would make the tools themselves compile
        # on every start; the servers' side of that is each way's own business).
        self.env = dict(os.environ)
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.env["PATH"] = os.pathsep.join([str(self.bin), self.env.get("PATH", "")])
        self.env["BENCH_VERSIONS"] = ",".join(matrix.versions)
        self.env["BENCH_PYTHONS"] = ",".join(matrix.pythons)
        self.env["BENCH_SCENARIOS"] = ",".join(matrix.scenarios)

    def dirs(self, family: str) -> Path:
        return self.workdir / family

    def command(self, family: str, cold: bool) -> list[str]:
        m = self.matrix
        where = self.dirs(family)
        if family == "harness":
            argv = [sys.executable, "-m", "harness", "run", "--cache-dir", str(where / "cache")]
            argv += ["--versions", ",".join(m.versions), "--no-narrow"]
            for label in m.pythons:
                argv += ["--python", label]
            for scenario in m.scenarios:
                argv += ["--scenario", scenario]
            argv += ["--json", str(where / "results.json"), "--html", str(where / "index.html")]
            argv += ["--junit", str(where / "junit.xml")]
            if m.jobs:
                argv += ["--jobs", str(m.jobs)]
            return argv
        if family.startswith("nox"):
            argv = [sys.executable, "-m", "nox", "-f", str(HERE / "noxfile_baseline.py")]
            argv += ["--envdir", str(where / "envs"), "--no-error-on-missing-interpreters"]
            if family == "nox-uv":
                argv += ["--default-venv-backend", "uv"]
            if not cold:
                argv.append("-r")
            return argv
        argv = [sys.executable, str(HERE / "minimal_driver.py"), "--envs", str(where / "envs")]
        argv += ["--versions", ",".join(m.versions)]
        for label, interpreter in m.pythons.items():
            argv += ["--python", f"{label}={interpreter}"]
        for scenario in m.scenarios:
            argv += ["--scenario", scenario]
        if m.jobs:
            argv += ["--jobs", str(m.jobs)]
        return argv

    def measure(self, way: str, family: str, cold: bool) -> Measurement:
        where = self.dirs(family)
        if cold:
            shutil.rmtree(where, ignore_errors=True)
        where.mkdir(parents=True, exist_ok=True)
        argv = self.command(family, cold)
        load1 = os.getloadavg()[0]
        busy, cpu = _busy_seconds(), _children_cpu()
        started = time.perf_counter()
        done = subprocess.run(
            argv, cwd=ROOT, env=self.env, capture_output=True, text=True, errors="replace"
        )
        wall = time.perf_counter() - started
        cpu = _children_cpu() - cpu
        busy_after = _busy_seconds()
        others = 0.0
        if busy is not None and busy_after is not None:
            others = max(0.0, (busy_after - busy - cpu) / (wall * (os.cpu_count() or 1)))
        load1 = (load1 + os.getloadavg()[0]) / 2
        measurement = Measurement(way, wall, cpu, load1, others, done.returncode)
        output = done.stdout + done.stderr
        if family == "harness":
            measurement.verdicts = self._harness_verdicts(where / "results.json")
        else:
            measurement.verdicts = {
                (scenario, version, python): verdict == "pass"
                for scenario, version, python, verdict in CELL_LINE.findall(output)
            }
        if len(measurement.verdicts) != self.matrix.cells:
            tail = "\n".join(output.strip().splitlines()[-15:])
            measurement.problem = (
                f"{len(measurement.verdicts)} of {self.matrix.cells} cells reported "
                f"(exit {done.returncode}):\n{tail}"
            )
        return measurement

    @staticmethod
    def _harness_verdicts(path: Path) -> dict[tuple[str, str, str], bool]:
        try:
            cells = json.loads(path.read_text())["cells"]
        except (OSError, ValueError, KeyError):
            return {}
        return {(c["scenario"], c["version"], c["python"]): c["outcome"] == "pass" for c in cells}


def describe_machine(workdir: Path) -> list[str]:
    def first(path: str, key: str) -> str:
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(key):
                    return line.split(":" if ":" in line else "=", 1)[1].strip().strip('"')
        except OSError:
            pass
        return "?"

    def version(argv: Sequence[str]) -> str:
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "not found"

    uv_cache = Path(version(["uv", "cache", "dir"]))
    same_fs = "?"
    with contextlib.suppress(OSError):
        same_fs = "yes" if uv_cache.stat().st_dev == workdir.stat().st_dev else "no"
    memory = first("/proc/meminfo", "MemTotal")
    tool = [sys.executable, "-m"]
    return [
        f"CPU: {first('/proc/cpuinfo', 'model name')}, {os.cpu_count()} logical core(s)",
        f"memory: {memory}",
        f"OS: {first('/etc/os-release', 'PRETTY_NAME')}, kernel {platform.release()}",
        f"Python running the tools: {platform.python_version()} ({sys.executable})",
        f"uv: {version(['uv', '--version'])}; nox: {version([*tool, 'nox', '--version'])}; "
        f"virtualenv: {version([*tool, 'virtualenv', '--version']).split(' from ')[0]}",
        f"uv cache: {uv_cache} (same filesystem as the benchmark's folders: {same_fs}); "
        f"UV_LINK_MODE={os.environ.get('UV_LINK_MODE', '(unset: hardlink)')}",
        "PYTHONDONTWRITEBYTECODE in the caller's environment: "
        + (
            "yes (removed for every way, see above)"
            if os.environ.get("PYTHONDONTWRITEBYTECODE")
            else "no"
        ),
    ]


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarise(
    results: dict[str, list[Measurement]], matrix: Matrix, repeat: int
) -> tuple[list[str], list[str], list[str]]:
    """(table, ratios, agreement) as Markdown lines."""
    table = [
        "| way | median wall (s) | min - max (s) | median CPU (s) | load (1 min) | others' CPU |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    medians: dict[str, float] = {}
    for way, measurements in results.items():
        walls = [m.wall_s for m in measurements if not m.problem]
        if not walls:
            table.append(f"| {way} | failed | | | | |")
            continue
        medians[way] = _median(walls)
        cpus = [m.cpu_s for m in measurements if not m.problem]
        loads = [m.load1 for m in measurements]
        others = [m.others_cpu for m in measurements]
        table.append(
            f"| {way} | {medians[way]:.2f} | {min(walls):.2f} - {max(walls):.2f} "
            f"| {_median(cpus):.1f} | {_median(loads):.1f} | {_median(others):.0%} |"
        )
    ratios = ["| ratio | median | target | met |", "| --- | ---: | --- | --- |"]
    for label, slow, fast, at_least, at_most in TARGETS:
        if slow not in medians or fast not in medians:
            continue
        ratio = medians[slow] / medians[fast]
        if at_least is not None:
            target, met = f">= {at_least:g}", "yes" if ratio >= at_least else "**no**"
        elif at_most is not None:
            target, met = f"<= {at_most:g}", "yes" if ratio <= at_most else "**no**"
        else:
            target, met = "-", ""
        ratios.append(f"| {label} | {ratio:.2f} | {target} | {met} |")
    agreement = []
    reference = next(
        (m.verdicts for way in ("minimal warm", "minimal cold") for m in results.get(way, [])),
        None,
    )
    for way, measurements in results.items():
        for measurement in measurements:
            if measurement.problem:
                agreement.append(f"- {way}: {measurement.problem}")
            elif reference is not None and measurement.verdicts != reference:
                differ = sorted(
                    key
                    for key in set(reference) | set(measurement.verdicts)
                    if reference.get(key) != measurement.verdicts.get(key)
                )
                agreement.append(f"- {way} disagrees with the minimal driver on {differ}")
    if reference is not None and not agreement:
        passed = sum(reference.values())
        agreement.append(
            f"Every way gave the same verdict for every cell in every repetition "
            f"({passed} of {matrix.cells} cells pass; the others are the seeds' known failures)."
        )
    return table, ratios, agreement


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--versions", default=DEFAULT_VERSIONS)
    parser.add_argument("--python", action="append", default=[])
    parser.add_argument("--scenario", action="append", default=[])
    parser.add_argument(
        "--ways",
        default="harness,nox-virtualenv,nox-uv,minimal",
        help="families to run (default: all)",
    )
    parser.add_argument("--jobs", type=int, help="--jobs for the harness and the minimal driver")
    parser.add_argument("--no-warmup", action="store_true")
    parser.add_argument("--workdir", type=Path, help="default: a temporary folder")
    parser.add_argument("--write", type=Path, help="write the results as Markdown here")
    args = parser.parse_args()

    finder = InterpreterFinder()
    pythons: dict[str, Path] = {}
    for text in args.python or DEFAULT_PYTHONS:
        request = finder.resolve(text)
        if request.interpreter is None:
            parser.error(request.reason)
        pythons[request.interpreter.minor] = request.interpreter.path.resolve()
    matrix = Matrix(
        versions=args.versions.split(","),
        pythons=pythons,
        scenarios=args.scenario or list(DEFAULT_SCENARIOS),
        jobs=args.jobs,
    )
    families = args.ways.split(",")
    unknown = set(families) - {family for _, family, _ in WAYS}
    if unknown:
        parser.error(f"--ways: unknown {', '.join(sorted(unknown))}")
    too_old = [label for label, i in pythons.items() if Version(label) < Version("3.9")]
    if "nox-virtualenv" in families and too_old:
        parser.error(
            f"nox's default virtualenv backend cannot create Python {', '.join(too_old)} "
            "environments (the newest virtualenv no longer seeds them); pick --python 3.9 or "
            "newer, or leave nox-virtualenv out of --ways"
        )
    ways = [way for way in WAYS if way[1] in families]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-"))
    bench = Bench(matrix, workdir)
    print(
        f"matrix: {len(matrix.versions)} releases x {len(pythons)} Pythons "
        f"({', '.join(pythons)}) x {len(matrix.scenarios)} scenarios = {matrix.cells} cells; "
        f"{args.repeat} repetition(s); work in {workdir}",
        flush=True,
    )
    started = time.time()
    load_before = os.getloadavg()
    if not args.no_warmup:
        for way, family, cold in ways:
            if cold:
                print(f"warm-up (untimed): {way}", flush=True)
                bench.measure(way, family, cold)
    results: dict[str, list[Measurement]] = {way: [] for way, _, _ in ways}
    for repetition in range(1, args.repeat + 1):
        for way, family, cold in ways:
            measurement = bench.measure(way, family, cold)
            results[way].append(measurement)
            flag = f"  PROBLEM: {measurement.problem}" if measurement.problem else ""
            print(
                f"[{repetition}/{args.repeat}] {way:<20} {measurement.wall_s:7.2f} s wall "
                f"{measurement.cpu_s:7.1f} s CPU  load {measurement.load1:4.1f}  "
                f"others {measurement.others_cpu:4.0%}{flag}",
                flush=True,
            )
    load_after = os.getloadavg()
    table, ratios, agreement = summarise(results, matrix, args.repeat)
    command = "python benchmarks/bench.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))}, "
        f"{(time.time() - started) / 60:.0f} min; command: `{command.strip()}`",
        "",
        f"Matrix: uvicorn {', '.join(matrix.versions)} x Python {', '.join(pythons)} x "
        f"{', '.join(matrix.scenarios)} = {matrix.cells} cells; medians of {args.repeat} "
        "repetitions, the ways interleaved.",
        "",
        *table,
        "",
        *ratios,
        "",
        *agreement,
        "",
        f"Load average (1, 5, 15 min) before: {', '.join(f'{x:.1f}' for x in load_before)}; "
        f"after: {', '.join(f'{x:.1f}' for x in load_after)}.",
        "",
        "Machine:",
        "",
        *(f"- {line}" for line in describe_machine(workdir)),
    ]
    print("\n".join(lines))
    if args.write:
        args.write.write_text("\n".join(lines) + "\n")
        print(f"written: {args.write}")
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
