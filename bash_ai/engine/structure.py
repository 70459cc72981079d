"""The structure model (``structure.safetensors`` in the model directory): a second model of the
same tokenizer, trained to write a request's command *template*, arguments abstracted
(``bash-ai train --targets template``; ``bash_ai.templates``).

It answers one question for the reranker: how likely is this candidate's structure (programs,
flags, operators) for the request, whatever its arguments? The answering model's own score mixes
the two, and retrieved examples' arguments pull it. Measured as a reranker feature on nl2bash-dev
(docs/benchmarks.md, "A structure model: templates").

The file holds the weights (any of the checkpoint dtypes), the model's config and the SHA-256 of
the tokenizer file it was trained with, so a model directory cannot pair it with another tokenizer;
and how many retrieved pairs (their commands as templates) its prompt carries, as it trained
(``--retrieval-k``; 0, the default, for a structure model trained on the request alone).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bash_ai.errors import CheckpointError, ModelError
from bash_ai.model_files import STRUCTURE_FILE

if TYPE_CHECKING:
    from bash_ai.model.numpy_gpt import NumpyGPT

# A template's budget after the request (templates are short: "find ARG -name ARG -mtime ARG").
MAX_TEMPLATE_TOKENS = 64


def save_structure(source_dir: Path, dest: Path, dtype: str = "int8", examples: int = 0) -> Path:
    """Write the model of ``source_dir`` (a model directory trained with ``--targets template``) as
    a structure file at ``dest``, in ``dtype`` (not atomically: ``dest`` is a staged place, as
    ``save_model_dir``'s ``extra_files`` are); ``examples``: the retrieved pairs it trained with in
    its prompt."""
    from bash_ai.checkpoint import load_weights, save_weights
    from bash_ai.io import sha256_file
    from bash_ai.model_files import TOKENIZER_FILE

    config, weights = load_weights(Path(source_dir))
    meta = {"config": json.dumps(config.to_dict()), "tokenizer_sha256": sha256_file(Path(source_dir) / TOKENIZER_FILE)}
    if examples:
        meta["examples"] = str(examples)
    save_weights(Path(dest), config, weights, dtype, meta)
    return Path(dest)


class Structure:
    """A loaded structure model: the log-probability of a command's template after a request."""

    def __init__(self, model: NumpyGPT, examples: int = 0) -> None:
        self.model = model
        self.examples = examples  # retrieved pairs in its prompt (``Engine.template_prompt``)
        # The last prompt's prefill: an answer scores its pooled commands' templates, then its
        # beams' own under the same prompt (``propose``), and the second call reuses it.
        self._last: tuple[tuple[int, ...], Any] | None = None
        self._lock = threading.Lock()

    def logprobs(self, prompt: Sequence[int], templates: Sequence[Sequence[int]]) -> np.ndarray:
        """(len(templates),) total log-probability of each template's ids after ``prompt``'s
        (``Engine.structure_logprobs`` builds both). Each distinct template is scored once (many
        candidates differ only in their arguments), and the prompt runs once for calls in a row."""
        from bash_ai.engine.beam import prefill, sequence_logprobs

        if not templates:
            return np.zeros(0)
        key = tuple(prompt)
        with self._lock:
            shared = self._last[1] if self._last is not None and self._last[0] == key else None
        if shared is None:
            shared = prefill(self.model, prompt)
            with self._lock:
                self._last = (key, shared)
        distinct = list(dict.fromkeys(tuple(t) for t in templates))
        scores = dict(zip(distinct, sequence_logprobs(self.model, prompt, distinct, shared), strict=True))
        return np.array([scores[tuple(t)] for t in templates], dtype=np.float64)

    @classmethod
    def load(cls, path: Path, tokenizer_path: Path) -> Structure:
        """Open a structure file made for the tokenizer at ``tokenizer_path``; a corrupt, foreign or
        mismatched file raises ``ModelError`` naming it."""
        from safetensors import safe_open

        from bash_ai.checkpoint import read_weights
        from bash_ai.config import ModelConfig
        from bash_ai.io import sha256_file
        from bash_ai.model.numpy_gpt import NumpyGPT
        from bash_ai.model.prepared import load_prepared

        try:
            with safe_open(str(path), framework="np") as handle:
                meta = dict(handle.metadata() or {})
            config = ModelConfig.from_dict(json.loads(meta["config"]))
            if meta.get("tokenizer_sha256") != sha256_file(tokenizer_path):
                raise ValueError("it was trained with another tokenizer than the model's")
            model = load_prepared(path, config, lambda: NumpyGPT(config, read_weights(path, config, float32=False)))
            examples = int(meta.get("examples", "0"))
            if not 0 <= examples <= 8:
                raise ValueError(f"it names {examples} retrieved examples (0 to 8 expected)")
        except Exception as exc:  # noqa: BLE001 - safetensors and json raise their own errors
            # read_weights' errors name the file already
            detail = (
                str(exc).removeprefix(f"{path}: ")
                if isinstance(exc, CheckpointError)
                else f"{type(exc).__name__}: {exc}"
            )
            raise ModelError(f"{path}: unreadable structure model ({detail})") from None
        return cls(model, examples)


def load_structure(model_dir: Path) -> Structure | None:
    """The model's structure model, or None when it has none."""
    from bash_ai.model_files import TOKENIZER_FILE

    path = Path(model_dir) / STRUCTURE_FILE
    return Structure.load(path, Path(model_dir) / TOKENIZER_FILE) if path.is_file() else None
