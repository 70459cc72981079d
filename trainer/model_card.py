"""Write a model's ``MODEL_CARD.md`` from what its run actually recorded.

    python -m trainer.model_card RUN_DIR... MODEL_DIR [--eval EVAL_JSON] [--ablation MD] [--command "..."]
        [--carry-stages OLD_CARD]

Everything in the card is read from files: the run's ``train_config.json`` and ``metrics.jsonl``,
the datasets' manifests (source, licence, attribution, counts), the model's ``config.json`` and,
when given, the JSON written by ``bash-ai eval --json``. The loss curve is copied next to it, and
each run's ``train_config.json`` and ``metrics.jsonl`` go to ``MODEL_DIR/training/<run>/`` so the card
can be written again from the model directory alone. Stages whose records were not kept (an earlier
machine) can be carried over verbatim from the previous card with ``--carry-stages``.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

from bash_ai.config import describe
from trainer.plot import curves, terminal_chart
from trainer.run_dir import RunDir

# Published baselines on comparable metrics (different data and partly human-judged: for scale only).
BASELINES: list[tuple[str, str, float]] = [
    ("NL2Bash test set, Tellina (Lin et al. 2018)", "template accuracy@1 (human-judged)", 0.53),
    ("NL2Bash test set, sub-token CopyNet (Lin et al. 2018)", "full-command accuracy@1 (human-judged)", 0.36),
    ("NLC2CMD 2020 accuracy track, winner (6-layer transformer from scratch)", "NLC2CMD score", 0.53),
    ("NLC2CMD 2020 accuracy track, second (GPT-2 large)", "NLC2CMD score", 0.51),
]

LICENCE_NOTES = {
    "tldr": "attribution required; a fixed holdout of pages is never trained on",
    "nl2bash": "only the fixed train split is trained on",
    "tinystories": "share-alike for the data",
    "local": "scripts and man pages installed on the training machine; each keeps its package's licence",
    "manpairs": "pairs from the man pages of the programs installed on the training machine; each keeps its package's licence",
    "howto": "everyday requests with their commands, written for bash-ai; none is a request of an evaluation suite",
}


def _dataset_rows(names: list[str]) -> list[str]:
    from trainer.data import dataset_path, read_manifest

    rows = []
    for name in names:
        try:
            manifest = read_manifest(dataset_path(name))
        except Exception:  # noqa: BLE001 - a card is still written for a missing manifest
            rows.append(f"| {name} | (manifest not found) | | |")
            continue
        counts = ", ".join(f"{k} {v:,}" for k, v in manifest.counts.items())
        note = f"{manifest.licence} ({LICENCE_NOTES[name]})" if name in LICENCE_NOTES else manifest.licence
        who = f"{manifest.attribution}" if manifest.attribution else manifest.url
        rows.append(f"| {name} | {note} | {who} | {counts} |")
    return rows


def _retrieval_lines(model_dir: Path) -> list[str]:
    from bash_ai.engine.propose import DecodeConfig
    from bash_ai.retrieval import load_index

    index = load_index(model_dir)
    if index is None:
        return []
    counts = ", ".join(
        f"{k.removeprefix('count.')} {int(v):,}" for k, v in sorted(index.meta.items()) if k.startswith("count.")
    )
    topics = int(index.meta.get("topics", 0))
    paged = (
        f" {topics:,} of the pairs (the tldr examples) are indexed with the name of their page too, which their "
        'descriptions leave out (`bash-ai train --stage index --index-topics`: "Display system memory" is found '
        'by "free").'
        if topics
        else ""
    )
    howto = int(index.meta.get("count.howto", 0))
    own = (
        f" The {howto:,} howto pairs are everyday requests written for bash-ai, each with its command: retrieved, "
        "and none of them a request of an evaluation suite (`tests/test_howto.py`)."
        if howto
        else ""
    )
    return [
        "## Retrieval index",
        "",
        f"`retrieval.safetensors`: BM25 over {len(index):,} training request/command pairs ({counts}), "
        "built by `bash-ai train --stage index` (or a training run with `--retrieval-k`) from `split == train` "
        "documents only (NL2Bash dev/test and tldr-holdout are never indexed)."
        + own
        + f" Every answer retrieves the {DecodeConfig.retrieval_k} nearest pairs into the prompt, and the "
        f"{DecodeConfig.pool} nearest commands join the beam-search candidates." + paged,
        "",
    ]


def _reranker_lines(model_dir: Path) -> list[str]:
    """What ``reranker.safetensors`` is and what its fit measured (``training/*/rerank.json``)."""
    from bash_ai.engine.rerank import (
        PROGRAM_MISSED,
        PROGRAM_NAMED,
        SHORT_PREFIX,
        SOURCE_COLUMNS,
        load_reranker,
    )
    from bash_ai.model_files import RERANKER_FILE, STRUCTURE_FILE
    from bash_ai.prompt import SHORT_WORDS

    reranker = load_reranker(model_dir)
    if reranker is None:
        return []
    structure = (
        f" The `structure` feature is the log-probability of the candidate's template (arguments abstracted) "
        f"under `{STRUCTURE_FILE}`, a second model of the same tokenizer trained to write templates "
        "(`bash-ai train --targets template`), stored as int8."
        if reranker.wants_structure
        else ""
    )
    short = (
        f" The `{SHORT_PREFIX}` features are the others again, times 1 for a request of at most {SHORT_WORDS} words "
        "and 0 for a longer one: the fit weighs each piece of evidence apart for short everyday requests and "
        "NL2Bash's long ones."
        if reranker.wants_short
        else ""
    )
    programs = (
        f" The `{PROGRAM_NAMED}` and `{PROGRAM_MISSED}` features say whether the candidate runs a program the "
        "request names by its name, and whether it runs none of those, each weighed by how often a training "
        f"request that says the name has a command that runs it (a table of {len(reranker.programs or {}):,} "
        "programs from the retrieval index's pairs, stored in the file)."
        if reranker.programs is not None
        else ""
    )
    sources = (
        " The "
        + " and ".join(f"`{name}`" for name in SOURCE_COLUMNS)
        + " features say whether a training pair of that source (bash-ai's own how-to pairs, tldr) asked for "
        "the candidate, when it is a retrieved command; NL2Bash's pairs are the rest."
        if reranker.wants_sources
        else ""
    )
    lines = [
        "## Reranker",
        "",
        f"`{RERANKER_FILE}` (`bash-ai train --stage rerank`): a lexicon of {1 << reranker.bits:,} hashed "
        "(request word, program / flag) weights learnt from the retrieval index's training pairs alone, "
        f"and a linear model over {len(reranker.names)} features of each candidate ({', '.join(reranker.names)}) "
        "fitted on the model's own candidates for its tuning suites (named with each fit below; a test split is "
        "never used). It replaces the hand-set ranking weights."
        + short
        + structure
        + programs
        + sources
        + _review_line(reranker),
        "",
    ]
    for record in sorted(model_dir.glob("training/*/rerank.json")):
        fit = json.loads(record.read_text(encoding="utf-8"))
        lines += [
            f"Fit of `{record.parent.name}` on {fit['suite']} ({fit['requests']} requests, "
            f"{fit['lexicon_groups']:,} lexicon training requests), 5-fold cross-validated NLC2CMD: "
            f"top-5 {fit['hand_top5']:.3f} (hand-set ranking) -> {fit['cv_top5']:.3f}, "
            f"top-1 {fit['hand_top1']:.3f} -> {fit['cv_top1']:.3f}"
            + (
                f"; argument F1 of the first {fit['hand_args1']:.3f} -> {fit['cv_args1']:.3f}."
                if "cv_args1" in fit
                else "."
            )
            + (
                f" Both stages; the first alone: top-5 {fit['first_top5']:.3f}, top-1 {fit['first_top1']:.3f}."
                if "first_top1" in fit
                else ""
            )
            + "".join(
                f" {suite} ({mine['requests']} requests, weight {mine['weight']:g}): top-5 {mine['hand_top5']:.3f} -> "
                f"{mine['cv_top5']:.3f}, top-1 {mine['hand_top1']:.3f} -> {mine['cv_top1']:.3f}."
                for suite, mine in sorted(fit.get("suites", {}).items())
            ),
            "",
        ]
    return lines


def _review_line(reranker: Any) -> str:
    """What the reranker's review stage does, if it has one."""
    if reranker.review is None:
        return ""
    return (
        f" A review stage re-ranks the first stage's {reranker.review.top} best finished candidates with a second "
        "linear model over the same features plus the reviewer score: log p(request | candidate) per request "
        "token, by the model's own explain direction."
    )


def carried_stages(card: str, skip: tuple[str, ...] = ()) -> str:
    """The stage sections (``### ...`` under ``## Training``) of an earlier card, verbatim, but for
    the runs named in ``skip`` (they are written again from their records)."""
    start = card.find("\n### ")
    if start < 0:
        return ""
    after = card.find("\n## ", start)
    body = card[start + 1 : after if after >= 0 else len(card)]
    first, *rest = body.split("\n### ")
    sections = [first, *("### " + part for part in rest)]
    kept = [sec for sec in sections if not any(sec.startswith(f"### `{name}`") for name in skip)]
    return "\n".join(sec.rstrip("\n") + "\n" for sec in kept) if kept else ""


def keep_records(runs: list[RunDir], model_dir: Path) -> None:
    """Copy each run's config and step records into ``model_dir/training/<run>/``."""
    for run in runs:
        dest = model_dir / "training" / run.path.name
        if dest.resolve() == run.path.resolve():
            continue
        dest.mkdir(parents=True, exist_ok=True)
        for name in ("train_config.json", "metrics.jsonl", "rerank.json"):
            if (run.path / name).is_file():
                shutil.copyfile(run.path / name, dest / name)


def _stage_lines(run: RunDir, cfg: dict[str, Any], context_length: int) -> list[str]:
    records = list(run.metrics())
    train, val = curves(records)
    speed = sorted(r["tokens_per_s"] for r in records if "tokens_per_s" in r)
    elapsed = max((r.get("elapsed_s", 0.0) for r in records), default=0.0)
    tokens = max((r.get("tokens", 0) for r in records), default=0)
    init = f", initialised from `{_init_name(cfg['init'])}`" if cfg.get("init") else ""
    retrieval = cfg.get("retrieval_k", 0)
    extras = []
    if retrieval:
        extras.append(
            f"{retrieval} retrieved pairs in each prompt, {cfg.get('retrieval_variants', 1)} augmented copies per pair"
        )
    if cfg.get("targets", "command") != "command":
        extras.append(f"targets: {cfg['targets']}s (arguments abstracted)")
    if cfg.get("contrast"):
        extras.append(
            f"ranking: each batch row a group of the pair's template and {cfg['contrast']} others, "
            "soft targets from the NLC2CMD score, plus the template's token loss"
        )
    if cfg.get("dropout"):
        extras.append(f"dropout {cfg['dropout']}")
    if cfg.get("label_smoothing"):
        extras.append(f"label smoothing {cfg['label_smoothing']}")
    if cfg.get("precision"):
        extras.append(f"precision {cfg['precision']}")
    if cfg.get("aligned_windows"):
        extras.append("windows aligned to sequence starts")
    return [
        f"### `{run.path.name}`: stage `{cfg['stage']}` on `{cfg['backend']}`{init}",
        "",
        f"- datasets {', '.join(cfg['datasets'])}; English share of rows {cfg['language_ratio']}",
        f"- {cfg['num_steps']:,} steps x {cfg['batch_size']} {_batch_rows(cfg)} x {context_length} tokens "
        f"({tokens:,} tokens), "
        f"AdamW lr {cfg['lr']} (warmup {cfg['warmup_steps']}, cosine to {cfg['min_lr_ratio']}x), "
        f"weight decay {cfg['weight_decay']}, clip {cfg['grad_clip']}, seed {cfg['seed']}",
        f"- wall time {elapsed / 60:.0f} min (last session of the run), median {speed[len(speed) // 2] if speed else 0:,.0f} tokens/s",
        *([f"- {'; '.join(extras)}"] if extras else []),
        f"- final train loss {train[-1][1]:.3f}" + (f", validation loss {val[-1][1]:.3f}" if val else ""),
        "",
        "```",
        terminal_chart(records),
        "```",
        "",
    ]


def _batch_rows(cfg: dict[str, Any]) -> str:
    """What one batch row is: a row, or a contrastive group of the pair's template and its others."""
    return f"groups of {cfg['contrast'] + 1} rows" if cfg.get("contrast") else "rows"


def _init_name(init: str) -> str:
    path = Path(init)
    return path.parent.name if path.name in ("model", "latest") else path.name


def render(
    runs: list[RunDir],
    model_dir: Path,
    eval_json: dict[str, Any] | None,
    command: str,
    carried: str = "",
    ablation: str = "",
    extra_datasets: tuple[str, ...] = (),
) -> str:
    from bash_ai.checkpoint import load_config, stored_dtype

    config = load_config(model_dir)
    size_mb = sum(p.stat().st_size for p in model_dir.iterdir() if p.is_file()) / 1e6
    runs = [run for run in runs if (run.path / "train_config.json").is_file()]  # a rerank run has its own section
    configs = [json.loads((run.path / "train_config.json").read_text(encoding="utf-8")) for run in runs]
    datasets = list(dict.fromkeys([*extra_datasets, *(d for cfg in configs for d in cfg["datasets"])]))
    lines = [
        "# bash-ai bundled model",
        "",
        f"A {describe(config)} GPT-style model that answers English requests with bash, and explains",
        "bash in English. Trained from scratch on one 2-core CPU by this repository's own pipeline",
        "(our byte-level BPE tokenizer, our PyTorch model, `bash-ai train`).",
        "",
        "## Reproduce",
        "",
        "```bash",
        command,
        "```",
        "",
        "## Training",
        "",
        f"Weights stored as {stored_dtype(model_dir)} safetensors; the model directory is {size_mb:.1f} MB. "
        "The loss curve of the last stage is `loss.png` beside this card.",
        "",
    ]
    if carried:
        lines += [carried]
    for run, cfg in zip(runs, configs, strict=True):
        lines += _stage_lines(run, cfg, config.context_length)
    lines += _retrieval_lines(model_dir)
    lines += _reranker_lines(model_dir)
    lines += [
        "## Data and licences",
        "",
        "| dataset | licence | attribution / source | counts |",
        "|---|---|---|---|",
        *_dataset_rows(datasets),
        "",
        "tldr pages: © 2014–present the tldr-pages team and contributors, https://github.com/tldr-pages/tldr,",
        "licensed under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/). The pages were parsed",
        "into (description, command) pairs with `{{placeholders}}` replaced by concrete arguments.",
        "",
    ]
    lines += _eval_section(eval_json)
    if ablation:
        lines += ["## Ablation", "", ablation.strip(), ""]
    lines += [
        "## Limits",
        "",
        "A small model trained for a few hours on a CPU: it often produces plausible but",
        "wrong commands. bash-ai checks every answer with `bash -n` and a danger check, and never runs a",
        "command without confirmation. Do not run a command you do not understand.",
        "",
        *_gap(eval_json),
    ]
    return "\n".join(lines)


def _gap(eval_json: dict[str, Any] | None) -> list[str]:
    """Say plainly how far the model is from the aim (NLC2CMD 0.55 top-5, 0.40 top-1 on NL2Bash test)."""
    for result in (eval_json or {}).values():
        for suite in result["suites"]:
            if suite["suite"] == "nl2bash-test" and suite.get("nlc2cmd") is not None:
                top1 = suite.get("nlc2cmd_top1")
                first = f", top-1 {top1:.2f} (aim 0.40)" if top1 is not None else ""
                return [
                    f"Against the aim: on the NL2Bash test split its NLC2CMD score is {suite['nlc2cmd']:.2f} "
                    f"top-{suite.get('candidates', 1)} (aim 0.55; the NLC2CMD 2020 winner scored 0.53 on its own "
                    f"test set){first}. Where it falls short, it mostly picks the wrong utility or flags.",
                    "",
                ]
    return []


COLUMNS = (
    ("exact_match", "exact"),
    ("template_match", "template"),
    ("argument_f1", "argument F1"),
    ("nlc2cmd", "NLC2CMD"),
    ("nlc2cmd_top1", "NLC2CMD top-1"),
    ("nlc2cmd_official", "official rules"),
    ("nlc2cmd_official_readable", "official, readable refs"),
    ("syntax_valid", "syntax ok"),
    ("danger_rate", "danger"),
    ("val_loss", "val loss"),
    ("bits_per_byte", "bits/byte"),
    ("pass_at_1", "exec pass@1"),
    ("pass_at_k", "exec pass@K"),
)


def _cell(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) else "–"


def _eval_section(eval_json: dict[str, Any] | None) -> list[str]:
    """One table per model; a suite leaves blank the metrics it does not report (exec has pass@K)."""
    out = ["## Evaluation", ""]
    if not eval_json:
        return out + ["Not evaluated yet.", ""]
    for model, result in eval_json.items():
        suites = result["suites"]
        cols = [(key, label) for key, label in COLUMNS if any(s.get(key) is not None for s in suites)]
        out += [f"`bash-ai eval` results for `{model}`:", ""]
        out.append("| suite | decoding | n | k | " + " | ".join(label for _, label in cols) + " |")
        out.append("|---|---|---:|---:|" + "---:|" * len(cols))
        for s in suites:
            cells = " | ".join(_cell(s.get(key)) for key, _ in cols)
            out.append(
                f"| {s['suite']} | {s.get('decode', '')} | {s['examples']} | {s.get('candidates', 1)} | {cells} |"
            )
        out.append("")
    out += ["Published baselines (different models, data and sometimes human judging; for scale only):", ""]
    out += [f"- {name}: {metric} {value:.2f}" for name, metric, value in BASELINES]
    return out + [""]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dirs", type=Path, nargs="+", help="the runs in training order, then the model dir")
    parser.add_argument("--eval", type=Path, default=None, help="JSON from bash-ai eval --json")
    parser.add_argument("--command", default="bash trainer/recipes/bundled.sh ../shared/data assets/model")
    parser.add_argument("--note", default="", help="a paragraph on how this run differed from the recipe")
    parser.add_argument("--carry-stages", type=Path, default=None, help="an earlier card whose stage sections to keep")
    parser.add_argument("--ablation", type=Path, default=None, help="a Markdown table to include (the ablation)")
    parser.add_argument("--datasets", nargs="*", default=[], help="datasets of the carried stages, for the table")
    args = parser.parse_args(argv)
    if len(args.run_dirs) < 2:
        parser.error("give at least one run directory and the model directory")
    runs, model_dir = [RunDir(p) for p in args.run_dirs[:-1]], args.run_dirs[-1]
    eval_json = json.loads(args.eval.read_text(encoding="utf-8")) if args.eval else None
    skip = tuple(run.path.name for run in runs)
    carried = carried_stages(args.carry_stages.read_text(encoding="utf-8"), skip) if args.carry_stages else ""
    ablation = args.ablation.read_text(encoding="utf-8") if args.ablation else ""
    keep_records(runs, model_dir)
    card = render(runs, model_dir, eval_json, args.command, carried, ablation, tuple(args.datasets))
    if args.note:
        card = card.replace("## Data and licences", f"{args.note}\n\n## Data and licences", 1)
    from bash_ai.io import atomic_write_text
    from bash_ai.model_files import CARD_FILE

    atomic_write_text(model_dir / CARD_FILE, card)
    curve = next((run.path / "loss.png" for run in reversed(runs) if (run.path / "loss.png").is_file()), None)
    if curve is not None:
        shutil.copyfile(curve, model_dir / "loss.png")


if __name__ == "__main__":
    main()
