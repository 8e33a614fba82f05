"""The import contract, read from the source (no imports executed): which package may import which.

- The product never imports the emulator; only ``akslogin emulator`` (``akslogin/cli/emulator.py``) starts it,
  from inside the command, so no other command pays for it.
- The emulator imports nothing of the product: it is the oracle the product is tested against, so a bug
  shared through common code would pass unnoticed.
- Dependencies point down the floors below (an import inside a function counts too): a module may import its
  own floor and the floors under it, never one above; no import loop joins more than two modules.
- What a cached get-token loads at module level is exactly the list below; anything else is imported inside
  the function that needs it (the slow path), so a new top-level import on the hot path fails here first.
"""

from __future__ import annotations

import ast
from pathlib import Path

import akslogin

PACKAGE = Path(akslogin.__file__).resolve().parent
EMULATOR = "akslogin.emulator"
#: Product modules the emulator may import (none: see the module docstring).
EMULATOR_MAY_IMPORT: frozenset[str] = frozenset()
#: Product modules that may import the emulator, inside a function.
MAY_START_EMULATOR = frozenset({"akslogin.cli.emulator"})
#: The product's floors, top first; a module belongs to the first entry that is it or its package.
FLOORS: tuple[tuple[str, ...], ...] = (
    ("akslogin", "akslogin.__main__", "akslogin.entry", "akslogin.cli", "akslogin.api"),
    ("akslogin.usecases",),
    ("akslogin.kubectx", "akslogin.audit"),
    ("akslogin.tokens",),
    ("akslogin.credentials", "akslogin.arm", "akslogin.resourcegraph", "akslogin.graph", "akslogin.kubeapi",
     "akslogin.tokenverify", "akslogin.rbac"),
    ("akslogin.tokencache", "akslogin.kubeconfig", "akslogin.http", "akslogin.options", "akslogin.pop",
     "akslogin.exec_credential", "akslogin.aadsts"),
    ("akslogin._version", "akslogin.errors", "akslogin.output", "akslogin.term", "akslogin.yaml11",
     "akslogin.jsonlite", "akslogin.log", "akslogin.redact", "akslogin.fileops", "akslogin.deadline",
     "akslogin.netreason", "akslogin.retry", "akslogin.clouds", "akslogin.certinfo", "akslogin.tokeninfo",
     "akslogin.leanimport", "akslogin.tlstrust", "akslogin.rsakeys"),
)
#: The emulator's floors, top first: the server installs the services; services see the emulator through
#: host.py's protocol and build on the world and the network layer.
EMULATOR_FLOORS: tuple[tuple[str, ...], ...] = (
    ("akslogin.emulator", "akslogin.emulator.server"),
    ("akslogin.emulator.entra", "akslogin.emulator.aks", "akslogin.emulator.azure"),
    ("akslogin.emulator.host",),
    ("akslogin.emulator.world", "akslogin.emulator.net", "akslogin.emulator.clock"),
)
#: Everything a cache hit imports at module level, from the console script's ``akslogin.entry`` on.
HOT_PATH = frozenset({
    "akslogin", "akslogin._version", "akslogin.entry", "akslogin.usecases", "akslogin.usecases.get_token",
    "akslogin.options", "akslogin.exec_credential", "akslogin.jsonlite", "akslogin.log", "akslogin.tokencache",
    "akslogin.tokencache.entry", "akslogin.tokencache.key",
})


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(module: str, path: Path, top_level_only: bool) -> set[str]:
    """Absolute names of the akslogin modules ``module`` imports (``from x import y``: x.y when that is a
    module, else x). ``if TYPE_CHECKING:`` blocks never run and are skipped."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    known = _modules()
    out: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                out.update(a.name for a in node.names if a.name.startswith("akslogin"))
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                    and node.module.startswith("akslogin"):
                for alias in node.names:
                    child = f"{node.module}.{alias.name}"
                    out.add(child if child in known else node.module)
            if top_level_only and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if isinstance(node, ast.ClassDef):
                    visit(node.body)
                continue
            for field in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(node, field, None)
                if isinstance(inner, list):
                    visit([n for n in inner if isinstance(n, ast.stmt)] +
                          [s for h in inner if isinstance(h, ast.ExceptHandler) for s in h.body])

    visit(tree.body)
    out.discard(module)
    return out


def _with_parents(names: set[str]) -> set[str]:
    """Importing a.b.c runs a/__init__ and a/b/__init__ too."""
    full = set()
    for name in names:
        parts = name.split(".")
        full.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return full


def test_the_product_does_not_import_the_emulator() -> None:
    offenders = {}
    for module, path in _modules().items():
        if module == EMULATOR or module.startswith(EMULATOR + "."):
            continue
        emulator_imports = {m for m in _imports(module, path, top_level_only=False)
                            if m == EMULATOR or m.startswith(EMULATOR + ".")}
        top = {m for m in _imports(module, path, top_level_only=True) if m.startswith(EMULATOR)}
        if top or (emulator_imports and module not in MAY_START_EMULATOR):
            offenders[module] = sorted(emulator_imports)
    assert offenders == {}


def test_the_emulator_imports_nothing_of_the_product() -> None:
    offenders = {}
    for module, path in _modules().items():
        if not (module == EMULATOR or module.startswith(EMULATOR + ".")):
            continue
        product = {m for m in _with_parents(_imports(module, path, top_level_only=False))
                   if not m.startswith(EMULATOR) and m != "akslogin"} - EMULATOR_MAY_IMPORT
        if product:
            offenders[module] = sorted(product)
    assert offenders == {}


def test_the_hot_path_imports_only_what_is_listed() -> None:
    modules = _modules()
    seen: set[str] = set()
    todo = sorted(_with_parents({"akslogin.entry", "akslogin.usecases.get_token"}))
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(_with_parents(_imports(name, modules[name], top_level_only=True)) - seen)
    assert seen == HOT_PATH, f"added: {sorted(seen - HOT_PATH)}, gone: {sorted(HOT_PATH - seen)}"


def test_the_emulator_features_depend_on_the_host_protocol_not_the_server() -> None:
    """server.py installs the features (ADFS, ARM, Graph, ...); they see it as an EmulatorHost, so the
    dependencies go one way and there is no import loop through the server."""
    importers = sorted(module for module, path in _modules().items()
                       if module.startswith(EMULATOR + ".") and module != EMULATOR + ".server"
                       and EMULATOR + ".server" in _imports(module, path, top_level_only=False)
                       | _type_only_imports(path))
    assert importers == []


def _type_only_imports(path: Path) -> set[str]:
    """Modules imported under ``if TYPE_CHECKING:`` (which _imports skips)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                if isinstance(inner, ast.ImportFrom) and inner.module:
                    found.add(inner.module)
    return found


def test_docs_architecture_lists_every_module() -> None:
    """docs/architecture.md has one line per module; a module added or removed without it fails here."""
    text = (PACKAGE.parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")
    package = ""
    names = set()
    for line in text.split("## Modules", 1)[1].splitlines():
        if line.endswith("/") and not line.startswith(" "):
            package = line.strip()
        elif line.startswith("  ") and line.split():
            names.add(package + line.split()[0])
        elif line and not line.startswith(("`", " ")) and not line.endswith("/"):
            names.add(line.split()[0])
    assert "cli/app.py" in names  # the section was read
    modules = {str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
               if "__pycache__" not in p.parts and p.name != "__main__.py"}
    assert sorted(modules - names) == [] and sorted(names - modules) == []


def _floor(module: str, floors: tuple[tuple[str, ...], ...] = FLOORS) -> int:
    """0 is the top floor; the most specific entry wins (``akslogin`` itself is the package's top)."""
    best = (-1, -1)
    for level, names in enumerate(floors):
        for name in names:
            if module == name or module.startswith(name + "."):
                best = max(best, (len(name), level))
    assert best[1] >= 0, f"{module} is on no floor: add it to FLOORS (and docs/architecture.md)"
    return best[1]


def _graph(emulator: bool) -> dict[str, set[str]]:
    """Imports among the product's modules, or among the emulator's (an import inside a function counts)."""
    modules = {m: p for m, p in _modules().items() if (m == EMULATOR or m.startswith(EMULATOR + ".")) == emulator}
    return {m: {d for d in _imports(m, p, top_level_only=False) if d in modules} for m, p in modules.items()}


def _product_graph() -> dict[str, set[str]]:
    return _graph(emulator=False)


def test_no_import_runs_back_up_a_floor() -> None:
    upward = sorted(f"{m} -> {d}" for m, deps in _product_graph().items() for d in deps
                    if _floor(d) < _floor(m))
    assert upward == []


def test_no_import_in_the_emulator_runs_back_up_a_floor() -> None:
    upward = sorted(f"{m} -> {d}" for m, deps in _graph(emulator=True).items() for d in deps
                    if _floor(d, EMULATOR_FLOORS) < _floor(m, EMULATOR_FLOORS))
    assert upward == []


def test_a_floor_finder_that_sees_an_upward_import() -> None:
    """The floor check can fail: a network module that imported the Entra service would be reported."""
    graph = {"akslogin.emulator.net.httpbase": {"akslogin.emulator.entra.endpoints"}}
    assert [f"{m} -> {d}" for m, deps in graph.items() for d in deps
            if _floor(d, EMULATOR_FLOORS) < _floor(m, EMULATOR_FLOORS)] != []


def _loops(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
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


def test_the_loop_finder_finds_a_loop() -> None:
    assert _loops({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _loops({"a": {"b"}, "b": set()}) == []


def test_no_import_loop_joins_more_than_two_modules() -> None:
    for emulator in (False, True):
        assert [loop for loop in _loops(_graph(emulator)) if len(loop) > 2] == []
