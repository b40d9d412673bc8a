"""One exception hierarchy; each leaf knows the exit code it maps to.

The CLI turns any `HarnessError` into a one-line message and its exit code, so
nothing below the CLI needs to know about `sys.exit`.
"""

from __future__ import annotations

EXIT_CLEAN = 0
EXIT_REGRESSION = 1
EXIT_INFRASTRUCTURE = 2
EXIT_USAGE = 3
EXIT_INTERRUPTED = 130


class HarnessError(Exception):
    """Base of every error the harness reports to its user."""

    exit_code = EXIT_INFRASTRUCTURE


class UsageError(HarnessError):
    """The command line asks for something that cannot be done."""

    exit_code = EXIT_USAGE


class ScenarioError(UsageError):
    """A scenario file is malformed; the message names the file and the field."""

    def __init__(self, source: str, field: str, problem: str) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        where = f"{source}: {field}" if field else source
        super().__init__(f"{where}: {problem}")


class UnknownScenarioError(UsageError):
    """A scenario id was requested that no scenario file defines."""


class VersionSelectionError(UsageError):
    """A version selector is malformed or names a release the index does not have."""


class EmptySelectionError(UsageError):
    """The selection resolved to no cells; running nothing must never look green."""


class ResultsFormatError(UsageError):
    """A results file is not one this harness can read (bad JSON, unknown schema)."""


class InfrastructureError(HarnessError):
    """Something outside the scenario failed: the index, an installer, the disk."""

    exit_code = EXIT_INFRASTRUCTURE


class IndexUnreachableError(InfrastructureError):
    """The package index could not be queried."""


class BackendUnavailableError(InfrastructureError):
    """The requested environment backend (uv, virtualenv) is not usable here."""


class EnvironmentBuildError(InfrastructureError):
    """An environment could not be built; the cell becomes `install-error`."""

    def __init__(self, message: str, output_tail: str = "") -> None:
        super().__init__(message)
        self.output_tail = output_tail


class InterruptedRun(HarnessError):
    """The user interrupted the run (Ctrl-C)."""

    exit_code = EXIT_INTERRUPTED


class WineError(InfrastructureError):
    """Wine could not be prepared or driven (prefix creation, wineserver)."""
