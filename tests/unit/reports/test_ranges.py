"""The observed-ranges table, from hand-made results."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import UsageError
from harness.reports.merge import merge_results
from harness.reports.model import Report, build_report
from harness.reports.ranges import (
    END,
    START,
    range_rows,
    render_table,
    replace_block,
    shown_command,
)
from harness.results import CellResult, RunResults, write_results
from harness.scenario.loader import load_scenarios
from tests.conftest import SCENARIOS


def cell(version: str, outcome: str, signature: str | None = None, **kw: object) -> CellResult:
    return CellResult(
        scenario="demo", package="uvicorn", version=version, python="3.8", platform="linux",
        outcome=outcome, expected=True, reason="", signature=signature, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def claim(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "scenario": "demo", "signature": "boom", "claim": "fixed in 0.3.0",
        "verdict": "confirmed", "first_bad": "0.1.0", "last_bad": "0.2.0",
        "last_good_before": None, "first_good_after": "0.3.0",
    }  # fmt: skip
    base.update(kw)
    return base


def results(cells: list[CellResult], **kw: object) -> RunResults:
    return RunResults(cells=cells, claims=[claim(**kw)], command=["python", "-m", "harness", "x"])


def report(*runs: RunResults, known: bool = False) -> Report:
    merged = merge_results([(f"r{n}.json", run) for n, run in enumerate(runs)])
    return build_report(merged, load_scenarios([SCENARIOS]) if known else {})


def test_rows_say_what_older_releases_did() -> None:
    run = results([
        cell("0.0.1", "install-error"), cell("0.0.2", "new-failure"),
        cell("0.1.0", "known-failure", "boom", axes={"http": "h11"}),
        cell("0.2.0", "known-failure", "boom"), cell("0.3.0", "pass"),
    ])  # fmt: skip
    (row,) = range_rows(report(run))
    assert row.observed() == "… ✓ → **0.1.0 … 0.2.0** ✗ → 0.3.0 ✓"
    assert row.below == "older releases: install-error 0.0.1, new-failure 0.0.2"
    assert row.where == "py3.8; py3.8 http=h11"
    table = render_table([row], "python -m harness ranges r.json")
    assert "| demo | `boom` | fixed in 0.3.0 |" in table
    assert "python -m harness x" in table


def test_observations_of_several_files_add_up() -> None:
    """Claims are judged again over the union: one file saw the bug, another the edges."""

    def uds(version: str, outcome: str) -> CellResult:
        bad = outcome == "known-failure"
        return CellResult(
            scenario="uds-startup", package="uvicorn", version=version, python="3.12",
            platform="linux", outcome=outcome, expected=True, reason="",
            signature="uds-create-server-path" if bad else None, python_full="3.12.1",
        )  # fmt: skip

    first = RunResults(cells=[uds("0.17.3", "known-failure")], command=["bisect", "a"])
    second = RunResults(cells=[uds("0.17.1", "pass"), uds("0.17.2", "known-failure"),
                               uds("0.17.4", "pass")], command=["run", "b"])  # fmt: skip
    (row,) = range_rows(report(first, second, known=True))
    assert (row.last_good_before, row.first_bad, row.last_bad, row.first_good_after) == (
        "0.17.1",
        "0.17.2",
        "0.17.3",
        "0.17.4",
    )
    assert row.verdict == "refined"
    assert row.command.splitlines() == ["bisect a", "run b"]


def test_replace_block() -> None:
    document = f"intro\n{START}\nold\n{END}\noutro\n"
    assert replace_block(document, "new\n", "doc") == f"intro\n{START}\nnew\n{END}\noutro\n"
    with pytest.raises(UsageError, match="exactly one"):
        replace_block("no markers", "x", "doc")


def test_ranges_command_writes_the_block(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    write_results(path, results([cell("0.1.0", "known-failure", "boom"), cell("0.3.0", "pass")]))
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n{START}\n{END}\n")
    assert main(["ranges", str(path), "--write", str(readme)]) == 0
    text = readme.read_text()
    assert "**0.1.0 … 0.2.0**" in text and "Regenerate with: `python -m harness ranges" in text
    empty = tmp_path / "empty.json"
    write_results(empty, RunResults(cells=[]))
    assert main(["ranges", str(empty)]) == 3


def test_commands_are_shown_without_machine_local_options() -> None:
    command = ("python -m harness run --scenario x --cache-dir /tmp/c --json /tmp/r.json "
               "--jobs 3 --versions >=0.1 --html=r.html")  # fmt: skip
    assert shown_command(command) == "python -m harness run --scenario x --versions >=0.1"


def test_every_observed_range_is_a_row_entry() -> None:
    stored = claim(
        ranges=[
            {"first_bad": "0.1.0", "last_bad": "0.2.0", "last_good_before": None,
             "first_good_after": "0.3.0"},
            {"first_bad": "0.5.0", "last_bad": "0.6.0", "last_good_before": "0.4.0",
             "first_good_after": None},
        ],
        last_bad="0.6.0", first_good_after=None,
    )  # fmt: skip
    run = RunResults(cells=[cell("0.1.0", "known-failure", "boom")], claims=[stored])
    (row,) = range_rows(report(run))
    assert row.observed() == (
        "… ✓ → **0.1.0 … 0.2.0** ✗ → 0.3.0 ✓ · 0.4.0 ✓ → **0.5.0 … 0.6.0** ✗ → … ✓"
    )
    table = render_table([row], "regen")
    assert "**0.1.0 … 0.2.0** ✗ → 0.3.0 ✓ · 0.4.0 ✓ → **0.5.0 … 0.6.0**" in table


def test_results_written_before_ranges_and_several_signatures_still_load() -> None:
    old = claim()  # no "ranges": one range from the edge fields
    (row,) = range_rows(report(RunResults(cells=[cell("0.1.0", "pass")], claims=[old])))
    assert row.observed() == "… ✓ → **0.1.0 … 0.2.0** ✗ → 0.3.0 ✓"
    record = cell("0.1.0", "known-failure", "boom").to_json()
    del record["also_matched"]
    assert CellResult.from_json(record, "old.json").also_matched == ()
    record["also_matched"] = ["other"]
    assert CellResult.from_json(record, "new.json").signatures == ("boom", "other")
