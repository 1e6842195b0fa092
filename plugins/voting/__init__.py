"""voting: residents and staff support ideas, one support per person; counts and a ranked list.

Staff support with their signed-in account. Residents support with an e-mail address they
confirm through a signed link, mailed through the notifications plugin's outbox; a city
that does not enable notifications lets only signed-in staff support (docs/plugins.md).
Where a plugin keeps followers, the same link can also start following the idea.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from innoplat.core import toolkit
from innoplat.core.toolkit import hookimpl

from . import following, supports, views
from .cli import voting as voting_commands

innoplat_validate_settings = toolkit.no_settings("voting")
innoplat_migration_locations = toolkit.migrations_beside(__file__)
innoplat_blueprints = toolkit.blueprints(views.blueprint)
innoplat_navigation = toolkit.navigation_entry("voting.ranking", _l("Most supported"), 35)
innoplat_idea_card_facts = toolkit.card_fact(
    supports.support_counts, lambda n: ngettext("%(num)d support", "%(num)d supports", n)
)


def _export(session, city, subject) -> dict[str, Any]:
    return {
        **supports.export_supports(session, city, subject),
        **following.export_wishes(session, city, subject),
    }


def _erase(session, city, subject) -> dict[str, int]:
    return {
        **supports.erase_supports(session, city, subject),
        **following.erase_wishes(session, city, subject),
    }


innoplat_export_personal_data, innoplat_erase_personal_data = toolkit.personal_data(_export, _erase)


@hookimpl
def innoplat_idea_sections(session, idea) -> list[Any]:
    return [views.support_section(session, idea)]


@hookimpl
def innoplat_cli_commands() -> list[Any]:
    return [voting_commands]


@hookimpl
def innoplat_expire_personal_data(session, city, now) -> int:
    """Wishes to follow whose link was never opened go after the link's week."""
    return following.purge_expired(session, city, now=now)
