"""A small, lenient bash parser: words with quotes removed, operators, redirections, nesting.

Why not ``shlex``: it knows neither ``|``/``&&``/``;`` nor ``$( )``, ``<( )``, backticks or
heredocs, and the danger rules, the templater and the NLC2CMD metric all need to know which word
is a command and which is only an argument (``echo "rm -rf /"`` is harmless). Model output is
often malformed, so nothing here raises: an unclosed quote or paren simply runs to the end.

Offsets (``start``/``end``) index into the text given to :func:`parse`, so callers can point at
the part of a command that a rule matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Longest first: the lexer takes the first operator that matches.
_OPERATORS: tuple[str, ...] = (";;&", "&>>", "<<<", "<<-", ";;", ";&", "&&", "||", "|&", "&>", ">>", ">|", ">&")
_OPERATORS += ("<<", "<&", "<>", ";", "&", "|", "<", ">", "(", ")")
_REDIRECTS = frozenset({"&>>", "<<<", "<<-", "&>", ">>", ">|", ">&", "<<", "<&", "<>", "<", ">"})
_META = frozenset(" \t\n;&|<>()")
# Reserved words that may start a command; ``for``/``select``/``case``/``function`` open a header
# whose words are names and patterns, not a command line.
KEYWORDS = frozenset({"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time"})
KEYWORDS |= {"esac", "coproc"}
HEADERS = frozenset({"for", "select", "case", "function"})
_MAX_DEPTH = 40
_FD = re.compile(r"\d+(?=[<>])")
_ARITH = re.compile(r"\$\(\(.*\)\)", re.DOTALL)
_FUNC_PARENS = re.compile(r"[ \t]*\)")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=")


@dataclass(frozen=True, slots=True)
class Word:
    """One shell word. ``value`` has quotes removed; expansions (``$x``, ``$(...)``) stay verbatim."""

    raw: str
    value: str
    start: int
    end: int
    quoted: bool = False
    subs: tuple[Script, ...] = ()  # command and process substitutions inside the word
    kind: str = "word"  # "word", "procsub" (<(..) / >(..)), "arith" ($((..)) / ((..)))


@dataclass(frozen=True, slots=True)
class Redirect:
    op: str  # as written, fd prefix included: ">", "2>>", "&>", "<<", "2>&"
    target: Word | None
    start: int
    end: int

    @property
    def is_dup(self) -> bool:
        """``2>&1`` / ``>&-``: duplicates a descriptor instead of opening a file."""
        return (
            self.op.endswith("&")
            and self.target is not None
            and re.fullmatch(r"\d+-?|-", self.target.value) is not None
        )


@dataclass(slots=True)
class Command:
    """A simple command (``kind="simple"``), a loop/case header or a function definition name."""

    words: list[Word] = field(default_factory=list)
    assignments: list[Word] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)  # leading reserved words: "if", "do", "!"
    kind: str = "simple"  # "simple", "header" (for/select/case), "funcdef"
    start: int = 0
    end: int = 0


@dataclass(slots=True)
class Group:
    """``( ... )`` run in a subshell."""

    body: Script
    redirects: list[Redirect] = field(default_factory=list)
    start: int = 0
    end: int = 0


@dataclass(slots=True)
class Script:
    """Commands and the operator after each: ``|``, ``&&``, ``||``, ``;``, ``&``, ``|&`` or ``""``."""

    items: list[Command | Group] = field(default_factory=list)
    ops: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Op:
    text: str
    start: int
    end: int


class _Parser:
    """Recursive-descent over one string; substitutions re-enter at their own offset."""

    def __init__(self, text: str, offset: int = 0, clamp: tuple[int, int] | None = None, depth: int = 0) -> None:
        self.s = text
        self.depth = depth  # nesting of substitutions and groups; past _MAX_DEPTH they stay opaque
        self.n = len(text)
        self.offset = offset  # added to every position (for strings nested inside another command)
        self.clamp = clamp  # when positions cannot be mapped back, every span becomes this one
        self.heredocs: list[tuple[str, bool]] = []
        self.pending_heredoc = False
        self.command_start = True
        self.peeked: Word | _Op | Redirect | None = None
        self.i = 0

    # ---- positions -------------------------------------------------------------------------
    def span(self, a: int, b: int) -> tuple[int, int]:
        return self.clamp if self.clamp is not None else (a + self.offset, b + self.offset)

    # ---- lexing ----------------------------------------------------------------------------
    def _skip_blank(self) -> None:
        s, n = self.s, self.n
        while self.i < n:
            c = s[self.i]
            if c in " \t\r":
                self.i += 1
            elif c == "\\" and s.startswith("\n", self.i + 1):
                self.i += 2
            elif c == "#":
                while self.i < n and s[self.i] != "\n":
                    self.i += 1
            else:
                return

    def _skip_heredoc_bodies(self) -> None:
        for delim, strip_tabs in self.heredocs:
            while self.i < self.n:
                eol = self.s.find("\n", self.i)
                line = self.s[self.i : eol if eol >= 0 else self.n]
                self.i = eol + 1 if eol >= 0 else self.n
                if (line.lstrip("\t") if strip_tabs else line) == delim:
                    break
        self.heredocs = []

    def next(self) -> Word | _Op | Redirect | None:
        if self.peeked is not None:
            tok, self.peeked = self.peeked, None
            return tok
        return self._lex()

    def peek(self) -> Word | _Op | Redirect | None:
        if self.peeked is None:
            self.peeked = self._lex()
        return self.peeked

    def _lex(self) -> Word | _Op | Redirect | None:
        self._skip_blank()
        s, i = self.s, self.i
        if i >= self.n:
            return None
        if s[i] == "\n":
            self.i += 1
            if self.heredocs:
                self._skip_heredoc_bodies()
            return _Op("\n", i, i + 1)
        if s.startswith(("<(", ">("), i):
            return self._word()
        if s.startswith("((", i) and self.command_start:
            end = _find_close(s, i + 2, "))")
            self.i = end
            return Word(s[i:end], s[i:end], *self.span(i, end), kind="arith")
        m = _FD.match(s, i)
        fd = m.group(0) if m and not s.startswith(("<(", ">("), m.end()) else ""
        for op in _OPERATORS:
            if s.startswith(op, i + len(fd)):
                if fd and op not in _REDIRECTS:
                    break
                self.i = i + len(fd) + len(op)
                if op in _REDIRECTS:
                    return self._redirect(fd + op, i)
                return _Op(op, i, self.i)
        return self._word()

    def _redirect(self, op: str, start: int) -> Redirect:
        self._skip_blank()
        target = None
        if self.i < self.n and self.s[self.i] not in _META or self.s.startswith(("<(", ">("), self.i):
            target = self._word()
            if op.endswith(("<<", "<<-")) and not op.endswith("<<<"):
                self.heredocs.append((target.value, op.endswith("-")))
        return Redirect(op, target, *self.span(start, self.i))

    def _word(self, *, inert_ops: bool = False) -> Word:
        """Read one word from ``self.i``: quotes, escapes, ``$( )``, backticks, ``${ }``."""
        s, n, start = self.s, self.n, self.i
        value: list[str] = []
        subs: list[Script] = []
        quoted = False
        i = start
        if s.startswith(("<(", ">("), i):
            proc, i = self._substitution(i + 2)
            self.i = i
            return Word(s[start:i], s[start:i], *self.span(start, i), subs=(proc,), kind="procsub")
        while i < n:
            c = s[i]
            if c in _META and not inert_ops:
                if c == "(" and value and value[-1][-1:] in "!@*+?=" and value[-1]:
                    end = _find_close(s, i + 1, ")")  # extglob !(..) or array=( .. )
                    value.append(s[i:end])
                    i = end
                    continue
                break
            if inert_ops and c in " \t\n;":
                break
            if c == "\\":
                if s.startswith("\n", i + 1):
                    i += 2
                    continue
                value.append(s[i + 1 : i + 2])
                quoted = True
                i += 2
            elif c == "'":
                end = s.find("'", i + 1)
                end = n if end < 0 else end
                value.append(s[i + 1 : end])
                quoted = True
                i = end + 1
            elif c == "$" and s.startswith("'", i + 1):
                j = i + 2
                while j < n and s[j] != "'":
                    j += 2 if s[j] == "\\" else 1
                value.append(_ansi_c(s[i + 2 : min(j, n)]))
                quoted = True
                i = j + 1
            elif c == '"':
                i = self._double_quoted(i + 1, value, subs)
                quoted = True
            elif c in "`$" and (j := self._expansion(i, value, subs)) > i:
                i = j
            else:
                j = i + 1
                while j < n and s[j] not in _META and s[j] not in "\\'\"`$":
                    j += 1
                value.append(s[i:j])
                i = j
        self.i = i
        text = "".join(value)
        kind = "arith" if _ARITH.fullmatch(s, start, i) else "word"
        return Word(s[start:i], text, *self.span(start, i), quoted=quoted, subs=tuple(subs), kind=kind)

    def _double_quoted(self, i: int, value: list[str], subs: list[Script]) -> int:
        s, n = self.s, self.n
        while i < n and s[i] != '"':
            c = s[i]
            if c == "\\" and i + 1 < n:
                nxt = s[i + 1]
                value.append(nxt if nxt in '$`"\\' else ("" if nxt == "\n" else c + nxt))
                i += 2
            elif c in "`$" and (j := self._expansion(i, value, subs)) > i:
                i = j
            else:
                value.append(c)
                i += 1
        return i + 1

    def _expansion(self, i: int, value: list[str], subs: list[Script]) -> int:
        """Copy ``$( )``, backticks or ``${ }`` at ``i`` into ``value``; returns the end (``i`` if none)."""
        s = self.s
        if s[i] == "`" or s.startswith("$(", i):
            j, body = self._dollar_or_backtick(i)
            if body is not None:
                subs.append(body)
        elif s.startswith("${", i):
            j = _find_close(s, i + 2, "}")
        else:
            return i
        value.append(s[i:j])
        return j

    def _dollar_or_backtick(self, i: int) -> tuple[int, Script | None]:
        """``$((..))`` (arithmetic, no commands), ``$(..)`` or a backtick substitution."""
        s = self.s
        if s.startswith("$((", i):
            return _find_close(s, i + 3, "))"), None
        if s[i] == "`":
            j = i + 1
            while j < self.n and s[j] != "`":
                j += 2 if s[j] == "\\" else 1
            inner = re.sub(r"\\([`$\\])", r"\1", s[i + 1 : j])
            exact = inner == s[i + 1 : j]
            clamp = self.clamp or (None if exact else self.span(i, j + 1))
            body = (
                Script()
                if self.depth >= _MAX_DEPTH
                else _Parser(inner, self.offset + i + 1, clamp, self.depth + 1).script()
            )
            return min(j + 1, self.n), body
        return self._substitution(i + 2)[::-1]

    def _substitution(self, i: int) -> tuple[Script, int]:
        """Parse ``...)`` from ``i`` (just after ``$(``/``<(``); returns the body and the end."""
        if self.depth >= _MAX_DEPTH:
            return Script(), _find_close(self.s, i, ")")
        sub = _Parser(self.s, self.offset, self.clamp, self.depth + 1)
        sub.i = i
        body = sub.script(stop=")")
        return body, sub.i

    # ---- grammar ---------------------------------------------------------------------------
    def script(self, stop: str | None = None) -> Script:
        out = Script()
        while True:
            self.command_start = True
            tok = self.peek()
            if tok is None:
                break
            if isinstance(tok, _Op):
                if tok.text == ")" and stop == ")":
                    self.next()
                    break
                if tok.text == "(" and self.depth < _MAX_DEPTH:
                    self.next()
                    self.depth += 1
                    body = self.script(stop=")")
                    self.depth -= 1
                    group = Group(body, [], *self.span(tok.start, self.i))
                    self._trailing_redirects(group.redirects)
                    out.items.append(group)
                else:  # a stray operator (leading ``;``, blank line): keep it as a separator
                    self.next()
                    if tok.text != "\n" and out.items and out.ops and out.ops[-1] in ("", "\n"):
                        out.ops[-1] = tok.text
                    continue
            else:
                out.items.append(self.command())
            nxt = self.peek()
            if isinstance(nxt, _Op) and nxt.text not in ("(", ")"):
                self.next()
                out.ops.append(nxt.text)
            else:
                out.ops.append("")
        return out

    def _trailing_redirects(self, into: list[Redirect]) -> None:
        while isinstance(self.peek(), Redirect):
            into.append(self.next())  # type: ignore[arg-type]

    def command(self) -> Command:
        cmd = Command()
        first = True
        while True:
            tok = self.peek()
            if tok is None or isinstance(tok, _Op):
                if isinstance(tok, _Op) and tok.text == "(" and len(cmd.words) == 1 and cmd.kind == "simple":
                    close = _FUNC_PARENS.match(self.s, tok.end)
                    if close:  # ``name() { ...; }``: the body is parsed as the commands that follow
                        self.peeked, self.i = None, close.end()
                        cmd.kind = "funcdef"
                break
            self.next()
            if isinstance(tok, Redirect):
                cmd.redirects.append(tok)
            elif not cmd.words and cmd.kind == "simple" and not tok.quoted and tok.raw in KEYWORDS:
                cmd.keywords.append(tok.raw)
                self.command_start = True
                continue
            elif not cmd.words and cmd.kind == "simple" and tok.raw in HEADERS and not tok.quoted:
                cmd.keywords.append(tok.raw)
                cmd.kind = "header" if tok.raw != "function" else "funcdef"
            elif not cmd.words and cmd.kind == "simple" and _ASSIGNMENT.match(tok.raw):
                cmd.assignments.append(tok)
            elif tok.raw == "[[" and not cmd.words and self.command_start:
                cmd.words.append(tok)
                cmd.words.extend(self._double_bracket())
            else:
                cmd.words.append(tok)
            if first:
                cmd.start = tok.start
                first = False
            cmd.end = tok.end
            self.command_start = False
        if first:
            cmd.start = cmd.end = self.span(self.i, self.i)[0]
        return cmd

    def _double_bracket(self) -> list[Word]:
        """Inside ``[[ ]]`` the operator characters are ordinary words."""
        words: list[Word] = []
        while True:
            self._skip_blank()
            if self.i >= self.n or self.s[self.i] == "\n":
                return words
            if self.s.startswith("]]", self.i):
                self.i += 2
                words.append(Word("]]", "]]", *self.span(self.i - 2, self.i)))
                return words
            before = self.i
            w = self._word(inert_ops=True)
            words.append(w)
            if w.raw == "]]" or self.i == before:
                return words


def _find_close(s: str, i: int, close: str) -> int:
    """Index just past the ``close`` matching an opener before ``i``, skipping quotes; else len."""
    depth, n, opener = 0, len(s), close[0].translate(str.maketrans(")}", "({"))
    while i < n:
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            j = s.find("'", i + 1)
            i = n if j < 0 else j + 1
            continue
        if c == '"':
            j = i + 1
            while j < n and s[j] != '"':
                j += 2 if s[j] == "\\" else 1
            i = j + 1
            continue
        if s.startswith(close, i) and depth == 0:
            return i + len(close)
        if c == opener:
            depth += 1
        elif c == close[0] and depth:
            depth -= 1
        i += 1
    return n


_ANSI = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "a": "\a", "e": "\x1b", "0": "\0"}


def _ansi_c(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ANSI.get(m.group(1), "\\" + m.group(1)), body)


def parse(text: str, *, offset: int = 0, clamp: tuple[int, int] | None = None) -> Script:
    """Parse a command line or script. Never raises; malformed input gives a best-effort tree."""
    return _Parser(text, offset, clamp).script()
