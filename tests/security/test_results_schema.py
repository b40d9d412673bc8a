"""Item 8: a malformed results file is one line naming the field and exit 3 (no
traceback, no loose types), and every file the harness writes validates against
the published JSON Schema (`harness/results.schema.json`)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from harness.cli import main
from tests.conftest import ROOT
from tests.security.conftest import HostileRun, harness, results

SCHEMA_FILE = ROOT / "harness" / "results.schema.json"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    """The published results format (a JSON Schema, draft 2020-12)."""
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"x": value}
    return value


#: (where, value, the field the one line must name); `where` is a path into a valid file.
MALFORMED: list[tuple[tuple[Any, ...], Any, str]] = [
    (("cells", 0, "checks"), "x", "cells[0].checks: must be array"),
    (("claims",), "x", "claims: must be array"),
    (("claims",), ["x"], "claims[0]: must be object"),
    (("command",), 5, "command: must be array"),
    (("cells", 0, "signature"), {"id": "x"}, "cells[0].signature: must be string or null"),
    (("cells", 0, "expected"), "false", "cells[0].expected: must be boolean, got string"),
    (("complete",), "false", "complete: must be boolean"),
    (("schema",), True, "schema: must be 1"),
    (("schema",), "1", "schema: must be 1"),
    (("cells", 0, "outcome"), "bogus", "cells[0].outcome: must be one of"),
    (("cells", 0, "extras"), [1], "cells[0].extras[0]: must be string"),
    (("cells", 0, "duration_s"), "1", "cells[0].duration_s: must be number"),
    (("cells", 0, "duration_s"), -1, "cells[0].duration_s: must be at least 0"),
    (("cells", 0, "exit_code"), 1.5, "cells[0].exit_code: must be integer or null"),
    (("cells", 0, "attempts"), [{"outcome": 5}], "cells[0].attempts[0].outcome"),
    (("cells", 0, "resolved"), {"h11": 1}, "cells[0].resolved.h11: must be string"),
    (("cells", 0, "expeted"), False, "cells[0].expeted: unknown field"),
    (("cells",), {}, "cells: must be array"),
    (("releases",), {"uvicorn": "0.1"}, "releases.uvicorn: must be array"),
    (("scenarios",), {"x": []}, "scenarios.x: must be object"),
    (("scenarios",), {"x": {"upstream": {"links": "x"}}}, "scenarios.x.upstream.links"),
    (("bisect",), _nested(40), "bisect.x.x.x"),  # then: nested more than 32 levels deep
    (("notes",), [None], "notes[0]: must be string"),
]


def _mutated(where: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = results()
    target: Any = data
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    return data


def _report(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    code = main(["report", str(path)])
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return code, err


@pytest.mark.parametrize(("where", "value", "named"), MALFORMED)
def test_a_malformed_file_is_one_line_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: Any, value: Any, named: str
) -> None:
    code, err = _report(tmp_path, json.dumps(_mutated(where, value)), capsys)
    assert code == 3
    assert f"bad.json: {named}" in err


#: Depth is the harness's own limit, beyond what JSON Schema can say.
SCHEMA_MATTERS = [case for case in MALFORMED if case[0] != ("bisect",)]


@pytest.mark.parametrize(("where", "value", "named"), SCHEMA_MATTERS)
def test_the_published_schema_refuses_the_same_files(
    schema: dict[str, Any], where: Any, value: Any, named: str
) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(_mutated(where, value), schema)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
        ('{"schema": 1, "cells": [], "x": NaN}', "NaN is not a JSON number"),
        ("[]", "not a harness results file"),
        (json.dumps(results(cells=[{**results()["cells"][0], "version": "no"}])), "malformed"),
    ],
)
def test_what_json_schema_cannot_say_is_refused_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, named: str
) -> None:
    code, err = _report(tmp_path, text, capsys)
    assert code == 3 and named in err


def test_the_schema_is_a_valid_json_schema_and_accepts_a_valid_file(
    schema: dict[str, Any],
) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(results(), schema)


@pytest.mark.e2e
def test_every_file_the_harness_writes_validates(
    schema: dict[str, Any],
    hostile_run: HostileRun,
    tmp_path: Path,
    security_cache: Path,
    python_minor: str,
) -> None:
    """run (the hostile run), report --json, gate and bisect: real files, checked
    with a full validator against the published schema."""
    written = [hostile_run.outputs["results.json"]]
    merged = tmp_path / "merged.json"
    report = harness(["report", str(written[0]), "--json", str(merged)])
    assert merged.exists(), report.output
    written.append(merged)
    common = ["--scenario", "port-zero-startup", "--python", python_minor,
              "--cache-dir", str(security_cache)]  # fmt: skip
    gate = harness(["gate", "--candidate", "uvicorn==0.30.6", "--baseline", "uvicorn==0.30.5",
                    *common, "--json", str(tmp_path / "gate.json")])  # fmt: skip
    assert gate.code == 0, gate.output
    written.append(tmp_path / "gate.json")
    bisect = harness(["bisect", "port-zero-startup", "--python", python_minor,
                      "--versions", "0.30.5,0.30.6", "--bad", "0.30.6",
                      "--cache-dir", str(security_cache),
                      "--json", str(tmp_path / "bisect.json")])  # fmt: skip
    assert (tmp_path / "bisect.json").exists(), bisect.output
    written.append(tmp_path / "bisect.json")
    for path in written:
        data = json.loads(path.read_text(encoding="utf-8"))
        jsonschema.validate(data, schema)
        assert copy.deepcopy(data) == data
    assert "bisect" in json.loads((tmp_path / "bisect.json").read_text())
