"""Supporting and following at once: the wish to follow waits with the pending support.

A resident who ticks "Also follow this idea" gets one e-mail with one link. The address is
kept here (``PendingFollow``) under a random key that the support's confirmation link
carries; opening that link proves the address, counts the support and hands the address to
the plugin that keeps followers as a confirmed one (``toolkit.follow_idea(…,
confirmed=True)``), all in one transaction. A wish whose link was never opened is deleted
after the link has expired (``purge_expired``, run daily through the hook
``innoplat_expire_personal_data``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from innoplat.core.models import City, Idea, utcnow
from innoplat.core.toolkit import validation

from .models import PendingFollow
from .supports import TOKEN_MAX_AGE

#: A wish lives as long as the link that carries it (a week).
KEPT = timedelta(seconds=TOKEN_MAX_AGE)


def purge_expired(session: Session, city: City, *, now: datetime | None = None) -> int:
    """Delete the city's wishes whose link can no longer be opened: an unproven address is not
    kept. Run daily by the retention hook (``innoplat persons expire-contacts``, ``innoplat
    worker``), and with every support and confirmation by e-mail (one indexed DELETE)."""
    cutoff = (now or utcnow()) - KEPT
    ideas = select(Idea.id).where(Idea.city_id == city.id)
    result = session.execute(
        delete(PendingFollow)
        .where(PendingFollow.created_at < cutoff, PendingFollow.idea_id.in_(ideas))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def remember(session: Session, idea: Idea, email: str, *, locale: str) -> str:
    """Keep the wish of ``email`` to follow ``idea``; returns the key for the confirmation link."""
    wish = PendingFollow(
        idea_id=idea.id,
        email=validation.email(email, required=True) or "",
        locale=locale,
        key=secrets.token_urlsafe(32),
        created_at=utcnow(),
    )
    session.add(wish)
    session.flush()
    return wish.key


def waiting(session: Session, idea: Idea, key: str | None) -> bool:
    """Whether a confirmation link's wish to follow is still there to be taken."""
    if not key or len(key) > 64:
        return False
    found = session.scalar(
        select(PendingFollow.id).where(
            PendingFollow.key == key,
            PendingFollow.idea_id == idea.id,
            PendingFollow.created_at >= utcnow() - KEPT,
        )
    )
    return found is not None


@dataclass(frozen=True)
class Wish:
    """Who wants to follow, and in which language their e-mails are to be written."""

    email: str
    locale: str


def take(session: Session, idea: Idea, key: str) -> Wish | None:
    """The wish carried by a confirmation link, deleted as it is taken (a link follows once).

    None for an unknown, expired or already taken key, or a key of another idea.
    """
    if not key or len(key) > 64:
        return None
    # One statement: of two clicks at the same moment, one takes the wish and the other finds none.
    taken = session.execute(
        delete(PendingFollow)
        .where(PendingFollow.key == key, PendingFollow.idea_id == idea.id)
        .returning(PendingFollow.email, PendingFollow.locale, PendingFollow.created_at)
    ).first()
    if taken is None or taken.created_at < utcnow() - KEPT:
        return None
    return Wish(taken.email, taken.locale)


# --------------------------------------------------------------------------- data subjects


def _subject_wishes(session: Session, city: City, subject: Any) -> list[PendingFollow]:
    return list(
        session.scalars(
            select(PendingFollow)
            .join(Idea, Idea.id == PendingFollow.idea_id)
            .where(Idea.city_id == city.id, func.lower(PendingFollow.email) == subject.email)
            .order_by(PendingFollow.id)
        )
    )


def export_wishes(session: Session, city: City, subject: Any) -> dict[str, Any]:
    rows = []
    for wish in _subject_wishes(session, city, subject):
        idea = session.get(Idea, wish.idea_id)
        rows.append(
            {
                "idea": idea.reference if idea else None,
                "email": wish.email,
                "locale": wish.locale,
                "at": wish.created_at,
            }
        )
    return {"pending_follows": rows} if rows else {}


def erase_wishes(session: Session, city: City, subject: Any) -> dict[str, int]:
    """The wishes are deleted: the support, if its link is opened later, still counts alone."""
    wishes = _subject_wishes(session, city, subject)
    for wish in wishes:
        session.delete(wish)
    session.flush()
    return {"pending_follows_deleted": len(wishes)}
