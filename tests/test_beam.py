"""Beam search against exhaustive search, teacher-forced scores, and the candidate pool."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bash_ai.engine.beam import Beam, beam_search, continuation_logprobs, log_softmax, prefill, sequence_logprobs
from bash_ai.errors import UsageError


class TableModel:
    """A real ``LogitsModel`` whose next-token logits are a fixed function of the last token.

    Small vocabulary so every sequence can be enumerated; its cache keeps the last token per row
    and supports ``select`` like the numpy runtime's KV cache.
    """

    def __init__(self, vocab: int = 5, context_length: int = 32, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.table = rng.normal(0, 2.0, size=(vocab, vocab))  # (V, V): row = previous token
        self.config = type("C", (), {"context_length": context_length, "vocab_size": vocab})()

    class Cache:
        def __init__(self, last: np.ndarray, length: int) -> None:
            self.last, self.length = last, length

        def select(self, rows: Any) -> TableModel.Cache:
            return TableModel.Cache(self.last[np.asarray(rows)], self.length)

    def new_cache(self, batch: int) -> TableModel.Cache:
        return TableModel.Cache(np.zeros(batch, dtype=np.int64), 0)

    def forward(self, ids: np.ndarray, cache: TableModel.Cache, last_only: bool = False) -> np.ndarray:
        ids = np.asarray(ids)
        out = self.table[ids]  # (B, T, V)
        cache.last = ids[:, -1]
        cache.length += ids.shape[1]
        return out[:, -1] if last_only else out

    def logprob(self, prompt_last: int, seq: tuple[int, ...]) -> float:
        total, prev = 0.0, prompt_last
        for tok in seq:
            total += float(log_softmax(self.table[prev][None])[0, tok])
            prev = tok
        return total


def exhaustive(model: TableModel, prompt_last: int, eot: int, max_tokens: int) -> list[tuple[float, tuple[int, ...]]]:
    """Every sequence ending in EOT within ``max_tokens`` steps, with its total log-probability."""
    body = [t for t in range(model.table.shape[0]) if t != eot]
    out = []
    for n in range(max_tokens):
        for seq in itertools.product(body, repeat=n):
            out.append((model.logprob(prompt_last, (*seq, eot)), seq))
    return sorted(out, reverse=True)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_wide_beam_finds_the_exhaustive_best(seed: int) -> None:
    model = TableModel(seed=seed)
    eot, max_tokens = 4, 4
    best = exhaustive(model, 2, eot, max_tokens)
    beams = beam_search(model, [1, 2], eot, width=16, max_tokens=max_tokens)
    eos = [b for b in beams if b.finish_reason == "eos"]
    assert eos[0].tokens == best[0][1] and eos[0].logprob == pytest.approx(best[0][0])
    # Every returned hypothesis carries its true log-probability; best first.
    for b in eos:
        assert b.logprob == pytest.approx(model.logprob(2, (*b.tokens, eot)))
    assert [b.logprob for b in beams] == sorted((b.logprob for b in beams), reverse=True)


def unpruned_beams(model: TableModel, prompt: list[int], eot: int, width: int, max_tokens: int) -> tuple[list, int]:
    """The textbook search (``beam_search`` before it stopped feeding hopeless beams): the ``width``
    best live continuations every step, whatever their score; its hypotheses and the rows it fed."""
    cache = model.new_cache(1)
    logp = log_softmax(model.forward(np.array([prompt]), cache, last_only=True))
    beams: list[tuple[int, ...]] = [()]
    scores, done, rows = np.zeros(1), [], 0
    for step in range(max_tokens):
        total = (scores[:, None] + logp).ravel()
        parents, tokens, live, live_scores = [], [], [], []
        take = min(2 * width, total.size)
        best = np.argpartition(-total, take - 1)[:take]  # as beam_search picks (ties alike)
        for j in best[np.argsort(-total[best], kind="stable")]:
            parent, token = divmod(int(j), logp.shape[1])
            if token == eot:
                done.append(Beam(beams[parent], float(total[j]), "eos"))
                continue
            parents.append(parent)
            tokens.append(token)
            live.append((*beams[parent], token))
            live_scores.append(float(total[j]))
            if len(live) == width:
                break
        done.sort(key=lambda b: -b.logprob)
        del done[width:]
        if not live or (len(done) == width and live_scores[0] <= done[-1].logprob):
            break
        if step == max_tokens - 1:
            done += [Beam(b, s, "length") for b, s in zip(live, live_scores, strict=True)]
            break
        cache = cache.select(parents)
        beams, scores = live, np.array(live_scores)
        rows += len(tokens)
        logp = log_softmax(model.forward(np.array(tokens)[:, None], cache, last_only=True))
    done.sort(key=lambda b: -b.logprob)
    return done[:width], rows


def test_hopeless_beams_are_not_fed_and_the_result_is_the_same() -> None:
    fed = {"pruned": 0, "textbook": 0}
    for seed, width in itertools.product(range(24), (2, 3, 5)):
        model = TableModel(seed=seed, vocab=6)
        want, rows = unpruned_beams(model, [1, 2], 5, width, 9)
        fed["textbook"] += rows
        forward = model.forward

        def counted(ids: Any, cache: Any, last_only: bool = False, forward: Any = forward) -> Any:
            if ids.shape[1] == 1 and cache.length:
                fed["pruned"] += ids.shape[0]
            return forward(ids, cache, last_only)

        model.forward = counted  # type: ignore[method-assign]
        got = beam_search(model, [1, 2], 5, width=width, max_tokens=9)
        assert [(b.tokens, b.finish_reason) for b in got] == [(b.tokens, b.finish_reason) for b in want]
        assert [b.logprob for b in got] == pytest.approx([b.logprob for b in want])
    assert fed["pruned"] < fed["textbook"]


def test_width_one_is_greedy_and_banned_tokens_never_appear() -> None:
    model = TableModel(seed=5)
    eot = 4
    (beam,) = beam_search(model, [0], eot, width=1, max_tokens=6)
    prev, greedy = 0, []
    for _ in range(6):
        tok = int(model.table[prev].argmax())
        if tok == eot:
            break
        greedy.append(tok)
        prev = tok
    assert list(beam.tokens) == greedy
    banned = np.array([int(model.table[0].argmax())])
    for b in beam_search(model, [0], eot, width=4, max_tokens=5, banned=banned):
        assert banned[0] not in b.tokens


def test_beam_stops_at_max_tokens_and_validates_its_input() -> None:
    model = TableModel(seed=1)
    beams = beam_search(model, [0], eot_id=99, width=3, max_tokens=3)  # EOT unreachable
    assert beams and all(b.finish_reason == "length" and len(b.tokens) == 3 for b in beams)
    with pytest.raises(UsageError):
        beam_search(model, [0], 4, width=0)
    with pytest.raises(UsageError):
        beam_search(model, [], 4)
    assert Beam((1, 2), -3.0, "eos").score(0.0) == -3.0
    assert Beam((1, 2), -3.0, "eos").score(1.0) == pytest.approx(-3.0 / (8 / 6))


def test_sequence_logprobs_match_the_chain_rule() -> None:
    model = TableModel(seed=7)
    conts = [[1, 2, 4], [3], [0, 0, 0, 4]]
    got = sequence_logprobs(model, [2], conts)
    assert got == pytest.approx([model.logprob(2, tuple(c)) for c in conts])
    assert sequence_logprobs(model, [2], []) == []


def test_continuation_logprobs_take_each_row_after_its_own_prompt() -> None:
    model = TableModel(seed=9, context_length=6)
    pairs = [([2], [1, 4]), ([0, 3], [3, 3, 4]), ([1], [0] * 9)]  # the last does not fit
    got = continuation_logprobs(model, pairs)
    assert got[:2] == pytest.approx([model.logprob(2, (1, 4)), model.logprob(3, (3, 3, 4))])
    assert got[2] == -np.inf


# -- the real numpy runtime and the candidate pool -------------------------------------------------


def test_numpy_runtime_beam_scores_equal_teacher_forcing(tiny_model_dir: Path) -> None:
    from bash_ai.registry import load

    engine = load(str(tiny_model_dir))
    prompt = engine.task_ids("ask", "list files")
    beams = beam_search(engine.model, prompt, engine.eot_id, width=4, max_tokens=6)
    assert len(beams) == 4
    conts = [list(b.tokens) + ([engine.eot_id] if b.finish_reason == "eos" else []) for b in beams]
    assert sequence_logprobs(engine.model, prompt, conts) == pytest.approx([b.logprob for b in beams], abs=1e-3)


def test_packed_scoring_equals_one_row_per_command(tiny_model_dir: Path) -> None:
    # The numpy runtime scores the pooled commands as one token tree in one row (several rows once
    # the context is full); the portable way, one padded row each, gives the same log-probabilities.
    from bash_ai.registry import load

    engine = load(str(tiny_model_dir))
    model = engine.model
    room = model.config.context_length
    prompt = engine.task_ids("ask", "list files")
    rng = np.random.default_rng(3)
    conts = [list(rng.integers(0, 50, size=n)) for n in (1, 5, 2, room // 2, 9, room // 3, 3)]
    conts += [[], [7, 8, 9, 10], [7, 8, 9, 11], [7, 8], [7, 8, 9, 10]]  # shared prefixes, a repeat
    shared = prefill(model, prompt)
    calls: list[int] = []
    forward = model.forward

    def spy(ids: Any, cache: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(ids.shape[1])
        return forward(ids, cache, *args, **kwargs)

    model.forward = spy  # type: ignore[method-assign]
    packed = sequence_logprobs(model, prompt, conts, shared)
    assert len(calls) >= 2  # the context holds them in no fewer than two packed rows
    assert all(len(prompt) + n <= room for n in calls)
    assert sum(calls) < sum(len(c) - 1 for c in conts if c)  # shared prefixes ran once
    model.packs_sequences = False  # type: ignore[misc]
    assert sequence_logprobs(model, prompt, conts, shared) == pytest.approx(packed, abs=1e-4)
    assert packed[7] == 0.0 and packed[-1] == packed[8]


def test_propose_pools_beams_and_retrieved_commands(trained_model_dir: Path, tmp_path: Path) -> None:
    from bash_ai.answer import answer, propose_checked
    from bash_ai.engine.propose import DecodeConfig, propose
    from bash_ai.registry import load
    from bash_ai.retrieval import RetrievalIndex

    engine = load(str(trained_model_dir))
    engine.set_index(
        RetrievalIndex.build([("say hello to the world", "echo hello world", "t"), ("say goodbye", "echo bye", "t")])
    )
    plain = DecodeConfig(
        retrieval_k=0, beam_width=3, pool=2, reviewer=0, retrieval_weight=0, retrieval_bonus=0, consensus=0
    )
    found = propose(engine, "say hello", plain)
    assert found[0].text == "echo hello" and found[0].source == "beam"
    assert 0 < found[0].confidence <= 1
    sources = {p.text: p.source for p in found}
    assert sources["echo hello world"] == "retrieval" and sources["echo bye"] == "retrieval"
    assert len({p.text for p in found}) == len(found)  # distinct
    checked = propose_checked(engine, "say hello", plain.replace(pool=1))
    assert checked[0].text == "echo hello" and checked[0].syntax_ok
    # The reviewer adds log p(request | candidate): the trained model explains echo hello as "say hello".
    reviewed = propose(engine, "say hello", plain.replace(pool=0, reviewer=1.0))
    scores = {p.text: p.score for p in propose(engine, "say hello", plain.replace(pool=0))}
    assert reviewed[0].text == "echo hello" and all(p.score < scores[p.text] for p in reviewed)
    # A retrieved command gains retrieval_weight x its BM25 score relative to the best hit's, plus the bonus.
    ranked = {p.text: p for p in propose(engine, "say hello", plain.replace(retrieval_weight=2.0, retrieval_bonus=0.5))}
    base = {p.text: p for p in found}
    top = ranked["echo hello world"]
    assert top.retrieval == 1.0 and 0 < ranked["echo bye"].retrieval < 1
    for text in ("echo hello world", "echo bye"):
        assert ranked[text].score == pytest.approx(base[text].score + 2.0 * ranked[text].retrieval + 0.5)
    assert ranked["echo hello"].score == pytest.approx(base["echo hello"].score)  # a beam no pair wrote
    # answer() with no sampling params is this path; the CLI's default.
    best = answer(engine, "say hello", 2, decode=DecodeConfig(retrieval_k=0))
    assert best[0].text == "echo hello" and best[0].kind == "command" and len(best) <= 2


def test_pooled_commands_are_scored_beside_the_beams_with_the_same_result(
    trained_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    from concurrent.futures import Future

    from bash_ai.engine import propose as module
    from bash_ai.registry import load
    from bash_ai.retrieval import RetrievalIndex

    engine = load(str(trained_model_dir))
    pairs = [("say hello to the world", "echo hello world", "t"), ("say goodbye", "echo bye", "t")]
    engine.set_index(RetrievalIndex.build([*pairs, ("say hello", "echo hello", "t")]))  # one a beam writes too
    config = module.DecodeConfig(retrieval_k=0, beam_width=3, pool=3)
    scored_in: list[str] = []
    real = module.sequence_logprobs

    def spy(*args: object, **kwargs: object) -> list[float]:
        scored_in.append(threading.current_thread().name)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(module, "sequence_logprobs", spy)
    beside = module.propose(engine, "say hello", config)
    assert scored_in == [scored_in[0]] and scored_in[0] != threading.current_thread().name

    class Inline:  # the sequential way: scored in the caller's thread
        def submit(self, fn, *args):  # type: ignore[no-untyped-def]
            future: Future[object] = Future()
            future.set_result(fn(*args))
            return future

    monkeypatch.setattr(module, "_scoring_pool", Inline)
    alone = module.propose(engine, "say hello", config)
    assert scored_in[-1] == threading.current_thread().name
    assert [(p.text, p.source, p.logprob, p.score) for p in beside] == [
        (p.text, p.source, p.logprob, p.score) for p in alone
    ]
    sources = {p.text: p.source for p in beside}
    assert sources["echo hello"] == "beam" and sources["echo bye"] == "retrieval"  # the beam's entry stands


def test_a_pooled_command_knows_the_sources_of_the_pairs_that_asked_for_it(trained_model_dir: Path) -> None:
    from bash_ai.engine.propose import DecodeConfig, propose
    from bash_ai.registry import load
    from bash_ai.retrieval import RetrievalIndex

    engine = load(str(trained_model_dir))
    pairs = [
        ("say hello to the world", "echo hello world", "howto"),
        ("say hello to everyone", "echo hello world", "tldr"),  # the same command, asked twice
        ("say goodbye", "echo bye", "nl2bash"),
        ("say hello", "echo hello", "howto"),  # one a beam writes too
    ]
    engine.set_index(RetrievalIndex.build(pairs))
    found = {p.text: p for p in propose(engine, "say hello", DecodeConfig(retrieval_k=0, beam_width=3, pool=4))}
    assert found["echo hello world"].origins == ("howto", "tldr") and found["echo bye"].origins == ("nl2bash",)
    assert found["echo hello"].source == "beam" and found["echo hello"].origins == ("howto",)
    assert all(p.origins == () for p in found.values() if p.source == "beam" and p.retrieval == 0)
    # The fewest words a request that asked for it says and "say hello" does not: "to the world",
    # "to everyone" (one word each, "to" a stop word; the fewer counts), "goodbye".
    assert found["echo hello world"].excess == 1 and found["echo bye"].excess == 1
    assert found["echo hello"].excess == 0


def test_ask_prompt_holds_neighbours_nearest_last_and_fits(tiny_model_dir: Path) -> None:
    from bash_ai import prompt as fmt
    from bash_ai.registry import load
    from bash_ai.retrieval import RetrievalIndex

    engine = load(str(tiny_model_dir))
    index = RetrievalIndex.build([("size sort", "ls -S", "t"), ("sort f", "sort f", "t")])
    engine.set_index(index)
    hits = engine.neighbors("size sort")
    assert [h.command for h in hits] == ["ls -S", "sort f"]
    ids = engine.ask_ids("size sort", hits, reserve=8)
    assert len(ids) + 8 <= engine.context_length
    text = engine.tokenizer.decode(ids)
    expected = "".join(
        fmt.REQUEST + r + fmt.BASH + c + fmt.EOT for r, c in [("sort f", "sort f"), ("size sort", "ls -S")]
    )
    assert text == expected + fmt.REQUEST + "size sort" + fmt.BASH
    # No room: the farthest examples go first, the request itself stays whole.
    short = engine.ask_ids("size sort", hits, reserve=engine.context_length - len(ids) + 10)
    assert (
        engine.tokenizer.decode(short)
        == fmt.REQUEST + "size sort" + fmt.BASH + "ls -S" + fmt.EOT + fmt.REQUEST + "size sort" + fmt.BASH
    )
    engine.set_index(None)
    assert engine.neighbors("size sort") == []


def test_structure_ignores_arguments_and_distinct_drops_repeats() -> None:
    from bash_ai.answer import structure

    assert structure("ls -S a") == structure("ls -S b") == (("ls", ("-S",)),)
    assert structure("ls -S") != structure("ls -t")
    assert structure("find . -name x -exec rm {} \\;") == (("find", ("-exec", "-name")), ("rm", ()))
    assert structure("ls | wc -l") == (("ls", ()), ("wc", ("-l",)))


def test_consensus_moves_up_what_the_likely_candidates_agree_on() -> None:
    from bash_ai.engine.proposal import Proposal, agree

    pool = [
        Proposal("du -sh dir", "beam", -1.0, 3, -1.0),
        Proposal("ls -S a", "beam", -1.1, 3, -1.1),
        Proposal("ls -S b", "retrieval", -1.2, 3, -1.2),
        Proposal("ls -S -l", "beam", -9.0, 3, -9.0, "length"),  # cut at the limit: no say in the vote
    ]
    agreed = {p.text: p.score for p in agree(pool, 1.0)}
    # Two of the three ended candidates run ``ls -S``: each gains the weight of both, du only its own.
    assert agreed["ls -S a"] > agreed["du -sh dir"] and agreed["ls -S b"] > agreed["du -sh dir"]
    # The score is weight x the expected NLC2CMD score against the ended candidates (itself included).
    w = [math.exp(s / 4.0) for s in (0.0, -0.1, -0.2)]
    w = [x / sum(w) for x in w]
    assert agreed["du -sh dir"] == pytest.approx(-1.0 + w[0] * 1.0 + (w[1] + w[2]) * -1.0)
    assert {p.text: p.score for p in agree(pool, 0.0)} == {p.text: p.score for p in pool}


def test_decode_config_checks_its_weights_and_the_eval_cli_shares_its_defaults() -> None:
    import inspect

    from bash_ai.cli.eval import eval_command
    from bash_ai.engine.propose import DecodeConfig
    from bash_ai.errors import UsageError

    for name in ("reviewer", "retrieval_weight", "retrieval_bonus", "consensus", "rerank_consensus"):
        with pytest.raises(UsageError, match=name.replace("_", " ")):
            DecodeConfig(**{name: -1.0})
        with pytest.raises(UsageError):
            DecodeConfig(**{name: math.nan})
    defaults = DecodeConfig()
    params = inspect.signature(eval_command).parameters
    for name in (
        "retrieval_k",
        "beam_width",
        "pool",
        "alpha",
        "reviewer",
        "retrieval_weight",
        "retrieval_bonus",
        "consensus",
        "rerank_consensus",
        "distinct",
        "max_tokens",
    ):
        assert params[name].default == getattr(defaults, name), name


def test_a_finished_beam_takes_the_arguments_the_request_names(
    trained_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bash_ai.engine import propose as module
    from bash_ai.engine.beam import Beam
    from bash_ai.registry import load

    engine = load(str(trained_model_dir))
    engine.set_index(None)
    written = ["tail -n 10 notes.txt", "cp a.txt b.txt"]

    def beams(*args: object, **kwargs: object) -> list[Beam]:
        ended = [Beam(tuple(engine.encode_text(t)), -1.0 - i, "eos") for i, t in enumerate(written)]
        return [*ended, Beam(tuple(engine.encode_text("cat notes.txt")), -9.0, "length")]

    monkeypatch.setattr(module, "beam_search", beams)
    config = module.DecodeConfig(retrieval_k=0, pool=0, beam_width=3, rerank=False)
    request = "show the last 20 lines of app.log"
    texts = [p.text for p in module.propose(engine, request, config)]
    # One file asked for and one written: swapped; the number stays. Two files written for the one
    # asked: left alone. A beam cut at the token limit is not touched either.
    assert texts == ["tail -n 10 app.log", "cp a.txt b.txt", "cat notes.txt"]
    untouched = [p.text for p in module.propose(engine, request, config.replace(adapt_beams=False))]
    assert untouched == [*written, "cat notes.txt"]
