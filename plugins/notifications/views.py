"""The notifications plugin's pages: following an idea from its page."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.wrappers import Response

from innoplat.core.errors import NotFound
from innoplat.core.models import Idea, Visibility
from innoplat.core.services import ideas as idea_service
from innoplat.core.web.languages import current_locale

from . import outbox
from .forms import FollowForm, UnfollowForm

blueprint = Blueprint(
    "notifications", __name__, template_folder="templates", url_prefix="/notifications"
)


def follow_section(session, idea: Idea) -> Markup:
    return Markup(
        render_template(
            "notifications/follow_section.html",
            idea=idea,
            form=FollowForm(),
            followers=outbox.follower_count(session, idea),
        )
    )


@blueprint.route("/unfollow/<token>", methods=["GET", "POST"])
def unfollow(token: str) -> Response | str:
    """The link in every follower's e-mail; asks before deleting (mail scanners open links)."""
    platform = current_app.extensions["innoplat"]
    form = UnfollowForm()
    with platform.transaction() as session:
        city = platform.city_row(session)
        follower = outbox.follower_by_token(session, token)
        idea = session.get(Idea, follower.idea_id) if follower is not None else None
        if follower is None or idea is None or idea.city_id != city.id:
            return Response(
                render_template("notifications/unfollowed.html", city=city, idea=None), status=404
            )
        if form.validate_on_submit():
            outbox.unfollow(session, follower)
            return render_template("notifications/unfollowed.html", city=city, idea=idea)
        return render_template("notifications/unfollow.html", city=city, idea=idea, form=form)


@blueprint.post("/follow/<reference>")
def follow(reference: str) -> Response:
    platform = current_app.extensions["innoplat"]
    form = FollowForm()
    with platform.transaction() as session:
        city = platform.city_row(session)
        try:
            idea = idea_service.get_idea(session, reference, city=city)
        except NotFound:
            abort(404)
        if idea.visibility is not Visibility.public:
            abort(404)
        if not form.validate_on_submit():
            errors = [message for messages in form.errors.values() for message in messages]
            return Response(
                render_template(
                    "notifications/follow_error.html", city=city, idea=idea, errors=errors
                ),
                status=400,
            )
        outbox.follow(
            session,
            idea,
            form.email.data,
            locale=current_locale(),  # the visitor's language: their e-mails come in it
        )
        flash(
            _(
                "You now follow %(reference)s. We will e-mail you when it changes stage.",
                reference=idea.reference,
            )
        )
        target = url_for("public.idea", reference=idea.reference)
    return redirect(target, code=303)
