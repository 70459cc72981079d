"""Sources end to end: real loopback HTTP servers for every downloader, --from copies, manifests,
and the guarantee that a failed or killed fetch never leaves a dataset marked complete."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bash_ai import paths
from bash_ai.errors import DataError, NetworkError
from trainer.data import (
    MANIFEST,
    Document,
    dataset_path,
    fetch_dataset,
    iter_documents,
    make_manifest,
    read_manifest,
    verify,
)

REPO = Path(__file__).resolve().parents[1]


class FileServer:
    """Serves ``routes`` (path -> body, extra headers) on 127.0.0.1 with GET and HEAD; 404 otherwise.

    ``short`` paths announce more bytes than they send (a connection cut mid-download).
    """

    def __init__(self) -> None:
        self.routes: dict[str, tuple[bytes, dict[str, str]]] = {}
        self.short: set[str] = set()
        self.seen: list[tuple[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self, with_body: bool) -> None:
                path = self.path.split("?", 1)[0]
                server.seen.append((self.command, path))
                if path not in server.routes:
                    self.send_response(404)
                    self.send_header("X-Error-Code", "EntryNotFound")  # as the Hub says it
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body, headers = server.routes[path]
                self.send_response(200)
                for key, value in headers.items():
                    self.send_header(key, value)
                extra = 1000 if path in server.short else 0
                self.send_header("Content-Length", str(len(body) + extra))
                self.end_headers()
                if with_body:
                    self.wfile.write(body)
                    if extra:
                        self.wfile.flush()
                        self.close_connection = True

            def do_GET(self) -> None:
                self._answer(True)

            def do_HEAD(self) -> None:
                self._answer(False)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def server() -> Iterator[FileServer]:
    with FileServer() as srv:
        yield srv


def _no_dataset_left(name: str) -> None:
    root = paths.datasets_dir()
    assert not (root / name).exists()
    assert not [p for p in root.iterdir() if p.name.startswith(f".{name}")] if root.exists() else True


# --- tinystories -----------------------------------------------------------------------------


def test_tinystories_from_file_manifest_sha(shared_data: Path) -> None:
    sample = shared_data / "tinystories" / "sample-a.txt"
    manifest = fetch_dataset("tinystories", sample)
    stored = dataset_path("tinystories") / "sample-a.txt"
    expected = hashlib.sha256(sample.read_bytes()).hexdigest()
    assert manifest.files == {"sample-a.txt": {"sha256": expected, "size": sample.stat().st_size}}
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == expected
    assert manifest.licence == "CDLA-Sharing-1.0" and manifest.url.startswith("file://")
    assert manifest.fetched and manifest.bash_ai_version
    docs = list(iter_documents("tinystories"))
    assert len(docs) == manifest.counts["stories"] > 200
    assert docs[0].text.startswith("One day, a little girl named Lily found a needle")
    assert all(d.kind == "text" and "\n\n" not in d.text for d in docs)
    verify(dataset_path("tinystories"))
    stored.write_bytes(b"tampered")
    with pytest.raises(DataError, match="sha256"):
        verify(dataset_path("tinystories"))


def test_tinystories_endoftext_separators(tmp_path: Path) -> None:
    upstream = tmp_path / "TinyStoriesV2-GPT4-valid.txt"
    upstream.write_text("One.\n\nStill one.\n<|endoftext|>\nTwo.\n<|endoftext|>\n\nThree.<|endoftext|>Four.\n")
    fetch_dataset("tinystories", upstream)
    assert [d.text for d in iter_documents("tinystories")] == ["One.\n\nStill one.", "Two.", "Three.", "Four."]


def test_tinystories_offline_mode_says_use_from() -> None:
    with pytest.raises(NetworkError, match="--from"):
        fetch_dataset("tinystories")  # conftest sets HF_HUB_OFFLINE=1
    _no_dataset_left("tinystories")


def _hub_env(tmp_path: Path, endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}
    env.update(HF_ENDPOINT=endpoint, HF_HOME=str(tmp_path / "hf"), BASH_AI_HOME=str(tmp_path / "home"))
    return env


def test_tinystories_from_loopback_hub(server: FileServer, tmp_path: Path) -> None:
    """The real hf_hub_download, against a server with the Hub's resolve layout and headers."""
    body = b"Once upon a time there was a cat.\n<|endoftext|>\nThe end of a dog story.\n<|endoftext|>\n"
    commit = "a" * 40
    headers = {"ETag": f'"{hashlib.sha1(body).hexdigest()}"', "X-Repo-Commit": commit}
    server.routes["/datasets/roneneldan/TinyStories/resolve/main/TinyStoriesV2-GPT4-valid.txt"] = (body, headers)
    server.routes[f"/datasets/roneneldan/TinyStories/resolve/{commit}/TinyStoriesV2-GPT4-valid.txt"] = (body, headers)
    cmd = [
        sys.executable,
        "-m",
        "bash_ai",
        "data",
        "fetch",
        "tinystories",
        "--filename",
        "TinyStoriesV2-GPT4-valid.txt",
    ]
    done = subprocess.run(cmd, env=_hub_env(tmp_path, server.url), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    stored = tmp_path / "home" / "data" / "datasets" / "tinystories"
    assert (stored / "TinyStoriesV2-GPT4-valid.txt").read_bytes() == body
    assert sorted(p.name for p in stored.iterdir()) == ["TinyStoriesV2-GPT4-valid.txt", MANIFEST]
    assert ("HEAD", "/datasets/roneneldan/TinyStories/resolve/main/TinyStoriesV2-GPT4-valid.txt") in server.seen
    assert "stories 2" in done.stderr


def test_tinystories_hub_missing_file_is_network_error(server: FileServer, tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "bash_ai", "data", "fetch", "tinystories", "--filename", "nope.txt"]
    done = subprocess.run(cmd, env=_hub_env(tmp_path, server.url), capture_output=True, text=True, timeout=60)
    assert done.returncode == NetworkError.exit_code
    assert done.stderr.startswith("bash-ai: error: could not download nope.txt") and done.stderr.count("\n") == 1
    assert not (tmp_path / "home" / "data" / "datasets" / "tinystories").exists()


# --- nl2bash ---------------------------------------------------------------------------------


def test_nl2bash_from_pack_split_sizes(shared_data: Path) -> None:
    manifest = fetch_dataset("nl2bash", shared_data / "nl2bash")
    assert manifest.counts == {"train": 11046, "dev": 779, "test": 782}
    docs = list(iter_documents("nl2bash"))
    by_split = {s: [d for d in docs if d.split == s] for s in ("train", "dev", "test")}
    assert [len(v) for v in by_split.values()] == [11046, 779, 782]
    first_nl = (shared_data / "nl2bash" / "test.nl").read_text(encoding="utf-8").split("\n")[0]
    assert by_split["test"][0].request == first_nl and by_split["test"][0].licence == "MIT"
    commands = [{d.command for d in v} for v in by_split.values()]
    assert not (commands[0] & commands[1] or commands[0] & commands[2] or commands[1] & commands[2])


def test_nl2bash_download_reproduces_the_pack_split(server: FileServer, shared_data: Path) -> None:
    pack = shared_data / "nl2bash"
    for name in ("all.nl", "all.cm", "LICENSE"):
        server.routes[f"/nl2bash/data/bash/{name}"] = ((pack / name).read_bytes(), {})
    manifest = fetch_dataset("nl2bash", url=f"{server.url}/nl2bash/data/bash")
    assert manifest.counts == {"train": 11046, "dev": 779, "test": 782}
    for split in ("train", "dev", "test"):
        for ext in ("nl", "cm"):
            stored = dataset_path("nl2bash") / f"{split}.{ext}"
            assert stored.read_bytes() == (pack / f"{split}.{ext}").read_bytes()
    assert not (dataset_path("nl2bash") / ".raw").exists()


def test_nl2bash_from_folder_without_splits(tmp_path: Path) -> None:
    (tmp_path / "train.nl").write_text("x\n")
    with pytest.raises(DataError, match=r"lacks .*dev\.nl"):
        fetch_dataset("nl2bash", tmp_path)
    _no_dataset_left("nl2bash")


# --- tldr download ---------------------------------------------------------------------------


def _tldr_zip(shared_data: Path) -> bytes:
    pages = shared_data / "tldr" / "pages"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("tldr-main/pages/common/tar.md", (pages / "common" / "tar.md").read_bytes())
        zf.writestr("tldr-main/pages/common/..md", (pages / "common" / "..md").read_bytes())
        zf.writestr("tldr-main/pages/linux/apt.md", (pages / "linux" / "apt.md").read_bytes())
        zf.writestr("tldr-main/pages/windows/dir.md", b"# dir\n\n- List:\n\n`dir`\n")
        zf.writestr("tldr-main/pages.de/common/tar.md", b"# tar\n")
        zf.writestr("tldr-main/LICENSE.md", (shared_data / "tldr" / "LICENSE.md").read_bytes())
        zf.writestr("tldr-main/README.md", b"readme")
    return buffer.getvalue()


def test_tldr_download_archive(server: FileServer, shared_data: Path) -> None:
    server.routes["/tldr/main.zip"] = (_tldr_zip(shared_data), {"Content-Type": "application/zip"})
    manifest = fetch_dataset("tldr", url=f"{server.url}/tldr/main.zip")
    assert sorted(manifest.files) == ["LICENSE.md", "pages/common/..md", "pages/common/tar.md", "pages/linux/apt.md"]
    assert manifest.counts["pages"] == 3 and manifest.url.endswith("/tldr/main.zip")
    pages = {d.meta["page"] for d in iter_documents("tldr")}
    assert pages == {"tar", ".", "apt"}


def test_download_failures_are_network_errors(server: FileServer, shared_data: Path) -> None:
    with pytest.raises(NetworkError, match="HTTP 404"):
        fetch_dataset("tldr", url=f"{server.url}/missing.zip")
    server.routes["/cut.zip"] = (_tldr_zip(shared_data)[:500], {})
    server.short.add("/cut.zip")
    with pytest.raises(NetworkError, match="cut short"):
        fetch_dataset("tldr", url=f"{server.url}/cut.zip")
    with pytest.raises(NetworkError, match="could not reach"):
        fetch_dataset("nl2bash", url="http://127.0.0.1:9/closed")
    _no_dataset_left("tldr")
    _no_dataset_left("nl2bash")


# --- atomicity -------------------------------------------------------------------------------


class BrokenSource:
    """A real Source that writes half its files, then fails."""

    name = "broken"
    licence = "MIT"
    licence_url = "https://example.org/mit"

    def __init__(self, fail: bool = True) -> None:
        self.fail = fail

    def fetch(self, dest_dir: Path, from_path: Path | None = None, **options: Any) -> Any:
        (dest_dir / "part1.txt").write_text("first half\n")
        if self.fail:
            raise DataError("upstream went away mid-fetch")
        (dest_dir / "part2.txt").write_text("second half\n")
        return make_manifest(dest_dir, url="test:", attribution="the test's own files")

    def iter_documents(self, dataset_dir: Path) -> Iterator[Document]:
        yield Document(kind="text", id="broken:1", source=self.name, licence=self.licence, text="x")


def test_failed_fetch_leaves_nothing_and_keeps_the_old_dataset() -> None:
    with pytest.raises(DataError, match="mid-fetch"):
        fetch_dataset(BrokenSource())
    _no_dataset_left("broken")

    good = fetch_dataset(BrokenSource(fail=False))
    assert sorted(good.files) == ["part1.txt", "part2.txt"]
    # What the source states itself reaches its manifest; what the fetch says is kept.
    assert (good.name, good.source, good.licence, good.licence_url) == (
        "broken",
        "broken",
        "MIT",
        "https://example.org/mit",
    )
    assert good.attribution == "the test's own files" and read_manifest(dataset_path("broken")) == good
    with pytest.raises(DataError):
        fetch_dataset(BrokenSource(), force=True)
    assert sorted(p.name for p in dataset_path("broken").iterdir()) == [MANIFEST, "part1.txt", "part2.txt"]
    verify(dataset_path("broken"))


_SLOW_FETCH = """
import sys, time
from pathlib import Path
from trainer.data import fetch_dataset, make_manifest
class Slow:
    name, licence = "slow", "MIT"
    def fetch(self, dest_dir, from_path=None, **options):
        (Path(dest_dir) / "half.txt").write_text("half")
        print("writing", flush=True)
        time.sleep(60)
        return make_manifest(dest_dir, name="slow", source="slow", url="test:", licence="MIT")
    def iter_documents(self, dataset_dir):
        return iter(())
fetch_dataset(Slow())
"""


def test_killed_fetch_is_never_complete_and_is_cleaned_up(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_FETCH], stdout=subprocess.PIPE, text=True, cwd=REPO, env=dict(os.environ)
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    root = paths.datasets_dir()
    assert not (root / "slow").exists()
    leftovers = [p for p in root.iterdir() if p.name.startswith(".slow")]
    assert len(leftovers) == 1 and not (leftovers[0] / MANIFEST).exists()

    class Quick(BrokenSource):
        name = "slow"

    fetch_dataset(Quick(fail=False))
    assert (root / "slow" / MANIFEST).is_file()
    assert not [p for p in root.iterdir() if p.name.startswith(".slow")]


# --- local -----------------------------------------------------------------------------------


def _man_gz(text: str) -> bytes:
    return gzip.compress(text.encode())


def test_local_harvest(tmp_path: Path) -> None:
    tree = tmp_path / "root"
    (tree / "bin").mkdir(parents=True)
    (tree / "share" / "man" / "man1").mkdir(parents=True)
    tool = "#!/bin/bash\n# Rotate the logs in /var/log/app.\n# Run nightly from cron.\n\nset -e\nfind /var/log/app -mtime +7 -delete\n"
    (tree / "bin" / "rotate").write_text(tool)
    (tree / "bin" / "rotate-copy").write_text(tool)  # same bytes: kept once
    (tree / "bin" / "helper.sh").write_text("echo hi\n")  # no shebang, but .sh
    (tree / "bin" / "tool.py").write_text("#!/usr/bin/python3\nprint(1)\n")  # not shell
    (tree / "bin" / "blob").write_bytes(b"#!/bin/sh\n\0\1\2binary")  # binary
    (tree / "bin" / "big.sh").write_text("#!/bin/sh\n" + "echo x\n" * 50_000)  # over the size cap
    for name in ("rotate", "rotate-copy", "tool.py", "blob"):
        (tree / "bin" / name).chmod(0o755)
    page = (
        '.TH ROT 1\n.SH NAME\nrot \\- rotate logs\n.SH DESCRIPTION\n.B rot\nremoves \\fIold\\fR logs.\n.\\" comment\n'
    )
    (tree / "share" / "man" / "man1" / "rot.1.gz").write_bytes(_man_gz(page))
    (tree / "share" / "man" / "man1" / "alias.1.gz").write_bytes(_man_gz(".so man1/rot.1\n"))

    manifest = fetch_dataset("local", tree)
    assert manifest.counts["scripts"] == 2 and manifest.counts["man_pages"] == 1
    docs = list(iter_documents("local"))
    scripts = {d.meta["path"].rsplit("/", 1)[1]: d for d in docs if d.kind == "script"}
    assert set(scripts) == {"rotate", "helper.sh"}  # walk order: rotate before rotate-copy
    assert scripts["rotate"].text == tool and scripts["rotate"].licence == "unknown"
    man = next(d for d in docs if d.kind == "text")
    assert man.text == "NAME\n\nrot - rotate logs\n\nDESCRIPTION\n\nrot removes old logs."

    from trainer.data import to_sequences

    ((head, body),) = to_sequences(scripts["rotate"])
    assert head.text == "<|request|>Rotate the logs in /var/log/app. Run nightly from cron.<|bash|>" and not head.target
    assert body.text.startswith("#!/bin/bash\n\nset -e") and body.target


def test_local_limits_and_bad_options(tmp_path: Path) -> None:
    (tmp_path / "a.sh").write_text("echo a\n")
    (tmp_path / "b.sh").write_text("echo b\n")
    manifest = fetch_dataset("local", tmp_path, max_scripts=1)
    assert manifest.counts["scripts"] == 1
    from bash_ai.errors import UsageError

    with pytest.raises(UsageError):
        fetch_dataset("local", tmp_path, force=True, max_pages="many")
    with pytest.raises(DataError, match="must be a folder"):
        fetch_dataset("local", tmp_path / "a.sh", force=True)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no shell scripts"):
        fetch_dataset("local", tmp_path / "empty", force=True)
    assert fetch_dataset("local").counts["scripts"] == 1  # the failed refetches kept the old dataset


def test_local_default_harvest_is_bounded() -> None:
    start = time.monotonic()
    manifest = fetch_dataset("local", max_scripts=50, max_pages=50)
    assert manifest.counts["scripts"] <= 50 and manifest.counts["man_pages"] <= 50
    assert time.monotonic() - start < 30
