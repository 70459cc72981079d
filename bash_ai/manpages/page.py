"""What a man page says of a program and of each option: its NAME line and its tagged paragraphs.

Read from the roff source (man(7) ``.TP``/``.IP`` and mdoc(7) ``.It Fl``), not from groff's
output: ~1 ms a page instead of ~40 ms. Only the facts explain needs are kept: the one-line
purpose, and for each option its names, whether it takes an argument, and its first sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bash_ai.manpages.roff import _ALTERNATING, _mdoc_words, _split_args, inline

# Macros that end a tagged paragraph's first paragraph.
_END = {"TP", "IP", "It", "SH", "Sh", "SS", "Ss", "PP", "LP", "P", "Pp", "Lp", "sp", "RE", "RS", "El", "HP", "TQ"}
_FONT = {"B", "I", "SM", "SB", "Em", "Sy", "Ar", "Fl", "Pa", "Cm", "Li", "Nm"}
_SENTENCE_END = re.compile(r"(?<!\s)(?<!\be\.g)(?<!\bi\.e)(?<!\betc)\.(?=\s|$)")
_MDOC_INLINE = {
    "Fl",
    "Ar",
    "Cm",
    "Pa",
    "Op",
    "Oo",
    "Oc",
    "Xr",
    "Li",
    "Em",
    "Sy",
    "Dq",
    "Qq",
    "Sq",
    "Ql",
    "Va",
    "Ev",
    "Ic",
}
_OPTION_NAME = re.compile(r"^([-+]{1,2}[A-Za-z0-9?#@][\w?#@.-]*)(.*)$")
MAX_DESCRIPTION = 200  # characters of an option's description, cut at a word


@dataclass(frozen=True)
class OptionDoc:
    """One documented option: every name it goes by, its argument (if any), its description."""

    names: tuple[str, ...]
    argument: str  # "FILE", "[=WHEN]" or "" when the option takes none
    description: str

    @property
    def takes_argument(self) -> bool:
        """A required argument: ``FILE``, ``[-]NUM``; not ``[=WHEN]`` or ``[max-lines]``."""
        arg = self.argument
        optional = arg.startswith("[=") or (arg.startswith("[") and arg.endswith("]") and arg.count("[") == 1)
        return bool(arg) and not optional


@dataclass
class ManPage:
    program: str
    purpose: str  # the NAME line's description, e.g. "an archiving utility"
    options: dict[str, OptionDoc] = field(default_factory=dict)  # every name -> its entry

    def documented(self) -> list[OptionDoc]:
        """Each documented option once (``options`` maps every name to it), in page order."""
        return list(dict.fromkeys(self.options.values()))

    def to_json(self) -> dict[str, object]:
        return {
            "program": self.program,
            "purpose": self.purpose,
            "options": [
                {"names": list(d.names), "argument": d.argument, "description": d.description}
                for d in self.documented()
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ManPage:
        page = cls(str(data["program"]), str(data["purpose"]))
        for entry in data["options"]:  # type: ignore[attr-defined]
            page.add(OptionDoc(tuple(entry["names"]), str(entry["argument"]), str(entry["description"])))
        return page

    def add(self, doc: OptionDoc) -> None:
        for name in doc.names:
            self.options.setdefault(name, doc)  # the first entry wins (later ones are examples)


def parse_page(program: str, source: str) -> ManPage:
    """The purpose and options of one man page's roff source."""
    lines = source.splitlines()
    page = ManPage(program, _purpose(lines))
    i = 0
    while i < len(lines):
        macro, rest = _macro(lines[i])
        tag: str | None = None
        if macro in ("TP", "TQ"):
            i += 1
            while i < len(lines) and _macro(lines[i])[0] in ("TQ", "PD"):
                i += 1
            if i < len(lines):
                tag = _render(lines[i])
        elif macro == "IP" and rest.strip():
            tag = " ".join(_split_args(inline(rest)))[:200]
        elif macro == "It":
            tag = _mdoc_words(_split_args(inline(rest)))
        elif macro in ("PP", "P", "LP") and i + 2 < len(lines) and _macro(lines[i + 2])[0] == "RS":
            i += 1  # docbook/asciidoc pages: .PP, the tag line, then the body indented by .RS
            tag = _render(lines[i])
            i += 1
        i += 1
        if tag is None or not tag.lstrip().startswith(("-", "+")):
            continue
        body, i = _first_paragraph(lines, i)
        names, argument = _tag_names(tag)
        if names and body:
            page.add(OptionDoc(names, argument, _first_sentence(body)))
    return page


def _macro(line: str) -> tuple[str, str]:
    if line[:1] not in (".", "'"):
        return "", line
    body = line[1:].lstrip()
    macro, _, rest = body.partition(" ")
    return macro, rest


def _render(line: str) -> str:
    """One source line as text: font macros joined, escapes removed."""
    macro, rest = _macro(line)
    if not macro:
        return inline(line).strip()
    args = _split_args(inline(rest))
    if macro in _ALTERNATING:
        return "".join(args)
    if macro in _FONT:
        return " ".join(args)
    if macro in _MDOC_INLINE:
        return _mdoc_words([macro, *args])
    return ""


def _first_paragraph(lines: list[str], i: int) -> tuple[str, int]:
    words: list[str] = []
    while i < len(lines) and not words and _macro(lines[i])[0] in ("RS", "if", "el", "sp"):
        i += 1  # the .RS that indents a docbook body, and roff conditionals around it
    while i < len(lines):
        line = lines[i]
        macro, _ = _macro(line)
        if macro in _END or (not macro and not line.strip() and words):
            break
        if not line.startswith(('.\\"', "'\\\"")):
            words.append(_render(line))
        i += 1
    return " ".join(w for w in words if w).strip(), i


def _tag_names(tag: str) -> tuple[tuple[str, ...], str]:
    """``-f, --file=ARCHIVE`` -> (("-f", "--file"), "ARCHIVE"); ``-name pattern`` -> (("-name",), "pattern")."""
    names: list[str] = []
    argument = ""
    for piece in re.split(r",\s*|\s+\|\s+", tag.strip()):
        found = _OPTION_NAME.match(piece.strip())
        if not found:
            continue
        name, rest = found.group(1), found.group(2).strip()
        if name.endswith("="):
            name = name[:-1]
        if "=" in name:
            name, _, extra = name.partition("=")
            rest = "=" + extra + rest
        names.append(name)
        if rest and not argument:
            argument = rest if rest.startswith("[") else rest.lstrip("= ").strip()
    return tuple(dict.fromkeys(names)), argument.strip()


def _first_sentence(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    found = _SENTENCE_END.search(text)
    if found and found.start() > 0:
        text = text[: found.start()]
    if len(text) > MAX_DESCRIPTION:
        text = text[:MAX_DESCRIPTION].rsplit(" ", 1)[0] + " ..."
    return text[:1].upper() + text[1:]


def _purpose(lines: list[str]) -> str:
    """The NAME section's ``prog \\- what it does`` (mdoc: ``.Nd``)."""
    in_name = False
    words: list[str] = []
    for line in lines:
        macro, rest = _macro(line)
        if macro in ("SH", "Sh"):
            if in_name:
                break
            in_name = inline(rest).strip().strip('"').upper() in ("NAME", "NOM", "NOMBRE")
            continue
        if not in_name:
            continue
        if macro == "Nd":
            return inline(rest).strip()
        if not macro or macro in _FONT or macro in _ALTERNATING:
            words.append(_render(line))
    text = " ".join(w for w in words if w)
    for dash in (" - ", " -- ", " — ", " – "):
        if dash in text:
            return text.split(dash, 1)[1].strip()
    return ""
