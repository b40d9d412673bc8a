"""Where a scenario, one of its matrix variants, or one of its checks applies.

A bug in a feature cannot exist in releases that do not have the feature; a
cell there is "not applicable", a skip with the reason, never a failure, and
no claim counts it.  Conditions come in two kinds:

* static, decided from the cell's key before anything is built: a version
  range of the package under test, a Python range, matrix axis values;
* observed in the cell, cheaply: `uvicorn --help` lists an option
  (`help_lists`), or the app, asked once it is ready, reports a capability
  (`probe`, an HTTP request whose answer must meet its expectations).

A probe that gets no complete answer proves nothing either way: the cell
goes on and its checks are judged as usual (a server too broken to answer is
a failure, not a missing feature).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from harness.scenario.checks import HttpProbe

#: Every not-applicable reason starts with this (a `skip` cell's or a check's).
NOT_APPLICABLE = "not applicable: "


def is_not_applicable(reason: str) -> bool:
    return reason.startswith(NOT_APPLICABLE)


@dataclass(frozen=True)
class Applicability:
    """Conditions a cell (or a check) must meet to apply; empty: always applies."""

    #: Releases of the package under test it applies to.
    versions: SpecifierSet | None = None
    #: Pythons it applies on.
    python: SpecifierSet | None = None
    #: Axis -> the values it applies with (checks only; a variant rule selects
    #: its cells with `when` instead).
    when: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: Texts `uvicorn --help` must print (an option, a choice of an option).
    help_lists: tuple[str, ...] = ()
    #: An HTTP request to the ready server; a complete answer that fails its
    #: expectations makes the cell not applicable (scenario and variants only).
    probe: HttpProbe | None = None

    @property
    def empty(self) -> bool:
        return not (self.versions or self.python or self.when or self.help_lists or self.probe)

    def static_reason(
        self, package: str, version: Version, python: Version | None, axes: Mapping[str, str]
    ) -> str | None:
        """Why it does not apply, from the cell's key alone (None: it may apply)."""
        if self.versions is not None and not self.versions.contains(version, prereleases=True):
            return f"{NOT_APPLICABLE}{package} {version} is outside {self.versions}"
        if (
            self.python is not None
            and python is not None
            and not self.python.contains(python, prereleases=True)
        ):
            return f"{NOT_APPLICABLE}Python {python} is outside {self.python}"
        for axis, values in self.when.items():
            if axes.get(axis) not in values:
                return f"{NOT_APPLICABLE}only with {axis}={'|'.join(sorted(values))}"
        return None

    def help_reason(self, help_text: str, package: str, version: Version) -> str | None:
        """Why it does not apply, from the `--help` output (None: every text is listed)."""
        for text in self.help_lists:
            if text not in help_text:
                return f"{NOT_APPLICABLE}{text} is not in {package} {version} --help"
        return None


@dataclass(frozen=True)
class CellSite:
    """What applicability is judged on: the cell's release, Python and axis values."""

    package: str
    version: Version
    python: Version | None = None
    axes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VariantRule:
    """Conditions for the cells of one matrix variant: those whose axis values
    are among `when` (axis -> values)."""

    when: Mapping[str, frozenset[str]]
    applies: Applicability

    def selects(self, axes: Mapping[str, str]) -> bool:
        return all(axes.get(axis) in values for axis, values in self.when.items())


@dataclass(frozen=True)
class ScenarioApplicability:
    """The scenario's own conditions, its variants' and its checks'."""

    scenario: Applicability = field(default_factory=Applicability)
    variants: tuple[VariantRule, ...] = ()
    #: Check name -> its conditions (only checks that declare some).
    checks: Mapping[str, Applicability] = field(default_factory=dict)

    def for_cell(self, axes: Mapping[str, str]) -> list[Applicability]:
        """The cell-level conditions that hold for a cell with these axis values."""
        rules = [self.scenario] if not self.scenario.empty else []
        rules += [rule.applies for rule in self.variants if rule.selects(axes)]
        return rules

    def static_reason(self, site: CellSite) -> str | None:
        """Why a cell does not apply, from its key alone (None: it may)."""
        for rule in self.for_cell(site.axes):
            reason = rule.static_reason(site.package, site.version, site.python, site.axes)
            if reason is not None:
                return reason
        return None

    def needs_help(self, axes: Mapping[str, str]) -> bool:
        """Whether a cell must ask `--help` (a cell or check condition lists a text)."""
        return any(rule.help_lists for rule in self.for_cell(axes)) or any(
            rule.help_lists for rule in self.checks.values()
        )

    def help_reason(self, site: CellSite, help_text: str) -> str | None:
        """Why a cell does not apply, from its `--help` output (None: it does)."""
        for rule in self.for_cell(site.axes):
            reason = rule.help_reason(help_text, site.package, site.version)
            if reason is not None:
                return reason
        return None

    def skipped_checks(self, site: CellSite, help_text: str | None) -> dict[str, str]:
        """Check name -> why it does not apply in this cell (checks that apply are absent).

        `help_text`: the `--help` output, None when unknown (help conditions then hold).
        """
        skipped: dict[str, str] = {}
        for name, rule in self.checks.items():
            reason = rule.static_reason(site.package, site.version, site.python, site.axes)
            if reason is None and help_text is not None:
                reason = rule.help_reason(help_text, site.package, site.version)
            if reason is not None:
                skipped[name] = reason
        return skipped

    def probes(self, axes: Mapping[str, str]) -> list[HttpProbe]:
        """The capability probes a cell asks once its server is ready."""
        return [rule.probe for rule in self.for_cell(axes) if rule.probe is not None]
