"""Parse tldr pages into (description, command) examples, with ``{{placeholders}}`` made concrete.

A model trained on ``tar xf {{path/to/source.tar}}`` would learn to print braces; a user wants
``tar xf source.tar``. The conversion is a fixed table plus a few rules (documented at
``fill_placeholder``), so the same page always gives the same pairs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Whole-placeholder values for common argument names (the name, lowercased, as written in tldr).
PLACEHOLDER_VALUES: dict[str, str] = {
    "url": "https://example.com",
    "domain": "example.com",
    "host": "example.com",
    "hostname": "example.com",
    "remote_host": "example.com",
    "server": "example.com",
    "ip_address": "192.168.1.10",
    "ip": "192.168.1.10",
    "port": "8080",
    "username": "alice",
    "user": "alice",
    "email": "alice@example.com",
    "pid": "1234",
    "n": "10",
    "number": "10",
    "count": "10",
    "seconds": "5",
    "command": "ls",
    "interface": "eth0",
    "/dev/sdx": "/dev/sda",
    "/dev/sdxy": "/dev/sda1",
    "/dev/sdxn": "/dev/sda1",
}

_PLACEHOLDER = re.compile(r"\{\{(.+?)\}\}(?!\})")
_OPTION_CHOICE = re.compile(r"\[([^\[\]|]*(?:\|[^\[\]|]*)+)\]")
_PATH = re.compile(r"(\./|/|~/)?path/to(?:/(.*))?")
_FILE_NAME = re.compile(r"(.*?)_?file(\d*)")
_MNEMONIC = re.compile(r"\[([A-Za-z0-9]+)\]")
_CODE = re.compile(r"`([^`]*)`")


def fill_placeholder(inner: str) -> str:
    """The concrete value for one placeholder's inner text.

    Rules, in order:

    - ``[-C|--directory]``, ``[ls|list]``: the longest alternative (the long option, the full word);
    - ``[.gz|.bz2]`` inside a value: the first alternative (``source.tar[.gz|.bz2]`` -> ``source.tar.gz``);
    - ``a1 a2 ...``: each item converted, the ellipsis dropped; a lone ``...`` becomes nothing;
    - ``on|off``, ``path/to/file|url`` (bare alternatives, no spaces or quotes): the first, converted;
    - ``path/to/X`` (also ``./``, ``/``, ``~/`` prefixed): the last component, with ``file`` names
      given ``.txt`` (``file1`` -> ``file1.txt``, ``input_file`` -> ``input.txt``), ``directory`` ->
      ``dir``, names with an extension kept; ``/path/to/X`` -> ``/tmp/X``; bare ``path/to`` -> ``dir``;
    - names in ``PLACEHOLDER_VALUES`` (url, host, port, username, ...): the table's value;
    - anything else (numbers, ``example.com``, ``*.html``, ``branch_name``): the text itself.
    """
    value = inner
    whole = _OPTION_CHOICE.fullmatch(value)
    if whole:
        return max(whole.group(1).split("|"), key=len).strip()
    value = _OPTION_CHOICE.sub(lambda m: m.group(1).split("|")[0], value)
    if value.strip() == "...":
        return ""
    items = value.split()
    if len(items) > 1 and items[-1] == "...":
        return " ".join(fill_placeholder(item) for item in items[:-1])
    if "|" in value and not any(c in value for c in " '\"<>$`"):
        return fill_placeholder(value.split("|", 1)[0])
    path = _PATH.fullmatch(value)
    if path:
        return _fill_path(path.group(1) or "", path.group(2) or "")
    return PLACEHOLDER_VALUES.get(value.lower(), value)


def _fill_path(prefix: str, rest: str) -> str:
    name = rest.rstrip("/").rsplit("/", 1)[-1] if rest else ""
    if not name:
        base = "dir"
    elif "." in name.lstrip("."):
        base = name
    elif "directory" in name:
        base = name.replace("directory", "dir")
    elif m := _FILE_NAME.fullmatch(name):
        base = f"{m.group(1) or 'file'}{m.group(2)}.txt"
    else:
        base = name
    return {"/": "/tmp/", "~/": "~/", "./": "./"}.get(prefix, "") + base


def fill_placeholders(command: str) -> str:
    """A tldr command line with every placeholder replaced (tldr's ``\\{\\{`` escapes kept as ``{{``)."""
    filled = _PLACEHOLDER.sub(lambda m: fill_placeholder(m.group(1)), command)
    return filled.replace("\\{\\{", "{{").replace("\\}\\}", "}}")


def clean_description(text: str) -> str:
    """``[c]reate a [f]ile with `foo```: -> ``create a file with foo``."""
    text = text.strip()
    if text.endswith(":"):
        text = text[:-1]
    text = _MNEMONIC.sub(r"\1", text)
    text = _CODE.sub(r"\1", text)
    text = fill_placeholders(text).strip()
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Example:
    description: str  # cleaned English request
    command: str  # placeholders filled
    raw_description: str
    raw_command: str  # as in the page, with {{placeholders}}


@dataclass(frozen=True)
class Page:
    name: str  # the command, e.g. "tar" or "." (from the file name)
    title: str  # the "# " line
    summary: str  # the "> " lines except links, cleaned
    examples: tuple[Example, ...]


def parse_page(name: str, markdown: str) -> Page:
    """One page. An example is a ``- `` line whose next non-blank line is a backtick command."""
    lines = markdown.splitlines()
    title = ""
    summary: list[str] = []
    examples: list[Example] = []
    pending: str | None = None
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if line.startswith("# ") and not title:
            title = line[2:].strip()
        elif line.startswith(">"):
            body = line[1:].strip()
            if not body.lower().startswith(("more information:", "see also:")):
                summary.append(clean_description(body))
        elif line.startswith("- "):
            pending = line[2:]
        elif line.startswith("`") and pending is not None:
            raw_command = line[1:-1] if line.endswith("`") and len(line) > 1 else line[1:]
            examples.append(
                Example(clean_description(pending), fill_placeholders(raw_command).strip(), pending, raw_command)
            )
            pending = None
        else:
            pending = None
    return Page(name=name, title=title or name, summary=" ".join(s for s in summary if s), examples=tuple(examples))


def page_name(file_name: str) -> str:
    """``tar.md`` -> ``tar``; the hidden ``..md`` -> ``.``."""
    return file_name[:-3] if file_name.endswith(".md") else file_name
