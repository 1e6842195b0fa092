"""Public JSON shapes of the API's resources: only public data, never a person's name or e-mail.

Names that a city translates (stages, focus areas, methods) come out as one string in the
requested language, falling back to the city's default language. Free-text notes written
by staff (stage-change notes, outcome notes, actors) stay out: they may name people.
"""

from __future__ import annotations

from datetime import date, datetime
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
from ...services.serialisation import timestamp


def _time(value: datetime | None) -> str | None:
    return timestamp(value)


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


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


def idea_summary(idea: Idea, lang: str, city: City) -> dict[str, Any]:
    return {
        "reference": idea.reference,
        "title": idea.title,
        "summary": idea.summary,
        "stage": stage_ref(idea.stage, lang, city),
        "origin_channel": idea.origin_channel.value,
        "owner_organisation": idea.owner_organisation.key if idea.owner_organisation else None,
        "focus_areas": [a.key for a in idea.focus_areas],
        "sdgs": idea.sdgs,
        "synthetic": idea.is_synthetic,
        "submitted_at": _time(idea.submitted_at),
        "updated_at": _time(idea.updated_at),
        "url": url_for("api.idea", reference=idea.reference, _external=False),
    }


def _application(application: MethodApplication, lang: str, city: City) -> dict[str, Any]:
    return {
        "method": method_ref(application.method, lang, city),
        "outcome": application.outcome.value,
        "started_on": _day(application.started_on),
        "ended_on": _day(application.ended_on),
        "facilitator": organisation_ref(application.facilitator)
        if application.facilitator
        else None,
        "organisations": [organisation_ref(o) for o in application.organisations],
    }


def idea_detail(idea: Idea, lang: str, city: City) -> dict[str, Any]:
    return {
        **idea_summary(idea, lang, city),
        "description": idea.description,
        "initiator_kind": idea.initiator_kind.value,
        "facet": idea.facet.value if idea.facet else None,
        "value_dimensions": list(idea.value_dimensions or []),
        "reused_from": idea.reused_from_reference,
        "owner_organisation": organisation_ref(idea.owner_organisation)
        if idea.owner_organisation
        else None,
        "focus_areas": [focus_area(a, lang, city) for a in idea.focus_areas],
        "history": [
            {
                "from_stage": stage_ref(t.from_stage, lang, city) if t.from_stage else None,
                "to_stage": stage_ref(t.to_stage, lang, city),
                "at": _time(t.at),
            }
            for t in idea.transitions
        ],
        "methods": [_application(a, lang, city) for a in idea.method_applications],
        "participations": [
            {"organisation": organisation_ref(p.organisation), "role": p.role.value}
            for p in sorted(idea.participations, key=lambda p: (p.role.value != "owner", p.id))
        ],
        "version": idea.version,
    }
