"""The training data layer: fetch datasets, read them as documents, tokenize and sample them.

Writing a source (e.g. ``trainer/data/sources/github.py``)
----------------------------------------------------------
A source is a module (or any object) with four names; the module path is listed in
``trainer.data.sources.BUILTIN`` (``github`` is already there), or an object is passed to
``register_source``::

    name = "github"                  # also the dataset directory name
    licence = "various"              # short licence id of the data as a whole

    def fetch(dest_dir: Path, from_path: Path | None = None, **options) -> Manifest:
        # Write files into dest_dir (an empty staging dir), then describe them:
        return make_manifest(dest_dir, name=name, source=name, url=..., licence=licence,
                             licence_url=..., attribution=..., counts={...}, options=options)

    def iter_documents(dataset_dir: Path) -> Iterator[Document]:
        # Read back what fetch stored; stable order; stable ids.
        yield Document(kind="script", id="github:owner/repo/path", source=name,
                       licence="MIT", text=script_text, meta={"path": ..., "repo": ...})

Rules the orchestrator (``fetch_dataset``) relies on:

- ``fetch`` writes only inside ``dest_dir`` and raises a ``DataError`` (bad input) or
  ``NetworkError`` (remote failure) with a one-line user message. Any exception discards the staging
  dir, so a half fetch is never visible; ``manifest.json`` is written by the orchestrator, and the
  directory is swapped in whole.
- ``options`` always contains ``progress``, a ``(what: str, done: int, total: int | None) -> None``
  callback (rendered on stderr by the CLI); other keyword options are source-specific (the CLI
  passes ``url`` for ``--url``). Accept and ignore options you do not know.
- ``make_manifest`` hashes every stored file (sha256, size); ``counts`` is free-form.
- Per-document licence and provenance go in ``Document.licence`` / ``Document.meta`` (str -> str).
- ``Document.split`` is ``"train"`` unless the document is for evaluation only (``"dev"``, ``"test"``,
  ``"holdout"``); only ``"train"`` documents are tokenized for training or tokenizer training.
- Kinds: ``"pair"`` (``request`` + ``command``: trains both directions), ``"script"`` (``text``;
  its leading comment block becomes the request), ``"text"`` (English ``text``).

Reading data
------------
``fetch_dataset(name, from_path)``, ``list_datasets()``, ``iter_documents(name)``; the tokenized
cache is ``trainer.data.tokenized.build_tokenized`` and the batch sampler
``trainer.data.sampler.Batches``; tokenizer training reads ``mixing.iter_tokenizer_texts``.

Evaluation sets, never trained on: ``sources.tldr.tldr_pairs(dir, "holdout")`` (``tldr-holdout``:
page names with ``sha256(name) % 20 == 0``, ``sources.tldr.is_holdout``) and
``sources.nl2bash.nl2bash_pairs(dir, "dev" | "test")``.
"""

from __future__ import annotations

from trainer.data.document import KINDS, TRAIN, Document, Kind, to_sequences
from trainer.data.manifest import MANIFEST, Manifest, make_manifest, read_manifest, verify
from trainer.data.sources import ProgressFn, Source, get_source, register_source, source_names, unregister_source
from trainer.data.store import dataset_path, fetch_dataset, is_fetched, iter_documents, list_datasets, require_dataset

__all__ = [
    "KINDS",
    "MANIFEST",
    "TRAIN",
    "Document",
    "Kind",
    "Manifest",
    "ProgressFn",
    "Source",
    "dataset_path",
    "fetch_dataset",
    "get_source",
    "is_fetched",
    "iter_documents",
    "list_datasets",
    "make_manifest",
    "read_manifest",
    "register_source",
    "require_dataset",
    "source_names",
    "to_sequences",
    "unregister_source",
    "verify",
]
