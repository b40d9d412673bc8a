"""How much work one scenario may ask for: bounded time per cell, bounded variants.

Every wait in a scenario is bounded on its own (`MAX_LIMIT_S`), but 200 probes
that each wait an hour load fine and hold a cell for 200 hours; ten matrix
axes of ten values each make ten billion cells.  The loader adds them up
(`Scenario.max_duration_s`, the product of the axes) and refuses a scenario
above these limits, naming the sum (see SECURITY.md).
"""

from __future__ import annotations

import math

from harness.errors import ScenarioError
from harness.scenario.model import Scenario

#: The longest a single run of a scenario's server may be declared to take.
MAX_CELL_S = 900.0
#: The most variants (matrix axis values x extras x resolutions) one scenario may have.
MAX_VARIANTS = 256


def check_bounds(scenario: Scenario) -> None:
    """Raise `ScenarioError` when a cell of `scenario` could take too long, or
    when it has too many variants."""
    source = str(scenario.source)
    total = scenario.max_duration_s()
    if total > MAX_CELL_S:
        limits = scenario.limits
        waits = sum(probe.wait_s for probe in scenario.http)
        raise ScenarioError(
            source,
            "limits",
            f"one run of the server may take up to {total:.0f}s (ready_s {limits.ready_s:g}, "
            f"{len(scenario.http)} http probe(s) of probe_s {limits.probe_s:g} with "
            f"wait_s adding up to {waits:g}, {len(scenario.raw)} raw exchange(s), log_s, "
            f"exit.within_s {scenario.exit.within_s:g}, kill_grace_s {limits.kill_grace_s:g}); "
            f"a cell may take at most {MAX_CELL_S:g}s",
        )
    matrix = scenario.matrix
    variants = math.prod(len(values) for _, values in matrix.axes)
    variants *= max(1, len(matrix.extras)) * max(1, len(matrix.resolutions))
    if variants > MAX_VARIANTS:
        raise ScenarioError(
            source,
            "matrix",
            f"its axes make {variants} variants of every cell; at most {MAX_VARIANTS} are allowed",
        )
