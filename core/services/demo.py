"""Synthetic demo data: deterministic ideas, stage histories and practices following a city's profile.

Everything written here is labelled synthetic in the data itself (``is_synthetic`` on ideas and
organisations, and a first line in each description), so it can never pass for real records.
Each city's ``[demo]`` table in city.toml documents how its synthetic ideas behave: which
methods it favours (``share``) and how much each changes the chance of implementation
(``lift``), so comparisons between cities show planted, known differences.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, delete, func, select
from sqlalchemy.orm import Session

from ..config import CityDefinition
from ..errors import ValidationError
from ..models import (
    City,
    FocusArea,
    Idea,
    IdeaFocusArea,
    IdeaSdg,
    InitiatorKind,
    InnovationFacet,
    Method,
    MethodApplication,
    MethodApplicationOrganisation,
    Organisation,
    OrganisationKind,
    OriginChannel,
    Participation,
    Stage,
    StageTransition,
    ValueDimension,
    utcnow,
)
from . import audit, bulk, facts
from . import ideas as ideas_service

CHUNK = 5_000
SYNTHETIC_LABEL = "*Syntetisk demodata – synthetic demo data.*"
#: Methods that bring more organisations to the table in the synthetic data.
COLLABORATIVE = {
    "co_creation_workshop",
    "living_lab",
    "citizen_dialogue",
    "challenge_driven_innovation",
    "test_bed",
}
#: Methods after which an idea is more likely to pass through a pilot.
PILOTING = {
    "living_lab",
    "test_bed",
    "prototyping",
    "lean_startup",
    "design_sprint",
    "innovation_sprint",
}

INITIATORS = [k.value for k in InitiatorKind]
FACETS = [f.value for f in InnovationFacet]
VALUE_DIMENSIONS = [v.value for v in ValueDimension]

SYNTHETIC_ORGANISATIONS = [
    ("exempel-bygg", "Exempelbygg AB (syntetisk)", "business"),
    ("exempel-tech", "Exempel Tech AB (syntetisk)", "business"),
    ("exempel-energi", "Exempelenergi AB (syntetisk)", "business"),
    ("exempel-foreningen", "Exempelföreningen (syntetisk)", "civil_society"),
    ("exempel-boende", "Boendegruppen Exempel (syntetisk)", "citizen_group"),
]

SUBJECTS = [
    "snöröjning",
    "kollektivtrafik",
    "äldreomsorg",
    "skolskjuts",
    "bibliotek",
    "fritidsgårdar",
    "cykelvägar",
    "fjärrvärme",
    "återvinning",
    "bostadsbyten",
    "parkering",
    "gatubelysning",
    "medborgarservice",
    "förskolor",
    "vattenförsörjning",
    "idrottshallar",
    "bygglov",
    "lokalförsörjning",
    "måltidsservice",
    "hemtjänst",
    "turistinformation",
    "laddinfrastruktur",
]
ACTIONS = [
    "Digital bokning för {s}",
    "Sensorer som styr {s}",
    "Gemensam plattform för {s}",
    "Delningstjänst inom {s}",
    "Invånardriven utveckling av {s}",
    "Energismart {s}",
    "Öppna data om {s}",
    "Mobil felanmälan för {s}",
    "Tillgänglig information om {s}",
    "Cirkulära flöden i {s}",
    "Samordnad planering av {s}",
    "Arktiskt anpassad {s}",
]


class _Stage(NamedTuple):
    id: int
    key: str
    phase: str


class _Ref(NamedTuple):
    """A plain copy of a row the generator reads thousands of times (ORM attributes are slow)."""

    id: int
    values: tuple[Any, ...]


@dataclass(frozen=True)
class DemoSummary:
    ideas: int
    transitions: int
    method_applications: int
    participations: int


def _phase_stages(session: Session, city: City) -> dict[str, Stage]:
    """The first stage of each canonical phase, in workflow order."""
    stages = list(
        session.scalars(select(Stage).where(Stage.city_id == city.id).order_by(Stage.position))
    )
    by_phase: dict[str, Stage] = {}
    for stage in stages:
        by_phase.setdefault(stage.phase.value, stage)
    return by_phase


def _check_workflow(definition: CityDefinition, by_phase: dict[str, Stage]) -> None:
    """The demo walks the canonical path; every step it takes must be legal in the city's workflow."""
    for phase in ("submitted", "screening", "development", "implemented", "closed"):
        if phase not in by_phase:
            raise ValidationError(
                f"{definition.file}: stages", f"the demo needs a stage in phase {phase!r}"
            )
    steps = [
        ("submitted", "screening"),
        ("screening", "development"),
        ("submitted", "closed"),
        ("screening", "closed"),
        ("development", "closed"),
    ]
    if "pilot" in by_phase:
        steps += [("development", "pilot"), ("pilot", "implemented"), ("pilot", "closed")]
    if not _pilot_required(by_phase):
        steps.append(("development", "implemented"))
    if "scaled" in by_phase:
        steps.append(("implemented", "scaled"))
    for a, b in steps:
        if by_phase[b].key not in (by_phase[a].transitions or []):
            raise ValidationError(
                f"{definition.file}: stages",
                f"the demo moves ideas from {by_phase[a].key!r} to {by_phase[b].key!r}, which the workflow forbids",
            )


def _pilot_required(by_phase: dict[str, Stage]) -> bool:
    """Whether the workflow sends every idea through a pilot on its way to implementation."""
    return "pilot" in by_phase and by_phase["implemented"].key not in (
        by_phase["development"].transitions or []
    )


def clear_demo(session: Session, city: City) -> int:
    """Remove the city's synthetic ideas (and everything hanging off them) and synthetic organisations."""
    removed = (
        session.scalar(
            select(func.count()).where(Idea.city_id == city.id, Idea.is_synthetic.is_(True))
        )
        or 0
    )
    synthetic_ideas = select(Idea.id).where(Idea.city_id == city.id, Idea.is_synthetic.is_(True))
    apps = select(MethodApplication.id).where(MethodApplication.idea_id.in_(synthetic_ideas))
    session.execute(
        delete(MethodApplicationOrganisation).where(
            MethodApplicationOrganisation.method_application_id.in_(apps)
        )
    )
    for model in (MethodApplication, StageTransition, Participation, IdeaSdg, IdeaFocusArea):
        session.execute(delete(model).where(model.idea_id.in_(synthetic_ideas)))
    session.execute(delete(Idea).where(Idea.city_id == city.id, Idea.is_synthetic.is_(True)))
    synthetic_orgs = select(Organisation.id).where(
        Organisation.city_id == city.id, Organisation.is_synthetic.is_(True)
    )
    session.execute(
        delete(MethodApplicationOrganisation).where(
            MethodApplicationOrganisation.organisation_id.in_(synthetic_orgs)
        )
    )
    session.execute(delete(Participation).where(Participation.organisation_id.in_(synthetic_orgs)))
    session.execute(
        delete(Organisation).where(
            Organisation.city_id == city.id, Organisation.is_synthetic.is_(True)
        )
    )
    # Reloaded demo data gets the same references again.
    ideas_service.forget_reference_counters(session, city)
    facts.rebuild(session, city.id)  # real ideas may have lost synthetic participants
    return removed


def load_demo(
    session: Session,
    definition: CityDefinition,
    city: City,
    *,
    ideas: int = 500,
    seed: int = 1,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> DemoSummary:
    """Replace the city's synthetic ideas with ``ideas`` new ones, the same for the same seed and day.

    Bulk-loaded with their history: no lifecycle hook (``innoplat_idea_submitted``,
    ``innoplat_stage_changed``, ``innoplat_method_applied``) is called for them.
    """
    if ideas < 0:
        raise ValidationError("ideas", "must be zero or more")
    if city.is_peer:
        raise ValidationError("city", "a peer city's data comes from its own platform")
    profile = definition.config.demo
    by_phase = _phase_stages(session, city)
    _check_workflow(definition, by_phase)
    methods = {m.key: m for m in session.scalars(select(Method))}
    unknown = [k for k in profile.methods if k not in methods]
    if unknown:
        raise ValidationError(f"{definition.file}: demo.methods", f"unknown method keys {unknown}")
    clear_demo(session, city)

    orgs = list(session.scalars(select(Organisation).where(Organisation.city_id == city.id)))
    for key, name, kind in SYNTHETIC_ORGANISATIONS:
        org = Organisation(
            city_id=city.id, key=key, name=name, kind=OrganisationKind(kind), is_synthetic=True
        )
        session.add(org)
        orgs.append(org)
    session.flush()
    owners = [
        o for o in orgs if o.kind.value in ("department", "municipal_company", "municipality")
    ] or orgs
    areas = list(session.scalars(select(FocusArea).where(FocusArea.city_id == city.id)))
    local_for = {m.shared_key: m for m in methods.values() if m.city_id == city.id}

    plain_stages = {phase: _Stage(st.id, st.key, st.phase.value) for phase, st in by_phase.items()}
    plain_methods = {key: _Ref(m.id, tuple(m.phases)) for key, m in methods.items()}
    plain_local = {key: _Ref(m.id, tuple(m.phases)) for key, m in local_for.items()}
    plain_owners = [_Ref(o.id, ()) for o in owners]
    plain_orgs = [_Ref(o.id, ()) for o in orgs]
    plain_areas = [_Ref(a.id, tuple(a.sdgs)) for a in areas]
    pilot_required = _pilot_required(by_phase)
    rng = random.Random(f"innoplat-demo:{definition.slug}:{seed}")
    # Nothing happens in the future; the day (not the second) bounds the data, so a seed gives
    # the same data all day long.
    now = now or utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    first_year, last_year = profile.years
    start = datetime(first_year, 1, 1)
    end = min(datetime(last_year, 12, 31), now)
    span = max((end - start).total_seconds(), 86_400.0)
    next_id = {
        model: (session.scalar(select(func.max(model.id))) or 0) + 1
        for model in (Idea, MethodApplication)
    }
    totals = [0, 0, 0, 0]
    done = 0
    while done < ideas:
        batch = min(CHUNK, ideas - done)
        generated = [
            _idea(
                rng,
                profile,
                plain_stages,
                plain_methods,
                plain_local,
                plain_owners,
                plain_orgs,
                plain_areas,
                start,
                span,
                now,
                pilot_required,
            )
            for _ in range(batch)
        ]
        generated.sort(key=lambda g: g["idea"]["submitted_at"])
        # Numbers come from the city's counters, as for submitted ideas: the demo may be
        # loaded while citizens submit.
        per_year = Counter(g["idea"]["submitted_at"].year for g in generated)
        numbers = {
            year: ideas_service.reserve_reference_numbers(session, city, year, n) - n
            for year, n in sorted(per_year.items())
        }
        for g in generated:
            year = g["idea"]["submitted_at"].year
            numbers[year] += 1
            g["idea"]["reference"] = ideas_service.format_reference(city, year, numbers[year])
            g["idea"]["city_id"] = city.id
        # Explicit ids and the bulk writer: RETURNING would make SQLite insert row by row.
        ids = range(next_id[Idea], next_id[Idea] + batch)
        next_id[Idea] += batch
        transitions, participations, sdgs, focus, apps, links = [], [], [], [], [], []
        for idea_id, g in zip(ids, generated, strict=True):
            g["idea"]["id"] = idea_id
            transitions += [{**t, "idea_id": idea_id} for t in g["transitions"]]
            participations += [{**p, "idea_id": idea_id} for p in g["participations"]]
            sdgs += [{"idea_id": idea_id, "sdg": n} for n in g["sdgs"]]
            focus += [{"idea_id": idea_id, "focus_area_id": a} for a in g["focus"]]
            for app in g["applications"]:
                app_id = next_id[MethodApplication]
                next_id[MethodApplication] += 1
                apps.append({**app["row"], "id": app_id, "idea_id": idea_id})
                links += [
                    {"method_application_id": app_id, "organisation_id": o}
                    for o in app["organisations"]
                ]
        bulk.insert_rows(session, _table(Idea), [g["idea"] for g in generated])
        for model, rows in (
            (StageTransition, transitions),
            (Participation, participations),
            (IdeaSdg, sdgs),
            (IdeaFocusArea, focus),
            (MethodApplication, apps),
            (MethodApplicationOrganisation, links),
        ):
            bulk.insert_rows(session, _table(model), rows)
        totals = [
            totals[0] + batch,
            totals[1] + len(transitions),
            totals[2] + len(apps),
            totals[3] + len(participations),
        ]
        done += batch
        if progress:
            progress(batch)
    bulk.advance_sequences(session, (_table(Idea), _table(MethodApplication)))
    facts.rebuild(session, city.id)  # once for the whole load, not per row
    audit.record_for(
        session, city, "demo_loaded", actor="innoplat demo", after={"ideas": ideas, "seed": seed}
    )
    return DemoSummary(*totals)


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def _idea(
    rng: random.Random,
    profile: Any,
    by_phase: dict[str, _Stage],
    methods: dict[str, _Ref],
    local_for: dict[str, _Ref],
    owners: list[_Ref],
    orgs: list[_Ref],
    areas: list[_Ref],
    start: datetime,
    span: float,
    now: datetime,
    pilot_required: bool,
) -> dict[str, Any]:
    submitted = start + timedelta(seconds=rng.random() * span)
    chosen = [key for key, m in profile.methods.items() if rng.random() < m.share]
    lift = math.prod(profile.methods[k].lift for k in chosen)
    succeeds = rng.random() < min(0.95, profile.base_implementation_rate * lift)
    pace = 1 / math.sqrt(lift)  # methods that help also tend to speed things up, a little

    path = ["submitted", "screening", "development"]
    if pilot_required or (
        "pilot" in by_phase and rng.random() < (0.85 if PILOTING & set(chosen) else 0.45)
    ):
        path.append("pilot")
    if succeeds:
        path.append("implemented")
        if "scaled" in by_phase and rng.random() < 0.25:
            path.append("scaled")
    else:
        path = path[: rng.choice([1, 2, 3, len(path)])]
        path.append("closed")
    mean_days = {
        "submitted": 20,
        "screening": 40,
        "development": 110,
        "pilot": 150,
        "implemented": 300,
    }

    transitions: list[dict[str, Any]] = []
    entered: dict[str, datetime] = {"submitted": submitted}
    at = submitted
    previous: _Stage | None = None
    for phase in path:
        stage = by_phase[phase]
        if previous is not None:
            at = at + timedelta(
                days=1 + rng.expovariate(1 / (mean_days.get(previous.phase, 60) * pace))
            )
            if at > now:
                break
        entered[phase] = at
        transitions.append(
            {
                "from_stage_id": previous.id if previous else None,
                "to_stage_id": stage.id,
                "from_phase": previous.phase if previous else None,
                "to_phase": stage.phase,
                "at": at,
                "actor": "innoplat demo",
                "note": "",
            }
        )
        previous = stage
    assert previous is not None
    reached = [t["to_phase"] for t in transitions]

    subject = rng.choice(SUBJECTS)
    title = rng.choice(ACTIONS).format(s=subject)
    title = title[0].upper() + title[1:]
    chosen_areas = rng.sample(areas, k=min(len(areas), rng.choice([1, 1, 2]))) if areas else []
    owner = rng.choice(owners)
    partner_count = rng.choice([0, 1, 1, 2, 3]) + len(COLLABORATIVE & set(chosen))
    partners = rng.sample(
        [o for o in orgs if o.id != owner.id], k=min(partner_count, len(orgs) - 1)
    )
    participations = [{"organisation_id": owner.id, "role": "owner"}] + [
        {
            "organisation_id": o.id,
            "role": rng.choice(["partner", "partner", "expert", "user", "funder"]),
        }
        for o in partners
    ]

    applications = []
    for key in chosen:
        method = methods[key]
        if key in local_for and rng.random() < 0.5:
            method = local_for[key]
        phases = [p for p in method.values if p in entered] or ["submitted"]
        started = entered[phases[0]] + timedelta(days=rng.randint(0, 14))
        if started > now:
            started = entered[phases[0]]
        if "closed" in reached:
            outcome = "failed" if rng.random() < 0.7 else "abandoned"
        elif set(reached) & {"implemented", "scaled"}:
            outcome = "succeeded" if rng.random() < 0.8 else "partly_succeeded"
        else:
            outcome = "ongoing"
        ended = None if outcome == "ongoing" else started + timedelta(days=rng.randint(7, 120))
        if ended and ended > now:
            ended = None
            outcome = "ongoing"
        helpers = rng.sample(
            [p["organisation_id"] for p in participations], k=min(2, len(participations))
        )
        applications.append(
            {
                "row": {
                    "method_id": method.id,
                    "started_on": started.date(),
                    "ended_on": ended.date() if ended else None,
                    "facilitator_id": owner.id,
                    "outcome": outcome,
                    "outcome_note": "",
                    "created_at": started,
                },
                "organisations": helpers,
            }
        )

    channel = (
        "hackathon"
        if "hackathon" in chosen and rng.random() < 0.6
        else rng.choice(
            [
                "web",
                "web",
                "web",
                "email",
                "workshop",
                "staff",
                "staff",
                "citizen_dialogue",
                "partner",
            ]
        )
    )
    return {
        "idea": {
            "title": title,
            "summary": f"Syntetiskt exempel: {title.lower()} – en idé om {subject} i kommunen.",
            "description": f"{SYNTHETIC_LABEL}\n\nIdén gäller **{subject}**. Den är genererad för att visa plattformen.",
            "origin_channel": OriginChannel(channel).value,
            "initiator_kind": rng.choice(INITIATORS),
            "stage_id": previous.id,
            "phase": previous.phase,
            "owner_organisation_id": owner.id,
            "facet": rng.choice(FACETS),
            "value_dimensions": rng.sample(VALUE_DIMENSIONS, k=rng.randint(1, 2)),
            "visibility": "public" if rng.random() < 0.92 else "internal",
            "is_synthetic": True,
            "submitted_at": submitted,
            "updated_at": transitions[-1]["at"],
            "version": 1,
        },
        "transitions": transitions,
        "participations": participations,
        "sdgs": sorted({n for a in chosen_areas for n in a.values}),
        "focus": [a.id for a in chosen_areas],
        "applications": applications,
    }
