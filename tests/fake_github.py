"""A loopback HTTP server posing as the GitHub REST API, for ``bash-ai data fetch github`` tests.

It speaks the response shapes the scraper relies on (as documented for API version 2022-11-28):

- ``GET /search/repositories?q=&sort=&order=&per_page=&page=``: ``total_count``,
  ``incomplete_results``, ``items`` (repo objects), and a ``Link`` header with ``rel="next"``/``"last"``;
  the ``stars:>=N`` and ``license:X`` qualifiers filter.
- ``GET /repos/{o}/{r}``: ``full_name``, ``default_branch``, ``html_url``, ``license.spdx_id``/``key``.
- ``GET /repos/{o}/{r}/branches/{b}``: ``commit.sha`` and ``commit.commit.tree.sha``.
- ``GET /repos/{o}/{r}/git/trees/{sha}[?recursive=1]``: ``tree`` entries (path, mode, type, sha, size)
  and ``truncated`` (a repo may be told to answer its recursive tree truncated).
- ``GET /repos/{o}/{r}/git/blobs/{sha}``: ``content`` in base64 with GitHub's line breaks.

Every answer carries ``X-RateLimit-*`` headers and an ``ETag``; ``If-None-Match`` gets a 304.
Faults are scripted per path regex (``fail``): secondary limits, 429, 5xx, slow answers, truncated
bodies, malformed JSON, exhausted limits, redirects, and an error that echoes the Authorization header.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class FakeFile:
    path: str
    data: bytes
    mode: str = "100644"


@dataclass
class FakeRepo:
    full_name: str
    licence: str | None  # SPDX id ("MIT"); None: no licence detected
    stars: int = 100
    files: list[FakeFile] = field(default_factory=list)
    default_branch: str = "main"
    truncated: bool = False  # answer the recursive tree as truncated, so the client walks it level by level

    @property
    def commit(self) -> str:
        return hashlib.sha1(f"commit {self.full_name} {self._listing()}".encode()).hexdigest()

    def _listing(self) -> str:
        return " ".join(f"{f.mode}:{f.path}:{git_blob_id(f.data)}" for f in self.files)

    def tree_id(self, folder: str) -> str:
        return hashlib.sha1(f"tree {self.full_name} {folder} {self._listing()}".encode()).hexdigest()

    def blob(self, sha: str) -> bytes | None:
        return next((f.data for f in self.files if git_blob_id(f.data) == sha), None)

    def folder_of(self, sha: str) -> str | None:
        folders = {""} | {"/".join(f.path.split("/")[:i]) for f in self.files for i in range(1, f.path.count("/") + 1)}
        return next((d for d in folders if self.tree_id(d) == sha), None)

    def entries(self, folder: str | None, recursive: bool) -> list[dict[str, Any]]:
        """Recursive: every file (paths as given, hostile ones too) plus folders; else one level."""
        out: list[dict[str, Any]] = []
        dirs: set[str] = set()
        for f in self.files:
            if recursive or folder == "" and "/" not in f.path:
                rel = f.path
            elif folder and f.path.startswith(folder + "/") and "/" not in f.path[len(folder) + 1 :]:
                rel = f.path[len(folder) + 1 :]
            else:
                prefix = f"{folder}/" if folder else ""
                if f.path.startswith(prefix) and f.path.count("/") > prefix.count("/"):
                    dirs.add(f.path[len(prefix) :].split("/")[0])
                continue
            sha = git_blob_id(f.data)
            entry_type = "commit" if f.mode == "160000" else "blob"
            out.append({"path": rel, "mode": f.mode, "type": entry_type, "sha": sha, "size": len(f.data)})
        for name in sorted(dirs):
            full = f"{folder}/{name}" if folder else name
            out.append({"path": name, "mode": "040000", "type": "tree", "sha": self.tree_id(full)})
        return out

    def as_json(self, base: str) -> dict[str, Any]:
        owner, name = self.full_name.split("/", 1) if "/" in self.full_name else (self.full_name, "")
        licence = None
        if self.licence:
            licence = {"key": self.licence.lower(), "name": self.licence, "spdx_id": self.licence, "url": None}
        return {
            "id": int(hashlib.sha1(self.full_name.encode()).hexdigest()[:8], 16),
            "name": name,
            "full_name": self.full_name,
            "owner": {"login": owner, "type": "User"},
            "private": False,
            "fork": False,
            "html_url": f"https://github.example/{self.full_name}",
            "url": f"{base}/repos/{self.full_name}",
            "default_branch": self.default_branch,
            "stargazers_count": self.stars,
            "language": "Shell",
            "license": licence,
        }


@dataclass
class Fault:
    pattern: re.Pattern[str]
    kind: str
    times: int
    options: dict[str, Any]


@dataclass
class Seen:
    path: str  # with the query string
    headers: dict[str, str]
    status: int = 0


class FakeGitHub:
    """``with FakeGitHub(repos) as gh:`` serves on ``gh.url``; ``gh.seen`` lists every request."""

    def __init__(self, repos: list[FakeRepo], *, token: str | None = None) -> None:
        self.repos = {r.full_name: r for r in repos}
        self.order = list(repos)
        self.token = token
        self.seen: list[Seen] = []
        self.faults: list[Fault] = []
        self.delays: list[tuple[re.Pattern[str], float]] = []
        self.remaining = {"core": 5000, "search": 30}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._server.handle_error = _ignore_error  # type: ignore[method-assign,assignment]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> FakeGitHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def fail(self, pattern: str, kind: str, times: int = 1, **options: Any) -> None:
        """Answer the next ``times`` requests whose path (with query) matches ``pattern`` with a fault."""
        with self._lock:
            self.faults.append(Fault(re.compile(pattern), kind, times, options))

    def delay(self, pattern: str, seconds: float) -> None:
        """Answer every matching request correctly, but only after ``seconds``."""
        with self._lock:
            self.delays.append((re.compile(pattern), seconds))

    def requests_to(self, pattern: str) -> list[Seen]:
        regex = re.compile(pattern)
        with self._lock:
            return [s for s in self.seen if regex.search(s.path)]

    def take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.pattern.search(path):
                    fault.times -= 1
                    return fault
        return None

    def route(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        """(status, JSON body, extra headers) for a correct answer."""
        if path == "/search/repositories":
            return self._search(query, path)
        match = re.fullmatch(r"/repos/([^/]+)/([^/]+)(/.*)?", path)
        repo = self.repos.get(f"{unquote(match[1])}/{unquote(match[2])}") if match else None
        if match is None or repo is None:
            return 404, {"message": "Not Found"}, {}
        rest = match[3] or ""
        if rest == "":
            return 200, repo.as_json(self.url), {}
        if rest == f"/branches/{repo.default_branch}":
            tree = {"sha": repo.tree_id("")}
            return 200, {"name": repo.default_branch, "commit": {"sha": repo.commit, "commit": {"tree": tree}}}, {}
        tree_match = re.fullmatch(r"/git/trees/([0-9a-f]+)", rest)
        if tree_match:
            folder = repo.folder_of(tree_match[1])
            if folder is None:
                return 404, {"message": "Not Found"}, {}
            recursive = query.get("recursive", [""])[0] not in ("", "0", "false")
            entries = repo.entries(folder, recursive)
            truncated = recursive and repo.truncated
            if truncated:
                entries = entries[:1]
            return 200, {"sha": tree_match[1], "url": "", "tree": entries, "truncated": truncated}, {}
        blob_match = re.fullmatch(r"/git/blobs/([0-9a-f]+)", rest)
        data = repo.blob(blob_match[1]) if blob_match else None
        if blob_match and data is not None:
            text = base64.encodebytes(data).decode("ascii")  # 76-char lines, like GitHub's answers
            return 200, {"sha": blob_match[1], "size": len(data), "content": text, "encoding": "base64"}, {}
        return 404, {"message": "Not Found"}, {}

    def _search(self, query: dict[str, list[str]], path: str) -> tuple[int, Any, dict[str, str]]:
        q = query.get("q", [""])[0]
        stars = re.search(r"stars:>=(\d+)", q)
        licence = re.search(r"license:(\S+)", q)
        hits = [
            r
            for r in sorted(self.order, key=lambda r: (-r.stars, r.full_name))
            if (stars is None or r.stars >= int(stars[1]))
            and (licence is None or (r.licence or "").lower() == licence[1].lower())
        ]
        per_page = int(query.get("per_page", ["30"])[0])
        page = int(query.get("page", ["1"])[0])
        last = max(1, -(-len(hits) // per_page))
        items = [r.as_json(self.url) for r in hits[(page - 1) * per_page : page * per_page]]
        links = []
        for rel, number in (("next", page + 1), ("last", last)):
            if page < last:
                params = {k: v[0] for k, v in query.items()} | {"page": str(number)}
                links.append(f'<{self.url}{path}?{urlencode(params)}>; rel="{rel}"')
        headers = {"Link": ", ".join(links)} if links else {}
        return 200, {"total_count": len(hits), "incomplete_results": False, "items": items}, headers


def _ignore_error(request: object, client_address: object) -> None:
    """A client that gave up (a timeout test) breaks the pipe; that is expected, not worth a traceback."""


def _handler(gh: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return None

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            parts = urlsplit(self.path)
            seen = Seen(self.path, {k: v for k, v in self.headers.items()})
            with gh._lock:
                gh.seen.append(seen)
            resource = "search" if parts.path.startswith("/search/") else "core"
            auth = self.headers.get("Authorization")
            if gh.token is not None and auth is not None and auth != f"Bearer {gh.token}":
                return self._send(seen, 401, {"message": "Bad credentials"}, {}, resource)
            for pattern, seconds in list(gh.delays):
                if pattern.search(self.path):
                    time.sleep(seconds)
            fault = gh.take_fault(self.path)
            if fault is not None and self._fault(seen, fault, resource):
                return
            status, body, headers = gh.route(parts.path, parse_qs(parts.query))
            if fault is not None and fault.kind == "exhausted":
                headers |= {
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(int(time.time() + fault.options.get("reset_in", 120))),
                }
            self._send(seen, status, body, headers, resource)

        def _fault(self, seen: Seen, fault: Fault, resource: str) -> bool:
            """Answer with the fault; False for faults that only change a correct answer."""
            kind, opts = fault.kind, fault.options
            if kind == "secondary":
                retry = {"Retry-After": str(opts["retry_after"])} if opts.get("retry_after") is not None else {}
                message = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
                self._send(seen, 403, {"message": message}, retry, resource)
            elif kind == "429":
                self._send(
                    seen,
                    429,
                    {"message": "Too Many Requests"},
                    {"Retry-After": str(opts.get("retry_after", 3))},
                    resource,
                )
            elif kind == "status":
                self._send(
                    seen, opts.get("status", 500), {"message": opts.get("message", "Server Error")}, {}, resource
                )
            elif kind == "ratelimit":
                reset = str(int(time.time() + opts.get("reset_in", 60)))
                headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
                self._send(seen, 403, {"message": "API rate limit exceeded for 127.0.0.1."}, headers, resource)
            elif kind == "slow":
                time.sleep(opts.get("seconds", 1.0))
                return False
            elif kind == "truncate":
                body = b'{"total_count": 1, "items": ['
                seen.status = 200
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body) + 500))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                self.close_connection = True
            elif kind == "malformed":
                self._raw(seen, 200, b'{"items": [{"full_name": "x/y",', {})
            elif kind == "echo_auth":
                echoed = f"boom; you sent Authorization: {self.headers.get('Authorization')}"
                self._send(seen, opts.get("status", 500), {"message": echoed}, {}, resource)
            elif kind == "redirect":
                self._raw(seen, 307, b"", {"Location": opts["location"]})
            else:
                return False
            return True

        def _send(self, seen: Seen, status: int, body: Any, headers: dict[str, str], resource: str) -> None:
            data = json.dumps(body).encode()
            etag = f'W/"{hashlib.sha256(data).hexdigest()[:32]}"'
            with gh._lock:
                if status != 304:
                    gh.remaining[resource] = max(0, gh.remaining[resource] - 1)
                limit = {
                    "X-RateLimit-Limit": "5000" if resource == "core" else "30",
                    "X-RateLimit-Remaining": str(gh.remaining[resource]),
                    "X-RateLimit-Reset": str(int(time.time()) + (3600 if resource == "core" else 60)),
                    "X-RateLimit-Resource": resource,
                }
            headers = limit | headers
            if status == 200:
                headers["ETag"] = etag
                if self.headers.get("If-None-Match") == etag:
                    return self._raw(seen, 304, b"", headers)
            self._raw(seen, status, data, headers)

        def _raw(self, seen: Seen, status: int, data: bytes, headers: dict[str, str]) -> None:
            seen.status = status
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            if status != 304:
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if data:
                self.wfile.write(data)

    return Handler


class FakeClock:
    """The scraper's Clock, with time that sleeping advances instead of passing (tests stay fast)."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.slept = 0.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return time.time() + self.offset

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.slept += seconds
        self.offset += seconds


def standard_repos() -> list[FakeRepo]:
    """Seven repos over three search pages (per_page=3), with every kind of file the scraper must judge."""
    deploy = b"#!/bin/bash\n# Deploy the site to the web server\nset -euo pipefail\nrsync -a public/ web:/srv/www/\n"
    return [
        FakeRepo(
            "alice/tools",
            "MIT",
            900,
            [
                FakeFile("deploy.sh", deploy),
                FakeFile("lib/util.bash", b'# Logging helpers\nlog() { printf "%s\\n" "$*" >&2; }\n'),
                FakeFile("bin/run", b'#!/usr/bin/env bash\n# Run the app\nexec ./app "$@"\n', "100755"),
                FakeFile("bin/tool", b"#!/usr/bin/python3\nprint('not a shell script')\n", "100755"),
                FakeFile("bin/helper.py", b"#!/usr/bin/env python3\nprint(1)\n", "100755"),
                FakeFile("README.md", b"# tools\n"),
                FakeFile("big.sh", b"#!/bin/sh\n" + b"echo padding\n" * 25_000),  # ~300 KiB
                FakeFile("blob.sh", b"#!/bin/sh\n\x00\x01\x02binary"),
                FakeFile("latin.sh", b"#!/bin/sh\necho caf\xe9\n"),
                FakeFile("zsh.sh", b"#!/usr/bin/env zsh\nprint -P '%F{red}hi'\n"),
                FakeFile("link.sh", b"deploy.sh", "120000"),
            ],
        ),
        FakeRepo(
            "bob/dots",
            "Apache-2.0",
            800,
            [
                FakeFile("install.sh", deploy),  # the same bytes as alice/tools/deploy.sh
                FakeFile("../../evil.sh", b"#!/bin/sh\nrm -rf ~\n"),
                FakeFile("/etc/passwd.sh", b"#!/bin/sh\necho owned\n"),
                FakeFile("scripts/backup.sh", b"#!/bin/sh\n# Back up home\ntar czf /tmp/home.tgz ~\n"),
            ],
        ),
        FakeRepo("carol/gpl", "GPL-3.0", 700, [FakeFile("script.sh", b"#!/bin/sh\necho gpl\n")]),
        FakeRepo("dave/none", None, 600, [FakeFile("a.sh", b"#!/bin/sh\necho none\n")]),
        FakeRepo(
            "erin/deep",
            "BSD-3-Clause",
            500,
            [
                FakeFile("top.sh", b"#!/bin/sh\necho top\n"),
                FakeFile("a/x.sh", b"#!/bin/sh\necho x\n"),
                FakeFile("a/b/c/deep.sh", b"#!/bin/bash\necho deep\n"),
            ],
            truncated=True,
        ),
        FakeRepo(
            "frank/misc",
            "ISC",
            400,
            [FakeFile("util.sh", b"#!/bin/sh\necho util\n"), FakeFile("tools/clean.sh", b"#!/bin/sh\nrm -f *.o\n")],
        ),
        FakeRepo("../../etc", "MIT", 300, []),  # a hostile name in a search answer: never requested
    ]


# (repo, path) of every file the standard repos should yield with the default options.
STANDARD_EXPECTED = {
    ("alice/tools", "bin/run"),
    ("alice/tools", "deploy.sh"),
    ("alice/tools", "lib/util.bash"),
    ("bob/dots", "install.sh"),
    ("bob/dots", "scripts/backup.sh"),
    ("erin/deep", "a/b/c/deep.sh"),
    ("erin/deep", "a/x.sh"),
    ("erin/deep", "top.sh"),
    ("frank/misc", "tools/clean.sh"),
    ("frank/misc", "util.sh"),
}
