"""The voting plugin's tables: one support per person and idea; wishes to follow awaiting a link."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from innoplat.core.models import Base, utcnow


class Support(Base):
    """A resident's or staff member's support for an idea.

    ``supporter`` is ``account:<id>`` for a signed-in staff account, or ``email-hmac:<hex>``, a
    keyed hash of a verified e-mail address: the address itself is never stored, only enough to
    count it once (``email:<sha256>`` is the unkeyed form of 0.1.0, converted by
    ``innoplat voting rekey-supports``; ``anonymised:<random>`` a support whose person was erased).
    """

    __tablename__ = "voting_support"
    __table_args__ = (UniqueConstraint("idea_id", "supporter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"), index=True)
    supporter: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))  # "staff" or "email"
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class PendingFollow(Base):
    """A resident's wish to follow an idea, kept with the pending support until its link is opened.

    Ticking "Also follow this idea" on the support form stores the address here and puts
    ``key`` into the support's confirmation link: one e-mail, one link. Opening it counts the
    support and hands the address, now proven, to the plugin that keeps followers; the row
    is deleted then, and is deleted unopened once the link has expired (a week).
    """

    __tablename__ = "voting_pending_follow"

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(16))
    #: A random secret carried by the confirmation link (never the address itself).
    key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
