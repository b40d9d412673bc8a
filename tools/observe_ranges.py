"""Observe where each catalog bug starts and stops, and regenerate the table in
docs/catalog.md from those observations.

    python tools/observe_ranges.py [--cache-dir DIR] [--jobs N] [--only SCENARIO]
                                   [--no-runs]

For every signature of every scenario it runs the harness's own bisect
(`python -m harness bisect SCENARIO --signature ID --python X.Y`) over the
release history, and (unless `--no-runs`) `python -m harness run` over the
release ranges below, for denser evidence around the edges and the history
before them (the same checks on every release; the ranges only choose which
releases are looked at).  Results go to `reports/ranges/`; then
`python -m harness ranges reports/ranges/*.json --write docs/catalog.md`
merges all the observations and judges each claim over them.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "reports" / "ranges"

#: scenario -> (Python to bisect on, range searched or None for the whole history).
#: The Python is the oldest the scenario runs on where its fix can be installed.
BISECT: dict[str, tuple[str, str | None]] = {
    # Before 0.9 the CLI cannot run on 3.8 for other reasons (uvloop 0.12 needs
    # set_coroutine_wrapper); the runs below show those releases.
    "uvloop-event-loop-startup": ("3.8", ">=0.9"),
    "wsgi-interface": ("3.8", None),
    "h11-cli-requests": ("3.8", None),
    "run-logging": ("3.8", None),
    "import-without-typing-extensions": ("3.8", None),
    "pipelined-requests": ("3.8", None),
    "sigint-clean-exit": ("3.8", None),
    "sigint-clean-exit-run": ("3.8", None),
    "header-crlf-injection": ("3.8", None),
    "header-tab-value": ("3.8", None),
    "uds-startup": ("3.8", None),
    "uds-with-workers": ("3.8", None),
    "uds-failed-startup-exit": ("3.8", None),
    "supervisor-app-import": ("3.10", None),
    # The fix (0.47.0) needs Python 3.10+.
    "fd-zero-with-workers": ("3.12", None),
    # Issue 15's histories: several ranges, features added later, exit status,
    # response comparisons.  0.40+ need Python 3.10+; 0.55 needs 3.11.
    "contextvars-keepalive-leak": ("3.11", None),
    "lifespan-state-per-request": ("3.11", None),
    "startup-failure-exit-code": ("3.8", None),
    "date-header-keepalive": ("3.8", None),
    "workers-startup-failure": ("3.12", None),
}

#: scenario -> [(pythons, version selector, extra arguments)] for `run`
PLAN: dict[str, list[tuple[list[str], str, list[str]]]] = {
    "uvloop-event-loop-startup": [
        (["3.8"], "0.0.15,0.1.1,0.2.22,0.3.0,0.3.32,0.4.6,0.5.2,0.6.1,0.7.3,0.8.6,0.9.1,0.10.9,"
                  "0.11.8", ["--resolution", "latest"]),
        (["3.8"], ">=0.12.0,<=0.16.0", ["--resolution", "latest"]),
        (["3.8"], ">=0.12.0,<=0.15.0", ["--resolution", "release-date"]),
    ],
    "wsgi-interface": [(["3.8"], ">=0.10.9,<=0.12.0", [])],
    "h11-cli-requests": [(["3.12"], ">=0.17.0,<=0.19.0", [])],
    "run-logging": [(["3.12"], ">=0.17.0,<=0.19.0", [])],
    "import-without-typing-extensions": [(["3.8", "3.12"], ">=0.21.0,<=0.24.0", [])],
    "pipelined-requests": [
        (["3.8"], "0.7.3,0.8.0,0.8.5", []),
        (["3.8"], "minors,>=0.8,<=0.26", []),
        (["3.8"], ">=0.27.0,<=0.28.0", []),
    ],
    "sigint-clean-exit": [(["3.12"], ">=0.28.0,<=0.31.0", [])],
    "sigint-clean-exit-run": [(["3.12"], ">=0.28.0,<=0.31.0", [])],
    "header-crlf-injection": [
        (["3.8"], "0.7.3,0.8.0,0.8.5,0.8.6,0.9.1,0.10.9", []),
        (["3.8"], ">=0.11.0,<=0.12.0", []),
    ],
    "header-tab-value": [
        (["3.8"], ">=0.11.5,<=0.12.0", []),
        (["3.8"], "minors,>=0.12,<=0.29", []),
        (["3.8"], ">=0.30.0,<=0.31.0", []),
    ],
    "uds-startup": [(["3.12"], ">=0.15.0,<=0.18.0", [])],
    "uds-with-workers": [
        (["3.8"], "0.8.6,0.9.1,0.10.9,0.11.8", []),
        (["3.8"], ">=0.12.0,<=0.16.0", []),
    ],
    "uds-failed-startup-exit": [(["3.8"], ">=0.14.0,<=0.21.0", [])],
    "supervisor-app-import": [(["3.12"], ">=0.44.0,<=0.51.0", [])],
    "fd-zero-with-workers": [
        (["3.8"], "0.12.3,0.13.4,0.14.0,0.15.0,0.20.0,0.25.0,0.30.6,0.33.0", []),
        (["3.12"], ">=0.44.0,<=0.48.0", []),
    ],
    "contextvars-keepalive-leak": [
        (["3.11"], "minors,>=0.12,<=0.37", []),
        (["3.11"], ">=0.38.0,<=0.46.0", []),
    ],
    "lifespan-state-per-request": [(["3.11"], ">=0.19.0,<=0.22.0", [])],
    "startup-failure-exit-code": [
        (["3.8"], "minors,>=0.8,<=0.13", []),
        (["3.8"], ">=0.14.0,<=0.17.0", []),
    ],
    "date-header-keepalive": [
        (["3.8"], "minors,>=0.4,<=0.17", []),
        (["3.8"], ">=0.18.0,<=0.19.0", []),
    ],
    "workers-startup-failure": [(["3.12"], ">=0.48.0,<=0.51.0", [])],
}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", help="passed to the harness")
    parser.add_argument("--jobs", default="3", help="passed to the harness (default 3)")
    parser.add_argument("--only", action="append", default=[], metavar="SCENARIO")
    parser.add_argument("--no-runs", action="store_true", help="bisect only")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    common = ["--jobs", args.jobs] + (["--cache-dir", args.cache_dir] if args.cache_dir else [])
    code = _bisect_all(args.only, common)
    if code not in (0, 1):
        return code
    for scenario, runs in PLAN.items():
        if args.no_runs:
            break
        if args.only and scenario not in args.only:
            continue
        for number, (pythons, selector, extra) in enumerate(runs):
            results = (OUT / f"{scenario}-{number}.json").relative_to(ROOT)
            argv = [sys.executable, "-m", "harness", "run", "--scenario", scenario,
                    "--versions", selector, "--json", str(results), *common, *extra]  # fmt: skip
            for python in pythons:
                argv += ["--python", python]
            print("$", " ".join(argv[1:]), flush=True)
            code = subprocess.call(argv, cwd=ROOT, stdout=subprocess.DEVNULL)
            if code not in (0, 1):  # 1: a cell outside the claim, which the table shows
                print(f"harness exited {code}; stopping", file=sys.stderr)
                return code
    files = sorted(str(path.relative_to(ROOT)) for path in OUT.glob("*.json"))
    argv = [sys.executable, "-m", "harness", "ranges", *files, "--write", "docs/catalog.md",
            "--regenerate", "python tools/observe_ranges.py"]  # fmt: skip
    return subprocess.call(argv, cwd=ROOT)


def _bisect_all(only: list[str], common: list[str]) -> int:
    """One bisect per signature that can occur here and carries an upstream claim."""
    sys.path.insert(0, str(ROOT))
    from harness.platforms import current_platform
    from harness.scenario.loader import BUILTIN_SCENARIOS_DIR, load_scenarios

    scenarios = load_scenarios([BUILTIN_SCENARIOS_DIR])
    worst = 0
    for scenario_id, (python, versions) in BISECT.items():
        if only and scenario_id not in only:
            continue
        for signature in scenarios[scenario_id].signatures:
            claim = signature.claim
            if not signature.applies_to(current_platform()) or claim.empty:
                continue
            results = (OUT / f"bisect-{scenario_id}-{signature.id}.json").relative_to(ROOT)
            argv = [sys.executable, "-m", "harness", "bisect", scenario_id, "--signature",
                    signature.id, "--python", python, "--json", str(results), *common]  # fmt: skip
            if versions is not None:
                argv += ["--versions", versions]
            print("$", " ".join(argv[1:]), flush=True)
            code = subprocess.call(argv, cwd=ROOT, stdout=subprocess.DEVNULL)
            if code not in (0, 1):  # 1: not monotone or contradicted, which the table shows
                print(f"harness exited {code}; stopping", file=sys.stderr)
                return code
            worst = max(worst, code)
    return worst


if __name__ == "__main__":
    raise SystemExit(main())
