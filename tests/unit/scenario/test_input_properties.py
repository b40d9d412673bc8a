"""Property tests: any scenario data or version selector gives a valid object or
the project's own error naming the field, never another exception."""

from __future__ import annotations

import copy
import itertools
import math
import re
import string
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.errors import ScenarioError, VersionSelectionError
from harness.plan.versions import parse_selector, resolve_selector
from harness.runner.ports import is_loopback
from harness.scenario.loader import load_scenario, parse_scenario
from harness.scenario.model import COMMON_PLACEHOLDERS, LISTEN_PLACEHOLDERS, Scenario
from tests.unit.plan.test_versions import RELEASES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FUZZ_PATH = Path(__file__).resolve().parent / "fuzz" / "fuzz.toml"
PROPERTY_SETTINGS = settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

#: A scenario that uses every section, so mutations can reach every field.
FULL_SCENARIO = tomllib.loads(
    r"""
id = "full"
title = "every field"
description = "x"
package = "uvicorn"
platforms = ["linux", "macos"]
extras = ["standard"]
pins = ["h11<0.15"]

[upstream]
issue = "https://example.invalid/1"
fix = "https://example.invalid/2"
links = ["https://example.invalid/3"]

[defaults]
versions = ["0.14.0", "latest"]

[server]
app = "hello:app"
command = ["uvicorn", "{app}", "--host", "{host}", "--port", "{port}"]
host = "127.0.0.1"
ready = 'Uvicorn running on https?://(?P<host>[^\s:]+):(?P<port>\d+)'
env = { GREETING = "hi" }

[limits]
ready_s = 20
probe_s = 5
log_s = 10
kill_grace_s = 3

[[expect.http]]
method = "GET"
path = "/"
request_headers = { accept = "text/plain" }
status = 200
body = "Hello, world!"
headers = { "content-type" = "text/plain" }
absent_headers = ["x-powered-by"]

[[expect.log]]
pattern = 'Started server process \[(\d+)\]'
distinct_min = 1
description = "started"

[expect.exit]
signal = "SIGINT"
target = "group"
within_s = 10
codes = [0]

[[signature]]
id = "boom"
pattern = "Boom"
platforms = ["linux"]
fixed_in = "0.14.0"
introduced_in = "0.13.4"
description = "d"
flaky = true
"""
)

toml_scalars = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["0.0.0.0", "::", "192.168.1.1", "localhost", "{host}", "{port:d}",
                     "{app!r}", "{nope}", "{", "}", "a\x00b", "GET\n", "(", "[", "\\", "*"]),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)  # fmt: skip
#: Values that broke (or would break) a lenient loader: non-finite and huge numbers,
#: NUL, public addresses, placeholders with format specs, line breaks.
nasty_values = st.sampled_from(
    [math.nan, math.inf, -math.inf, 0, -1, 0.0, 2**64, 1e308, 80, 65536, 1024, "", "\x00",
     "0.0.0.0", "--host=0.0.0.0", "{port:d}", "{host!r}", "LD_PRELOAD", "x\ny", True, [], {}]
)  # fmt: skip
toml_values = st.recursive(
    toml_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=12), children, max_size=4),
    ),
    max_leaves=12,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key/index path into a parsed TOML document."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _parent(document: Any, path: tuple[Any, ...]) -> Any:
    node = document
    for step in path[:-1]:
        node = node[step]
    return node


@st.composite
def mutated_scenarios(draw: st.DrawFn) -> dict[str, Any]:
    document = copy.deepcopy(FULL_SCENARIO)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(document)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _parent(document, path)
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(nasty_values | toml_values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=10))] = draw(toml_values)
        else:
            parent.append(draw(nasty_values | toml_values))
    return document


def _assert_runnable(scenario: Scenario) -> None:
    """What the runner relies on for every scenario the loader accepts."""
    known = COMMON_PLACEHOLDERS.union(*LISTEN_PLACEHOLDERS.values())
    values = {name: "x" for name in known | {axis for axis, _ in scenario.matrix.axes}}
    for token in scenario.server.command:
        token.format(**values)  # no format spec, conversion or unknown name survives
        assert "\x00" not in token
    assert is_loopback(scenario.server.host)
    command = scenario.server.command
    pairs = itertools.pairwise(command)
    hosts = [value for flag, value in pairs if flag in ("--host", "-h")]
    hosts += [token.split("=", 1)[1] for token in command if token.startswith("--host=")]
    assert all(host == "{host}" or is_loopback(host) for host in hosts), hosts
    assert scenario.server.port in (None, 0) or 1024 <= scenario.server.port <= 65535
    limits = scenario.limits
    for value in (limits.ready_s, limits.probe_s, limits.log_s, limits.kill_grace_s):
        assert math.isfinite(value) and 0 <= value <= 3600
    assert math.isfinite(scenario.max_duration_s())
    for name in scenario.server.env:
        assert not name.startswith(("LD_", "UVICORN_HARNESS_")) and name != "PATH"


@PROPERTY_SETTINGS
@given(mutated_scenarios())
def test_mutated_scenarios_load_or_name_the_field(document: dict[str, Any]) -> None:
    try:
        scenario = parse_scenario(document, FUZZ_PATH)
    except ScenarioError as exc:
        assert exc.field, f"no field named in {exc}"
        assert exc.field in str(exc)
        assert str(FUZZ_PATH) in str(exc)
        assert "\n" not in str(exc), "the error must be one line"
    else:
        _assert_runnable(scenario)


def _check(document: dict[str, Any]) -> None:
    try:
        scenario = parse_scenario(document, FUZZ_PATH)
    except ScenarioError as exc:
        assert exc.field, f"no field named in {exc}"
        assert exc.field in str(exc)
        assert "\n" not in str(exc), "the error must be one line"
    else:
        _assert_runnable(scenario)


def test_every_field_with_every_nasty_value() -> None:
    """Exhaustive: each field of a full scenario replaced by each nasty value."""
    nasty = [math.nan, math.inf, -math.inf, 0, -1, 0.5, 2**64, 1e308, 80, 65536, "", "\x00",
             "0.0.0.0", "--host=0.0.0.0", "{port:d}", "{host!r}", "{nope}", "LD_PRELOAD",
             "x\ny", True, [], {}, ["\x00"], {"LD_PRELOAD": "x"}, {"a\x00": "b"}]  # fmt: skip
    for path in _paths(FULL_SCENARIO):
        for value in nasty:
            document = copy.deepcopy(FULL_SCENARIO)
            _parent(document, path)[path[-1]] = copy.deepcopy(value)
            _check(document)


@PROPERTY_SETTINGS
@given(st.dictionaries(st.text(max_size=10), toml_values, max_size=8))
def test_arbitrary_documents_load_or_name_the_field(document: dict[str, Any]) -> None:
    try:
        scenario = parse_scenario(document, FUZZ_PATH)
    except ScenarioError as exc:
        assert exc.field and exc.field in str(exc)
        assert "\n" not in str(exc), "the error must be one line"
    else:
        _assert_runnable(scenario)


@PROPERTY_SETTINGS
@given(st.binary(max_size=300) | st.text(alphabet=string.printable, max_size=300))
def test_arbitrary_files_load_or_fail_cleanly(tmp_path_factory: Any, content: bytes | str) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.toml"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    try:
        load_scenario(path)
    except ScenarioError as exc:
        assert str(path) in str(exc)


def test_deeply_nested_toml_is_a_scenario_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_text("a = " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"deep\.toml"):
        load_scenario(path)


selector_items = st.one_of(
    st.sampled_from(["latest", "minors", "latest-3", "latest-0", "latest-99999999999999999999",
                     "0.13.4", "0.14.0", "9.9.9", ">=0.12", "<0.15", "~=1", "~=0.13.0", "==0.*",
                     "!=0.13.4", "===0.14.0", ">=", "<", "", " ", "latest-", "-1", "0..1", "*"]),
    st.text(alphabet="0123456789.,<>=!~*-latesminor ", max_size=12),
    st.text(max_size=8),
)  # fmt: skip


@PROPERTY_SETTINGS
@given(st.lists(selector_items, min_size=1, max_size=4).map(",".join))
def test_selectors_resolve_or_raise_the_selection_error(selector: str) -> None:
    try:
        parse_selector(selector)
        versions = resolve_selector(selector, RELEASES, "uvicorn", boundaries=RELEASES[2:4][0:0])
    except VersionSelectionError as exc:
        assert str(exc)
        assert "\n" not in str(exc)
    else:
        known = {release.version for release in RELEASES}
        assert set(versions) <= known
        assert versions == sorted(versions)


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("latest-0", "needs N >= 1"),
        ("~=1", "not a valid version range"),
        (">=0.12,,<1", "empty item"),
        ("0.13.99", "unknown version 0.13.99"),
        ("newest", "is neither a version"),
    ],
)
def test_selector_errors_name_the_item(selector: str, message: str) -> None:
    with pytest.raises(VersionSelectionError, match=re.escape(message)):
        resolve_selector(selector, RELEASES, "uvicorn")
