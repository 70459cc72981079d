"""Retrieval of training pairs near a request (or a command): BM25 over the model's own index."""

from bash_ai.retrieval.index import INDEX_FILE, Neighbor, RetrievalIndex, load_index

__all__ = ["INDEX_FILE", "Neighbor", "RetrievalIndex", "load_index"]
