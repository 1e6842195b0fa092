"""Supporting ideas: one support per staff account or verified e-mail address, counted per idea."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from innoplat.core.errors import ValidationError
from innoplat.core.models import City, Idea, Visibility, utcnow
from innoplat.core.toolkit import dialect_insert, validation

from .models import Support

TOKEN_SALT = "innoplat.voting.confirm"
TOKEN_MAX_AGE = 7 * 24 * 3600  # a confirmation link works for a week
SORTS = ("support", "newest")


def email_supporter(email: str) -> str:
    """The pseudonymous key of an e-mail address: counts it once without storing it."""
    address = (validation.email(email, required=True) or "").lower()
    return "email:" + hashlib.sha256(address.encode()).hexdigest()


def account_supporter(account_id: int) -> str:
    return f"account:{account_id}"


def support(session: Session, idea: Idea, supporter: str) -> tuple[Support, bool]:
    """Record a support; supporting the same idea again changes nothing. Returns (support, new?)."""
    if idea.visibility is not Visibility.public:
        raise ValidationError("idea", f"{idea.reference} is not public and cannot be supported")
    if idea.city.is_peer:
        raise ValidationError("idea", f"{idea.reference} belongs to a peer platform")
    # One statement: two clicks at the same moment store one support, and neither fails.
    table = Support.__table__
    inserted = session.scalar(
        dialect_insert(session, table)
        .values(
            idea_id=idea.id,
            supporter=supporter,
            kind="staff" if supporter.startswith("account:") else "email",
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=[table.c.idea_id, table.c.supporter])
        .returning(table.c.id)
    )
    row = session.scalars(
        select(Support).where(Support.idea_id == idea.id, Support.supporter == supporter)
    ).one()
    return row, inserted is not None


def support_count(session: Session, idea: Idea) -> int:
    return session.scalar(select(func.count()).where(Support.idea_id == idea.id)) or 0


def support_counts(session: Session, ideas: Sequence[Idea]) -> dict[int, int]:
    """Supports per idea for a page of ideas, in one query; every idea is in the result."""
    ids = [idea.id for idea in ideas]
    if not ids:
        return {}
    counted = session.execute(
        select(Support.idea_id, func.count())
        .where(Support.idea_id.in_(ids))
        .group_by(Support.idea_id)
    )
    return {**dict.fromkeys(ids, 0), **{idea_id: n for idea_id, n in counted}}


def has_supported(session: Session, idea: Idea, supporter: str) -> bool:
    found = session.scalar(
        select(Support.id).where(Support.idea_id == idea.id, Support.supporter == supporter)
    )
    return found is not None


@dataclass(frozen=True)
class RankedIdea:
    idea: Idea
    supports: int


def most_supported(
    session: Session, city: City, *, sort: str = "support", limit: int = 20, offset: int = 0
) -> list[RankedIdea]:
    """The city's public ideas with their support counts, most supported first (or newest first)."""
    counts = (
        select(Support.idea_id, func.count().label("supports")).group_by(Support.idea_id).subquery()
    )
    supports = func.coalesce(counts.c.supports, 0)
    query = (
        select(Idea, supports)
        .outerjoin(counts, counts.c.idea_id == Idea.id)
        .where(Idea.city_id == city.id, Idea.visibility == Visibility.public)
    )
    if sort == "newest":
        query = query.order_by(Idea.submitted_at.desc(), Idea.id.desc())
    else:
        query = query.order_by(supports.desc(), Idea.submitted_at.desc(), Idea.id.desc())
    return [
        RankedIdea(idea, int(n)) for idea, n in session.execute(query.limit(limit).offset(offset))
    ]


def public_idea_count(session: Session, city: City) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                Idea.city_id == city.id, Idea.visibility == Visibility.public
            )
        )
        or 0
    )


# --------------------------------------------------------------------------- e-mail confirmation


def confirmation_token(secret_key: str, reference: str, email: str) -> str:
    """A signed token carrying the idea and the pseudonymous supporter, never the address."""
    serializer = URLSafeTimedSerializer(secret_key, salt=TOKEN_SALT)
    return serializer.dumps({"idea": reference, "supporter": email_supporter(email)})


def read_confirmation_token(
    secret_key: str, token: str, *, max_age: int = TOKEN_MAX_AGE
) -> tuple[str, str]:
    """(idea reference, supporter) from a token; ValidationError if it is forged or too old."""
    serializer = URLSafeTimedSerializer(secret_key, salt=TOKEN_SALT)
    try:
        data = serializer.loads(token, max_age=max_age)
    except SignatureExpired:
        raise ValidationError(
            "token", "the confirmation link has expired; support the idea again"
        ) from None
    except BadSignature:
        raise ValidationError("token", "the confirmation link is not valid") from None
    return str(data["idea"]), str(data["supporter"])
