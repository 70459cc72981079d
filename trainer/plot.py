"""The loss curve, for people who would rather look: a PNG (matplotlib) and a terminal chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

BLOCKS = " ▁▂▃▄▅▆▇█"


def curves(records: list[dict[str, Any]]) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    """(step, loss) and (step, val_loss) series; later records win for a repeated step (resumes)."""
    train: dict[int, float] = {}
    val: dict[int, float] = {}
    for rec in records:
        if "loss" in rec:
            train[int(rec["step"])] = float(rec["loss"])
        if "val_loss" in rec:
            val[int(rec["step"])] = float(rec["val_loss"])
    return sorted(train.items()), sorted(val.items())


def save_png(records: list[dict[str, Any]], path: Path, title: str = "bash-ai training") -> Path | None:
    """Write the PNG atomically; returns None when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    from bash_ai.io import atomic_open

    train, val = curves(records)
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    if train:
        ax.plot(*zip(*train, strict=True), label="train loss", linewidth=1.2)
    if val:
        ax.plot(*zip(*val, strict=True), "o-", label="val loss", linewidth=1.2, markersize=3)
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    with atomic_open(path, "wb") as handle:
        fig.savefig(handle, format="png")
    plt.close(fig)
    return path


def terminal_chart(records: list[dict[str, Any]], width: int = 60) -> str:
    """A one-line sparkline of the train loss, min and max labelled."""
    train, _ = curves(records)
    if not train:
        return ""
    values = [v for _, v in train]
    if len(values) > width:
        step = len(values) / width
        values = [values[int(i * step)] for i in range(width)]
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    line = "".join(BLOCKS[1 + int((v - lo) / span * (len(BLOCKS) - 2))] for v in values)
    return f"loss {hi:.3f} {line} {lo:.3f}"
