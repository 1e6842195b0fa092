"""Methods: the catalogue, and applying a method to an idea with the outcome it had."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from .. import db
from ..errors import NotFound, ValidationError
from ..models import (
    City,
    Idea,
    Method,
    MethodApplication,
    Outcome,
    Visibility,
    utcnow,
)
from ..plugins import hooks_of
from . import audit
from .ideas import _enum_value, _writable, organisation_of


def list_methods(session: Session, city: City | None = None) -> list[Method]:
    """The shared catalogue, plus the city's own local methods when a city is given."""
    query = select(Method)
    query = (
        query.where(or_(Method.city_id.is_(None), Method.city_id == city.id))
        if city
        else query.where(Method.city_id.is_(None))
    )
    return sorted(session.scalars(query), key=lambda m: (m.city_id is not None, m.key))


def get_method(session: Session, key: str, city: City | None = None) -> Method:
    method = session.scalar(select(Method).where(Method.key == key))
    if method is None and city is not None:
        method = session.scalar(select(Method).where(Method.key == f"{city.slug}:{key}"))
    if method is None or (
        method.city_id is not None and (city is None or method.city_id != city.id)
    ):
        raise NotFound(f"no method with key {key!r} (see: innoplat methods list)")
    return method


def _application_snapshot(application: MethodApplication) -> dict[str, object]:
    return {
        "method": application.method.key,
        "outcome": application.outcome.value,
        "started_on": application.started_on.isoformat() if application.started_on else None,
        "ended_on": application.ended_on.isoformat() if application.ended_on else None,
        "outcome_note": application.outcome_note,
    }


def _dates(started_on: date | None, ended_on: date | None) -> None:
    if started_on and ended_on and ended_on < started_on:
        raise ValidationError("ended_on", f"ends ({ended_on}) before it starts ({started_on})")


def _same(application: MethodApplication) -> tuple[object, ...]:
    return (
        application.method_id if application.method_id is not None else application.method.id,
        application.started_on,
        application.ended_on,
        application.outcome,
        application.facilitator.id if application.facilitator is not None else None,
        tuple(sorted(o.id for o in application.organisations)),
    )


def _refuse_duplicate(session: Session, idea: Idea, application: MethodApplication) -> None:
    """The same method applied twice to an idea with identical fields would be counted twice.

    Siblings refuse such a bundle (docs/exchange.md), so it is refused when it is made.
    """
    with session.no_autoflush:
        others = session.scalars(
            select(MethodApplication).where(
                MethodApplication.idea_id == idea.id,
                MethodApplication.method_id == application.method.id,
            )
        ).all()
        same = _same(application)
        for other in others:
            if other is not application and other.id != application.id and _same(other) == same:
                raise ValidationError(
                    "method",
                    f"{idea.reference} already has this application of {application.method.key!r} "
                    f"(the same dates, outcome and organisations): record its outcome instead",
                )


def apply_method(
    session: Session,
    idea: Idea,
    method_key: str,
    *,
    outcome: str | Outcome = Outcome.ongoing,
    started_on: date | None = None,
    ended_on: date | None = None,
    facilitator: str | None = None,
    organisations: Sequence[str] = (),
    outcome_note: str = "",
    actor: str | None = None,
) -> MethodApplication:
    """Record that a method was (or is being) applied to an idea."""
    _writable(idea.city)
    method = get_method(session, method_key, idea.city)
    outcome_value = _enum_value(Outcome, outcome, "outcome")
    _dates(started_on, ended_on)
    orgs = [organisation_of(session, idea.city, key, "organisations") for key in organisations]
    application = MethodApplication(
        idea_id=idea.id,
        method=method,
        outcome=outcome_value,
        started_on=started_on or utcnow().date(),
        ended_on=ended_on,
        facilitator=organisation_of(session, idea.city, facilitator, "facilitator")
        if facilitator
        else None,
        organisations=orgs,
        outcome_note=(outcome_note or "").strip(),
    )
    _refuse_duplicate(session, idea, application)
    application.idea = idea
    session.add(application)
    session.flush()
    audit.record_for(
        session, idea, "method_applied", actor=actor, after=_application_snapshot(application)
    )
    hooks_of(session).innoplat_method_applied(session=session, idea=idea, application=application)
    return application


def record_outcome(
    session: Session,
    application: MethodApplication,
    outcome: str | Outcome,
    *,
    ended_on: date | None = None,
    outcome_note: str | None = None,
    actor: str | None = None,
) -> MethodApplication:
    """Record what came of a method application."""
    _writable(application.idea.city)
    before = _application_snapshot(application)
    application.outcome = _enum_value(Outcome, outcome, "outcome")
    if ended_on is not None:
        _dates(application.started_on, ended_on)
        application.ended_on = ended_on
    if outcome_note is not None:
        application.outcome_note = outcome_note.strip()
    _refuse_duplicate(session, application.idea, application)
    session.flush()
    audit.record_for(
        session,
        application.idea,
        "method_outcome",
        actor=actor,
        before=before,
        after=_application_snapshot(application),
    )
    hooks_of(session).innoplat_method_applied(
        session=session, idea=application.idea, application=application
    )
    return application


def get_application(session: Session, idea: Idea, application_id: int) -> MethodApplication:
    """One of an idea's method applications (never another idea's)."""
    missing = f"{idea.reference} has no method application {application_id}"
    return db.get_owned(session, MethodApplication, application_id, missing, idea_id=idea.id)


def most_used(
    session: Session, city: City, *, limit: int = 5, public_only: bool = False
) -> list[tuple[Method, int]]:
    """The methods applied to most of the city's ideas, counted in the database."""
    ideas = func.count(func.distinct(MethodApplication.idea_id))
    # Grouping on the application table alone, then loading the few winning methods,
    # keeps the JSON columns of Method out of the aggregate (3x faster on 100,000 ideas).
    query = (
        select(MethodApplication.method_id, ideas)
        .join(Idea, Idea.id == MethodApplication.idea_id)
        .where(Idea.city_id == city.id)
        .group_by(MethodApplication.method_id)
        .order_by(ideas.desc(), MethodApplication.method_id)
        .limit(limit)
    )
    if public_only:
        query = query.where(Idea.visibility == Visibility.public)
    counts = session.execute(query).tuples().all()
    methods = {
        m.id: m
        for m in session.scalars(select(Method).where(Method.id.in_([i for i, _ in counts])))
    }
    return [(methods[method_id], count) for method_id, count in counts]


def outcomes(
    session: Session, city: City, method: Method, *, public_only: bool = False
) -> dict[str, int]:
    """How the city's applications of a method (or of local methods mapped to it) turned out."""
    query = (
        select(MethodApplication.outcome, func.count())
        .join(Idea, Idea.id == MethodApplication.idea_id)
        .join(Method, Method.id == MethodApplication.method_id)
        .where(
            Idea.city_id == city.id, or_(Method.id == method.id, Method.shared_key == method.key)
        )
        .group_by(MethodApplication.outcome)
    )
    if public_only:
        query = query.where(Idea.visibility == Visibility.public)
    return {outcome.value: count for outcome, count in session.execute(query).tuples()}
