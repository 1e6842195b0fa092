"""What the notifications plugin stores about a person: followed ideas and e-mails to them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from innoplat.core.models import City, Idea

from .models import Follower, MessageStatus, OutboxMessage


def _followers(session: Session, city: City, email: str) -> list[Follower]:
    return list(
        session.scalars(
            select(Follower)
            .join(Idea, Idea.id == Follower.idea_id)
            .where(Idea.city_id == city.id, func.lower(Follower.email) == email)
            .order_by(Follower.id)
        )
    )


def _messages(session: Session, city: City, email: str) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.city_id == city.id, func.lower(OutboxMessage.recipient) == email)
            .order_by(OutboxMessage.id)
        )
    )


def export(session: Session, city: City, email: str) -> dict[str, Any]:
    followed = []
    for follower in _followers(session, city, email):
        idea = session.get(Idea, follower.idea_id)
        followed.append(
            {
                "idea": idea.reference if idea else None,
                "email": follower.email,
                "locale": follower.locale,
                "since": follower.created_at,
                "confirmed_at": follower.confirmed_at,
            }
        )
    messages = [
        {
            "kind": m.kind,
            "recipient": m.recipient,
            "subject": m.subject,
            "body": m.body,
            "status": m.status.value,
            "created_at": m.created_at,
            "sent_at": m.sent_at,
        }
        for m in _messages(session, city, email)
    ]
    if not followed and not messages:
        return {}
    return {"followed_ideas": followed, "emails": messages}


def erase(session: Session, city: City, email: str) -> dict[str, int]:
    """Followers are deleted; every e-mail to the address goes too, pending ones unsent."""
    followers = _followers(session, city, email)
    for follower in followers:
        session.delete(follower)
    messages = _messages(session, city, email)
    pending = sum(1 for m in messages if m.status is MessageStatus.pending)
    if messages:
        session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_([m.id for m in messages])))
    session.flush()
    return {
        "followers": len(followers),
        "pending_emails_dropped": pending,
        "emails_deleted": len(messages) - pending,
    }
