"""A training run on disk, written so that a kill -9 at any moment loses at most the last interval.

    <run>/train_config.json   the TrainConfig
    <run>/metrics.jsonl       one JSON object per log/eval event (a torn last line is skipped)
    <run>/latest/model/       a model directory (config.json, model.safetensors, tokenizer)
    <run>/latest/state/       training state: state.json (step, data position, RNG) and
                              optimizer.safetensors (moments); never pickled
    <run>/model/              the final model, once the run completes
    <run>/loss.png            the loss curve, once the run completes

``latest/`` is written beside itself and swapped in with renames, so it is always whole.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from bash_ai.config import ModelConfig
from bash_ai.errors import CheckpointError
from bash_ai.io import atomic_write_text, staged_dir

STATE_FILE = "state.json"
OPTIMIZER_FILE = "optimizer.safetensors"
STATE_FORMAT_VERSION = 1


class RunDir:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        # Files copied into every model directory this run saves (e.g. its retrieval index).
        self.model_files: dict[str, Path] = {}

    @property
    def latest(self) -> Path:
        return self.path / "latest"

    @property
    def final_model(self) -> Path:
        return self.path / "model"

    @property
    def metrics_file(self) -> Path:
        return self.path / "metrics.jsonl"

    def has_checkpoint(self) -> bool:
        return (self.latest / "state" / STATE_FILE).is_file()

    def checkpoint_step(self) -> int:
        """The optimizer step the last checkpoint was taken at."""
        try:
            return int(json.loads((self.latest / "state" / STATE_FILE).read_text(encoding="utf-8"))["step"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CheckpointError(f"{self.latest}: training state is unreadable ({exc})") from None

    def log(self, record: dict[str, Any]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.metrics_file, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, sort_keys=True) + "\n")
            handle.flush()

    def metrics(self) -> Iterator[dict[str, Any]]:
        if not self.metrics_file.is_file():
            return
        for line in self.metrics_file.read_text(encoding="utf-8").splitlines():
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue  # a line torn by a kill

    def save_checkpoint(
        self,
        config: ModelConfig,
        weights: dict[str, np.ndarray],
        tokenizer: Any,
        optimizer: dict[str, np.ndarray],
        state: dict[str, Any],
    ) -> None:
        from safetensors.numpy import save_file

        from bash_ai.checkpoint import save_model_dir

        with staged_dir(self.latest) as tmp:
            save_model_dir(tmp / "model", config, weights, tokenizer, extra_files=self.model_files)
            (tmp / "state").mkdir()
            save_file({k: np.ascontiguousarray(v) for k, v in optimizer.items()}, str(tmp / "state" / OPTIMIZER_FILE))
            payload = {"format_version": STATE_FORMAT_VERSION, **state}
            atomic_write_text(tmp / "state" / STATE_FILE, json.dumps(payload, sort_keys=True))
            _fsync_tree(tmp)

    def load_checkpoint(self) -> tuple[ModelConfig, dict[str, np.ndarray], dict[str, np.ndarray], dict[str, Any]]:
        from safetensors.numpy import load_file

        from bash_ai.checkpoint import load_weights

        state_dir = self.latest / "state"
        try:
            state = json.loads((state_dir / STATE_FILE).read_text(encoding="utf-8"))
            optimizer = load_file(str(state_dir / OPTIMIZER_FILE))
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"{state_dir}: training state is unreadable ({exc})") from None
        if state.get("format_version") != STATE_FORMAT_VERSION:
            raise CheckpointError(f"{state_dir}: unsupported training state version {state.get('format_version')!r}")
        config, weights = load_weights(self.latest / "model")
        return config, weights, optimizer, state

    def finish(self) -> Path:
        """Publish ``latest/model`` as the run's final model."""
        with staged_dir(self.final_model) as tmp:
            shutil.copytree(self.latest / "model", tmp, dirs_exist_ok=True)
        return self.final_model


def _fsync_tree(root: Path) -> None:
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
