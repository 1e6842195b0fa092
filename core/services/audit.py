"""The audit trail: who changed what, when, with the values before and after."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import AuditEvent
from ..validation import column_length, text

#: How long the name of whoever made a change may be (the audit trail's column).
ACTOR_MAX = column_length(AuditEvent.actor) or 200


def actor_label(name: str, email: str) -> str:
    """How a staff account is named in the audit trail: ``Name <address>``, always fitting.

    New accounts cannot have a name too long for it (see ``accounts.create_account``); an
    older one is shortened with an ellipsis rather than failing every change its owner makes.
    """
    label = f"{name} <{email}>"
    if len(label) <= ACTOR_MAX:
        return label
    room = ACTOR_MAX - len(email) - 4
    return f"{name[:room]}… <{email}>" if room > 0 else label[:ACTOR_MAX]


def record(
    session: Session,
    *,
    city_id: int | None,
    entity_type: str,
    entity_id: int | None,
    action: str,
    actor: str | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        city_id=city_id,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        actor=text(actor, "actor", maximum=ACTOR_MAX) or "system",
        before=before,
        after=after,
    )
    session.add(event)
    return event


def history(session: Session, entity_type: str, entity_id: int) -> list[AuditEvent]:
    """Every recorded change of one entity, oldest first."""
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
            .order_by(AuditEvent.at, AuditEvent.id)
        )
    )
