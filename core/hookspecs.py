"""The plugin API: every hook a plugin may implement, documented (reference: docs/hooks.md).

Implement a hook by defining a function of the same name decorated with ``hookimpl``::

    from innoplat.core.hookspecs import hookimpl

    @hookimpl
    def innoplat_idea_submitted(session, idea):
        ...

A plugin needs to accept only the parameters it uses. Hooks only ever gain optional
parameters, so a plugin written today keeps working. Unless a hook says otherwise, every
implementation is called and the results are collected in a list (pluggy's default), in
the one precedence order of docs/hooks.md: the city's local plugin
(``cities/<slug>/plugin.py``) first, then the enabled plugins in the order the city lists
them. Plugins import innoplat through ``innoplat.core.toolkit``, which re-exports ``hookimpl``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # hookspecs.py imports nothing at run time: it never takes part in a cycle.
    from datetime import datetime

    import click
    from flask import Flask
    from sqlalchemy.orm import Session

    from .config import CityDefinition
    from .models import City, Idea, MethodApplication, StageTransition
    from .services.persons import DataSubject

PROJECT = "innoplat"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# --------------------------------------------------------------------------- configuration


@hookspec
def innoplat_validate_settings(settings: dict[str, Any], city: CityDefinition) -> list[str] | None:
    """Check this plugin's settings from ``[plugins.<name>]`` in the city's city.toml.

    Called once per enabled plugin when a city is loaded, and only on the plugin whose
    settings they are.

    :param settings: the plugin's table from city.toml (empty when the city gives none).
    :param city: the city being loaded.
    :return: a list of problems, each naming the key and what is expected
        (e.g. ``"criteria[0].weight: expected a number between 0 and 1"``);
        an empty list or None when the settings are fine.
    """


@hookspec
def innoplat_migration_locations() -> list[str] | str | None:
    """Folders of Alembic revisions holding this plugin's own tables.

    Called by ``innoplat init`` before upgrading the database. A plugin's revisions form their
    own branch (``branch_labels = ("<plugin>",)``, ``depends_on = "0001_core"``).

    :return: an absolute folder path, a list of them, or None.
    """


# --------------------------------------------------------------------------- catalogue


@hookspec
def innoplat_methods() -> list[dict[str, Any]] | None:
    """Contribute innovation methods to the shared catalogue.

    Called when a city is initialised (``innoplat init``) to synchronise the catalogue.
    Keys are stable across cities: comparisons group by them.

    :return: a list of dicts with ``key``, ``name`` ({locale: text}), ``description``
        ({locale: text}), ``category``, ``phases`` (canonical phases), optional
        ``guide_steps`` and ``reference`` (a public URL).
    """


# --------------------------------------------------------------------------- lifecycle events


@hookspec
def innoplat_idea_submitted(session: Session, idea: Idea) -> None:
    """A new idea was submitted (web form, CLI, API or import of one's own city).

    Called inside the submitting transaction after the idea is flushed: raising aborts
    the submission and nothing is stored.

    :param session: the database session of the use case; add rows to it, never commit.
    :param idea: the new idea, with its reference and first stage.
    """


@hookspec
def innoplat_stage_changed(session: Session, idea: Idea, transition: StageTransition) -> None:
    """An idea moved to another stage of the city's workflow.

    Called inside the moving transaction; raising aborts the move.

    :param session: the database session of the use case.
    :param idea: the idea, already in its new stage.
    :param transition: the recorded transition (``from_stage``, ``to_stage``, ``note``, ``actor``).
    """


@hookspec
def innoplat_method_applied(session: Session, idea: Idea, application: MethodApplication) -> None:
    """A method was applied to an idea, or the outcome of an application was recorded.

    Called inside the transaction; raising aborts it.

    :param session: the database session of the use case.
    :param idea: the idea the method was applied to.
    :param application: the method application with its ``method`` and ``outcome``.
    """


# --------------------------------------------------------------------------- mail


@hookspec(firstresult=True)
def innoplat_send_mail(
    session: Session,
    city: City,
    recipient: str,
    locale: str,
    subject: str,
    body: str,
    kind: str,
    idea: Idea | None,
) -> bool | None:
    """Send an e-mail for core or another plugin (the voting plugin's confirmation links).

    Called by ``innoplat.core.toolkit.send_mail`` inside the caller's transaction; the first
    implementation that returns True has taken the message and no other is called. The
    ``notifications`` plugin implements it with its outbox, so the mail goes out only if the
    transaction commits.

    :param session: the database session of the use case.
    :param city: the city the message is sent for.
    :param recipient: the e-mail address.
    :param locale: the language the subject and body are written in.
    :param subject: the subject line.
    :param body: the plain-text body.
    :param kind: a short word saying what the message is for (``voting_confirmation``).
    :param idea: the idea the message is about, or None.
    :return: True when this plugin took the message; None to let the next one try.
    """


@hookspec(firstresult=True)
def innoplat_follow_idea(
    session: Session, idea: Idea, email: str, locale: str, confirmed: bool
) -> bool | None:
    """Someone asks, on another plugin's form, for e-mail about an idea's progress.

    Called by ``innoplat.core.toolkit.follow_idea`` inside the caller's transaction (the voting
    plugin's "also follow this idea" box on its support form, so a citizen types their address
    once); the first implementation that returns True has taken the request. The
    ``notifications`` plugin implements it with its double opt-in: it mails a confirmation
    link, and nothing else is sent until the address's owner opens it — unless the caller
    has already proven the address (``confirmed``).

    :param session: the database session of the use case.
    :param idea: the public idea to follow.
    :param email: the address, as typed (validated again by the implementation).
    :param locale: the language the person's e-mails are to be written in.
    :param confirmed: True when the caller has proven that the address is its owner's (the
        owner opened a link mailed to it: the voting plugin calls at the confirmation of a
        support): record a confirmed follower at once, without a confirmation e-mail of
        one's own. Added in 0.2.0 (an optional parameter): an implementation that does not
        declare it is still called and confirms the address its own way, as before.
    :return: True when this plugin took the request; None to let the next one try.
    """


# --------------------------------------------------------------------------- comparison


@hookspec
def innoplat_comparison_metrics() -> list[Any] | None:
    """Contribute metrics to the cross-city comparison of methods.

    Called when a comparison is computed (``compare_methods``, ``innoplat compare``,
    the /compare page).

    :return: a list of ``innoplat.core.toolkit.Metric`` objects: a key, a label,
        a function computing rows by SQL aggregates, and the metric's audience —
        ``"public"`` (the default: anyone may see it) or ``"staff"`` (only a city's own
        signed-in staff, for their city alone). The compute function receives ``visible``, a
        condition on ``Idea`` keeping the ideas the reader may count, and must add it to its
        query; one that takes no ``visible`` parameter is shown to staff only.
    """


# --------------------------------------------------------------------------- web


@hookspec
def innoplat_blueprints(app: Flask) -> list[Any] | None:
    """Contribute Flask blueprints to the city's web platform.

    Called once by ``create_app`` after the core blueprints are registered.

    :param app: the Flask application being built.
    :return: a list of ``flask.Blueprint`` objects (their templates folders are searched
        after the city's and before core's, in the order the city lists the plugins; every
        POST to them is rate-limited per visitor).
    """


@hookspec
def innoplat_navigation(city: CityDefinition) -> list[dict[str, Any]] | None:
    """Contribute entries to the site's main navigation.

    Called when a page is rendered.

    :param city: the city the page belongs to.
    :return: a list of dicts with ``endpoint`` (a Flask endpoint), ``label`` (a lazily
        translated string), optional ``order`` (an int; core entries use 10, 20, …) and
        optional ``audience``: ``"public"`` (the default, the main menu) or ``"staff"`` (the
        working group's menu, shown only to signed-in staff).
    """


@hookspec
def innoplat_template_context(city: CityDefinition) -> dict[str, Any] | None:
    """Add variables to every template's context.

    Called when a page is rendered.

    :param city: the city the page belongs to.
    :return: a dict merged into the context; where two plugins give the same name, the
        first in precedence wins (the city's plugin, then the plugin listed first).
    """


@hookspec
def innoplat_idea_sections(session: Session, idea: Idea) -> list[Any] | None:
    """Add sections to an idea's public page (support counts, discussion, follow buttons…).

    Called when the idea page is rendered, in the request's transaction.

    :param session: the database session of the request.
    :param idea: the idea shown.
    :return: a list of sections, each placed in a region of the page:
        ``innoplat.core.toolkit.IdeaSection`` objects (made with
        ``toolkit.idea_section(template, region=…, order=…)``) — ``"actions"`` (what a citizen
        can do, grouped near the top beside the idea's facts), ``"details"`` (below the
        description), ``"discussion"`` (below the details) or ``"staff"`` (last); a bare
        ``markupsafe.Markup`` fragment goes to ``"details"``. Within a region, sections come by
        their ``order`` (lower first), then in precedence order (the city's own plugin, then
        the enabled plugins in the order the city lists them).
    """


@hookspec
def innoplat_idea_card_facts(session: Session, ideas: list[Idea]) -> dict[int, list[str]] | None:
    """Add short facts (supports, comments…) to the cards that list ideas.

    Called once per rendered list of ideas (home page, idea list, organisation and method
    pages), in the request's transaction: count for all ``ideas`` in one query.

    :param session: the database session of the request.
    :param ideas: the ideas on the cards.
    :return: a dict from an idea's id to short translated texts such as "12 supports"; each
        card shows them in hook-call order (the city's own plugin, then enabled plugins from
        the last listed to the first).
    """


@hookspec
def innoplat_submission_sections(
    session: Session, city: City, draft: dict[str, Any]
) -> list[Any] | None:
    """Add sections to the preview shown while someone writes an idea (e.g. similar ideas).

    Called when the submission form's preview is rendered.

    :param session: the database session of the request.
    :param city: the city the idea is being written for.
    :param draft: the fields typed so far (``title``, ``summary``, ``description``).
    :return: a list of ``markupsafe.Markup`` fragments shown beside the preview.
    """


# --------------------------------------------------------------------------- command line


@hookspec
def innoplat_cli_commands() -> list[click.Command] | None:
    """Contribute commands to the ``innoplat`` command line.

    Called when the ``innoplat`` command starts; every installed plugin is asked, whichever
    city is chosen, so ``innoplat --help`` lists them all.

    :return: a list of ``click.Command`` objects (or groups).
    """


# --------------------------------------------------------------------------- personal data


@hookspec
def innoplat_export_personal_data(
    session: Session, city: City, subject: DataSubject
) -> dict[str, Any] | None:
    """Contribute what this plugin stores about a person to their data export (GDPR Art. 15).

    Called by ``innoplat persons export`` and the admins' persons page, inside one
    transaction, on every installed plugin (a disabled plugin's rows are still someone's data).

    :param session: the database session of the request; read only.
    :param city: the city the request is made to; export only rows of this city.
    :param subject: the person: ``email`` (lower-cased), ``names`` they are known by,
        ``account_ids`` of their staff accounts here, ``person_ids`` of their person records,
        and ``keyed_hash(purpose)`` for data stored under a keyed hash of the address.
    :return: a dict of sections (e.g. ``{"followed_ideas": [...]}``) holding JSON-ready
        values (dates are written as ISO text), or None when the plugin stores nothing
        about the person.
    """


@hookspec
def innoplat_erase_personal_data(
    session: Session, city: City, subject: DataSubject
) -> dict[str, int] | None:
    """Remove or anonymise what this plugin stores about a person (GDPR Art. 17).

    Called by ``innoplat persons erase`` and the admins' persons page, inside one
    transaction, on every installed plugin, before core anonymises the person's own records
    (so ``subject.account_ids`` and ``subject.person_ids`` still lead to their rows). Keep
    what the platform's records need, with the person replaced by "anonymised"; delete the
    rest. Raising aborts the erasure and nothing is changed.

    :param session: the database session of the request; change rows, never commit.
    :param city: the city the request is made to; change only rows of this city.
    :param subject: the person, as for ``innoplat_export_personal_data``.
    :return: how many rows of each kind were deleted or anonymised (e.g. ``{"followers": 2}``),
        shown to the staff member and kept in the audit trail; None when nothing was stored.
    """


@hookspec
def innoplat_expire_personal_data(session: Session, city: City, now: datetime) -> int | None:
    """Delete what this plugin keeps about people past the time it promised to keep it.

    Called by ``innoplat persons expire-contacts`` and by ``innoplat worker`` (daily by
    default), inside one transaction with core's own retention, on every installed plugin (a
    disabled plugin's rows still expire), for one city at a time. Added in 0.2.0 (a new hook):
    a plugin that keeps an address only for a while (an unconfirmed follower, a wish waiting
    for its link) deletes it here, so the promise holds even when nobody uses the plugin.
    Raising aborts the whole expiry and nothing is changed.

    :param session: the database session of the use case; delete or change rows, never commit.
    :param city: the city whose rows expire; change only rows of this city.
    :param now: the moment to measure ages against (UTC, naive, as the models store times).
    :return: how many records were removed or anonymised; None when the plugin keeps nothing
        that expires.
    """
