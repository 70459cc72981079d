"""The trained reranker: its lexicon learns word -> program/flag links from training pairs alone,
its linear model learns which features pick the right candidate, it round-trips through its
file, it ranks the engine's pool, and ``bash-ai train --stage rerank`` writes a model with it."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bash_ai.engine.proposal import Proposal
from bash_ai.engine.propose import cover
from bash_ai.engine.rerank import (
    EXCESS,
    FEATURE_SETS,
    FEATURES,
    MATCH,
    PROGRAM_MISSED,
    PROGRAM_NAMED,
    RERANKER_FILE,
    STRUCTURE,
    Reranker,
    candidate_features,
    command_parts,
    hashed_ids,
    lexicon_score,
    load_reranker,
    program_columns,
    program_table,
    request_words,
)
from bash_ai.errors import ModelError, UsageError
from bash_ai.nlc2cmd import utility_flags
from bash_ai.retrieval import RetrievalIndex
from trainer.rerank import RerankSpec, fit_linear, lexicon_groups, train_lexicon

# Requests that share their everyday words ("files", "show") but not the word that decides the flag.
PAIRS = [
    (f"{verb} {what} {how}", command, "t")
    for verb in ("show", "list", "print", "display")
    for what in ("files", "the files", "files here", "all files")
    for how, command in (
        ("by size", "ls -S"),
        ("by modification time", "ls -t"),
        ("in long format", "ls -l"),
        ("with hidden ones", "ls -a"),
    )
]


def test_words_and_parts_are_what_the_lexicon_sees() -> None:
    assert request_words("Show the files, sorted by SIZE in /tmp 2") == ["2", "files", "show", "size", "sorted", "tmp"]
    parts = command_parts(utility_flags("ls -lS | head -5"))
    assert parts == ["U:ls", "F:ls:-S", "F:ls:-l", "FIRST:ls", "U:head", "F:head:-5", "N:2"]
    ids = hashed_ids(["size"], parts, bits=10)
    assert len(ids) == len(parts) * 2 and ids.max() < 1024
    assert np.array_equal(ids, hashed_ids(["size"], parts, bits=10))  # stable across calls (crc32, not hash())


def test_the_lexicon_learns_which_word_calls_for_which_flag() -> None:
    spec = RerankSpec(bits=14, neighbours=8, epochs=6, lexicon_lr=0.2)
    groups = lexicon_groups(RetrievalIndex.build(PAIRS), spec)
    assert len(groups) == len(PAIRS)  # each pair against its neighbours' other commands
    lexicon = train_lexicon(groups, spec)

    def score(request: str, command: str) -> float:
        return lexicon_score(lexicon, hashed_ids(request_words(request), command_parts(utility_flags(command)), 14))

    # New wordings, never seen whole: the deciding word picks the flag.
    for request, right in (("sort my files by size", "ls -S"), ("newest files by time", "ls -t")):
        others = [c for c in ("ls -S", "ls -t", "ls -l", "ls -a") if c != right]
        assert all(score(request, right) > score(request, other) for other in others), request


@pytest.mark.parametrize("width", [len(FEATURES), len(FEATURES) + 2])  # + a probe's own columns
def test_the_linear_model_learns_the_feature_that_predicts_the_target(width: int) -> None:
    rng = np.random.default_rng(0)
    decides = width - 1  # the last column decides: one of FEATURES, or a column a probe added
    groups = []
    for _ in range(60):
        x = rng.normal(size=(6, width))
        y = np.where(np.arange(6) == np.argmax(x[:, decides]), 1.0, -1.0)
        groups.append((x, y))
    weights, mean, std = fit_linear(groups, RerankSpec(iters=300))
    assert weights.shape == mean.shape == std.shape == (width,)
    assert int(np.argmax(weights)) == decides and weights[decides] > 0
    held = rng.normal(size=(6, width))
    scores = ((held - mean) / std) @ weights
    assert int(np.argmax(scores)) == int(np.argmax(held[:, decides]))


def test_a_reranker_round_trips_and_a_bad_file_is_one_clear_error(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    lexicon = rng.normal(size=1 << 10).astype(np.float32)
    saved = Reranker(lexicon, rng.normal(size=len(FEATURES)), rng.normal(size=len(FEATURES)), np.ones(len(FEATURES)))
    saved.save(tmp_path / RERANKER_FILE)
    loaded = load_reranker(tmp_path)
    assert loaded is not None and loaded.bits == 10
    assert np.allclose(loaded.weights, saved.weights, atol=1e-6) and np.allclose(loaded.mean, saved.mean, atol=1e-6)
    step = np.abs(lexicon).max() / 127
    assert np.max(np.abs(loaded.lexicon - lexicon)) <= step / 2 + 1e-6  # int8, one scale
    assert load_reranker(tmp_path / "elsewhere") is None
    (tmp_path / RERANKER_FILE).write_bytes(b"not a safetensors file")
    with pytest.raises(ModelError, match="unreadable reranker") as caught:
        load_reranker(tmp_path)
    assert "\n" not in str(caught.value)


def test_the_engine_ranks_its_pool_with_the_reranker(trained_model_dir: Path) -> None:
    from bash_ai.engine.propose import DecodeConfig, propose
    from bash_ai.registry import load

    engine = load(str(trained_model_dir))
    engine.set_index(RetrievalIndex.build([("say hello to the world", "echo hello world", "t")]))
    config = DecodeConfig(retrieval_k=0, beam_width=3, pool=1, rerank_consensus=0.0)  # the reranker's own scores
    assert engine.reranker is None and propose(engine, "say hello", config)[0].text == "echo hello"

    def weights(**named: float) -> Reranker:
        w = np.array([named.get(name, 0.0) for name in FEATURES])
        n = len(FEATURES)
        return Reranker(np.zeros(1 << 8, dtype=np.float32), w, np.zeros(n), np.ones(n))

    engine.set_reranker(weights(retrieved=5.0))  # a reranker that trusts retrieved commands
    ranked = propose(engine, "say hello", config)
    assert ranked[0].text == "echo hello world" and ranked[0].source == "retrieval"
    assert ranked[0].score == pytest.approx(5.0)
    # --no-rerank: the hand-set ranking, whatever the model ships.
    assert propose(engine, "say hello", config.replace(rerank=False))[0].text == "echo hello"
    engine.set_reranker(weights(logprob_norm=1.0))
    assert propose(engine, "say hello", config)[0].text == "echo hello"
    # The agreement after the reranker: each candidate's expected NLC2CMD score against the others,
    # weighted by the reranker's own softmax, added to its score.
    from bash_ai.engine.proposal import agree

    plain = propose(engine, "say hello", config.replace(missing_penalty=0.0, rerank_consensus=0.0))
    agreed = propose(engine, "say hello", config.replace(missing_penalty=0.0, rerank_consensus=2.0))
    expected = {p.text: p.score for p in agree(plain, 2.0, temperature=1.0)}
    assert len(plain) > 1 and {p.text: p.score for p in agreed} == pytest.approx(expected)
    assert {p.text: p.score for p in agreed} != pytest.approx({p.text: p.score for p in plain})


def test_the_match_column_tells_a_request_said_in_the_same_words_from_a_weak_match(trained_model_dir: Path) -> None:
    """``Proposal.match``: the Jaccard of the request's terms and those of the training request that
    asked for a retrieved command. ``retrieval`` is relative to the best hit, 1.0 however weak it is."""
    from bash_ai.engine.propose import DecodeConfig, propose
    from bash_ai.registry import load

    engine = load(str(trained_model_dir))
    engine.set_index(
        RetrievalIndex.build(
            [("show hidden files", "ls -a", "t"), ("find the hidden files under /tmp", "find /tmp -name '.*'", "t")]
        )
    )
    config = DecodeConfig(retrieval_k=0, beam_width=2, pool=2, rerank_consensus=0.0, missing_penalty=0.0)
    by_text = {p.text: p for p in propose(engine, "Show hidden files", config)}
    assert by_text["ls -a"].match == 1.0  # the same terms, case aside
    assert by_text["find /tmp -name '.*'"].match == pytest.approx(2 / 7)  # hidden, file of 7
    assert all(p.match == 0.0 for p in by_text.values() if p.source == "beam" and p.retrieval == 0.0)
    n = len(FEATURES) + 1
    names = (*FEATURES, MATCH)
    trusting = Reranker(np.zeros(1 << 8, np.float32), np.eye(n)[-1] * 3.0, np.zeros(n), np.ones(n), names)
    engine.set_reranker(trusting)
    ranked = propose(engine, "Show hidden files", config)
    assert ranked[0].text == "ls -a" and ranked[0].score == pytest.approx(3.0)
    # an older reranker without the column ranks as it did
    features = candidate_features("Show hidden files", ranked, trusting.lexicon)
    assert features.shape == (len(ranked), len(FEATURES))


@pytest.mark.parametrize("names", FEATURE_SETS)
def test_every_feature_set_round_trips(tmp_path: Path, names: tuple[str, ...]) -> None:
    n = len(names)
    programs = {"ls": 0.59, "show": 0.01} if PROGRAM_NAMED in names else None
    ones = np.ones(1 << 8, np.float32)
    saved = Reranker(ones, np.arange(n, dtype=np.float64), np.zeros(n), np.ones(n), names, programs=programs)
    saved.save(tmp_path / RERANKER_FILE)
    loaded = load_reranker(tmp_path)
    assert loaded is not None and loaded.names == names and np.allclose(loaded.weights, saved.weights)
    assert loaded.programs == programs
    pool = [Proposal("ls -a", "retrieval", -2.0, 3, 0.0, retrieval=1.0, match=0.75)]
    structure = np.array([-1.5]) if STRUCTURE in names else None
    row = loaded.features("show hidden files with ls", pool, structure)[0]
    assert len(row) == n and (MATCH not in names or row[names.index(MATCH)] == 0.75)
    if programs is not None:
        assert (row[names.index(PROGRAM_NAMED)], row[names.index(PROGRAM_MISSED)]) == (0.59, 0.01)
        # Program columns without their table, or a table that is not one: refused with the file named.
        Reranker(ones, np.zeros(n), np.zeros(n), np.ones(n), names).save(tmp_path / RERANKER_FILE)
        with pytest.raises(ModelError, match="program table is missing or malformed"):
            load_reranker(tmp_path)
        Reranker(ones, np.zeros(n), np.zeros(n), np.ones(n), names, programs={"ls": 2.0}).save(tmp_path / RERANKER_FILE)
        with pytest.raises(ModelError, match=f"{RERANKER_FILE}: unreadable reranker"):
            load_reranker(tmp_path)


def test_the_program_table_says_how_often_naming_a_program_asks_for_it() -> None:
    pairs = [
        ("find files named a.txt", "find . -name a.txt"),
        ("find big files", "find . -size +1M"),
        ("the last line of a file", "tail -n 1 f"),
        ("the last 3 lines of a file", "tail -n 3 f"),
        ("who is logged in", "who"),
        ("show the disk usage", "df -h"),
    ]
    table = program_table(pairs)
    # find: named twice, run twice, (2 + 1) / (2 + 2); tail and df: never named, 0.5.
    assert table == {"df": 0.5, "find": 0.75, "tail": 0.5, "who": 0.67}
    words = request_words("find the last file")
    assert program_columns(words, utility_flags("find . -newer x"), table) == (0.75, 0.0)
    assert program_columns(words, utility_flags("ls -t | head -1"), table) == (0.0, 0.75)
    assert program_columns(request_words("list my files"), utility_flags("ls"), table) == (0.0, 0.0)
    assert program_table([]) == {}


def test_the_program_columns_rank_the_program_the_request_names_first() -> None:
    """The bundle's first answer to "whois example.com" was ``dig +short NS example.com``, with
    ``whois example.com`` in the pool: a reranker that trusts the program named ranks it first."""
    names = (*FEATURES, PROGRAM_NAMED, PROGRAM_MISSED)
    assert names in FEATURE_SETS
    weights = np.zeros(len(names))
    weights[names.index(PROGRAM_NAMED)] = 1.0
    n = len(names)
    ranker = Reranker(np.zeros(1 << 8, np.float32), weights, np.zeros(n), np.ones(n), names, programs={"whois": 0.5})
    pool = [
        Proposal("dig +short NS example.com", "beam", -1.0, 6, 0.0),
        Proposal("whois example.com", "beam", -3.0, 3, 0.0),
    ]
    ranked = sorted(ranker.rescore("whois example.com", pool), key=lambda p: -p.score)
    assert [p.text for p in ranked] == ["whois example.com", "dig +short NS example.com"]
    with pytest.raises(UsageError, match="program table"):
        from trainer.rerank import fit_on_pools

        fit_on_pools([], np.zeros(1 << 8, np.float32), RerankSpec(programs=True))


def test_the_source_columns_say_which_sources_asked_for_a_candidate() -> None:
    from bash_ai.engine.rerank import SOURCE_COLUMNS, feature_names

    pool = [
        Proposal("ls -a", "retrieval", -2.0, 3, 0.0, retrieval=1.0, origins=("howto", "nl2bash")),
        Proposal("ls -la", "retrieval", -1.0, 4, 0.0, retrieval=0.9, origins=("tldr",)),
        Proposal("ls -A", "beam", -0.5, 4, 0.0),
    ]
    lexicon = np.zeros(1 << 8, np.float32)
    plain = candidate_features("show hidden files", pool, lexicon)
    both = candidate_features("show hidden files", pool, lexicon, sources=True)
    np.testing.assert_array_equal(both[:, : plain.shape[1]], plain)
    np.testing.assert_array_equal(both[:, plain.shape[1] :], [[1, 0], [0, 1], [0, 0]])
    names = feature_names(programs=True, sources=True, short=True)
    assert names in FEATURE_SETS and names[len(names) // 2 - 2 : len(names) // 2] == tuple(SOURCE_COLUMNS)
    # A reranker that trusts the how-to pairs ranks their command first, from the file it was saved to.
    names = feature_names(sources=True)
    weights = np.zeros(len(names))
    weights[names.index("from_howto")] = 1.0
    n = len(names)
    ranker = Reranker(lexicon, weights, np.zeros(n), np.ones(n), names)
    assert [p.text for p in sorted(ranker.rescore("show hidden files", pool), key=lambda p: -p.score)][0] == "ls -a"
    with pytest.raises(UsageError, match="pools that record where each candidate came from"):
        from trainer.rerank import Pool, fit_on_pools

        old = [Pool("show hidden files", "ls -a", [replace(p, origins=()) for p in pool])]
        fit_on_pools(old, lexicon, RerankSpec(sources=True))


def test_the_excess_column_counts_the_words_an_asking_request_says_and_the_request_does_not() -> None:
    from bash_ai.engine.rerank import EXCESS, MAX_EXCESS, feature_names
    from bash_ai.retrieval.bm25 import extra_terms, terms

    said = set(terms("show the first 15 lines of notes.txt"))
    assert extra_terms(said, "print lines 5 to 15 of file") == 3  # print, 5, file
    assert extra_terms(said, "show the first 15 lines of notes.txt") == 0
    assert extra_terms(said, "Show all the first lines") == 0  # stop words and stems
    pool = [
        Proposal("sed -n '5,15p' notes.txt", "retrieval", -1.0, 6, 0.0, retrieval=1.0, excess=3),
        Proposal("head -n 15 notes.txt", "retrieval", -2.0, 6, 0.0, retrieval=0.8, excess=0),
        Proposal("awk 1 notes.txt", "retrieval", -2.0, 6, 0.0, retrieval=0.5, excess=9),
    ]
    lexicon = np.zeros(1 << 8, np.float32)
    plain = candidate_features("show the first 15 lines of notes.txt", pool, lexicon)
    more = candidate_features("show the first 15 lines of notes.txt", pool, lexicon, excess=True)
    np.testing.assert_array_equal(more[:, :-1], plain)
    np.testing.assert_array_equal(more[:, -1], [3, 0, MAX_EXCESS])
    names = feature_names(programs=True, sources=True, short=True, excess=True)
    assert names in FEATURE_SETS and names[len(names) // 2 - 1] == EXCESS and names[-1] == "short*" + EXCESS
    # A reranker that distrusts the extra words ranks the pair said in the request's own words first.
    names = feature_names(excess=True)
    weights = np.zeros(len(names))
    weights[names.index(EXCESS)] = -1.0
    n = len(names)
    ranker = Reranker(lexicon, weights, np.zeros(n), np.ones(n), names)
    ranked = sorted(ranker.rescore("show the first 15 lines of notes.txt", pool), key=lambda p: -p.score)
    assert [p.text for p in ranked] == ["head -n 15 notes.txt", "sed -n '5,15p' notes.txt", "awk 1 notes.txt"]


def test_the_short_columns_repeat_every_column_for_a_short_request_only() -> None:
    from bash_ai.engine.rerank import SHORT_PREFIX
    from bash_ai.prompt import SHORT_WORDS

    pool = [
        Proposal("ls -a", "retrieval", -2.0, 3, 0.0, retrieval=1.0, match=0.75),
        Proposal("ls -la", "beam", -1.0, 4, 0.0),
    ]
    lexicon = np.ones(1 << 8, np.float32)
    short, long = "show hidden files", " ".join(["show", "the", "hidden", "files"] * 3)
    assert len(short.split()) <= SHORT_WORDS < len(long.split())
    for request, factor in ((short, 1.0), (long, 0.0)):
        plain = candidate_features(request, pool, lexicon, match=True)
        both = candidate_features(request, pool, lexicon, match=True, short=True)
        assert both.shape == (2, 2 * plain.shape[1])
        np.testing.assert_array_equal(both[:, : plain.shape[1]], plain)
        np.testing.assert_array_equal(both[:, plain.shape[1] :], plain * factor)
    names = (*FEATURES, MATCH, *(SHORT_PREFIX + n for n in (*FEATURES, MATCH)))
    assert names in FEATURE_SETS
    n = len(names)
    # A reranker that trusts a retrieved command for short requests only.
    weights = np.zeros(n)
    weights[names.index(SHORT_PREFIX + "retrieved")] = 1.0
    ranker = Reranker(lexicon, weights, np.zeros(n), np.ones(n), names)
    assert [p.text for p in sorted(ranker.rescore(short, pool), key=lambda p: -p.score)][0] == "ls -a"
    assert {p.score for p in ranker.rescore(long, pool)} == {0.0}


def test_the_lexicon_reorders_the_retrieved_pairs_by_the_program_the_words_call_for() -> None:
    """``Reranker.order``: BM25 relative to the best plus weight x the lexicon's score of each
    command; weight 0 (or a flat lexicon) keeps BM25's order, ties included."""
    from bash_ai.retrieval import Neighbor

    bits = 12
    lexicon = np.zeros(1 << bits, dtype=np.float32)
    lexicon[hashed_ids(["memory"], ["U:free"], bits)] = 6.0  # "memory" calls for `free`
    n = len(FEATURES)
    reranker = Reranker(lexicon, np.zeros(n), np.zeros(n), np.ones(n))
    found = [
        Neighbor("Free loadlin ramdisk memory", "sudo freeramdisk", "t", 0, 10.0),
        Neighbor("Show memory information", "sudo dmidecode --type memory", "t", 1, 8.0),
        Neighbor("Display system memory", "free", "t", 2, 6.0),
        Neighbor("Print the memory map", "", "t", 3, 6.0),  # unreadable: the lexicon's lowest score
    ]
    order = [x.row for x in reranker.order("show free memory", found, 0.2)]
    # `free`: 0.6 + 0.2 x 6.0 / sqrt(3 slots: U, FIRST, N, and "memory|U:free" -> 4) beats 1.0.
    assert order == [2, 0, 1, 3]
    assert [x.row for x in reranker.order("show free memory", found, 0.0)] == [0, 1, 2, 3]
    assert [x.row for x in reranker.order("show free memory", found, 0.001)] == [0, 1, 2, 3]
    flat = Reranker(np.zeros(1 << bits, dtype=np.float32), np.zeros(n), np.zeros(n), np.ones(n))
    assert [x.row for x in flat.order("show free memory", found[:3], 0.5)] == [0, 1, 2]
    assert reranker.order("anything", [], 0.2) == []


def test_the_engine_orders_a_short_requests_neighbours_with_the_lexicon_unless_told_not_to() -> None:
    from bash_ai.engine.engine import LEXICON_MAX_WORDS, LEXICON_WEIGHT, NEIGHBOR_POOL, SOURCE_WEIGHTS
    from bash_ai.paths import bundled_model_dir
    from bash_ai.registry import load

    engine = load(str(bundled_model_dir()))
    assert engine.reranker is not None and engine.index is not None
    request = "show disk usage"
    plain = engine.index.search(request, NEIGHBOR_POOL, source_weights=SOURCE_WEIGHTS)
    assert engine.neighbors(request, 12, lexicon=False) == plain[:12]
    ordered = engine.neighbors(request, 12)
    assert ordered == engine.reranker.order(request, plain, LEXICON_WEIGHT)[:12]
    assert {n.row for n in ordered} - {n.row for n in plain[:12]}  # pairs from further down come up
    # A longer request keeps BM25's order: it has the words to go on.
    long = "show the disk usage of every mounted file system in human readable sizes please"
    assert len(request_words(long)) > LEXICON_MAX_WORDS
    assert engine.neighbors(long, 12) == engine.index.search(long, 12, source_weights=SOURCE_WEIGHTS)
    assert (
        engine.neighbors(long, 12)
        != engine.reranker.order(
            long, engine.index.search(long, NEIGHBOR_POOL, source_weights=SOURCE_WEIGHTS), LEXICON_WEIGHT
        )[:12]
    )
    engine.set_reranker(None)  # no lexicon: BM25's order
    assert engine.neighbors(request, 12) == plain[:12]


def _bash_ai(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BASH_AI_HOME": str(home), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "bash_ai", *args], capture_output=True, text=True, env=env, timeout=300
    )


def rerank_setup(trained_model_dir: Path, shared_data: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A data home with NL2Bash fetched, and a copy of the trained model with an index of PAIRS."""
    import shutil

    from bash_ai.retrieval import INDEX_FILE

    home = tmp_path / "home"
    assert _bash_ai("data", "fetch", "nl2bash", "--from", str(shared_data / "nl2bash"), home=home).returncode == 0
    model = tmp_path / "model"
    shutil.copytree(trained_model_dir, model)
    RetrievalIndex.build(PAIRS).save(model / INDEX_FILE)
    return home, model


def test_a_weighted_fit_is_the_fit_on_the_groups_repeated() -> None:
    rng = np.random.default_rng(1)
    groups = [(rng.normal(size=(5, len(FEATURES))), rng.normal(size=5)) for _ in range(30)]
    spec = RerankSpec(iters=200)
    weights = [3 if i % 4 == 0 else 1 for i in range(len(groups))]
    repeated = [g for g, w in zip(groups, weights, strict=True) for _ in range(w)]
    for got, want in zip(fit_linear(groups, spec, weights), fit_linear(repeated, spec), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)
    plain = fit_linear(groups, spec)
    assert not np.allclose(fit_linear(groups, spec, weights)[0], plain[0])
    np.testing.assert_allclose(fit_linear(groups, spec, [1.0] * len(groups))[0], plain[0])


def test_train_stage_rerank_writes_a_model_that_answers_with_it(
    trained_model_dir: Path, shared_data: Path, tmp_path: Path
) -> None:
    import json

    from bash_ai.registry import load

    home, model = rerank_setup(trained_model_dir, shared_data, tmp_path)

    missing = _bash_ai("train", "--stage", "rerank", home=home)
    assert missing.returncode == 2 and "needs --init" in missing.stderr and missing.stderr.count("\n") == 1
    out = tmp_path / "out"
    proc = _bash_ai(
        "train", "--stage", "rerank", "--init", str(model), "--name", "r", "--limit", "6", "--out", str(out), home=home
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "lexicon pass" in proc.stderr and "5-fold" in proc.stderr
    assert "are marked unsure" in proc.stderr or "right too often to mark" in proc.stderr  # the threshold's line
    (run,) = {p.parent for p in home.rglob("rerank.json")}
    assert run.name == "r"
    assert (run / "model" / RERANKER_FILE).is_file()
    engine = load(str(out))
    assert engine.reranker is not None and engine.index is not None and len(engine.index) == len(PAIRS)
    figures = json.loads((run / "rerank.json").read_text())
    assert engine.reranker.unsure_below == figures.get("unsure_below")  # the file keeps what the fit found
    again = _bash_ai("train", "--stage", "rerank", "--init", str(model), "--name", "r", "--limit", "6", home=home)
    assert again.returncode == 2 and "already has a model" in again.stderr


def test_a_refit_on_a_runs_pools_reproduces_its_fit_and_refuses_other_models_pools(
    trained_model_dir: Path, shared_data: Path, tmp_path: Path
) -> None:
    import base64
    import gzip
    import json

    from trainer.rerank import POOLS_FILE

    home, model = rerank_setup(trained_model_dir, shared_data, tmp_path)
    # The trained model stands in for a structure model, written anew (as int8) by each run.
    args = ("train", "--stage", "rerank", "--init", str(model), "--limit", "6", "--structure", str(trained_model_dir))
    assert _bash_ai(*args, "--name", "first", home=home).returncode == 0
    (first,) = {p.parent for p in home.rglob("rerank.json") if p.parent.name == "first"}
    pools = first / POOLS_FILE
    assert len(json.loads(gzip.decompress(pools.read_bytes()))["pools"]) == 6

    refit = _bash_ai(*args, "--pools", str(pools), "--name", "again", home=home)
    assert refit.returncode == 0, refit.stderr[-2000:]
    assert "6 pools of nl2bash-dev and their lexicon from" in refit.stderr
    assert "proposed 6/6" not in refit.stderr and "lexicon pass" not in refit.stderr  # neither done again
    assert "structure scored" not in refit.stderr  # the same structure model: its scores are kept
    figures = [json.loads((run / "rerank.json").read_text()) for run in (first, first.parent / "again")]
    for key in ("cv_top5", "cv_top1", "cv_args1", "hand_top5", "weights", "lexicon_groups"):
        assert figures[0][key] == figures[1][key]
    assert figures[1]["pools"] == [str(pools)]

    doc = json.loads(gzip.decompress(pools.read_bytes()))
    doc["key"]["weights"] = "0" * 64
    (tmp_path / "other.json.gz").write_bytes(gzip.compress(json.dumps(doc).encode()))
    other = _bash_ai(*args, "--pools", str(tmp_path / "other.json.gz"), "--name", "o", home=home)
    assert other.returncode == 2 and "proposed with another weights" in other.stderr
    assert other.stderr.count("\n") == 1
    (tmp_path / "junk.json.gz").write_bytes(b"not gzip")
    junk = _bash_ai(*args, "--pools", str(tmp_path / "junk.json.gz"), "--name", "j", home=home)
    assert junk.returncode == 2 and "unreadable rerank pools" in junk.stderr and junk.stderr.count("\n") == 1
    misplaced = _bash_ai("train", "--pools", str(pools), home=home)
    assert misplaced.returncode == 2 and "--pools belongs to --stage rerank" in misplaced.stderr

    plain = _bash_ai(*args[:-2], "--pools", str(pools), "--name", "plain", home=home)  # no structure model
    assert plain.returncode == 0, plain.stderr[-2000:]
    assert "structure" not in json.loads((first.parent / "plain" / "rerank.json").read_text())["weights"]

    # Two tuning suites' pools fitted on together (the same model, index and lexicon); each suite
    # once, and never a test suite.
    def pools_of(suite: str, name: str) -> Path:
        doc = json.loads(gzip.decompress(pools.read_bytes()))
        doc["key"]["suite"] = suite
        for pool in doc["pools"]:
            pool["suite"] = suite
        path = tmp_path / name
        path.write_bytes(gzip.compress(json.dumps(doc).encode()))
        return path

    everyday = pools_of("everyday-dev", "everyday.json.gz")
    both = _bash_ai(*args, "--pools", str(pools), "--pools", str(everyday), "--name", "both", home=home)
    assert both.returncode == 0, both.stderr[-2000:]
    assert "12 pools of nl2bash-dev+everyday-dev" in both.stderr
    joint = json.loads((first.parent / "both" / "rerank.json").read_text())
    assert joint["requests"] == 12 and joint["suite"] == "nl2bash-dev+everyday-dev"
    assert {s: f["requests"] for s, f in joint["suites"].items()} == {"nl2bash-dev": 6, "everyday-dev": 6}
    # A suite's weight is recorded with its figures, and the fit's pools keep their suites for the
    # next refit (what a weight does to the fit: test_a_weighted_fit_is_the_fit_on_the_groups_repeated).
    heavier = _bash_ai(
        *args,
        "--pools",
        str(pools),
        "--pools",
        str(everyday),
        "--suite-weight",
        "everyday-dev=3",
        "--name",
        "w3",
        home=home,
    )
    assert heavier.returncode == 0, heavier.stderr[-2000:]
    assert (
        "everyday-dev, 6 requests, weight 3" in heavier.stderr and "nl2bash-dev, 6 requests, weight 1" in heavier.stderr
    )
    weighted = json.loads((first.parent / "w3" / "rerank.json").read_text())
    assert weighted["suite_weights"] == {"everyday-dev": 3.0} and weighted["suites"]["everyday-dev"]["weight"] == 3.0
    short = _bash_ai(*args, "--pools", str(pools), "--short-columns", "--name", "short", home=home)
    assert short.returncode == 0, short.stderr[-2000:]
    names = list(json.loads((first.parent / "short" / "rerank.json").read_text())["weights"])
    plain = {n for n in names if not n.startswith("short*")}
    assert len(plain) == len(names) / 2 and {"short*" + n for n in plain} == set(names) - plain
    named = _bash_ai(*args, "--pools", str(pools), "--program-columns", "--name", "programs", home=home)
    assert named.returncode == 0, named.stderr[-2000:]
    assert "program table: " in named.stderr
    assert {PROGRAM_NAMED, PROGRAM_MISSED} <= set(
        json.loads((first.parent / "programs" / "rerank.json").read_text())["weights"]
    )
    # Pools saved without ``excess`` (as every pool proposed before it was recorded): counted anew.
    for pool in (stale := json.loads(gzip.decompress(pools.read_bytes())))["pools"]:
        for proposal in pool["proposals"]:
            proposal.pop("excess", None)
    (tmp_path / "stale.json.gz").write_bytes(gzip.compress(json.dumps(stale).encode()))
    counted = _bash_ai(*args, "--pools", str(tmp_path / "stale.json.gz"), "--excess-column", "--name", "ex", home=home)
    assert counted.returncode == 0, counted.stderr[-2000:]
    assert "excess words counted 6/6" in counted.stderr
    by_excess = load_reranker(first.parent / "ex" / "model")
    assert by_excess is not None and by_excess.names[-1] == EXCESS
    sourced = _bash_ai(*args, "--pools", str(pools), "--source-columns", "--name", "sources", home=home)
    assert sourced.returncode == 0, sourced.stderr[-2000:]
    by_source = load_reranker(first.parent / "sources" / "model")
    assert by_source is not None and by_source.names[-2:] == ("from_howto", "from_tldr")
    fitted = load_reranker(first.parent / "programs" / "model")
    assert fitted is not None and fitted.names[-2:] == (PROGRAM_NAMED, PROGRAM_MISSED)
    assert fitted.programs and all(0 < v < 1 for v in fitted.programs.values())
    saved = json.loads(gzip.decompress((first.parent / "w3" / POOLS_FILE).read_bytes()))
    assert [p["suite"] for p in saved["pools"]] == ["nl2bash-dev"] * 6 + ["everyday-dev"] * 6
    for bad, message in (
        ("nl2bash-test=2", "is not a tuning suite"),
        ("everyday-dev=0", "W a positive number"),
        ("everyday-dev", "W a positive number"),
        ("everyday-dev=nan", "W a positive number"),
    ):
        refused = _bash_ai(*args, "--pools", str(pools), "--suite-weight", bad, "--name", "b", home=home)
        assert refused.returncode == 2 and message in refused.stderr and refused.stderr.count("\n") == 1, bad
    unfitted = _bash_ai(*args, "--pools", str(pools), "--suite-weight", "everyday-dev=2", "--name", "u", home=home)
    assert unfitted.returncode == 2 and "no pools of it in this fit (nl2bash-dev)" in unfitted.stderr
    twice = _bash_ai(*args, "--suite-weight", "everyday-dev=2", "--suite-weight", "everyday-dev=3", home=home)
    assert twice.returncode == 2 and "named twice" in twice.stderr
    elsewhere = _bash_ai("train", "--suite-weight", "everyday-dev=2", home=home)
    assert elsewhere.returncode == 2 and "--suite-weight belongs to --stage rerank" in elsewhere.stderr
    for flag in ("--program-columns", "--short-columns", "--match-column", "--source-columns", "--excess-column"):
        misplaced = _bash_ai("train", flag, home=home)
        assert misplaced.returncode == 2 and f"{flag} belongs to --stage rerank" in misplaced.stderr, flag
    legacy = json.loads(gzip.decompress(pools.read_bytes()))  # written before pools kept their suite
    for pool in legacy["pools"]:
        del pool["suite"]
    (tmp_path / "legacy.json.gz").write_bytes(gzip.compress(json.dumps(legacy).encode()))
    old = _bash_ai(*args, "--pools", str(tmp_path / "legacy.json.gz"), "--name", "legacy", home=home)
    assert old.returncode == 0 and "6 pools of nl2bash-dev and their lexicon" in old.stderr, old.stderr[-2000:]
    mislabelled = json.loads(gzip.decompress(everyday.read_bytes()))
    mislabelled["pools"][0]["suite"] = "nl2bash-test"
    (tmp_path / "mislabelled.json.gz").write_bytes(gzip.compress(json.dumps(mislabelled).encode()))
    wrong = _bash_ai(*args, "--pools", str(tmp_path / "mislabelled.json.gz"), "--name", "m", home=home)
    assert wrong.returncode == 2 and "a pool of a suite the file is not of" in wrong.stderr
    for suites in ((pools, pools), (pools, pools_of("nl2bash-test", "test.json.gz"))):
        refused = _bash_ai(*args, *(w for p in suites for w in ("--pools", str(p))), "--name", "x", home=home)
        assert refused.returncode == 2 and "each tuning suite once, never a test suite" in refused.stderr
        assert refused.stderr.count("\n") == 1
    doc = json.loads(gzip.decompress(everyday.read_bytes()))
    doc["lexicon"] = base64.b64encode(np.zeros(1 << 19, "<f4").tobytes()).decode()
    everyday.write_bytes(gzip.compress(json.dumps(doc).encode()))
    other_words = _bash_ai(*args, "--pools", str(pools), "--pools", str(everyday), "--name", "y", home=home)
    assert other_words.returncode == 2 and "another lexicon" in other_words.stderr
    test_suite = _bash_ai(*args, "--tune-suite", "nl2bash-test", "--name", "z", home=home)
    assert test_suite.returncode == 2 and "never on nl2bash-test" in test_suite.stderr


def test_pools_of_another_structure_model_are_scored_as_a_fresh_run_scores_them(
    trained_model_dir: Path, shared_data: Path, tmp_path: Path
) -> None:
    import gzip
    import json

    from bash_ai.checkpoint import load_weights, save_model_dir
    from bash_ai.tokenizer import load_tokenizer
    from trainer.rerank import POOLS_FILE

    home, model = rerank_setup(trained_model_dir, shared_data, tmp_path)
    config, weights = load_weights(trained_model_dir)
    weights = {name: (w * 1.5 if name.endswith("mlp.fc.weight") else w) for name, w in weights.items()}
    changed = save_model_dir(
        tmp_path / "changed", config, weights, load_tokenizer(trained_model_dir / "tokenizer.bashai.json")
    )
    args = ("train", "--stage", "rerank", "--init", str(model), "--limit", "6")
    assert _bash_ai(*args, "--structure", str(trained_model_dir), "--name", "first", home=home).returncode == 0
    assert _bash_ai(*args, "--structure", str(changed), "--name", "fresh", home=home).returncode == 0
    (runs,) = {p.parent.parent for p in home.rglob("rerank.json") if p.parent.name == "first"}
    rescore = _bash_ai(
        *args, "--structure", str(changed), "--pools", str(runs / "first" / POOLS_FILE), "--name", "re", home=home
    )
    assert rescore.returncode == 0, rescore.stderr[-2000:]
    assert "structure scored 6/6" in rescore.stderr and "proposed 6/6" not in rescore.stderr

    def pools(run: str) -> list[dict]:  # type: ignore[type-arg]
        return json.loads(gzip.decompress((runs / run / POOLS_FILE).read_bytes()))["pools"]

    first, fresh, re = pools("first"), pools("fresh"), pools("re")
    assert [p["proposals"] for p in re] == [p["proposals"] for p in first] == [p["proposals"] for p in fresh]
    assert not np.allclose(
        np.concatenate([p["structure"] for p in re]), np.concatenate([p["structure"] for p in first])
    )
    np.testing.assert_allclose(
        np.concatenate([p["structure"] for p in re]), np.concatenate([p["structure"] for p in fresh])
    )
    fits = [json.loads((runs / run / "rerank.json").read_text()) for run in ("fresh", "re")]
    assert fits[0]["weights"] == pytest.approx(fits[1]["weights"])


def test_the_eval_label_says_when_the_trained_reranker_ranked() -> None:
    from bash_ai.evaluation.runner import Decoder

    decoder = Decoder("beam")
    assert decoder.describe() == "beam 5 k=3 pool=12 alpha=0.6 relevance=4.0+1.0 consensus=4.0"
    assert decoder.describe(reranker=True) == "beam 5 k=3 pool=12 trained reranker consensus=1.0 cover=0.3 missing=0.5"
    unadapted = Decoder("beam", decoder.config.replace(adapt_beams=False))
    assert unadapted.describe(reranker=True).endswith("missing=0.5 no-adapt-beams")
    assert unadapted.describe(reranker=False).endswith("no-adapt-beams")
    plain = decoder.config.replace(cover_temperature=0.0, missing_penalty=0.0, rerank_consensus=0.0)
    assert Decoder("beam", plain).describe(reranker=True).endswith("reranker")
    agreed = Decoder("beam", decoder.config.replace(rerank_consensus=2.0))
    assert agreed.describe(reranker=True) == "beam 5 k=3 pool=12 trained reranker consensus=2.0 cover=0.3 missing=0.5"
    off = Decoder("beam", decoder.config.replace(rerank=False))
    assert off.describe(reranker=True).endswith("consensus=4.0 no-rerank")


def test_the_features_see_which_candidate_names_the_requests_arguments() -> None:
    from bash_ai.engine.proposal import Proposal
    from bash_ai.engine.rerank import candidate_features

    pool = [
        Proposal("tail -n 20 log.txt", "beam", -3.0, 8, 0.0),
        Proposal("tail -n 10 path/to/file", "retrieval", -4.0, 9, 0.0, retrieval=0.9),
    ]
    feats = candidate_features("show the last 20 lines of log.txt", pool, np.zeros(1 << 10, np.float32))
    named, made_up = feats[:, FEATURES.index("named")], feats[:, FEATURES.index("invented")]
    assert list(named) == [1.0, 0.0] and list(made_up) == [0.0, 2.0]


def _proposal(text: str, score: float, finish_reason: str = "eos") -> Proposal:
    return Proposal(text, "beam", -1.0, 3, score, finish_reason)


def test_cover_shows_different_guesses_before_variants_of_the_first() -> None:
    """Worked example. Pool: A ``ls -l`` (score 0), B ``ls -l -a`` (-0.1), C ``du -h`` (-0.2).
    Each against each (NLC2CMD): A~B 0.5 either way (same program, one flag of two shared:
    f = 0, so (1 + 0) / 2), A~C and B~C -1 (other program), itself 1.
    After A, adding B raises the best score only where B is the answer (0.5 -> 1: +0.5 x w_B);
    adding C raises it where C is (-1 -> 1: +2 x w_C). With temperature 1 the weights are
    e^0 : e^-0.1 : e^-0.2, so C's gain (2 x 0.819) beats B's (0.5 x 0.905): A, C, B. With
    temperature 0.01 nearly all weight is on A's neighbour B (e^-10 against e^-20): A, B, C."""
    a, b, c = _proposal("ls -l", 0.0), _proposal("ls -l -a", -0.1), _proposal("du -h", -0.2)
    assert [p.text for p in cover([a, b, c], 1.0)] == ["ls -l", "du -h", "ls -l -a"]
    assert [p.text for p in cover([a, b, c], 0.01)] == ["ls -l", "ls -l -a", "du -h"]


def test_cover_keeps_the_first_repeats_after_and_cut_hypotheses_last() -> None:
    pool = [
        _proposal("find . -name '*.py'", 2.0),
        _proposal("find src -name '*.txt'", 1.9),  # the first's programs and flags: adds nothing
        _proposal("grep -r TODO .", 1.0),
        _proposal("find . -name", 3.0, finish_reason="length"),  # cut at the token limit
        _proposal("ls", 0.5),
    ]
    ranked = cover(pool, 0.3, k=3)
    assert [p.text for p in ranked] == [
        "find . -name '*.py'",
        "grep -r TODO .",
        "ls",
        "find src -name '*.txt'",
        "find . -name",
    ]
    assert cover(pool[:1], 0.3) == pool[:1]  # one ended candidate: nothing to choose


def test_the_checked_answers_are_covered_and_the_first_valid_one_stays_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """An invalid best proposal goes last; covering starts from the first valid answer, not from it."""
    import types

    import bash_ai.engine.propose as propose_module
    from bash_ai.answer import propose_checked
    from bash_ai.engine.propose import DecodeConfig

    pool = [
        _proposal("echo 'unclosed", 3.0),  # fails bash -n
        _proposal("ls -l", 2.0),
        _proposal("ls -l -a", 1.99),
        _proposal("du -h", 1.98),
    ]
    monkeypatch.setattr(propose_module, "propose", lambda *args, **kwargs: list(pool))
    engine = types.SimpleNamespace(reranker=object())

    def texts(**changes: object) -> list[str]:
        return [c.text for c in propose_checked(engine, "list files", DecodeConfig(**changes))]  # type: ignore[arg-type]

    # ls -l first (the best valid one); then du -h, a different guess, before ls -l's variant.
    assert texts() == ["ls -l", "du -h", "ls -l -a", "echo 'unclosed"]
    assert texts(cover_temperature=0.0) == ["ls -l", "ls -l -a", "du -h", "echo 'unclosed"]
    assert texts(rerank=False) == ["ls -l", "ls -l -a", "du -h", "echo 'unclosed"]  # no reranker, no covering


def test_covering_starts_from_the_first_harmless_answer_as_one_answer_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """The best proposal moves files the request only asks to list: it goes after the valid ones,
    and covering chooses the answers after the first harmless one. So the first of five answers is
    the one answer a caller asking for one gets (that path skips covering)."""
    import types

    import bash_ai.engine.propose as propose_module
    from bash_ai.answer import answer

    pool = [
        _proposal("mv /path/subfolder/{.,}* /path/", 3.0),
        _proposal("find . -name '.*'", 2.0),
        _proposal("find . -name '.*' -exec ls -l {} +", 1.99),
        _proposal("ls -l", 1.98),
        _proposal("ls -la", 1.97),
    ]
    monkeypatch.setattr(propose_module, "propose", lambda *args, **kwargs: list(pool))
    engine = types.SimpleNamespace(reranker=object())
    request = "list all files including hidden ones"
    five = [c.text for c in answer(engine, request, 5, lint=False)]  # type: ignore[arg-type]
    # (Covering from the harmful one first had put ls -l first: the best addition to mv.)
    assert five[0] == "find . -name '.*'" and five[-1] == "mv /path/subfolder/{.,}* /path/"
    assert [c.text for c in answer(engine, request, 1, lint=False)] == ["find . -name '.*'"]  # type: ignore[arg-type]


def test_a_candidate_is_sure_when_the_rerankers_score_reaches_the_threshold() -> None:
    """``Candidate.sure`` compares each candidate's final ranking score with ``unsure_below``;
    without the reranker nothing is marked."""
    from bash_ai.answer import propose_checked
    from bash_ai.engine.propose import DecodeConfig, propose
    from bash_ai.paths import bundled_model_dir
    from bash_ai.registry import load

    engine = load(str(bundled_model_dir()))
    request = "list files sorted by size"
    scores = {p.text: p.score for p in propose(engine, request, DecodeConfig())}
    middle = float(np.median(list(scores.values())))
    checked = propose_checked(engine, request, DecodeConfig(unsure_below=middle))
    marked = {c.sure for c in checked}
    assert marked == {True, False}  # the threshold splits the pool
    for c in checked:
        if c.text in scores:  # settled or tidied texts differ from the pool's
            assert c.sure is (scores[c.text] >= middle), c.text
    assert all(c.sure is None for c in propose_checked(engine, request, DecodeConfig(rerank=False)))
    with pytest.raises(UsageError, match="unsure threshold"):
        DecodeConfig(unsure_below=float("nan"))


def test_a_rerankers_unsure_threshold_is_stored_and_a_bad_one_refused(tmp_path: Path) -> None:
    from dataclasses import replace

    from safetensors.numpy import load_file, save_file

    from bash_ai.engine.propose import DEFAULT_UNSURE_BELOW, DecodeConfig

    n = len(FEATURES)
    plain = Reranker(np.zeros(1 << 8, dtype=np.float32), np.zeros(n), np.zeros(n), np.ones(n))
    plain.save(tmp_path / RERANKER_FILE)
    loaded = load_reranker(tmp_path)
    assert loaded is not None and loaded.unsure_below is None  # a file without one (as the bundle's)
    assert DecodeConfig().unsure_threshold(loaded) == DEFAULT_UNSURE_BELOW
    replace(plain, unsure_below=-0.75).save(tmp_path / RERANKER_FILE)
    loaded = load_reranker(tmp_path)
    assert loaded is not None and loaded.unsure_below == -0.75
    assert DecodeConfig().unsure_threshold(loaded) == -0.75  # the reranker's own
    assert DecodeConfig(unsure_below=2.0).unsure_threshold(loaded) == 2.0  # the config's, when given
    assert DecodeConfig().unsure_threshold(None) == DEFAULT_UNSURE_BELOW
    arrays = load_file(str(tmp_path / RERANKER_FILE))
    with safe_metadata(tmp_path / RERANKER_FILE) as meta:
        meta["unsure_below"] = "nan"
        save_file(arrays, str(tmp_path / RERANKER_FILE), metadata=meta)
    with pytest.raises(ModelError, match="unsure_below"):
        load_reranker(tmp_path)


@contextlib.contextmanager
def safe_metadata(path: Path) -> Iterator[dict[str, str]]:
    """A saved file's metadata, to change and write back."""
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as handle:
        meta = dict(handle.metadata() or {})
    yield meta


def test_the_unsure_threshold_is_the_highest_under_which_first_answers_are_mostly_wrong() -> None:
    """``unsure_threshold``: the first answers below it have the right program at most
    UNSURE_RIGHT_SHARE of the time, with at least UNSURE_MIN_SHARE of them below."""
    from trainer.rerank import UNSURE_RIGHT_SHARE, Pool, unsure_threshold

    # 40 one-candidate pools scored -2.9 ... 2.95: up to 0.0 one in ten is right, above it all are;
    # below 0.25, 3 of 21 are right (14%), below 0.5, 5 of 23 (22%).
    pools, scores = [], []
    for i in range(40):
        score = -2.9 + 0.15 * i
        right = score > 0 or i % 10 == 0
        pools.append(Pool(f"request {i}", "ls -l", [Proposal("ls -l" if right else "pwd", "beam", -1.0, 2, score)]))
        scores.append([score])
    found = unsure_threshold(pools, scores)
    assert found == 0.25
    below = [p for p, s in zip(pools, scores, strict=True) if s[0] < found]
    assert sum(p.proposals[0].text == "ls -l" for p in below) <= UNSURE_RIGHT_SHARE * len(below)
    # Every first answer right: nothing is unsure enough to mark.
    good = [Pool(p.request, "pwd", [replace_text(p.proposals[0], "pwd")]) for p in pools]
    assert unsure_threshold(good, scores) is None


def replace_text(proposal: Proposal, text: str) -> Proposal:
    from dataclasses import replace

    return replace(proposal, text=text)
