"""What the comments plugin stores about a person: the comments they signed or wrote signed in."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from innoplat.core.models import City, Idea

from .models import Comment


def _comments(session: Session, city: City, *conditions: Any) -> list[Comment]:
    """The city's comments meeting any of ``conditions``."""
    return list(
        session.scalars(
            select(Comment)
            .join(Idea, Idea.id == Comment.idea_id)
            .where(Idea.city_id == city.id, or_(*conditions))
            .order_by(Comment.id)
        )
    )


def _theirs(session: Session, city: City, subject: Any) -> list[Comment]:
    """Comments they wrote signed in, or signed with one of their names."""
    return _comments(
        session,
        city,
        Comment.account_id.in_(list(subject.account_ids)),
        subject.signed(Comment.author_name),
    )


def _mentioning(session: Session, city: City, subject: Any) -> list[Comment]:
    """Comments anyone wrote that hold the address in their text or moderation record."""
    return _comments(
        session, city, subject.address_in(Comment.body), subject.address_in(Comment.hidden_by)
    )


def export(session: Session, city: City, subject: Any) -> dict[str, Any]:
    comments = [
        {
            "idea": c.idea.reference,
            "signed": c.author_name,
            "body_html": c.body,
            "created_at": c.created_at,
            "hidden": c.hidden,
        }
        for c in _theirs(session, city, subject)
    ]
    return {"comments": comments} if comments else {}


def erase(session: Session, city: City, subject: Any) -> dict[str, int]:
    """Their comments stay in the discussion, unsigned; an address in any comment's text goes."""
    theirs = _theirs(session, city, subject)
    for comment in theirs:
        comment.author_name = ""
        comment.account_id = None
    mentioning = _mentioning(session, city, subject)
    for comment in mentioning:
        comment.body = subject.scrub(comment.body)
        if subject.mentions(comment.hidden_by):
            comment.hidden_by = "anonymised"
    session.flush()
    return {"comments_unsigned": len(theirs), "comments_scrubbed": len(mentioning)}
