"""A candidate that destroys a file, or changes any, where the request only asks to read goes after the others."""

from __future__ import annotations

import subprocess
import types
from pathlib import Path
from typing import Any

import pytest

from bash_ai.answer import harming
from bash_ai.engine.proposal import Proposal
from bash_ai.safety.intent import (
    asks_for_another_user,
    asks_to_create,
    changed_system,
    changes_unasked,
    destroyed_files,
    harmed_files,
    only_creates,
    other_domain,
    reads_only,
    run_files,
    sweeping_deletes,
    switches_user,
    undoes,
)


@pytest.mark.parametrize(
    ("request_text", "expected"),
    [
        ("show the first 10 lines of notes.txt", True),
        ("Please count the lines in main.c", True),
        ("how do I find the largest files", True),
        ("replace foo with bar in config.txt", False),  # asks for a change
        ("print notes.txt and save it as copy.txt", False),
        ("sort names.txt alphabetically", False),  # sorting in place is a fair reading
        ("delete old logs", False),
        ("compress file.txt with gzip", False),
        ("find all files, calculate their md5sum and print each to filename-hash.md5 files", False),  # writes it
        ("print the lines of notes.txt to the file out.txt", False),
        ("show the path to the home directory", True),  # "to", but no file the output goes to
        ("get rid of .DS_Store files everywhere under here", False),  # everyday-dev's, once read as reading
        ("", False),
    ],
)
def test_reads_only(request_text: str, expected: bool) -> None:
    assert reads_only(request_text) is expected


@pytest.mark.parametrize(
    ("command", "harmed"),
    [
        ("yes | head -n10 > notes.txt", ["notes.txt"]),  # the bundled model's answer before this check
        ("head -n 10 notes.txt", []),
        ("head notes.txt >> notes.txt", []),  # appending keeps what was there
        ("head notes.txt > first.txt", []),  # another file
        ("cat notes.txt 2>&1", []),  # a descriptor, not a file
        ("cat notes.txt &> notes.txt", ["notes.txt"]),
        ("rm -f ./notes.txt", ["notes.txt"]),
        ("mv notes.txt /tmp/", ["notes.txt"]),
        ("wc -l notes.txt | tee notes.txt", ["notes.txt"]),
        ("wc -l notes.txt | tee -a notes.txt", []),
        ("cp other.txt notes.txt", ["notes.txt"]),
        ("cp notes.txt other.txt", []),  # reading it is fine
        ("dd if=/dev/zero of=notes.txt", ["notes.txt"]),
        ("sed -i '1,10!d' notes.txt", ["notes.txt"]),
        ("sed -n '1,10p' notes.txt", []),
        ("perl -pi -e 's/a/b/' notes.txt", ["notes.txt"]),
        ("perl -Mstrict -ne 'print if 1..10' notes.txt", []),  # M takes an argument: no -i here
        ("sed -ni '1,10p' notes.txt", ["notes.txt"]),
        ("sed --in-place=.bak 1d notes.txt", ["notes.txt"]),
        ("find . -name notes.txt -exec rm {} \\;", []),  # the file is named only as a pattern; {} is not its name
        ("echo $(rm notes.txt)", ["notes.txt"]),  # inside a substitution too
        ("head -n 10 'notes.txt", []),  # unparseable: no claim
        ("gzip notes.txt", ["notes.txt"]),  # replaced by notes.txt.gz
        ("gzip -c notes.txt > notes.gz", []),
        ("bzip2 -kv notes.txt", []),
        ("xz --keep notes.txt", []),
    ],
)
def test_harmed_files(command: str, harmed: list[str]) -> None:
    assert harmed_files(command, ["notes.txt"]) == harmed
    # The answer path's verdict: the named file, or else whatever the command destroys.
    expected = harmed or destroyed_files(command)
    assert harming("show the first 10 lines of notes.txt", [command]) == ({command: expected} if expected else {})


@pytest.mark.parametrize(
    "command",
    [
        "gzip notes.txt",
        "gzip -k notes.txt",
        "gzip -c notes.txt > out.gz",
        "gzip -t notes.txt.gz",
        "gzip -l notes.txt.gz",
        "gunzip notes.txt.gz",
        "gzip -dc notes.txt.gz",
        "bzip2 notes.txt",
        "bzip2 -kv notes.txt",
        "xz notes.txt",
        "xz --keep notes.txt",
        "xz -d --stdout notes.txt.xz",
        "unxz notes.txt.xz",
    ],
)
def test_a_compressor_harms_the_file_it_replaces_as_the_real_one_does(command: str, tmp_path: Any) -> None:
    """Each command run for real on notes.txt (and its compressed copies): the file it names is
    harmed exactly when it is gone afterwards."""
    import shutil
    import subprocess

    program = command.split()[0]
    if shutil.which(program) is None:
        pytest.skip(f"{program} is not installed")
    named = next(w for w in command.split()[1:] if w.startswith("notes"))
    (tmp_path / "notes.txt").write_text("ten lines\n" * 10)
    if named != "notes.txt":  # only the compressed copy the command is given
        packer = {"notes.txt.gz": "gzip", "notes.txt.xz": "xz"}[named]
        subprocess.run([packer, "notes.txt"], cwd=tmp_path, check=True)
    subprocess.run(["bash", "-c", command], cwd=tmp_path, check=True, capture_output=True)
    assert bool(harmed_files(command, [named])) is not (tmp_path / named).exists()


@pytest.mark.parametrize(
    ("command", "destroyed"),
    [
        ("mv /path/subfolder/{.,}* /path/", ["/path/subfolder/{.,}*", "/path/"]),  # asked to list hidden files
        ("rm -rf build", ["build"]),
        ("rmdir empty", ["empty"]),
        ("find . -name '*.tmp' -delete", ["."]),
        ("find /var/log -mtime +7 -exec rm {} \\;", ["{}"]),
        ("sed -i 's/a/b/' notes.txt", ["notes.txt"]),
        ("perl -pi -e 's/a/b/' notes.txt", ["notes.txt"]),
        ("ls -a", []),
        ("find . -name '*.tmp'", []),
        ("sed -n '1,10p' notes.txt", []),
        ("ls -a | tee listing.txt", []),  # a new file written, nothing destroyed
        ("cp a.txt b.txt", []),
        ("ls 'unclosed", []),  # unparseable: no claim
    ],
)
def test_destroyed_files(command: str, destroyed: list[str]) -> None:
    assert destroyed_files(command) == destroyed


def test_a_request_that_only_reads_changes_no_file_named_or_not() -> None:
    assert harming("find large files", ["rm big.txt", "find . -size +100M"]) == {"rm big.txt": ["big.txt"]}
    pool = ["mv /path/subfolder/{.,}* /path/", "ls -a"]
    assert harming("list all files including hidden ones", pool) == {pool[0]: ["/path/subfolder/{.,}*", "/path/"]}
    assert harming("move all files including hidden ones to /path/", pool) == {}  # asked for
    assert harming("delete empty directories", ["find . -type d -empty -delete"]) == {}


def test_nothing_is_harmed_when_a_change_is_asked() -> None:
    assert harming("replace foo with bar in config.txt", ["sed -i 's/foo/bar/' config.txt"]) == {}
    assert harming("substitute foo with bar in config.txt", ["sed -i 's/foo/bar/' config.txt"]) == {}
    assert harmed_files("rm big.txt", []) == []
    # The same file under another directory is protected too (erring on the side of the file).
    assert harmed_files("rm ./data/a.txt", ["data/a.txt"]) == ["data/a.txt"]
    assert harmed_files("rm backup/a.txt", ["data/a.txt"]) == ["backup/a.txt"]
    assert harming("show data/a.txt", ["rm ./data/a.txt", "cat data/a.txt"]) == {"rm ./data/a.txt": ["data/a.txt"]}
    # A compressor named as the verb asks for the change; reading a compressed file does not.
    from bash_ai.answer import unasked

    assert unasked("bzip2 data.csv", ["bzip2 data.csv"]) == {}
    read = unasked("view notes.txt.gz without decompressing it", ["gunzip notes.txt.gz", "zcat notes.txt.gz"])
    assert list(read) == ["gunzip notes.txt.gz"] and read["gunzip notes.txt.gz"][0] == "request-file"


# Proposals for "... notes.txt", best-scored first: one overwrites the file, one is a syntax error.
NOTES_POOL = [
    Proposal("yes | head -n10 > notes.txt", "beam", -1.0, 3, 3.0, "eos"),
    Proposal("echo 'unclosed", "beam", -1.0, 3, 2.5, "eos"),
    Proposal("head -n 10 notes.txt", "beam", -1.0, 3, 2.0, "eos"),
    Proposal("sed -n 1,10p notes.txt", "beam", -1.0, 3, 1.0, "eos"),
]


def _proposing(monkeypatch: pytest.MonkeyPatch, pool: list[Proposal]) -> Any:
    """A stand-in engine (no reranker) whose ``propose`` gives ``pool``: the answer path's checks alone."""
    import bash_ai.engine.propose as propose_module

    monkeypatch.setattr(propose_module, "propose", lambda *args, **kwargs: list(pool))
    return types.SimpleNamespace(reranker=None)


def test_the_answer_path_puts_a_harmful_candidate_after_the_harmless_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """The best-scored proposal overwrites the file the request asks to read: it goes after every
    other valid one (still before syntax errors), and the order is otherwise the model's."""
    from bash_ai.answer import propose_checked
    from bash_ai.engine.propose import DecodeConfig

    engine = _proposing(monkeypatch, NOTES_POOL)

    def texts(request: str) -> list[str]:
        return [c.text for c in propose_checked(engine, request, DecodeConfig())]  # type: ignore[arg-type]

    assert texts("show the first 10 lines of notes.txt") == [
        "head -n 10 notes.txt",
        "sed -n 1,10p notes.txt",
        "yes | head -n10 > notes.txt",
        "echo 'unclosed",
    ]
    # Asked to write the file, the same pool keeps the model's order.
    assert texts("write ten lines into notes.txt") == [
        "yes | head -n10 > notes.txt",
        "head -n 10 notes.txt",
        "sed -n 1,10p notes.txt",
        "echo 'unclosed",
    ]


def test_a_caller_that_shows_few_answers_gets_the_same_first_ones_from_fewer_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``want=n``: the first n harmless proposals are checked first, and when all are valid, they are
    the answer (one ``bash -n`` each instead of one for every proposal); otherwise every proposal is
    checked as before. Either way the first n are those of the whole list."""
    from bash_ai import safety
    from bash_ai.answer import propose_checked
    from bash_ai.engine.propose import DecodeConfig

    engine = _proposing(monkeypatch, NOTES_POOL)
    checked: list[str] = []
    real = safety.check_syntax_many

    def counting(commands: list[str]) -> list[safety.SyntaxResult]:
        checked.extend(commands)
        return real(commands)

    monkeypatch.setattr(safety, "check_syntax_many", counting)

    def texts(request: str, want: int | None = None) -> list[str]:
        checked.clear()
        return [c.text for c in propose_checked(engine, request, DecodeConfig(), want=want)]  # type: ignore[arg-type]

    for request in ("show the first 10 lines of notes.txt", "write ten lines into notes.txt"):
        whole = texts(request)
        assert len(checked) == len(NOTES_POOL)
        for want in range(1, len(NOTES_POOL) + 1):
            assert texts(request, want)[:want] == whole[:want], (request, want)
    assert texts("write ten lines into notes.txt", 1) == ["yes | head -n10 > notes.txt"]
    assert checked == ["yes | head -n10 > notes.txt"]  # one check, not four
    # The first harmless proposal of a read-only request is a syntax error: everything is checked.
    assert texts("show the first 10 lines of notes.txt", 1)[0] == "head -n 10 notes.txt"
    assert sorted(checked) == sorted(p.text for p in NOTES_POOL)


def test_the_bundled_model_no_longer_overwrites_the_file_it_is_asked_to_show() -> None:
    """The bundled model's best-scored answer to this request was ``yes | head -n10 > notes.txt``."""
    from bash_ai.answer import answer
    from bash_ai.registry import load

    request = "show the first 10 lines of notes.txt"
    answers = answer(load("bundled"), request, 3)
    assert answers[0].syntax_ok
    assert harming(request, [answers[0].text]) == {}


def test_a_harmful_candidate_that_is_shown_carries_a_high_danger_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    """When it is shown anyway (here the only valid one), it is flagged, so `--yes` will not run it."""
    from bash_ai.answer import propose_checked
    from bash_ai.engine.propose import DecodeConfig

    pool = [Proposal("yes | head -n10 > notes.txt", "beam", -1.0, 3, 3.0, "eos")]
    engine = _proposing(monkeypatch, pool)
    shown = propose_checked(engine, "show the first 10 lines of notes.txt", DecodeConfig(), flag=True)  # type: ignore[arg-type]
    assert [c.text for c in shown] == ["yes | head -n10 > notes.txt"]
    flag = shown[0].danger[0]
    assert (flag.rule_id, flag.severity) == ("request-file", "high")
    assert "notes.txt" in flag.message
    # Asked to write it, the same command carries no such flag.
    written = propose_checked(engine, "write ten lines into notes.txt", DecodeConfig(), flag=True)  # type: ignore[arg-type]
    assert all(f.rule_id != "request-file" for f in written[0].danger)


@pytest.mark.parametrize(
    ("request_text", "asks"),
    [
        ("show line numbers in script.sh", False),
        ("run backup.sh in the background", False),
        ('run command "createdb $DBNAME" as user postgres', True),
        ("run it as root", True),
        ("switch to another user", True),
        ("open a root shell", True),
        ("list the users logged in", False),
    ],
)
def test_asks_for_another_user(request_text: str, asks: bool) -> None:
    assert asks_for_another_user(request_text) is asks


@pytest.mark.parametrize(
    ("command", "switches"),
    [
        ("su - jetty script.sh", True),  # once the bundle's first answer to "show line numbers in script.sh"
        ("sudo su - postgres -c 'createdb x'", True),
        ("runuser -u www-data -- ls", True),
        ("sudo apt update", False),  # root, but no other user's session: not this rule's
        ("cat -n script.sh", False),
        ("echo su", False),  # the word, not the program
    ],
)
def test_switches_user(command: str, switches: bool) -> None:
    assert switches_user(command) is switches


def test_a_candidate_that_runs_as_another_user_goes_last_and_is_flagged_unless_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bash_ai.answer import propose_checked, unasked
    from bash_ai.engine.propose import DecodeConfig

    pool = [
        Proposal("su - jetty script.sh", "beam", -1.0, 3, 3.0, "eos"),
        Proposal("cat -n script.sh", "beam", -1.0, 3, 2.0, "eos"),
    ]
    engine = _proposing(monkeypatch, pool)
    shown = propose_checked(engine, "show line numbers in script.sh", DecodeConfig(), flag=True)  # type: ignore[arg-type]
    assert [c.text for c in shown] == ["cat -n script.sh", "su - jetty script.sh"]
    assert (shown[1].danger[0].rule_id, shown[1].danger[0].severity) == ("request-user", "high")
    asked = propose_checked(engine, "show line numbers in script.sh as user jetty", DecodeConfig())  # type: ignore[arg-type]
    assert [c.text for c in asked] == ["su - jetty script.sh", "cat -n script.sh"]
    assert unasked("show notes.txt", ["rm notes.txt"])["rm notes.txt"][0] == "request-file"


@pytest.mark.parametrize(
    ("command", "run"),
    [
        ("./script.sh", ["script.sh"]),  # once the bundle's first answer to "show line numbers in script.sh"
        ("./script.sh | sort -u", ["script.sh"]),
        ("bash script.sh", ["script.sh"]),
        ("source ./script.sh", ["script.sh"]),
        ("cat -n script.sh", []),
        ("bash other.sh", []),
        ("bash -n script.sh", []),  # a syntax check reads it only
    ],
)
def test_run_files(command: str, run: list[str]) -> None:
    assert run_files(command, ["script.sh"]) == run


def test_a_file_the_request_only_reads_is_not_run() -> None:
    from bash_ai.answer import unasked

    pool = ["./script.sh", "cat -n script.sh"]
    assert unasked("show line numbers in script.sh", pool) == {
        "./script.sh": ("request-file", "runs script.sh, which the request only asks to read")
    }
    assert unasked("run script.sh", pool) == {}  # asked to run it
    assert unasked("show the lines of script.sh and then execute it", pool) == {}
    assert "./script.sh" in unasked("show the running processes of script.sh", pool)  # "running": no ask


@pytest.mark.parametrize(
    ("command", "created"),
    [
        ("mkdir logs", ["logs"]),  # the bundle's first answer to "compress the logs directory", once
        ("mkdir -p a/b && touch a/b/x", ["a/b", "a/b/x"]),
        ("mkdir -p backup && cp file.txt backup/", []),  # it does more than create
        ("tar -czf logs.tar.gz logs", []),
        ("echo mkdir", []),
    ],
)
def test_only_creates(command: str, created: list[str]) -> None:
    assert only_creates(command) == created


@pytest.mark.parametrize(
    ("request_text", "asks"),
    [
        ("create a directory called projects", True),
        ("make a new folder", True),
        ("update the timestamp of notes.txt", True),
        ("compress the logs directory", False),
        ("show the size of the home directory", False),
    ],
)
def test_asks_to_create(request_text: str, asks: bool) -> None:
    assert asks_to_create(request_text) is asks


@pytest.mark.parametrize(
    ("command", "request_text", "expected"),
    [
        ("mkdir logs", "compress the logs directory", (["logs"], "anything")),
        # The bundle's first answer once, a directory where an archive was asked for.
        ("mkdir ${archive%.tar*}", "create a tar archive of the src directory", (["${archive%.tar*}"], "a directory")),
        ("mkdir latest", "create a symlink called latest pointing to release-2.3", (["latest"], "a directory")),
        ("touch index.html", "create a new account", (["index.html"], "a file")),
        ("mkdir jan feb mar", "make folders jan feb and mar", ([], "")),
        ("mkdir -p a/b/c", "create a/b/c with its parents", ([], "")),  # a path named
        ("mkdir projects", "create a new directory called projects", ([], "")),
        ("touch notes.txt", "create notes.txt", ([], "")),  # a file named
        ("touch -d yesterday x", "set the timestamp of x to yesterday", ([], "")),
        ("tar -czf src.tar.gz src", "create a tar archive of the src directory", ([], "")),  # does more
    ],
)
def test_creates_unasked(command: str, request_text: str, expected: tuple[list[str], str]) -> None:
    from bash_ai.engine.arguments import files, paths
    from bash_ai.safety.intent import creates_unasked

    assert creates_unasked(command, request_text, files(request_text), paths(request_text)) == expected


@pytest.mark.parametrize(
    ("command", "named", "expected"),
    [
        # The bundle's first answers once.
        ("tar -tzf release.zip", ["release.zip"], ["tar release.zip"]),
        ("tar -xJf image.xz", ["image.xz"], ["tar image.xz"]),
        ("unzip backup.tar.gz", ["backup.tar.gz"], ["unzip backup.tar.gz"]),
        ("bunzip2 files.rar", ["files.rar"], ["bunzip2 files.rar"]),
        ("cd /tmp && tar xf ~/dl/image.xz", ["image.xz"], ["tar image.xz"]),  # by its path too
        # Fitting formats, every ending counted: a .tar.gz is a tar archive and a gzip file.
        ("unzip -l release.zip", ["release.zip"], []),
        ("gunzip backup.tar.gz", ["backup.tar.gz"], []),
        ("tar -xzf backup.tar.gz", ["backup.tar.gz"], []),
        ("tar -xf bundle.tgz", ["bundle.tgz"], []),
        ("7z x release.zip", ["release.zip"], []),  # reads them all
        ("cp release.zip /tmp", ["release.zip"], []),  # no archiver
        ("tar -cf notes.txt.tar notes.txt", ["notes.txt"], []),  # no archive named
        ("tar -tzf other.zip", ["release.zip"], []),  # not the request's file
    ],
)
def test_wrong_formats(command: str, named: list[str], expected: list[str]) -> None:
    from bash_ai.safety.intent import wrong_formats

    assert wrong_formats(command, named) == expected


# (the best-scored candidate, the one after it, a request it misreads, the flag, a request that asks for it)
UNASKED_FIRST = [
    (
        "tar -tzf release.zip",
        "unzip -l release.zip",
        "what's inside release.zip",
        ("request-format", "medium"),
        "list what is in the release archive",  # names no file: the order stands
    ),
    (
        "mkdir logs",
        "tar -czf logs.tar.gz logs",
        "compress the logs directory",
        ("request-create", "medium"),
        "create the logs directory and compress it",
    ),
    (
        "mkdir backup",
        "tar -czf src.tar.gz src",
        "create a tar archive of the src directory",
        ("request-create", "medium"),
        "create a backup directory",
    ),
    (
        "kill $(lsof -t -i:8080)",
        "lsof -i :8080",
        "show which process uses port 8080",
        ("request-kill", "high"),
        "kill the process on port 8080",
    ),
    (  # the bundle's first answer once: it counts the files
        'find . -name "*.py" -exec wc -l {} \\; | wc -l',
        "cat *.py | wc -l",
        "count the number of lines in all python files",
        ("request-count", "medium"),
        "count the python files",
    ),
    (  # the bundle's first answer once (on everyday-dev2)
        "sudo userdel -r bob",
        "sudo useradd -m bob",
        "add user bob with a home directory",
        ("request-undo", "high"),
        "delete user bob and his home directory",
    ),
    (  # the bundle's first answer once (on everyday-tune): it empties the archive to copy
        "tar -czf backup.tar.gz project",
        "scp backup.tar.gz db1:/srv/backups/",
        "copy backup.tar.gz to /srv/backups on host db1",
        ("request-file", "high"),
        "create backup.tar.gz from the project folder",
    ),
    (  # the bundle's first answer once (on everyday-tune): it signals process 8080
        "kill 8080",
        "fuser -k 8080/tcp",
        "kill the process on port 8080",
        ("request-port", "high"),
        "kill the process with pid 8080",  # names no port
    ),
    (  # the bundle's first answer once (everyday-dev): every file below, not the directory's
        "find . -type f -printf '%s\\t%p\\n' | sort -n",
        "ls -lhS",
        "list files sorted by size",
        ("request-depth", "medium"),
        "list all files in the tree sorted by size",
    ),
    (
        "df -h",
        "free -h",
        "show free memory",
        ("request-topic", "medium"),
        "show free disk space",
    ),
    (
        "free -h",
        "df -h",
        "how much disk space is left",
        ("request-topic", "medium"),
        "how much memory is left",
    ),
    (  # the bundle's first answer (everyday-tune): the archive taken apart instead of made
        "unzip archive.zip -d docs",
        "zip -r docs.zip docs",
        "zip the docs directory",
        ("request-undo", "high"),
        "unzip archive.zip into the docs directory",
    ),
    (  # the bundle's first answer (everyday-tune)
        "rar a files.rar dir",
        "unrar x files.rar",
        "unpack files.rar",
        ("request-undo", "high"),
        "pack dir into files.rar",
    ),
    (  # the bundle's first answer (everyday-tune): a new account for a request to see one
        "sudo useradd -m -s /bin/bash carol",
        "id carol",
        "show uid and groups of user carol",
        ("request-change", "high"),
        "create user carol and show her uid",
    ),
    (  # the bundle's first answer on a machine with docker (everyday-dev)
        "docker system df",
        "df -h",
        "show disk usage",
        ("request-tool", "medium"),
        "show docker disk usage",
    ),
    (  # among the bundle's answers (everyday-dev2)
        "git diff main..dev",
        "diff -r dirA dirB",
        "compare directories dirA and dirB",
        ("request-tool", "medium"),
        "compare the branches main and dev",
    ),
]


@pytest.mark.parametrize(("unasked_text", "other", "request_text", "flagged", "asking"), UNASKED_FIRST)
def test_a_candidate_the_request_did_not_ask_for_goes_last_with_its_flag_unless_asked(
    monkeypatch: pytest.MonkeyPatch,
    unasked_text: str,
    other: str,
    request_text: str,
    flagged: tuple[str, str],
    asking: str,
) -> None:
    from bash_ai.answer import propose_checked

    pool = [Proposal(unasked_text, "beam", -1.0, 3, 3.0, "eos"), Proposal(other, "retrieval", -1.0, 3, 2.0, "eos")]
    engine = _proposing(monkeypatch, pool)
    shown = propose_checked(engine, request_text, flag=True)  # type: ignore[arg-type]
    assert [c.text for c in shown] == [other, unasked_text]
    assert (shown[1].danger[-1].rule_id, shown[1].danger[-1].severity) == flagged
    asked = propose_checked(engine, asking)  # type: ignore[arg-type]
    assert [c.text for c in asked] == [unasked_text, other]


@pytest.mark.parametrize(
    ("command", "swept"),
    [
        ("rm -rf *", ["*"]),  # once the bundle's first answer to "delete the directory build and everything in it"
        ("rm -rf ./* .*", ["./*", ".*"]),
        ("rm -rf build", []),
        ("rm -rf build/*", []),  # the named directory's contents: asked for
        ("rm -f *.tmp", []),
        ("ls *", []),  # reads only
        ("echo 'rm -rf *'", []),  # the words, not the program
        ("find . -mindepth 1 -maxdepth 1 -print0 | xargs -0 rm -rf", ["find ."]),  # then its first answer
        ("find . -type f -exec rm {} +", ["find ."]),
        ("find -delete", ["find ."]),
        ("find . -name '*.tmp' -delete", []),  # a test chooses what goes
        ("find build -type d -exec rm -rf {} +", []),  # a named place
        ("find . -maxdepth 1 -print0 | xargs -0 ls -l", []),  # lists only
    ],
)
def test_sweeping_deletes(command: str, swept: list[str]) -> None:
    assert sweeping_deletes(command) == swept


@pytest.mark.parametrize(
    ("request_text", "expected"),
    [
        ("first 20 lines of data.csv", True),
        ("skip the header line of data.csv", True),
        ("md5 checksum of file.iso", True),
        ("kill whatever is on port 3000", True),  # no file to change (its programs are another matter)
        ("show the first 10 lines of notes.txt", True),  # reads_only too
        ("replace foo with bar in config.txt", False),
        ("comment out the PermitRootLogin line in sshd_config", False),  # an edit _CHANGE does not say
        ("prepend a header row to data.csv", False),
        ("unpack image.xz", False),  # unxz replaces image.xz: asked for
        ("generate a requirements.txt for a project", False),
        ("make a directory called logs", False),
        ("print the hashes to sums.md5", False),  # where the output goes
    ],
)
def test_asks_for_no_change(request_text: str, expected: bool) -> None:
    from bash_ai.safety.intent import asks_for_no_change

    assert asks_for_no_change(request_text) is expected


def test_a_candidate_that_writes_over_a_file_of_a_request_that_asks_no_change_is_flagged() -> None:
    """Without a reading verb first, a request may still ask for no change: once the bundle's first
    answer to "first 20 lines of data.csv" was ``sed -i '1d' data.csv`` (the first line deleted in
    place), and its fifth to "md5 checksum of file.iso" wrote the sums over the ISO."""
    from bash_ai.answer import unasked

    assert unasked("first 20 lines of data.csv", ["sed -i '1d' data.csv", "head -n 20 data.csv"]) == {
        "sed -i '1d' data.csv": (
            "request-file",
            "removes, moves or writes over data.csv; the request does not ask to change it",
        )
    }
    assert list(unasked("md5 checksum of file.iso", ["md5sum -- *.iso > file.iso", "md5sum file.iso"])) == [
        "md5sum -- *.iso > file.iso"
    ]
    # Other files than the request's may change, and a change asked for stands.
    assert unasked("md5 checksum of file.iso", ["md5sum file.iso > /tmp/sums.txt"]) == {}
    assert unasked("prepend a header row to data.csv", ["sed -i '1i name,age' data.csv"]) == {}
    assert unasked("unpack image.xz", ["unxz image.xz", "rm image.xz"]) == {}


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("find ./ -mtime +7 -delete", True),
        ("find . -type f -exec rm -f {} \\;", True),
        ("find . -print0 | xargs -0 rm", True),
        ("rm -rf build", True),
        ("rmdir empty", True),
        ("shred -u secret.txt", True),
        ("find . -mtime +7", False),  # lists only
        ("mv a b", False),  # moves: not a deletion here
        ("echo rm -rf x", False),  # the words, not the program
        ("grep -r unlink src", False),
    ],
)
def test_deletes(command: str, expected: bool) -> None:
    from bash_ai.safety.intent import deletes

    assert deletes(command) is expected


def test_a_deletion_that_names_nothing_the_request_names_goes_last_and_is_flagged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bash_ai.answer import propose_checked, unasked
    from bash_ai.engine.propose import DecodeConfig

    asked = "delete the old .bak files in /srv/data"
    pool = [
        Proposal("rm -f /tmp/*.log", "beam", -1.0, 3, 3.0, "eos"),
        Proposal("find /srv/data -name '*.bak' -mtime +30 -delete", "beam", -1.0, 3, 2.0, "eos"),
    ]
    engine = _proposing(monkeypatch, pool)
    shown = propose_checked(engine, asked, DecodeConfig(distinct=False), flag=True)  # type: ignore[arg-type]
    assert [c.text for c in shown] == [pool[1].text, pool[0].text]
    assert (shown[1].danger[0].rule_id, shown[1].danger[0].severity) == ("request-scope", "high")
    assert shown[0].danger == []
    expected = ("request-scope", "deletes files without naming /srv/data, *.bak, which the request names")
    assert unasked(asked, [pool[0].text])[pool[0].text] == expected
    # Named in another form: a glob with the kind's ending, a path by its last part.
    assert unasked("remove the .sh files that begin with t", ["find . -name 't*.sh' -delete"]) == {}
    assert unasked("delete ~/.cache/thumbs", ['rm -rf "$HOME/.cache/thumbs"']) == {}
    # A relative "path" that is a phrase of the request does not count; with nothing else named the order stands.
    assert (
        unasked("delete all hidden files/directories under $some_directory", ["find \"$d\" -name '.*' -delete"]) == {}
    )
    assert unasked("delete old files", ["find . -mtime +7 -delete"]) == {}  # names nothing
    assert unasked("delete notes.txt", ["ls -l"]) == {}  # deletes nothing


@pytest.mark.parametrize(
    ("request_text", "named"),
    [
        ("delete the directory build and everything in it", ["build"]),
        ("delete everything in the build directory", ["build"]),
        ("remove the folder called old_logs", ["old_logs"]),
        ("delete all .tmp files", ["*.tmp"]),
        ("remove notes.txt and /tmp/x.log", ["notes.txt", "/tmp/x.log"]),
        ("delete all files in the current directory", []),
        ("delete the directory tree", []),  # "tree" describes, it does not name
        ("delete all files in current directory downwards", []),
        ("remove the folder old and the directory cache.", ["old", "cache"]),
        ('search for the directory "ora10" in the entire file system', ["ora10"]),
    ],
)
def test_targets(request_text: str, named: list[str]) -> None:
    from bash_ai.engine.arguments import targets

    assert sorted(targets(request_text)) == sorted(named)


def test_a_candidate_that_deletes_everything_here_goes_last_where_the_request_names_what_to_delete(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bash_ai.answer import propose_checked, unasked
    from bash_ai.engine.propose import DecodeConfig

    pool = [
        Proposal("rm -rf *", "beam", -1.0, 3, 3.0, "eos"),
        Proposal("rm -rf build", "retrieval", -1.0, 3, 2.0, "eos"),
    ]
    engine = _proposing(monkeypatch, pool)
    asked = "delete the directory build and everything in it"
    # One per structure: the twin that deletes what was named is kept, not the better-ranked sweep.
    assert [c.text for c in propose_checked(engine, asked)] == ["rm -rf build"]  # type: ignore[arg-type]
    shown = propose_checked(engine, asked, DecodeConfig(distinct=False), flag=True)  # type: ignore[arg-type]
    assert [c.text for c in shown] == ["rm -rf build", "rm -rf *"]
    assert (shown[1].danger[0].rule_id, shown[1].danger[0].severity) == ("request-scope", "high")
    here = "delete all files in the current directory"  # names nothing: the order stands
    assert [c.text for c in propose_checked(engine, here)] == ["rm -rf *"]  # type: ignore[arg-type]
    assert [c.text for c in propose_checked(engine, here, DecodeConfig(distinct=False))] == ["rm -rf *", "rm -rf build"]  # type: ignore[arg-type]
    assert unasked("delete all .tmp files", ["rm -rf *", "rm -f *.tmp"]) == {
        "rm -rf *": ("request-scope", "deletes everything here (*); the request names *.tmp")
    }


def test_a_deletion_in_a_place_the_request_never_says_is_flagged() -> None:
    """A how-to pair's ``find /tmp/cache ... -delete`` was the bundle's first answer (with the kind
    of files put in) to "delete all .tmp files older than 7 days": the files here were never asked
    about, and the ones in /tmp/cache were."""
    from bash_ai.answer import unasked
    from bash_ai.safety.intent import deleting_places, says_a_place

    assert deleting_places("find /tmp/cache -name '*.tmp' -mtime +7 -delete") == ["/tmp/cache"]
    assert deleting_places("find ~/Downloads /srv -type f -exec rm -f {} \\;") == ["~/Downloads", "/srv"]
    assert deleting_places("rm -f /var/tmp/*.tmp notes.txt build/ ./* ./old/ src/*.o") == ["/var/tmp/*.tmp", "src/*.o"]
    assert deleting_places("find project / -name '*.o' -exec rm -f {} \\;") == ["project", "/"]
    for here in ("find ./ -mtime +7 -delete", "find . -exec rm {} +", 'rm -rf "$DIR"/*', "find /var/www -name x"):
        assert deleting_places(here) == [], here
    assert says_a_place("delete files in the temp folder") and says_a_place("clean the cache")
    assert not says_a_place("delete all .tmp files older than 7 days")  # a kind of files, not a place
    asked = "delete all .tmp files older than 7 days"
    commands = ["find /tmp/cache -name '*.tmp' -mtime +7 -delete", "find ./ -name '*.tmp' -mtime +7 -delete"]
    assert unasked(asked, commands) == {
        commands[0]: ("request-scope", "deletes in /tmp/cache, a place the request does not name")
    }
    # A request that says where, by a path, a directory or a word for a place, is left to the others.
    for placed in (
        "delete all .tmp files in /tmp/cache",
        "delete .tmp files in the cache directory",
        "empty the cache",
    ):
        assert unasked(placed, commands[:1]) == {}, placed


def test_the_bundled_model_deletes_old_files_here_when_no_place_is_named() -> None:
    from bash_ai.answer import answer
    from bash_ai.registry import load

    for request in ("delete all .tmp files older than 7 days", "delete files older than 30 days"):
        for candidate in answer(load("bundled"), request, 3):
            assert "/tmp/cache" not in candidate.text or candidate.danger, (request, candidate.text)


@pytest.mark.parametrize(
    ("request_text", "kinds"),
    [
        ("find large files", {"large"}),
        ("find python files containing TODO", {"python"}),
        ("list all text files and log files", {"text", "log"}),
        ("find files in python, then count the python files", set()),  # also a place: not only a kind
        ("show the config file", set()),  # one file may be named so
        ("find all *.py files under src", set()),
    ],
)
def test_file_kinds(request_text: str, kinds: set[str]) -> None:
    from bash_ai.safety.intent import file_kinds

    assert file_kinds(request_text) == kinds


@pytest.mark.parametrize(
    ("command", "places"),
    [
        ("find large", ["large"]),
        ('find python -type f -name "*.py"', ["python"]),
        ('find . python -name "*.py"', ["python"]),
        ("find -L python -type f", ["python"]),  # after find's own options, as tidy reads them
        ("sudo find large -size +1M", ["large"]),
        ("ls -l python | wc -l", ["python"]),
        ("du -sh large/", []),  # a path, not a bare word
        ("find . -name python -type d", []),  # a test's value, not a starting point
        ("grep -r python .", []),
        ("find ./large -size +100M", []),
        ("find (", []),  # unparseable
    ],
)
def test_kinds_as_places(command: str, places: list[str]) -> None:
    from bash_ai.safety.intent import kinds_as_places

    assert kinds_as_places(command, {"large", "python"}) == places


@pytest.mark.parametrize(
    ("request_text", "verb"),
    [
        ("stop firefox", "stop"),
        ("please kill the process with pid 1234", "kill"),
        ("Close chrome", "close"),
        ("shut down the machine now", "shut down"),
        ("close the file descriptor 3", None),
        ("find the first match and stop", None),  # not its first word
        ("show running processes", None),
    ],
)
def test_asks_to_stop(request_text: str, verb: str | None) -> None:
    from bash_ai.safety.intent import asks_to_stop

    assert asks_to_stop(request_text) == verb


@pytest.mark.parametrize(
    ("command", "nothing"),
    [
        ("firefox https://www.duckduckgo.com", True),
        ("jobs -p 1234", True),
        ("split -n 1000 /usr/bin/firefox", True),
        ("kill 1234", False),
        ("ps -ef | grep firefox | awk '{print $2}' | xargs kill -9", False),
        ("pkill firefox", False),
        ("systemctl stop nginx", False),
        ("nginx -s stop", False),
        ("screen -X quit", False),
        ("sudo shutdown -h now", False),
        ("fuser -k 3000/tcp", False),  # stops what uses the port, in none of the words (once put last)
        ("fuser 3000/tcp", True),  # only shows who uses it
        ("echo 'unterminated", False),  # unparseable: no verdict
    ],
)
def test_stops_nothing(command: str, nothing: bool) -> None:
    from bash_ai.safety.intent import stops_nothing

    assert stops_nothing(command) is nothing


def test_a_candidate_that_misreads_the_request_goes_after_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    from bash_ai.answer import propose_checked, unasked

    pool = [
        Proposal("find large", "beam", -1.0, 2, 3.0, "eos"),
        Proposal("firefox https://www.duckduckgo.com", "retrieval", -1.0, 3, 2.5, "eos"),
        Proposal("find . -type f -size +100M", "beam", -1.0, 6, 2.0, "eos"),
        Proposal("pkill firefox", "retrieval", -1.0, 3, 1.0, "eos"),
    ]
    engine = _proposing(monkeypatch, pool)
    shown = propose_checked(engine, "find large files", flag=True)  # type: ignore[arg-type]
    assert [c.text for c in shown][:2] == ["firefox https://www.duckduckgo.com", "find . -type f -size +100M"]
    # After them, in the ranking's order: the misreading, then what stops processes (request-kill).
    assert [c.text for c in shown][2:] == ["find large", "pkill firefox"]
    assert (shown[2].danger[0].rule_id, shown[2].danger[0].severity) == ("request-kind", "medium")
    assert [c.text for c in propose_checked(engine, "stop firefox")][:2] == ["pkill firefox", "find large"]  # type: ignore[arg-type]
    assert unasked("stop firefox", ["firefox --safe-mode", "pkill firefox"]) == {
        "firefox --safe-mode": ("request-stop", "stops nothing; the request asks to stop a program")
    }
    # Where the request names the place, the word is a place.
    assert unasked("find large files in the directory large", ["find large -size +100M"]) == {}


@pytest.mark.parametrize(
    ("command", "nothing"),
    [
        ("ip=$(hostname -I)", True),
        ("path=`which oracle`", True),
        ("export A=1 B=2", True),
        ("a=1; b=2", True),
        ("hostname -I", False),
        ("ip=$(hostname -I); echo $ip", False),
        ("a=1 env", False),  # runs env with a in its environment
        ("x=1 > out.txt", False),  # creates a file
        ("export PATH", False),
        ("echo 'unterminated", False),
    ],
)
def test_shows_nothing(command: str, nothing: bool) -> None:
    from bash_ai.safety.intent import shows_nothing

    assert shows_nothing(command) is nothing


def test_a_request_naming_ip_addresses_still_only_reads() -> None:
    from bash_ai.answer import unasked
    from bash_ai.safety.intent import reads_only

    assert reads_only("show my ip addresses")  # "addresses" is not "add"
    assert not reads_only("add the address to hosts")
    assert unasked("show my ip addresses", ["ip=$(hostname -I)", "ip addr"]) == {
        "ip=$(hostname -I)": (
            "request-output",
            "only sets a variable, so it shows nothing; the request asks to see something",
        )
    }
    assert unasked("save my ip address in the variable ip", ["ip=$(hostname -I)"]) == {}


@pytest.mark.parametrize(
    ("command", "stopping"),
    [
        ("kill $(lsof -t -i:8080)", ["kill"]),
        ("lsof -t -i:8080 | xargs kill -9", ["kill"]),
        ("pkill firefox && killall chrome", ["pkill", "killall"]),
        ("sudo systemctl restart nginx", ["systemctl"]),
        ("service nginx stop", ["service"]),
        ("fuser -k 8080/tcp", ["fuser"]),
        ("sudo shutdown -h now", ["shutdown"]),
        ("kill -l", []),  # lists the signals
        ("kill -0 1234", []),  # only checks that it runs
        ("systemctl status nginx", []),
        ("fuser 8080/tcp", []),
        ("lsof -i :8080", []),
        ("echo 'unterminated", []),
    ],
)
def test_stopped_programs(command: str, stopping: list[str]) -> None:
    from bash_ai.safety.intent import stopped_programs

    assert stopped_programs(command) == stopping


def test_a_request_that_does_not_only_read_may_stop_processes() -> None:
    from bash_ai.answer import unasked

    assert unasked("free port 8080", ["kill $(lsof -t -i:8080)"]) == {}


@pytest.mark.parametrize(
    ("command", "wasted"),
    [
        ("tar cvf - dir | tar cvf - dir", ["tar cvf - dir"]),  # the bundled model's beam, README
        ("tar cvf - src | tar cvf - dir.tar", ["tar cvf - dir.tar"]),  # tar creating reads no input
        ("pgrep nginx | kill", ["kill"]),
        ("cat notes.txt | echo", ["echo"]),
        ("grep -v ':0' f | grep -v ':0' f", ["grep -v ':0' f"]),
        ("echo $(ps aux | ps aux)", ["ps aux"]),  # inside a substitution; repeated and deaf, named once
        # Each of these reads what the stage before it writes.
        ("tar cf - src | tar xf - -C /dst", []),
        ("find . -name '*.c' | tar czf src.tgz -T -", []),
        ("find . -name '*.c' | tar --create -f src.tar --files-from=-", []),
        ("find . -print0 | du -ch --files0-from=- | tail -n 1", []),
        ("pgrep nginx | xargs kill", []),
        ("rev | cut -c 1-3 | rev", []),
        ("grep a f | grep b", []),
        ("true | true | false", []),  # exit statuses shown, no arguments repeated
        ("ls | sort | sort -r", []),
        ("echo hi > out.txt | echo < out.txt", []),  # its input is a file
        ("ls; ls", []),
    ],
)
def test_a_pipeline_stage_that_wastes_the_one_before_it_is_found(command: str, wasted: list[str]) -> None:
    from bash_ai.safety.commands import wasted_stages
    from bash_ai.safety.shell import parse

    assert wasted_stages(parse(command)) == wasted


def test_a_pipeline_that_wastes_a_stage_goes_after_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bundled model's best-scored beam for "create a tar archive of the src directory" was
    ``tar cvf - dir | tar cvf - dir``: it goes after every other valid answer, before syntax errors."""
    from bash_ai.answer import propose_checked
    from bash_ai.engine.propose import DecodeConfig

    pool = [
        Proposal("tar cvf - dir | tar cvf - dir", "beam", -1.0, 3, 3.0, "eos"),
        Proposal("tar cvf - src | tar cvf - dir.tar", "beam", -1.0, 3, 2.8, "eos"),
        Proposal("tar -cvzf src.tar.gz src", "retrieval", -1.0, 3, 2.5, "eos"),
        Proposal("echo 'unclosed", "beam", -1.0, 3, 2.2, "eos"),
        Proposal("zip -r src.zip src", "retrieval", -1.0, 3, 2.0, "eos"),
    ]
    engine = _proposing(monkeypatch, pool)
    for want in (None, 1, 2):
        shown = [
            c.text
            for c in propose_checked(engine, "create a tar archive of the src directory", DecodeConfig(), want=want)  # type: ignore[arg-type]
        ]
        first = want or 2
        assert shown[:first] == ["tar -cvzf src.tar.gz src", "zip -r src.zip src"][:first], want
    # One per structure (``one_per_structure``): the two looping tars are one.
    assert shown == [
        "tar -cvzf src.tar.gz src",
        "zip -r src.zip src",
        "tar cvf - dir | tar cvf - dir",
        "echo 'unclosed",
    ]


@pytest.mark.parametrize(
    ("request_text", "asks"),
    [
        ("count the number of lines in all python files", True),
        ("how many lines are in notes.txt", True),
        ("count lines in file.txt", True),
        ("total lines of all .log files", True),
        ("count the non-empty lines of data.csv", True),
        ("show the line count of every file", True),
        ("count the python files", False),
        ("count files with more than 100 lines", False),
        ("number of files in this directory", False),
        ("show the first 10 lines of notes.txt", False),
    ],
)
def test_asks_for_line_count(request_text: str, asks: bool) -> None:
    from bash_ai.safety.intent import asks_for_line_count

    assert asks_for_line_count(request_text) is asks


# (command, whether its wc -l counts file names), each run for real below.
LINE_COUNTS = [
    ('find . -name "*.py" -exec wc -l {} \\; | wc -l', True),  # the bundle's first answer once
    ('find . -name "*.py" | wc -l', True),
    ('find . -name "*.py" | xargs -I {} wc -l {} | wc -l', True),
    ("ls *.py | wc -l", True),
    ("grep -l x *.py | wc -l", True),
    ("wc -l *.py | wc -l", True),
    ("cat *.py | wc -l", False),
    ('find . -name "*.py" | xargs cat | wc -l', False),
    ('find . -name "*.py" -exec cat {} + | wc -l', False),
    ("grep x *.py | wc -l", False),  # the matching lines
    ("wc -l *.py", False),  # no pipe
    ('find . -name "*.py" | xargs wc -l', False),
]


@pytest.mark.parametrize(("command", "names"), LINE_COUNTS)
def test_counts_names_is_true_exactly_when_the_count_is_the_number_of_files(
    tmp_path: Path, command: str, names: bool
) -> None:
    """Real bash over three python files of 1, 2 and 4 lines (one line holds an x): a command that
    counts names prints 3, the files' count (or 1, the file grep -l names); one that counts lines, 7
    (or 1, the line grep x prints; or wc's own lines)."""
    from bash_ai.safety.intent import counts_names

    for name, lines in (("a.py", 1), ("b.py", 2), ("c.py", 4)):
        (tmp_path / name).write_text("".join("x\n" if name == "c.py" and i == 0 else f"{i}\n" for i in range(lines)))
    out = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert counts_names(command) is names
    if names:
        assert out.split()[0] in ("3", "4", "1")  # wc -l *.py prints a total line too: 4
    elif "|" in command and "xargs wc" not in command and "grep" not in command:
        assert out.split()[0] == "7"


@pytest.mark.parametrize(
    ("request_text", "command", "topic"),
    [
        ("show free memory", "df -h", "disk space"),
        ("how much ram is used", "du -sh /", "disk space"),
        ("show free memory", "free -h", None),
        ("show free memory", "cat /proc/meminfo", None),
        ("show memory usage of each process", "ps aux --sort=-%mem", None),
        ("show free memory", "top -b -n1 | head; df -h", None),  # it reads memory too
        ("how much disk space is left", "free -h", "memory"),
        ("how much disk space is left", "df -h", None),
        ("check disk space and memory", "df -h", None),  # asks about both
        ("how much memory do the files in this folder take", "du -sh .", None),  # files: disk words
        ("list the files", "df -h", None),  # asks about neither
    ],
)
def test_other_topic(request_text: str, command: str, topic: str | None) -> None:
    from bash_ai.safety.intent import other_topic

    assert other_topic(request_text, command) == topic


@pytest.mark.parametrize(
    ("request_text", "command", "undone"),
    [
        ("add user bob with a home directory", "sudo userdel -r bob", "userdel deletes a user or group"),
        ("create the group devs", "groupdel devs", "groupdel deletes a user or group"),
        ("start nginx", "sudo systemctl stop nginx", "systemctl stop"),
        ("enable sshd at boot", "systemctl disable sshd", "systemctl disable"),
        ("start the apache service", "service apache2 stop", "service stop"),
        ("install htop", "sudo apt-get purge htop", "apt-get removes packages"),
        ("install requests", "pip uninstall requests", "pip removes packages"),
        ("install the deb", "sudo dpkg -r app", "dpkg removes packages"),
        ("mount /dev/sdb1 on /mnt", "sudo umount /mnt", "umount"),
        # NL2Bash dev: a drive "mounted at" a place, the first answer unmounted it.
        ("Create a report of the contents of a USB drive mounted at /mnt", "sudo umount /mnt", "umount"),
        ("allow port 22", "sudo ufw deny 22", "ufw deny"),
        # Set-ups the command does, or a request that says undoing or a negation in so many words.
        ("add user bob", "sudo useradd -m bob", None),
        ("delete user bob", "sudo userdel -r bob", None),
        ("replace nginx: remove it and install caddy", "sudo apt remove nginx", None),
        ("don't start cups at boot", "sudo systemctl disable cups", None),  # NL2Bash-train's own pair
        ("completely prevent bluetooth from starting", "sudo systemctl mask bluetooth", None),
        ("restart nginx", "sudo systemctl stop nginx && sudo systemctl start nginx", None),
        ("install htop", "sudo apt install htop", None),
        ("add extra.txt to archive.zip", "zip -d archive.zip extra.txt", None),  # not a program listed
        ("show the users", "userdel bob", None),  # asks to set nothing up (other checks see it)
    ],
)
def test_undoes(request_text: str, command: str, undone: str | None) -> None:
    from bash_ai.safety.intent import undoes

    assert undoes(request_text, command) == undone


@pytest.mark.parametrize(
    ("request_text", "source"),
    [
        ("copy backup.tar.gz to /srv/backups on host db1", "backup.tar.gz"),
        ("scp report.pdf over to the server", "report.pdf"),
        ("upload data.csv into the bucket", "data.csv"),
        ("rsync my photos folder to /media/usb/photos", "my photos folder"),
        ("list files", ""),
        ("compress backup.tar", ""),
    ],
)
def test_copied(request_text: str, source: str) -> None:
    from bash_ai.safety.intent import copied

    assert copied(request_text) == source


@pytest.mark.parametrize(
    ("command", "written"),
    [
        ("tar -czf backup.tar.gz project", ["backup.tar.gz"]),
        ("tar czf backup.tar.gz project", ["backup.tar.gz"]),
        ("tar -c -z -f backup.tar.gz project", ["backup.tar.gz"]),
        ("tar --create --file=backup.tar.gz project", ["backup.tar.gz"]),
        ("tar -xzf backup.tar.gz", []),  # extracts
        ("tar -tzf backup.tar.gz", []),  # lists
        ("tar -rf backup.tar.gz new.txt", []),  # appends
    ],
)
def test_a_tar_that_creates_writes_over_its_archive_as_the_real_one_does(
    tmp_path: Path, command: str, written: list[str]
) -> None:
    """``harmed_files`` names the archive exactly when real tar empties it first (its old member gone)."""
    from bash_ai.safety.intent import harmed_files

    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "a.txt").write_text("a\n", encoding="utf-8")
    (tmp_path / "old.txt").write_text("old\n", encoding="utf-8")
    (tmp_path / "new.txt").write_text("new\n", encoding="utf-8")
    subprocess.run(["tar", "-czf", "backup.tar.gz", "old.txt"], cwd=tmp_path, check=True)
    if "-r" in command:  # tar appends to an uncompressed archive only
        subprocess.run(["tar", "-cf", "backup.tar.gz", "old.txt"], cwd=tmp_path, check=True)
    subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, check=True)
    listed = subprocess.run(["tar", "-tf", "backup.tar.gz"], cwd=tmp_path, capture_output=True, text=True).stdout
    assert harmed_files(command, ["backup.tar.gz"]) == written
    assert ("old.txt" not in listed.split()) == bool(written)


@pytest.mark.parametrize(
    ("request_text", "command", "ports"),
    [
        ("kill the process on port 8080", "kill 8080", ["8080"]),
        ("kill the process on port 8080", "kill -9 8080", ["8080"]),
        ("stop whatever listens on localhost:3000", "sudo kill 3000", ["3000"]),
        ("kill the process on port 8080", "kill -9 $(lsof -t -i:8080)", []),  # looks the id up
        ("kill the process on port 8080", "fuser -k 8080/tcp", []),
        ("kill the process with pid 8080", "kill 8080", []),  # names no port
        ("kill the process on port 8080", "kill 1234", []),
        ("kill the job started at 10:30", "kill 30", []),  # a time, not a port
    ],
)
def test_killed_ports(request_text: str, command: str, ports: list[str]) -> None:
    from bash_ai.safety.intent import killed_ports

    assert killed_ports(request_text, command) == ports


@pytest.mark.parametrize(
    ("request_text", "asks"),
    [
        ("list files sorted by size", True),
        ("show files ordered by size, largest on top", True),
        ("list files oldest first", True),
        ("list files by modification time", True),
        ("list all files in the tree sorted by size", False),  # says the tree
        ("list files recursively sorted by size", False),
        ("list the 10 largest files", False),  # a superlative: may mean every file below
        ("list files", False),  # no order
        ("display all the files in the current folder sorted by their size in bytes", False),  # NL2Bash's: long
        ("sort lines of data.txt", False),
    ],
)
def test_asks_to_list_here_in_order(request_text: str, asks: bool) -> None:
    from bash_ai.safety.intent import asks_to_list_here_in_order

    assert asks_to_list_here_in_order(request_text) is asks


@pytest.mark.parametrize(
    ("command", "deep"),
    [
        ("find . -type f -printf '%s\\t%p\\n' | sort -n", True),
        ("find . -maxdepth 2 -type f", True),
        ("ls -lR", True),
        ("find . -maxdepth 1 -type f -printf '%s %p\\n' | sort -n", False),
        ("ls -lhS", False),
        ("du -sh -- * | sort -h", False),
        ("ls --reverse -S", False),  # a long option, not -R
    ],
)
def test_recurses(command: str, deep: bool) -> None:
    from bash_ai.safety.intent import recurses

    assert recurses(command) is deep


@pytest.mark.parametrize(
    ("values", "creates"),
    [
        (["cvf", "a.tar", "src"], True),
        (["-czf", "a.tgz", "src"], True),
        (["-c", "-z", "-f", "a.tgz", "src"], True),
        (["-v", "-c", "-f", "-", "src"], True),  # -c after another option
        (["--create", "--file=a.tar", "src"], True),
        (["-xzf", "a.tgz"], False),
        (["-C", "/tmp", "-xf", "a.tar"], False),  # -C is a directory, not create
        (["--list", "--file=a.tar"], False),
        ([], False),
    ],
)
def test_tar_creates(values: list[str], creates: bool) -> None:
    """One reading of tar's create mode for the wasted-stage check and the archive a tar writes over."""
    from bash_ai.safety.commands import tar_creates, wasted_stages
    from bash_ai.safety.shell import parse

    assert tar_creates(values) is creates
    # After a pipe, a tar that creates reads nothing of its input.
    assert bool(wasted_stages(parse("ls | tar " + " ".join(values)))) is creates


@pytest.mark.parametrize(
    ("request_text", "command", "tool"),
    [
        ("show disk usage", "docker system df", "docker"),
        ("show all processes of user bob", "sudo crontab -l -u bob", "crontab"),  # a beam once, first
        ("create a directory called projects", "docker network create projects", "docker"),
        ("grep for foo or bar", "git bar *", "git"),
        ("show disk usage", "du -sh . && journalctl --disk-usage", "journalctl"),
        # The request says the program or a word of its domain; or runs none of these programs.
        ("show docker disk usage", "docker system df", None),
        ("list running containers", "docker ps", None),
        ("unstage app.py", "git restore --staged app.py", None),
        ("how much space do the journal logs take", "journalctl --disk-usage", None),
        ("list my cron jobs", "crontab -l", None),
        ("open port 8080 in the firewall", "sudo ufw allow 8080", None),
        ("show disk usage", "df -h", None),
        ("show disk usage", "echo docker", None),  # a word, not a program run
        ("show disk usage", "if then (", None),  # unparseable
    ],
)
def test_a_program_of_a_domain_the_request_never_names(request_text: str, command: str, tool: str | None) -> None:
    assert other_domain(request_text, command) == tool


@pytest.mark.parametrize(
    ("request_text", "command", "undone"),
    [
        ("zip the docs directory", "unzip archive.zip -d docs", "unzip extracts"),
        ("compress the logs folder", "tar -xzf logs.tar.gz", "tar -x extracts"),
        ("create a tarball of src", "gunzip src.tar.gz", "gunzip extracts"),
        ("Archive the entire file system into tarfile.tar.bz2", "tar -xjf tarfile.tar.bz2", "tar -x extracts"),
        ("unpack files.rar", "rar a files.rar dir", "rar a makes an archive"),
        ("extract data.tar.bz2", "tar -cjf data.tar.bz2 logs", "tar -c makes an archive"),
        ("decompress image.xz", "xz image.xz", "xz compresses"),
        ("unzip data.zip into data", "zip -r data.zip data", "zip makes an archive"),
        # Either way, only looking, a name, a noun or a negation: left alone.
        ("unzip data.zip into data", "unzip data.zip -d data", None),
        ("decompress image.xz", "xz -d image.xz", None),
        ("check the .gz archives are valid", "gunzip -t a.gz", None),
        ("open up the zip file archive.zip", "unzip archive.zip", None),  # "zip" names a kind of file
        ("get data.csv out of archive.zip", "unzip archive.zip data.csv", None),
        ("print one file from a tarball to the screen", "tar -xzOf backup.tar.gz app.yaml", None),
        ("list the contents of backup.tar without extracting it", "tar -czf backup.tar", None),
        ("extract the archive and compress it again as xz", "tar -xzf a.tar.gz", None),
        ("decompress image.xz", "unxz -l image.xz", None),
    ],
)
def test_an_archive_made_where_one_is_taken_apart_or_the_reverse(
    request_text: str, command: str, undone: str | None
) -> None:
    assert undoes(request_text, command) == undone


@pytest.mark.parametrize(
    ("command", "changed"),
    [
        ("sudo useradd -m -s /bin/bash carol", ["useradd"]),
        ("sudo renice -n 10 -u bob", ["renice"]),
        ("sudo chown -R www-data:www-data /srv/data", ["chown"]),
        ("systemctl enable unit --now", ["systemctl"]),
        ("sudo service nginx restart", ["service"]),
        ("sudo apt install htop", ["apt"]),
        ("pip uninstall requests", ["pip"]),
        ("crontab -r", ["crontab"]),
        ("crontab jobs.txt", ["crontab"]),
        ("sudo mount /dev/sdb1 /mnt", ["mount"]),
        ("mount -a", ["mount"]),
        ("id carol && sudo passwd carol", ["passwd"]),
        # Commands that only look.
        ("id carol", []),
        ("systemctl status mysql", []),
        ("crontab -l -u bob", []),
        ("mount -t smbfs", []),
        ("mount -l -t nfs4", []),
        ("passwd -S bob", []),
        ("apt list --installed", []),
        ("if then (", []),
    ],
)
def test_commands_that_change_the_system(command: str, changed: list[str]) -> None:
    assert changed_system(command) == changed


def test_a_change_is_unasked_only_where_the_request_reads_and_says_nothing_of_it() -> None:
    assert changes_unasked("show uid and groups of user carol", "sudo useradd carol") == ["useradd"]
    assert changes_unasked("who owns /srv/data", "sudo chown -R www-data /srv/data") == ["chown"]
    assert changes_unasked("show the permissions of config.yaml", "chmod 644 config.yaml") == ["chmod"]
    assert changes_unasked("give deploy.sh execute permission", "chmod +x deploy.sh") == []  # "give" asks
    assert changes_unasked("list the services and restart nginx", "sudo systemctl restart nginx") == []
    assert changes_unasked("create user carol", "sudo useradd carol") == []  # does not only read
    assert changes_unasked("show all processes of user bob", "sudo renice -n 10 -u bob") == ["renice"]
