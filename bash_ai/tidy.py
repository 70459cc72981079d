"""Rewrites of a proposed command as it is shown (``tidy``), each keeping what the command does: a
useless ``cat`` dropped, and a ``find`` with no starting point given ``.`` (``find_here``); and one
that makes it do what it was written to do: backquotes escaped in a copy out of a quoted string made
a substitution again (``unescape_backquotes``). Beside
them, for the candidates of a request that asks for no variable, a lone ``x=$(cmd)`` unwrapped to
``cmd`` (``unwrap_assignment``, called from ``bash_ai.engine.arguments.adapt``), which prints what
the assignment only stored.

The useless ``cat``:

``cat notes.txt | wc -l`` is ``wc -l notes.txt``: one program fewer to read and to run, and the
form people write and most references use (NL2Bash's training commands start with ``cat FILE |``
in 1% of pairs, while the model's first answers to short everyday requests did in 8%). Only where
the two do the same: one plain file (no glob, option or substitution: one file, so no file-name
prefixes appear), piped into a program that reads a file operand as it reads its input
(``FILE_OPERAND``; ``wc`` and the checksum programs then print the file's name beside their
figures, as they do for any file), or into ``tr``, which reads only its input and gets the file by
``<``. Never where the program reads its input as ``-``, edits in place (``sed -i``) or may write
its second operand (``uniq IN OUT``). A program that already names a file of its own ignored the
piped file, and now reads it too; model answers rarely do that. Everything else is left as
written. Measured in docs/benchmarks.md ("A useless cat dropped", and "The request's file,
directory and name" for the other two).
"""

from __future__ import annotations

import re

from bash_ai.safety.commands import find_starts
from bash_ai.safety.shell import Command, Word, parse

# Programs for which `cat FILE | prog ARGS` and `prog ARGS FILE` print the same, for one plain FILE
# (the file goes last: after the options and the program text of awk, sed and grep).
FILE_OPERAND = frozenset(
    [
        "awk",
        "base64",
        "column",
        "cut",
        "egrep",
        "expand",
        "fgrep",
        "fold",
        "gawk",
        "grep",
        "head",
        "jq",
        "less",
        "md5sum",
        "more",
        "nl",
        "od",
        "paste",
        "rev",
        "sed",
        "sha1sum",
        "sha256sum",
        "sha512sum",
        "sort",
        "strings",
        "tac",
        "tail",
        "uniq",
        "wc",
    ]
)
# Of those, programs whose second operand is a file they write: the file goes in only when they have
# no operand of their own (`uniq IN OUT`), or the rewrite could overwrite it.
OUTPUT_OPERAND = frozenset({"uniq"})
STDIN_ONLY = frozenset({"tr"})
_GLOB = frozenset("*?[{~")


def drop_useless_cat(command: str) -> str:
    """``command`` with a leading ``cat FILE |`` folded into the next program, where that is the
    same command; otherwise ``command`` unchanged."""
    script = parse(command)
    if len(script.items) < 2 or script.ops[0] != "|":
        return command
    cat, reader = script.items[0], script.items[1]
    if not (isinstance(cat, Command) and isinstance(reader, Command)):
        return command
    if not (_plain(cat) and _plain(reader, outputs=True)) or len(cat.words) != 2 or cat.words[0].value != "cat":
        return command
    file, program, args = cat.words[1], reader.words[0].value, [w.value for w in reader.words[1:]]
    if not _plain_file(file) or "-" in args:  # "-" reads the input by name
        return command
    if program == "sed" and any(a.startswith(("-i", "--in")) for a in args):
        return command
    if program in OUTPUT_OPERAND and not all(a.startswith("-") for a in args):
        return command
    end = reader.words[-1].end
    if program in FILE_OPERAND:
        return f"{command[reader.start : end]} {file.raw}{command[end:]}"
    if program in STDIN_ONLY:
        return f"{command[reader.start : end]} < {file.raw}{command[end:]}"
    return command


def _plain(item: Command, outputs: bool = False) -> bool:
    """A simple command with words, and no redirections (``outputs``: only output ones, after its
    words), assignments or reserved words."""
    if item.kind != "simple" or not item.words or item.assignments or item.keywords:
        return False
    if outputs:
        return all(">" in r.op and "<" not in r.op and r.start > item.words[-1].end for r in item.redirects)
    return not item.redirects


def lone_command(command: str) -> Command | None:
    """The one plain simple command (``_plain``: words, no redirection, assignment or reserved word)
    that the whole of ``command`` is; None for anything else (a pipeline, a list, ``x=1 cmd``)."""
    script = parse(command)
    if len(script.items) != 1 or script.ops[0]:
        return None
    item = script.items[0]
    return item if isinstance(item, Command) and _plain(item) else None


def _plain_file(word: Word) -> bool:
    """One file name: no option, substitution, expansion or (unquoted) glob."""
    if word.subs or word.kind != "word" or not word.value or word.value.startswith("-"):
        return False
    return word.quoted or not ((_GLOB | {"$"}) & set(word.raw))


# Typographic quotes, as web pages print them: bash reads them as letters, not as quotes.
_PLAIN_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


def tidy(command: str) -> str:
    """``command`` as shown: typographic quotes made plain (``find . -name “*.pdf”`` ->
    ``"*.pdf"``: NL2Bash's training commands carry them in 70 of 11,046 pairs, copied from web
    pages, and bash would pass them on as part of the pattern), a useless ``cat`` dropped, every
    ``find`` given its starting point (``find_here``) and its name patterns quoted
    (``quote_find_patterns``)."""
    plain = unescape_backquotes(command.translate(_PLAIN_QUOTES))
    return _tidy_finds(drop_useless_cat(plain), here=True, quote=True)


def unescape_backquotes(command: str) -> str:
    r"""``kill -9 \`pgrep x\``` -> ``kill -9 $(pgrep x)``: a command substitution whose backquotes
    were escaped where the command was copied out of a quoted string (5 of NL2Bash's training
    commands). Unquoted, bash reads an escaped backquote as a letter, so the command would pass
    ``\`pgrep`` on as an argument instead of running it. Only where every backquote of the command
    is escaped, outside quotes, and they pair up; anything else is left as written."""
    if "\\`" not in command:
        return command
    marks: list[int] = []
    quote = ""
    i = 0
    while i < len(command):
        c = command[i]
        if quote == "'":
            quote = "" if c == "'" else quote
        elif c == "\\":
            if command[i + 1 : i + 2] == "`":
                if quote:
                    return command  # a literal backquote inside double quotes
                marks.append(i)
            i += 1
        elif c == "`":
            return command  # a real substitution beside them: not a copy of a quoted string
        elif c in "'\"" and quote in ("", c):
            quote = "" if quote else c
        i += 1
    if not marks or len(marks) % 2:
        return command
    out = command
    for opening, closing in reversed(list(zip(marks[::2], marks[1::2], strict=True))):
        out = f"{out[:opening]}$({out[opening + 2 : closing]}){out[closing + 2 :]}"
    return out


_ASSIGNED_OUTPUT = re.compile(r'[A-Za-z_]\w*=("?)(?:\$\((?P<paren>.+)\)|`(?P<tick>[^`]+)`)\1', re.DOTALL)


def unwrap_assignment(command: str) -> str:
    """``x=$(whoami)`` -> ``whoami``: a command that only stores a command's output in a variable
    of its own shell (which ends with it) prints nothing. Only a whole command that is one such
    assignment (``$(...)`` or backticks, quoted or not), nothing else. Whether the output is what
    was asked for is the request's to say: ``bash_ai.engine.arguments.adapt`` calls this only for
    a request that asks for no variable."""
    script = parse(command)
    if len(script.items) != 1 or script.ops[0] != "":
        return command
    item = script.items[0]
    if not isinstance(item, Command) or item.kind != "simple" or item.words or item.redirects or item.keywords:
        return command
    if len(item.assignments) != 1 or len(item.assignments[0].subs) != 1:
        return command
    match = _ASSIGNED_OUTPUT.fullmatch(item.assignments[0].raw)
    if match is None:
        return command
    inner = (match.group("paren") or match.group("tick") or "").strip()
    return inner if inner and parse(inner).items else command


def find_start(item: Command) -> tuple[Word, list[Word]] | None:
    """A ``find`` command's starting points (``bash_ai.safety.commands.find_starts``); None for
    another program."""
    if item.kind != "simple" or not item.words or item.words[0].value != "find":
        return None
    return find_starts(item.words)


def find_here(command: str) -> str:
    """``find -name x`` -> ``find . -name x``: GNU find starts at ``.`` when given no starting
    point, BSD and macOS find refuse to; the rewrite runs the same here and runs there too. Every
    ``find`` the command runs as a program of its own (not inside ``-exec`` or a substitution)."""
    return _tidy_finds(command, here=True, quote=False)


# find's tests whose operand is a pattern for find itself, not for the shell.
_FIND_PATTERN_TESTS = frozenset(
    ["-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename", "-lname", "-ilname", "-regex", "-iregex"]
)


def quote_find_patterns(command: str) -> str:
    """``find . -name *.py`` -> ``find . -name '*.py'``: the shell expands an unquoted pattern
    before find sees it, so where files match it in the current directory find gets their names
    instead (one: only that name is searched for; two or more: find stops with "paths must precede
    expression"). Quoted, the pattern reaches find as written, which is what the command meant:
    where nothing matches in the current directory, bash passes it unchanged and the two run alike.
    Only a plain pattern of glob characters (no quote, ``$``, backslash or brace), after a name test
    of every ``find`` the command runs as a program of its own."""
    return _tidy_finds(command, here=False, quote=True)


def _tidy_finds(command: str, *, here: bool, quote: bool) -> str:
    """``find_here`` (``here``) and ``quote_find_patterns`` (``quote``) from one parse: every shown
    command passes here, and a parse costs ~0.1 ms; none at all for the many without a ``find``."""
    if "find" not in command:
        return command
    out = command
    for item in reversed(parse(command).items):  # from the end: earlier offsets stay right
        if not isinstance(item, Command) or (found := find_start(item)) is None:
            continue
        if quote:
            for test, word in reversed(list(zip(item.words, item.words[1:], strict=False))):
                raw = word.raw
                if test.value in _FIND_PATTERN_TESTS and set("*?[") & set(raw) and not set("'\"$\\{`") & set(raw):
                    out = f"{out[: word.start]}'{raw}'{out[word.end :]}"
        if here and not found[1]:  # before the patterns: their offsets are used first
            out = f"{out[: found[0].end]} .{out[found[0].end :]}"
    return out
