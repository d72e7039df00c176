"""The import graph follows docs/ARCHITECTURE.md: the allowed arrows between components, and no cycles.

Every import statement of our packages counts — at module level, inside functions and under
`TYPE_CHECKING` — because each of them is a dependency a reader has to hold in mind, and a cycle
hidden inside a function is still a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.support.paths import REPO_ROOT

COMPONENTS = ("flyteplane", "admin", "propeller", "datacatalog", "plugins", "scheduler", "launcher")

# component -> the modules (or module prefixes) of other components it may import. flyteidl_py is
# open to everyone and not listed; a component always may import itself.
ALLOWED: dict[str, tuple[str, ...]] = {
    "flyteplane": (),
    "admin": ("flyteplane", "propeller.compiler"),
    "propeller": ("flyteplane", "plugins.core", "plugins.registry", "plugins.config"),
    "datacatalog": ("flyteplane",),
    "plugins": ("flyteplane",),
    "scheduler": ("flyteplane",),
    "launcher": ("flyteplane", "admin", "propeller", "datacatalog", "plugins", "scheduler"),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _our_modules() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for component in COMPONENTS:
        root = REPO_ROOT / component
        for path in sorted(root.rglob("*.py")) if root.is_dir() else ():
            modules[_module_name(path)] = path
    return modules


def _imports(name: str, path: Path, modules: dict[str, Path]) -> Iterator[tuple[int, str]]:
    """(line, imported module of ours) for every import statement anywhere in the file."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                prefix = ".".join([*base, node.module] if node.module else base)
            else:
                prefix = node.module or ""
            # `from a.b import c` imports the module a.b.c when there is one, else a name of a.b.
            targets = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in modules else prefix for a in node.names]
        else:
            continue
        for imported in targets:
            module = imported
            while module and module not in modules:
                module = module.rpartition(".")[0]
            if module:
                yield node.lineno, module


def _graph() -> dict[str, set[str]]:
    modules = _our_modules()
    return {name: {t for _, t in _imports(name, path, modules) if t != name} for name, path in modules.items()}


def _allowed(source: str, target: str) -> bool:
    component, other = source.split(".", maxsplit=1)[0], target.split(".", maxsplit=1)[0]
    if component == other:
        return True
    return any(target == prefix or target.startswith(prefix + ".") for prefix in ALLOWED[component])


def test_the_product_packages_are_read() -> None:
    graph = _graph()
    assert {"flyteplane", "admin", "propeller", "datacatalog", "plugins"} <= {m.split(".")[0] for m in graph}
    assert sum(len(targets) for targets in graph.values()) > 300


def test_every_import_between_components_follows_an_allowed_arrow() -> None:
    modules = _our_modules()
    wrong = sorted(
        {
            f"{path.relative_to(REPO_ROOT)}:{line} imports {target}"
            for name, path in modules.items()
            for line, target in _imports(name, path, modules)
            if not _allowed(name, target)
        }
    )
    assert not wrong, "imports that docs/ARCHITECTURE.md section 3 does not allow:\n" + "\n".join(wrong)


def test_nothing_imports_the_composition_root() -> None:
    graph = _graph()
    importers = sorted(
        m for m, targets in graph.items() if not m.startswith("launcher") for t in targets if t.startswith("launcher")
    )
    assert not importers


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_module_imports_itself_back_through_others() -> None:
    cycles = _cycles(_graph())
    assert not cycles, "import cycles (each line: the modules of one cycle):\n" + "\n".join(
        " <-> ".join(cycle) for cycle in cycles
    )


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_client_packages_import_nothing_of_ours() -> None:
    """clients/ is installed into flytekit's environments, where no flyteplane package is: it imports none."""
    ours = (*COMPONENTS, "flyteidl_py", "tests")
    files = sorted((REPO_ROOT / "clients").rglob("*.py"))
    assert files
    wrong = [
        f"{path.relative_to(REPO_ROOT)}:{node.lineno} imports {name}"
        for path in files
        for node in ast.walk(ast.parse(path.read_text()))
        for name in _imported_names(node)
        if name.split(".")[0] in ours
    ]
    assert not wrong, "\n".join(wrong)


def _imported_names(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module]
    return []
