"""Real training steps on tiny configs: learning, DDP parity, cross-framework continuation."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from train_helpers import ByteTokenizerFile, PatternSource

from bash_ai.checkpoint import load_weights
from bash_ai.config import preset
from trainer.loop import TrainJob
from trainer.run_dir import RunDir
from trainer.train_config import TrainConfig

HERE = Path(__file__).resolve().parent


def _cfg(backend: str, steps: int, **kw: object) -> TrainConfig:
    base = dict(
        backend=backend,
        num_steps=steps,
        batch_size=8,
        warmup_steps=2,
        lr=3e-3,
        log_interval=5,
        eval_interval=steps,
        ckpt_interval=steps,
        eval_batches=2,
        device="cpu",
    )
    base.update(kw)
    return TrainConfig(**base)  # type: ignore[arg-type]


def test_torch_loop_learns_and_writes_a_model(tmp_path: Path) -> None:
    from trainer.loop_torch import train_torch

    run = RunDir(tmp_path / "run")
    config = preset("tiny", 16, context_length=32)
    summary = train_torch(
        TrainJob(
            _cfg("torch", 60),
            config,
            ByteTokenizerFile(),
            PatternSource(16, 8, 32),
            PatternSource(16, 8, 32, seed=5),
            run,
        )
    )
    losses = [r["loss"] for r in run.metrics() if "loss" in r]
    assert summary["finished"] and losses[-1] < 0.6 * losses[0]
    vals = [r["val_loss"] for r in run.metrics() if "val_loss" in r]
    assert vals and vals[-1] < np.log(16)  # better than uniform
    saved_config, weights = load_weights(run.final_model)
    assert saved_config == config and "tok_emb.weight" in weights
    _check_step_records(run, summary)


def test_bf16_autocast_matches_fp32_loss_on_a_tiny_config(tmp_path: Path) -> None:
    """bf16 matmuls with fp32 master weights learn like fp32: same data, same init, 60 steps."""
    from trainer.loop_torch import train_torch

    finals = {}
    for precision in ("fp32", "bf16"):
        run = RunDir(tmp_path / precision)
        config = preset("tiny", 16, context_length=32)
        train_torch(
            TrainJob(
                _cfg("torch", 60, precision=precision, seed=3),
                config,
                ByteTokenizerFile(),
                PatternSource(16, 8, 32),
                PatternSource(16, 8, 32, seed=5),
                run,
            )
        )
        finals[precision] = [r["val_loss"] for r in run.metrics() if "val_loss" in r][-1]
    assert finals["fp32"] < 0.8 * np.log(16)  # it learned something, so the comparison means something
    assert abs(finals["bf16"] - finals["fp32"]) <= 0.05 * finals["fp32"], finals


def _tiny_model_and_batch() -> tuple[Any, Any, Any]:
    """A tiny PyTorch GPT over 16 token ids (seeded) and a (2, 32) batch of ids."""
    import torch

    from bash_ai.model.torch_gpt import GPT

    config = preset("tiny", 16, context_length=32)
    torch.manual_seed(0)
    return config, GPT(config), torch.randint(0, 16, (2, 32))


def test_dropout_and_label_smoothing_act_in_training_only(tmp_path: Path) -> None:
    """Dropout makes two training forwards differ and leaves eval exact; smoothing raises a
    confident loss; a run with both still learns, and its saved model is the plain spec."""
    import torch

    from bash_ai.model.torch_gpt import GPT
    from trainer.loop_torch import train_torch

    config, model, x = _tiny_model_and_batch()
    with torch.no_grad():
        model.train()
        plain, _ = model(x)
        model.dropout = 0.2
        first, _ = model(x)
        second, _ = model(x)
        assert not torch.allclose(first, second) and not torch.allclose(first, plain)
        model.eval()
        assert torch.equal(model(x)[0], plain)  # eval: no dropout at all

        model.dropout = 0.0
        model.train()
        _, sharp = model(x, x)
        model.label_smoothing = 0.1
        _, smoothed = model(x, x)
        model.eval()
        _, evaluated = model(x, x)
        assert smoothed is not None and sharp is not None and evaluated is not None
        assert smoothed.item() != sharp.item() and evaluated.item() == sharp.item()

    run = RunDir(tmp_path / "run")
    summary = train_torch(
        TrainJob(
            _cfg("torch", 60, dropout=0.1, label_smoothing=0.1, seed=3),
            config,
            ByteTokenizerFile(),
            PatternSource(16, 8, 32),
            PatternSource(16, 8, 32, seed=5),
            run,
        )
    )
    vals = [r["val_loss"] for r in run.metrics() if "val_loss" in r]
    assert summary["finished"] and vals[-1] < 0.8 * np.log(16)
    saved_config, weights = load_weights(run.final_model)
    assert saved_config == config and set(weights) == set(GPT(config).state_dict())


def test_attention_dropout_is_its_own_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    """``attention_dropout`` sets the rate on the attention weights alone (None: ``dropout``'s); 0
    there keeps residual dropout acting, and eval passes 0 everywhere."""
    import torch
    import torch.nn.functional as F

    rates: list[float] = []
    real = F.scaled_dot_product_attention

    def spy(*args: object, dropout_p: float = 0.0, **kwargs: object) -> torch.Tensor:
        rates.append(dropout_p)
        return real(*args, dropout_p=dropout_p, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(F, "scaled_dot_product_attention", spy)
    config, model, x = _tiny_model_and_batch()
    with torch.no_grad():
        model.eval()
        plain, _ = model(x)
        model.train()
        for dropout, attention, expected in [(0.2, None, 0.2), (0.2, 0.0, 0.0), (0.0, 0.3, 0.3)]:
            model.dropout, model.attention_dropout = dropout, attention
            rates.clear()
            out, _ = model(x)
            assert rates == [expected] * config.n_layer
            assert not torch.allclose(out, plain)  # something dropped in every case
        model.eval()
        rates.clear()
        assert torch.equal(model(x)[0], plain) and rates == [0.0] * config.n_layer


def test_regularisation_options_are_checked() -> None:
    from bash_ai.errors import UsageError

    with pytest.raises(UsageError, match="--dropout must be within"):
        TrainConfig(dropout=1.0)
    with pytest.raises(UsageError, match="--attention-dropout must be within"):
        TrainConfig(dropout=0.1, attention_dropout=1.5)
    with pytest.raises(UsageError, match="--label-smoothing must be within"):
        TrainConfig(label_smoothing=-0.1)
    with pytest.raises(UsageError, match="PyTorch settings"):
        TrainConfig(backend="mlx", dropout=0.1)


def test_precision_auto_picks_bf16_only_where_it_is_native() -> None:
    import torch

    from trainer.loop_torch import cpu_has_native_bf16, resolve_precision

    cpu = torch.device("cpu")
    assert resolve_precision("fp32", cpu) == "fp32" and resolve_precision("bf16", cpu) == "bf16"
    assert resolve_precision("auto", cpu) == ("bf16" if cpu_has_native_bf16() else "fp32")


def _check_step_records(run: RunDir, summary: dict) -> None:
    """Both loops log the same step record (trainer.progress.StepLogger): what the model card reads."""
    steps = [r for r in run.metrics() if "loss" in r]
    assert all(set(r) == {"step", "loss", "lr", "tokens_per_s", "tokens", "elapsed_s"} for r in steps)
    assert steps[-1]["step"] == summary["steps"] and steps[-1]["tokens"] == summary["tokens"]
    assert all(r["tokens_per_s"] > 0 for r in steps)
    assert [r["elapsed_s"] for r in steps] == sorted(r["elapsed_s"] for r in steps)


def test_mlx_loop_learns_and_continues_in_torch(tmp_path: Path) -> None:
    """MLX-trained weights load into the PyTorch loop and keep improving from where they were."""
    from trainer.loop_mlx import train_mlx
    from trainer.loop_torch import evaluate_torch, train_torch

    config = preset("tiny", 16, context_length=32)
    mlx_run = RunDir(tmp_path / "mlx")
    summary = train_mlx(TrainJob(_cfg("mlx", 30), config, ByteTokenizerFile(), PatternSource(16, 8, 32), None, mlx_run))
    losses = [r["loss"] for r in mlx_run.metrics() if "loss" in r]
    assert losses[-1] < 0.8 * losses[0]
    _check_step_records(mlx_run, summary)

    import torch

    from bash_ai.checkpoint import load_into_torch
    from bash_ai.model.torch_gpt import GPT

    _, weights = load_weights(mlx_run.final_model)
    model = GPT(config)
    load_into_torch(model, weights)
    val = PatternSource(16, 8, 32, seed=9)
    start_loss = evaluate_torch(model, val.fixed_batches(2), torch.device("cpu"))
    assert start_loss < 0.9 * np.log(16)  # the MLX training carried over

    torch_run = RunDir(tmp_path / "torch")
    train_torch(
        TrainJob(
            _cfg("torch", 20, lr=1e-3),
            config,
            ByteTokenizerFile(),
            PatternSource(16, 8, 32, seed=3),
            None,
            torch_run,
            init_weights=weights,
        )
    )
    _, after = load_weights(torch_run.final_model)
    load_into_torch(model, after)
    assert evaluate_torch(model, val.fixed_batches(2), torch.device("cpu")) < start_loss


@pytest.mark.slow
def test_ddp_two_processes_match_one_process_with_the_same_global_batch(tmp_path: Path) -> None:
    torchrun = shutil.which("torchrun") or str(Path(sys.executable).with_name("torchrun"))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    single = subprocess.run(
        [sys.executable, str(HERE / "ddp_worker.py"), str(tmp_path / "one"), "8", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert single.returncode == 0, single.stderr[-2000:]

    def run_two(out: Path) -> subprocess.CompletedProcess[str]:
        command = [torchrun, "--standalone", "--nproc_per_node=2", str(HERE / "ddp_worker.py"), str(out), "4", "2"]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=180)

    double = run_two(tmp_path / "two")
    if double.returncode != 0 and "Signal 6 (SIGABRT)" in double.stderr:
        # A rank aborted by gloo under a loaded machine (2026-12-06: once in a clean-clone CI run beside
        # the other test worker; not reproduced in 11 runs alone or beside a CPU burner). One more run,
        # in a fresh directory; a second failure fails with both runs' output.
        first = double.stderr
        double = run_two(tmp_path / "two-again")
        if (tmp_path / "two").exists():
            (tmp_path / "two").rename(tmp_path / "two-aborted")
        (tmp_path / "two-again").rename(tmp_path / "two")
        assert double.returncode == 0, f"first run:\n{first[:3000]}\nsecond run:\n{double.stderr[:3000]}"
    assert double.returncode == 0, double.stderr[:3000] + "\n...\n" + double.stderr[-2000:]
    one = json.loads(single.stdout.strip().splitlines()[-1])
    two = json.loads(double.stdout.strip().splitlines()[-1])
    # Seen to fail once in ~20 full runs, not reproduced since: keep what a failure needs to be read.
    context = f"1 process: {single.stdout[-500:]}\n2 processes: {double.stdout[-500:]}{double.stderr[-1500:]}"
    assert len(one) == len(two) == 6, context
    np.testing.assert_allclose(two, one, rtol=1e-4, atol=1e-5, err_msg=context)
    _, w_one = load_weights(tmp_path / "one" / "model")
    _, w_two = load_weights(tmp_path / "two" / "model")
    for name in w_one:
        np.testing.assert_allclose(w_two[name], w_one[name], rtol=1e-3, atol=1e-5, err_msg=name)


def _state_step(run: Path) -> int:
    try:
        return json.loads((run / "latest" / "state" / "state.json").read_text())["step"]
    except (OSError, ValueError, KeyError):
        return 0


@pytest.mark.slow
def test_kill_9_mid_run_then_resume_gives_the_same_weights(tmp_path: Path) -> None:
    import signal
    import time

    worker = [sys.executable, str(HERE / "resume_worker.py")]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([*worker, str(tmp_path / "ref"), "fresh"], check=True, env=env, timeout=300)

    victim = tmp_path / "victim"
    proc = subprocess.Popen([*worker, str(victim), "fresh"], env=env)
    deadline = time.monotonic() + 120
    while _state_step(victim) < 30 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = _state_step(victim)
    assert 0 < killed_at < 400, f"the run was not killed mid-way (step {killed_at})"
    assert not (victim / "model").exists()
    # Nothing half-written is visible: the checkpoint loads strictly.
    RunDir(victim).load_checkpoint()

    subprocess.run([*worker, str(victim), "resume"], check=True, env=env, timeout=300)
    _, ref = load_weights(tmp_path / "ref" / "model")
    _, got = load_weights(victim / "model")
    for name in ref:
        np.testing.assert_array_equal(got[name], ref[name], err_msg=name)
