"""The files of a model directory, named once.

The modules that read each file import its name from here; importing this costs nothing, so the
CLI's start-up path (``registry``) can list them without loading numpy.
"""

from __future__ import annotations

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
TOKENIZER_FILE = "tokenizer.bashai.json"
INDEX_FILE = "retrieval.safetensors"  # bash_ai.retrieval
RERANKER_FILE = "reranker.safetensors"  # bash_ai.engine.rerank
STRUCTURE_FILE = "structure.safetensors"  # bash_ai.engine.structure
CHECKSUMS_FILE = "SHA256SUMS"
CARD_FILE = "MODEL_CARD.md"

# What a model may carry beside its weights and tokenizer, made by training and used when it answers:
# copied by an export, downloaded by a pull, checked by verify.
PARTS = (INDEX_FILE, RERANKER_FILE, STRUCTURE_FILE)
