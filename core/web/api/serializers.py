"""Public JSON shapes of the API's resources: only public data, never a person's name or e-mail.

Names that a city translates (stages, focus areas, methods) come out as one string in the
requested language, falling back to the city's default language. Free-text notes written
by staff (stage-change notes, outcome notes, actors) stay out: they may name people.
"""

from __future__ import annotations

from typing import Any

from flask import url_for

from ...models import (
    PHASE_ORDER,
    City,
    FocusArea,
    Idea,
    Method,
    MethodApplication,
    Organisation,
    Stage,
    localized,
)
from ...services import serialisation


def _name(values: dict[str, Any] | None, lang: str, city: City, key: str) -> str:
    return localized(values, lang, city.default_locale) or key


def city(city: City, lang: str) -> dict[str, Any]:
    return {
        "slug": city.slug,
        "name": _name(city.name, lang, city, city.slug),
        "description": _name(city.description, lang, city, ""),
        "region": city.region,
        "population": city.population,
        "locales": list(city.locales or []),
        "default_locale": city.default_locale,
        "website": city.website,
        "lang": lang,
    }


def stage_ref(stage: Stage, lang: str, city: City) -> dict[str, Any]:
    return {
        "key": stage.key,
        "name": _name(stage.name, lang, city, stage.key),
        "phase": stage.phase.value,
    }


def stage(stage: Stage, lang: str, city: City) -> dict[str, Any]:
    return {
        **stage_ref(stage, lang, city),
        "position": stage.position,
        "transitions": list(stage.transitions or []),
    }


def phases() -> list[dict[str, Any]]:
    return [{"key": phase, "position": i} for i, phase in enumerate(PHASE_ORDER)]


def focus_area(area: FocusArea, lang: str, city: City) -> dict[str, Any]:
    return {
        "key": area.key,
        "name": _name(area.name, lang, city, area.key),
        "sdgs": list(area.sdgs or []),
    }


def organisation_ref(org: Organisation) -> dict[str, Any]:
    return {"key": org.key, "name": org.name, "kind": org.kind.value}


def organisation(org: Organisation, idea_count: int) -> dict[str, Any]:
    return {
        **organisation_ref(org),
        "platform_role": org.platform_role,
        "parent": org.parent.key if org.parent else None,
        "website": org.website,
        "synthetic": org.is_synthetic,
        "ideas": idea_count,
        "url": url_for("api.organisation", key=org.key, _external=False),
    }


def method_ref(method: Method, lang: str, city: City) -> dict[str, Any]:
    return {
        "key": method.key,
        "shared_key": method.shared_key,
        "name": _name(method.name, lang, city, method.key),
    }


def method(method: Method, lang: str, city: City) -> dict[str, Any]:
    return {
        **method_ref(method, lang, city),
        "local": method.city_id is not None,
        "description": _name(method.description, lang, city, ""),
        "category": method.category,
        "phases": list(method.phases or []),
        "guide_steps": list(method.guide_steps or []),
        "reference": method.reference,
        "url": url_for("api.method", key=method.key, _external=False),
    }


#: The fields of an idea in the API's lists, in order.
SUMMARY_FIELDS = (
    "reference",
    "title",
    "summary",
    "stage",
    "origin_channel",
    "owner_organisation",
    "focus_areas",
    "sdgs",
    "synthetic",
    "submitted_at",
    "updated_at",
    "url",
)
#: What an idea's own resource adds to the list's fields.
DETAIL_FIELDS = (
    *SUMMARY_FIELDS,
    "description",
    "initiator_kind",
    "facet",
    "value_dimensions",
    "reused_from",
    "history",
    "methods",
    "participations",
    "version",
)


def idea_summary(idea: Idea, lang: str, city: City) -> dict[str, Any]:
    return serialisation.idea(
        idea,
        SUMMARY_FIELDS,
        stage=stage_ref(idea.stage, lang, city),
        url=url_for("api.idea", reference=idea.reference, _external=False),
    )


def _application(application: MethodApplication, lang: str, city: City) -> dict[str, Any]:
    return {
        **serialisation.application(application),
        "method": method_ref(application.method, lang, city),
        "facilitator": organisation_ref(application.facilitator)
        if application.facilitator
        else None,
        "organisations": [organisation_ref(o) for o in application.organisations],
    }


def idea_detail(idea: Idea, lang: str, city: City) -> dict[str, Any]:
    """An idea with its history, methods and organisations; staff notes and actors stay out."""
    return serialisation.idea(
        idea,
        DETAIL_FIELDS,
        stage=stage_ref(idea.stage, lang, city),
        url=url_for("api.idea", reference=idea.reference, _external=False),
        owner_organisation=organisation_ref(idea.owner_organisation)
        if idea.owner_organisation
        else None,
        focus_areas=[focus_area(a, lang, city) for a in idea.focus_areas],
        history=[
            {
                "from_stage": stage_ref(t.from_stage, lang, city) if t.from_stage else None,
                "to_stage": stage_ref(t.to_stage, lang, city),
                "at": serialisation.timestamp(t.at),
            }
            for t in idea.transitions
        ],
        methods=[_application(a, lang, city) for a in idea.method_applications],
        participations=[
            {**serialisation.participation(p), "organisation": organisation_ref(p.organisation)}
            for p in sorted(idea.participations, key=lambda p: (p.role.value != "owner", p.id))
        ],
    )
