"""Model resolution, loading, listing and checksums, on real tiny checkpoints in tmp dirs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bash_ai import paths, registry
from bash_ai.config import preset
from bash_ai.engine import Engine, SamplingParams
from bash_ai.errors import ModelError, NetworkError, UsageError
from bash_ai.io import sha256_file
from bash_ai.model_files import CONFIG_FILE, PARTS, TOKENIZER_FILE, WEIGHTS_FILE

TESTS = Path(__file__).resolve().parent


def make_tokenizer() -> object:
    from bash_ai.tokenizer import train_tokenizer

    text = "list files by size\nls -la | sort -k5 -n\nfind . -name '*.py' -exec grep -n TODO {} +\n" * 4
    return train_tokenizer(text, vocab_size=300)


def save_tiny(directory: Path, seed: int = 0) -> Path:
    from bash_ai.checkpoint import random_weights, save_model_dir

    tokenizer = make_tokenizer()
    config = preset("tiny", vocab_size=tokenizer.vocab_size)  # type: ignore[attr-defined]
    save_model_dir(directory, config, random_weights(config, seed, std=0.2), tokenizer)
    return directory


@pytest.fixture(scope="module")
def tiny_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture
def tiny(tiny_source: Path, tmp_path: Path) -> Path:
    """A fresh copy per test (tests corrupt it)."""
    import shutil

    return Path(shutil.copytree(tiny_source, tmp_path / "tiny"))


def install(src: Path, name: str) -> Path:
    import shutil

    return Path(shutil.copytree(src, paths.models_dir() / registry.dir_name(name)))


@pytest.fixture
def bundled(tiny_source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the bundled model at a tmp copy (the real one is a release artefact)."""
    import shutil

    target = Path(shutil.copytree(tiny_source, tmp_path / "assets" / "model"))
    monkeypatch.setattr(paths, "bundled_model_dir", lambda: target)
    return target


# -- names and settings ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mini", "org/model", "a.b_c-1", "Org/Mini-2.0"])
def test_valid_names_round_trip(name: str) -> None:
    assert registry.is_model_name(name)
    assert "/" not in registry.dir_name(name)
    assert registry.name_of_dir(registry.dir_name(name)) == name


@pytest.mark.parametrize("name", ["", "a/b/c", "../x", "a--b", "org/..", "-x", "a b", "default", "bundled", "/abs"])
def test_invalid_names(name: str) -> None:
    assert not registry.is_model_name(name)
    with pytest.raises(UsageError, match="invalid model name"):
        registry.dir_name(name)


def test_default_setting_round_trip_keeps_other_keys() -> None:
    paths.ensure(paths.config_dir())
    paths.settings_file().write_text(json.dumps({"theme": "dark"}))
    assert registry.default_model_name() is None
    registry.set_default_model("org/model")
    assert registry.default_model_name() == "org/model"
    assert json.loads(paths.settings_file().read_text())["theme"] == "dark"
    registry.set_default_model(None)
    assert registry.default_model_name() is None


def test_corrupt_settings_are_a_usage_error() -> None:
    paths.ensure(paths.config_dir())
    paths.settings_file().write_text("{not json")
    with pytest.raises(UsageError, match="settings.json"):
        registry.default_model_name()


# -- resolution order ------------------------------------------------------------------------


def test_none_and_default_mean_the_bundled_model(bundled: Path) -> None:
    assert registry.resolve_model_dir(None) == bundled
    assert registry.resolve_model_dir("default") == bundled
    assert registry.resolve_model_dir("bundled") == bundled


def test_chosen_default_wins_over_bundled(bundled: Path, tiny: Path) -> None:
    mine = install(tiny, "mine")
    registry.set_default_model("mine")
    assert registry.resolve_model_dir(None) == mine
    assert registry.resolve_model_dir("bundled") == bundled
    registry.set_default_model(str(tiny))  # a directory is stored as an absolute path
    assert registry.default_model_name() == str(tiny.resolve())
    assert registry.resolve_model_dir("default") == tiny.resolve()


def test_local_directory_comes_before_an_installed_name(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed = install(tiny, "tiny")
    assert registry.resolve_model_dir("tiny") == installed
    monkeypatch.chdir(tmp_path)  # now ./tiny exists
    assert registry.resolve_model_dir("tiny") == tiny.resolve()
    assert registry.resolve_model_dir(tiny) == tiny.resolve()


def test_org_names_live_in_safe_directories(tiny: Path) -> None:
    installed = install(tiny, "org/model")
    assert installed.name == "org--model"
    assert registry.resolve_model_dir("org/model") == installed


def test_missing_models_name_the_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelError, match="no model named 'nope'"):
        registry.resolve_model_dir("nope")
    with pytest.raises(ModelError, match="no such model directory"):
        registry.resolve_model_dir(str(tmp_path / "absent"))
    with pytest.raises(UsageError, match="empty model name"):
        registry.resolve_model_dir(" ")
    monkeypatch.setattr(paths, "bundled_model_dir", lambda: tmp_path / "no-assets" / "model")
    with pytest.raises(ModelError, match="bundled model is missing at .*no-assets"):
        registry.resolve_model_dir(None)


def test_hub_id_offline_is_one_clear_network_error() -> None:
    with pytest.raises(NetworkError, match="HF_HUB_OFFLINE") as info:
        registry.resolve_model_dir("someone/not-installed")
    assert "\n" not in str(info.value)


# -- corrupt directories ---------------------------------------------------------------------


def test_missing_files_are_named(tiny: Path) -> None:
    (tiny / WEIGHTS_FILE).unlink()
    with pytest.raises(ModelError, match=f"{tiny}.*missing {WEIGHTS_FILE}"):
        registry.resolve_model_dir(str(tiny))


def test_garbage_config_is_a_model_error(tiny: Path) -> None:
    (tiny / "config.json").write_text("{")
    with pytest.raises(ModelError, match="config.json"):
        registry.load(str(tiny))


def test_truncated_weights_are_a_model_error(tiny: Path) -> None:
    weights = tiny / WEIGHTS_FILE
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(ModelError, match=str(tiny)):
        registry.load(str(tiny))


def test_garbage_tokenizer_is_a_model_error(tiny: Path) -> None:
    (tiny / TOKENIZER_FILE).write_text("not a tokenizer")
    with pytest.raises(ModelError):
        registry.load(str(tiny))


# -- checksums -------------------------------------------------------------------------------


def test_checksums_round_trip_and_detect_tampering(tiny: Path) -> None:
    manifest = registry.write_checksums(tiny)
    lines = manifest.read_text().splitlines()
    assert len(lines) == len(registry.verify_model_dir(tiny)) >= 3
    result = registry.verify_model_dir(tiny)
    assert result.manifest and dict(result)["config.json"] == sha256_file(tiny / "config.json")
    out = subprocess.run(["sha256sum", "-c", "--quiet", manifest.name], cwd=tiny, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr

    (tiny / "README.md").write_text("extra")
    with pytest.raises(ModelError, match="README.md is not listed"):
        registry.verify_model_dir(tiny)
    (tiny / "README.md").unlink()
    config = json.loads((tiny / "config.json").read_text())
    (tiny / "config.json").write_text(json.dumps(config, indent=4))
    with pytest.raises(ModelError, match="config.json does not match"):
        registry.verify_model_dir(tiny)
    manifest.write_text("nonsense\n")
    with pytest.raises(ModelError, match="line 1"):
        registry.verify_model_dir(tiny)


def test_verify_without_manifest_still_loads_strictly(tiny: Path) -> None:
    result = registry.verify_model_dir(tiny)
    assert not result.manifest and {f for f, _ in result} >= {"config.json", WEIGHTS_FILE}


# -- loading, listing ------------------------------------------------------------------------


def test_load_returns_a_working_engine(tiny: Path) -> None:
    engine = registry.load(str(tiny))
    assert isinstance(engine, Engine) and engine.model_dir == tiny.resolve() and engine.name == "tiny"
    params = SamplingParams(seed=3, max_tokens=12)
    first = engine.ask("list files", params, n=2)
    assert len(first) == 2 and all(f.n_tokens >= 1 for f in first)
    assert first == engine.ask("list files", params, n=2)


def test_list_models_has_bundled_first_with_sizes(bundled: Path, tiny: Path) -> None:
    install(tiny, "org/model")
    install(tiny, "alpha")
    entries = registry.list_models()
    assert [e.name for e in entries] == ["bundled", "alpha", "org/model"]
    assert entries[0].bundled and not entries[1].bundled
    size = sum(f.stat().st_size for f in tiny.rglob("*") if f.is_file())
    assert all(e.size_bytes == size for e in entries)
    assert "params" in entries[1].description


def test_partial_downloads_are_not_listed(tiny: Path) -> None:
    install(tiny, "good")
    paths.ensure(paths.models_dir() / ".good.x.partial")
    assert [e.name for e in registry.list_models() if not e.bundled] == ["good"]


# -- the Hub (a real HTTP server on loopback) ------------------------------------------------

PULL = """
import sys
from bash_ai import registry
from bash_ai.errors import BashAIError
try:
    print(registry.resolve_model_dir(sys.argv[1]))
except BashAIError as err:
    print(type(err).__name__, err)
"""


def _run_pull(hub_url: str, name: str) -> str:
    env = {**os.environ, "HF_HUB_OFFLINE": "0", "HF_ENDPOINT": hub_url, "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
    out = subprocess.run([sys.executable, "-c", PULL, name], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_hub_repo_ids_download_verify_and_install(tiny: Path) -> None:
    sys.path.insert(0, str(TESTS))
    try:
        from fake_hub import FakeHub
    finally:
        sys.path.remove(str(TESTS))
    registry.write_checksums(tiny)
    files = {f.name: f.read_bytes() for f in tiny.iterdir()}
    with FakeHub() as hub:
        hub.add_repo("org/tiny", files)
        broken = dict(files, **{"config.json": files["config.json"] + b" "})
        hub.add_repo("org/broken", broken)
        got = _run_pull(hub.url, "org/tiny")
        missing = _run_pull(hub.url, "org/absent")
        bad = _run_pull(hub.url, "org/broken")
    target = paths.models_dir() / "org--tiny"
    assert got == str(target)
    assert registry.verify_model_dir(target).manifest
    assert registry.resolve_model_dir("org/tiny") == target  # now installed: no network needed
    assert missing.startswith("ModelError") and "org/absent" in missing
    assert bad.startswith("ModelError") and "config.json does not match" in bad
    leftovers = [p.name for p in paths.models_dir().iterdir()]
    assert leftovers == ["org--tiny"]


def test_unreachable_hub_is_a_network_error() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    out = _run_pull(f"http://127.0.0.1:{port}", "org/model")
    assert out.startswith("NetworkError") and "org/model" in out and "\n" not in out


# -- import cost -----------------------------------------------------------------------------

LEAN = """
import sys
from bash_ai import registry
from bash_ai.engine import SamplingParams
engine = registry.load(sys.argv[1])
assert engine.ask("list files", SamplingParams(seed=0, max_tokens=4))
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"torch", "mlx", "fastapi", "uvicorn", "tokenizers",
                "huggingface_hub", "rich", "typer"})
print(heavy)
"""


def test_loading_and_generating_imports_no_framework(tiny: Path) -> None:
    out = subprocess.run([sys.executable, "-c", LEAN, str(tiny)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_pull_takes_every_part_a_model_answers_with() -> None:
    """``models pull`` downloads what the engine reads: the weights, tokenizer and every part
    (index, reranker, structure model) by the same names the loaders use."""
    import fnmatch

    for name in (CONFIG_FILE, WEIGHTS_FILE, TOKENIZER_FILE, *PARTS):
        assert any(fnmatch.fnmatch(name, pattern) for pattern in registry.PULL_FILES), name
