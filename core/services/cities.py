"""Cities in the database: synchronising a city's configuration and the method catalogue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import validation
from ..config import CityDefinition
from ..errors import NotFound, ValidationError
from ..models import City, FocusArea, Method, Organisation, Phase, Stage, utcnow
from . import audit

METHOD_FIELDS = ("name", "description", "category", "phases", "guide_steps", "reference")


def get_city(session: Session, slug: str) -> City:
    city = session.scalar(select(City).where(City.slug == slug))
    if city is None:
        raise NotFound(f"city {slug!r} is not in this database (run: innoplat init --city {slug})")
    return city


def list_cities(session: Session) -> list[City]:
    return list(session.scalars(select(City).order_by(City.is_peer, City.slug)))


#: The steps of SKR's Innovationsguiden a method's ``guide_steps`` may name, in their order.
GUIDE_STEPS = ("ringa_in", "undersoka", "fokusera", "ta_fram_ideer", "testa_ideer", "forverkliga")

Contributions = list[tuple[str, list[dict[str, Any]]]]


def _guide_step_problem(steps: Any) -> str | None:
    if steps is None:
        return None
    if not isinstance(steps, list):
        return f"expected a list of steps, got {type(steps).__name__} {steps!r}"
    for j, step in enumerate(steps):
        if isinstance(step, dict):
            if not step or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in step.items()
            ):
                return (
                    f'[{j}]: expected a table of texts by language, e.g. {{ sv = "…", en = "…" }}'
                )
        elif step not in GUIDE_STEPS:
            return f"[{j}]: expected one of {', '.join(GUIDE_STEPS)} or a table of texts by language (got {step!r})"
    return None


def check_catalogue(contributions: Contributions) -> list[str]:
    """The shared method keys the plugins contribute, after checking every method's shape.

    Runs without a database, so ``innoplat cities`` and ``innoplat init`` (before it touches
    the database) refuse the same mistakes.

    :raises ValidationError: naming the plugin and the method's index and field.
    """
    keys: list[str] = []
    for source, methods in contributions:
        for i, data in enumerate(methods):
            where = f"{source}: methods[{i}]"
            if not isinstance(data, dict) or not data.get("key") or not data.get("name"):
                raise ValidationError(where, "a method needs a 'key' and a 'name'")
            bad = [p for p in data.get("phases") or [] if p not in Phase.__members__]
            if bad:
                raise ValidationError(f"{where}.phases", f"unknown phases {bad}")
            problem = _guide_step_problem(data.get("guide_steps"))
            if problem:
                raise ValidationError(f"{where}.guide_steps", problem)
            keys.append(data["key"])
    return keys


def check_local_methods(definition: CityDefinition, shared_keys: list[str]) -> None:
    """Every local method of the city maps to a method of the shared catalogue.

    :raises ValidationError: naming the city.toml and the method's index.
    """
    for i, local in enumerate(definition.config.methods):
        if local.maps_to not in shared_keys:
            raise ValidationError(
                f"{definition.file}: methods[{i}].maps_to",
                f"{local.maps_to!r} is not a method of the shared catalogue",
            )


def sync_catalogue(session: Session, contributions: Contributions) -> int:
    """Store the methods plugins contribute; returns how many were added or changed.

    :param contributions: (plugin name, methods) pairs from the ``innoplat_methods`` hook.
    """
    check_catalogue(contributions)
    existing = {m.key: m for m in session.scalars(select(Method).where(Method.city_id.is_(None)))}
    changed = 0
    for source, methods in contributions:
        for data in methods:
            key = data["key"]
            values = {f: data.get(f) for f in METHOD_FIELDS}
            values["phases"] = list(values["phases"] or [])
            values["guide_steps"] = list(values["guide_steps"] or [])
            values["description"] = values["description"] or {}
            values["category"] = values["category"] or "design"
            values["reference"] = validation.url(
                values["reference"], f"{source}: {key}.reference", column=Method.reference
            )
            method = existing.get(key)
            if method is None:
                method = Method(key=key, shared_key=key, source=source, **values)
                session.add(method)
                existing[key] = method
                changed += 1
            elif any(getattr(method, f) != v for f, v in values.items()):
                for f, v in values.items():
                    setattr(method, f, v)
                method.source = source
                changed += 1
    session.flush()
    return changed


def sync_city(
    session: Session, definition: CityDefinition, *, actor: str = "innoplat init"
) -> City:
    """Create or update a city, its stages, focus areas, organisations and local methods.

    Idempotent: running it twice changes nothing the second time. Stages and focus areas
    that disappeared from the configuration stay in the database while ideas refer to them.
    """
    config = definition.config
    city = session.scalar(select(City).where(City.slug == config.slug))
    created = city is None
    if city is None:
        city = City(slug=config.slug)
        session.add(city)
    elif city.is_peer:
        raise ValidationError("city", f"{config.slug!r} is a peer imported from another platform")
    city.name = dict(config.name)
    city.description = dict(config.description)
    city.region = config.region
    city.population = config.population
    city.reference_prefix = config.reference_prefix
    city.locales = list(config.locales)
    city.default_locale = config.default_locale
    city.timezone = config.timezone
    city.website = config.website
    city.synced_at = utcnow()
    session.flush()

    stages = {s.key: s for s in session.scalars(select(Stage).where(Stage.city_id == city.id))}
    for position, stage_config in enumerate(config.stages):
        stage = stages.get(stage_config.key) or Stage(city_id=city.id, key=stage_config.key)
        stage.phase = stage_config.phase
        stage.position = position
        stage.name = dict(stage_config.name)
        stage.transitions = list(stage_config.to)
        session.add(stage)
    # A stage dropped from the configuration keeps its ideas but accepts no moves.
    for key, stage in stages.items():
        if key not in {s.key for s in config.stages}:
            stage.transitions = []
            stage.position = 1000 + stage.position

    areas = {
        a.key: a for a in session.scalars(select(FocusArea).where(FocusArea.city_id == city.id))
    }
    for position, area_config in enumerate(config.focus_areas):
        area = areas.get(area_config.key) or FocusArea(city_id=city.id, key=area_config.key)
        area.position = position
        area.name = dict(area_config.name)
        area.sdgs = list(area_config.sdgs)
        session.add(area)

    organisations = {
        o.key: o
        for o in session.scalars(select(Organisation).where(Organisation.city_id == city.id))
    }
    for org_config in config.organisations:
        org = organisations.get(org_config.key) or Organisation(city_id=city.id, key=org_config.key)
        org.name = org_config.name
        org.kind = org_config.kind
        org.platform_role = org_config.role
        org.website = org_config.website
        org.description = dict(org_config.description)
        organisations[org_config.key] = org
        session.add(org)
    session.flush()
    for org_config in config.organisations:
        parent = organisations.get(org_config.parent) if org_config.parent else None
        organisations[org_config.key].parent_id = parent.id if parent else None

    shared = list(session.scalars(select(Method.key).where(Method.city_id.is_(None))))
    check_local_methods(definition, shared)
    for local in config.methods:
        key = f"{config.slug}:{local.key}"
        method = session.scalar(select(Method).where(Method.key == key)) or Method(key=key)
        method.shared_key = local.maps_to
        method.city_id = city.id
        method.name = dict(local.name)
        method.description = dict(local.description)
        base = session.scalar(select(Method).where(Method.key == local.maps_to))
        assert base is not None
        method.category = base.category
        method.phases = list(base.phases)
        method.guide_steps = list(base.guide_steps)
        method.reference = base.reference
        method.source = f"city:{config.slug}"
        session.add(method)
    session.flush()
    audit.record_for(
        session,
        city,
        "created" if created else "synchronised",
        actor=actor,
        after={"stages": [s.key for s in config.stages], "plugins": list(config.plugins.enabled)},
    )
    return city
