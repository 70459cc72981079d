"""Carry the arguments a request names into a retrieved command, instead of the example's own.

A retrieved pair answers a similar request about other things: "count words in file" -> ``wc -w
file.txt``. Asked "count the words in essay.txt", the command should name ``essay.txt``. The
arguments recognised are URLs, file names (``notes.txt``), paths (``/var/log``, ``a/b/c``), extension
globs ("python files", ".log files" -> ``*.py``, ``*.log``) and numbers; nothing inside a URL counts
as a path, file or number. An argument of the example
is replaced only when its request names one of that kind in the same count (or exactly one), and only
as a whole shell word or ``*.ext`` glob, so nothing else in the command moves. A request naming a
file kind and no file ("all .sh files") turns the one file its example named into the glob.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_URL = re.compile(r"\b(?:https?|ftp)://[^\s'\"<>]*[^\s'\".,;:!?)<>]")
_FILE = re.compile(r"(?<![\w./~$-])((?:[\w~.-]+/)*[\w-]+(?:\.[\w-]+)*\.[A-Za-z][\w]{0,5})(?![\w/-])")
_PATH = re.compile(r"(?<![\w.$-])((?:~|\.{1,2})?/[\w./-]*[\w-]|[\w.-]+/[\w./-]*[\w-])(?![\w/-])")
_NUMBER = re.compile(r"(?<![\w.$-])(\d+)(?![\w.])")
_EXT_WORD = re.compile(
    r"(?<![\w*])\.([A-Za-z][\w]{0,5})\s+files?\b|\b([A-Za-z]+)\s+(?:source\s+)?files?\b", re.IGNORECASE
)
_PLACEHOLDER = re.compile(r"(?<![\w./-])path/to/[\w./-]*[\w-]")
_GLOB = re.compile(r"\*\.([A-Za-z][\w]{0,5})\b")

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


def paths(text: str) -> list[str]:
    return _unique(m.group(1) for m in _PATH.finditer(_outside_urls(text)) if not _FILE.fullmatch(m.group(1)))


def numbers(text: str) -> list[str]:
    return _unique(m.group(1) for m in _NUMBER.finditer(_outside_urls(text)))


def extensions(request: str) -> list[str]:
    """File kinds a request names: ".log files" -> log, "python files" -> py."""
    out = []
    for m in _EXT_WORD.finditer(request):
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
    return out


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


def _swap(command: str, example_request: str, request: str, find: Callable[[str], list[str]]) -> str:
    wanted = [a for a in find(request) if not mentions(command, a)]
    if not wanted:
        return command
    theirs = [a for a in find(command) if not mentions(request, a)]
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
    """What a request names: its URLs, files, paths, numbers and file kinds (as ``*.ext``)."""
    return _literal_arguments(request) | {f"*.{e}" for e in extensions(request)}


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
