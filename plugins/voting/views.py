"""The voting plugin's pages: the support section of an idea, confirming by e-mail, the ranked list."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from innoplat.core.errors import NotFound, ValidationError
from innoplat.core.models import Idea, Visibility
from innoplat.core.platform import Platform
from innoplat.core.services import ideas as idea_service
from innoplat.core.web.auth import is_staff
from innoplat.core.web.languages import current_locale

from . import supports
from .forms import EmailSupportForm, StaffSupportForm

blueprint = Blueprint("voting", __name__, template_folder="templates", url_prefix="/voting")
PAGE_SIZE = 20
NOTIFICATIONS = "notifications"


def _platform() -> Platform:
    return current_app.extensions["innoplat"]


def email_support_available() -> bool:
    """Residents support with a confirmed e-mail address only where the notifications plugin can mail."""
    return _platform().plugins.has_plugin(NOTIFICATIONS)


def support_section(session, idea: Idea) -> Markup:
    supported = is_staff() and supports.has_supported(
        session, idea, supports.account_supporter(int(current_user.id))
    )
    return Markup(
        render_template(
            "voting/support_section.html",
            idea=idea,
            count=supports.support_count(session, idea),
            staff=is_staff(),
            supported=supported,
            staff_form=StaffSupportForm(),
            email_form=EmailSupportForm(),
            email_available=email_support_available(),
        )
    )


def _public_idea(session, reference: str) -> Idea:
    city = _platform().city_row(session)
    try:
        idea = idea_service.get_idea(session, reference, city=city)
    except NotFound:
        abort(404)
    if idea.visibility is not Visibility.public:
        abort(404)
    return idea


@blueprint.get("/")
def ranking() -> str:
    sort = request.args.get("sort") if request.args.get("sort") in supports.SORTS else "support"
    page = max(1, request.args.get("page", 1, type=int) or 1)
    with _platform().transaction() as session:
        city = _platform().city_row(session)
        ranked = supports.most_supported(
            session, city, sort=sort, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
        total = supports.public_idea_count(session, city)
        return render_template(
            "voting/ranking.html",
            city=city,
            ranked=ranked,
            sort=sort,
            page=page,
            pages=max(1, -(-total // PAGE_SIZE)),
        )


@blueprint.post("/support/<reference>")
def support(reference: str) -> Response:
    with _platform().transaction() as session:
        idea = _public_idea(session, reference)
        target = url_for("public.idea", reference=idea.reference)
        if is_staff():
            if not StaffSupportForm().validate_on_submit():
                abort(400)
            _row, new = supports.support(
                session, idea, supports.account_supporter(int(current_user.id))
            )
            flash(
                _("Thank you for supporting this idea.")
                if new
                else _("You already support this idea.")
            )
            return redirect(target, code=303)
        if not email_support_available():
            abort(404)
        form = EmailSupportForm()
        if not form.validate_on_submit():
            errors = [message for messages in form.errors.values() for message in messages]
            return Response(
                render_template(
                    "voting/support_error.html", city=idea.city, idea=idea, errors=errors
                ),
                status=400,
            )
        _send_confirmation(session, idea, form.email.data)
        flash(
            _(
                "Almost done: we sent a link to %(email)s. Your support is counted when you open it.",
                email=form.email.data,
            )
        )
        return redirect(target, code=303)


def _send_confirmation(session, idea: Idea, email: str) -> None:
    from innoplat.plugins.notifications.outbox import queue_message

    token = supports.confirmation_token(current_app.config["SECRET_KEY"], idea.reference, email)
    link = url_for("voting.confirm", token=token, _external=True)
    platform_name = idea.city.label(current_locale())
    subject = _("Confirm your support for %(reference)s", reference=idea.reference)
    body = "\n".join(
        [
            _("Hello,"),
            "",
            _(
                "Someone (hopefully you) wants to support the idea “%(title)s” on %(platform)s with this e-mail address.",
                title=idea.title,
                platform=platform_name,
            ),
            _("Open this link within a week to confirm your support:"),
            link,
            "",
            _(
                "If it was not you, ignore this e-mail: nothing is counted and your address is not stored."
            ),
        ]
    )
    queue_message(
        session,
        idea.city,
        recipient=email,
        locale=current_locale(),
        subject=subject,
        body=body + "\n",
        kind="voting_confirmation",
        idea=idea,
    )


@blueprint.get("/confirm/<token>")
def confirm(token: str) -> Response:
    try:
        reference, supporter = supports.read_confirmation_token(
            current_app.config["SECRET_KEY"], token
        )
    except ValidationError:
        return Response(render_template("voting/confirm_failed.html"), status=400)
    with _platform().transaction(write=True) as session:  # a GET that writes
        idea = _public_idea(session, reference)
        _row, new = supports.support(session, idea, supporter)
        flash(
            _("Thank you: your support is counted.") if new else _("You already support this idea.")
        )
        target = url_for("public.idea", reference=idea.reference)
    return redirect(target, code=303)
