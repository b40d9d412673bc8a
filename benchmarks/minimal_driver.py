"""The floor: the least a hand-written driver needs to run the benchmark's matrix.

Builds one environment per (release, Python) with uv, in parallel, reusing any
that a previous run left complete; then runs every (scenario, release, Python)
cell a few at a time with the same checks as the other ways (`cellcheck`).
Nothing else: no classification, no results file, no reports, no clean-up guard.
Prints `CELL <scenario> <version> <python> pass|FAIL <reason>` per cell and a
summary line; exit 0 when every cell ran.

    python benchmarks/minimal_driver.py --envs DIR --python [LABEL=]PATH ...
        --versions 0.12.3,0.13.4 [--scenario ID ...] [--jobs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cellcheck import SCENARIOS, check

APP_DIR = Path(__file__).resolve().parent.parent / "server"


def build(envs: Path, version: str, python: str) -> tuple[Path, str]:
    """uv venv + uv pip install, once; a `done` marker says it completed."""
    env_dir = envs / f"uvicorn-{version}-{zlib.crc32(python.encode()):08x}"
    if (env_dir / "done").exists():
        return env_dir, ""
    shutil.rmtree(env_dir, ignore_errors=True)
    for argv in (
        ["uv", "venv", "-q", "--python", python, str(env_dir)],
        [
            "uv",
            "pip",
            "install",
            "-q",
            "--python",
            str(env_dir / "bin" / "python"),
            f"uvicorn=={version}",
        ],
    ):
        done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode != 0:
            return env_dir, (done.stderr.strip().splitlines() or ["failed"])[-1]
    (env_dir / "done").touch()
    return env_dir, ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", type=Path, required=True)
    parser.add_argument("--python", action="append", required=True)
    parser.add_argument("--versions", required=True)
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    parser.add_argument("--jobs", type=int, default=max(2, min(8, 2 * (os.cpu_count() or 2))))
    args = parser.parse_args()
    versions = args.versions.split(",")
    pythons = {}  # path -> label
    for text in args.python:
        label, _, path = text.rpartition("=")
        pythons[path] = label or path
    pairs = [(v, p) for p in pythons for v in versions]
    with ThreadPoolExecutor(args.jobs) as pool:
        built = dict(
            zip(pairs, pool.map(lambda pair: build(args.envs, *pair), pairs), strict=False)
        )
        cells = [(s, v, p) for s in args.scenario or sorted(SCENARIOS) for v, p in pairs]

        def run(cell: tuple[str, str, str]) -> tuple[bool, str]:
            env_dir, error = built[cell[1:]]
            if error:
                return False, f"install failed: {error}"
            return check(str(env_dir / "bin" / "python"), cell[0], APP_DIR)

        outcomes = list(pool.map(run, cells))
    for (scenario, version, python), (passed, reason) in zip(cells, outcomes, strict=False):
        verdict = "pass" if passed else "FAIL"
        print(f"CELL {scenario} {version} {pythons[python]} {verdict} {reason}")
    print(f"{sum(ok for ok, _ in outcomes)} of {len(cells)} cell(s) passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
