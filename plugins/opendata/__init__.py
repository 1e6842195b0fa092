"""opendata: public ideas as CSV and JSON, organisations and memberships as Popolo JSON, under /opendata/."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from innoplat.core.toolkit import hookimpl

from . import views


@hookimpl
def innoplat_validate_settings(settings: dict[str, Any]) -> list[str]:
    return [f"{key}: unknown setting (opendata has no settings)" for key in settings]


@hookimpl
def innoplat_blueprints(app) -> list[Any]:
    return [views.blueprint]


@hookimpl
def innoplat_navigation(city) -> list[dict[str, Any]]:
    return [{"endpoint": "opendata.index", "label": _l("Open data"), "order": 80}]
