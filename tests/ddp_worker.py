"""Run under torchrun (or alone): a few steps of the PyTorch loop; rank 0 prints the losses."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_helpers import ByteTokenizerFile, PatternSource  # noqa: E402

from bash_ai.config import preset  # noqa: E402
from trainer.loop import TrainJob
from trainer.loop_torch import train_torch  # noqa: E402
from trainer.run_dir import RunDir  # noqa: E402
from trainer.train_config import TrainConfig  # noqa: E402


def main() -> None:
    out, rows_per_rank, world = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    cfg = TrainConfig(
        backend="torch",
        num_steps=6,
        batch_size=rows_per_rank,
        warmup_steps=1,
        log_interval=1,
        eval_interval=1000,
        ckpt_interval=1000,
        threads=1,
        device="cpu",
        precision="fp32",  # parity of the data split; bf16 rounding depends on the batch shape
    )
    config = preset("tiny", 32)
    run = RunDir(out)
    train_torch(TrainJob(cfg, config, ByteTokenizerFile(), PatternSource(32, rows_per_rank * world, 16), None, run))
    losses = [r["loss"] for r in run.metrics() if "loss" in r]
    if losses and os.environ.get("RANK", "0") == "0":  # every rank reads the file; one prints
        print(json.dumps(losses))
    import torch.distributed as dist

    if dist.is_initialized():
        # Tear gloo down while both ranks are alive: left to interpreter exit, a rank whose peer
        # had already gone was seen to abort (SIGABRT) under load.
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
