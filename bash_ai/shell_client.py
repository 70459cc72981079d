"""The fish key's way to a running ``bash-ai shell-helper``: fish has no TCP of its own.

Run as a script with ``python -S -I`` (no site, no bash_ai import: ~15 ms), so it stays a small
fraction of the key press. The same one-line protocol as the bash and zsh snippets::

    -> TOKEN BASE64(line)\\n
    <- OK BASE64(new line) BASE64(notes)\\n   or   ERR BASE64(message) -\\n

Exit 0: the new line on stdout (notes on stderr); 1: no helper (the caller falls back to the
cold path); 2: the helper answered with an error (on stderr; the caller keeps the user's line).

    python -S -I shell_client.py HELPER_FILE -- LINE
"""

from __future__ import annotations

import base64
import socket
import sys

ABSENT, FAILED = 1, 2
TIMEOUT_S = 10.0


def _decode(field: str) -> str:
    return "" if field == "-" else base64.b64decode(field).decode("utf-8", "replace")


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] != "--":
        sys.stderr.write("usage: shell_client.py HELPER_FILE -- LINE\n")
        return FAILED
    helper, line = argv[0], argv[2]
    try:
        with open(helper, encoding="ascii") as handle:
            port_text, token = handle.read().split()
        port = int(port_text)
    except (OSError, ValueError):
        return ABSENT
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S) as conn:
            payload = base64.b64encode(line.encode("utf-8")).decode("ascii") or "-"
            conn.sendall(f"{token} {payload}\n".encode("ascii"))
            with conn.makefile("rb") as stream:
                reply = stream.readline(1 << 20).decode("ascii", "replace").split()
    except OSError:
        return ABSENT
    if len(reply) != 3 or reply[0] not in ("OK", "ERR"):
        return ABSENT  # not our helper (a stale file whose port someone else took)
    status, body, notes = reply
    if notes != "-" and _decode(notes):
        sys.stderr.write(_decode(notes) + "\n")
    if status == "ERR":
        sys.stderr.write(_decode(body) + "\n")
        return FAILED
    sys.stdout.write(_decode(body))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
