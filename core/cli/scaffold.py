"""``innoplat new-plugin NAME``: write a complete, installable, tested plugin package to start from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

import click

from ..errors import ValidationError

NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}$")

#: Template file (in innoplat.core.scaffold_template) -> path in the new package.
FILES = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "package/__init__.py.tmpl": "${package}/__init__.py",
    "package/views.py.tmpl": "${package}/views.py",
    "package/templates/index.html.tmpl": "${package}/templates/${name}/index.html",
    "package/translations/sv.po.tmpl": "${package}/translations/sv/LC_MESSAGES/messages.po",
    "package/translations/en.po.tmpl": "${package}/translations/en/LC_MESSAGES/messages.po",
    "tests/test_plugin.py.tmpl": "tests/test_${name}.py",
}


@dataclass(frozen=True)
class PluginNames:
    """Every name a plugin goes by, derived from the one a city enables."""

    name: str

    @property
    def package(self) -> str:
        return f"innoplat_{self.name}"

    @property
    def dist(self) -> str:
        return f"innoplat-{self.name.replace('_', '-')}"

    @property
    def url(self) -> str:
        return self.name.replace("_", "-")

    @property
    def title(self) -> str:
        return self.name.replace("_", " ").capitalize()

    def values(self) -> dict[str, str]:
        return {
            "name": self.name,
            "package": self.package,
            "dist": self.dist,
            "url": self.url,
            "title": self.title,
        }


def write_plugin(name: str, output: Path | None = None) -> Path:
    """Write the plugin package ``innoplat-<name>`` into ``output`` and return its folder.

    Refuses a bad name or a folder that already holds files, so nothing is overwritten.
    """
    if not NAME.match(name or ""):
        raise ValidationError(
            "name",
            f"{name!r} is not a plugin name: use 2-40 lower-case letters, digits and _, starting with a letter",
        )
    names = PluginNames(name)
    folder = Path(output) if output is not None else Path.cwd() / names.dist
    if folder.exists() and any(folder.iterdir()):
        raise ValidationError(
            "output", f"{folder} already exists and is not empty; choose another --output"
        )
    source = resources.files("innoplat.core.scaffold_template")
    values = names.values()
    for template_name, target in FILES.items():
        text = Template(source.joinpath(template_name).read_text(encoding="utf-8")).substitute(
            values
        )
        path = folder / Template(target).substitute(values)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


@click.command("new-plugin")
@click.argument("name")
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the package to (default: ./innoplat-NAME).",
)
def new_plugin(name: str, output: Path | None) -> None:
    """Write a new plugin package NAME: entry point, hooks, a page, translations and tests.

    NAME is what a city puts in plugins.enabled (lower-case letters, digits, _).
    The tutorial in docs/writing-plugins.md continues from here.
    """
    folder = write_plugin(name, output)
    click.echo(f"Wrote the plugin {name!r} to {folder}")
    click.echo("Next:")
    click.echo(f"  pip install -e {folder}")
    click.echo(f"  cd {folder} && pytest")
    click.echo(f'  enable it: plugins.enabled = [..., "{name}"] in your city.toml')
    click.echo("  innoplat plugins --city kiruna")
