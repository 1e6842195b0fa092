"""The audit trail: who changed what, when, with the values before and after."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import AuditEvent


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
        actor=actor or "system",
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
