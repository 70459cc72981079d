"""Tokenizer speed: our BPE trainer and encoder against HF ``tokenizers`` on the same corpus and
pre-tokenizer, and against a naive full-recount trainer.

    python benchmarks/bench_tokenizer.py [--data ../shared/data] [--mb 10] [--vocab 4096]

The corpus is the data pack's tldr pages, NL2Bash train pairs and the TinyStories sample,
concatenated in a fixed order and cycled to ``--mb`` megabytes. HF trains with the Split (our
regex) + ByteLevel pre-tokenizer, the byte alphabet and our special tokens, i.e. the same vocabulary
size and merge budget. Each peer runs in this process; the CPU is shared with other jobs, so take
the ratios, not the seconds, and expect some noise.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"


def build_corpus(data: Path, target_bytes: int) -> list[str]:
    """Documents in a fixed order (tldr pages by path, NL2Bash pairs in blocks of 50 lines,
    TinyStories stories), cycled until ``target_bytes`` of UTF-8."""
    pages = sorted((data / "tldr" / "pages").rglob("*.md"))
    base = [p.read_text(encoding="utf-8") for p in pages]
    nl = (data / "nl2bash" / "train.nl").read_text(encoding="utf-8").splitlines()
    cm = (data / "nl2bash" / "train.cm").read_text(encoding="utf-8").splitlines()
    for i in range(0, len(nl), 50):
        base.append("".join(f"{a}\n{b}\n" for a, b in zip(nl[i : i + 50], cm[i : i + 50], strict=True)))
    stories = (data / "tinystories" / "sample-a.txt").read_text(encoding="utf-8").split("\n\n")
    base.extend(s for s in stories if s.strip())
    out: list[str] = []
    size = 0
    while size < target_bytes:
        for doc in base:
            out.append(doc)
            size += len(doc.encode("utf-8"))
            if size >= target_bytes:
                break
    return out


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Best wall time of ``repeat`` runs, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def hf_tokenizer(vocab_size: int, texts: list[str]) -> Any:
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, trainers

    from bash_ai.prompt import SPECIAL_TOKENS
    from bash_ai.tokenizer.pretokenize import PATTERN

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PATTERN), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=list(SPECIAL_TOKENS),
    )
    tok.train_from_iterator(texts, trainer)
    return tok


def bench_training(texts: list[str], vocab_size: int, repeat: int) -> Any:
    from bash_ai.tokenizer import BPETokenizer

    t_ours, ours = timed(lambda: BPETokenizer.train(texts, vocab_size), repeat)
    t_hf, hf = timed(lambda: hf_tokenizer(vocab_size, texts), repeat)
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    t_hf1, _ = timed(lambda: hf_tokenizer(vocab_size, texts), repeat)
    os.environ.pop("TOKENIZERS_PARALLELISM")
    best_hf = min(t_hf, t_hf1)
    print(f"train {vocab_size} vocab: ours {t_ours:.2f} s ({len(ours.merges)} merges, 1 thread)")
    print(f"  HF BpeTrainer {t_hf:.2f} s (parallel), {t_hf1:.2f} s (TOKENIZERS_PARALLELISM=false)")
    print(
        f"  ours / HF = {t_ours / t_hf:.2f}x vs parallel, {t_ours / t_hf1:.2f}x vs 1 thread; goal <= 5x of the faster: {t_ours / best_hf:.2f}x"
    )
    print(f"  HF vocab size {hf.get_vocab_size()}, ours {ours.vocab_size}")
    return ours


def bench_naive(texts: list[str], vocab_size: int, subset_bytes: int, naive_k: int) -> None:
    sys.path.insert(0, str(REPO / "tests"))
    from test_tokenizer_bpe import naive_merges  # the reference the tests check the trainer against

    from bash_ai.prompt import SPECIAL_TOKENS
    from bash_ai.tokenizer.bpe_train import count_chunks, train_merges
    from bash_ai.tokenizer.pretokenize import split

    total = sum(len(t.encode("utf-8")) for t in texts)
    subset, size = [], 0
    for doc in texts[:: max(1, round(total / subset_bytes))]:  # every k-th document: all three sources
        subset.append(doc)
        size += len(doc.encode("utf-8"))
        if size >= subset_bytes:
            break
    chunks = count_chunks(subset, split)
    n_full = vocab_size - 256 - len(SPECIAL_TOKENS)
    t_naive, naive = timed(lambda: naive_merges(chunks, naive_k, 1))
    made = len(naive)
    t_ours_k, ours_k = timed(lambda: train_merges(chunks, naive_k, 1))
    t_ours_full, merges = timed(lambda: train_merges(chunks, n_full, 2))
    per = t_naive / made
    print(
        f"naive full recount on {size / 1e6:.2f} MB ({len(chunks):,} distinct chunks): {made} merges in {t_naive:.2f} s ({per * 1000:.0f} ms/merge)"
    )
    print(
        f"  ours, same {naive_k} merges: {t_ours_k:.3f} s -> {t_naive / t_ours_k:.0f}x faster; identical merges: {ours_k == naive}"
    )
    print(
        f"  extrapolated naive for {len(merges)} merges: ~{per * len(merges):.0f} s (an upper bound: chunks shrink as merges"
        f" land); ours did them in {t_ours_full:.2f} s -> ~{per * len(merges) / t_ours_full:.0f}x"
    )


def bench_encode(ours: Any, texts: list[str], hf_path: Path, repeat: int) -> None:
    from tokenizers import Tokenizer

    from bash_ai.tokenizer import load_tokenizer

    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    ours.save(hf_path.with_name("ours.json"))
    cold = load_tokenizer(hf_path.with_name("ours.json"))  # an empty chunk cache
    t_cold, ids_ours = timed(lambda: [cold.encode(t) for t in texts])
    t_warm, _ = timed(lambda: [cold.encode(t) for t in texts], repeat)
    ours.to_hf_json(hf_path)
    hf = Tokenizer.from_file(str(hf_path))
    t_batch, enc = timed(lambda: hf.encode_batch(texts, add_special_tokens=False), repeat)
    t_single, _ = timed(lambda: [hf.encode(t, add_special_tokens=False) for t in texts], repeat)
    same = all(list(e.ids) == i for e, i in zip(enc, ids_ours, strict=True))
    n_tokens = sum(map(len, ids_ours))
    print(
        f"encode {mb:.1f} MB ({n_tokens:,} tokens, {mb * 1e6 / n_tokens:.2f} bytes/token); identical ids to HF: {same}"
    )
    print(f"  ours {mb / t_cold:.1f} MB/s (cold cache), {mb / t_warm:.1f} MB/s (warm), 1 thread")
    print(f"  HF encode_batch {mb / t_batch:.1f} MB/s, HF encode one by one {mb / t_single:.1f} MB/s")
    print(
        f"  ours(warm) / HF: {t_warm / t_batch:.2f}x the time of encode_batch, {t_warm / t_single:.2f}x of single encode"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA, help="the offline data pack")
    parser.add_argument("--mb", type=float, default=10.0, help="corpus size in MB (1e6 bytes)")
    parser.add_argument("--vocab", type=int, default=4096)
    parser.add_argument("--repeat", type=int, default=2, help="best of N for the training and encoding runs")
    parser.add_argument("--naive-mb", type=float, default=1.0, help="subset for the naive trainer")
    parser.add_argument("--naive-merges", type=int, default=60)
    args = parser.parse_args()

    import tokenizers

    print(
        f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; "
        f"Python {platform.python_version()}, tokenizers {tokenizers.__version__}"
    )
    texts = build_corpus(args.data, int(args.mb * 1e6))
    print(f"corpus: {len(texts):,} documents, {sum(len(t.encode('utf-8')) for t in texts) / 1e6:.2f} MB")
    ours = bench_training(texts, args.vocab, args.repeat)
    bench_naive(texts, args.vocab, int(args.naive_mb * 1e6), args.naive_merges)
    with tempfile.TemporaryDirectory(prefix="bench-tok-") as tmp:
        bench_encode(ours, texts, Path(tmp) / "tokenizer.json", args.repeat)


if __name__ == "__main__":
    main()
