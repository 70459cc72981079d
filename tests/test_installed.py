"""Answers this machine can run rank first: a candidate naming a program that neither ``PATH`` nor
bash has loses ``missing_penalty`` from its reranker score."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from bash_ai.engine.installed import missing_programs
from bash_ai.engine.proposal import Proposal
from bash_ai.engine.propose import DecodeConfig, penalise_missing, propose
from bash_ai.engine.rerank import FEATURES, Reranker
from bash_ai.errors import UsageError
from bash_ai.retrieval import RetrievalIndex


def _path_with(tmp_path: Path, *programs: str) -> str:
    """A ``PATH`` of one folder holding an executable file for each of ``programs``."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    for name in programs:
        exe = folder / name
        exe.write_text("#!/bin/sh\n")
        exe.chmod(0o755)
    return str(folder)


def test_missing_programs_reads_path_and_knows_bash_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", _path_with(tmp_path, "wc", "sort", "nohup"))
    assert missing_programs("sort -n a | uniq -c | wc -l") == ["uniq"]
    assert missing_programs("sudo freeramdisk && sudo freeramdisk") == ["sudo", "freeramdisk"]
    # Builtins and keywords, scripts, paths and variables are not held against a command.
    assert missing_programs("cd ~ && history 5; for f in *; do echo $f; done") == []
    assert missing_programs("nohup ./backup.sh &") == []
    assert missing_programs("$EDITOR notes.txt") == []
    assert missing_programs("") == []
    # A program put on PATH later is seen (the cache is per PATH).
    monkeypatch.setenv("PATH", _path_with(tmp_path, "uniq") + os.pathsep + str(tmp_path / "bin"))
    assert missing_programs("sort -n a | uniq -c | wc -l") == []


def test_only_candidates_with_a_missing_program_lose_the_penalty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", _path_with(tmp_path, "df"))
    pool = [Proposal("freeramdisk", "retrieval", -3.0, 2, 1.0), Proposal("df -h", "beam", -1.0, 3, 0.8)]
    assert [p.score for p in penalise_missing(pool, 0.5)] == [0.5, 0.8]
    assert penalise_missing(pool, 0.0) == pool
    with pytest.raises(UsageError):
        DecodeConfig(missing_penalty=-1.0)


def test_the_engine_ranks_a_command_this_machine_cannot_run_lower(
    trained_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bash_ai.registry import load

    engine = load(str(trained_model_dir))
    engine.set_index(RetrievalIndex.build([("say hello to the world", "hellosay hello world", "t")]))
    weights = np.array([5.0 if name == "retrieved" else 0.0 for name in FEATURES])
    n = len(FEATURES)
    engine.set_reranker(Reranker(np.zeros(1 << 8, dtype=np.float32), weights, np.zeros(n), np.ones(n)))
    config = DecodeConfig(retrieval_k=0, beam_width=3, pool=1, missing_penalty=10.0, rerank_consensus=0.0)

    monkeypatch.setenv("PATH", _path_with(tmp_path, "hellosay"))
    first = propose(engine, "say hello", config)[0]
    assert (first.text, first.score) == ("hellosay hello world", pytest.approx(5.0))

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    ranked = propose(engine, "say hello", config)
    retrieved = next(p for p in ranked if p.source == "retrieval")
    assert ranked[0].source == "beam" and retrieved.score == pytest.approx(-5.0)
    assert propose(engine, "say hello", config.replace(missing_penalty=0.0))[0].text == "hellosay hello world"


def test_the_answer_names_its_missing_programs_in_json_and_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real CLI on the bundled model, with a PATH holding bash alone: the answer's programs are
    then missing, and both faces say so."""
    import json
    import shutil

    from cli_run import run_cli

    bash = shutil.which("bash")
    assert bash is not None
    folder = Path(_path_with(tmp_path))
    (folder / "bash").symlink_to(bash)
    monkeypatch.setenv("PATH", str(folder))
    doc = json.loads(run_cli(["--json", "-n", "3", "show disk usage"], capsys, monkeypatch=monkeypatch).out)
    assert all(c["missing"] == missing_programs(c["text"]) for c in doc["candidates"])
    first = doc["candidates"][0]
    assert first["missing"], first
    plain = run_cli(["show disk usage"], capsys, monkeypatch=monkeypatch)
    assert plain.out.strip() == first["text"]
    assert f"runs {', '.join(first['missing'])}, not installed here" in plain.err


def test_the_shell_words_are_this_bashs_builtins_and_keywords() -> None:
    import subprocess

    from bash_ai.engine.installed import SHELL_WORDS

    real = subprocess.run(["bash", "-c", "compgen -b; compgen -k"], capture_output=True, text=True, check=True)
    assert set(real.stdout.split()) <= SHELL_WORDS


def test_the_cli_says_when_the_model_is_unsure_of_its_answer(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real CLI on the bundled model: ``sure`` in the JSON is the reranker's verdict on each
    answer, and a first answer marked unsure gets one note on stderr (a sure one none). The two
    requests sit far on either side of the threshold (reranker scores ~4.3 and ~-1.9 against 0.5)."""
    import json

    from cli_run import run_cli

    from bash_ai.term.render import unsure_text

    for request, sure in (
        ("find files larger than 100MB", True),
        ("show free memory", False),
    ):
        doc = json.loads(run_cli(["--json", "-n", "3", request], capsys, monkeypatch=monkeypatch).out)
        assert doc["candidates"][0]["sure"] is sure, request
        assert all(isinstance(c["sure"], bool) for c in doc["candidates"])
        plain = run_cli([request], capsys, monkeypatch=monkeypatch)
        assert plain.out.strip() == doc["candidates"][0]["text"]
        assert (unsure_text() in plain.err) is not sure, plain.err
