"""Parity with HF ``tokenizers`` (a reference only): the exported ``tokenizer.json`` loads and
encodes exactly like our tokenizer on the data pack's text, random unicode and special tokens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bash_ai.prompt import SPECIAL_TOKENS
from bash_ai.tokenizer import BPETokenizer
from bash_ai.tokenizer.hf import bytes_to_unicode
from bash_ai.tokenizer.pretokenize import split

tokenizers = pytest.importorskip("tokenizers")

TEXT = st.text(alphabet=st.characters(codec="utf-8"))


def _pack_texts(data: Path) -> dict[str, list[str]]:
    pages = sorted((data / "tldr" / "pages" / "common").glob("*.md"))[:300]
    return {
        "tldr": [p.read_text(encoding="utf-8") for p in pages],
        "nl2bash": [
            *(data / "nl2bash" / "train.nl").read_text(encoding="utf-8").splitlines()[:1500],
            *(data / "nl2bash" / "train.cm").read_text(encoding="utf-8").splitlines()[:1500],
        ],
        "tinystories": (data / "tinystories" / "sample-a.txt").read_text(encoding="utf-8").split("\n\n")[:150],
    }


@pytest.fixture(scope="module")
def texts(shared_data: Path) -> dict[str, list[str]]:
    return _pack_texts(shared_data)


@pytest.fixture(scope="module")
def pair(texts: dict[str, list[str]], tmp_path_factory: pytest.TempPathFactory) -> tuple[BPETokenizer, Any]:
    ours = BPETokenizer.train([t for group in texts.values() for t in group], vocab_size=1024)
    path = tmp_path_factory.mktemp("hf") / "tokenizer.json"
    ours.to_hf_json(path)
    return ours, tokenizers.Tokenizer.from_file(str(path))


def _hf_ids(hf: Any, text: str) -> list[int]:
    return list(hf.encode(text, add_special_tokens=False).ids)


def test_export_loads_with_the_same_vocabulary(pair: tuple[BPETokenizer, Any]) -> None:
    ours, hf = pair
    assert hf.get_vocab_size() == ours.vocab_size
    for text, tid in ours.special_tokens.items():
        assert hf.token_to_id(text) == tid
    table = bytes_to_unicode()
    for tid in (0, 32, 255, 256, ours.vocab_size - len(SPECIAL_TOKENS) - 1):
        assert hf.id_to_token(tid) == "".join(table[b] for b in ours.token_bytes(tid))


@pytest.mark.parametrize("source", ["tldr", "nl2bash", "tinystories"])
def test_same_ids_on_the_data_pack(pair: tuple[BPETokenizer, Any], texts: dict[str, list[str]], source: str) -> None:
    ours, hf = pair
    sample = texts[source]
    theirs = [list(e.ids) for e in hf.encode_batch(sample, add_special_tokens=False)]
    assert [ours.encode(t) for t in sample] == theirs
    assert [hf.decode(ids) for ids in theirs[:50]] == sample[:50]


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_same_ids_on_random_unicode(pair: tuple[BPETokenizer, Any], text: str) -> None:
    ours, hf = pair
    # HF always matches special-token text, so compare with our "all" mode.
    assert ours.encode(text, allowed_special="all") == _hf_ids(hf, text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(SPECIAL_TOKENS), TEXT, st.sampled_from(["ls -la ", "\n    ", "<|", "|>"]))))
def test_same_ids_with_special_tokens(pair: tuple[BPETokenizer, Any], parts: list[str]) -> None:
    ours, hf = pair
    text = "".join(parts)
    ids = ours.encode(text, allowed_special="all")
    assert ids == _hf_ids(hf, text)
    assert hf.decode(ids, skip_special_tokens=False) == ours.decode(ids) == text


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_same_pretokenizer_chunks(pair: tuple[BPETokenizer, Any], text: str) -> None:
    _, hf = pair
    table = bytes_to_unicode()
    mapped = ["".join(table[b] for b in chunk.encode("utf-8")) for chunk in split(text)]
    assert [piece for piece, _ in hf.pre_tokenizer.pre_tokenize_str(text)] == mapped


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=" \n=ax9-<>&$.'", min_size=50, max_size=400))
def test_same_ids_on_long_runs(pair: tuple[BPETokenizer, Any], text: str) -> None:
    """Bounded repeats, lookarounds and alternation order agree between ``re`` and Oniguruma."""
    ours, hf = pair
    long = text + "=" * 300 + " " * 200 + "x" + "a" * 200 + "--" + "-a" * 20 + " 123456>&2"
    assert ours.encode(long) == _hf_ids(hf, long)
    assert ours.encode(text) == _hf_ids(hf, text)
