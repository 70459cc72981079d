"""``bash-ai train``: a thin face over trainer.pipeline (imported only when the command runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Opt = typer.Option
DEFAULT_STEPS = 1000


def register(app: typer.Typer) -> None:
    app.command("train", help="Train or continue training a model (needs the 'train' extra).")(train)


def train(
    stage: Annotated[
        str,
        Opt(
            help="pretrain (English, MLX) | finetune (bash, PyTorch) | bilingual | rerank (the --init model's "
            "reranker) | index (the --init model with its retrieval index built anew over --data)"
        ),
    ] = "finetune",
    backend: Annotated[str | None, Opt(help="torch | mlx (default: the stage's)")] = None,
    data: Annotated[list[str] | None, Opt("--data", help="Dataset names to train on (repeatable)")] = None,
    language_ratio: Annotated[float | None, Opt(help="English share of rows, 0..1")] = None,
    model_size: Annotated[str, Opt(help="Preset: tiny | mini | small | medium | large")] = "tiny",
    n_layer: Annotated[int | None, Opt(help="Override: layers")] = None,
    n_head: Annotated[int | None, Opt(help="Override: attention heads")] = None,
    n_kv_head: Annotated[int | None, Opt(help="Override: key/value heads (GQA when < heads)")] = None,
    d_model: Annotated[int | None, Opt(help="Override: width")] = None,
    context_length: Annotated[int | None, Opt(help="Override: context length")] = None,
    pos_encoding: Annotated[str | None, Opt(help="Override: learned | sinusoidal | rope")] = None,
    tokenizer: Annotated[str, Opt(help="Tokenizer kind to train when none is given: bpe | char")] = "bpe",
    tokenizer_path: Annotated[Path | None, Opt(help="Use this tokenizer file")] = None,
    vocab_size: Annotated[int, Opt(help="BPE vocabulary size when training one")] = 4096,
    init: Annotated[str | None, Opt(help="Continue from this checkpoint (any backend)")] = None,
    resume: Annotated[bool, Opt(help="Continue this run exactly from its last checkpoint")] = False,
    stop_after: Annotated[
        int | None, Opt(min=1, help="Stop (checkpointed, resumable) after this many steps of this call")
    ] = None,
    retrieval_k: Annotated[int, Opt(help="Neighbours retrieved into each pair's prompt (0: none)")] = 0,
    retrieval_variants: Annotated[int, Opt(help="Retrieval-augmented copies of each pair")] = 2,
    interleave: Annotated[
        bool,
        Opt(
            "--interleave/--no-interleave",
            help="Write a pair's sequences far apart in the token stream, so no window holds two of one pair",
        ),
    ] = False,
    index_topics: Annotated[
        bool,
        Opt(
            "--index-topics/--no-index-topics",
            help="Index each training pair with the name of the page it comes from too (a tldr example with "
            "its program)",
        ),
    ] = False,
    targets: Annotated[
        str,
        Opt(
            help="What pairs train: command; template (arguments abstracted: a structure model); or hinted "
            "(command, plus the command after its template as a hint)"
        ),
    ] = "command",
    contrast: Annotated[
        int, Opt(help="With --targets template: rank each pair's template against N others (0: off)")
    ] = 0,
    precision: Annotated[str, Opt(help="PyTorch matmuls: auto | bf16 | fp32")] = "auto",
    dropout: Annotated[float, Opt(help="PyTorch: dropout on embeddings, attention and residuals")] = 0.0,
    attention_dropout: Annotated[
        float | None, Opt(help="PyTorch: dropout on attention weights (default: --dropout; 0 keeps the fast path)")
    ] = None,
    label_smoothing: Annotated[float, Opt(help="PyTorch: label smoothing of the loss")] = 0.0,
    num_steps: Annotated[
        int | None, Opt(help="Optimizer steps (default 1000; with --resume: move the run's end)")
    ] = None,
    batch_size: Annotated[int, Opt(help="Rows per micro-batch (per process)")] = 16,
    grad_accum: Annotated[int, Opt(help="Micro-batches per step")] = 1,
    lr: Annotated[float, Opt(help="Peak learning rate")] = 1e-3,
    warmup_steps: Annotated[int, Opt(help="Linear warmup steps")] = 100,
    eval_interval: Annotated[int, Opt(help="Steps between validation")] = 200,
    ckpt_interval: Annotated[int, Opt(help="Steps between checkpoints")] = 200,
    seed: Annotated[int, Opt(help="Random seed")] = 1337,
    device: Annotated[str, Opt(help="auto | cpu | cuda | mps")] = "auto",
    threads: Annotated[int | None, Opt(help="CPU threads for torch")] = None,
    name: Annotated[str | None, Opt(help="Run name (directory under the data dir's runs/)")] = None,
    out: Annotated[Path | None, Opt(help="Also copy the final model to this directory")] = None,
    out_dtype: Annotated[
        str, Opt(help="Weights dtype of the --out copy: float32 | float16 | int8 (one scale per row)")
    ] = "float32",
    structure: Annotated[
        str | None, Opt(help="rerank: a model trained with --targets template to rank with (shipped inside)")
    ] = None,
    limit: Annotated[
        int | None, Opt(min=1, help="rerank: fit on the first N requests of the tuning suite only (tests)", hidden=True)
    ] = None,
    pools: Annotated[
        list[Path] | None,
        Opt(
            help="rerank: fit on rerank runs' proposals (their pools.json.gz; repeat to fit on several tuning "
            "suites' at once) instead of proposing (same model and index; another structure model scores them anew)"
        ),
    ] = None,
    tune_suite: Annotated[
        str,
        Opt(
            help="rerank: the tuning suite whose requests it proposes for (nl2bash-dev, everyday-dev, everyday-tune or everyday-dev2)"
        ),
    ] = "nl2bash-dev",
    suite_weight: Annotated[
        list[str] | None,
        Opt(
            help="rerank: SUITE=W, a tuning suite's pools counted W times in the fit (default 1; repeatable)",
        ),
    ] = None,
    match_column: Annotated[
        bool,
        Opt(help="rerank: rank with how nearly a training request asking for a candidate says the request"),
    ] = False,
    short_columns: Annotated[
        bool,
        Opt(help="rerank: every column again for short requests (at most 8 words), weighed apart from long ones"),
    ] = False,
    program_columns: Annotated[
        bool,
        Opt(help="rerank: rank with whether a candidate runs a program the request names by its name"),
    ] = False,
    source_columns: Annotated[
        bool,
        Opt(help="rerank: rank with whether a how-to or a tldr pair asked for a candidate (pools proposed anew)"),
    ] = False,
    excess_column: Annotated[
        bool,
        Opt(
            help="rerank: rank with how many words a training request asking for a candidate says that the request does not"
        ),
    ] = False,
    review_top: Annotated[
        int,
        Opt(
            min=0,
            max=16,
            help="rerank: the first stage's best candidates a review stage re-ranks by log p(request | command) (0: none)",
        ),
    ] = 3,
    structure_beams: Annotated[
        int,
        Opt(
            min=0,
            max=16,
            help="rerank: the structure model's N best new templates, written out by the model, join each pool "
            "(a model trained with --targets hinted; 0: none)",
        ),
    ] = 0,
) -> None:
    from bash_ai.term.ui import info

    if stage == "rerank":
        from trainer.pipeline import run_rerank
        from trainer.rerank import parse_suite_weights

        if not init:
            from bash_ai.errors import UsageError

            raise UsageError("--stage rerank needs --init MODEL (the model whose candidates it ranks)")
        run_rerank(
            init,
            run_name=name,
            export_to=out,
            export_dtype=out_dtype,
            limit=limit,
            report=info,
            structure=structure,
            pools=pools,
            review_top=review_top,
            structure_beams=structure_beams,
            suite=tune_suite,
            match=match_column,
            short=short_columns,
            programs=program_columns,
            sources=source_columns,
            excess=excess_column,
            suite_weights=parse_suite_weights(suite_weight or []),
        )
        return
    if stage == "index":
        from bash_ai.errors import UsageError
        from trainer.pipeline import run_index

        if not init:
            raise UsageError("--stage index needs --init MODEL (the model whose index it builds anew)")
        if out_dtype != "float32":
            raise UsageError("--stage index copies the model's weights as they are: --out-dtype belongs to training")
        run_index(init, data or [], topics=index_topics, run_name=name, export_to=out, report=info)
        return
    rerank_only = (
        ("--structure", structure),
        ("--pools", pools or None),
        ("--suite-weight", suite_weight),
        ("--match-column", match_column or None),
        ("--short-columns", short_columns or None),
        ("--program-columns", program_columns or None),
        ("--source-columns", source_columns or None),
        ("--excess-column", excess_column or None),
    )
    for option, value in rerank_only:
        if value is not None:
            from bash_ai.errors import UsageError

            raise UsageError(f"{option} belongs to --stage rerank")
    from trainer.pipeline import require_backend, run_training
    from trainer.train_config import TrainConfig

    cfg = TrainConfig(
        stage=stage,  # type: ignore[arg-type]
        backend=backend,  # type: ignore[arg-type]
        datasets=data or None,
        language_ratio=language_ratio,
        model_size=model_size,
        n_layer=n_layer,
        n_head=n_head,
        n_kv_head=n_kv_head,
        d_model=d_model,
        context_length=context_length,
        pos_encoding=pos_encoding,
        tokenizer=tokenizer,  # type: ignore[arg-type]
        tokenizer_path=str(tokenizer_path) if tokenizer_path else None,
        vocab_size=vocab_size,
        init=init,
        retrieval_k=retrieval_k,
        retrieval_variants=retrieval_variants,
        interleave=interleave,
        index_topics=index_topics,
        targets=targets,  # type: ignore[arg-type]
        contrast=contrast,
        precision=precision,  # type: ignore[arg-type]
        dropout=dropout,
        attention_dropout=attention_dropout,
        label_smoothing=label_smoothing,
        num_steps=num_steps or DEFAULT_STEPS,
        batch_size=batch_size,
        grad_accum=grad_accum,
        lr=lr,
        warmup_steps=min(warmup_steps, num_steps or DEFAULT_STEPS),
        eval_interval=eval_interval,
        ckpt_interval=ckpt_interval,
        seed=seed,
        device=device,
        threads=threads,
    )
    require_backend(cfg.backend or "torch")
    run_training(
        cfg,
        run_name=name,
        resume=resume,
        export_to=out,
        export_dtype=out_dtype,
        resume_num_steps=num_steps if resume else None,
        stop_after=stop_after,
        report=info,
    )
