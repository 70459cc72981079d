"""Character-level tokenizer: vocabulary order, the unknown-character policy both ways, round
trips, special tokens and its file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bash_ai.errors import TokenizerError, UsageError
from bash_ai.prompt import BASH, EOT, SPECIAL_TOKENS
from bash_ai.tokenizer import TOKENIZER_FILE, UNK, CharTokenizer, Tokenizer, load_tokenizer

TEXTS = ["ls -la | sort\n", "find . -name '*.py'\n", "a dog and a cat\n"]


@pytest.fixture(scope="module")
def tok() -> CharTokenizer:
    return CharTokenizer.train(TEXTS)


def test_vocab_order_is_frequency_then_code_point() -> None:
    # "abbccc d": c x3, b x2, then a, d and " " once each, ties by code point (" " < a < d).
    tok = CharTokenizer.train(["abbccc d"], special_tokens=(EOT,))
    assert tok.chars == ["c", "b", " ", "a", "d"]
    assert tok.special_tokens == {EOT: 5}
    assert tok.unk_id == 6 and tok.vocab_size == 7


def test_max_vocab_and_min_frequency_cap_the_characters() -> None:
    tok = CharTokenizer.train(["abbccc d"], max_vocab=len(SPECIAL_TOKENS) + 1 + 2)
    assert tok.chars == ["c", "b"] and tok.vocab_size == 2 + len(SPECIAL_TOKENS) + 1
    assert CharTokenizer.train(["abbccc d"], min_frequency=2).chars == ["c", "b"]
    with pytest.raises(UsageError, match="no room"):
        CharTokenizer.train(["abc"], max_vocab=len(SPECIAL_TOKENS) + 1)


def test_special_tokens_follow_the_characters(tok: CharTokenizer) -> None:
    n = len(tok.chars)
    assert tok.special_tokens == {s: n + i for i, s in enumerate(SPECIAL_TOKENS)}
    assert tok.eot_id == tok.id_of(EOT) == n
    assert tok.unk_id == tok.vocab_size - 1 == n + len(SPECIAL_TOKENS)
    assert isinstance(tok, Tokenizer)


def test_training_text_special_tokens_are_not_characters() -> None:
    tok = CharTokenizer.train([f"ab{EOT}"])
    assert sorted(tok.chars) == ["a", "b"]


@given(st.text(alphabet="".join(sorted(set("".join(TEXTS))))))
def test_round_trip_known_characters(tok: CharTokenizer, text: str) -> None:
    ids = tok.encode(text)
    assert len(ids) == len(text) and tok.unk_id not in ids
    assert tok.decode(ids) == text
    assert tok.decode_bytes(ids) == text.encode("utf-8")


@given(st.text())
def test_replace_policy_maps_unseen_characters_to_unk(tok: CharTokenizer, text: str) -> None:
    decoded = tok.decode(tok.encode(text))
    assert len(decoded) == len(text)
    assert all(d == c if c in tok.chars else d == "\ufffd" for c, d in zip(text, decoded, strict=True))


def test_unknown_policy_replace_and_error(tok: CharTokenizer) -> None:
    assert tok.unknown == "replace"
    assert tok.encode("ls ~") == [*tok.encode("ls "), tok.unk_id]
    strict = CharTokenizer.train(TEXTS, unknown="error")
    assert strict.encode("ls -la") == tok.encode("ls -la")
    with pytest.raises(TokenizerError, match=r"'~' \(U\+007E\) at position 3"):
        strict.encode("ls ~")
    # Positions count from the start of the whole text, special tokens included.
    head = f"ls{BASH}a{EOT}"  # 2 + 8 + 1 + 13 characters
    with pytest.raises(TokenizerError, match=r"'é' \(U\+00E9\) at position 24 "):
        strict.encode(head + "é", allowed_special="all")
    with pytest.raises(UsageError):
        tok.unknown = "skip"  # type: ignore[assignment]


def test_special_tokens_only_when_allowed(tok: CharTokenizer) -> None:
    text = f"ls{EOT}"
    assert tok.encode(text, allowed_special="all") == [*tok.encode("ls"), tok.eot_id]
    plain = tok.encode(text, allowed_special="none")
    assert tok.eot_id not in plain and len(plain) == len(text)
    assert tok.decode(tok.encode(text, allowed_special="all")) == text


def test_save_load_round_trip_keeps_policy(tmp_path: Path) -> None:
    tok = CharTokenizer.train(TEXTS, unknown="error")
    tok.save(tmp_path / TOKENIZER_FILE)
    loaded = load_tokenizer(tmp_path)
    assert isinstance(loaded, CharTokenizer)
    assert (loaded.chars, loaded.special_tokens, loaded.unknown) == (tok.chars, tok.special_tokens, "error")
    for text in TEXTS:
        assert loaded.encode(text) == tok.encode(text)
    head = json.loads((tmp_path / TOKENIZER_FILE).read_text())
    assert (head["type"], head["unk"]) == ("char", UNK)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"chars": ["a", "a"]}, "duplicates"),
        ({"chars": ["ab"]}, "not a single character"),
        ({"chars": None}, "no 'chars'"),
        ({"unknown": "skip"}, "policy"),
        ({"unk": "<unk>"}, "unknown token"),
        ({"special_tokens": {EOT: 0}}, "should have id"),
        ({"version": 0}, "version 0"),
    ],
)
def test_bad_char_files_name_the_file(
    tok: CharTokenizer, tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    data = {"format": "bash-ai-tokenizer", "version": 1, "type": "char", **tok.to_dict(), **changes}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({k: v for k, v in data.items() if v is not None}))
    with pytest.raises(TokenizerError, match=message) as err:
        load_tokenizer(path)
    assert str(path) in str(err.value)
