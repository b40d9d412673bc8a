"""Reproduce one harness cell without the harness: start, probe, stop, match.

This file is copied verbatim into every repro script (after a `SPEC = {...}`
line), so it is standard library only and runs on Python 3.7+: a maintainer
runs it in the cell's virtual environment, where it starts the server with the
cell's command, waits for it the way the harness does (the ready line, then a
connect), sends the same requests, stops it with Ctrl-C, checks what the
scenario checks, and says which known failure signature the output matches.
Exit code: 0 every check held, 1 a check failed (the failure shows), 2 the
reproduction itself could not run.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _render(template: str, values: dict[str, str]) -> str:
    return template.format_map(values)


class _Output:
    """The server's output, echoed as it arrives and kept for the checks."""

    def __init__(self, stream: Any) -> None:
        self.lines: list[str] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream: Any) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            with self.lock:
                self.lines.append(line)
            print("| " + line, flush=True)

    def text(self) -> str:
        with self.lock:
            return "\n".join(self.lines)


def _command(spec: dict[str, Any], values: dict[str, str]) -> list[str]:
    head, rest = spec["command"][0], spec["command"][1:]
    if head == "python":
        prefix = [sys.executable]
    elif importlib.util.find_spec("uvicorn.__main__") is not None:
        prefix = [sys.executable, "-m", "uvicorn"]
    else:  # releases before 0.9 have no __main__: their console script
        prefix = [os.path.join(os.path.dirname(sys.executable), "uvicorn")]
    return prefix + [_render(token, values) for token in rest]


def _wait_ready(
    proc: subprocess.Popen[bytes], out: _Output, spec: dict[str, Any], host: str, port: int
) -> tuple[str | None, int]:
    deadline = time.monotonic() + float(spec["ready_s"])
    ready = re.compile(spec["ready"]) if spec.get("ready") else None
    seen = ready is None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"exited with code {proc.returncode} before it was ready", port
        if not seen and ready is not None:
            match = ready.search(out.text())
            if match is not None:
                seen = True
                groups = match.groupdict()
                if spec["port"] == 0 and groups.get("port"):
                    port = int(groups["port"])
        if seen:
            try:
                with socket.create_connection((host, port), timeout=1):
                    return None, port
            except OSError:
                pass
        time.sleep(0.05)
    return f"not ready within {spec['ready_s']}s", port


def _http(probe: dict[str, Any], host: str, port: int, timeout: float) -> tuple[bool, str]:
    if probe.get("wait_s"):
        time.sleep(float(probe["wait_s"]))
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        body = probe.get("request_body")
        connection.request(
            probe["method"],
            probe["path"],
            body=body.encode() if body is not None else None,
            headers=probe.get("request_headers") or {},
        )
        response = connection.getresponse()
        received = response.read(1024 * 1024)
    except (OSError, http.client.HTTPException) as exc:
        return False, f"no complete response: {exc!r}"
    finally:
        connection.close()
    text = received.decode("utf-8", "replace")
    problems = []
    if probe.get("status") is not None and response.status != probe["status"]:
        problems.append(f"status {response.status}, wanted {probe['status']}")
    if probe.get("body") is not None and text != probe["body"]:
        problems.append(f"body {text[:80]!r}, wanted {probe['body'][:80]!r}")
    if probe.get("body_contains") is not None and probe["body_contains"] not in text:
        problems.append(f"body lacks {probe['body_contains'][:80]!r}")
    for name, value in (probe.get("headers") or {}).items():
        if response.getheader(name) != value:
            problems.append(f"header {name}: {response.getheader(name)!r}, wanted {value!r}")
    for name in probe.get("absent_headers") or ():
        if response.getheader(name) is not None:
            problems.append(f"header {name} present")
    if probe.get("json") is not None:
        try:
            data = json.loads(text)
            missing = [k for k, v in probe["json"].items() if data.get(k) != v]
        except (ValueError, AttributeError):
            missing = ["(not a JSON object)"]
        if missing:
            problems.append("JSON differs at " + ", ".join(missing))
    return not problems, "; ".join(problems) or f"status {response.status}, {len(received)} bytes"


def _log(check: dict[str, Any], output: str) -> tuple[bool, str]:
    pattern = re.compile(check["pattern"], re.MULTILINE)
    matches = list(pattern.finditer(output))
    problems = []
    if check.get("min_count") is not None and len(matches) < check["min_count"]:
        problems.append(f"{len(matches)} match(es), wanted at least {check['min_count']}")
    if check.get("max_count") is not None and len(matches) > check["max_count"]:
        problems.append(f"{len(matches)} match(es), wanted at most {check['max_count']}")
    if check.get("distinct_min") is not None:
        distinct = {m.group(1) if m.groups() else m.group(0) for m in matches}
        if len(distinct) < check["distinct_min"]:
            problems.append(f"{len(distinct)} distinct, wanted {check['distinct_min']}")
    return not problems, "; ".join(problems) or f"{len(matches)} match(es)"


def _stop(proc: subprocess.Popen[bytes], spec: dict[str, Any]) -> str:
    exit_spec = spec["exit"]
    if proc.poll() is not None:
        return f"exited by itself with code {proc.returncode} before the stop signal"
    if exit_spec["signal"] != "none":
        if os.name == "nt":
            proc.send_signal(signal.CTRL_BREAK_EVENT)  # type: ignore[attr-defined]
        else:
            number = getattr(signal, exit_spec["signal"])
            if exit_spec.get("target") == "parent":
                os.kill(proc.pid, number)
            else:
                os.killpg(proc.pid, number)
    try:
        proc.wait(timeout=float(exit_spec["within_s"]))
        return f"exited with code {proc.returncode} after {exit_spec['signal']}"
    except subprocess.TimeoutExpired:
        proc.kill() if os.name == "nt" else os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        return f"did not stop within {exit_spec['within_s']}s: killed"


def main(spec: dict[str, Any]) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    app_dir, workdir = os.path.join(here, "app"), os.path.join(here, "work")
    os.makedirs(workdir, exist_ok=True)
    host = spec["host"]
    port = spec["port"] if spec["port"] is not None else _free_port(host)
    values = {
        "app": spec["app"],
        "app_dir": app_dir,
        "host": host,
        "port": str(port),
        "python": sys.executable,
        "workdir": workdir,
        **spec["axes"],
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update({"PYTHONPATH": app_dir, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"})
    env.update({k: _render(v, values) for k, v in spec["env"].items()})
    argv = _command(spec, values)
    print("== server: " + " ".join(argv), flush=True)
    options: dict[str, Any] = {"start_new_session": True}
    if os.name == "nt":
        options = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=workdir,
        stdin=subprocess.DEVNULL,
        **options,
    )
    out = _Output(proc.stdout)
    results: list[tuple[str, bool, str]] = []
    problem, port = _wait_ready(proc, out, spec, host, port)
    results.append(("ready", problem is None, problem or f"serving on {host}:{port}"))
    for probe in spec["http"]:
        if problem is None:
            ok, detail = _http(probe, host, port, float(spec["probe_s"]))
        else:
            ok, detail = False, "not sent: the server was not ready"
        results.append((f"http {probe['method']} {probe['path']}", ok, detail))
    deadline = time.monotonic() + float(spec["log_s"])
    while spec["logs"] and time.monotonic() < deadline and proc.poll() is None:
        if all(_log(check, out.text())[0] for check in spec["logs"]):
            break
        time.sleep(0.1)
    logs = [
        (f"log: {c['description'] or c['pattern']}", *_log(c, out.text())) for c in spec["logs"]
    ]
    stopped = _stop(proc, spec)
    out.thread.join(timeout=5)
    codes = spec["exit"]["codes"]
    exit_ok = (
        "before the stop signal" not in stopped
        and "killed" not in stopped
        and (not codes or proc.returncode in codes)
    )
    results += [*logs, ("exit", exit_ok, stopped)]
    output = out.text()
    for name, ok, detail in results:
        print(f"== {'ok' if ok else 'FAILED'} {name}: {detail}", flush=True)
    matched = None
    for signature in spec["signatures"]:
        found = re.search(signature["pattern"], output) if signature["pattern"] else None
        if found is not None:
            end = max(found.start(), found.end() - 1)
            line = output[output.rfind("\n", 0, end) + 1 :].split("\n", 1)[0]
            print(f"== signature {signature['id']} MATCHED: {line.strip()[:300]}", flush=True)
            matched = matched or signature["id"]
        else:
            print(f"== signature {signature['id']}: not in the output", flush=True)
    for note in spec["not_replicated"]:
        print(f"== not replicated here (the harness checked it): {note}", flush=True)
    failed = [name for name, ok, _ in results if not ok]
    harness = spec["harness_saw"]
    if failed:
        what = f"known failure {matched}" if matched else "a failure no signature names"
        print(f"== result: FAILS ({', '.join(failed)}): {what}; the harness saw: {harness}")
        return 1
    print(f"== result: every check held; the harness saw: {harness}")
    return 0


if __name__ == "__main__":
    sys.exit(main(globals()["SPEC"]))
