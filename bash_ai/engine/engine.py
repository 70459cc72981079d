"""The generation engine: prompt in, typed events out, for any ``LogitsModel`` runtime.

One prefill is shared by all ``n`` candidates (``cache.repeat(n)``), then they decode as one batch.
Nothing here prints, prompts or imports a UI or training framework.
"""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import numpy as np

from bash_ai import prompt as fmt
from bash_ai.engine.events import Event, Finished, FinishReason, Started, Stats, TokenEvent
from bash_ai.engine.sampling import SamplingParams, candidate_rngs, sample
from bash_ai.engine.stream import TextStream
from bash_ai.errors import ModelError, UsageError, check_range
from bash_ai.model.base import LogitsModel

if TYPE_CHECKING:
    from bash_ai.engine.rerank import Reranker
    from bash_ai.engine.structure import Structure
    from bash_ai.retrieval import Neighbor, RetrievalIndex
    from bash_ai.tokenizer import Tokenizer

Task = fmt.Task

# The most candidates one call may sample (each is a row of the decode batch).
MAX_CANDIDATES = 16
# Training pairs retrieved into an "ask" prompt as worked examples (the bundled model trains with 3).
RETRIEVAL_K = 3
# tldr's requests leave out the program their page is about ("Show disk usage" is `docker buildx du`),
# so a short generic one outranks the pair a user means; scaled down, nl2bash-dev BM25 top-5 went
# 0.204 -> 0.231 (0.85: 0.223, 0.5: 0.228) and tldr-holdout stayed put (-0.731 -> -0.735).
SOURCE_WEIGHTS = {"tldr": 0.7}
# With a trained reranker, a short request's neighbours (at most LEXICON_MAX_WORDS words besides
# stop words, where BM25 has little to go on) are the NEIGHBOR_POOL best by BM25 re-sorted by BM25
# (relative to the best) plus LEXICON_WEIGHT x the lexicon's score of each one's command for the
# request (``Reranker.order``): BM25 sees shared words, the lexicon which words call for which
# program. Tuned on everyday-dev and nl2bash-dev (docs/benchmarks.md, "Everyday requests"): top-5
# 0.172 -> 0.348 and 0.312 -> 0.316; ~5 ms per short answer.
NEIGHBOR_POOL = 100
LEXICON_MAX_WORDS = 6
LEXICON_WEIGHT = 0.1


T = TypeVar("T")


class _ModelFile(Generic[T]):
    """A file of the model directory, loaded on first use (thread-safe) and kept; ``None`` when the
    directory has none, which is remembered too."""

    def __init__(self, load: Callable[[Path], T | None]) -> None:
        self._load = load
        self._value: T | None = None
        self._known = False
        self._lock = threading.Lock()

    def get(self, model_dir: Path | None) -> T | None:
        if not self._known:
            with self._lock:
                if not self._known:
                    self._value = self._load(model_dir) if model_dir is not None else None
                    self._known = True
        return self._value

    def set(self, value: T | None) -> None:
        self._value, self._known = value, True


def _load_index(model_dir: Path) -> RetrievalIndex | None:
    from bash_ai.retrieval import load_index

    return load_index(model_dir)


def _load_reranker(model_dir: Path) -> Reranker | None:
    from bash_ai.engine.rerank import load_reranker

    return load_reranker(model_dir)


def _load_structure(model_dir: Path) -> Structure | None:
    from bash_ai.engine.structure import load_structure

    return load_structure(model_dir)


class StepBatcher(Protocol):
    """What the engine needs of continuous batching (``bash_ai.engine.batcher.Batcher``)."""

    def decode(
        self,
        ids: list[int],
        params: SamplingParams,
        n: int,
        cancel: threading.Event | None,
        banned: np.ndarray | None,
    ) -> Iterator[Event]: ...


class Engine:
    """A model, its tokenizer and a display name; streams events for prompts."""

    def __init__(
        self, model: LogitsModel, tokenizer: Tokenizer, name: str = "model", model_dir: Path | None = None
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.model_dir = model_dir  # where its retrieval index and reranker are read from
        self.retrieval_k = RETRIEVAL_K
        self._index: _ModelFile[RetrievalIndex] = _ModelFile(_load_index)
        self._reranker: _ModelFile[Reranker] = _ModelFile(_load_reranker)
        self._structure: _ModelFile[Structure] = _ModelFile(_load_structure)
        self._control_ids: np.ndarray | None = None
        self.config = model.config
        tok_vocab = int(tokenizer.vocab_size)
        if tok_vocab > self.config.vocab_size:
            raise ModelError(
                f"model {name!r}: tokenizer has {tok_vocab} tokens but the model only {self.config.vocab_size}"
            )
        self.eot_id = int(tokenizer.eot_id)
        specials = dict(tokenizer.special_tokens)
        self.special_ids = frozenset(int(i) for i in specials.values()) | {self.eot_id}
        # The special tokens besides end-of-text: they would end a candidate mid-command.
        self.never_ids = np.array(sorted(self.special_ids - {self.eot_id}), dtype=np.int64)
        self.never_ids.setflags(write=False)  # shared by every answer
        self._special_by_text = {str(k): int(v) for k, v in specials.items()}
        self._bytes: dict[int, bytes] = {}
        self._last_only = _accepts(model.forward, "last_only")
        self.batcher: StepBatcher | None = None  # set by batcher.start_batching: concurrent streams share steps
        # BLAS threads for a prompt's prefill (bash_ai.model.blas): more than one only in a process
        # that answers one request at a time (``bash-ai ask``, the shell helper), never where
        # requests run side by side (the server, eval's jobs, the REPL's completions).
        self.prefill_threads = 1

    @property
    def context_length(self) -> int:
        return int(self.config.context_length)

    # -- encoding ---------------------------------------------------------------------------

    def encode_prompt(self, prompt: str) -> list[int]:
        """Encode a prompt built by the caller; special-token text in it becomes special tokens."""
        return [int(i) for i in self.tokenizer.encode(prompt, allowed_special="all")]

    def encode_text(self, text: str) -> list[int]:
        """Encode untrusted text: a literal ``<|bash|>`` typed by a user stays plain text."""
        return [int(i) for i in self.tokenizer.encode(text, allowed_special=set())]

    def task_ids(self, task: Task, text: str) -> list[int]:
        """The prompt ids of a task (``bash_ai.prompt.task_parts``'s layout), markers as special
        tokens, the user's text as plain text."""
        if task not in fmt.TASK_MARKERS:
            raise UsageError(f"unknown task {task!r}; choose ask, explain or complete")
        head, body, tail = fmt.task_parts(task, text)
        ids = [self._special(head), *self.encode_text(body)]
        return ids + [self._special(tail)] if tail else ids

    # -- retrieval --------------------------------------------------------------------------

    @property
    def index(self) -> RetrievalIndex | None:
        """The model's retrieval index (``retrieval.safetensors`` in its directory), loaded once."""
        return self._index.get(self.model_dir)

    @property
    def control_ids(self) -> np.ndarray:
        """Tokens holding terminal control bytes (``bash_ai.safety.control``), computed once."""
        if self._control_ids is None:
            from bash_ai.safety.control import control_token_ids

            self._control_ids = control_token_ids(self.tokenizer)
        return self._control_ids

    def answer_bans(self, request: str) -> np.ndarray | None:
        """Tokens an answer to ``request`` may not use: control bytes, unless the request asks for
        escape sequences, colours and the like (then none)."""
        from bash_ai.safety.control import request_wants_control

        return None if request_wants_control(request) else self.control_ids

    @property
    def reranker(self) -> Reranker | None:
        """The model's trained reranker (``reranker.safetensors`` in its directory), loaded once."""
        return self._reranker.get(self.model_dir)

    def set_reranker(self, reranker: Reranker | None) -> None:
        """Rank with this reranker (``None``: with the hand-set weights)."""
        self._reranker.set(reranker)

    @property
    def structure(self) -> Structure | None:
        """The model's structure model (``structure.safetensors`` in its directory), loaded once."""
        return self._structure.get(self.model_dir)

    def set_structure(self, structure: Structure | None) -> None:
        """Score templates with this structure model (``None``: none)."""
        self._structure.set(structure)

    def structure_logprobs(
        self, request: str, commands: Sequence[str], neighbors: Sequence[Neighbor] | None = None
    ) -> np.ndarray:
        """Each command's template log-probability after ``request`` by the structure model
        (``Structure.logprobs``), its prompt carrying ``neighbors`` (default: the request's own,
        by ``Engine.neighbors``) where that model trained with retrieved examples; ``ModelError``
        when the model has none."""
        structure, prompt = self._structure_prompt(request, neighbors, "its reranker needs")
        return structure.logprobs(prompt, self.template_ids(commands))

    def _structure_prompt(
        self, request: str, neighbors: Sequence[Neighbor] | None, needs: str
    ) -> tuple[Structure, list[int]]:
        """The structure model and its prompt for ``request`` (with ``neighbors``, default the
        request's own, where it trained with retrieved examples); ``ModelError`` "model X:
        ``needs`` structure.safetensors, ..." when the model has none."""
        structure = self.structure
        if structure is None:
            from bash_ai.model_files import STRUCTURE_FILE

            raise ModelError(f"model {self.name!r}: {needs} {STRUCTURE_FILE}, which it does not have")
        examples: Sequence[Neighbor] = ()
        if structure.examples:
            found = self.neighbors(request, structure.examples) if neighbors is None else neighbors
            examples = found[: structure.examples]
        return structure, self.template_prompt(request, examples, int(structure.model.config.context_length))

    def review_logprobs(self, request: str, commands: Sequence[str]) -> np.ndarray:
        """The reviewer score of each command: log p(request | command) per request token, by the
        model's reverse (explain) direction; ``-inf`` for one too long for the context."""
        target = self.encode_text(request.strip()) + [self.eot_id]
        pairs = [(self.task_ids("explain", command), target) for command in commands]
        return np.array(self.continuation_logprobs(pairs), dtype=np.float64) / len(target)

    def template_prompt(
        self, request: str, neighbors: Sequence[Neighbor] = (), context: int | None = None
    ) -> list[int]:
        """``request``'s "ask" prompt for a template, after ``neighbors`` as worked examples with
        their commands as templates (``ask_ids``' layout; a structure model trained with
        ``--retrieval-k`` saw them so, one trained without sees none), fitted to ``context`` (the
        structure model's own context length; default the model's)."""
        from bash_ai.engine.structure import MAX_TEMPLATE_TOKENS
        from bash_ai.templates import command_template

        templated = [replace(n, command=command_template(n.command)) for n in neighbors]
        ids = self.ask_ids(request, templated, MAX_TEMPLATE_TOKENS, context)
        return self.fit_prompt(ids, MAX_TEMPLATE_TOKENS, context)[0]

    def structure_templates(self, request: str, width: int, neighbors: Sequence[Neighbor] | None = None) -> list[str]:
        """The structure model's ``width`` best templates for ``request`` by beam search (those that
        ended), best first; ``ModelError`` when the model has none."""
        from bash_ai.engine.beam import beam_search
        from bash_ai.engine.structure import MAX_TEMPLATE_TOKENS

        structure, prompt = self._structure_prompt(request, neighbors, "writing templates needs")
        beams = beam_search(
            structure.model, prompt, self.eot_id, width=width, max_tokens=MAX_TEMPLATE_TOKENS, banned=self.never_ids
        )
        found_templates = (self.tokenizer.decode(list(b.tokens)).strip() for b in beams if b.finish_reason == "eos")
        return [t for t in found_templates if t]

    def hinted_ids(self, request: str, template: str) -> list[int]:
        """The prompt that asks for a command of ``template``'s structure (``prompt.hinted_parts``'s
        layout, markers as special tokens: a model trained with ``--targets hinted`` writes it with
        the request's arguments)."""
        head, body, middle, hint, tail = fmt.hinted_parts(request, template)
        return [
            self._special(head),
            *self.encode_text(body),
            self._special(middle),
            *self.encode_text(hint),
            self._special(tail),
        ]

    def template_ids(self, commands: Sequence[str]) -> list[list[int]]:
        """Each command's template (``bash_ai.templates``) as ids ending in end-of-text."""
        from bash_ai.engine.structure import MAX_TEMPLATE_TOKENS
        from bash_ai.templates import command_template

        return [self.encode_text(command_template(c))[: MAX_TEMPLATE_TOKENS - 1] + [self.eot_id] for c in commands]

    def set_index(self, index: RetrievalIndex | None) -> None:
        """Use this index (``None``: answer without retrieval)."""
        self._index.set(index)

    def neighbors(self, request: str, k: int | None = None, *, lexicon: bool = True) -> list[Neighbor]:
        """The ``k`` training pairs nearest to ``request`` (default ``retrieval_k``), best first:
        BM25's order, for a short request re-sorted with the reranker's lexicon where the model has
        one (``lexicon`` False: BM25's order alone)."""
        k = self.retrieval_k if k is None else k
        index = self.index if k > 0 else None
        if index is None:
            return []
        from bash_ai.retrieval.bm25 import question_core  # loaded with the index

        request = question_core(request)
        reranker = self.reranker if lexicon else None
        if reranker is not None:
            from bash_ai.engine.rerank import request_words  # loaded with the reranker

            if len(request_words(request)) <= LEXICON_MAX_WORDS:
                found = index.search(request, max(k, NEIGHBOR_POOL), source_weights=SOURCE_WEIGHTS)
                return reranker.order(request, found, LEXICON_WEIGHT)[:k]
        return index.search(request, k, source_weights=SOURCE_WEIGHTS)

    def ask_ids(
        self, request: str, neighbors: Sequence[Neighbor] = (), reserve: int = 96, context: int | None = None
    ) -> list[int]:
        """An "ask" prompt with its worked examples, nearest last (``prompt.retrieval_pair``'s layout).

        The farthest examples are dropped until the prompt leaves ``reserve`` tokens (at most half
        the ``context``, default the model's) for the answer; the request itself is never cut here.
        """
        request_ids = self.task_ids("ask", request)
        examples = [self._example_ids(n.request, n.command) for n in neighbors]  # best first
        budget = self._prompt_budget(reserve, context)
        while examples and len(request_ids) + sum(map(len, examples)) > budget:
            examples.pop()
        return [i for ex in reversed(examples) for i in ex] + request_ids

    def continuation_logprobs(self, pairs: Sequence[tuple[Sequence[int], Sequence[int]]]) -> list[float]:
        """Total log-probability of each continuation after its own prompt (token ids), in one
        batch; ``-inf`` for a pair longer than the context (``beam.continuation_logprobs``)."""
        from bash_ai.engine.beam import continuation_logprobs

        return continuation_logprobs(self.model, pairs)

    def _example_ids(self, request: str, command: str) -> list[int]:
        return [*self.task_ids("ask", request), *self.encode_text(command.strip()), self.eot_id]

    def _special(self, text: str) -> int:
        if text not in self._special_by_text:
            raise ModelError(f"model {self.name!r}: its tokenizer has no {text} token")
        return self._special_by_text[text]

    def token_bytes(self, token_id: int) -> bytes:
        data = self._bytes.get(token_id)
        if data is None:
            data = self._bytes[token_id] = bytes(self.tokenizer.decode_bytes([token_id]))
        return data

    def _prompt_budget(self, reserve: int, context: int | None) -> int:
        """The tokens a prompt may take in ``context`` (default the model's context length) so that
        ``reserve`` are left for the answer, at most half of it."""
        context = self.context_length if context is None else context
        return context - min(reserve, context // 2)

    def fit_prompt(self, ids: Sequence[int], max_tokens: int, context: int | None = None) -> tuple[list[int], int]:
        """Trim ``ids`` from the left to leave room for ``max_tokens`` in ``context`` (default the
        model's context length); returns (ids, dropped).

        A leading special token (the task marker) is kept. At most half the context is reserved
        for the answer, so a huge ``max_tokens`` cannot squeeze the prompt to nothing.
        """
        ids = list(ids) or [self.eot_id]  # an empty prompt starts a fresh document
        budget = self._prompt_budget(max_tokens, context)
        if len(ids) <= budget:
            return ids, 0
        dropped = len(ids) - budget
        if ids[0] in self.special_ids and budget > 1:
            return [ids[0], *ids[dropped + 1 :]], dropped
        return ids[dropped:], dropped

    # -- generation -------------------------------------------------------------------------

    def stream(
        self,
        prompt: str | Sequence[int],
        params: SamplingParams | None = None,
        n: int = 1,
        *,
        cancel: threading.Event | None = None,
        banned: np.ndarray | None = None,
    ) -> Generator[Event, None, None]:
        """Sample ``n`` candidates for ``prompt`` (a string, or token ids from ``task_ids``).

        A generator: closing it or setting ``cancel`` stops work before the next token.
        ``banned`` token ids are never sampled.
        """
        params = params if params is not None else SamplingParams()
        check_range("the number of candidates", n, 1, MAX_CANDIDATES, integer=True)
        ids = self.encode_prompt(prompt) if isinstance(prompt, str) else [int(i) for i in prompt]
        bad = [i for i in ids if not 0 <= i < self.config.vocab_size]
        if bad:
            raise UsageError(f"prompt token id {bad[0]} is outside the vocabulary (0..{self.config.vocab_size - 1})")
        return self._run(ids, params, n, cancel, banned)

    def _run(
        self,
        ids: list[int],
        params: SamplingParams,
        n: int,
        cancel: threading.Event | None,
        banned: np.ndarray | None = None,
    ) -> Generator[Event, None, None]:
        ids, dropped = self.fit_prompt(ids, params.max_tokens)
        yield Started(prompt_tokens=len(ids), truncated=dropped > 0, dropped_tokens=dropped, n=n)
        if cancel is not None and cancel.is_set():
            return
        if self.batcher is not None:
            yield from self.batcher.decode(ids, params, n, cancel, banned)
            return
        t0 = time.perf_counter()
        logits, cache = self._prefill(ids, n)  # (n, V)
        prefill_s = time.perf_counter() - t0

        state = _Candidates(self, ids, params, n, logits.shape[-1])
        cands = state.cands
        rows = np.arange(n)  # the candidate behind each cache row
        can_drop = callable(getattr(cache, "select", None))
        decode_s = 0.0  # model and sampler time only, not the consumer's rendering
        while True:
            if cancel is not None and cancel.is_set():
                return
            t1 = time.perf_counter()
            tokens = state.sample(logits, rows, banned)  # (B,)
            decode_s += time.perf_counter() - t1
            at_limit = int(cache.length) >= self.context_length
            for row, i in enumerate(rows):
                if cands[i].active:
                    yield from cands[i].step(int(tokens[row]), at_limit)
            alive = np.array([cands[i].active for i in rows])  # (B,)
            if not alive.any():
                break
            state.remember(rows, tokens)
            if can_drop and not alive.all():
                keep = np.flatnonzero(alive)
                cache = cache.select(keep)
                rows, tokens, alive = rows[keep], tokens[keep], alive[keep]
            # Without select, finished rows keep decoding end-of-text; their output is ignored.
            feed = np.where(alive, tokens, self.eot_id).astype(np.int64)[:, None]  # (B, 1)
            t1 = time.perf_counter()
            logits = self._last_logits(feed, cache)  # (B, V)
            decode_s += time.perf_counter() - t1
        yield state.stats(len(ids), prefill_s, decode_s)

    def _prefill(self, ids: list[int], n: int) -> tuple[np.ndarray, Any]:
        """Run the prompt once and fan the cache out to ``n`` rows; returns ((n, V) logits, cache)."""
        cache = self.model.new_cache(1)
        share = n > 1 and callable(getattr(cache, "repeat", None))
        rows = 1 if share or n == 1 else n
        if rows != 1:
            cache = self.model.new_cache(rows)  # no way to share: prefill every row
        batch = np.tile(np.asarray(ids, dtype=np.int64)[None, :], (rows, 1))  # (rows, T)
        logits = self._last_logits(batch, cache)  # (rows, V)
        if share:
            repeated = cache.repeat(n)
            cache = repeated if repeated is not None else cache
            logits = np.repeat(logits, n, axis=0)  # (n, V)
        return logits, cache

    def _last_logits(self, ids: np.ndarray, cache: Any) -> np.ndarray:
        """Logits of the last position of each row: (B, T) ids -> (B, V)."""
        kwargs = {"last_only": True} if self._last_only else {}
        out = np.asarray(self.model.forward(ids, cache, **kwargs))
        return out[:, -1, :] if out.ndim == 3 else out

    def generate(
        self,
        prompt: str | Sequence[int],
        params: SamplingParams | None = None,
        n: int = 1,
        *,
        cancel: threading.Event | None = None,
    ) -> list[Finished]:
        """The finished candidates, ordered by index (fewer than ``n`` only when cancelled)."""
        done = [e for e in self.stream(prompt, params, n, cancel=cancel) if isinstance(e, Finished)]
        return sorted(done, key=lambda e: e.index)

    # -- tasks ------------------------------------------------------------------------------

    def stream_ask(
        self, request: str, params: SamplingParams | None = None, n: int = 1, *, cancel: threading.Event | None = None
    ) -> Iterator[Event]:
        """Bash for a request, with the retrieved examples in the prompt when the model has an index.

        No newline stop: scripts are multi-line; the model ends at EOT.
        """
        from bash_ai.retrieval.bm25 import question_core

        params = params if params is not None else SamplingParams()
        request = question_core(request)  # as the beam search's answers (bash_ai.engine.propose)
        ids = self.ask_ids(request, self.neighbors(request), reserve=params.max_tokens)
        return self.stream(ids, params, n, cancel=cancel, banned=self.answer_bans(request))

    def ask(
        self, request: str, params: SamplingParams | None = None, n: int = 1, *, cancel: threading.Event | None = None
    ) -> list[Finished]:
        done = [e for e in self.stream_ask(request, params, n, cancel=cancel) if isinstance(e, Finished)]
        return sorted(done, key=lambda e: e.index)

    def describe(
        self, command: str, params: SamplingParams | None = None, *, cancel: threading.Event | None = None
    ) -> str:
        """The model's plain-English sentence for ``command`` ("" if cancelled); ``bash-ai explain``
        (``bash_ai.answer.explain``) builds its answer from the man pages and uses this sentence."""
        params = params if params is not None else SamplingParams(temperature=0.0)
        stream = self.stream(self.task_ids("explain", command), params, 1, cancel=cancel, banned=self.control_ids)
        done = [e for e in stream if isinstance(e, Finished)]
        return done[0].text.strip() if done else ""

    def complete(
        self, prefix: str, params: SamplingParams | None = None, *, cancel: threading.Event | None = None
    ) -> str:
        """The rest of the bash line the user is typing (REPL completion); stops at a newline."""
        params = (params if params is not None else SamplingParams(temperature=0.0, max_tokens=48)).with_stop("\n")
        stream = self.stream(self.task_ids("complete", prefix), params, 1, cancel=cancel, banned=self.control_ids)
        done = [e for e in stream if isinstance(e, Finished)]
        return done[0].text if done else ""


def _accepts(func: Any, name: str) -> bool:
    try:
        return name in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False


class _Candidates:
    """One stream's candidates: their random streams, stop rules and repetition-penalty state.
    The lone decode loop (``Engine._run``) and continuous batching (``engine.batcher``) both
    sample through it, which is why their answers agree."""

    def __init__(self, engine: Engine, ids: Sequence[int], params: SamplingParams, n: int, vocab: int) -> None:
        self.params = params
        self.rngs = candidate_rngs(params.seed, n)
        self.cands = [_CandidateStream(i, params, engine) for i in range(n)]
        self.seen: np.ndarray | None = None  # (n, V) tokens each candidate has seen
        if params.repetition_penalty != 1.0:
            self.seen = np.zeros((n, vocab), dtype=bool)
            if params.penalize_prompt:
                self.seen[:, [i for i in ids if i not in engine.special_ids]] = True

    def sample(self, logits: np.ndarray, rows: Sequence[int] | np.ndarray, banned: np.ndarray | None) -> np.ndarray:
        """One token per row of ``logits`` (B, V); ``rows``: the candidate behind each row. One draw
        per live candidate from its own stream: answers do not depend on n, the batch or the runtime."""
        u = np.array([self.rngs[i].random() for i in rows])  # (B,)
        if banned is not None and banned.size:
            logits[:, banned] = -np.inf
        return sample(logits, self.params, self.rngs[0], None if self.seen is None else self.seen[rows], uniforms=u)

    def remember(self, rows: Sequence[int] | np.ndarray, tokens: np.ndarray) -> None:
        """The repetition penalty's memory of what each candidate has said."""
        if self.seen is not None:
            self.seen[rows, tokens] = True

    def stats(self, prompt_tokens: int, prefill_s: float, decode_s: float) -> Stats:
        generated = sum(c.n_tokens for c in self.cands)
        return Stats(
            prompt_tokens=prompt_tokens,
            generated_tokens=generated,
            prefill_s=prefill_s,
            decode_s=decode_s,
            tokens_per_s=generated / decode_s if decode_s > 0 else 0.0,
        )


class _CandidateStream:
    """One candidate's decoding state: its text stream, token count and whether it still runs."""

    def __init__(self, index: int, params: SamplingParams, engine: Engine) -> None:
        self.index = index
        self.max_tokens = params.max_tokens
        self.stream = TextStream(params.stop)
        self.engine = engine
        self.n_tokens = 0
        self.active = True

    def step(self, token: int, at_limit: bool) -> Iterator[Event]:
        """Take one sampled token; ``at_limit``: the context is full, no further token fits."""
        if token in self.engine.special_ids:
            yield from self._finish("eos", "", token)
            return
        self.n_tokens += 1
        piece = self.stream.feed(self.engine.token_bytes(token))
        if self.stream.stopped:
            yield from self._finish("stop", piece, token)
        elif self.n_tokens >= self.max_tokens or at_limit:
            yield from self._finish("length", piece, token)
        else:
            yield TokenEvent(self.index, piece, token)

    def _finish(self, reason: FinishReason, piece: str, token: int) -> Iterator[Event]:
        self.active = False
        # Held-back text (a stop-string prefix that never completed, dangling bytes) is final now;
        # it rides on the ending token's event.
        piece += self.stream.flush()
        if piece or reason != "eos":
            yield TokenEvent(self.index, piece, token)
        yield Finished(index=self.index, text=self.stream.text, finish_reason=reason, n_tokens=self.n_tokens)
