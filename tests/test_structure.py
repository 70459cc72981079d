"""The structure model inside a model directory: its file round-trips and scores as its source
model does, it refuses another tokenizer, the reranker ranks with its scores (and says so in its
file), ``models verify`` checks the pair, and ``bash-ai train --stage rerank --structure`` ships it."""

from __future__ import annotations

import json
import shutil
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from safetensors import safe_open
from test_rerank import _bash_ai, rerank_setup

from bash_ai.checkpoint import TOKENIZER_FILE, load_numpy_model
from bash_ai.engine.rerank import FEATURE_SETS, FEATURES, RERANKER_FILE, STRUCTURE, Reranker, load_reranker
from bash_ai.engine.structure import STRUCTURE_FILE, Structure, load_structure, save_structure
from bash_ai.errors import ModelError, UsageError
from bash_ai.registry import load, verify_model_dir
from bash_ai.retrieval import RetrievalIndex
from bash_ai.templates import command_template

COMMANDS = ["echo hello", "echo hello world", "ls -la /tmp", "find . -name '*.txt'"]


def _reranker(names: tuple[str, ...], **named: float) -> Reranker:
    n = len(names)
    weights = np.array([named.get(name, 0.0) for name in names])
    return Reranker(np.zeros(1 << 8, dtype=np.float32), weights, np.zeros(n), np.ones(n), names)


def test_a_structure_file_scores_as_its_source_model_and_int8_is_a_quarter(
    trained_model_dir: Path, tmp_path: Path
) -> None:
    engine = load(str(trained_model_dir))
    prompt, templates = engine.template_prompt("say hello"), engine.template_ids(COMMANDS)
    assert engine.tokenizer.decode(templates[2][:-1]) == "ls -a -l ARG" and templates[2][-1] == engine.eot_id
    source = Structure(load_numpy_model(trained_model_dir)).logprobs(prompt, templates)
    tokenizer = trained_model_dir / TOKENIZER_FILE
    exact = Structure.load(save_structure(trained_model_dir, tmp_path / "f32.safetensors", "float32"), tokenizer)
    assert np.allclose(exact.logprobs(prompt, templates), source, atol=1e-4)
    small = save_structure(trained_model_dir, tmp_path / "i8.safetensors", "int8")
    assert small.stat().st_size < 0.35 * (tmp_path / "f32.safetensors").stat().st_size
    rounded = Structure.load(small, tokenizer).logprobs(prompt, templates)
    assert np.all(np.isfinite(rounded)) and np.allclose(rounded, source, rtol=0.1, atol=0.5)
    assert Structure.load(small, tokenizer).logprobs(prompt, []).shape == (0,)


def test_each_distinct_template_is_scored_once_and_a_prompt_in_a_row_runs_once(
    trained_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bash_ai.engine.beam as beam
    from bash_ai.engine.beam import sequence_logprobs

    engine = load(str(trained_model_dir))
    model = load_numpy_model(trained_model_dir)
    prompt = engine.template_prompt("say hello")
    templates = engine.template_ids(COMMANDS + ["echo bye", "ls -la /var"])  # two repeat a template
    assert templates[0] == templates[4] and templates[2] == templates[5]
    plain = sequence_logprobs(model, prompt, templates)  # every row, its own prefill
    prefills, rows = [], []
    real_prefill, real_score = beam.prefill, beam.sequence_logprobs
    monkeypatch.setattr(beam, "prefill", lambda *a, **k: prefills.append(1) or real_prefill(*a, **k))
    monkeypatch.setattr(beam, "sequence_logprobs", lambda m, p, c, *r: rows.append(len(c)) or real_score(m, p, c, *r))
    structure = Structure(model)
    np.testing.assert_allclose(structure.logprobs(prompt, templates), plain, rtol=1e-6)
    np.testing.assert_allclose(structure.logprobs(prompt, templates[:2]), plain[:2], rtol=1e-6)
    assert rows == [4, 2] and len(prefills) == 1  # 4 distinct templates; the prompt ran once
    structure.logprobs(engine.template_prompt("say bye"), templates[:1])
    assert len(prefills) == 2  # another prompt runs anew


def test_a_structure_model_trained_with_retrieved_examples_sees_them_as_templates(
    trained_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bash_ai.engine import structure
    from bash_ai.templates import command_template
    from trainer.rerank import structure_examples

    monkeypatch.setattr(structure, "MAX_TEMPLATE_TOKENS", 8)  # room for the examples in the tiny context
    engine = load(str(trained_model_dir))
    engine.set_index(
        RetrievalIndex.build([("say hi there", "echo hello world", "t"), ("list tmp", "ls -la /tmp", "t")])
    )
    request = "say hi, list"
    plain = engine.template_prompt(request)
    assert plain == engine.fit_prompt(engine.task_ids("ask", request), 8)[0]
    found = engine.neighbors(request, 2)
    assert [n.command for n in found] == ["echo hello world", "ls -la /tmp"]
    prompt = engine.template_prompt(request, found)
    text = engine.tokenizer.decode(prompt)
    # the examples' commands as templates, nearest last, then the request: as the trainer writes them
    assert text.index(command_template("ls -la /tmp")) < text.index(command_template("echo hello world"))
    assert "/tmp" not in text and prompt[-len(plain) :] == plain
    # the file says how many examples its model trained with; the engine retrieves them for it
    tokenizer = trained_model_dir / TOKENIZER_FILE
    assert Structure.load(save_structure(trained_model_dir, tmp_path / "0.safetensors"), tokenizer).examples == 0
    two = Structure.load(save_structure(trained_model_dir, tmp_path / "2.safetensors", examples=2), tokenizer)
    assert two.examples == 2
    engine.set_structure(two)
    templates = engine.template_ids(COMMANDS)
    scores = engine.structure_logprobs(request, COMMANDS)
    assert np.allclose(scores, two.logprobs(prompt, templates))
    assert not np.allclose(scores, two.logprobs(plain, templates))
    given = engine.structure_logprobs(request, COMMANDS, found[:1])
    assert np.allclose(given, two.logprobs(engine.template_prompt(request, found[:1]), templates))
    # a training run's record says how many it trained with (a run's model/ or latest/model/)
    run = tmp_path / "run"
    (run / "latest" / "model").mkdir(parents=True)
    (run / "model").mkdir()
    (run / "train_config.json").write_text(json.dumps({"retrieval_k": 3}), encoding="utf-8")
    assert structure_examples(run / "model") == 3 == structure_examples(run / "latest" / "model")
    assert structure_examples(trained_model_dir) == 0


def test_a_structure_model_with_a_shorter_context_gets_a_prompt_that_fits_it(
    trained_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bash_ai.checkpoint import load_weights, save_model_dir
    from bash_ai.engine import structure
    from bash_ai.tokenizer import load_tokenizer

    monkeypatch.setattr(structure, "MAX_TEMPLATE_TOKENS", 8)
    config, weights = load_weights(trained_model_dir)
    short = replace(config, context_length=24)  # the answering model's is 64: room for a 16-token prompt
    weights["pos_emb.weight"] = weights["pos_emb.weight"][: short.context_length]
    save_model_dir(tmp_path / "short", short, weights, load_tokenizer(trained_model_dir))
    path = save_structure(tmp_path / "short", tmp_path / "short.safetensors", "float32")
    engine = load(str(trained_model_dir))
    engine.set_structure(Structure.load(path, trained_model_dir / TOKENIZER_FILE))
    request = "say hello " * 20  # ~60 tokens: more than the 16 the short model leaves a prompt
    assert len(engine.template_prompt(request)) > 16
    prompt = engine.template_prompt(request, context=short.context_length)
    assert len(prompt) == 16 and prompt[0] == engine.template_prompt(request)[0]  # the task marker stays
    scores = engine.structure_logprobs(request, COMMANDS)  # the engine fits it to the structure model
    assert scores.shape == (len(COMMANDS),) and np.all(np.isfinite(scores))


def test_a_structure_file_of_another_tokenizer_or_damaged_is_one_clear_error(
    trained_model_dir: Path, tmp_path: Path
) -> None:
    path = save_structure(trained_model_dir, tmp_path / STRUCTURE_FILE, "int8")
    other = tmp_path / "other-tokenizer.json"
    other.write_bytes((trained_model_dir / TOKENIZER_FILE).read_bytes() + b"\n")
    with pytest.raises(ModelError, match="another tokenizer") as caught:
        Structure.load(path, other)
    assert "\n" not in str(caught.value)
    path.write_bytes(b"not a safetensors file")
    with pytest.raises(ModelError, match="unreadable structure model") as caught:
        Structure.load(path, trained_model_dir / TOKENIZER_FILE)
    assert "\n" not in str(caught.value)
    # weights that do not fit the config recorded beside them: named once, with what is wrong
    from safetensors.numpy import save_file

    save_structure(trained_model_dir, path, "float32")
    with safe_open(str(path), framework="np") as handle:
        meta, tensors = handle.metadata(), {n: handle.get_tensor(n) for n in handle.keys()}  # noqa: SIM118
    config = json.loads(meta["config"])
    save_file(tensors, str(path), {**meta, "config": json.dumps({**config, "n_layer": config["n_layer"] + 1})})
    with pytest.raises(ModelError, match="unreadable structure model") as caught:
        Structure.load(path, trained_model_dir / TOKENIZER_FILE)
    assert str(caught.value).count(str(path)) == 1 and "\n" not in str(caught.value)
    assert load_structure(tmp_path / "elsewhere") is None


def test_a_reranker_with_the_structure_feature_round_trips_and_needs_its_scores(tmp_path: Path) -> None:
    from bash_ai.engine.proposal import Proposal

    saved = _reranker(FEATURE_SETS[1], structure=1.0)
    saved.save(tmp_path / RERANKER_FILE)
    loaded = load_reranker(tmp_path)
    assert loaded is not None and loaded.wants_structure and loaded.names == (*FEATURES, STRUCTURE)
    assert not _reranker(FEATURES).wants_structure
    pool = [Proposal(text, "beam", -1.0, 3, 0.0) for text in ("ls", "ls -l", "ls -a")]
    with pytest.raises(ModelError, match="structure model"):
        loaded.rescore("list files", pool)
    ranked = loaded.rescore("list files", pool, np.array([-3.0, -1.0, -2.0]))
    assert [p.score for p in ranked] == pytest.approx([-3.0, -1.0, -2.0])
    assert loaded.structure_beams == 0  # the file of a reranker fitted without them says nothing
    replace(saved, structure_beams=3).save(tmp_path / RERANKER_FILE)
    assert load_reranker(tmp_path).structure_beams == 3  # type: ignore[union-attr]
    replace(_reranker(FEATURES), structure_beams=3).save(tmp_path / RERANKER_FILE)
    with pytest.raises(ModelError, match="structure_beams"):  # written-out templates need a structure model
        load_reranker(tmp_path)


def test_the_engine_ranks_with_its_structure_model(trained_model_dir: Path) -> None:
    from bash_ai.engine.propose import DecodeConfig, propose

    engine = load(str(trained_model_dir))
    engine.set_index(RetrievalIndex.build([("say hello to the world", "echo hello world", "t")]))
    config = DecodeConfig(retrieval_k=0, beam_width=3, pool=1, missing_penalty=0.0, rerank_consensus=0.0)
    engine.set_reranker(_reranker(FEATURE_SETS[1], structure=1.0))
    assert engine.structure is None
    with pytest.raises(ModelError, match=STRUCTURE_FILE):
        propose(engine, "say hello", config)
    engine.set_structure(Structure(load_numpy_model(trained_model_dir)))
    ranked = propose(engine, "say hello", config)
    scores = engine.structure_logprobs("say hello", [p.text for p in ranked])
    assert [p.score for p in ranked] == pytest.approx(sorted(scores, reverse=True))
    engine.set_reranker(_reranker(FEATURE_SETS[1], structure=-1.0))  # the least likely template first
    assert propose(engine, "say hello", config)[0].text == ranked[-1].text


def test_verify_checks_the_structure_model_the_reranker_needs(trained_model_dir: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(trained_model_dir, model)
    _reranker(FEATURE_SETS[1], structure=1.0).save(model / RERANKER_FILE)
    with pytest.raises(ModelError, match=f"{STRUCTURE_FILE} is missing"):
        verify_model_dir(model)
    save_structure(trained_model_dir, model / STRUCTURE_FILE, "int8")
    assert any(rel == STRUCTURE_FILE for rel, _ in verify_model_dir(model).files)
    (model / STRUCTURE_FILE).write_bytes(b"damaged")
    with pytest.raises(ModelError, match="unreadable structure model"):
        verify_model_dir(model)


def test_train_stage_rerank_ships_the_structure_model_it_ranks_with(
    trained_model_dir: Path, shared_data: Path, tmp_path: Path
) -> None:
    from bash_ai.checkpoint import stored_dtype

    home, model = rerank_setup(trained_model_dir, shared_data, tmp_path)
    # The trained model stands in for a structure model: same tokenizer, any weights.
    args = ("train", "--stage", "rerank", "--init", str(model), "--limit", "6")
    proc = _bash_ai(
        *args, "--structure", str(trained_model_dir), "--name", "s", "--out", str(tmp_path / "out"), home=home
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = tmp_path / "out"
    reranker = load_reranker(out)
    assert reranker is not None and reranker.wants_structure
    assert (out / STRUCTURE_FILE).is_file() and (out / RERANKER_FILE).is_file()
    from safetensors import safe_open

    with safe_open(str(out / STRUCTURE_FILE), framework="np") as handle:
        assert any(str(handle.get_slice(n).get_dtype()).lower() == "i8" for n in handle.keys())  # noqa: SIM118
    assert stored_dtype(out) == stored_dtype(model)  # the answering model is written as it was
    verify_model_dir(out)
    answer = _bash_ai("-m", str(out), "say hello", home=home)
    assert answer.returncode == 0 and answer.stdout.strip(), answer.stderr[-2000:]
    assert reranker.structure_beams == 0
    # Fitted on pools that hold the structure model's templates written out: the file says how many.
    beams = _bash_ai(*args, "--structure", str(trained_model_dir), "--structure-beams", "2", "--name", "sb", home=home)
    assert beams.returncode == 0, beams.stderr[-2000:]
    (written,) = [p for p in home.rglob(RERANKER_FILE) if p.parent.parent.name == "sb"]
    assert load_reranker(written.parent).structure_beams == 2  # type: ignore[union-attr]
    assert json.loads((written.parent.parent / "rerank.json").read_text())["structure_beams"] == 2
    # A refit of that model keeps its structure model.
    again = _bash_ai("train", "--stage", "rerank", "--init", str(out), "--limit", "6", "--name", "t", home=home)
    assert again.returncode == 0, again.stderr[-2000:]
    (refit,) = [p for p in home.rglob(STRUCTURE_FILE) if p.parent.parent.name == "t"]
    assert load_reranker(refit.parent) is not None and load_reranker(refit.parent).wants_structure  # type: ignore[union-attr]

    stranger = tmp_path / "stranger"  # a byte more in its tokenizer file: another tokenizer
    shutil.copytree(trained_model_dir, stranger)
    (stranger / TOKENIZER_FILE).write_bytes((trained_model_dir / TOKENIZER_FILE).read_bytes() + b"\n")
    other = _bash_ai(*args, "--structure", str(stranger), "--name", "u", home=home)
    assert other.returncode == 2 and "another tokenizer" in other.stderr and other.stderr.count("\n") == 1
    misplaced = _bash_ai("train", "--structure", str(trained_model_dir), home=home)
    assert misplaced.returncode == 2 and "--stage rerank" in misplaced.stderr


def test_structure_beams_join_the_pool_written_out_after_their_new_templates(
    trained_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``DecodeConfig.structure_beams``: each of the structure model's templates that no candidate
    has is written out by the model after the hinted prompt (``FILL_WIDTH`` beams), and the best
    beam that keeps the template joins the pool as a beam scored under the request's own prompt; a
    template no beam keeps adds nothing, and one the pool already has costs nothing."""
    from bash_ai.engine import propose as module
    from bash_ai.engine.beam import beam_search, sequence_logprobs
    from bash_ai.engine.propose import FILL_WIDTH, DecodeConfig, propose

    engine = load(str(trained_model_dir))
    engine.set_index(RetrievalIndex.build([("say hello to the world", "echo hello world", "t")]))
    engine.set_structure(Structure(load_numpy_model(trained_model_dir)))
    config = DecodeConfig(retrieval_k=0, beam_width=2, pool=1, rerank=False, consensus=0.0, structure_beams=3)
    plain = propose(engine, "say hello", config.replace(structure_beams=0))
    assert "echo ARG" in {command_template(p.text) for p in plain} and "date" not in {p.text for p in plain}
    templates = ["ls -S", "date", "echo ARG"]
    asked: list[tuple[str, int]] = []
    monkeypatch.setattr(
        engine, "structure_templates", lambda request, width, found=None: asked.append((request, width)) or templates
    )
    prompts: list[list[int]] = []

    def spy(model: Any, prompt: Any, *args: Any, **kwargs: Any) -> Any:
        prompts.append(list(prompt))
        return beam_search(model, prompt, *args, **kwargs)

    monkeypatch.setattr(module, "beam_search", spy)
    more = propose(engine, "say hello", config)
    assert asked == [("say hello", 3)]
    # The request's own beams, then the two new templates' (the pool has "echo ARG" already).
    assert prompts[1:] == [engine.hinted_ids("say hello", "ls -S"), engine.hinted_ids("say hello", "date")]
    written = {
        hint: [
            engine.tokenizer.decode(list(b.tokens)).strip()
            for b in beam_search(engine.model, ids, engine.eot_id, width=FILL_WIDTH)
        ]
        for hint, ids in (("ls -S", prompts[1]), ("date", prompts[2]))
    }
    assert not any(command_template(t) == "ls -S" for t in written["ls -S"])  # no beam keeps it: nothing joins
    assert written["date"][0] != "date" and "date" in written["date"]  # the best beam that keeps "date"
    new = [p for p in more if p.text not in {q.text for q in plain}]
    assert [p.text for p in new] == ["date"] and new[0].source == "beam"
    prompt = engine.fit_prompt(engine.ask_ids("say hello"), config.max_tokens)[0]
    expected = sequence_logprobs(engine.model, prompt, [engine.encode_text("date") + [engine.eot_id]])[0]
    assert new[0].logprob == pytest.approx(expected, abs=1e-4)  # scored under the request's own prompt
    stopped = threading.Event()
    stopped.set()  # a cancelled answer writes nothing more out
    prompts.clear()
    shared = module.prefill(engine.model, prompt)
    never = np.zeros(0, dtype=np.int64)
    assert module.hinted_candidates(engine, "say hello", [], [], prompt, shared, config, never, 3, stopped) == {}
    assert prompts == []
    with pytest.raises(UsageError, match="structure beams"):
        DecodeConfig(structure_beams=-1)
    # By default as many as the reranker was fitted with; none without a reranker.
    prompts.clear()
    assert [p.text for p in propose(engine, "say hello", config.replace(structure_beams=None))] == [
        p.text for p in plain
    ]
    assert len(prompts) == 1
    engine.set_reranker(replace(_reranker(FEATURE_SETS[1], structure=1.0), structure_beams=2))
    reranked = propose(engine, "say hello", config.replace(structure_beams=None, rerank=True))
    assert len(prompts) == 1 + 3 and "date" in {p.text for p in reranked}
