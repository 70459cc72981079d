"""Contrastive training of a structure model (``--targets template --contrast N``): the groups hold
a pair's own template and distinct others, scored by the NLC2CMD metric; the rows are the ids the
engine scores at run time; the loss is the groups' ranking; the batches resume exactly; and a real
run through the CLI trains, validates and resumes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from test_train_pipeline import TINY, _bash_ai, home_with_nl2bash  # noqa: F401  (a fixture)

from bash_ai.checkpoint import load_numpy_model, load_weights
from bash_ai.engine.structure import Structure
from bash_ai.errors import DataError
from bash_ai.model.torch_gpt import GPT
from bash_ai.nlc2cmd import nlc2cmd_score
from bash_ai.registry import load
from trainer.data.contrast import ContrastBatches, build_groups, candidate_templates, drop_one_flag, soft_targets
from trainer.data.document import Document
from trainer.loop_torch import contrast_loss, load_into_torch


def _pair(i: int, request: str, command: str) -> tuple[str, Document]:
    return "test", Document("pair", f"test:{i}", "test", "MIT", request=request, command=command)


DOCS = [
    _pair(0, "list all files with details", "ls -la /tmp"),
    _pair(1, "list files with details sorted by time", "ls -lt /var/log"),
    _pair(2, "list the files", "ls ."),
    _pair(3, "find text files in the current folder", "find . -name '*.txt'"),
    _pair(4, "find text files modified today", "find . -name '*.txt' -mtime 0"),
    _pair(5, "count the lines of files", "wc -l a.txt"),
]


def test_a_flag_is_dropped_by_the_seed_and_never_the_program() -> None:
    assert drop_one_flag("ls -a -l ARG", "x") in ("ls -l ARG", "ls -a ARG")
    assert drop_one_flag("ls -a -l ARG", "x") == drop_one_flag("ls -a -l ARG", "x")
    assert {drop_one_flag("ls -a -l ARG", str(i)) for i in range(20)} == {"ls -l ARG", "ls -a ARG"}
    assert drop_one_flag("echo ARG", "x") is None and drop_one_flag("-x", "x") is None


def test_candidates_are_the_own_template_then_distinct_others_with_their_metric_scores() -> None:
    _, doc = DOCS[0]
    neighbours = ["ls -lt /var/log", "ls -la /home", "ls .", "ls -lt /etc", "wc -l a.txt"]
    got = candidate_templates(doc, neighbours, negatives=3)
    assert got[0] == ("ls -a -l ARG", 1.0) or got[0] == ("ls -la ARG", 1.0)
    templates = [t for t, _ in got]
    assert len(got) == 4 and len(set(templates)) == 4  # own + 3, no template twice
    dropped = drop_one_flag(templates[0], doc.id)
    assert templates[1] == dropped and got[1][1] == nlc2cmd_score(dropped, templates[0]) < 1.0
    assert got[2] == (templates[2], nlc2cmd_score("ls -lt /var/log", doc.command))  # the own template's twin skipped
    assert candidate_templates(Document("pair", "t:9", "t", "MIT", request="r", command="   "), neighbours, 3) == []


def test_soft_targets_follow_the_metric_and_sum_to_one() -> None:
    t = soft_targets([1.0, 0.5, -1.0])
    assert t.sum() == pytest.approx(1.0) and t[0] > t[1] > t[2] and t[1] / t[0] == pytest.approx(np.exp(-5))


def test_rows_are_what_the_engine_scores_and_the_loss_is_their_ranking(trained_model_dir: Path) -> None:
    engine = load(str(trained_model_dir))
    train, val = build_groups(DOCS, engine.tokenizer, negatives=3, val_fraction=0.0)
    assert not val and len(train) == len(DOCS)
    group = train[0]
    batches = ContrastBatches(train, 2, 4, seed=0, pad_id=0)
    x, y, mask, target = batches.assemble([group])
    assert x.shape[0] == 4 and target[: len(group.rows)].sum() == pytest.approx(1.0)
    # Each row's masked targets are exactly the template's ids the engine scores, after its prompt.
    prompt = engine.template_prompt(DOCS[0][1].request)
    for r, ids in enumerate(group.rows):
        assert list(ids[: len(prompt)]) == prompt
        template = engine.tokenizer.decode(list(ids[len(prompt) : -1]))
        assert list(y[r][mask[r]]) == engine.template_ids([template])[0]
    # Their summed log-probabilities are Structure.logprobs' scores; the loss ranks them.
    config, weights = load_weights(trained_model_dir)
    model = GPT(config)
    load_into_torch(model, weights)
    model.eval()
    tensors = [torch.from_numpy(a) for a in (x, y, mask, target)]
    with torch.no_grad():
        loss = float(contrast_loss(model, tensors, group=4, lm_weight=0.0))
    templates = [list(ids[len(prompt) :]) for ids in group.rows]
    scores = Structure(load_numpy_model(trained_model_dir)).logprobs(prompt, templates)
    log_rank = scores - np.log(np.exp(scores - scores.max()).sum()) - scores.max()
    assert loss == pytest.approx(-(np.array(group.target) * log_rank).sum(), abs=1e-3)
    with torch.no_grad():
        both = float(contrast_loss(model, tensors, group=4, lm_weight=1.0))
    assert both == pytest.approx(loss - scores[0] / (len(templates[0])), abs=1e-3)


def test_batches_resume_exactly_and_refuse_another_setup(trained_model_dir: Path) -> None:
    engine = load(str(trained_model_dir))
    train, _ = build_groups(DOCS, engine.tokenizer, negatives=2, val_fraction=0.0)
    whole = ContrastBatches(train, 2, 3, seed=5, pad_id=0)
    seen = [whole.next_batch() for _ in range(7)]  # more than an epoch (3 batches)
    later = ContrastBatches(train, 2, 3, seed=5, pad_id=0)
    later.load_state_dict(json.loads(json.dumps({**whole.state_dict(), "step": 4})))
    for expected in seen[4:]:
        assert all(np.array_equal(a, b) for a, b in zip(later.next_batch(), expected, strict=True))

    def owns(batches: list) -> list[tuple[int, ...]]:  # type: ignore[type-arg]
        return sorted(tuple(y[r][mask[r]].tolist()) for _, y, mask, _ in batches for r in range(0, len(y), 3))

    assert owns(seen[:3]) == owns(seen[3:6]) and len(set(owns(seen[:3]))) == len(train)  # each epoch: every group once
    with pytest.raises(DataError, match="saved with seed=6"):
        ContrastBatches(train, 2, 3, seed=5, pad_id=0).load_state_dict({**whole.state_dict(), "seed": 6})
    with pytest.raises(DataError):
        build_groups([], engine.tokenizer, negatives=2, val_fraction=0.0)


def test_a_contrastive_run_trains_validates_and_resumes_through_the_cli(home_with_nl2bash: Path) -> None:  # noqa: F811
    home = home_with_nl2bash
    args = ["--data", "nl2bash", *TINY, "--targets", "template", "--contrast", "3", "--eval-interval", "2"]
    _bash_ai(
        "train", "--stage", "finetune", *args, "--num-steps", "2", "--ckpt-interval", "2", "--name", "ctr", home=home
    )
    run = home / "data" / "runs" / "ctr"
    assert json.loads((run / "train_config.json").read_text())["contrast"] == 3
    _bash_ai("train", "--resume", "--name", "ctr", "--num-steps", "4", home=home)
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if "loss" in r] == [2, 4]
    val = [r["val_loss"] for r in records if "val_loss" in r]
    assert len(val) == 2 and all(np.isfinite(val)) and min(val) > 0
    assert (run / "model" / "model.safetensors").is_file()
    for bad, message in (
        (["--contrast", "3"], "--contrast ranks templates"),
        (["--targets", "template", "--contrast", "99"], "--contrast"),
    ):
        proc = _bash_ai("train", "--data", "nl2bash", *bad, home=home, check=False)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
