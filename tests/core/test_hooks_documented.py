"""The plugin API stays honest: every hook is documented, specified with a docstring, and exercised by a test."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from innoplat.core import hookspecs

ROOT = Path(__file__).resolve().parents[2]
HOOKS = sorted(
    name for name, obj in vars(hookspecs).items() if name.startswith("innoplat_") and callable(obj)
)


def test_there_are_hooks_for_every_family():
    for hook in (
        "innoplat_blueprints",
        "innoplat_navigation",
        "innoplat_template_context",
        "innoplat_idea_submitted",
        "innoplat_stage_changed",
        "innoplat_method_applied",
        "innoplat_methods",
        "innoplat_comparison_metrics",
        "innoplat_cli_commands",
        "innoplat_validate_settings",
    ):
        assert hook in HOOKS


def test_every_hook_has_a_docstring_naming_its_parameters():
    for name in HOOKS:
        function = getattr(hookspecs, name)
        doc = inspect.getdoc(function) or ""
        assert doc, f"{name} has no docstring"
        for parameter in inspect.signature(function).parameters:
            assert f":param {parameter}:" in doc, f"{name}: parameter {parameter} is not documented"
        returns_nothing = inspect.signature(function).return_annotation in (None, "None")
        assert ":return:" in doc or returns_nothing, f"{name}: return value undocumented"


def test_every_hook_is_in_the_reference():
    reference = (ROOT / "docs" / "hooks.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^### (innoplat_\w+)$", reference, flags=re.MULTILINE))
    assert sorted(headings) == HOOKS


def test_every_hook_is_exercised_by_a_test():
    """A hook no test implements may be broken without anyone noticing."""
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("*.py"))
    missing = [name for name in HOOKS if not re.search(rf"def {name}\(", sources)]
    assert not missing, f"no test implements these hooks: {missing}"


def test_hookspecs_import_nothing_at_run_time():
    """hookspecs.py never takes part in an import cycle."""
    source = (ROOT / "core" / "hookspecs.py").read_text(encoding="utf-8")
    runtime = source.split("if TYPE_CHECKING:")[0]
    imports = re.findall(r"^(?:from|import) ([\w.]+)", runtime, flags=re.MULTILINE)
    assert set(imports) <= {"__future__", "typing", "pluggy"}


def test_every_toolkit_name_exists_and_is_in_the_reference():
    """The plugin API is what docs/hooks.md documents: nothing more, nothing less."""
    from innoplat.core import toolkit

    reference = (ROOT / "docs" / "hooks.md").read_text(encoding="utf-8")
    section = reference.split("## The plugin toolkit")[1].split("## Compatibility policy")[0]
    missing = [name for name in toolkit.__all__ if f"`{name}" not in section]
    assert all(hasattr(toolkit, name) for name in toolkit.__all__)
    assert not missing, f"docs/hooks.md does not document toolkit names: {missing}"
