"""From a request to checked answers: sampling, syntax resampling, danger flags, script shaping.

Shared by the CLI, the REPL and the HTTP server, so nothing here prints or prompts. Every
candidate is checked before anyone shows it: real ``bash -n`` (invalid ones are resampled with a
different seed, a bounded number of times), the danger rules, and shellcheck when installed.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from bash_ai.errors import GenerationError, UsageError

if TYPE_CHECKING:
    from bash_ai.breakdown import Part
    from bash_ai.engine.engine import Engine
    from bash_ai.engine.events import Event
    from bash_ai.engine.proposal import Proposal
    from bash_ai.engine.propose import DecodeConfig
    from bash_ai.engine.sampling import SamplingParams
    from bash_ai.retrieval import Neighbor
    from bash_ai.safety.danger import DangerFlag, Severity
    from bash_ai.safety.syntax import Finding, SyntaxResult

Kind = Literal["command", "script"]

# A request is a sentence or a paragraph; anything this big is a mistake (a file piped by accident).
# Documented in the README. Requests under it that exceed the model's context are truncated.
MAX_REQUEST_BYTES = 16 * 1024

# Rounds of sampling (the first included) before we give up on getting a syntax-valid candidate.
MAX_ROUNDS = 3

# Defaults shared by every face (CLI, REPL, HTTP server), so one request gets the same treatment.
DEFAULT_TEMPERATURE = 0.3
# Token budgets: a command is a line, a script a page (the engine also stops at the context end).
COMMAND_MAX_TOKENS = 96
SCRIPT_MAX_TOKENS = 320

SHEBANG = "#!/usr/bin/env bash"
STRICT_MODE = "set -euo pipefail"

# "script" as a word, not part of a file name or path (script.sh, ~/scripts/x, myscript).
_SCRIPT = r"(?<![\w./~-])script(?![\w./-])"
_SCRIPT_REQUEST = re.compile(
    rf"\b(write|create|make|generate|build|give\s+me|need|want)\b[^.?!]*{_SCRIPT}"
    rf"|{_SCRIPT}\s+(that|to|which|for)\b|^\s*(a\s+)?(bash\s+|shell\s+)?{_SCRIPT}|\bshebang\b",
    re.IGNORECASE,
)
# Requests about an existing script (run it, make it executable, find or copy it) want a command.
_ABOUT_A_SCRIPT = re.compile(
    r"\b(executable|runnable|permissions?|chmod)\b"
    r"|^\s*(please\s+)?(run|execute|start|stop|kill|delete|remove|copy|move|rename|find|list|show|print|count"
    r"|edit|open|view|cat|debug|compress|archive|download|upload|search|grep|check|lint|source|schedule"
    r"|make\s+(a\s+)?(backup|copy))\b",
    re.IGNORECASE,
)
# The script manages errors itself; strict mode would change its meaning.
_OWN_ERROR_HANDLING = re.compile(r"(^|\s|;)set\s+[-+][a-zA-Z]*[eu]|set\s+-o\s+(errexit|nounset|pipefail)|\$\?")
_FENCE = re.compile(r"^\s*```[\w-]*\s*$")


# A first answer marked unsure (``Candidate.sure``) where one was asked for on a terminal (the CLI,
# the REPL): this many more answers are shown beside it (``alternatives_beside``).
UNSURE_ALTERNATIVES = 2


def alternatives_beside(results: list[Candidate]) -> list[Candidate]:
    """Of ``results`` (one answer asked for, ``UNSURE_ALTERNATIVES`` more computed), those to show
    beside the first: the others when it is marked unsure, else none."""
    return results[1:] if results and results[0].sure is False else []


@dataclass
class Candidate:
    """One checked answer. ``text`` is exactly what goes to stdout (scripts end with a newline)."""

    text: str
    kind: Kind
    syntax_ok: bool
    syntax_message: str = ""
    danger: list[DangerFlag] = field(default_factory=list)
    shellcheck: list[Finding] = field(default_factory=list)
    finish_reason: str = "stop"
    n_tokens: int = 0
    confidence: float = 1.0  # the model's geometric-mean token probability, when it scored the text
    source: str = "model"  # "model" (generated) or "retrieval" (a training pair's command)
    missing: list[str] = field(default_factory=list)  # its programs this machine lacks (set with the danger flags)
    # Whether the reranker's score of it reached the unsure threshold (``DecodeConfig.unsure_threshold``;
    # None: no reranker ranked it). A first answer below it is right far less often (docs/benchmarks.md, "Unsure answers").
    sure: bool | None = None

    @property
    def dangerous(self) -> bool:
        return bool(self.danger)

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON shape (documented in the README under ``--json``)."""
        return {
            "text": self.text,
            "kind": self.kind,
            "syntax": {"ok": self.syntax_ok, "message": self.syntax_message},
            "danger": [_as_dict(f) for f in self.danger],
            "shellcheck": [_as_dict(f) for f in self.shellcheck],
            "finish_reason": self.finish_reason,
            "confidence": round(self.confidence, 6),
            "source": self.source,
            "missing": list(self.missing),
            "sure": self.sure,
        }


def _as_dict(finding: DangerFlag | Finding) -> dict[str, Any]:
    """A safety dataclass (DangerFlag, Finding) as JSON-ready data (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(finding).items()}


class Request(str):
    """A request that ``validate_request`` accepted (stripped, non-empty, within
    ``MAX_REQUEST_BYTES``, no NUL, valid Unicode): a face checks it once, early, and ``answer``
    takes it as it is."""

    __slots__ = ()


def validate_request(request: str) -> Request:
    """The request, stripped; ``UsageError`` when empty or over ``MAX_REQUEST_BYTES``."""
    if isinstance(request, Request):
        return request
    size = len(request.encode("utf-8", "surrogatepass"))
    if size > MAX_REQUEST_BYTES:
        raise UsageError(f"request is too long ({size} bytes; the limit is {MAX_REQUEST_BYTES} bytes)")
    text = request.strip()
    if not text:
        raise UsageError('empty request: say what the command should do, e.g. bash-ai "list files by size"')
    if "\x00" in text:
        raise UsageError("request contains a NUL byte")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate, e.g. "\ud800" in JSON
        raise UsageError(f"request is not valid Unicode (a lone surrogate at character {exc.start})") from None
    return Request(text)


def wants_script(request: str) -> bool:
    """Does the request ask for a script (rather than one command)?"""
    return bool(_SCRIPT_REQUEST.search(request)) and not _ABOUT_A_SCRIPT.search(request)


def default_max_tokens(request: str) -> int:
    return SCRIPT_MAX_TOKENS if wants_script(request) else COMMAND_MAX_TOKENS


def clean(text: str) -> str:
    """Strip what a model may wrap around bash: code fences, a ``$ `` prompt, blank edges."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n") if not _FENCE.match(line)]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) == 1 and lines[0].startswith("$ "):
        lines[0] = lines[0][2:]
    return "\n".join(lines)


def is_multiline(text: str) -> bool:
    """More than one logical line (backslash continuations join lines)."""
    joined = re.sub(r"\\\n", " ", text)
    return sum(1 for line in joined.split("\n") if line.strip()) > 1


def shape(text: str, kind: Kind) -> str:
    """The final text: a single command tidied (``bash_ai.tidy``: a useless ``cat`` dropped, a
    ``find`` given its ``.``), a script with shebang and strict mode where it fits."""
    text = clean(text)
    if kind == "command" or not text:
        from bash_ai.tidy import tidy

        return tidy(text.strip())
    lines = text.split("\n")
    if lines[0].startswith("#!"):
        lines = lines[1:]
    body = "\n".join(lines).strip("\n")
    header = [SHEBANG]
    if not _OWN_ERROR_HANDLING.search(body):
        header.append(STRICT_MODE)
    return "\n".join(header) + "\n\n" + body + "\n"


def shaped(generated: str, script: bool) -> tuple[str, Kind]:
    """A generated text as it is answered: cleaned, a script when asked for one or when it runs over
    several lines, then shaped (``""`` when nothing is left). Every face that shows generated text
    (``answer``, the server's streams) goes through here."""
    raw = clean(generated)
    kind: Kind = "script" if script or is_multiline(raw) else "command"
    return shape(raw, kind), kind


def check(text: str, kind: Kind | None = None, finish_reason: str = "stop", n_tokens: int = 0) -> Candidate:
    """Check a command or script (generated or typed): syntax, danger flags, shellcheck."""
    candidate = _syntax_checked(text, kind, finish_reason, n_tokens)
    _flag([candidate])
    return candidate


def _syntax_checked(text: str, kind: Kind | None = None, finish_reason: str = "stop", n_tokens: int = 0) -> Candidate:
    """A candidate with its ``bash -n`` verdict only (cheap: decides resampling)."""
    from bash_ai import safety

    if kind is None:
        kind = "script" if text.startswith("#!") or is_multiline(text) else "command"
    syntax = safety.check_syntax(text)
    return Candidate(text, kind, bool(syntax.ok), syntax.message or "", finish_reason=finish_reason, n_tokens=n_tokens)


def _flag(candidates: list[Candidate], lint: bool = True, request: str | None = None) -> None:
    """Danger rules, (``lint``) shellcheck, one process for all, and the programs this machine
    lacks, on the candidates that will be shown; with the ``request``, a flag on each that does
    what the request did not ask for (``unasked``): high, or medium where it only creates."""
    from bash_ai import safety
    from bash_ai.engine.installed import missing_programs

    findings = safety.shellcheck_many([c.text for c in candidates]) if candidates and lint else []
    misfits = unasked(request, [c.text for c in candidates]) if request else {}
    for i, candidate in enumerate(candidates):
        candidate.danger = list(safety.assess(candidate.text))
        if candidate.text in misfits:
            rule, message = misfits[candidate.text]
            flag = safety.DangerFlag(rule, UNASKED_SEVERITY[rule], message, (0, len(candidate.text)))
            candidate.danger.insert(0, flag)
        candidate.shellcheck = list(findings[i]) if findings else []
        candidate.missing = missing_programs(candidate.text)


def _round_params(params: SamplingParams, round_no: int) -> SamplingParams:
    """Params for a resampling round: a different seed, and some temperature if greedy."""
    if round_no == 0:
        return params
    changes: dict[str, Any] = {}
    seed = getattr(params, "seed", None)
    if seed is not None:
        changes["seed"] = seed + 7919 * round_no
    if getattr(params, "temperature", 1.0) <= 0:
        changes["temperature"] = 0.8
    return dataclasses.replace(params, **changes) if changes else params


def structure(command: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The programs a command runs with their flags, arguments left out: ``ls -S a`` ~ ``ls -S b``.

    Unparseable text is its own structure.
    """
    from bash_ai.safety.commands import invocations
    from bash_ai.safety.shell import parse

    try:
        found = invocations(parse(command), unwrap=True, exec_bodies=True, c_strings=False)
        return tuple(
            (inv.utility, tuple(sorted(v for v in inv.values if v.startswith("-")))) for inv in found if inv.utility
        ) or (("", (command,)),)
    except Exception:  # noqa: BLE001 - the parser's errors on broken model text
        return (("", (command,)),)


def distinct_commands(proposals: Iterable[Proposal], distinct: bool = True, request: str = "") -> dict[str, Proposal]:
    """The proposals as cleaned commands (``shape``) and, with the ``request``, settled for it
    (``arguments.settle``), in their order, keyed by text: empty and repeated texts dropped and,
    with ``distinct``, all but the first of each structure (programs and flags)."""
    from bash_ai.engine.arguments import settle

    shaped: dict[str, Proposal] = {}
    for proposal in proposals:
        text = shape(clean(proposal.text), "command")
        text = settle(text, request) if request and text else text
        if text and text not in shaped:
            shaped[text] = proposal
    if not distinct:
        return shaped
    kept = one_per_structure(shaped)
    return {t: shaped[t] for t in kept}


def one_per_structure(texts: Iterable[str]) -> list[str]:
    """The first of ``texts`` of each structure (programs and flags), in their order."""
    seen: set[tuple[tuple[str, tuple[str, ...]], ...]] = set()
    out = []
    for text in texts:
        key = structure(text)
        if key not in seen:
            seen.add(key)
            out.append(text)
    return out


def cover_texts(shaped: dict[str, Proposal], texts: list[str], temperature: float) -> list[str]:
    """``texts`` (keys of ``shaped``, best first, as shown) with the answers after the first chosen
    to cover the pool (``bash_ai.engine.propose.cover``)."""
    from bash_ai.engine.propose import cover

    text_of = {id(shaped[t]): t for t in texts}
    return [text_of[id(p)] for p in cover([shaped[t] for t in texts], temperature)]


def wasting(commands: Iterable[str]) -> set[str]:
    """The ``commands`` whose pipelines waste a stage's output (``intent.wasted``: a stage repeated
    word for word, or a program that never reads its input after a pipe): ``tar cvf - dir | tar cvf
    - dir`` is a beam that looped. Each is parsed once for this and the ``unasked`` rules."""
    from bash_ai.safety.intent import wasted

    return {t for t in commands if wasted(t)}


def harming(request: str, commands: Iterable[str]) -> dict[str, list[str]]:
    """Each of ``commands`` that changes files although ``request`` only asks to read, with what it
    harms (``bash_ai.safety.intent``): a file the request names that it overwrites, deletes, moves or
    edits ("show the first 10 lines of notes.txt" -> ``... > notes.txt``), or else any file it
    deletes, moves or edits in place ("list all files including hidden ones" -> ``mv ...``)."""
    from bash_ai.engine.arguments import files
    from bash_ai.safety.intent import reads_only

    if not reads_only(request):
        return {}
    named = files(request)
    harmed = {c: _harmed(c, named) for c in commands}
    return {c: names for c, names in harmed.items() if names}


def _harmed(command: str, named: list[str]) -> list[str]:
    """What ``command`` harms of a read-only request's files ``named``, or else of any files."""
    from bash_ai.safety.intent import destroyed_files, harmed_files

    return (harmed_files(command, named) if named else []) or destroyed_files(command)


# The flag each ``unasked`` rule carries where its candidate is shown: a new file or directory harms
# nothing (medium); files changed or run, another user's session, or everything here deleted are high.
UNASKED_SEVERITY: dict[str, Severity] = {
    "request-file": "high",
    "request-user": "high",
    "request-scope": "high",
    "request-kill": "high",
    "request-change": "high",
    "request-undo": "high",
    "request-port": "high",
    "request-create": "medium",
    "request-kind": "medium",
    "request-stop": "medium",
    "request-output": "medium",
    "request-format": "medium",
    "request-count": "medium",
    "request-topic": "medium",
    "request-tool": "medium",
    "request-depth": "medium",
}


def unasked(request: str, commands: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Each of ``commands`` that does what ``request`` did not ask for, with a danger rule id and
    message: it changes files where the request only reads (``harming``) or runs a file the request
    only asks to read (both ``request-file``), it only creates files or directories where the request
    asks to create none, or none of its kind (``request-create``: ``mkdir x`` for "create a tar archive
    of the src directory"), it runs as another user where the request does not
    ask for that (``request-user``), it gives a file the request names to an archiver of another
    format (``request-format``: ``tar -tzf release.zip``), it stops processes or the machine where
    the request only reads (``request-kill``: ``kill $(lsof -t -i:8080)`` for "show which process
    uses port 8080"), or changes accounts, services, packages, owners or modes there
    (``request-change``: ``sudo useradd carol`` for "show uid and groups of user carol"), it
    deletes everything in the working directory, or deletes anything at all, where the request names
    what to act on and the command names none of it (``request-scope``: ``find . -mtime +7 -delete``
    for "delete all .tmp files older than 7 days"), or deletes in a path where the request says no
    place at all (``request-scope``: ``find /tmp/cache ... -delete`` for the same request), it looks in
    a place named after the kind of files the request asks for (``request-kind``: ``find large``
    for "find large files"), it stops no program where the request asks to stop one
    (``request-stop``), it only sets variables where the request asks to see something
    (``request-output``), it counts file names where the request asks how many lines
    (``request-count``: ``find . -name '*.py' | wc -l`` for "count the number of lines in all python
    files"), or it reports disk space where the request asks about memory, or the reverse
    (``request-topic``: ``df -h`` for "show free memory"), it runs a program of a domain the request
    says nothing of (``request-tool``: ``docker system df`` for "show disk usage"), it lists every
    directory below where a short request asks to list the files here in an order
    (``request-depth``: a recursive ``find`` for "list files sorted by size"), or it undoes what the
    request asks to set up (``request-undo``: ``sudo userdel -r bob`` for "add user bob with a home
    directory"), or it gives ``kill`` a port the request names as a process id (``request-port``:
    ``kill 8080`` for "kill the process on port 8080")."""
    from bash_ai.engine.arguments import directories, files, mentions, names_target, paths, targets
    from bash_ai.safety.intent import (
        asks_for_another_user,
        asks_for_line_count,
        asks_for_no_change,
        asks_to_list_here_in_order,
        asks_to_run,
        asks_to_stop,
        changes_unasked,
        copied,
        counts_names,
        creates_unasked,
        deletes,
        deleting_places,
        file_kinds,
        harmed_files,
        killed_ports,
        kinds_as_places,
        other_domain,
        other_topic,
        reads_only,
        recurses,
        run_files,
        says_a_place,
        shows_nothing,
        stopped_programs,
        stops_nothing,
        sweeping_deletes,
        switches_user,
        undoes,
        wrong_formats,
    )

    reads = reads_only(request)
    given, places = files(request), paths(request)
    named = given if reads else []
    # Asked for no change at all without a reading verb first ("first 20 lines of data.csv"): the
    # files it names must not be written over, edited or deleted (any others may be: "kill
    # whatever is on port 3000" is not a request that only reads).
    # And what a copy starts from ("copy backup.tar.gz to /srv/backups"): the copy must not write it.
    kept = given if not reads and asks_for_no_change(request) else files(copied(request))
    runnable = named if not asks_to_run(request) else []  # the files it must not run
    other_user = asks_for_another_user(request)
    aimed = targets(request)
    kinds = file_kinds(request) - {t.lower() for t in aimed}
    stop = asks_to_stop(request)
    lines = asks_for_line_count(request)
    here = asks_to_list_here_in_order(request)
    out: dict[str, tuple[str, str]] = {}
    # What a deletion must name: a relative path such as "files/directories" or "regular/normal" is
    # as often a phrase of the request as a place, and does not count.
    scope = [t for t in aimed if "/" not in t or t.startswith(("/", "~", "."))]
    # A request that says no place at all means here: a deletion elsewhere is not what it asked for.
    placeless = not places and not directories(request) and not says_a_place(request)
    for c in commands:
        swept = sweeping_deletes(c) if aimed else []
        if swept and not any(mentions(c, t) for t in aimed):
            out[c] = (
                "request-scope",
                f"deletes everything here ({' '.join(swept)}); the request names {', '.join(aimed)}",
            )
            continue
        if scope and deletes(c) and not any(names_target(c, t) for t in scope):
            out[c] = ("request-scope", f"deletes files without naming {', '.join(scope)}, which the request names")
            continue
        elsewhere = [p for p in deleting_places(c) if not mentions(request, p)] if placeless else []
        if elsewhere:
            out[c] = ("request-scope", f"deletes in {', '.join(elsewhere)}, a place the request does not name")
            continue
        if ports := killed_ports(request, c):
            out[c] = ("request-port", f"kills process id {', '.join(ports)}, a port the request names")
            continue
        if undone := undoes(request, c):
            out[c] = ("request-undo", f"undoes what the request asks for ({undone})")
            continue
        harmed = _harmed(c, named) if reads else harmed_files(c, kept) if kept else []
        ran = run_files(c, runnable) if runnable and not harmed else []
        made, unasked_kind = creates_unasked(c, request, given, places) if not harmed and not ran else ([], "")
        if harmed:
            out[c] = (
                "request-file",
                f"removes, moves or writes over {', '.join(harmed)}; the request "
                + ("only asks to read" if reads else "does not ask to change it"),
            )
        elif ran:
            out[c] = ("request-file", f"runs {', '.join(ran)}, which the request only asks to read")
        elif made:
            out[c] = (
                "request-create",
                f"only creates {', '.join(made)}; the request does not ask to create {unasked_kind}",
            )
        elif reads and (stopping := stopped_programs(c)):
            out[c] = ("request-kill", f"stops processes ({', '.join(stopping)}); the request only asks to see")
        elif reads and (changing := changes_unasked(request, c)):
            out[c] = ("request-change", f"changes the system ({', '.join(changing)}); the request only asks to see")
        elif not other_user and switches_user(c):
            out[c] = ("request-user", "runs as another user; the request does not ask for that")
        elif places := kinds_as_places(c, kinds):
            out[c] = (
                "request-kind",
                f"looks in {', '.join(places)}, a kind of files in the request, not a place it names",
            )
        elif stop and stops_nothing(c):
            out[c] = ("request-stop", f"stops nothing; the request asks to {stop} a program")
        elif reads and shows_nothing(c):
            out[c] = ("request-output", "only sets a variable, so it shows nothing; the request asks to see something")
        elif mismatched := wrong_formats(c, given):
            out[c] = ("request-format", f"runs {', '.join(mismatched)}, a file of another format")
        elif lines and counts_names(c):
            out[c] = ("request-count", "counts file names, not lines; the request asks how many lines")
        elif here and recurses(c):
            out[c] = ("request-depth", "lists every directory below; the request asks for the files here")
        elif topic := other_topic(request, c):
            asked = "disk space" if topic == "memory" else "memory"
            out[c] = ("request-topic", f"reports {topic}; the request asks about {asked}")
        elif tool := other_domain(request, c):
            out[c] = ("request-tool", f"runs {tool}; the request says nothing of what {tool} is for")
    return out


def propose_checked(
    engine: Engine,
    request: str,
    config: DecodeConfig | None = None,
    *,
    cancel: threading.Event | None = None,
    flag: bool = False,
    on_event: Callable[[Event], None] | None = None,
    want: int | None = None,
) -> list[Candidate]:
    """Beam search + retrieved commands (``bash_ai.engine.propose``), shaped as commands and
    checked with ``bash -n``: syntax-valid ones first, each group in the model's order, except that a
    pipeline that wastes a stage's output comes after the others (``wasting``), and that a
    valid one doing what the request did not ask for (``unasked``: destroying files it only asks to
    read, running as another user; ``bash_ai.safety.intent``) comes after the other valid ones, and
    never takes the place of one of its structure that does not.

    ``flag`` also runs the danger rules and shellcheck (the faces show them; eval does not need them).
    ``want``: the caller shows only the first ``want``. Without covering, those are the first
    ``want`` commands that harm nothing, when all are valid: then only they are checked (one
    ``bash -n`` process instead of ~17 for one answer) and only they are returned.
    """
    from bash_ai import safety
    from bash_ai.engine.propose import DecodeConfig, propose

    config = config if config is not None else DecodeConfig()
    proposals = propose(engine, request, config, cancel=cancel, on_event=on_event)
    shaped = distinct_commands(proposals, False, request)
    harmful = unasked(request, list(shaped))  # after the rest
    wasted = wasting(shaped)  # after the rest, before the harmful
    if config.distinct:
        # One per structure, the harmless first: a harmful candidate never hides its harmless twin
        # (``rm -rf *`` ranked above ``rm -rf build`` for "delete the directory build").
        first = [t for t in shaped if t not in harmful and t not in wasted]
        kept = set(one_per_structure(first + [t for t in shaped if t in wasted - set(harmful)] + list(harmful)))
        shaped = {t: p for t, p in shaped.items() if t in kept}
        harmful = {t: why for t, why in harmful.items() if t in kept}
        wasted &= kept
    ranked = config.rerank and engine.reranker is not None
    covering = ranked and config.cover_temperature > 0
    checked: dict[str, SyntaxResult] = {}
    if want is not None and not covering:
        first = [t for t in shaped if t not in harmful and t not in wasted][:want]
        checked = dict(zip(first, safety.check_syntax_many(first), strict=True))
        if len(first) == want and all(result.ok for result in checked.values()):
            shaped, harmful, wasted = {t: shaped[t] for t in first}, {}, set()
    unchecked = [t for t in shaped if t not in checked]
    checked.update(zip(unchecked, safety.check_syntax_many(unchecked), strict=True))
    passed = [t for t in shaped if checked[t].ok]
    harmless = [t for t in passed if t not in harmful and t not in wasted]
    if covering:  # from the first harmless answer, as the one-answer path (no covering) starts
        harmless = cover_texts(shaped, harmless, config.cover_temperature)
    order = (
        harmless
        + [t for t in passed if t in wasted and t not in harmful]
        + [t for t in passed if t in harmful]
        + [t for t in shaped if not checked[t].ok]
    )
    threshold = config.unsure_threshold(engine.reranker)
    valid: list[Candidate] = []
    invalid: list[Candidate] = []
    for text in order:
        proposal, syntax = shaped[text], checked[text]
        candidate = Candidate(
            text,
            "command",
            bool(syntax.ok),
            syntax.message or "",
            finish_reason=proposal.finish_reason,
            n_tokens=proposal.n_tokens,
            confidence=proposal.confidence,
            source="retrieval" if proposal.source == "retrieval" else "model",
            sure=proposal.score >= threshold if ranked else None,
        )
        (valid if candidate.syntax_ok else invalid).append(candidate)
    result = valid + invalid
    if flag:
        _flag(result, request=request)
    return result


def answer(
    engine: Engine,
    request: str,
    n: int = 1,
    params: SamplingParams | None = None,
    *,
    max_rounds: int = MAX_ROUNDS,
    cancel: threading.Event | None = None,
    on_event: Callable[[Event], None] | None = None,
    decode: DecodeConfig | None = None,
    lint: bool = True,
) -> list[Candidate]:
    """Up to ``n`` distinct checked candidates, syntax-valid ones first.

    A command request with ``params=None`` is answered by beam search over the retrieval-augmented
    prompt plus the nearest training commands (``propose_checked``, deterministic; what ``bash-ai
    eval`` measures); given ``params`` (or a script request), candidates are sampled instead, and
    invalid ones resampled. ``decode`` (a ``DecodeConfig``) tunes the beam path. ``on_event`` sees every engine event (``Started.truncated`` says the request was cut to fit
    the context). If ``cancel`` is set, whatever was finished so far is returned (maybe nothing);
    otherwise an empty result raises ``GenerationError``. ``lint=False`` skips shellcheck (for a
    face that shows only the danger flags); the danger rules always run.
    """
    from bash_ai.engine.events import Finished
    from bash_ai.engine.propose import DecodeConfig
    from bash_ai.engine.sampling import SamplingParams

    if n < 1:
        raise UsageError(f"the number of candidates must be at least 1 (got {n})")
    request = validate_request(request)  # as it is when a face checked it already
    script = wants_script(request)
    if params is None and not script:
        if n == 1:  # covering chooses the answers after the first and never moves it: skip it
            decode = (decode if decode is not None else DecodeConfig()).replace(cover_temperature=0.0)
        checked = propose_checked(engine, request, decode, cancel=cancel, on_event=on_event, want=n)[:n]
        _flag(checked, lint, request)
        if not checked and not (cancel is not None and cancel.is_set()):
            raise GenerationError("the model produced no answer; try rephrasing the request or another model")
        return checked
    base = (
        params if params is not None else SamplingParams(temperature=DEFAULT_TEMPERATURE, max_tokens=SCRIPT_MAX_TOKENS)
    )
    cancel = cancel or threading.Event()
    valid: list[Candidate] = []
    invalid: list[Candidate] = []
    seen: set[str] = set()
    for round_no in range(max_rounds):
        missing = n - len(valid)
        if missing <= 0 or cancel.is_set():
            break
        round_params = _round_params(base, round_no)
        for event in engine.stream_ask(request, round_params, missing, cancel=cancel):
            if on_event is not None:
                on_event(event)
            if not isinstance(event, Finished):
                continue
            text, kind = shaped(event.text, script)
            if not text or text in seen:
                continue
            seen.add(text)
            candidate = _syntax_checked(text, kind, event.finish_reason, event.n_tokens)
            (valid if candidate.syntax_ok else invalid).append(candidate)
    result = valid[:n] + invalid[: max(0, n - len(valid))]
    _flag(result, lint, request)
    if not result and not cancel.is_set():
        raise GenerationError("the model produced no answer; try rephrasing the request or another model")
    return result


SummaryStrategy = Literal["auto", "model", "retrieval", "parts"]


@dataclass
class Explanation:
    """``bash-ai explain``'s answer: a one-sentence summary, the parts, the command's own checks."""

    command: str
    summary: str
    summary_source: str  # "model", "retrieval" (a training pair with the same structure) or "parts"
    parts: list[Part]
    checked: Candidate

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "summary": self.summary,
            "summary_source": self.summary_source,
            "parts": [p.to_json() for p in self.parts],
            "syntax": {"ok": self.checked.syntax_ok, "message": self.checked.syntax_message},
            "danger": [_as_dict(f) for f in self.checked.danger],
        }

    def to_text(self) -> str:
        """The summary, then one line per part: indented by nesting, its text, its description."""
        lines = [self.summary or "(no summary)"]
        width = min(24, max((len(p.text) + 2 * p.depth for p in self.parts), default=0))
        for part in self.parts:
            text = "  " * part.depth + part.text
            lines.append(f"  {text:<{width}}  {part.description}")
        return "\n".join(lines) + "\n"


def explain(
    engine: Engine,
    command: str,
    params: SamplingParams | None = None,
    *,
    cancel: threading.Event | None = None,
    summary: SummaryStrategy = "auto",
) -> Explanation:
    """Explain ``command`` part by part from the user's man pages, with a one-sentence summary.

    The parts come from ``bash_ai.breakdown`` (no model); a program that has neither a man page
    nor a tldr page is described by the model, and says so (``source == "model"``).
    """
    from bash_ai.breakdown import breakdown

    command = command.strip()
    if not command:
        raise UsageError("empty command: give the command to explain, e.g. bash-ai explain 'ls -S'")
    size = len(command.encode("utf-8", "surrogatepass"))
    if size > MAX_REQUEST_BYTES:
        raise UsageError(f"command is too long ({size} bytes; the limit is {MAX_REQUEST_BYTES} bytes)")
    parts = breakdown(command)
    for i, part in enumerate(parts):
        if part.kind == "program" and part.source == "unknown" and not (cancel and cancel.is_set()):
            said = model_sentence(engine, part.invocation or part.text, params, cancel=cancel)
            if said:
                parts[i] = part.described_by_model(f"{said} (no man page: the model's words)")
    text, source = summarise(engine, command, params, cancel=cancel, strategy=summary, parts=parts)
    return Explanation(command, text, source, parts, check(command))


def summarise(
    engine: Engine,
    command: str,
    params: SamplingParams | None = None,
    *,
    cancel: threading.Event | None = None,
    strategy: SummaryStrategy = "auto",
    parts: list[Part] | None = None,
) -> tuple[str, str]:
    """One sentence for ``command`` and where it came from (see :func:`pick_summary`); the index,
    the man pages and the model are asked only when the strategy needs them."""
    hit = nearest_pair(engine, command) if strategy in ("auto", "retrieval") else None
    if parts is None and strategy in ("auto", "parts"):
        from bash_ai.breakdown import breakdown

        parts = breakdown(command)

    def said() -> str:
        return model_sentence(engine, command, params, cancel=cancel)

    return pick_summary(command, strategy, parts or [], hit, said)


def nearest_pair(engine: Engine, command: str) -> Neighbor | None:
    """The training pair whose command is nearest ``command`` (BM25 over commands), or None."""
    index = getattr(engine, "index", None)
    hits = index.search_command(command, 1) if index is not None else []
    return hits[0] if hits else None


def model_sentence(
    engine: Engine, command: str, params: SamplingParams | None = None, *, cancel: threading.Event | None = None
) -> str:
    return clean(str(engine.describe(command, params, cancel=cancel))).strip()


def pick_summary(
    command: str, strategy: SummaryStrategy, parts: list[Part], hit: Neighbor | None, said: str | Callable[[], str]
) -> tuple[str, str]:
    """The summary ``strategy`` gives, from the parts, the nearest training pair ``hit`` and the
    model's sentence ``said`` (or a function giving it, called only when the sentence is needed).

    ``retrieval``: the pair's request (the model's sentence when there is no pair); ``model``: the
    model's sentence; ``parts``: composed from the man pages' words for the top-level programs and
    options; ``auto``: the pair's request when its command has the same utilities and flags as
    ``command`` (NLC2CMD score 1), else the model's; but when that sentence shares no word with
    what the man (or tldr) pages say of the parts, nor with the command, the parts' own words
    instead: such a sentence was nearly always wrong (docs/benchmarks.md), and a wrong summary is
    worse than a plain one. The same when the command works on your home or the root directory
    and the sentence does not say so.
    """
    from bash_ai.breakdown import compose
    from bash_ai.retrieval.bm25 import words

    if strategy == "parts":
        return compose(parts), "parts"
    if hit is not None and (strategy == "retrieval" or (strategy == "auto" and _same_structure(hit.command, command))):
        text, source = hit.request, "retrieval"
    else:
        text, source = (said() if callable(said) else said), "model"
    if strategy != "auto":
        return text, source
    facts = _content(" ".join(p.description for p in parts if _is_fact(p)) + " " + command)
    named = set(words(text))
    misnamed = any(
        p.kind == "argument" and p.depth == 0 and _NAMED_TARGETS[p.description] not in named
        for p in parts
        if p.description in _NAMED_TARGETS
    )
    documented = any(p.kind == "program" and p.source in ("man", "tldr") for p in parts)
    if not misnamed and (not documented or _content(text) & facts):
        return text, source
    return compose(parts), "parts"


_STOPWORDS = frozenset(
    ["the", "a", "an", "of", "in", "to", "and", "or", "for", "with", "from", "by", "on", "at", "is", "are"]
    + ["be", "this", "that", "into", "each", "all", "any", "its", "it", "as"]
)
# Arguments a summary must not get wrong: the word it has to name for each.
_NAMED_TARGETS = {"your home directory": "home", "the root directory: the whole file system": "root"}


def _content(text: str) -> set[str]:
    """The words of four letters or more that carry meaning, stemmed, near-synonyms merged (for
    a cheap agreement check: "delete everything here" agrees with rm's "remove files")."""
    from bash_ai.retrieval.bm25 import stem, words

    out = set()
    for word in words(text):
        if len(word) >= 4 and word not in _STOPWORDS:
            root = stem(word)
            out.add(_SYNONYMS.get(root, root))
    return out


_SYNONYMS = {
    word: group[0]
    for group in (
        ("remove", "delete", "erase"),
        ("show", "display", "print", "list", "output", "view"),
        ("directory", "folder", "dir", "director"),
        ("search", "find", "locate", "look"),
        ("create", "make", "new"),
        ("copy", "duplicate"),
        ("compress", "archive", "pack", "zip"),
        ("size", "space", "usage", "disk"),
    )
    for word in group
}


def _is_fact(part: Part) -> bool:
    return part.kind in ("program", "subcommand", "option") and part.source in ("man", "tldr", "fixed")


def _same_structure(a: str, b: str) -> bool:
    from bash_ai.nlc2cmd import nlc2cmd_score

    return nlc2cmd_score(a, b) == 1.0
