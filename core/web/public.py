"""Public pages: the city's home page and its ideas."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from ..errors import NotFound
from ..models import Visibility
from ..platform import Platform
from ..services import ideas as idea_service

blueprint = Blueprint("public", __name__)


def platform() -> Platform:
    return current_app.extensions["innoplat"]


@blueprint.get("/")
def home() -> str:
    with platform().transaction() as session:
        city = platform().city_row(session)
        recent = idea_service.list_ideas(session, city, idea_service.IdeaFilter(public_only=True), limit=20)
        funnel = idea_service.funnel(session, city, public_only=True)
        return render_template("home.html", city=city, ideas=recent, funnel=funnel)


@blueprint.get("/ideas/<reference>")
def idea(reference: str) -> str:
    with platform().transaction() as session:
        city = platform().city_row(session)
        try:
            found = idea_service.get_idea(session, reference, city=city)
        except NotFound:
            abort(404)
        if found.visibility is not Visibility.public:
            abort(404)
        return render_template("idea.html", city=city, idea=found)
