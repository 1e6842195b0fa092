"""The voting plugin's pages: the support section of an idea, confirming by e-mail, the ranked list."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from innoplat.core import toolkit
from innoplat.core.errors import ValidationError
from innoplat.core.models import Idea
from innoplat.core.toolkit import IdeaSection, current_locale, external_url

from . import following, supports
from .forms import ConfirmSupportForm, EmailSupportForm, StaffSupportForm

blueprint = Blueprint("voting", __name__, template_folder="templates", url_prefix="/voting")
PAGE_SIZE = 20


def email_support_available() -> bool:
    """Residents support with a confirmed e-mail address only where a plugin (notifications) can mail."""
    return toolkit.mail_available()


def support_section(session, idea: Idea) -> IdeaSection:
    staff = toolkit.current_staff()
    supported = staff is not None and supports.has_supported(
        session, idea, supports.account_supporter(staff.id)
    )
    return toolkit.idea_section(
        "voting/support_section.html",
        region="actions",
        order=10,
        idea=idea,
        count=supports.support_count(session, idea),
        staff=staff is not None,
        supported=supported,
        staff_form=StaffSupportForm(),
        email_form=EmailSupportForm(),
        email_available=email_support_available(),
        follow_available=toolkit.following_available(),
    )


@blueprint.get("/")
def ranking() -> Response:
    asked = request.args.get("sort", "")
    sort = asked if asked in supports.SORTS else "support"
    with toolkit.platform().transaction() as session:
        city = toolkit.city_row(session)
        total = supports.public_idea_count(session, city)
        page = toolkit.validation.page_of(request.args.get("page"), total, PAGE_SIZE)
        ranked = supports.most_supported(
            session, city, sort=sort, limit=PAGE_SIZE, offset=page.offset
        )
        return toolkit.render(
            "voting/ranking.html",
            city=city,
            ranked=ranked,
            sort=sort,
            page=page.number,
            pages=page.count,
        )


@blueprint.post("/support/<reference>")
def support(reference: str) -> Response:
    with toolkit.platform().transaction() as session:
        idea = toolkit.idea_or_404(session, reference, public_only=True)
        target = url_for("public.idea", reference=idea.reference)
        staff = toolkit.current_staff()
        if staff is not None:
            if not StaffSupportForm().validate_on_submit():
                abort(400)
            _row, new = supports.support(session, idea, supports.account_supporter(staff.id))
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
            return toolkit.form_refused(
                idea,
                form,
                heading=_("Support"),
                message=_(
                    "We could not record your support for %(reference)s:", reference=idea.reference
                ),
            )
        following.purge_expired(session, idea.city)
        follow = form.follow.data and toolkit.following_available()
        # One address typed once, one e-mail, one link: opening it proves the address, so it
        # counts the support and starts the following alike.
        wish = (
            following.remember(session, idea, form.email.data, locale=current_locale())
            if follow
            else None
        )
        _send_confirmation(session, idea, form.email.data, follow=wish)
        if follow:
            flash(
                _(
                    "Almost done: we sent a link to %(email)s. Once you open it, your support is counted and you follow %(reference)s.",
                    email=form.email.data,
                    reference=idea.reference,
                )
            )
        else:
            flash(
                _(
                    "Almost done: we sent a link to %(email)s. Your support is counted when you open it.",
                    email=form.email.data,
                )
            )
        return redirect(target, code=303)


def _send_confirmation(session, idea: Idea, email: str, *, follow: str | None) -> None:
    token = supports.confirmation_token(
        current_app.config["SECRET_KEY"], idea.reference, email, follow=follow
    )
    link = external_url("voting.confirm", token=token)
    platform_name = idea.city.label(current_locale())
    values = {"title": idea.title, "platform": platform_name, "reference": idea.reference}
    if follow is None:
        subject = _("Confirm your support for %(reference)s", **values)
        lines = [
            _(
                "Someone (hopefully you) wants to support the idea “%(title)s” on %(platform)s with this e-mail address.",
                **values,
            ),
            _("Open this link within a week to confirm your support:"),
            link,
            "",
            _(
                "If it was not you, ignore this e-mail: nothing is counted and your address is not stored."
            ),
        ]
    else:
        subject = _("Confirm your support for %(reference)s and follow it", **values)
        lines = [
            _(
                "Someone (hopefully you) wants to support the idea “%(title)s” on %(platform)s with this e-mail address, and to get an e-mail when it changes stage.",
                **values,
            ),
            _(
                "Open this link within a week to confirm: your support is counted and you follow the idea, both at once."
            ),
            link,
            "",
            _(
                "If it was not you, ignore this e-mail: nothing is counted, nothing is sent to you, and your address is deleted within a week."
            ),
        ]
    toolkit.send_mail(
        session,
        idea.city,
        recipient=email,
        locale=current_locale(),
        subject=subject,
        body="\n".join([_("Hello,"), "", *lines]) + "\n",
        kind="voting_confirmation",
        idea=idea,
    )


def _confirmation(token: str) -> supports.Confirmation | None:
    try:
        return supports.read_confirmation_token(current_app.config["SECRET_KEY"], token)
    except ValidationError:
        return None


@blueprint.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str) -> Response:
    """The link in the confirmation e-mail: it asks first, and the confirming POST counts the
    support (and starts the following it carries). Mail scanners open links; they do not
    press buttons."""
    confirmation = _confirmation(token)
    if confirmation is None:
        return toolkit.render("voting/confirm_failed.html", status=400)
    form = ConfirmSupportForm()
    with toolkit.platform().transaction() as session:
        idea = toolkit.idea_or_404(session, confirmation.reference, public_only=True)
        follow = toolkit.following_available() and following.waiting(
            session, idea, confirmation.follow
        )
        if not form.validate_on_submit():
            return toolkit.render(
                "voting/confirm.html",
                status=400 if request.method == "POST" else 200,
                city=idea.city,
                idea=idea,
                form=form,
                follow=follow,
            )
        following.purge_expired(session, idea.city)
        _row, new = supports.support(session, idea, confirmation.supporter)
        wish = following.take(session, idea, confirmation.follow or "")
        followed = (
            toolkit.follow_idea(session, idea, email=wish.email, locale=wish.locale, confirmed=True)
            if wish is not None and follow
            else False
        )
        if followed:
            flash(
                _(
                    "Thank you: your support is counted, and you now follow %(reference)s. We will e-mail you when it changes stage.",
                    reference=idea.reference,
                )
            )
        else:
            flash(
                _("Thank you: your support is counted.")
                if new
                else _("You already support this idea.")
            )
        target = url_for("public.idea", reference=idea.reference)
    return redirect(target, code=303)
