"""The ``howto`` source: bash-ai's own everyday pairs, checked with real bash and shellcheck, and
kept apart from every evaluation suite."""

from __future__ import annotations

import json
import shutil
import subprocess
from importlib.resources import files
from pathlib import Path

import pytest

from bash_ai.errors import DataError
from bash_ai.evaluation.runner import everyday_examples
from trainer.data import dataset_path, fetch_dataset, iter_documents
from trainer.data.retrieval import build_index
from trainer.data.sources import howto, tldr
from trainer.data.sources.nl2bash import read_lines


def _shipped() -> list[dict[str, str]]:
    text = files("trainer.data.sources").joinpath(howto.SHIPPED).read_text(encoding="utf-8")
    return howto.parse_pairs(text, howto.SHIPPED)


def _script(pairs: list[dict[str, str]]) -> str:
    """Every command as the body of its own function: one bash or shellcheck run reads them all,
    and an error's line number points at its pair (command ``i`` is on line ``3 * i + 3``)."""
    return "#!/bin/bash\n" + "".join(f"pair_{i}() {{\n{p['command']}\n}}\n" for i, p in enumerate(pairs))


def _culprits(output: str, pairs: list[dict[str, str]]) -> list[str]:
    lines = {int(word) for word in output.replace(":", " ").split() if word.isdigit()}
    return [
        pairs[(n - 3) // 3]["command"]
        for n in sorted(lines)
        if n >= 3 and (n - 3) % 3 == 0 and (n - 3) // 3 < len(pairs)
    ]


def test_shipped_pairs_are_many_and_varied() -> None:
    pairs = _shipped()
    tasks = {p["task"] for p in pairs}
    assert len(pairs) >= 600 and len(tasks) >= 250
    # several paraphrases of a task, in other words, not one wording each
    assert sum(1 for t in tasks if sum(p["task"] == t for p in pairs) >= 2) >= len(tasks) // 2


def test_shipped_commands_are_valid_bash(tmp_path: Path) -> None:
    pairs = _shipped()
    path = tmp_path / "pairs.sh"
    path.write_text(_script(pairs), encoding="utf-8")
    done = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, (done.stderr, _culprits(done.stderr, pairs))


def test_shipped_commands_pass_shellcheck(tmp_path: Path) -> None:
    assert shutil.which("shellcheck"), ".ci/run installs shellcheck"
    pairs = _shipped()
    path = tmp_path / "pairs.sh"
    path.write_text(_script(pairs), encoding="utf-8")
    done = subprocess.run(
        ["shellcheck", "-s", "bash", "-S", "error", "-f", "gcc", str(path)], capture_output=True, text=True
    )
    assert done.returncode == 0, (done.stdout, _culprits(done.stdout, pairs))


def test_no_request_of_an_evaluation_suite(shared_data: Path) -> None:
    """Written without reading the suites, and proved apart from them: no howto request is a
    request of everyday-dev/test/dev2, NL2Bash dev/test or tldr-holdout (case, spacing, final stop)."""
    held_out = {ex.request for split in ("dev", "test", "dev2") for ex in everyday_examples(split)}
    for split in ("dev", "test"):
        held_out.update(read_lines(shared_data / "nl2bash" / f"{split}.nl"))
    held_out.update(d.request for d in tldr.iter_documents(shared_data / "tldr") if d.split == tldr.HOLDOUT)
    assert len(held_out) > 3000
    normalized = {howto.normalize(r) for r in held_out}
    clashes = [p["request"] for p in _shipped() if howto.normalize(p["request"]) in normalized]
    assert clashes == []


def test_fetch_stores_the_shipped_pairs_and_indexes_them() -> None:
    manifest = fetch_dataset("howto")
    shipped = _shipped()
    assert manifest.counts == {"pairs": len(shipped), "tasks": len({p["task"] for p in shipped})}
    assert manifest.licence == "MIT" and "bash-ai" in manifest.attribution
    docs = list(iter_documents("howto"))
    assert [(d.request, d.command) for d in docs] == [(p["request"], p["command"]) for p in shipped]
    assert {d.split for d in docs} == {"train"} and len({d.id for d in docs}) == len(docs)
    index, row_of = build_index(("howto", d) for d in docs)
    assert len(index) == len(docs) and set(row_of) == {d.id for d in docs}
    first = docs[0]
    hit = index.search(first.request, 1)[0]
    assert (hit.request, hit.command) == (first.request, first.command)


def test_fetch_from_a_file_and_its_errors(tmp_path: Path) -> None:
    good = tmp_path / "mine.jsonl"
    good.write_text(
        json.dumps({"request": "show disk space", "command": "df -h", "task": "df"})
        + "\n\n"
        + json.dumps({"request": "free space on disks", "command": "df -h"})
        + "\n",
        encoding="utf-8",
    )
    manifest = fetch_dataset("howto", good)
    assert manifest.counts == {"pairs": 2, "tasks": 2}
    assert [(d.request, d.meta["task"]) for d in iter_documents("howto")] == [
        ("show disk space", "df"),
        ("free space on disks", "free space on disks"),  # no task: the request is its own
    ]
    bad = {
        "not JSON": "{oops\n",
        "not a JSON object": "[1, 2]\n",
        "'command' must be a non-empty one-line string": json.dumps({"request": "x", "command": " "}) + "\n",
        "already on line 1": json.dumps({"request": "Show  disk space", "command": "df"})
        + "\n"
        + json.dumps({"request": "show disk space.", "command": "du"})
        + "\n",
        "no pairs": "\n",
    }
    for message, text in bad.items():
        path = tmp_path / "bad.jsonl"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(DataError, match=message):
            fetch_dataset("howto", path, force=True)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="must be a .jsonl file"):
        fetch_dataset("howto", tmp_path / "empty", force=True)
    # a failed fetch keeps the dataset that was there
    assert [d.command for d in iter_documents("howto")] == ["df -h", "df -h"]
    assert (dataset_path("howto") / howto.PAIRS_FILE).is_file()
