"""The fast paths give the same answers as the slow ones they replace.

Interpreter probes cached across runs, listening sockets from the kernel's
sock_diag (and /proc), process scans from /proc, exit waits on a pidfd, and
httpx imported for synchronous use: each checked against the general answer
(psutil, a fresh probe, `Popen.wait`) on real sockets and real processes.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.envs.interpreters import InterpreterFinder, ProbeCache
from harness.procs import proctable
from harness.procs.registry import REGISTRY, SPAWN_ENV, alive_members, kill_tree, spawn, wait_exit
from harness.runner import sockets as listening
from harness.runner.ports import _psutil_listening_sockets, listening_sockets

LINUX = sys.platform.startswith("linux")


# -- interpreter probes kept between runs ------------------------------------------------------


def test_probe_answers_are_reused_until_the_interpreter_changes(tmp_path: Path) -> None:
    python = tmp_path / "python3"
    python.symlink_to(Path(sys.executable).resolve())
    cache_file = tmp_path / "interpreters.json"
    cache = ProbeCache(cache_file)
    first = cache.probe(python)
    assert first is not None and first.path == python
    cache.save()
    data = json.loads(cache_file.read_text())
    assert data["interpreters"][str(python)]["version"] == str(first.version)
    # The cache answers as long as the executable's identity is unchanged (shown
    # with a made-up version: nothing was started to answer it) ...
    data["interpreters"][str(python)]["version"] = "3.0.0"
    cache_file.write_text(json.dumps(data))
    again = ProbeCache(cache_file).probe(python)
    assert again is not None and str(again.version) == "3.0.0"
    # ... and an executable that changed is probed again.
    data["interpreters"][str(python)]["identity"] = "another build"
    cache_file.write_text(json.dumps(data))
    assert ProbeCache(cache_file).probe(python) == first


def test_failed_probes_are_not_kept(tmp_path: Path) -> None:
    fake = tmp_path / "python3.99"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    cache = ProbeCache(tmp_path / "interpreters.json")
    assert cache.probe(fake) is None
    cache.save()
    assert not (tmp_path / "interpreters.json").exists()


def test_the_finder_answers_the_same_with_and_without_its_cache(tmp_path: Path) -> None:
    cached = InterpreterFinder(cache_path=tmp_path / "interpreters.json")
    assert cached.discovered() == InterpreterFinder().discovered()
    assert InterpreterFinder(cache_path=tmp_path / "interpreters.json").discovered() == (
        cached.discovered()
    )


# -- listening sockets ------------------------------------------------------------------------


@pytest.fixture
def listeners() -> Iterator[list[socket.socket]]:
    made = []
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET, "0.0.0.0")):
        sock = socket.socket(family)
        sock.bind((host, 0))
        sock.listen()
        made.append(sock)
    if socket.has_ipv6:
        try:
            sock = socket.socket(socket.AF_INET6)
            sock.bind(("::1", 0))
            sock.listen()
            made.append(sock)
        except OSError:
            pass  # no IPv6 loopback here
    connected = socket.create_connection(made[0].getsockname()[:2])  # not listening: left out
    made.append(connected)
    yield made
    for sock in made:
        sock.close()


def test_listening_sockets_agree_with_psutil(listeners: list[socket.socket]) -> None:
    pids = [os.getpid()]
    found, visible = listening_sockets(pids)
    assert visible
    wanted = {(s.getsockname()[0], s.getsockname()[1]) for s in listeners[:-1]}
    assert wanted <= found
    assert (found, visible) == _psutil_listening_sockets(pids)


@pytest.mark.skipif(not LINUX, reason="sock_diag and /proc/net are Linux's")
def test_netlink_and_proc_tables_agree(listeners: list[socket.socket]) -> None:
    try:
        netlink = listening._netlink_listening(socket.AF_INET)
    except OSError as exc:
        pytest.skip(f"no sock_diag netlink here: {exc}")
    assert netlink == listening._proc_listening("tcp", socket.AF_INET)
    assert listening._netlink_listening(socket.AF_INET6) == listening._proc_listening(
        "tcp6", socket.AF_INET6
    )


def test_proc_addresses_are_decoded_in_the_kernels_byte_order() -> None:
    if sys.byteorder != "little":
        pytest.skip("the sample line is a little-endian machine's")
    assert listening._proc_address("0100007F:1F90", socket.AF_INET) == ("127.0.0.1", 8080)
    six = "00000000000000000000000001000000:0050"
    assert listening._proc_address(six, socket.AF_INET6) == ("::1", 80)


# -- process scans and exit waits ----------------------------------------------------------------


@pytest.mark.skipif(not LINUX, reason="/proc is Linux's")
def test_proc_scans_find_the_session_its_descendants_and_marked_daemons() -> None:
    script = (
        "import os, subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])\n"
        "daemon = 'import os, time; os.setsid(); print(flush=True); time.sleep(30)'\n"
        "left = subprocess.Popen([sys.executable, '-c', daemon], stdout=subprocess.PIPE)\n"
        "left.stdout.readline()  # it has left the session\n"
        "print('up', flush=True); time.sleep(30)\n"
    )
    leader = spawn([sys.executable, "-c", script])
    token = REGISTRY.token_of(leader.pid)
    try:
        assert leader.stdout is not None
        assert leader.stdout.readline().strip() == b"up"
        deadline = time.monotonic() + 10
        while len(alive_members(leader.pid, token, deep=True)) < 3:
            assert time.monotonic() < deadline, "the children never showed up"
            time.sleep(0.01)
        listed = proctable.pids()
        assert listed is not None
        table = proctable.read(listed)
        children = proctable.descendants(table, leader.pid)
        in_session = proctable.in_session(listed, leader.pid)
        assert len(children) == 2 and leader.pid in in_session
        assert len(in_session - {leader.pid}) == 1  # the other left with setsid
        assert proctable.marked_pids(listed, [(SPAWN_ENV, str(token))]) == {leader.pid} | children
        assert {p.pid for p in alive_members(leader.pid, token, deep=True)} == (
            {leader.pid} | children
        )
    finally:
        kill_tree(leader.pid, token)
        leader.wait(5)
        REGISTRY.discard(leader)
    assert not alive_members(leader.pid, token, deep=True)


def test_wait_exit_wakes_at_the_exit_and_bounds_the_wait() -> None:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.2)"])
    started = time.monotonic()
    assert not wait_exit(process, 0.01)
    assert wait_exit(process, 10)
    assert time.monotonic() - started < 5
    assert process.returncode == 0
    assert wait_exit(process, 0)  # reaped already: answers at once


# -- httpx for synchronous use ---------------------------------------------------------------


def test_httpx_is_imported_without_its_cli_and_async_backends_and_leaves_them_importable() -> None:
    code = (
        "import sys\n"
        "from harness import httpx_import\n"
        "httpx_import.load()\n"
        "import httpx\n"
        "httpx.Client().close()\n"
        "skipped = ('httpx._main', 'trio', 'anyio')\n"
        "print(sorted(m for m in skipped if m in sys.modules))\n"
        "for name in ('trio', 'anyio'):\n"
        "    try:\n"
        "        __import__(name)\n"
        "    except ModuleNotFoundError:\n"
        "        pass  # not installed: nothing to leave importable\n"
    )
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr  # an ImportError: a mark was left behind
    assert done.stdout.strip() == "[]"
