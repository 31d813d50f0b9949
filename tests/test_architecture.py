"""The shape of the code, checked on the source itself: data flows one way between the
apps, and private names stay private.

Each app may import only the apps in the layers below it (function-level imports count too,
since a late import still ties two apps together), `core` imports no app, the app-level
import graph has no circle, and no module takes another module's private names. An app
added later must be placed in LAYERS, which is the map a newcomer reads."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import kehu

SRC = Path(kehu.__file__).resolve().parent


def _modules() -> dict[str, Path]:
    """Every module of kehu by its dotted name (a package by its own name)."""
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _package_of(module: str) -> str:
    """The package a module belongs to (a package belongs to itself)."""
    if MODULES[module].name == "__init__.py":
        return module
    return module.rpartition(".")[0]


def _may_use_private_module(importer: str, module: str) -> bool:
    """A private module (kehu.value._fitting) is private to its package: its siblings and
    the modules below them may use it, nobody else."""
    parts = module.split(".")
    for i, part in enumerate(parts):
        if _is_private(part):
            package = ".".join(parts[:i])
            return importer == package or importer.startswith(package + ".")
    return True


def _private_uses(importer: str, tree: ast.Module) -> list[str]:
    """Where `importer` takes a private name of another module: `from kehu.x import _name`,
    `import kehu.x._mod` from outside x's package, or `x._name` on a kehu module it imported."""
    problems = []
    bound_modules: dict[str, str] = {}  # local name -> kehu module it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package_of(importer).split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            if source not in MODULES:
                continue
            if source != importer and not _may_use_private_module(importer, source):
                problems.append(f"line {node.lineno}: imports from {source}, a module private "
                                f"to its package")
            for alias in node.names:
                target = f"{source}.{alias.name}"
                if target in MODULES:
                    bound_modules[alias.asname or alias.name] = target
                    if not _may_use_private_module(importer, target):
                        problems.append(f"line {node.lineno}: imports {target}, a module "
                                        f"private to its package")
                elif _is_private(alias.name) and source != importer:
                    problems.append(f"line {node.lineno}: imports {alias.name} from {source}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in MODULES:
                    if not _may_use_private_module(importer, alias.name):
                        problems.append(f"line {node.lineno}: imports {alias.name}, a module "
                                        f"private to its package")
                    if alias.asname:
                        bound_modules[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in bound_modules and _is_private(node.attr)):
            module = bound_modules[node.value.id]
            if module != importer and f"{module}.{node.attr}" not in MODULES:
                problems.append(f"line {node.lineno}: uses {node.attr} of {module}")
    return problems


def test_no_module_takes_another_modules_private_names():
    """A name with a leading underscore is the business of its own module. Another module
    that needs it gets it made public, with a docstring, or moved to where both can use it."""
    found = {}
    for module, path in MODULES.items():
        problems = _private_uses(module, ast.parse(path.read_text(encoding="utf-8")))
        if problems:
            found[str(path.relative_to(SRC.parent))] = problems
    assert not found, found


def test_the_private_names_check_finds_what_it_should():
    def check(importer: str, source: str) -> list[str]:
        return _private_uses(importer, ast.parse(source))

    assert check("kehu.dataio.imports.preview",
                 "from kehu.dataio.imports.services import _record_refusal")
    assert check("kehu.dataio.imports.preview",
                 "from kehu.dataio.imports import services\nservices._restore(1)")
    assert check("kehu.dataio.imports.preview",
                 "import kehu.dataio.imports.services as s\ns._restore(1)")
    assert check("kehu.analytics.refresh", "from kehu.value._fitting import maximise")
    assert check("kehu.analytics.refresh", "from kehu.value import _fitting")
    assert check("kehu.dataio.imports.preview", "from .services import _restore")
    # Public names, private names of the module itself, a package's private module used
    # inside the package, and model metadata are all fine.
    assert not check("kehu.dataio.imports.preview",
                     "from kehu.dataio.imports.services import role_problem")
    assert not check("kehu.value.bgnbd", "from kehu.value._fitting import maximise")
    assert not check("kehu.value.bgnbd", "from kehu.value import _fitting")
    assert not check("kehu.customers.views",
                     "from kehu.customers.models import Customer\nCustomer._meta.fields")
    assert not check("kehu.dataio.imports.preview", "from django.utils.translation import "
                                                     "gettext as _")


# Bottom first. An app may import the apps of lower layers, never of its own or higher
# ones (apps in one layer are independent of each other).
LAYERS: list[set[str]] = [
    {"textfiles", "formats"},  # pure: reading text files; Django's number formats
    {"value"},  # customer-value models: numpy/scipy, never Django
    {"core"},  # what every app shares: roles, scopes, role rules, bulk writes, jobs
    {"audit"},  # the append-only log every service writes to
    {"accounts"},  # users, teams, API tokens
    {"customers"},  # the customer data card and its bookkeeping
    {"tasks"},  # the work to do about customers
    {"sales"},  # activities, leads, opportunities, key-account plans, credit
    {"dataio"},  # import, export, data quality, privacy requests
    {"analytics", "loans"},  # customer value; lending customer files (利用和借阅)
    {"service", "marketing"},  # tickets, knowledge, surveys; campaigns, offers, consent
    {"demo", "api", "workbench"},  # the demo firm; the API object; the home page of work
    {"cli", "urls", "settings", "wsgi"},  # entry points
]
LEVEL = {app: i for i, layer in enumerate(LAYERS) for app in layer}


def _files():
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if "migrations" in rel.parts:
            continue
        yield path, rel


def _app(rel: Path) -> str:
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path):
    """(imported module, names, line) of every kehu import in a file, wherever it stands."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.startswith("kehu."):
            yield node.module, [a.name for a in node.names], node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("kehu."):
                    yield alias.name, [], node.lineno


def _edges() -> dict[tuple[str, str], list[str]]:
    edges: dict[tuple[str, str], list[str]] = {}
    for path, rel in _files():
        src = _app(rel)
        for module, _names, line in _imports(path):
            dst = module.split(".")[1]
            if dst != src:
                edges.setdefault((src, dst), []).append(f"{rel}:{line}")
    return edges


def test_every_app_has_a_layer():
    apps = {_app(rel) for _path, rel in _files()} - {"__init__"}
    assert not apps - LEVEL.keys(), f"place these in LAYERS: {sorted(apps - LEVEL.keys())}"


def test_no_app_imports_upward_or_sideways():
    wrong = [f"{src} -> {dst} ({', '.join(where[:3])})"
             for (src, dst), where in _edges().items()
             if src in LEVEL and dst in LEVEL and LEVEL[dst] >= LEVEL[src]]
    assert not wrong, "imports against the layers:\n" + "\n".join(sorted(wrong))


def test_core_imports_no_app():
    from_core = {dst for (src, dst) in _edges() if src == "core"}
    assert not from_core, f"core imports {sorted(from_core)}"


def test_the_app_graph_has_no_circle():
    graph: dict[str, set[str]] = {}
    for src, dst in _edges():
        graph.setdefault(src, set()).add(dst)
    seen, stack = set(), []

    def visit(node: str) -> None:
        if node in stack:
            pytest.fail("circle: " + " -> ".join(stack[stack.index(node):] + [node]))
        if node in seen:
            return
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            visit(nxt)
        stack.pop()
        seen.add(node)

    for node in sorted(graph):
        visit(node)
