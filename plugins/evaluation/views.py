"""The evaluation plugin's pages, for the working group: score an idea, the ranked list."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from innoplat.core import toolkit
from innoplat.core.errors import ValidationError
from innoplat.core.models import Idea
from innoplat.core.toolkit import IdeaSection, actor, current_locale, staff_required

from . import scoring
from .forms import score_form, submitted_scores
from .matrix import Matrix, matrix

blueprint = Blueprint("evaluation", __name__, template_folder="templates", url_prefix="/evaluation")
PAGE_SIZE = 50
PLUGIN = "evaluation"


def city_matrix() -> Matrix:
    return matrix(toolkit.settings(PLUGIN))


def score_section(session, idea: Idea) -> IdeaSection | None:
    """The idea's score for the working group; nothing for the public."""
    staff = toolkit.current_staff()
    if staff is None:
        return None
    return toolkit.idea_section(
        "evaluation/score_section.html",
        region="staff",
        order=10,
        idea=idea,
        result=scoring.idea_score(session, idea),
        matrix=city_matrix(),
        locale=current_locale(),
        mine=scoring.scores_by(session, idea, staff.id),
    )


@blueprint.get("/")
@staff_required
def ranked() -> Response:
    with toolkit.platform().transaction() as session:
        city = toolkit.city_row(session)
        total = scoring.evaluated_count(session, city)
        page = toolkit.validation.page_of(request.args.get("page"), total, PAGE_SIZE)
        return toolkit.render(
            "evaluation/ranked.html",
            city=city,
            ranked=scoring.ranking(session, city, limit=PAGE_SIZE, offset=page.offset),
            matrix=city_matrix(),
            locale=current_locale(),
            page=page.number,
            pages=page.count,
            offset=page.offset,
        )


@blueprint.route("/ideas/<reference>", methods=["GET", "POST"])
@staff_required
def score(reference: str) -> Response:
    the_matrix = city_matrix()
    staff = toolkit.current_staff()
    assert staff is not None  # staff_required
    with toolkit.platform().transaction() as session:
        idea = toolkit.idea_or_404(session, reference)
        form = score_form(the_matrix, current_locale(), scoring.scores_by(session, idea, staff.id))
        errors: list[str] = []
        if request.method == "POST":
            if form.validate_on_submit():
                try:
                    with session.begin_nested():
                        scoring.record_scores(
                            session,
                            idea,
                            staff.id,
                            submitted_scores(form, the_matrix),
                            the_matrix,
                            actor=actor(),
                        )
                except ValidationError as error:
                    criterion = the_matrix.criterion(error.field)
                    errors.append(
                        f"{criterion.label(current_locale(), toolkit.city().config.default_locale) if criterion else error.field}: {error.message}"
                    )
                else:
                    flash(_("Your scores of %(reference)s are saved.", reference=idea.reference))
                    return redirect(url_for("evaluation.score", reference=idea.reference), code=303)
            else:
                errors = [
                    _(
                        "Choose a score for “%(criterion)s”.",
                        criterion=getattr(form, name).label.text,
                    )
                    for name in form.errors
                    if name.startswith("criterion_")
                ] or [_("The form had expired. Please fill it in again.")]
        return toolkit.render(
            "evaluation/score.html",
            status=400 if errors else 200,
            city=idea.city,
            idea=idea,
            form=form,
            matrix=the_matrix,
            locale=current_locale(),
            result=scoring.idea_score(session, idea),
            errors=errors,
        )
