"""The notifications plugin's pages: following an idea from its page."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from innoplat.core import toolkit
from innoplat.core.models import Idea
from innoplat.core.toolkit import IdeaSection, current_locale

from . import outbox
from .forms import FollowForm, UnfollowForm
from .models import Follower

blueprint = Blueprint(
    "notifications", __name__, template_folder="templates", url_prefix="/notifications"
)


def follow_section(session, idea: Idea) -> IdeaSection:
    return toolkit.idea_section(
        "notifications/follow_section.html",
        region="actions",
        order=20,
        idea=idea,
        form=FollowForm(),
        followers=outbox.follower_count(session, idea),
    )


def _link_page(
    token: str, template: str, act: Callable[[Session, Follower, Idea], Response]
) -> Response:
    """The page a link in an e-mail opens: it asks first, and ``act`` runs on the confirming POST
    (mail scanners open links; they do not press buttons). A token of no follower of this
    city's ideas is a 404."""
    form = UnfollowForm()
    with toolkit.platform().transaction() as session:
        city = toolkit.city_row(session)
        follower = outbox.follower_by_token(session, token)
        idea = session.get(Idea, follower.idea_id) if follower is not None else None
        if follower is None or idea is None or idea.city_id != city.id:
            return toolkit.render("notifications/unfollowed.html", status=404, city=city, idea=None)
        if form.validate_on_submit():
            return act(session, follower, idea)
        return toolkit.render(template, city=city, idea=idea, form=form)


@blueprint.route("/unfollow/<token>", methods=["GET", "POST"])
def unfollow(token: str) -> Response:
    """The link in every follower's e-mail."""

    def stop(session: Session, follower: Follower, idea: Idea) -> Response:
        outbox.unfollow(session, follower)
        return toolkit.render("notifications/unfollowed.html", city=idea.city, idea=idea)

    return _link_page(token, "notifications/unfollow.html", stop)


@blueprint.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str) -> Response:
    """The link in the confirmation e-mail."""

    def start(session: Session, follower: Follower, idea: Idea) -> Response:
        outbox.confirm_follower(session, follower)
        flash(
            _(
                "You now follow %(reference)s. We will e-mail you when it changes stage.",
                reference=idea.reference,
            )
        )
        return redirect(url_for("public.idea", reference=idea.reference), code=303)

    return _link_page(token, "notifications/confirm.html", start)


@blueprint.post("/follow/<reference>")
def follow(reference: str) -> Response:
    form = FollowForm()
    with toolkit.platform().transaction() as session:
        idea = toolkit.idea_or_404(session, reference, public_only=True)
        if not form.validate_on_submit():
            return toolkit.form_refused(
                idea,
                form,
                heading=_("Follow this idea"),
                message=_(
                    "We could not register you as a follower of %(reference)s:",
                    reference=idea.reference,
                ),
            )
        outbox.follow(
            session,
            idea,
            form.email.data,
            locale=current_locale(),  # the visitor's language: their e-mails come in it
        )
        # The same words whether or not the address already follows: nobody learns who does.
        flash(
            _(
                "Almost done: we sent a link to %(email)s. You follow %(reference)s once you open it.",
                email=form.email.data,
                reference=idea.reference,
            )
        )
        target = url_for("public.idea", reference=idea.reference)
    return redirect(target, code=303)
