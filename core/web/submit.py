"""Submitting an idea without an account: form, preview, and a receipt with the idea's reference."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from wtforms import Field

from ..errors import ValidationError
from ..models import InitiatorKind
from ..services import ideas as idea_service
from . import auth, city_texts, labels
from .current import platform
from .forms import IdeaForm
from .languages import current_locale
from .rendering import markdown

blueprint = Blueprint("submit", __name__)
RECEIPTS = "innoplat.receipts"


def _form(city: object) -> IdeaForm:
    form = IdeaForm()
    form.focus_areas.choices = [(a.key, city_texts.name(a)) for a in city.focus_areas]  # type: ignore[attr-defined]
    form.initiator_kind.choices = labels.choices(InitiatorKind)
    return form


@blueprint.route("/ideas/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    with platform().transaction() as db:
        city = platform().city_row(db)
        form = _form(city)
        draft = {
            "title": form.title.data or "",
            "summary": form.summary.data or "",
            "description": form.description.data or "",
        }
        preview = None
        sections: list[object] = []
        if request.method == "POST" and form.validate():
            if form.send.data:
                try:
                    with db.begin_nested():  # a refused submission leaves nothing behind
                        idea = idea_service.submit_idea(
                            db,
                            city,
                            title=draft["title"],
                            summary=draft["summary"],
                            description=draft["description"],
                            origin_channel="web",
                            initiator_kind=form.initiator_kind.data or "citizen",
                            focus_areas=list(form.focus_areas.data or []),
                            submitter=idea_service.Submitter(
                                name=form.name.data,
                                email=form.email.data,
                                consent=bool(form.consent.data),
                                locale=current_locale(),
                            ),
                            actor=auth.actor() or "web form",
                        )
                except ValidationError as error:
                    _field_error(form, error)
                else:
                    reference = idea.reference
                    # Only the browser that sent the idea sees its receipt page.
                    session[RECEIPTS] = [*session.get(RECEIPTS, [])[-9:], reference]
                    return redirect(url_for("submit.receipt", reference=reference))
            else:
                preview = {
                    "title": draft["title"],
                    "summary": draft["summary"],
                    "description": markdown(draft["description"]),
                    "focus_areas": [
                        label
                        for key, label in form.focus_areas.choices
                        if key in (form.focus_areas.data or [])
                    ],  # type: ignore[union-attr]
                }
                sections = [
                    fragment
                    for fragments in platform().hooks.innoplat_submission_sections(
                        session=db, city=city, draft=draft
                    )
                    for fragment in (fragments or [])
                ]
        status = 400 if form.errors else 200
        return render_template(
            "ideas/new.html", city=city, form=form, preview=preview, sections=sections
        ), status


def _field_error(form: IdeaForm, error: ValidationError) -> None:
    """A service's verdict shown beside the field it names (or above the form)."""
    field = getattr(form, error.field, None)
    if isinstance(field, Field):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(f"{error.field}: {error.message}")


@blueprint.get("/ideas/<reference>/receipt")
def receipt(reference: str) -> ResponseReturnValue:
    if reference not in session.get(RECEIPTS, []):
        return redirect(url_for("public.idea", reference=reference))
    with platform().transaction() as db:
        city = platform().city_row(db)
        idea = idea_service.get_idea(db, reference, city=city)
        return render_template("ideas/receipt.html", city=city, idea=idea)
