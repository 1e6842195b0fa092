"""The admins' page for data subjects' requests: export (GDPR Art. 15) or erase (Art. 17) a person."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, current_app, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ..errors import ValidationError
from ..platform import Platform
from ..services import persons
from ..services.serialisation import json_default
from . import auth
from .forms import DataSubjectForm

blueprint = Blueprint("persons", __name__)


def platform() -> Platform:
    return current_app.extensions["innoplat"]


@blueprint.route("/data-subjects", methods=["GET", "POST"])
@auth.staff_required
def requests() -> ResponseReturnValue:
    if not getattr(current_user, "is_admin", False):
        abort(403)
    form = DataSubjectForm()
    erased: dict[str, int] | None = None
    subject = None
    if form.validate_on_submit():
        try:
            subject = persons.data_subject(
                form.email.data or "",
                names=(form.name.data or "",),
                secret=current_app.config["SECRET_KEY"],
            )
        except ValidationError as error:
            form.email.errors = [error.message]
    if subject is not None:
        if form.erase.data and not form.confirm.data:
            form.confirm.errors = [_("Tick this box to erase: it cannot be undone.")]
        else:
            with platform().transaction() as session:
                city = platform().city_row(session)
                if form.erase.data:
                    erased = persons.erase_personal_data(session, city, subject, actor=auth.actor())
                else:
                    document = persons.export_personal_data(
                        session, city, subject, actor=auth.actor()
                    )
                    text = json.dumps(document, ensure_ascii=False, indent=2, default=json_default)
                    response = Response(text + "\n", mimetype="application/json")
                    response.headers["Content-Disposition"] = (
                        f'attachment; filename="personal-data-{city.slug}.json"'
                    )
                    response.headers["Cache-Control"] = "no-store"
                    return response
    with platform().transaction() as session:
        city = platform().city_row(session)
        status = 400 if form.errors else 200
        return render_template(
            "work/data_subjects.html", city=city, form=form, erased=erased
        ), status
