"""Round trip: any valid bundle imported and exported again comes back identical (property test)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from innoplat.core.models import (
    InitiatorKind,
    InnovationFacet,
    Method,
    OrganisationKind,
    OriginChannel,
    Outcome,
    ParticipationRole,
    Phase,
    ValueDimension,
)
from innoplat.core.services import cities, exchange

KEY = st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True)
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)
TRANSLATED = st.dictionaries(st.sampled_from(["sv", "en", "fi", "se"]), TEXT, max_size=2)
MOMENT = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 12, 31))
DAY = st.dates(min_value=datetime(2000, 1, 1).date(), max_value=datetime(2030, 12, 31).date())
SDGS = st.lists(st.integers(1, 17), unique=True, max_size=3).map(sorted)


def _values(enum_cls):
    return st.sampled_from([m.value for m in enum_cls])


def _maybe(strategy):
    return st.none() | strategy


@st.composite
def bundles(draw, catalogue: dict[str, dict]):
    """A valid bundle of the peer city "testby", in the order an export writes it."""
    stage_keys = draw(st.lists(KEY, min_size=1, max_size=4, unique=True))
    stages = [
        {
            "key": key,
            "phase": draw(_values(Phase)),
            "position": position,
            "name": draw(TRANSLATED),
            "transitions": draw(st.lists(st.sampled_from(stage_keys), unique=True, max_size=3)),
        }
        for position, key in enumerate(stage_keys)
    ]
    phase_of = {s["key"]: s["phase"] for s in stages}
    area_keys = draw(st.lists(KEY, max_size=3, unique=True))
    areas = [
        {"key": key, "position": position, "name": draw(TRANSLATED), "sdgs": draw(SDGS)}
        for position, key in enumerate(area_keys)
    ]
    org_keys = sorted(draw(st.lists(KEY, max_size=4, unique=True)))
    any_org = _maybe(st.sampled_from(org_keys)) if org_keys else st.none()
    organisations = [
        {
            "key": key,
            "name": draw(TEXT.filter(bool)),
            "kind": draw(_values(OrganisationKind)),
            "platform_role": draw(_maybe(st.sampled_from(["owner", "partner", "funder"]))),
            "parent": draw(any_org),
            "website": draw(_maybe(TEXT)),
            "is_synthetic": draw(st.booleans()),
        }
        for key in org_keys
    ]
    shared_keys = sorted(catalogue)
    local = [
        {
            "key": f"testby:{key}",
            "shared_key": draw(st.sampled_from(shared_keys)),
            "local": True,
            "name": draw(TRANSLATED),
            "description": draw(TRANSLATED),
            "category": draw(st.sampled_from(["design", "experimentation"])),
            "phases": draw(st.lists(_values(Phase), max_size=2)),
            "guide_steps": draw(st.lists(TEXT, max_size=2)),
            "reference": draw(_maybe(TEXT)),
        }
        for key in draw(st.lists(KEY, max_size=2, unique=True))
    ]
    usable = [m["key"] for m in local] + shared_keys

    ideas, transitions, applications, participations = [], [], [], []
    for number in range(1, draw(st.integers(0, 5)) + 1):
        reference = f"TST-2020-{number:04d}"
        stage = draw(st.sampled_from(stage_keys))
        ideas.append(
            {
                "reference": reference,
                "title": draw(TEXT.filter(bool)),
                "summary": draw(TEXT),
                "description": draw(TEXT),
                "origin_channel": draw(_values(OriginChannel)),
                "initiator_kind": draw(_values(InitiatorKind)),
                "stage": stage,
                "phase": phase_of[stage],
                "owner_organisation": draw(any_org),
                "facet": draw(_maybe(_values(InnovationFacet))),
                "value_dimensions": draw(st.lists(_values(ValueDimension), max_size=2)),
                "focus_areas": sorted(
                    draw(st.lists(st.sampled_from(area_keys), unique=True, max_size=2))
                )
                if area_keys
                else [],
                "sdgs": draw(SDGS),
                "reused_from": draw(_maybe(st.sampled_from(["LUN-2019-0001", "KIR-2020-0042"]))),
                "is_synthetic": draw(st.booleans()),
                "submitted_at": exchange._datetime(draw(MOMENT)),
                "updated_at": exchange._datetime(draw(MOMENT)),
            }
        )
        for at in sorted(draw(st.lists(MOMENT, max_size=3))):
            transitions.append(
                {
                    "idea": reference,
                    "from_stage": draw(_maybe(st.sampled_from(stage_keys))),
                    "to_stage": draw(st.sampled_from(stage_keys)),
                    "from_phase": draw(_maybe(_values(Phase))),
                    "to_phase": draw(_values(Phase)),
                    "at": exchange._datetime(at),
                }
            )
        for _ in range(draw(st.integers(0, 2))):
            started = draw(_maybe(DAY))
            ended = draw(_maybe(DAY))
            if started and ended and ended < started:
                started, ended = ended, started
            applications.append(
                {
                    "idea": reference,
                    "method": draw(st.sampled_from(usable)),
                    "started_on": started.isoformat() if started else None,
                    "ended_on": ended.isoformat() if ended else None,
                    "outcome": draw(_values(Outcome)),
                    "facilitator": draw(any_org),
                    "organisations": sorted(
                        draw(st.lists(st.sampled_from(org_keys), unique=True, max_size=2))
                    )
                    if org_keys
                    else [],
                }
            )
        if org_keys:
            pairs = draw(
                st.lists(
                    st.tuples(st.sampled_from(org_keys), _values(ParticipationRole)),
                    unique=True,
                    max_size=3,
                )
            )
            participations += [
                {"idea": reference, "organisation": o, "role": r} for o, r in sorted(pairs)
            ]

    used_shared = {a["method"] for a in applications if a["method"] in catalogue}
    used_shared |= {m["shared_key"] for m in local}
    methods = sorted(local + [catalogue[k] for k in used_shared], key=lambda m: m["key"])
    return {
        "format": exchange.FORMAT,
        "version": exchange.VERSION,
        "exported_at": "",  # set by the test: each example is newer than the last
        "city": {
            "slug": "testby",
            "reference_prefix": "TST",
            "name": draw(TRANSLATED),
            "description": draw(TRANSLATED),
            "region": draw(_maybe(TEXT)),
            "population": draw(_maybe(st.integers(1, 10_000_000))),
            "locales": draw(
                st.lists(st.sampled_from(["sv", "en", "fi"]), min_size=1, max_size=3, unique=True)
            ),
            "default_locale": "sv",
            "timezone": "Europe/Stockholm",
            "website": draw(_maybe(TEXT)),
        },
        "stages": stages,
        "focus_areas": areas,
        "organisations": organisations,
        "methods": methods,
        "ideas": ideas,
        "transitions": transitions,
        "method_applications": applications,
        "participations": participations,
    }


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
def test_import_then_export_gives_back_the_same_bundle(platform, data):
    """Every example updates the same peer in place, so updates are exercised as well."""
    with platform.transaction() as session:
        catalogue = {
            m.key: exchange.method_record(m)
            for m in session.scalars(select(Method).where(Method.city_id.is_(None)))
        }
    bundle = data.draw(bundles(catalogue))
    bundle["exported_at"] = exchange._datetime(
        datetime(2026, 1, 1) + timedelta(seconds=next(_clock))
    )
    exchange.validate_bundle(bundle)
    with platform.transaction() as session:
        exchange.import_bundle(session, bundle, source="generated")
    with platform.transaction() as session:
        assert exchange.export_city(session, cities.get_city(session, "testby")) == bundle


_clock = itertools.count()
