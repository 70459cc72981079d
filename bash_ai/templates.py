"""Command templates for NL2Bash-style "template accuracy": structure kept, arguments abstracted.

A template keeps each program name, its flags and the operators between commands, and replaces
every argument (file, number, pattern, quoted string, variable) with ``ARG``:

    find . -name "*.txt" | xargs grep -l foo   ->   find ARG -name ARG | xargs grep -l ARG

Choices, each tested in tests/test_metrics.py:
- flags of ordinary programs are split (``-la`` -> ``-a -l``), sorted, and moved before the
  arguments, so ``ls -la x`` and ``ls -al x`` match; ``--opt=value`` becomes ``--opt ARG``; a
  numeric flag (``head -5``) becomes ``-NUM``;
- ``find`` keeps its expression in order (``-o``, ``!`` and ``-exec ... \\;`` are structure);
- the first argument of programs with subcommands (``git push``, ``apt install``) is kept,
  because ``git push`` and ``git pull`` are different commands, not different arguments;
- wrappers (``sudo``, ``xargs``, ``env``...) template their own flags, then the wrapped command;
- ``$( )``, backticks and ``<( )`` are templated recursively; a word's literal text around a
  substitution is dropped; redirections keep their operator (``2>&1`` stays whole);
- program names are reduced to their basename (``/usr/bin/find`` -> ``find``).
"""

from __future__ import annotations

import re

from bash_ai.safety.commands import FIND_EXEC, WRAPPERS, utility_name, wrapped_start
from bash_ai.safety.shell import Command, Group, Redirect, Script, Word, parse


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


ARG = "ARG"
# Programs whose first argument is a subcommand that changes what they do.
SUBCOMMAND_TOOLS = _words(
    """git apt apt-get apt-cache dnf yum pacman brew snap flatpak pip pip3 npm yarn pnpm cargo go docker
    podman kubectl helm systemctl journalctl service ip nmcli openssl conda gem composer dotnet gh aws
    gcloud az terraform vagrant svn hg rustup poetry uv tmux screen"""
)
_NUMERIC_FLAG = re.compile(r"-\d+")
_OPS = {"\n": ";", "": ""}


def command_template(command: str) -> str:
    """The template of a command line or script (see the module docstring)."""
    return _script(parse(command))


def _script(script: Script) -> str:
    parts: list[str] = []
    for item, op in zip(script.items, script.ops, strict=False):
        parts.append(_item(item))
        op = _OPS.get(op, op)
        if op:
            parts.append(op)
    while parts and parts[-1] == ";":
        parts.pop()
    return " ".join(p for p in parts if p)


def _item(item: Command | Group) -> str:
    if isinstance(item, Group):
        return " ".join(["(", _script(item.body), ")", *map(_redirect, item.redirects)])
    out = list(item.keywords)
    if item.kind == "header":
        out += [w.value if w.value == "in" and not w.quoted else _word(w) for w in item.words]
    elif item.kind == "funcdef":
        out += [f"{ARG}()"]
    else:
        out += [f"{a.raw.split('=', 1)[0]}={_word(a)}" for a in item.assignments]
        if item.words:
            out += _simple(item.words)
    out += [_redirect(r) for r in item.redirects]
    return " ".join(out)


def _simple(words: list[Word]) -> list[str]:
    head, rest = words[0], words[1:]
    if head.subs:
        return [_word(head), *_flags_and_args(rest)]
    name = utility_name(head)
    if name in WRAPPERS:
        k = wrapped_start(name, rest)
        return [name, *_flags_and_args(rest[:k]), *(_simple(rest[k:]) if rest[k:] else [])]
    if name == "find":
        return [name, *_find(rest)]
    if name in SUBCOMMAND_TOOLS:
        for i, w in enumerate(rest):
            if not w.value.startswith("-") and not w.subs:
                return [name, *_flags_and_args(rest[:i]), w.value, *_flags_and_args(rest[i + 1 :])]
    return [name, *_flags_and_args(rest)]


def _flags_and_args(words: list[Word]) -> list[str]:
    flags: list[str] = []
    args: list[str] = []
    only_args = False
    for w in words:
        value = w.value
        if only_args or w.subs or len(value) < 2 or not value.startswith("-"):
            args.append(_word(w))
        elif value == "--":
            only_args = True
        elif value.startswith("--"):
            name, has_value, _ = value.partition("=")
            flags.append(name)
            if has_value:
                args.append(ARG)
        elif _NUMERIC_FLAG.fullmatch(value):
            flags.append("-NUM")
        else:
            letters = 0
            for ch in value[1:]:
                if not ch.isalpha():
                    break
                flags.append("-" + ch)
                letters += 1
            if letters < len(value) - 1:  # an attached value: -n5, -d,
                args.append(ARG)
    return sorted(flags) + args


def _find(words: list[Word]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        i += 1
        value = w.value
        if value in FIND_EXEC:
            body: list[Word] = []
            terminator = ""
            while i < len(words):
                v = words[i].value
                i += 1
                if v == ";" or (v == "+" and body and body[-1].value == "{}"):
                    terminator = "\\;" if v == ";" else "+"
                    break
                body.append(words[i - 1])
            out += [value, *(_simple(body) if body else []), *([terminator] if terminator else [])]
        elif (
            value in ("(", ")", "!", ",")
            and not w.subs
            or value.startswith("-")
            and len(value) > 1
            and not _NUMERIC_FLAG.fullmatch(value)
            and not w.subs
        ):
            out.append(value)
        else:
            out.append(_word(w))
    return out


def _word(word: Word) -> str:
    if word.kind == "procsub" and word.subs:
        return f"{word.raw[0]}( {_script(word.subs[0])} )"
    if word.subs:
        return "".join(f"$( {_script(sub)} )" for sub in word.subs)
    return ARG


def _redirect(redirect: Redirect) -> str:
    if redirect.target is None:
        return redirect.op
    if redirect.is_dup:
        return redirect.op + redirect.target.value
    return f"{redirect.op} {_word(redirect.target)}"


def template_match(predicted: str, reference: str) -> bool:
    """Same programs, flags and structure once arguments are abstracted."""
    return command_template(predicted) == command_template(reference)
