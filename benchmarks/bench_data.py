"""Data layer speed: our roff converter vs ``man -l -P cat`` (groff), the tldr pack parse, and the
tokenized cache (build vs reuse) with HF ``tokenizers`` byte-level BPE as the encoder.

    python benchmarks/bench_data.py [--pages 40] [--data ../shared/data]

Writes only under a temp BASH_AI_HOME. Prints ratios of peers run in this same process.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def bench_roff(pages: int) -> None:
    from bash_ai.manpages.roff import to_text

    man1 = Path("/usr/share/man/man1")
    files = sorted(
        (p for p in man1.iterdir() if p.suffix == ".gz" and p.is_file()),
        key=lambda p: hashlib.sha256(p.name.encode()).digest(),
    )
    files = [p for p in files if not gzip.decompress(p.read_bytes()).startswith(b".so ")][:pages]
    t0 = time.perf_counter()
    ours = sum(len(to_text(gzip.decompress(p.read_bytes()).decode("utf-8", "replace"))) for p in files)
    t_ours = time.perf_counter() - t0
    env = {**os.environ, "MANWIDTH": "100", "MAN_KEEP_FORMATTING": "0"}
    t0 = time.perf_counter()
    peer = 0
    for p in files:
        out = subprocess.run(["man", "-l", "-P", "cat", str(p)], capture_output=True, env=env, check=False)
        peer += len(out.stdout)
    t_peer = time.perf_counter() - t0
    print(
        f"roff: {len(files)} man pages: ours {t_ours * 1000 / len(files):.2f} ms/page ({ours:,} chars), "
        f"man -P cat {t_peer * 1000 / len(files):.1f} ms/page ({peer:,} chars); ours is {t_peer / t_ours:.0f}x faster"
    )


def bench_tldr(data: Path) -> None:
    from trainer.data import fetch_dataset, iter_documents

    t0 = time.perf_counter()
    manifest = fetch_dataset("tldr", data / "tldr")
    t_fetch = time.perf_counter() - t0
    t0 = time.perf_counter()
    docs = sum(1 for _ in iter_documents("tldr"))
    t_parse = time.perf_counter() - t0
    print(
        f"tldr: fetch --from (copy + sha256 of {len(manifest.files):,} files + count) {t_fetch:.2f} s; "
        f"parse {manifest.counts['pages']:,} pages into {docs:,} documents {t_parse:.2f} s"
    )


class HFByteBPE:
    """HF ``tokenizers`` byte-level BPE behind the interface the cache uses (encode/save/vocab_size)."""

    def __init__(self, texts: list[str], vocab_size: int) -> None:
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

        from bash_ai.prompt import SPECIAL_TOKENS

        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS), show_progress=False)
        tok.train_from_iterator(texts, trainer)
        self._tok = tok
        self.vocab_size = tok.get_vocab_size()

    def encode(self, text: str, allowed_special: Any = "none") -> list[int]:
        if allowed_special == "all":
            special = self._tok.token_to_id(text)
            if special is not None:
                return [special]
        return self._tok.encode(text, add_special_tokens=False).ids

    def save(self, path: Path) -> None:
        self._tok.save(str(path))


def bench_tokenized(data: Path) -> None:
    from trainer.data import fetch_dataset
    from trainer.data.mixing import iter_tokenizer_texts
    from trainer.data.sampler import Batches
    from trainer.data.tokenized import build_tokenized

    fetch_dataset("nl2bash", data / "nl2bash")
    fetch_dataset("tinystories", data / "tinystories" / "sample-a.txt")
    names = ["nl2bash", "tinystories"]
    tok = HFByteBPE(list(iter_tokenizer_texts(names, 2_000_000)), 2048)
    t0 = time.perf_counter()
    built = build_tokenized(names, tok, val_fraction=0.02)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    build_tokenized(names, tok, val_fraction=0.02)
    t_reuse = time.perf_counter() - t0
    tokens = sum(built.meta["tokens"].values())
    print(
        f"tokenized cache: {tokens:,} tokens; build {t_build:.2f} s ({tokens / t_build:,.0f} tok/s), "
        f"reuse {t_reuse * 1000:.0f} ms ({t_build / t_reuse:.0f}x faster)"
    )
    batches = Batches(built, "train", 64, 256, seed=0, language_ratio=0.5)
    t0 = time.perf_counter()
    n = 200
    for _ in range(n):
        batches.next_batch()
    dt = time.perf_counter() - t0
    print(f"Batches: {dt * 1000 / n:.2f} ms per (64, 256) batch ({64 * 256 * n / dt:,.0f} tokens/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args()
    print(
        f"{time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as home:
        os.environ["BASH_AI_HOME"] = home
        bench_roff(args.pages)
        bench_tldr(args.data)
        bench_tokenized(args.data)
        t0 = time.perf_counter()
        from trainer.data import fetch_dataset

        manifest = fetch_dataset("local")
        print(f"local harvest (defaults): {manifest.counts} in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
