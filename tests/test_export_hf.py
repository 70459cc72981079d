"""``bash-ai models export --format hf``: transformers loads the export without our code, and it
computes what our runtime computes (ids, logits within 1e-4, the greedy answer)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from bash_ai.errors import UsageError

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

PROMPTS = ["list files sorted by size", "count lines in *.py", "say hello", "ünïcode ✓ and 'quotes'"]


@pytest.fixture(scope="module")
def exported(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from bash_ai.export import export_hf

    return export_hf(tiny_model_dir, tmp_path_factory.mktemp("export") / "hf")


def test_transformers_loads_the_export_and_matches_our_runtime(tiny_model_dir: Path, exported: Path) -> None:
    from bash_ai.registry import load

    engine = load(str(tiny_model_dir))
    assert engine.config.n_kv_head < engine.config.n_head  # the GQA heads are expanded on export
    model = transformers.AutoModelForCausalLM.from_pretrained(str(exported)).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(exported))
    for request in PROMPTS:
        ids = engine.task_ids("ask", request)
        assert tokenizer(engine.tokenizer.decode(ids))["input_ids"] == ids
        ours = np.asarray(engine.model.forward(np.asarray([ids]), engine.model.new_cache(1)))[0]
        with torch.no_grad():
            theirs = model(torch.tensor([ids])).logits[0].numpy()
        assert np.abs(ours - theirs).max() < 1e-4
        greedy = model.generate(
            torch.tensor([ids]),
            max_new_tokens=12,
            do_sample=False,
            eos_token_id=engine.eot_id,
            pad_token_id=engine.eot_id,
        )
        assert greedy[0][len(ids) :].tolist() == _our_greedy(engine, ids, 12)


def _our_greedy(engine: object, ids: list[int], steps: int) -> list[int]:
    """Greedy continuation on our numpy runtime, token by token, up to end-of-text (kept)."""
    out: list[int] = []
    for _ in range(steps):
        logits = np.asarray(engine.model.forward(np.asarray([ids + out]), engine.model.new_cache(1)))  # type: ignore[attr-defined]
        out.append(int(logits[0, -1].argmax()))
        if out[-1] == engine.eot_id:  # type: ignore[attr-defined]
            break
    return out


def test_the_export_holds_the_files_and_the_prompt_format(exported: Path) -> None:
    names = {p.name for p in exported.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "README.md"} <= names
    config = json.loads((exported / "config.json").read_text())
    assert config["model_type"] == "gpt2" and config["activation_function"] == "gelu_new"
    assert "<|request|>" in (exported / "README.md").read_text()
    # Readable as any other files the user writes (temp directories and safetensors default to 0700/0600).
    from bash_ai.io import current_umask

    assert exported.stat().st_mode & 0o777 == 0o777 & ~current_umask()
    assert {p.stat().st_mode & 0o777 for p in exported.iterdir()} == {0o666 & ~current_umask()}


def test_configs_gpt2_cannot_represent_are_refused(tiny_model_dir: Path, tmp_path: Path) -> None:
    from bash_ai.export import export_hf

    rope = tmp_path / "rope"
    shutil.copytree(tiny_model_dir, rope)
    data = json.loads((rope / "config.json").read_text())
    data["pos_encoding"] = "rope"
    (rope / "config.json").write_text(json.dumps(data))
    with pytest.raises(UsageError, match="cannot export to the hf format exactly: rope positions"):
        export_hf(rope, tmp_path / "out")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(UsageError, match="not empty"):
        export_hf(tiny_model_dir, tmp_path / "full")


def test_cli_export_and_its_errors(tiny_model_dir: Path, tmp_path: Path) -> None:
    import subprocess

    run = [sys.executable, "-m", "bash_ai", "models", "export", str(tiny_model_dir)]
    done = subprocess.run([*run, "--out", str(tmp_path / "o")], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and Path(done.stdout.strip()) == tmp_path / "o", done.stderr
    bad = subprocess.run([*run, "--out", str(tmp_path / "p"), "--format", "gguf"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "unknown format 'gguf'" in bad.stderr
