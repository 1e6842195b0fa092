"""Key figures of a city's platform, counted in the database: the funnel, phases reached, methods."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from ..models import (
    IMPLEMENTED_PHASES,
    PHASE_ORDER,
    City,
    Idea,
    Method,
    MethodApplication,
    Organisation,
    Participation,
    Stage,
    StageTransition,
    Visibility,
)


@dataclass(frozen=True)
class MethodFigure:
    method: Method
    ideas: int
    implemented: int


@dataclass(frozen=True)
class Figures:
    """What a city's figures add up to (public ideas only, unless asked otherwise)."""

    ideas: int
    implemented: int
    organisations: int
    method_applications: int
    by_stage: list[tuple[Stage, int]]
    #: Ideas standing in each canonical phase now, in lifecycle order.
    by_phase: list[tuple[str, int]]
    #: Ideas that ever entered each canonical phase (the funnel's width at each step).
    reached: list[tuple[str, int]]
    by_method: list[MethodFigure]


def _visible(city: City, public_only: bool) -> list[Any]:
    """Conditions on ``Idea`` for the city's ideas (public ones only, when asked)."""
    conditions: list[Any] = [Idea.city_id == city.id]
    if public_only:
        conditions.append(Idea.visibility == Visibility.public)
    return conditions


def city_figures(session: Session, city: City, *, public_only: bool = True) -> Figures:
    """The city's figures in five aggregate queries (never rows loaded into Python)."""
    visible = _visible(city, public_only)
    # One pass over the ideas gives the totals, the stages and the phases.
    by_stage_phase = (
        session.execute(
            select(Idea.stage_id, Idea.phase, func.count())
            .where(*visible)
            .group_by(Idea.stage_id, Idea.phase)
        )
        .tuples()
        .all()
    )
    stage_counts: dict[int, int] = {}
    phase_counts: dict[str, int] = {}
    for stage_id, phase, count in by_stage_phase:
        stage_counts[stage_id] = stage_counts.get(stage_id, 0) + count
        phase_counts[phase.value] = phase_counts.get(phase.value, 0) + count
    reached_counts = {
        phase.value: count
        for phase, count in session.execute(
            select(StageTransition.to_phase, func.count(distinct(StageTransition.idea_id)))
            .join(Idea, Idea.id == StageTransition.idea_id)
            .where(*visible)
            .group_by(StageTransition.to_phase)
        ).tuples()
    }
    organisations = (
        session.scalar(
            select(func.count()).select_from(Organisation).where(Organisation.city_id == city.id)
        )
        or 0
    )
    applications = (
        session.scalar(
            select(func.count())
            .select_from(MethodApplication)
            .join(Idea, Idea.id == MethodApplication.idea_id)
            .where(*visible)
        )
        or 0
    )
    # Aggregated per method id first, then joined to the (few) methods: grouping by every
    # method column would make the database sort wide rows.
    applied = func.count(distinct(MethodApplication.idea_id))
    per_method = (
        select(
            MethodApplication.method_id.label("method_id"),
            applied.label("ideas"),
            func.count(distinct(Idea.id)).filter(Idea.phase.in_(IMPLEMENTED_PHASES)).label("done"),
        )
        .join(Idea, Idea.id == MethodApplication.idea_id)
        .where(*visible)
        .group_by(MethodApplication.method_id)
        .subquery()
    )
    rows = session.execute(
        select(Method, per_method.c.ideas, per_method.c.done)
        .join(per_method, per_method.c.method_id == Method.id)
        .order_by(per_method.c.ideas.desc(), Method.key)
    ).tuples()
    by_method = [MethodFigure(m, n, done) for m, n, done in rows]
    stages = list(
        session.scalars(select(Stage).where(Stage.city_id == city.id).order_by(Stage.position))
    )
    return Figures(
        ideas=sum(phase_counts.values()),
        implemented=sum(phase_counts.get(p, 0) for p in IMPLEMENTED_PHASES),
        organisations=organisations,
        method_applications=applications,
        by_stage=[(stage, stage_counts.get(stage.id, 0)) for stage in stages],
        by_phase=[(phase, phase_counts.get(phase, 0)) for phase in PHASE_ORDER],
        reached=[(phase, reached_counts.get(phase, 0)) for phase in PHASE_ORDER],
        by_method=by_method,
    )


def organisation_idea_counts(
    session: Session,
    city: City,
    *,
    public_only: bool = True,
    organisation: Organisation | None = None,
) -> dict[int, int]:
    """How many (public) ideas each of the city's organisations takes part in, by organisation id.

    The one count of an organisation's ideas: the directory, the organisation's page, the API
    and the CLI all show this figure. ``organisation`` narrows the count to that one.
    """
    query = (
        select(Participation.organisation_id, func.count(distinct(Participation.idea_id)))
        .join(Idea, Idea.id == Participation.idea_id)
        .where(Idea.city_id == city.id)
        .group_by(Participation.organisation_id)
    )
    if organisation is not None:
        query = query.where(Participation.organisation_id == organisation.id)
    if public_only:
        query = query.where(Idea.visibility == Visibility.public)
    return dict(session.execute(query).tuples().all())


def organisation_idea_count(
    session: Session, organisation: Organisation, *, public_only: bool = True
) -> int:
    """How many (public) ideas one organisation takes part in (``organisation_idea_counts``)."""
    counts = organisation_idea_counts(
        session, organisation.city, public_only=public_only, organisation=organisation
    )
    return counts.get(organisation.id, 0)


def collaborators(
    session: Session, organisation: Organisation, *, public_only: bool = True, limit: int = 20
) -> list[tuple[Organisation, int]]:
    """Organisations sharing (public) ideas with this one, with how many ideas they share.

    The one list of an organisation's collaborators, for its page and the API alike.
    """
    mine = (
        select(Participation.idea_id)
        .join(Idea, Idea.id == Participation.idea_id)
        .where(Participation.organisation_id == organisation.id)
    )
    if public_only:
        mine = mine.where(Idea.visibility == Visibility.public)
    shared = func.count(distinct(Participation.idea_id))
    rows = session.execute(
        select(Organisation, shared)
        .join(Participation, Participation.organisation_id == Organisation.id)
        .where(Participation.idea_id.in_(mine), Organisation.id != organisation.id)
        .group_by(Organisation.id)
        .order_by(shared.desc(), Organisation.name)
        .limit(limit)
    )
    return [(org, count) for org, count in rows.tuples()]


def method_usage(
    session: Session, city: City, method: Method, *, public_only: bool = True
) -> tuple[int, int]:
    """(ideas the method or a local method mapped to it was applied to, of them implemented)."""
    related = select(Method.id).where((Method.id == method.id) | (Method.shared_key == method.key))
    query = (
        select(
            func.count(distinct(Idea.id)),
            func.count(distinct(Idea.id)).filter(Idea.phase.in_(IMPLEMENTED_PHASES)),
        )
        .join(MethodApplication, MethodApplication.idea_id == Idea.id)
        .where(Idea.city_id == city.id, MethodApplication.method_id.in_(related))
    )
    if public_only:
        query = query.where(Idea.visibility == Visibility.public)
    row = session.execute(query).one()
    return int(row[0] or 0), int(row[1] or 0)
