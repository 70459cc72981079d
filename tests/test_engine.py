"""The engine against fakes that implement the real interfaces (a KV-cached bigram / script model
and a byte tokenizer), so every decoding rule is checked without training a model."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
import pytest

from bash_ai import prompt as fmt
from bash_ai.config import ModelConfig
from bash_ai.engine import Engine, Finished, SamplingParams, Started, Stats, TokenEvent
from bash_ai.errors import ModelError, UsageError

GREEDY = SamplingParams(temperature=0, max_tokens=64)


class ByteTokenizer:
    """Bytes are ids 0..255; the special tokens follow in ``prompt.SPECIAL_TOKENS`` order."""

    def __init__(self) -> None:
        self.special_tokens = {s: 256 + i for i, s in enumerate(fmt.SPECIAL_TOKENS)}
        self.vocab_size = 256 + len(self.special_tokens)
        self.eot_id = self.special_tokens[fmt.EOT]

    def encode(self, text: str, allowed_special: Any = "all") -> list[int]:
        allowed = set(self.special_tokens) if allowed_special == "all" else set(allowed_special)
        ids: list[int] = []
        i = 0
        while i < len(text):
            hit = next((s for s in allowed if text.startswith(s, i)), None)
            if hit:
                ids.append(self.special_tokens[hit])
                i += len(hit)
            else:
                ids.extend(text[i].encode("utf-8", "surrogatepass"))
                i += 1
        return ids

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        names = {v: k for k, v in self.special_tokens.items()}
        return b"".join(names[i].encode() if i in names else bytes([i]) for i in ids)

    def decode(self, ids: Iterable[int]) -> str:
        return self.decode_bytes(ids).decode("utf-8", "replace")


TOK = ByteTokenizer()


class NoRepeatCache:
    """A real KV-cache stand-in: the token rows seen so far (no ``repeat``: some runtimes lack it)."""

    def __init__(self, batch: int) -> None:
        self.tokens = np.zeros((batch, 0), dtype=np.int64)  # (B, L)
        self.prompt_len = 0

    @property
    def length(self) -> int:
        return self.tokens.shape[1]


class Cache(NoRepeatCache):
    def repeat(self, k: int) -> Cache:
        out = Cache(self.tokens.shape[0] * k)
        out.tokens = np.repeat(self.tokens, k, axis=0)
        out.prompt_len = self.prompt_len
        return out


class SelectCache(Cache):
    """Can also drop rows, so finished candidates stop costing compute."""

    def repeat(self, k: int) -> SelectCache:
        return self.select(np.repeat(np.arange(self.tokens.shape[0]), k))

    def select(self, rows: np.ndarray) -> SelectCache:
        out = SelectCache(len(rows))
        out.tokens = self.tokens[np.asarray(rows)]
        out.prompt_len = self.prompt_len
        return out


class FakeModel:
    """Counts work, enforces the context limit, and delegates logits to ``_logits``."""

    cache_cls: type[NoRepeatCache] = Cache

    def __init__(self, context_length: int = 256, delay: float = 0.0) -> None:
        self.config = ModelConfig(
            vocab_size=TOK.vocab_size, context_length=context_length, n_layer=1, n_head=1, n_kv_head=1, d_model=8
        )
        self.delay = delay
        self.prefill_rows = 0  # rows x positions processed in multi-token calls
        self.decode_rows = 0  # rows processed in one-token calls
        self.calls = 0

    def new_cache(self, batch: int) -> NoRepeatCache:
        return self.cache_cls(batch)

    def forward(self, ids: np.ndarray, cache: NoRepeatCache, last_only: bool = False) -> np.ndarray:
        ids = np.asarray(ids)
        if ids.ndim != 2 or ids.shape[0] != cache.tokens.shape[0]:
            raise ValueError(f"ids {ids.shape} do not match a cache of {cache.tokens.shape[0]} rows")
        if cache.length + ids.shape[1] > self.config.context_length:
            raise ValueError("past the context length")
        self.calls += 1
        if ids.shape[1] > 1:
            self.prefill_rows += ids.size
        else:
            self.decode_rows += ids.shape[0]
        if cache.length == 0:
            cache.prompt_len = ids.shape[1]
        start = cache.length
        cache.tokens = np.concatenate([cache.tokens, ids], axis=1)
        if self.delay:
            time.sleep(self.delay)
        positions = range(start, cache.length)
        out = np.stack([self._logits(cache, p) for p in positions], axis=1).astype(np.float32)  # (B, T, V)
        return out[:, -1:] if last_only else out

    def _logits(self, cache: NoRepeatCache, p: int) -> np.ndarray:
        """(B, V) logits for position ``p`` given the tokens up to it."""
        raise NotImplementedError


class BigramModel(FakeModel):
    def __init__(self, seed: int = 0, **kw: Any) -> None:
        super().__init__(**kw)
        self.table = np.random.default_rng(seed).normal(size=(TOK.vocab_size, TOK.vocab_size)) * 3

    def _logits(self, cache: NoRepeatCache, p: int) -> np.ndarray:
        return self.table[cache.tokens[:, p]]  # (B, V)


class ScriptModel(FakeModel):
    """Says ``script`` (token ids) right after the prompt, then end-of-text, whatever it is fed."""

    def __init__(self, script: list[int], **kw: Any) -> None:
        super().__init__(**kw)
        self.script = script

    def _logits(self, cache: NoRepeatCache, p: int) -> np.ndarray:
        out = np.zeros((cache.tokens.shape[0], TOK.vocab_size))
        j = p + 1 - cache.prompt_len
        out[:, self.script[j] if 0 <= j < len(self.script) else TOK.eot_id] = 10.0
        return out


def says(text: str, **kw: Any) -> Engine:
    return Engine(ScriptModel(TOK.encode(text), **kw), TOK, "script")


def events_of(engine: Engine, prompt: Any, params: SamplingParams = GREEDY, n: int = 1, **kw: Any) -> list[Any]:
    return list(engine.stream(prompt, params, n, **kw))


def test_event_order_and_text_pieces_add_up() -> None:
    events = events_of(says("ls -la"), "list")
    assert isinstance(events[0], Started) and events[0].prompt_tokens == 4 and not events[0].truncated
    assert isinstance(events[-1], Stats) and events[-1].generated_tokens == 6
    assert [e.text for e in events if isinstance(e, TokenEvent)] == list("ls -la")
    (done,) = [e for e in events if isinstance(e, Finished)]
    assert done == Finished(index=0, text="ls -la", finish_reason="eos", n_tokens=6)


def test_greedy_follows_the_argmax_path() -> None:
    model = BigramModel(seed=1)
    prompt = TOK.encode("hi")
    expected, prev = [], prompt[-1]
    for _ in range(20):
        prev = int(model.table[prev].argmax())
        if prev in TOK.special_tokens.values():
            break
        expected.append(prev)
    (done,) = Engine(model, TOK).generate(prompt, SamplingParams(temperature=0, max_tokens=20))
    assert TOK.encode(done.text, allowed_special=set()) == expected or "\ufffd" in done.text
    assert done.n_tokens == len(expected)


def test_top_k_one_generates_the_greedy_answer() -> None:
    engine = Engine(BigramModel(seed=2), TOK)
    greedy = engine.generate("abc", SamplingParams(temperature=0, max_tokens=30))
    top1 = engine.generate("abc", SamplingParams(temperature=1.3, top_k=1, max_tokens=30, seed=5))
    assert greedy == top1


def test_seed_reproducibility_and_distinct_candidates() -> None:
    engine = Engine(BigramModel(seed=3), TOK)
    params = SamplingParams(temperature=1.0, top_k=None, top_p=None, max_tokens=20, seed=42)
    first = engine.generate("x", params, n=4)
    assert first == engine.generate("x", params, n=4)
    assert first != engine.generate("x", params.replace(seed=43), n=4)
    assert len({f.text for f in first}) > 1
    assert [f.index for f in first] == [0, 1, 2, 3]


def test_candidates_share_one_prefill() -> None:
    model = BigramModel(seed=4)
    engine = Engine(model, TOK)
    prompt = TOK.encode("a longer prompt")
    engine.generate(prompt, SamplingParams(seed=0, max_tokens=5), n=5)
    assert model.prefill_rows == len(prompt)  # one row, not five


def test_without_cache_repeat_every_row_is_prefilled() -> None:
    model = BigramModel(seed=4)
    model.cache_cls = NoRepeatCache
    prompt = TOK.encode("a longer prompt")
    params = SamplingParams(seed=0, max_tokens=5)
    done = Engine(model, TOK).generate(prompt, params, n=3)
    assert model.prefill_rows == 3 * len(prompt)
    assert done == Engine(BigramModel(seed=4), TOK).generate(prompt, params, n=3)


def test_finished_rows_are_dropped_when_the_cache_can_select() -> None:
    prompt = TOK.encode("pq")
    params = SamplingParams(temperature=1.0, top_k=None, top_p=None, seed=7, max_tokens=12)
    answers = {}
    for cls in (NoRepeatCache, Cache, SelectCache):
        model = BigramModel(seed=8)
        model.table[:, TOK.eot_id] += 2.5  # candidates end at different lengths
        model.cache_cls = cls
        answers[cls] = (Engine(model, TOK).generate(prompt, params, n=4), model.decode_rows)
    lengths = [f.n_tokens for f in answers[Cache][0]]
    assert len(set(lengths)) > 1 and {f.finish_reason for f in answers[Cache][0]} == {"eos", "length"}
    assert answers[NoRepeatCache][0] == answers[Cache][0] == answers[SelectCache][0]
    assert answers[SelectCache][1] < answers[Cache][1] == answers[NoRepeatCache][1]
    # A candidate is fed each token it sampled except the last one of a max_tokens ending.
    fed = sum(f.n_tokens - (f.finish_reason == "length") for f in answers[Cache][0])
    assert answers[SelectCache][1] == fed


def test_stop_string_split_across_tokens_is_never_emitted() -> None:
    events = events_of(says("echo hi\n# done\nrm -rf x"), "p", GREEDY.replace(stop=("\n#",)))
    pieces = [e.text for e in events if isinstance(e, TokenEvent)]
    assert "".join(pieces) == "echo hi"
    assert all("#" not in p and "\n" not in p for p in pieces)
    (done,) = [e for e in events if isinstance(e, Finished)]
    assert (done.text, done.finish_reason, done.n_tokens) == ("echo hi", "stop", 9)


def test_held_back_stop_prefix_is_released_at_eos() -> None:
    events = events_of(says("a\n#"), "p", GREEDY.replace(stop=("\n#!",)))
    tokens = [e for e in events if isinstance(e, TokenEvent)]
    assert [t.text for t in tokens] == ["a", "", "", "\n#"]
    assert tokens[-1].token_id == TOK.eot_id
    assert [e for e in events if isinstance(e, Finished)][0].text == "a\n#"


def test_multibyte_utf8_is_emitted_whole() -> None:
    text = "grep 'café' ✓ 🙂"
    events = events_of(says(text), "p")
    pieces = [e.text for e in events if isinstance(e, TokenEvent)]
    assert "".join(pieces) == text
    assert all("\ufffd" not in p for p in pieces)
    assert "🙂" in pieces and "é" in pieces
    assert pieces.count("") == sum(len(c.encode()) - 1 for c in text)


def test_special_tokens_end_a_candidate() -> None:
    script = [*TOK.encode("ls"), TOK.special_tokens[fmt.REQUEST], *TOK.encode("more")]
    (done,) = Engine(ScriptModel(script), TOK).generate("p", GREEDY)
    assert (done.text, done.finish_reason, done.n_tokens) == ("ls", "eos", 2)


def test_max_tokens_gives_length() -> None:
    (done,) = says("abcdefgh").generate("p", GREEDY.replace(max_tokens=3))
    assert (done.text, done.finish_reason, done.n_tokens) == ("abc", "length", 3)


def test_long_prompt_is_truncated_from_the_left() -> None:
    model = ScriptModel(TOK.encode("ok"), context_length=32)
    prompt = TOK.encode("0123456789" * 10)
    events = list(Engine(model, TOK).stream(prompt, GREEDY.replace(max_tokens=8)))
    start = events[0]
    assert start == Started(prompt_tokens=24, truncated=True, dropped_tokens=76, n=1)
    assert model.prefill_rows == 24
    assert [e for e in events if isinstance(e, Finished)][0].text == "ok"


def test_truncation_keeps_the_leading_task_marker() -> None:
    model = ScriptModel(TOK.encode("ls"), context_length=32)
    engine = Engine(model, TOK)
    ids = engine.task_ids("ask", "x" * 50 + " list files")
    start = next(engine.stream(ids, GREEDY.replace(max_tokens=8)))
    assert isinstance(start, Started) and start.truncated
    kept = engine.fit_prompt(ids, 8)[0]
    assert kept[0] == TOK.special_tokens[fmt.REQUEST] and kept[-1] == TOK.special_tokens[fmt.BASH]
    assert TOK.decode(kept[1:-1]).endswith(" list files") and len(kept) == 24


def test_generation_stops_at_the_context_limit() -> None:
    model = ScriptModel(TOK.encode("z" * 100), context_length=16)
    (done,) = Engine(model, TOK).generate("0123456789", GREEDY.replace(max_tokens=100))
    # Half the context is kept for the prompt; the model never sees more than 16 positions.
    assert done.finish_reason == "length"
    assert done.n_tokens == 16 - 8 + 1


def test_repetition_penalty_breaks_a_loop() -> None:
    model = BigramModel(seed=5)
    a, b = TOK.encode("ab")
    model.table[:] = -5.0
    model.table[:, a] = 3.0  # always wants "a" ...
    model.table[:, b] = 2.0  # ... then "b"
    engine = Engine(model, TOK)
    plain = engine.generate("x", GREEDY.replace(max_tokens=4))
    assert plain[0].text == "aaaa"
    penalised = engine.generate("x", GREEDY.replace(max_tokens=4, repetition_penalty=2.0))
    assert penalised[0].text == "abaa"  # seen "a": 3/2 = 1.5 < 2; then both seen: 1.5 > 2/2
    on_prompt = engine.generate("a", GREEDY.replace(max_tokens=2, repetition_penalty=2.0, penalize_prompt=True))
    assert on_prompt[0].text == "ba"  # the prompt's "a" counts as seen from the start


def test_cancel_event_stops_between_tokens() -> None:
    cancel = threading.Event()
    seen = []
    for event in says("x" * 50).stream("p", GREEDY, 2, cancel=cancel):
        seen.append(event)
        if isinstance(event, TokenEvent) and event.index == 1:
            cancel.set()
    assert [type(e) for e in seen] == [Started, TokenEvent, TokenEvent]


def test_cancel_from_another_thread_is_prompt() -> None:
    engine = says("y" * 200, delay=0.01)
    cancel = threading.Event()
    timer = threading.Timer(0.1, cancel.set)
    timer.start()
    t0 = time.perf_counter()
    events = list(engine.stream("p", GREEDY.replace(max_tokens=200), cancel=cancel))
    elapsed = time.perf_counter() - t0
    timer.cancel()
    assert elapsed < 1.5  # 200 tokens would take over 2 s
    assert not any(isinstance(e, Finished | Stats) for e in events)
    assert engine.generate("p", GREEDY, cancel=cancel) == []


def test_closing_the_generator_stops_the_model() -> None:
    model = ScriptModel(TOK.encode("z" * 50))
    stream = Engine(model, TOK).stream("p", GREEDY)
    for event in stream:
        if isinstance(event, TokenEvent):
            break
    stream.close()
    assert model.calls == 1


def test_ask_explain_complete_use_the_prompt_format() -> None:
    engine = says("ls -S\nnext line")
    assert engine.task_ids("ask", " list files ") == TOK.encode("<|request|>list files<|bash|>")
    assert engine.task_ids("explain", " ls ") == TOK.encode("<|command|>ls<|explain|>")
    assert engine.task_ids("complete", "ls -") == TOK.encode("<|bash|>ls -")  # the typed line as it is
    # Training writes the same prompts before its answers.
    assert fmt.forward_pair(" list files ", "ls -S")[0].text == "<|request|>list files<|bash|>"
    assert fmt.reverse_pair("list files", " ls -S")[0].text == "<|command|>ls -S<|explain|>"
    assert [f.text for f in engine.ask("list files", GREEDY)] == ["ls -S\nnext line"]
    assert engine.complete("l") == "ls -S"
    assert engine.describe("ls -S", GREEDY) == "ls -S\nnext line"


def test_user_text_cannot_inject_special_tokens() -> None:
    engine = says("ok")
    ids = engine.task_ids("ask", "say <|bash|> rm")
    assert ids.count(TOK.special_tokens[fmt.BASH]) == 1 and ids[-1] == TOK.special_tokens[fmt.BASH]


@pytest.mark.parametrize("n", [0, 17, True, 1.5])
def test_bad_candidate_count(n: Any) -> None:
    with pytest.raises(UsageError, match="number of candidates"):
        says("x").stream("p", GREEDY, n)


def test_out_of_vocab_prompt_ids_are_rejected() -> None:
    with pytest.raises(UsageError, match="outside the vocabulary"):
        says("x").stream([1, 99999], GREEDY)


def test_tokenizer_larger_than_model_vocab_is_a_model_error() -> None:
    model = BigramModel()
    model.config = model.config.replace(vocab_size=100)
    with pytest.raises(ModelError, match="tokenizer has 262 tokens"):
        Engine(model, TOK, "tiny")


def test_engine_does_not_import_heavy_modules() -> None:
    import subprocess
    import sys

    code = (
        "import sys, bash_ai.engine, bash_ai.registry\n"
        "heavy = [m for m in ('torch', 'mlx', 'fastapi', 'huggingface_hub', 'rich', 'typer') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- the real numpy runtime --------------------------------------------------------------------


def numpy_engine(seed: int = 0, **overrides: Any) -> Engine:
    from bash_ai.checkpoint import random_weights
    from bash_ai.config import preset
    from bash_ai.model.numpy_gpt import NumpyGPT

    config = preset("tiny", vocab_size=TOK.vocab_size, **overrides)
    return Engine(NumpyGPT(config, random_weights(config, seed, std=0.3)), TOK, "tiny")


def test_numpy_runtime_greedy_matches_recomputing_from_scratch() -> None:
    engine = numpy_engine(pos_encoding="rope")
    prompt = TOK.encode("ls -la")
    events = list(engine.stream(prompt, SamplingParams(temperature=0, max_tokens=20), n=3))
    got = [[e.token_id for e in events if isinstance(e, TokenEvent) and e.index == i] for i in range(3)]
    ids, expected = list(prompt), []
    for _ in range(20):
        logits = engine.model.forward(np.array([ids]), engine.model.new_cache(1))  # no cache reuse
        tok = int(np.asarray(logits)[0, -1].argmax())
        expected.append(tok)
        if tok in engine.special_ids:
            break
        ids.append(tok)
    assert got[0][: len(expected)] == expected
    assert got[0] == got[1] == got[2]


def test_numpy_runtime_candidates_are_reproducible_and_distinct() -> None:
    engine = numpy_engine(seed=1)
    params = SamplingParams(temperature=1.0, top_k=None, top_p=None, seed=11, max_tokens=16)
    first = engine.generate("echo", params, n=4)
    assert first == engine.generate("echo", params, n=4)
    assert len({f.text for f in first}) > 1
    # The same seed gives candidate 0 the same answer whether it is sampled alone or in a batch
    # of 4 (one uniform per candidate per step, rows dropped when finished).
    assert engine.generate("echo", params, n=1)[0].text == first[0].text


# -- real tokenizer and real checkpoints -------------------------------------------------------


def test_real_bpe_pieces_add_up_to_the_decoded_tokens(tiny_model_dir: Any) -> None:
    from bash_ai.registry import load

    engine = load(str(tiny_model_dir))
    tok = engine.tokenizer
    for seed in range(3):
        params = SamplingParams(temperature=1.5, top_k=None, top_p=None, seed=seed, max_tokens=24, stop=("o",))
        events = list(engine.stream_ask("say café ✓", params, n=3))
        for done in (e for e in events if isinstance(e, Finished)):
            mine = [e for e in events if isinstance(e, TokenEvent) and e.index == done.index]
            assert "".join(e.text for e in mine) == done.text
            ids = [e.token_id for e in mine if e.token_id not in engine.special_ids]
            full = tok.decode(ids)
            assert done.text == (full[: full.index("o")] if done.finish_reason == "stop" else full)


def test_trained_model_answers_explains_and_completes(trained_model_dir: Any) -> None:
    from bash_ai.registry import load

    engine = load(str(trained_model_dir))
    greedy = SamplingParams(temperature=0, max_tokens=32)
    assert [f.text for f in engine.ask("say hello", greedy, n=3)] == ["echo hello"] * 3
    (script,) = engine.ask("create backup script", greedy)
    assert (script.text, script.finish_reason) == ("tar czf backup.tgz docs\necho done", "eos")
    (first_line,) = engine.ask("create backup script", greedy.with_stop("\n"))
    assert (first_line.text, first_line.finish_reason) == ("tar czf backup.tgz docs", "stop")
    assert engine.describe("ls -S") == "list files sorted by size"
    assert engine.complete("echo hel") == "lo"
    sampled = SamplingParams(temperature=0.8, seed=3, max_tokens=32)
    assert engine.ask("show the date", sampled, n=4) == engine.ask("show the date", sampled, n=4)
