"""``bash-ai serve`` as a user runs it: a real process, a real port, real signals."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

SERVING = re.compile(r"serving (\S+) on (http://\S+?) ")


@contextmanager
def serve_process(*args: str, env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen[str], str, str]]:
    """Start ``bash-ai serve --port 0 ARGS``; yields (process, model id, base URL) once it listens.

    The stderr lines up to the "serving" line are kept in ``process.preamble``.
    """
    cmd = [sys.executable, "-m", "bash_ai", "serve", "--port", "0", *args]
    env = {**os.environ, **(env or {})}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stderr is not None
        seen = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            seen.append(line)
            match = SERVING.search(line)
            if match:
                proc.preamble = "".join(seen)  # type: ignore[attr-defined]
                yield proc, match.group(1), match.group(2)
                break
            if not line and proc.poll() is not None:
                pytest.fail("serve exited early: " + "".join(seen))
        else:
            pytest.fail("serve did not start: " + "".join(seen))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def run_serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "bash_ai", "serve", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})})


def test_serve_answers_then_stops_cleanly_on_ctrl_c(tiny_model_dir: Path) -> None:
    with serve_process("--model", str(tiny_model_dir)) as (proc, model_id, url):
        assert url.startswith("http://127.0.0.1:")
        models = httpx.get(url + "/v1/models", timeout=10).json()
        assert [m["id"] for m in models["data"]] == [model_id] == [tiny_model_dir.name]
        r = httpx.post(url + "/generate", json={"request": "list files", "max_tokens": 8}, timeout=30)
        assert r.status_code == 200 and r.json()["candidates"]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 130  # graceful shutdown, then the shell's convention for Ctrl-C
        assert proc.stderr is not None
        rest = proc.stderr.read()
        assert "Traceback" not in rest and "Finished server process" in rest
        assert '"POST /generate HTTP/1.1" 200' in rest  # the access log goes to stderr...
        assert proc.stdout is not None and proc.stdout.read() == ""  # ...and stdout stays empty


def test_serve_uses_the_bundled_model_by_default() -> None:
    with serve_process() as (_, model_id, url):
        assert model_id == "bash-ai"
        r = httpx.post(url + "/v1/completions", json={"prompt": "list files", "max_tokens": 8}, timeout=30)
        assert r.status_code == 200 and r.json()["model"] == "bash-ai"


def test_api_key_from_the_environment(tiny_model_dir: Path) -> None:
    env = {"BASH_AI_API_KEY": "k-123"}
    with serve_process("--model", str(tiny_model_dir), env=env) as (_, _, url):
        assert httpx.get(url + "/v1/models").status_code == 401
        assert httpx.get(url + "/v1/models", headers={"Authorization": "Bearer k-123"}).status_code == 200
        # Bound to loopback: a request naming another host (DNS rebinding) is refused.
        assert httpx.get(url + "/health", headers={"Host": "evil.example"}).status_code == 400


def test_all_interfaces_warns(tiny_model_dir: Path) -> None:
    with serve_process("--host", "0.0.0.0", "--model", str(tiny_model_dir)) as (proc, _, url):
        port = int(url.rsplit(":", 1)[1])
        assert httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200
        # Exposed on purpose: requests for the machine's other names are served.
        assert httpx.get(f"http://127.0.0.1:{port}/health", headers={"Host": "box.lan"}).status_code == 200
        warning = proc.preamble  # type: ignore[attr-defined]
        assert "reachable from other machines" in warning and "NO API key" in warning
    with serve_process("--model", str(tiny_model_dir)) as (proc, _, _):
        assert "warning" not in proc.preamble  # type: ignore[attr-defined]


def test_port_in_use_is_one_line(tiny_model_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_serve("--port", str(port), "--model", str(tiny_model_dir))
    assert done.returncode != 0
    assert done.stderr.count("\n") == 1 and f"cannot listen on 127.0.0.1:{port}" in done.stderr


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["--model", "/no/such/model"], 3, "/no/such/model"),
        (["--port", "70000"], 2, "port must be 0..65535"),
        (["--api-key-env", "BASH_AI_TEST_UNSET_VAR"], 2, "BASH_AI_TEST_UNSET_VAR"),
        (["--timeout", "0"], 2, "timeout"),
        (["--queue", "-1"], 2, "queue"),
        (["--host", "no such host"], 2, "cannot resolve host"),
    ],
)
def test_bad_options_are_one_line(args: list[str], code: int, needle: str) -> None:
    done = run_serve("--port", "0", *args)
    assert done.returncode == code, done.stderr
    assert done.stderr.count("\n") == 1 and needle in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_missing_serve_extra_is_one_actionable_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli_run import run_cli

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if not installed: find_spec gives None
    run = run_cli(["serve", "--port", "0"], capsys, monkeypatch=monkeypatch)
    assert run.code == 1 and run.out == ""
    assert run.err.strip() == "bash-ai: error: the HTTP server needs uvicorn: pip install 'bash-ai[serve]'"
