"""Start-up stays lean: the CLI never imports a training or serving framework, and a one-shot
answer does not even load the REPL's or rich's modules when stderr is not a terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("torch", "mlx", "fastapi", "uvicorn", "trainer", "tokenizers", "matplotlib")
NOT_FOR_ONE_SHOT = ("prompt_toolkit", "pygments", "rich", "huggingface_hub")

# Runs the real entry point, then reports every module that was imported.
PROBE = """
import atexit, json, os, sys
atexit.register(lambda: open(os.environ["MODULES_OUT"], "w").write(json.dumps(sorted(sys.modules))))
from bash_ai.cli.app import main
main(sys.argv[1:])
"""


def loaded_modules(
    tmp_path: Path, *args: str, stdin: bytes = b""
) -> tuple[set[str], subprocess.CompletedProcess[bytes]]:
    out = tmp_path / "modules.json"
    env = {**os.environ, "MODULES_OUT": str(out)}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args], input=stdin, capture_output=True, env=env, cwd=tmp_path, timeout=60
    )
    return set(json.loads(out.read_text())), result


def roots(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_help_imports_nothing_heavy(tmp_path: Path) -> None:
    modules, result = loaded_modules(tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    assert b"ask" in result.stdout
    assert not roots(modules) & set(HEAVY)


def test_one_shot_generation_stays_lean(tmp_path: Path, tiny_model_dir: Path) -> None:
    modules, result = loaded_modules(tmp_path, "--model", str(tiny_model_dir), "list files sorted by size")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    loaded = roots(modules)
    assert "numpy" in loaded and "bash_ai" in loaded  # the probe did see the real work
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
    assert not loaded & set(NOT_FOR_ONE_SHOT), sorted(loaded & set(NOT_FOR_ONE_SHOT))
    assert "numpy.ma" not in modules  # np.unique's helpers import it: ~8 ms of every cold answer
