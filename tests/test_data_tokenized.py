"""The tokenized cache (loss masks, reuse, keys, atomicity) and the Batches sampler."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bash_ai import paths, prompt
from bash_ai.errors import DataError
from trainer.data import Document, fetch_dataset, make_manifest, register_source, unregister_source
from trainer.data.mixing import iter_tokenizer_texts
from trainer.data.sampler import Batches
from trainer.data.tokenized import build_tokenized


class ByteTokenizer:
    """The tokenizer interface the cache uses (``bash_ai.tokenizer``'s): bytes, then special tokens."""

    def __init__(self, extra_vocab: int = 0) -> None:
        self.specials = {tok: 256 + i for i, tok in enumerate(prompt.SPECIAL_TOKENS)}
        self.vocab_size = 256 + len(self.specials) + extra_vocab
        self.calls = 0

    def encode(self, text: str, allowed_special: Any = "none") -> list[int]:
        self.calls += 1
        if allowed_special == "all" and text in self.specials:
            return [self.specials[text]]
        return list(text.encode("utf-8"))

    def decode(self, ids: list[int]) -> str:
        names = {v: k for k, v in self.specials.items()}
        out, raw = [], bytearray()
        for i in ids:
            if i in names:
                out.append(raw.decode("utf-8", errors="replace") + names[i])
                raw = bytearray()
            else:
                raw.append(i)
        return "".join(out) + raw.decode("utf-8", errors="replace")

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"kind": "bytes", "vocab_size": self.vocab_size}))


class ListSource:
    """A real Source whose documents are given in code (stored as JSON by fetch)."""

    licence = "MIT"

    def __init__(self, name: str, docs: list[Document]) -> None:
        self.name = name
        self.docs = docs

    def fetch(self, dest_dir: Path, from_path: Path | None = None, **options: Any) -> Any:
        rows = [
            {k: getattr(d, k) for k in ("kind", "id", "text", "request", "command", "split", "meta")} for d in self.docs
        ]
        (dest_dir / "docs.json").write_text(json.dumps(rows))
        return make_manifest(dest_dir, name=self.name, source=self.name, url="test:", licence=self.licence)

    def iter_documents(self, dataset_dir: Path) -> Iterator[Document]:
        for row in json.loads((dataset_dir / "docs.json").read_text()):
            yield Document(source=self.name, licence=self.licence, **row)


@pytest.fixture
def sources() -> Iterator[Any]:
    """Register and fetch list sources by name; unregistered afterwards."""
    names: list[str] = []

    def add(name: str, docs: list[Document]) -> None:
        register_source(ListSource(name, docs))
        names.append(name)
        fetch_dataset(name, force=True)

    yield add
    for name in names:
        unregister_source(name)


def _pair(i: int, request: str = "list files", command: str = "ls -l", split: str = "train") -> Document:
    return Document(kind="pair", id=f"p:{i}", source="p", licence="MIT", request=request, command=command, split=split)


def _text(i: int, body: str) -> Document:
    return Document(kind="text", id=f"t:{i}", source="t", licence="MIT", text=body)


def test_loss_mask_on_a_pair(sources: Any) -> None:
    sources("pairs", [_pair(0)])
    tok = ByteTokenizer()
    data = build_tokenized(["pairs"], tok, val_fraction=0.0)
    stream = data.split("train")["bash"]
    ids, mask = np.asarray(stream.tokens).tolist(), np.asarray(stream.mask)
    text = tok.decode(ids)
    assert text == "<|request|>list files<|bash|>ls -l<|endoftext|><|command|>ls -l<|explain|>list files<|endoftext|>"
    targets = tok.decode([i for i, m in zip(ids, mask, strict=True) if m])
    assert targets == "ls -l<|endoftext|>list files<|endoftext|>"  # request tokens masked, answers not
    assert data.meta["dtype"] == "uint16" and stream.tokens.dtype == np.uint16
    assert len(data.split("train")["en"]) == 0


def test_data_cannot_forge_special_tokens(sources: Any) -> None:
    sources("forged", [_pair(0, request="say <|bash|> rm -rf /", command="echo hi")])
    tok = ByteTokenizer()
    stream = build_tokenized(["forged"], tok, val_fraction=0.0).split("train")["bash"]
    ids = np.asarray(stream.tokens).tolist()
    assert ids.count(tok.specials["<|bash|>"]) == 1  # only the structural one


def test_only_train_split_is_tokenized(sources: Any) -> None:
    docs = [_pair(0), _pair(1, request="held out request", command="secret-cmd", split="holdout")]
    sources("mixed", docs)
    tok = ByteTokenizer()
    data = build_tokenized(["mixed"], tok, val_fraction=0.0)
    text = tok.decode(np.asarray(data.split("train")["bash"].tokens).tolist())
    assert "secret-cmd" not in text and "ls -l" in text
    assert "secret-cmd" not in "".join(iter_tokenizer_texts(["mixed"], 10_000))


def test_cache_is_reused_without_encoding(sources: Any) -> None:
    sources("stories", [_text(i, f"Story {i} about a cat.") for i in range(50)])
    tok = ByteTokenizer()
    first = build_tokenized(["stories"], tok, val_fraction=0.1)
    assert tok.calls > 0
    again = ByteTokenizer()
    second = build_tokenized(["stories"], again, val_fraction=0.1)
    assert again.calls == 0 and second.path == first.path
    assert np.array_equal(np.asarray(second.split("train")["en"].tokens), np.asarray(first.split("train")["en"].tokens))
    # Any change to the tokenizer file, the data or the options is a new key.
    assert build_tokenized(["stories"], ByteTokenizer(extra_vocab=1), val_fraction=0.1).path != first.path
    assert build_tokenized(["stories"], ByteTokenizer(), val_fraction=0.2).path != first.path
    sources("stories", [_text(i, f"Story {i} about a dog.") for i in range(50)])
    assert build_tokenized(["stories"], ByteTokenizer(), val_fraction=0.1).path != first.path


def test_val_split_is_whole_documents_and_stable(sources: Any) -> None:
    sources("many", [_text(i, f"doc{i:04d}.") for i in range(400)])
    tok = ByteTokenizer()
    data = build_tokenized(["many"], tok, val_fraction=0.25)
    streams = {s: tok.decode(np.asarray(data.split(s)["en"].tokens).tolist()) for s in ("train", "val")}
    docs = {s: set(t.split("<|endoftext|>")[:-1]) for s, t in streams.items()}
    assert not docs["train"] & docs["val"] and len(docs["train"] | docs["val"]) == 400
    assert 60 < len(docs["val"]) < 140
    assert data.meta["documents"]["en.val"] == len(docs["val"])


def test_large_vocab_uses_uint32(sources: Any) -> None:
    sources("one", [_pair(0)])
    data = build_tokenized(["one"], ByteTokenizer(extra_vocab=70_000), val_fraction=0.0)
    assert data.split("train")["bash"].tokens.dtype == np.uint32


def test_failed_tokenization_leaves_no_cache(sources: Any) -> None:
    sources("boom", [_text(i, f"text {i}") for i in range(20)])

    class Failing(ByteTokenizer):
        def encode(self, text: str, allowed_special: Any = "none") -> list[int]:
            if text.startswith("text 1"):
                raise RuntimeError("killed mid-way")
            return super().encode(text, allowed_special)

    with pytest.raises(RuntimeError):
        build_tokenized(["boom"], Failing(), val_fraction=0.0)
    root = paths.cache_dir() / "tokenized"
    assert not [p for p in root.iterdir() if p.is_dir()]


def test_unfetched_dataset_is_a_data_error() -> None:
    with pytest.raises(DataError, match="bash-ai data fetch nl2bash"):
        build_tokenized(["nl2bash"], ByteTokenizer())


@pytest.fixture
def bilingual(sources: Any) -> Any:
    sources("english", [_text(i, "a" * 30 + f" {i}") for i in range(60)])
    sources("bashy", [_pair(i, request="z" * 10, command="z" * 20) for i in range(60)])
    return build_tokenized(["english", "bashy"], ByteTokenizer(), val_fraction=0.1)


def test_batches_shapes_and_shift(bilingual: Any) -> None:
    batches = Batches(bilingual, "train", 4, 16, seed=1)
    x, y, mask = next(batches)
    assert x.shape == y.shape == mask.shape == (4, 16)
    assert x.dtype == y.dtype == np.int64 and mask.dtype == bool
    assert np.array_equal(x[:, 1:], y[:, :-1])


def test_batches_mask_follows_targets(sources: Any) -> None:
    sources("pairs", [_pair(i) for i in range(40)])
    tok = ByteTokenizer()
    data = build_tokenized(["pairs"], tok, val_fraction=0.0)
    _, y, mask = Batches(data, "train", 64, 24, seed=3).next_batch()
    assert not mask[y == tok.specials["<|bash|>"]].any()  # prompt tokens never count
    assert mask[y == tok.specials["<|endoftext|>"]].all()  # answers' ends always do
    assert not mask[y == ord("i")].all() and mask[y == ord("i")].any()  # "list files": both roles


def test_batches_deterministic_and_resumable(bilingual: Any) -> None:
    straight = Batches(bilingual, "train", 3, 8, seed=7)
    expected = [straight.next_batch() for _ in range(6)]
    again = Batches(bilingual, "train", 3, 8, seed=7)
    for want in expected:
        assert all(np.array_equal(w, g) for w, g in zip(want, again.next_batch(), strict=True))

    first = Batches(bilingual, "train", 3, 8, seed=7)
    for _ in range(4):
        first.next_batch()
    state = json.loads(json.dumps(first.state_dict()))  # saved in a checkpoint as JSON
    resumed = Batches(bilingual, "train", 3, 8, seed=7)
    resumed.load_state_dict(state)
    for want in expected[4:]:
        got = resumed.next_batch()
        assert all(np.array_equal(w, g) for w, g in zip(want, got, strict=True))
    other = Batches(bilingual, "train", 3, 8, seed=8).next_batch()
    assert not np.array_equal(other[0], expected[0][0])
    with pytest.raises(DataError, match="batch_size"):
        Batches(bilingual, "train", 5, 8, seed=7).load_state_dict(state)


def test_fixed_batches_repeat(bilingual: Any) -> None:
    val = Batches(bilingual, "val", 2, 8, seed=2)
    one, two = val.fixed_batches(3), val.fixed_batches(3)
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(one, two, strict=True))
    assert val.step == 0


@pytest.mark.parametrize("ratio", [0.0, 0.3, 1.0])
def test_language_ratio(bilingual: Any, ratio: float) -> None:
    x, _, _ = Batches(bilingual, "train", 1000, 8, seed=5, language_ratio=ratio).next_batch()
    # Every 8-token window of the bash stream holds a "z"; English text never does.
    share = float(np.mean(~(x == ord("z")).any(axis=1)))
    assert abs(share - ratio) < 0.05


def test_language_ratio_needs_that_language(sources: Any) -> None:
    sources("pairs", [_pair(i) for i in range(30)])
    data = build_tokenized(["pairs"], ByteTokenizer(), val_fraction=0.0)
    with pytest.raises(DataError, match="needs English"):
        Batches(data, "train", 2, 8, seed=0, language_ratio=0.5)
    with pytest.raises(DataError, match="fewer than"):
        Batches(data, "train", 2, 100_000, seed=0)


def test_tokenizer_texts_round_robin_and_budget(sources: Any) -> None:
    sources("english", [_text(i, "e" * 100) for i in range(100)])
    sources("bashy", [_pair(i, request="r" * 40, command="c" * 59) for i in range(100)])
    texts = list(iter_tokenizer_texts(["english", "bashy"], limit_bytes=1000))
    assert 1000 <= sum(len(t) for t in texts) < 1100
    assert texts[0].startswith("e") and texts[1].startswith("r")
    assert all("<|" not in t for t in texts)


def _sequences_digest() -> str:
    """sha256 of what ``to_sequences`` writes for fixed documents, every target kind."""
    import hashlib

    from trainer.data.document import TARGETS, to_sequences

    pair = Document(kind="pair", id="t:1", source="t", licence="MIT", request="list files", command="ls -l  /tmp")
    text = Document(kind="text", id="t:2", source="t", licence="MIT", text="Once upon a time.")
    neighbors = [[("show hidden files", "ls -a"), ("count lines in a.txt", "wc -l a.txt")]]
    written = [
        [(s.text, s.target) for s in sequence]
        for targets in TARGETS
        for doc in (pair, text)
        for sequence in to_sequences(doc, neighbors, targets)  # type: ignore[arg-type]
    ]
    return hashlib.sha256(json.dumps(written).encode("utf-8")).hexdigest()


def test_a_change_to_the_written_sequences_comes_with_a_new_cache_format() -> None:
    """The tokenized cache's key hashes the data, the tokenizer and the options, not the code that
    writes sequences: a change to ``to_sequences`` must bump ``tokenized.FORMAT``, or a training
    run would silently reuse a cache written the old way. Record the new digest with the new FORMAT."""
    from trainer.data.tokenized import FORMAT

    assert (FORMAT, _sequences_digest()) == (2, "9ac0d18cbd4169002cf92a9e4751d37987882ca706fa3fff45f2aae8e4c30010")
