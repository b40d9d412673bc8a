"""The harness's one wall-clock format: UTC, to the second, ISO 8601 with a `Z`.

Results files, run records and the environment and cell caches all stamp
times with `utc_now`, so every timestamp the harness writes reads and sorts
the same way.
"""

from __future__ import annotations

import time


def utc_now() -> str:
    """Now, as `YYYY-MM-DDTHH:MM:SSZ` (UTC)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
