"""voting: residents and staff support ideas, one support per person; counts and a ranked list.

Staff support with their signed-in account. Residents support with an e-mail address they
confirm through a signed link, mailed through the notifications plugin's outbox; a city
that does not enable notifications lets only signed-in staff support (docs/plugins.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from innoplat.core.toolkit import hookimpl

from . import supports, views
from .cli import voting as voting_commands

MIGRATIONS = Path(__file__).with_name("migrations")


@hookimpl
def innoplat_validate_settings(settings: dict[str, Any]) -> list[str]:
    return [f"{key}: unknown setting (voting has no settings)" for key in settings]


@hookimpl
def innoplat_migration_locations() -> str:
    return str(MIGRATIONS)


@hookimpl
def innoplat_blueprints(app) -> list[Any]:
    return [views.blueprint]


@hookimpl
def innoplat_navigation(city) -> list[dict[str, Any]]:
    return [{"endpoint": "voting.ranking", "label": _l("Most supported"), "order": 35}]


@hookimpl
def innoplat_idea_sections(session, idea) -> list[Any]:
    return [views.support_section(session, idea)]


@hookimpl
def innoplat_idea_card_facts(session, ideas) -> dict[int, list[str]]:
    return {
        idea_id: [ngettext("%(num)d support", "%(num)d supports", count)]
        for idea_id, count in supports.support_counts(session, ideas).items()
    }


@hookimpl
def innoplat_export_personal_data(session, city, subject) -> dict[str, Any]:
    return supports.export_supports(session, city, subject)


@hookimpl
def innoplat_erase_personal_data(session, city, subject) -> dict[str, int]:
    return supports.erase_supports(session, city, subject)


@hookimpl
def innoplat_cli_commands() -> list[Any]:
    return [voting_commands]
