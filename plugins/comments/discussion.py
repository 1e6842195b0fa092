"""Discussing ideas: posting comments (sanitised), reporting them, hiding and restoring them."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import nh3
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from innoplat.core.errors import NotFound, ValidationError
from innoplat.core.models import City, Idea, Visibility, utcnow
from innoplat.core.toolkit import record_audit

from .models import Comment, CommentReport

BODY_MAX = 5000
NAME_MAX = 120
REASON_MAX = 500
ALLOWED_TAGS = {"p", "br", "em", "strong", "a", "ul", "ol", "li", "blockquote", "code"}


def sanitise(text: str) -> str:
    """A comment's text as safe HTML: paragraphs and line breaks kept, scripts and styles gone.

    Text is treated as text (``<`` stays a character); nh3 is the defence that holds even if the
    paragraph building below ever let markup through.
    """
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    built = "".join("<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)
    return nh3.clean(
        built,
        tags=ALLOWED_TAGS,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def post_comment(
    session: Session,
    idea: Idea,
    body: str,
    *,
    author_name: str = "",
    account_id: int | None = None,
    actor: str | None = None,
) -> Comment:
    """Add a comment to a public idea's discussion."""
    if idea.visibility is not Visibility.public:
        raise ValidationError(
            "idea", f"{idea.reference} is not public: it has no public discussion"
        )
    if idea.city.is_peer:
        raise ValidationError("idea", f"{idea.reference} belongs to a peer platform")
    text = (body or "").strip()
    if not text:
        raise ValidationError("body", "is required")
    if len(text) > BODY_MAX:
        raise ValidationError(
            "body", f"is {len(text)} characters long; at most {BODY_MAX} are allowed"
        )
    name = (author_name or "").strip()
    if len(name) > NAME_MAX:
        raise ValidationError("author_name", f"is longer than {NAME_MAX} characters")
    comment = Comment(
        idea_id=idea.id,
        account_id=account_id,
        author_name=name,
        body=sanitise(text),
        created_at=utcnow(),
        hidden_reason="",
    )
    session.add(comment)
    return _audited(
        session,
        comment,
        idea.city_id,
        "posted",
        actor or (name or "anonymous"),
        after={"idea": idea.reference},
    )


def get_comment(session: Session, city: City, comment_id: int) -> Comment:
    comment = session.scalar(
        select(Comment)
        .join(Idea, Idea.id == Comment.idea_id)
        .where(Comment.id == comment_id, Idea.city_id == city.id)
    )
    if comment is None:
        raise NotFound(f"no comment {comment_id}")
    return comment


def comments_of(session: Session, idea: Idea, *, include_hidden: bool = False) -> list[Comment]:
    query = (
        select(Comment).where(Comment.idea_id == idea.id).order_by(Comment.created_at, Comment.id)
    )
    if not include_hidden:
        query = query.where(Comment.hidden_at.is_(None))
    return list(session.scalars(query.options(selectinload(Comment.reports))))


def comment_counts(session: Session, ideas: Sequence[Idea]) -> dict[int, int]:
    """Visible comments per idea for a page of ideas, in one query; ideas without any are left out."""
    ids = [idea.id for idea in ideas]
    if not ids:
        return {}
    counted = session.execute(
        select(Comment.idea_id, func.count())
        .where(Comment.idea_id.in_(ids), Comment.hidden_at.is_(None))
        .group_by(Comment.idea_id)
    )
    return {idea_id: n for idea_id, n in counted}


def report_comment(session: Session, comment: Comment, reason: str = "") -> CommentReport:
    """Anyone may flag a comment; it stays visible until the working group decides."""
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise ValidationError("reason", f"is longer than {REASON_MAX} characters")
    report = CommentReport(comment_id=comment.id, reason=reason, created_at=utcnow())
    session.add(report)
    session.flush()
    return report


def _resolve_reports(comment: Comment) -> None:
    now = utcnow()
    for report in comment.reports:
        report.resolved_at = report.resolved_at or now


def _city_id(session: Session, comment: Comment) -> int | None:
    return session.scalar(select(Idea.city_id).where(Idea.id == comment.idea_id))


def _audited(
    session: Session,
    comment: Comment,
    city_id: int | None,
    action: str,
    actor: str,
    **change: Any,
) -> Comment:
    """The comment stored and what happened to it in the audit trail (``before``/``after``)."""
    session.flush()
    record_audit(
        session,
        city_id=city_id,
        entity_type="comment",
        entity_id=comment.id,
        action=action,
        actor=actor,
        **change,
    )
    return comment


def _moderated(
    session: Session, comment: Comment, action: str, actor: str, **change: Any
) -> Comment:
    """A moderation decision: the comment's open reports are closed by it, and it is audited."""
    _resolve_reports(comment)
    return _audited(session, comment, _city_id(session, comment), action, actor, **change)


def hide_comment(session: Session, comment: Comment, *, actor: str, reason: str = "") -> Comment:
    """Hide a comment from the public page (kept for the record and restorable); audited."""
    if comment.hidden:
        return comment
    comment.hidden_at = utcnow()
    comment.hidden_by = actor
    comment.hidden_reason = (reason or "").strip()[:REASON_MAX]
    return _moderated(session, comment, "hidden", actor, after={"reason": comment.hidden_reason})


def restore_comment(session: Session, comment: Comment, *, actor: str) -> Comment:
    """Show a hidden comment again (or keep a reported one and close its reports); audited."""
    before = {"hidden": comment.hidden, "reason": comment.hidden_reason}
    comment.hidden_at = None
    comment.hidden_by = None
    comment.hidden_reason = ""
    return _moderated(session, comment, "restored", actor, before=before)


def moderation_queue(session: Session, city: City) -> list[Comment]:
    """Comments with open reports, and hidden ones: what the working group looks at."""
    open_reports = select(CommentReport.comment_id).where(CommentReport.resolved_at.is_(None))
    query = (
        select(Comment)
        .join(Idea, Idea.id == Comment.idea_id)
        .where(Idea.city_id == city.id)
        .where((Comment.id.in_(open_reports)) | (Comment.hidden_at.is_not(None)))
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .options(selectinload(Comment.reports))
    )
    return list(session.scalars(query))


def open_report_count(session: Session, city: City) -> int:
    query = (
        select(func.count(func.distinct(CommentReport.comment_id)))
        .join(Comment, Comment.id == CommentReport.comment_id)
        .join(Idea, Idea.id == Comment.idea_id)
        .where(Idea.city_id == city.id, CommentReport.resolved_at.is_(None))
    )
    return session.scalar(query) or 0
