"""A loopback HTTP server posing as the Hugging Face Hub, for ``bash-ai models pull/push`` tests.

It implements the endpoints ``huggingface_hub`` really calls (read from its source):

- ``snapshot_download``: ``GET /api/models/{repo}/revision/{rev}`` (repo info with the commit sha),
  ``GET /api/models/{repo}/tree/{sha}?recursive=...`` (the file list), then ``HEAD`` and ``GET``
  ``/{repo}/resolve/{rev}/{file}`` with ``X-Repo-Commit``, ``ETag`` and ``Content-Length``.
- ``create_repo``: ``POST /api/repos/create`` (409 when it exists).
- ``upload_folder``: ``POST /api/models/{repo}/preupload/{rev}`` (we answer "regular" for every
  file), then ``POST /api/models/{repo}/commit/{rev}`` with an NDJSON body of base64 files.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit


@dataclass
class Repo:
    files: dict[str, bytes] = field(default_factory=dict)
    commits: list[str] = field(default_factory=list)

    @property
    def sha(self) -> str:
        return self.commits[-1] if self.commits else "0" * 40

    def commit(self, files: dict[str, bytes], message: str) -> str:
        self.files.update(files)
        digest = hashlib.sha1((self.sha + message + repr(sorted(self.files.items()))).encode()).hexdigest()
        self.commits.append(digest)
        return digest


def _git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class FakeHub:
    """Serves ``repos`` on 127.0.0.1; records every request and the Authorization headers seen."""

    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.requests: list[tuple[str, str]] = []
        self.auth_headers: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add_repo(self, repo_id: str, files: dict[str, bytes]) -> str:
        repo = self.repos.setdefault(repo_id, Repo())
        return repo.commit(files, "initial")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                headers = {"Content-Type": "application/json", **(headers or {})}
                headers.setdefault("Content-Length", str(len(body)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _json(self, status: int, data: Any) -> None:
                self._send(status, json.dumps(data).encode())

            def _not_found(self, what: str) -> None:
                self._send(404, json.dumps({"error": what}).encode(), {"X-Error-Code": "RepoNotFound"})

            def _body(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length)

            def _record(self) -> str:
                path = unquote(urlsplit(self.path).path)
                hub.requests.append((self.command, path))
                if self.headers.get("Authorization"):
                    hub.auth_headers.append(self.headers["Authorization"])
                return path

            def do_HEAD(self) -> None:
                self._resolve(self._record())

            def do_GET(self) -> None:
                path = self._record()
                if m := re.fullmatch(r"/api/models/(.+?)/revision/([^/]+)", path):
                    repo = hub.repos.get(m[1])
                    if repo is None:
                        return self._not_found(f"Repository {m[1]} not found")
                    siblings = [{"rfilename": name} for name in sorted(repo.files)]
                    return self._json(200, {"id": m[1], "modelId": m[1], "sha": repo.sha, "siblings": siblings})
                if m := re.fullmatch(r"/api/models/(.+?)/tree/([^/]+)(?:/(.+))?", path):
                    repo = hub.repos.get(m[1])
                    if repo is None:
                        return self._not_found(f"Repository {m[1]} not found")
                    under = f"{m[3].strip('/')}/" if m[3] else ""
                    entries = [
                        {"type": "file", "path": name, "size": len(data), "oid": _git_blob_oid(data)}
                        for name, data in sorted(repo.files.items())
                        if name.startswith(under)
                    ]
                    if under and not entries:  # as the Hub: a folder that is not there
                        return self._send(404, b"{}", {"X-Error-Code": "EntryNotFound"})
                    return self._json(200, entries)
                return self._resolve(path)

            def _resolve(self, path: str) -> None:
                m = re.fullmatch(r"/(.+?)/resolve/([^/]+)/(.+)", path)
                repo = hub.repos.get(m[1]) if m else None
                if m is None or repo is None:
                    return self._not_found("not found")
                data = repo.files.get(m[3])
                if data is None:
                    return self._send(404, b"{}", {"X-Error-Code": "EntryNotFound"})
                headers = {
                    "Content-Type": "application/octet-stream",
                    "ETag": f'"{_git_blob_oid(data)}"',
                    "X-Repo-Commit": repo.sha,
                    "Content-Length": str(len(data)),
                }
                self._send(200, data, headers)

            def do_POST(self) -> None:
                path = self._record()
                body = self._body()
                if path == "/api/repos/create":
                    payload = json.loads(body)
                    repo_id = (
                        f"{payload['organization']}/{payload['name']}"
                        if payload.get("organization")
                        else payload["name"]
                    )
                    if repo_id in hub.repos:
                        return self._json(
                            409, {"error": "You already created this model repo", "url": f"{hub.url}/{repo_id}"}
                        )
                    hub.repos[repo_id] = Repo()
                    return self._json(200, {"url": f"{hub.url}/{repo_id}"})
                if path == "/api/validate-yaml":  # huggingface_hub checks a README's metadata block
                    return self._json(200, {"errors": [], "warnings": []})
                if m := re.fullmatch(r"/api/models/(.+?)/preupload/([^/]+)", path):
                    if m[1] not in hub.repos:
                        return self._not_found(f"Repository {m[1]} not found")
                    files = json.loads(body)["files"]
                    modes = [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]
                    return self._json(200, {"files": modes})
                if m := re.fullmatch(r"/api/models/(.+?)/commit/([^/]+)", path):
                    repo = hub.repos.get(m[1])
                    if repo is None:
                        return self._not_found(f"Repository {m[1]} not found")
                    lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
                    header = next(item["value"] for item in lines if item["key"] == "header")
                    files = {}
                    for item in lines:
                        if item["key"] != "file":  # this fake accepts inline (regular) files only
                            if item["key"] != "header":
                                return self._json(400, {"error": f"unsupported operation {item['key']}"})
                            continue
                        files[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
                    sha = repo.commit(files, header["summary"])
                    return self._json(200, {"commitUrl": f"{hub.url}/{m[1]}/commit/{sha}", "commitOid": sha})
                return self._not_found("not found")

        return Handler
