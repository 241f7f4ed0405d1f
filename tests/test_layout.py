"""The shape of the code, as ../shared/DESIGN.md draws it: packages depend one way, every
module is one idea (no module only re-exports another, no prefix-named sibling families),
and tests import the package as users do (no sys.path edits)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Source folders and the package each installs as (setup.py's package_dir).
FOLDERS = {
    "agentgym": "agentgym",
    "envs": "agentgym.envs",
    "reward_designers": "agentgym.reward_designers",
}


def modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the installed package."""
    found: dict[str, Path] = {}
    for folder, package in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found


MODULES = modules()
PACKAGES = {name for name, path in MODULES.items() if path.name == "__init__.py"}


def imported_modules(name: str, path: Path) -> set[str]:
    """agentgym modules that ``name`` imports, at module level or inside functions."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                out.add(full if full in MODULES else base)
    return {m for m in out if m.split(".")[0] == "agentgym"}


def node_of(module: str) -> str:
    """The concept a module belongs to: its package, or itself for agentgym's top-level
    modules (core, spec, registry, ...), which are concepts of their own."""
    while module not in MODULES and "." in module:
        module = module.rpartition(".")[0]
    if module in PACKAGES or module.count(".") == 1:
        return module
    return module.rpartition(".")[0]


def related(a: str, b: str) -> bool:
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in MODULES.items():
        src = node_of(name)
        for target in imported_modules(name, path):
            dst = node_of(target)
            if not related(src, dst) and dst != "agentgym":
                graph[src].add(dst)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_two_packages_import_each_other():
    assert cycles(package_graph()) == []


def test_the_cycle_finder_finds_a_planted_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


UPPER = ("agentgym.runs", "agentgym.commands", "agentgym.reward_designers", "agentgym.cli")


@pytest.mark.parametrize(
    ("base", "upper"),
    [
        ("agentgym.learners", UPPER),
        ("agentgym.rewards", UPPER),
        ("agentgym.sandbox", UPPER),
        ("agentgym.executors", UPPER),  # synthesis and the commands choose one; it knows neither
        ("agentgym.vector", (*UPPER, "agentgym.envs")),  # the vector core knows no env
    ],
)
def test_lower_layers_never_import_runs_commands_or_designers(base: str, upper: tuple[str, ...]):
    offending = sorted(
        f"{name} -> {target}"
        for name, path in MODULES.items()
        if name == base or name.startswith(base + ".")
        for target in imported_modules(name, path)
        if any(target == u or target.startswith(u + ".") for u in upper)
    )
    assert offending == []


def test_no_module_only_re_exports_another():
    shims = []
    for name, path in MODULES.items():
        if path.name == "__init__.py":
            continue
        body = ast.parse(path.read_text()).body
        code = [
            n
            for n in body
            if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
            and not (isinstance(n, ast.ImportFrom) and n.module == "__future__")
            and not (
                isinstance(n, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "__all__" for t in n.targets)
            )
        ]
        if code and all(isinstance(n, (ast.Import, ast.ImportFrom)) for n in code):
            shims.append(name)
    assert shims == []


def test_no_prefix_named_sibling_families():
    """A concept that outgrew one file is a package, not ``x.py`` beside ``x_*.py``."""
    families = []
    for name, path in MODULES.items():
        if path.name == "__init__.py":
            continue
        stem = path.stem
        siblings = [p.stem for p in path.parent.glob(f"{stem}_*.py")]
        if siblings:
            families.append(f"{name}: {sorted(siblings)}")
    assert families == []


# sys.path edits in-process, and their equivalents for a child process or a pytest fixture.
PATH_EDITS = (
    "sys.path.insert",
    "sys.path.append",
    "sys.path.extend",
    "syspath_prepend",
    "PYTHONPATH",
)


def test_tests_benchmarks_and_examples_never_edit_sys_path():
    edits = [
        f"{path.relative_to(ROOT)}: {edit}"
        for folder in ("tests", "bench", "examples", "scripts")
        for path in (ROOT / folder).rglob("*.py")
        if path != Path(__file__)
        for edit in PATH_EDITS
        if edit in path.read_text()
    ]
    assert edits == []
