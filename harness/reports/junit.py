"""JUnit XML for CI dashboards: red only on real regressions.

One testsuite per scenario, one testcase per cell.  Only unexpected cells are
failures; a known failure the claims expect is reported as skipped with its
reason (xfail semantics), and so is a skip.  The document satisfies both the
Jenkins xunit plugin's schema and the stricter Ant schema (required
`properties`, `system-out`, `system-err`, `hostname`, `timestamp`, `id`,
`package`; at most one result element per testcase).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.atomic import write_text_atomic
from harness.outcomes import Outcome
from harness.reports.merge import MergedCell
from harness.reports.model import Report, ScenarioReport
from harness.results import CellResult

# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_MESSAGE_CHARS = 500


def xml_text(text: str) -> str:
    """`text` with characters XML cannot hold shown as `\\xNN` instead."""
    return _NOT_XML.sub(_escape_char, text)


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"


def _timestamp(report: Report) -> str:
    """ISO 8601 without a zone (the Ant schema's form), from the earliest run."""
    starts = sorted(s.started_at for s in report.sources if s.started_at)
    if not starts:
        return "1970-01-01T00:00:00"
    return starts[0].rstrip("Z")[:19]


def testcase_name(cell: CellResult) -> str:
    extras = f"[{','.join(cell.extras)}]" if cell.extras else ""
    name = f"{cell.package}{extras}=={cell.version} py{cell.python} {cell.platform}"
    axes = " ".join(f"{k}={v}" for k, v in cell.axes.items())
    if cell.resolution != "latest":
        axes = f"{axes} resolution={cell.resolution}".strip()
    return f"{name} {axes}" if axes else name


def _detail(cell: CellResult) -> str:
    return cell.signature or cell.fingerprint or cell.reason


def _message(text: str) -> str:
    text = " ".join(text.split())
    return xml_text(text if len(text) <= _MESSAGE_CHARS else text[: _MESSAGE_CHARS - 1] + "…")


def _failure_body(cell: MergedCell) -> str:
    parts = []
    for observation in cell.observations:
        seen = observation.cell
        header = f"== {seen.outcome} in {observation.source}"
        lines = [header, f"reason: {seen.reason}"]
        if seen.signature:
            lines.append(f"signature: {seen.signature}")
        if seen.also_matched:
            lines.append(f"also matched: {', '.join(seen.also_matched)}")
        if seen.fingerprint:
            lines.append(f"fingerprint: {seen.fingerprint}")
        lines.append(f"exit code: {seen.exit_code}; duration: {seen.duration_s:.2f} s")
        lines.append("-- output tail --")
        lines.append(seen.output_tail)
        parts.append("\n".join(lines))
    return xml_text("\n\n".join(parts))


def _testcase(parent: ET.Element, scenario: ScenarioReport, cell: MergedCell) -> str:
    """Append one testcase; returns "failure", "skipped" or "passed"."""
    shown = cell.effective()
    case = ET.SubElement(
        parent,
        "testcase",
        name=xml_text(testcase_name(shown)),
        classname=xml_text(f"harness.{scenario.id}"),
        time=_seconds(sum(o.cell.duration_s for o in cell.observations)),
    )
    if not cell.expected and cell.gated:
        failure = ET.SubElement(
            case,
            "failure",
            type=shown.outcome,
            message=_message(f"{shown.outcome}: {_detail(shown)}"),
        )
        failure.text = _failure_body(cell)
        return "failure"
    if shown.outcome == Outcome.PASS:
        return "passed"
    if not cell.expected:
        reason = f"not gated, added to pin a claim edge: {shown.outcome}: {shown.reason}"
    elif shown.signature:
        reason = f"expected known failure (xfail): {shown.reason}"
    else:
        reason = f"{shown.outcome}: {shown.reason}"
    ET.SubElement(case, "skipped", message=_message(reason))
    return "skipped"


def _testsuite(root: ET.Element, report: Report, scenario: ScenarioReport, index: int) -> None:
    cells = scenario.cells
    suite = ET.SubElement(
        root,
        "testsuite",
        name=xml_text(scenario.id),
        package=xml_text(f"harness.{scenario.id}"),
        id=str(index),
        timestamp=_timestamp(report),
        hostname="localhost",
        tests=str(len(cells)),
        time=_seconds(sum(o.cell.duration_s for c in cells for o in c.observations)),
    )
    properties = ET.SubElement(suite, "properties")
    values = [("title", scenario.title), ("package", scenario.package)]
    values += [
        (f"upstream.{k}", v) for k, v in (("issue", scenario.issue), ("fix", scenario.fix)) if v
    ]
    values += [
        (f"claim.{claim.signature}", f"{claim.verdict}: {claim.claim}; {claim.detail}")
        for claim in scenario.claims
    ]
    for name, value in values:
        ET.SubElement(properties, "property", name=xml_text(name), value=xml_text(value))
    tally = {"failure": 0, "skipped": 0, "passed": 0}
    for cell in cells:
        tally[_testcase(suite, scenario, cell)] += 1
    suite.set("failures", str(tally["failure"]))
    suite.set("errors", "0")
    suite.set("skipped", str(tally["skipped"]))
    out = ET.SubElement(suite, "system-out")
    out.text = xml_text(
        "\n".join(
            f"claim {c.signature} ({c.claim}): {c.verdict}: {c.detail}" for c in scenario.claims
        )
    )
    ET.SubElement(suite, "system-err").text = ""


def render_junit(report: Report) -> str:
    # No attributes on the root: the Ant schema allows none (readers add up the suites).
    root = ET.Element("testsuites")
    for index, scenario in enumerate(report.scenarios):
        _testsuite(root, report, scenario, index)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(path: Path, report: Report) -> None:
    write_text_atomic(path, render_junit(report))
