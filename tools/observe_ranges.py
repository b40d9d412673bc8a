"""Observe where each catalog bug starts and stops, and regenerate the table in
scenarios/README.md from those observations.

    python tools/observe_ranges.py [--cache-dir DIR] [--jobs N] [--only SCENARIO]

For every scenario it runs `python -m harness run` over the release ranges
below (the same checks on every release; the ranges only choose which
releases are looked at: every release around the claimed edges, sparser
history before), writing `reports/ranges/<scenario>-<n>.json`, then
`python -m harness ranges reports/ranges/*.json --write scenarios/README.md`,
which merges all observations and judges each claim over them.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "reports" / "ranges"

#: scenario -> [(pythons, version selector, extra arguments)]
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
}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", help="passed to the harness")
    parser.add_argument("--jobs", default="3", help="passed to the harness (default 3)")
    parser.add_argument("--only", action="append", default=[], metavar="SCENARIO")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    common = ["--jobs", args.jobs] + (["--cache-dir", args.cache_dir] if args.cache_dir else [])
    for scenario, runs in PLAN.items():
        if args.only and scenario not in args.only:
            continue
        for number, (pythons, selector, extra) in enumerate(runs):
            results = OUT / f"{scenario}-{number}.json"
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
    argv = [sys.executable, "-m", "harness", "ranges", *files, "--write", "scenarios/README.md",
            "--regenerate", "python tools/observe_ranges.py"]  # fmt: skip
    return subprocess.call(argv, cwd=ROOT)


if __name__ == "__main__":
    raise SystemExit(main())
