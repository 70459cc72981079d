"""Slow and idle clients are cut off (issue 16): real uvicorn on loopback, raw sockets.

Before the deadlines, each of these connections stayed open for 30 s and more, so a few hundred of
them stalled the server.
"""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("fastapi")
sys.path.insert(0, str(Path(__file__).parent))
from server_helpers import load_engine, served  # noqa: E402

DEADLINE = 0.5


@pytest.fixture(scope="module")
def engine(tiny_model_dir: Path) -> Any:
    return load_engine(tiny_model_dir)


def _connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def _closed_after(sock: socket.socket) -> tuple[float, bytes]:
    """Seconds until the server closes the connection, and what it sent before."""
    start = time.monotonic()
    received = b""
    sock.settimeout(10)
    while chunk := sock.recv(4096):
        received += chunk
    return time.monotonic() - start, received


def test_idle_and_slow_header_connections_are_closed(engine: Any) -> None:
    with served(engine, header_timeout_s=DEADLINE, body_timeout_s=DEADLINE) as base:
        idle = _connect(base)  # says nothing at all
        slow = _connect(base)
        slow.sendall(b"POST /generate HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # headers never finish
        for sock in (idle, slow):
            seconds, _ = _closed_after(sock)
            assert seconds < 5, seconds
            sock.close()
        assert httpx.get(base + "/health", timeout=10).status_code == 200


def test_a_slow_body_gets_408_and_the_connection_closes(engine: Any) -> None:
    with served(engine, header_timeout_s=DEADLINE, body_timeout_s=DEADLINE) as base:
        sock = _connect(base)
        head = (
            b"POST /generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n"
        )
        sock.sendall(head + b'{"request": ')  # then nothing
        seconds, received = _closed_after(sock)
        sock.close()
        assert seconds < 5 and received.startswith(b"HTTP/1.1 408"), received[:200]
        assert b"did not arrive within 0.5 s" in received


def test_a_keep_alive_connection_gets_a_new_header_deadline(engine: Any) -> None:
    with served(engine, header_timeout_s=DEADLINE, body_timeout_s=DEADLINE) as base:
        sock = _connect(base)
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        sock.settimeout(10)
        first = sock.recv(4096)
        assert first.startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /health HTTP/1.1\r\n")  # the next request's headers stall
        seconds, _ = _closed_after(sock)
        sock.close()
        assert seconds < 5


def test_timeouts_must_be_positive() -> None:
    from bash_ai.errors import UsageError
    from bash_ai.server.limits import ServerLimits

    with pytest.raises(UsageError, match="header timeout"):
        ServerLimits(header_timeout_s=0)
    with pytest.raises(UsageError, match="body timeout"):
        ServerLimits(body_timeout_s=-1)
