"""Flag commands that can destroy data or take the machine down, from rules kept as data.

The rules live in ``rules.toml`` beside this module (their format is described at its top); this
module only knows how to match them against the parsed command (:mod:`bash_ai.safety.shell`), so
``echo "rm -rf /"`` is not flagged but ``sudo bash -c 'rm -rf /'`` is.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any, Literal

from bash_ai.errors import BashAIError
from bash_ai.safety.commands import (
    Invocation,
    NestedScript,
    file_redirects,
    invocations,
    script_arguments,
)
from bash_ai.safety.shell import Command, Group, Script, parse

Severity = Literal["high", "medium"]
SEVERITIES: tuple[Severity, ...] = ("high", "medium")
SEVERITY_RANK: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}  # lower is worse
_WRITE_OPS = re.compile(r"\d*(>|>>|>\||&>|&>>)")


@dataclass(frozen=True, slots=True)
class DangerFlag:
    """One rule that matched. ``span`` indexes the assessed text: ``text[span[0]:span[1]]``."""

    rule_id: str
    severity: Severity
    message: str
    span: tuple[int, int]


class RulesError(BashAIError):
    """The rules file is malformed (a packaging bug: the tests load the shipped file)."""


_KEYS = {
    "id", "severity", "message", "utility", "utility_regex", "subcommand", "global_options_with_argument",
    "flags_all", "flags_none", "operand", "operand_raw", "operand_position", "keyvalue", "args_regex",
    "args_regex_none", "redirect", "redirect_ops", "text_regex", "text_target", "pipe_from", "pipe_to",
    "pipe_to_exempt_flags", "substitution_of",
}  # fmt: skip


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    message: str
    kind: str  # "command", "redirect", "text", "pipe"
    spec: dict[str, Any]
    regex: dict[str, re.Pattern[str]]

    def pattern(self, key: str) -> re.Pattern[str] | None:
        return self.regex.get(key)


def _compile(rule: dict[str, Any], patterns: dict[str, str]) -> Rule:
    if not isinstance(rule, dict):
        raise RulesError("each [[rule]] must be a table")
    unknown = set(rule) - _KEYS
    if unknown or not {"id", "severity", "message"} <= set(rule):
        raise RulesError(f"rule {rule.get('id', '?')}: unknown keys {sorted(unknown)} or missing id/severity/message")
    if rule["severity"] not in SEVERITIES:
        raise RulesError(f"rule {rule['id']}: severity must be high or medium")

    def expand(text: str) -> str:
        return re.sub(r"@(\w+)", lambda m: f"(?:{patterns[m.group(1)]})", text)

    regex: dict[str, re.Pattern[str]] = {}
    for key in ("utility_regex", "operand", "operand_raw", "args_regex", "args_regex_none", "redirect", "text_regex"):
        if key in rule:
            regex[key] = re.compile(expand(rule[key]))
    if "keyvalue" in rule:
        regex["keyvalue"] = re.compile(expand(rule["keyvalue"]["value"]))
    if "text_regex" in rule:
        kind = "text"
    elif "pipe_from" in rule:
        kind = "pipe"
    elif "redirect" in rule and "utility" not in rule:
        kind = "redirect"
    elif "utility" in rule or "utility_regex" in rule:
        kind = "command"
    else:
        raise RulesError(f"rule {rule['id']}: no matcher (utility, redirect, text_regex or pipe_from)")
    return Rule(rule["id"], rule["severity"], rule["message"], kind, rule, regex)


@lru_cache(maxsize=1)
def _rules_by_kind() -> dict[str, tuple[Rule, ...]]:
    by_kind: dict[str, list[Rule]] = {}
    for rule in load_rules():
        by_kind.setdefault(rule.kind, []).append(rule)
    return {kind: tuple(rules) for kind, rules in by_kind.items()}


def parse_rules(text: str) -> tuple[Rule, ...]:
    """Compile a rules file (TOML text); :class:`RulesError` names the first malformed rule."""
    try:
        data = tomllib.loads(text)
        patterns = data.get("patterns", {})
        rules = tuple(_compile(r, patterns) for r in data.get("rule", []))
    except (tomllib.TOMLDecodeError, re.error, KeyError, TypeError) as exc:
        raise RulesError(f"malformed danger rules: {exc}") from exc
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        raise RulesError("duplicate rule ids")
    return rules


@lru_cache(maxsize=1)
def load_rules() -> tuple[Rule, ...]:
    """The packaged rules, compiled once."""
    return parse_rules(files("bash_ai.safety").joinpath("rules.toml").read_text(encoding="utf-8"))


# ---- argument views --------------------------------------------------------------------------


def flags_of(values: list[str]) -> set[str]:
    """Flags as written plus split short flags: ``-rf`` -> {-rf, -r, -f}; ``--a=b`` -> {--a}."""
    out: set[str] = set()
    for value in values:
        if value == "--":
            break
        if len(value) < 2 or value[0] != "-":
            continue
        if value.startswith("--"):
            out.add(value.split("=", 1)[0])
            continue
        out.add(value)
        for ch in value[1:]:
            if not ch.isalpha():
                break
            out.add("-" + ch)
    return out


def operands_of(values: list[str]) -> list[str]:
    out, after_dashes = [], False
    for value in values:
        if after_dashes or not value.startswith("-") or value == "-":
            out.append(value)
        elif value == "--":
            after_dashes = True
    return out


def normalize_path(value: str) -> str:
    """``${HOME}/`` -> ``$HOME``, ``//etc//`` -> ``/etc``, ``/.`` -> ``/``: one spelling per path."""
    value = value.replace("${HOME}", "$HOME")
    value = re.sub(r"/{2,}", "/", value)
    rooted = value.startswith("/")
    while len(value) > 1 and value.endswith(("/", "/.")):
        value = value[:-2] if value.endswith("/.") else value[:-1]
    return value or ("/" if rooted else "")


def _has_flag(present: set[str], wanted: str) -> bool:
    if wanted in present:
        return True
    # GNU long options may be abbreviated: --recur means --recursive.
    return wanted.startswith("--") and any(p.startswith("--") and len(p) >= 5 and wanted.startswith(p) for p in present)


def _subcommand(values: list[str], spec: dict[str, Any]) -> str | None:
    takes_arg = set(spec.get("global_options_with_argument", ()))
    i = 0
    while i < len(values):
        value = values[i]
        if value.startswith("-") and len(value) > 1:
            i += 2 if value in takes_arg else 1
            continue
        return value
    return None


def _command_matches(rule: Rule, inv: Invocation) -> bool:
    spec = rule.spec
    if "utility" in spec and inv.utility not in spec["utility"]:
        return False
    regex = rule.regex
    if "utility_regex" in regex and not regex["utility_regex"].fullmatch(inv.utility):
        return False
    own = inv.values
    values = [w.value for w in inv.rest] if "args_regex" in spec else own  # -exec bodies included
    if "subcommand" in spec and _subcommand(own, spec) not in spec["subcommand"]:
        return False
    flags = flags_of(own)
    for group in spec.get("flags_all", ()):
        if not any(_has_flag(flags, f) for f in group):
            return False
    if any(_has_flag(flags, f) for f in spec.get("flags_none", ())):
        return False
    joined = " ".join(values)
    if "args_regex" in regex and not regex["args_regex"].search(joined):
        return False
    if "args_regex_none" in regex and regex["args_regex_none"].search(" ".join(own)):
        return False
    operands = operands_of(own)
    position = spec.get("operand_position", "any")
    if position == "first":
        operands = operands[:1]
    elif position == "last":
        operands = operands[-1:]
    if "operand" in regex and not any(regex["operand"].fullmatch(normalize_path(v)) for v in operands):
        return False
    if "operand_raw" in regex and not any(regex["operand_raw"].fullmatch(v) for v in operands):
        return False
    if "keyvalue" in regex:
        prefix = spec["keyvalue"]["key"] + "="
        targets = [normalize_path(v[len(prefix) :]) for v in operands if v.startswith(prefix)]
        if not any(regex["keyvalue"].fullmatch(t) for t in targets):
            return False
    if "substitution_of" in spec:
        wanted = set(spec["substitution_of"])
        if not any(inner.utility in wanted for w in inv.args for sub in w.subs for inner in invocations(sub)):
            return False
    return True


# ---- pipelines and text ----------------------------------------------------------------------


def _pipelines(script: Script) -> Iterator[list[Command | Group]]:
    """Every pipeline of two or more parts, in this script and in the scripts it nests."""
    current: list[Command | Group] = []
    for item, op in zip(script.items, script.ops, strict=False):
        current.append(item)
        if op not in ("|", "|&"):
            if len(current) > 1:
                yield current
            current = []
        if isinstance(item, Group):
            yield from _pipelines(item.body)
        else:
            for word in [*item.words, *item.assignments] + [r.target for r in item.redirects if r.target]:
                for sub in word.subs:
                    yield from _pipelines(sub)
    if len(current) > 1:
        yield current


def _part_invocations(part: Command | Group) -> list[Invocation]:
    return list(invocations(Script([part], [""])))


def _executes_stdin(inv: Invocation, exempt: set[str]) -> bool:
    if any(_has_flag(flags_of(inv.values), f) for f in exempt):
        return False
    operands = operands_of(inv.values)
    return not operands or operands[0] == "-" or "-s" in flags_of(inv.values)


def _pipe_flags(rule: Rule, script: Script) -> Iterator[tuple[int, int]]:
    sources, sinks = set(rule.spec["pipe_from"]), set(rule.spec["pipe_to"])
    exempt = set(rule.spec.get("pipe_to_exempt_flags", ()))
    for parts in _pipelines(script):
        fed_from: int | None = None  # where the first downloader of this pipeline starts
        for part in parts:
            invs = _part_invocations(part)
            # The program that reads the pipe is the innermost of a wrapper chain: ``sudo -E bash``.
            main = [inv for inv in invs if inv.via in ("", "sudo", "doas", "env", "nice", "nohup", "command", "exec")]
            if fed_from is not None and main and main[-1].utility in sinks and _executes_stdin(main[-1], exempt):
                yield (fed_from, main[-1].span[1])
            if fed_from is None and invs and any(inv.utility in sources for inv in invs):
                fed_from = invs[0].span[0]


def mask_quotes(text: str) -> str:
    """Blank out quoted strings and comments (same length), so text rules see only live code."""
    out, i, n = list(text), 0, len(text)
    at_word_start = True
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            at_word_start = False
            continue
        if c in "'\"":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if (c == '"' and text[j] == "\\") else 1
            for k in range(i, min(j + 1, n)):
                if out[k] != "\n":
                    out[k] = " "
            i = j + 1
            at_word_start = False
            continue
        if c == "#" and at_word_start:
            j = text.find("\n", i)
            j = n if j < 0 else j
            out[i:j] = " " * (j - i)
            i = j
            continue
        at_word_start = c in " \t\n;&|()"
        i += 1
    return "".join(out)


# ---- the check -------------------------------------------------------------------------------


def _scripts(text: str) -> Iterator[tuple[str, Script, int | None, tuple[int, int]]]:
    """The command and every string in it that runs as a script (``bash -c``, ``eval``)."""
    top = parse(text)
    stack: list[tuple[str, Script, int | None, tuple[int, int], int]] = [(text, top, 0, (0, len(text)), 0)]
    while stack:
        src, script, offset, span, depth = stack.pop()
        yield src, script, offset, span
        if depth >= 8:
            continue
        for inv in invocations(script):
            nested: NestedScript
            for nested in script_arguments(inv):
                stack.append((nested.text, nested.script, nested.offset, nested.span, depth + 1))


def assess(command: str) -> list[DangerFlag]:
    """Danger flags for a command line or script, most severe first; empty when nothing matched."""
    by_kind = _rules_by_kind()
    found: dict[tuple[str, tuple[int, int]], DangerFlag] = {}

    def add(rule: Rule, span: tuple[int, int]) -> None:
        found.setdefault((rule.id, span), DangerFlag(rule.id, rule.severity, rule.message, span))

    for src, script, offset, outer_span in _scripts(command):
        for inv in invocations(script):
            for rule in by_kind.get("command", ()):
                if _command_matches(rule, inv):
                    add(rule, inv.span)
        for redirect, target_word in file_redirects(script):
            if not _WRITE_OPS.fullmatch(redirect.op):
                continue
            target = normalize_path(target_word.value)
            for rule in by_kind.get("redirect", ()):
                ops = rule.spec.get("redirect_ops")
                if ops is not None and redirect.op not in ops:
                    continue
                if rule.regex["redirect"].fullmatch(target):
                    add(rule, (redirect.start, redirect.end))
        for rule in by_kind.get("pipe", ()):
            for span in _pipe_flags(rule, script):
                add(rule, span)
        masked = None
        for rule in by_kind.get("text", ()):
            if rule.spec.get("text_target", "unquoted") == "unquoted":
                masked = masked if masked is not None else mask_quotes(src)
                haystack = masked
            else:
                haystack = src
            for m in rule.regex["text_regex"].finditer(haystack):
                span = (offset + m.start(), offset + m.end()) if offset is not None else outer_span
                add(rule, span)
    return sorted(found.values(), key=lambda f: (SEVERITY_RANK[f.severity], f.span, f.rule_id))


def max_severity(flags: list[DangerFlag]) -> Severity | None:
    """``"high"`` if any flag is high, ``"medium"`` if only medium ones, ``None`` if no flags."""
    if not flags:
        return None
    return "high" if any(f.severity == "high" for f in flags) else "medium"
