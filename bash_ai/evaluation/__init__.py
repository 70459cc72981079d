"""Evaluation of generated commands: metrics (exact, template, NLC2CMD, validity, danger, bits per
byte) and execution checks in a bubblewrap sandbox. Library code only; the CLI wraps it.
"""

from __future__ import annotations

from bash_ai.evaluation.metrics import bits_per_byte, danger_rate, exact_match, normalize_ws, syntax_valid_rate
from bash_ai.evaluation.sandbox import SandboxLimits, SandboxResult, ensure_sandbox, run_sandboxed, sandbox_problem
from bash_ai.evaluation.tasks import ExecTask, TaskResult, load_tasks, run_task
from bash_ai.nlc2cmd import flag_score, nlc2cmd_accuracy, nlc2cmd_score, nlc2cmd_topk, utility_flags
from bash_ai.templates import command_template, template_match

__all__ = [
    "SandboxLimits",
    "SandboxResult",
    "ExecTask",
    "TaskResult",
    "ensure_sandbox",
    "load_tasks",
    "run_sandboxed",
    "run_task",
    "sandbox_problem",
    "bits_per_byte",
    "command_template",
    "danger_rate",
    "exact_match",
    "flag_score",
    "nlc2cmd_accuracy",
    "nlc2cmd_score",
    "nlc2cmd_topk",
    "normalize_ws",
    "syntax_valid_rate",
    "template_match",
    "utility_flags",
]
