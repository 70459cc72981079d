"""A small roff (man(7) and common mdoc(7)) to plain-text converter for man pages.

``man -P cat`` runs groff per page and costs ~100 ms each; this reads the source and keeps the
words, which is what an English corpus needs: no layout, tables kept as raw rows.
"""

from __future__ import annotations

import re

_NAMED = {
    "em": "—",
    "en": "–",
    "hy": "-",
    "aq": "'",
    "dq": '"',
    "lq": '"',
    "rq": '"',
    "oq": "'",
    "cq": "'",
    "bu": "•",
    "co": "©",
    "rg": "®",
    "tm": "™",
    "mu": "×",
    "de": "°",
    "ga": "`",
    "ti": "~",
    "ha": "^",
    "rs": "\\",
    "ba": "|",
    "lh": "<=",
    "rh": "=>",
    "->": "->",
    "<-": "<-",
    "Fo": "«",
    "Fc": "»",
    "sq": "□",
    "Lq": '"',
    "Rq": '"',
}
_ESCAPE = re.compile(
    r"\\(?:"
    r"f(?:\[[^\]]*\]|\(..|.)"  # font
    r"|s[+-]?(?:\d|\(\d\d|\[\d+\])"  # size
    r"|\*(?:\[[^\]]*\]|\(..|.)"  # string
    r"|\((..)"  # \(xx named char
    r"|\[([^\]]*)\]"  # \[name] named char
    r"|[kmMnYgV](?:\[[^\]]*\]|\(..|.)"  # registers etc.
    r"|[hvwlLDHoSxbRNZXz]'[^']*'"  # escapes with a quoted argument
    r"|(.)"  # any other single-char escape
    r")",
    re.DOTALL,
)
_SIMPLE = {"-": "-", "e": "\\", "\\": "\\", " ": " ", "~": " ", "0": " ", "'": "'", "`": "`", ".": ".", "t": "\t"}
_BREAK = {"PP", "LP", "P", "sp", "br", "Pp", "Lp", "HP", "RS", "RE", "Bl", "El", "Bd", "Ed", "in", "ti", "ne"}
_DROP = {
    "TH", "Dd", "Dt", "Os", "so", "ft", "ps", "ad", "na", "hy", "nh", "ds", "nr", "de", "ig", "ll", "pl",
    "fam", "UC", "PD", "TS", "TE", "ie", "el", "if", "tr", "cc", "ec", "eo", "mso", "EX", "EE", "Dl", "ns",
    "rs", "ta", "ev", "ce", "hw", "rm", "als", "ss", "lf", "ul", "cu", "vs", "pc", "Ns", "Bk", "Ek", "Xr0",
}  # fmt: skip
_ALTERNATING = {"BR", "RB", "IR", "RI", "BI", "IB"}
_MDOC_PREFIX = {"Fl": "-", "Op": "[", "Oo": "["}
_MDOC_SUFFIX = {"Op": "]", "Oc": "]"}


def _escape(match: re.Match[str]) -> str:
    named, bracketed, single = match.group(1), match.group(2), match.group(3)
    if named is not None:
        return _NAMED.get(named, "")
    if bracketed is not None:
        return _NAMED.get(bracketed, "")
    if single is not None:
        return _SIMPLE.get(single, "")
    return ""


def inline(text: str) -> str:
    """Remove font/size escapes and map named characters; ``\\"`` starts a comment."""
    cut = text.find('\\"')
    if cut >= 0:
        text = text[:cut]
    return _ESCAPE.sub(_escape, text)


def _split_args(rest: str) -> list[str]:
    out = []
    for quoted, bare in re.findall(r'"((?:[^"]|"")*)"?|(\S+)', rest):
        out.append(quoted.replace('""', '"') if quoted else bare)
    return [a for a in out if a]


def to_text(source: str) -> str:
    """Plain text: headings on their own lines, paragraphs joined, ``.nf`` blocks kept as lines."""
    paragraphs: list[str] = []
    current: list[str] = []
    literal = False
    name = ""

    def flush() -> None:
        if current:
            joiner = "\n" if literal else " "
            paragraph = joiner.join(current).strip()
            if paragraph:
                paragraphs.append(paragraph)
            current.clear()

    for raw in source.splitlines():
        if raw.startswith(('.\\"', "'\\\"", ".\\#")) or raw.strip() in (".", "'"):
            continue
        if raw[:1] in (".", "'"):
            body = raw[1:].lstrip()
            macro, _, rest = body.partition(" ")
            args = _split_args(inline(rest))
            if macro in ("SH", "Sh", "SS", "Ss"):
                flush()
                paragraphs.append(" ".join(args))
            elif macro == "nf":
                flush()
                literal = True
            elif macro == "fi":
                flush()
                literal = False
            elif macro in ("TP", "IP", "It"):
                flush()
                if macro == "IP" and args:
                    current.append(args[0])
                elif macro == "It" and args:
                    current.append(_mdoc_words(args))
            elif macro in _BREAK:
                flush()
            elif macro in _DROP or not macro:
                continue
            elif macro in ("B", "I", "SM", "SB"):
                current.append(" ".join(args))
            elif macro in _ALTERNATING:
                current.append("".join(args))
            elif macro == "Nm":
                name = name or (args[0] if args else "")
                current.append(" ".join(args) if args else name)
            elif macro == "Nd":
                current.append("- " + " ".join(args))
            elif macro[:1].isupper() and len(macro) <= 3:
                current.append(_mdoc_words([macro, *args]))
            continue
        line = inline(raw)
        if literal:
            current.append(line.rstrip())
        elif line.strip():
            current.append(line.strip())
        else:
            flush()
    flush()
    text = "\n\n".join(paragraphs)
    return re.sub(r"[ \t]+\n", "\n", re.sub(r"[ \t]{2,}", " ", text)).strip()


def _mdoc_words(words: list[str]) -> str:
    """mdoc lines nest macros (``.Op Fl v Ar file``); render the common ones, drop the rest."""
    out: list[str] = []
    closers: list[str] = []
    prefix = ""
    for word in words:
        if word in _MDOC_PREFIX:
            if word in ("Op", "Oo"):
                out.append("[")
                if word == "Op":
                    closers.append("]")
            else:
                prefix += _MDOC_PREFIX[word]
            continue
        if word == "Oc":
            out.append("]")
            continue
        if word[:1].isupper() and len(word) == 2 and word[1:].islower() or word in ("Nm", "Ar", "Xr", "Pa", "Cm"):
            continue
        out.append(prefix + word)
        prefix = ""
    out.extend(closers)
    return re.sub(r"\[ ", "[", re.sub(r" \]", "]", " ".join(out)))
