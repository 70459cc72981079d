"""What this machine can run: answers whose programs it lacks rank lower.

A command for a program that is not installed is of little use at the user's prompt ("show free
memory" -> ``sudo freeramdisk``, a tldr page's niche tool). A program counts as present when the
user's ``PATH`` has it (``shutil.which``) or bash knows the word (a builtin or keyword). Names
the parser cannot check are given the benefit of the doubt: a script or path (``./backup.sh``,
``/opt/x/run``), a variable (``$EDITOR``), anything but a plain program name.
"""

from __future__ import annotations

import functools
import os
import re
import shutil

# ``compgen -b; compgen -k`` in bash 5.
SHELL_WORDS = frozenset(
    """. : [ [[ ]] { } ! alias bg bind break builtin caller case cd command compgen complete compopt
    continue coproc declare dirs disown do done echo elif else enable esac eval exec exit export false
    fc fg fi for function getopts hash help history if in jobs kill let local logout mapfile popd
    printf pushd pwd read readarray readonly return select set shift shopt source suspend test then
    time times trap true type typeset ulimit umask unalias unset until wait while""".split()  # noqa: SIM905
)
_PLAIN = re.compile(r"[a-z0-9][a-z0-9_+-]*")


@functools.lru_cache(maxsize=4096)
def _present(program: str, path: str) -> bool:
    return program in SHELL_WORDS or not _PLAIN.fullmatch(program) or shutil.which(program, path=path) is not None


def missing_programs(command: str) -> list[str]:
    """The programs of ``command`` that neither ``PATH`` nor bash has, in order (none when the
    command cannot be parsed: nothing to hold against it)."""
    from bash_ai.nlc2cmd import utility_flags

    parsed = utility_flags(command) or []
    path = os.environ.get("PATH", os.defpath)
    return list(dict.fromkeys(u for u, _ in parsed if not _present(u, path)))
