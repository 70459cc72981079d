"""Tiny model directories for CLI/REPL tests (built once per session by fixtures in conftest.py).

- ``build_random_model``: the ``tiny`` preset with random weights. Fast, no torch; its answers are
  noise, so tests on it check structure, never content.
- ``build_trained_model``: a small model trained (PyTorch, ~2 s) until it reproduces ``PAIRS`` in
  both directions and continues every prefix of their commands. Tests can then check real
  answers: "say hello" gives ``echo hello``, typing ``echo hel`` suggests ``lo``.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from pathlib import Path

from bash_ai import prompt as fmt

PAIRS: tuple[tuple[str, str], ...] = (
    ("say hello", "echo hello"),
    ("list files sorted by size", "ls -S"),
    ("show the date", "date"),
    ("make a marker file", "touch marker.txt"),
    ("delete everything here", "rm -rf ./*"),
    ("create backup script", "tar czf backup.tgz docs\necho done"),
)

# Commands trained to be continued from every prefix (the REPL's ghost text); the others only
# from an empty prefix, to keep training short.
PREFIX_COMMANDS = ("echo hello", "ls -S")

# Few merges: tokens stay close to bytes, so any typed prefix ends on a token boundary the model
# has seen (a big vocabulary would need token healing for that).
VOCAB_SIZE = 256 + len(fmt.SPECIAL_TOKENS) + 24


def shared_model(base_temp: Path, name: str, build: Callable[[Path], Path]) -> Path:
    """Build a model once per test session, even across pytest-xdist workers (they share the
    parent of their base temp dir); the others wait on a file lock and reuse it."""
    root = base_temp.parent if os.environ.get("PYTEST_XDIST_WORKER") else base_temp
    target = root / "bash-ai-test-models" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "config.json").is_file():
            build(target)  # save_model_dir swaps the finished directory in atomically
    return target


def _tokenizer() -> object:
    import pytest

    tokenizer_module = pytest.importorskip("bash_ai.tokenizer")
    if not hasattr(tokenizer_module, "BPETokenizer"):
        pytest.skip("bash_ai.tokenizer has not landed yet")
    BPETokenizer = tokenizer_module.BPETokenizer  # noqa: N806

    texts = [text for pair in PAIRS for text in pair]
    return BPETokenizer.train(texts, vocab_size=VOCAB_SIZE)


def build_random_model(out: Path, seed: int = 0, preset_name: str = "tiny") -> Path:
    from bash_ai.checkpoint import random_weights, save_model_dir
    from bash_ai.config import preset

    tokenizer = _tokenizer()
    config = preset(preset_name, vocab_size=int(tokenizer.vocab_size))  # type: ignore[attr-defined]
    return save_model_dir(out, config, random_weights(config, seed=seed), tokenizer)


def _sequences(tokenizer: object) -> list[list[int]]:
    """Forward and reverse pairs, and every split of each command for prefix completion."""
    encode = tokenizer.encode  # type: ignore[attr-defined]
    special = tokenizer.special_tokens  # type: ignore[attr-defined]

    def plain(text: str) -> list[int]:
        return list(encode(text, allowed_special=set()))

    req, bash, cmd, expl, eot = (special[t] for t in (fmt.REQUEST, fmt.BASH, fmt.COMMAND, fmt.EXPLAIN, fmt.EOT))
    seqs = []
    for request, command in PAIRS:
        seqs.append([req, *plain(request), bash, *plain(command), eot])
        seqs.append([cmd, *plain(command), expl, *plain(request), eot])
        seqs.append([bash, *plain(command), eot])
        if command in PREFIX_COMMANDS:
            for k in range(1, len(command)):
                seqs.append([bash, *plain(command[:k]), *plain(command[k:]), eot])
    return seqs


def build_trained_model(out: Path, steps: int = 120, seed: int = 0) -> Path:
    import numpy as np
    import torch

    from bash_ai.checkpoint import save_model_dir, torch_state_to_numpy
    from bash_ai.config import ModelConfig
    from bash_ai.model.torch_gpt import GPT

    tokenizer = _tokenizer()
    seqs = _sequences(tokenizer)
    width = max(map(len, seqs))
    config = ModelConfig(
        vocab_size=int(tokenizer.vocab_size),  # type: ignore[attr-defined]
        context_length=64,
        n_layer=2,
        n_head=4,
        n_kv_head=2,
        d_model=64,
    )
    torch.manual_seed(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the machine is shared: more threads only spin
    try:
        model = GPT(config)
        x = np.zeros((len(seqs), width), dtype=np.int64)  # (B, T)
        y = np.zeros_like(x)
        mask = np.zeros(x.shape, dtype=np.float32)
        for i, seq in enumerate(seqs):
            x[i, : len(seq) - 1] = seq[:-1]
            y[i, : len(seq) - 1] = seq[1:]
            mask[i, : len(seq) - 1] = 1.0
        xt, yt, mt = torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(mask)
        opt = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.98), weight_decay=0.0)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps, pct_start=0.1)
        for _ in range(steps):
            _, loss = model(xt, yt, mt)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
        weights = torch_state_to_numpy(model)
    finally:
        torch.set_num_threads(threads)
    return save_model_dir(out, config, weights, tokenizer)
