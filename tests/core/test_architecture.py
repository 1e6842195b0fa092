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
    [("models.py", ("services", "web", "cli")), ("services", ("web", "cli"))],
)
def test_dependencies_point_one_way(layer, forbidden):
    """models <- services <- web/CLI: lower layers never import higher ones."""
    paths = (
        [ROOT / "core" / layer]
        if layer.endswith(".py")
        else sorted((ROOT / "core" / layer).rglob("*.py"))
    )
    for path in paths:
        source = path.read_text(encoding="utf-8")
        for name in forbidden:
            assert not re.search(
                rf"^\s*from \.\.?{name}\b|^\s*from innoplat\.core\.{name}\b", source, re.MULTILINE
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
