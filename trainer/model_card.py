"""Write a model's ``MODEL_CARD.md`` from what its run actually recorded.

    python -m trainer.model_card RUN_DIR MODEL_DIR [--eval EVAL_JSON] [--command "..."]

Everything in the card is read from files: the run's ``train_config.json`` and ``metrics.jsonl``,
the datasets' manifests (source, licence, attribution, counts), the model's ``config.json`` and,
when given, the JSON written by ``bash-ai eval --json``. The loss curve is copied next to it.
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


def _stage_lines(run: RunDir, cfg: dict[str, Any], context_length: int) -> list[str]:
    records = list(run.metrics())
    train, val = curves(records)
    speed = sorted(r["tokens_per_s"] for r in records if "tokens_per_s" in r)
    elapsed = max((r.get("elapsed_s", 0.0) for r in records), default=0.0)
    tokens = max((r.get("tokens", 0) for r in records), default=0)
    init = f", initialised from `{Path(cfg['init']).parent.name}`" if cfg.get("init") else ""
    return [
        f"### `{run.path.name}`: stage `{cfg['stage']}` on `{cfg['backend']}`{init}",
        "",
        f"- datasets {', '.join(cfg['datasets'])}; English share of rows {cfg['language_ratio']}",
        f"- {cfg['num_steps']:,} steps x {cfg['batch_size']} rows x {context_length} tokens ({tokens:,} tokens), "
        f"AdamW lr {cfg['lr']} (warmup {cfg['warmup_steps']}, cosine to {cfg['min_lr_ratio']}x), "
        f"weight decay {cfg['weight_decay']}, clip {cfg['grad_clip']}, seed {cfg['seed']}",
        f"- wall time {elapsed / 60:.0f} min (last session of the run), median {speed[len(speed) // 2] if speed else 0:,.0f} tokens/s",
        f"- final train loss {train[-1][1]:.3f}" + (f", validation loss {val[-1][1]:.3f}" if val else ""),
        "",
        "```",
        terminal_chart(records),
        "```",
        "",
    ]


def render(runs: list[RunDir], model_dir: Path, eval_json: dict[str, Any] | None, command: str) -> str:
    from bash_ai.checkpoint import load_config

    config = load_config(model_dir)
    size_mb = sum(p.stat().st_size for p in model_dir.iterdir() if p.is_file()) / 1e6
    configs = [json.loads((run.path / "train_config.json").read_text(encoding="utf-8")) for run in runs]
    datasets = list(dict.fromkeys(d for cfg in configs for d in cfg["datasets"]))
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
        f"Weights stored as {_dtype(model_dir)} safetensors; the model directory is {size_mb:.1f} MB. "
        "The loss curve of the last stage is `loss.png` beside this card.",
        "",
    ]
    for run, cfg in zip(runs, configs, strict=True):
        lines += _stage_lines(run, cfg, config.context_length)
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
    lines += [
        "## Limits",
        "",
        "A small model trained for about an hour and a half on a CPU: it often produces plausible but",
        "wrong commands. bash-ai checks every answer with `bash -n` and a danger check, and never runs a",
        "command without confirmation. Do not run a command you do not understand.",
        "",
        *_gap(eval_json),
    ]
    return "\n".join(lines)


def _gap(eval_json: dict[str, Any] | None) -> list[str]:
    """Say plainly how far the model is from the aim (NLC2CMD 0.53)."""
    for result in (eval_json or {}).values():
        for suite in result["suites"]:
            if suite["suite"] == "nl2bash-test" and suite.get("nlc2cmd") is not None:
                return [
                    f"Against the aim: its NLC2CMD score on the NL2Bash test split is {suite['nlc2cmd']:.2f} "
                    f"(top-{suite.get('candidates', 1)}), against 0.53 for the NLC2CMD 2020 winner: it mostly "
                    "picks the wrong utility. Closing that gap needs far more model, data and training compute "
                    "than an hour or two on two CPU cores.",
                    "",
                ]
    return []


def _dtype(model_dir: Path) -> str:
    from safetensors import safe_open

    with safe_open(str(model_dir / "model.safetensors"), framework="numpy") as handle:
        return str(handle.get_slice(next(iter(handle.keys()))).get_dtype()).lower()


COLUMNS = (
    ("exact_match", "exact"),
    ("template_match", "template"),
    ("nlc2cmd", "NLC2CMD"),
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
        out.append("| suite | n | k | " + " | ".join(label for _, label in cols) + " |")
        out.append("|---|---:|---:|" + "---:|" * len(cols))
        for s in suites:
            cells = " | ".join(_cell(s.get(key)) for key, _ in cols)
            out.append(f"| {s['suite']} | {s['examples']} | {s.get('candidates', 1)} | {cells} |")
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
    args = parser.parse_args(argv)
    if len(args.run_dirs) < 2:
        parser.error("give at least one run directory and the model directory")
    runs, model_dir = [RunDir(p) for p in args.run_dirs[:-1]], args.run_dirs[-1]
    eval_json = json.loads(args.eval.read_text(encoding="utf-8")) if args.eval else None
    card = render(runs, model_dir, eval_json, args.command)
    if args.note:
        card = card.replace("## Data and licences", f"{args.note}\n\n## Data and licences", 1)
    from bash_ai.io import atomic_write_text

    atomic_write_text(model_dir / "MODEL_CARD.md", card)
    if (runs[-1].path / "loss.png").is_file():
        shutil.copyfile(runs[-1].path / "loss.png", model_dir / "loss.png")


if __name__ == "__main__":
    main()
