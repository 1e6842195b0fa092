"""The audit trail: who changed what, when, with the values before and after."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import AuditEvent, City, Idea, Membership, Organisation, Person
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


#: The audit trail's name for each kind of a city's records whose changes it keeps.
ENTITY_TYPES: dict[type, str] = {
    City: "city",
    Idea: "idea",
    Membership: "membership",
    Organisation: "organisation",
    Person: "person",
}


def record_for(
    session: Session,
    entity: City | Idea | Membership | Organisation | Person,
    action: str,
    *,
    actor: str | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record a change of one of a city's records; its kind, id and city are read from it."""
    if isinstance(entity, City):
        city_id = entity.id
    elif isinstance(entity, Membership):
        city_id = entity.organisation.city_id
    else:
        city_id = entity.city_id
    return record(
        session,
        city_id=city_id,
        entity_type=ENTITY_TYPES[type(entity)],
        entity_id=entity.id,
        action=action,
        actor=actor,
        before=before,
        after=after,
    )


def history(session: Session, entity_type: str, entity_id: int) -> list[AuditEvent]:
    """Every recorded change of one entity, oldest first."""
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
            .order_by(AuditEvent.at, AuditEvent.id)
        )
    )
