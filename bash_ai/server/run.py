"""Running the app under uvicorn: in the foreground (``bash-ai serve``) or on a background thread
(tests, benchmarks).

We bind the listening socket ourselves: a port in use becomes one clear error instead of uvicorn's
log line and ``sys.exit``, and port 0 gives a free port whose number we know before serving.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from typing import Any

from bash_ai.errors import BashAIError, UsageError

# uvicorn's own backstop on open connections + tasks (it answers 503 beyond it); the generation
# pool's much smaller bound is what normally turns requests away.
MAX_CONNECTIONS = 512


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``BashAIError`` with the reason when it fails)."""
    if not 0 <= port <= 65535:
        raise UsageError(f"port must be 0..65535 (got {port})")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as err:
        raise UsageError(f"cannot resolve host {host!r}: {err.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as err:
        sock.close()
        raise BashAIError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
    sock.set_inheritable(True)
    return sock


def _header_deadline_protocol(seconds: float) -> type:
    """uvicorn's h11 protocol, closing a connection whose request line and headers are not all in
    ``seconds`` after it opened or after its previous response (uvicorn has no such timeout)."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderDeadline(H11Protocol):
        _deadline: Any = None

        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def handle_events(self) -> None:
            super().handle_events()
            if self.conn.their_state is not h11.IDLE:  # the headers are in: the body has its own deadline
                self._disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(seconds, self._expire)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expire(self) -> None:
            self._deadline = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

    return HeaderDeadline


def make_server(app: Any, log_level: str = "info", access_log: bool = True) -> Any:
    import copy

    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    # uvicorn writes its access log to stdout by default; like every bash-ai command, the server
    # keeps stdout clean and logs to stderr.
    log_config = copy.deepcopy(LOGGING_CONFIG)
    for handler in log_config["handlers"].values():
        handler["stream"] = "ext://sys.stderr"
    config = uvicorn.Config(
        app,
        log_config=log_config,
        log_level=log_level,
        access_log=access_log,
        limit_concurrency=MAX_CONNECTIONS,
        timeout_keep_alive=5,
        http=_header_deadline_protocol(_limits_of(app).header_timeout_s),
        server_header=False,
        lifespan="on",
    )
    return _server_class()(config)


def _server_class() -> type:
    import signal

    import uvicorn

    class Server(uvicorn.Server):  # type: ignore[misc]
        """Remembers a Ctrl-C: uvicorn re-raises it after shutting down, but asyncio.run can swallow
        that re-raise when the serve task ends first (a race seen under load), exiting 0."""

        interrupted = False

        def handle_exit(self, sig: int, frame: Any) -> None:
            if sig == signal.SIGINT:
                self.interrupted = True
            super().handle_exit(sig, frame)

    return Server


def _limits_of(app: Any) -> Any:
    """The app's ``ServerLimits`` (``create_app`` keeps them in its state), else the defaults."""
    from bash_ai.server.limits import ServerLimits

    state = getattr(getattr(app, "state", None), "bash_ai", None)
    return getattr(state, "limits", None) or ServerLimits()


def serve_forever(app: Any, sock: socket.socket, log_level: str = "info", access_log: bool = True) -> None:
    """Serve until Ctrl-C / SIGTERM (uvicorn handles both and shuts down gracefully)."""
    server = make_server(app, log_level=log_level, access_log=access_log)
    server.run(sockets=[sock])
    if server.interrupted:  # stopped by Ctrl-C: the CLI exits 130, whatever asyncio did with it
        raise KeyboardInterrupt


class BackgroundServer:
    """The app served by real uvicorn on a background thread, on a free loopback port.

    ``with BackgroundServer(app) as srv: httpx.get(srv.url + "/health")``.
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning") -> None:
        self.sock = bind(host, port)
        self.host, self.port = self.sock.getsockname()[:2]
        self.url = f"http://{self.host}:{self.port}"
        self.server = make_server(app, log_level=log_level, access_log=False)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the background server did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        self.sock.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
