"""``bash-ai eval``: metric aggregation against engines whose answers are known, bits per byte
against a token-by-token computation, suites read through the real data layer, the exec suite in
the real sandbox, and the CLI (exit codes, --json schema, --compare deltas)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from cli_run import one_error_line, run_cli

from bash_ai.checkpoint import random_weights
from bash_ai.config import ModelConfig
from bash_ai.engine import Finished, SamplingParams
from bash_ai.engine.propose import DecodeConfig
from bash_ai.errors import DataError, SandboxError, UsageError
from bash_ai.evaluation.runner import Decoder, Example, overall, reference_nll
from bash_ai.evaluation.runner import evaluate as evaluate_with
from bash_ai.model.numpy_gpt import NumpyGPT
from trainer.data import fetch_dataset
from trainer.data.suites import load_suite

# The fake engines below answer through ``ask`` (sampling); the beam and bm25 decoders are tested
# on real engines at the end of this file.
SAMPLE = Decoder("sample", DecodeConfig(retrieval_k=0))


def evaluate(*args: object, **kw: object) -> object:
    return evaluate_with(*args, decoder=SAMPLE, **kw)  # type: ignore[arg-type]


# Byte-level token ids of the fake engine: bytes 0..255, then its special tokens.
EOT, REQUEST, BASH = 256, 257, 258
VOCAB = 260

# The synthetic NL2Bash dev split. Scores of an engine answering `ls` to everything, by hand:
# exact 1/5 (only `ls`); template 1/5; NLC2CMD per pair: ls->ls 1, ls->ls -la 0 (same utility,
# flag score (0-2)/2 = -1, so (1-1)/2), wc -1, du -1, rm -1 => -2/5; syntax 5/5; danger 0/5.
DEV_PAIRS = [
    ("list files", "ls"),
    ("list all files in long format", "ls -la"),
    ("count lines in file.txt", "wc -l file.txt"),
    ("show disk usage of this directory", "du -sh . > usage.txt"),  # unreadable under the official rules
    ("wipe the whole filesystem", "rm -rf /"),  # the reference itself is flagged as dangerous
]


class FakeEngine:
    """Implements the interface ``evaluate`` uses of ``bash_ai.engine.Engine`` (``EvalEngine``):
    a real numpy model with random weights over byte tokens, and answers chosen by the test."""

    def __init__(self, answer: Callable[[str, int], str], name: str = "fake", context_length: int = 64) -> None:
        self.name = name
        self.eot_id = EOT
        config = ModelConfig(
            vocab_size=VOCAB, context_length=context_length, n_layer=2, n_head=2, n_kv_head=1, d_model=16
        )
        self.model = NumpyGPT(config, random_weights(config, seed=3, std=0.5))
        self.answer = answer
        self.calls: list[tuple[str, SamplingParams | None, int]] = []

    @property
    def context_length(self) -> int:
        return int(self.model.config.context_length)

    def encode_text(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))

    def continuation_logprobs(self, pairs: list[tuple[list[int], list[int]]]) -> list[float]:
        from bash_ai.engine.beam import continuation_logprobs

        return continuation_logprobs(self.model, pairs)

    def task_ids(self, task: str, text: str) -> list[int]:
        assert task == "ask"
        return [REQUEST, *self.encode_text(text.strip()), BASH]

    retrieval_k = 0
    reranker = None

    def neighbors(self, request: str, k: int | None = None, *, lexicon: bool = True) -> list:
        return []

    def ask_ids(self, request: str, neighbors: object = (), reserve: int = 96) -> list[int]:
        return self.task_ids("ask", request)

    def ask(self, request: str, params: SamplingParams | None = None, n: int = 1) -> list[Finished]:
        self.calls.append((request, params, n))
        first = 0 if params is not None and params.greedy else 1  # sampled candidates are 2..K
        texts = [self.answer(request, first + i) for i in range(n)]
        return [Finished(index=i, text=t, finish_reason="eos", n_tokens=len(t)) for i, t in enumerate(texts)]


def answers_from(table: dict[str, str], default: str = "") -> Callable[[str, int], str]:
    return lambda request, _: table.get(request, default)


def dev_examples() -> list[Example]:
    return [Example(r, c, f"dev:{i}") for i, (r, c) in enumerate(DEV_PAIRS)]


def write_nl2bash(folder: Path, dev: list[tuple[str, str]]) -> Path:
    splits = {"train": [("say hi", "echo hi")], "dev": dev, "test": [("print the date", "date")]}
    folder.mkdir(parents=True, exist_ok=True)
    for split, pairs in splits.items():
        (folder / f"{split}.nl").write_text("".join(r + "\n" for r, _ in pairs), encoding="utf-8")
        (folder / f"{split}.cm").write_text("".join(c + "\n" for _, c in pairs), encoding="utf-8")
    return folder


def write_tldr(folder: Path) -> Path:
    """Two pages: ``age`` is in tldr-holdout (sha256 rule), ``tar`` is not."""
    pages = folder / "pages" / "common"
    pages.mkdir(parents=True)
    (pages / "age.md").write_text(
        "# age\n\n> Encrypt files.\n\n- Encrypt a file with a passphrase:\n\n`age -p {{file}}`\n\n"
        "- Decrypt a file:\n\n`age -d {{file.age}}`\n",
        encoding="utf-8",
    )
    (pages / "tar.md").write_text("# tar\n\n> Archive.\n\n- List an archive:\n\n`tar tf {{a.tar}}`\n", encoding="utf-8")
    return folder


# -- metrics against known answers -------------------------------------------------------------


def test_engine_answering_the_reference_scores_perfectly() -> None:
    refs = dict(DEV_PAIRS)
    result = evaluate(FakeEngine(answers_from(refs)), "nl2bash-dev", dev_examples())
    m = result.metrics
    assert (m["exact_match"], m["template_match"], m["nlc2cmd"], m["syntax_valid"]) == (1.0, 1.0, 1.0, 1.0)
    assert m["danger_rate"] == pytest.approx(1 / 5)
    assert result.examples == 5 and result.candidates == 1
    assert [row["predictions"] for row in result.predictions] == [[c] for _, c in DEV_PAIRS]


def test_engine_answering_ls_gets_the_hand_computed_scores() -> None:
    engine = FakeEngine(lambda request, i: "ls")
    m = evaluate(engine, "nl2bash-dev", dev_examples()).metrics
    assert m["exact_match"] == pytest.approx(1 / 5)
    assert m["template_match"] == pytest.approx(1 / 5)
    assert m["nlc2cmd"] == pytest.approx(-2 / 5)
    assert m["syntax_valid"] == 1.0 and m["danger_rate"] == 0.0
    # Only greedy decoding for top-1, one call per example.
    assert [(n, p.greedy) for _, p, n in engine.calls if p is not None] == [(1, True)] * 5


def test_invalid_and_dangerous_answers_are_counted() -> None:
    bad = {"list files": "ls (", "count lines in file.txt": "chmod -R 777 /"}
    m = evaluate(FakeEngine(answers_from(bad, "ls")), "nl2bash-dev", dev_examples()).metrics
    assert m["syntax_valid"] == pytest.approx(4 / 5)
    assert m["danger_rate"] == pytest.approx(1 / 5)


def test_top_k_takes_the_best_candidate_for_nlc2cmd_only() -> None:
    refs = dict(DEV_PAIRS)
    engine = FakeEngine(lambda request, i: "ls" if i == 0 else refs[request])  # greedy wrong, samples right
    result = evaluate(engine, "nl2bash-dev", dev_examples(), candidates=3)
    assert result.metrics["nlc2cmd"] == 1.0
    assert result.metrics["exact_match"] == pytest.approx(1 / 5)  # exact/template judge the top-1 answer
    sampled = [(n, p) for _, p, n in engine.calls if p is not None and not p.greedy]
    assert [n for n, _ in sampled] == [2] * 5
    assert [p.seed for _, p in sampled] == [0, 1, 2, 3, 4]  # reproducible samples
    assert all(len(row["predictions"]) == 3 for row in result.predictions)


def test_bad_options_are_usage_errors() -> None:
    engine = FakeEngine(lambda request, i: "ls")
    with pytest.raises(UsageError, match="candidates"):
        evaluate(engine, "nl2bash-dev", dev_examples(), candidates=0)
    with pytest.raises(UsageError, match="unknown suite"):
        evaluate(engine, "nl2bash-train", dev_examples())
    with pytest.raises(UsageError, match="limit"):
        load_suite("nl2bash-dev", limit=0)


# -- loss and bits per byte --------------------------------------------------------------------


def nll_token_by_token(engine: FakeEngine, example: Example) -> float:
    """The reference's NLL fed one token at a time through the KV cache (no batching, no padding)."""
    prompt = engine.task_ids("ask", example.request)
    target = engine.encode_text(example.reference) + [EOT]
    ids = prompt + target
    cache = engine.model.new_cache(1)
    nats = 0.0
    for t in range(len(ids) - 1):
        logits = engine.model.forward(np.array([[ids[t]]]), cache)[0, -1].astype(np.float64)  # (V,)
        if t + 1 >= len(prompt):
            log_probs = logits - logits.max() - math.log(np.exp(logits - logits.max()).sum())
            nats -= float(log_probs[ids[t + 1]])
    return nats


def test_bits_per_byte_equals_a_direct_computation() -> None:
    engine = FakeEngine(lambda request, i: "ls")
    examples = dev_examples()
    result = evaluate(engine, "nl2bash-dev", examples)
    per_example = [nll_token_by_token(engine, ex) for ex in examples]
    n_bytes = sum(len(ex.reference.encode()) + 1 for ex in examples)  # + the end marker
    n_tokens = n_bytes  # byte tokens
    assert result.metrics["bits_per_byte"] == pytest.approx(sum(per_example) / math.log(2) / n_bytes, rel=1e-5)
    assert result.metrics["val_loss"] == pytest.approx(sum(per_example) / n_tokens, rel=1e-5)
    assert [r["nll_nats"] for r in result.predictions] == pytest.approx(per_example, rel=1e-5)
    assert 0 < result.metrics["val_loss"] < 2 * math.log(VOCAB)  # random weights: near uniform


def test_loss_skips_references_longer_than_the_context_and_trims_long_requests() -> None:
    engine = FakeEngine(lambda request, i: "ls", context_length=32)
    long_request = Example("please " * 20 + "list files", "ls", "long-request")
    too_long = Example("print a lot", "echo " + "x" * 40, "long-reference")
    losses = reference_nll(engine, [long_request, too_long, *dev_examples()[:2]])
    assert losses[1] is None
    nats, tokens, nbytes = losses[0]  # type: ignore[misc]
    assert (tokens, nbytes) == (3, 3) and nats > 0
    assert losses[2] == pytest.approx(reference_nll(engine, dev_examples()[:1])[0])  # batching changes nothing


# -- suites through the data layer -------------------------------------------------------------


def test_missing_dataset_is_a_data_error() -> None:
    with pytest.raises(DataError, match="bash-ai data fetch nl2bash"):
        load_suite("nl2bash-dev")


def test_suites_read_the_fetched_splits(tmp_path: Path) -> None:
    fetch_dataset("nl2bash", write_nl2bash(tmp_path / "nl2bash", DEV_PAIRS))
    fetch_dataset("tldr", write_tldr(tmp_path / "tldr"))
    dev = load_suite("nl2bash-dev")
    assert [(e.request, e.reference) for e in dev] == DEV_PAIRS
    assert [e.reference for e in load_suite("nl2bash-test")] == ["date"]
    assert len(load_suite("nl2bash-dev", limit=2)) == 2
    holdout = load_suite("tldr-holdout")
    assert [e.request for e in holdout] == ["Encrypt a file with a passphrase", "Decrypt a file"]
    assert all(e.reference.startswith("age ") for e in holdout)


def test_the_shared_nl2bash_split_sizes(shared_data: Path) -> None:
    fetch_dataset("nl2bash", shared_data / "nl2bash")
    assert (len(load_suite("nl2bash-dev")), len(load_suite("nl2bash-test"))) == (779, 782)


def test_everyday_suites_are_bundled_disjoint_and_valid() -> None:
    """Our own everyday pairs: two disjoint splits, every reference valid bash (real ``bash -n``)
    with a program the metrics read, the README's requests in dev (we tune on them), and only a
    few (3 today: "show disk usage" among them, with another command) worded as a training request
    of the bundled model's retrieval index: the suite is not a copy of the training pairs."""
    import re

    from bash_ai.nlc2cmd import utility_flags
    from bash_ai.paths import bundled_model_dir
    from bash_ai.retrieval.index import load_index
    from bash_ai.safety.syntax import check_syntax_many

    dev, test = load_suite("everyday-dev"), load_suite("everyday-test")
    assert len(dev) >= 50 and len(test) >= 50 and len(load_suite("everyday-test", limit=3)) == 3
    requests = [e.request for e in dev + test]
    assert len(set(requests)) == len(requests) and len({e.id for e in dev + test}) == len(requests)
    assert all(result.ok for result in check_syntax_many([e.reference for e in dev + test]))
    assert all(utility_flags(e.reference) for e in dev + test)
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    shown = set(re.findall(r'^\$ bash-ai (?:-n \d+ |--run )?"([^"]+)"', readme, re.M))
    assert len(shown & set(requests)) >= 6 and shown & set(requests) <= {e.request for e in dev}
    index = load_index(bundled_model_dir())
    assert index is not None
    trained = {index.requests[i].strip().lower() for i in range(len(index.requests))}
    assert len(trained & {r.lower() for r in requests}) <= 3


def test_the_everyday_tuning_split_is_apart_from_dev_and_test() -> None:
    """everyday-tune, which a reranker may be fitted on: a few hundred valid pairs, no request of
    dev or test among them (case, spacing, a final stop), ids apart from theirs."""
    from bash_ai.nlc2cmd import utility_flags
    from bash_ai.safety.syntax import check_syntax_many
    from trainer.data.sources.howto import normalize

    tune, held_out = load_suite("everyday-tune"), load_suite("everyday-dev") + load_suite("everyday-test")
    assert len(tune) >= 200
    assert {normalize(e.request) for e in tune}.isdisjoint(normalize(e.request) for e in held_out)
    assert len({normalize(e.request) for e in tune}) == len(tune)
    assert {e.id for e in tune}.isdisjoint(e.id for e in held_out)
    assert all(result.ok for result in check_syntax_many([e.reference for e in tune]))
    assert all(utility_flags(e.reference) for e in tune)


def test_the_second_everyday_dev_split_is_apart_from_the_others_and_from_the_how_to_pairs() -> None:
    """everyday-dev2, a second split to decide on: a few hundred valid pairs, none a request of
    dev, test or tune, nor a request of bash-ai's how-to pairs that the index holds (case,
    spacing, a final stop), ids apart."""
    from bash_ai.nlc2cmd import utility_flags
    from bash_ai.safety.syntax import check_syntax_many
    from trainer.data.sources import howto
    from trainer.data.sources.howto import normalize

    dev2 = load_suite("everyday-dev2")
    others = load_suite("everyday-dev") + load_suite("everyday-test") + load_suite("everyday-tune")
    assert len(dev2) >= 250
    mine = [normalize(e.request) for e in dev2]
    assert len(set(mine)) == len(mine)
    assert set(mine).isdisjoint(normalize(e.request) for e in others)
    lines = (Path(howto.__file__).parent / howto.SHIPPED).read_text(encoding="utf-8").splitlines()
    assert len(lines) > 2000 and set(mine).isdisjoint(normalize(json.loads(line)["request"]) for line in lines)
    assert {e.id for e in dev2}.isdisjoint(e.id for e in others)
    assert all(result.ok for result in check_syntax_many([e.reference for e in dev2]))
    assert all(utility_flags(e.reference) for e in dev2)


def test_everyday_suite_scores_its_own_references_perfectly() -> None:
    examples = load_suite("everyday-dev")
    good = evaluate(FakeEngine(answers_from({e.request: e.reference for e in examples})), "everyday-dev", examples)
    assert good.metrics["exact_match"] == 1.0 and good.metrics["nlc2cmd"] == pytest.approx(1.0)
    bad = evaluate(FakeEngine(lambda request, i: "true"), "everyday-dev", examples)
    assert bad.metrics["exact_match"] == 0.0 and bad.metrics["nlc2cmd"] < 0


def test_overall_weights_by_examples_and_loss_by_bytes() -> None:
    engine = FakeEngine(lambda request, i: "ls")
    a = evaluate(engine, "nl2bash-dev", dev_examples()[:1])  # exact 1/1
    b = evaluate(engine, "nl2bash-test", dev_examples()[1:])  # exact 0/4
    both = overall([a, b])
    assert both["exact_match"] == pytest.approx(1 / 5)
    assert both["bits_per_byte"] == pytest.approx((a.nll_nats + b.nll_nats) / math.log(2) / (a.nll_bytes + b.nll_bytes))


# -- the exec suite (real bubblewrap sandbox) --------------------------------------------------


@pytest.mark.tool("bwrap")
def test_exec_suite_passes_reference_answers_and_fails_true() -> None:
    tasks = load_suite("exec")
    assert len(tasks) >= 10 and all(t.task is not None for t in tasks)
    references = {t.request: t.reference for t in tasks}
    good = evaluate(FakeEngine(answers_from(references)), "exec", tasks)
    assert good.metrics["pass_at_1"] == 1.0 and "pass_at_k" not in good.metrics
    bad = evaluate(FakeEngine(lambda request, i: "true"), "exec", tasks)
    assert bad.metrics["pass_at_1"] == 0.0
    assert all(not row["passed"][0] and row["details"][0] for row in bad.predictions)


@pytest.mark.tool("bwrap")
def test_exec_pass_at_k_counts_any_passing_candidate() -> None:
    tasks = load_suite("exec", limit=3)
    references = {t.request: t.reference for t in tasks}
    engine = FakeEngine(lambda request, i: references[request] if i == 2 else "true")
    result = evaluate(engine, "exec", tasks, candidates=3)
    assert result.metrics["pass_at_1"] == 0.0 and result.metrics["pass_at_k"] == 1.0
    assert [row["passed"] for row in result.predictions] == [[False, False, True]] * 3


@pytest.mark.tool("bwrap")
def test_exec_a_candidate_whose_judging_fails_scores_as_failed_and_the_run_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bash_ai.evaluation import tasks as task_module

    real = task_module.snapshot

    def fragile(directory: Path) -> dict[str, str]:
        if (directory / "BOOM").exists():  # what this candidate leaves makes the walk fail
            raise RecursionError("maximum recursion depth exceeded")
        return real(directory)

    monkeypatch.setattr(task_module, "snapshot", fragile)
    examples = load_suite("exec", limit=2)
    references = {t.request: t.reference for t in examples}
    engine = FakeEngine(lambda request, i: "touch BOOM" if i == 0 else references[request])
    result = evaluate(engine, "exec", examples, candidates=2)
    assert [row["passed"] for row in result.predictions] == [[False, True]] * 2
    assert all("judging failed (RecursionError" in row["details"][0] for row in result.predictions)


def test_exec_without_a_usable_sandbox_refuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on PATH
    ran: list[str] = []
    engine = FakeEngine(lambda request, i: ran.append(request) or "true")  # type: ignore[func-returns-value]
    with pytest.raises(SandboxError, match="bwrap"):
        evaluate(engine, "exec", load_suite("exec", limit=1))
    assert ran == []  # refused before generating anything


# -- the CLI -----------------------------------------------------------------------------------


def test_cli_unknown_suite_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(["eval", "--suite", "nl2bash-train"], capsys)
    assert run.code == 2 and "unknown suite" in one_error_line(run)


def test_cli_missing_dataset_exits_4(capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(["eval", "--suite", "tldr-holdout"], capsys)
    assert run.code == 4 and "bash-ai data fetch tldr" in one_error_line(run)


def test_cli_exec_without_sandbox_is_one_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    run = run_cli(["eval", "--suite", "exec"], capsys, monkeypatch=monkeypatch)
    assert run.code != 0 and "bubblewrap" in one_error_line(run)


@pytest.fixture
def nl2bash_fetched(tmp_path: Path) -> None:
    fetch_dataset("nl2bash", write_nl2bash(tmp_path / "nl2bash", DEV_PAIRS))


def test_cli_json_schema(
    nl2bash_fetched: None, tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    preds = tmp_path / "out" / "preds.jsonl"
    args = ["eval", "--suite", "nl2bash-dev", "--suite", "nl2bash-test", "--model", str(tiny_model_dir)]
    run = run_cli([*args, "-k", "2", "--json", "--predictions", str(preds), "--max-tokens", "8"], capsys)
    assert run.code == 0, run.err
    data = json.loads(run.out)
    assert list(data) == [tiny_model_dir.name]
    (model,) = data.values()
    assert [s["suite"] for s in model["suites"]] == ["nl2bash-dev", "nl2bash-test"]
    dev = model["suites"][0]
    assert (dev["examples"], dev["candidates"]) == (5, 2) and dev["seconds"] >= 0
    keys = {"exact_match", "template_match", "nlc2cmd", "nlc2cmd_top1", "syntax_valid", "danger_rate"}
    keys |= {"val_loss", "bits_per_byte", "nlc2cmd_official", "nlc2cmd_official_calibrated", "official_parseable"}
    keys |= {"nlc2cmd_official_readable", "argument_f1"}
    assert set(dev) == keys | {"suite", "examples", "candidates", "decode", "official_rules", "seconds"}
    assert dev["official_rules"] == "tables"  # no --official-grammar
    assert (
        set(model["overall"]) == keys
        and dev["decode"] == "beam 5 k=3 pool=12 alpha=0.6 relevance=4.0+1.0 consensus=4.0"
    )
    assert all(isinstance(dev[k], float) for k in keys)
    assert -1.0 <= dev["nlc2cmd"] <= 1.0 and dev["bits_per_byte"] > 0
    assert set(model) == {"suites", "overall"}  # deltas only with --compare
    rows = [json.loads(line) for line in preds.read_text().splitlines()]
    assert len(rows) == 6 and {r["suite"] for r in rows} == {"nl2bash-dev", "nl2bash-test"}
    assert all(len(r["predictions"]) == 2 and len(r["confidences"]) == 2 for r in rows)
    assert all(0 <= c <= 1 for r in rows for c in r["confidences"])
    assert all(r["reference"] and "nlc2cmd_official_calibrated" in r for r in rows)
    # The official rules with the model's confidences are the same rules, scaled per candidate.
    from bash_ai.evaluation.nlc2cmd_official import official_topk

    for r in rows:
        assert r["nlc2cmd_official"] == official_topk(r["predictions"], r["reference"])
        assert r["nlc2cmd_official_calibrated"] == official_topk(r["predictions"], r["reference"], r["confidences"])
    # The organisers' filter: the mean over the references the official rules read, and only those.
    readable = [r["nlc2cmd_official"] for r in rows if r["suite"] == "nl2bash-dev" and r["official_parseable"]]
    assert 0 < len(readable) < 5  # the fixture holds both kinds
    assert dev["nlc2cmd_official_readable"] == pytest.approx(sum(readable) / len(readable))
    # Argument F1 of the first candidate against the reference, over every example.
    from bash_ai.engine.arguments import argument_f1

    f1 = [argument_f1(r["predictions"][0], r["reference"]) for r in rows if r["suite"] == "nl2bash-dev"]
    assert dev["argument_f1"] == pytest.approx(sum(f1) / len(f1))
    assert "nl2bash-dev" in run.err and "bits per byte" in run.err  # the table is on stderr


def test_cli_official_grammar_reads_commands_by_the_users_file(
    nl2bash_fetched: None, tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from test_official_grammar import GRAMMAR

    from bash_ai.evaluation.nlc2cmd_official import official_topk, official_utility_flags
    from bash_ai.evaluation.official_grammar import parse_grammar

    grammar_file = tmp_path / "grammar.txt"
    grammar_file.write_text(GRAMMAR, encoding="utf-8")
    preds = tmp_path / "preds.jsonl"
    args = ["eval", "--suite", "nl2bash-dev", "--model", str(tiny_model_dir), "-k", "2", "--max-tokens", "8"]
    run = run_cli([*args, "--json", "--predictions", str(preds), "--official-grammar", str(grammar_file)], capsys)
    assert run.code == 0, run.err
    (dev,) = json.loads(run.out)[tiny_model_dir.name]["suites"]
    assert dev["official_rules"] == "grammar"
    grammar = parse_grammar(GRAMMAR)
    rows = [json.loads(line) for line in preds.read_text(encoding="utf-8").splitlines()]
    for r in rows:
        assert r["nlc2cmd_official"] == official_topk(r["predictions"], r["reference"], None, grammar)
        assert r["official_parseable"] == (official_utility_flags(r["reference"], grammar) is not None)
    assert dev["official_parseable"] == pytest.approx(sum(r["official_parseable"] for r in rows) / len(rows))
    # The small grammar knows a dozen utilities: the file, not our tables, decided.
    assert sum(r["official_parseable"] for r in rows) < sum(
        official_utility_flags(r["reference"]) is not None for r in rows
    )
    missing = run_cli([*args, "--official-grammar", str(tmp_path / "nope.txt")], capsys)
    assert missing.code == 2
    assert one_error_line(missing).startswith("bash-ai: error: cannot read the official grammar")


def test_cli_compare_prints_deltas(
    nl2bash_fetched: None,
    tiny_model_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fixtures_model import build_random_model

    other = build_random_model(tmp_path / "other", seed=1)
    monkeypatch.setenv("COLUMNS", "200")
    args = ["eval", "--compare", str(tiny_model_dir), str(other), "--limit", "3", "--max-tokens", "8", "--json"]
    run = run_cli(args, capsys, monkeypatch=monkeypatch)
    assert run.code == 0, run.err
    data = json.loads(run.out)
    first, second = data.values()
    assert second["compared_to"] == tiny_model_dir.name and "deltas" not in first
    a, b = first["suites"][0], second["suites"][0]
    deltas = second["deltas"]["suites"]["nl2bash-dev"]
    assert deltas == pytest.approx({k: b[k] - a[k] for k in deltas})
    assert set(deltas) == set(first["overall"])
    assert deltas["bits_per_byte"] != 0  # different weights: different losses
    assert a["examples"] == 3
    assert "B - A" in run.err
    assert f"{deltas['bits_per_byte']:+.3f}" in run.err


def test_cli_unknown_matmul_is_one_error_line(capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(["eval", "--matmul", "int4"], capsys)
    assert run.code == 2 and "unknown --matmul 'int4'" in one_error_line(run)


def test_cli_bf16_matmuls_are_named_in_the_label(
    nl2bash_fetched: None, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("torch")
    args = ["eval", "--suite", "nl2bash-dev", "--model", str(tiny_model_dir), "--json", "--max-tokens", "8"]
    run = run_cli([*args, "--matmul", "bf16"], capsys)
    assert run.code == 0, run.err
    assert list(json.loads(run.out)) == [f"{tiny_model_dir.name} bf16"]


def test_cli_rejects_model_with_compare(capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(["eval", "--model", "a", "--compare", "b", "c", "--suite", "exec"], capsys)
    assert run.code == 2 and "--compare" in one_error_line(run)


def test_eval_is_registered() -> None:
    from bash_ai.cli.app import COMMANDS

    assert "eval" in COMMANDS


def test_bm25_and_beam_decoders_on_a_model_with_an_index(
    nl2bash_fetched: None, tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """bm25 answers with the nearest indexed commands (no model); beam pools them with its beams."""
    import shutil

    from bash_ai.retrieval import INDEX_FILE, RetrievalIndex

    model = tmp_path / "with-index"
    shutil.copytree(tiny_model_dir, model)
    RetrievalIndex.build([(r, c, "test") for r, c in DEV_PAIRS]).save(model / INDEX_FILE)
    args = ["eval", "--suite", "nl2bash-dev", "--model", str(model), "--max-tokens", "8", "--json"]
    bm25 = json.loads(run_cli([*args, "--decode", "bm25"], capsys).out)[model.name]["suites"][0]
    assert bm25["decode"] == "bm25" and bm25["exact_match"] == 1.0 and bm25["nlc2cmd"] == 1.0, bm25
    # One beam of a random model plus the nearest command: the top 2 always hold the reference.
    beam = json.loads(run_cli([*args, "-k", "5", "--beam-width", "1", "--pool", "1"], capsys).out)
    suite = beam[model.name]["suites"][0]
    assert suite["nlc2cmd"] == 1.0 and suite["decode"] == "beam 1 k=3 pool=1 alpha=0.6 relevance=4.0+1.0 consensus=4.0"
    run = run_cli([*args, "--decode", "greedy"], capsys)
    assert run.code == 2 and "unknown decoding" in one_error_line(run)


def test_eval_reports_how_often_the_bundled_model_is_unsure_and_how_those_answers_score(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``unsure_rate``, ``top1_sure`` and ``top1_unsure`` agree with the predictions file's ``sure``
    per request; the threshold moves them; the two partial means stay out of the overall figures."""
    out = tmp_path / "predictions.jsonl"
    args = ["eval", "--suite", "everyday-dev", "--limit", "8", "-k", "3", "--json", "--predictions", str(out)]
    doc = json.loads(run_cli([*args, "--unsure-below", "2.0"], capsys).out)
    (result,) = doc.values()
    suite = result["suites"][0]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    sure = [r for r in rows if r["sure"]]
    unsure = [r for r in rows if r["sure"] is False]
    assert sure and unsure and len(sure) + len(unsure) == len(rows) == 8
    assert suite["unsure_rate"] == pytest.approx(len(unsure) / 8)
    assert suite["top1_sure"] == pytest.approx(np.mean([r["nlc2cmd_top1"] for r in sure]))
    assert suite["top1_unsure"] == pytest.approx(np.mean([r["nlc2cmd_top1"] for r in unsure]))
    assert "unsure_rate" in result["overall"] and "top1_sure" not in result["overall"]
    never = json.loads(run_cli([*args, "--unsure-below", "-100"], capsys).out)
    assert next(iter(never.values()))["suites"][0]["unsure_rate"] == 0.0
    bm25 = json.loads(run_cli([*args, "--decode", "bm25"], capsys).out)
    assert "unsure_rate" not in next(iter(bm25.values()))["suites"][0]  # nothing ranked by the reranker
