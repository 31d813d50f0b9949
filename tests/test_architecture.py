"""Rules of the layout that code review alone would let slip, checked on the source itself."""

from __future__ import annotations

import ast
from pathlib import Path

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
