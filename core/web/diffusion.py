"""Practices that travel, on the web: the diffusion view and adopting another city's idea here.

``/compare/diffusion`` lists who adopted what from whom, when and how far each got, with each
city's diffusion figures (public ideas only). Editors also see ideas other cities implemented
that this city has not adopted yet, each with an *Adopt here* button that creates a local idea
linked back to it. An idea's own page shows where it came from and where it was adopted.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from ..errors import NotFound, ValidationError
from ..models import IMPLEMENTED_PHASES, City, Idea, StageTransition, Visibility
from ..services import diffusion
from . import auth, city_texts
from .compare import figure, platform
from .forms import ConfirmForm

blueprint = Blueprint("diffusion", __name__)
#: How many not yet adopted ideas of other cities the view offers editors.
CANDIDATES = 20


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    app.context_processor(lambda: {"idea_adoptions": _idea_adoptions})


def _idea_adoptions(idea: Idea) -> dict[str, Any]:
    """For the idea page: the public idea it was adopted from, and public adoptions of it."""
    with platform().transaction() as session:
        source = None
        if idea.reused_from_reference:
            source = session.scalar(
                select(Idea).where(
                    Idea.reference == idea.reused_from_reference,
                    Idea.visibility == Visibility.public,
                )
            )
        found = session.get(Idea, idea.id)
        adopted = [
            i
            for i in (diffusion.adoptions_of(session, found) if found else [])
            if i.visibility == Visibility.public
        ]
        cities = {c.id: city_texts.name(c) for c in session.scalars(select(City))}
        return {
            "source": None
            if source is None
            else {
                "reference": source.reference,
                "city": cities[source.city_id],
                "phase": source.phase,
            },
            "adopted": [
                {"reference": i.reference, "city": cities[i.city_id], "phase": i.phase}
                for i in adopted
            ],
        }


def _candidates(session: Any, city: City) -> list[Idea]:
    implemented = select(StageTransition.idea_id).where(
        StageTransition.to_phase.in_(IMPLEMENTED_PHASES)
    )
    taken = select(Idea.reused_from_reference).where(
        Idea.city_id == city.id, Idea.reused_from_reference.is_not(None)
    )
    return list(
        session.scalars(
            select(Idea)
            .where(
                Idea.city_id != city.id,
                Idea.visibility == Visibility.public,
                Idea.id.in_(implemented),
                Idea.reference.not_in(taken),
            )
            .order_by(Idea.submitted_at.desc(), Idea.id.desc())
            .limit(CANDIDATES)
        )
    )


@blueprint.get("/compare/diffusion")
def view() -> str:
    with platform().transaction() as session:
        city = platform().city_row(session)
        cities = {c.id: city_texts.name(c) for c in session.scalars(select(City))}
        return render_template(
            "compare/diffusion.html",
            adoptions=diffusion.adoptions(session, public_only=True),
            figures=diffusion.diffusion_figures(session, public_only=True),
            candidates=_candidates(session, city) if auth.can_edit() else [],
            city_names=cities,
            figure=figure,
            form=ConfirmForm(),
        )


@blueprint.post("/compare/diffusion/adopt/<reference>")
@auth.editor_required
def adopt(reference: str) -> ResponseReturnValue:
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    with platform().transaction() as session:
        try:
            idea = diffusion.adopt_idea(
                session, platform().city_row(session), reference, actor=auth.actor()
            )
        except NotFound:
            abort(404)
        except ValidationError as error:
            flash(error.message, "error")
            return redirect(url_for("diffusion.view"))
        new_reference = idea.reference
    flash(_("Adopted here as %(reference)s.", reference=new_reference), "success")
    return redirect(url_for("public.idea", reference=new_reference))
