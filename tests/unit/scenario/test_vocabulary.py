"""The scenario vocabulary: listen modes, raw exchanges, WebSocket, state checks,
matrix axes, scoped and check-based signatures, and the errors for each."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from packaging.version import Version

from harness.errors import ScenarioError
from harness.scenario.loader import load_scenario, load_scenarios
from harness.scenario.model import CellContext
from harness.scenario.signatures import CellEvidence
from tests.conftest import SCENARIOS

WriteScenario = Callable[..., Path]

BASE = """
id = "vocab"
title = "vocabulary"
platforms = ["linux", "macos"]

[server]
app = "reference:app"
{server}

{rest}
"""

TCP = 'command = ["uvicorn", "{app}", "--host", "{host}", "--port", "{port}"]'


def scenario_text(server: str = TCP, rest: str = "") -> str:
    return BASE.replace("{server}", server).replace("{rest}", rest)


def test_every_builtin_scenario_loads_with_links() -> None:
    scenarios = load_scenarios([SCENARIOS])
    assert len(scenarios) >= 16
    for scenario in scenarios.values():
        assert scenario.upstream.fix or scenario.upstream.issue, scenario.id
        assert scenario.signatures, scenario.id
        for signature in scenario.signatures:
            assert not signature.claim.empty, (scenario.id, signature.id)


def test_listen_modes_and_their_placeholders(write_scenario: WriteScenario) -> None:
    uds_server = 'listen = "uds"\ncommand = ["uvicorn", "{app}", "--uds", "{uds}"]'
    uds = load_scenario(write_scenario(scenario_text(uds_server)))
    assert uds.server.listen.kind == "uds"
    assert uds.server.ready_pattern is None  # readiness: connect to the socket
    fd = load_scenario(
        write_scenario(
            scenario_text(
                'listen = "fd"\nfd = "stdin"\nready = "running"\n'
                'command = ["uvicorn", "{app}", "--fd", "{fd}"]'
            )
        )
    )
    assert (fd.server.listen.kind, fd.server.listen.fd_as) == ("fd", "stdin")


@pytest.mark.parametrize(
    ("server", "rest", "field", "problem"),
    [
        ('listen = "uds"\ncommand = ["uvicorn", "{app}", "--port", "{port}"]', "",
         "server.command[3]", "unknown placeholder {port}"),
        ('command = ["uvicorn", "{app}", "--uds", "{uds}"]', "", "server.command[3]",
         "unknown placeholder {uds}"),
        ('listen = "fd"\ncommand = ["uvicorn", "{app}", "--fd", "{fd}"]', "", "server.ready",
         "is required"),
        ('listen = "pipe"\n' + TCP, "", "server.listen", "must be one of"),
        ('fd = "stdin"\n' + TCP, "", "server.fd", "only applies"),
        (TCP, "[[expect.raw]]\nid = 'r'\n", "expect.raw[0].send", "is required"),
        (TCP, "[[expect.raw]]\nsend = 'caf\u0101'\n", "expect.raw[0].send", "one byte each"),
        (TCP, "[[expect.raw]]\nsend = 'x'\n[[expect.raw.match]]\npattern = 'a'\ncount = 1\n"
         "min_count = 1\n", "expect.raw[0].match[0].count", "either count"),
        (TCP, "[[expect.listening]]\naddress = '10.0.0.1:80'\naccepting = false\n",
         "expect.listening[0].address", "loopback"),
        (TCP, "[[expect.listening]]\naddress = '127.0.0.1'\naccepting = false\n",
         "expect.listening[0].address", "HOST:PORT"),
        (TCP, "[[expect.path]]\npath = '{nowhere}'\nexists = true\n", "expect.path[0].path",
         "unknown placeholder"),
        (TCP, "[[expect.imports]]\nprocess = 'grandparent'\n", "expect.imports[0].process",
         "must be one of"),
        (TCP, "[[expect.http]]\nsame_connection = true\n", "expect.http[0].same_connection",
         "needs a `session`"),
        (TCP, "[[expect.websocket]]\nreceive = 'x'\n", "expect.websocket[0].receive",
         "needs `send`"),
        (TCP, "[[expect.http]]\nid = 'a'\n[[expect.log]]\nid = 'a'\npattern = 'x'\n",
         "expect.log[0].id", "duplicate check id"),
        (TCP, "[expect.exit]\nsignal = 'SIGHUP'\n", "expect.exit.signal", "or 'none'"),
        (TCP, "[[signature]]\nid = 's'\nchecks = ['nope']\nfixed_in = '1.0'\n",
         "signature[0].checks", "no check is named 'nope'"),
        (TCP, "[[signature]]\nid = 's'\nfixed_in = '1.0'\n", "signature[0].pattern",
         "is required"),
        (TCP, "[[signature]]\nid = 's'\npattern = 'x'\npassed_checks = ['nope']\n",
         "signature[0].passed_checks", "no check is named 'nope'"),
        (TCP, "[[signature]]\nid = 's'\npattern = 'x'\npython = 'three'\n",
         "signature[0].python", "not a version range"),
        (TCP, "[[signature]]\nid = 's'\npattern = 'x'\nwhen = { http = 'h2' }\n",
         "signature[0].when.http", "not a matrix axis"),
        (TCP, "[matrix]\nhttp = ['h11']\n[[signature]]\nid = 's'\npattern = 'x'\n"
         "when = { http = 'h2' }\n", "signature[0].when.http", "not a value of axis http"),
        (TCP, "[matrix]\nport = ['1']\n", "matrix.port", "not a usable axis name"),
        (TCP, "[matrix]\nhttp = []\n", "matrix.http", "non-empty"),
        (TCP, "[matrix]\npython = ['3']\n", "matrix.python", "minor version"),
        (TCP, "[matrix]\nresolution = ['yesterday']\n", "matrix.resolution", "not one of"),
        (TCP, "[matrix]\nextras = ['standard']\n", "matrix.extras", "list of lists"),
    ],
)  # fmt: skip
def test_vocabulary_errors_name_the_field(
    write_scenario: WriteScenario, server: str, rest: str, field: str, problem: str
) -> None:
    path = write_scenario(scenario_text(server, rest))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert field in message, message
    assert problem in message, message
    assert "\n" not in message


def test_exclusive_resources_are_checked(write_scenario: WriteScenario) -> None:
    text = scenario_text().replace('title = "vocabulary"', 'title = "v"\nexclusive = ["port 8000"]')
    with pytest.raises(ScenarioError, match="exclusive: 'port 8000' must look like KIND:NAME"):
        load_scenario(write_scenario(text))
    text = scenario_text().replace('title = "vocabulary"', 'title = "v"\nexclusive = ["gpu:0"]')
    assert load_scenario(write_scenario(text)).exclusive_resources() == ("gpu:0",)


def test_uds_cannot_claim_windows(write_scenario: WriteScenario) -> None:
    text = scenario_text('listen = "uds"\ncommand = ["uvicorn", "{app}", "--uds", "{uds}"]')
    path = write_scenario(text.replace('["linux", "macos"]', '["linux", "windows"]'))
    with pytest.raises(ScenarioError, match="needs a POSIX platform"):
        load_scenario(path)


def test_expectations_are_parsed(write_scenario: WriteScenario) -> None:
    rest = r"""
exclusive = []

[matrix]
python = ["3.8", "3.12"]
extras = [[], ["standard"]]
resolution = ["latest", "release-date"]
http = ["h11", "httptools"]

[[expect.http]]
id = "first"
session = "ka"
path = "/scope"
json = { scheme = "https", client = ["1.2.3.4", 0] }

[[expect.http]]
session = "ka"
wait_s = 0.5
same_connection = true

[[expect.raw]]
id = "pipelined"
send = ["GET / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\n\r\n"]
gap_s = 0.1
until = "hello.*hello"
closed = false

[[expect.raw.match]]
pattern = 'HTTP/1\.1 200'
count = 2

[[expect.websocket]]
path = "/ws"
subprotocols = ["chat", "superchat"]
subprotocol = "chat"
send = "hi"
receive = "hi"

[[expect.listening]]
address = "127.0.0.1:8000"
accepting = false

[[expect.path]]
path = "{workdir}/x"
exists = false
when = "exited"
kind = "socket"

[[expect.imports]]
process = "parent"
count = 0

[expect.exit]
signal = "none"
within_s = 5
codes = []

[[signature]]
id = "scoped"
pattern = "Boom"
checks = ["pipelined"]
python = "<3.11"
when = { http = ["h11"], resolution = "latest" }
fixed_in = "1.0"
"""
    text = scenario_text(TCP, rest.replace("exclusive = []\n", ""))
    scenario = load_scenario(write_scenario(text))
    assert scenario.matrix.pythons == ("3.8", "3.12")
    assert scenario.matrix.extras == ((), ("standard",))
    assert scenario.matrix.axes == (("http", ("h11", "httptools")),)
    assert len(scenario.matrix.combinations()) == 2
    assert scenario.http[0].json == {"scheme": "https", "client": ["1.2.3.4", 0]}
    assert scenario.http[1].check_name() == "http GET /"
    raw = scenario.raw[0]
    assert raw.send == (b"GET / HTTP/1.1\r\n\r\n",) * 2
    assert raw.matches[0].min_count == raw.matches[0].max_count == 2
    assert scenario.websocket[0].id == "websocket-0"
    assert scenario.listening[0].resource == "tcp:127.0.0.1:8000"
    assert scenario.exclusive_resources() == ("tcp:127.0.0.1:8000",)
    assert scenario.paths[0].when == "exited"
    assert scenario.imports[0].min_count == scenario.imports[0].max_count == 0
    assert scenario.exit.signal == "none" and scenario.exit.codes == ()
    assert scenario.needs_running_server()  # probes exist, so readiness is awaited
    signature = scenario.signatures[0]
    context = CellContext("linux", Version("3.8.18"), {"http": "h11", "resolution": "latest"})
    assert signature.applies_in(context)
    assert not signature.applies_in(CellContext("linux", Version("3.12.1"), context.axes))
    other = {"http": "httptools", "resolution": "latest"}
    assert not signature.applies_in(CellContext("linux", Version("3.8.18"), other))
    assert not signature.matches(CellEvidence.of("Boom"))  # the check must have failed too
    assert signature.matches(CellEvidence.of("Boom", ("pipelined",)))
    assert signature.scope() == "python<3.11, http=h11, resolution=latest"


def test_exit_by_itself_without_probes_does_not_wait_for_readiness(
    write_scenario: WriteScenario,
) -> None:
    rest = "[expect.exit]\nsignal = 'none'\ncodes = [3]\n"
    scenario = load_scenario(write_scenario(scenario_text(TCP, rest)))
    assert not scenario.needs_running_server()
