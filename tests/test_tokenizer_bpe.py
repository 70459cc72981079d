"""Byte-level BPE: pre-tokenizer splits, a hand-checked merge sequence, incremental training equal
to a naive full recount, round trips, special tokens, and the tokenizer file format."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bash_ai.errors import TokenizerError, UsageError
from bash_ai.prompt import BASH, EOT, SPECIAL_TOKENS
from bash_ai.tokenizer import TOKENIZER_FILE, BPETokenizer, CharTokenizer, Tokenizer, load_tokenizer, train_tokenizer
from bash_ai.tokenizer.bpe_train import train_merges
from bash_ai.tokenizer.pretokenize import split

CORPUS = [
    "list files by size\nls -la | sort -k5 -n\n",
    'find all python files and delete them\nfind . -name "*.py" -exec rm {} \\;\n',
    "show hidden files in the home directory\nls -a $HOME/.bashrc ~/.profile\n",
    "count lines in every text file\nwc -l *.txt 2>&1 | tail -n 1\n",
    "Once upon a time, there was a little dog. It's a dog's life, isn't it? He'll play.\n",
    'for f in *.log; do\n    gzip "$f"\ndone\n',
    "echo ${HOME:-/root} && grep --color=auto -rn 'TODO' /usr/local/bin\n",
] * 3


@pytest.fixture(scope="module")
def tok() -> BPETokenizer:
    return BPETokenizer.train(CORPUS, vocab_size=256 + 60 + len(SPECIAL_TOKENS))


# -- pre-tokenizer ----------------------------------------------------------------------------

SPLITS = {
    "ls -la | grep '\\.txt$'": ["ls", " -la", " |", " grep", " '\\", ".txt", "$'"],
    'find . -name "*.py" -exec rm {} \\;': ["find", " .", " -name", ' "*', ".py", '"', " -exec", " rm", " {}", " \\;"],
    "cmd 2>&1 >/dev/null": ["cmd", " 2>&1", " >", "/dev", "/null"],
    "cat $HOME/.bashrc": ["cat", " $HOME", "/", ".bashrc"],
    "echo ${VAR:-x}": ["echo", " ${", "VAR", ":-", "x", "}"],
    "ls --color=auto --max-depth=1": ["ls", " --color", "=", "auto", " --max-depth", "=", "1"],
    "/usr/local/bin": ["/usr", "/local", "/bin"],
    "It's a dog's life, isn't it? I'll go.": [
        "It",
        "'s",
        " a",
        " dog",
        "'s",
        " life",
        ",",
        " isn",
        "'t",
        " it",
        "?",
        " I",
        "'ll",
        " go",
        ".",
    ],
    "grep 'src' x": ["grep", " '", "src", "'", " x"],
    "if x; then\n    echo hi\n\tfi\n\n": ["if", " x", ";", " then", "\n   ", " echo", " hi", "\n\t", "fi", "\n\n"],
    "cd ../foo && ./run.sh ~/.config": ["cd", " ..", "/foo", " &&", " .", "/run", ".sh", " ~/", ".config"],
    "printf '%s\\n' \"$@\"": ["printf", " '", "%s", "\\n", "'", ' "$@"'],
    "a\r\nb  c   ": ["a", "\r\n", "b", " ", " c", "   "],
    "kill -9 1234; tar -xzvf file.tar.gz": ["kill", " -9", " 1234", ";", " tar", " -xzvf", " file", ".tar", ".gz"],
    "café naïve 😀😀 x86_64": ["café", " naïve", " 😀😀", " x86_64"],
}


@pytest.mark.parametrize("text", list(SPLITS))
def test_pretokenizer_splits_shell_and_english(text: str) -> None:
    assert split(text) == SPLITS[text]


def test_pretokenizer_bounds_long_runs() -> None:
    text = "=" * 1000 + " " * 1000 + "$" + "x" * 1000 + "\n" * 100
    chunks = split(text)
    assert "".join(chunks) == text
    assert max(map(len, chunks)) == 66  # " $" and 64 word characters
    assert split("x--a-b-c-d-e-f <<<<<<< HEAD") == ["x", "--a-b-c-d-e", "-f", " <<<", "<<<", "<", " HEAD"]


@given(st.text())
def test_pretokenizer_chunks_cover_the_text(text: str) -> None:
    assert "".join(split(text)) == text


# -- training ---------------------------------------------------------------------------------


def test_known_merge_sequence() -> None:
    # "aaabdaaabac" is one chunk; bytes a=97 b=98 c=99 d=100.
    # Pair counts: aa 4, ab 2, bd 1, da 1, ba 1, ac 1.
    # 1. (97, 97) "aa", count 4 -> 256; "aaa" merges left to right: [256 a] b d [256 a] b a c.
    # 2. (256, 97) and (97, 98) both count 2; the smaller pair (97, 98) "ab" wins -> 257:
    #    256 257 d 256 257 a c.
    # 3. (256, 257) "aaab", count 2 -> 258: 258 d 258 a c.  All pairs now count 1.
    merges = BPETokenizer.train(["aaabdaaabac"], vocab_size=1000, special_tokens=()).merges
    assert merges == [(97, 97), (97, 98), (256, 257)]
    # With min_frequency=1 the ties go to the smallest pair each time:
    # 4. (97, 99) "ac" -> 259: 258 d 258 259.
    # 5. (100, 258) "daaab" is smaller than (258, 100) and (258, 259) -> 260: 258 260 259.
    # 6. (258, 260) "aaabdaaab" -> 261; 7. (261, 259) -> 262, the whole chunk.
    tok = BPETokenizer.train(["aaabdaaabac"], vocab_size=1000, special_tokens=(), min_frequency=1)
    assert tok.merges[3:] == [(97, 99), (100, 258), (258, 260), (261, 259)]
    assert tok.token_bytes(262) == b"aaabdaaabac"
    assert tok.encode("aaabdaaabac") == [262]
    assert tok.vocab_size == 263


def naive_merges(chunks: dict[str, int], n_merges: int, min_frequency: int) -> list[tuple[int, int]]:
    """Reference: recount every pair of every chunk before each merge."""
    words = [(list(chunk.encode("utf-8")), freq) for chunk, freq in chunks.items()]
    token_bytes = [bytes([i]) for i in range(256)]
    merges: list[tuple[int, int]] = []
    banned: set[tuple[int, int]] = set()
    while len(merges) < n_merges:
        counts: Counter[tuple[int, int]] = Counter()
        for word, freq in words:
            for pair in zip(word, word[1:], strict=False):
                counts[pair] += freq
        candidates = [(c, (-p[0], -p[1]), p) for p, c in counts.items() if p not in banned]
        if not candidates:
            break
        count, _, pair = max(candidates)  # highest count, then the smallest pair
        if count < min_frequency:
            break
        data = token_bytes[pair[0]] + token_bytes[pair[1]]
        if data in token_bytes:
            banned.add(pair)
            continue
        new = len(token_bytes)
        token_bytes.append(data)
        merges.append(pair)
        for k, (word, freq) in enumerate(words):
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == pair:
                    out.append(new)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            words[k] = (out, freq)
    return merges


def test_incremental_training_equals_naive_recount() -> None:
    chunks = Counter(chunk for text in CORPUS for chunk in split(text))
    for min_frequency in (1, 2, 3):
        assert train_merges(chunks, 150, min_frequency) == naive_merges(chunks, 150, min_frequency)


def test_incremental_training_handles_runs_and_repeats() -> None:
    # Overlapping sites: "aaaaaaa" merges pairwise left to right and "abab" twice in one chunk.
    chunks = {"aaaaaaa": 3, "abababa": 2, "aab": 1, "baaab": 2, "a": 5}
    assert train_merges(chunks, 20, 1) == naive_merges(chunks, 20, 1)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(alphabet="abcé ", min_size=1, max_size=12), st.integers(1, 5), max_size=8))
def test_incremental_training_equals_naive_on_random_chunks(chunks: dict[str, int]) -> None:
    assert train_merges(chunks, 40, 1) == naive_merges(chunks, 40, 1)


def test_training_is_deterministic_and_counts_the_vocab(tok: BPETokenizer) -> None:
    again = BPETokenizer.train(CORPUS, vocab_size=tok.vocab_size)
    assert again.merges == tok.merges
    assert tok.vocab_size == 256 + len(tok.merges) + len(SPECIAL_TOKENS)
    assert list(tok.special_tokens) == list(SPECIAL_TOKENS)
    assert list(tok.special_tokens.values()) == list(range(256 + len(tok.merges), tok.vocab_size))
    assert tok.eot_id == tok.id_of(EOT) == 256 + len(tok.merges)


def test_special_token_text_in_training_data_is_not_learned() -> None:
    tok = BPETokenizer.train([f"ab{EOT}ab{EOT}"] * 10, vocab_size=2000)
    assert [tok.token_bytes(i) for i in range(256, 256 + len(tok.merges))] == [b"ab"]


def test_too_small_a_vocab_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="too small"):
        BPETokenizer.train(CORPUS, vocab_size=256)


# -- encoding ---------------------------------------------------------------------------------


@settings(max_examples=300)
@given(st.text(alphabet=st.characters(codec="utf-8")))
def test_round_trip_any_text(tok: BPETokenizer, text: str) -> None:
    assert tok.decode(tok.encode(text)) == text
    assert tok.decode_bytes(tok.encode_ordinary(text)) == text.encode("utf-8")


@given(st.lists(st.sampled_from([*SPECIAL_TOKENS, "ls -la", "\x00", "\r\n", "😀", "<|", "|>", " "])).map("".join))
def test_round_trip_with_special_looking_text(tok: BPETokenizer, text: str) -> None:
    ordinary = tok.encode(text, allowed_special="none")
    assert not set(ordinary) & set(tok.special_tokens.values())
    assert tok.decode(ordinary) == text
    assert tok.decode(tok.encode(text, allowed_special="all")) == text


def test_special_tokens_only_when_allowed(tok: BPETokenizer) -> None:
    text = f"ls{BASH}ls{EOT}"
    ls = tok.encode("ls")
    assert tok.encode(text, allowed_special="all") == [*ls, tok.id_of(BASH), *ls, tok.eot_id]
    assert tok.encode(text, allowed_special={EOT}) == [*tok.encode(f"ls{BASH}ls"), tok.eot_id]
    assert tok.encode(text, allowed_special="none") == tok.encode(text, allowed_special=set()) == tok.encode(text)
    assert tok.eot_id not in tok.encode(text)
    with pytest.raises(UsageError):
        tok.encode(text, allowed_special={"<|nope|>"})
    with pytest.raises(UsageError):
        tok.encode(text, allowed_special="some")  # type: ignore[arg-type]


def test_decode_replaces_invalid_utf8_and_streams_bytes(tok: BPETokenizer) -> None:
    ids = tok.encode("é😀")
    data = tok.decode_bytes(ids)
    assert data == "é😀".encode()
    assert b"".join(tok.token_bytes(i) for i in ids) == data
    assert tok.decode([0xC3]) == "\ufffd"  # half of "é"
    assert tok.decode([0xFF, ord("a")]) == "\ufffda"
    with pytest.raises(TokenizerError, match="outside"):
        tok.decode([tok.vocab_size])
    with pytest.raises(TokenizerError, match="outside"):
        tok.decode([-1])


def test_merges_compress_the_training_text(tok: BPETokenizer) -> None:
    text = CORPUS[0]
    assert len(tok.encode(text)) < 0.75 * len(text.encode())


# -- files ------------------------------------------------------------------------------------


def test_save_load_round_trip(tok: BPETokenizer, tmp_path: Path) -> None:
    tok.save(tmp_path / TOKENIZER_FILE)
    loaded = load_tokenizer(tmp_path)  # a directory holding the file
    assert isinstance(loaded, BPETokenizer) and isinstance(loaded, Tokenizer)
    assert loaded.merges == tok.merges and loaded.special_tokens == tok.special_tokens
    for text in [*CORPUS, f"x{EOT}y"]:
        assert loaded.encode(text, allowed_special="all") == tok.encode(text, allowed_special="all")
    loaded.save(tmp_path / "again.json")
    assert (tmp_path / "again.json").read_bytes() == (tmp_path / TOKENIZER_FILE).read_bytes()
    head = json.loads((tmp_path / TOKENIZER_FILE).read_text())
    assert (head["format"], head["version"], head["type"]) == ("bash-ai-tokenizer", 1, "bpe")
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic write cleaned up


def test_train_tokenizer_helper_takes_one_string() -> None:
    tok = train_tokenizer("ls -la\n" * 5, vocab_size=300)
    assert isinstance(tok, BPETokenizer) and tok.vocab_size <= 300
    assert isinstance(train_tokenizer("ls -la\n", vocab_size=100, kind="char"), CharTokenizer)
    with pytest.raises(UsageError):
        train_tokenizer("x", kind="wordpiece")


def _mutate(tok: BPETokenizer, path: Path, **changes: object) -> Path:
    data = {"format": "bash-ai-tokenizer", "version": 1, "type": "bpe", **tok.to_dict(), **changes}
    path.write_text(json.dumps({k: v for k, v in data.items() if v is not None}))
    return path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"version": 2}, "version 2 is not supported"),
        ({"version": True}, "version True is not supported"),
        ({"format": "tiktoken"}, "not a bash-ai tokenizer"),
        ({"type": "wordpiece"}, "unknown tokenizer type"),
        ({"merges": None}, "no 'merges'"),
        ({"merges": [[97, 97], [97, 300]]}, "merge 1"),
        ({"merges": [[97, 97], [97, 97]]}, "repeats the bytes"),
        ({"merges": [[97, "b"]]}, "merge 0"),
        ({"merges": [[97, True]]}, "merge 0"),
        ({"merges": "aa"}, "'merges' should be of type list"),
        ({"special_tokens": {EOT: 5}}, "should have id"),
        ({"pretokenizer": "gpt2"}, "unknown pre-tokenizer"),
    ],
)
def test_bad_files_raise_tokenizer_error_naming_the_file(
    tok: BPETokenizer, tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    path = _mutate(tok, tmp_path / "bad.json", **changes)
    with pytest.raises(TokenizerError, match=message) as err:
        load_tokenizer(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("content", [b"", b"{not json", b"\xff\xfe", b"[1, 2]", b'"bpe"'])
def test_corrupt_files_raise_tokenizer_error_naming_the_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / TOKENIZER_FILE
    path.write_bytes(content)
    with pytest.raises(TokenizerError) as err:
        load_tokenizer(path)
    assert str(path) in str(err.value)


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(TokenizerError, match="not found") as err:
        load_tokenizer(tmp_path)
    assert str(tmp_path / TOKENIZER_FILE) in str(err.value)
