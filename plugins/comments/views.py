"""The comments plugin's pages: the discussion on an idea's page, reporting, and moderation."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from innoplat.core import toolkit
from innoplat.core.errors import NotFound, ValidationError
from innoplat.core.models import Idea, Visibility
from innoplat.core.toolkit import IdeaSection, actor, can_edit, editor_required, is_staff

from . import discussion
from .forms import CommentForm, ModerationForm, ReportForm

blueprint = Blueprint("comments", __name__, template_folder="templates", url_prefix="/comments")


def discussion_section(session, idea: Idea) -> IdeaSection:
    moderator = can_edit()
    return toolkit.idea_section(
        "comments/discussion_section.html",
        region="discussion",
        order=10,
        idea=idea,
        comments=discussion.comments_of(session, idea, include_hidden=moderator),
        moderator=moderator,
        staff=is_staff(),
        form=CommentForm(),
        report_form=ReportForm(),
        moderation_form=ModerationForm(),
    )


def _idea_page(reference: str) -> str:
    return url_for("public.idea", reference=reference, _anchor="discussion")


@blueprint.post("/idea/<reference>")
def post(reference: str) -> Response:
    form = CommentForm()
    with toolkit.platform().transaction() as session:
        idea = toolkit.idea_or_404(session, reference, public_only=True)
        errors = toolkit.form_errors(form) if not form.validate_on_submit() else []
        if not errors:
            staff = toolkit.current_staff()
            try:
                with session.begin_nested():
                    discussion.post_comment(
                        session,
                        idea,
                        form.body.data or "",
                        author_name=staff.name if staff else (form.author_name.data or ""),
                        account_id=staff.id if staff else None,
                        actor=actor(),
                    )
            except ValidationError as error:
                errors = [error.message]
        if errors:
            return toolkit.form_refused(
                idea,
                errors,
                heading=_("Discussion"),
                message=_(
                    "We could not post your comment on %(reference)s:", reference=idea.reference
                ),
            )
        flash(_("Thank you for your comment."))
        return redirect(_idea_page(idea.reference), code=303)


def _comment(session, comment_id: int):
    try:
        return discussion.get_comment(session, toolkit.city_row(session), comment_id)
    except NotFound:
        abort(404)


@blueprint.post("/<int:comment_id>/report")
def report(comment_id: int) -> Response:
    form = ReportForm()
    if not form.validate_on_submit():
        abort(400)
    with toolkit.platform().transaction() as session:
        comment = _comment(session, comment_id)
        if comment.hidden or comment.idea.visibility is not Visibility.public:
            abort(404)
        discussion.report_comment(session, comment, form.reason.data or "")
        reference = comment.idea.reference
    flash(_("Thank you. The working group will look at the comment."))
    return redirect(_idea_page(reference), code=303)


@blueprint.post("/<int:comment_id>/hide")
@editor_required
def hide(comment_id: int) -> Response:
    form = ModerationForm()
    if not form.validate_on_submit():
        abort(400)
    with toolkit.platform().transaction() as session:
        comment = _comment(session, comment_id)
        discussion.hide_comment(
            session, comment, actor=actor() or "working group", reason=form.reason.data or ""
        )
        reference = comment.idea.reference
    flash(_("The comment is hidden. It can be restored from the moderation page."))
    return redirect(_idea_page(reference), code=303)


@blueprint.post("/<int:comment_id>/restore")
@editor_required
def restore(comment_id: int) -> Response:
    form = ModerationForm()
    if not form.validate_on_submit():
        abort(400)
    with toolkit.platform().transaction() as session:
        comment = _comment(session, comment_id)
        discussion.restore_comment(session, comment, actor=actor() or "working group")
        reference = comment.idea.reference
    flash(_("The comment is shown again."))
    return redirect(_idea_page(reference), code=303)


@blueprint.get("/moderation")
@editor_required
def moderation() -> Response:
    with toolkit.platform().transaction() as session:
        city = toolkit.city_row(session)
        return toolkit.render(
            "comments/moderation.html",
            city=city,
            comments=discussion.moderation_queue(session, city),
            moderation_form=ModerationForm(),
        )
