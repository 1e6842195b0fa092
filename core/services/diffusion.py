"""Practices that travel: adopting a sibling city's idea here, and who adopted what from whom.

An adoption is an idea whose ``reused_from_reference`` names an idea of *another* city (a
peer's, imported from its exchange bundle, or another city of this database). The link is
stored once, on the adopting idea, and travels in exchange bundles; the other direction
(who adopted an idea) is found by looking the reference up, so every city that holds both
bundles sees the same network.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from ..errors import NotFound, ValidationError
from ..models import IMPLEMENTED_PHASES, City, Idea, StageTransition, Visibility
from . import ideas as idea_service


@dataclass(frozen=True)
class Adoption:
    """One idea adopted from another city's idea, and how far each got."""

    source: Idea
    adopted: Idea
    source_city: City
    adopting_city: City
    #: Days from the source idea's submission to the adoption (the adopted idea's submission).
    days_to_adoption: float
    source_implemented_at: datetime | None
    adopted_implemented_at: datetime | None


def adopt_idea(
    session: Session,
    city: City,
    reference: str,
    *,
    title: str | None = None,
    actor: str | None = None,
    submitted_at: datetime | None = None,
) -> Idea:
    """Create a local idea from another city's idea, linked to it through ``reused_from``.

    The new idea starts in the city's first stage with the source's title (or ``title``),
    summary and description, visible to the public like the source; ``actor`` is recorded.
    """
    source = idea_service.get_idea(session, reference)
    if source.city_id == city.id:
        raise ValidationError("reference", f"{source.reference} is already an idea of {city.slug}")
    if source.visibility != Visibility.public:
        # Another city's internal idea is not there for this city: no hint that it exists.
        raise NotFound(f"no idea {reference!r}")
    return idea_service.submit_idea(
        session,
        city,
        title=title or source.title,
        summary=source.summary,
        description=source.description,
        initiator_kind="staff",
        origin_channel="staff",
        reused_from=source.reference,
        actor=actor,
        submitted_at=submitted_at,
    )


def adoptions_of(session: Session, idea: Idea) -> list[Idea]:
    """The ideas (of any city here) adopted from ``idea``, oldest first."""
    return list(
        session.scalars(
            select(Idea)
            .where(Idea.reused_from_reference == idea.reference, Idea.city_id != idea.city_id)
            .order_by(Idea.submitted_at, Idea.id)
        )
    )


def adoptions(session: Session, *, public_only: bool = True) -> list[Adoption]:
    """Every adoption across the cities in this database, newest first."""
    source = aliased(Idea)
    adopted = aliased(Idea)
    first_implemented = (
        select(StageTransition.idea_id, func.min(StageTransition.at).label("at"))
        .where(StageTransition.to_phase.in_(IMPLEMENTED_PHASES))
        .group_by(StageTransition.idea_id)
        .subquery()
    )
    source_done = aliased(first_implemented)
    adopted_done = aliased(first_implemented)
    query = (
        select(source, adopted, source_done.c.at, adopted_done.c.at)
        .join(adopted, adopted.reused_from_reference == source.reference)
        .outerjoin(source_done, source_done.c.idea_id == source.id)
        .outerjoin(adopted_done, adopted_done.c.idea_id == adopted.id)
        .where(adopted.city_id != source.city_id)
        .order_by(adopted.submitted_at.desc(), adopted.id.desc())
    )
    if public_only:
        query = query.where(
            source.visibility == Visibility.public, adopted.visibility == Visibility.public
        )
    cities = {c.id: c for c in session.scalars(select(City))}
    found = []
    for src, new, src_at, new_at in session.execute(query).tuples():
        found.append(
            Adoption(
                source=src,
                adopted=new,
                source_city=cities[src.city_id],
                adopting_city=cities[new.city_id],
                days_to_adoption=(new.submitted_at - src.submitted_at).total_seconds() / 86400,
                source_implemented_at=src_at,
                adopted_implemented_at=new_at,
            )
        )
    return found


@dataclass(frozen=True)
class CityDiffusion:
    """Diffusion figures of one city: what travelled from it, and what it took up."""

    city: City
    #: The city's ideas adopted in at least one other city.
    adopted_elsewhere: int
    #: Adoptions of the city's ideas by other cities (one idea may be adopted several times).
    adoptions_by_others: int
    #: Ideas this city adopted from others.
    adopted_here: int
    #: Median days from an idea's submission to its adoption elsewhere (None: no adoption).
    median_days_to_adoption: float | None


def diffusion_figures(session: Session, *, public_only: bool = True) -> list[CityDiffusion]:
    """Per city (the instance's own first, then peers): adoptions from and by it."""
    found = adoptions(session, public_only=public_only)
    result = []
    for city in session.scalars(select(City).order_by(City.is_peer, City.slug)):
        outgoing = [a for a in found if a.source_city.id == city.id]
        days = sorted(a.days_to_adoption for a in outgoing)
        middle = len(days) // 2
        median = None
        if days:
            median = days[middle] if len(days) % 2 else (days[middle - 1] + days[middle]) / 2
        result.append(
            CityDiffusion(
                city=city,
                adopted_elsewhere=len({a.source.id for a in outgoing}),
                adoptions_by_others=len(outgoing),
                adopted_here=sum(1 for a in found if a.adopting_city.id == city.id),
                median_days_to_adoption=median,
            )
        )
    return result
