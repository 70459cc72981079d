"""bash-ai's own how-to pairs: everyday requests as people type them, each with one command.

NL2Bash's requests are long and specific ("Find all files under current directory matching ...");
tldr's are its pages' descriptions of niche programs ("Free loadlin ramdisk memory"). A short
everyday request ("how big is the downloads folder", "how many cpu cores do i have") shares few
words with either, so BM25 finds the wrong neighbours and the model edits the wrong example. These
pairs were written for bash-ai by its developers (MIT, as the project), several paraphrases per
task in the words users use, each command checked with ``bash -n`` and shellcheck.

They were written without reading any evaluation split; ``tests/test_howto.py`` proves that no
request of them is a request of an evaluation suite (everyday, NL2Bash dev/test, tldr-holdout).

Stored as ``pairs.jsonl``: one ``{"request", "command", "task"}`` object per line, ``task`` naming
the paraphrases of one task. The shipped file is ``howto.jsonl`` beside this module; ``--from``
takes another file of the same shape (or a folder holding ``howto.jsonl``). Every pair is a
training pair.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

from bash_ai.errors import DataError
from trainer.data.document import Document
from trainer.data.manifest import Manifest, make_manifest

name = "howto"
licence = "MIT"
attribution = "written for bash-ai by its developers (trainer/data/sources/howto.jsonl)"
SHIPPED = "howto.jsonl"
PAIRS_FILE = "pairs.jsonl"


def fetch(dest_dir: Path, from_path: Path | None = None, **options: Any) -> Manifest:
    """Check the pairs (the shipped file, or ``from_path``) and store them."""
    if from_path is None:
        text = files("trainer.data.sources").joinpath(SHIPPED).read_text(encoding="utf-8")
        url = f"bash-ai:trainer/data/sources/{SHIPPED}"
    else:
        path = from_path / SHIPPED if from_path.is_dir() else from_path
        if not path.is_file():
            raise DataError(f"--from for howto must be a .jsonl file of pairs or a folder with {SHIPPED}: {from_path}")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"cannot read {path}: {exc}") from None
        url = path.resolve().as_uri()
    pairs = parse_pairs(text, url)
    with open(dest_dir / PAIRS_FILE, "w", encoding="utf-8") as handle:
        for pair in pairs:
            handle.write(json.dumps(pair, ensure_ascii=False) + "\n")
    return make_manifest(dest_dir, url=url, counts={"pairs": len(pairs), "tasks": len({p["task"] for p in pairs})})


def parse_pairs(text: str, where: str) -> list[dict[str, str]]:
    """The pairs of a JSON Lines text, checked: each line an object with non-empty ``request`` and
    ``command`` strings (``task`` optional, the request by default), no request twice (as
    ``normalize`` compares them). Raises ``DataError`` naming the first bad line."""
    pairs: list[dict[str, str]] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}, line {number}: not JSON ({exc.msg})") from None
        if not isinstance(item, dict):
            raise DataError(f"{where}, line {number}: not a JSON object")
        request, command, task = item.get("request"), item.get("command"), item.get("task", item.get("request"))
        for field, value in (("request", request), ("command", command), ("task", task)):
            if not isinstance(value, str) or not value.strip() or "\n" in value:
                raise DataError(f"{where}, line {number}: {field!r} must be a non-empty one-line string")
        assert isinstance(request, str) and isinstance(command, str) and isinstance(task, str)
        key = normalize(request)
        if key in seen:
            raise DataError(f"{where}, line {number}: the request {request!r} is already on line {seen[key]}")
        seen[key] = number
        pairs.append({"request": request.strip(), "command": command.strip(), "task": task.strip()})
    if not pairs:
        raise DataError(f"{where}: no pairs")
    return pairs


def normalize(request: str) -> str:
    """A request compared without case, spacing or a final full stop."""
    return " ".join(request.lower().split()).rstrip(".?! ")


def iter_documents(dataset_dir: Path) -> Iterator[Document]:
    """Every pair as a training pair; ids are ``howto:<n>`` (the n-th pair, from 0), ``meta["task"]`` its task."""
    path = Path(dataset_dir) / PAIRS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {path}: {exc}; fetch again with --force") from None
    for i, pair in enumerate(parse_pairs(text, str(path))):
        yield Document(
            kind="pair",
            id=f"howto:{i}",
            source=name,
            licence=licence,
            request=pair["request"],
            command=pair["command"],
            meta={"task": pair["task"]},
        )
