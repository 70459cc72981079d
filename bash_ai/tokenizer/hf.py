"""Export to HF ``tokenizers``' ``tokenizer.json`` (written by hand: no ``tokenizers`` at runtime).

The pipeline mirrors ours: a Split pre-tokenizer with our regex (behaviour "isolated", so every
character lands in a chunk), then ByteLevel without its own regex, which maps each byte to the
printable character GPT-2 uses for it; a BPE model whose vocabulary and merges are spelled in
those characters; the ByteLevel decoder; special tokens as added tokens.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bash_ai.io import atomic_write_text


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> character table: printable Latin-1 bytes map to themselves, the others to
    U+0100 onwards, so no byte becomes whitespace or a control character."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table = {b: chr(b) for b in keep}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def write_hf_json(
    path: Path,
    token_bytes: list[bytes],
    merges: list[tuple[int, int]],
    special_tokens: dict[str, int],
    pattern: str,
) -> None:
    table = bytes_to_unicode()
    names = ["".join(table[b] for b in data) for data in token_bytes]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    doc: dict[str, Any] = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {
                "id": tid,
                "content": text,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": False,
                "special": True,
            }
            for text, tid in special_tokens.items()
        ],
        "normalizer": None,
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated", "invert": False},
                byte_level,
            ],
        },
        "post_processor": None,
        "decoder": byte_level,
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": {name: i for i, name in enumerate(names)},
            # "left right" strings, which every tokenizers version reads; the byte alphabet has no
            # space character, so the split is unambiguous.
            "merges": [f"{names[a]} {names[b]}" for a, b in merges],
        },
    }
    atomic_write_text(Path(path), json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
