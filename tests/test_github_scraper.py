"""``bash-ai data fetch github`` against a real HTTP server on 127.0.0.1 (tests/fake_github.py).

Waits run on an injected clock (sleeping advances it), so rate-limit and backoff tests take no time.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fake_github import STANDARD_EXPECTED, FakeClock, FakeFile, FakeGitHub, FakeRepo, standard_repos
from hypothesis import given
from hypothesis import strategies as st

from bash_ai.errors import DataError, NetworkError, UsageError
from trainer.data import dataset_path, fetch_dataset, iter_documents, verify
from trainer.data.github.client import RATE_LIMIT_WAIT, RETRY_WAIT, GitHubClient, next_link
from trainer.data.github.scraper import reject_reason, safe_path, shebang_shell
from trainer.data.github.store import RECORDS, Record, Store, content_path, read_jsonl
from trainer.data.sources import github as source

REPO_ROOT = Path(__file__).resolve().parents[1]
TOKEN = "ghp_SeCrEt0123456789abcdefTOKENvalue42"


def fetch(gh: FakeGitHub, clock: FakeClock | None = None, **options: Any) -> Any:
    defaults: dict[str, Any] = {"api_url": gh.url, "per_page": 3, "clock": clock or FakeClock(), "timeout": 2.0}
    return fetch_dataset("github", force=True, **(defaults | options))


def pairs(dataset: Path) -> set[tuple[str, str]]:
    return {(r["repo"], r["path"]) for r in read_jsonl(dataset / "scripts.jsonl")}


def blob_downloads(gh: FakeGitHub) -> int:
    return len([s for s in gh.requests_to(r"/git/blobs/") if s.status == 200])


# -- the walk ------------------------------------------------------------------------------------


def test_fetch_walks_three_pages_and_keeps_only_safe_permissive_shell_scripts() -> None:
    with FakeGitHub(standard_repos()) as gh:
        manifest = fetch(gh)
    dataset = dataset_path("github")
    assert pairs(dataset) == STANDARD_EXPECTED
    pages = [s.path for s in gh.requests_to(r"^/search/repositories")]
    assert len(pages) == 3 and "&page=2" in pages[1] and "&page=3" in pages[2]
    assert "stars%3A%3E%3D10" in pages[0]  # --min-stars default reaches the query
    for seen in gh.seen:  # what a careful client sends on every request
        headers = {k.lower(): v for k, v in seen.headers.items()}
        assert headers["accept"] == "application/vnd.github+json"
        assert headers["x-github-api-version"] == "2022-11-28"
        assert headers["user-agent"].startswith("bash-ai/")
        assert "authorization" not in headers  # no token in the environment: unauthenticated
    # Refused before download: other licences (no repo call at all), the oversized file, unsafe paths.
    assert not gh.requests_to(r"^/repos/(carol|dave)/") and not gh.requests_to(r"etc")
    big = git_id(next(f for f in standard_repos()[0].files if f.path == "big.sh").data)
    assert not gh.requests_to(big)
    counts = manifest.counts
    assert counts["skipped_too_large"] == 1 and counts["skipped_binary"] == 1 and counts["skipped_not_utf8"] == 1
    assert counts["skipped_not_shell"] == 2 and counts["skipped_unsafe_path"] == 2  # python + zsh; ../ and /etc
    assert counts["repos_skipped_licence"] == 2 and counts["repos_skipped_bad_name"] == 1
    assert counts["trees_truncated"] == 1 and counts["files"] == 10 and counts["distinct"] == 9
    verify(dataset)
    # Content-addressed: the deploy script shared by two repos is stored once.
    stored = sorted(p.relative_to(dataset).as_posix() for p in (dataset / "files").rglob("*.sh"))
    assert len(stored) == 9 and all(p.startswith("files/") and p.count("/") == 2 for p in stored)
    assert not list(dataset.rglob("evil*")) and not list(dataset.rglob("passwd*"))


def test_documents_carry_provenance_and_licence() -> None:
    with FakeGitHub(standard_repos()) as gh:
        fetch(gh)
    docs = list(iter_documents("github"))
    assert len(docs) == 9  # 10 files, one duplicate content
    by_id = {d.id: d for d in docs}
    deploy = by_id["github:alice/tools/deploy.sh"]
    assert deploy.kind == "script" and deploy.licence == "MIT" and deploy.source == "github"
    assert deploy.text.startswith("#!/bin/bash\n# Deploy the site")
    assert deploy.meta["repo"] == "alice/tools" and deploy.meta["path"] == "deploy.sh"
    assert deploy.meta["url"].startswith("https://github.example/alice/tools/blob/")
    assert by_id["github:erin/deep/a/b/c/deep.sh"].licence == "BSD-3-Clause"
    assert "github:bob/dots/install.sh" not in by_id  # same bytes as alice's deploy.sh
    assert [d.id for d in iter_documents("github")] == [d.id for d in docs]  # stable order


def test_licence_allow_list_option_selects_only_those_repos() -> None:
    with FakeGitHub(standard_repos()) as gh:
        fetch(gh, license="GPL-3.0")
        assert "license%3Agpl-3.0" in gh.requests_to(r"^/search/")[0].path
    assert pairs(dataset_path("github")) == {("carol/gpl", "script.sh")}


def test_max_files_and_max_repos_bound_the_walk() -> None:
    with FakeGitHub(standard_repos()) as gh:
        manifest = fetch(gh, max_files=2)
        assert manifest.counts["distinct"] == 2 and len(pairs(dataset_path("github"))) == 2
        manifest = fetch(gh, max_repos=1)
        assert {r for r, _ in pairs(dataset_path("github"))} == {"alice/tools"}
        assert not gh.requests_to(r"^/repos/bob/") and manifest.counts["repos"] == 1


# -- faults --------------------------------------------------------------------------------------


def test_every_transient_fault_is_retried_and_the_result_is_unchanged(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    calls: list[tuple[str, int, int | None]] = []
    caplog.set_level(logging.INFO, logger="trainer.data.github")
    with FakeGitHub(standard_repos()) as gh:
        gh.fail(r"&page=2", "secondary", retry_after=7)
        gh.fail(r"^/repos/bob/dots$", "429", retry_after=3)
        gh.fail(r"/git/trees/.*recursive", "status", status=500)
        gh.fail(r"/branches/", "slow", seconds=0.6)
        gh.fail(r"/git/blobs/", "truncate")
        gh.fail(r"&page=3", "malformed")
        gh.fail(r"^/repos/frank/misc$", "status", status=502)
        fetch(gh, clock, timeout=0.2, progress=lambda what, done, total: calls.append((what, done, total)))
        assert all(f.times == 0 for f in gh.faults)
    assert pairs(dataset_path("github")) == STANDARD_EXPECTED
    # Waits are counted down on two stable progress labels (Retry-After honoured: 7 s and 3 s).
    rate = [c for c in calls if c[0] == RATE_LIMIT_WAIT]
    assert (RATE_LIMIT_WAIT, 7, 7) in rate and (RATE_LIMIT_WAIT, 3, 3) in rate and clock.slept >= 10
    assert (RATE_LIMIT_WAIT, 0, 7) in rate and (RATE_LIMIT_WAIT, 6, 7) in rate  # one step per second
    assert sum(1 for c in calls if c[0] == RETRY_WAIT and c[1] == c[2]) == 5  # 500, timeout, cut, JSON, 502
    assert {c[0] for c in calls} == {RATE_LIMIT_WAIT, RETRY_WAIT, "github: repositories", "github: scripts"}
    for reason in ("secondary rate limit", "HTTP 429 (Too Many Requests)", "HTTP 500", "no answer within 0.2 s"):
        assert reason in caplog.text
    assert "truncated answer" in caplog.text and "malformed JSON" in caplog.text and "HTTP 502" in caplog.text


def test_secondary_limit_without_retry_after_waits_at_least_a_minute() -> None:
    clock = FakeClock()
    with FakeGitHub(standard_repos()) as gh:
        gh.fail(r"^/search/", "secondary", retry_after=None)
        fetch(gh, clock)
    assert clock.slept >= 60


def test_an_exhausted_primary_limit_is_waited_out_before_the_next_request() -> None:
    clock = FakeClock()
    with FakeGitHub(standard_repos()) as gh:
        gh.fail(r"^/repos/alice/tools$", "exhausted", reset_in=120)
        fetch(gh, clock)
        assert not any(s.status == 403 for s in gh.seen)  # paused instead of hitting the wall
    assert 118 <= clock.slept <= 125


def test_a_403_rate_limit_waits_until_reset() -> None:
    clock = FakeClock()
    with FakeGitHub(standard_repos()) as gh:
        gh.fail(r"^/repos/bob/dots/branches", "ratelimit", reset_in=300)
        fetch(gh, clock)
    assert pairs(dataset_path("github")) == STANDARD_EXPECTED and 298 <= clock.slept <= 305


def test_a_wait_beyond_max_wait_is_one_clear_error() -> None:
    with FakeGitHub(standard_repos()) as gh:
        gh.fail(r"^/search/", "ratelimit", reset_in=7200)
        with pytest.raises(NetworkError) as caught:
            fetch(gh, max_wait=600)
    message = str(caught.value)
    assert "more than the 600 s this fetch may wait" in message and "GITHUB_TOKEN" in message and "\n" not in message
    assert not dataset_path("github").exists()


def test_retries_are_bounded() -> None:
    clock = FakeClock()
    with FakeGitHub(standard_repos()) as gh:
        gh.fail(r"^/search/", "status", times=100, status=503)
        with pytest.raises(NetworkError, match=r"GET /search/repositories failed after 4 attempts: HTTP 503"):
            fetch(gh, clock, retries=3)
        assert len(gh.requests_to(r"^/search/")) == 4
    assert 0 < clock.slept < 1 + 2 + 4  # exponential backoff with jitter in [0.5, 1] of 1, 2, 4 s


def test_malformed_json_that_never_heals_is_a_data_error_not_a_crash() -> None:
    with FakeGitHub(standard_repos()) as gh:
        gh.fail(r"/git/trees/", "malformed", times=100)
        with pytest.raises(DataError, match="malformed JSON"):
            fetch(gh, retries=2)


def test_a_vanished_repo_is_skipped() -> None:
    with FakeGitHub(standard_repos()) as gh:
        gh.fail(r"^/repos/bob/dots$", "status", status=404, message="Not Found")
        manifest = fetch(gh)
    assert manifest.counts["repos_skipped_unavailable"] == 1
    assert pairs(dataset_path("github")) == {p for p in STANDARD_EXPECTED if p[0] != "bob/dots"}


def test_search_past_githubs_1000_result_cap_stops_cleanly_and_a_bad_query_is_a_usage_error() -> None:
    capped = "Only the first 1000 search results are available"
    with FakeGitHub(standard_repos()) as gh:
        gh.fail(r"&page=3", "status", status=422, message=capped)
        manifest = fetch(gh)
        assert manifest.counts["search_capped"] == 1 and manifest.counts["search_pages"] == 2
        assert pairs(dataset_path("github")) == STANDARD_EXPECTED  # page 3 held only the hostile name
        gh.fail(r"^/search/", "status", status=422, message="Validation Failed")
        with pytest.raises(UsageError, match="GitHub refused the search"):
            fetch(gh, query="stars:>>>")


def test_no_matching_scripts_is_a_clear_error() -> None:
    with FakeGitHub(standard_repos()) as gh, pytest.raises(DataError, match="no shell scripts"):
        fetch(gh, min_stars=10_000)


# -- idempotence and resumption ------------------------------------------------------------------


def test_a_rerun_downloads_no_blob_and_reuses_etags() -> None:
    with FakeGitHub(standard_repos()) as gh:
        first = fetch(gh)
        downloads = blob_downloads(gh)
        gh.seen.clear()
        second = fetch(gh)
        assert blob_downloads(gh) == 0 and downloads == 13
        searches_and_trees = gh.requests_to(r"^/search/|/git/trees/")
        assert searches_and_trees and all(s.status == 304 for s in searches_and_trees)
        assert all("if-none-match" in {k.lower() for k in s.headers} for s in searches_and_trees)
    assert second.fingerprint() == first.fingerprint() and second.counts["not_modified"] >= 9


def test_a_fetch_killed_mid_run_resumes_with_a_consistent_manifest(tmp_path: Path) -> None:
    store = tmp_path / "store"
    script = (
        "import sys; from trainer.data import fetch_dataset\n"
        "fetch_dataset('github', api_url=sys.argv[1], per_page=3, store_dir=sys.argv[2])\n"
    )
    with FakeGitHub(standard_repos()) as gh:
        gh.delay(r"/git/blobs/", 0.1)
        env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
        child = subprocess.Popen([sys.executable, "-c", script, gh.url, str(store)], env=env)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and len(read_jsonl(store / RECORDS)) < 3 and child.poll() is None:
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        child.wait()
        recorded = len({r["blob"] for r in read_jsonl(store / RECORDS)})
        assert 3 <= recorded < 9 and not dataset_path("github").exists()  # killed mid-way, nothing published
        gh.delays.clear()
        gh.seen.clear()
        fetch(gh, store_dir=str(store))
        assert blob_downloads(gh) <= 13 - recorded  # what was recorded is not fetched again
    dataset = dataset_path("github")
    assert pairs(dataset) == STANDARD_EXPECTED
    verify(dataset)
    with Store(store) as reopened:
        assert {r.key[:2] for r in reopened.records()} == STANDARD_EXPECTED
    assert not list(store.rglob("*.tmp"))


def test_store_cuts_a_torn_line_and_drops_damaged_content(tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        good = Record("a/b", "x.sh", "c" * 40, "1" * 40, "MIT", store.put(b"echo good\n"), 10, "u")
        bad = Record("a/b", "y.sh", "c" * 40, "2" * 40, "MIT", store.put(b"echo bad\n"), 9, "u")
        store.add(good), store.add(bad)
    (tmp_path / content_path(bad.sha256)).write_bytes(b"echo BAD\n")  # same size, other bytes
    with open(tmp_path / RECORDS, "a") as handle:
        handle.write('{"repo": "a/b", "path": "z.sh", "blo')  # a kill mid-append
    with Store(tmp_path) as store:
        assert [r.path for r in store.records()] == ["x.sh"]
        assert store.known_blob("2" * 40) is None  # will be fetched again
    assert (tmp_path / RECORDS).read_bytes().endswith(b"}\n")


def test_only_one_fetch_may_use_a_store(tmp_path: Path) -> None:
    with Store(tmp_path), pytest.raises(DataError, match="another GitHub fetch"), Store(tmp_path):
        pass


# -- secrets -------------------------------------------------------------------------------------


def test_the_token_is_sent_but_never_leaks(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    caplog.set_level(logging.DEBUG)
    with FakeGitHub(standard_repos(), token=TOKEN) as gh:
        gh.fail(r"^/search/", "echo_auth", times=100)  # a server that echoes our Authorization header
        with pytest.raises(NetworkError) as caught:
            fetch(gh, retries=2)
        assert gh.requests_to(r"^/search/")[0].headers["Authorization"] == f"Bearer {TOKEN}"
    err = caught.value
    assert "[token]" in str(err)
    out = capsys.readouterr()
    texts = [str(err), repr(err), repr(err.__cause__), repr(err.__context__), out.out, out.err, caplog.text]
    assert all(TOKEN not in text for text in texts)
    home = Path(os.environ["BASH_AI_HOME"])
    assert all(TOKEN.encode() not in p.read_bytes() for p in home.rglob("*") if p.is_file())


def test_the_token_stays_out_of_stores_manifests_and_the_cli(tmp_path: Path) -> None:
    with FakeGitHub(standard_repos(), token=TOKEN) as gh:
        gh.fail(r"/git/blobs/", "echo_auth")
        gh.fail(r"^/repos/frank/misc$", "status", times=100, status=500)
        env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), GITHUB_TOKEN=TOKEN)
        script = "import sys; from trainer.data import fetch_dataset\nfetch_dataset('github', api_url=sys.argv[1], retries=1, backoff=0.01)\n"
        done = subprocess.run(
            [sys.executable, "-c", script, gh.url], env=env, capture_output=True, text=True, timeout=60
        )
    assert done.returncode != 0 and "NetworkError: GitHub GET /repos/frank/misc failed" in done.stderr
    assert TOKEN not in done.stdout + done.stderr
    home = Path(os.environ["BASH_AI_HOME"])
    files = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.name == RECORDS for p in files)
    assert all(TOKEN.encode() not in p.read_bytes() for p in files)


def test_cli_fetches_with_every_github_option_and_fails_in_one_line_without_the_token() -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), GITHUB_TOKEN=TOKEN)
    cli = [sys.executable, "-m", "bash_ai", "data", "fetch", "github"]
    with FakeGitHub(standard_repos(), token=TOKEN) as gh:
        args = ["--api-url", gh.url, "--query", "language:Shell", "--min-stars", "450", "--max-repos", "2"]
        args += ["--max-files", "4", "--license", "mit,bsd-3-clause"]
        done = subprocess.run(cli + args, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "stars%3A%3E%3D450" in gh.requests_to(r"^/search/")[0].path
        assert all(s.headers.get("Authorization") == f"Bearer {TOKEN}" for s in gh.seen)
        gh.fail(r"^/search/", "echo_auth", status=401)
        failed = subprocess.run(cli + args + ["--force"], env=env, capture_output=True, text=True, timeout=60)
    assert pairs(dataset_path("github")) == {("alice/tools", p) for p in ("bin/run", "deploy.sh", "lib/util.bash")} | {
        ("erin/deep", "a/b/c/deep.sh")
    }  # bob (Apache-2.0) is not allowed; the walk stops at 4 distinct scripts
    assert "github:" in done.stderr and "licence various" in done.stderr
    assert failed.returncode == DataError.exit_code and "Traceback" not in failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1 and "HTTP 401" in failed.stderr and "[token]" in failed.stderr
    assert TOKEN not in done.stdout + done.stderr + failed.stdout + failed.stderr


def test_the_token_does_not_follow_a_redirect_to_another_host() -> None:
    with FakeGitHub(standard_repos()) as other, FakeGitHub(standard_repos(), token=TOKEN) as gh:
        gh.fail(r"^/repos/alice/tools$", "redirect", location=f"{other.url}/repos/alice/tools")
        client = GitHubClient(gh.url, TOKEN, clock=FakeClock())
        assert client.get_json("/repos/alice/tools")["full_name"] == "alice/tools"
        assert other.seen and all("Authorization" not in s.headers for s in other.seen)
        assert TOKEN not in repr(client)
        gh.fail(r"^/repos/alice/tools$", "redirect", location="file:///etc/passwd")
        with pytest.raises(NetworkError, match="redirected to a non-HTTP URL"):
            client.get_json("/repos/alice/tools")


def test_a_token_is_never_sent_over_plain_http_off_loopback() -> None:
    with pytest.raises(UsageError, match="plain http"):
        GitHubClient("http://github.example.com/api/v3", TOKEN)
    with pytest.raises(UsageError, match="--api-url"):
        source.parse_options({"api_url": "ftp://x"})


# -- untrusted content, unit level --------------------------------------------------------------


@pytest.mark.parametrize(
    ("first_line", "expected"),
    [
        (b"#!/bin/sh", True),
        (b"#!/bin/bash -e", True),
        (b"#! /usr/bin/env bash", True),
        (b"#!/usr/bin/env -S bash -eu", True),
        (b"#!/usr/local/bin/dash", True),
        (b"#!/usr/bin/env zsh", False),
        (b"#!/usr/bin/python3", False),
        (b"#!", False),
        (b"echo hi", None),
    ],
)
def test_shebang(first_line: bytes, expected: bool | None) -> None:
    assert shebang_shell(first_line + b"\necho\n") is expected


def test_reject_reason_states_the_utf8_policy() -> None:
    assert reject_reason(b"#!/bin/sh\necho caf\xc3\xa9\n", "a.sh", 1000) is None  # UTF-8: kept
    assert reject_reason(b"#!/bin/sh\necho caf\xe9\n", "a.sh", 1000) == "not_utf8"  # latin-1: skipped, not guessed
    assert reject_reason(b"echo \x00", "a.sh", 1000) == "binary"
    assert reject_reason(b"echo hi\n" * 200, "a.sh", 1000) == "too_large"
    assert reject_reason(b"echo hi\n", "bin/run", 1000) == "not_shell"  # an executable needs a shebang
    assert reject_reason(b"#!/bin/sh\necho hi\n", "bin/run", 1000) is None


@pytest.mark.parametrize(
    "path", ["../x.sh", "a/../../x.sh", "/etc/x.sh", "a//b.sh", "./a.sh", "a\\b.sh", "a\nb.sh", ""]
)
def test_unsafe_paths(path: str) -> None:
    assert not safe_path(path)


@given(st.lists(st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=8), min_size=1, max_size=4))
def test_a_safe_path_never_escapes(parts: list[str]) -> None:
    path = "/".join(parts)
    if safe_path(path):
        root = Path("/data/root")
        assert os.path.normpath(root / path).startswith(str(root) + os.sep)


def test_next_link_and_option_validation() -> None:
    header = '<https://api.github.com/search/repositories?q=x&page=2>; rel="next", <https://x/?page=9>; rel="last"'
    assert next_link(header) == "https://api.github.com/search/repositories?q=x&page=2"
    assert next_link('<https://x/?page=1>; rel="prev"') is None
    assert source.parse_options({"license": "MIT, isc"}).licences == ("mit", "isc")
    for bad in ({"license": ""}, {"license": "mit;rm -rf"}, {"max_files": 0}, {"max_repos": "7"}, {"query": "a\nb"}):
        with pytest.raises(UsageError):
            source.parse_options(bad)
    with pytest.raises(UsageError, match="--timeout must be a positive number"):
        source.fetch(Path("unused"), api_url="http://127.0.0.1:9", timeout=0)


def test_iter_documents_refuses_a_tampered_listing(tmp_path: Path) -> None:
    row = {"repo": "a/b", "path": "x.sh", "commit": "c" * 40, "blob": "1" * 40, "licence": "MIT", "size": 3}
    row |= {"url": "u", "sha256": "../../../etc/passwd"}
    (tmp_path / "scripts.jsonl").write_text(json.dumps(row) + "\n")
    with pytest.raises(DataError, match="line 1 is not a valid record"):
        list(source.iter_documents(tmp_path))


def test_import_from_a_dataset_dir_fetched_elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeGitHub(standard_repos()) as gh:
        first = fetch(gh)
    exported = tmp_path / "carried"
    os.replace(dataset_path("github"), exported)
    monkeypatch.setenv("BASH_AI_HOME", str(tmp_path / "offline-home"))
    imported = fetch_dataset("github", from_path=exported)
    assert imported.fingerprint() == first.fingerprint()
    (
        exported / content_path(json.loads((exported / "scripts.jsonl").read_text().splitlines()[0])["sha256"])
    ).write_bytes(b"x")
    with pytest.raises(DataError, match="does not match its sha256"):
        fetch_dataset("github", from_path=exported, force=True)


def test_an_extensionless_executable_needs_a_shell_shebang() -> None:
    repo = FakeRepo(
        "zed/bin",
        "MIT",
        50,
        [
            FakeFile("bin/a", b"#!/bin/sh\necho a\n", "100755"),
            FakeFile("bin/b", b"echo b\n", "100755"),
            FakeFile("bin/c", b"#!/bin/sh\necho c\n"),
        ],
    )
    with FakeGitHub([repo]) as gh:
        fetch(gh)
    assert pairs(dataset_path("github")) == {("zed/bin", "bin/a")}  # bin/c is not executable: not a candidate


def git_id(data: bytes) -> str:
    from trainer.data.github.scraper import git_blob_id

    return git_blob_id(data)
