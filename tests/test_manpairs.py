"""The ``manpairs`` source: man pages of installed programs as request -> command pairs."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from bash_ai.errors import DataError
from bash_ai.manpages.page import ManPage, OptionDoc
from trainer.data import fetch_dataset, iter_documents
from trainer.data.sources.manpairs import page_pairs

# A trimmed ls(1) in the shape coreutils ships (help2man: .TP, \fB..\fR, \-).
LS_PAGE = r""".TH LS "1" "April 2024" "GNU coreutils 9.4" "User Commands"
.SH NAME
ls \- list directory contents
.SH SYNOPSIS
.B ls
[\fI\,OPTION\/\fR]... [\fI\,FILE\/\fR]...
.SH DESCRIPTION
.TP
\fB\-a\fR, \fB\-\-all\fR
do not ignore entries starting with .
.TP
\fB\-S\fR
sort by file size, largest first
.TP
\fB\-w\fR, \fB\-\-width\fR=\fI\,COLS\/\fR
set output width to COLS.  0 means no limit
.TP
\fB\-\-color\fR[=\fI\,WHEN\/\fR]
color the output WHEN; more info below
.TP
\fB\-\-help\fR
display this help and exit
.TP
\fB\-t\fR
sort by time, newest first; see \fB\-\-time\fR
"""

SUBCOMMAND_PAGE = r""".TH LS-FROB 1
.SH NAME
ls-frob \- frobnicate a listing
.SH OPTIONS
.TP
\fB\-q\fR
be quiet about it
"""


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(gzip.compress(text.encode()))
    return path


def _tree(root: Path) -> Path:
    man1 = root / "man1"
    _write(man1, "ls.1.gz", LS_PAGE)
    _write(man1, "ls-frob.1.gz", SUBCOMMAND_PAGE)  # a subcommand page of an installed program
    _write(man1, "no-such-program-xyz.1.gz", LS_PAGE.replace("ls \\-", "no-such-program-xyz \\-"))
    _write(man1, "dir.1.gz", ".so man1/ls.1\n")  # an alias page: its text is ls's
    (man1 / "vdir.1.gz").symlink_to(man1 / "ls.1.gz")  # likewise
    (root / "man3").mkdir()
    _write(root / "man3", "printf.3.gz", LS_PAGE)  # a library page: not a command
    return root


def test_fetch_pairs_from_installed_programs(tmp_path: Path) -> None:
    assert shutil.which("ls") is not None
    manifest = fetch_dataset("manpairs", _tree(tmp_path / "man"))
    assert manifest.counts["pages"] == 2 and manifest.counts["not_installed"] == 1
    docs = list(iter_documents("manpairs"))
    pairs = [(d.request, d.command) for d in docs]
    assert pairs == [
        ("List directory contents", "ls"),
        ("List directory contents: sort by file size, largest first", "ls -S"),
        ("List directory contents: set output width to COLS", "ls -w cols"),
        ("List directory contents: color the output WHEN; more info below", "ls --color"),  # optional argument
        ("List directory contents: sort by time, newest first; see --time", "ls -t"),
        ("Frobnicate a listing", "ls frob"),
        ("Frobnicate a listing: be quiet about it", "ls frob -q"),
    ]
    assert manifest.counts["pairs"] == len(pairs)
    first = docs[0]
    assert first.kind == "pair" and first.split == "train" and first.source == "manpairs"
    assert first.id == "manpairs:ls#name" and first.meta["path"].endswith("man1/ls.1.gz")
    assert len({d.id for d in docs}) == len(docs)


def test_fetch_failures_keep_the_old_dataset(tmp_path: Path) -> None:
    fetch_dataset("manpairs", _tree(tmp_path / "man"))
    (tmp_path / "empty" / "man1").mkdir(parents=True)
    with pytest.raises(DataError, match="no man pages of installed programs"):
        fetch_dataset("manpairs", tmp_path / "empty", force=True)
    with pytest.raises(DataError, match="must be a folder"):
        fetch_dataset("manpairs", tmp_path / "man" / "man1" / "ls.1.gz", force=True)
    assert [d.command for d in iter_documents("manpairs")][0] == "ls"


def test_uninstalled_pages_only_when_asked(tmp_path: Path) -> None:
    manifest = fetch_dataset("manpairs", _tree(tmp_path / "man"), require_installed="no")
    assert manifest.counts["pages"] == 3
    assert "no-such-program-xyz" in {d.command for d in iter_documents("manpairs")}


def test_corrupt_store_is_a_data_error(tmp_path: Path) -> None:
    from trainer.data import dataset_path

    fetch_dataset("manpairs", _tree(tmp_path / "man"))
    (dataset_path("manpairs") / "pages.jsonl").write_text("{not json\n")
    with pytest.raises(DataError, match="corrupt"):
        list(iter_documents("manpairs"))


def test_page_pairs_rules() -> None:
    page = ManPage("tool", "Does things.")
    page.add(OptionDoc(("-v", "--verbose"), "", "Explain what is being done."))
    page.add(OptionDoc(("--level",), "[=N]", "Set the level, as a number from 1 to 9"))  # optional argument
    page.add(OptionDoc(("-n",), "4", "Use four of them"))  # no placeholder word: left out
    page.add(OptionDoc(("-x",), "", "A synonym for -v"))
    page.add(OptionDoc(("-k",), "", "Keep the files that the"))  # cut short
    page.add(OptionDoc(("--TLS",), "", "TLS over the wire, if the server can"))  # acronym stays
    assert page_pairs(page) == [
        ("name", "Does things", "tool"),
        ("-v", "Does things: explain what is being done", "tool -v"),
        ("--level", "Does things: set the level, as a number from 1 to 9", "tool --level"),
        ("--TLS", "Does things: TLS over the wire, if the server can", "tool --TLS"),
    ]
    assert page_pairs(ManPage("empty", "")) == []
