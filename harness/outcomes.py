"""The outcomes a cell can have, each defined once: its name, its mark and its weight.

Every stage speaks this vocabulary: the classifier produces outcomes, results
files store their names, the exit code is decided from them and every report
draws them with the same mark.  An outcome is a `str` (its name), so results
files and comparisons with names read from JSON keep working.

`Gap` names why a report shows no outcome for a release on a Python (it was
not run, the release does not support that Python, the scenario does not apply
to it), so every report draws those with their own explained marks too.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


@dataclass(frozen=True)
class OutcomeStyle:
    """How every report draws an outcome: a mark, a short and a long word, a colour."""

    symbol: str
    #: The terminal's word (narrow columns).
    word: str
    #: The HTML page's and the legend's word.
    label: str
    #: A rich style for the terminal.
    colour: str


class Outcome(str, enum.Enum):
    """What happened in a cell (see docs/failure-model.md)."""

    #: Every expectation held.
    PASS = "pass"
    #: Expectations failed and a declared signature matched: the bug reproduced.
    KNOWN_FAILURE = "known-failure"
    #: Expectations failed and no signature matched (a fingerprint says what happened).
    NEW_FAILURE = "new-failure"
    #: Not ready, no complete response, or would not stop, within the limits.
    TIMEOUT = "timeout"
    #: The environment could not be built.
    INSTALL_ERROR = "install-error"
    #: Not applicable (platform, interpreter, requires-python), always with a reason.
    SKIP = "skip"
    #: The cell could not run for a reason outside the server (e.g. its port is taken).
    ERROR = "error"
    #: Repeated attempts of the cell disagreed.
    FLAKY = "flaky"
    #: Ran on a platform the scenario declares unfaithful: shown, never counted.
    UNFAITHFUL = "unfaithful"
    #: Merged results files disagree on the cell.
    CONFLICT = "conflict"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def style(self) -> OutcomeStyle:
        return _STYLES[self]

    @property
    def ran(self) -> bool:
        """Whether the cell was attempted at all (a run of only skips ran nothing)."""
        return self is not Outcome.SKIP

    @property
    def infrastructure(self) -> bool:
        """The harness, not the server, failed: the run exits 2, not 1."""
        return self is Outcome.ERROR

    @property
    def reproducible(self) -> bool:
        """A real observation of the server, worth keeping in the cell cache."""
        return self in _REPRODUCIBLE


_REPRODUCIBLE = frozenset(
    {Outcome.PASS, Outcome.KNOWN_FAILURE, Outcome.NEW_FAILURE, Outcome.TIMEOUT}
)

_STYLES: dict[Outcome, OutcomeStyle] = {
    Outcome.PASS: OutcomeStyle("✓", "pass", "pass", "green"),
    Outcome.KNOWN_FAILURE: OutcomeStyle("✗", "known", "known bug", "yellow"),
    Outcome.NEW_FAILURE: OutcomeStyle("✗", "NEW", "NEW failure", "bold red"),
    # A clock face: in DejaVu (⧖ is in few fonts).
    Outcome.TIMEOUT: OutcomeStyle("◷", "timeout", "timeout", "magenta"),
    Outcome.INSTALL_ERROR: OutcomeStyle("!", "install", "install error", "red"),
    Outcome.SKIP: OutcomeStyle("-", "skip", "skipped", "dim"),
    Outcome.ERROR: OutcomeStyle("!", "ERROR", "could not run", "bold red"),
    Outcome.FLAKY: OutcomeStyle("~", "flaky", "flaky", "yellow"),
    Outcome.UNFAITHFUL: OutcomeStyle("≈", "unfaithful here", "unfaithful here", "cyan"),
    Outcome.CONFLICT: OutcomeStyle("≠", "conflict", "conflict", "bold magenta"),
}


class Gap(str, enum.Enum):
    """Why there is no outcome to show for a release on a Python: not outcomes
    (nothing ran), but reports draw them beside outcomes and must tell them apart."""

    #: The run did not pair this release with this Python (the default set pairs each
    #: release with the oldest and newest Python it supports).
    NOT_RUN = "not-run"
    #: The release's `requires-python` excludes this Python.
    NOT_SUPPORTED = "not-supported"
    #: The scenario does not apply to this release (a skip whose reason says so).
    NOT_APPLICABLE = "not-applicable"

    def __str__(self) -> str:
        return self.value

    @property
    def style(self) -> OutcomeStyle:
        return _GAP_STYLES[self]


_GAP_STYLES: dict[Gap, OutcomeStyle] = {
    Gap.NOT_RUN: OutcomeStyle("·", "not run", "not run", "dim"),
    Gap.NOT_SUPPORTED: OutcomeStyle("⊘", "unsupported", "not supported by the release", "dim"),
    Gap.NOT_APPLICABLE: OutcomeStyle("∅", "n/a", "not applicable", "dim"),
}

_BY_NAME: dict[str, OutcomeStyle] = {
    **{outcome.value: style for outcome, style in _STYLES.items()},
    **{gap.value: style for gap, style in _GAP_STYLES.items()},
}

#: What a skip's reason starts with when the scenario does not apply to the cell
#: (a version range, an axis or a precondition declared by the scenario).
NOT_APPLICABLE_PREFIX = "not applicable"


def is_not_applicable(outcome: str, reason: str) -> bool:
    """A skipped cell the scenario does not apply to (shown as `Gap.NOT_APPLICABLE`)."""
    return outcome == Outcome.SKIP and reason.startswith(NOT_APPLICABLE_PREFIX)


def style_of(name: str) -> OutcomeStyle:
    """The style of an outcome's or a gap's name; an unknown name keeps its own word."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    return OutcomeStyle("?", name, name, "white")
