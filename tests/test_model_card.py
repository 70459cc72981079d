"""The model card keeps the records it was written from, and carries stages of an earlier card."""

from __future__ import annotations

import json
from pathlib import Path

from trainer.model_card import _retrieval_lines, carried_stages, keep_records
from trainer.run_dir import RunDir

OLD_CARD = """# bash-ai bundled model

## Training

Weights stored as f16.

### `base`: stage `bilingual` on `torch`

- 1,200 steps

### `ft`: stage `finetune` on `torch`, initialised from `base`

- 2,800 steps

How this copy was made: by hand.

## Data and licences

| dataset |
"""


def test_carried_stages_are_the_old_stage_sections_verbatim() -> None:
    carried = carried_stages(OLD_CARD)
    assert carried.startswith("### `base`") and carried.rstrip().endswith("How this copy was made: by hand.")
    assert "## Data and licences" not in carried and "Weights stored" not in carried
    assert carried_stages("# a card without stages\n") == ""
    # A stage written again from its records is left out; a later "## " section ends the stages.
    again = carried_stages(OLD_CARD.replace("## Data and licences", "## Retrieval index\n\nx\n\n## Data"), ("ft",))
    assert again.startswith("### `base`") and "### `ft`" not in again and "Retrieval index" not in again


def test_records_are_copied_into_the_model_dir(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "runs" / "stage-2")
    run.path.mkdir(parents=True)
    (run.path / "train_config.json").write_text(json.dumps({"stage": "finetune"}))
    run.log({"step": 1, "loss": 2.0})
    model = tmp_path / "model"
    model.mkdir()
    keep_records([run], model)
    kept = model / "training" / "stage-2"
    assert json.loads((kept / "train_config.json").read_text()) == {"stage": "finetune"}
    assert (kept / "metrics.jsonl").read_text() == (run.path / "metrics.jsonl").read_text()


def test_retrieval_section_counts_the_index(tmp_path: Path) -> None:
    from bash_ai.retrieval import INDEX_FILE, RetrievalIndex

    assert _retrieval_lines(tmp_path) == []
    RetrievalIndex.build([("a", "ls", "nl2bash"), ("b", "du", "tldr"), ("c", "df", "tldr")]).save(tmp_path / INDEX_FILE)
    text = "\n".join(_retrieval_lines(tmp_path))
    assert "3 training request/command pairs (nl2bash 1, tldr 2)" in text and "name of their page" not in text
    assert "built by `bash-ai train --stage index`" in text and "howto pairs" not in text
    RetrievalIndex.build([("a", "ls", "nl2bash"), ("b", "du", "howto")]).save(tmp_path / INDEX_FILE)
    assert "The 1 howto pairs are everyday requests written for bash-ai" in "\n".join(_retrieval_lines(tmp_path))
    pairs = [("a", "ls", "nl2bash"), ("b", "du", "tldr"), ("c", "df", "tldr")]
    RetrievalIndex.build(pairs, ["", "du", "df"]).save(tmp_path / INDEX_FILE)
    assert "2 of the pairs (the tldr examples) are indexed with the name of their page" in "\n".join(
        _retrieval_lines(tmp_path)
    )


def test_reranker_section_reports_its_fit(tmp_path: Path) -> None:
    import numpy as np

    from bash_ai.engine.rerank import FEATURES, RERANKER_FILE, Reranker
    from trainer.model_card import _reranker_lines

    assert _reranker_lines(tmp_path) == []
    n = len(FEATURES)
    Reranker(np.zeros(1 << 12, dtype=np.float32), np.ones(n), np.zeros(n), np.ones(n)).save(tmp_path / RERANKER_FILE)
    run = RunDir(tmp_path / "runs" / "rerank-1")
    run.path.mkdir(parents=True)
    fit = {"suite": "nl2bash-dev", "requests": 779, "lexicon_groups": 39711}
    fit |= {"hand_top5": 0.265, "cv_top5": 0.31, "hand_top1": -0.031, "cv_top1": 0.004}
    (run.path / "rerank.json").write_text(json.dumps(fit))
    keep_records([run], tmp_path)
    text = "\n".join(_reranker_lines(tmp_path))
    assert "4,096 hashed" in text and "`rerank-1` on nl2bash-dev (779 requests, 39,711 lexicon" in text
    assert "top-5 0.265 (hand-set ranking) -> 0.310, top-1 -0.031 -> 0.004" in text
    assert "structure" not in text


def test_reranker_section_names_the_structure_feature(tmp_path: Path) -> None:
    import numpy as np

    from bash_ai.engine.rerank import FEATURE_SETS, RERANKER_FILE, Reranker
    from trainer.model_card import _reranker_lines

    n = len(FEATURE_SETS[1])
    Reranker(np.zeros(1 << 8, np.float32), np.ones(n), np.zeros(n), np.ones(n), FEATURE_SETS[1]).save(
        tmp_path / RERANKER_FILE
    )
    text = "\n".join(_reranker_lines(tmp_path))
    assert f"over {n} features" in text and ", invented, structure)" in text
    assert "under `structure.safetensors`" in text


def test_reranker_section_names_the_program_features_and_their_table(tmp_path: Path) -> None:
    import numpy as np

    from bash_ai.engine.rerank import RERANKER_FILE, Reranker, feature_names
    from trainer.model_card import _reranker_lines

    names = feature_names(programs=True)
    n = len(names)
    table = {"find": 0.93, "whois": 0.5}
    Reranker(np.zeros(1 << 8, np.float32), np.ones(n), np.zeros(n), np.ones(n), names, programs=table).save(
        tmp_path / RERANKER_FILE
    )
    text = "\n".join(_reranker_lines(tmp_path))
    assert f"over {n} features" in text and ", program_named, program_missed)" in text
    assert "a table of 2 programs from the retrieval index's pairs" in text


def test_reranker_section_names_the_source_features(tmp_path: Path) -> None:
    import numpy as np

    from bash_ai.engine.rerank import RERANKER_FILE, Reranker, feature_names
    from trainer.model_card import _reranker_lines

    names = feature_names(sources=True)
    n = len(names)
    Reranker(np.zeros(1 << 8, np.float32), np.ones(n), np.zeros(n), np.ones(n), names).save(tmp_path / RERANKER_FILE)
    text = "\n".join(_reranker_lines(tmp_path))
    assert ", from_howto, from_tldr)" in text and "The `from_howto` and `from_tldr` features say" in text


def test_a_structure_stage_says_what_it_trained_on(tmp_path: Path) -> None:
    from trainer.model_card import _stage_lines

    run = RunDir(tmp_path / "structure")
    run.path.mkdir()
    run.log({"step": 10, "loss": 2.0, "tokens": 40960, "tokens_per_s": 650.0, "elapsed_s": 63.0})
    cfg = {"stage": "finetune", "backend": "torch", "datasets": ["nl2bash"], "language_ratio": 0.0}
    cfg |= {"num_steps": 10, "batch_size": 16, "lr": 6e-4, "warmup_steps": 5, "min_lr_ratio": 0.1}
    cfg |= {"weight_decay": 0.1, "grad_clip": 1.0, "seed": 21, "precision": "fp32"}
    plain = "\n".join(_stage_lines(run, cfg, 256))
    assert "targets" not in plain and "dropout" not in plain
    cfg |= {"targets": "template", "dropout": 0.1, "label_smoothing": 0.1}
    text = "\n".join(_stage_lines(run, cfg, 256))
    assert "targets: templates (arguments abstracted); dropout 0.1; label smoothing 0.1; precision fp32" in text
    assert "ranking" not in text
    text = "\n".join(_stage_lines(run, cfg | {"contrast": 8}, 256))
    assert "a group of the pair's template and 8 others, soft targets from the NLC2CMD score" in text
    assert "10 steps x 16 groups of 9 rows x 256 tokens" in text and "10 steps x 16 rows x 256 tokens" in plain


def test_reranker_section_names_the_review_stage_and_both_stages_figures(tmp_path: Path) -> None:
    import numpy as np

    from bash_ai.engine.rerank import FEATURES, RERANKER_FILE, Reranker, Review
    from trainer.model_card import _reranker_lines

    n = len(FEATURES)
    review = Review(np.ones(n + 1), np.zeros(n + 1), np.ones(n + 1), 3)
    Reranker(np.zeros(1 << 8, np.float32), np.ones(n), np.zeros(n), np.ones(n), FEATURES, review).save(
        tmp_path / RERANKER_FILE
    )
    run = RunDir(tmp_path / "runs" / "review-1")
    run.path.mkdir(parents=True)
    fit = {"suite": "nl2bash-dev", "requests": 779, "lexicon_groups": 39711, "review_top": 3}
    fit |= {"hand_top5": 0.265, "cv_top5": 0.338, "hand_top1": -0.031, "cv_top1": 0.052}
    fit |= {"first_top5": 0.34, "first_top1": 0.032}
    (run.path / "rerank.json").write_text(json.dumps(fit))
    keep_records([run], tmp_path)
    text = "\n".join(_reranker_lines(tmp_path))
    assert "re-ranks the first stage's 3 best finished candidates" in text and "log p(request | candidate)" in text
    assert "top-1 -0.031 -> 0.052. Both stages; the first alone: top-5 0.340, top-1 0.032." in text
