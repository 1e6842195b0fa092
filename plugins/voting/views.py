"""The voting plugin's pages: the support section of an idea, confirming by e-mail, the ranked list."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from innoplat.core import toolkit
from innoplat.core.errors import ValidationError
from innoplat.core.models import Idea
from innoplat.core.toolkit import IdeaSection, current_locale, external_url

from . import supports
from .forms import EmailSupportForm, StaffSupportForm

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
        _send_confirmation(session, idea, form.email.data)
        if form.follow.data and toolkit.following_available():
            # One address typed once; following is confirmed by its own link (double opt-in).
            toolkit.follow_idea(session, idea, email=form.email.data, locale=current_locale())
            flash(
                _(
                    "Almost done: we sent two links to %(email)s. Your support is counted when you open the first; you follow %(reference)s once you open the second.",
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


def _send_confirmation(session, idea: Idea, email: str) -> None:
    token = supports.confirmation_token(current_app.config["SECRET_KEY"], idea.reference, email)
    link = external_url("voting.confirm", token=token)
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
    toolkit.send_mail(
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
        return toolkit.render("voting/confirm_failed.html", status=400)
    with toolkit.platform().transaction(write=True) as session:  # a GET that writes
        idea = toolkit.idea_or_404(session, reference, public_only=True)
        _row, new = supports.support(session, idea, supporter)
        flash(
            _("Thank you: your support is counted.") if new else _("You already support this idea.")
        )
        target = url_for("public.idea", reference=idea.reference)
    return redirect(target, code=303)
