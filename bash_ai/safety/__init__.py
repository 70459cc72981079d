"""Checks every generated command goes through: bash syntax, shellcheck, danger rules.

Only the standard library is imported here: the CLI imports this package at start-up.
"""

from __future__ import annotations

from bash_ai.safety.danger import SEVERITY_RANK, DangerFlag, Severity, assess, load_rules, max_severity
from bash_ai.safety.syntax import (
    Finding,
    ShellcheckFindings,
    SyntaxResult,
    check_syntax,
    check_syntax_many,
    shellcheck_available,
    shellcheck_findings,
    shellcheck_many,
)

__all__ = [
    "SEVERITY_RANK",
    "DangerFlag",
    "Finding",
    "Severity",
    "ShellcheckFindings",
    "SyntaxResult",
    "assess",
    "check_syntax",
    "check_syntax_many",
    "load_rules",
    "max_severity",
    "shellcheck_available",
    "shellcheck_findings",
    "shellcheck_many",
]
