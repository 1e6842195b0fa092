"""Ideas: submitting them, moving them through the city's workflow, editing and finding them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, func, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from .. import db, validation
from ..errors import ConflictError, IllegalTransition, NotFound, ReadOnlyError, ValidationError
from ..models import (
    IMPLEMENTED_PHASES,
    Base,
    City,
    FocusArea,
    Idea,
    IdeaFocusArea,
    IdeaReferenceCounter,
    IdeaSdg,
    InitiatorKind,
    InnovationFacet,
    Method,
    MethodApplication,
    Organisation,
    OriginChannel,
    Participation,
    Person,
    Stage,
    StageTransition,
    ValueDimension,
    Visibility,
    utcnow,
)
from ..plugins import hooks_of
from . import audit, records, search
from . import consent as consent_texts
from .serialisation import timestamp

TITLE_MAX = validation.column_length(Idea.title) or 200
SUMMARY_MAX = validation.column_length(Idea.summary) or 600
#: Descriptions are Markdown of any reasonable length (a page or two), not whole documents.
DESCRIPTION_MAX = 20_000
#: The longest note on a stage change.
NOTE_MAX = 2_000
EDITABLE = ("title", "summary", "description", "visibility", "facet", "value_dimensions")


@dataclass(frozen=True)
class Submitter:
    """Who submitted an idea. Stored only with explicit consent."""

    name: str | None = None
    email: str | None = None
    consent: bool = False
    locale: str | None = None
    #: The consent text the submitter agreed to (its version is stored with the timestamp).
    consent_text: consent_texts.ConsentText = consent_texts.IDEA_SUBMISSION


def _enum_value(enum_cls: Any, value: Any, field_name: str) -> Any:
    if value is None or isinstance(value, enum_cls):
        return value
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum_cls)
        raise ValidationError(field_name, f"expected one of {allowed} (got {value!r})") from None


def _text(
    value: str | None, field_name: str, maximum: int, required: bool, multiline: bool = True
) -> str:
    return validation.text(
        value, field_name, maximum=maximum, required=required, multiline=multiline
    )


def snapshot(idea: Idea) -> dict[str, Any]:
    """The idea's editable fields as plain values, for the audit trail and conflict pages."""
    return {
        "title": idea.title,
        "summary": idea.summary,
        "description": idea.description,
        "visibility": idea.visibility.value if idea.visibility else None,
        "facet": idea.facet.value if idea.facet else None,
        "value_dimensions": list(idea.value_dimensions or []),
        "stage": idea.stage.key if idea.stage else None,
        "version": idea.version,
    }


def reserve_reference_numbers(session: Session, city: City, year: int, count: int = 1) -> int:
    """Take ``count`` consecutive idea numbers of the city and year; returns the last one.

    One atomic statement on the city's counter row, race-free on SQLite and PostgreSQL: the
    row stays locked until the transaction ends, so simultaneous submissions queue for a
    moment instead of colliding, and a rolled-back submission gives its number back. A
    counter that does not exist yet starts after the highest number already given out.
    """
    counter = Base.metadata.tables[IdeaReferenceCounter.__tablename__]
    key = (counter.c.city_id == city.id) & (counter.c.year == year)
    taken = session.scalar(
        update(counter)
        .where(key)
        .values(last_number=counter.c.last_number + count)
        .returning(counter.c.last_number)
    )
    if taken is not None:
        return int(taken)
    start = _highest_reference_number(session, city, year)
    statement = db.insert(session, counter).values(
        city_id=city.id, year=year, last_number=start + count
    )
    statement = statement.on_conflict_do_update(
        index_elements=[counter.c.city_id, counter.c.year],
        set_={"last_number": counter.c.last_number + count},
    ).returning(counter.c.last_number)
    return int(session.scalar(statement))


def forget_reference_counters(session: Session, city: City) -> None:
    """Let the city's numbering start again after the highest reference still in use.

    For removing demo data only: a number once shown to a citizen must never be reused.
    """
    session.execute(delete(IdeaReferenceCounter).where(IdeaReferenceCounter.city_id == city.id))


def _highest_reference_number(session: Session, city: City, year: int) -> int:
    prefix = f"{city.reference_prefix}-{year}-"
    references = session.scalars(
        select(Idea.reference).where(Idea.city_id == city.id, Idea.reference.like(prefix + "%"))
    )
    numbers = [int(r.rsplit("-", 1)[1]) for r in references if r.rsplit("-", 1)[1].isdigit()]
    return max(numbers, default=0)


def format_reference(city: City, year: int, number: int) -> str:
    return f"{city.reference_prefix}-{year}-{number:04d}"


def next_reference(session: Session, city: City, year: int) -> str:
    """A new idea's reference such as KIR-2026-0042, taken from the city's counter."""
    return format_reference(city, year, reserve_reference_numbers(session, city, year))


def _writable(city: City) -> None:
    if city.is_peer:
        raise ReadOnlyError(f"{city.label()} is a peer platform: its data is read-only here")


def submit_idea(
    session: Session,
    city: City,
    *,
    title: str,
    summary: str = "",
    description: str = "",
    origin_channel: str | OriginChannel = OriginChannel.web,
    initiator_kind: str | InitiatorKind = InitiatorKind.citizen,
    focus_areas: Sequence[str] = (),
    sdgs: Sequence[int] = (),
    owner_organisation: str | None = None,
    visibility: str | Visibility = Visibility.public,
    facet: str | InnovationFacet | None = None,
    value_dimensions: Sequence[str] = (),
    reused_from: str | None = None,
    submitter: Submitter | None = None,
    actor: str | None = None,
    submitted_at: datetime | None = None,
) -> Idea:
    """Submit an idea to the city's first stage; the idea gets a reference such as KIR-2026-0042."""
    _writable(city)
    title = _text(title, "title", TITLE_MAX, required=True, multiline=False)
    summary = _text(summary, "summary", SUMMARY_MAX, required=False)
    description = _text(description, "description", DESCRIPTION_MAX, required=False)
    if submitted_at is not None:
        records.check_not_future(submitted_at, "submitted_at")
    channel = _enum_value(OriginChannel, origin_channel, "origin_channel")
    initiator = _enum_value(InitiatorKind, initiator_kind, "initiator_kind")
    visibility_value = _enum_value(Visibility, visibility, "visibility")
    facet_value = _enum_value(InnovationFacet, facet, "facet")
    dimensions = [
        _enum_value(ValueDimension, v, "value_dimensions").value for v in value_dimensions
    ]

    areas = []
    for key in validation.distinct(focus_areas, "focus_areas"):
        area = session.scalar(
            select(FocusArea).where(FocusArea.city_id == city.id, FocusArea.key == key)
        )
        if area is None:
            raise ValidationError("focus_areas", f"{key!r} is not a focus area of {city.slug}")
        areas.append(area)
    goals = set()
    for n in validation.distinct(sdgs, "sdgs"):
        number = validation.integer(n, "sdgs", minimum=1, maximum=17)
        if number is None:
            raise ValidationError("sdgs", "UN SDGs are numbered 1 to 17")
        goals.add(number)
    for area in areas:
        goals.update(area.sdgs)

    owner = None
    if owner_organisation:
        owner = organisation_of(session, city, owner_organisation, "owner_organisation")

    person = None
    if submitter and (submitter.name or submitter.email):
        if not submitter.consent:
            raise ValidationError(
                "consent", "storing a name or e-mail address needs the submitter's consent"
            )
        person = Person(
            city_id=city.id,
            name=validation.optional_text(submitter.name, "name", column=Person.name),
            email=validation.email(submitter.email),
            locale=validation.optional_text(submitter.locale, "locale", column=Person.locale),
            consent_at=utcnow(),
            consent_version=submitter.consent_text.version,
        )
        session.add(person)

    first = session.scalar(
        select(Stage).where(Stage.city_id == city.id).order_by(Stage.position).limit(1)
    )
    if first is None:
        raise NotFound(f"{city.slug} has no stages (run: innoplat init --city {city.slug})")
    when = submitted_at or utcnow()
    idea = Idea(
        city_id=city.id,
        reference=next_reference(session, city, when.year),
        title=title,
        summary=summary,
        description=description,
        origin_channel=channel,
        initiator_kind=initiator,
        stage_id=first.id,
        phase=first.phase,
        owner_organisation=owner,
        submitter=person,
        facet=facet_value,
        value_dimensions=dimensions,
        reused_from_reference=validation.optional_text(
            reused_from, "reused_from", column=Idea.reused_from_reference
        ),
        visibility=visibility_value,
        submitted_at=when,
        updated_at=when,
    )
    idea.city = city
    idea.stage = first
    idea.focus_areas = areas
    idea.sdg_links = [IdeaSdg(sdg=n) for n in sorted(goals)]
    session.add(idea)
    session.flush()
    session.add(
        StageTransition(
            idea_id=idea.id,
            from_stage_id=None,
            to_stage_id=first.id,
            from_phase=None,
            to_phase=first.phase,
            at=when,
            actor=actor,
            note="",
        )
    )
    if owner is not None:
        session.add(Participation(idea_id=idea.id, organisation_id=owner.id, role="owner"))
    audit.record_for(session, idea, "submitted", actor=actor, after=snapshot(idea))
    session.flush()
    hooks_of(session).innoplat_idea_submitted(session=session, idea=idea)
    return idea


def organisation_of(session: Session, city: City, key: str, field_name: str) -> Organisation:
    """The city's organisation with this key; a ValidationError naming ``field_name`` otherwise."""
    org = session.scalar(
        select(Organisation).where(Organisation.city_id == city.id, Organisation.key == key)
    )
    if org is None:
        raise ValidationError(field_name, f"{key!r} is not an organisation of {city.slug}")
    return org


def get_idea(session: Session, reference: str, *, city: City | None = None) -> Idea:
    query = select(Idea).where(Idea.reference == reference.strip().upper())
    if city is not None:
        query = query.where(Idea.city_id == city.id)
    idea = session.scalar(query)
    if idea is None:
        raise NotFound(f"no idea with reference {reference!r}")
    return idea


def allowed_stages(session: Session, idea: Idea) -> list[Stage]:
    """The stages the city's workflow lets this idea move to next."""
    targets = list(idea.stage.transitions or [])
    if not targets:
        return []
    stages = session.scalars(
        select(Stage).where(Stage.city_id == idea.city_id, Stage.key.in_(targets))
    )
    return sorted(stages, key=lambda s: s.position)


def _version(value: Any) -> int | None:
    """The version a client edited: a whole number (a form sends it as text)."""
    return validation.integer(value, "version", minimum=0)


def _check_version(idea: Idea, expected_version: int | None) -> None:
    if expected_version is not None and idea.version != expected_version:
        raise ConflictError(
            f"{idea.reference} was changed by someone else (version {idea.version}, "
            f"you edited version {expected_version}); nothing was overwritten",
            current_version=idea.version,
        )


def _flush_versioned(session: Session, idea: Idea) -> None:
    reference = idea.reference  # read now: after a failed flush the session must be rolled back
    try:
        session.flush()
    except (StaleDataError, OperationalError) as error:
        if isinstance(error, OperationalError) and not db.is_stale_snapshot(error):
            raise
        raise ConflictError(
            f"{reference} was changed by someone else at the same time; nothing was overwritten"
        ) from None


def _history_time(session: Session, idea: Idea, at: datetime | None) -> datetime:
    """When a move happens: not in the future, not before the idea's submission or last move.

    An idea's history is in time order and starts at its submission; siblings refuse a
    bundle whose histories are not (docs/exchange.md), so the move is refused here too.
    """
    if at is None:
        at = utcnow()
    else:
        records.check_not_future(at, "at")
        at = at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at
    last = session.scalar(
        select(func.max(StageTransition.at)).where(StageTransition.idea_id == idea.id)
    )
    earliest = max(t for t in (last, idea.submitted_at) if t is not None)
    if at < earliest:
        what = "last move" if last is not None and last > idea.submitted_at else "submission"
        raise ValidationError(
            "at",
            f"{timestamp(at, exact=True)} is before {idea.reference}'s {what} "
            f"({timestamp(earliest, exact=True)}): an idea's history is in time order",
        )
    return at


def move_idea(
    session: Session,
    idea: Idea,
    to: str,
    *,
    note: str = "",
    actor: str | None = None,
    expected_version: int | str | None = None,
    at: datetime | None = None,
) -> StageTransition:
    """Move an idea to another stage, if the city's workflow allows it."""
    _writable(idea.city)
    _check_version(idea, _version(expected_version))
    note = _text(note, "note", NOTE_MAX, required=False)
    actor = validation.optional_text(actor, "actor", column=StageTransition.actor)
    target = session.scalar(select(Stage).where(Stage.city_id == idea.city_id, Stage.key == to))
    if target is None:
        known = ", ".join(s.key for s in idea.city.stages)
        raise ValidationError("to", f"{to!r} is not a stage of {idea.city.slug} (stages: {known})")
    allowed = [s.key for s in allowed_stages(session, idea)]
    if target.key not in allowed:
        raise IllegalTransition(
            "to",
            f"{idea.reference} cannot move from {idea.stage.key!r} to {target.key!r}; "
            f"allowed next stages: {', '.join(allowed) or 'none'}",
        )
    when = _history_time(session, idea, at)
    before = snapshot(idea)
    transition = StageTransition(
        idea_id=idea.id,
        from_stage_id=idea.stage_id,
        to_stage_id=target.id,
        from_phase=idea.phase,
        to_phase=target.phase,
        at=when,
        actor=actor,
        note=note,
    )
    transition.from_stage = idea.stage
    transition.to_stage = target
    session.add(transition)
    idea.stage = target
    idea.phase = target.phase
    idea.updated_at = utcnow()
    _flush_versioned(session, idea)
    audit.record_for(
        session,
        idea,
        "stage_changed",
        actor=actor,
        before=before,
        after={**snapshot(idea), "note": transition.note},
    )
    hooks_of(session).innoplat_stage_changed(session=session, idea=idea, transition=transition)
    return transition


def update_idea(
    session: Session,
    idea: Idea,
    *,
    expected_version: int | str,
    actor: str | None = None,
    **changes: Any,
) -> Idea:
    """Edit an idea's text fields; a concurrent edit raises ConflictError and overwrites nothing."""
    _writable(idea.city)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError(
            sorted(unknown)[0], f"cannot be edited; editable fields: {', '.join(EDITABLE)}"
        )
    _check_version(idea, _version(expected_version))
    before = snapshot(idea)
    if "title" in changes:
        idea.title = _text(changes["title"], "title", TITLE_MAX, required=True, multiline=False)
    if "summary" in changes:
        idea.summary = _text(changes["summary"], "summary", SUMMARY_MAX, required=False)
    if "description" in changes:
        idea.description = _text(
            changes["description"], "description", DESCRIPTION_MAX, required=False
        )
    if "visibility" in changes:
        idea.visibility = _enum_value(Visibility, changes["visibility"], "visibility")
    if "facet" in changes:
        idea.facet = _enum_value(InnovationFacet, changes["facet"], "facet")
    if "value_dimensions" in changes:
        idea.value_dimensions = [
            _enum_value(ValueDimension, v, "value_dimensions").value
            for v in changes["value_dimensions"]
        ]
    if snapshot(idea) == before:
        return idea
    idea.updated_at = utcnow()
    _flush_versioned(session, idea)
    audit.record_for(session, idea, "edited", actor=actor, before=before, after=snapshot(idea))
    return idea


@dataclass
class IdeaFilter:
    """What a list of ideas is narrowed to; every field is optional."""

    stage: str | None = None
    phase: str | None = None
    focus_area: str | None = None
    sdg: int | None = None
    method: str | None = None
    organisation: str | None = None
    origin_channel: str | None = None
    text: str | None = None
    public_only: bool = False
    #: "relevance" ranks full-text hits best first, and lists the newest first without a text.
    sort: str = "relevance"


SORTS = {
    "relevance": (Idea.submitted_at.desc(), Idea.id.desc()),
    "newest": (Idea.submitted_at.desc(), Idea.id.desc()),
    "oldest": (Idea.submitted_at.asc(), Idea.id.asc()),
    "updated": (Idea.updated_at.desc(), Idea.id.desc()),
    "title": (Idea.title.asc(), Idea.id.asc()),
}


def _linked(idea_id: Any, target: Any, condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """Ideas that a link table (its ``idea_id``) joins to a ``target`` row meeting ``condition``."""
    return Idea.id.in_(select(idea_id).join(target).where(condition))


def ideas_query(city: City, filters: IdeaFilter | None = None) -> Select[tuple[Idea]]:
    """A query for a city's ideas narrowed by ``filters``; callers page through it."""
    f = filters or IdeaFilter()
    query = select(Idea).where(Idea.city_id == city.id)
    if f.public_only:
        query = query.where(Idea.visibility == Visibility.public)
    if f.stage:
        query = query.join(Stage, Idea.stage_id == Stage.id).where(Stage.key == f.stage)
    if f.phase:
        query = query.where(Idea.phase == f.phase)
    if f.focus_area:
        area = and_(FocusArea.key == f.focus_area, FocusArea.city_id == city.id)
        query = query.where(_linked(IdeaFocusArea.idea_id, FocusArea, area))
    if f.sdg:
        query = query.where(Idea.id.in_(select(IdeaSdg.idea_id).where(IdeaSdg.sdg == f.sdg)))
    if f.method:
        method = or_(Method.key == f.method, Method.shared_key == f.method)
        query = query.where(_linked(MethodApplication.idea_id, Method, method))
    if f.organisation:
        org = and_(Organisation.key == f.organisation, Organisation.city_id == city.id)
        query = query.where(_linked(Participation.idea_id, Organisation, org))
    if f.origin_channel:
        query = query.where(Idea.origin_channel == f.origin_channel)
    order: tuple[Any, ...] = SORTS.get(f.sort, SORTS["newest"])
    searched = search.parse(f.text)
    if searched:
        ranked = f.sort not in SORTS or f.sort == "relevance"
        hits = search.idea_hits(searched, ranked=ranked)
        query = query.join(hits, hits.c.id == Idea.id)
        if ranked:
            order = (hits.c.score.desc(), *order)
    return query.order_by(*order)


def list_ideas(
    session: Session,
    city: City,
    filters: IdeaFilter | None = None,
    *,
    limit: int = 50,
    offset: int = 0,
) -> list[Idea]:
    query = ideas_query(city, filters).options(selectinload(Idea.stage)).limit(limit).offset(offset)
    return list(session.scalars(query))


def count_ideas(session: Session, city: City, filters: IdeaFilter | None = None) -> int:
    # Sorted by date, a full-text search skips ranking its hits: counting needs no ranks.
    unranked = replace(filters or IdeaFilter(), sort="newest")
    query = ideas_query(city, unranked).order_by(None)
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def recently_implemented(
    session: Session, city: City, *, public_only: bool = True, limit: int = 3
) -> list[Idea]:
    """The ideas that most recently reached implementation (or spread further), newest first."""
    reached = (
        select(StageTransition.idea_id, func.max(StageTransition.at).label("at"))
        .where(StageTransition.to_phase.in_(IMPLEMENTED_PHASES))
        .group_by(StageTransition.idea_id)
        .subquery()
    )
    query = (
        select(Idea)
        .join(reached, reached.c.idea_id == Idea.id)
        .where(Idea.city_id == city.id, Idea.phase.in_(IMPLEMENTED_PHASES))
        .order_by(reached.c.at.desc(), Idea.id.desc())
        .limit(limit)
    )
    if public_only:
        query = query.where(Idea.visibility == Visibility.public)
    return list(session.scalars(query))


def funnel(session: Session, city: City, *, public_only: bool = False) -> list[tuple[Stage, int]]:
    """How many ideas stand in each of the city's stages right now, in workflow order."""
    query = (
        select(Idea.stage_id, func.count()).where(Idea.city_id == city.id).group_by(Idea.stage_id)
    )
    if public_only:
        query = query.where(Idea.visibility == Visibility.public)
    counts = dict(session.execute(query).tuples().all())
    return [(stage, counts.get(stage.id, 0)) for stage in city.stages]


def stuck_ideas(
    session: Session, city: City, *, days: int, now: datetime | None = None, limit: int = 50
) -> list[tuple[Idea, datetime]]:
    """Ideas still open that have stood in their stage longer than ``days``, longest first.

    Returns each idea with the time it entered its current stage; closed, paused and
    implemented ideas are not waiting for anyone.
    """
    cutoff = (now or utcnow()) - timedelta(days=days)
    entered = (
        select(StageTransition.idea_id, func.max(StageTransition.at).label("entered_at"))
        .join(Idea, Idea.id == StageTransition.idea_id)
        .where(Idea.city_id == city.id)
        .group_by(StageTransition.idea_id)
        .subquery()
    )
    done = ("closed", "paused", *IMPLEMENTED_PHASES)
    rows = session.execute(
        select(Idea, entered.c.entered_at)
        .join(entered, entered.c.idea_id == Idea.id)
        .where(Idea.city_id == city.id, Idea.phase.not_in(done), entered.c.entered_at < cutoff)
        .options(selectinload(Idea.stage))
        .order_by(entered.c.entered_at.asc(), Idea.id.asc())
        .limit(limit)
    )
    return [(idea, at) for idea, at in rows.tuples()]
