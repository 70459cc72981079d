"""Training progress on stderr: a rich bar on a TTY, plain periodic lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import Any


class Reporter:
    def __init__(self, total_steps: int, start_step: int = 0, enabled: bool = True, title: str = "training") -> None:
        self.total = total_steps
        self.enabled = enabled
        self.start_time = time.perf_counter()
        self.start_step = start_step
        self._progress: Any = None
        self._task: Any = None
        if enabled and sys.stderr.isatty():
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self._progress = Progress(
                TextColumn(f"[bold]{title}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TextColumn("{task.fields[info]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task(title, total=total_steps, completed=start_step, info="")

    def update(self, step: int, info: dict[str, float]) -> None:
        if not self.enabled:
            return
        text = "  ".join(_fmt(k, v) for k, v in info.items())
        if self._progress is not None:
            self._progress.update(self._task, completed=step, info=text)
        else:
            elapsed = time.perf_counter() - self.start_time
            done = max(1, step - self.start_step)
            eta = elapsed / done * (self.total - step)
            sys.stderr.write(f"step {step}/{self.total}  {text}  eta {eta:.0f}s\n")
            sys.stderr.flush()

    def message(self, text: str) -> None:
        if not self.enabled:
            return
        if self._progress is not None:
            self._progress.console.print(text, markup=False, highlight=False)
        else:
            sys.stderr.write(text + "\n")

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def _fmt(key: str, value: float) -> str:
    if key in ("tok/s", "tokens_per_s"):
        return f"{key} {value:,.0f}"
    if key == "lr":
        return f"lr {value:.2e}"
    return f"{key} {value:.4f}"


class StepLogger:
    """One record per logged training step, shared by the PyTorch and MLX loops: ``metrics.jsonl``
    gets step, loss, lr, tokens/s since the previous record, tokens and elapsed time, and the
    progress display the same figures. ``enabled`` is False on DDP ranks other than 0."""

    def __init__(self, run: Any, reporter: Reporter, tokens_seen: int, enabled: bool = True) -> None:
        self.run = run
        self.reporter = reporter
        self.enabled = enabled
        self._start = self._last_time = time.perf_counter()
        self._last_tokens = tokens_seen

    def log(self, step: int, loss: float, lr: float, tokens_seen: int) -> None:
        now = time.perf_counter()
        tps = (tokens_seen - self._last_tokens) / max(now - self._last_time, 1e-9)
        self._last_time, self._last_tokens = now, tokens_seen
        if not self.enabled:
            return
        record = {"step": step, "loss": loss, "lr": lr, "tokens_per_s": tps, "tokens": tokens_seen}
        self.run.log({**record, "elapsed_s": now - self._start})
        self.reporter.update(step, {"loss": loss, "lr": lr, "tok/s": tps})
