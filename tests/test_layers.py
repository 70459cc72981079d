"""The layers point one way (docs/architecture.md): every import in bash_ai/ and trainer/, at
module level or inside a function, goes to the same layer or a lower one, and no two parts of
bash_ai import each other (no circle such as cli <-> repl)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Lowest first. A module belongs to the longest prefix that names it.
LAYERS: list[tuple[str, ...]] = [
    ("bash_ai.errors", "bash_ai.io", "bash_ai.paths", "bash_ai.model_files", "bash_ai.config", "bash_ai.prompt"),
    (
        "bash_ai.tokenizer",
        "bash_ai.model",
        "bash_ai.checkpoint",
        "bash_ai.safety",
        "bash_ai.retrieval",
        "bash_ai.manpages",
        "bash_ai.nlc2cmd",
        "bash_ai.templates",
        "bash_ai.tidy",
    ),
    ("bash_ai.engine",),
    ("bash_ai.registry", "bash_ai.answer", "bash_ai.breakdown", "bash_ai.export", "bash_ai.evaluation", "bash_ai.api"),
    ("bash_ai.term",),
    ("bash_ai.cli", "bash_ai.repl", "bash_ai.server", "bash_ai.shell_client", "bash_ai.__main__", "bash_ai"),
    ("trainer",),
]
# Faces of the trainer, importing it only when they run: `bash-ai train` and `bash-ai data` run it,
# and `bash-ai eval` reads the evaluation splits from its dataset store (trainer.data.suites).
ALLOWED_UP = {("bash_ai.cli.train", "trainer"), ("bash_ai.cli.data", "trainer"), ("bash_ai.cli.eval", "trainer")}


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _modules() -> dict[str, Path]:
    files = [*(ROOT / "bash_ai").rglob("*.py"), *(ROOT / "trainer").rglob("*.py")]
    return {_module(p): p for p in files if "__pycache__" not in p.parts}


def _layer(module: str) -> tuple[int, str]:
    best = (-1, "")
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best[1]):
                best = (i, prefix)
    assert best[0] >= 0, f"{module} is in no layer: add it to LAYERS (and docs/architecture.md)"
    return best


def _imports(modules: dict[str, Path]) -> set[tuple[str, str]]:
    """(importer, imported module) for every bash_ai/trainer import, ``from pkg import mod`` resolved."""
    edges = set()
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                subs = [f"{node.module}.{a.name}" for a in node.names]
                found = [s for s in subs if s in modules]
                targets = found if found else [node.module]
            edges |= {(name, t) for t in targets if t.split(".")[0] in ("bash_ai", "trainer")}
    return edges


def _upward(edges: set[tuple[str, str]]) -> set[tuple[str, str]]:
    out = set()
    for importer, imported in edges:
        mine, theirs = _layer(importer), _layer(imported)
        if theirs[0] > mine[0]:
            out.add((importer, imported))
    return out


def test_no_import_points_up_a_layer() -> None:
    edges = _imports(_modules())
    up = _upward(edges)
    faces = {(a, b) for a, b in up if (a, b.split(".")[0]) in ALLOWED_UP}
    assert up - faces == set(), "imports that point up a layer (see docs/architecture.md)"


def _part(module: str) -> str:
    """The unit a circle is judged at: bash_ai's subpackage or top-level module, or trainer."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "bash_ai" and len(parts) > 1 else parts[0]


def _circles(edges: set[tuple[str, str]]) -> list[tuple[str, str]]:
    """Pairs of parts each of which reaches the other through imports."""
    graph: dict[str, set[str]] = {}
    for importer, imported in edges:
        a, b = _part(importer), _part(imported)
        if a != b and b != "bash_ai":
            graph.setdefault(a, set()).add(b)

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                todo.extend(graph.get(node, ()))
        return False

    return sorted({(min(a, b), max(a, b)) for a in graph for b in graph[a] if reaches(b, a)})


def test_no_two_parts_import_each_other() -> None:
    assert _circles(_imports(_modules())) == [], "parts that import each other"


def test_the_checker_sees_an_upward_import_and_a_circle() -> None:
    """The rules bite: a made-up engine module importing the CLI is reported."""
    edges = {("bash_ai.engine.x", "bash_ai.cli.ask"), ("bash_ai.cli.ask", "bash_ai.engine.engine")}
    assert _upward(edges) == {("bash_ai.engine.x", "bash_ai.cli.ask")}
    assert _circles(edges) == [("bash_ai.cli", "bash_ai.engine")]
    assert _layer("bash_ai.nlc2cmd")[0] < _layer("bash_ai.engine.propose")[0] < _layer("bash_ai.answer")[0]
