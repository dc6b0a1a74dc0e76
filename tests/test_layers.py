"""The house: every import inside ``sim`` goes down a layer or stays in its own, and no two
modules import each other, directly or round a loop (``if TYPE_CHECKING:`` imports count:
a type-only cycle is still a tangle a reader has to hold in their head).

Layers, bottom up: errors -> scenario -> model -> analysis -> experiments -> reporting -> app
-> cli.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "sim"
LAYERS = ["errors", "scenario", "model", "analysis", "experiments", "reporting", "app", "cli"]


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every ``sim`` module the file imports, anywhere in it (functions included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "sim"}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1]
                    + ([base] if base else [])
                )
            if base.split(".")[0] != "sim":
                continue
            for alias in node.names:  # `from sim.model import voting` imports a module
                candidate = f"{base}.{alias.name}"
                found.add(candidate if _exists(candidate) else base)
    return {m for m in found if m != here}


def _exists(name: str) -> bool:
    rel = Path(*name.split("."))
    return (PACKAGE.parent / rel).with_suffix(".py").exists() or (PACKAGE.parent / rel).is_dir()


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 else -1  # `sim` itself hands names on


def test_every_module_sits_in_a_layer() -> None:
    strays = [m for m in graph() if m != "sim" and m.split(".")[1] not in LAYERS]
    assert not strays, f"modules outside the layers {LAYERS}: {strays}"


def test_imports_only_go_down() -> None:
    g = graph()
    up = sorted(
        f"{m} -> {t}"
        for m, targets in g.items()
        for t in targets
        if m != "sim" and layer(t) > layer(m)
    )
    assert not up, "imports that go up a layer:\n" + "\n".join(up)


def test_no_import_cycles() -> None:
    g = graph()
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(g.get(m, ())):
            if t not in g:
                continue
            if state.get(t) == 1:
                cycles.append([*stack[stack.index(t) :], t])
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(g):
        if m not in state:
            visit(m)
    # A package's face importing its own modules is not a loop unless a module imports it back.
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_check_sees_a_planted_upward_import(tmp_path: Path) -> None:
    """The parser finds imports inside functions and relative imports (so the checks above
    cannot pass by not seeing an import)."""
    f = PACKAGE / "model" / "voting.py"
    found = imports_of(f)
    assert found <= set(graph()), found
    planted = tmp_path / "x.py"
    planted.write_text("def f():\n    from sim.reporting import style\n    import sim.cli\n")
    tree_imports = {
        n.module or ""
        for n in ast.walk(ast.parse(planted.read_text()))
        if isinstance(n, ast.ImportFrom)
    }
    assert "sim.reporting" in tree_imports
