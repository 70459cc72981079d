"""Does a command destroy a file that the request only asks to read?

Asked "show the first 10 lines of notes.txt", an answer such as ``yes | head -n10 > notes.txt``
overwrites the file the user wanted to see. The danger rules (:mod:`bash_ai.safety.danger`) judge a
command alone, and truncating a file is ordinary bash; what makes it wrong is the request. So
:func:`reads_only` reads the request and :func:`harmed_files` the command:

- ``reads_only``: the request must only ask to read. Its first word is a reading verb ("show", "count", "find"),
  and no word asks for a change ("save", "replace", "delete", "sort ... into", "compress"); and
- ``harmed_files``: the command overwrites, deletes, moves or edits in place a file the request names
  (``notes.txt``): a ``>`` / ``>|`` / ``&>`` redirect to it (appending with ``>>`` is left alone),
  ``rm`` / ``shred`` / ``unlink`` / ``truncate`` / ``mv`` naming it, ``tee`` (without ``-a``),
  ``cp`` or ``dd of=`` writing it, or ``sed -i`` / ``perl -i`` editing it; or
- ``destroyed_files``: whatever files it names, the command deletes, moves or edits them in place
  (``rm``, ``rmdir``, ``shred``, ``unlink``, ``truncate``, ``mv``, ``sed -i``, ``perl -i``, ``find
  -delete``). Asked "list all files including hidden ones", ``mv /path/subfolder/{.,}* /path/`` (a
  retrieved answer to "move all files including hidden files ...") changes files the user only
  wanted to see, named or not. Writing a new file (``tee out.txt``, ``cp a b``) is left alone here.

The answer path puts such a candidate after the others (``bash_ai.answer.propose_checked``), and so
one that runs a file the request only asks to read (:func:`run_files`: ``./script.sh`` for "show line
numbers in script.sh"), and one that runs as another user (``su``, ``runuser``: :func:`switches_user`) where the request does not
ask for that (:func:`asks_for_another_user`): "show line numbers in script.sh" once got
``su - jetty script.sh`` first. So does one that only creates (:func:`only_creates`: ``mkdir logs``
for "compress the logs directory") where the request asks to create nothing (:func:`asks_to_create`),
or nothing of that kind (:func:`creates_unasked`: ``mkdir ${archive%.tar*}`` for "create a tar
archive of the src directory"),
and one that deletes everything in the working directory (:func:`sweeping_deletes`: ``rm -rf *``),
or deletes anything at all (:func:`deletes`: ``find . -type f -mtime +7 -delete``), where the
request names what to act on ("delete the directory build and everything in it", "delete all .tmp
files older than 7 days") and the command names none of it. Three misreadings of the request go after the others too: a place named
after the kind of files asked for (:func:`kinds_as_places`: ``find large`` for "find large files";
:func:`file_kinds`), and a command that stops nothing (:func:`stops_nothing`: ``jobs -p 1234``)
where the request asks to stop a program (:func:`asks_to_stop`: "kill the process with pid 1234"),
and a command that only sets variables (:func:`shows_nothing`: ``ip=$(hostname -I)``) where the request
only asks to read ("show my ip addresses"). So do a program of a domain the request says no word of
(:func:`other_domain`: ``docker system df`` for "show disk usage"), an undoing of what the request
sets up, an archive taken apart included (:func:`undoes`: ``unzip archive.zip -d docs`` for "zip the
docs directory"), and a change of accounts, services, packages, owners or mounts where the request
only reads (:func:`changes_unasked`: ``sudo useradd carol`` for "show uid and groups of user carol").
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from bash_ai.prompt import is_short
from bash_ai.safety.commands import (
    counted_names,
    file_redirects,
    find_starts,
    invocations,
    tar_creates,
    wasted_stages,
)
from bash_ai.safety.danger import normalize_path, operands_of
from bash_ai.safety.shell import Command, Script, parse

# The first word of a request that only reads (after "please", "how do I" and the like).
READ_VERBS = frozenset(
    re.findall(
        r"\w+",
        """show print display list count find search locate grep view see read cat look check tell
        compare calculate compute get give what which where who how is are does output""",
    )
)
_LEAD = frozenset(re.findall(r"\w+", "please can could would you i we do to the how just"))
# Any of these word stems asks for a change, whatever the first word is.
_CHANGE = re.compile(
    r"\b(?:writ|sav|overwrit|replac|chang|edit|modif|delet|remov|eras|clear|empt|truncat|mov|renam"
    r"|append|add(?!ress)|insert|put|stor|redirect|creat|mak|convert|sort|compress|encrypt|decrypt|fix|updat"
    r"|set|strip|split|join|merg|wip|shred|destroy|zero|into|in[- ]place|back ?up|cop(?:y|ies)|substitut|purg"
    r"|rid\s+of)",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z]+")
_TRUNCATE = re.compile(r"\d*(?:>|>\||&>)")  # redirects that empty their target first
_REMOVERS = frozenset({"rm", "shred", "unlink", "truncate", "mv"})
_IN_PLACE = {"sed": re.compile(r"-[nEsruz]*i"), "perl": re.compile(r"-[nplaws0-9]*i")}
# Compressors that replace each file they are given by its (de)compressed copy, unless told to keep
# it (``-k``), to write to standard output (``-c``) or only to list or test it (``-l``, ``-t``):
# ``gunzip notes.txt.gz`` leaves no notes.txt.gz.
_REPLACERS = frozenset({"gzip", "gunzip", "pigz", "unpigz", "bzip2", "bunzip2", "xz", "unxz", "lzma", "unlzma"})
_KEEPS = frozenset({"--keep", "--stdout", "--to-stdout", "--list", "--test"})


# A request that asks to act as another user (or as root).
_ANOTHER_USER = re.compile(
    r"\b(?:su|sudo|root|superuser|another user|other user|as (?:the )?user|as (?:user )?\$?\w+ user"
    r"|switch(?:es|ing)? (?:to )?(?:the |another )?user|log(?:ging)? ?in as)\b",
    re.IGNORECASE,
)
_SWITCHERS = frozenset({"su", "runuser"})
_MAY_SWITCH = re.compile(r"\b(?:su|runuser)\b")


@functools.lru_cache(maxsize=256)
def _parsed(command: str) -> Script | None:
    """``command`` parsed, or None for text the parser refuses (broken model text). Cached: the
    ``unasked`` rules each read every candidate of a pool, and none changes what it is given."""
    try:
        return parse(command)
    except Exception:  # noqa: BLE001 - the parser's errors on broken model text
        return None


def _programs_where(command: str, may: re.Pattern[str], runs: Callable[[str, list[str]], bool]) -> list[str]:
    """The programs of ``command``, in order and once each, whose run (name, arguments) ``runs``
    holds for; only a command ``may`` finds a word of is parsed (most are not); empty for
    unparseable text."""
    script = _parsed(command) if may.search(command) else None
    if script is None:
        return []
    return list(dict.fromkeys(inv.utility for inv in invocations(script) if runs(inv.utility, list(inv.values))))


def _operands_after(values: Sequence[str], valued: frozenset[str]) -> list[str]:
    """The words of ``values`` that are neither options nor the value of one of the ``valued``
    options before them (``mount -t nfs4``: ``nfs4`` is ``-t``'s)."""
    return [v for i, v in enumerate(values) if not v.startswith("-") and (i == 0 or values[i - 1] not in valued)]


def asks_for_another_user(request: str) -> bool:
    """True when ``request`` asks to act as another user or as root ("run it as user postgres")."""
    return _ANOTHER_USER.search(request) is not None


def switches_user(command: str) -> bool:
    """True when ``command`` runs something as another user (``su``, ``runuser``, also after
    ``sudo``); False for unparseable text."""
    script = _parsed(command) if _MAY_SWITCH.search(command) else None  # most commands: no parse
    return script is not None and any(inv.utility in _SWITCHERS for inv in invocations(script))


def _request_words(request: str) -> list[str]:
    """The request's words in lower case, without the lead words ("please", "how do I")."""
    return [w for w in _WORD.findall(request.lower()) if w not in _LEAD]


# "... print each hash to filename-hash.md5": a file the output goes to.
_TO_FILE = re.compile(r"\bto\s+(?:the\s+|a\s+)?(?:files?\s+)?[\"'`]?[\w~./-]*\w\.[A-Za-z]\w{0,5}\b", re.IGNORECASE)


def reads_only(request: str) -> bool:
    """True when ``request`` asks only to read: a reading verb first, no word asking for a change,
    and no file named as where the output goes ("print ... to out.txt")."""
    words = _request_words(request)
    return bool(words) and words[0] in READ_VERBS and _CHANGE.search(request) is None and not _TO_FILE.search(request)


# Edits that ``_CHANGE`` leaves out, so that "show the comments" stays a request that only reads:
# NL2Bash's and tldr's in-place edits (``sed -i``) are asked for with one of these where no ``_CHANGE``
# word is said (7 of 177 in the bundle's index: "trim", "prepend", "comment out", "uncomment"); and a
# compressor named as the verb ("bzip2 data.csv": the file is to be replaced by data.csv.bz2).
_EDIT = re.compile(
    r"\b(?:trim|prepend|(?:un)?comment|indent|pad|format|clean|dedup|normali[sz]|fill|swap|lower|upper|capitali[sz]"
    r"|generat|extract|unpack|decompress|unzip|gunzip|untar|unxz|bunzip|encod|decod|sign(?:s|ed)?\b|patch|apply"
    r"|gzip|bzip|pigz|zip\b|xz\b|lzma|zstd)",
    re.IGNORECASE,
)


def asks_for_no_change(request: str) -> bool:
    """True when nothing in ``request`` asks to change, create or write a file: no word asking for a
    change (``_CHANGE``), an edit (``_EDIT``: "trim", "comment out", "extract") or something new
    (``asks_to_create``), and no file named as where the output goes. Wider than ``reads_only``
    (which wants a reading verb first): "first 20 lines of data.csv", "skip the header line of
    data.csv", "md5 checksum of file.iso". Its files must stay as they are."""
    return not (_CHANGE.search(request) or _EDIT.search(request) or _TO_FILE.search(request) or asks_to_create(request))


# "copy backup.tar.gz to /srv/backups on host db1": what a copy starts from, which the copy must not
# write over (``tar -czf backup.tar.gz project`` once came first for that request).
_COPIED = re.compile(
    r"\b(?:cop(?:y|ies)|cp|scp|rsync|send|upload|transfer|sync)\s+(.+?)\s+(?:to|into|onto|over\s+to)\b", re.IGNORECASE
)


def copied(request: str) -> str:
    """The words naming what ``request`` asks to copy, send or upload somewhere ("backup.tar.gz" for
    "copy backup.tar.gz to /srv/backups"); empty where it asks for no copy."""
    found = _COPIED.search(request)
    return found.group(1) if found else ""


def harmed_files(command: str, files: Iterable[str]) -> list[str]:
    """Which of ``files`` (the file names a request gives, ``notes.txt``) ``command`` would
    overwrite, delete, move or edit in place; empty for unparseable text."""
    named = {_file_name(f) for f in files}
    script = _parsed(command) if named else None
    if script is None:
        return []
    hit: list[str] = []
    for redirect, target in file_redirects(script):
        if _TRUNCATE.fullmatch(redirect.op):
            hit.extend(_named([target.value], named))
    for inv in invocations(script):
        hit.extend(_named(_written(inv.utility, inv.values), named))
    return list(dict.fromkeys(hit))


def destroyed_files(command: str) -> list[str]:
    """What ``command`` deletes, moves or edits in place, whatever the request names: the operands
    of ``rm``, ``rmdir``, ``shred``, ``unlink``, ``truncate`` and ``mv``, of ``sed -i`` / ``perl -i``,
    and ``find``'s starting points where it has ``-delete``; empty for unparseable text."""
    script = _parsed(command)
    return [] if script is None else _destroyed(script)


def _destroyed(script: Script) -> list[str]:
    """``destroyed_files`` of a parsed command."""
    hit: list[str] = []
    for inv in invocations(script):
        if inv.utility in _REMOVERS or inv.utility == "rmdir":
            hit.extend(operands_of(inv.values) or [inv.utility])
        elif inv.utility in _IN_PLACE and any(_in_place(inv.utility, v) for v in inv.values):
            hit.extend(operands_of(inv.values)[-1:] or [inv.utility])
        elif inv.utility == "find" and "-delete" in inv.values:
            start = [v for v in inv.values[: inv.values.index("-delete")] if not v.startswith(("-", "(", "!"))]
            hit.append(start[0] if start else ".")
    return list(dict.fromkeys(hit))


# Operands that stand for everything in the working directory.
_EVERYTHING = frozenset({"*", "./*", ".*", "./.*", "{.,}*", "*.*", "./*.*"})


# A ``find`` with only these words after its starting points selects everything under them.
_FIND_ALL = frozenset({"-mindepth", "-maxdepth", "-type", "-print", "-print0", "-depth", "-xdev", "-mount"})
_FIND_DELETES = frozenset({"-delete", "-exec", "-execdir", "-ok", "-okdir", ";", "+"})
_DELETERS = frozenset({"rm", "rmdir", "shred", "unlink"})


def sweeping_deletes(command: str) -> list[str]:
    """What ``command`` deletes that stands for everything in the working directory: operands of
    its deletions (``destroyed_files``) such as ``*``, ``./*`` or ``.*``, and a ``find .`` that
    selects everything (no test but depth and type) and deletes what it finds (``-delete``, or
    ``rm`` fed by ``-exec`` or ``xargs``); empty for unparseable text."""
    script = _parsed(command) if "*" in command or "find" in command else None  # most: no parse
    if script is None:
        return []
    swept = [f for f in _destroyed(script) if f in _EVERYTHING]
    runs = list(invocations(script)) if "find" in command else []
    removes = any(inv.utility in _DELETERS and set(operands_of(inv.values)) <= {"{}"} for inv in runs)
    for inv in runs:
        if inv.utility != "find":
            continue
        words = [v for v in inv.values if not v.isdigit() and v not in ("f", "d", "l")]
        starts = [w for w in words if not w.startswith("-") and w not in (";", "+")]
        tests = [w for w in words if w.startswith("-") or w in (";", "+")]
        everything = set(starts) <= {".", "./", "*", "./*"} and set(tests) <= _FIND_ALL | _FIND_DELETES
        if everything and ("-delete" in tests or removes):
            swept.append(f"find {' '.join(starts) or '.'}")
    return list(dict.fromkeys(swept))


# Words that say where without a path: a request with one of them names a place, and a deletion's
# path may be what it means ("the temp folder" -> /tmp, "my home" -> ~); ".tmp" is a kind of files.
_PLACE_WORDS = re.compile(
    r"(?<![.\w])(?:home|tmp|temp|roots?|folders?|director(?:y|ies)|dirs?|desktop|downloads|documents|"
    r"everywhere|anywhere|entire|whole|system|filesystems?|hierarchy|disks?|drives?|partitions?|mount\w*|"
    r"volumes?|trash|cache)\b",
    re.IGNORECASE,
)


def says_a_place(request: str) -> bool:
    """Whether ``request`` says where by a word ("in the temp folder", "under my home", "the
    cache"), beside the paths and directories it names."""
    return _PLACE_WORDS.search(request) is not None


def deleting_places(command: str) -> list[str]:
    """The paths ``command`` deletes in, where it names one: the starting points of a ``find`` that
    deletes (``-delete``, or ``rm`` under ``-exec``), and the operands of ``rm``, ``rmdir``,
    ``shred`` and ``unlink`` with a directory part (``/tmp/cache/*.tmp``, ``/``, not ``./*``); never
    ``.``, ``..`` or an expansion (``$DIR``); empty for unparseable text."""
    script = _parsed(command) if any(w in command for w in ("rm", "shred", "unlink", "-delete")) else None
    if script is None:
        return []
    runs = list(invocations(script))
    out: list[str] = []
    for inv in runs:
        if inv.utility == "find":
            removes = "-delete" in inv.values or any(
                r.utility in _DELETERS and r.via == "find -exec" and r.command is inv.command for r in runs
            )
            found = find_starts([inv.word, *inv.args]) if removes else None
            out += [w.value for w in found[1]] if found else []
        elif inv.utility in _DELETERS and inv.via != "find -exec":
            # ``./*`` and ``./build`` are here; ``src/*.o``, ``/tmp/x`` and ``~/x`` are not
            out += [v for v in operands_of(inv.values) if "/" in v.removeprefix("./").rstrip("/") or v[:1] in "/~"]
    return list(dict.fromkeys(v for v in out if v not in (".", "./", "..", "../", "{}") and "$" not in v))


def deletes(command: str) -> bool:
    """Whether ``command`` deletes files: ``rm``, ``rmdir``, ``shred`` or ``unlink`` anywhere (also
    under ``-exec`` or ``xargs``), or a ``find`` with ``-delete``; False for unparseable text."""
    script = _parsed(command) if any(w in command for w in ("rm", "shred", "unlink", "-delete")) else None
    if script is None:
        return False
    return any(
        inv.utility in _DELETERS or (inv.utility == "find" and "-delete" in inv.values) for inv in invocations(script)
    )


# A request that asks to create something, whatever its first word: NL2Bash's training requests
# answered by ``mkdir`` say so in 128 of 130, by ``touch`` in 16 of 16.
_CREATE_ASKED = re.compile(
    r"\b(?:creat\w*|make|makes|making|mkdir|new|build\w*|set ?up|ensure|prepare\w*|touch\w*|timestamps?"
    r"|updat\w*|access time|modification time)\b",
    re.IGNORECASE,
)
_CREATORS = frozenset({"mkdir", "touch"})


def asks_to_create(request: str) -> bool:
    """True when ``request`` asks to create a file or directory, or to touch one ("make a directory
    called projects", "update the timestamp of x")."""
    return _CREATE_ASKED.search(request) is not None


# What a request asks to create, where a creating word comes at most four words before it: "make
# folders jan feb and mar", "create an empty file", not "create a tar archive of the src directory"
# (which asks for an archive). Of the bundle's index's 157 pairs whose command only creates, 4 do not
# say so ("create intermediate directoriy path2", "create a subgroup").
_MAKE = r"\b(?:creat\w*|make|makes|making|new|build\w*|set ?up|ensure|prepare\w*|add)\s+(?:[\w./'-]+\s+){0,3}?"
_DIRECTORY_ASKED = re.compile(
    _MAKE + r"(?:sub)?(?:director(?:y|ies)|folders?|dirs?|paths?|tree|hierarch\w*|structure)\b|\bmkdir\b", re.I
)
_FILE_ASKED = re.compile(_MAKE + r"files?\b|\b(?:touch\w*|timestamps?|access time|modification time)\b", re.I)


def creates_unasked(
    command: str, request: str, files: Sequence[str] = (), paths: Sequence[str] = ()
) -> tuple[list[str], str]:
    """What ``command`` creates (``only_creates``) where ``request`` asks to create nothing, or
    asks to create no directory and it runs ``mkdir`` ("create a tar archive of the src directory"
    -> ``mkdir ${archive%.tar*}``), or no file and it runs ``touch``; with what the request does not
    ask for ("anything", "a directory", "a file"). A path or a file the request names (``paths``,
    ``files``: the caller's ``bash_ai.engine.arguments``) counts as asking for one ("create
    src/main", "create notes.txt"). Empty for a command that does more."""
    made = only_creates(command)
    if not made:
        return [], ""
    if not asks_to_create(request):
        return made, "anything"
    script = _parsed(command)
    programs = {inv.utility for inv in invocations(script)} if script is not None else set()
    if "mkdir" in programs and not (_DIRECTORY_ASKED.search(request) or paths):
        return made, "a directory"
    if "touch" in programs and not (_FILE_ASKED.search(request) or files):
        return made, "a file"
    return [], ""


def only_creates(command: str) -> list[str]:
    """What ``command`` creates when creating is all it does: the operands of its ``mkdir`` and
    ``touch`` runs, where it runs no other program (``mkdir logs`` for "compress the logs
    directory"); empty for unparseable text or a command that does more (``mkdir -p d && cp a d``)."""
    script = _parsed(command) if any(p in command for p in _CREATORS) else None  # most: no parse
    if script is None:
        return []
    runs = list(invocations(script))
    if not runs or any(inv.utility not in _CREATORS for inv in runs):
        return []
    return list(dict.fromkeys(o for inv in runs for o in operands_of(inv.values) or [inv.utility]))


# A word right before "files" says what kind of files they are ("python files", "large files"), not
# where they are: ``find python -name "*.py"`` for "find python files containing TODO" searches a
# directory the request never named.
_KIND_OF_FILES = re.compile(r"(?<![\w.*/$-])([a-z][\w-]*)\s+(files?)\b", re.IGNORECASE)
_PLACE_TAKERS = frozenset({"find", "ls", "du", "tree"})
_BARE_WORD = re.compile(r"[A-Za-z][\w-]*")


def file_kinds(request: str) -> set[str]:
    """The words ``request`` uses only right before "files" (lower case): kinds of file, never a
    place ("find large files": ``large``); a word it also uses elsewhere may name a place."""
    found = [(m.group(1).lower(), m.group(2).lower() == "files") for m in _KIND_OF_FILES.finditer(request)]
    kinds = {w for w, plural in found if plural and not _not_a_kind(w)}
    before = Counter(w for w, _ in found)
    uses = Counter(w.lower() for w in re.findall(r"[\w-]+", request))
    return {word for word in kinds if uses[word] == before[word]}


_DETERMINERS = frozenset(
    {"all", "any", "some", "these", "those", "my", "your", "our", "and", "or", "of", "in", "for", "with"}
)


def _not_a_kind(word: str) -> bool:
    """A verb or a determiner before "files" ("find files", "delete all files", "the files")."""
    return word in READ_VERBS or word in _LEAD or word in _DETERMINERS or _CHANGE.match(word) is not None


def kinds_as_places(command: str, kinds: set[str]) -> list[str]:
    """The starting points of ``command``'s ``find`` runs, and the operands of its ``ls``, ``du`` and
    ``tree`` runs, that are one of ``kinds`` (``file_kinds``) as a bare word: ``find large`` for
    "find large files"; empty for unparseable text."""
    lowered = command.lower()
    script = _parsed(command) if any(k in lowered for k in kinds) and any(p in command for p in _PLACE_TAKERS) else None
    if script is None:
        return []
    hit: list[str] = []
    for inv in invocations(script):
        if inv.utility == "find":
            found = find_starts((inv.word, *inv.args))
            places = [w.value for w in found[1]] if found else []
        elif inv.utility in _PLACE_TAKERS:
            places = operands_of(inv.values)
        else:
            continue
        hit.extend(v for v in places if _BARE_WORD.fullmatch(v) and v.lower() in kinds)
    return list(dict.fromkeys(hit))


# Each archiver and the endings of the files it reads or writes. A file with an ending of another
# archiver's is the wrong format for it: ``tar -tzf release.zip`` for "what's inside release.zip",
# ``tar -xJf image.xz`` for "unpack image.xz" (an xz file, not a tar archive).
_FORMATS: dict[str, tuple[str, ...]] = {
    "tar": (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tbz2", ".tar.xz", ".txz", ".tar.zst", ".tar.lz"),
    "zip": (".zip", ".jar", ".war", ".apk"),
    "gzip": (".gz", ".tgz", ".z"),
    "xz": (".xz", ".txz", ".lzma"),
    "bzip2": (".bz2", ".tbz", ".tbz2"),
    "zstd": (".zst",),
    "rar": (".rar",),
    "7z": (".7z",),
}
_ARCHIVERS = {
    "tar": "tar",
    **dict.fromkeys(("unzip", "zip", "zipinfo"), "zip"),
    **dict.fromkeys(("gzip", "gunzip", "zcat", "zgrep", "zless", "zmore", "zdiff"), "gzip"),
    **dict.fromkeys(("xz", "unxz", "xzcat"), "xz"),
    **dict.fromkeys(("bzip2", "bunzip2", "bzcat"), "bzip2"),
    **dict.fromkeys(("zstd", "unzstd", "zstdcat"), "zstd"),
    "unrar": "rar",
}


def _format_of(name: str) -> set[str]:
    """The archivers whose format a file's name says it is, by any of its endings (``x.tar.gz``: tar
    and gzip); empty for a name with no archive ending."""
    lowered = name.lower()
    return {kind for kind, endings in _FORMATS.items() if lowered.endswith(endings)}


def wrong_formats(command: str, files: Iterable[str]) -> list[str]:
    """Where ``command`` gives one of ``files`` (the request's) to an archiver of another format:
    ``tar release.zip`` for ``tar -tzf release.zip``; ``7z``, which reads them all, and programs that
    are no archivers never count. Empty for unparseable text."""
    archives = {f: kinds for f in files if (kinds := _format_of(f))}
    script = _parsed(command) if archives and any(a in command for a in _ARCHIVERS) else None
    if script is None:
        return []
    hit = []
    for inv in invocations(script):
        kind = _ARCHIVERS.get(inv.utility)
        if kind is None:
            continue
        for name, kinds in archives.items():
            if kind not in kinds and any(v == name or v.endswith("/" + name) for v in inv.values):
                hit.append(f"{inv.utility} {name}")
    return list(dict.fromkeys(hit))


def wasted(command: str) -> list[str]:
    """``wasted_stages`` of ``command``, parsed once with the ``unasked`` rules (``_parsed``); empty
    for text without a pipe or that the parser refuses."""
    script = _parsed(command) if "|" in command else None
    return [] if script is None else wasted_stages(script)


# A request that asks how many lines ("count the number of lines in all python files", "how many
# lines of code", "the total line count"): not how many files, nor "files with more than 10 lines".
_LINE_COUNT = re.compile(
    r"\b(?:count(?:s|ing)?|number\s+of|how\s+many|total)\s+(?:the\s+|all\s+)?(?:number\s+of\s+|total\s+)?"
    r"(?:(?:non-?)?(?:empty|blank|code|source)\s+)?lines\b|\bline\s+counts?\b|\bcount\s+lines\b",
    re.IGNORECASE,
)


def asks_for_line_count(request: str) -> bool:
    """Whether ``request`` asks how many lines there are (in files, of output)."""
    return _LINE_COUNT.search(request) is not None


def counts_names(command: str) -> bool:
    """Whether ``command`` counts file names with ``wc -l`` (``commands.counted_names``: ``find .
    -name '*.py' | wc -l``), which answers how many files, not how many lines they hold."""
    script = _parsed(command) if "wc" in command and "|" in command else None
    return script is not None and counted_names(script)


# What a request asks about, memory or disk space, and the programs that report each: "show free
# memory" is not answered by ``df -h`` (the free space on the disks), nor "how much disk space is
# left" by ``free -h``. A request that says words of both (or files and folders) is left alone.
_MEMORY_ASKED = re.compile(r"\b(?:memory|ram|swap)\b", re.IGNORECASE)
_DISK_ASKED = re.compile(r"\b(?:disks?|space|storage)\b", re.IGNORECASE)
_DISK_WORDS = re.compile(
    r"\b(?:file\s?systems?|partitions?|drives?|mount\w*|volumes?|director(?:y|ies)|folders?|files?|du|df)\b",
    re.IGNORECASE,
)
_DISK_TOOLS = frozenset({"df", "du", "ncdu", "lsblk", "fdisk", "duf", "dust"})
_MEMORY_TOOLS = frozenset({"free", "vmstat", "smem", "swapon"})
_PROCESS_TOOLS = frozenset({"top", "htop", "atop", "ps", "pmap", "sar"})  # these report memory too


def other_topic(request: str, command: str) -> str | None:
    """What ``command`` reports instead of what ``request`` asks about: "disk space" for a request
    about memory answered only by disk tools (``df -h`` for "show free memory"), "memory" for one
    about disk space answered only by memory tools; None otherwise, and for unparseable text."""
    memory = _MEMORY_ASKED.search(request) is not None
    disk = _DISK_ASKED.search(request) is not None
    if memory == disk or (memory and _DISK_WORDS.search(request)):
        return None
    script = _parsed(command)
    if script is None:
        return None
    programs = {inv.utility for inv in invocations(script)}
    reads_memory = bool(programs & (_MEMORY_TOOLS | _PROCESS_TOOLS)) or "/proc/meminfo" in command
    if memory and programs & _DISK_TOOLS and not reads_memory:
        return "disk space"
    if disk and programs & _MEMORY_TOOLS and not programs & _DISK_TOOLS:
        return "memory"
    return None


# Programs that serve one domain, and the words of a request about it: "show disk usage" once got
# ``docker system df`` first (a how-to pair for "show docker disk usage"), "create a directory called
# projects" ``docker network create projects`` among its answers. A request that says the program's
# name or a word of its domain ("list running containers", "unstage app.py") is left alone.
# (Measured over the training references: 2 of 459 that run one of these programs are flagged, both
# naming an image of docker's: "run myapp with environment variables from .env".)
_CONTAINER = (
    r"docker\w*|podman|containers?|images?|compose|registry|registries|services?|logs?|exec|networks?|ports?"
    r"|redis|postgres|alpine|nginx|ubuntu|debian|mysql|node|python"
)
_DOMAINS = {
    program: re.compile(rf"\b(?:{words})\b", re.IGNORECASE)
    for program, words in {
        "docker": _CONTAINER,
        "podman": _CONTAINER,
        "docker-compose": _CONTAINER,
        "kubectl": r"kubectl|kubernetes|k8s|pods?|deployments?|namespaces?|manifests?|clusters?|nodes?|helm|charts?"
        r"|services?",
        "helm": r"helm|kubernetes|k8s|charts?|releases?|clusters?",
        "journalctl": r"journal\w*|logs?|boot\w*|systemd|services?|units?|kernel|fail\w*|crash\w*|errors?|oom|killed"
        r"|sudo|cron|audit",
        "git": r"git|repo\w*|commits?|branch\w*|stag(?:e|ed|ing)|unstaged?|stash\w*|merg\w*|rebas\w*|tags?|clon\w*"
        r"|checkout|diff\w*|chang\w*|modif\w*|histor\w*|blame|remotes?|origin|push\w*|pull\w*|upstream|revert\w*"
        r"|cherry|track\w*|untrack\w*|ignored|gitignore|switch|submodules?|reflog|head|hash|conflict\w*|log|main"
        r"|master|status|github|gitlab|wrote|introduced|committed",
        "crontab": r"cron\w*|schedul\w*|every|daily|hourly|weekly|monthly|recurring|periodic\w*|jobs?|tasks?",
        "ufw": r"firewall|ufw|ports?|block\w*|allow\w*|ban\w*|traffic|ips?|ssh",
        "iptables": r"firewall|iptables|ports?|block\w*|allow\w*|ban\w*|traffic|ips?|packets?|nat|forward\w*",
        "psql": r"postgres\w*|psql|sql|databases?|db|tables?|quer\w*",
        "mysql": r"mysql\w*|mariadb|sql|databases?|db|tables?|quer\w*",
    }.items()
}
_MAY_SERVE = re.compile(rf"\b(?:{'|'.join(map(re.escape, _DOMAINS))})\b")


def other_domain(request: str, command: str) -> str | None:
    """The first program of ``command`` that serves a domain ``request`` says no word of (``docker``
    in ``docker system df`` for "show disk usage"); None otherwise, and for unparseable text."""
    found = _programs_where(command, _MAY_SERVE, lambda u, _: u in _DOMAINS and not _DOMAINS[u].search(request))
    return found[0] if found else None


# What a request asks to set up, and the programs that undo each: "add user bob with a home
# directory" once got ``sudo userdel -r bob`` first (bob and his home deleted). A request that says
# any word of undoing or a negation ("don't start cups at boot": ``systemctl disable cups``) is left
# alone; so is every other pairing (a request to delete answered by ``useradd`` harms nothing).
_SET_UP = {
    "add": re.compile(r"\b(?:add\w*|creat\w*|make|new|set\s?up)\b", re.IGNORECASE),
    "start": re.compile(r"\b(?:start\w*|enabl\w*|launch\w*|run|turn\s+on|bring\s+up)\b", re.IGNORECASE),
    "install": re.compile(r"\binstall\w*\b", re.IGNORECASE),
    "mount": re.compile(r"\bmount\w*\b", re.IGNORECASE),
    "allow": re.compile(r"\b(?:allow\w*|open\w*|permit\w*)\b", re.IGNORECASE),
    # An archive made, said by the first word or after a word of making ("zip the docs directory",
    # "create a tarball of src"; not "the zip file archive.zip" or "a compressed file"), and one
    # taken apart.
    "archive": re.compile(
        r"^\W*(?:please\s+)?(?:compress|zip|archive|pack|tar|gzip|bzip2|xz|7z)\b(?!\.)"
        r"|\b(?:creat\w*|make|build\w*|produce)\s+(?:[\w-]+\s+){0,3}?(?:archive|tarball|tar\s*ball|zip|tar)\b(?!\.)",
        re.I,
    ),
    "extract": re.compile(
        r"\b(?:extract\w*|unpack\w*|unzip\w*|untar\w*|decompress\w*|uncompress\w*|gunzip\w*)\b", re.I
    ),
}
_UNDO_WORDS = re.compile(
    r"\b(?:remov\w*|delet\w*|del|stop\w*|disabl\w*|uninstall\w*|unmount\w*|umount|deny|denied|block\w*|reject\w*|"
    r"kill\w*|purg\w*|drop\w*|clos\w*|mask\w*|restart\w*|reload\w*|prevent\w*|never|not|don'?t|without)\b",
    re.IGNORECASE,
)
_USER_REMOVERS = frozenset({"userdel", "groupdel", "deluser", "delgroup"})
_PACKAGERS = frozenset({"apt", "apt-get", "dnf", "yum", "zypper", "pacman", "snap", "brew"})
_PACKAGE_REMOVES = frozenset({"remove", "purge", "autoremove", "erase", "uninstall", "-R", "-Rs", "-Rns"})
_LANGUAGE_PACKAGERS = frozenset({"pip", "pip3", "npm", "gem", "cargo"})


def _undone(utility: str, values: list[str]) -> tuple[str, str] | None:
    """What one program run undoes (a key of ``_SET_UP``), and how it says so; None for the rest."""
    if utility in _USER_REMOVERS:
        return "add", f"{utility} deletes a user or group"
    if utility == "systemctl" and (verb := next((v for v in values if v in ("stop", "disable", "mask")), None)):
        return "start", f"systemctl {verb}"
    if utility == "service" and len(values) >= 2 and values[1] == "stop":
        return "start", "service stop"
    if utility in _PACKAGERS and _PACKAGE_REMOVES.intersection(values):
        return "install", f"{utility} removes packages"
    if (utility in _LANGUAGE_PACKAGERS and "uninstall" in values) or (
        utility == "dpkg" and {"-r", "-P", "--remove", "--purge"}.intersection(values)
    ):
        return "install", f"{utility} removes packages"
    if utility == "umount":
        return "mount", "umount"
    if utility == "ufw" and {"deny", "reject"}.intersection(values):
        return "allow", "ufw deny"
    if (found := _archive_direction(utility, values)) is not None:
        return found
    return None


# Archivers by what a run does: extract, or make an archive. A compressor makes one unless told to
# decompress (``gzip -d``) or only to look (``gzip -l``); ``unzip -l`` and ``tar -t`` only look.
_EXTRACTORS = frozenset({"gunzip", "bunzip2", "unxz", "unlzma", "unzstd", "uncompress"})
_COMPRESSORS = frozenset({"gzip", "bzip2", "xz", "zstd", "pigz", "lzma"})
_DECOMPRESS = frozenset({"-d", "--decompress", "--uncompress", "-l", "--list", "-t", "--test"})


def _archive_direction(utility: str, values: list[str]) -> tuple[str, str] | None:
    """("archive", how) for a run that only extracts, ("extract", how) for one that makes an archive."""
    letters = values[0].lstrip("-") if values and not values[0].startswith("--") else ""
    looks = any(v in _DECOMPRESS or re.fullmatch(r"-[a-z]*[lt][a-z]*", v) for v in values)  # -l, -t, -vt
    if (utility in _EXTRACTORS and not looks) or (
        utility == "unzip" and not {"-l", "-v", "-Z", "-t"}.intersection(values)
    ):
        return "archive", f"{utility} extracts"
    if utility in _COMPRESSORS and not any(v in _DECOMPRESS or re.fullmatch(r"-[a-z]*[dlt][a-z]*", v) for v in values):
        return "extract", f"{utility} compresses"
    if utility == "tar":
        if "x" in letters or "--extract" in values or "-x" in values or "--get" in values:
            return "archive", "tar -x extracts"
        if tar_creates(values):
            return "extract", "tar -c makes an archive"
    if utility == "zip":
        return "extract", "zip makes an archive"
    if utility in ("rar", "7z", "7za") and values[:1] == ["a"]:
        return "extract", f"{utility} a makes an archive"
    if utility in ("unrar", "7z", "7za") and values[:1] in (["x"], ["e"]):
        return "archive", f"{utility} {values[0]} extracts"
    return None


# Text that may run one of ``_undone``'s programs: any other command is not parsed.
_MAY_UNDO = re.compile(
    r"del|systemctl|service|remove|purge|erase|uninstall|-R|-r|-P|umount|ufw|zip|tar|gz|bz|xz|lzma|zst|rar|7z|compress"
)


def undoes(request: str, command: str) -> str | None:
    """How ``command`` undoes what ``request`` asks to set up ("userdel deletes a user or group" for
    ``sudo userdel -r bob`` asked "add user bob with a home directory"); None otherwise."""
    if _UNDO_WORDS.search(request) or not _MAY_UNDO.search(command):
        return None
    asked = {action for action, said in _SET_UP.items() if said.search(request)}
    if {"archive", "extract"} <= asked:  # "extract the archive and compress it again": either way
        asked -= {"archive", "extract"}
    script = _parsed(command) if asked else None
    if script is None:
        return None
    for inv in invocations(script):
        found = _undone(inv.utility, inv.values)
        if found is not None and found[0] in asked:
            return found[1]
    return None


# A short request to list the files here in an order ("list files sorted by size", "show files
# oldest first"), which says no word of going down the tree, and a candidate that does: ``find .
# -type f -printf '%s\t%p\n' | sort -n`` lists every file below, not the directory's (``ls -lS``).
# NL2Bash's longer "display all files in the current folder ..." requests are answered with a
# recursive ``find`` by its own references (507 of 614), so only short requests (``prompt.is_short``),
# and an order asked for by sorting words, not a superlative ("the 10 largest files" may mean all).
_LISTS_IN_ORDER = re.compile(
    r"^\s*(?:please\s+)?(?:list|show|display)\b(?=.*\bfiles\b)(?=.*\b(?:sort\w*|order\w*|by\s+(?:size|date|time|name|"
    r"modification\s+time)|\w+est\s+first|on\s+top)\b)",
    re.IGNORECASE,
)
_DEEP = re.compile(
    r"\b(?:recursive\w*|sub-?director\w*|sub-?folders?|subdirs?|tree|under|below|beneath|within|everywhere|nested|"
    r"all\s+director\w+|deep\w*|hierarchy)\b",
    re.IGNORECASE,
)


def asks_to_list_here_in_order(request: str) -> bool:
    """Whether ``request`` is a short request to list the files here in some order (above)."""
    return is_short(request) and bool(_LISTS_IN_ORDER.search(request)) and not _DEEP.search(request)


def recurses(command: str) -> bool:
    """Whether ``command`` lists every directory below: a ``find`` without ``-maxdepth 0`` or ``1``,
    or ``ls -R``; False for unparseable text."""
    script = _parsed(command) if "find" in command or "ls" in command else None
    if script is None:
        return False
    for inv in invocations(script):
        values = inv.values
        if inv.utility == "find":
            at = values.index("-maxdepth") + 1 if "-maxdepth" in values else len(values)
            if values[at : at + 1] not in (["0"], ["1"]):
                return True
        if inv.utility == "ls" and any(v.startswith("-") and not v.startswith("--") and "R" in v for v in values):
            return True
    return False


# A port a request names ("the process on port 8080", "localhost:3000"; not a time, "10:30"), and
# ``kill`` given it: kill takes process ids, so ``kill 8080`` signals whatever process has id 8080,
# not what listens on the port (the bundle's first answer once, for "kill the process on port 8080").
_PORT = re.compile(r"\bports?\s+(?:number\s+)?(\d{1,5})\b|(?<!\d):(\d{1,5})\b", re.IGNORECASE)


def killed_ports(request: str, command: str) -> list[str]:
    """The ports ``request`` names that ``command`` gives ``kill`` as process ids; empty otherwise."""
    ports = {a or b for a, b in _PORT.findall(request)}
    script = _parsed(command) if ports and "kill" in command else None
    if script is None:
        return []
    hit = [v for inv in invocations(script) if inv.utility == "kill" for v in inv.values if v in ports]
    return list(dict.fromkeys(hit))


def shows_nothing(command: str) -> bool:
    """True when ``command`` only sets variables (``ip=$(hostname -I)``, ``export A=1``): it prints
    nothing, which a request to show something did not ask for; False for unparseable text."""
    script = _parsed(command) if "=" in command else None
    if script is None or not script.items:
        return False
    for item in script.items:
        if not isinstance(item, Command) or item.redirects or item.kind != "simple":
            return False
        words = [w.value for w in item.words]
        if words and not (words[0] == "export" and len(words) > 1 and all("=" in w for w in words[1:])):
            return False
        if not words and not item.assignments:
            return False
    return True


# A request whose first word asks to stop a program ("stop firefox", "kill the process with pid
# 1234", "close chrome"), and a program run that stops one: ``kill``, ``pkill``, ``systemctl stop``,
# ``nginx -s stop``, ``screen -X quit``. Not "close the file descriptor 3".
_STOP_VERBS = frozenset({"stop", "kill", "close", "quit", "terminate", "shutdown", "shut"})
_NOT_PROGRAMS = frozenset({"file", "files", "descriptor", "descriptors", "fd", "connection", "connections", "socket"})
_STOPS = re.compile(r"stop|quit|kill|exit|shutdown|halt|terminate|poweroff", re.IGNORECASE)


def asks_to_stop(request: str) -> str | None:
    """The verb when ``request`` asks to stop a program with its first word ("kill", for "kill
    the process with pid 1234"); None otherwise, and for closing a file or connection."""
    words = _request_words(request)
    if not words or words[0] not in _STOP_VERBS or _NOT_PROGRAMS.intersection(words[1:4]):
        return None
    return "shut down" if words[0] == "shut" else words[0]


def stops_nothing(command: str) -> bool:
    """True when no program run of ``command`` stops anything: neither its name nor a word of it
    says stop, quit, kill, exit, shut down, halt, terminate or power off (``jobs -p 1234``, ``firefox
    https://example.com``), and none stops processes as ``stopped_programs`` reads it (``fuser -k
    3000/tcp`` says none of those words); False for unparseable text."""
    script = _parsed(command)
    if script is None or stopped_programs(command):
        return False
    return not any(
        _STOPS.search(inv.utility) or any(_STOPS.search(v) for v in inv.values) for inv in invocations(script)
    )


# Programs that stop processes or the machine whatever their operands; and the service managers'
# subcommands that do.
# Programs that change the machine's accounts, services, packages, owners and modes, mounts or
# priorities, and a request that only asks to see: "show uid and groups of user carol" once got
# ``sudo useradd -m -s /bin/bash carol`` (a new account) among its first answers.
_ACCOUNT_CHANGERS = frozenset(
    {"useradd", "usermod", "userdel", "adduser", "deluser", "groupadd", "groupmod", "groupdel", "addgroup",
     "delgroup", "passwd", "chpasswd", "gpasswd", "chsh", "chfn"}
)  # fmt: skip
_MODE_CHANGERS = frozenset({"chown", "chmod", "chgrp", "chattr", "setfacl", "renice", "mount", "umount", "swapoff"})
_MOUNT_VALUED = frozenset({"-t", "--types", "-o", "--options", "-O", "--test-opts", "-L", "-U", "-T"})
_CRONTAB_VALUED = frozenset({"-u"})
_SERVICE_CHANGES = frozenset({"start", "stop", "restart", "reload", "enable", "disable", "mask", "unmask", "kill"})
_PACKAGE_CHANGES = frozenset({"install", "remove", "purge", "upgrade", "update", "autoremove", "uninstall", "erase"})
_MAY_CHANGE = re.compile(
    r"user|group|passwd|chsh|chfn|ch(?:own|mod|grp|attr)|setfacl|renice|mount|swapoff|systemctl|service|apt|dnf|yum|"
    r"pacman|zypper|snap|brew|pip|npm|gem|crontab"
)


# A request that may ask for such a change though its first word reads ("give deploy.sh execute
# permission", "... and restart the services"): the check leaves it alone. One that asks about what
# a change would set ("who owns /srv/data", "show the permissions of config.yaml") is not answered
# by making the change.
_CHANGE_TOPIC = re.compile(
    r"\b(?:give|grant\w*|restart\w*|reload\w*|start\w*|stop\w*|enabl\w*|disabl\w*|mount\w*|install\w*|"
    r"uninstall\w*|upgrad\w*|updat\w*|chmod|chown|renice)\b",
    re.IGNORECASE,
)


def changes_unasked(request: str, command: str) -> list[str]:
    """``changed_system(command)`` where ``request`` only reads (``reads_only``) and says no word of
    such a change; empty otherwise."""
    if not reads_only(request) or _CHANGE_TOPIC.search(request):
        return []
    return changed_system(command)


def changed_system(command: str) -> list[str]:
    """The programs of ``command`` that change accounts (``useradd``, ``passwd`` ...; not ``passwd
    -S``), owners and modes (``chown``, ``chmod``), mounts, priorities (``renice``), services
    (``systemctl start``, ``service nginx restart``), packages (``apt install``, ``pip uninstall``)
    or cron tables (``crontab -r``, ``crontab -e``, ``crontab file``); empty for unparseable text."""
    return _programs_where(command, _MAY_CHANGE, _changes)


def _changes(utility: str, values: list[str]) -> bool:
    if utility in _ACCOUNT_CHANGERS:
        return not (utility == "passwd" and {"-S", "--status"}.intersection(values))
    if utility == "mount":  # without a device or place (or -a), mount lists what is mounted
        return bool(_operands_after(values, _MOUNT_VALUED)) or "-a" in values
    if utility in _MODE_CHANGERS:
        return True
    if utility == "systemctl":
        return bool(_SERVICE_CHANGES.intersection(values))
    if utility == "service":
        return len(values) >= 2 and values[1] in _SERVICE_CHANGES
    if utility in _PACKAGERS or utility in _LANGUAGE_PACKAGERS:
        return bool(_PACKAGE_CHANGES.intersection(values))
    if utility == "crontab":  # removes or edits the table, or installs a file (or stdin) as it
        files = _operands_after(values, _CRONTAB_VALUED)
        return bool({"-r", "-e", "-ir"}.intersection(values)) or ("-l" not in values and (bool(files) or not values))
    return False


_STOPPERS = frozenset({"kill", "pkill", "killall", "skill", "xkill", "shutdown", "reboot", "halt", "poweroff"})
_SERVICE_STOPS = frozenset({"stop", "kill", "restart", "reboot", "poweroff", "halt"})
_KILL_ONLY_LOOKS = frozenset({"-l", "-L", "--list", "-0"})  # kill -l lists signals; kill -0 only checks
# Only a command naming one of them is parsed (most candidates name none).
_MAY_STOP = re.compile(r"kill|shutdown|reboot|halt|poweroff|systemctl|service|fuser")


def stopped_programs(command: str) -> list[str]:
    """The programs of ``command`` that stop processes or the machine: ``kill`` (not ``kill -l`` or
    ``-0``, which only look), ``pkill``, ``killall``, ``xkill``, ``shutdown``, ``reboot`` ...,
    ``systemctl``/``service`` told to stop, kill or restart, ``fuser -k``; run anywhere in it
    (``lsof -t -i:8080 | xargs kill``). Empty for unparseable text."""
    return _programs_where(command, _MAY_STOP, _stops)


def _stops(utility: str, values: list[str]) -> bool:
    if utility in _STOPPERS:
        return not (utility == "kill" and _KILL_ONLY_LOOKS.intersection(values))
    if utility in ("systemctl", "service"):
        return bool(_SERVICE_STOPS.intersection(values))
    return utility == "fuser" and any(v.startswith("-") and not v.startswith("--") and "k" in v for v in values)


_RUNNERS = frozenset({"bash", "sh", "zsh", "dash", "ksh", "source", ".", "python", "python3", "perl", "ruby", "node"})


# A request that asks to run something, whatever its first word ("display ... and then execute").
_RUN_ASKED = re.compile(r"\b(?:run|runs|execut\w*|launch\w*|start|invok\w*|source)\b", re.IGNORECASE)


def asks_to_run(request: str) -> bool:
    """True when ``request`` asks to run something ("... and then execute myScript.sh")."""
    return _RUN_ASKED.search(request) is not None


def run_files(command: str, files: Iterable[str]) -> list[str]:
    """Which of ``files`` (the file names a request gives) ``command`` runs as a program: ``./x.sh``,
    ``bash x.sh``, ``source x.sh``; empty for unparseable text. Asked "show line numbers in
    script.sh", ``./script.sh`` runs what the user wanted to read."""
    named = {_file_name(f) for f in files}
    script = _parsed(command) if named else None
    if script is None:
        return []
    hit: list[str] = []
    for inv in invocations(script):
        if _file_name(inv.utility) in named:
            hit.append(_plain(inv.utility))
        elif inv.utility in _RUNNERS and "-n" not in inv.values:  # ``bash -n``: a syntax check only
            operands = operands_of(inv.values)
            if operands and _file_name(operands[0]) in named:
                hit.append(_plain(operands[0]))
    return list(dict.fromkeys(hit))


def _written(utility: str, values: list[str]) -> list[str]:
    """The operands of one program run that it deletes, moves or writes over."""
    operands = operands_of(values)
    if utility in _REMOVERS:
        return operands
    if utility == "tee":
        return [] if any(v in ("-a", "--append") for v in values) else operands
    if utility == "cp":
        return operands[-1:]
    if utility == "dd":
        return [v[3:] for v in values if v.startswith("of=")]
    if utility in ("sed", "perl") and any(_in_place(utility, v) for v in values):
        return operands
    if utility in _REPLACERS and not any(v in _KEEPS or _short_keep(v) for v in values):
        return operands
    if utility == "tar":
        return _tar_created(values)
    return []


def _tar_created(values: list[str]) -> list[str]:
    """The archive a ``tar`` that creates writes (``tar -czf out.tar.gz src``: ``out.tar.gz``), which
    it empties first; nothing for a ``tar`` that extracts, lists or appends."""
    if not tar_creates(values):
        return []
    for i, value in enumerate(values):
        if value.startswith("--file="):
            return [value[len("--file=") :]]
        short = (value.startswith("-") and not value.startswith("--")) or i == 0  # a bundle, dashed or first
        if (short and value.endswith("f")) or value == "--file":
            return values[i + 1 : i + 2]
    return []


def _short_keep(value: str) -> bool:
    """``-k``, ``-c``, ``-l``, ``-t`` (or help, version, licence) alone or among short options (``-dc``, ``-kv``)."""
    return value.startswith("-") and not value.startswith("--") and bool(set(value[1:]) & set("kcltLVh"))


def _named(values: Iterable[str], named: set[str]) -> list[str]:
    """The values (as paths) with one of the ``named`` file names: a request naming ``data/a.txt``
    protects every ``a.txt``, erring on the side of the file."""
    paths = [_plain(value.strip("'\"")) for value in values]
    return [path for path in paths if _file_name(path) in named]


def _file_name(path: str) -> str:
    return _plain(path).rsplit("/", 1)[-1]


def _plain(path: str) -> str:
    """One spelling per path: ``./data//a.txt`` -> ``data/a.txt``."""
    path = normalize_path(path)
    while path.startswith("./"):
        path = path[2:]
    return path


def _in_place(utility: str, value: str) -> bool:
    """``sed -i``, ``sed -ni``, ``sed --in-place``, ``perl -pi``, ``perl -i.bak``; not ``perl -Mstrict``:
    the ``i`` must come after switches that take no argument."""
    if value.startswith("--in-place"):
        return True
    return _IN_PLACE[utility].match(value) is not None
