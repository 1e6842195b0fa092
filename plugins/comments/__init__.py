"""comments: a discussion on each public idea, moderated by the working group (report, hide, restore)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from innoplat.core import toolkit
from innoplat.core.toolkit import hookimpl

from . import discussion, personal_data, views

innoplat_validate_settings = toolkit.no_settings("comments")
innoplat_migration_locations = toolkit.migrations_beside(__file__)
innoplat_blueprints = toolkit.blueprints(views.blueprint)
# Only coordinators and admins see the moderation entry.
innoplat_navigation = toolkit.navigation_entry(
    "comments.moderation", _l("Moderation"), 75, audience="staff", shown=toolkit.can_edit
)
innoplat_idea_card_facts = toolkit.card_fact(
    discussion.comment_counts, lambda n: ngettext("%(num)d comment", "%(num)d comments", n)
)
innoplat_export_personal_data, innoplat_erase_personal_data = toolkit.personal_data(
    personal_data.export, personal_data.erase
)


@hookimpl
def innoplat_idea_sections(session, idea) -> list[Any]:
    return [views.discussion_section(session, idea)]
