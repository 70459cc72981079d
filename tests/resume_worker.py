"""A training process for the kill -9 test: trains (or resumes) a tiny PyTorch run to the end."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_helpers import ByteTokenizerFile, PatternSource  # noqa: E402

from bash_ai.config import preset  # noqa: E402
from trainer.loop import TrainJob
from trainer.loop_torch import train_torch  # noqa: E402
from trainer.run_dir import RunDir  # noqa: E402
from trainer.train_config import TrainConfig  # noqa: E402

STEPS = 400


def main() -> None:
    out, resume = Path(sys.argv[1]), sys.argv[2] == "resume"
    cfg = TrainConfig(
        backend="torch",
        num_steps=STEPS,
        batch_size=4,
        warmup_steps=5,
        log_interval=10,
        eval_interval=10**6,
        ckpt_interval=7,
        threads=1,
        device="cpu",
        lr=3e-3,
    )
    train_torch(
        TrainJob(
            cfg,
            preset("tiny", 32, context_length=16),
            ByteTokenizerFile(),
            PatternSource(32, 4, 16),
            None,
            RunDir(out),
            resume=resume,
        )
    )


if __name__ == "__main__":
    main()
