"""What the windows-wine target costs, and which costs are paid once.

Measures, in a fresh cache directory (or `--cache-dir`):

1. creating the Wine prefix (once per cache) and its size;
2. a session start with a cold wineserver, and the per-cell warm-up once warm;
3. the same three-cell run (port-zero-startup 0.13.3/0.13.4/0.14.0, Windows 3.8)
   twice through the CLI: the first builds the environments, the second reuses
   them; per cell, the environment build time and the cell's own duration.

Prints figures; asserts nothing.  Needs Wine (apt-get install -y wine64 wine).

    python benchmarks/wine_costs.py [--cache-dir DIR] [--warm-ups 10]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # measure this checkout's harness, not an installed one

from harness.targets.wine.prefix import WineSession, ensure_prefix, prefix_path  # noqa: E402
from harness.targets.wine.tools import locate_tools  # noqa: E402


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def cli_run(cache: Path, out: Path) -> tuple[float, dict[str, object]]:
    argv = [sys.executable, "-m", "harness", "run", "--scenario", "port-zero-startup",
            "--versions", "0.13.3,0.13.4,0.14.0", "--platform", "windows-wine",
            "--python", "3.8", "--cache-dir", str(cache), "--json", str(out)]  # fmt: skip
    started = time.monotonic()
    subprocess.run(argv, cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    return time.monotonic() - started, json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache-dir", type=Path, help="default: a fresh temporary folder")
    parser.add_argument("--warm-ups", type=int, default=10)
    args = parser.parse_args()
    tools = locate_tools()
    if tools is None:
        sys.exit("Wine is not installed: apt-get install -y wine64 wine")
    cache = args.cache_dir or Path(tempfile.mkdtemp(prefix="wine-bench-"))
    try:
        prefix = prefix_path(cache)
        created = ensure_prefix(tools, prefix)
        print(f"prefix: created in {created:.1f}s ({size_mb(prefix):.0f} MB)"
              if created else "prefix: already there")  # fmt: skip
        print(f"prefix again: {ensure_prefix(tools, prefix):.3f}s (paid once per cache)")

        started = time.monotonic()
        with WineSession(tools, prefix) as session:
            entered = time.monotonic() - started
            times = []
            for _ in range(args.warm_ups):
                tick = time.monotonic()
                session.warm_up()
                times.append(time.monotonic() - tick)
            cold_ups = session.warm_ups
            forced = []
            for _ in range(args.warm_ups):
                session._warm_until = 0.0  # what a warm-up costs when it does run
                tick = time.monotonic()
                session.warm_up()
                forced.append(time.monotonic() - tick)
            stopping = time.monotonic()
        stopped = time.monotonic() - stopping
        print(f"session start (clear leftovers + cold wineserver + services): {entered:.2f}s")
        print(
            f"warm-up before each cell: median {statistics.median(times):.4f}s "
            f"(max {max(times):.4f}, n={len(times)}; {cold_ups} ran, at session start)"
        )
        print(f"a warm-up that runs, server warm: median {statistics.median(forced):.3f}s "
              f"(min {min(forced):.3f}, max {max(forced):.3f}, n={len(forced)})")  # fmt: skip
        print(f"session end (wineserver -k, -w): {stopped:.2f}s")

        for label in ("first run (builds environments)", "second run (reuses them)"):
            total, results = cli_run(cache, cache / "results.json")
            print(f"{label}: {total:.1f}s wall")
            cells = results["cells"]
            assert isinstance(cells, list)
            for cell in cells:
                print(f"  {cell['version']} py{cell['python_full']}: {cell['outcome']:<13} "
                      f"env {'reused' if cell['env_reused'] else 'built'} "
                      f"({cell['env_build_s']:.1f}s), cell {cell['duration_s']:.2f}s")  # fmt: skip
    finally:
        if args.cache_dir is None:
            shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
