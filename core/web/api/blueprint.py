"""The public JSON API ``/api/v1/…``: ideas, stages, methods, organisations and figures.

Read-only views over the services, public data only. Every error under ``/api/v1`` is JSON
(``{"error": {"status": 400, "message": "…", "field": "per_page"}}``), including unknown
addresses and wrong methods, which Flask reports before any view of this blueprint runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import or_, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, selectinload
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge
from werkzeug.routing import RequestRedirect

from ... import db, validation
from ...errors import ConflictError, InnoplatError, NotFound, ReadOnlyError, ValidationError
from ...models import (
    PHASE_ORDER,
    City,
    FocusArea,
    Idea,
    Method,
    Organisation,
    OriginChannel,
    Stage,
    Visibility,
)
from ...services import actors, figures, methods
from ...services import ideas as idea_service
from ...services.evidence.analysis import EVIDENCE_KEYS, method_evidence
from ...services.serialisation import timestamp
from ..current import platform
from . import openapi, serializers

PREFIX = "/api/v1"
PER_PAGE_DEFAULT = 20
PER_PAGE_MAX = 100
QUERY_MAX = 200
#: How long clients and proxies may reuse a response (seconds); ETags make revalidation cheap.
MAX_AGE = 60

log = logging.getLogger(__name__)
blueprint = Blueprint("api", __name__, url_prefix=PREFIX)


# ---------------------------------------------------------------------------- errors


def error_response(
    status: int, message: str, field: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    response = jsonify({"error": {"status": status, "message": message, "field": field}})
    response.status_code = status
    response.headers.update(headers or {})
    return response


@blueprint.before_app_request
def _routing_errors() -> Response | None:
    """Unknown addresses and wrong methods under /api/v1 answer in JSON, not an HTML page."""
    error = request.routing_exception
    if error is None or isinstance(error, RequestRedirect):
        return None
    if request.path != PREFIX and not request.path.startswith(PREFIX + "/"):
        return None
    if isinstance(error, MethodNotAllowed):
        allowed = sorted(error.valid_methods or [])
        return error_response(
            405,
            f"{request.method} is not allowed here; use {', '.join(allowed)}",
            headers={"Allow": ", ".join(allowed)},
        )
    if isinstance(error, HTTPException):
        return error_response(
            error.code or 404, f"nothing at {request.path}; see {PREFIX}/openapi.json"
        )
    return None


@blueprint.errorhandler(ValidationError)
def _invalid(error: ValidationError) -> Response:
    return error_response(400, error.message, error.field)


@blueprint.errorhandler(NotFound)
def _not_found(error: NotFound) -> Response:
    return error_response(404, str(error))


@blueprint.errorhandler(ReadOnlyError)
def _read_only(error: ReadOnlyError) -> Response:
    return error_response(403, str(error))


@blueprint.errorhandler(ConflictError)
def _conflict(error: ConflictError) -> Response:
    return error_response(409, str(error))


@blueprint.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    headers = (
        {"Allow": ", ".join(error.valid_methods or [])}
        if isinstance(error, MethodNotAllowed)
        else None
    )
    if isinstance(error, RequestEntityTooLarge):
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        return error_response(413, f"the request body is larger than the {limit} bytes accepted")
    return error_response(error.code or 500, error.description or error.name, headers=headers)


@blueprint.errorhandler(IntegrityError)
def _lost_race(error: IntegrityError) -> Response:
    if not db.is_unique_violation(error):
        return _internal_error(error)
    log.warning("concurrent write refused on %s: %s", request.path, error.orig)
    return error_response(
        409,
        "someone else saved the same thing at the same moment; nothing was changed, please try again",
    )


@blueprint.errorhandler(OperationalError)
@blueprint.errorhandler(PoolTimeout)
def _database_down(error: Exception) -> Response:
    log.error("database unavailable: %s", error)
    return error_response(503, "the database is unavailable; please try again in a few minutes")


@blueprint.errorhandler(DBAPIError)
def _database_error(error: DBAPIError) -> Response:
    """As the pages: a dropped connection or tables missing since start-up are a 503."""
    if error.connection_invalidated or db.is_missing_schema(error):
        return _database_down(error)
    return _internal_error(error)


@blueprint.errorhandler(InnoplatError)
@blueprint.errorhandler(Exception)
def _internal_error(error: Exception) -> Response:
    log.exception("unhandled error on %s: %s", request.path, error)
    return error_response(500, "an error occurred on our side; it has been logged")


@blueprint.after_request
def _caching(response: Response) -> Response:
    """Cache-Control and an ETag on successful reads; If-None-Match gets a 304."""
    if request.method == "GET" and response.status_code == 200 and "ETag" not in response.headers:
        response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
        response.add_etag()
        response.make_conditional(request)
    return response


# ---------------------------------------------------------------------------- parameters


class Arguments:
    """A request's query parameters, checked one by one; a bad one is a 400 naming it."""

    def __init__(self, allowed: tuple[str, ...]) -> None:
        unknown = sorted(set(request.args) - set(allowed) - {"lang"})
        if unknown:
            known = ", ".join(sorted({*allowed, "lang"}))
            raise ValidationError(unknown[0], f"is not a parameter here (parameters: {known})")

    def text(self, name: str, maximum: int = 100) -> str | None:
        return validation.optional_text(request.args.get(name), name, maximum=maximum)

    def integer(self, name: str, default: int | None, minimum: int, maximum: int) -> int | None:
        return validation.integer(
            request.args.get(name), name, minimum=minimum, maximum=maximum, default=default
        )

    def choice(self, name: str, choices: list[str], default: str | None = None) -> str | None:
        value = self.text(name)
        if value is None:
            return default
        if value not in choices:
            raise ValidationError(name, f"{value!r} is not one of {', '.join(choices)}")
        return value


def language(city: City) -> str:
    """The language of names in the response: ``lang`` if the city offers it, else its default."""
    lang = request.args.get("lang", "").strip()
    if not lang:
        return city.default_locale
    locales = list(city.locales or [city.default_locale])
    if lang not in locales:
        raise ValidationError(
            "lang", f"{lang!r} is not a language of {city.slug} ({', '.join(locales)})"
        )
    return lang


def _known(session: Session, name: str, value: str | None, query: Any, what: str) -> str | None:
    if value is not None and session.scalar(query.limit(1)) is None:
        raise ValidationError(name, f"{value!r} is not {what}")
    return value


def _idea_filter(session: Session, city: City, args: Arguments) -> idea_service.IdeaFilter:
    stage = args.text("stage")
    focus = args.text("focus_area")
    method = args.text("method")
    organisation = args.text("organisation")
    _known(
        session,
        "stage",
        stage,
        select(Stage.id).where(Stage.city_id == city.id, Stage.key == stage),
        f"a stage of {city.slug} (see {PREFIX}/stages)",
    )
    _known(
        session,
        "focus_area",
        focus,
        select(FocusArea.id).where(FocusArea.city_id == city.id, FocusArea.key == focus),
        f"a focus area of {city.slug}",
    )
    _known(
        session,
        "method",
        method,
        select(Method.id).where(
            or_(Method.key == method, Method.shared_key == method),
            or_(Method.city_id.is_(None), Method.city_id == city.id),
        ),
        f"a method (see {PREFIX}/methods)",
    )
    _known(
        session,
        "organisation",
        organisation,
        select(Organisation.id).where(
            Organisation.city_id == city.id, Organisation.key == organisation
        ),
        f"an organisation of {city.slug} (see {PREFIX}/organisations)",
    )
    return idea_service.IdeaFilter(
        stage=stage,
        phase=args.choice("phase", PHASE_ORDER),
        focus_area=focus,
        sdg=args.integer("sdg", None, 1, 17),
        method=method,
        organisation=organisation,
        origin_channel=args.choice("origin_channel", [c.value for c in OriginChannel]),
        text=args.text("q", QUERY_MAX),
        public_only=True,
        sort=args.choice("sort", list(idea_service.SORTS), "relevance") or "relevance",
    )


IDEA_LIST_PARAMETERS = (
    "q", "stage", "phase", "focus_area", "sdg", "method", "organisation", "origin_channel",
    "sort", "page", "per_page",
)  # fmt: skip


def _read(view: Callable[[Session, City], Any]) -> Any:
    with platform().transaction() as session:
        return jsonify(view(session, platform().city_row(session)))


# ---------------------------------------------------------------------------- views


@blueprint.get("")
@blueprint.get("/")
def index() -> Any:
    """The city this API serves, and where its resources are."""

    def view(session: Session, city: City) -> dict[str, Any]:
        Arguments(())
        return {
            "city": serializers.city(city, language(city)),
            "links": {
                name: f"{PREFIX}/{name}"
                for name in (
                    "ideas",
                    "stages",
                    "methods",
                    "organisations",
                    "figures",
                    "evidence",
                    "openapi.json",
                )
            },
        }

    return _read(view)


@blueprint.get("/openapi.json")
def openapi_document() -> Any:
    """The OpenAPI 3.1 description of this API."""
    Arguments(())
    return jsonify(openapi.document())


@blueprint.get("/ideas")
def ideas() -> Any:
    """Public ideas, narrowed like the ideas page, full-text searchable, one page at a time."""

    def view(session: Session, city: City) -> dict[str, Any]:
        args = Arguments(IDEA_LIST_PARAMETERS)
        lang = language(city)
        filters = _idea_filter(session, city, args)
        page = args.integer("page", 1, 1, validation.PAGE_MAX) or 1
        per_page = args.integer("per_page", PER_PAGE_DEFAULT, 1, PER_PAGE_MAX) or PER_PAGE_DEFAULT
        total = idea_service.count_ideas(session, city, filters)
        query = (
            idea_service.ideas_query(city, filters)
            .options(
                selectinload(Idea.stage),
                selectinload(Idea.focus_areas),
                selectinload(Idea.sdg_links),
                selectinload(Idea.owner_organisation),
            )
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
        return {
            "items": [serializers.idea_summary(i, lang, city) for i in session.scalars(query)],
            "total": total,
            "page": page,
            "per_page": per_page,
            "pages": (total + per_page - 1) // per_page,
        }

    return _read(view)


@blueprint.get("/ideas/<reference>")
def idea(reference: str) -> Any:
    """One public idea with its stage history, methods, participations, focus areas and SDGs."""

    def view(session: Session, city: City) -> dict[str, Any]:
        Arguments(())
        lang = language(city)
        found = idea_service.get_idea(session, reference, city=city)
        if found.visibility is not Visibility.public:
            # The same answer as for a reference that does not exist: nothing leaks.
            raise NotFound(f"no idea with reference {reference!r}")
        return serializers.idea_detail(found, lang, city)

    return _read(view)


@blueprint.get("/stages")
def stages() -> Any:
    """The city's workflow: its stages with their canonical phase and allowed next stages."""

    def view(session: Session, city: City) -> dict[str, Any]:
        Arguments(())
        lang = language(city)
        rows = session.scalars(
            select(Stage).where(Stage.city_id == city.id).order_by(Stage.position)
        )
        return {
            "items": [serializers.stage(s, lang, city) for s in rows],
            "phases": serializers.phases(),
        }

    return _read(view)


@blueprint.get("/methods")
def method_list() -> Any:
    """The shared method catalogue and the city's local methods."""

    def view(session: Session, city: City) -> dict[str, Any]:
        Arguments(())
        lang = language(city)
        return {
            "items": [
                serializers.method(m, lang, city) for m in methods.list_methods(session, city)
            ]
        }

    return _read(view)


@blueprint.get("/methods/<key>")
def method(key: str) -> Any:
    """One method, and how its applications to the city's public ideas turned out."""

    def view(session: Session, city: City) -> dict[str, Any]:
        Arguments(())
        lang = language(city)
        found = methods.get_method(session, key, city)
        used, implemented = figures.method_usage(session, city, found)
        return {
            **serializers.method(found, lang, city),
            "ideas": used,
            "implemented": implemented,
            "outcomes": methods.outcomes(session, city, found, public_only=True),
            "local_methods": [
                serializers.method_ref(m, lang, city)
                for m in methods.list_methods(session, city)
                if m.city_id is not None and m.shared_key == found.key and m.key != found.key
            ],
        }

    return _read(view)


@blueprint.get("/organisations")
def organisation_list() -> Any:
    """The organisations of the city's platform, with how many public ideas each takes part in."""

    def view(session: Session, city: City) -> dict[str, Any]:
        args = Arguments(("kind",))
        kind = args.text("kind")
        counts = figures.organisation_idea_counts(session, city)
        return {
            "items": [
                serializers.organisation(o, counts.get(o.id, 0))
                for o in actors.list_organisations(session, city, kind=kind)
            ]
        }

    return _read(view)


@blueprint.get("/organisations/<key>")
def organisation(key: str) -> Any:
    """One organisation: the public ideas it takes part in (newest first) and its collaborators."""

    def view(session: Session, city: City) -> dict[str, Any]:
        Arguments(())
        lang = language(city)
        org = actors.get_organisation(session, city, key)
        filters = idea_service.IdeaFilter(organisation=org.key, public_only=True)
        recent = idea_service.list_ideas(session, city, filters, limit=PER_PAGE_DEFAULT)
        return {
            **serializers.organisation(org, figures.organisation_idea_count(session, org)),
            "recent_ideas": [serializers.idea_summary(i, lang, city) for i in recent],
            "collaborators": [
                {"organisation": serializers.organisation_ref(other), "shared_ideas": shared}
                for other, shared in figures.collaborators(session, org)
            ],
        }

    return _read(view)


@blueprint.get("/figures")
def city_figures() -> Any:
    """Key figures of the city's public ideas: the funnel per stage and per phase, methods."""

    def view(session: Session, city: City) -> dict[str, Any]:
        Arguments(())
        lang = language(city)
        found = figures.city_figures(session, city)
        return {
            "counts": {
                "ideas": found.ideas,
                "implemented": found.implemented,
                "organisations": found.organisations,
                "method_applications": found.method_applications,
            },
            "by_stage": [
                {"stage": serializers.stage_ref(stage, lang, city), "ideas": count}
                for stage, count in found.by_stage
            ],
            "by_phase": [
                {"phase": phase, "ideas": now, "reached": reached}
                for (phase, now), (_, reached) in zip(found.by_phase, found.reached, strict=True)
            ],
            "by_method": [
                {
                    "method": serializers.method_ref(f.method, lang, city),
                    "ideas": f.ideas,
                    "implemented": f.implemented,
                }
                for f in found.by_method
            ],
        }

    return _read(view)


# ---------------------------------------------------------------------------- submitting

SUBMISSION_FIELDS: dict[str, type | tuple[type, ...]] = {
    "title": str,
    "summary": str,
    "description": str,
    "initiator_kind": str,
    "focus_areas": list,
    "sdgs": list,
    "name": str,
    "email": str,
    "consent": bool,
    "locale": str,
}


def _submission() -> dict[str, Any]:
    """The JSON body of a submission, its fields type-checked; a bad one is a 400 naming it."""
    if not request.is_json:
        raise ValidationError(
            "Content-Type", "send the idea as JSON (Content-Type: application/json)"
        )
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError("body", "is not a JSON object")
    for name, value in body.items():
        expected = SUBMISSION_FIELDS.get(name)
        if expected is None:
            raise ValidationError(
                name, f"is not a field of an idea (fields: {', '.join(SUBMISSION_FIELDS)})"
            )
        if value is not None and not isinstance(value, expected):
            raise ValidationError(name, f"must be a {expected.__name__}")  # type: ignore[union-attr]
    if not all(isinstance(a, str) for a in body.get("focus_areas") or []):
        raise ValidationError("focus_areas", "must be a list of focus area keys")
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in body.get("sdgs") or []):
        raise ValidationError("sdgs", "must be a list of numbers 1 to 17")
    return body


@blueprint.post("/ideas")
def submit_idea() -> Any:
    """Submit an idea as a citizen would on the web form; personal data only with consent."""
    Arguments(())
    body = _submission()
    with platform().transaction() as session:
        city = platform().city_row(session)
        lang = language(city)
        idea = idea_service.submit_idea(
            session,
            city,
            title=body.get("title") or "",
            summary=body.get("summary") or "",
            description=body.get("description") or "",
            origin_channel=OriginChannel.web,
            initiator_kind=body.get("initiator_kind") or "citizen",
            focus_areas=list(body.get("focus_areas") or []),
            sdgs=list(body.get("sdgs") or []),
            submitter=idea_service.Submitter(
                name=body.get("name"),
                email=body.get("email"),
                consent=bool(body.get("consent")),
                locale=body.get("locale"),
            ),
            actor="api",
        )
        response = jsonify(serializers.idea_detail(idea, lang, city))
        response.status_code = 201
        response.headers["Location"] = serializers.idea_summary(idea, lang, city)["url"]
        return response


@blueprint.record_once
def _protect_submissions(state: Any) -> None:
    """JSON-only submissions need no CSRF token (a cross-site form cannot send JSON), but get
    the same rate limit as the web form."""
    app = state.app
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(submit_idea)
    limiter = app.extensions.get("innoplat.limiter")
    if limiter is not None:
        endpoint = f"{blueprint.name}.submit_idea"
        app.view_functions[endpoint] = limiter.limit(
            lambda: app.config.get("INNOPLAT_SUBMIT_LIMIT", "10 per hour"), methods=["POST"]
        )(app.view_functions[endpoint])


def _listed(args: Arguments, name: str) -> list[str] | None:
    """A comma-separated list (repeated parameters too); nothing given: None (all)."""
    args.text(name, 1000)
    found = [v.strip() for value in request.args.getlist(name) for v in value.split(",")]
    return [v for v in found if v] or None


@blueprint.get("/evidence")
def evidence() -> Any:
    """Time to implementation, adjusted and pooled effects per city and method (public ideas)."""

    def view(session: Session, city: City) -> dict[str, Any]:
        args = Arguments(("cities", "methods", "since", "as_of"))
        as_of = args.text("as_of")
        moment = None
        if as_of is not None:
            try:
                moment = datetime.fromisoformat(as_of)
            except ValueError:
                raise ValidationError("as_of", f"{as_of!r} is not a date (YYYY-MM-DD)") from None
        lang = language(city)
        found = method_evidence(
            session,
            cities=_listed(args, "cities"),
            methods=_listed(args, "methods"),
            since=args.text("since"),
            as_of=moment,
            public_only=True,
        )
        return {
            "as_of": timestamp(found.as_of),
            "cities": [
                {"slug": c.slug, "name": c.label(lang), "peer": c.is_peer} for c in found.cities
            ],
            "rows": [{k: row[k] for k in EVIDENCE_KEYS} for row in found.rows],
        }

    return _read(view)
