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
