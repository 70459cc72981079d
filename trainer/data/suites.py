"""The evaluation suites' examples: the exec tasks and everyday pairs bundled with bash-ai, or the held-out splits
of datasets in the trainer's store (``bash-ai data fetch``). Here, not in ``bash_ai.evaluation``,
so that the library never imports the trainer: the faces that evaluate (``bash-ai eval``, the
rerank stage, the benchmarks) load the examples and pass them down."""

from __future__ import annotations

from bash_ai.errors import DataError, UsageError
from bash_ai.evaluation.runner import (
    DATASET_SUITES,
    EVERYDAY_SUITES,
    EXEC,
    EXPLAIN,
    Example,
    check_suite,
    everyday_examples,
    exec_examples,
)


def load_suite(name: str, limit: int | None = None) -> list[Example]:
    """The suite's examples in their stable order (the first ``limit`` of them)."""
    check_suite(name)
    if limit is not None and limit < 1:
        raise UsageError(f"--limit must be at least 1 (got {limit})")
    if name == EXEC:
        return exec_examples()[:limit]
    if name in EVERYDAY_SUITES:
        return everyday_examples(EVERYDAY_SUITES[name])[:limit]
    dataset, split = DATASET_SUITES["tldr-holdout" if name == EXPLAIN else name]
    from trainer.data.store import is_fetched, iter_documents

    if not is_fetched(dataset):
        raise DataError(
            f"suite {name} needs the {dataset} dataset; fetch it first: bash-ai data fetch {dataset} --from PATH"
        )
    examples = [
        Example(doc.request.strip(), doc.command.strip(), doc.id)
        for doc in iter_documents(dataset)
        if doc.kind == "pair" and doc.split == split and doc.request.strip() and doc.command.strip()
    ]
    if not examples:
        raise DataError(f"dataset {dataset} has no {split} pairs; fetch it again with --force")
    return examples[:limit]
