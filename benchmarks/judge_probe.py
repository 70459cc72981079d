"""A judge probe: the answering model's last layers fine-tuned to score (request, candidate) pairs.

The reranker ranks a pool by ~12 features and a linear fit on nl2bash-dev's 779 pools; every
feature reads the request and the candidate apart, or through a generative score. This probe asks
whether a discriminative reader of both together, trained on many more requests, adds signal:

- groups: each NL2Bash train pair (and a share of tldr's) from the model's own retrieval index,
  its 20 nearest other requests (BM25; the pair itself and its own command left out, as training
  prompts are built), their commands adapted to the request (``adapt_by_examples``, as the pool
  adapts retrieved commands), the first ``--size`` distinct ones. The pair's own command is left
  out: a pool never holds it, and the model has read it many times (its hidden state would tell).
  Each candidate's target is its NLC2CMD score plus 0.25 x its argument F1 against the pair's
  command (``trainer.rerank.pool_targets``).
- the judge: the model's first layers frozen, its last ``--train-layers`` layers, final norm and a
  new scalar head trained on the hidden state at the candidate's end-of-text token, behind the
  plain "ask" prompt; a listwise loss (softmax of the scores against softmax(target / 0.1)).

    python benchmarks/judge_probe.py train --model bundled --out RUN_DIR [--steps N] [--init EARLIER_RUN_DIR]
    python benchmarks/judge_probe.py pools --judge RUN_DIR --pools POOLS --out COLUMN.pkl

``pools`` writes each pool's judge scores (one column) for ``pool_probe.py stored:COLUMN`` (or
``stored-first:COLUMN``).
"""

from __future__ import annotations

import argparse
import math
import pickle
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MAX_TOKENS = 128


def build_groups(
    engine: Any, rows: Sequence[int], size: int, neighbours: int = 20
) -> list[tuple[str, list[str], list[float]]]:
    from bash_ai.engine.arguments import argument_f1
    from bash_ai.engine.propose import adapt_by_examples
    from bash_ai.nlc2cmd import nlc2cmd_score
    from trainer.rerank import RerankSpec

    weight = RerankSpec().argument_weight
    index = engine.index
    out = []
    for i, row in enumerate(rows, 1):
        request, command = index.requests[row], index.commands[row]
        others = index.search(request, neighbours, exclude_row=row, exclude_command=command)
        texts: list[str] = []
        for n in others:
            text = adapt_by_examples(n.command, [n.request], request).strip()
            if text and text not in texts and text != command.strip():
                texts.append(text)
            if len(texts) == size:
                break
        targets = [nlc2cmd_score(t, command) + weight * argument_f1(t, command) for t in texts]
        if len(texts) > 1 and max(targets) > min(targets):
            out.append((request, texts, targets))
        if i % 2000 == 0:
            print(f"groups: {i}/{len(rows)} rows, {len(out)} kept", flush=True)
    return out


def encode(engine: Any, request: str, commands: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Right-padded ids (N, T) of ``ask`` prompt + command + end-of-text, and each row's last index."""
    prompt = engine.task_ids("ask", request)[: MAX_TOKENS // 2]
    rows = []
    for c in commands:
        ids = prompt + engine.encode_text(c)[: MAX_TOKENS - len(prompt) - 1] + [engine.eot_id]
        rows.append(ids)
    width = max(len(r) for r in rows)
    x = np.zeros((len(rows), width), dtype=np.int64)
    for i, r in enumerate(rows):
        x[i, : len(r)] = r
    return x, np.array([len(r) - 1 for r in rows])


def make_judge(model_dir: str, train_layers: int) -> Any:
    import torch
    from torch import nn

    from bash_ai.checkpoint import load_weights
    from bash_ai.model.torch_gpt import GPT

    config, weights = load_weights(Path(model_dir))
    gpt = GPT(config)
    gpt.load_state_dict({k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in weights.items()})

    class Judge(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.gpt = gpt
            self.split = config.n_layer - train_layers
            self.head = nn.Linear(config.d_model, 1)
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)
            for name, p in self.gpt.named_parameters():
                layer = name.split(".")[1] if name.startswith("blocks.") else None
                p.requires_grad = name.startswith("norm_f") or (layer is not None and int(layer) >= self.split)

        def forward(self, idx: Any, last: Any, dropout: float = 0.0) -> Any:
            with torch.no_grad():
                x, rope = self.gpt.embed(idx)
                for block in self.gpt.blocks[: self.split]:
                    x = block(x, rope)
            for block in self.gpt.blocks[self.split :]:
                x = block(x, rope, dropout, 0.0)
            h = self.gpt.norm_f(x)[torch.arange(idx.shape[0]), last]
            return self.head(h).squeeze(-1)

    return Judge()


def save_judge(judge: Any, path: Path, meta: dict[str, Any]) -> None:
    """The trained parameters (``make_judge`` says which) and ``meta``, atomically."""
    import torch

    from bash_ai.io import atomic_open

    state = {name: p.detach() for name, p in judge.named_parameters() if p.requires_grad}
    with atomic_open(path, "wb") as handle:
        torch.save({"state": state, "meta": meta}, handle)


def load_judge(run: Path) -> Any:
    import torch

    saved = torch.load(run / "judge.pt", weights_only=True)  # our own run file; tensors and plain values only
    judge = make_judge(saved["meta"]["model"], saved["meta"]["train_layers"])
    judge.load_state_dict(saved["state"], strict=False)
    judge.eval()
    return judge, saved["meta"]


def batch_loss(judge: Any, engine: Any, groups: Sequence[tuple[str, list[str], list[float]]], dropout: float) -> Any:
    import torch

    from trainer.rerank import TAU

    encoded = [encode(engine, r, c) for r, c, _ in groups]
    width = max(x.shape[1] for x, _ in encoded)
    idx = torch.from_numpy(np.concatenate([np.pad(x, ((0, 0), (0, width - x.shape[1]))) for x, _ in encoded]))
    last = torch.from_numpy(np.concatenate([ends for _, ends in encoded]))
    scores = judge(idx, last, dropout)
    loss, start, right = 0.0, 0, 0.0
    for _, commands, targets in groups:
        s = scores[start : start + len(commands)]
        t = torch.softmax(torch.tensor(targets, dtype=torch.float32) / TAU, 0)
        loss = loss - (t * torch.log_softmax(s, 0)).sum()
        right += targets[int(s.detach().argmax())]
        start += len(commands)
    return loss / len(groups), right / len(groups)


def train(args: argparse.Namespace) -> None:
    import torch

    from bash_ai.api import load_engine
    from bash_ai.io import atomic_write_bytes

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    engine = load_engine(args.model)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cache = out / "groups.pkl"
    if cache.is_file():
        groups, held = pickle.loads(cache.read_bytes())
    else:
        index = engine.index
        rng = np.random.default_rng(args.seed)
        nl = [r for r in range(len(index)) if index.sources[int(index.source_of[r])] == "nl2bash"]
        tl = [r for r in range(len(index)) if index.sources[int(index.source_of[r])] != "nl2bash"]
        rows = nl + list(rng.choice(tl, size=min(args.tldr, len(tl)), replace=False))
        rng.shuffle(rows)
        every = build_groups(engine, rows, args.size)
        nl_requests = {index.requests[r] for r in nl}
        held = [g for g in every[: args.held * 3] if g[0] in nl_requests][: args.held]
        groups = [g for g in every if g not in held]
        atomic_write_bytes(cache, pickle.dumps((groups, held)))
    print(f"{len(groups)} training groups, {len(held)} held-out NL2Bash groups", flush=True)
    held_first = float(np.mean([t[0] for _, _, t in held]))
    held_best = float(np.mean([max(t) for _, _, t in held]))
    print(f"held-out: BM25's first {held_first:.3f}, the best {held_best:.3f}", flush=True)
    judge = make_judge(args.model, args.train_layers)
    if args.init:  # more passes from an earlier run's trained parameters (its optimizer state is not kept)
        earlier, earlier_meta = load_judge(Path(args.init))
        if (earlier_meta["model"], earlier_meta["train_layers"]) != (args.model, args.train_layers):
            raise SystemExit(
                f"--init {args.init}: a judge of {earlier_meta['model']} training {earlier_meta['train_layers']} layers"
            )
        judge.load_state_dict(earlier.state_dict())
    trained = [p for n, p in judge.named_parameters() if p.requires_grad and not n.startswith("head.")]
    optimizer = torch.optim.AdamW(
        [{"params": trained, "lr": args.lr}, {"params": list(judge.head.parameters()), "lr": args.lr * 10}],
        weight_decay=0.01,
    )
    base = [g["lr"] for g in optimizer.param_groups]
    rng = np.random.default_rng(args.seed + 1)
    order = rng.permutation(len(groups))
    steps = args.steps or math.ceil(len(groups) / args.batch)
    meta = {"model": args.model, "train_layers": args.train_layers, "size": args.size}
    start, seen = time.time(), 0
    for step in range(1, steps + 1):
        frac = min(1.0, step / 50) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, step / steps))))
        for g, b in zip(optimizer.param_groups, base, strict=True):
            g["lr"] = b * frac
        picked = [groups[int(order[(step * args.batch + i) % len(order)])] for i in range(args.batch)]
        judge.train()
        loss, _ = batch_loss(judge, engine, picked, args.dropout)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in judge.parameters() if p.requires_grad], 1.0)
        optimizer.step()
        seen += len(picked)
        if step % 25 == 0:
            print(
                f"step {step}/{steps}: loss {float(loss.detach()):.4f}, {seen / (time.time() - start):.1f} groups/s",
                flush=True,
            )
        if step % args.eval_every == 0 or step == steps:
            judge.eval()
            with torch.no_grad():
                total, right = 0.0, 0.0
                for i in range(0, len(held), 16):
                    part = held[i : i + 16]
                    part_loss, r = batch_loss(judge, engine, part, 0.0)
                    total += float(part_loss) * len(part)
                    right += r * len(part)
            print(
                f"step {step}: held-out loss {total / len(held):.4f}, the judge's first {right / len(held):.3f} "
                f"(BM25's first {held_first:.3f}, best {held_best:.3f})",
                flush=True,
            )
            save_judge(judge, out / "judge.pt", {**meta, "step": step})


def score_pools(args: argparse.Namespace) -> None:
    import torch

    import trainer.rerank as T
    from bash_ai.api import load_engine
    from bash_ai.io import atomic_write_bytes

    torch.set_num_threads(args.threads)
    judge, meta = load_judge(Path(args.judge))
    engine = load_engine(meta["model"])
    pools, _, _ = T.load_pools(Path(args.pools), {"bits": T.RerankSpec().bits})
    column = []
    with torch.no_grad():
        for i, pool in enumerate(pools, 1):
            x, last = encode(engine, pool.request, [q.text or " " for q in pool.proposals])
            column.append(judge(torch.from_numpy(x), torch.from_numpy(last)).numpy().astype(np.float64))
            if i % 100 == 0:
                print(f"scored {i}/{len(pools)}", flush=True)
    atomic_write_bytes(Path(args.out), pickle.dumps(column))
    print(f"judge step {meta['step']}: {len(column)} pools scored -> {args.out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("--model", default="assets/model")
    t.add_argument("--out", required=True)
    t.add_argument("--size", type=int, default=8)
    t.add_argument("--tldr", type=int, default=5000)
    t.add_argument("--held", type=int, default=400)
    t.add_argument("--train-layers", type=int, default=2)
    t.add_argument("--batch", type=int, default=8)
    t.add_argument("--steps", type=int, default=0)
    t.add_argument("--lr", type=float, default=1e-4)
    t.add_argument("--dropout", type=float, default=0.1)
    t.add_argument("--eval-every", type=int, default=250)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument(
        "--init", default="", help="a judge run to go on from (its groups are built again unless --out has them)"
    )
    p = sub.add_parser("pools")
    p.add_argument("--judge", required=True)
    p.add_argument("--pools", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    {"train": train, "pools": score_pools}[args.command](args)


if __name__ == "__main__":
    main()
