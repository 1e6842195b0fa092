"""The comments plugin's tables: comments on ideas and reports of comments to moderate."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from innoplat.core.models import Base, Idea, utcnow


class Comment(Base):
    """A comment in an idea's discussion; ``body`` is sanitised HTML (nh3), safe to show as is."""

    __tablename__ = "comments_comment"
    __table_args__ = (Index("ix_comments_comment_idea_created", "idea_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(120), default="")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: Set while the working group hides the comment; a hidden comment is kept, not deleted.
    hidden_at: Mapped[datetime | None] = mapped_column(DateTime)
    hidden_by: Mapped[str | None] = mapped_column(String(200))
    hidden_reason: Mapped[str] = mapped_column(String(500), default="")

    idea: Mapped[Idea] = relationship()
    reports: Mapped[list[CommentReport]] = relationship(
        back_populates="comment", cascade="all, delete-orphan", order_by="CommentReport.id"
    )

    @property
    def hidden(self) -> bool:
        return self.hidden_at is not None


class CommentReport(Base):
    """Someone flagged a comment for the working group to look at."""

    __tablename__ = "comments_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments_comment.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: Set when a moderator has dealt with the report (hid or restored the comment).
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)

    comment: Mapped[Comment] = relationship(back_populates="reports")
