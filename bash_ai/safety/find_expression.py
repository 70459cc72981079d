"""Would ``find`` accept its expression? Read from the words alone, never by running it.

``bash -n`` passes ``find . -type -f``, ``find /tmp -atime +30 -exec rm {} ;`` (the ``;`` ends the
shell command, so ``-exec`` has no end) and ``find . -name '*.c' — print``; GNU find refuses each
before it looks at a file. NL2Bash's training commands hold such lines, so the model and the
retrieved pool propose them. This module finds the first word find would refuse, with find's own
words for it, so that the answer path can put the command after those that run.

It says only what it knows: an expression with an expansion (``$x``, ``$(...)``) where a value is
checked is taken as it is, and BSD find's own primaries and options (``-E``, ``-Btime``, ``-x``) pass,
since a tldr page for macOS uses them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bash_ai.safety.commands import FIND_EXEC, find_starts, invocations
from bash_ai.safety.shell import Word, parse


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Primaries and options that take no value (GNU, then BSD).
_BARE = _names(
    "-daystart -delete -depth -empty -executable -false -follow -help --help -ignore_readdir_race -ls -mount"
    " -noignore_readdir_race -noleaf -nogroup -nouser -nowarn -print -print0 -prune -quit -readable -true"
    " -version --version -warn -writable -xdev -d -x -acl"
)
# Those that take one value (GNU, then BSD).
_VALUED = _names(
    "-amin -anewer -atime -cmin -cnewer -context -ctime -files0-from -fls -fprint -fprint0 -fstype -gid -group"
    " -ilname -iname -inum -ipath -iregex -iwholename -links -lname -maxdepth -mindepth -mmin -mtime -name"
    " -newer -path -perm -printf -regex -regextype -samefile -size -type -uid -used -user -wholename -xtype"
    " -Bmin -Bnewer -Btime -flags -mnewer"
)
_OPERATORS = frozenset({"(", ")", "!", "-not", "-a", "-and", "-o", "-or", ","})
# BSD find's options before the starting points (GNU's -H, -L, -P, -O, -D: ``find_starts``).
_BSD_OPTIONS = frozenset({"-E", "-X", "-s", "-x", "-d", "-f"})
_NEWER_XY = re.compile(r"-newer[aBcmt][aBcmt]")
_COUNT = re.compile(r"[+-]?\d+")
_DEPTH = re.compile(r"\d+")
_TIME = re.compile(r"[+-]?(?:\d+[smhdw]?)+")  # BSD's -mtime also takes units: +1h30m
_SIZE = re.compile(r"[+-]?\d+[bcwkKMGTP]?")
_TYPE = re.compile(r"[bcdpflsDw](?:,[bcdpflsDw])*")
_PERM = re.compile(r"[-/+]?(?:[0-7]{1,4}|[ugoa]*[-+=][rwxXstugo]*(?:,[ugoa]*[-+=][rwxXstugo]*)*)")
_VALUES = {
    **dict.fromkeys(("-maxdepth", "-mindepth"), _DEPTH),
    **dict.fromkeys(("-amin", "-atime", "-cmin", "-ctime", "-mmin", "-mtime", "-Bmin", "-Btime"), _TIME),
    **dict.fromkeys(("-links", "-inum", "-uid", "-gid", "-used"), _COUNT),
    "-size": _SIZE,
    "-type": _TYPE,
    "-xtype": _TYPE,
    "-perm": _PERM,
}


def find_error(command: str) -> str | None:
    """find's complaint about the first of ``command``'s ``find`` runs it would refuse, or None
    (also where the command cannot be read)."""
    if "find" not in command:
        return None
    try:
        script = parse(command)
    except Exception:  # noqa: BLE001 - a line our parser cannot read: bash -n has the last word
        return None
    for run in invocations(script):
        if run.utility == "find":
            error = _expression_error([run.word, *run.args])
            if error is not None:
                return f"find: {error}"
    return None


def _dynamic(word: Word) -> bool:
    return "$" in word.raw or "`" in word.raw or bool(word.subs)


def _expression_error(words: Sequence[Word]) -> str | None:
    """``words``: find and its own arguments, each ``-exec`` body already taken out (its
    terminator kept), as ``commands.invocations`` gives them."""
    words = list(words)
    while len(words) > 1 and words[1].value in _BSD_OPTIONS:
        words.pop(1)
    found = find_starts(words)
    if found is None:
        return None
    last, starts = found
    rest = words[words.index(last) + 1 + len(starts) :]
    i = 0
    while i < len(rest):
        word = rest[i]
        value = word.value
        if _dynamic(word):
            return None  # a primary or value only known when it runs
        if value in _OPERATORS or value in _BARE:
            i += 1
        elif value in FIND_EXEC:
            if i + 1 >= len(rest) or rest[i + 1].value not in (";", "+"):
                return f"missing argument to `{value}'"
            i += 2
        elif value in _VALUED or _NEWER_XY.fullmatch(value) or value == "-fprintf":
            width = 2 if value == "-fprintf" else 1
            if i + width >= len(rest):
                return f"missing argument to `{value}'"
            given = rest[i + 1]
            pattern = _VALUES.get(value)
            if pattern is not None and not _dynamic(given) and not pattern.fullmatch(given.value):
                return f"invalid argument `{given.value}' to `{value}'"
            i += 1 + width
        elif value.startswith("-") and len(value) > 1:
            return f"unknown predicate `{value}'"
        else:
            return f"paths must precede expression: `{value}'"
    return None
