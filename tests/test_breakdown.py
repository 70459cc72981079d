"""``bash_ai.breakdown``: commands taken apart and described from the real man pages on this machine.

Each parsing form is covered: programs, combined short flags, ``--opt=value``, ``-n 10``, an
option's attached argument, unknown options, pipelines and lists, redirections, substitutions,
``find -exec``, ``xargs``, ``sudo``/``env`` prefixes, subcommand pages, and the fixed texts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bash_ai.breakdown import Part, breakdown, compose
from bash_ai.manpages.page import parse_page
from bash_ai.manpages.store import Found, lookup

pytestmark = pytest.mark.tool("man")


def _table(command: str) -> list[tuple[str, str, str, int]]:
    return [(p.kind, p.text, p.source, p.depth) for p in breakdown(command)]


def _described(command: str) -> dict[str, str]:
    return {p.text: p.description for p in breakdown(command)}


def test_tar_czf_is_explained_part_by_part() -> None:
    parts = breakdown("tar czf a.tgz dir")
    assert [(p.kind, p.text, p.source) for p in parts] == [
        ("program", "tar", "man"),
        ("option", "-c", "man"),  # the old-style first argument reads as -c -z -f
        ("option", "-z", "man"),
        ("option", "-f a.tgz", "man"),  # -f takes the next word
    ]
    said = {p.text: p.description.lower() for p in parts}
    assert "archiv" in said["tar"]
    assert "create" in said["-c"] and "gzip" in said["-z"]
    assert said["-f a.tgz"].endswith("a.tgz")  # the page's ARCHIVE placeholder, filled in


def test_rm_rf_home_says_home_not_current_directory() -> None:
    said = _described("rm -rf ~")
    assert "remove" in said["rm"].lower()
    assert "recursive" in said["-r"].lower() and "prompt" in said["-f"].lower()
    assert said["~"] == "your home directory"
    assert "home directory" in compose(breakdown("rm -rf ~"))


def test_option_forms() -> None:
    said = _described("ls -la --sort=size --color")
    assert said["-l"].lower().startswith("use a long listing") and "entries starting with ." in said["-a"]
    assert "sort by" in said["--sort=size"].lower()  # --opt=value: the option's entry
    assert _table("head -n 10 f")[1] == ("option", "-n 10", "man", 0)  # -n 10: one part
    assert _table("head -n10 f")[1] == ("option", "-n10", "man", 0)  # attached argument
    assert _table("cut -d: -f1 x")[1:] == [("option", "-d:", "man", 0), ("option", "-f1", "man", 0)]
    assert _table("head -5 f")[1] == ("option", "-5", "fixed", 0)  # the old -NUM form
    unknown = breakdown("ls --no-such-option -Q9")
    assert unknown[1].source == "unknown" and "does not list it" in unknown[1].description
    assert [p.text for p in unknown[2:]] == ["-Q9"]  # -Q is known; 9 cannot be an option of it


def test_unknown_letters_inside_combined_flags_are_said_to_be_unknown() -> None:
    parts = breakdown("rm -rfj x")
    assert [(p.text, p.source) for p in parts[1:]] == [("-r", "man"), ("-f", "man"), ("-j", "unknown")]


def test_pipelines_lists_and_redirections() -> None:
    assert _table("du -sh * | sort -h > sizes.txt 2>&1 && echo ok; echo done &") == [
        ("program", "du", "man", 0),
        ("option", "-s", "man", 0),
        ("option", "-h", "man", 0),
        ("argument", "*", "fixed", 0),
        ("operator", "|", "fixed", 0),
        ("program", "sort", "man", 0),
        ("option", "-h", "man", 0),
        ("redirect", "> sizes.txt", "fixed", 0),
        ("redirect", "2>&1", "fixed", 0),
        ("operator", "&&", "fixed", 0),
        ("program", "echo", "man", 0),
        ("operator", ";", "fixed", 0),
        ("program", "echo", "man", 0),
        ("operator", "&", "fixed", 0),
    ]
    said = _described("sort < in.txt >> out.txt")
    assert said["< in.txt"] == "reads the input from in.txt" and said[">> out.txt"] == "appends the output to out.txt"


def test_substitutions_nest() -> None:
    assert _table("echo $(date +%s) <(ls -l)") == [
        ("program", "echo", "man", 0),
        ("substitution", "$(date +%s)", "fixed", 0),
        ("program", "date", "man", 1),
        ("substitution", "<(ls -l)", "fixed", 0),
        ("program", "ls", "man", 1),
        ("option", "-l", "man", 1),
    ]


def test_find_exec_and_xargs_run_commands() -> None:
    assert _table("find . -name '*.py' -exec grep -l foo {} \\;") == [
        ("program", "find", "man", 0),
        ("argument", ".", "fixed", 0),
        ("option", "-name '*.py'", "man", 0),
        ("option", "-exec", "man", 0),
        ("program", "grep", "man", 1),
        ("option", "-l", "man", 1),
        ("argument", "{}", "fixed", 1),
        ("operator", "\\;", "fixed", 0),
    ]
    assert _table("find . -print0 | xargs -0 -n 1 rm -f")[4:] == [
        ("program", "xargs", "man", 0),
        ("option", "-0", "man", 0),
        ("option", "-n 1", "man", 0),
        ("program", "rm", "man", 1),
        ("option", "-f", "man", 1),
    ]


def test_prefixes_and_subcommands() -> None:
    table = _table("sudo -u bob env LANG=C ls -l")
    assert table[0][:2] == ("program", "sudo")  # man page, tldr page or unknown: whatever is installed
    assert table[1][:2] == ("option", "-u bob") or table[1][:2] == ("option", "-u")
    assert ("program", "env") in [t[:2] for t in table]
    assert table[-2:] == [("program", "ls", "man", table[-2][3]), ("option", "-l", "man", table[-2][3])]
    assert table[-2][3] >= 1  # the wrapped command is nested
    git = shutil_which("git") and lookup("git-log").page is not None
    if git:
        assert _table("git log -n 5")[:3] == [
            ("program", "git", "man", 0),
            ("subcommand", "log", "man", 0),
            ("option", "-n 5", "man", 0),
        ]


def shutil_which(name: str) -> str | None:
    import shutil

    return shutil.which(name)


def test_builtins_and_a_program_without_any_page() -> None:
    said = breakdown("cd /tmp && no-such-program-xyz --flag")
    assert (said[0].source, said[0].description) == ("fixed", "shell builtin: change the current directory")
    assert said[2].kind == "program" and said[2].source == "unknown"
    assert "no man page for no-such-program-xyz" in said[2].description
    assert said[2].invocation == "no-such-program-xyz --flag"  # what the model is asked about
    assert said[3].source == "unknown" and "no man page" in said[3].description


def test_the_man_page_cache_is_reused_and_refreshed(tmp_path: Path) -> None:
    found = lookup("ls", cache_dir=tmp_path)
    assert found.page is not None and found.page.purpose
    entry = tmp_path / "ls.json"
    data = json.loads(entry.read_text())
    assert data["source"] == found.source and data["page"]["purpose"] == found.page.purpose
    data["page"]["purpose"] = "from the cache"
    entry.write_text(json.dumps(data))
    assert lookup("ls", cache_dir=tmp_path).page.purpose == "from the cache"  # type: ignore[union-attr]
    data["mtime_ns"] -= 1  # the page on disk changed: parsed again
    entry.write_text(json.dumps(data))
    assert lookup("ls", cache_dir=tmp_path).page.purpose == found.page.purpose  # type: ignore[union-attr]
    assert lookup("no-such-program-xyz", cache_dir=tmp_path).page is None
    assert json.loads((tmp_path / "no-such-program-xyz.json").read_text())["page"] is None
    assert lookup("../etc/passwd", cache_dir=tmp_path) == Found(None, "not a program name")


def test_man_missing_is_said_plainly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no man on PATH
    found = lookup("ls", cache_dir=tmp_path / "cache")
    assert found == Found(None, "man is not installed")
    assert not (tmp_path / "cache" / "ls.json").exists()  # installing man must take effect at once


def test_parse_page_reads_the_three_styles_of_option_list() -> None:
    source = "\n".join(
        [
            ".TH DEMO 1",
            ".SH NAME",
            "demo \\- show the parser",
            ".SH OPTIONS",
            ".TP",
            "\\fB\\-a\\fR, \\fB\\-\\-all\\fR",
            "do not ignore entries starting with .",
            ".TP",
            '.BI "\\-o " file ", \\-\\-output=" file',
            "Write to",
            ".I file",
            "instead.",
            ".IP \\-q",
            "Be quiet. Very quiet.",
            ".PP",
            "\\fB\\-n\\fR \\fINUM\\fR",
            ".RS 4",
            "Stop after NUM lines\\&.",
            ".RE",
            ".It Fl z Ar size",
            "Zero",
        ]
    )
    page = parse_page("demo", source)
    assert page.purpose == "show the parser"
    assert page.options["-a"] is page.options["--all"]
    assert page.options["-a"].description == "Do not ignore entries starting with ."
    assert (page.options["-o"].argument, page.options["-o"].description) == ("file", "Write to file instead")
    assert page.options["-q"].description == "Be quiet" and not page.options["-q"].takes_argument
    assert page.options["-n"].takes_argument and page.options["-n"].description == "Stop after NUM lines"
    assert page.options["-z"].argument == "size"


def test_parts_serialise(tmp_path: Path) -> None:
    part = breakdown("ls -l")[1]
    assert isinstance(part, Part) and json.loads(json.dumps(part.to_json()))["text"] == "-l"
    assert os.environ["BASH_AI_HOME"]  # each test's own cache dir


class _Says:
    """An engine stand-in whose model always says ``text`` (and that has no retrieval index)."""

    index = None

    def __init__(self, text: str) -> None:
        self.text = text

    def describe(self, command: str, params: object = None, *, cancel: object = None) -> str:
        return self.text


def test_a_summary_that_contradicts_the_man_pages_gives_way_to_their_words() -> None:
    from bash_ai.answer import summarise

    # Agrees with tar(1) ("archive"): kept.
    assert summarise(_Says("Archive the folder dir"), "tar czf a.tgz dir") == ("Archive the folder dir", "model")
    # Shares no word with what the pages say: the parts' own words.
    text, source = summarise(_Says("Open a specific directory"), "tar czf a.tgz dir")
    assert source == "parts" and text.startswith("An archiving utility: create a new archive")
    # Near-synonyms count as agreement ("delete" for rm's "remove").
    assert summarise(_Says("delete everything here"), "rm -rf ./*")[1] == "model"
    # A command on your home directory must say so.
    text, source = summarise(_Says("Remove everything in the current folder"), "rm -rf ~")
    assert source == "parts" and text.endswith("on your home directory")
    assert summarise(_Says("Remove everything in your home directory"), "rm -rf ~")[1] == "model"
    # Asked for the model's words, the model's words.
    assert summarise(_Says("Open a specific directory"), "tar czf a.tgz dir", strategy="model")[1] == "model"
