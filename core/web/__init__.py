"""The city's web platform: ``create_app(city=...)`` builds everything for one city."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from ..config import CityDefinition
from ..db import default_database_url
from ..platform import Platform


def create_app(
    city: str | Path | CityDefinition | None = None,
    database_url: str | None = None,
    config: dict[str, Any] | None = None,
    *,
    platform: Platform | None = None,
) -> Flask:
    """Build the app for one city: configuration, database, plugin manager, blueprints.

    Per-app state lives in ``app.extensions["innoplat"]`` (a Platform), never in module globals.
    """
    if platform is None:
        city = city or os.environ.get("INNOPLAT_CITY") or "kiruna"
        platform = Platform.open(city, database_url or default_database_url())
    # An explicit instance path: Flask cannot guess one for a package mapped from core/ (editable install).
    instance = os.environ.get("INNOPLAT_INSTANCE_PATH") or str(Path.cwd() / "instance")
    app = Flask(__name__, instance_path=str(Path(instance).resolve()))
    app.config.update(SECRET_KEY=os.environ.get("INNOPLAT_SECRET_KEY") or os.urandom(32).hex())
    app.config.update(config or {})
    app.extensions["innoplat"] = platform

    from . import public

    app.register_blueprint(public.blueprint)
    for blueprints in platform.hooks.innoplat_blueprints(app=app):
        for blueprint in blueprints or []:
            app.register_blueprint(blueprint)
    return app
