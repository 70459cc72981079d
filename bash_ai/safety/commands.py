"""Which programs a command line runs, in order, with their own arguments.

``sudo nice rm -rf x`` runs ``sudo``, ``nice`` and ``rm``; ``find . -exec rm {} \\;`` runs ``find``
and ``rm``; ``echo $(date)`` runs ``echo`` and ``date``; with ``c_strings=True`` the string of
``bash -c '...'`` / ``eval ...`` is parsed too (the danger check wants that; the metrics do not,
because the competition's parser saw such strings as plain arguments).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from bash_ai.safety.shell import Command, Group, Redirect, Script, Word, parse


@dataclass(frozen=True, slots=True)
class Wrapper:
    """A program that runs the command given after its own options (and ``positionals`` words)."""

    options_with_argument: frozenset[str] = frozenset()
    positionals: int = 0


def _w(opts: str = "", positionals: int = 0) -> Wrapper:
    return Wrapper(frozenset(opts.split()), positionals)


WRAPPERS: dict[str, Wrapper] = {
    "sudo": _w("-u -g -h -p -C -D -r -t -U -T --user --group --host --prompt --chdir --role --type --other-user"),
    "doas": _w("-u -C"),
    "env": _w("-u -C -S --unset --chdir --split-string"),
    "nice": _w("-n --adjustment"),
    "ionice": _w("-c -n -p --class --classdata --pid"),
    "nohup": _w(),
    "exec": _w("-a"),
    "command": _w(),
    "builtin": _w(),
    "time": _w("-f -o --format --output"),
    "timeout": _w("-s -k --signal --kill-after", positionals=1),
    "stdbuf": _w("-i -o -e --input --output --error"),
    "chroot": _w("--userspec --groups", positionals=1),
    "xargs": _w("-I -n -P -L -s -d -E -a --max-args --max-procs --max-lines --max-chars --delimiter --eof --arg-file"),
    "watch": _w("-n -d -q --interval --differences --equexit"),
    "strace": _w("-o -e -p -s -u -E -P -a -b -I -O -S -X"),
    "ltrace": _w("-o -e -p -s -u -a -n"),
    "busybox": _w(),
    "setsid": _w(),
    "unbuffer": _w(),
    "proxychains": _w("-f"),
    "proxychains4": _w("-f"),
    "torsocks": _w(),
    "caffeinate": _w("-t -w"),
}
# Programs whose ``-c STRING`` (or ``--command STRING``) argument is itself a shell script.
C_SHELLS = frozenset({"bash", "sh", "zsh", "dash", "ksh", "mksh", "ash", "yash", "su", "runuser", "fish"})
EVAL_LIKE = frozenset({"eval"})
FIND_EXEC = frozenset({"-exec", "-execdir", "-ok", "-okdir"})
_MAX_NESTING = 8
_C_FLAG = re.compile(r"-[a-zA-Z]*c[a-zA-Z]*")
ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")  # NAME=value, as env and sudo take it


@dataclass(frozen=True, slots=True)
class Invocation:
    """One program run: its name (basename of the command word), its own arguments, and where from."""

    utility: str
    word: Word
    args: tuple[Word, ...]
    command: Command  # the simple command it came from; its redirects apply
    via: str = ""  # "", "sudo", "find -exec", "$( )", "bash -c", ...
    rest: tuple[Word, ...] = ()  # every word after the command word, wrapped commands included

    @property
    def span(self) -> tuple[int, int]:
        last = self.args[-1] if self.args else self.word
        return (self.word.start, max(last.end, self.word.end))

    @property
    def values(self) -> list[str]:
        return [a.value for a in self.args]


def utility_name(word: Word) -> str:
    """``/usr/bin/find`` -> ``find``; a dynamic name (``$CMD``) stays as written."""
    value = word.value
    return value.rsplit("/", 1)[-1] if "/" in value and not value.endswith("/") else value


def walk_commands(script: Script) -> Iterator[Command]:
    """Every simple command, substitutions and groups included, in source order (no c-strings)."""
    for item in script.items:
        if isinstance(item, Group):
            yield from walk_commands(item.body)
            continue
        yield item
        for word in _words_of(item):
            for sub in word.subs:
                yield from walk_commands(sub)


# Programs that never read their standard input (cp, mv, ln and rm can, to confirm; tar only to
# extract or list, or for its file names with ``-T -``). A stage of one after a pipe loses what it
# was given, unless an argument names the input (``-``, ``--files0-from=-``, ``/dev/stdin``).
DEAF = frozenset(
    "ls echo printf mkdir rmdir touch chmod chown chgrp pwd date whoami ps df du find uname hostname id "  # noqa: SIM905
    "groups free uptime which mktemp basename dirname realpath readlink stat lsblk ping kill".split()
)


def wasted_stages(script: Script) -> list[str]:
    """The stages of ``script``'s pipelines (nested ones included) that make the stage before them
    pointless, each named once: one that repeats it word for word, arguments and all (``grep -v x |
    grep -v x``; a beam that loops writes these, a person almost never: ``xargs dirname | xargs
    dirname`` is the exception, and ``true | true`` shows exit statuses), and one whose program
    never reads its input (``pgrep x | kill``, ``tar cvf - dir | tar cvf - dir``)."""
    out: list[str] = []
    for a, b in piped(script):
        if (isinstance(a, Command) and len(b.words) > 1 and _same(a, b)) or _deaf(b):
            out.append(" ".join(w.raw for w in b.words))
    return out


def piped(script: Script) -> Iterator[tuple[Command | Group, Command]]:
    """Each pipe of ``script`` and its nested scripts, as (the stage before it, the simple command
    after it that reads it); a stage after it that is a group or has no words is left out."""
    for nested in _scripts(script):
        for (a, op), b in zip(zip(nested.items, nested.ops, strict=False), nested.items[1:], strict=False):
            if op in ("|", "|&") and isinstance(b, Command) and b.words:
                yield a, b


# Programs that print a line per file they are given or find, not the files' contents: a ``wc -l``
# after one counts the files (``find . -name '*.py' -exec wc -l {} \; | wc -l``).
NAMERS = frozenset(
    "ls locate tree du wc basename dirname stat file echo printf realpath readlink md5sum sha1sum sha256sum".split()  # noqa: SIM905
)
_PER_FILE_GREP = re.compile(r"-[A-Za-z]*[lLc][A-Za-z]*|--files-with(?:out)?-match(?:es)?|--count")


def counted_names(script: Script) -> bool:
    """Whether a ``wc -l`` of ``script`` that reads a pipe (no file of its own) counts a list of
    file names: the stage before it is a ``find`` that runs no program or only ``NAMERS``, one of
    ``NAMERS`` itself (``ls``, ``wc`` given files), an ``xargs`` running one, or a ``grep -l``/``-c``."""
    for before, stage in piped(script):
        values = [w.value for w in stage.words[1:]]
        if utility_name(stage.words[0]) != "wc" or not {"-l", "--lines"} & set(values):
            continue
        if all(v.startswith("-") for v in values) and isinstance(before, Command) and _names_files(before):
            return True
    return False


def _names_files(stage: Command) -> bool:
    """Whether a pipeline stage prints a line per file rather than what the files hold."""
    if not stage.words:
        return False
    name, values = utility_name(stage.words[0]), [w.value for w in stage.words[1:]]
    if name == "find":
        return all(body and utility_name(body[0]) in NAMERS for body in split_find_exec(stage.words[1:])[1])
    if name == "xargs":
        start = wrapped_start(name, stage.words[1:])
        return start < len(values) and utility_name(stage.words[1 + start]) in NAMERS
    if name in ("grep", "egrep", "fgrep"):
        return any(_PER_FILE_GREP.fullmatch(v) for v in values)
    if name == "wc":
        return any(not v.startswith("-") for v in values)
    return name in NAMERS


def _deaf(stage: Command) -> bool:
    """Whether a pipeline stage reads nothing of its standard input (``DEAF``, tar creating)."""
    if any(r.op.lstrip("0123456789") in ("<", "<<", "<<<", "<<-", "<>") for r in stage.redirects):
        return False  # its input is another
    name, values = utility_name(stage.words[0]), [w.value for w in stage.words[1:]]
    if name == "tar":  # creating, its ``-f -`` is where the archive goes: only ``-T`` reads names
        return tar_creates(values) and not any(v.startswith(("-T", "--files-from")) for v in values)
    return name in DEAF and not any(v == "-" or v.endswith("=-") or v == "/dev/stdin" for v in values)


def tar_creates(values: Sequence[str]) -> bool:
    """Whether ``tar`` given ``values`` creates an archive: a ``c`` in its first bundle of letters
    (``cvf``, ``-czf``), ``-c`` or ``--create``."""
    first = values[0] if values else ""
    bundle = first if not first.startswith("--") else ""
    return "c" in bundle.lstrip("-") or "--create" in values or "-c" in values


def _scripts(script: Script) -> Iterator[Script]:
    """``script`` and every script nested in it: groups and substitutions."""
    yield script
    for item in script.items:
        if isinstance(item, Group):
            yield from _scripts(item.body)
            continue
        for word in _words_of(item):
            for sub in word.subs:
                yield from _scripts(sub)


def _same(a: Command, b: Command) -> bool:
    """Whether two simple commands are written alike: words, assignments, redirects and keywords."""

    def shape(c: Command) -> tuple[object, ...]:
        return (
            [w.raw for w in c.words],
            [w.raw for w in c.assignments],
            [(r.op, r.target.raw if r.target else None) for r in c.redirects],
            c.keywords,
        )

    return shape(a) == shape(b)


def file_redirects(script: Script) -> Iterator[tuple[Redirect, Word]]:
    """Every redirect that opens a file (``> out``, not ``2>&1``), with its target, substitutions included."""
    for cmd in walk_commands(script):
        for redirect in cmd.redirects:
            if redirect.target is not None and not redirect.is_dup:
                yield redirect, redirect.target


def _words_of(cmd: Command | Group) -> list[Word]:
    words = list(cmd.assignments) + list(cmd.words) if isinstance(cmd, Command) else []
    return words + [r.target for r in cmd.redirects if r.target is not None]


def invocations(
    script: Script, *, unwrap: bool = True, exec_bodies: bool = True, c_strings: bool = False, _depth: int = 0
) -> Iterator[Invocation]:
    """Programs run by ``script`` in order of occurrence (pre-order: a command, then what it nests)."""
    for inv in _plain(script, unwrap, exec_bodies):
        yield inv
        if c_strings and _depth < _MAX_NESTING:
            for nested in script_arguments(inv):
                for sub in invocations(
                    nested.script, unwrap=unwrap, exec_bodies=exec_bodies, c_strings=True, _depth=_depth + 1
                ):
                    yield sub if sub.via else _with_via(sub, nested.via)


@dataclass(frozen=True, slots=True)
class NestedScript:
    """A string argument that a program runs as shell code (``bash -c``, ``eval``, ``watch``)."""

    text: str
    script: Script
    via: str
    offset: int | None  # where ``text`` starts in the outer command, when quoting was simple
    span: tuple[int, int]  # the outer words holding it


def script_arguments(inv: Invocation) -> list[NestedScript]:
    words: list[Word] = []
    text = ""
    if inv.utility in C_SHELLS:
        found = c_string(list(inv.args))
        if found is not None:
            words, text = [found], found.value
    elif inv.utility in EVAL_LIKE and inv.args:
        words, text = list(inv.args), " ".join(w.value for w in inv.args)
    elif inv.via == "watch" and not inv.args and any(c in inv.word.value for c in " \t;|&"):
        words, text = [inv.word], inv.word.value  # ``watch 'cmd args'`` runs its words through sh -c
    if not words:
        return []
    first, last = words[0], words[-1]
    simple = (
        len(words) == 1 and first.end - first.start == len(first.raw) and first.raw in (text, f"'{text}'", f'"{text}"')
    )
    if simple:
        offset = first.start + (first.raw != text)
        script = parse(text, offset=offset)
    else:
        offset = None
        script = parse(text, clamp=(first.start, last.end))
    via = "watch" if inv.via == "watch" else f"{inv.utility} -c" if inv.utility in C_SHELLS else inv.utility
    return [NestedScript(text, script, via, offset, (first.start, last.end))]


def _with_via(inv: Invocation, via: str) -> Invocation:
    return Invocation(inv.utility, inv.word, inv.args, inv.command, via, inv.rest)


def _plain(script: Script, unwrap: bool, exec_bodies: bool) -> Iterator[Invocation]:
    for item in script.items:
        if isinstance(item, Group):
            yield from _plain(item.body, unwrap, exec_bodies)
            for word in _words_of(item):
                yield from _subs(word, unwrap, exec_bodies)
            continue
        for word in item.assignments:
            yield from _subs(word, unwrap, exec_bodies)
        if item.kind == "simple" and item.words:
            yield from _expand(item.words, item, "", unwrap, exec_bodies)
        else:
            for word in item.words:
                yield from _subs(word, unwrap, exec_bodies)
        for redirect in item.redirects:
            if redirect.target is not None:
                yield from _subs(redirect.target, unwrap, exec_bodies)


def _subs(word: Word, unwrap: bool, exec_bodies: bool) -> Iterator[Invocation]:
    for sub in word.subs:
        for inv in _plain(sub, unwrap, exec_bodies):
            yield inv if inv.via else _with_via(inv, "$( )")


def _expand(words: list[Word], command: Command, via: str, unwrap: bool, exec_bodies: bool) -> Iterator[Invocation]:
    head, rest = words[0], words[1:]
    if head.subs and head.value.startswith(("$(", "`")) and not rest:
        yield from _subs(head, unwrap, exec_bodies)  # ``$(cmd)`` alone: its output runs
        return
    name = utility_name(head)
    own, inner = list(rest), []
    if unwrap and name in WRAPPERS:
        k = wrapped_start(name, rest)
        own, inner = rest[:k], [rest[k:]]
    elif exec_bodies and name == "find":
        own, inner = split_find_exec(rest)
    yield Invocation(name, head, tuple(own), command, via, tuple(rest))
    for word in [head, *own]:
        yield from _subs(word, unwrap, exec_bodies)
    for seg in inner:
        if seg:
            yield from _expand(seg, command, "find -exec" if name == "find" else name, unwrap, exec_bodies)


def c_string(args: list[Word]) -> Word | None:
    """The script argument of ``bash -c STRING`` / ``su -c STRING`` / ``su --command=STRING``."""
    for i, word in enumerate(args):
        value = word.value
        if value == "--":
            return None
        if value.startswith("--command="):
            return Word(word.raw, value.split("=", 1)[1], word.start, word.end, word.quoted, word.subs)
        if (_C_FLAG.fullmatch(value) or value == "--command") and i + 1 < len(args):
            return args[i + 1]
    return None


def wrapped_start(name: str, args: list[Word]) -> int:
    """Index in ``args`` of the wrapped command (``len(args)`` when there is none)."""
    spec = WRAPPERS[name]
    positionals = spec.positionals
    i = 0
    while i < len(args):
        value = args[i].value
        if value == "--":
            return i + 1
        if value.startswith("-") and len(value) > 1:
            if value in spec.options_with_argument:
                i += 2
                continue
            i += 1
            continue
        if name in ("env", "sudo") and ASSIGNMENT.match(value):
            i += 1
            continue
        if positionals:
            positionals -= 1
            i += 1
            continue
        return i
    return len(args)


def split_find_exec(args: list[Word]) -> tuple[list[Word], list[list[Word]]]:
    """``find``'s own arguments, and the command of each ``-exec``/``-ok`` ... ``;`` or ``{} +``."""
    own: list[Word] = []
    segments: list[list[Word]] = []
    i = 0
    while i < len(args):
        word = args[i]
        own.append(word)
        i += 1
        if word.value in FIND_EXEC:
            seg: list[Word] = []
            while i < len(args):
                value = args[i].value
                if value == ";" or (value == "+" and seg and seg[-1].value == "{}"):
                    own.append(args[i])
                    i += 1
                    break
                seg.append(args[i])
                i += 1
            segments.append(seg)
    return own, segments


_FIND_OPTIONS = frozenset({"-L", "-H", "-P"})


def find_starts(words: Sequence[Word]) -> tuple[Word, list[Word]] | None:
    """A ``find`` run's starting points, from its words (``find`` first): the word they follow
    (``find``, or its last ``-L``, ``-H``, ``-P`` or ``-O<level>`` option) and the starting points
    themselves (none where it names none); None where ``-D`` or a bare ``-O`` (an option with a
    value of its own) comes first."""
    last, rest = words[0], list(words[1:])
    while rest and (rest[0].value in _FIND_OPTIONS or rest[0].value.startswith(("-O", "-D"))):
        if rest[0].value in ("-D", "-O"):
            return None  # a value follows: not worth reading
        last, rest = rest[0], rest[1:]
    starts = []
    for word in rest:
        if word.value.startswith("-") or word.value in ("(", "!", ","):
            break  # the expression begins
        starts.append(word)
    return last, starts
