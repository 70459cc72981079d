"""The README shows the bundled model's real answers: every `$ bash-ai "request"` followed by an
output line in its console blocks, and every `"request" gives `command`` in its prose."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _examples() -> list[tuple[str, str]]:
    text = README.read_text(encoding="utf-8")
    pairs: list[tuple[str, str]] = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        lines = block.splitlines()
        for line, after in zip(lines, [*lines[1:], ""], strict=True):
            words = shlex.split(line[2:]) if line.startswith("$ bash-ai ") else []
            # Only a bare request whose next line is its output (not a pipe, redirect or option).
            if len(words) == 2 and not after.startswith("$") and after and ">" not in line:
                pairs.append((words[1], after))
    prose = re.sub(r"\s+", " ", text)
    pairs += re.findall(r'"([^"]+)" gives `([^`]+)`', prose)
    return pairs


EXAMPLES = _examples()


def test_the_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 5, EXAMPLES


@pytest.fixture(scope="module")
def bundled():  # type: ignore[no-untyped-def]
    from bash_ai.registry import load

    return load("bundled")


@pytest.mark.parametrize(("request_text", "shown"), EXAMPLES, ids=[r for r, _ in EXAMPLES])
def test_readme_example_is_the_bundled_models_answer(bundled, request_text: str, shown: str) -> None:  # type: ignore[no-untyped-def]
    from bash_ai.answer import answer

    assert answer(bundled, request_text, 1)[0].text == shown


@pytest.mark.tool("man")
def test_readme_explain_example_is_what_explain_prints(bundled) -> None:  # type: ignore[no-untyped-def]
    """The README's explain block: the bundled model's summary, then tar(1)'s own words."""
    from bash_ai.answer import explain

    text = README.read_text(encoding="utf-8")
    found = re.search(r"```console\n\$ bash-ai explain '([^']+)'\n(.*?)```", text, flags=re.S)
    assert found, "the README has no explain example with its output"
    assert explain(bundled, found.group(1)).to_text() == found.group(2)


def test_the_readmes_wrong_examples_are_marked_as_it_says(bundled) -> None:  # type: ignore[no-untyped-def]
    """The README owns up to two wrong answers, says the model marks one unsure and is sure of the
    other: it does; it says a right answer is marked unsure: it is; and the answers it says the
    checks gave now are the answers (the wasted stage's ``tar`` among them)."""
    from bash_ai.answer import answer

    text = re.sub(r"\s+", " ", README.read_text(encoding="utf-8"))
    assert "It marks this unsure" in text and "with no warning" in text and "some right answers unsure" in text
    marked = {
        "check if google.com is reachable": False,
        "compress the logs directory": True,
        "show free memory": False,
    }
    for request, sure in marked.items():
        assert f'"{request}" gives' in text
        assert answer(bundled, request, 1)[0].sure is sure, request
    assert "its third answer is `gzip -r logs`" in text
    assert [c.text for c in answer(bundled, "compress the logs directory", 3)][2] == "gzip -r logs"
    assert "with `ls -lhS` second" in text
    assert [c.text for c in answer(bundled, "list files sorted by size", 3)][1] == "ls -lhS"
    # What the checks moved after the others (``request-topic``, ``request-count``, ``request-undo``).
    for request, moved in (
        ("show free memory", "df -h"),
        ("count the number of lines in all python files", 'find . -name "*.py" -exec wc -l {} \\; | wc -l'),
        ("add user bob with a home directory", "sudo userdel -r bob"),
        ("kill the process on port 8080", "kill 8080"),
        ("list files sorted by size", "find . -type f -printf '%s\\t%p\\n' | sort -n"),
    ):
        assert f"gave `{moved}`" in text
        assert answer(bundled, request, 1)[0].text != moved
    tar = [c.text for c in answer(bundled, "create a tar archive of the src directory", 3)]
    assert tar[0] == "tar -cvzf src.tar.gz src" and "tar cvf - dir | tar cvf - dir" not in tar
    assert "now gives `tar -cvzf src.tar.gz src`" in text
    now = {
        "first 20 lines of data.csv": "head -n 20 data.csv",
        "delete all .tmp files older than 7 days": "find ./ -name '*.tmp' -mtime +7 -delete",
    }
    for request, command in now.items():
        assert f"`{command}`" in text and request in text
        assert answer(bundled, request, 1)[0].text == command, request
