"""Validate a JUnit XML file the way a CI system would read it.

Three checks: the project's schema (tests/data/junit-ci.xsd), counts that add
up (which XSD 1.0 cannot express), and any further published schema listed in
$HARNESS_JUNIT_XSD (os.pathsep-separated paths), e.g. the Jenkins xunit
plugin's junit-10.xsd.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import xmlschema

SCHEMA = Path(__file__).resolve().parent / "data" / "junit-ci.xsd"


def schemas() -> list[Path]:
    extra = [Path(p) for p in os.environ.get("HARNESS_JUNIT_XSD", "").split(os.pathsep) if p]
    return [SCHEMA, *extra]


def validate_junit(path: Path) -> None:
    """Raise (xmlschema's error, or AssertionError for counts) unless `path` is valid."""
    for schema in schemas():
        xmlschema.XMLSchema(str(schema)).validate(str(path))
    root = ET.parse(path).getroot()
    for suite in root.iter("testsuite"):
        cases = suite.findall("testcase")
        name = suite.get("name")
        assert int(suite.get("tests", "-1")) == len(cases), name
        for kind, attribute in (
            ("failure", "failures"),
            ("error", "errors"),
            ("skipped", "skipped"),
        ):
            found = sum(1 for case in cases if case.find(kind) is not None)
            assert int(suite.get(attribute, "0")) == found, (name, attribute)
