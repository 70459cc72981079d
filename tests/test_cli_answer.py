"""bash_ai.answer: script shaping, request limits, syntax resampling and danger flags.

``ScriptedEngine`` implements the part of ``bash_ai.engine.Engine`` that ``answer`` uses
(``stream_ask`` yielding real engine events), with answers fixed per sampling round, so the
resampling logic is tested deterministically; syntax and danger checks are the real ones.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from bash_ai.answer import (
    MAX_REQUEST_BYTES,
    SHEBANG,
    STRICT_MODE,
    answer,
    check,
    clean,
    is_multiline,
    shape,
    validate_request,
    wants_script,
)
from bash_ai.engine.events import Finished, Started, Stats, TokenEvent
from bash_ai.engine.sampling import SamplingParams
from bash_ai.errors import GenerationError, UsageError


class ScriptedEngine:
    """Round ``r`` of ``stream_ask`` yields ``rounds[r]`` (repeated as needed) as real events."""

    def __init__(self, rounds: list[list[str]], truncated: bool = False) -> None:
        self.rounds = rounds
        self.truncated = truncated
        self.calls: list[tuple[str, SamplingParams, int]] = []

    def stream_ask(
        self, request: str, params: SamplingParams, n: int = 1, *, cancel: threading.Event | None = None
    ) -> Iterator[Any]:
        round_no = min(len(self.calls), len(self.rounds) - 1)
        self.calls.append((request, params, n))
        yield Started(prompt_tokens=len(request.split()), truncated=self.truncated, n=n)
        texts = self.rounds[round_no]
        for i in range(n):
            text = texts[i % len(texts)]
            yield TokenEvent(i, text, 1)
            yield Finished(index=i, text=text, finish_reason="eos", n_tokens=len(text.split()))
        yield Stats(prompt_tokens=1, generated_tokens=n, prefill_s=0.0, decode_s=0.0, tokens_per_s=0.0)


@pytest.mark.parametrize(
    "request_text, expected",
    [
        ("create backup script", True),
        ("write a bash script that renames files", True),
        ("script to rotate logs", True),
        ("a script which prints the date", True),
        ("list files sorted by size", False),
        ("find files named script.txt", False),
        ("run the deploy script", False),
    ],
)
def test_wants_script(request_text: str, expected: bool) -> None:
    assert wants_script(request_text) is expected


def test_shape_script_adds_shebang_and_strict_mode_once() -> None:
    shaped = shape("#!/bin/sh\ntar czf backup.tgz ~/docs\necho done\n", "script")
    lines = shaped.splitlines()
    assert lines[0] == SHEBANG and lines[1] == STRICT_MODE
    assert "#!/bin/sh" not in shaped and shaped.endswith("echo done\n")
    assert check(shaped).syntax_ok


def test_shape_script_keeps_its_own_error_handling() -> None:
    body = "cp a b\nif [ $? -ne 0 ]; then echo failed; fi"
    shaped = shape(body, "script")
    assert STRICT_MODE not in shaped and shaped.startswith(SHEBANG + "\n")


def test_shape_command_strips_fences_and_prompt() -> None:
    assert shape("```bash\n$ ls -S\n```", "command") == "ls -S"
    assert clean("\n\n  du -sh *  \n\n") == "  du -sh *"


def test_multiline_detection_joins_continuations() -> None:
    assert not is_multiline("find . \\\n  -name '*.py'")
    assert is_multiline("cd /tmp\nls")


@pytest.mark.parametrize("bad", ["", "   \n\t "])
def test_empty_request_is_a_usage_error(bad: str) -> None:
    with pytest.raises(UsageError, match="empty request"):
        validate_request(bad)


def test_oversized_request_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="too long"):
        validate_request("x" * (MAX_REQUEST_BYTES + 1))
    assert validate_request("é" * (MAX_REQUEST_BYTES // 2)) == "é" * (MAX_REQUEST_BYTES // 2)


def test_a_checked_request_is_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import bash_ai.answer as answer_module

    checked = validate_request("  list files by size \n")
    assert isinstance(checked, answer_module.Request) and checked == "list files by size"
    assert validate_request(checked) is checked
    calls: list[str] = []
    real = answer_module.validate_request
    monkeypatch.setattr(answer_module, "validate_request", lambda text: calls.append(text) or real(text))
    engine = ScriptedEngine([["ls -S"], ["ls -S"]])
    answer(engine, checked, 1, SamplingParams(temperature=0.5, seed=3))
    answer(engine, " list files by size ", 1, SamplingParams(temperature=0.5, seed=3))
    assert [type(c).__name__ for c in calls] == ["Request", "str"]  # the second still gets checked


def test_invalid_candidates_are_resampled_with_a_new_seed() -> None:
    engine = ScriptedEngine([["if then fi"], ["ls -S"]])
    result = answer(engine, "list files by size", 1, SamplingParams(temperature=0.5, seed=3))
    assert [c.text for c in result] == ["ls -S"]
    assert result[0].syntax_ok and result[0].kind == "command"
    seeds = [params.seed for _, params, _ in engine.calls]
    assert len(seeds) == 2 and seeds[0] == 3 and seeds[1] != 3


def test_greedy_resampling_adds_temperature() -> None:
    engine = ScriptedEngine([["for in"], ["echo ok"]])
    answer(engine, "say ok", 1, SamplingParams(temperature=0.0, seed=0))
    assert engine.calls[0][1].temperature == 0.0 and engine.calls[1][1].temperature > 0


def test_no_valid_candidate_returns_the_best_invalid_one() -> None:
    engine = ScriptedEngine([["echo 'unterminated"]])
    result = answer(engine, "print a quote", 1, SamplingParams(seed=1), max_rounds=3)
    assert len(engine.calls) == 3
    assert len(result) == 1 and not result[0].syntax_ok and result[0].syntax_message


def test_nothing_produced_is_a_generation_error() -> None:
    with pytest.raises(GenerationError):
        answer(ScriptedEngine([["", "   "]]), "anything", 2, SamplingParams(seed=1))


def test_cancelled_answer_returns_without_raising() -> None:
    cancel = threading.Event()
    cancel.set()
    assert answer(ScriptedEngine([[""]]), "anything", 1, SamplingParams(seed=1), cancel=cancel) == []


def test_candidates_are_distinct_valid_first_and_flag_danger() -> None:
    engine = ScriptedEngine([["rm -rf /", "rm -rf /", "echo ("], ["ls", "echo ("]])
    result = answer(engine, "clean up", 3, SamplingParams(seed=5))
    texts = [c.text for c in result]
    assert texts == ["rm -rf /", "ls", "echo ("]
    assert result[0].danger and not result[1].danger
    assert [c.syntax_ok for c in result] == [True, True, False]
    data = result[0].to_dict()
    assert set(data) == {
        "text",
        "kind",
        "syntax",
        "danger",
        "shellcheck",
        "finish_reason",
        "confidence",
        "source",
        "missing",
        "sure",
    }
    assert data["danger"][0]["rule_id"] and data["syntax"] == {"ok": True, "message": ""}
    assert data["sure"] is None  # sampled: no reranker ranked it


def test_script_request_is_shaped_and_checked() -> None:
    engine = ScriptedEngine([['tar czf /tmp/backup.tgz "$HOME/docs"\necho done']])
    (candidate,) = answer(engine, "create backup script", 1, SamplingParams(seed=0))
    assert candidate.kind == "script" and candidate.syntax_ok
    assert candidate.text.startswith(SHEBANG + "\n" + STRICT_MODE + "\n")


def test_truncation_is_reported_through_events() -> None:
    seen: list[Any] = []
    answer(ScriptedEngine([["ls"]], truncated=True), "list", 1, SamplingParams(seed=0), on_event=seen.append)
    assert any(isinstance(e, Started) and e.truncated for e in seen)
