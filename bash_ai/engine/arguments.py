"""Carry the arguments a request names into a retrieved command, instead of the example's own.

A retrieved pair answers a similar request about other things: "count words in file" -> ``wc -w
file.txt``. Asked "count the words in essay.txt", the command should name ``essay.txt``. The
arguments recognised are URLs, file names (``notes.txt``), paths (``/var/log``, ``a/b/c``), extension
globs ("python files", ".log files" -> ``*.py``, ``*.log``) and numbers; nothing inside a URL counts
as a path, file or number. An argument of the example
is replaced only when its request names one of that kind in the same count (or exactly one), and only
as a whole shell word or ``*.ext`` glob, so nothing else in the command moves. A request naming a
file kind and no file ("all .sh files") turns the one file its example named into the glob.

More, for retrieved commands and the model's beams alike: a first program that would read its input
for want of a file gets the one file the request names (``fill_file``: ``head -n 10`` -> ``head -n
10 notes.txt``); a ``find`` starting at one absolute path searches ``.`` where the request asks for
the current directory (``find /tmp -name '*.tmp'`` for "... in this directory tree"); "the last 2
lines" gets ``tail -n 2``, not ``tail -n +2`` (from line 2 on); a lone ``x=$(cmd)`` becomes
``cmd`` where the request asks for no variable; ``wc`` counts the unit the request names ("the
words" -> ``wc -w``); a flag the request asks for in so many words is added where the program lacks
it ("ignoring case" -> ``grep -i``, ``find -iname``; "human-readable" -> ``du -h``). For retrieved
commands, the one name a request gives ("a directory called projects") takes the place of the one
its example gave (``mkdir dir1`` -> ``mkdir projects``), and so do the one or two words in which
the request differs from its example ("the manual page of grep" against "of find": ``man find`` ->
``man grep``). Measured in docs/benchmarks.md ("The request's file, directory and name").

After the ranking, the shown commands are settled for the request (``settle``): a directory it
names by a word ("the logs directory"), the field and separator of a column ("the second column of
data.csv"), a ``find``'s time window ("in the last hour") and size ("larger than 100MB"), the
texts of a substitution ("replace foo with bar"), which end of a ``sort | head`` list and how
many ("the largest file": ``sort -r ... | head -n 1``), and the text a grep, sed or awk pattern
stands in for ("lines that do not contain debug": ``sed -n '/pattern/!p'`` -> ``sed -n '/debug/!p'``),
the user a stand-in user is ("as user bob": ``ssh remote_user@host`` -> ``ssh bob@host``), a
count where the request asks for one ("count the regular files": ``find . -type f | wc -l``), a
``find`` over the one file the request names made the program it runs (``find server.log -exec grep
error {} \\;`` -> ``grep error server.log``), a ``find`` started at ``.`` where the request names no
place (not ``/``), the process id it gives ("kill the process with pid 1234": ``kill -9 $(pgrep x)``
-> ``kill -9 1234``), what a ``tar`` of nothing archives ("compress the logs directory": ``tar cvf
logs`` -> ``tar cvzf logs.tar.gz logs``), and a last ``grep`` for a word the request never says
dropped (``ps aux | grep postgres`` -> ``ps aux`` for "show running processes"), and a ``find``
that selects no files by name given the one kind of files the request names ("delete all .tmp
files older than 7 days": ``find ./ -mtime +7 -delete`` -> ``find ./ -name '*.tmp' -mtime +7
-delete``). These read the
request alone and are left out of the scores (docs/benchmarks.md, "The request's directory, column
and time window", and "a find over one file, a kill's process id ...").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bash_ai.safety.shell import Script, Word

# A text edit: replace command[start:end] with the text.
Edit = tuple[int, int, str]


def _applied(command: str, edits: list[Edit]) -> str:
    """``command`` with ``edits`` (non-overlapping) made, from the end so earlier offsets stay right."""
    for start, end, text in sorted(edits, reverse=True):
        command = f"{command[:start]}{text}{command[end:]}"
    return command


_URL = re.compile(r"\b(?:https?|ftp)://[^\s'\"<>]*[^\s'\".,;:!?)<>]")
_FILE = re.compile(r"(?<![\w./~$-])((?:[\w~.-]+/)*[\w-]+(?:\.[\w-]+)*\.[A-Za-z][\w]{0,5})(?![\w/-])")
_PATH = re.compile(r"(?<![\w.$-])((?:~|\.{1,2})?/[\w./-]*[\w-]|[\w.-]+/[\w./-]*[\w-])(?![\w/-])")
_NUMBER = re.compile(r"(?<![\w.$-])(\d+)(?![\w.])")
_EXT_WORD = re.compile(
    r"(?<![\w*])\.([A-Za-z][\w]{0,5})\s+(?:[A-Za-z]+\s+)?files?\b|\b([A-Za-z]+)\s+(?:source\s+)?files?\b"
    r"|\b(jpe?g|png|gif|svg|pdf|mp[34]|csv|iso)s\b",  # "all jpgs": a kind of files said as a plural
    re.IGNORECASE,
)
_PLACEHOLDER = re.compile(r"(?<![\w./-])path/to/[\w./-]*[\w-]")
_GLOB = re.compile(r"\*\.([A-Za-z][\w]{0,5})\b")
# "the current directory", "this folder": the request names ``.``.
_HERE = re.compile(
    r"\b(?:current|this|present)\s+(?:working\s+)?(?:directory|folder|dir)\b"
    r"|\b(?:in|under|from|below|beneath|right|everywhere|recursively)\s+here\b",
    re.IGNORECASE,
)
# "a directory called projects", "processes named firefox": the name itself.
_NAMED = re.compile(r"\b(?:named|called)\s+[\"'`]?([\w+-][\w.+-]*)", re.IGNORECASE)
_NOT_NAMES = frozenset({"a", "an", "the", "as", "like", "after", "by", "with", "in", "on", "from"})
_DOT_WORD = re.compile(r"(?:^|[\s=])\.(?:/\S*)?(?=[\s;|&)]|$)")  # a word ".", "./" or "./x": here already
# "the logs directory", "your docs folder": a directory the request names by a word of its own
# (``directories``); words that describe a directory instead of naming one are left out.
_DIRECTORY = re.compile(
    r"\b(?:(to|into|onto)\s+)?(?:the|my|your)\s+[\"'`]?([A-Za-z_][\w.+-]*)[\"'`]?\s+(?:directory|folder|dir)\b", re.I
)
_DIRECTORY_WORDS = {"home": "~", "root": "/", "parent": "..", "tmp": "/tmp", "temp": "/tmp", "temporary": "/tmp"}
_NOT_DIRECTORIES = frozenset(
    "current this present working specified specific given sub top target first last next previous entire whole "  # noqa: SIM905
    "original output input same new empty other each every that destination source base main own user".split()
)
# A directory an example stands in for: ``dir``, ``some_dir``, ``$DIR``, ``/path/to/directory``.
_SOME_DIRECTORY = re.compile(
    r"(?:some_?|my_?|target_?|source_?)?(?:dir|directory|folder)(?:_?name|_?folder|_?path)?|\$\{?(?:DIR|DIRECTORY|FOLDER)\}?"
    r"|/?path/to/[\w./-]*",
    re.IGNORECASE,
)

# Language names people use for file kinds ("python files" -> *.py).
LANGUAGE_EXT = {
    "python": "py",
    "java": "java",
    "javascript": "js",
    "typescript": "ts",
    "c": "c",
    "cpp": "cpp",
    "go": "go",
    "rust": "rs",
    "ruby": "rb",
    "perl": "pl",
    "php": "php",
    "shell": "sh",
    "bash": "sh",
    "text": "txt",
    "markdown": "md",
    "html": "html",
    "css": "css",
    "json": "json",
    "yaml": "yaml",
    "xml": "xml",
    "csv": "csv",
    "log": "log",
    "pdf": "pdf",
    "jpeg": "jpeg",
    "jpg": "jpg",
    "png": "png",
    "mp3": "mp3",
    "zip": "zip",
}
_WORD_EXTS = set(LANGUAGE_EXT.values())


def urls(text: str) -> list[str]:
    return _unique(m.group(0) for m in _URL.finditer(text))


def _outside_urls(text: str) -> str:
    return _URL.sub(" ", text)


def files(text: str) -> list[str]:
    return _unique(m.group(1) for m in _FILE.finditer(_outside_urls(text)) if not m.group(1).startswith("*."))


def directories(request: str) -> list[str]:
    """Directories a request names by a word ("compress the logs directory" -> ``logs``), "home",
    "root", "parent" and "temp" as the paths they mean (``~``, ``/``, ``..``, ``/tmp``)."""
    return _unique(name for name, _ in _directory_uses(request))


def _directory_uses(request: str) -> list[tuple[str, bool]]:
    """``directories`` in order, each with whether it is where something goes ("copy file.txt to
    the backup directory") rather than where the command works ("the files in the logs directory")."""
    found = ((w, bool(to)) for to, w in _DIRECTORY.findall(request) if w.lower() not in _NOT_DIRECTORIES)
    return [(_DIRECTORY_WORDS.get(w.lower(), w), to) for w, to in found]


def paths(text: str) -> list[str]:
    return _unique(m.group(1) for m in _PATH.finditer(_outside_urls(text)) if not _FILE.fullmatch(m.group(1)))


def numbers(text: str) -> list[str]:
    return _unique(m.group(1) for m in _NUMBER.finditer(_outside_urls(text)))


def extensions(request: str, *, plural: bool = False) -> list[str]:
    """File kinds a request names: ".log files" -> log, "python files" -> py, "jpgs" -> jpg.
    ``plural``: only kinds of "files" (or a plural such as "jpgs"), not of one "file" ("save errors
    to a log file" names one file, not a kind to look for)."""
    out = []
    for m in _EXT_WORD.finditer(request):
        if m.group(3):
            out.append(m.group(3).lower())
            continue
        if plural and not m.group(0).lower().endswith("files"):
            continue
        if m.group(1):
            out.append(m.group(1).lower())
        else:
            word = m.group(2).lower()
            if word in LANGUAGE_EXT:
                out.append(LANGUAGE_EXT[word])
            elif word in _WORD_EXTS:
                out.append(word)
    return _unique(out)


def _unique(items: object) -> list[str]:
    return list(dict.fromkeys(items))  # type: ignore[call-overload]


def adapt(command: str, example_request: str, request: str, *, swap_numbers: bool = True) -> str:
    """``command`` (the answer to ``example_request``) with the arguments ``request`` names.

    ``swap_numbers`` False: numbers stay. Without an example request to say which of a command's
    numbers are arguments, a number is as likely structure (``-maxdepth 1``, ``-f 2``) as data.
    """
    out = command
    for find in (urls, files, paths, numbers) if swap_numbers else (urls, files, paths):
        out = _swap(out, example_request, request, find)
    # tldr's placeholders: "path/to/file" stands for whatever the request names.
    placeholders = _unique(m.group(0) for m in _PLACEHOLDER.finditer(out))
    named = [a for a in files(request) + paths(request) if not mentions(out, a)]
    if len(placeholders) == 1 and len(named) == 1:
        out = _replace_words(out, {placeholders[0]: named[0]})
    ours = extensions(request)
    globs = _unique(m.group(1) for m in _GLOB.finditer(out))
    if len(ours) == 1 and len(globs) == 1 and globs[0] != ours[0]:
        out = re.sub(rf"\*\.{re.escape(globs[0])}\b", f"*.{ours[0]}", out)
    elif len(ours) == 1 and not globs and not files(request):
        # "all .sh files" where the example named one file ("file.sh"): the glob takes its place.
        theirs = [f for f in files(out) if f in example_request]
        if len(theirs) == 1:
            out = _replace_glob(out, theirs[0], f"*.{ours[0]}")
    out = _flags_asked(_count_unit(_count_from_the_end(_output(out, request), request), request), request)
    out = _swap_word(_swap_name(out, example_request, request), example_request, request)
    out = _swap_user(out, example_request, request)
    return fill_file(_here(out, request), request)


def settle(command: str, request: str) -> str:
    """``command`` as shown for ``request``: first a ``find`` over the one file it names made the
    program it runs (``_one_file``) and a ``find`` started at ``.`` where it names no place
    (``_nowhere``); then the directory it names by a word (``_into_directory``),
    the field and separator of a column (``_columns``), a ``find``'s time window (``_time_window``)
    and size (``_size_window``), the words of a substitution (``_substitution``), the end of a
    sorted list and how many from it (``_extreme``), the text a stand-in pattern looks for
    (``_pattern``), the user a stand-in user is (``_user``), the process a command names
    (``_process``), a count of what a command lists
    where the request asks for one number (``_count``), the process id it gives (``_pid``), what a
    ``tar`` of nothing archives (``_archive``), what an archive of an example's one member archives
    (``_archive_source``), the compression a ``tar`` uses (``_compression``), a last ``grep`` for a
    word it never says dropped (``_unasked_filter``), and the kind of files it names in a ``find`` that selects none by name
    (``_kind_filter``). Applied to the ranked candidates (``answer.distinct_commands``), not before
    they are scored like ``adapt``'s swaps: these read the request alone, and a command rewritten
    so is less likely under the model than the form it learnt (``du -hs ~`` against ``du -hs
    /path/to/directory``), which would rank it anew (measured in docs/benchmarks.md)."""
    out = _into_directory(_nowhere(_one_file(command, request), request), request)
    out = _time_window(_columns(out, request), request)
    out = _extreme(_substitution(_size_window(out, request), request), request)
    out = _count(_process(_user(_pattern(out, request), request), request), request)
    out = _compression(_archive_source(_archive(_pid(out, request), request), request), request)
    return _kind_filter(_unasked_filter(out, request), request)


# find's tests that select files by name: a find with one of them chose its files already.
_NAME_TESTS = frozenset(["-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename", "-regex", "-iregex"])


def names_target(command: str, target: str) -> bool:
    """Whether ``command`` names ``target`` (one of ``targets``): a file kind ``*.ext`` counts as
    named by any glob or pattern with its ending (``t*.sh``, ``'*.[sS][hH]'`` does not), a path by
    itself or its last part (``$HOME/.ssh/known_hosts`` names ``~/.ssh/known_hosts``), everything
    else as ``mentions`` has it."""
    if target.startswith("*."):
        return re.search(rf"\.{re.escape(target[2:])}(?![\w-])", command) is not None
    last = target.rstrip("/").rsplit("/", 1)[-1]
    return mentions(command, target) or (last not in ("", ".", "..", "~") and mentions(command, last))


def _kind_filter(command: str, request: str) -> str:
    """Each ``find`` of ``command`` that selects no files by name, given the one kind of files the
    request names: "delete all .tmp files older than 7 days" with ``find ./ -mtime +7 -delete``
    (every file older than 7 days) -> ``find ./ -name '*.tmp' -mtime +7 -delete``; "list HTML files
    ... that are 50k" with ``find ~ -size 50k`` -> ``find ~ -name '*.html' -size 50k``. Only where the
    request names one kind of "files" (``extensions(plural=True)``) and no file, and the command
    says that kind nowhere (a ``grep`` for ``.py`` after the find selects them already); a ``find``
    run as a program of its own (not inside ``-exec`` or a substitution)."""
    kinds = extensions(request, plural=True)
    if len(kinds) != 1 or "find" not in command or files(request) or names_target(command, "*." + kinds[0]):
        return command
    from bash_ai.safety.shell import Command, parse
    from bash_ai.tidy import find_start

    out = command
    for item in reversed(parse(command).items):  # from the end: earlier offsets stay right
        if not isinstance(item, Command) or (found := find_start(item)) is None:
            continue
        if any(word.value in _NAME_TESTS for word in item.words):
            continue
        after = found[1][-1] if found[1] else found[0]
        out = f"{out[: after.end]} -name '*.{kinds[0]}'{out[after.end :]}"
    return out


_FILTER_WORD = re.compile(r"[\w.-]+")
# A pipeline that ends in a grep: only such a command is parsed for ``_unasked_filter``.
_LAST_GREP = re.compile(r"\|\s*e?grep\s[^|;&]*$")


def _unasked_filter(command: str, request: str) -> str:
    """A pipeline's last stage that greps for a word the request never says, dropped: ``ps aux |
    grep postgres`` -> ``ps aux`` for "show running processes", ``env | grep DUALCASE`` -> ``env``
    for "show the environment variables" (the example's own search, copied). Only a plain ``grep``
    (``-i``/``-w`` at most) of one plain word at the end of a pipeline of two or more programs; a
    request that says the word, in any case, keeps it (``_process`` and ``_pattern`` put the
    request's own word there first where it names one)."""
    if not _LAST_GREP.search(command):
        return command
    from bash_ai.safety.shell import Command, parse

    script = parse(command)
    n = len(script.items)
    if n < 2 or script.ops[n - 2] != "|" or any(script.ops[n - 1 :]):
        return command
    last, before = script.items[-1], script.items[-2]
    if (
        not isinstance(last, Command)
        or last.redirects
        or not last.words
        or last.words[0].value not in ("grep", "egrep")
    ):
        return command
    args = [w.value for w in last.words[1:]]
    options = [a for a in args if a.startswith("-")]
    (pattern, *more) = [a for a in args if not a.startswith("-")] or [""]
    if more or not _FILTER_WORD.fullmatch(pattern) or any(o not in ("-i", "-w", "-iw", "-wi") for o in options):
        return command
    if pattern.lower() in request.lower():  # said as itself (``mentions``) or in another case
        return command
    return command[: before.end].rstrip()


_ARCHIVE_ENDING = r"\.(?:tar(?:\.(?:gz|bz2|xz|zst))?|tgz|tbz2?|txz)"
_ARCHIVE_NAME = re.compile(_ARCHIVE_ENDING + "$")
_COMPRESS_ASKED = re.compile(r"\b(?:compress\w*|gzip\w*|zip(?:ped)?)\b|\.(?:tgz|gz)\b", re.IGNORECASE)
_TAR_CREATE = re.compile(r"-?[A-Za-z]*c[A-Za-z]*f")  # a bundle that creates, its archive next: cvf, -czf
# Each compression letter of tar and the ending of the archive it writes.
_TAR_ENDINGS = {"z": ".tar.gz", "j": ".tar.bz2", "J": ".tar.xz"}


# The compression a request names by word, as tar's letter: "a bzip2 tarball", "as .tar.xz".
_COMPRESSION_WORDS = (
    (re.compile(r"\b(?:gzip(?:ped|s)?|gz)\b|\.(?:tar\.gz|tgz)\b", re.IGNORECASE), "z"),
    (re.compile(r"\bbzip2?(?:ped)?\b|\bbz2\b|\.(?:tar\.bz2|tbz2?)\b", re.IGNORECASE), "j"),
    (re.compile(r"\bxz\b|\.(?:tar\.xz|txz)\b", re.IGNORECASE), "J"),
)
_TAR_LONG = {"--gzip": "z", "--gunzip": "z", "--bzip2": "j", "--xz": "J"}
# An archive name's ending, each compression's own: ``.tgz`` and ``.tar.gz`` both mean gzip.
_COMPRESSED_ENDING = re.compile(r"\.(?:tar(?:\.(?:gz|bz2|xz))?|tgz|tbz2?|txz)$")


def _compression(command: str, request: str) -> str:
    """A ``tar`` that creates an archive compressed as the request says by word: "make a bzip2
    tarball of the logs directory" turns ``tar -czf logs.tar.gz logs`` into ``tar -cjf logs.tar.bz2
    logs``. The letter (``z``, ``j``, ``J``) is changed, or added before the bundle's ``f``; a long
    option (``--gzip``, ``--bzip2``, ``--xz``) is changed; the archive's name gets the matching
    ending. Only a whole command that is one ``tar`` creating (its bundle of letters first, ending
    in ``f``, the archive next), for a request that names one compression and no archive of its own."""
    if not command.startswith("tar "):
        return command
    named = {letter for cue, letter in _COMPRESSION_WORDS if cue.search(request)}
    if len(named) != 1 or any(_ANY_ARCHIVE.search(t) for t in targets(request)):
        return command
    (wanted,) = named
    from bash_ai.tidy import lone_command

    item = lone_command(command)
    if item is None or len(item.words) < 3 or not _TAR_CREATE.fullmatch(item.words[1].value):
        return command
    bundle, archive, rest = item.words[1], item.words[2], item.words[3:]
    letters = [c for c in bundle.value if c in _TAR_ENDINGS]
    longs = [w for w in rest if w.value in _TAR_LONG or w.value in ("-z", "-j", "-J")]
    given = {*letters, *(_TAR_LONG.get(w.value, w.value[-1]) for w in longs)}
    if given == {wanted} or len(given) > 1 or any(w.value.startswith(("--zstd", "-I", "--use-compress")) for w in rest):
        return command
    edits: list[Edit] = []
    if letters:
        edits.append((bundle.start, bundle.end, bundle.value.replace(letters[0], wanted)))
    elif longs:
        flag = next(long for long, letter in _TAR_LONG.items() if letter == wanted)
        edits.append((longs[0].start, longs[0].end, flag if longs[0].value.startswith("--") else f"-{wanted}"))
    else:
        edits.append((bundle.start, bundle.end, f"{bundle.value[:-1]}{wanted}f"))
    ending = _COMPRESSED_ENDING.search(archive.value)
    if ending is not None and not archive.subs:
        edits.append((archive.start, archive.end, archive.value[: ending.start()] + _TAR_ENDINGS[wanted]))
    return _applied(command, edits)


# An example's stand-in for the archive's name (``filename.tar.gz``), with its ending.
_STAND_IN_ARCHIVE = re.compile(
    r"(?:file_?name|file|archive(?:[_-]?name)?|my_?archive|name|output|out|foo|example|tarball)"
    rf"({_ARCHIVE_ENDING})"
)


def _archive(command: str, request: str) -> str:
    """A ``tar`` that creates an archive of nothing, or writes it to the terminal, archives the one
    directory or file the request names, into the archive the request names or one named after it:
    "compress the logs directory" turns ``tar cvf logs`` (an empty archive called ``logs``, which
    tar refuses to create) into ``tar cvzf logs.tar.gz logs``, and ``tar cvf - src`` (the archive's
    bytes on the terminal) for "create a tar archive of the src directory" into ``tar cvf src.tar
    src``; an example's stand-in for the archive's name takes the source's (``tar -cvzf
    filename.tar.gz src`` -> ``tar -cvzf src.tar.gz src``). "compress" or "gzip" adds ``z`` where the bundle has no compression letter. Only a whole
    command that is one ``tar`` whose first word is its bundle of letters ending in ``f``."""
    if not command.startswith("tar "):
        return command
    from bash_ai.tidy import lone_command

    item = lone_command(command)
    if item is None or len(item.words) < 3:
        return command
    bundle, archive, members = item.words[1].value, item.words[2].value, [w.value for w in item.words[3:]]
    if not _TAR_CREATE.fullmatch(bundle) or any(m.startswith("-") for m in members):
        return command
    named = targets(request)
    wanted = [t for t in named if _ARCHIVE_NAME.search(t)]
    sources = [t.rstrip("/") for t in named if t not in wanted]
    if len(sources) != 1 or len(wanted) > 1:
        return command
    (source,) = sources
    stand_in = _STAND_IN_ARCHIVE.fullmatch(archive) if members == [source] and not wanted else None
    if members and not (archive == "-" and members == [source]) and not stand_in:
        return command
    if not members and archive not in ("-", source) and not _ARCHIVE_NAME.search(archive):
        return command
    letters = bundle
    if _COMPRESS_ASKED.search(request) and not set(_TAR_ENDINGS) & set(bundle):
        letters = f"{bundle[:-1]}z{bundle[-1]}"
    if wanted:
        into = wanted[0]
    elif stand_in:
        into = f"{source}{stand_in.group(1)}"
    elif archive not in ("-", source):
        into = archive
    else:
        ending = next((e for letter, e in _TAR_ENDINGS.items() if letter in letters), ".tar")
        into = f"{source}{ending}"
    return f"tar {letters} {into} {source}"


_ZIP_ENDING = r"\.zip"
_ANY_ARCHIVE = re.compile(f"(?:{_ARCHIVE_ENDING}|{_ZIP_ENDING})$")
_ZIP_VALUED = frozenset({"-P", "--password", "-b", "--temp-path", "-n", "--suffixes", "-t", "-tt", "-Z"})
_ZIP_LISTS = frozenset({"-x", "--exclude", "-i", "--include", "-@", "--names-stdin"})
_SOURCE_NAME = re.compile(r"[\w.+-]*\w")
# A request that asks for a new archive ("zip the docs folder", "tar up the app folder", "back up
# src"), and one that asks to do something else with an archive, which a new one would write over
# ("append newfile.txt to archive.tar", "add notes.txt to existing.zip", "pull etc/hosts out of ...").
_ARCHIVE_ASKED = re.compile(
    r"\b(?:compress\w*|archiv\w*|zip(?:s|ped)?|tar(?:s|red)?|tarball|pack|bundle|back\s*up)\b", re.I
)
_OTHER_USE = re.compile(
    r"\b(?:append\w*|add\w*|extract\w*|open\w*|pull\w*|list\w*|updat\w*|unpack\w*|decompress\w*|uncompress\w*|"
    r"unzip\w*|untar\w*|cop(?:y|ies)|send\w*|upload\w*|mov\w*|show\w*|view\w*|read\w*|search\w*|find\w*|"
    r"delet\w*|remov\w*|inspect\w*|test\w*|check\w*|verif\w*|split\w*|encrypt\w*)\b",
    re.I,
)
_ENDING_WORD = re.compile(r"(?:tar\.)?(?:gz|bz2|xz|zst|tar|tgz|zip|7z|rar)", re.I)  # "a tar.gz file": a kind


def _archive_source(command: str, request: str) -> str:
    """An archive created of one member the request never names (an example's), where the request
    names one thing to archive: the member becomes that, and an archive named after the member, or
    an example's stand-in, is named after it too. "password protected zip of the private folder"
    turns ``zip -er secret.zip documents`` into ``zip -er secret.zip private``, and "tar up the app
    folder but leave out node_modules" ``tar -czf project.tar.gz --exclude=node_modules project``
    into ``tar -czf app.tar.gz --exclude=node_modules app``. Only a whole command that is one ``tar``
    creating (its bundle of letters first, ending in ``f``, the archive next) or one ``zip``, for a
    request that asks for a new archive and names none (an archive it names may be one to keep:
    "append newfile.txt to archive.tar"); a member that is a glob, a variable or a place such as
    ``.`` stays."""
    if not command.startswith(("tar ", "zip ")) or not _ARCHIVE_ASKED.search(request) or _OTHER_USE.search(request):
        return command
    from bash_ai.tidy import lone_command

    item = lone_command(command)
    if item is None or len(item.words) < 3:
        return command
    words = item.words[1:]
    if item.words[0].value == "tar":
        if not _TAR_CREATE.fullmatch(words[0].value):
            return command
        archive, rest = words[1], words[2:]
    else:
        if any(w.value in _ZIP_LISTS for w in words):
            return command
        operands = [
            w
            for i, w in enumerate(words)
            if not w.value.startswith("-") and (i == 0 or words[i - 1].value not in _ZIP_VALUED)
        ]
        if len(operands) < 2:
            return command
        archive, rest = operands[0], operands[1:]
    members = [w for w in rest if not w.value.startswith("-")]
    named = targets(request)
    if any(_ANY_ARCHIVE.search(t) for t in named):  # an archive of its own: new, or one to keep
        return command
    sources = [t.rstrip("/") for t in named if not t.startswith("*.") and not _ENDING_WORD.fullmatch(t)]
    if len(members) != 1 or len(sources) != 1:
        return command
    (member,), (source,) = members, sources
    if not _SOURCE_NAME.fullmatch(member.value) or mentions(request, member.value):
        return command
    edits: list[Edit] = [(member.start, member.end, source)]
    ending = _ANY_ARCHIVE.search(archive.value)
    base = source.rsplit("/", 1)[-1]
    if ending and _SOURCE_NAME.fullmatch(base):
        stem = archive.value[: ending.start()].rsplit("/", 1)[-1]
        if stem == member.value or _STAND_IN_ARCHIVE.fullmatch(archive.value.rsplit("/", 1)[-1]):
            edits.append((archive.start, archive.end, base + ending.group(0)))
    return _applied(command, edits)


# "the process with pid 1234", "process id 1234", "PID 1234", "process 1234".
_PID_NAMED = re.compile(r"\b(?:pid|process(?:\s+(?:with\s+)?(?:the\s+)?(?:id|pid))?)\s+(\d+)\b", re.IGNORECASE)
# Programs that look processes up by name and print their ids (a kill's operand substitutes one).
_PID_LOOKUPS = frozenset(["pgrep", "pidof", "jobs", "ps"])


def _pid(command: str, request: str) -> str:
    """``kill -9 $(pgrep myprocess)`` -> ``kill -9 1234`` for "kill the process with pid 1234": a
    ``kill`` whose process is looked up (a substitution that runs ``pgrep``, ``pidof``, ``jobs`` or
    ``ps``) gets the one process id the request gives instead. Only the operands of a ``kill`` the
    command runs as a program of its own; signals and everything else stay."""
    given = {m.group(1) for m in _PID_NAMED.finditer(request)}
    if len(given) != 1 or "kill" not in command:
        return command
    (pid,) = given
    from bash_ai.safety.shell import Command, parse

    edits: list[Edit] = []
    for item in parse(command).items:
        if not isinstance(item, Command) or not item.words or item.words[0].value != "kill":
            continue
        for word in item.words[1:]:
            looked_up = [
                inner.words[0].value
                for sub in word.subs
                for inner in sub.items
                if isinstance(inner, Command) and inner.words
            ]
            if looked_up and looked_up[0] in _PID_LOOKUPS and command[word.start : word.end] == word.raw:
                edits.append((word.start, word.end, pid))
    return _applied(command, edits)


# What may stand beside the one -exec of a find over one file: tests that a regular file passes.
_ONE_FILE_TESTS = (("-type", "f"), ("-print",))


def _one_file(command: str, request: str) -> str:
    """``find server.log -exec grep error {} \\;`` -> ``grep error server.log``, for a request that
    names ``server.log`` as a file: a ``find`` whose only starting point is one file runs its
    ``-exec`` once, on that file (``-type f`` passes it; a trailing ``-print`` only adds its name
    after grep's lines), so the program run on the file is the command. A flag the request asks for
    is then added to it as to any program (``_flags_asked``: "ignoring case" -> ``grep -i``). Only a
    whole command that is that one ``find``, and only for a file the request names."""
    if "-exec" not in command or "{}" not in command or not command.lstrip().startswith("find"):
        return command
    named = files(request)
    if not named:
        return command
    from bash_ai.tidy import find_start, lone_command

    item = lone_command(command)
    found = find_start(item) if item is not None else None
    if item is None or found is None or len(found[1]) != 1 or found[1][0].value not in named:
        return command
    start = found[1][0]
    words = [w for w in item.words if w.start > start.start]
    rest = [w.value for w in words]
    if "-exec" not in rest:
        return command
    at = rest.index("-exec")
    end = next((i for i in range(at + 1, len(rest)) if rest[i] in (";", "+")), None)
    if end is None:
        return command
    body, around = rest[at + 1 : end], rest[:at] + rest[end + 1 :]
    if body.count("{}") != 1 or body[-1] != "{}" or len(body) < 2:
        return command
    pairs = [tuple(around[i : i + 2]) for i in range(0, len(around), 2)]
    if any(pair not in _ONE_FILE_TESTS and pair[:1] != ("-print",) for pair in pairs) or around.count("-print") > 1:
        return command
    program = words[at + 1 : at + len(body)]
    return _flags_asked(f"{command[program[0].start : program[-1].end]} {start.raw}", request)


# At most this many words of a request may differ from its example's for ``_swap_word``.
MAX_CHANGED_WORDS = 2
# Words two phrasings of one request add or drop freely, left out when requests are compared.
_FILLER = frozenset(["the", "a", "an", "my", "your", "please", "utility", "command", "program", "tool"])
_REQUEST_WORD = re.compile(r"(?<![\w./$-])[A-Za-z_][\w+-]*(?![\w./])|\x00")
# A command that asks a program only for its version or help: the program may change.
_ABOUT_ITSELF = re.compile(r"\s*[a-z][\w+-]*(?:\s+(?:--version|--help|-h|-V|-v|version|help))+\s*")


def _stem(word: str) -> str:
    word = word.lower()
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 3 else word


@functools.lru_cache(maxsize=256)
def _word_sequence(text: str) -> tuple[str, ...]:
    """A request's words in order, each URL, file, path or number as one placeholder (``\\x00``),
    fillers left out. Cached: ``adapt`` reads the same request once per candidate."""
    plain = _replace_words(_URL.sub("\x00", text), {a: "\x00" for a in _literal_arguments(text)})
    return tuple(w for w in _REQUEST_WORD.findall(plain) if w.lower() not in _FILLER)


def _swap_word(command: str, example_request: str, request: str) -> str:
    """The request's changed words in place of its example's, where the two requests differ in at
    most ``MAX_CHANGED_WORDS`` words, each in the same place (arguments, articles and words such as
    "utility" aside), and the command has every changed word of the example's: asked "show the
    manual page of grep", the example "Show manual page of find" -> ``man find`` becomes ``man
    grep``; "kill all chrome processes" -> ``killall chrome`` answers "kill all firefox processes"
    as ``killall firefox``. Only whole words of the command; never a program (its options are its
    own), unless the command asks that program only for its version or help (``find --version`` ->
    ``grep --version``) and the new word is a program this machine has."""
    theirs, ours = _word_sequence(example_request), _word_sequence(request)
    changed = [i for i, (a, b) in enumerate(zip(theirs, ours, strict=False)) if _stem(a) != _stem(b)]
    if not theirs or len(theirs) != len(ours) or not 0 < len(changed) <= MAX_CHANGED_WORDS:
        return command
    from bash_ai.nlc2cmd import utility_flags

    programs = {program for program, _ in utility_flags(command) or []}
    pairs: dict[str, str] = {}
    for i in changed:
        gone, word = theirs[i], ours[i]
        old = next((w for w in (gone, gone.lower()) if _word_in(command, w)), None)
        if any(word in (m.group(0).split()[0], "here") for m in _HERE.finditer(request)):
            word = "."  # "under current directory" where the example said "under trunk directory"
        if "\x00" in (gone, word) or old is None or _word_in(command, word) or _word_in(command, word.lower()):
            return command
        if old in programs:
            from bash_ai.engine.installed import missing_programs

            if not _ABOUT_ITSELF.fullmatch(command) or missing_programs(word):
                return command
        pairs[old] = word
    return _replace_words(command, pairs)


# What ``wc`` counts, by the request's word for it: its flags for that, the first one preferred
# (``wc -c`` counts characters as bytes, which is what NL2Bash's annotators wrote for "characters").
_UNITS = {"line": "l", "word": "w", "character": "mc", "char": "mc", "letter": "mc", "byte": "c"}
_UNIT_WORD = re.compile(r"\b(lines?|words?|characters?|chars?|letters?|bytes?)\b", re.IGNORECASE)
_WC_UNIT = re.compile(r"(\bwc\s+-)([lwmc])(?=[\s|;&)]|$)")


def _units_named(request: str) -> set[str]:
    """The ``wc`` flags of the units a request names ("the words" -> ``w``, "characters" -> ``mc``)."""
    return {_UNITS[_stem(m.group(1))] for m in _UNIT_WORD.finditer(request)}


def _count_unit(command: str, request: str) -> str:
    """``wc`` counting what the request counts: "count the words in essay.txt" with ``wc -l
    essay.txt`` (its example counted lines) -> ``wc -w essay.txt``. Only where the request names one
    kind of unit (lines, words, characters or bytes) and the command has one ``wc`` with one unit
    flag; for characters ``-c`` stays (``-m`` replaces ``-l`` or ``-w``)."""
    kinds = _units_named(request)
    found = _WC_UNIT.findall(command)
    if len(kinds) != 1 or len(found) != 1:
        return command
    (flags,) = kinds
    return _WC_UNIT.sub(lambda m: m.group(0) if m.group(2) in flags else m.group(1) + flags[0], command)


_LAST_LINES = re.compile(r"\b(last|first)\s+(\d+)\s+lines?\b", re.IGNORECASE)


def _count_from_the_end(command: str, request: str) -> str:
    """ "the last 2 lines" with ``tail -n +2`` (from line 2 on: all but the first) -> ``tail -n 2``;
    "the first 5 lines" with ``head -n -5`` (all but the last 5) -> ``head -n 5``. NL2Bash teaches
    both signed forms ("print all lines but the first"), and the model reaches for them where the
    request counts plainly."""
    asked = _LAST_LINES.findall(request)
    if len(asked) != 1:
        return command
    end, count = asked[0][0].lower(), asked[0][1]
    program, sign = ("tail", r"\+") if end == "last" else ("head", "-")
    command = re.sub(rf"(\b{program}\s+(?:-n\s*|--lines[=\s])){sign}({count})(?![\w.])", r"\1\2", command)
    if program == "tail":  # the old "tail +2" (from line 2 on)
        command = re.sub(rf"(\btail\s+)\+({count})(?![\w.])", r"\1-n \2", command)
    return command


_VARIABLE = re.compile(r"\b(?:variables?|vars?|save[sd]?|store[sd]?|assign(?:s|ed)?|set)\b|\$", re.IGNORECASE)


def _output(command: str, request: str) -> str:
    """A lone ``x=$(cmd)`` -> ``cmd`` (``bash_ai.tidy.unwrap_assignment``) for a request that asks
    for no variable (no "variable", "save", "store", "set" or ``$``, nor the variable's name): the
    output is what it asked for, and the assignment prints nothing."""
    name = re.match(r"\s*([A-Za-z_]\w*)=", command)
    if name is None or _VARIABLE.search(request) or _word_in(request, name.group(1)):
        return command
    from bash_ai.tidy import unwrap_assignment

    return unwrap_assignment(command)


def _names(text: str) -> list[str]:
    return _unique(m.group(1).rstrip(".") for m in _NAMED.finditer(text) if m.group(1).lower() not in _NOT_NAMES)


def _swap_name(command: str, example_request: str, request: str) -> str:
    """The request's one name ("a directory called projects") in place of the example's: the name
    its request gave ("... named dir1"), or else the one word of the command that its request
    names, if only one does and ours does not ("Create directory dir1" -> ``mkdir dir1``), never a
    program or an option; the request's name not in the command yet."""
    ours = _names(request)
    if len(ours) != 1 or _word_in(command, ours[0]) or not example_request:
        return command
    theirs = _names(example_request)
    if not theirs:
        from bash_ai.nlc2cmd import utility_flags

        programs = {program for program, _ in utility_flags(command)}
        words = re.findall(r"(?<![\w.$-])([A-Za-z_][\w-]*)(?![\w.-])", command)  # no $variables
        theirs = _unique(w for w in words if w not in programs and _word_in(example_request, w))
        if len(theirs) == 1 and re.search(rf"(?<![\w.-]){re.escape(theirs[0])}(?![\w.-])", request, re.IGNORECASE):
            return command  # the request uses that word too
    if len(theirs) != 1 or not _word_in(command, theirs[0]):
        return command
    return _replace_words(command, {theirs[0]: ours[0]})


def _word_in(command: str, word: str) -> bool:
    """``word`` as a whole shell word or path part (``python`` is not in ``/usr/bin/python3``)."""
    return re.search(rf"(?<![\w.$-]){re.escape(word)}(?![\w.-])", command) is not None


def _here(command: str, request: str) -> str:
    """``command`` searching ``.`` where the request asks for the current directory ("this
    directory", "under here") and names no path, but a ``find`` of the command (its example's, or a
    beam's) starts at one other place the request does not name: "delete all .tmp files in this
    directory tree" -> ``find /tmp -name '*.tmp' -delete`` becomes ``find . -name '*.tmp' -delete``,
    and "get rid of .DS_Store files everywhere under here" ``find test -name .DS_Store -delete``
    (an example's directory) ``find . -name .DS_Store -delete``. Only a ``find``'s single starting
    point, and no command that uses ``.`` already; other programs' paths may be where output goes,
    and stay."""
    if not _HERE.search(request) or paths(request):
        return command
    return _find_here(command, request, relative=True)


# A request that says where to look: a place, a path, or the whole system.
_PLACE = re.compile(
    r"[/~]|\b(?:system|root|everywhere|anywhere|entire|whole|hierarchy|file\s*systems?|partitions?|disks?|drives?"
    r"|mount\w*|machine|computer|server|host|home|user'?s?|director(?:y|ies)|folders?|dirs?|tree|under|below"
    r"|within|inside|in\s+(?:there|here)|parent|te?mp|temporary)\b",
    re.IGNORECASE,
)


def _nowhere(command: str, request: str) -> str:
    """``find / -name config.yaml`` -> ``find . -name config.yaml`` for "find files named
    config.yaml": a request that names no place searches where the user is, as ``find`` itself
    does when given none, not the whole disk or a directory of the example's (``find /etc/ -type f
    ...`` for "list files sorted by size"). Only a ``find``'s single absolute starting point, and
    only where the request says nothing of where to look (``_PLACE``: "the entire system", "my home
    directory", a path, "under", ...)."""
    if _PLACE.search(request) or paths(request):
        return command
    return _find_here(command, request)


# A find with an absolute path or ~ after it: only such a command is parsed for ``_find_here``.
_FIND_FROM_ROOT = re.compile(r"\bfind\b[^|;&]*?\s[\"']?[/~]")
_FIND = re.compile(r"\bfind\s")
# A relative starting point that is a plain name or path ("test", "src/app"), not an option or test.
_RELATIVE_START = re.compile(r"[\w+][\w.+-]*(?:/[\w.+-]+)*/?")


def _find_here(command: str, request: str, *, relative: bool = False) -> str:
    """Each ``find`` of ``command`` that starts at one absolute path the request does not name,
    starting at ``.`` instead; with ``relative``, one relative path it does not name too. A command
    that uses ``.`` already is left as written."""
    if _DOT_WORD.search(command) or not (_FIND if relative else _FIND_FROM_ROOT).search(command):
        return command
    from bash_ai.safety.shell import Command, parse
    from bash_ai.tidy import find_start

    out = command
    for item in reversed(parse(command).items):  # from the end: earlier offsets stay right
        found = find_start(item) if isinstance(item, Command) else None
        start = found[1][0] if found is not None and len(found[1]) == 1 else None
        if start is None or start.subs or mentions(request, start.value.rstrip("/") or start.value):
            continue
        if start.value.startswith(("/", "~")) or (relative and _RELATIVE_START.fullmatch(start.value)):
            out = f"{out[: start.start]}.{out[start.end :]}"
    return out


def _into_directory(command: str, request: str) -> str:
    """``command`` working in the one directory the request names by a word (``directories``) where
    it has exactly one place that stands for a directory of the example's: "count the files in the
    logs directory" with ``find . -type f | wc -l`` -> ``find logs -type f | wc -l``; "search for main
    in the src directory" with ``grep -r main .`` -> ``grep -r main src``; ``du -hs
    /path/to/directory`` -> ``du -hs ~`` for "the home directory". A place is a ``find``'s one
    starting point, an operand ``.`` or ``./``, a path the request does not name, or a stand-in
    (``dir``, ``$DIR``); with two or more, which one is meant is a guess, and the command stays.
    Not where the request names a path, asks for the current directory, or the command has the
    directory already. A directory things go to ("move report.pdf to the documents folder") is not
    where a ``find`` searches: its starting point stays."""
    uses = _directory_uses(request)
    named = _unique(name for name, _ in uses)
    if len(named) != 1 or paths(request) or _HERE.search(request) or _word_in(command, named[0]):
        return command
    destination = all(to for _, to in uses)
    from bash_ai.safety.shell import Command, parse
    from bash_ai.tidy import find_start

    places = []
    for item in parse(command).items:
        if not isinstance(item, Command) or item.kind != "simple" or len(item.words) < 2:
            continue
        found = find_start(item)
        if found is not None:
            if len(found[1]) == 1 and not destination:
                places += [w for w in found[1] if not w.subs and not _word_in(request, w.value)]
            continue
        for word in item.words[1:]:
            value = word.value.rstrip("/") or word.value
            if word.subs or word.value.startswith("-") or _word_in(request, value):
                continue
            if value == "." or _SOME_DIRECTORY.fullmatch(value) or paths(value) == [value]:
                places.append(word)
    if len(places) != 1:
        return command
    place = places[0]
    return f"{command[: place.start]}{named[0]}{command[place.end :]}"


def _replace_glob(command: str, word: str, glob: str) -> str:
    """``word`` -> ``glob`` as a whole word; quoted after ``find``'s name tests, where the shell
    must not expand it."""
    named = re.compile(rf"(-i?(?:name|path)\s+)(?<![\w./-]){re.escape(word)}(?![\w/-])")
    command = named.sub(lambda m: f"{m.group(1)}'{glob}'", command)
    return _replace_words(command, {word: glob})


def mentions(text: str, argument: str) -> bool:
    """Whether ``text`` names ``argument`` as itself, not as the tail of a longer word: ``file.txt``
    is in ``cat ./file.txt`` and in ``tar -cf /tmp/file.txt.gz``, not in ``cat myfile.txt``; a path is
    in its own ``/path/to/dir/*``, a host in ``www.google.com``, 7 in ``-mtime +7`` and not in 17."""
    return re.search(rf"(?<![\w-]){re.escape(argument)}", text) is not None


def _file_paths(text: str) -> list[str]:
    """The paths in ``text`` that end in a file's name (``/etc/logs/server.log``) and are a word of
    their own, not the tail of one (``"$(dirname "$0")/lib.sh"``)."""
    words = (m for m in _PATH.finditer(_outside_urls(text)) if m.start() == 0 or text[m.start() - 1] in " \t'\"=")
    return _unique(m.group(1) for m in words if _FILE.fullmatch(m.group(1).rsplit("/", 1)[-1]))


def _swap(command: str, example_request: str, request: str, find: Callable[[str], list[str]]) -> str:
    wanted = [a for a in find(request) if not mentions(command, a)]
    if not wanted:
        return command
    # A file asked for by its name alone takes the place of a file the command names by its path
    # ("server.log" for /etc/logs/Server.log), where the command names no file alone.
    theirs = [a for a in find(command) or (_file_paths(command) if find is files else []) if not mentions(request, a)]
    named = [a for a in theirs if a in example_request]
    slots = named if named else theirs
    if len(slots) == len(wanted) or (len(wanted) == 1 and len(slots) == 1):
        pairs = dict(zip(slots, wanted, strict=False))
    else:
        return command
    return _replace_words(command, pairs)


def _replace_words(command: str, pairs: dict[str, str]) -> str:
    """Replace whole words only (not inside a longer word or path), all at once."""
    if not pairs:
        return command
    alternation = "|".join(re.escape(k) for k in sorted(pairs, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w./-])({alternation})(?![\w/-])")
    return pattern.sub(lambda m: pairs[m.group(1)], command)


def _literal_arguments(text: str) -> set[str]:
    return {*urls(text), *files(text), *paths(text), *numbers(text)}


def request_arguments(request: str) -> set[str]:
    """What a request names: its URLs, files, paths, numbers, file kinds (as ``*.ext``) and the names
    it gives ("a directory called projects": ``projects``)."""
    return _literal_arguments(request) | {f"*.{e}" for e in extensions(request)} | set(_names(request))


# "the directory build", 'folder "old_logs"': a directory named after the word for one, quoted, or
# unquoted after "the directory" where the sentence or clause ends there ("... build and everything").
_DIRECTORY_FIRST = re.compile(
    r"\b(?:directory|folder|dir)\s+[\"'`]([\w.+-]+)[\"'`]"
    r"|\bthe\s+(?:directory|folder|dir)\s+([A-Za-z_][\w.+-]*[\w+-])(?=\s*(?:$|[,.;:!?]|\s(?:and|with|too|as well)\b))",
    re.IGNORECASE,
)
_NOT_DIRECTORY_NAMES = _NOT_DIRECTORIES | frozenset(["tree", "trees", "structure", "hierarchy", "path"])


def targets(request: str) -> list[str]:
    """The files, paths and directories a request names to act on: ``files``, ``paths``,
    ``directories``, the names it gives ("a directory called projects"), a directory named after
    the word for one ("delete the directory build") and the file kinds it names, as globs ("all .tmp
    files": ``*.tmp``)."""
    after = [
        n
        for m in _DIRECTORY_FIRST.finditer(request)
        if (n := m.group(1) or m.group(2)).lower() not in _NOT_DIRECTORY_NAMES
    ]
    kinds = [f"*.{e}" for e in extensions(request)]
    return _unique([*files(request), *paths(request), *directories(request), *_names(request), *after, *kinds])


def command_arguments(command: str) -> set[str]:
    """The same kinds of argument in a command: URLs, files, paths, numbers and ``*.ext`` globs."""
    return _literal_arguments(command) | {f"*.{e}" for e in _GLOB.findall(command)}


def named_share(wanted: set[str], command: str) -> float:
    """The share of a request's arguments (``request_arguments``) that ``command`` names (1.0 when
    there are none); the caller finds them once for all its candidates."""
    return sum(a in command for a in wanted) / len(wanted) if wanted else 1.0


def invented(request: str, command: str) -> int:
    """How many of the command's arguments the request does not name (made up, or an example's)."""
    return sum(a not in request for a in command_arguments(command))


def argument_f1(predicted: str, reference: str) -> float:
    """F1 between the arguments of two commands (1.0 when neither has any)."""
    ours, theirs = command_arguments(predicted), command_arguments(reference)
    both = len(ours & theirs)
    if not ours and not theirs:
        return 1.0
    return 2 * both / (len(ours) + len(theirs))


# Programs that read a file operand or else their input, and their options that take a value (short
# ones as single letters: ``-n 5`` and ``-n5``; long ones with ``--opt value`` or ``--opt=value``), for
# ``fill_file``. ``SCRIPT_FIRST``: the first operand is a pattern or program text, not a file.
VALUE_OPTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "head": ("nc", ("--lines", "--bytes")),
    "cat": ("", ()),
    "tail": ("ncs", ("--lines", "--bytes", "--sleep-interval", "--pid", "--max-unchanged-stats")),
    "cut": ("bcdf", ("--bytes", "--characters", "--delimiter", "--fields", "--output-delimiter")),
    "sort": ("kotST", ("--key", "--output", "--field-separator", "--buffer-size", "--temporary-directory")),
    "wc": ("", ()),
    "uniq": ("fsw", ("--skip-fields", "--skip-chars", "--check-chars")),
    "nl": ("bdfhinsvw", ("--body-numbering", "--number-separator", "--number-width", "--number-format")),
    "tac": ("s", ("--separator",)),
    "rev": ("", ()),
    "grep": ("efmABCd", ("--regexp", "--file", "--max-count", "--context", "--after-context", "--before-context")),
    "egrep": ("efmABCd", ("--regexp", "--file", "--max-count", "--context", "--after-context", "--before-context")),
    "fgrep": ("efmABCd", ("--regexp", "--file", "--max-count", "--context", "--after-context", "--before-context")),
    "awk": ("Fvf", ("--field-separator", "--assign", "--file")),
    "sed": ("ef", ("--expression", "--file")),
}
SCRIPT_FIRST = frozenset({"grep", "egrep", "fgrep", "awk", "sed"})
# A script given by option instead (``grep -e PAT``, ``awk -f prog.awk``, ``sed -e s/a/b/``).
_SCRIPT_OPTIONS = {"e", "f", "--regexp", "--file", "--expression"}


def fill_file(command: str, request: str) -> str:
    """``command`` reading the one file ``request`` names, where its first program reads its input
    for want of a file: "show the first 10 lines of notes.txt" -> ``head -n 10`` becomes ``head -n
    10 notes.txt`` (which would otherwise wait on the terminal), and a made-up operand takes the
    file's place (``cut -d, -f2 a`` -> ``cut -d, -f2 data.csv``). Only for the programs of
    ``VALUE_OPTIONS`` (whose operands can be told from option values), a plain first command (no
    redirection of its input, no ``sed -i``), and an operand that is a bare word the request does
    not use; anything else is left as written."""
    wanted = [f for f in files(request) if not mentions(command, f)]
    if len(wanted) != 1 or files(command):
        return command
    from bash_ai.safety.shell import Command, parse

    script = parse(command)
    first = script.items[0] if script.items else None
    if not isinstance(first, Command) or first.kind != "simple" or not first.words or first.assignments:
        return command
    if first.keywords or any("<" in r.op for r in first.redirects) or (script.ops and script.ops[0] not in ("|", "")):
        return command
    program = first.words[0].value
    operands = _operands(program, [w.value for w in first.words[1:]])
    if operands is None:
        return command
    file = wanted[0]  # letters, digits, "_", ".", "-", "/" and "~" only (``files``): no quoting needed
    if not operands:
        end = first.words[-1].end
        return f"{command[:end]} {file}{command[end:]}"
    words = first.words[1:]
    if len(operands) == 1:
        word = words[operands[0]]
        if re.fullmatch(r"[A-Za-z_]\w*", word.raw) and word.raw.lower() not in request.lower().split():
            return f"{command[: word.start]}{file}{command[word.end :]}"
    return command


def _operands(program: str, args: list[str]) -> list[int] | None:
    """The positions in ``args`` of ``program``'s file operands (its pattern or program text left
    out), or None where they cannot be told (an unknown program or option, ``sed -i``, a ``-``)."""
    if program not in VALUE_OPTIONS:
        return None
    short, long = VALUE_OPTIONS[program]
    operands: list[int] = []
    script_given = program not in SCRIPT_FIRST
    i, options = 0, True
    while i < len(args):
        arg = args[i]
        if options and arg == "--":
            options = False
        elif arg == "-" or (program == "sed" and arg.startswith(("-i", "--in-place"))):
            return None
        elif options and arg.startswith("--") and len(arg) > 2:
            name = arg.split("=", 1)[0]
            if name in long and "=" not in arg:
                i += 1
            script_given = script_given or name in _SCRIPT_OPTIONS
        elif options and arg.startswith("-") and len(arg) > 1:
            if program in ("head", "tail") and arg[1:].isdigit():  # the old "-20"
                i += 1
                continue
            if program == "awk" and arg[1] in "Fv":  # -F, -F: or -v x=1: awk's value sticks or follows
                i += 1 if len(arg) > 2 else 2
                continue
            for k, letter in enumerate(arg[1:], start=1):
                if letter in short:
                    script_given = script_given or letter in _SCRIPT_OPTIONS
                    if k == len(arg) - 1:
                        i += 1  # the value is the next word
                    break
                if not letter.isalpha():
                    return None
        elif not script_given:
            script_given = True  # the pattern, or the program text
        else:
            operands.append(i)
        i += 1
    return operands


# Flags a request asks for in so many words: (the request's words, programs, the flag, its long
# forms). A program of the command's own pipeline (not one run by ``find -exec`` or ``xargs``) that
# lacks the flag gets it; a flag written ``-rR`` is added as ``-r`` and given by either letter (or
# a long form; clusters read as ``bash_ai.safety.danger.flags_of`` reads them).
# "hidden" asks for ls -a unless it says the hidden files are left out.
_NOT_HIDDEN = r"^(?!.*\b(?:non|excluding|except|without|not|no|ignoring|skipping)[\s-]+(?:the\s+)?hidden\b)(?s:.*)"
_CASE = r"\b(?:ignor(?:e|es|ing)\s+(?:the\s+)?case|case[- ]insensitive(?:ly)?|regardless\s+of\s+case|any\s+case)\b"
FLAGS_ASKED: tuple[tuple[re.Pattern[str], frozenset[str], str, tuple[str, ...]], ...] = tuple(
    (re.compile(cue, re.IGNORECASE), frozenset(programs.split()), flag, tuple(long.split()))
    for cue, programs, flag, long in (
        (_CASE, "grep egrep fgrep", "-i", "--ignore-case"),
        (r"\bhuman[- ]readabl[ey]\b", "du df ls free", "-h", "--human-readable"),
        (
            r"\bline\s+numbers?\b|\bnumber(?:ed|ing)?\s+(?:the\s+|each\s+|its\s+)?lines\b",
            "grep cat",
            "-n",
            "--line-number --number",
        ),
        (r"\bfollow(?:ing)?\b|\bas\s+it\s+grows\b", "tail", "-f", "--follow"),
        (r"\bparents?\b|\bnested\b", "mkdir", "-p", "--parents"),
        (r"\bnumeric(?:al(?:ly)?)?\b", "sort", "-n", "--numeric-sort"),
        (r"\bdescending\b|\breverse(?:d)?\s+(?:order|sort)|\bin\s+reverse\b", "sort ls", "-r", "--reverse"),
        (r"\brecursive(?:ly)?\b", "grep egrep fgrep cp rm", "-rR", "--recursive"),
        (r"\brecursive(?:ly)?\b", "diff zip scp", "-r", "--recursive"),
        (r"\brecursive(?:ly)?\b", "ls chmod chown chgrp", "-R", "--recursive"),
        (r"\b(?:sort(?:ed)?|order(?:ed)?)\s+by\s+(?:file\s+)?size\b|\b(?:largest|biggest)\s+first\b", "ls", "-S", ""),
        (
            r"\b(?:sort(?:ed)?|order(?:ed)?)\s+by\s+(?:modification\s+|modified\s+)?(?:time|date)\b"
            r"|\b(?:newest|latest|most\s+recent(?:ly\s+modified)?)\s+first\b",
            "ls",
            "-t",
            "",
        ),
        (_NOT_HIDDEN + r"\bhidden\b", "ls", "-aA", "--all --almost-all"),
        (r"\blong\s+(?:list(?:ing)?\s+)?format\b|\blong\s+listing\b|\bin\s+detail\b|\bdetailed\b", "ls", "-l", ""),
        (r"\bwhole\s+words?\b", "grep egrep fgrep", "-w", "--word-regexp"),
        (r"\bverbose(?:ly)?\b", "cp mv rm", "-v", "--verbose"),
        (
            r"\binteractive(?:ly)?\b|\b(?:ask(?:ing)?|prompt(?:ing)?)\s+(?:for\s+confirmation\s+)?before\b",
            "cp mv rm",
            "-i",
            "--interactive",
        ),
    )
)
_GREP = re.compile(r"(?<![\w.-])[ef]?grep(?![\w.-])")


@functools.lru_cache(maxsize=64)
def _flags_cued(request: str) -> tuple[tuple[tuple[frozenset[str], str, tuple[str, ...]], ...], bool]:
    """The entries of ``FLAGS_ASKED`` whose words ``request`` uses (programs, flag, long forms), and
    whether it asks to ignore case. Cached: ``adapt`` reads the same request once per candidate."""
    cued = [(cue, programs, flag, long) for cue, programs, flag, long in FLAGS_ASKED if cue.search(request)]
    case = any(cue.pattern == _CASE for cue, *_ in cued)
    return tuple((programs, flag, long) for _, programs, flag, long in cued), case


_ORDINAL = {
    w: i
    for i, w in enumerate("first second third fourth fifth sixth seventh eighth ninth tenth".split(), start=1)  # noqa: SIM905
}
# "the second column", "the 3rd field", "column 2": the one field a request asks for.
_FIELD = re.compile(
    rf"\b(?:({'|'.join(_ORDINAL)})|(\d+)(?:st|nd|rd|th))\s+(?:column|field)s?\b|\b(?:column|field)\s+(?:number\s+)?(\d+)\b",
    re.IGNORECASE,
)
# A comma-separated file: a .csv file, "csv" or "comma-separated", and no word for another separator.
_COMMA = re.compile(r"\.csv\b|\bcsv\b|\bcomma[- ]separated\b|\bby commas?\b", re.IGNORECASE)
_OTHER_SEPARATOR = re.compile(
    r"\b(?:tabs?|tab-separated|colons?|spaces?|semicolons?|pipes?|whitespace|delimit\w*|separat(?:ed|or)\s+by)\b|\.tsv\b",
    re.IGNORECASE,
)
_AWK_FIELD = re.compile(r"\$(\d+)(?!\w)")


def _columns(command: str, request: str) -> str:
    """``cut`` and ``awk`` reading the field and the separator the request names: "print the second
    column of data.csv" with ``cut -d ' ' -f 4 data.csv`` (its example's field and separator) ->
    ``cut -d, -f 2 data.csv``; ``awk '{print $1}' data.csv`` -> ``awk -F, '{print $2}' data.csv``.
    The field only where the request names one ("the third field", "column 2") and the command
    selects one (a lone number after ``cut -f``, or one ``$N`` in the awk program), and not after a
    ``rev`` (which counts fields from the end); the comma where the request names a .csv file, "csv"
    or "comma-separated" and no other separator, for ``cut``'s ``-d`` and ``awk``'s ``-F`` (added
    where a field is read and none is given)."""
    asked = {int(m.group(2) or m.group(3) or _ORDINAL[m.group(1).lower()]) for m in _FIELD.finditer(request)}
    comma = _COMMA.search(request) is not None and not _OTHER_SEPARATOR.search(request)
    field = next(iter(asked)) if len(asked) == 1 and "rev" not in command.split() else None
    if field is None and not comma:
        return command
    from bash_ai.safety.shell import Command, parse

    edits: list[Edit] = []
    for item in parse(command).items:
        if not isinstance(item, Command) or item.kind != "simple" or len(item.words) < 2:
            continue
        program, words = item.words[0], item.words[1:]
        if program.value == "cut":
            edits += _cut_edits(program, words, field, comma)
        elif program.value in ("awk", "gawk", "mawk"):
            edits += _awk_edits(program, words, field, comma)
    return _applied(command, edits)


def _separator(word: Word, after: Word | None, option: str, long: str = "") -> tuple[bool, Edit | None]:
    """Whether ``word`` (and the word ``after`` it) sets a separator with ``option`` (``-d ,``,
    ``-d,``, or ``long``: ``--delimiter=,``), and the edit that makes it a comma (None: one already)."""
    value = word.value
    if value == option and after is not None:
        return True, None if after.value == "," else (word.start, after.end, f"{option},")
    if value.startswith(option) or (long and value.startswith(long)):
        given = value.removeprefix(long) if long and value.startswith(long) else value.removeprefix(option)
        return True, None if given == "," else (word.start, word.end, f"{option},")
    return False, None


def _cut_edits(program: Word, words: list[Word], field: int | None, comma: bool) -> list[Edit]:
    edits: list[Edit] = []
    delimited = False
    fields = []  # (start, end, prefix, value) of each -f value
    for i, word in enumerate(words):
        value, after = word.value, words[i + 1] if i + 1 < len(words) else None
        sets, edit = _separator(word, after, "-d", "--delimiter=")
        if sets:
            delimited = True
            if comma and edit is not None:
                edits.append(edit)
        elif value == "-f" and after is not None:
            fields.append((after.start, after.end, "", after.value))
        elif value.startswith("-f") or value.startswith("--fields="):
            prefix = "--fields=" if value.startswith("--") else "-f"
            fields.append((word.start, word.end, prefix, value.removeprefix(prefix)))
    if field is not None and len(fields) == 1 and fields[0][3].isdigit() and int(fields[0][3]) != field:
        start, end, prefix, _ = fields[0]
        edits.append((start, end, f"{prefix}{field}"))
    if comma and not delimited and fields:
        edits.append((program.end, program.end, " -d,"))
    return edits


def _awk_edits(program: Word, words: list[Word], field: int | None, comma: bool) -> list[Edit]:
    edits: list[Edit] = []
    separated = False
    text = None
    for i, word in enumerate(words):
        value, after = word.value, words[i + 1] if i + 1 < len(words) else None
        sets, edit = _separator(word, after, "-F")
        if sets:
            separated = True
            if comma and edit is not None:
                edits.append(edit)
        elif not value.startswith("-") and (i == 0 or words[i - 1].value not in ("-f", "-v", "-F")):
            text = word
            break
    if text is None or text.subs:
        return []
    found = {int(m.group(1)) for m in _AWK_FIELD.finditer(text.raw)} - {0}
    if "FS" in text.raw:
        separated = True
    if field is not None and len(found) == 1 and field not in found:
        (old,) = found
        raw = _AWK_FIELD.sub(lambda m: f"${field}" if int(m.group(1)) == old else m.group(0), text.raw)
        edits.append((text.start, text.end, raw))
    if comma and not separated and found:
        edits.append((program.end, program.end, " -F,"))
    return edits


_COUNT_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "ten": 10}
_COUNT = r"(\d+|an?|one|two|three|four|five|six|seven|ten)"
_UNIT = r"(minute|min|hour|day|week)s?\b"
# "in the last 3 days" (what has not changed "in the last 3 days" is older), "older than 2 hours",
# "less than 10 minutes old": a time window and which side of it.
_WINDOWS = (
    (
        re.compile(
            rf"\b(not\b[\w\s/-]*?)?(?:in|within|during|over|for)?\s*the\s+(?:last|past|previous)\s+{_COUNT}?\s*{_UNIT}",
            re.I,
        ),
        "-",
    ),
    (re.compile(rf"\b(?:older than|more than|over)\s+{_COUNT}\s+{_UNIT}", re.I), "+"),
    (re.compile(rf"\b(?:newer than|less than|within|under)\s+{_COUNT}\s+{_UNIT}", re.I), "-"),
)
_TIME_TEST = re.compile(r"(?<![\w-])-([mca])(time|min)\s+([+-]?\d+)(?![\w.])")
_TIME_KIND = (
    ("a", re.compile(r"\baccess", re.I)),
    ("c", re.compile(r"\b(?:chang|status)", re.I)),
    ("m", re.compile(r"\bmodif", re.I)),
)


def _time_window(command: str, request: str) -> str:
    """A ``find`` time test that says what the request says: "files modified in the last hour" with
    ``find . -mtime 1`` -> ``find . -mmin -60``; "not modified in the last 30 days" -> ``-mtime +30``;
    "older than 2 weeks" -> ``-mtime +14``. Minutes and hours are counted with ``-mmin`` (whole days of
    hours with ``-mtime``), days and weeks with ``-mtime``; the test's kind (modified, accessed,
    changed) stays, unless the request names one. Only where the request gives one window and the
    command has one time test (on NL2Bash's 545 requests and references with one of each, the
    references agree in 481: the rest write ``-mtime 0`` or ``+1`` for the last 24 hours and the like)."""
    windows = []
    for pattern, side in _WINDOWS:
        for m in pattern.finditer(request):
            negated = pattern is _WINDOWS[0][0] and m.group(1)
            count, unit = m.groups()[-2:]
            windows.append(("+" if negated else side, count, unit.lower()))
    tests = _TIME_TEST.findall(command)
    if len(windows) != 1 or len(tests) != 1:
        return command
    side, count, unit = windows[0]
    n = int(count) if count and count.isdigit() else _COUNT_WORDS.get((count or "one").lower(), 1)
    if unit in ("minute", "min") or (unit == "hour" and n % 24):
        kind, value = "min", n * (60 if unit == "hour" else 1)
    else:
        kind, value = "time", n * {"hour": 1, "day": 1, "week": 7}[unit] // (24 if unit == "hour" else 1)
    named = [letter for letter, words in _TIME_KIND if words.search(request)]
    letter = named[0] if len(named) == 1 else tests[0][0]
    return _TIME_TEST.sub(f"-{letter}{kind} {side}{value}", command)


# "larger than 100MB", "smaller than 5 kilobytes": a size, which side of it, and find's unit letter.
_SIZE_WINDOW = re.compile(
    r"\b(larger|bigger|greater|more|over|above|exceeding|smaller|less|under|below)\s+(?:than\s+)?(\d+)\s*"
    r"(bytes?|kb|kib|kilobytes?|mb|mib|megabytes?|megs?|gb|gib|gigabytes?|[kmgb])\b",
    re.IGNORECASE,
)
_SIZE_UNIT = {"b": "c", "byte": "c", "bytes": "c", "k": "k", "kb": "k", "kib": "k", "kilobyte": "k", "kilobytes": "k"}
_SIZE_UNIT |= {u: "M" for u in ("m", "mb", "mib", "megabyte", "megabytes", "meg", "megs")}
_SIZE_UNIT |= {u: "G" for u in ("g", "gb", "gib", "gigabyte", "gigabytes")}
_SIZE_TEST = re.compile(r"(?<![\w-])-size\s+[+-]?\d+[ckMGwb]?(?![\w.])")


def _size_window(command: str, request: str) -> str:
    """A ``find``'s one size test that says what the request says: "files larger than 100MB" with
    ``find . -size +10M`` -> ``-size +100M``; "smaller than 5 kilobytes" -> ``-size -5k``; bytes as
    ``c`` (a bare number would count 512-byte blocks). Only where the request gives one size and the
    command has one size test (on NL2Bash's 221 pairs with one of each, the reference says the same
    in 165; most of the rest give the size in other units, or in blocks)."""
    sizes = _SIZE_WINDOW.findall(request)
    tests = _SIZE_TEST.findall(command)
    if len(sizes) != 1 or len(tests) != 1:
        return command
    word, count, unit = sizes[0]
    side = "-" if word.lower() in ("smaller", "less", "under", "below") else "+"
    return _SIZE_TEST.sub(f"-size {side}{count}{_SIZE_UNIT[unit.lower()]}", command)


# "replace every occurrence of foo with bar", "substitute 'a' by 'b'": the old and the new text.
_REPLACE = re.compile(
    r"\b(?:replace|substitute|change|swap)\s+(?:all\s+|every\s+|each\s+)?(?:occurrences?\s+of\s+|instances?\s+of\s+)?"
    r"(?:the\s+(?:word|string|text|pattern)\s+)?([\"'`]?)([^\s\"'`]+)\1\s+(?:with|by|to|for|into)\s+"
    r"(?:the\s+(?:word|string|text)\s+)?([\"'`]?)([^\s\"'`]+)\3(?=\s|$)",
    re.IGNORECASE,
)
# Words that describe what is replaced rather than spell it ("replace all newlines with spaces").
_NOT_LITERAL = frozenset(
    "it them this that the a an all every each newline newlines space spaces comma commas tab tabs line lines "  # noqa: SIM905
    "character characters char chars word words string strings text texts match matches occurrence occurrences "
    "reference references dot dots colon colons semicolon semicolons slash slashes underscore underscores dash "
    "dashes hyphen hyphens uppercase lowercase upper lower case value values content contents something "
    "permission permissions owner group name names extension extensions".split()
)
# One sed substitution: s, its delimiter, the pattern and the replacement (escapes kept).
_S_EXPR = re.compile(r"(?<![\w-])s([/|#,:@])((?:\\.|(?!\1).)*)\1((?:\\.|(?!\1).)*)\1")
_SUBSTITUTERS = re.compile(r"(?<![\w./-])(sed|perl|ed)(?![\w.-])")


# "the largest file", "the 5 newest files", "the 10 most common words": which end of a sorted list
# the request asks for, and how many from it. "at most" and "at least" bound, they do not rank.
_HIGH = r"largest|biggest|newest|latest|highest|greatest|longest|(?<!\bat\s)most"
_LOW = r"smallest|oldest|earliest|lowest|shortest|fewest|(?<!\bat\s)least"
_RANKED = re.compile(rf"\b(?:top\s+(\d+)\s+)?(?:(\d+)\s+)?({_HIGH}|{_LOW})\b", re.IGNORECASE)
_SINGULAR = re.compile(
    rf"\bthe\s+(?:{_HIGH}|{_LOW})(?:\s+(?:recently|frequently|commonly|used|recent|modified|accessed|changed|created|sized?))*"
    r"\s+(?:\w+\s+)?(?:file|directory|folder|dir|process|line|word|entry|item|one|user|command|package|image|archive)\b"
    r"(?!-|\s+(?:sizes?|names?|paths?|lists?|counts?|numbers?|types?|contents?|dates?|times?)\b)",
    re.IGNORECASE,
)
HEAD_DEFAULT = 10  # the lines head prints when not told
_TOP = re.compile(r"\btop\s+(\d+)\b", re.IGNORECASE)
_SORT_VALUE_OPTIONS = frozenset({"-k", "-t", "-o", "-S", "-T", "--key", "--field-separator", "--output"})


def _extreme(command: str, request: str) -> str:
    """A ``sort ... | head`` taking the end of the list the request asks for: "the largest file" with
    ``sort -n | head -20`` -> ``sort -r -n | head -n 1``; "the 3 oldest files" with ``sort -rn | head``
    -> ``sort -n | head -n 3``. The direction where the request names one end only ("largest",
    "newest", "most ..." against "smallest", "oldest", "least ..."); the count where it names one
    ("top 5", "the 5 largest") or asks for one thing ("the largest file"). Only a ``sort`` piped
    straight into ``head``, and no ``sort`` whose keys carry their own order (``-k 5,5nr``)."""
    found = list(_RANKED.finditer(request))
    if not found:
        return command
    high = any(re.fullmatch(_HIGH, m.group(3), re.IGNORECASE) for m in found)
    low = any(re.fullmatch(_LOW, m.group(3), re.IGNORECASE) for m in found)
    if high == low:
        return command  # both ends: which one goes first is not said
    counts = {int(n) for m in found for n in (m.group(1), m.group(2)) if n} | {int(n) for n in _TOP.findall(request)}
    count = next(iter(counts)) if len(counts) == 1 else 1 if not counts and _SINGULAR.search(request) else None
    from bash_ai.safety.shell import Command, parse

    script = parse(command)
    edits: list[Edit] = []
    for i, item in enumerate(script.items[:-1]):
        after = script.items[i + 1]
        if (
            script.ops[i] != "|"
            or not isinstance(item, Command)
            or not isinstance(after, Command)
            or not item.words
            or not after.words
            or item.words[0].value != "sort"
            or after.words[0].value != "head"
        ):
            continue
        direction = _sort_direction(item.words, high)
        if direction is None:
            continue  # a key's own order: which end comes first is not plain
        edits += direction
        if count is not None:
            edits += _head_count(after.words, count)
    return _applied(command, edits)


def _sort_direction(words: list[Word], descending: bool) -> list[Edit] | None:
    """The edits that make ``sort`` (``words[0]``) sort descending or ascending (none if it does;
    None if one of its keys sets its own order)."""
    reversing: list[Word] = []
    for i, word in enumerate(words[1:], start=1):
        value = word.value
        if words[i - 1].value in _SORT_VALUE_OPTIONS:
            if re.search(r"\d[a-zA-Z]*r", value):
                return None  # a key's own order (-k 5,5nr)
            continue
        if re.fullmatch(r"\+\d+.*", value) or value.startswith("--key="):
            if re.search(r"\d[a-zA-Z]*r", value):
                return None  # an old-style or long key's own order (+4nr, --key=5,5nr)
            continue
        cluster = re.fullmatch(r"-([a-zA-Z]+)(.*)", value)
        if value == "--reverse":
            reversing.append(word)
        elif cluster is not None:
            flags, _, key = cluster.group(1).partition("k")  # -nrk7: -n -r -k 7
            if re.search(r"\d[a-zA-Z]*r", key + cluster.group(2)):
                return None
            if "r" in flags:
                reversing.append(word)
    if descending:
        return [] if reversing else [(words[0].end, words[0].end, " -r")]
    edits: list[Edit] = []
    for word in reversing:
        rest = "" if word.value == "--reverse" else word.value.replace("r", "", 1)
        if rest in ("", "-"):
            edits.append((word.start - 1 if word.start > 0 else word.start, word.end, ""))  # the word and its space
        else:
            edits.append((word.start, word.end, rest))
    return edits


def _head_count(words: list[Word], count: int) -> list[Edit]:
    """The edits that make ``head`` (``words[0]``) print ``count`` lines (none if it does, or if it
    counts bytes or from the end)."""
    for i, word in enumerate(words[1:], start=1):
        value = word.value
        after = words[i + 1] if i + 1 < len(words) else None
        if value in ("-n", "--lines") and after is not None:
            given, span = after.value, (word.start, after.end)
        elif m := re.fullmatch(r"(?:-n|--lines=|-)(\S+)", value):
            given, span = m.group(1), (word.start, word.end)
        else:
            continue
        if value.startswith("-c") or value.startswith("--bytes"):
            return []
        if not given.isdigit():
            return []  # "-n -5": all but the last 5
        return [] if int(given) == count else [(span[0], span[1], f"-n {count}")]
    if count == HEAD_DEFAULT or any(w.value.startswith("-") for w in words[1:]):
        return []  # head's own 10 lines; or -c, -q and the like: left as they are
    return [(words[0].end, words[0].end, f" -n {count}")]


_QUOTE = "\"'`\u2018\u2019\u201c\u201d"
# What a request says to look for: "the word error", "the string 'foo'", "containing TODO", "that do
# not contain debug", "matching 'x-1'". One such text and no other is what a grep, sed or awk pattern
# standing in for it (``pattern``, ``search_pattern``, ``string``) should be.
_LOOKED_FOR = (
    re.compile(
        rf"\b(?:word|string|text|pattern|term|phrase)\s+[{_QUOTE}]?([\w@:-][\w.@:-]*?)[{_QUOTE}]?(?=[\s,;:]|\.?$)", re.I
    ),
    re.compile(
        rf"\b(?:contain(?:s|ing)?|match(?:es|ing)?|mention(?:s|ing)?)\s+[{_QUOTE}]([\w@:-][\w.@:-]*?)[{_QUOTE}]", re.I
    ),
    re.compile(
        r"\b(?:contain(?:s|ing)?|mention(?:s|ing)?)\s+(?!(?:the|a|an|any|all|only|no|at|some|spaces?|numbers?|digits?|"
        r"files?|lines?|words?|text|characters?|folders?|directories|directory)\b)([\w@:-][\w.@:-]*?)(?=[\s,;:]|\.?$)",
        re.I,
    ),
)
_STAND_IN = re.compile(
    r"(?<![\w$-])(search_pattern|search_term|search_string|pattern|PATTERN|string|STRING|regex|word)(?![\w-])"
)
_STAND_IN_ADDRESS = re.compile(rf"/{_STAND_IN.pattern}/")
_PATTERN_PROGRAMS = frozenset({"grep", "egrep", "fgrep", "sed", "awk"})


# Words that follow "pattern", "string" or "containing" without being the text ("the string to be
# searched", "a pattern from file", "containing here").
_NOT_LOOKED_FOR = frozenset(
    "a an the this that these those it its is are as or and of in into inside within on at by for from to with "  # noqa: SIM905
    "here there match matches matching ignoring case only all any each every some search searched which".split()
)


def _looked_for(request: str) -> str | None:
    """The one text ``request`` says to look for (``_LOOKED_FOR``), if it names exactly one."""
    found = {m.group(1) for cue in _LOOKED_FOR for m in cue.finditer(request)}
    found = {text for text in found if text.lower() not in _NOT_LOOKED_FOR}
    return next(iter(found)) if len(found) == 1 else None


def _pattern(command: str, request: str) -> str:
    """A grep, sed or awk pattern that stands in for a text (``pattern``, ``search_pattern``,
    ``string``, ``word``) takes the one text the request says to look for: "show lines of app.log
    that do not contain debug" with ``sed -n '/pattern/!p' app.log`` -> ``sed -n '/debug/!p'
    app.log``. Only a text of letters, digits and ``_@:-`` (dots too, escaped), which needs no
    shell quoting; only the stand-in words in those programs' arguments (run directly, or by
    ``find -exec`` or ``xargs``); only one kind of stand-in in the command. A pattern that is the
    text in another case takes the request's case too: grep is case-sensitive, so ``grep Error``
    (an example's) misses the "error" of "search for the word error in server.log"."""
    wanted = _looked_for(request)
    if wanted is None or _STAND_IN.fullmatch(wanted):
        return command
    recased = re.compile(rf"(?<![\w$-]){re.escape(wanted)}(?![\w-])", re.IGNORECASE)
    if not _STAND_IN.search(command) and not any(m.group(0) != wanted for m in recased.finditer(command)):
        return command
    from bash_ai.safety.shell import Command, parse

    literal = wanted.replace(".", "\\.")
    edits: list[Edit] = []
    stand_ins: set[str] = set()
    for item in parse(command).items:
        if not isinstance(item, Command):
            continue
        running = False  # inside the arguments of a grep, sed or awk (its own, or run by find -exec or xargs)
        for word in item.words:
            if word.value in _PATTERN_PROGRAMS:
                running = True
                continue
            if word.value in (";", "+"):  # the end of a find -exec (``\;`` reads as ``;``)
                running = False
            if not running or word.subs or word.value.startswith("-"):
                continue
            whole = _STAND_IN.fullmatch(word.value)  # grep's pattern: the word is the stand-in
            found = [whole.group(1)] if whole else _STAND_IN_ADDRESS.findall(word.value)  # sed/awk: /pattern/
            quotes = word.raw[:1] + word.raw[-1:] if word.raw[:1] in "'\"" and len(word.raw) > 1 else ""
            plain = word.raw == word.value or word.raw == f"{quotes[:1]}{word.value}{quotes[1:]}"
            if not found and plain and word.value != wanted and word.value.lower() == wanted.lower():
                stand_ins.add(word.value)  # the text itself, in another case
                edits.append((word.start, word.end, f"{quotes[:1]}{wanted}{quotes[1:]}"))
            elif found:
                stand_ins.update(found)
                quoted = word.raw[:1] in "'\"" or "." not in wanted
                raw = _STAND_IN.sub(literal if quoted else f"'{literal}'", word.raw)
                edits.append((word.start, word.end, raw))
    if len(stand_ins) != 1:
        return command
    return _applied(command, edits)


# "as user bob", "owned by user alice", "for the user deploy": the one user a request names.
_USER_NAMED = re.compile(
    rf"\b(?:as|by|for|to|of|from|the)\s+user(?:name)?\s+[{_QUOTE}]?([a-z_][a-z0-9_.-]*?)[{_QUOTE}]?(?=[\s,;:]|\.?$)",
    re.I,
)
_NOT_USERS = frozenset({"id", "ids", "name", "names", "group", "groups", "account", "accounts", "has", "who", "is"})
# A user a command names for want of one: remote_user@host, chown username file, -u user.
_USER_STAND_IN = r"(?:remote_|your_|local_)?(?:user(?:_?name)?|USER(?:NAME)?)"
_USER_WORD = re.compile(rf"({_USER_STAND_IN})(:\S*)?|({_USER_STAND_IN})(@\S+)")


def _users(text: str) -> list[str]:
    """The users ``text`` names as in ``_USER_NAMED`` ("of user carol"), in order."""
    return _unique(m.group(1) for m in _USER_NAMED.finditer(text) if m.group(1) not in _NOT_USERS | _NOT_LOOKED_FOR)


def _swap_user(command: str, example_request: str, request: str) -> str:
    """The user the request names ("show uid and groups of user carol") in place of the one its
    example's request names ("uid of user alice": ``id alice`` -> ``id carol``), where the command
    has the example's user as a word and not the request's."""
    ours, theirs = _users(request), _users(example_request)
    if len(ours) != 1 or len(theirs) != 1 or _word_in(command, ours[0]) or not _word_in(command, theirs[0]):
        return command
    return _replace_words(command, {theirs[0]: ours[0]})


def _user(command: str, request: str) -> str:
    """The one user the request names ("connect to server.example.com as user bob") in place of a
    stand-in for one: ``ssh remote_user@server.example.com`` -> ``ssh bob@server.example.com``;
    ``chown username:staff f`` -> ``chown bob:staff f``. Only whole words (a path such as
    ``/home/user`` stays), and not where the command names that user already."""
    named = _users(request)
    if len(named) != 1:
        return command
    (user,) = named
    if _word_in(command, user) or re.search(rf"(?<![\w/$.-]){_USER_STAND_IN}(?![\w/-])", command) is None:
        return command
    from bash_ai.safety.shell import Command, parse

    edits: list[Edit] = []
    for item in parse(command).items:
        if not isinstance(item, Command):
            continue
        for word in item.words[1:]:
            m = _USER_WORD.fullmatch(word.value)
            if m is not None and not word.subs and word.raw == word.value:  # plain words only
                edits.append((word.start, word.end, user + (m.group(2) or m.group(4) or "")))
    return _applied(command, edits)


# "process" as a word for what follows it: "the full process tree", "the process id".
_PROCESS_NOUNS = (
    r"(?:trees?|ids?|list|table|groups?|names?|numbers?|count|status|info|information|state|priority"
    r"|activity|activities|usage|details|output|memory)"
)
# The one process a request names: "all python processes", "the firefox process", "processes named
# nginx", "the pid of nginx", "kill firefox".
_PROCESS_NAMED = re.compile(
    rf"(?<![\w.-])(?<!^)([a-z][\w.+-]*)(?=\s+process(?:es)?\b(?!\s+{_PROCESS_NOUNS}\b))"
    rf"|\bprocess(?:es)?\s+(?:named|called)\s+[{_QUOTE}]?([a-z][\w.+-]*)"
    rf"|\b(?:pids?|process\s+ids?)\s+of\s+(?:the\s+|all\s+)?[{_QUOTE}]?([a-z][\w.+-]*)"
    rf"|^\W*(?:please\s+)?(?:kill|stop|terminate|quit|close)\s+(?:all\s+|the\s+|every\s+)?[{_QUOTE}]?([a-z][\w.+-]*)[{_QUOTE}]?\W*$",
    re.IGNORECASE,
)
_NOT_PROCESSES = frozenset(
    "a an the all any each every this that these those its my your our their which what other new old "  # noqa: SIM905
    "running stopped sleeping zombie background foreground child children parent parents current active idle "
    "kill stop show list find count print display get terminate user users root system process "
    "processes with named called same given specific several many only just also both even still whose where "
    "than then remaining top long heavy defunct orphan orphaned suspended hung frozen unused "
    "and or nor but of for to from in on at by as into".split()
)
# Names a command gives a process for want of one, replaced wherever they stand as a plain word.
_PROCESS_STAND_INS = frozenset(
    "myprocess myProcessName process_name processname PROCESS_NAME ProgramName programname program_name "  # noqa: SIM905
    "MyApp myapp myprog app_name application_name BINARY-NAME your_process".split()
)
# Programs whose operands are process names (pgrep's and pkill's first only: the pattern).
_BY_NAME = frozenset({"pgrep", "pkill", "pidof", "killall"})


def _process(command: str, request: str) -> str:
    """The one process the request names in place of the one a command names: ``ps aux | grep
    postgres | wc -l`` -> ``... grep chrome ...`` for "how many chrome processes are running", ``pm2
    stop application_name`` -> ``pm2 stop node`` for "stop all node processes". The process slots
    are the operands of ``pgrep``/``pkill`` (the pattern), ``pidof`` and ``killall``, and the pattern
    of the first ``grep`` after a ``ps`` in a pipeline; a slot's word is replaced when it is a
    stand-in (``myprocess``, ``MyApp`` ...) or a name the request does not use. A stand-in
    elsewhere is replaced too. Only plain words; not where the command names that process already."""
    named = {next(g for g in m.groups() if g).lower() for m in _PROCESS_NAMED.finditer(request)} - _NOT_PROCESSES
    named = {n for n in named if not n.isdigit()}
    if len(named) != 1:
        return command
    (name,) = named
    if _word_in(command, name):
        return command
    from bash_ai.safety.shell import parse

    return _applied(command, _process_edits(command, parse(command), request, name))


def _process_edits(command: str, script: Script, request: str, name: str) -> list[Edit]:
    """``_process``'s edits in one parsed ``script`` of ``command``, and in the command substitutions
    of its words; only where the word is in ``command`` where the parser says (inside backquotes
    with escapes it may not be)."""
    from bash_ai.safety.shell import Command

    edits: list[Edit] = []
    after_ps = False  # the previous item of this pipeline is a ps
    for i, item in enumerate(script.items):
        piped = i > 0 and script.ops[i - 1] == "|"
        if not isinstance(item, Command) or not item.words:
            after_ps = False
            continue
        program, words = item.words[0].value, item.words[1:]
        operands = [w for w in words if not w.value.startswith("-")]
        slots: list[Word] = []
        if program in _BY_NAME:
            slots = operands[:1] if program in ("pgrep", "pkill") else operands
        elif program in ("grep", "egrep") and piped and after_ps:
            slots = operands[:1]
        for word in words:
            for sub in word.subs:
                edits.extend(_process_edits(command, sub, request, name))
            plain = word.raw == word.value == command[word.start : word.end] and not word.subs
            if plain and (word.value in _PROCESS_STAND_INS or (word in slots and not _word_in(request, word.value))):
                edits.append((word.start, word.end, name))
        after_ps = program == "ps"
    return edits


# A request for one number: "count the ...", "how many ...", "print the number of ...". Not a
# count for each thing ("the number of files in each directory"): that is a list of numbers.
_COUNT_ASKED = re.compile(
    r"^\W*(?:please\s+)?(?:count|how\s+many)\b"
    r"|^\W*(?:print|show|display|get|output|find|return|calculate|tell)\s+(?:me\s+)?(?:the\s+)?(?:total\s+)?(?:number|count)\s+of\b",
    re.IGNORECASE,
)
_EACH = re.compile(r"\b(?:each|every|per)\b|\bfor\s+all\b", re.IGNORECASE)
# A command that counts already: wc, grep -c / uniq -c, --count, an awk counter.
_COUNTS = re.compile(
    r"(?<![\w-])wc(?![\w-])|--count\b|\+\+|\+=|\bNR\b|\blength\b"
    r"|(?<![\w-])(?:[ef]?grep|uniq)(?![\w-])[^|;&]*\s-[a-zA-Z]*c"
)
# Programs whose output is one thing a line, the kind a count of lines counts.
_LISTERS = frozenset(
    "find ls grep egrep fgrep sort uniq cat ps who awk sed cut tr head tail locate comm lsof jobs history "  # noqa: SIM905
    "xargs pgrep users env printenv seq".split()
)
# A find that acts on what it finds (its output is the action's, or nothing).
_FIND_ACTIONS = frozenset({"-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprintf", "-fls"})


def _count(command: str, request: str) -> str:
    """A count of lines after a command that lists, where the request asks for one number and the
    command counts nothing: "count the number of unique duplicate lines in file1 and file2" with
    ``sort file1 file2 | uniq -d`` -> ``sort file1 file2 | uniq -d | wc -l``. Only a plain pipeline
    (no ``;``, ``&&``, ``||``) whose last program lists (``find``, ``ls``, ``grep``, ``sort`` ...; not
    ``tail -f``, nor a ``find`` that acts with ``-exec`` or ``-delete``) and writes to no file; not for
    a count of each thing ("... in each directory"), nor of words, characters or bytes."""
    if not _COUNT_ASKED.search(request) or _EACH.search(request) or _COUNTS.search(command):
        return command
    if _units_named(request) - {"l"}:
        return command  # words, characters or bytes: not a count of lines
    from bash_ai.safety.shell import Command, parse

    script = parse(command)
    if not script.items or any(op not in ("|", "") for op in script.ops):
        return command
    last = script.items[-1]
    if not isinstance(last, Command) or not last.words or last.redirects or last.words[0].value not in _LISTERS:
        return command
    if last.words[0].value == "tail" and any(w.value.startswith("-f") or w.value == "--follow" for w in last.words):
        return command
    if any(
        isinstance(item, Command)
        and item.words
        and item.words[0].value == "find"
        and _FIND_ACTIONS.intersection(w.value for w in item.words)
        for item in script.items
    ):
        return command
    return f"{command.rstrip()} | wc -l"


def _substitution(command: str, request: str) -> str:
    """A ``sed`` (``perl``, ``ed``) substitution that replaces what the request says, with what it
    says: "replace every occurrence of foo with bar in config.ini" with the example's ``sed -i
    's/log_errors = Off/log_errors = On/g' config.ini`` -> ``sed -i 's/foo/bar/g' config.ini``. Only
    where the request names one replacement, both sides spelled out (not "newlines with spaces"),
    and the command has one substitution; the old text is escaped as a literal for the pattern,
    the new one for the replacement. On NL2Bash's 69 pairs with one of each, the reference has
    the request's two texts in 54 (most of the rest describe them: "commas", "newlines")."""
    asked = [(m.group(2), m.group(4).rstrip(".,;:!?")) for m in _REPLACE.finditer(request)]
    found = list(_S_EXPR.finditer(command))
    programs = _SUBSTITUTERS.findall(command[: found[0].start()]) if len(found) == 1 else []
    if len(asked) != 1 or not programs:
        return command
    old, new = asked[0]
    if old.lower() in _NOT_LITERAL or new.lower() in _NOT_LITERAL or old == new or not new:
        return command
    m = found[0]
    delimiter = m.group(1)
    # A literal in the pattern: perl's regexes take every other sign escaped; sed's basic ones only
    # their own (an escaped + or ( would be an operator in GNU sed).
    special = r"(\W)" if programs[-1] == "perl" else r"([.*\[\]^$\\])"
    pattern = re.sub(special, r"\\\1", old).replace(delimiter, "\\" + delimiter)
    replacement = re.sub(r"([&\\])", r"\\\1", new).replace(delimiter, "\\" + delimiter)
    if "'" in pattern + replacement:
        return command  # the expression may sit in single quotes: not worth reading the quoting
    text = f"s{delimiter}{pattern}{delimiter}{replacement}{delimiter}"
    return f"{command[: m.start()]}{text}{command[m.end() :]}"


def _flags_asked(command: str, request: str) -> str:
    """The flags a request asks for in so many words, where the command's program lacks them:
    "... ignoring case" -> ``grep -i`` (and ``find -iname`` for ``-name`` where no grep runs),
    "human-readable" -> ``du -h``, "with line numbers" -> ``grep -n``, "follow ... as it grows" ->
    ``tail -f``, "including parents" -> ``mkdir -p``, "numerically" -> ``sort -n``, "in descending
    order" -> ``sort -r``. The flag goes right after the program's name. Only the programs of the
    command's own pipeline and lists: a ``grep`` run by ``find -exec`` or ``xargs`` stays as written."""
    asked, case = _flags_cued(request)
    if not asked and not case:
        return command
    from bash_ai.safety.danger import flags_of
    from bash_ai.safety.shell import Command, parse

    edits: list[Edit] = []
    script = parse(command)
    for i, item in enumerate(script.items):
        if not isinstance(item, Command) or item.kind != "simple" or not item.words:
            continue
        piped = i > 0 and script.ops[i - 1] == "|"  # reads the output before it, not files
        program, words = item.words[0], item.words[1:]
        if case and program.value == "find":
            # The request's case is a name's, unless a grep (whose pattern it may be) runs too.
            if not _GREP.search(command):
                edits.extend((w.start, w.end, "-iname") for w in words if w.raw == "-name")
            continue
        given = flags_of([w.value for w in words])  # -iA3 gives -i; --ignore-case=x gives --ignore-case
        added = [
            flag
            for programs, flag, long in asked
            if program.value in programs
            and not any(f"-{letter}" in given for letter in flag[1:])
            and not given.intersection(long)
            and not (piped and "--recursive" in long)  # grep -r on a pipe would search "." instead
        ]
        if added:
            edits.append((program.end, program.end, "".join(f" {flag[:2]}" for flag in dict.fromkeys(added))))
    return _applied(command, edits)
