"""The NLC2CMD score under the competition's official rules (IBM/clai, branch ``nlc2cmd``,
``submission-code/``: ``utils/metric_utils.py``, ``evaluate.py`` and the bashlint parser).

The formula is the one in :mod:`bash_ai.nlc2cmd` (u1 = u2 = 1); what differs is how a
command is read. The official parser reads far fewer commands than bash does, and a command it
cannot read has no utilities at all, so every position of it scores -1 (0 when neither side
parses). These rules, each tested in ``tests/test_nlc2cmd_official.py``, reproduce it:

- **Surface rewrites first**, as text: every ``sudo`` is deleted (also inside words), ``'{}'`` and
  ``"{}"`` become ``{}``, ``-I{}``/``-i{}`` become ``-I {}``, a few absolute paths become their
  utility (``/usr/bin/find`` -> ``find``), ``tar xzf`` gets its dash, and a handful of typos of
  ``find`` predicates are fixed.
- **One pipeline only**: ``&&``, ``||``, ``;`` or ``&`` between commands, any redirection or
  heredoc, subshells, groups, loops, functions, ``!``, ``time`` and ``$(( ))`` are unreadable; a
  trailing ``;`` or ``&`` is fine. Quotes and substitutions must be closed.
- **The 148 utilities** of the official grammar only; ``egrep``/``fgrep`` read as ``grep -E``/``-F``.
  Any other first word (``git``, ``./run.sh``, ``/bin/ls``, ``"ls"``) makes the command unreadable.
  ``find``'s predicates are checked too (``find . -foo`` is unreadable); other utilities' flags
  are not (the official grammar, which we do not ship, rejects some of them).
- **Flags**: unquoted words starting with ``-``; combined short flags are split (``-la`` ->
  ``-l``, ``-a``) and stop at the first non-letter (``-n5`` -> ``-n``); a numeric flag
  (``-5``) reads as ``-``; ``--opt=v`` as ``--opt``; ``find``'s predicates stay whole, its
  ``-exec``/``-execdir``/``-ok``/``-okdir`` read as ``-exec::;`` or ``-exec::+`` by terminator, its
  logic operators (``-o``, ``-a``, ``!``, ``-not``, parentheses) are not flags.
- **Nesting**: ``$( )``, backticks and ``<( )`` in an argument, ``find -exec`` bodies, the
  command ``xargs``/``nohup``/``watch`` run, and the quoted command of ``bash -c``/``sh -c``/
  ``su -c``/``ssh HOST 'cmd'`` are utilities of their own, listed after the utility holding them
  (pre-order), and *their flags also count for every utility holding them*. ``xargs`` running a
  command without ``-I`` counts an ``-I``. ``env``'s command is only an argument.
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
    ("- perm", "-perm"),
    (" perm", " -perm"),
)
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


def official_utility_flags(command: str) -> list[tuple[str, frozenset[str]]] | None:
    """The (utility, flags) the official parser reads from ``command``; None when it cannot."""
    text = _rewrite(command.replace("\n", " ").strip())
    if not text or not _closed(text):
        return None
    try:
        top = _script(parse(text), top=True)
    except Unreadable:
        return None
    if not top:
        return None
    return [(u.name.lower(), frozenset(u.all_flags())) for root in top for u in root.preorder()]


def _rewrite(text: str) -> str:
    for old, new in _REWRITES:
        text = text.replace(old, new)
    text = _PRIN.sub(r"-print\1", text)
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


def _script(script: Script, top: bool = False) -> list[_Utility]:
    ops = list(script.ops)
    if ops and ops[-1] in (";", "&"):
        ops[-1] = ""  # one trailing terminator is fine
    if any(op not in ("|", "") for op in ops) or any(op == "" for op in ops[:-1]):
        raise Unreadable("lists and |& are not supported")
    out: list[_Utility] = []
    for item in script.items:
        if isinstance(item, Group):
            raise Unreadable("subshells are not supported")
        out.extend(_command(item))
    return out


def _command(cmd: Command) -> list[_Utility]:
    if cmd.kind != "simple" or cmd.keywords or cmd.redirects:
        raise Unreadable("compound commands, reserved words and redirections are not supported")
    if cmd.assignments:
        holder = _Utility("")
        _nest_substitutions(cmd.assignments[0], holder)
        return holder.nested  # the official parser reads the first assignment only
    if not cmd.words:
        raise Unreadable("empty command")
    return [_simple(cmd.words)]


def _simple(words: Sequence[Word]) -> _Utility:
    head, args = words[0], list(words[1:])
    if head.subs and _substitution_first(head):
        holder = _Utility("")
        _argument(head, holder)
        if len(holder.nested) == 1:
            return holder.nested[0]  # ``$(cmd) args``: the official parser reads the substitution only
    if head.subs or head.raw not in UTILITIES:
        raise Unreadable(f"utility outside the grammar: {head.raw}")
    name = head.raw
    extra: list[str] = []
    if name in ("egrep", "fgrep"):
        extra, name = ["-E" if name == "egrep" else "-F"], "grep"
    util = _Utility(name)
    if name == "find":
        _find(util, args)
    else:
        _options(util, args)
    for flag in extra:
        if flag not in util.flags:
            util.flags.insert(0, flag)
    return util


def _options(util: _Utility, args: list[Word]) -> None:
    name = util.name
    i = 0
    while i < len(args):
        word = args[i]
        if word.value == "--" and not word.quoted:
            for rest in args[i + 1 :]:
                _argument(rest, util)
            return
        if _is_flag(word) and (name not in ONLY_FLAGS or set(word.raw[1:]) <= ONLY_FLAGS[name]):
            split = _split(name, word.raw)
            util.flags.extend(split)
            if name in C_SHELLS and word.raw.endswith("c") and i + 1 < len(args):
                util.nested.extend(_string_command(args[i + 1]))  # bash -c 'cmd'
                i += 2
                continue
            if _takes_argument(name, word.raw, split[-1]) and i + 1 < len(args):
                _argument(args[i + 1], util)
                i += 1
            i += 1
            continue
        if name in ("xargs", "nohup", "watch"):
            quoted_string = word.quoted and len(args) == i + 1
            util.nested.extend(_string_command(word) if quoted_string else [_simple(args[i:])])
            if name == "xargs" and "-I" not in util.flags:
                util.flags.append("-I")
            return
        if name in NO_POSITIONAL:
            raise Unreadable(f"{name} takes no positional argument")
        if name == "env":
            for rest in args[i:]:
                _argument(rest, util)
            return
        if name == "ssh" and word.quoted and i > 0 and not _is_flag(args[i - 1]):
            util.nested.extend(_string_command(word))
        else:
            _argument(word, util)
        i += 1


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


def _find(util: _Utility, args: list[Word]) -> None:
    i = 0
    while i < len(args):
        word = args[i]
        raw = word.raw
        if raw in FIND_UNREADABLE:
            raise Unreadable(f"the official grammar has no find {raw}")
        if raw in FIND_LOGIC or raw in FIND_NOT_FLAGS or not _is_flag(word):
            _argument(word, util)
            i += 1
            continue
        if raw in FIND_EXEC:
            end = i + 1
            while end < len(args) and args[end].value not in (";", "+"):
                end += 1
            if end > i + 1:
                util.nested.append(_simple(args[i + 1 : end]))
            terminator = args[end].value if end < len(args) else ";"
            util.flags.append(f"{raw}::{terminator}")
            i = end + 1
            continue
        if raw in FIND_WORDS or raw in FIND_EXTRA or FIND_NEWER.fullmatch(raw):
            util.flags.append(raw)
            if (raw in FIND_WITH_ARGUMENT or raw not in FIND_WORDS) and i + 1 < len(args):
                _argument(args[i + 1], util)
                i += 1
            i += 1
            continue
        if re.fullmatch(r"-[HLPEXdsx]+", raw):
            util.flags.extend(_split("find", raw))
            i += 1
            continue
        raise Unreadable(f"find has no predicate {raw}")


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


def _argument(word: Word, util: _Utility) -> None:
    """An argument: its substitutions nest, when one comes first in it (``"$x $(pwd)"`` is a
    plain argument; ``$(pwd)/$x`` is unreadable: a parameter after a substitution)."""
    if word.kind == "arith" or "$((" in word.raw:
        raise Unreadable("arithmetic expansion is not supported")
    if not word.subs or not _substitution_first(word):
        return
    if word.kind != "procsub" and "$" in _SUBSTITUTION.sub("", word.raw):
        raise Unreadable("a parameter after a substitution is not supported")
    _nest_substitutions(word, util)


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


def _nest_substitutions(word: Word, util: _Utility) -> None:
    for sub in word.subs:
        util.nested.extend(_script(sub))


def _string_command(word: Word) -> list[_Utility]:
    """A quoted command string; one with an unquoted word or a ``$`` in it is unreadable."""
    if not word.quoted or "$" in word.value:
        raise Unreadable("a command string must be quoted and free of expansions")
    return _script(parse(word.value))


def official_score(predicted: str, reference: str, confidence: float = 1.0) -> float:
    """One prediction's official score in [-1, 1] (scaled by ``confidence``)."""
    return parsed_score(official_utility_flags(predicted) or [], official_utility_flags(reference) or [], confidence)


def official_topk(predictions: Sequence[str], reference: str, confidences: Sequence[float] | None = None) -> float:
    """One example over its top-k: empty predictions skipped; max if any positive, else the mean."""
    if confidences is None:
        confidences = [1.0] * len(predictions)
    if len(confidences) != len(predictions):
        raise UsageError("official_topk: one confidence per prediction")
    for c in confidences:
        if not 0.0 <= c <= 1.0:
            raise UsageError(f"official_topk: confidences lie in [0, 1] (got {c})")
    ref = official_utility_flags(reference) or []
    pairs = zip(predictions, confidences, strict=True)
    scores = [parsed_score(official_utility_flags(p) or [], ref, c) for p, c in pairs if p]
    if not scores:
        return -1.0
    return max(scores) if any(s > 0 for s in scores) else sum(scores) / len(scores)
