"""Write the report files a command asked for; shared by `run` and `report`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.atomic import write_text_atomic
from harness.reports.html import write_html
from harness.reports.junit import write_junit
from harness.reports.markdown import append_to_step_summary, render_markdown
from harness.reports.merge import merge_results
from harness.reports.model import Report, build_report
from harness.results import RunResults
from harness.scenario.model import Scenario


@dataclass(frozen=True)
class ReportPaths:
    html: Path | None = None
    junit: Path | None = None
    markdown: Path | None = None


def report_for_run(
    label: str, results: RunResults, scenarios: Sequence[Scenario] | Mapping[str, Scenario]
) -> Report:
    """The report of a single run, built exactly like a merged one."""
    known = scenarios if isinstance(scenarios, Mapping) else {s.id: s for s in scenarios}
    return build_report(merge_results([(label, results)]), known)


def write_reports(
    report: Report, paths: ReportPaths, markdown_preface: str = ""
) -> list[tuple[str, Path]]:
    """Write the requested files; returns (kind, path) for each file written.

    `markdown_preface` goes before the Markdown report (the gate's verdict), in
    the file and in the CI job summary alike.
    """
    written: list[tuple[str, Path]] = []
    if paths.html is not None:
        write_html(paths.html, report)
        written.append(("html", paths.html))
    if paths.junit is not None:
        write_junit(paths.junit, report)
        written.append(("junit", paths.junit))
    markdown = markdown_preface + render_markdown(report)
    if paths.markdown is not None:
        write_text_atomic(paths.markdown, markdown)
        written.append(("markdown", paths.markdown))
    summary = append_to_step_summary(markdown)
    if summary is not None:
        written.append(("job summary", summary))
    return written
