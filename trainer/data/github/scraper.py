"""The walk: search repositories -> repo (licence, default branch) -> branch -> tree -> blobs.

Everything a repository serves is untrusted: names and paths are checked before use (and only ever
stored as metadata, never as file names), sizes are capped before downloading, and each blob's
bytes are checked against its git object id, for NUL bytes (binary), for UTF-8 (the policy: a file
that is not valid UTF-8 is skipped, not guessed at, so no mojibake reaches training) and, for
extension-less executables, for an sh/bash shebang.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeGuard
from urllib.parse import quote

from bash_ai.errors import NetworkError, UsageError
from trainer.data.github.client import DEFAULT_API_URL, GitHubClient, GitHubHTTPError
from trainer.data.github.store import Record, Store
from trainer.data.sources import ProgressFn

# The default allow-list: permissive licences whose files may be trained on with attribution.
PERMISSIVE: tuple[str, ...] = (
    "mit",
    "apache-2.0",
    "bsd-2-clause",
    "bsd-3-clause",
    "isc",
    "unlicense",
    "0bsd",
    "cc0-1.0",
)
SHELL_SUFFIXES = (".sh", ".bash")
SHELLS = frozenset({"sh", "bash", "dash", "ash"})
_FILE_MODES = ("100644", "100755")
_EXECUTABLE = "100755"
_MAX_SUBTREES = 2000  # per repo, when a truncated recursive tree is walked level by level
_OBJECT_ID = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")
_BRANCH_BAD = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|//|@\{")

REPOS, SCRIPTS = "github: repositories", "github: scripts"  # stable progress labels (one bar each)


@dataclass(frozen=True)
class Options:
    query: str = "language:Shell"
    max_files: int = 2000
    max_repos: int = 100
    min_stars: int = 10
    licences: tuple[str, ...] = PERMISSIVE
    max_bytes: int = 256 * 1024
    per_page: int = 100
    api_url: str = DEFAULT_API_URL

    def search_query(self) -> str:
        """The ``q`` of the repository search; licences are also re-checked per repo (one qualifier only)."""
        parts = [self.query.strip()]
        if self.min_stars > 0 and "stars:" not in self.query:
            parts.append(f"stars:>={self.min_stars}")
        if len(self.licences) == 1 and "license:" not in self.query:
            parts.append(f"license:{self.licences[0]}")
        return " ".join(p for p in parts if p)


@dataclass(frozen=True)
class Repo:
    full_name: str
    licence: str  # SPDX id as GitHub reports it, e.g. "MIT"
    commit: str
    tree: str
    html_url: str


def repo_name_ok(name: object) -> TypeGuard[str]:
    return isinstance(name, str) and bool(_REPO.match(name)) and name.split("/")[1] not in (".", "..")


def safe_path(path: object) -> bool:
    """A relative path inside a repo: no absolute path, no ``.``/``..``/empty part, no control chars."""
    if not isinstance(path, str) or not path or len(path) > 1024 or path.startswith("/") or "\\" in path:
        return False
    if any(ord(c) < 32 or ord(c) == 127 for c in path):
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))


def shebang_shell(data: bytes) -> bool | None:
    """True for an sh-family shebang, False for any other interpreter, None when there is none."""
    if not data.startswith(b"#!"):
        return None
    words = data[2:256].split(b"\n", 1)[0].decode("latin-1").split()
    if not words:
        return False
    interpreter = words[0].rsplit("/", 1)[-1]
    if interpreter == "env":
        rest = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
        interpreter = rest[0].rsplit("/", 1)[-1] if rest else ""
    return interpreter in SHELLS


def is_candidate(path: str, mode: str) -> bool:
    """``*.sh``/``*.bash``, or an extension-less executable (checked for a shebang once fetched)."""
    name = path.rsplit("/", 1)[-1]
    if name.lower().endswith(SHELL_SUFFIXES):
        return True
    return mode == _EXECUTABLE and "." not in name


def reject_reason(data: bytes, path: str, max_bytes: int) -> str | None:
    """Why fetched bytes are not a usable script (a counter name), or None when they are."""
    if len(data) > max_bytes:
        return "too_large"
    if b"\0" in data:
        return "binary"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "not_utf8"
    shell = shebang_shell(data)
    if shell is False or (shell is None and not path.rsplit("/", 1)[-1].lower().endswith(SHELL_SUFFIXES)):
        return "not_shell"
    return None


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Scraper:
    """One run of the walk over ``store``; ``run()`` returns the records this run selected."""

    def __init__(self, client: GitHubClient, store: Store, options: Options, progress: ProgressFn) -> None:
        self.client, self.store, self.options, self.progress = client, store, options, progress
        self.counts: Counter[str] = Counter()
        self.selected: dict[tuple[str, str, str], Record] = {}
        self._contents: set[str] = set()

    def run(self) -> list[Record]:
        for item in self._search():
            if self.counts["repos"] >= self.options.max_repos or self._full():
                break
            self._visit(item)
        return list(self.selected.values())

    def _full(self) -> bool:
        return len(self._contents) >= self.options.max_files

    def _search(self) -> Iterator[dict[str, Any]]:
        params: dict[str, str | int] = {"q": self.options.search_query(), "sort": "stars", "order": "desc"}
        params["per_page"] = self.options.per_page
        pages = self.client.pages("/search/repositories", params, cache=True)
        while True:
            try:
                page = next(pages)
            except StopIteration:
                return
            except GitHubHTTPError as err:
                if err.status != 422:
                    raise
                if self.counts["search_pages"] == 0:  # the query itself is bad
                    raise UsageError(f"GitHub refused the search {params['q']!r}: {err}") from None
                self.counts["search_capped"] += 1  # GitHub serves only the first 1000 results
                return
            self.counts["search_pages"] += 1
            if not isinstance(page, dict) or not isinstance(page.get("items"), list):
                raise NetworkError("GitHub's search answer has no `items` list")
            if page.get("incomplete_results"):
                self.counts["search_incomplete"] += 1
            if not page["items"]:
                return
            for item in page["items"]:
                if isinstance(item, dict):
                    yield item

    def _visit(self, item: dict[str, Any]) -> None:
        name = item.get("full_name")
        if not repo_name_ok(name):
            self.counts["repos_skipped_bad_name"] += 1
            return
        if not self._licence_ok(item.get("license")):  # the search item says so: save a request
            self.counts["repos_skipped_licence"] += 1
            return
        try:
            repo = self._repo(name)
        except GitHubHTTPError as err:
            if err.status not in (403, 404, 409, 451):
                raise
            self.counts["repos_skipped_unavailable"] += 1  # gone, blocked or empty since the search
            return
        if repo is None:
            self.counts["repos_skipped_licence"] += 1
            return
        self.counts["repos"] += 1
        self.progress(REPOS, self.counts["repos"], self.options.max_repos)
        for entry in self._tree(repo):
            if self._full():
                break
            self._file(repo, entry)

    def _licence_ok(self, licence: Any) -> bool:
        if not isinstance(licence, dict):
            return False
        ids = {str(licence.get(k) or "").lower() for k in ("spdx_id", "key")}
        return bool(ids & set(self.options.licences))

    def _repo(self, name: str) -> Repo | None:
        """The repo's authoritative licence and default branch, and that branch's commit and tree."""
        base = "/repos/" + "/".join(quote(p, safe="") for p in name.split("/"))
        info = self.client.get_json(base, cache=True)
        if not isinstance(info, dict) or not self._licence_ok(info.get("license")):
            return None
        branch = info.get("default_branch")
        if not isinstance(branch, str) or not branch or _BRANCH_BAD.search(branch):
            raise GitHubHTTPError(f"{name} reports an unusable default branch", 409)
        head = self.client.get_json(f"{base}/branches/{quote(branch, safe='')}", cache=True)
        try:
            commit = head["commit"]["sha"]
            tree = head["commit"]["commit"]["tree"]["sha"]
        except (KeyError, TypeError):
            raise GitHubHTTPError(f"{name}: unexpected answer for branch {branch!r}", 409) from None
        if not (
            isinstance(commit, str) and _OBJECT_ID.match(commit) and isinstance(tree, str) and _OBJECT_ID.match(tree)
        ):
            raise GitHubHTTPError(f"{name}: branch {branch!r} has no valid commit", 409)
        html = info.get("html_url")
        if not (isinstance(html, str) and html.startswith(("https://", "http://")) and html.isprintable()):
            html = f"https://github.com/{name}"
        spdx = info["license"].get("spdx_id") or info["license"].get("key") or "unknown"
        return Repo(name, str(spdx), commit, tree, html.rstrip("/"))

    def _tree(self, repo: Repo) -> list[dict[str, Any]]:
        """Candidate blob entries, by path. A truncated recursive tree is re-walked one level at a time."""
        base = "/repos/" + "/".join(quote(p, safe="") for p in repo.full_name.split("/")) + "/git/trees/"
        data = self.client.get_json(base + repo.tree, {"recursive": "1"}, cache=True)
        entries = self._entries(data, "", flat=False)
        if isinstance(data, dict) and data.get("truncated"):
            self.counts["trees_truncated"] += 1
            entries, queue, asked = [], [("", repo.tree)], 0
            while queue:
                asked += 1
                if asked > _MAX_SUBTREES:
                    self.counts["trees_incomplete"] += 1
                    break
                prefix, sha = queue.pop()
                for entry in self._entries(self.client.get_json(base + sha, cache=True), prefix, flat=True):
                    if entry["type"] == "tree":
                        queue.append((entry["path"] + "/", entry["sha"]))
                    else:
                        entries.append(entry)
        picked = [e for e in entries if e["type"] == "blob" and is_candidate(e["path"], e["mode"])]
        return sorted(picked, key=lambda e: e["path"])

    def _entries(self, data: Any, prefix: str, *, flat: bool) -> list[dict[str, Any]]:
        """Well-formed entries with safe paths; ``flat`` (one level) entries are names, not paths."""
        if not isinstance(data, dict) or not isinstance(data.get("tree"), list):
            raise NetworkError("GitHub's tree answer has no `tree` list")
        out = []
        for raw in data["tree"]:
            if not isinstance(raw, dict) or raw.get("type") not in ("blob", "tree"):
                continue
            path, sha, mode = raw.get("path"), raw.get("sha"), raw.get("mode")
            if not isinstance(sha, str) or not _OBJECT_ID.match(sha) or not isinstance(path, str):
                self.counts["entries_malformed"] += 1
                continue
            if not safe_path(prefix + path) or (flat and "/" in path):
                self.counts["skipped_unsafe_path"] += 1
                continue
            size = raw.get("size", 0)
            if raw["type"] == "blob" and (mode not in _FILE_MODES or type(size) is not int or size < 0):
                continue  # symlinks, submodules, odd entries
            out.append({"type": raw["type"], "path": prefix + path, "sha": sha, "mode": mode, "size": size})
        return out

    def _file(self, repo: Repo, entry: dict[str, Any]) -> None:
        blob, path = entry["sha"], entry["path"]
        if entry["size"] > self.options.max_bytes:
            self.counts["skipped_too_large"] += 1
            return
        digest = self._obtain(repo, blob, path)
        if digest is None:
            return
        url = f"{repo.html_url}/blob/{repo.commit}/{quote(path)}"
        record = Record(repo.full_name, path, repo.commit, blob, repo.licence, digest, entry["size"], url)
        self.store.add(record)
        if record.sha256 in self._contents:
            self.counts["duplicates"] += 1
        self.selected[record.key] = record
        self._contents.add(record.sha256)
        self.progress(SCRIPTS, len(self._contents), self.options.max_files)

    def _obtain(self, repo: Repo, blob: str, path: str) -> str | None:
        """sha256 of the blob's stored content (stored earlier, or downloaded now); None when refused."""
        known = self.store.known_blob(blob)
        if known is not None:
            self.counts["reused"] += 1
            return known
        digest, reason = None, self.store.rejection(blob)
        if reason is None:
            digest, reason = self._download(repo, blob, path)
        if digest is None:
            self.counts[f"skipped_{reason}"] += 1
        return digest

    def _download(self, repo: Repo, blob: str, path: str) -> tuple[str | None, str | None]:
        """(sha256, None) once stored, or (None, reason) once rejected and remembered."""
        base = "/repos/" + "/".join(quote(p, safe="") for p in repo.full_name.split("/"))
        try:
            answer = self.client.get_json(f"{base}/git/blobs/{blob}")
        except GitHubHTTPError as err:
            if err.status not in (403, 404, 409, 451):
                raise
            return None, "unavailable"
        self.counts["downloaded"] += 1
        data = _blob_bytes(answer)
        if data is None or (len(blob) == 40 and git_blob_id(data) != blob):
            return None, "corrupt"  # not remembered: a later run may get the real bytes
        reason = reject_reason(data, path, self.options.max_bytes)
        if reason is not None:
            self.store.reject(blob, reason)
            return None, reason
        return self.store.put(data), None


def _blob_bytes(answer: Any) -> bytes | None:
    if not isinstance(answer, dict) or answer.get("encoding") != "base64" or not isinstance(answer.get("content"), str):
        return None
    try:
        return base64.b64decode("".join(answer["content"].split()), validate=True)
    except (binascii.Error, ValueError):
        return None
