"""The one tokenizer file format: ``{"format": "bash-ai-tokenizer", "version": 1, "type": ...}``.

Both tokenizer types share the envelope; each validates its own body. Every failure while reading
is a ``TokenizerError`` whose message names the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bash_ai.errors import TokenizerError
from bash_ai.io import atomic_write_text

FORMAT = "bash-ai-tokenizer"
VERSION = 1
TYPES = ("bpe", "char")


def write(path: Path, kind: str, body: dict[str, Any]) -> None:
    """Atomically write the envelope plus ``body``; same tokenizer, same bytes (caches hash them)."""
    data = {"format": FORMAT, "version": VERSION, "type": kind, **body}
    atomic_write_text(Path(path), json.dumps(data, ensure_ascii=True, separators=(",", ":")) + "\n")


def read(path: Path) -> dict[str, Any]:
    """The parsed file, its envelope checked."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise TokenizerError(f"{path}: tokenizer file not found") from None
    except OSError as exc:
        raise TokenizerError(f"{path}: cannot read the tokenizer file ({exc.strerror or exc})") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TokenizerError(f"{path}: not a valid tokenizer file (bad JSON: {exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise TokenizerError(f"{path}: not a bash-ai tokenizer file (expected format {FORMAT!r})")
    version = data.get("version")
    if type(version) is not int or version != VERSION:
        raise TokenizerError(
            f"{path}: tokenizer file version {version!r} is not supported (this bash-ai reads {VERSION})"
        )
    if data.get("type") not in TYPES:
        raise TokenizerError(
            f"{path}: unknown tokenizer type {data.get('type')!r} (expected one of {', '.join(TYPES)})"
        )
    return data


def field(data: dict[str, Any], key: str, kind: type, where: Path) -> Any:
    """``data[key]``, checked to be of ``kind`` (a bool is not an int here)."""
    if key not in data:
        raise TokenizerError(f"{where}: tokenizer file has no {key!r}")
    value = data[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TokenizerError(f"{where}: {key!r} should be of type {kind.__name__}")
    return value


def specials(data: dict[str, Any], first_id: int, where: Path) -> dict[str, int]:
    """The special tokens, which must take the ids ``first_id, first_id + 1, ...`` in order."""
    raw = field(data, "special_tokens", dict, where)
    out: dict[str, int] = {}
    for i, (text, tid) in enumerate(raw.items()):
        if not isinstance(text, str) or not text or isinstance(tid, bool) or tid != first_id + i:
            raise TokenizerError(f"{where}: special token {text!r} should have id {first_id + i}, not {tid!r}")
        out[text] = tid
    return out
