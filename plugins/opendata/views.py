"""The open data pages: /opendata/ lists the exports, the files are served beside it."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, stream_with_context, url_for

from innoplat.core import toolkit
from innoplat.core.models import utcnow

from . import exports

blueprint = Blueprint("opendata", __name__, template_folder="templates", url_prefix="/opendata")
LICENSE = "https://creativecommons.org/publicdomain/zero/1.0/"


def _idea_url(reference: str) -> str:
    return toolkit.external_url("public.idea", reference=reference)


def _stream(produce, mimetype: str, filename: str) -> Response:
    """Stream an export from its own session: the response outlives the view function."""
    platform = toolkit.platform()

    def generate():
        with platform.sessions() as session:
            city = platform.city_row(session)
            yield from produce(session, city)

    response = Response(stream_with_context(generate()), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Access-Control-Allow-Origin"] = "*"  # open data: readable from any site
    return response


@blueprint.get("/")
def index() -> Response:
    with toolkit.platform().transaction() as session:
        city = toolkit.city_row(session)
        return toolkit.render(
            "opendata/index.html",
            city=city,
            api=url_for("api.index") if "api.index" in current_app.view_functions else None,
            license=LICENSE,
            fields=exports.IDEA_FIELDS,
        )


@blueprint.get("/ideas.csv")
def ideas_csv() -> Response:
    slug = toolkit.platform().city.slug
    return _stream(
        lambda session, city: exports.ideas_csv(session, city, _idea_url),
        "text/csv; charset=utf-8",
        f"{slug}-ideas.csv",
    )


@blueprint.get("/ideas.json")
def ideas_json() -> Response:
    slug = toolkit.platform().city.slug
    meta = {
        "city": slug,
        "generated_at": toolkit.timestamp(utcnow()),
        "license": LICENSE,
        "fields": list(exports.IDEA_FIELDS),
    }
    return _stream(
        lambda session, city: exports.ideas_json(session, city, _idea_url, meta),
        "application/json",
        f"{slug}-ideas.json",
    )


@blueprint.get("/popolo.json")
def popolo() -> Response:
    with toolkit.platform().transaction() as session:
        city = toolkit.city_row(session)
        data = exports.popolo(session, city, base=toolkit.external_url("opendata.index"))
    response = Response(json.dumps(data, ensure_ascii=False, indent=1), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{city.slug}-popolo.json"'
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
