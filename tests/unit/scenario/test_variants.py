"""Matrix axes, extras and resolution through planning, classification, claims,
results and the terminal matrix (hand-built values, no servers)."""

from __future__ import annotations

import io
import json
import threading
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from rich.console import Console

from harness.engine.executor import cell_context, env_spec_for
from harness.envs.index import Release
from harness.envs.interpreters import Interpreter, PythonRequest
from harness.judge.claims import CONFIRMED, UNVERIFIABLE, judge_claims
from harness.judge.classify import classify
from harness.outcomes import Outcome
from harness.plan.cells import Cell, PlatformPlan, plan_cells
from harness.reports.terminal import render_matrix
from harness.results import CellResult, RunResults, load_results, write_results
from harness.runner.exclusive import ResourceLocks
from harness.runner.observation import Check, Observation
from harness.runner.probes.http import json_problems
from harness.scenario.loader import load_scenarios
from harness.scenario.model import Scenario
from harness.scenario.placeholders import PlaceholderError, check_template, render
from tests.conftest import SCENARIOS

BUILTIN = load_scenarios([SCENARIOS])


def interpreter(version: str) -> Interpreter:
    return Interpreter(Path(f"/opt/python{version}/bin/python3"), Version(version))


class FakeFinder:
    def __init__(self, versions: list[str]) -> None:
        self.found = [interpreter(v) for v in versions]

    def discovered(self) -> list[Interpreter]:
        return self.found

    def resolve(self, text: str) -> PythonRequest:
        for found in self.found:
            if found.minor == text:
                return PythonRequest(text, found)
        return PythonRequest(text, None, f"Python {text} not found")

    def resolve_all(self, texts: list[str]) -> list[PythonRequest]:
        return [self.resolve(text) for text in texts]


class FakeIndex:
    def __init__(self, releases: list[Release]) -> None:
        self._releases = releases

    def releases(self, package: str) -> list[Release]:
        return self._releases


def release(version: str, day: str | None, requires: str | None = None) -> Release:
    uploaded = datetime.fromisoformat(day).replace(tzinfo=timezone.utc) if day else None
    return Release(Version(version), SpecifierSet(requires) if requires else None, False, uploaded)


def plan(
    scenarios: list[Scenario],
    selector: str,
    pythons: list[str],
    releases: list[Release],
    found: list[str],
    resolutions: tuple[str, ...] | list[str] = (),
) -> list[Cell]:
    platform = PlatformPlan("linux", FakeFinder(found))  # type: ignore[arg-type]
    index = FakeIndex(releases)
    return plan_cells(scenarios, selector, pythons, [platform], index, False, resolutions)  # type: ignore[arg-type]


RELEASES = [
    release("0.11.7", "2020-07-28"),
    release("0.11.8", "2020-07-31"),
    release("0.54.0", "2026-09-25", ">=3.10"),
]


def test_plan_expands_axes_and_uses_the_scenarios_pythons() -> None:
    wsgi = BUILTIN["wsgi-interface"]
    cells = plan([wsgi], "0.11.7,0.54.0", [], RELEASES, ["3.8.18", "3.11.7", "3.12.1"])
    seen = {(str(c.version), c.python.label, dict(c.axes)["http"]) for c in cells}
    assert seen == {
        ("0.11.7", "3.8", "h11"), ("0.11.7", "3.8", "httptools"),
        ("0.54.0", "3.12", "h11"), ("0.54.0", "3.12", "httptools"),
    }  # fmt: skip
    assert all(c.cell_extras == ("standard",) for c in cells)
    assert "http=httptools" in next(c.label for c in cells if "httptools" in c.label)


def test_plan_resolutions_and_upload_date_bound() -> None:
    uvloop = BUILTIN["uvloop-event-loop-startup"]
    releases = [*RELEASES, release("0.13.4", "2021-02-20"), release("0.13.3", None)]
    cells = plan([uvloop], "0.13.3,0.13.4", ["3.8"], releases, ["3.8.18"])
    by = {(str(c.version), c.resolution): c for c in cells}
    assert by[("0.13.4", "release-date")].exclude_newer() == "2021-02-20T23:59:59Z"
    assert by[("0.13.4", "latest")].exclude_newer() is None
    assert "no upload time" in (by[("0.13.3", "release-date")].skip_reason or "")
    host_uv = SimpleNamespace(target_backends={}, backend_for=lambda _: SimpleNamespace(name="uv"))
    spec = env_spec_for(by[("0.13.4", "release-date")], host_uv)
    assert spec.exclude_newer == "2021-02-20T23:59:59Z"
    assert spec.requirement() == "uvicorn[standard]==0.13.4"
    only_latest = plan([uvloop], "0.13.4", ["3.8"], releases, ["3.8.18"], ["latest"])
    assert [c.resolution for c in only_latest] == ["latest"]


def test_missing_scenario_python_becomes_a_skip() -> None:
    cells = plan([BUILTIN["supervisor-app-import"]], "0.54.0", [], RELEASES, ["3.8.18"])
    assert cells and all(not c.runnable for c in cells)
    assert {c.python.label for c in cells} == {"3.10", "3.12"}


def observation(
    output: str, failed: list[str], passed: tuple[str, ...] = ("ready",)
) -> Observation:
    checks = tuple(Check(name, False, "bad") for name in failed)
    checks += tuple(Check(name, True) for name in passed)
    return Observation(checks, True, False, False, 0, 1.0, output)


def test_scoped_signature_only_counts_where_it_applies() -> None:
    scenario = BUILTIN["import-without-typing-extensions"]
    crash = "ModuleNotFoundError: No module named 'typing_extensions'"
    releases = [release("0.23.0", "2023-07-15", ">=3.8")]
    cells = plan([scenario], "0.23.0", ["3.8", "3.12"], releases, ["3.8.18", "3.12.1"])
    crashed = observation(crash, ["ready"])
    verdicts = {
        c.python.label: classify(scenario, c.version, cell_context(c), crashed) for c in cells
    }
    assert verdicts["3.8"].outcome == Outcome.KNOWN_FAILURE and verdicts["3.8"].expected
    assert verdicts["3.12"].outcome == Outcome.NEW_FAILURE  # the bug cannot happen there


def test_check_based_signature_classifies_client_side_evidence() -> None:
    scenario = BUILTIN["pipelined-requests"]
    dropped = observation("", ["both-pipelined-answered"], ("ready", "single-request-served"))
    verdict = classify(scenario, Version("0.27.0"), "linux", dropped)
    assert verdict.outcome == Outcome.KNOWN_FAILURE and verdict.expected
    late = classify(scenario, Version("0.27.1"), "linux", dropped)
    assert late.outcome == Outcome.KNOWN_FAILURE and not late.expected
    # A release that cannot serve the app at all fails both: not this bug.
    broken = observation("", ["both-pipelined-answered", "single-request-served"])
    assert classify(scenario, Version("0.5.2"), "linux", broken).outcome == Outcome.NEW_FAILURE


def result(
    version: str, python: str, outcome: str, signature: str | None = None, **kw: object
) -> CellResult:
    return CellResult(
        scenario=kw.pop("scenario", "import-without-typing-extensions"),  # type: ignore[arg-type]
        package="uvicorn", version=version, python=python, platform="linux",
        outcome=outcome, expected=True, reason="", signature=signature,
        python_full=f"{python}.1", **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def test_claims_ignore_cells_the_signature_does_not_apply_to() -> None:
    scenario = BUILTIN["import-without-typing-extensions"]
    releases = [Version(v) for v in ("0.22.0", "0.23.0", "0.23.1")]
    cells = [
        result("0.22.0", "3.8", "pass"),
        result("0.23.0", "3.8", "known-failure", "typing-extensions-missing"),
        result("0.23.1", "3.8", "pass"),
        result("0.23.0", "3.12", "pass"),  # would contradict "0.23.0 has the bug"
    ]
    verdicts = judge_claims([scenario], cells, {"uvicorn": releases})
    assert verdicts[0].verdict != "contradicted", verdicts[0]
    only_312 = judge_claims([scenario], cells[3:], {"uvicorn": releases})
    assert only_312[0].verdict == UNVERIFIABLE
    assert "python<3.11" in only_312[0].detail


def test_resolution_scoped_claim() -> None:
    scenario = BUILTIN["uvloop-event-loop-startup"]
    releases = [Version(v) for v in ("0.13.4", "0.14.0", "0.15.0")]
    kw = {"scenario": "uvloop-event-loop-startup", "extras": ("standard",)}
    cells = [
        result("0.14.0", "3.8", "known-failure", "uvloop-no-current-event-loop", **kw),
        result("0.15.0", "3.8", "pass", **kw),
        result("0.14.0", "3.8", "pass", resolution="release-date", **kw),
    ]
    verdicts = judge_claims([scenario], cells, {"uvicorn": releases})
    assert verdicts[0].verdict == CONFIRMED, verdicts[0]


def test_results_round_trip_and_matrix_rows(tmp_path: Path) -> None:
    cells = [
        result("0.27.0", "3.12", "known-failure", "pipelined-response-dropped",
               scenario="pipelined-requests", axes={"http": "h11"}, extras=("standard",)),
        result("0.27.0", "3.12", "pass", scenario="pipelined-requests",
               axes={"http": "httptools"}, extras=("standard",), resolution="release-date",
               exclude_newer="2024-01-22T23:59:59Z"),
    ]  # fmt: skip
    assert cells[0].key != cells[1].key
    path = tmp_path / "results.json"
    write_results(path, RunResults(cells=cells))
    loaded = load_results(path).cells
    assert loaded == cells
    assert json.loads(path.read_text())["cells"][1]["exclude_newer"] == "2024-01-22T23:59:59Z"
    buffer = io.StringIO()
    render_matrix(Console(file=buffer, width=120), cells)
    text = buffer.getvalue()
    assert "[standard] http=h11" in text
    assert "http=httptools resolution=release-date" in text


def test_templates() -> None:
    check_template("--uds={uds}", {"uds"})
    with pytest.raises(PlaceholderError, match=r"unknown placeholder \{port\}"):
        check_template("{port}", {"uds"})
    with pytest.raises(PlaceholderError, match="bad placeholder syntax"):
        check_template("{unclosed", {"uds"})
    assert render("host={host}", {"host": "127.0.0.1"}) == "host=127.0.0.1"


def test_json_subset() -> None:
    body = {"scheme": "https", "client": ["1.2.3.4", 5], "asgi": {"version": "3.0"}}
    assert json_problems({"scheme": "https", "asgi": {"version": "3.0"}}, body) == []
    assert json_problems({"scheme": "http"}, body) == ["scheme is 'https', wanted 'http'"]
    assert json_problems({"asgi": {"spec": "2.3"}}, body) == ["asgi.spec missing"]
    assert json_problems({"a": 1}, [1]) == ["body is list, not an object"]


def test_resource_locks_serialise_holders(tmp_path: Path) -> None:
    locks = ResourceLocks(tmp_path)
    inside = 0
    most = 0
    guard = threading.Lock()

    def hold() -> None:
        nonlocal inside, most
        with locks.hold(["tcp:127.0.0.1:8000", "x:y"], lambda: False) as held:
            assert held
            with guard:
                inside += 1
                most = max(most, inside)
            threading.Event().wait(0.05)
            with guard:
                inside -= 1

    threads = [threading.Thread(target=hold) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 1
    with (
        locks.hold(["tcp:127.0.0.1:8000"], lambda: False),
        locks.hold(["tcp:127.0.0.1:8000"], lambda: True) as again,
    ):
        assert again is False  # cancelled while another holder has it
