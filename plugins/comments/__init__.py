"""comments: a discussion on each public idea, moderated by the working group (report, hide, restore)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from innoplat.core.toolkit import can_edit, hookimpl

from . import discussion, personal_data, views

MIGRATIONS = Path(__file__).with_name("migrations")


@hookimpl
def innoplat_validate_settings(settings: dict[str, Any]) -> list[str]:
    return [f"{key}: unknown setting (comments has no settings)" for key in settings]


@hookimpl
def innoplat_migration_locations() -> str:
    return str(MIGRATIONS)


@hookimpl
def innoplat_blueprints(app) -> list[Any]:
    return [views.blueprint]


@hookimpl
def innoplat_navigation(city) -> list[dict[str, Any]]:
    # Called while a page renders: only coordinators and admins see the moderation entry.
    if not can_edit():
        return []
    return [
        {
            "endpoint": "comments.moderation",
            "label": _l("Moderation"),
            "order": 75,
            "audience": "staff",
        }
    ]


@hookimpl
def innoplat_idea_sections(session, idea) -> list[Any]:
    return [views.discussion_section(session, idea)]


@hookimpl
def innoplat_idea_card_facts(session, ideas) -> dict[int, list[str]]:
    return {
        idea_id: [ngettext("%(num)d comment", "%(num)d comments", count)]
        for idea_id, count in discussion.comment_counts(session, ideas).items()
    }


@hookimpl
def innoplat_export_personal_data(session, city, subject) -> dict[str, Any]:
    return personal_data.export(session, city, subject)


@hookimpl
def innoplat_erase_personal_data(session, city, subject) -> dict[str, int]:
    return personal_data.erase(session, city, subject)
