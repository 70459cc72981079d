"""The retrieval index: BM25 by hand, storage, exclusions, and that evaluation splits never enter it."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_data_tokenized import ByteTokenizer, _pair, sources  # noqa: F401  (fixture)

from bash_ai import prompt
from bash_ai.errors import ModelError
from bash_ai.retrieval import INDEX_FILE, RetrievalIndex, load_index
from bash_ai.retrieval.bm25 import BM25, stem, terms


def test_terms_lowercase_split_and_stem() -> None:
    assert terms("List *.PY files, sorted by SIZE") == ["list", "py", "file", "sort", "by", "size"]
    assert stem("directories") == "directory" and stem("copying") == "copy" and stem("ls") == "ls"
    assert stem("matches") == "match" and stem("files") == stem("file") and stem("class") == "class"
    assert terms("") == []


def test_bm25_scores_match_the_formula_worked_by_hand() -> None:
    docs = [["a", "b"], ["a", "a", "c"], ["c"]]
    bm = BM25.build(docs, k1=1.2, b=0.75)
    avg = (2 + 3 + 1) / 3

    def weight(tf: int, df: int, dl: int) -> float:
        idf = math.log(1 + (3 - df + 0.5) / (df + 0.5))
        return idf * tf * 2.2 / (tf + 1.2 * (1 - 0.75 + 0.75 * dl / avg))

    expected = [weight(1, 2, 2), weight(2, 2, 3) + weight(1, 2, 3), weight(1, 2, 1)]
    assert np.allclose(bm.scores(["a", "c", "zzz"]), expected, rtol=1e-6)
    # A query term counts once however often it is repeated; unknown terms score nothing.
    assert np.allclose(bm.scores(["a", "a"]), bm.scores(["a"]))
    assert bm.top(["zzz"], 3) == []
    assert [d for d, _ in bm.top(["a", "c"], 2)] == [1, 2]  # the short doc "c" beats "a b"


def _index() -> RetrievalIndex:
    return RetrievalIndex.build(
        [
            ("list files sorted by size", "ls -S", "nl2bash"),
            ("list all files sorted by size", "ls -S", "nl2bash"),
            ("list files by modification time", "ls -t", "tldr"),
            ("count lines in a file", "wc -l file", "tldr"),
            ("show disk usage of a directory", "du -sh dir", "nl2bash"),
        ]
    )


def test_search_ranks_by_request_and_excludes_self_and_same_command() -> None:
    index = _index()
    hits = index.search("list files sorted by size", 3)
    assert [h.row for h in hits][:2] == [0, 1] and hits[0].score >= hits[1].score
    assert hits[0].request == "list files sorted by size" and hits[0].command == "ls -S"
    # Training excludes the pair itself and every pair with the same command.
    hits = index.search("list files sorted by size", 3, exclude_row=0, exclude_command="ls -S")
    assert all(h.command != "ls -S" for h in hits) and hits[0].command == "ls -t"
    assert index.search_command("du -sh /home", 1)[0].request == "show disk usage of a directory"
    assert index.search("nothing matches this", 2) == []


def test_source_weights_scale_a_sources_scores() -> None:
    # tldr's requests leave out their page's program: the short generic one wins on plain BM25.
    index = RetrievalIndex.build(
        [
            ("Show disk usage", "docker buildx du", "tldr"),
            ("show the disk usage of the current directory", "du -sh .", "nl2bash"),
            ("print the date", "date", "nl2bash"),
        ]
    )
    plain = index.search("show disk usage", 3)
    assert [h.command for h in plain] == ["docker buildx du", "du -sh ."]
    weighted = index.search("show disk usage", 3, source_weights={"tldr": 0.5})
    assert [h.command for h in weighted] == ["du -sh .", "docker buildx du"]
    by_row = {h.row: h.score for h in plain}
    assert all(h.score == pytest.approx(by_row[h.row] * (0.5 if h.source == "tldr" else 1.0)) for h in weighted)
    assert index.search("show disk usage", 3, source_weights={"nowhere": 0.5}) == plain
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        index.search("show disk usage", 3, source_weights={"tldr": 1.5})


def test_weighted_search_returns_the_k_best_scaled_pairs_however_deep_they_sit() -> None:
    """A pair of a full-weight source may sit far below many scaled-down ones on plain BM25 and
    still beat them once they are scaled: the search fetches until nothing unfetched can."""
    rng = np.random.default_rng(5)
    vocab = [f"w{i}" for i in range(12)]
    pairs = [
        (
            " ".join(rng.choice(vocab, size=int(rng.integers(2, 7)))),
            f"cmd {i}",
            "tldr" if rng.random() < 0.8 else "nl2bash",
        )
        for i in range(400)
    ]
    index = RetrievalIndex.build(pairs)
    weights = {"tldr": 0.3}
    for _ in range(40):
        query = " ".join(rng.choice(vocab, size=int(rng.integers(1, 4))))
        plain = index.by_request.scores(terms(query)) * np.array([weights.get(p[2], 1.0) for p in pairs])
        for k in (1, 3, 10):
            want = sorted(plain[plain > 0], reverse=True)[:k]
            got = [h.score for h in index.search(query, k, source_weights=weights)]
            assert got == pytest.approx(want, rel=1e-6), (query, k)


def test_index_round_trips_through_its_file(tmp_path: Path) -> None:
    index = _index()
    path = index.save(tmp_path / INDEX_FILE)
    loaded = load_index(tmp_path)
    assert loaded is not None and len(loaded) == 5
    assert loaded.meta["pairs"] == "5" and loaded.meta["count.nl2bash"] == "3" and loaded.meta["count.tldr"] == "2"
    for query in ("list files by size", "count lines", "disk usage"):
        got, want = loaded.search(query, 3), index.search(query, 3)
        assert [h.row for h in got] == [h.row for h in want]
        assert [h.score for h in got] == pytest.approx([h.score for h in want], rel=2e-3)
    assert loaded.pair(3).source == "tldr"
    # Compact on disk: float16 weights, int32 offsets; read back as float32 / int64.
    from safetensors.numpy import load_file

    stored = load_file(str(path))
    assert stored["bm25_request.weights"].dtype == np.float16 and stored["requests.offsets"].dtype == np.int32
    assert stored["bm25_request.docs"].dtype == np.uint16
    assert loaded.by_request.weights.dtype == np.float32 and loaded.requests.offsets.dtype == np.int64
    assert loaded.by_request.docs.dtype == np.int32
    assert load_index(tmp_path / "nowhere") is None
    path.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}garbage")
    with pytest.raises(ModelError, match="unreadable retrieval index"):
        load_index(tmp_path)


# tldr pages leave their program out of their examples' descriptions.
PAGES = [
    ("Display system memory", "free", "tldr", "free"),
    ("Display memory in human-readable units", "free -h", "tldr", "free"),
    ("Display the memory use of each process", "ps aux --sort -rss", "tldr", "ps"),
    ("Show the status of the working tree", "git status", "tldr", "git-status"),
    ("Find files larger than 1MB", "find . -size +1M", "nl2bash", ""),
]


def test_a_pair_is_found_by_the_name_of_its_page_too(tmp_path: Path) -> None:
    triples = [p[:3] for p in PAGES]
    plain = RetrievalIndex.build(triples)
    paged = RetrievalIndex.build(triples, [p[3] for p in PAGES])
    assert plain.search("free", 3) == [] and plain.search("git status", 3)[0].row == 3
    assert [h.command for h in paged.search("free", 3)] == ["free", "free -h"]
    assert paged.search("show free memory", 1)[0].command == "free"
    assert plain.search("show free memory", 1)[0].command != "free"
    assert paged.search("git", 1)[0].command == "git status"  # "git-status": two words
    # What the index stores and returns of a pair is unchanged; so is searching by command.
    assert paged.search("free", 1)[0].request == "Display system memory"
    assert [paged.requests[i] for i in range(len(paged))] == [p[0] for p in PAGES]
    assert paged.search_command("free -h", 1)[0].row == plain.search_command("free -h", 1)[0].row
    assert "topics" not in plain.meta
    loaded = load_index(tmp_path) if paged.save(tmp_path / INDEX_FILE) else None
    assert loaded is not None and loaded.meta["topics"] == "4" and loaded.search("free", 1)[0].command == "free"
    with pytest.raises(ValueError, match="4 topics for 5 pairs"):
        RetrievalIndex.build(triples, [p[3] for p in PAGES][:4])


def test_training_pairs_carry_their_pages_name_into_the_index_only_when_asked(sources: Any) -> None:  # noqa: F811
    from trainer.data.document import Document
    from trainer.data.retrieval import RetrievalSpec, TrainingRetrieval

    docs = [
        Document(kind="pair", id=f"p:{i}", source="p", licence="MIT", request=r, command=c, meta={"page": page})
        for i, (r, c, _, page) in enumerate(PAGES)
    ]
    sources("paged", docs)
    plain = TrainingRetrieval.for_datasets(RetrievalSpec(k=1), ["paged"])
    paged = TrainingRetrieval.for_datasets(RetrievalSpec(k=1, variants=1, topics=True), ["paged"])
    assert plain.index.search("free", 2) == []
    assert [h.command for h in paged.index.search("free", 2)] == ["free", "free -h"]
    # A pair's neighbours change with the index; the tokenized cache key says which index made them,
    # and a spec without topics keeps the key it had before there was a choice.
    assert paged.neighbor_sets(docs[0]) == [[("Display memory in human-readable units", "free -h")]]
    assert "topics" not in RetrievalSpec(k=3).facts() and RetrievalSpec(k=3, topics=True).facts()["topics"] is True
    from bash_ai.errors import UsageError
    from trainer.train_config import TrainConfig

    assert TrainConfig(datasets=["paged"], retrieval_k=3, index_topics=True).index_topics
    with pytest.raises(UsageError, match="--index-topics .* needs --retrieval-k"):
        TrainConfig(datasets=["paged"], index_topics=True)


def test_pair_texts_are_stored_in_compressed_chunks(tmp_path: Path) -> None:
    # 150 pairs: two full chunks of 64 and a short one; multi-byte text across the boundaries.
    pairs = [
        (f"liste les fichiers n\u00b0{i} \u00e9t\u00e9 {'x' * (i % 7)}", f"ls -l f{i}_\u00e4.txt", "nl2bash")
        for i in range(150)
    ]
    index = RetrievalIndex.build(pairs)
    path = index.save(tmp_path / INDEX_FILE)
    from safetensors.numpy import load_file

    stored = load_file(str(path))
    assert "requests.blob" not in stored and stored["requests.zoffsets"].shape == (4,)
    plain = sum(len(r.encode()) for r, _, _ in pairs)
    assert stored["requests.zblob"].nbytes < plain / 3
    loaded = load_index(tmp_path)
    assert loaded is not None
    assert [loaded.requests[i] for i in range(150)] == [p[0].strip() for p in pairs]
    assert [loaded.commands[i] for i in (149, 0, 64, 63, 128)] == [pairs[i][1] for i in (149, 0, 64, 63, 128)]
    assert sorted(loaded.requests._inflated) == [0, 1, 2]  # each chunk inflated once, then kept
    # Saved again from the loaded index (every chunk inflated): the same pairs, the same digest.
    (tmp_path / "again").mkdir()
    loaded.save(tmp_path / "again" / INDEX_FILE)
    again = load_index(tmp_path / "again")
    assert again is not None and again.meta["pairs_sha256"] == loaded.meta["pairs_sha256"]
    assert [again.requests[i] for i in range(150)] == [p[0].strip() for p in pairs]


def test_format_1_indexes_still_load_and_a_corrupt_chunk_is_a_model_error(tmp_path: Path) -> None:
    from safetensors.numpy import load_file, save_file

    index = _index()
    path = index.save(tmp_path / INDEX_FILE)
    arrays = load_file(str(path))
    meta = dict(load_index(tmp_path).meta)  # type: ignore[union-attr]
    old = {k: v for k, v in arrays.items() if ".z" not in k}
    old["requests.blob"] = index.requests.blob.copy()
    old["commands.blob"] = index.commands.blob.copy()
    save_file(old, str(path), metadata={**meta, "format_version": "1"})
    loaded = load_index(tmp_path)
    assert loaded is not None and [loaded.pair(i).command for i in range(5)] == [
        index.pair(i).command for i in range(5)
    ]

    broken = dict(arrays)
    broken["commands.zblob"] = np.full_like(arrays["commands.zblob"], 7)
    save_file(broken, str(path), metadata=meta)
    loaded = load_index(tmp_path)
    assert loaded is not None
    with pytest.raises(ModelError, match="retrieval index is corrupt"):
        loaded.search("list files by size", 1)[0].command  # noqa: B018
    save_file({**arrays, "requests.zoffsets": arrays["requests.zoffsets"][:-1]}, str(path), metadata=meta)
    with pytest.raises(ModelError, match="unreadable retrieval index"):
        load_index(tmp_path)
    save_file(arrays, str(path), metadata={**meta, "format_version": "3"})
    with pytest.raises(ModelError, match="format version '3', this bash-ai reads 1, 2"):
        load_index(tmp_path)


def test_retrieval_prompt_puts_the_nearest_example_next_to_the_request() -> None:
    segments = prompt.retrieval_pair("list by size", "ls -S", [("near", "ls"), ("far", "du")])
    texts = [s.text for s in segments]
    assert texts == [
        prompt.REQUEST + "far" + prompt.BASH,
        "du" + prompt.EOT,
        prompt.REQUEST + "near" + prompt.BASH,
        "ls" + prompt.EOT,
        prompt.REQUEST + "list by size" + prompt.BASH,
        "ls -S" + prompt.EOT,
    ]
    assert [s.target for s in segments] == [False, False, False, False, False, True]


def test_training_index_holds_train_pairs_only(sources: Any) -> None:  # noqa: F811
    from trainer.data.retrieval import RetrievalSpec, TrainingRetrieval

    docs = [
        _pair(0, "list files sorted by size", "ls -S"),
        _pair(1, "list files by date", "ls -t"),
        _pair(2, "list files sorted by size please", "ls -S", split="test"),
        _pair(3, "list hidden files", "ls -a", split="dev"),
        _pair(4, "list files of the holdout page", "ls -R", split="holdout"),
    ]
    sources("mini", docs)
    retrieval = TrainingRetrieval.for_datasets(RetrievalSpec(k=2, variants=2), ["mini"])
    assert len(retrieval.index) == 2 and set(retrieval.row_of) == {"p:0", "p:1"}
    stored = {(retrieval.index.requests[i], retrieval.index.commands[i]) for i in range(len(retrieval.index))}
    assert stored == {("list files sorted by size", "ls -S"), ("list files by date", "ls -t")}
    # A pair never sees itself (nor its own command) among its neighbours.
    sets = retrieval.neighbor_sets(docs[0])
    assert sets and all(("list files sorted by size", "ls -S") not in s for s in sets)
    assert sets[0] == [("list files by date", "ls -t")]
    assert retrieval.neighbor_sets(docs[2]) == []  # not a training pair


def test_real_data_never_indexes_evaluation_splits(shared_data: Path) -> None:
    """NL2Bash dev/test and tldr-holdout stay out of the index built from the real data pack."""
    from trainer.data import fetch_dataset, iter_documents
    from trainer.data.retrieval import RetrievalSpec, TrainingRetrieval

    fetch_dataset("nl2bash", from_path=shared_data / "nl2bash")
    fetch_dataset("tldr", from_path=shared_data / "tldr")
    retrieval = TrainingRetrieval.for_datasets(RetrievalSpec(k=3), ["nl2bash", "tldr"])
    splits: dict[str, str] = {}
    for name in ("nl2bash", "tldr"):
        for doc in iter_documents(name):
            if doc.kind == "pair":
                splits[doc.id] = doc.split
    assert all(splits[i] == "train" for i in retrieval.row_of)
    assert len(retrieval.row_of) == sum(1 for s in splits.values() if s == "train")
    assert {s for s in splits.values()} >= {"train", "dev", "test", "holdout"}


def test_aligned_windows_start_at_a_sequence(sources: Any) -> None:  # noqa: F811
    from trainer.data.retrieval import RetrievalSpec, TrainingRetrieval
    from trainer.data.sampler import Batches
    from trainer.data.tokenized import build_tokenized

    docs = [_pair(i, f"request number {i} about files", f"cmd{i} --flag") for i in range(40)]
    sources("many", docs)
    tokenizer = ByteTokenizer()
    retrieval = TrainingRetrieval.for_datasets(RetrievalSpec(k=2, variants=1), ["many"])
    data = build_tokenized(["many"], tokenizer, val_fraction=0.0, retrieval=retrieval)
    stream = data.split("train")["bash"]
    assert stream.starts is not None and len(stream.starts) == 40 * 3  # augmented, forward, reverse
    batches = Batches(data, "train", 8, 64, seed=1, language_ratio=0.0, aligned=True)
    x, _, _ = batches.next_batch()
    request_id = tokenizer.specials[prompt.REQUEST]
    command_id = tokenizer.specials[prompt.COMMAND]
    assert all(row[0] in (request_id, command_id) for row in x)
    assert batches.state_dict()["aligned"] is True


def test_template_targets_abstract_every_command_and_drop_the_reverse_pair(sources: Any) -> None:  # noqa: F811
    from trainer.data import to_sequences

    doc = _pair(0, "delete txt files older than 7 days", "find /tmp -name '*.txt' -mtime +7 -delete")
    near = [("list files in /var", "ls -la /var")]
    plain = to_sequences(doc, [near])
    assert [s.text for s in plain[0]][-1] == "find /tmp -name '*.txt' -mtime +7 -delete" + prompt.EOT
    assert len(plain) == 3  # augmented, forward, reverse
    sequences = to_sequences(doc, [near], targets="template")
    assert len(sequences) == 2  # augmented and forward: no reverse sequence of a template
    augmented, forward = ([s.text for s in seq] for seq in sequences)
    assert augmented == [
        prompt.REQUEST + "list files in /var" + prompt.BASH,
        "ls -a -l ARG" + prompt.EOT,  # the neighbour's command is a template too
        prompt.REQUEST + "delete txt files older than 7 days" + prompt.BASH,
        "find ARG -name ARG -mtime ARG -delete" + prompt.EOT,
    ]
    assert forward == augmented[2:]
    assert [s.target for s in sequences[1]] == [False, True]
    # The same mix tokenized both ways gives two caches, each with its own sequences.
    _, streams = _tokenized_both_ways(sources, "tmpl", "template")
    assert [len(s.starts) for s in streams] == [20, 10]  # forward + reverse, forward only
    text = bytes(int(t) for t in streams[1].tokens if t < 256).decode()
    assert "cmd0 --flag ARG" in text and "/path/" not in text


def _tokenized_both_ways(write: Any, name: str, targets: Any) -> tuple[Any, tuple[Any, Any]]:
    """Ten pairs written by ``write`` (the ``sources`` fixture) and tokenized with command targets
    and with ``targets``: the tokenizer and the two
    caches' train streams (two caches: the key holds the choice)."""
    from trainer.data.tokenized import build_tokenized

    write(name, [_pair(i, f"request number {i}", f"cmd{i} --flag /path/{i}") for i in range(10)])
    tokenizer = ByteTokenizer()
    commands = build_tokenized([name], tokenizer, val_fraction=0.0)
    other = build_tokenized([name], tokenizer, val_fraction=0.0, targets=targets)
    assert commands.key != other.key
    return tokenizer, (commands.split("train")["bash"], other.split("train")["bash"])


def test_hinted_targets_add_the_command_after_its_template_and_keep_the_rest(sources: Any) -> None:  # noqa: F811
    from trainer.data import to_sequences

    doc = _pair(0, "delete txt files older than 7 days", "find /tmp -name '*.txt' -mtime +7 -delete")
    near = [("list files in /var", "ls -la /var")]
    plain, hinted = to_sequences(doc, [near]), to_sequences(doc, [near], targets="hinted")
    assert len(hinted) == len(plain) + 1 and hinted[0] == plain[0] and hinted[2:] == plain[1:]
    assert [(s.text, s.target) for s in hinted[1]] == [
        (prompt.REQUEST + "delete txt files older than 7 days" + prompt.COMMAND, False),
        ("find ARG -name ARG -mtime ARG -delete" + prompt.BASH, False),
        ("find /tmp -name '*.txt' -mtime +7 -delete" + prompt.EOT, True),  # only the command carries loss
    ]
    assert "".join(s.text for s in hinted[1][:2]) == prompt.hinted_prompt(
        doc.request, "find ARG -name ARG -mtime ARG -delete"
    )
    tokenizer, streams = _tokenized_both_ways(sources, "hint", "hinted")
    assert [len(s.starts) for s in streams] == [20, 30]  # forward + reverse, and the hinted one
    text = bytes(int(t) for t in streams[1].tokens if t < 256).decode()
    assert "cmd0 --flag ARG" in text and "cmd0 --flag /path/0" in text and "<|" not in text
    specials = [int(t) for t in streams[1].tokens]  # every marker a special token, as the engine writes them
    assert specials.count(tokenizer.specials[prompt.COMMAND]) == 10 + 10  # the hinted prompts and the reverse pairs'
    assert specials.count(tokenizer.specials[prompt.BASH]) == 10 + 10


def test_interleaved_streams_write_a_pairs_sequences_far_apart(sources: Any) -> None:  # noqa: F811
    """``interleave``: every pair's first sequence, then every second one, ...: a training window
    that runs past its first sequence meets another pair's, not a copy of the answer it just read."""
    from trainer.data.tokenized import build_tokenized

    docs = [_pair(i, f"request number {i}", f"cmd{i} --flag /path/{i}") for i in range(10)]
    sources("apart", docs)
    tokenizer = ByteTokenizer()
    adjacent = build_tokenized(["apart"], tokenizer, val_fraction=0.0)
    apart = build_tokenized(["apart"], tokenizer, val_fraction=0.0, interleave=True)
    assert adjacent.key != apart.key and apart.meta["order"] == "interleaved" and "order" not in adjacent.meta

    def sequences(data: Any) -> list[str]:
        stream = data.split("train")["bash"]
        ends = [*map(int, stream.starts[1:]), len(stream.tokens)]
        return [
            tokenizer.decode([int(t) for t in stream.tokens[a:b]]) for a, b in zip(stream.starts, ends, strict=True)
        ]

    one, two = sequences(adjacent), sequences(apart)
    assert sorted(one) == sorted(two) and len(one) == 20  # the same sequences, forward and reverse
    assert [s.startswith(prompt.REQUEST) for s in two] == [True] * 10 + [False] * 10  # all forward ones first
    assert [s.startswith(prompt.REQUEST) for s in one] == [True, False] * 10  # each pair's two together


def test_the_index_stage_gives_a_model_a_new_index_and_leaves_the_rest_as_it_was(
    sources: Any,  # noqa: F811
    tiny_model_dir: Path,
    tmp_path: Path,
) -> None:
    import json
    import os
    import subprocess
    import sys

    from bash_ai.errors import UsageError
    from bash_ai.model_files import WEIGHTS_FILE
    from bash_ai.registry import load
    from trainer.data.document import Document
    from trainer.pipeline import run_index

    docs = [
        Document(kind="pair", id=f"p:{i}", source="p", licence="MIT", request=r, command=c, meta={"page": page})
        for i, (r, c, _, page) in enumerate(PAGES)
    ]
    sources("paged", docs)
    out = tmp_path / "out"
    summary = run_index(str(tiny_model_dir), ["paged"], topics=True, run_name="ix", export_to=out)
    run = Path(summary["run"])
    assert json.loads((run / "index.json").read_text())["topics"] == 4 and summary["pairs"] == 5
    for copy in (run / "model", out):  # the weights as they were, not stored again in another dtype
        assert (copy / WEIGHTS_FILE).read_bytes() == (tiny_model_dir / WEIGHTS_FILE).read_bytes()
    engine = load(str(out))
    assert engine.index is not None and engine.index.search("free", 1)[0].command == "free"
    with pytest.raises(UsageError, match="already has a model"):
        run_index(str(tiny_model_dir), ["paged"], run_name="ix")
    with pytest.raises(UsageError, match="needs --data"):
        run_index(str(tiny_model_dir), [], run_name="other")
    # From the command line, a missing --init is one clear line.
    env = {**os.environ, "BASH_AI_HOME": str(tmp_path / "home")}
    for args, message in (
        (["--data", "paged"], "needs --init"),
        (["--init", str(tiny_model_dir), "--data", "paged", "--out-dtype", "int8"], "as they are"),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "bash_ai", "train", "--stage", "index", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert proc.returncode == 2 and message in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr


def test_word_overlap_is_the_jaccard_of_the_terms() -> None:
    from bash_ai.retrieval.bm25 import terms, word_overlap

    said = set(terms("Show the hidden files"))
    assert word_overlap(said, "show hidden file, the") == 1.0  # stems, any order, punctuation
    assert word_overlap(said, "find the hidden files under /tmp") == pytest.approx(3 / 7)
    assert word_overlap(said, "reboot now") == 0.0 and word_overlap(set(), "") == 0.0


def test_question_core_drops_a_questions_opening_words_only() -> None:
    from bash_ai.retrieval.bm25 import question_core

    cases = {
        "how do i delete all empty directories recursively": "delete all empty directories recursively",
        "How can I list open ports?": "list open ports?",
        "how to untar a file": "untar a file",
        "please, how do I see memory": "see memory",
        "is there a way to count lines in a.txt": "count lines in a.txt",
        "what's the bash command to list files": "list files",
        "I want to find big files": "find big files",
        "can you please compress logs": "compress logs",
        # Not a question's opening: kept whole.
        "how much memory do i have": "how much memory do i have",
        "how long has this machine been up": "how long has this machine been up",
        "show how to use tar": "show how to use tar",
        "how do i": "how do i",  # nothing else to search for
    }
    assert {request: question_core(request) for request in cases} == cases


def test_a_question_is_answered_as_its_request_by_the_bundled_model() -> None:
    """Its opening words once found other questions ("how much memory do i have" -> `free -h` for
    "how do i delete all empty directories recursively"); now they change nothing."""
    from bash_ai.answer import answer
    from bash_ai.registry import load

    engine = load("bundled")
    for question in ("how do i delete all empty directories recursively", "how can I set key.pem permissions to 600"):
        found = engine.neighbors(question, 3)
        assert [n.row for n in found] == [n.row for n in engine.neighbors(question.split(" ", 3)[3], 3)]
        first = answer(engine, question, 1)[0].text
        assert first == answer(engine, question.split(" ", 3)[3], 1)[0].text
        assert first.startswith(("find", "chmod 600")), first
