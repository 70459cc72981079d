"""The retrieval index a model answers with: the request -> command pairs it was trained on.

Stored in the model directory as ``retrieval.safetensors`` (so ``models pull/push/verify`` carry
it): the pair texts as two UTF-8 blobs with offsets (zlib-compressed in chunks), and two BM25
indexes, one over requests (to answer) and one over commands (to explain). Only training pairs are ever added; the evaluation
splits (NL2Bash dev/test, tldr-holdout) never are (``trainer`` builds it from ``split == "train"``
documents only, and a test checks it).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bash_ai.errors import ModelError
from bash_ai.model_files import INDEX_FILE
from bash_ai.retrieval.bm25 import ANALYZER, BM25, _narrow, terms

FORMAT = "bash-ai-retrieval"
FORMAT_VERSION = "2"  # 2: the pair texts in zlib chunks; 1 (plain blobs) is still read
READABLE_VERSIONS = ("1", "2")


@dataclass(frozen=True)
class Neighbor:
    """One retrieved pair, with its row in the index and its BM25 score."""

    request: str
    command: str
    source: str
    row: int
    score: float


class _Texts:
    """Strings kept as one UTF-8 blob plus offsets; decoded one at a time, on demand.

    On disk the blob is stored zlib-compressed in chunks of ``CHUNK`` strings (a third of the bytes:
    the bundled model keeps its index within its size budget as the pairs grow); a chunk is
    inflated when one of its strings is first read and then kept, so a long-lived process (the shell
    helper, the server) reads texts as fast as from a plain blob, at most the plain blob's memory.
    """

    CHUNK = 64

    def __init__(
        self,
        blob: np.ndarray | None,
        offsets: np.ndarray,
        zblob: np.ndarray | None = None,
        zoffsets: np.ndarray | None = None,
    ) -> None:
        self._blob, self.offsets = blob, offsets
        self._zblob, self._zoffsets = zblob, zoffsets
        self._inflated: dict[int, bytes] = {}

    @classmethod
    def pack(cls, texts: Sequence[str]) -> _Texts:
        data = [t.encode("utf-8") for t in texts]
        offsets = np.zeros(len(data) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(d) for d in data])
        blob = np.frombuffer(b"".join(data), dtype=np.uint8).copy()
        return cls(blob, offsets)

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], prefix: str) -> _Texts:
        offsets = arrays[f"{prefix}.offsets"].astype(np.int64)
        if f"{prefix}.zblob" not in arrays:  # format 1: the plain blob
            return cls(arrays[f"{prefix}.blob"], offsets)
        zoffsets = arrays[f"{prefix}.zoffsets"].astype(np.int64)
        if (
            zoffsets.shape != (_chunks(len(offsets) - 1) + 1,)
            or int(zoffsets[-1]) != arrays[f"{prefix}.zblob"].shape[0]
        ):
            raise ValueError(f"inconsistent chunk offsets under {prefix!r}")
        return cls(None, offsets, arrays[f"{prefix}.zblob"], zoffsets)

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        blob = self.blob.tobytes()
        starts = self.offsets[:: self.CHUNK].tolist() + ([int(self.offsets[-1])] if len(self) % self.CHUNK else [])
        pieces = [zlib.compress(blob[a:b], 9) for a, b in zip(starts, starts[1:], strict=False)]
        zoffsets = np.zeros(len(pieces) + 1, dtype=np.int64)
        zoffsets[1:] = np.cumsum([len(z) for z in pieces])
        return {
            f"{prefix}.zblob": np.frombuffer(b"".join(pieces), dtype=np.uint8).copy(),
            f"{prefix}.zoffsets": _narrow(zoffsets),
            f"{prefix}.offsets": _narrow(self.offsets),
        }

    @property
    def blob(self) -> np.ndarray:
        """Every string's bytes, back to back (inflating every chunk of a stored index)."""
        if self._blob is None:
            self._blob = np.frombuffer(b"".join(self._chunk(c) for c in range(_chunks(len(self)))), dtype=np.uint8)
            self._inflated.clear()  # every string now reads from the blob
        return self._blob

    def __len__(self) -> int:
        return int(self.offsets.shape[0]) - 1

    def __getitem__(self, i: int) -> str:
        start, end = int(self.offsets[i]), int(self.offsets[i + 1])
        if self._blob is not None:
            return bytes(self._blob[start:end]).decode("utf-8")
        chunk = i // self.CHUNK
        base = int(self.offsets[chunk * self.CHUNK])
        return self._chunk(chunk)[start - base : end - base].decode("utf-8")

    def _chunk(self, c: int) -> bytes:
        data = self._inflated.get(c)
        if data is None:
            assert self._zblob is not None and self._zoffsets is not None
            try:
                data = zlib.decompress(self._zblob[int(self._zoffsets[c]) : int(self._zoffsets[c + 1])].tobytes())
            except zlib.error as exc:
                raise ModelError(f"the retrieval index is corrupt (chunk {c}: {exc})") from None
            self._inflated[c] = data
        return data


def _chunks(n: int) -> int:
    """How many chunks hold ``n`` strings."""
    return -(-n // _Texts.CHUNK)


class RetrievalIndex:
    """Pairs plus BM25 over their requests and their commands."""

    def __init__(
        self,
        requests: _Texts,
        commands: _Texts,
        sources: list[str],
        source_of: np.ndarray,
        by_request: BM25,
        by_command: BM25,
        meta: dict[str, str] | None = None,
    ) -> None:
        self.requests, self.commands = requests, commands
        self.sources, self.source_of = sources, source_of
        self.by_request, self.by_command = by_request, by_command
        self.meta = dict(meta or {})

    def __len__(self) -> int:
        return len(self.requests)

    @classmethod
    def build(cls, pairs: Sequence[tuple[str, str, str]], topics: Sequence[str] | None = None) -> RetrievalIndex:
        """From ``(request, command, source)`` triples, in order (row i is pair i).

        ``topics[i]``, where given, is indexed with request i though not part of it: the name of the
        page a pair comes from. A tldr example's description leaves out the program its page is
        about ("Display system memory" on the page ``free``), so "show free memory" could not find
        it by its words alone. Searches and the stored request texts are unchanged.
        """
        if topics is not None and len(topics) != len(pairs):
            raise ValueError(f"{len(topics)} topics for {len(pairs)} pairs")
        requests = [p[0].strip() for p in pairs]
        commands = [p[1].strip() for p in pairs]
        sources = sorted({p[2] for p in pairs})
        source_of = np.array([sources.index(p[2]) for p in pairs], dtype=np.int16)
        index = cls(
            _Texts.pack(requests),
            _Texts.pack(commands),
            sources,
            source_of,
            BM25.build(terms(r) + (terms(topics[i]) if topics else []) for i, r in enumerate(requests)),
            BM25.build(terms(c) for c in commands),
        )
        counts = np.bincount(source_of, minlength=len(sources)) if len(pairs) else np.zeros(0, dtype=np.int64)
        index.meta = {
            "pairs": str(len(pairs)),
            **{f"count.{s}": str(int(c)) for s, c in zip(sources, counts, strict=True)},
        }
        if topics is not None:
            index.meta["topics"] = str(sum(1 for t in topics if t.strip()))
        return index

    def pair(self, row: int, score: float = 0.0) -> Neighbor:
        return Neighbor(self.requests[row], self.commands[row], self.sources[int(self.source_of[row])], row, score)

    def search(
        self,
        request: str,
        k: int,
        *,
        exclude_row: int | None = None,
        exclude_command: str | None = None,
        source_weights: Mapping[str, float] | None = None,
    ) -> list[Neighbor]:
        """The ``k`` pairs whose requests best match ``request``, best first.

        ``exclude_row`` / ``exclude_command`` drop a pair itself and every pair with the same
        command (how training builds its prompts, so the model learns to edit, not to copy).
        ``source_weights`` scales the scores of a source's pairs (in (0, 1]; 1.0 for a source not
        named); the k best by scaled score are taken from the 4k + 8 best by plain BM25.
        """
        return self._filtered(self.by_request, terms(request), k, exclude_row, exclude_command, source_weights)

    def search_command(self, command: str, k: int, *, exclude_row: int | None = None) -> list[Neighbor]:
        """The ``k`` pairs whose commands best match ``command`` (for explaining), best first."""
        return self._filtered(self.by_command, terms(command), k, exclude_row, None)

    def _filtered(
        self,
        bm25: BM25,
        query: list[str],
        k: int,
        exclude_row: int | None,
        exclude_command: str | None,
        source_weights: Mapping[str, float] | None = None,
    ) -> list[Neighbor]:
        if k <= 0:
            return []
        want = exclude_command.strip() if exclude_command is not None else None
        scale = None
        if source_weights:
            if not all(0 < w <= 1 for w in source_weights.values()):
                raise ValueError(f"source weights lie in (0, 1] (got {dict(source_weights)})")
            scale = np.array([source_weights.get(name, 1.0) for name in self.sources], dtype=np.float32)
        out: list[Neighbor] = []
        fetch = k + 1 if want is None and scale is None else 4 * k + 8
        while True:
            hits = bm25.top(query, fetch)
            floor = hits[-1][1] if hits else 0.0  # no pair left unfetched scores above this, scaled or not
            if scale is not None:
                scaled = [(row, score * float(scale[self.source_of[row]])) for row, score in hits]
                hits = sorted(scaled, key=lambda hit: -hit[1])
            out = []
            for row, score in hits:
                if row == exclude_row:
                    continue
                neighbor = self.pair(row, score)
                if want is not None and neighbor.command == want:
                    continue
                out.append(neighbor)
                if len(out) == k:
                    break
            if len(hits) < fetch:  # nothing more to find
                return out
            if len(out) == k and (scale is None or out[-1].score >= floor):
                return out  # a scaled-down pair may rank below an unfetched one: then fetch more
            fetch *= 4

    # -- storage ------------------------------------------------------------------------------

    def to_arrays(self) -> dict[str, np.ndarray]:
        sources = "\n".join(self.sources).encode("utf-8")
        return {
            **self.requests.to_arrays("requests"),
            **self.commands.to_arrays("commands"),
            "sources": np.frombuffer(sources, dtype=np.uint8).copy(),
            "source_of": self.source_of,
            **self.by_request.to_arrays("bm25_request"),
            **self.by_command.to_arrays("bm25_command"),
        }

    def save(self, path: Path) -> Path:
        """Write atomically; the metadata records the format and a digest of the pairs."""
        from safetensors.numpy import save

        from bash_ai.io import atomic_write_bytes

        arrays = {k: np.ascontiguousarray(v) for k, v in self.to_arrays().items()}
        digest = hashlib.sha256(self.requests.blob.tobytes() + self.commands.blob.tobytes()).hexdigest()
        meta = {
            **self.meta,
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "analyzer": ANALYZER,
            "pairs_sha256": digest,
        }
        atomic_write_bytes(Path(path), save(arrays, metadata=meta))
        return Path(path)

    @classmethod
    def load(cls, path: Path) -> RetrievalIndex:
        """Open a saved index; a corrupt or foreign file raises ``ModelError`` naming it."""
        from safetensors import safe_open

        path = Path(path)
        try:
            with safe_open(str(path), framework="numpy") as handle:
                meta = dict(handle.metadata() or {})
                if meta.get("format") != FORMAT:
                    raise ValueError("not a bash-ai retrieval index")
                if meta.get("format_version") not in READABLE_VERSIONS:
                    raise ValueError(
                        f"format version {meta.get('format_version')!r}, this bash-ai reads {', '.join(READABLE_VERSIONS)}"
                    )
                if meta.get("analyzer") != ANALYZER:
                    raise ValueError(f"terms made by analyzer {meta.get('analyzer')!r}, this bash-ai uses {ANALYZER}")
                arrays = {k: handle.get_tensor(k) for k in handle.keys()}  # noqa: SIM118
            requests = _Texts.from_arrays(arrays, "requests")
            commands = _Texts.from_arrays(arrays, "commands")
            if len(requests) != len(commands):
                raise ValueError("requests and commands differ in number")
            raw_sources = bytes(arrays["sources"]).decode("utf-8")
            sources = raw_sources.split("\n") if raw_sources else []
            source_of = arrays["source_of"]
            n = len(requests)
            if source_of.shape != (n,):
                raise ValueError("source_of has the wrong shape")
            by_request = BM25.from_arrays(arrays, "bm25_request", n)
            by_command = BM25.from_arrays(arrays, "bm25_command", n)
        except (OSError, ValueError, KeyError, UnicodeDecodeError, Exception) as exc:  # safetensors raises its own
            raise ModelError(f"{path}: unreadable retrieval index ({exc})") from None
        return cls(requests, commands, sources, source_of, by_request, by_command, meta)


def load_index(model_dir: Path) -> RetrievalIndex | None:
    """The model's index, or None when the model has none (older models answer without one)."""
    path = Path(model_dir) / INDEX_FILE
    return RetrievalIndex.load(path) if path.is_file() else None
