"""notifications: e-mail to an idea's submitter and followers when it changes stage, via an outbox."""

from __future__ import annotations

from typing import Any

from innoplat.core import toolkit
from innoplat.core.toolkit import hookimpl

from . import outbox, personal_data, views
from .cli import notifications
from .settings import problems as settings_problems

innoplat_migration_locations = toolkit.migrations_beside(__file__)
innoplat_blueprints = toolkit.blueprints(views.blueprint)


@hookimpl
def innoplat_validate_settings(settings: dict[str, Any]) -> list[str]:
    return settings_problems(settings)


@hookimpl
def innoplat_stage_changed(session, idea, transition) -> None:
    outbox.queue_stage_changed(session, idea, transition)


@hookimpl
def innoplat_send_mail(session, city, recipient, locale, subject, body, kind, idea) -> bool:
    """Other plugins' e-mails (the voting plugin's confirmation links) go through the outbox."""
    outbox.queue_message(
        session,
        city,
        recipient=recipient,
        locale=locale,
        subject=subject,
        body=body,
        kind=kind,
        idea=idea,
    )
    return True


@hookimpl
def innoplat_follow_idea(session, idea, email, locale, confirmed) -> bool:
    """Another plugin's form (the voting plugin's "also follow") asks to follow: double opt-in,
    or, for an address the other plugin has proven (``confirmed``), a confirmed follower at once."""
    outbox.follow(session, idea, email, locale=locale, confirmed=confirmed)
    return True


@hookimpl
def innoplat_idea_sections(session, idea) -> list[Any]:
    return [views.follow_section(session, idea)]


@hookimpl
def innoplat_cli_commands() -> list[Any]:
    return [notifications]


@hookimpl
def innoplat_export_personal_data(session, city, subject) -> dict[str, Any]:
    return personal_data.export(session, city, subject.email)


@hookimpl
def innoplat_erase_personal_data(session, city, subject) -> dict[str, int]:
    return personal_data.erase(session, city, subject.email)


@hookimpl
def innoplat_expire_personal_data(session, city, now) -> int:
    """Followers who did not confirm within a week go, whether or not the outbox is sent."""
    return outbox.purge_unconfirmed(session, city, now=now)
