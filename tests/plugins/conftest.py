"""Helpers for the built-in plugins' tests: a city folder of one's own, the CLI run in-process."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from innoplat.core.config import bundled_cities_folder


@pytest.fixture
def city_folder(tmp_path: Path):
    """A copy of a bundled city folder with other plugins enabled and settings lines added.

    ``city_folder(plugins=["notifications"], settings={"notifications": ['retry_delay = 0']})``
    """

    def make(
        city: str = "kiruna", plugins: list[str] = (), settings: dict[str, list[str]] | None = None
    ) -> Path:
        folder = tmp_path / f"city-{city}"
        shutil.copytree(
            bundled_cities_folder() / city, folder, ignore=shutil.ignore_patterns("__pycache__")
        )
        path = folder / "city.toml"
        text = path.read_text(encoding="utf-8")
        enabled = ", ".join(f'"{name}"' for name in ["catalogue", *plugins])
        text = re.sub(r"(?m)^enabled = \[.*\]$", f"enabled = [{enabled}]", text, count=1)
        for plugin, lines in (settings or {}).items():
            header = f"[plugins.{plugin}]"
            if header not in text:
                text += f"\n{header}\n"
            text = text.replace(header, header + "\n" + "\n".join(lines), 1)
        path.write_text(text, encoding="utf-8")
        return folder

    return make


@pytest.fixture
def plugin_client(make_app):
    """A test client (CSRF off) of an app with plugins: ``client, app = plugin_client(["voting"])``."""

    def make(plugins: list[str] = (), settings: dict | None = None, **options):
        app = make_app(
            config={"WTF_CSRF_ENABLED": False}, plugins=list(plugins), settings=settings, **options
        )
        return app.test_client(), app

    return make


@pytest.fixture
def public_idea():
    """Submit a public idea through the app's platform: ``public_idea(app, title=...)`` -> reference."""
    from innoplat.core.services import ideas

    def make(app, **fields) -> str:
        platform = app.extensions["innoplat"]
        fields.setdefault("title", "Uppvärmda busshållplatser")
        with platform.transaction() as session:
            return ideas.submit_idea(session, platform.city_row(session), **fields).reference

    return make
