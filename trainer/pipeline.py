"""``bash-ai train`` end to end: data -> tokenizer -> tokenized cache -> model -> loop -> model dir.

Continuation rules:
- ``--resume`` continues this run exactly from ``<run>/latest`` (weights, optimizer, step, data
  position, RNG); the run's saved ``train_config.json`` wins over the command line, except
  ``--num-steps``, which moves the run's end (and its cosine schedule's) and is saved.
- ``--init CHECKPOINT`` starts a new run from any model directory (its config and tokenizer), in
  either framework: MLX-pretrained weights continue in PyTorch and back.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bash_ai import paths
from bash_ai.config import ModelConfig, describe, preset
from bash_ai.errors import UsageError
from trainer.run_dir import RunDir
from trainer.train_config import TrainConfig


def require_backend(backend: str) -> None:
    """Fail with one line, not an ImportError, when the training extra is missing."""
    import importlib.util

    module = "mlx.core" if backend == "mlx" else "torch"
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        found = False
    if not found:
        raise UsageError(f"training on {backend} needs {module.split('.')[0]}: pip install 'bash-ai[train]'")


def default_run_name(cfg: TrainConfig) -> str:
    return f"{cfg.stage}-{cfg.model_size}-{time.strftime('%Y%m%d-%H%M%S')}"


def resolve_run(
    cfg: TrainConfig, run_name: str | None, resume: bool, num_steps: int | None = None
) -> tuple[RunDir, TrainConfig]:
    """The run directory and its config; ``num_steps`` re-horizons a resumed run's schedule."""
    if resume:
        if not run_name:
            raise UsageError("--resume needs --name NAME (the run to continue)")
        run = RunDir(_run_path(run_name))
        saved = run.path / "train_config.json"
        if not saved.is_file() or not run.has_checkpoint():
            raise UsageError(f"no checkpoint to resume in {run.path}")
        import json

        saved_cfg = TrainConfig.from_dict(json.loads(saved.read_text(encoding="utf-8")))
        if num_steps is not None and num_steps != saved_cfg.num_steps:
            saved_cfg = _rehorizon(run, saved_cfg, num_steps)
        return run, saved_cfg
    if not run_name and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise UsageError("under torchrun, name the run with --name NAME (every process must use the same one)")
    run = RunDir(_run_path(run_name or default_run_name(cfg)))
    if run.has_checkpoint():
        raise UsageError(
            f"run {run.path} already has a checkpoint; pass --resume to continue it or choose another --run"
        )
    return run, cfg


def _rehorizon(run: RunDir, cfg: TrainConfig, num_steps: int) -> TrainConfig:
    """Move a resumed run's last step (and so its cosine schedule's end); saved for later resumes."""
    import dataclasses

    done = run.checkpoint_step()
    if num_steps <= done:
        raise UsageError(f"--num-steps {num_steps} must be above the checkpoint's step {done}")
    cfg = dataclasses.replace(cfg, num_steps=num_steps)
    cfg.save(run.path / "train_config.json")
    return cfg


def _run_path(name: str) -> Path:
    candidate = Path(name).expanduser()
    if candidate.is_absolute() or name.startswith("."):
        return candidate
    return paths.runs_dir() / name


def load_or_train_tokenizer(cfg: TrainConfig, run: RunDir, init_dir: Path | None, resume: bool) -> Any:
    from bash_ai.model_files import TOKENIZER_FILE
    from bash_ai.tokenizer import BPETokenizer, CharTokenizer, load_tokenizer

    if resume:
        return load_tokenizer(run.latest / "model" / TOKENIZER_FILE)
    if init_dir is not None:
        return load_tokenizer(init_dir / TOKENIZER_FILE)
    if cfg.tokenizer_path:
        return load_tokenizer(Path(cfg.tokenizer_path))
    cached = run.path / TOKENIZER_FILE
    if cached.is_file():
        return load_tokenizer(cached)
    from trainer.data.tokenized import iter_tokenizer_texts

    texts = list(
        iter_tokenizer_texts(cfg.datasets or [], limit_bytes=int(cfg.extra.get("tokenizer_bytes", 20_000_000)))
    )
    tokenizer: Any
    if cfg.tokenizer == "char":
        tokenizer = CharTokenizer.train(texts)
    else:
        tokenizer = BPETokenizer.train(texts, vocab_size=cfg.vocab_size)
    tokenizer.save(cached)
    return tokenizer


def model_config_for(cfg: TrainConfig, tokenizer: Any, init_config: ModelConfig | None) -> ModelConfig:
    overrides = cfg.model_overrides()
    if init_config is not None:
        clash = {k: v for k, v in overrides.items() if getattr(init_config, k) != v}
        if clash:
            raise UsageError(f"--init fixes the model shape; these options disagree with it: {clash}")
        return init_config
    return preset(cfg.model_size, tokenizer.vocab_size, **overrides)


def run_training(
    cfg: TrainConfig,
    run_name: str | None = None,
    resume: bool = False,
    export_to: Path | None = None,
    stop_after: int | None = None,
    report: Callable[[str], None] | None = None,
    export_dtype: str = "float32",
    resume_num_steps: int | None = None,
) -> dict[str, Any]:
    """Train (or continue) a run; returns the loop's summary plus the run directory."""
    run, cfg = resolve_run(cfg, run_name, resume, resume_num_steps)
    init_dir: Path | None = None
    init_config: ModelConfig | None = None
    init_weights = None
    if cfg.init and not resume:
        from bash_ai.checkpoint import load_weights
        from bash_ai.registry import resolve_model_dir

        init_dir = resolve_model_dir(cfg.init)
        init_config, init_weights = load_weights(init_dir)
    if not resume:
        run.path.mkdir(parents=True, exist_ok=True)
        cfg.save(run.path / "train_config.json")

    tokenizer = load_or_train_tokenizer(cfg, run, init_dir, resume)
    if resume:
        from bash_ai.checkpoint import load_config

        model_config = load_config(run.latest / "model")
    else:
        model_config = model_config_for(cfg, tokenizer, init_config)

    world = int(os.environ.get("WORLD_SIZE", "1"))
    train_data, val_data = make_batches(cfg, tokenizer, model_config, global_rows=cfg.batch_size * world, run=run)
    if report is not None and int(os.environ.get("RANK", "0")) == 0:
        report(f"{cfg.stage} on {cfg.backend}: {describe(model_config)}; run {run.path}")

    from trainer.loop import TrainJob

    job = TrainJob(cfg, model_config, tokenizer, train_data, val_data, run, init_weights, resume, stop_after)
    if cfg.backend == "mlx":
        from trainer.loop_mlx import train_mlx

        summary = train_mlx(job)
    else:
        from trainer.loop_torch import train_torch

        summary = train_torch(job)

    if summary["finished"] and int(os.environ.get("RANK", "0")) == 0:
        from trainer.plot import save_png, terminal_chart

        records = list(run.metrics())
        save_png(records, run.path / "loss.png", title=f"bash-ai {cfg.stage} ({describe(model_config)})")
        chart = terminal_chart(records)
        if chart and report is not None:
            report(chart)
        if export_to is not None:
            export_model(run.final_model, Path(export_to), export_dtype)
    return {**summary, "run": str(run.path)}


def export_model(model_dir: Path, dest: Path, dtype: str = "float32") -> Path:
    """Copy a finished model directory, optionally as float16 (half the size, same runtime)."""
    from bash_ai.checkpoint import load_weights, save_model_dir
    from bash_ai.model_files import PARTS
    from bash_ai.tokenizer import load_tokenizer

    config, weights = load_weights(model_dir)
    extra = {name: model_dir / name for name in PARTS if (model_dir / name).is_file()}
    return save_model_dir(dest, config, weights, load_tokenizer(model_dir), dtype=dtype, extra_files=extra)


def run_rerank(
    init: str,
    run_name: str | None = None,
    export_to: Path | None = None,
    export_dtype: str = "float32",
    limit: int | None = None,
    report: Callable[[str], None] | None = None,
    structure: str | None = None,
    pools: Sequence[Path] | None = None,
    review_top: int = 3,
    structure_beams: int = 0,
    suite: str = "nl2bash-dev",
    match: bool = False,
    suite_weights: Sequence[tuple[str, float]] = (),
    short: bool = False,
    programs: bool = False,
    sources: bool = False,
    excess: bool = False,
) -> dict[str, Any]:
    """The ``rerank`` stage: ``init``'s model with a trained reranker, as run ``run_name``'s model;
    ``structure``: a model trained with ``--targets template`` that ranks with it (and ships in it);
    ``pools``: previous rerank runs' proposals (their ``pools.json.gz``, one per tuning suite) to fit
    on, instead of proposing for ``suite``'s requests;
    ``review_top``: the first stage's best candidates a review stage re-ranks (0: none);
    ``structure_beams``: the structure model's templates written out into each pool (``DecodeConfig``);
    ``match``: the ``MATCH`` column (``RerankSpec.match``); ``suite_weights``: (suite, weight) of
    the tuning suites whose pools count more or less in the fit (``RerankSpec.suite_weights``);
    ``short``: every column again for short requests (``RerankSpec.short``); ``programs`` and
    ``sources``: the ``PROGRAMS`` and ``SOURCE_COLUMNS`` (``RerankSpec``).

    The run directory keeps ``rerank.json`` (the figures of the fit) for the model card, and the
    proposals the fit was made on.
    """
    import json

    from bash_ai.io import atomic_write_text
    from bash_ai.registry import resolve_model_dir
    from trainer.rerank import POOLS_FILE, RerankSpec, train_reranker

    source = resolve_model_dir(init)
    structure_dir = resolve_model_dir(structure) if structure is not None else None
    run = RunDir(_run_path(run_name or f"rerank-{time.strftime('%Y%m%d-%H%M%S')}"))
    if run.final_model.exists():
        raise UsageError(f"run {run.path} already has a model; choose another --name")
    run.path.mkdir(parents=True, exist_ok=True)
    summary = train_reranker(
        source,
        run.final_model,
        limit=limit,
        report=report,
        structure=structure_dir,
        suite=suite,
        pools_in=list(pools or []),
        pools_out=run.path / POOLS_FILE,
        spec=RerankSpec(
            review_top=review_top,
            structure_beams=structure_beams,
            match=match,
            suite_weights=tuple(suite_weights),
            short=short,
            programs=programs,
            sources=sources,
            excess=excess,
        ),
    )
    summary["init"] = str(source)
    atomic_write_text(run.path / "rerank.json", json.dumps(summary, indent=2, sort_keys=True) + "\n")
    if export_to is not None:
        export_model(run.final_model, Path(export_to), export_dtype)
    return {**summary, "run": str(run.path)}


def run_index(
    init: str,
    datasets: list[str],
    topics: bool = False,
    run_name: str | None = None,
    export_to: Path | None = None,
    report: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The ``index`` stage: ``init``'s model (its weights, tokenizer and parts copied as they are)
    with a retrieval index built anew over the training pairs of ``datasets``, as run
    ``run_name``'s model, and copied as it is to ``export_to``; ``topics``: each pair indexed with
    its page's name too (``RetrievalIndex.build``). The run directory keeps ``index.json`` (what was
    built)."""
    import json
    import shutil

    from bash_ai.io import atomic_write_text, staged_dir
    from bash_ai.model_files import CONFIG_FILE, INDEX_FILE, PARTS, TOKENIZER_FILE, WEIGHTS_FILE
    from bash_ai.registry import resolve_model_dir
    from trainer.data.mixing import iter_training_documents
    from trainer.data.retrieval import build_index

    if not datasets:
        raise UsageError("--stage index needs --data (the datasets whose training pairs it indexes)")
    source = resolve_model_dir(init)
    run = RunDir(_run_path(run_name or f"index-{time.strftime('%Y%m%d-%H%M%S')}"))
    if run.final_model.exists():
        raise UsageError(f"run {run.path} already has a model; choose another --name")
    index, _ = build_index(iter_training_documents(datasets), topics=topics)
    if not len(index):
        raise UsageError(f"{', '.join(datasets)}: no training pairs to index")
    run.path.mkdir(parents=True, exist_ok=True)
    with staged_dir(run.final_model) as tmp:
        for name in (CONFIG_FILE, WEIGHTS_FILE, TOKENIZER_FILE, *PARTS):
            if name != INDEX_FILE and (source / name).is_file():
                shutil.copyfile(source / name, tmp / name)
        index.save(tmp / INDEX_FILE)
    summary = {
        "init": str(source),
        "datasets": list(datasets),
        "pairs": len(index),
        "topics": int(index.meta.get("topics", 0)),
        **{k: int(v) for k, v in index.meta.items() if k.startswith("count.")},
    }
    atomic_write_text(run.path / "index.json", json.dumps(summary, indent=2, sort_keys=True) + "\n")
    if report is not None:
        with_topics = f", {summary['topics']} with their page's name" if topics else ""
        report(f"index: {len(index)} training pairs of {', '.join(datasets)}{with_topics}; run {run.path}")
    if export_to is not None:
        with staged_dir(Path(export_to)) as tmp:  # as ``RunDir.finish`` publishes a model
            shutil.copytree(run.final_model, tmp, dirs_exist_ok=True)
    return {**summary, "run": str(run.path)}


def make_batches(
    cfg: TrainConfig, tokenizer: Any, model_config: ModelConfig, global_rows: int, run: RunDir | None = None
) -> tuple[Any, Any]:
    """Tokenize (or reuse the cache) and wrap it as train/val BatchSources.

    With ``retrieval_k``, the index over the mix's trainable pairs is built first, written to the
    run directory and copied into every model directory the run saves.
    """
    from trainer.data.sampler import Batches
    from trainer.data.tokenized import build_tokenized

    if cfg.contrast:
        return contrast_batches(cfg, tokenizer, global_rows, model_config.context_length)
    retrieval = None
    if cfg.retrieval_k > 0:
        from bash_ai.model_files import INDEX_FILE
        from trainer.data.retrieval import RetrievalSpec, TrainingRetrieval

        spec = RetrievalSpec(k=cfg.retrieval_k, variants=cfg.retrieval_variants, topics=cfg.index_topics)
        retrieval = TrainingRetrieval.for_datasets(spec, cfg.datasets or [])
        if run is not None:
            run.model_files[INDEX_FILE] = retrieval.index.save(run.path / INDEX_FILE)
    arrays = build_tokenized(
        cfg.datasets or [],
        tokenizer,
        val_fraction=cfg.val_fraction,
        retrieval=retrieval,
        targets=cfg.targets,
        interleave=cfg.interleave,
    )
    aligned = bool(cfg.aligned_windows)
    rows, block, ratio = global_rows, model_config.context_length, cfg.language_ratio
    train = Batches(arrays, "train", rows, block, cfg.seed, language_ratio=ratio, aligned=aligned)
    val = Batches(arrays, "val", rows, block, cfg.seed + 1, language_ratio=ratio, aligned=aligned)
    return train, val


def contrast_batches(cfg: TrainConfig, tokenizer: Any, groups_per_batch: int, context_length: int) -> tuple[Any, Any]:
    """Train/val ``ContrastBatches`` over the mix's pairs (``--contrast N``: ``N`` other templates
    ranked against each pair's own); ``groups_per_batch`` groups per batch."""
    from bash_ai import prompt
    from trainer.data.contrast import ContrastBatches, build_groups
    from trainer.data.mixing import iter_training_documents
    from trainer.data.tokenized import SegmentEncoder

    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise UsageError("--contrast trains on one process; run it without torchrun")
    pad = SegmentEncoder(tokenizer).special[prompt.PAD]
    docs = iter_training_documents(cfg.datasets or [])
    train, val = build_groups(docs, tokenizer, cfg.contrast, cfg.val_fraction, context_length)
    size = cfg.contrast + 1
    val_batches = ContrastBatches(val, groups_per_batch, size, cfg.seed + 1, pad) if val else None
    return ContrastBatches(train, groups_per_batch, size, cfg.seed, pad), val_batches
