"""opendata: public ideas as CSV and JSON, organisations and memberships as Popolo JSON, under /opendata/."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from innoplat.core import toolkit

from . import views

innoplat_validate_settings = toolkit.no_settings("opendata")
innoplat_blueprints = toolkit.blueprints(views.blueprint)
innoplat_navigation = toolkit.navigation_entry("opendata.index", _l("Open data"), 80)
