"""A command taken apart, in the spirit of explainshell: each program with its man page's purpose,
each option with its man page's description, operators and redirections in fixed words.

No model here: every description comes from the user's own man pages (or a fetched tldr page, or
the fixed texts below), so it is right or it says it does not know. ``bash_ai.answer.explain``
adds the model's one-sentence summary and its words for programs that have no page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace

from bash_ai.manpages.page import ManPage
from bash_ai.manpages.store import Found, lookup, tldr_summary
from bash_ai.safety.commands import ASSIGNMENT, C_SHELLS, FIND_EXEC, WRAPPERS, utility_name, wrapped_start
from bash_ai.safety.shell import Command, Group, Redirect, Script, Word, parse

Lookup = Callable[[str], Found]

OPERATORS = {
    "|": "pipe: the output of the command before it is the input of the command after it",
    "|&": "pipe: the output and the errors of the command before it go to the command after it",
    "&&": "runs the next command only if the one before it succeeded",
    "||": "runs the next command only if the one before it failed",
    ";": "runs the next command after the one before it, whatever its result",
    "&": "runs the command before it in the background",
    "\n": "runs the next command after the one before it",
}
REDIRECTS = {
    ">": "writes the output to {t}, replacing what the file held",
    ">|": "writes the output to {t}, replacing what the file held (even with noclobber)",
    ">>": "appends the output to {t}",
    "<": "reads the input from {t}",
    "2>": "writes the errors to {t}",
    "2>>": "appends the errors to {t}",
    "&>": "writes the output and the errors to {t}",
    "&>>": "appends the output and the errors to {t}",
    "2>&1": "sends the errors where the output goes",
    ">&2": "sends the output where the errors go",
    "1>&2": "sends the output where the errors go",
    "<<": "a here-document: the lines up to {t} are the input",
    "<<-": "a here-document: the lines up to {t} (tabs stripped) are the input",
    "<<<": "a here-string: {t} is the input",
}
BUILTINS = {
    "cd": "change the current directory",
    "export": "set an environment variable for the commands run from this shell",
    "source": "run the commands of a file in the current shell",
    ".": "run the commands of a file in the current shell",
    "alias": "define a short name for a command",
    "unalias": "remove an alias",
    "set": "set shell options or positional parameters",
    "unset": "remove a variable or function",
    "read": "read a line of input into variables",
    "exit": "exit the shell",
    "return": "return from a function",
    "shift": "shift the positional parameters",
    "eval": "run its arguments as a shell command",
    "exec": "replace the shell with the command",
    "type": "tell how a name would be interpreted as a command",
    "wait": "wait for background jobs to finish",
    "trap": "run a command when the shell receives a signal",
    "pushd": "push a directory on the directory stack and change to it",
    "popd": "pop a directory from the directory stack and change to it",
    "history": "show or edit the command history",
    "jobs": "list the background jobs",
    "fg": "bring a job to the foreground",
    "bg": "resume a job in the background",
    "ulimit": "show or set resource limits",
    "umask": "show or set the file creation mask",
    "declare": "declare variables and give them attributes",
    "local": "declare a variable local to a function",
    "let": "evaluate arithmetic expressions",
    "shopt": "set or unset shell options",
    "hash": "remember or show program locations",
    "builtin": "run a shell builtin",
    "command": "run a command, bypassing shell functions",
    "[": "evaluate a conditional expression",
    "[[": "evaluate a conditional expression",
    "true": "do nothing, successfully",
    "false": "do nothing, unsuccessfully",
    ":": "do nothing, successfully",
}
KEYWORDS = {
    "if": "runs the commands after then if this condition succeeds",
    "then": "the commands run when the condition succeeded",
    "elif": "another condition, tried when the ones before it failed",
    "else": "the commands run when every condition failed",
    "fi": "ends the if",
    "for": "a loop over a list of words",
    "while": "a loop that runs while its condition succeeds",
    "until": "a loop that runs until its condition succeeds",
    "do": "the loop's body",
    "done": "ends the loop",
    "case": "chooses commands by matching a word against patterns",
    "esac": "ends the case",
    "!": "inverts the result of the command",
    "time": "reports how long the command took",
    "{": "groups commands",
    "}": "ends the group",
}
_GLOB = re.compile(r"[*?]|\[[^]]+\]")
_SUBCOMMAND = re.compile(r"[a-z][a-z0-9-]{1,30}")
_PLACEHOLDER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
MAX_PARTS = 200


@dataclass(frozen=True)
class Part:
    """One piece of a command and what it means.

    ``source``: ``man`` (the user's man page), ``tldr`` (a fetched tldr page), ``fixed`` (bash's
    own syntax, described here), ``model`` (written by the model: no page was found) or ``unknown``.
    """

    kind: str  # program | option | argument | operator | redirect | substitution | keyword | assignment
    text: str
    description: str
    source: str
    depth: int = 0
    invocation: str = ""  # for a program: its whole invocation (what the model explains when no page does)

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    def described_by_model(self, text: str) -> Part:
        return replace(self, description=text, source="model")


def breakdown(command: str, find_page: Lookup = lookup) -> list[Part]:
    """The parts of ``command``, in the order they appear."""
    parts = list(_script(parse(command), 0, _Pages(find_page)))
    return parts[:MAX_PARTS]


class _Pages:
    """Each program's page looked up once per command."""

    def __init__(self, find_page: Lookup) -> None:
        self.find_page = find_page
        self.found: dict[str, Found] = {}

    def get(self, program: str) -> Found:
        if program not in self.found:
            self.found[program] = self.find_page(program)
        return self.found[program]


def _script(script: Script, depth: int, pages: _Pages) -> Iterator[Part]:
    for item, op in zip(script.items, script.ops + [""] * (len(script.items) - len(script.ops)), strict=True):
        if isinstance(item, Group):
            yield Part("keyword", "( )", "runs the commands inside in a subshell", "fixed", depth)
            yield from _script(item.body, depth + 1, pages)
            yield from _redirects(item.redirects, depth)
        else:
            yield from _command(item, depth, pages)
        if op and op in OPERATORS and not (op == "\n" and item is script.items[-1]):
            yield Part("operator", op.replace("\n", "newline"), OPERATORS[op], "fixed", depth)


def _command(cmd: Command, depth: int, pages: _Pages) -> Iterator[Part]:
    for keyword in cmd.keywords:
        if keyword in KEYWORDS:
            yield Part("keyword", keyword, KEYWORDS[keyword], "fixed", depth)
    for word in cmd.assignments:
        name = word.value.split("=", 1)[0]
        yield Part("assignment", word.raw, f"sets the variable {name}", "fixed", depth)
        yield from _substitutions(word, depth, pages)
    if cmd.kind == "header":
        if cmd.words and cmd.words[0].value in KEYWORDS:
            yield Part("keyword", cmd.words[0].value, KEYWORDS[cmd.words[0].value], "fixed", depth)
        for word in cmd.words:
            yield from _substitutions(word, depth, pages)
    elif cmd.words:
        yield from _invocation(cmd.words, depth, pages)
    yield from _redirects(cmd.redirects, depth)


def _invocation(words: list[Word], depth: int, pages: _Pages) -> Iterator[Part]:
    head, args = words[0], words[1:]
    if head.subs and not args and head.value.startswith(("$(", "`")):
        yield from _substitutions(head, depth, pages)
        return
    name = utility_name(head)
    yield _program(head.raw, name, depth, pages, " ".join(w.raw for w in words))
    yield from _substitutions(head, depth, pages)
    found = pages.get(name)
    page = found.page
    if name in WRAPPERS and name != "xargs":
        k = wrapped_start(name, args)
        yield from _options(name, page, args[:k], depth, pages)
        if args[k:]:
            yield from _invocation(args[k:], depth + 1, pages)
        return
    if name == "find":
        yield from _find(page, args, depth, pages)
        return
    if name == "tar" and args and re.fullmatch(r"[A-Za-z]+", args[0].value) and not args[0].quoted:
        args = [Word("-" + args[0].raw, "-" + args[0].value, args[0].start, args[0].end), *args[1:]]
    elif args and _SUBCOMMAND.fullmatch(args[0].raw):
        sub = pages.get(f"{name}-{args[0].raw}")  # git log -> git-log(1), apt-get's are one page
        if sub.page is not None:
            yield Part("subcommand", args[0].raw, sub.page.purpose.rstrip(" ."), "man", depth)
            page, args = sub.page, args[1:]
    yield from _options(name, page, args, depth, pages, runs_command=name in ("xargs", "watch"))


def _program(raw: str, name: str, depth: int, pages: _Pages, invocation: str) -> Part:
    found = pages.get(name)
    if found.page is not None and found.page.purpose:
        return Part("program", raw, found.page.purpose.rstrip(" ."), "man", depth, invocation)
    if name in BUILTINS:
        return Part("program", raw, f"shell builtin: {BUILTINS[name]}", "fixed", depth, invocation)
    summary = tldr_summary(name)
    if summary:
        return Part("program", raw, summary, "tldr", depth, invocation)
    return Part("program", raw, found.source, "unknown", depth, invocation)


def _options(
    name: str,
    page: ManPage | None,
    args: list[Word],
    depth: int,
    pages: _Pages,
    runs_command: bool = False,
) -> Iterator[Part]:
    i = 0
    options_done = False
    while i < len(args):
        word = args[i]
        raw = word.raw
        if not options_done and raw == "--":
            yield Part("operator", "--", "ends the options: every word after it is an argument", "fixed", depth)
            options_done = True
            i += 1
            continue
        if options_done or not _is_option(word):
            if runs_command and not options_done:
                yield from _invocation(args[i:], depth + 1, pages)
                return
            if name in C_SHELLS and i > 0 and args[i - 1].raw.endswith("c") and _is_option(args[i - 1]):
                yield Part("argument", raw, "the commands the shell runs", "fixed", depth)
                yield from _script(parse(word.value), depth + 1, pages)
            elif name == "env" and ASSIGNMENT.match(word.raw):
                variable = word.raw.split("=", 1)[0]
                yield Part("assignment", word.raw, f"sets the variable {variable} for the command", "fixed", depth)
            else:
                yield from _argument(word, depth, pages)
            i += 1
            continue
        used, new_parts = _option(page, name, args, i, depth)
        yield from new_parts
        for consumed in args[i + 1 : i + used]:
            yield from _substitutions(consumed, depth, pages)
        yield from _substitutions(word, depth, pages)
        i += used


def _is_option(word: Word) -> bool:
    return word.raw.startswith("-") and len(word.raw) > 1 and not word.quoted and word.kind == "word"


def _option(page: ManPage | None, program: str, args: list[Word], i: int, depth: int) -> tuple[int, list[Part]]:
    """The part(s) of the option at ``args[i]`` and how many words it uses (its argument too)."""
    raw = args[i].value
    nxt = args[i + 1].raw if i + 1 < len(args) else None
    if page is None:
        takes = program in WRAPPERS and raw in WRAPPERS[program].options_with_argument and nxt is not None
        text = f"{raw} {nxt}" if takes else raw
        return 1 + takes, [Part("option", text, f"not described: no man page for {program}", "unknown", depth)]
    if program in ("head", "tail") and raw[1:].isdigit():
        where = "first" if program == "head" else "last"
        return 1, [Part("option", raw, f"the {where} {raw[1:]} lines (the old form of -n {raw[1:]})", "fixed", depth)]
    name, eq, value = raw.partition("=")
    doc = page.options.get(name)
    if doc is not None:  # a whole word: --long, --long=value, -name (find), -n
        if eq:
            return 1, [Part("option", raw, doc.description, "man", depth)]
        if doc.takes_argument and nxt is not None:
            return 2, [Part("option", f"{raw} {nxt}", _filled(doc.description, doc.argument, nxt), "man", depth)]
        return 1, [Part("option", raw, doc.description, "man", depth)]
    if raw.startswith("--") or len(raw) == 2:
        return 1, [Part("option", raw, f"unknown option: {page.program}'s man page does not list it", "unknown", depth)]
    parts: list[Part] = []  # combined short options: -czf, -n10
    for k, letter in enumerate(raw[1:], start=1):
        doc = page.options.get("-" + letter)
        if doc is None:
            if letter.isdigit() and parts:
                parts[-1] = Part("option", parts[-1].text + raw[k:], parts[-1].description, "man", depth)
                return 1, parts
            parts.append(Part("option", "-" + letter, "unknown option: not in the man page", "unknown", depth))
            continue
        if doc.takes_argument:
            rest = raw[k + 1 :]
            if rest:
                parts.append(
                    Part("option", f"-{letter}{rest}", _filled(doc.description, doc.argument, rest), "man", depth)
                )
                return 1, parts
            if nxt is not None:
                parts.append(
                    Part("option", f"-{letter} {nxt}", _filled(doc.description, doc.argument, nxt), "man", depth)
                )
                return 2, parts
        parts.append(Part("option", "-" + letter, doc.description, "man", depth))
    return 1, parts


def _filled(description: str, argument: str, value: str) -> str:
    """The man page's placeholder replaced by the value given: "Use archive file ARCHIVE" ->
    "Use archive file a.tgz". Only an upper-case placeholder (``ARCHIVE``, ``[-]NUM``) or one
    the description itself names as a word; a value with spaces or quotes is left alone."""
    names = _PLACEHOLDER.findall(argument)
    if len(names) != 1 or not names[0].isupper() or not value or any(c in value for c in " '\"\n"):
        return description
    name = names[0]
    return re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", lambda _: value, description)


def _find(page: ManPage | None, args: list[Word], depth: int, pages: _Pages) -> Iterator[Part]:
    i = 0
    while i < len(args):
        word = args[i]
        if word.raw in FIND_EXEC:
            end = i + 1
            while end < len(args) and args[end].value not in (";", "+"):
                end += 1
            description = _described(page, word.raw, "runs a command on each file found")
            yield Part("option", word.raw, description, "man" if page else "fixed", depth)
            if end > i + 1:
                yield from _invocation(args[i + 1 : end], depth + 1, pages)
            if end < len(args):
                yield Part("operator", args[end].raw, _EXEC_END[args[end].value], "fixed", depth)
            i = end + 1
            continue
        if word.raw in ("!", "\\!", "(", ")", "\\(", "\\)"):
            text = {"!": "not: inverts the test after it", "(": "groups tests", ")": "ends the group"}
            yield Part("operator", word.raw, text[word.raw.lstrip("\\")], "fixed", depth)
            i += 1
            continue
        if _is_option(word):
            used, new_parts = _option(page, "find", args, i, depth)
            yield from new_parts
            i += used
            continue
        yield from _argument(word, depth, pages)
        i += 1


_EXEC_END = {
    ";": "ends the -exec command: it runs once per file",
    "+": "ends the -exec command: it runs with as many files at once as fit",
}


def _described(page: ManPage | None, option: str, fallback: str) -> str:
    doc = page.options.get(option) if page is not None else None
    return doc.description if doc is not None else fallback


def _argument(word: Word, depth: int, pages: _Pages) -> Iterator[Part]:
    value = word.value
    meaning = None
    if not word.quoted:
        if value == "~" or value.startswith("~/"):
            meaning = "your home directory" if value == "~" else "a path in your home directory"
        elif value == "/":
            meaning = "the root directory: the whole file system"
        elif value == ".":
            meaning = "the current directory"
        elif value == "..":
            meaning = "the parent directory"
        elif value == "-":
            meaning = "standard input (or output)"
        elif value == "{}":
            meaning = "the current file name"
        elif _GLOB.search(word.raw) and not word.subs:
            meaning = "the files whose names match this pattern"
    if meaning is not None:
        yield Part("argument", word.raw, meaning, "fixed", depth)
    yield from _substitutions(word, depth, pages)


def _substitutions(word: Word, depth: int, pages: _Pages) -> Iterator[Part]:
    for sub in word.subs:
        if word.kind == "procsub":
            text = "process substitution: the output of the commands inside, read as a file"
        else:
            text = "command substitution: runs the commands inside and puts their output here"
        yield Part("substitution", word.raw if len(word.raw) <= 60 else word.raw[:57] + "...", text, "fixed", depth)
        yield from _script(sub, depth + 1, pages)


def _redirects(redirects: list[Redirect], depth: int) -> Iterator[Part]:
    for redirect in redirects:
        target = redirect.target.raw if redirect.target is not None else ""
        key = redirect.op + target if redirect.is_dup else redirect.op
        template = REDIRECTS.get(key) or REDIRECTS.get(redirect.op)
        text = f"{redirect.op}{target}" if redirect.is_dup else f"{redirect.op} {target}".strip()
        if template is None:
            template = "redirects a file descriptor to {t}"
        yield Part("redirect", text, template.format(t=target or "its target"), "fixed", depth)


_JOINERS = {"|": "; its output goes to: ", "|&": "; its output goes to: ", "&&": "; if that succeeds: "}
_JOINERS |= {"||": "; if that fails: ", ";": "; then: ", "&": " (in the background); then: ", "newline": "; then: "}


def compose(parts: list[Part]) -> str:
    """One sentence from the top-level parts' own words: each program's purpose (its
    subcommand's, when it has one), then its options' descriptions (their first clause)."""
    out: list[str] = []
    purpose = ""
    options: list[str] = []

    def flush() -> None:
        if purpose:
            out.append(purpose + (": " + ", ".join(options) if options else ""))

    for part in parts:
        if part.depth:
            continue
        if part.kind == "program":
            flush()
            purpose, options = part.description, []
        elif part.kind == "subcommand":
            purpose = part.description
        elif part.kind == "option" and part.source in ("man", "fixed"):
            clause = re.split(r"[;(]", part.description, maxsplit=1)[0].strip().rstrip(",")
            options.append(clause[:1].lower() + clause[1:])
        elif part.kind == "argument" and part.source == "fixed" and purpose and part.text != "{}":
            options.append(f"on {part.description}")
        elif part.kind == "operator" and part.text in _JOINERS and purpose:
            flush()
            out.append(_JOINERS[part.text])
            purpose, options = "", []
    flush()
    text = "".join(out)
    return (text[:1].upper() + text[1:]).strip() if text else ""
