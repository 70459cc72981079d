"""One persistent bash process per REPL session, so lines behave as in a shell.

Variables, ``export``, functions, aliases, ``source``, ``cd -`` and ``$?`` carry over from line
to line. bash reads its commands from a pipe of ours (``/dev/fd/N``) while its stdin, stdout and stderr
stay on the terminal, so interactive programs work; after each line it writes the line's exit
status to a second pipe. Each line is sent base64-encoded and run with ``eval``, so a
syntax error fails that line only. Ctrl-C reaches the running command (same process group) and
bash, which traps it and carries on; the REPL waits for the status and stays.
"""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import subprocess
import threading
from typing import IO

# Run by bash once: no history or job-control surprises, aliases usable, Ctrl-C not fatal to it.
_PRELUDE = "shopt -s expand_aliases\ntrap ':' INT\n"
# Decode first, then restore the previous line's status, so ``$?`` in the line is that status.
_STEP = (
    '__bash_ai_line="$(printf %s {payload} | base64 -d)"; (exit "${{__bash_ai_status:-0}}"); eval "$__bash_ai_line"\n'
    '__bash_ai_status=$?; printf "%s\\n" "$__bash_ai_status" >&{status_fd}\n'
)


class ShellExited(Exception):
    """The session's bash is gone (``exit`` was run, or it was killed)."""


class Shell:
    def __init__(self, bash: str = "bash") -> None:
        commands_r, commands_w = os.pipe()
        status_r, status_w = os.pipe()
        self._proc = subprocess.Popen(
            [bash, "--noprofile", "--norc", f"/dev/fd/{commands_r}"], pass_fds=(commands_r, status_w)
        )
        self._status_fd = status_w
        os.close(commands_r)
        os.close(status_w)
        self._commands: IO[bytes] = os.fdopen(commands_w, "wb", buffering=0)
        self._status: IO[bytes] = os.fdopen(status_r, "rb", buffering=0)
        self._pending = b""
        self._commands.write(_PRELUDE.encode())

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    def run(self, line: str) -> int:
        """Run ``line`` in the session's bash, in the foreground; its exit status."""
        payload = base64.b64encode(line.encode("utf-8")).decode("ascii")
        try:
            self._commands.write(_STEP.format(payload=payload, status_fd=self._status_fd).encode())
        except (BrokenPipeError, ValueError):
            raise ShellExited("the shell has exited") from None
        # Ctrl-C goes to the command (same process group); we only wait for bash to report. A
        # handler that does nothing keeps Python from raising in the middle of a read.
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, lambda *_: None) if main else None
        try:
            status = self._read_status()
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        if status is None:
            raise ShellExited("the shell has exited")
        return status

    def _read_status(self) -> int | None:
        while not self._pending.endswith(b"\n"):
            chunk = self._status.read(1)
            if not chunk:
                return None
            self._pending += chunk
        data, self._pending = self._pending, b""
        return int(data.strip() or b"1")

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._commands.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout=2)
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        with contextlib.suppress(OSError, ValueError):
            self._status.close()
