"""The plugin toolkit: everything a plugin uses from innoplat, in one stable module.

A plugin imports from here, from ``innoplat.core.models`` (the tables), ``innoplat.core.errors``
(the exceptions) and ``innoplat.core.testing`` (pytest fixtures) — nothing else of innoplat::

    from innoplat.core import toolkit
    from innoplat.core.toolkit import hookimpl

Every name listed in ``__all__`` follows semantic versioning: it is removed or changed
incompatibly only in a major release, after a minor release that warns about it
(``DeprecationWarning``). Everything else in ``innoplat.core`` is internal and may change
in any release. The reference is docs/hooks.md ("The plugin toolkit").
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, render_template
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy.orm import Session

from . import validation
from .cli.common import (
    city_options,
    city_transaction,
    json_option,
    open_platform,
    print_json,
    print_table,
)
from .config import CityDefinition
from .db import insert as dialect_insert
from .errors import PluginError
from .hookspecs import hookimpl
from .i18n import N_
from .links import base_url
from .models import City, Idea
from .platform import Platform
from .plugins import hooks_of
from .services.audit import record as record_audit
from .services.bulk import insert_rows, insert_with_ids
from .services.cities import get_city
from .services.comparison import Metric
from .services.ideas import IdeaFilter, count_ideas, get_idea, list_ideas, submit_idea
from .services.serialisation import IDEA_FIELDS, plain, timestamp
from .services.serialisation import idea as serialise_idea
from .services.spreadsheets import SafeDictWriter
from .web.auth import StaffUser, actor, can_edit, editor_required, is_staff, staff_required
from .web.current import platform
from .web.forms import email_address, email_field
from .web.idea_sections import IDEA_REGIONS, IdeaSection
from .web.languages import current_locale
from .web.links import external_url
from .web.public import idea_or_404

__all__ = [
    # hooks
    "hookimpl",
    # declaring a plugin: hook implementations made by one call
    "no_settings",
    "migrations_beside",
    "blueprints",
    "navigation_entry",
    "card_fact",
    "personal_data",
    # the current platform, city and settings
    "Platform",
    "CityDefinition",
    "platform",
    "city",
    "city_row",
    "settings",
    "plugin_enabled",
    "current_locale",
    # ideas
    "get_idea",
    "list_ideas",
    "count_ideas",
    "IdeaFilter",
    "submit_idea",
    "idea_or_404",
    "get_city",
    # who may do what
    "StaffUser",
    "is_staff",
    "can_edit",
    "staff_required",
    "editor_required",
    "actor",
    "current_staff",
    # forms and pages
    "Form",
    "form_errors",
    "email_address",
    "email_field",
    "form_refused",
    "validation",
    "render",
    "section",
    "idea_section",
    "IdeaSection",
    "IDEA_REGIONS",
    # writing rows, the audit trail, mail, comparison metrics
    "dialect_insert",
    "insert_rows",
    "insert_with_ids",
    "record_audit",
    "send_mail",
    "mail_available",
    "follow_idea",
    "following_available",
    "Metric",
    "N_",
    "timestamp",
    "plain",
    "serialise_idea",
    "IDEA_FIELDS",
    # links that leave the site
    "external_url",
    "base_url",
    # CSV files safe to open in a spreadsheet
    "SafeDictWriter",
    # command line
    "city_options",
    "json_option",
    "open_platform",
    "city_transaction",
    "print_json",
    "print_table",
]

#: The base class of a plugin's forms: CSRF-protected like every form of the site. POSTs to
#: a plugin's blueprint are rate-limited per visitor (``INNOPLAT_PLUGIN_POST_LIMIT``,
#: default 30 per hour) without the plugin doing anything.
Form = FlaskForm


def city() -> CityDefinition:
    """The city this request or app serves, as configured in its city.toml."""
    return platform().city


def city_row(session: Session) -> City:
    """The city this request serves, as its database row (for queries and foreign keys)."""
    return platform().city_row(session)


def settings(plugin: str) -> dict[str, Any]:
    """The plugin's ``[plugins.<plugin>]`` table of the current city (validated at start-up)."""
    return platform().city.config.plugins.settings(plugin)


def plugin_enabled(name: str) -> bool:
    """Whether the current city enables the plugin ``name``."""
    return platform().plugins.has_plugin(name)


def current_staff() -> StaffUser | None:
    """The signed-in working-group member (``id``, ``name``, ``email``, ``role``), or None."""
    return current_user._get_current_object() if is_staff() else None  # type: ignore[no-any-return]


def form_errors(form: FlaskForm) -> list[str]:
    """Every error message of a validated form, field by field."""
    return [message for messages in form.errors.values() for message in messages]


def render(template: str, *, status: int = 200, **context: Any) -> Response:
    """A whole HTML page (``text/html``) from the plugin's template, with the given status."""
    return Response(render_template(template, **context), status=status, mimetype="text/html")


def section(template: str, **context: Any) -> Markup:
    """An HTML fragment for ``innoplat_idea_sections`` or ``innoplat_submission_sections``."""
    return Markup(render_template(template, **context))  # noqa: S704 - Jinja autoescapes


def idea_section(
    template: str, *, region: str = "details", order: int = 100, **context: Any
) -> IdeaSection:
    """A section of an idea's page (``innoplat_idea_sections``) and where it goes.

    :param region: one of ``IDEA_REGIONS``: ``"actions"`` (what a citizen can do — support,
        follow — grouped near the top beside the idea's facts), ``"details"`` (below the
        description), ``"discussion"`` (below the description and details) or ``"staff"``
        (only the working group sees it; last on the page).
    :param order: the place within the region, lower first (the built-in plugins use 10, 20, …).
    :raises ValueError: for an unknown region.
    """
    return IdeaSection(section(template, **context), region=region, order=order)


def mail_available() -> bool:
    """Whether a plugin of the current city sends e-mail (``innoplat_send_mail``)."""
    return bool(platform().plugins.hook.innoplat_send_mail.get_hookimpls())


def send_mail(
    session: Session,
    city: City,
    *,
    recipient: str,
    locale: str,
    subject: str,
    body: str,
    kind: str,
    idea: Idea | None = None,
) -> None:
    """Send an e-mail through the plugin that sends mail (the notifications plugin's outbox).

    The message goes out only if the transaction of ``session`` commits.

    :raises PluginError: when no enabled plugin sends e-mail (check ``mail_available()`` first).
    """
    taken = hooks_of(session).innoplat_send_mail(
        session=session,
        city=city,
        recipient=recipient,
        locale=locale,
        subject=subject,
        body=body,
        kind=kind,
        idea=idea,
    )
    if not any(taken):
        raise PluginError(None, f"no enabled plugin sends e-mail ({kind} to {recipient})")


def following_available() -> bool:
    """Whether a plugin of the current city lets people follow ideas (``innoplat_follow_idea``)."""
    return bool(platform().plugins.hook.innoplat_follow_idea.get_hookimpls())


def follow_idea(
    session: Session, idea: Idea, *, email: str, locale: str, confirmed: bool = False
) -> bool:
    """Ask the plugin that keeps followers (notifications) to let ``email`` follow ``idea``.

    The plugin confirms the address by e-mail first (double opt-in) unless ``confirmed``;
    the request is stored only if the transaction of ``session`` commits.

    :param confirmed: the caller has proven that the address is its owner's (they opened a
        link mailed to it, as the voting plugin's support confirmation does): the plugin
        records a confirmed follower and sends no confirmation e-mail of its own. A plugin
        whose ``innoplat_follow_idea`` does not declare ``confirmed`` (written before 0.2.0)
        still confirms the address its own way.
    :return: True when the address follows the idea now; False when the owner of the address
        is first asked to confirm (``confirmed`` False, or a plugin that does not take it).
    :raises PluginError: when no enabled plugin keeps followers (check
        ``following_available()`` first).
    """
    hooks = hooks_of(session)
    taken = hooks.innoplat_follow_idea(
        session=session, idea=idea, email=email, locale=locale, confirmed=confirmed
    )
    if not any(taken):
        raise PluginError(None, f"no enabled plugin lets people follow ideas ({idea.reference})")
    keepers = hooks.manager.hook.innoplat_follow_idea.get_hookimpls() if hooks.manager else []
    return confirmed and all("confirmed" in keeper.argnames for keeper in keepers)


# --------------------------------------------------------------------------- declaring a plugin
#
# Hook implementations most plugins write the same way, made by one call each. Assign the
# result to the hook's name in the plugin's module (pluggy finds a hook by that name):
#
#     innoplat_validate_settings = toolkit.no_settings("my_plugin")
#     innoplat_migration_locations = toolkit.migrations_beside(__file__)
#     innoplat_blueprints = toolkit.blueprints(views.blueprint)


def no_settings(plugin: str) -> Callable[..., list[str]]:
    """``innoplat_validate_settings`` of a plugin without settings: any key is an error."""

    @hookimpl
    def innoplat_validate_settings(settings: dict[str, Any]) -> list[str]:
        return [f"{key}: unknown setting ({plugin} has no settings)" for key in settings]

    return innoplat_validate_settings


def migrations_beside(module_file: str) -> Callable[[], str]:
    """``innoplat_migration_locations``: the ``migrations/`` folder beside ``module_file``
    (pass ``__file__`` of the plugin's ``__init__.py``)."""
    folder = str(Path(module_file).with_name("migrations"))

    @hookimpl
    def innoplat_migration_locations() -> str:
        return folder

    return innoplat_migration_locations


def blueprints(*plugin_blueprints: Blueprint) -> Callable[..., list[Blueprint]]:
    """``innoplat_blueprints`` contributing these blueprints (rate-limited and CSRF-protected
    like every plugin blueprint)."""

    @hookimpl
    def innoplat_blueprints(app: Any) -> list[Blueprint]:
        return list(plugin_blueprints)

    return innoplat_blueprints


def navigation_entry(
    endpoint: str,
    label: Any,
    order: int,
    *,
    audience: str = "public",
    shown: Callable[[], bool] | None = None,
) -> Callable[..., list[dict[str, Any]]]:
    """``innoplat_navigation`` with one entry; ``shown`` (e.g. ``is_staff``, ``can_edit``) is
    asked while the page renders, and the entry is left out when it says False."""

    @hookimpl
    def innoplat_navigation(city: Any) -> list[dict[str, Any]]:
        if shown is not None and not shown():
            return []
        entry = {"endpoint": endpoint, "label": label, "order": order}
        return [entry if audience == "public" else {**entry, "audience": audience}]

    return innoplat_navigation


def card_fact(
    counts: Callable[[Session, Any], dict[int, int]], text: Callable[[int], str]
) -> Callable[..., dict[int, list[str]]]:
    """``innoplat_idea_card_facts`` from ``counts(session, ideas)`` (idea id → a number) and
    ``text(number)`` (e.g. ``lambda n: ngettext("%(num)d vote", "%(num)d votes", n)``)."""

    @hookimpl
    def innoplat_idea_card_facts(session: Session, ideas: Any) -> dict[int, list[str]]:
        return {idea_id: [text(n)] for idea_id, n in counts(session, ideas).items()}

    return innoplat_idea_card_facts


def personal_data(
    export: Callable[..., dict[str, Any]], erase: Callable[..., dict[str, int]]
) -> tuple[Callable[..., dict[str, Any]], Callable[..., dict[str, int]]]:
    """``innoplat_export_personal_data`` and ``innoplat_erase_personal_data`` from the plugin's
    ``export(session, city, subject)`` and ``erase(session, city, subject)``::

        innoplat_export_personal_data, innoplat_erase_personal_data = toolkit.personal_data(
            personal_data.export, personal_data.erase
        )
    """

    @hookimpl
    def innoplat_export_personal_data(session: Session, city: City, subject: Any) -> dict[str, Any]:
        return export(session, city, subject)

    @hookimpl
    def innoplat_erase_personal_data(session: Session, city: City, subject: Any) -> dict[str, int]:
        return erase(session, city, subject)

    return innoplat_export_personal_data, innoplat_erase_personal_data


def form_refused(
    idea: Idea, form: FlaskForm | list[str], *, heading: str, message: str
) -> Response:
    """The 400 page of a refused form about an idea (support, follow, comment): ``heading``
    (the page's title), ``message`` (what could not be done, e.g. "We could not record your
    support for KIR-2026-0042:"), each error of ``form`` (or the given messages) and the way
    back to the idea."""
    errors = form_errors(form) if isinstance(form, FlaskForm) else list(form)
    return render(
        "form_refused.html",
        status=400,
        city=idea.city,
        idea=idea,
        heading=heading,
        message=message,
        errors=errors,
    )
