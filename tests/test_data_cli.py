"""``bash-ai data``: the real CLI in a subprocess, with BASH_AI_HOME in a temp dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bash_ai.errors import DataError


def _run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BASH_AI_HOME": str(home), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "bash_ai", "data", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_fetch_then_list(shared_data: Path, tmp_path: Path) -> None:
    done = _run("fetch", "nl2bash", "--from", str(shared_data / "nl2bash"), home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and "train 11,046, dev 779, test 782" in done.stderr and "licence MIT" in done.stderr
    done = _run("fetch", "tinystories", "--from", str(shared_data / "tinystories" / "sample-a.txt"), home=tmp_path)
    assert done.returncode == 0, done.stderr

    again = _run("fetch", "nl2bash", "--from", str(shared_data / "nl2bash"), home=tmp_path)
    assert again.returncode == 0 and "already fetched" in again.stderr

    listing = _run("list", home=tmp_path)
    assert listing.returncode == 0
    header, *rows = listing.stdout.splitlines()
    assert header.split() == ["name", "source", "licence", "files", "size", "fetched"]
    assert [r.split()[:4] for r in rows] == [
        ["nl2bash", "nl2bash", "MIT", "7"],
        ["tinystories", "tinystories", "CDLA-Sharing-1.0", "1"],
    ]

    as_json = json.loads(_run("list", "--json", home=tmp_path).stdout)
    assert [r["name"] for r in as_json] == ["nl2bash", "tinystories"]
    assert as_json[1]["size_bytes"] == (shared_data / "tinystories" / "sample-a.txt").stat().st_size
    assert _run("verify", "nl2bash", home=tmp_path).returncode == 0


def test_errors_are_one_line(tmp_path: Path) -> None:
    cases = [
        (("fetch", "wikipedia"), "unknown data source 'wikipedia'"),
        (("fetch", "tldr", "--from", str(tmp_path / "missing")), "does not exist"),
        (("fetch", "nl2bash", "--url", "http://127.0.0.1:9/x"), "could not reach http://127.0.0.1:9/x/all.nl"),
        (("verify", "tldr"), "not a fetched dataset"),
    ]
    for args, message in cases:
        done = _run(*args, home=tmp_path)
        assert done.returncode == DataError.exit_code, (args, done.stderr)
        assert done.stderr.startswith("bash-ai: error: ") and message in done.stderr
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "data" / "datasets" / "nl2bash").exists()


def test_cli_start_up_does_not_import_the_data_layer() -> None:
    code = (
        "import sys; from bash_ai.cli.app import build_app; build_app(); "
        "bad = [m for m in ('trainer', 'trainer.data', 'huggingface_hub') if m in sys.modules]; "
        "print(bad)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
