"""Request -> command pairs from the man pages of the programs installed on this machine.

A man page says in plain words what a program and each of its options do: ``pwd - print name of
current/working directory``, ``ls -S: sort by file size, largest first``. Those are the words
people use for everyday requests ("print the current directory", "list files sorted by size"),
and NL2Bash and tldr miss many of them (tldr's ``pwd`` page is in the held-out set; its long tail
of pages is about programs few users have). So each page gives one pair for its NAME line
(``"Print name of current/working directory"`` -> ``pwd``) and one per documented option
(``"List directory contents: sort by file size, largest first"`` -> ``ls -S``), an argument
written as the page names it (``head -n num``), the way tldr's placeholders read.

Only pages of programs on ``PATH`` are read (``require_installed``), in ``man1`` and ``man8``,
parsed by ``bash_ai.manpages`` (the same facts ``bash-ai explain`` shows). The stored file keeps
each page's parsed facts with its path and Debian package, so the pair rules can change without
harvesting again. Every pair is a training pair: man pages hold none of the evaluation splits.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bash_ai.errors import DataError
from bash_ai.manpages.page import ManPage, OptionDoc, parse_page
from bash_ai.manpages.store import read_source
from trainer.data.document import Document
from trainer.data.manifest import Manifest, make_manifest
from trainer.data.sources.local import DpkgOwners, package_licence

name = "manpairs"
licence = "various (per page)"
attribution = "the man pages of the packages installed on this machine; see each pair's licence field"
ROOTS: tuple[str, ...] = ("/usr/share/man", "/usr/local/share/man")
SECTIONS: tuple[str, ...] = ("man1", "man8")
PAGES_FILE = "pages.jsonl"
MAX_OPTIONS = 80  # per page: enough for ls (~60); a few programs (gpg, curl, ld) document hundreds
_PROGRAM = re.compile(r"[a-z0-9][a-z0-9_.+-]{0,63}")
_PAGE_FILE = re.compile(r"^(?P<program>.+)\.[18][a-z]*(?:\.(?:gz|bz2|xz|lzma))?$")
# Option entries that say nothing a request would ask for.
_USELESS = re.compile(
    r"^(?:deprecated|obsolete|a synonym|synonym|same as|equivalent to|alias for|like -|"
    r"display (?:this|a) help|print (?:a )?help|output version|print (?:the )?version|display version|"
    r"this option|for (?:greater|less) than)",
    re.IGNORECASE,
)
_ARGUMENT = re.compile(r"[^a-z0-9_]+")
# A description cut short at an abbreviation's full stop ("do not ignore entries starting with").
_CUT = re.compile(r"\b(?:a|an|the|with|of|to|for|and|or|by|in|on|from|at|as|than|starting|ending)$", re.IGNORECASE)


def fetch(dest_dir: Path, from_path: Path | None = None, **options: Any) -> Manifest:
    """Parse every ``man1``/``man8`` page under the roots whose program is installed."""
    progress = options.get("progress")
    require_installed = options.get("require_installed", True) not in (False, "0", "false", "no")
    if from_path is not None:
        if not from_path.is_dir():
            raise DataError(f"--from for manpairs must be a folder of man pages: {from_path}")
        roots = [from_path]
    else:
        roots = [Path(r) for r in ROOTS if Path(r).is_dir()]
    found = _find_pages(roots)
    owners = DpkgOwners()
    pages = 0
    skipped = 0
    with open(dest_dir / PAGES_FILE, "w", encoding="utf-8") as handle:
        for i, (program, path) in enumerate(sorted(found.items())):
            if progress is not None and i % 100 == 0:
                progress("man pages", i, len(found))
            command = _command(program) if require_installed else program
            if command is None:
                skipped += 1
                continue
            page = _parse(command, path)
            if page is None:
                continue
            package = owners.package(path) or ""
            record = {"path": str(path), "package": package, "licence": package_licence(package), **page.to_json()}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            pages += 1
    if pages == 0:
        raise DataError(f"found no man pages of installed programs under {', '.join(map(str, roots))}")
    n_pairs = sum(1 for _ in iter_documents(dest_dir))
    return make_manifest(
        dest_dir,
        url=", ".join(r.resolve().as_uri() for r in roots),
        attribution=attribution,
        counts={"pages": pages, "pairs": n_pairs, "not_installed": skipped},
        options={"require_installed": int(require_installed), "max_options": MAX_OPTIONS},
    )


def _find_pages(roots: list[Path]) -> dict[str, Path]:
    """program -> its page: regular files only (a symlinked or ``.so`` alias page is the same text
    as its target's), the first root and section that has the program winning."""
    found: dict[str, Path] = {}
    for root in roots:
        for section in SECTIONS:
            folder = root / section
            if not folder.is_dir():
                continue
            for entry in sorted(folder.iterdir()):
                match = _PAGE_FILE.match(entry.name)
                if not match or entry.is_symlink() or not entry.is_file():
                    continue
                program = match.group("program")
                if _PROGRAM.fullmatch(program):
                    found.setdefault(program, entry)
    return found


def _command(page_name: str) -> str | None:
    """What a page is about, as typed: the program itself when it is on ``PATH``; for a subcommand's
    page (``git-status``, ``ip-address``) whose program is installed, ``git status``; else None."""
    if shutil.which(page_name) is not None:
        return page_name
    program, dash, sub = page_name.partition("-")
    if dash and sub and re.fullmatch(r"[a-z0-9]+", sub) and shutil.which(program) is not None:
        return f"{program} {sub}"
    return None


def _parse(program: str, path: Path) -> ManPage | None:
    source = read_source(path)
    if source is None or "\0" in source or source.lstrip().startswith(".so "):
        return None
    page = parse_page(program, source)
    return page if page.purpose.strip() else None


def iter_documents(dataset_dir: Path) -> Iterator[Document]:
    """For each stored page, its NAME pair and then one pair per useful option, in file order."""
    path = Path(dataset_dir) / PAGES_FILE
    if not path.is_file():
        raise DataError(f"{dataset_dir} has no {PAGES_FILE}; fetch again with --force")
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            try:
                record = json.loads(line)
                page = ManPage.from_json(record)
            except (ValueError, KeyError, TypeError):
                raise DataError(f"{path}:{number} is corrupt; fetch again with --force") from None
            meta = {"path": str(record.get("path", "")), "package": str(record.get("package", ""))}
            for key, request, command in page_pairs(page):
                yield Document(
                    kind="pair",
                    id=f"{name}:{page.program}#{key}",
                    source=name,
                    licence=str(record.get("licence") or "unknown"),
                    request=request,
                    command=command,
                    meta=meta,
                )


def page_pairs(page: ManPage) -> list[tuple[str, str, str]]:
    """``(key, request, command)`` for a page: its purpose, then up to ``MAX_OPTIONS`` options."""
    purpose = _clean(page.purpose)
    if not purpose:
        return []
    pairs = [("name", _capital(purpose), page.program)]
    for doc in page.documented():
        command = _option_command(page.program, doc)
        description = _clean(doc.description)
        if command is None or len(description) < 8 or _USELESS.match(description) or _CUT.search(description):
            continue
        pairs.append((command.split(" ", 2)[1], f"{_capital(purpose)}: {_lower(description)}", command))
        if len(pairs) > MAX_OPTIONS:
            break
    return pairs


def _option_command(program: str, doc: OptionDoc) -> str | None:
    """``ls -S``, ``head -n num``: the short name when there is one; None for an option that only
    takes an optional argument's inline form or has no usable name."""
    short = [n for n in doc.names if re.fullmatch(r"-[A-Za-z0-9]", n)]
    option = short[0] if short else doc.names[0]
    if option in ("-", "--") or not option.startswith(("-", "+")):
        return None
    if not doc.takes_argument:
        return f"{program} {option}"
    argument = _ARGUMENT.sub("_", doc.argument.lower()).strip("_")
    return f"{program} {option} {argument}" if re.search(r"[a-z]", argument) else None


def _clean(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip().rstrip(".,;: ")
    return text.removesuffix(" ...")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower(text: str) -> str:
    """Lower the first letter unless the first word is an acronym or a name (``SSL``, ``IPv6``)."""
    first = text.split(" ", 1)[0]
    return text if sum(c.isupper() for c in first) > 1 else text[:1].lower() + text[1:]
