"""Bands of install failures in a bisect: where they are, and how to cross them.

Old releases often cannot be installed on a newer Python (no wheels, a build
that fails); a bisect probing them one by one spends most of its builds on
failures.  A band is a run of observed install failures with no testable
release between them: the releases between its first and last failure are
presumed to fail for the same cause and are never tried, a descent crosses it
with steps that double, and narrowing its sides stops after a few failures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


class _Marked(Protocol):
    """A bisect mark (only whether it is a skip matters here)."""

    @property
    def value(self) -> str: ...


@dataclass(frozen=True)
class Band:
    """A run of install failures: the lowest and highest observed, how many were
    observed, the last step of a descent into it, and the testable releases on
    either side (None: the band reaches that end of the range, as far as seen)."""

    first: int
    last: int
    failures: int
    step: int = 0
    below: int | None = None
    above: int | None = None

    @property
    def presumed(self) -> int:
        """Releases inside the band that were not tried (the band's cause explains them)."""
        return self.last - self.first + 1 - self.failures

    def untried_sides(self, n: int) -> tuple[int, int]:
        """Releases between the band and the testable ones on either side, not tried."""
        low = self.first - (self.below if self.below is not None else -1) - 1
        high = (self.above if self.above is not None else n) - self.last - 1
        return low, high


def gallop_target(band: Band) -> int:
    """Where a descent through a band probes next: twice the last step below it."""
    return max(0, band.first - 2 * max(1, band.step))


def descent_band(marks: Mapping[int, _Marked], cursor: int) -> Band:
    """The run of failures at the lowest observed indices above `cursor`: how deep
    a descent from the top is inside a band (no failures: not in one)."""
    skips: list[int] = []
    for index in sorted(i for i in marks if i > cursor):
        if marks[index].value != "skip":
            break
        skips.append(index)
    if not skips:
        return Band(cursor, cursor, 0)
    step = skips[1] - skips[0] if len(skips) > 1 else 0
    return Band(skips[0], skips[-1], len(skips), step)


def bands_of(marks: Mapping[int, _Marked], n: int) -> list[Band]:
    """Every band among the observed marks, oldest first."""
    bands: list[Band] = []
    run: list[int] = []
    below: int | None = None
    for index in sorted(marks):
        if marks[index].value == "skip":
            run.append(index)
            continue
        if run:
            bands.append(Band(run[0], run[-1], len(run), 0, below, index))
            run = []
        below = index
    if run:
        bands.append(Band(run[0], run[-1], len(run), 0, below, None))
    return [band for band in bands if band.first < n]
