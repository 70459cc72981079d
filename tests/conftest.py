"""Shared fixtures: every test gets its own BASH_AI_HOME; the licensed data pack is located once."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
IN_CI = "BASH_AI_CI"  # .ci/run sets it to 1: a missing system tool is then a failure, not a skip


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "tool(*names): drives these system programs (skip when missing; CI fails)")


def pytest_runtest_setup(item: pytest.Item) -> None:
    """``@pytest.mark.tool("bwrap", ...)``: the test drives these programs for real. On a fresh
    machine without one it is skipped with a one-line reason; in CI it fails instead."""
    import os
    import shutil

    for mark in item.iter_markers("tool"):
        missing = [name for name in mark.args if shutil.which(name) is None]
        if missing:
            reason = f"needs {', '.join(missing)} (not installed; .ci/run installs it)"
            if os.environ.get(IN_CI) == "1":
                pytest.fail(f"CI: {reason}", pytrace=False)
            pytest.skip(reason)


@pytest.fixture(autouse=True)
def bash_ai_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every path bash-ai uses at a fresh temp dir, and keep tests off the real Hub."""
    home = tmp_path_factory.mktemp("bash_ai_home")
    monkeypatch.setenv("BASH_AI_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(home / "hf"))
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    monkeypatch.delenv("BASH_AI_API_KEY", raising=False)
    return home


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The offline data pack (../shared/data from the project root)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the data pack is missing at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``tiny`` model with random weights (answers are noise): for structure, not content."""
    from fixtures_model import build_random_model, shared_model

    return shared_model(tmp_path_factory.getbasetemp(), "tiny-random", build_random_model)


@pytest.fixture(scope="session")
def trained_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small model trained (PyTorch, a few seconds) to reproduce ``fixtures_model.PAIRS``."""
    from fixtures_model import build_trained_model, shared_model

    return shared_model(tmp_path_factory.getbasetemp(), "tiny-trained", build_trained_model)
