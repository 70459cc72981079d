"""``bash-ai train`` end to end through the real CLI: data -> tokenizer -> model -> engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def _bash_ai(*args: str, home: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BASH_AI_HOME": str(home), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "bash_ai", *args], capture_output=True, text=True, env=env, timeout=300
    )
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def home_with_nl2bash(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    home = tmp_path_factory.mktemp("train_home")
    _bash_ai("data", "fetch", "nl2bash", "--from", str(shared_data / "nl2bash"), home=home)
    return home


TINY = ["--model-size", "tiny", "--vocab-size", "320", "--batch-size", "4", "--warmup-steps", "2", "--threads", "1"]


@pytest.mark.slow
def test_finetune_then_resume_then_continue_in_mlx(home_with_nl2bash: Path, tmp_path: Path) -> None:
    home = home_with_nl2bash
    # A run stopped half-way (its checkpoint says step 6 of 12) ...
    first = _bash_ai(
        "train",
        "--stage",
        "finetune",
        "--data",
        "nl2bash",
        *TINY,
        "--num-steps",
        "6",
        "--ckpt-interval",
        "3",
        "--eval-interval",
        "3",
        "--name",
        "ft",
        home=home,
    )
    assert "val loss" in first.stderr
    run = home / "data" / "runs" / "ft"
    # The end cannot move back before the checkpoint ...
    early = _bash_ai("train", "--resume", "--name", "ft", "--num-steps", "4", home=home, check=False)
    assert early.returncode == 2 and "above the checkpoint's step 6" in early.stderr, early.stderr
    # ... but moves on: the run is extended, then resumed exactly from its checkpoint.
    _bash_ai("train", "--resume", "--name", "ft", "--num-steps", "12", "--stop-after", "3", home=home)
    assert json.loads((run / "train_config.json").read_text())["num_steps"] == 12
    assert json.loads((run / "latest" / "state" / "state.json").read_text())["step"] == 9  # stopped, resumable
    _bash_ai("train", "--resume", "--name", "ft", home=home)
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines() if "loss" in line]
    assert steps[-1] == 12 and (run / "loss.png").stat().st_size > 1000

    # The PyTorch model continues in MLX (same weight names), then answers through the engine.
    out = tmp_path / "exported"
    _bash_ai(
        "train",
        "--stage",
        "finetune",
        "--backend",
        "mlx",
        "--data",
        "nl2bash",
        "--init",
        str(run / "model"),
        "--num-steps",
        "2",
        "--batch-size",
        "2",
        "--warmup-steps",
        "1",
        "--name",
        "ft-mlx",
        "--out",
        str(out),
        "--out-dtype",
        "float16",
        home=home,
    )
    answer = _bash_ai("--model", str(out), "--json", "list files", home=home)
    payload = json.loads(answer.stdout)
    assert payload["candidates"], payload

    # The model card is written from the run's own records.
    env = {**os.environ, "BASH_AI_HOME": str(home)}
    subprocess.run(
        [sys.executable, "-m", "trainer.model_card", str(home / "data" / "runs" / "ft-mlx"), str(out)],
        check=True,
        env=env,
        timeout=60,
    )
    card = (out / "MODEL_CARD.md").read_text()
    assert "| nl2bash | MIT" in card and "f16" in card and "2 steps x 2 rows" in card


def test_train_rejects_bad_options_with_one_line(tmp_path: Path) -> None:
    proc = _bash_ai("train", "--stage", "nonsense", home=tmp_path, check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "unknown stage" in proc.stderr
    proc = _bash_ai("train", "--resume", "--name", "nope", home=tmp_path, check=False)
    assert proc.returncode == 2 and "no checkpoint to resume" in proc.stderr
    proc = _bash_ai("train", "--data", "nl2bash", "--num-steps", "1", home=tmp_path, check=False)
    assert proc.returncode == 4 and "Traceback" not in proc.stderr, proc.stderr
    proc = _bash_ai("train", "--targets", "args", home=tmp_path, check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "--targets must be command, template or hinted (got 'args')" in proc.stderr


def test_a_structure_model_trains_on_templates_and_resumes_as_one(home_with_nl2bash: Path) -> None:
    """``--targets template``: NL2Bash pairs with their arguments abstracted, in windows that start at a
    pair; the run's config keeps the choice, so ``--resume`` tokenizes (and trains) the same way."""
    home = home_with_nl2bash
    args = ["--data", "nl2bash", *TINY, "--ckpt-interval", "2", "--eval-interval", "2", "--name", "tmpl"]
    _bash_ai("train", "--stage", "finetune", "--targets", "template", "--num-steps", "2", *args, home=home)
    run = home / "data" / "runs" / "tmpl"
    config = json.loads((run / "train_config.json").read_text())
    assert config["targets"] == "template" and config["aligned_windows"] is True
    caches = [json.loads(p.read_text()) for p in (home / "cache" / "tokenized").glob("*/meta.json")]
    mine = [m for m in caches if m.get("targets") == "template"]
    assert len(mine) == 1 and mine[0]["documents"]["bash.train"] > 10_000
    _bash_ai("train", "--resume", "--name", "tmpl", "--num-steps", "3", home=home)
    assert len([p for p in (home / "cache" / "tokenized").glob("*/meta.json")]) == len(caches)  # reused
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines() if "loss" in line]
    assert steps[-1] == 3


@pytest.mark.slow
def test_torchrun_two_processes_through_the_cli(home_with_nl2bash: Path) -> None:
    torchrun = str(Path(sys.executable).with_name("torchrun"))
    env = {**os.environ, "BASH_AI_HOME": str(home_with_nl2bash), "OMP_NUM_THREADS": "1"}
    args = ["train", "--stage", "finetune", "--data", "nl2bash", *TINY, "--num-steps", "3", "--name", "ddp"]
    proc = subprocess.run(
        [torchrun, "--standalone", "--nproc_per_node=2", "-m", "bash_ai", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = home_with_nl2bash / "data" / "runs" / "ddp"
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if "loss" in r] == [3]  # one writer: rank 0
    assert (run / "model" / "model.safetensors").is_file()
