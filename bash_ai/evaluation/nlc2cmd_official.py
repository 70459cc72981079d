"""The NLC2CMD score under the competition's official rules (IBM/clai, branch ``nlc2cmd``,
``submission-code/``: ``utils/metric_utils.py``, ``evaluate.py`` and the bashlint parser).

The formula is the one in :mod:`bash_ai.nlc2cmd` (u1 = u2 = 1); what differs is how a
command is read. The official parser reads far fewer commands than bash does, and a command it
cannot read has no utilities at all, so every position of it scores -1 (0 when neither side
parses). The official parser checks every utility's words against its synopsis in the official
grammar file; given the user's copy of that file (``bash-ai eval --official-grammar``, read by
:mod:`bash_ai.evaluation.official_grammar`) we do the same, and match the official scorer on
99.6% of nl2bash-test examples (docs/benchmarks.md). Without it our own tables stand in for the
synopses (about 92%). These rules, each tested in ``tests/test_nlc2cmd_official.py`` (and the
grammar's in ``tests/test_official_grammar.py``), reproduce it:

- **Surface rewrites first**, as text: every ``sudo`` is deleted (also inside words), ``'{}'`` and
  ``"{}"`` become ``{}``, ``-I{}``/``-i{}`` become ``-I {}``, a few absolute paths become their
  utility (``/usr/bin/find`` -> ``find``), ``tar xzf`` gets its dash, a prompt sign before the
  command (``$ ls``) is dropped, and a handful of typos of ``find`` predicates are fixed.
- **One pipeline only** (``|`` or ``|&``): ``&&``, ``||``, ``;`` or ``&`` between commands, any
  redirection or heredoc, subshells, groups, loops, functions, ``!``, ``time`` and ``$(( ))`` are
  unreadable; a trailing ``;`` or ``&`` is fine. Quotes and substitutions must be closed.
- **The 148 utilities** of the official grammar only; ``egrep``/``fgrep`` read as ``grep -E``/``-F``.
  Any other first word (``git``, ``./run.sh``, ``/bin/ls``, ``"ls"``) makes the command unreadable.
  Without the grammar, ``find``'s predicates are checked (``find . -foo`` is unreadable) and
  other utilities' flags are not; with it, as the synopsis says (see ``_Reader.by_grammar``).
- **Flags**: unquoted words starting with ``-``; combined short flags are split (``-la`` ->
  ``-l``, ``-a``) and stop at the first non-letter (``-n5`` -> ``-n``); a numeric flag
  (``-5``) reads as ``-``; ``--opt=v`` as ``--opt``; ``find``'s predicates stay whole, its
  ``-exec``/``-execdir``/``-ok``/``-okdir`` read as ``-exec::;`` or ``-exec::+`` by terminator, its
  logic operators (``-o``, ``-a``, ``!``, ``-not``, parentheses) are not flags.
- **Nesting**: ``$( )``, backticks and ``<( )`` in an argument, ``find -exec`` bodies, the
  command ``xargs``/``nohup``/``watch`` run, and the quoted command of ``bash -c``/``sh -c``/
  ``su -c``/``ssh HOST 'cmd'`` are utilities of their own, listed after the utility holding them
  (pre-order), and *their flags also count for every utility holding them*. A quoted command
  string must hold one simple command free of expansions. ``xargs`` running a command without
  ``-I`` counts an ``-I``. ``env``'s command is only an argument.
- **Assignments**: a command starting with one is read as that assignment only (``x=$(ls -l)``
  counts ``ls``; ``X=1 ls -l`` counts nothing and is unreadable).

Top-k: empty predictions are skipped; the best score if any is positive, else the mean; -1 when
no prediction is left.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bash_ai.errors import UsageError
from bash_ai.evaluation.official_grammar import Grammar, Slot, Synopsis
from bash_ai.nlc2cmd import FIND_WITH_ARGUMENT, FIND_WORDS, parsed_score
from bash_ai.safety.shell import Command, Group, Script, Word, parse


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# The utilities the official grammar knows (148, the file's ``]`` entry aside).
UTILITIES = _words(
    """apropos awk basename bash bg bind bunzip2 bzcat bzip2 cal cat cd chgrp chmod chown clear column
    comm compress cp cpio crontab curl cut date df diff dig dirname dmesg du echo egrep env false fg
    fgrep file find finddup finger fold free fuser gcc gnuplot grep groups gunzip gzip head history
    hostname ifconfig info jobs join journalctl kill less ln ls lsb_release lscpu lsof man md5 md5sum
    mkdir mktemp more mount mv nano netstat nl nohup od paste pdfgrep pdftotext ping popd pr printenv
    printf ps pstree pushd pwd read readlink rename rev rm rmdir rsync scp sed seq set sh shopt shred
    shuf shutdown sleep sort source split ssh ssh-keygen stat su sudo tac tail tar tee test time tmux
    top touch tr tree true umask uname uncompress uniq usb-devices vim w watch wc wget whereis which
    who whoami xargs xdg-open yes zcat zip zless"""
)
# find's BSD-only predicates the official grammar also knows, beside GNU's (FIND_WORDS).
FIND_EXTRA = _words("-Bmin -Bnewer -Btime -acl -flags -xattr -xattrname -mnewer -cpio -ncpio")
FIND_NEWER = re.compile(r"-newer[aBcmt][aBcmt]")
FIND_LOGIC = _words("-o -a -or -and -not ! , ( ) \\( \\) -\\( -\\)")
# find words the official grammar reads as plain arguments, not flags.
FIND_NOT_FLAGS = _words("-prune -executable -readable -writable -quit -context -used -nowarn -warn")
FIND_UNREADABLE = _words("-files0-from -fls")
FIND_EXEC = _words("-exec -execdir -ok -okdir")
# Options whose next word is their argument, for the utilities that run a command after them.
XARGS_WITH_ARGUMENT = _words("-I -d -E -L -n -P -s -a --arg-file --delimiter --max-args --max-procs --max-chars")
WATCH_WITH_ARGUMENT = _words("-n --interval -d -x")
C_SHELLS = frozenset({"bash", "sh", "su"})
# Utilities whose only flags are these: any other dash word is a plain argument.
ONLY_FLAGS = {"echo": frozenset({"n", "e", "E"})}
# Utilities that take no positional argument at all: one makes the command unreadable.
NO_POSITIONAL = frozenset({"ps", "tmux"})
# A numeric flag of these reads as ``-`` (their synopsis has ``-NUM`` / ``-SIGNAL``).
DASH_NUMBER = frozenset({"head", "tail", "kill"})
# Short flags whose argument may be attached (``-oremount``), so splitting stops after them. Our
# own table of the options' usual meaning, for the utilities where it comes up.
WITH_ARGUMENT = {
    "awk": "Fvf",
    "column": "cst",
    "cut": "bcdf",
    "date": "dfr",
    "df": "Btx",
    "diff": "cCuUWFxXIS",
    "du": "dB",
    "fold": "w",
    "grep": "efmABC",
    "head": "nc",
    "join": "aeotj12",
    "nl": "bdfhilnsvw",
    "od": "AjNStw",
    "mount": "otLUO",
    "ping": "ciWw",
    "ps": "opuUtCG",
    "read": "adnptu",
    "sed": "efil",
    "seq": "fs",
    "shuf": "nie",
    "sort": "ktoST",
    "split": "lbnaC",
    "ssh": "pilovLRDFE",
    "tail": "nc",
    "tar": "fCTXb",
    "top": "dnpuUs",
    "touch": "dtr",
    "uniq": "fsw",
    "xargs": "IdELnPsaile",
}
# Text rewrites made before parsing (old, new).
_REWRITES = (
    ("sudo", ""),
    ("/usr/bin/find", "find"),
    ("/bin/find", "find"),
    ("/usr/bin/grep", "grep"),
    ("/bin/rm", "rm"),
    ("/bin/mv", "mv"),
    ("/bin/echo", "echo"),
    ("'{}'", "{}"),
    ('"{}"', "{}"),
    ("-i{}", "-I {}"),
    ("-i%", "-I %"),
    ("-I{}", "-I {}"),
    (" [] ", " {} "),
    ("-L.", "-L"),
    (" ( ", " \\( "),
    (" ) ", " \\) "),
    ("-\\(", "\\("),
    ("-\\)", "\\)"),
    ('"\\)', " \\)"),
    ("\\(-", "\\( -"),
    ("e\\)", "e \\)"),
    ("-\\!", "!"),
    ("\u2014 ", "-"),
    ("\u2013", "-"),
    ("\u2014", "-"),
    ("\u201c", '"'),
    ("\u201d", '"'),
    ("\u2018", "'"),
    ("\u2019", "'"),
    (" exec sed ", " -exec sed "),
    (" xargs -iname ", " xargs "),
    ("-mitime", "-mtime"),
    ("-dev", "-xdev"),
    ("-regex-type", "-regextype"),
    (" -chour +1 ", " -cmin 60 "),
    (" -target-directory ", " --target-directory="),
    ("- perm", "-perm"),
    (" perm", " -perm"),
    ("'-rd\\n' ", ""),
)
# A prompt sign before the command is dropped ("$ ls", "# ls", "$find").
_PROMPT = re.compile(r"^(?:[$#] |[$#](?=find ))")
_TAR_BARE = re.compile(r"(^| )tar (?=\w)")
_PRIN = re.compile(r"-prin($| )")


class Unreadable(Exception):
    """The official parser would give up on this command."""


@dataclass
class _Utility:
    name: str
    flags: list[str] = field(default_factory=list)
    nested: list[_Utility] = field(default_factory=list)

    def all_flags(self) -> set[str]:
        out = set(self.flags)
        for child in self.nested:
            out |= child.all_flags()
        return out

    def preorder(self) -> list[_Utility]:
        out = [self]
        for child in self.nested:
            out.extend(child.preorder())
        return out


def official_utility_flags(command: str, grammar: Grammar | None = None) -> list[tuple[str, frozenset[str]]] | None:
    """The (utility, flags) the official parser reads from ``command``; None when it cannot.
    With ``grammar`` (the user's copy of the official one) every utility's words are checked
    against its synopsis, as the official parser does; without it, by our own tables."""
    text = _rewrite(command.replace("\n", " ").strip())
    if not text or not _closed(text):
        return None
    try:
        top = _Reader(grammar).script(parse(text))
    except Unreadable:
        return None
    if not top:
        return None
    return [(u.name.lower(), frozenset(u.all_flags())) for root in top for u in root.preorder()]


def _rewrite(text: str) -> str:
    for old, new in _REWRITES:
        text = text.replace(old, new)
    text = _PROMPT.sub("", _PRIN.sub(r"-print\1", text))
    return _TAR_BARE.sub(r"\1tar -", text).strip()


def _closed(text: str) -> bool:
    """Quotes, backticks and ``$( )`` all closed (the official lexer rejects the rest)."""
    depth, quote, i = 0, "", 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and quote != "'":
            i += 2
            continue
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
        elif text.startswith("$(", i):
            depth += 1
            i += 1
        elif ch == ")" and depth:
            depth -= 1
        i += 1
    return not quote and depth == 0


@dataclass
class _Reader:
    """Reads commands as the official parser does, by ``grammar`` when one is given."""

    grammar: Grammar | None = None

    def script(self, script: Script) -> list[_Utility]:
        ops = list(script.ops)
        if ops and ops[-1] in (";", "&"):
            ops[-1] = ""  # one trailing terminator is fine
        if any(op not in ("|", "|&", "") for op in ops) or any(op == "" for op in ops[:-1]):
            raise Unreadable("lists are not supported")
        out: list[_Utility] = []
        for item in script.items:
            if isinstance(item, Group):
                raise Unreadable("subshells are not supported")
            out.extend(self.command(item))
        return out

    def command(self, cmd: Command) -> list[_Utility]:
        if cmd.kind != "simple" or cmd.keywords or cmd.redirects:
            raise Unreadable("compound commands, reserved words and redirections are not supported")
        if cmd.assignments:
            holder = _Utility("")
            self.nest_substitutions(cmd.assignments[0], holder)
            return holder.nested  # the official parser reads the first assignment only
        if not cmd.words:
            raise Unreadable("empty command")
        return self.simple(cmd.words)

    def simple(self, words: Sequence[Word]) -> list[_Utility]:
        """The utilities one simple command gives: one, or (its head an expansion) what that holds."""
        head, args = words[0], list(words[1:])
        if self.grammar and _first_part(head) in ("parameter", "tilde"):
            return []  # ``$SHELL -c ...``: an argument to the official parser, which then stops reading
        if head.subs and _substitution_first(head):
            holder = _Utility("")
            self.argument(head, holder)
            if len(holder.nested) == 1:
                return holder.nested  # ``$(cmd) args``: the official parser reads the substitution only
        known = self.grammar.utilities if self.grammar else UTILITIES
        if head.subs or head.raw not in known:
            raise Unreadable(f"utility outside the grammar: {head.raw}")
        name = head.raw
        extra: tuple[str, ...] = ()
        if name in ("egrep", "fgrep"):
            extra, name = (("-E", "--extended-regexp") if name == "egrep" else ("-F", "--fixed-strings")), "grep"
        util = _Utility(name)
        if self.grammar:
            self.by_grammar(util, self.grammar.utilities[head.raw], args)
        elif name == "find":
            self.find(util, args)
        else:
            self.options(util, args)
        if extra and not set(extra) & set(util.flags):
            util.flags.insert(0, extra[0])
        return [util]

    def by_grammar(self, util: _Utility, synopsis: Synopsis, args: list[Word]) -> None:
        """Match the words to the synopsis as the official parser does: each word goes to the first
        place open for it (the flags, then the open argument places in order); a flag that takes an
        argument leaves only that argument's place open; a word no place takes, or a flag argument
        still missing at the end, makes the command unreadable."""
        filled: set[int] = set()
        flags_allowed = True
        opened: list[tuple[int, int]] = []  # find: where each unclosed "(" stood in the flags and nested

        def utility_places() -> list[tuple]:
            places: list[tuple] = [("flags",)] if flags_allowed else []
            places += [
                ("positional", k) for k, slot in enumerate(synopsis.positional) if k not in filled or slot.repeats
            ]
            return [*places, ("end",)]

        places = utility_places()
        i = 0
        while i < len(args):
            word = args[i]
            if word.value == "--" and word.kind == "word":
                places = [p for p in places if p[0] != "flags"]  # for the next word only
                i += 1
                continue
            for place in places:
                if place[0] == "flags":
                    if not _flag_candidate(word):
                        continue
                    if word.value in _LOGIC_WORDS or (util.name == "find" and word.value in _FIND_OPERATORS):
                        if word.value in ("(", "\\("):
                            opened.append((len(util.flags), len(util.nested)))
                        elif word.value in (")", "\\)") and opened:
                            opened.pop()
                        i += 1  # an operator node, not a flag
                        break
                    read = _read_flag(synopsis.flags, word.raw)
                    if read is None:
                        if word.raw[:3] == "--=":
                            flags_allowed = False  # the official parser's reading of "--=..."
                        continue
                    util.flags.extend(name for name, _ in read)
                    name, attached = read[-1]
                    if attached is _OPEN:
                        places = [("flag argument", name, 0)]
                    i += 1
                    break
                if place[0] == "end":
                    continue
                slot = (
                    synopsis.flags[place[1]][place[2]] if place[0] == "flag argument" else synopsis.positional[place[1]]
                )
                step = self.fill(util, slot, args, i)
                if step is None:
                    continue  # an unquoted plain word is no command string: the next place may take it
                i, done = step
                if done and place[0] == "flag argument":
                    chain = synopsis.flags[place[1]]
                    places = (
                        [("flag argument", place[1], place[2] + 1)] if place[2] + 1 < len(chain) else utility_places()
                    )
                elif done:
                    if slot.kind == "value":
                        filled.add(place[1])
                    places = utility_places()
                break
            else:
                raise Unreadable(f"no place in the {util.name} synopsis for {word.raw}")
        if ("end",) not in places:
            raise Unreadable(f"{util.name}: a flag is missing its argument")
        if opened:  # the official parser loses everything after a "(" left open
            del util.flags[opened[0][0] :], util.nested[opened[0][1] :]
        if util.name == "xargs":
            self.xargs_replace(util)

    def fill(self, util: _Utility, slot: Slot, args: list[Word], i: int) -> tuple[int, bool] | None:
        """Give ``args[i:]`` to an argument place. Returns where reading goes on and whether the
        place counts as given (a command string with expansions nests them but does not), or
        None when the place does not take the word."""
        word = args[i]
        plain = not _first_part(word)
        if slot.kind == "value":
            if not plain:
                self.argument(word, util)
            return i + 1, True
        if slot.kind == "command":
            if not plain:
                self.argument(word, util)
                return i + 1, False
            if not (len(word.raw) > 1 and word.raw[0] in "'\"" and word.raw[-1] in "'\""):
                return None
            util.nested.extend(self.string_command(word))
            return i + 1, True
        if slot.kind == "rest":
            util.nested.extend(self.simple(args[i:]))
            return len(args), True
        return self.exec_body(util, args, i, slot.stops), True

    def exec_body(self, util: _Utility, args: list[Word], start: int, stops: Sequence[str]) -> int:
        """A ``find -exec`` body from ``args[start]`` up to a stop word: its utilities nest, and the
        flag just read (the last of ``util.flags``) gets ``::`` and the stop (``;`` when none
        comes). Returns where reading goes on."""
        end = start
        while end < len(args) and args[end].value not in stops:
            end += 1
        if end > start:
            util.nested.extend(self.simple(args[start:end]))
        util.flags[-1] += "::" + (args[end].value if end < len(args) else ";")
        return end + 1

    @staticmethod
    def xargs_replace(util: _Utility) -> None:
        """xargs running a command without ``-I`` counts one (the official parser adds ``-I {}``)."""
        if "-I" not in util.flags and util.nested:
            util.flags.append("-I")

    def options(self, util: _Utility, args: list[Word]) -> None:
        name = util.name
        i = 0
        while i < len(args):
            word = args[i]
            if word.value == "--" and not word.quoted:
                for rest in args[i + 1 :]:
                    self.argument(rest, util)
                return
            if _is_flag(word) and (name not in ONLY_FLAGS or set(word.raw[1:]) <= ONLY_FLAGS[name]):
                split = _split(name, word.raw)
                util.flags.extend(split)
                if name in C_SHELLS and word.raw.endswith("c") and i + 1 < len(args):
                    util.nested.extend(self.string_command(args[i + 1]))  # bash -c 'cmd'
                    i += 2
                    continue
                if _takes_argument(name, word.raw, split[-1]) and i + 1 < len(args):
                    self.argument(args[i + 1], util)
                    i += 1
                i += 1
                continue
            if name in ("xargs", "nohup", "watch"):
                quoted_string = word.quoted and len(args) == i + 1
                util.nested.extend(self.string_command(word) if quoted_string else self.simple(args[i:]))
                if name == "xargs":
                    self.xargs_replace(util)
                return
            if name in NO_POSITIONAL:
                raise Unreadable(f"{name} takes no positional argument")
            if name == "env":
                for rest in args[i:]:
                    self.argument(rest, util)
                return
            if name == "ssh" and word.quoted and i > 0 and not _is_flag(args[i - 1]):
                util.nested.extend(self.string_command(word))
            else:
                self.argument(word, util)
            i += 1

    def find(self, util: _Utility, args: list[Word]) -> None:
        i = 0
        while i < len(args):
            word = args[i]
            raw = word.raw
            if raw in FIND_UNREADABLE:
                raise Unreadable(f"the official grammar has no find {raw}")
            if raw in FIND_LOGIC or raw in FIND_NOT_FLAGS or not _is_flag(word):
                self.argument(word, util)
                i += 1
                continue
            if raw in FIND_EXEC:
                util.flags.append(raw)
                i = self.exec_body(util, args, i + 1, (";", "+"))
                continue
            if raw in FIND_WORDS or raw in FIND_EXTRA or FIND_NEWER.fullmatch(raw):
                util.flags.append(raw)
                if (raw in FIND_WITH_ARGUMENT or raw not in FIND_WORDS) and i + 1 < len(args):
                    self.argument(args[i + 1], util)
                    i += 1
                i += 1
                continue
            if re.fullmatch(r"-[HLPEXdsx]+", raw):
                util.flags.extend(_split("find", raw))
                i += 1
                continue
            raise Unreadable(f"find has no predicate {raw}")

    def argument(self, word: Word, util: _Utility) -> None:
        """An argument: its substitutions nest, when one comes first in it (``"$x $(pwd)"`` is a
        plain argument; ``$(pwd)/$x`` is unreadable: a parameter after a substitution)."""
        if word.kind == "arith" or "$((" in word.raw:
            raise Unreadable("arithmetic expansion is not supported")
        if not word.subs or not _substitution_first(word):
            return
        if word.kind != "procsub" and "$" in _SUBSTITUTION.sub("", word.raw):
            raise Unreadable("a parameter after a substitution is not supported")
        self.nest_substitutions(word, util)

    def nest_substitutions(self, word: Word, util: _Utility) -> None:
        for sub in word.subs:
            util.nested.extend(self.script(sub))

    def string_command(self, word: Word) -> list[_Utility]:
        """A quoted command string. The official parser reads one simple command in it, free of
        expansions (``$``, backticks, a leading ``~``): a pipeline, a list or an expansion in it
        makes the command unreadable."""
        if not word.quoted or "$" in word.value or "`" in word.value:
            raise Unreadable("a command string must be quoted and free of expansions")
        inner = parse(word.value)
        if len(inner.items) != 1 or any(
            w.raw.startswith("~") for c in inner.items if isinstance(c, Command) for w in c.words
        ):
            raise Unreadable("a command string must be one simple command")
        return self.script(inner)


_OPEN = object()  # a flag whose argument is the next word
_LOGIC_WORDS = frozenset({"-not", "-prune", "-and", "-or"})  # operators for the official parser, after any utility
_FIND_OPERATORS = frozenset({"!", "-o", "-a", ",", "(", ")", "\\(", "\\)"})  # and after find


def _read_flag(flags: dict[str, tuple[Slot, ...]], token: str) -> list[tuple[str, object]] | None:
    """The flags one word gives, with an attached argument (a string), ``_OPEN`` (the next word
    is the argument) or None; None when the word is no flag of the synopsis but may be an
    argument. Raises Unreadable for a flag the synopsis does not have."""
    if token.startswith("--"):
        name, _, value = token.partition("=")
        if name in flags:
            if flags[name]:
                return [(name, _attached(flags[name], value) if value else _OPEN)]
            if value:
                raise Unreadable(f"{name} takes no value")
            return [(name, None)]
        if name == "--":
            return None
        raise Unreadable(f"unknown flag {name}")
    if token in flags:
        slots = flags[token]
        return [(token, _OPEN if slots and not slots[0].attached_only else None)]
    head = token[:2]
    if head in flags:
        if flags[head]:
            return [(head, _attached(flags[head], token[2:]))]  # -n5, -oremount
        out: list[tuple[str, object]] = [(head, None)]
        for j in range(2, len(token)):  # -la: combined flags, up to one that takes the rest
            flag = "-" + token[j]
            if flag not in flags:
                raise Unreadable(f"unknown flag {flag} in {token}")
            if flags[flag] and j < len(token) - 1:
                out.append((flag, _attached(flags[flag], token[j + 1 :])))
                break
            out.append((flag, None))
        return out
    for sign in "-+":
        if head.startswith(sign) and flags.get(sign):
            return [(sign, _attached(flags[sign], token[1:]))]  # head -5, sort +1
    return None


def _attached(slots: tuple[Slot, ...], value: str) -> str:
    """A value written onto its flag; the official parser fails on one given to a command place
    (``--rsh="ssh -p 22"``, ``-e'ssh'``)."""
    if slots[0].kind != "value":
        raise Unreadable("a command attached to its flag")
    return value


def _first_part(word: Word) -> str:
    """The kind of the word's first expansion, as the official lexer sees it ("" when it has
    none): "parameter" ($x, ${x}, $$), "command" ($( ), backticks, <( )), "tilde" (a leading ~)."""
    if word.kind != "word":
        return "command"
    raw = word.raw
    if raw.startswith("~"):
        return "tilde"
    quote, i = "", 0
    while i < len(raw):
        ch = raw[i]
        if quote == "'":
            quote = "" if ch == "'" else quote
        elif ch == "\\":
            i += 1  # the next character is literal
        elif ch == "'" and not quote:
            quote = "'"
        elif ch == '"':
            quote = "" if quote else '"'
        elif ch == "`":
            return "command"
        elif ch == "$" and i + 1 < len(raw):
            nxt = raw[i + 1]
            if nxt == "(":
                return "command"
            if nxt.isalnum() or nxt in "_{@*#?$!-":
                return "parameter"
        i += 1
    return ""


def _flag_candidate(word: Word) -> bool:
    """May the word be a flag? A plain word, or one starting with ``-`` whose first expansion is a parameter."""
    part = _first_part(word)
    return not part or (word.value.startswith("-") and part == "parameter")


def _takes_argument(utility: str, flag: str, last: str) -> bool:
    """Is the next word ``flag``'s argument (``cut -f -20``, ``xargs -n 1 cmd``)? ``last``: the
    last flag :func:`_split` read from it."""
    if utility == "xargs":
        return flag in XARGS_WITH_ARGUMENT
    if utility == "watch":
        return flag in WATCH_WITH_ARGUMENT
    if flag.startswith("--"):
        return False
    return len(last) == 2 and last[1] in WITH_ARGUMENT.get(utility, "") and flag.endswith(last[1])


def _is_flag(word: Word) -> bool:
    return word.raw.startswith("-") and len(word.raw) > 1 and word.kind == "word" and not word.subs


def _split(utility: str, raw: str) -> list[str]:
    """The flags one word holds: ``-la`` -> ``-l -a``; ``-n5``, ``-ffile`` -> the flag only."""
    if raw.startswith("--"):
        return [raw.split("=", 1)[0]]
    if utility in DASH_NUMBER and (raw[1].isdigit() or (utility == "kill" and raw[1:].isupper())):
        return ["-"]  # head -5, kill -9, kill -TERM
    out = []
    takes = WITH_ARGUMENT.get(utility, "")
    for ch in raw[1:]:
        if not ch.isalnum():
            break  # -t,: the rest is the argument
        out.append("-" + ch)
        if ch in takes:
            break  # -oremount,rw / -ibak: the rest is the argument
    return out or [raw]


_SUBSTITUTION = re.compile(r"\$\((?:[^()]|\([^()]*\))*\)|`[^`]*`")  # $( ) one paren level deep, backticks


def _substitution_first(word: Word) -> bool:
    """Is the word's first expansion a command substitution (``$( )``, backticks, ``<( )``)?"""
    if word.kind == "procsub":
        return True
    quote = ""
    raw = word.raw
    for i, ch in enumerate(raw):
        if quote == "'":
            quote = "" if ch == "'" else quote
            continue
        if ch == "'" and not quote:
            quote = "'"
        elif ch == '"':
            quote = "" if quote == '"' else '"'
        elif ch == "`":
            return True
        elif ch == "$":
            return raw.startswith("$(", i)
    return False


def official_score(predicted: str, reference: str, confidence: float = 1.0, grammar: Grammar | None = None) -> float:
    """One prediction's official score in [-1, 1] (scaled by ``confidence``)."""
    return parsed_score(
        official_utility_flags(predicted, grammar) or [], official_utility_flags(reference, grammar) or [], confidence
    )


def official_topk(
    predictions: Sequence[str],
    reference: str,
    confidences: Sequence[float] | None = None,
    grammar: Grammar | None = None,
) -> float:
    """One example over its top-k: empty predictions skipped; max if any positive, else the mean."""
    if confidences is None:
        confidences = [1.0] * len(predictions)
    if len(confidences) != len(predictions):
        raise UsageError("official_topk: one confidence per prediction")
    for c in confidences:
        if not 0.0 <= c <= 1.0:
            raise UsageError(f"official_topk: confidences lie in [0, 1] (got {c})")
    ref = official_utility_flags(reference, grammar) or []
    pairs = zip(predictions, confidences, strict=True)
    scores = [parsed_score(official_utility_flags(p, grammar) or [], ref, c) for p, c in pairs if p]
    if not scores:
        return -1.0
    return max(scores) if any(s > 0 for s in scores) else sum(scores) / len(scores)
