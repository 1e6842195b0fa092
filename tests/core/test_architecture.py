"""The architecture stays easy to see: every module imports on its own, and dependencies point one way."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"core": "innoplat.core", "plugins": "innoplat.plugins"}


def _modules() -> list[str]:
    names = []
    for folder, package in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT / folder).with_suffix("")
            if (
                "migrations" in relative.parts
                or "templates" in relative.parts
                or relative.name == "__main__"
            ):
                continue
            if not (path.parent / "__init__.py").exists():
                continue
            parts = [p for p in relative.parts if p != "__init__"]
            names.append(".".join([package, *parts]))
    return names


IMPORT_EACH_ALONE = """
import importlib, sys, traceback
failures = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m.startswith("innoplat")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:
        failures.append(f"{name}: {type(exc).__name__}: {exc}")
print("\\n".join(failures))
sys.exit(1 if failures else 0)
"""


def test_every_module_imports_on_its_own():
    """Importing each module first, with no innoplat module loaded before it, catches import cycles."""
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH_ALONE, *_modules()], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("models.py", ("services", "web", "cli")),
        ("validation.py", ("services", "web", "cli")),
        ("services", ("web", "cli")),
        ("web", ("cli",)),
    ],
)
def test_dependencies_point_one_way(layer, forbidden):
    """models <- services <- web/CLI: lower layers never import higher ones, and the web never
    imports the CLI (what both need lives in services)."""
    paths = (
        [ROOT / "core" / layer]
        if layer.endswith(".py")
        else sorted((ROOT / "core" / layer).rglob("*.py"))
    )
    for path in paths:
        source = path.read_text(encoding="utf-8")
        for name in forbidden:
            assert not re.search(
                rf"^\s*from \.{{1,3}}{name}\b|^\s*from innoplat\.core\.{name}\b",
                source,
                re.MULTILINE,
            ), f"{path.relative_to(ROOT)} imports {name}"


def test_every_package_is_listed_in_pyproject():
    """setuptools installs only the packages pyproject.toml lists."""
    import tomllib

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    for folder in ("core", "plugins", "cities", "translations"):
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT)
            name = "innoplat." + ".".join(relative.parts)
            if "templates" in relative.parts or "scaffold_template" in relative.parts:
                continue
            assert name in listed, (
                f"{name} is missing from [tool.setuptools] packages in pyproject.toml"
            )


#: What a plugin may import of innoplat: the toolkit, the tables, the exceptions, the hooks,
#: and in its tests the shipped fixtures. Everything else is internal (docs/hooks.md).
PLUGIN_API = {
    "innoplat.core.toolkit",
    "innoplat.core.models",
    "innoplat.core.errors",
    "innoplat.core.hookspecs",
}
PLUGIN_TEST_API = {*PLUGIN_API, "innoplat.core.testing"}


def _plugin_sources() -> list[tuple[Path, str, str]]:
    """(path, source, the package it belongs to) of every built-in plugin and the scaffold."""
    from string import Template

    found = []
    for path in sorted((ROOT / "plugins").rglob("*.py")):
        parts = path.relative_to(ROOT / "plugins").parts
        if len(parts) > 1:
            found.append((path, path.read_text(encoding="utf-8"), f"innoplat.plugins.{parts[0]}"))
    for path in sorted((ROOT / "core" / "scaffold_template").rglob("*.py.tmpl")):
        source = Template(path.read_text(encoding="utf-8")).safe_substitute(
            name="bike_racks", package="bike_racks", title="Bike racks", url="bike-racks", dist="x"
        )
        found.append((path, source, "bike_racks"))
    return found


def _innoplat_imports(source: str) -> list[str]:
    """The innoplat modules (or module members) a source imports; relative imports as ``.`` names."""
    import ast

    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level:
            names.append("." * node.level + (node.module or ""))
        elif isinstance(node, ast.ImportFrom) and node.module in ("innoplat", "innoplat.core"):
            names += [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append(node.module or "")
            # A private name (models._enum) is internal even in a public module.
            names += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    return [n for n in names if n.startswith(("innoplat", "."))]


def test_plugins_use_only_the_toolkit():
    """Built-in plugins and the scaffold import innoplat only through its public plugin API."""
    problems = []
    for path, source, package in _plugin_sources():
        testing = "tests" in path.parts or "migrations" in path.parts
        allowed = PLUGIN_TEST_API if testing else PLUGIN_API
        where = path.relative_to(ROOT)
        for name in _innoplat_imports(source):
            if name.startswith(".."):
                problems.append(f"{where}: relative import beyond its own plugin ({name})")
            elif name.startswith(".") or name == package or name.startswith(package + "."):
                continue
            elif name.startswith("innoplat.plugins"):
                problems.append(f"{where}: imports another plugin ({name})")
            elif name.rsplit(".", 1)[-1].startswith("_"):
                problems.append(f"{where}: imports the private {name}")
            elif not any(name == api or name.startswith(api + ".") for api in allowed):
                problems.append(f"{where}: imports {name}, which is not in the plugin API")
    assert not problems, "\n".join(problems)


def test_no_file_refers_to_a_file_outside_the_repository():
    """Comments, docs and configuration cite only what a reader of the repository can open."""
    suffixes = {".py", ".md", ".toml", ".cfg", ".html", ".tmpl", ".txt", ".yml", ".yaml", ".json"}
    skipped = {".git", ".venv", "node_modules", "build", "dist"}
    offenders = []
    for path in ROOT.rglob("*"):
        parts = set(path.relative_to(ROOT).parts)
        if (
            path.suffix not in suffixes
            or parts & skipped
            or any(p.endswith(".egg-info") for p in parts)
        ):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.name != "test_architecture.py" and re.search(r"DESIGN\.md|/work/", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"these cite files that are not in the repository: {offenders}"
