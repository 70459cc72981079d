"""Run a model over an evaluation suite and score it.

Suites:
- ``nl2bash-dev`` / ``nl2bash-test``: NL2Bash's fixed dev/test split (dataset ``nl2bash``).
- ``tldr-holdout``: the tldr pages the data layer never trains on (dataset ``tldr``).
- ``everyday-dev`` / ``everyday-test``: short everyday requests as users type them ("show disk
  usage"), each with one canonical command (``everyday.json``, written for bash-ai; bundled).
  ``everyday-tune``: more of them, written apart from both, that a reranker may be fitted on, so
  that everyday-dev stays a held-out split to decide on; ``everyday-dev2``: 267 more, written apart
  from all three and from bash-ai's how-to pairs, a second split to decide on (dev's 65 requests
  cannot tell close variants apart).
- ``explain``: ``tldr-holdout`` the other way round: each command explained (``bash-ai explain``),
  its parts' man page coverage and its summary's ROUGE-L against the page's description.
- ``exec``: the curated execution tasks (``tasks.json``); each candidate runs in the bubblewrap
  sandbox and passes when its effect matches the reference's.

How candidates are made (``Decoder``), each an ablation row of docs/benchmarks.md:
- ``beam`` (default, what the CLI answers with): the request with its retrieved examples, beam
  search, the nearest training commands joining the pool, ranked by the model, syntax-valid first
  (``bash_ai.answer.propose_checked``). Deterministic.
- ``sample``: candidate 1 greedy, 2..K sampled (temperature 0.8, top-p 0.95, seed = the example's
  index), with ``retrieval_k`` examples in the prompt (0: the model alone).
- ``bm25``: no model at all: the commands of the K nearest training requests.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from bash_ai.errors import DataError, SandboxError, UsageError, check_range

if TYPE_CHECKING:
    from bash_ai.engine import Finished, SamplingParams
    from bash_ai.engine.engine import Engine
    from bash_ai.engine.propose import DecodeConfig
    from bash_ai.engine.rerank import Reranker
    from bash_ai.evaluation.official_grammar import Grammar
    from bash_ai.evaluation.tasks import ExecTask
    from bash_ai.retrieval import Neighbor, RetrievalIndex

EXEC = "exec"
EXPLAIN = "explain"  # tldr-holdout read the other way: the command in, its description the target
# suite -> (dataset, split) for the suites read from fetched datasets.
DATASET_SUITES: dict[str, tuple[str, str]] = {
    "nl2bash-dev": ("nl2bash", "dev"),
    "nl2bash-test": ("nl2bash", "test"),
    "tldr-holdout": ("tldr", "holdout"),
}
# suite -> split of the everyday pairs bundled with bash-ai (``everyday.json``).
EVERYDAY_SUITES: dict[str, str] = {
    "everyday-dev": "dev",
    "everyday-test": "test",
    "everyday-tune": "tune",
    "everyday-dev2": "dev2",
}
SUITES: tuple[str, ...] = (*DATASET_SUITES, *EVERYDAY_SUITES, EXEC, EXPLAIN)

# Every metric a suite may report, in display order. A suite reports only those that apply.
METRICS: dict[str, str] = {
    "exact_match": "exact match",
    "template_match": "template match",
    "argument_f1": "argument F1 (top-1)",
    "nlc2cmd": "NLC2CMD score",
    "nlc2cmd_top1": "NLC2CMD score (top-1)",
    "nlc2cmd_official": "NLC2CMD, official rules",
    "nlc2cmd_official_calibrated": "NLC2CMD, official rules, model confidences",
    "official_parseable": "references the official parser reads",
    "nlc2cmd_official_readable": "NLC2CMD, official rules, readable references only",
    "unsure_rate": "first answers marked unsure",
    "top1_sure": "NLC2CMD score (top-1), answers marked sure",
    "top1_unsure": "NLC2CMD score (top-1), answers marked unsure",
    "pass_at_1": "exec pass@1",
    "pass_at_k": "exec pass@K",
    "syntax_valid": "syntax valid (bash -n)",
    "danger_rate": "danger-flag rate",
    "val_loss": "val loss (nats/token)",
    "bits_per_byte": "bits per byte",
    "programs_man": "programs described by a man page",
    "programs_described": "programs described (man, tldr or builtin)",
    "options_man": "options described by a man page",
    "rouge_l": "summary ROUGE-L (as explain answers)",
    "rouge_l_model": "summary ROUGE-L, the model's",
    "rouge_l_retrieval": "summary ROUGE-L, nearest training pair",
    "rouge_l_parts": "summary ROUGE-L, from the man pages' words",
}
LOWER_IS_BETTER = frozenset({"danger_rate", "val_loss", "bits_per_byte"})
# Means over a part of a suite's examples (those marked sure, or unsure): no mean across suites.
PARTIAL = frozenset({"top1_sure", "top1_unsure"})

SAMPLE_TEMPERATURE = 0.8
SAMPLE_TOP_P = 0.95
NLL_BATCH = 16  # reference sequences per forward pass of the teacher-forced loss
EXEC_TIMEOUT = 5.0  # seconds per sandboxed run


Strategy = Literal["beam", "sample", "bm25"]
STRATEGIES: tuple[str, ...] = ("beam", "sample", "bm25")


@dataclass(frozen=True)
class Decoder:
    """How the evaluation answers; ``config`` holds retrieval k, beam width, pool and alpha."""

    strategy: Strategy = "beam"
    config: DecodeConfig = field(default_factory=lambda: _default_config())

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise UsageError(f"unknown decoding {self.strategy!r}; choose one of: {', '.join(STRATEGIES)}")

    def describe(self, reranker: bool = False) -> str:
        """How the candidates are made; ``reranker``: the model has a trained reranker (then it
        ranks, unless ``--no-rerank``, and the hand-set weights do not apply)."""
        c = self.config
        if self.strategy == "bm25":
            return "bm25"
        if self.strategy == "sample":
            return f"sample k={c.retrieval_k}"
        adapted = "" if c.adapt_beams else " no-adapt-beams"
        if reranker and c.rerank:
            review = f" reviewer={c.reviewer}" if c.reviewer else ""
            same = "" if c.distinct else " no-distinct"
            cover = f" cover={c.cover_temperature}" if c.cover_temperature else ""
            missing = f" missing={c.missing_penalty}" if c.missing_penalty else ""
            agree = f" consensus={c.rerank_consensus}" if c.rerank_consensus else ""
            unreviewed = "" if c.review else " no-review"
            written = f" structure-beams={c.structure_beams}" if c.structure_beams is not None else ""
            return (
                f"beam {c.beam_width} k={c.retrieval_k} pool={c.pool} trained reranker{agree}{cover}{missing}{review}"
                f"{same}{adapted}{unreviewed}{written}"
            )
        rank = f" relevance={c.retrieval_weight}+{c.retrieval_bonus}" if c.retrieval_weight or c.retrieval_bonus else ""
        review = f" reviewer={c.reviewer}" if c.reviewer else ""
        agree = f" consensus={c.consensus}" if c.consensus else ""
        same = "" if c.distinct else " no-distinct"
        trained = "" if c.rerank else " no-rerank"
        return (
            f"beam {c.beam_width} k={c.retrieval_k} pool={c.pool} alpha={c.alpha}{rank}{review}{agree}{same}{trained}"
            f"{adapted}"
        )


def _default_config() -> DecodeConfig:
    from bash_ai.engine.propose import DecodeConfig

    return DecodeConfig()


class EvalEngine(Protocol):
    """What the evaluation needs from ``bash_ai.engine.Engine`` (fakes in tests implement this)."""

    name: str
    eot_id: int
    retrieval_k: int

    @property
    def reranker(self) -> Reranker | None: ...  # the model's trained reranker, if it has one

    @property
    def context_length(self) -> int: ...

    def task_ids(self, task: Any, text: str) -> list[int]: ...

    def encode_text(self, text: str) -> list[int]: ...

    def continuation_logprobs(self, pairs: Sequence[tuple[Sequence[int], Sequence[int]]]) -> list[float]: ...

    def ask(self, request: str, params: SamplingParams | None = None, n: int = 1) -> list[Finished]: ...

    def neighbors(self, request: str, k: int | None = None, *, lexicon: bool = True) -> list[Neighbor]: ...

    def ask_ids(self, request: str, neighbors: Sequence[Neighbor] = (), reserve: int = 96) -> list[int]: ...

    @property
    def index(self) -> RetrievalIndex | None: ...


@dataclass(frozen=True)
class Example:
    request: str
    reference: str
    id: str = ""
    task: ExecTask | None = None  # set for the exec suite


@dataclass
class SuiteResult:
    suite: str
    model: str
    examples: int
    candidates: int
    metrics: dict[str, float]  # only the metrics that apply to this suite
    seconds: float
    # Loss totals, so an overall loss is per token and per byte rather than per example.
    nll_nats: float = 0.0
    nll_tokens: int = 0
    nll_bytes: int = 0
    predictions: list[dict[str, Any]] = field(default_factory=list, repr=False)
    decode: str = ""  # ``Decoder.describe()``: how the candidates were made
    official_rules: str = ""  # the official figures' reading of commands: "grammar" (the user's file) or "tables"


def check_suite(name: str) -> None:
    if name not in SUITES:
        raise UsageError(f"unknown suite {name!r}; choose one of: {', '.join(SUITES)}")


def exec_examples() -> list[Example]:
    """The exec suite: tasks bundled with bash-ai (the other suites are datasets the trainer's
    store holds: ``trainer.data.suites.load_suite``)."""
    from bash_ai.evaluation.tasks import load_tasks

    return [Example(t.request, t.reference, t.id, t) for t in load_tasks()]


def everyday_examples(split: str) -> list[Example]:
    """One split (``dev``, ``test``, ``tune`` or ``dev2``) of the everyday pairs bundled with bash-ai, in file order."""
    import json
    from importlib.resources import files

    try:
        data = json.loads(files("bash_ai.evaluation").joinpath("everyday.json").read_text(encoding="utf-8"))
        pairs = [(p["request"], p["reference"], p["split"]) for p in data["pairs"]]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DataError(f"cannot read the everyday pairs: {exc}") from exc
    return [Example(r, c, f"everyday-{i}") for i, (r, c, s) in enumerate(pairs) if s == split]


def reference_nll(engine: EvalEngine, examples: Sequence[Example]) -> list[tuple[float, int, int] | None]:
    """Teacher-forced NLL of each reference command and its end marker, given the request.

    Per example: (nats, target tokens, target bytes), the end marker counting as one byte; bytes
    make the figure comparable across tokenizers. ``None`` when the reference alone does not fit
    the context. Sequences are right-padded into batches: causal attention keeps a row's real
    positions blind to its padding.
    """
    ctx = engine.context_length
    pairs: dict[int, tuple[list[int], list[int]]] = {}
    for i, ex in enumerate(examples):
        target = engine.encode_text(ex.reference) + [engine.eot_id]
        if len(target) < ctx:
            prompt = engine.ask_ids(ex.request, engine.neighbors(ex.request), reserve=len(target))
            pairs[i] = (prompt[-(ctx - len(target)) :], target)  # a long request loses its start
    out: list[tuple[float, int, int] | None] = [None] * len(examples)
    order = sorted(pairs, key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))  # batches of like lengths
    for start in range(0, len(order), NLL_BATCH):
        rows = order[start : start + NLL_BATCH]
        for i, logprob in zip(rows, engine.continuation_logprobs([pairs[i] for i in rows]), strict=True):
            out[i] = (-logprob, len(pairs[i][1]), len(examples[i].reference.encode("utf-8")) + 1)
    return out


def _answers(
    engine: EvalEngine, request: str, index: int, candidates: int, max_tokens: int, decoder: Decoder
) -> tuple[list[str], list[float], bool | None]:
    """The candidates for one request, best first, a confidence in [0, 1] for each, and whether the
    first is marked sure (``Candidate.sure``; None where no reranker ranked it)."""
    if decoder.strategy == "bm25":
        hits = engine.neighbors(request, candidates, lexicon=False)  # BM25 alone
        if not hits:
            return [""], [0.0], None
        best = max(hits[0].score, 1e-9)  # a hit's confidence: its BM25 score relative to the best's
        return [n.command for n in hits], [min(1.0, max(0.0, n.score / best)) for n in hits], None
    if decoder.strategy == "beam":
        from bash_ai.answer import propose_checked

        config = decoder.config.replace(max_tokens=max_tokens)
        checked = propose_checked(_full(engine, "beam decoding"), request, config)[:candidates]
        if not checked:
            return [""], [0.0], None
        return [c.text for c in checked], [c.confidence for c in checked], checked[0].sure
    engine.retrieval_k = decoder.config.retrieval_k
    texts = _sampled(engine, request, index, candidates, max_tokens)
    return texts, [1.0] * len(texts), None


def _full(engine: EvalEngine, what: str) -> Engine:
    """The engine as the answer path needs it: the whole ``Engine`` (test fakes stop at ``EvalEngine``)."""
    from bash_ai.engine.engine import Engine

    if not isinstance(engine, Engine):
        raise UsageError(f"{what} needs a loaded bash-ai model, not a {type(engine).__name__}")
    return engine


def _sampled(engine: EvalEngine, request: str, index: int, candidates: int, max_tokens: int) -> list[str]:
    from bash_ai.engine import SamplingParams

    greedy = SamplingParams(temperature=0.0, max_tokens=max_tokens)
    answers = [f.text.strip() for f in engine.ask(request, greedy)][:1] or [""]
    if candidates > 1:
        sampled = SamplingParams(temperature=SAMPLE_TEMPERATURE, top_p=SAMPLE_TOP_P, max_tokens=max_tokens, seed=index)
        answers += [f.text.strip() for f in engine.ask(request, sampled, n=candidates - 1)]
    return answers


def check_options(candidates: int, max_tokens: int) -> None:
    from bash_ai.engine import MAX_CANDIDATES

    check_range("--candidates", candidates, 1, MAX_CANDIDATES + 1)
    if max_tokens < 1:
        raise UsageError(f"--max-tokens must be at least 1 (got {max_tokens})")


def _rate(values: Sequence[bool | float]) -> float:
    return float(sum(values)) / len(values) if values else math.nan


def _sureness(rows: Sequence[dict[str, Any]], score: str | None = None) -> dict[str, float]:
    """The share of first answers marked unsure and, with a ``score`` key of the rows, its mean
    over the sure and the unsure ones; nothing where no answer was marked (no reranker)."""
    marked = [r for r in rows if r.get("sure") is not None]
    if not marked:
        return {}
    out = {"unsure_rate": _rate([not r["sure"] for r in marked])}
    if score is not None:
        out["top1_sure"] = _rate([r[score] for r in marked if r["sure"]])
        out["top1_unsure"] = _rate([r[score] for r in marked if not r["sure"]])
    return out


Judge = Callable[[Example, list[str], list[float]], dict[str, Any]]


def _answer_all(
    engine: EvalEngine,
    examples: Sequence[Example],
    candidates: int,
    max_tokens: int,
    judge: Judge,
    progress: Callable[[int, int], None] | None,
    decoder: Decoder,
) -> list[dict[str, Any]]:
    """One row per example: its candidates, what ``judge`` says of them, and the top-1 answer's
    danger flags and ``bash -n`` verdict (checked as one concurrent batch at the end)."""
    from bash_ai.safety import assess, check_syntax_many

    rows: list[dict[str, Any]] = []
    for i, ex in enumerate(examples):
        preds, confidences, sure = _answers(engine, ex.request, i, candidates, max_tokens, decoder)
        confidences = [round(c, 6) for c in confidences]  # as the predictions file has them
        row: dict[str, Any] = {
            "id": ex.id,
            "request": ex.request,
            "reference": ex.reference,
            "predictions": preds,
            "confidences": confidences,
            "sure": sure,
        }
        rows.append(row | judge(ex, preds, confidences) | {"dangerous": bool(assess(preds[0]))})
        if progress is not None:
            progress(i + 1, len(examples))
    for row, syntax in zip(rows, check_syntax_many([r["predictions"][0] for r in rows]), strict=True):
        row["syntax_ok"] = syntax.ok
    return rows


def evaluate(
    engine: EvalEngine,
    suite: str,
    examples: Sequence[Example],
    candidates: int = 1,
    max_tokens: int = 96,
    progress: Callable[[int, int], None] | None = None,
    decoder: Decoder | None = None,
    official_grammar: Grammar | None = None,
) -> SuiteResult:
    """Generate for every example and score the answers (the exec suite runs them sandboxed).
    ``official_grammar``: the user's copy of the official NLC2CMD grammar, for the official
    figures (without it they follow our own tables, a close approximation)."""
    check_suite(suite)
    check_options(candidates, max_tokens)
    decoder = decoder if decoder is not None else Decoder()
    engine.retrieval_k = decoder.config.retrieval_k  # the prompt of the loss figures, too
    if not examples:
        raise UsageError(f"suite {suite} has no examples to evaluate")
    if suite == EXEC:
        return _evaluate_exec(engine, examples, candidates, max_tokens, progress, decoder)
    if suite == EXPLAIN:
        return _evaluate_explain(engine, examples, max_tokens, progress)
    from bash_ai.engine.arguments import argument_f1
    from bash_ai.evaluation import exact_match, nlc2cmd_topk, template_match
    from bash_ai.evaluation.nlc2cmd_official import official_topk, official_utility_flags

    def judge(ex: Example, preds: list[str], confidences: list[float]) -> dict[str, Any]:
        return {
            "exact": exact_match(preds[0], ex.reference),
            "template": template_match(preds[0], ex.reference),
            "arguments": argument_f1(preds[0], ex.reference),
            "nlc2cmd": nlc2cmd_topk(preds, ex.reference),
            "nlc2cmd_top1": nlc2cmd_topk(preds[:1], ex.reference),
            "nlc2cmd_official": official_topk(preds, ex.reference, None, official_grammar),
            "nlc2cmd_official_calibrated": official_topk(preds, ex.reference, confidences, official_grammar),
            "official_parseable": official_utility_flags(ex.reference, official_grammar) is not None,
        }

    start = time.perf_counter()
    rows = _answer_all(engine, examples, candidates, max_tokens, judge, progress, decoder)
    losses = reference_nll(engine, examples)
    for row, loss in zip(rows, losses, strict=True):
        row["nll_nats"] = None if loss is None else loss[0]
    kept = [loss for loss in losses if loss is not None]
    nats, tokens, nbytes = (sum(loss[k] for loss in kept) for k in range(3))
    metrics = {
        "exact_match": _rate([r["exact"] for r in rows]),
        "template_match": _rate([r["template"] for r in rows]),
        "argument_f1": _rate([r["arguments"] for r in rows]),
        "nlc2cmd": _rate([r["nlc2cmd"] for r in rows]),
        "nlc2cmd_top1": _rate([r["nlc2cmd_top1"] for r in rows]),
        "nlc2cmd_official": _rate([r["nlc2cmd_official"] for r in rows]),
        "nlc2cmd_official_calibrated": _rate([r["nlc2cmd_official_calibrated"] for r in rows]),
        "official_parseable": _rate([r["official_parseable"] for r in rows]),
        # As the organisers scored: their data held only references their parser reads.
        "nlc2cmd_official_readable": _rate([r["nlc2cmd_official"] for r in rows if r["official_parseable"]]),
        "syntax_valid": _rate([r["syntax_ok"] for r in rows]),
        "danger_rate": _rate([r["dangerous"] for r in rows]),
        "val_loss": nats / tokens if tokens else math.nan,
        "bits_per_byte": nats / (math.log(2) * nbytes) if nbytes else math.nan,
    } | _sureness(rows, "nlc2cmd_top1")
    totals = {"nll_nats": float(nats), "nll_tokens": int(tokens), "nll_bytes": int(nbytes)}
    decode = decoder.describe(engine.reranker is not None)
    result = _result(suite, engine, rows, candidates, metrics, start, decode, **totals)
    result.official_rules = "grammar" if official_grammar is not None else "tables"
    return result


def _evaluate_explain(
    engine: EvalEngine,
    examples: Sequence[Example],
    max_tokens: int,
    progress: Callable[[int, int], None] | None,
) -> SuiteResult:
    """Each example's command explained: man page coverage of its parts, and its summary against
    the example's description (ROUGE-L), beside the model's own and the nearest training pair's."""
    from bash_ai.answer import model_sentence, nearest_pair, pick_summary
    from bash_ai.breakdown import breakdown
    from bash_ai.engine import SamplingParams
    from bash_ai.evaluation.rouge import rouge_l

    full = _full(engine, "the explain suite")
    greedy = SamplingParams(temperature=0.0, max_tokens=max_tokens)
    start = time.perf_counter()
    rows: list[dict[str, Any]] = []
    programs = options = programs_man = programs_described = options_man = 0
    for i, ex in enumerate(examples):
        command, target = ex.reference, ex.request
        parts = breakdown(command)
        progs = [p for p in parts if p.kind == "program"]
        opts = [p for p in parts if p.kind == "option"]
        programs, options = programs + len(progs), options + len(opts)
        programs_man += sum(p.source == "man" for p in progs)
        programs_described += sum(p.source in ("man", "tldr", "fixed") for p in progs)
        options_man += sum(p.source == "man" for p in opts)
        # Each source asked once; every strategy then picks from the same answers.
        hit = nearest_pair(full, command)
        model_text = model_sentence(full, command, greedy)
        nearest = pick_summary(command, "retrieval", parts, hit, model_text)[0] if engine.index else ""
        composed = pick_summary(command, "parts", parts, hit, model_text)[0]
        shipped, source = pick_summary(command, "auto", parts, hit, model_text)
        rows.append(
            {
                "id": ex.id,
                "request": command,
                "reference": target,
                "predictions": [shipped],
                "summary_source": source,
                "model": model_text,
                "retrieval": nearest,
                "parts_summary": composed,
                "rouge_l": rouge_l(shipped, target),
                "rouge_l_model": rouge_l(model_text, target),
                "rouge_l_retrieval": rouge_l(nearest, target),
                "rouge_l_parts": rouge_l(composed, target),
                "parts": [p.to_json() for p in parts],
            }
        )
        if progress is not None:
            progress(i + 1, len(examples))
    metrics = {
        "programs_man": programs_man / programs if programs else math.nan,
        "programs_described": programs_described / programs if programs else math.nan,
        "options_man": options_man / options if options else math.nan,
        "rouge_l": _rate([r["rouge_l"] for r in rows]),
        "rouge_l_model": _rate([r["rouge_l_model"] for r in rows]),
        "rouge_l_retrieval": _rate([r["rouge_l_retrieval"] for r in rows]),
        "rouge_l_parts": _rate([r["rouge_l_parts"] for r in rows]),
    }
    return _result(EXPLAIN, engine, rows, 1, metrics, start, "explain")


def _evaluate_exec(
    engine: EvalEngine,
    examples: Sequence[Example],
    candidates: int,
    max_tokens: int,
    progress: Callable[[int, int], None] | None,
    decoder: Decoder,
) -> SuiteResult:
    """Each candidate runs in a fresh sandboxed copy of its task; never outside the sandbox."""
    from bash_ai.evaluation.sandbox import ensure_sandbox
    from bash_ai.evaluation.tasks import run_task

    tasks = {ex.id: ex.task for ex in examples if ex.task is not None}
    if len(tasks) != len(examples):
        raise UsageError("every exec suite example needs its task (and a distinct id); use exec_examples()")
    ensure_sandbox()  # SandboxError before any generation when bwrap is unusable

    def verdict(task: Any, command: str) -> tuple[bool, str]:
        try:
            found = run_task(task, command, timeout=EXEC_TIMEOUT)
        except (SandboxError, DataError):
            raise  # the sandbox or the task is broken: no verdict means anything
        except Exception as exc:  # what one candidate left behind must not end the run
            return False, f"judging failed ({type(exc).__name__}: {exc})"
        return found.passed, found.details

    def judge(ex: Example, preds: list[str], confidences: list[float]) -> dict[str, Any]:
        verdicts = {p: verdict(tasks[ex.id], p) for p in dict.fromkeys(preds)}
        return {"passed": [verdicts[p][0] for p in preds], "details": [verdicts[p][1] for p in preds]}

    start = time.perf_counter()
    rows = _answer_all(engine, examples, candidates, max_tokens, judge, progress, decoder)
    metrics = {"pass_at_1": _rate([r["passed"][0] for r in rows])}
    if candidates > 1:
        metrics["pass_at_k"] = _rate([any(r["passed"]) for r in rows])
    metrics |= {
        "syntax_valid": _rate([r["syntax_ok"] for r in rows]),
        "danger_rate": _rate([r["dangerous"] for r in rows]),
    } | _sureness(rows)
    return _result(EXEC, engine, rows, candidates, metrics, start, decoder.describe(engine.reranker is not None))


def _result(
    suite: str,
    engine: EvalEngine,
    rows: list[dict[str, Any]],
    candidates: int,
    metrics: dict[str, float],
    start: float,
    decode: str,
    **loss: Any,
) -> SuiteResult:
    """A suite's result: its rows, metrics and decoding, timed from ``start`` (``time.perf_counter``)."""
    seconds = time.perf_counter() - start
    return SuiteResult(
        suite, engine.name, len(rows), candidates, metrics, seconds, predictions=rows, decode=decode, **loss
    )


def overall(results: Sequence[SuiteResult]) -> dict[str, float]:
    """One model's figures across suites: example-weighted means over the suites that report a
    metric; the loss per token and bits per byte from the summed totals."""
    out: dict[str, float] = {}
    for key in METRICS:
        having = [r for r in results if key in r.metrics]
        if not having or key in PARTIAL:
            continue
        if key == "val_loss":
            tokens = sum(r.nll_tokens for r in having)
            out[key] = sum(r.nll_nats for r in having) / tokens if tokens else math.nan
        elif key == "bits_per_byte":
            nbytes = sum(r.nll_bytes for r in having)
            out[key] = sum(r.nll_nats for r in having) / (math.log(2) * nbytes) if nbytes else math.nan
        else:
            total = sum(r.examples for r in having)
            out[key] = sum(r.metrics[key] * r.examples for r in having) / total
    return out


def deltas(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    """``b - a`` for every metric both report."""
    return {k: b[k] - a[k] for k in METRICS if k in a and k in b}
