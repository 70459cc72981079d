"""``bash-ai eval``: score a model (or compare two) on the evaluation suites.

The table goes to stderr; ``--json`` puts the figures on stdout (schema: ``_payload``, and
``docs/benchmarks.md``, section Evaluation).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from bash_ai.evaluation.runner import SuiteResult

Opt = typer.Option


def register(app: typer.Typer) -> None:
    app.command("eval", help="Measure how good a model's commands are.")(eval_command)


def eval_command(
    suite: Annotated[
        list[str] | None,
        Opt(
            "--suite",
            help="nl2bash-dev | nl2bash-test | tldr-holdout | everyday-dev | everyday-test | everyday-tune | everyday-dev2 | exec | "
            "explain (repeatable)",
        ),
    ] = None,
    model: Annotated[
        str | None, Opt("--model", "-m", help="Model name or directory (default: the default model)")
    ] = None,
    candidates: Annotated[int, Opt("--candidates", "-k", help="Candidates per request: NLC2CMD top-K, pass@K")] = 1,
    limit: Annotated[int | None, Opt("--limit", help="Only the first N examples of each suite")] = None,
    compare: Annotated[
        tuple[str, str] | None, Opt("--compare", help="Compare two models: --compare A B (deltas are B - A)")
    ] = None,
    max_tokens: Annotated[int, Opt("--max-tokens", help="Most tokens per generated command")] = 96,
    as_json: Annotated[bool, Opt("--json", help="Machine-readable results on stdout")] = False,
    predictions: Annotated[Path | None, Opt("--predictions", help="Write per-example predictions (JSONL) here")] = None,
    decode: Annotated[str, Opt("--decode", help="beam (as the CLI answers) | sample | bm25 (no model)")] = "beam",
    retrieval_k: Annotated[int, Opt("--retrieval-k", help="Retrieved examples in the prompt (0: none)")] = 3,
    beam_width: Annotated[int, Opt("--beam-width", help="Beams (at least --candidates)")] = 5,
    pool: Annotated[int, Opt("--pool", help="Nearest training commands joining the beam candidates")] = 12,
    alpha: Annotated[float, Opt("--alpha", help="Length penalty of the ranking")] = 0.6,
    reviewer: Annotated[float, Opt("--reviewer", help="Weight of log p(request | command) in the ranking")] = 0.0,
    retrieval_weight: Annotated[
        float, Opt("--retrieval-weight", help="Weight of a retrieved command's BM25 relevance in the ranking")
    ] = 4.0,
    retrieval_bonus: Annotated[
        float, Opt("--retrieval-bonus", help="Added to the score of a retrieved command no beam produced")
    ] = 1.0,
    consensus: Annotated[
        float, Opt("--consensus", help="Weight of the agreement with the other candidates (MBR) in the ranking")
    ] = 4.0,
    distinct: Annotated[
        bool, Opt("--distinct/--no-distinct", help="Drop candidates differing from a better one only in arguments")
    ] = True,
    rerank: Annotated[
        bool, Opt("--rerank/--no-rerank", help="Rank with the model's trained reranker when it has one")
    ] = True,
    review: Annotated[
        bool,
        Opt(
            "--review/--no-review",
            help="With a reranker that has a review stage: re-rank its best by p(request | command)",
        ),
    ] = True,
    cover: Annotated[
        float,
        Opt("--cover", help="Temperature of the answers after the first chosen to cover the pool (0: reranker order)"),
    ] = 0.3,
    missing_penalty: Annotated[
        float,
        Opt(
            "--missing-penalty",
            help="Taken from the reranker's score of a candidate naming a program this machine lacks (0: off)",
        ),
    ] = 0.5,
    rerank_consensus: Annotated[
        float,
        Opt(
            "--rerank-consensus",
            help="With the reranker: weight of the agreement with the other candidates before the first is chosen",
        ),
    ] = 1.0,
    unsure_below: Annotated[
        float | None,
        Opt(
            "--unsure-below",
            help="With the reranker: a first answer it scores below this is marked unsure (the unsure_rate, "
            "top1_sure and top1_unsure figures; default: the reranker's own, else 0.5)",
        ),
    ] = None,
    adapt_beams: Annotated[
        bool,
        Opt(
            "--adapt-beams/--no-adapt-beams",
            help="Swap a beam's copied files, paths and URLs for the ones the request names",
        ),
    ] = True,
    structure_beams: Annotated[
        int | None,
        Opt(
            "--structure-beams",
            help="With a structure model: its N best new templates, written out by the model "
            "(default: as the reranker was fitted; 0: off)",
        ),
    ] = None,
    matmul: Annotated[
        str,
        Opt("--matmul", help="The weights' matmuls: fp32 (as the CLI answers) | bf16 (as the shell helper may) | auto"),
    ] = "fp32",
    official_grammar: Annotated[
        Path | None,
        Opt(
            "--official-grammar",
            help="Your copy of the official NLC2CMD grammar.txt (IBM/clai, branch nlc2cmd, "
            "submission-code/configs/core/): the official figures then read commands exactly as its parser does",
        ),
    ] = None,
) -> None:
    from bash_ai.api import import_numpy_single_threaded, load_engine

    import_numpy_single_threaded()  # before anything imports numpy: batch-1 decode wants one BLAS thread
    from bash_ai.engine.propose import DecodeConfig
    from bash_ai.errors import UsageError
    from bash_ai.evaluation.runner import EXEC, Decoder, check_options, check_suite, evaluate
    from bash_ai.model.bf16 import check_matmul, use_matmul
    from trainer.data.suites import load_suite

    check_matmul(matmul)  # a bad option fails before the model loads
    suites = list(dict.fromkeys(suite or ["nl2bash-dev"]))
    for name in suites:
        check_suite(name)
    check_options(candidates, max_tokens)
    decoder = Decoder(
        decode,  # type: ignore[arg-type]
        DecodeConfig(
            retrieval_k=retrieval_k,
            beam_width=beam_width,
            pool=pool,
            alpha=alpha,
            reviewer=reviewer,
            retrieval_weight=retrieval_weight,
            retrieval_bonus=retrieval_bonus,
            consensus=consensus,
            distinct=distinct,
            rerank=rerank,
            review=review,
            cover_temperature=cover,
            missing_penalty=missing_penalty,
            rerank_consensus=rerank_consensus,
            unsure_below=unsure_below,
            adapt_beams=adapt_beams,
            structure_beams=structure_beams,
            max_tokens=max_tokens,
        ),
    )
    if compare is not None and model is not None:
        raise UsageError("use either --model or --compare A B, not both")
    grammar = None
    if official_grammar is not None:
        from bash_ai.evaluation.official_grammar import Grammar

        grammar = Grammar.read(official_grammar)  # a bad file fails here, before any work
    examples = {name: load_suite(name, limit) for name in suites}  # a missing dataset fails here
    if EXEC in suites:
        from bash_ai.evaluation import ensure_sandbox

        ensure_sandbox()  # before loading models: say at once when bwrap cannot work here
    names: list[str | None] = list(compare) if compare else [model]
    engines = [load_engine(name) for name in names]  # fail fast on a bad model, before any work
    used = [use_matmul(e.model, matmul) for e in engines]
    labels = [
        f"{label} bf16" if kind == "bf16" else label
        for label, kind in zip(_labels([e.name for e in engines]), used, strict=True)
    ]
    results: list[list[SuiteResult]] = []
    for label, engine in zip(labels, engines, strict=True):
        engine.name = label
        results.append(
            [
                evaluate(
                    engine,
                    name,
                    examples[name],
                    candidates,
                    max_tokens,
                    progress=_progress(f"{label} {name}"),
                    decoder=decoder,
                    official_grammar=grammar,
                )
                for name in suites
            ]
        )
    if predictions is not None:
        from bash_ai.io import atomic_write_text

        lines = [
            json.dumps({"model": r.model, "suite": r.suite, **row}, ensure_ascii=False)
            for rs in results
            for r in rs
            for row in r.predictions
        ]
        atomic_write_text(predictions, "\n".join(lines) + "\n")
    if as_json:
        sys.stdout.write(json.dumps(_payload(results), indent=2) + "\n")
    _render(results, candidates)


def _labels(names: list[str]) -> list[str]:
    """Display names, made distinct when two models share one (``--compare run/a run/a``)."""
    if len(set(names)) == len(names):
        return names
    return [f"{name} #{i + 1}" for i, name in enumerate(names)]


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None  # JSON has no NaN


def _metrics_json(metrics: dict[str, float]) -> dict[str, float | None]:
    return {k: _finite(v) for k, v in metrics.items()}


def _payload(results: list[list[SuiteResult]]) -> dict[str, Any]:
    """``{model: {"suites": [{"suite", "examples", "candidates", "seconds", <metrics>}], "overall": {...}}}``;
    with ``--compare A B`` the second model's entry also has ``compared_to`` (A) and ``deltas`` (B - A).
    The shape ``trainer.model_card`` reads."""
    from bash_ai.evaluation.runner import deltas, overall

    payload: dict[str, Any] = {}
    for rs in results:
        suites = [
            {
                "suite": r.suite,
                "examples": r.examples,
                "candidates": r.candidates,
                "decode": r.decode,
                **({"official_rules": r.official_rules} if r.official_rules else {}),
                "seconds": round(r.seconds, 3),
            }
            | _metrics_json(r.metrics)
            for r in rs
        ]
        payload[rs[0].model] = {"suites": suites, "overall": _metrics_json(overall(rs))}
    if len(results) == 2:
        a, b = results
        payload[b[0].model] |= {
            "compared_to": a[0].model,
            "deltas": {
                "suites": {
                    ra.suite: _metrics_json(deltas(ra.metrics, rb.metrics)) for ra, rb in zip(a, b, strict=True)
                },
                "overall": _metrics_json(deltas(overall(a), overall(b))),
            },
        }
    return payload


def _progress(what: str) -> Callable[[int, int], None] | None:
    from bash_ai.term.ui import styled

    if not styled():
        return None

    def show(done: int, total: int) -> None:
        sys.stderr.write(f"\r{what}: {done}/{total}")
        if done == total:
            sys.stderr.write("\r\033[K")
        sys.stderr.flush()

    return show


def _cell(metrics: dict[str, float], key: str) -> str:
    if key not in metrics:
        return "-"
    value = metrics[key]
    return f"{value:.3f}" if math.isfinite(value) else "n/a"


def _delta_cell(a: dict[str, float], b: dict[str, float], key: str) -> str:
    from bash_ai.evaluation.runner import LOWER_IS_BETTER

    if key not in a or key not in b or not math.isfinite(b[key] - a[key]):
        return "-"
    diff = b[key] - a[key]
    if abs(diff) < 5e-4:
        return f"{diff:+.3f}"
    better = (diff < 0) if key in LOWER_IS_BETTER else (diff > 0)
    return f"[{'green' if better else 'red'}]{diff:+.3f}[/]"


def _render(results: list[list[SuiteResult]], candidates: int) -> None:
    """Rows are metrics; columns are suites (and overall), or for two models A | B | delta per suite."""
    from rich.table import Table

    from bash_ai.evaluation.runner import METRICS, overall
    from bash_ai.term.ui import console

    groups: list[tuple[str, list[dict[str, float]]]] = [
        (r.suite, [rs[i].metrics for rs in results]) for i, r in enumerate(results[0])
    ]
    if len(results[0]) > 1:
        groups.append(("overall", [overall(rs) for rs in results]))
    compare = len(results) == 2
    title = "bash-ai eval: " + (f"{results[0][0].model} vs {results[1][0].model}" if compare else results[0][0].model)
    table = Table(title=title)
    table.add_column("metric")
    for name, _ in groups:
        if compare:
            table.add_column(f"{name}\nA", justify="right")
            table.add_column(f"{name}\nB", justify="right")
            table.add_column(f"{name}\nB - A", justify="right")
        else:
            table.add_column(name, justify="right")
    for key, label in METRICS.items():
        if not any(key in m for _, per_model in groups for m in per_model):
            continue
        if key in ("nlc2cmd", "nlc2cmd_official", "nlc2cmd_official_calibrated", "pass_at_k") and candidates > 1:
            label += f" (top-{candidates})" if key.startswith("nlc2cmd") else ""
            label = label.replace("@K", f"@{candidates}")
        cells: list[str] = []
        for _, per_model in groups:
            cells += [_cell(m, key) for m in per_model]
            if compare:
                cells.append(_delta_cell(per_model[0], per_model[1], key))
        table.add_row(label, *cells)
    counts = ", ".join(f"{r.suite} {r.examples} ({r.seconds:.1f}s)" for rs in results for r in rs)
    table.caption = f"examples: {counts}" + (
        f"; A = {results[0][0].model}, B = {results[1][0].model}" if compare else ""
    )
    console().print(table, markup=True)
