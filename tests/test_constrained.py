"""REPL ghost text completes the word being typed (issue 17: ``find . -na`` got `` -name``-less
noise because the prompt ended inside a word)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bash_ai.repl.constrained import complete_line, split_at_boundary


@pytest.mark.parametrize(
    ("text", "head", "tail"),
    [
        ("find . -na", "find .", " -na"),
        ("find . ", "find .", " "),
        ("ech", "", "ech"),
        ("ls -l | gr", "ls -l |", " gr"),
        ("a  b", "a", "  b"),
        ("tar\t-x", "tar", "\t-x"),
    ],
)
def test_split_at_the_last_word_boundary(text: str, head: str, tail: str) -> None:
    assert split_at_boundary(text) == (head, tail)
    assert head + tail == text


@pytest.fixture(scope="module")
def bundled():  # type: ignore[no-untyped-def]
    from bash_ai.registry import load

    return load("bundled")


@pytest.mark.parametrize(
    ("typed", "starts"),
    [("find . -na", "me"), ("ech", "o"), ("git comm", "it"), ('find . -name "*.py" | xa', "rgs")],
)
def test_ghost_text_finishes_the_word_with_the_bundled_model(bundled, typed: str, starts: str) -> None:  # type: ignore[no-untyped-def]
    rest = complete_line(bundled, typed, 16)
    assert rest.startswith(starts), rest
    assert "\n" not in rest


def test_cancelled_and_random_models_give_text_that_extends_the_line(tiny_model_dir: Path) -> None:
    from bash_ai.registry import load

    engine = load(str(tiny_model_dir))
    cancel = threading.Event()
    cancel.set()
    assert complete_line(engine, "find . -na", 8, cancel) == ""
    for typed in ("find . -na", "ls -", "x"):
        rest = complete_line(engine, typed, 8)
        assert isinstance(rest, str) and "\n" not in rest
