"""The official NLC2CMD grammar, read from the user's own copy of it, and the official way of
matching a command's words against it.

The competition's parser (bashlint, in IBM/clai's ``submission-code``) checks every utility's
words against a synopsis in ``configs/core/grammar.txt``: a flag the synopsis lacks, a long flag
given a value it does not take, a word no argument place is left for, or a flag missing its
argument makes the whole command unreadable (score -1). That file is not ours, so bash-ai does
not ship it: ``bash-ai eval --official-grammar PATH`` reads the user's copy, and this module
reads it the way the official code does, quirks included (each one below is what the official
reader does with the file, checked synopsis by synopsis against it by
``benchmarks/official_agreement.py --check-grammar``):

- A synopsis line is a utility name and items: ``-x`` or ``--long`` (a required flag), ``[ ... ]``
  (an optional flag when its first non-blank character is ``-`` or ``+``, else an optional
  argument), or a bare word (a required argument). Lines for the same utility add up: flags are
  merged (a later one replaces an earlier one of the same name), argument places are appended.
- A long flag with ``=`` (``--width=N``, ``--tmpdir[=DIR]``) takes an argument; one without is a
  flag whose name is the whole item (``--exclude pattern`` is named so, so ``--exclude=x`` is
  not in the grammar).
- Inside a short-flag item, ``-a | -b`` are two flags, ``-abc::`` is ``-a``, ``-b``, ``-c``,
  and words after a flag are its arguments; an optional ``[-x]`` nested after a flag is lost.
- An argument ``name...`` is a list (a space-separated one takes any number of words, another
  separator one word), ``~~name`` is only ever attached to its flag (``-i{}``), ``COMMAND``
  is one quoted command string, ``COMMAND_EOS`` the rest of the words as a command, and
  ``COMMAND$$;,+`` (``find -exec``) the words up to one of the stop words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bash_ai.errors import UsageError


@dataclass(frozen=True)
class Slot:
    """One argument place: of a flag, or positional."""

    kind: str = "value"  # "value", "command" (a quoted command), "rest" (COMMAND_EOS), "exec"
    repeats: bool = False  # a space-separated list: stays open after a word
    attached_only: bool = False  # ``~~name``: never takes the next word
    stops: tuple[str, ...] = ()  # the words that end an "exec" body


@dataclass
class Synopsis:
    """What the grammar lets one utility take."""

    flags: dict[str, tuple[Slot, ...]] = field(default_factory=dict)  # flag -> its argument slots
    positional: list[Slot] = field(default_factory=list)


@dataclass
class Grammar:
    utilities: dict[str, Synopsis]

    @classmethod
    def read(cls, path: Path) -> Grammar:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read the official grammar {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise UsageError(f"cannot read the official grammar {path}: it is not UTF-8 text") from None
        grammar = parse_grammar(text)
        if not grammar.utilities:
            raise UsageError(f"{path} has no 'PrimitiveCmd ::=' section: is it the official grammar.txt?")
        return grammar


def parse_grammar(text: str) -> Grammar:
    section, command_names = "", set[str]()
    slot = _SlotMaker(command_names)  # sees the names the type section adds
    utilities: dict[str, Synopsis] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line in ("type", "constants", "PrimitiveCmd ::="):
            section = line
            continue
        if section == "type":
            kind, _, names = line.partition(" ")
            if kind == "Command":
                command_names |= {n.strip() for n in names.strip()[1:-1].split(",")}
        elif section == "PrimitiveCmd ::=":
            _read_line(line.removeprefix("* "), utilities, slot)
    return Grammar(utilities)


@dataclass
class _SlotMaker:
    command_names: set[str]

    def __call__(self, spec: str) -> Slot:
        if spec.lower() == "command_eos":
            return Slot("rest")
        if "$$" in spec:
            return Slot("exec", stops=tuple(spec.split("$$", 1)[1].split(",")))
        is_list = spec.endswith("...")
        if is_list:
            spec = spec[:-3]
        separator = " "
        if is_list and spec[-1:] in (",", "|"):
            separator, spec = spec[-1], spec[:-1]
        attached_only = spec.startswith("~~")
        name = spec[2:] if attached_only else spec
        if "<" not in name and name.lower() in self.command_names:
            return Slot("command")
        return Slot("value", repeats=is_list and separator == " ", attached_only=attached_only)


def _read_line(line: str, utilities: dict[str, Synopsis], slot: _SlotMaker) -> None:
    name, _, rest = line.partition(" ")
    synopsis = utilities.setdefault(name, Synopsis())
    if not rest.strip():
        return
    for item in _items(rest):
        if item[:1] in ("-", "+"):
            _read_flags(item, synopsis, slot)
        else:
            synopsis.positional.append(slot(item))


def _items(text: str) -> list[str]:
    """Top-level items: bare words, and bracketed groups without their outer brackets. A group's
    first character never opens a nested group (so ``[[a]b]`` ends at the first ``]``); a group
    that never closes is dropped."""
    items: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
        elif text[i] == "[":
            i += 1
            while i < n and text[i].isspace():
                i += 1
            start, depth = i, 1
            i += 1
            while i < n:
                depth += {"[": 1, "]": -1}.get(text[i], 0)
                i += 1
                if depth == 0:
                    items.append(text[start : i - 1].strip())
                    break
        else:
            start = i
            while i < n and not text[i].isspace():
                i += 1
            items.append(text[start:i])
    return items


def _read_flags(item: str, synopsis: Synopsis, slot: _SlotMaker) -> None:
    if item.startswith("--"):
        _read_long(item, synopsis, slot)
    else:
        _read_short(item, synopsis, slot)


def _chain(slots: tuple[Slot, ...], new: Slot) -> tuple[Slot, ...]:
    """A flag's argument slots: its first, then the latest one given (the official reader hangs
    each later argument on the first one, replacing the one before)."""
    return (slots[0], new) if slots else (new,)


def _read_long(item: str, synopsis: Synopsis, slot: _SlotMaker) -> None:
    if "=" not in item:
        synopsis.flags[item.strip()] = ()
        return
    name, i, n = "", 0, len(item)
    while i < n and item[i] not in "=[":
        name += item[i].strip()
        i += 1
    slots: tuple[Slot, ...] = ()
    arg = ""
    if i < n and item[i] == "[":  # --name[=ARG]
        depth = 1
        for ch in item[i + 1 :]:
            if ch == "]":
                depth -= 1
                if depth == 0:
                    slots = _chain(slots, slot(arg))
                    break
                arg += ch
            elif ch.strip() and ch != "=":
                arg += ch
    else:  # --name=ARG: each blank after it gives the text read so far as an argument
        for ch in item[i + 1 :] + " ":
            if ch == " ":
                slots = _chain(slots, slot(arg))
            elif ch.strip():
                arg += ch
    synopsis.flags[name] = slots


def _read_short(item: str, synopsis: Synopsis, slot: _SlotMaker) -> None:
    """``-a | -b``, ``-abc::``, ``-f file``, ``-c K<[-]K>``, ``-i [~~SUFFIX]``, read as the
    official reader does: a state per character, and a stack of what each ``[`` opened."""
    state, text = "idle", ""
    stack: list[str] = []
    flag: str | None = None

    def pop() -> str:
        return stack.pop() if stack else ""

    def give(argument: str) -> None:
        if flag is not None:
            synopsis.flags[flag] = _chain(synopsis.flags[flag], slot(argument))

    for ch in item + " ":
        blank = not ch.strip()
        if state == "idle":
            if ch in "-+":
                state, text = "name", ch
            elif ch == "[":
                stack.append("")
                state = "open"
            elif ch == "]":
                pop()
            elif not blank and ch != "|":
                state, text = "argument", ch
        elif state == "open":  # just after "[": a nested flag (lost, see below) or an optional argument
            if ch in "-+":
                state, text = "nested flag", ch
            elif not blank:
                if ch == "[":
                    stack.append("")
                state, text = "optional argument", ch
        elif state == "name":
            if blank or ch == "|" or (ch == "]" and pop() != "name"):
                flag = _add_flags(text, synopsis)
                state = "idle"
            elif not blank:
                if ch == "[":
                    stack.append("name")
                text += ch
        elif state in ("argument", "optional argument"):
            own = ("argument", "optional argument") if state == "argument" else ("optional argument",)
            if blank or (ch == "]" and pop() not in own):
                give(text)
                state = "idle"
            elif not blank:
                if ch == "[":
                    stack.append(state)
                text += ch
        elif ch == "]":  # a nested flag: made only when a "[" inside it closes, never by its own "]"
            if pop() == "nested flag":
                _read_flags(text, synopsis, slot)
                text = ""
            else:
                text += ch
        elif not blank:
            if ch == "[":
                stack.append("nested flag")
            text += ch


def _add_flags(name: str, synopsis: Synopsis) -> str | None:
    """``-abc::`` is three flags; returns the last flag made (the one arguments go to)."""
    if not name.endswith("::"):
        synopsis.flags[name] = ()
        return name
    made = None
    for ch in name[1:-2]:
        made = name[0] + ch
        synopsis.flags[made] = ()
    return made
