"""Public pages: home, ideas, organisations, methods and the platform's own story."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import format_date, format_datetime, format_decimal
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import object_session

from .. import validation
from ..errors import NotFound, ValidationError
from ..models import (
    Idea,
    OrganisationKind,
    OriginChannel,
    Outcome,
    Phase,
    Visibility,
)
from ..services import actors, figures
from ..services import ideas as idea_service
from ..services import methods as method_service
from . import auth, city_texts, idea_sections, labels
from .current import platform
from .languages import current_locale
from .rendering import markdown

blueprint = Blueprint("public", __name__)

#: Core navigation; plugins add theirs through the innoplat_navigation hook. The city's name
#: in the header leads home, so the menu has no entry of its own for it.
CORE_NAVIGATION = [
    {"endpoint": "public.ideas", "label": _l("Ideas"), "order": 20},
    {"endpoint": "submit.new", "label": _l("Submit an idea"), "order": 30},
    {"endpoint": "public.organisations", "label": _l("Organisations"), "order": 40},
    {"endpoint": "public.methods", "label": _l("Methods"), "order": 50},
    {"endpoint": "compare.page", "label": _l("Compare cities"), "order": 55},
    {"endpoint": "public.about", "label": _l("About"), "order": 60},
]
STAFF_NAVIGATION = [
    {"endpoint": "workgroup.dashboard", "label": _l("Dashboard"), "order": 65, "audience": "staff"}
]


def init_app(app: Flask) -> None:
    app.context_processor(_context)
    app.add_template_filter(markdown, "markdown")
    app.add_template_filter(labels.label, "label")
    app.add_template_filter(labels.method_category, "method_category")
    app.add_template_filter(labels.guide_step, "guide_step")
    app.add_template_filter(lambda d: format_date(d, "medium") if d else "", "date")
    app.add_template_filter(lambda d: format_datetime(d, "medium") if d else "", "datetime")
    app.add_template_filter(lambda n: format_decimal(n) if n is not None else "", "number")
    app.add_template_filter(city_texts.page_text, "localized")
    app.add_template_filter(card_facts, "card_facts")
    app.add_template_global(city_texts.name, "tr")
    app.add_template_global(field_attributes)
    app.add_template_global(
        lambda value: str(labels.LABELS[Phase].get(value, value)), "phase_label"
    )


def field_attributes(field: Any, hint: bool = True) -> dict[str, str]:
    """ARIA attributes tying a form field to its hint and its error message."""
    described = ([f"{field.id}-hint"] if hint and field.description else []) + (
        [f"{field.id}-error"] if field.errors else []
    )
    attributes = {"aria-describedby": " ".join(described)} if described else {}
    if field.errors:
        attributes["aria-invalid"] = "true"
    return attributes


def card_facts(ideas: Sequence[Idea]) -> dict[int, list[str]]:
    """The plugins' short facts for a list of idea cards (supports, comments…), by idea id."""
    facts: dict[int, list[str]] = defaultdict(list)
    session = object_session(ideas[0]) if ideas else None
    if session is None:
        return facts
    for contributed in platform().hooks.innoplat_idea_card_facts(
        session=session, ideas=list(ideas)
    ):
        for idea_id, texts in (contributed or {}).items():
            facts[idea_id].extend(texts)
    return facts


def navigation() -> list[dict[str, Any]]:
    entries = list(CORE_NAVIGATION)
    if auth.is_staff():
        entries += STAFF_NAVIGATION
    for contributed in platform().hooks.innoplat_navigation(city=platform().city):
        entries += list(contributed or [])
    known = current_app.view_functions
    # An entry whose endpoint does not exist would break every page: it is left out instead.
    return sorted(
        (e for e in entries if e.get("endpoint") in known), key=lambda e: e.get("order", 100)
    )


def _context() -> dict[str, Any]:
    city = platform().city
    context: dict[str, Any] = {}
    # Hooks answer in precedence order (city, then plugins as listed): merged in reverse,
    # the first in that order wins.
    for extra in reversed(platform().hooks.innoplat_template_context(city=city)):
        context.update(extra or {})
    theme = city.config.theme
    context.update(
        site={
            "name": city_texts.page_text(city.config.name),
            "slug": city.slug,
            "logo": url_for("public.city_static", filename=theme.logo) if theme.logo else None,
            "hero": url_for("public.city_static", filename=theme.hero_image)
            if theme.hero_image
            else None,
            "hero_alt": city_texts.page_text(theme.hero_alt),
            "invitation": city_texts.page_text(theme.invitation),
        },
        navigation=navigation(),
        current_endpoint=request.endpoint if request else None,
        is_staff=auth.is_staff(),
        can_edit=auth.can_edit(),
        current_user=current_user,
    )
    return context


def _visible_to_visitor() -> bool:
    """Whether this visitor sees public ideas only (everyone but the city's own staff)."""
    return not auth.is_staff()


def _figures(name: str, compute: Callable[[], Any]) -> Any:
    """City-wide aggregates (funnel, methods used most), recomputed at most every few seconds.

    On 100,000 ideas these aggregates take a few hundred milliseconds; the home page is the
    most visited page, so each app keeps them for INNOPLAT_FIGURES_CACHE_SECONDS (0: never).
    """
    ttl = current_app.config["INNOPLAT_FIGURES_CACHE_SECONDS"]
    if not ttl:
        return compute()
    cache = current_app.extensions.setdefault("innoplat.figures", {})
    key = (name, _visible_to_visitor(), current_locale())
    now = time.monotonic()
    hit = cache.get(key)
    if hit is not None and now - hit[0] < ttl:
        return hit[1]
    value = compute()
    cache[key] = (now, value)
    return value


def _first_ideas(session: Any, city: Any, **narrowing: Any) -> list[Idea]:
    """The first ideas of an organisation's or a method's page, as this visitor may see them."""
    filters = idea_service.IdeaFilter(public_only=_visible_to_visitor(), **narrowing)
    return idea_service.list_ideas(session, city, filters, limit=20)


def _int_arg(name: str, minimum: int, maximum: int) -> int | None:
    """A whole-number filter within bounds; anything else is ignored, like other filters."""
    try:
        return validation.integer(request.args.get(name), name, minimum=minimum, maximum=maximum)
    except ValidationError:
        return None


def _choice(name: str, allowed: Any) -> str | None:
    """A query argument if it is one of the allowed values; anything else is ignored."""
    value = request.args.get(name)
    return value if value in allowed else None


@blueprint.get("/")
def home() -> str:
    public_only = _visible_to_visitor()
    with platform().transaction() as session:
        city = platform().city_row(session)
        recent = idea_service.list_ideas(
            session, city, idea_service.IdeaFilter(public_only=public_only), limit=6
        )
        funnel = _figures(
            "funnel", lambda: idea_service.funnel(session, city, public_only=public_only)
        )
        top_methods = _figures(
            "methods",
            lambda: method_service.most_used(session, city, limit=500, public_only=public_only),
        )[:5]
        organisations = [o for o in actors.list_organisations(session, city) if o.platform_role]
        total = sum(count for _stage, count in funnel)
        implemented = idea_service.recently_implemented(session, city, public_only=public_only)
        return render_template(
            "home.html",
            city=city,
            ideas=recent,
            implemented=implemented,
            funnel=funnel,
            funnel_max=max([c for _s, c in funnel] or [0]) or 1,
            total=total,
            methods=top_methods,
            partners=sorted(
                organisations,
                key=lambda o: ["owner", "project_lead", "partner", "funder"].index(o.platform_role),
            ),
            platform_roles=labels.PLATFORM_ROLES,
        )


@blueprint.get("/ideas")
def ideas() -> str:
    page_size = current_app.config["INNOPLAT_PAGE_SIZE"]
    sdg = _int_arg("sdg", 1, 17)
    filters = idea_service.IdeaFilter(
        stage=request.args.get("stage") or None,
        phase=request.args.get("phase") if request.args.get("phase") in Phase.__members__ else None,
        focus_area=request.args.get("focus_area") or None,
        sdg=sdg,
        method=request.args.get("method") or None,
        organisation=request.args.get("organisation") or None,
        origin_channel=_choice("origin_channel", OriginChannel.__members__),
        text=(request.args.get("q") or "").strip()[:200] or None,
        public_only=_visible_to_visitor(),
        sort=_choice("sort", idea_service.SORTS) or "newest",
    )
    with platform().transaction() as session:
        city = platform().city_row(session)
        total = idea_service.count_ideas(session, city, filters)
        page = validation.page_of(request.args.get("page"), total, page_size)
        found = idea_service.list_ideas(session, city, filters, limit=page_size, offset=page.offset)
        args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "page" and v}
        return render_template(
            "ideas/list.html",
            city=city,
            ideas=found,
            filters=filters,
            total=total,
            page=page.number,
            pages=page.count,
            page_url=lambda n: url_for("public.ideas", **args, page=n),
            stages=city.stages,
            phases=labels.choices(Phase),
            focus_areas=city.focus_areas,
            methods=method_service.list_methods(session, city),
            organisations=actors.list_organisations(session, city),
            channels=labels.choices(OriginChannel),
            sorts=labels.SORT_LABELS,
            active=any(v for k, v in args.items() if k not in ("sort", "lang")),
        )


def idea_or_404(session: Any, reference: str, *, public_only: bool = False) -> Idea:
    """This city's idea by reference if the visitor may see it; otherwise the 404 page.

    Public ideas are for everyone, internal ones for the working group too. With
    ``public_only`` an internal idea is a 404 even for staff: for actions that only make
    sense on a public idea (supporting, following, commenting).
    """
    city = platform().city_row(session)
    try:
        idea = idea_service.get_idea(session, reference, city=city)
    except NotFound:
        abort(404)
    if idea.visibility is not Visibility.public and (public_only or not auth.is_staff()):
        abort(404)
    return idea


@blueprint.get("/ideas/<reference>")
def idea(reference: str) -> str:
    with platform().transaction() as session:
        found = idea_or_404(session, reference)
        sections = idea_sections.arrange(
            platform().hooks.innoplat_idea_sections(session=session, idea=found)
        )
        if not auth.is_staff():
            sections["staff"] = []  # the working group's region never reaches a visitor's page
        return render_template(
            "ideas/detail.html",
            city=found.city,
            idea=found,
            sections=sections,
            next_stages=idea_service.allowed_stages(session, found) if auth.can_edit() else [],
        )


@blueprint.get("/organisations")
def organisations() -> str:
    with platform().transaction() as session:
        city = platform().city_row(session)
        orgs = actors.list_organisations(session, city)
        public_only = _visible_to_visitor()
        counts = _figures(
            "participations",
            lambda: figures.organisation_idea_counts(session, city, public_only=public_only),
        )
        groups: dict[str, list[Any]] = {}
        for org in orgs:
            groups.setdefault(org.kind.value, []).append(org)
        ordered = [(kind, groups[kind.value]) for kind in OrganisationKind if kind.value in groups]
        return render_template("organisations/list.html", city=city, groups=ordered, counts=counts)


@blueprint.get("/organisations/<key>")
def organisation(key: str) -> str:
    public_only = _visible_to_visitor()
    with platform().transaction() as session:
        city = platform().city_row(session)
        org = actors.get_organisation(session, city, key)
        return render_template(
            "organisations/detail.html",
            city=city,
            organisation=org,
            ideas=_first_ideas(session, city, organisation=org.key),
            idea_count=figures.organisation_idea_count(session, org, public_only=public_only),
            collaborators=figures.collaborators(session, org, public_only=public_only),
            memberships=actors.memberships(session, org) if auth.is_staff() else [],
            platform_roles=labels.PLATFORM_ROLES,
        )


@blueprint.get("/methods")
def methods() -> str:
    with platform().transaction() as session:
        city = platform().city_row(session)
        catalogue = method_service.list_methods(session, city)
        public_only = _visible_to_visitor()
        ranked = _figures(
            "methods",
            lambda: method_service.most_used(session, city, limit=500, public_only=public_only),
        )
        used = {m.id: n for m, n in ranked}
        return render_template("methods/list.html", city=city, methods=catalogue, used=used)


@blueprint.get("/methods/<key>")
def method(key: str) -> str:
    with platform().transaction() as session:
        city = platform().city_row(session)
        found = method_service.get_method(session, key, city)
        filters = idea_service.IdeaFilter(method=found.key, public_only=_visible_to_visitor())
        outcome_counts = _figures(
            f"outcomes:{found.key}",
            lambda: method_service.outcomes(session, city, found, public_only=filters.public_only),
        )
        return render_template(
            "methods/detail.html",
            city=city,
            method=found,
            ideas=_first_ideas(session, city, method=found.key),
            idea_count=_figures(
                f"method-ideas:{found.key}",
                lambda: idea_service.count_ideas(session, city, filters),
            ),
            outcomes=[(o, outcome_counts.get(o.value, 0)) for o in Outcome],
            outcome_total=sum(outcome_counts.values()),
        )


@blueprint.get("/about")
def about() -> str:
    with platform().transaction() as session:
        city = platform().city_row(session)
        return render_template(
            "about.html",
            city=city,
            organisations=[o for o in actors.list_organisations(session, city) if o.platform_role],
            platform_roles=labels.PLATFORM_ROLES,
            stages=city.stages,
            phases=labels.LABELS[Phase],
        )


@blueprint.get("/theme.css")
def theme() -> Response:
    """The city's colours as CSS custom properties (a file, so the CSP needs no inline styles)."""
    colours = platform().city.config.theme
    css = f":root {{\n  --primary: {colours.primary_color};\n  --accent: {colours.accent_color};\n}}\n"
    response = Response(css, mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


@blueprint.get("/city/static/<path:filename>")
def city_static(filename: str) -> Response:
    """The city's own files (its logo): ``cities/<slug>/static/``."""
    return send_from_directory(platform().city.folder / "static", filename)
