"""Supporting ideas: one support per staff account or verified e-mail address, counted per idea."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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


#: A supporter key of 0.1.0: the unsalted SHA-256 of the address (guessable for a known address).
LEGACY_PREFIX = "email:"
#: The key since: HMAC-SHA256, under the instance secret, of that same SHA-256 of the address.
KEYED_PREFIX = "email-hmac:"
ANONYMISED_PREFIX = "anonymised:"


def _address(email: str) -> str:
    return (validation.email(email, required=True) or "").lower()


def _keyed(secret_key: str, digest: str) -> str:
    if not secret_key:
        raise ValidationError("secret", "supports by e-mail need the instance secret")
    return KEYED_PREFIX + hmac.new(secret_key.encode(), digest.encode(), hashlib.sha256).hexdigest()


def email_supporter(email: str, secret_key: str) -> str:
    """The pseudonymous key of an e-mail address: counts it once without storing it.

    A keyed hash (HMAC with the instance secret): without the secret, nobody holding the
    database can tell whether a known address supported an idea. It is keyed over the
    address's plain SHA-256 so the keys of 0.1.0 can be converted without the addresses
    (``rekey_legacy_supports``).
    """
    return _keyed(secret_key, hashlib.sha256(_address(email).encode()).hexdigest())


def legacy_supporter(email: str) -> str:
    """The 0.1.0 key of an address, still found by erasure until ``rekey-supports`` has run."""
    return LEGACY_PREFIX + hashlib.sha256(_address(email).encode()).hexdigest()


def rekey_legacy_supports(session: Session, secret_key: str) -> int:
    """Convert every unsalted 0.1.0 key into the keyed one; a duplicate counts once. Idempotent."""
    converted = 0
    legacy = session.scalars(select(Support).where(Support.supporter.startswith(LEGACY_PREFIX)))
    for row in list(legacy):
        keyed = _keyed(secret_key, row.supporter.removeprefix(LEGACY_PREFIX))
        if has_supported_id(session, row.idea_id, keyed):
            session.delete(row)
        else:
            row.supporter = keyed
        converted += 1
    session.flush()
    return converted


def has_supported_id(session: Session, idea_id: int, supporter: str) -> bool:
    found = session.scalar(
        select(Support.id).where(Support.idea_id == idea_id, Support.supporter == supporter)
    )
    return found is not None


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


@dataclass(frozen=True)
class Confirmation:
    """What a confirmation link carries: the idea, the pseudonymous supporter and, when the
    resident also asked to follow, the key of that wish (``following.take``)."""

    reference: str
    supporter: str
    follow: str | None = None


def confirmation_token(
    secret_key: str, reference: str, email: str, *, follow: str | None = None
) -> str:
    """A signed token carrying the idea and the pseudonymous supporter, never the address;
    ``follow`` is the key of a wish to follow (``following.remember``) kept with the support."""
    serializer = URLSafeTimedSerializer(secret_key, salt=TOKEN_SALT)
    data = {"idea": reference, "supporter": email_supporter(email, secret_key)}
    if follow is not None:
        data["follow"] = follow
    return serializer.dumps(data)


def read_confirmation_token(
    secret_key: str, token: str, *, max_age: int = TOKEN_MAX_AGE
) -> Confirmation:
    """What a token carries; ValidationError if it is forged or too old."""
    serializer = URLSafeTimedSerializer(secret_key, salt=TOKEN_SALT)
    try:
        data = serializer.loads(token, max_age=max_age)
    except SignatureExpired:
        raise ValidationError(
            "token", "the confirmation link has expired; support the idea again"
        ) from None
    except BadSignature:
        raise ValidationError("token", "the confirmation link is not valid") from None
    follow = data.get("follow")
    return Confirmation(
        str(data["idea"]), str(data["supporter"]), str(follow) if follow is not None else None
    )


# --------------------------------------------------------------------------- data subjects


def _subject_keys(subject: Any) -> list[str]:
    keys = [account_supporter(i) for i in subject.account_ids]
    keys.append(legacy_supporter(subject.email))
    if subject.secret:
        keys.append(email_supporter(subject.email, subject.secret))
    return keys


def _subject_supports(session: Session, city: City, subject: Any) -> list[Support]:
    return list(
        session.scalars(
            select(Support)
            .join(Idea, Idea.id == Support.idea_id)
            .where(Idea.city_id == city.id, Support.supporter.in_(_subject_keys(subject)))
            .order_by(Support.id)
        )
    )


def export_supports(session: Session, city: City, subject: Any) -> dict[str, Any]:
    ids = [s.id for s in _subject_supports(session, city, subject)]
    found = session.execute(
        select(Idea.reference, Support.kind, Support.created_at)
        .join(Idea, Idea.id == Support.idea_id)
        .where(Support.id.in_(ids or [-1]))
        .order_by(Support.id)
    ).all()
    rows = [{"idea": ref, "kind": kind, "at": at} for ref, kind, at in found]
    return {"supports": rows} if rows else {}


def erase_supports(session: Session, city: City, subject: Any) -> dict[str, int]:
    """A support keeps counting for its idea, but nothing links it to the person any more."""
    rows = _subject_supports(session, city, subject)
    for row in rows:
        row.supporter = ANONYMISED_PREFIX + secrets.token_hex(16)
    session.flush()
    return {"supports_unlinked": len(rows)}
