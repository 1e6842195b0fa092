"""Generated histories: every valid bundle round-trips, every bundle with one rule broken is refused."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from innoplat.core.errors import ValidationError
from innoplat.core.models import (
    City,
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

#: Settings for examples that build whole bundles on a database: slow, large, and drawn inside
#: a test whose function-scoped fixtures are made once for all of its examples.
LARGE_EXAMPLES = {
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
}
KEY = st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True)
# No digits and no @: random text must not look like an e-mail address or a phone number,
# which the exporter would redact (tests/exchange/test_bundle_gaps.py covers that).
TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Nd"), blacklist_characters="@"), max_size=30
)
TRANSLATED = st.dictionaries(st.sampled_from(["sv", "en", "fi", "se"]), TEXT, max_size=2)
URL = st.from_regex(r"https?://[a-z]{1,10}\.example/[a-z]{0,8}", fullmatch=True)
# Every time a generated bundle holds lies before its exported_at (2026-01-01 and later): the
# latest, a submission on 2023-12-31 with four steps of history, is in 2025.
MOMENT = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2023, 12, 31))
STEP = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=120))
DAY = st.dates(min_value=datetime(2000, 1, 1).date(), max_value=datetime(2030, 12, 31).date())
SDGS = st.lists(st.integers(1, 17), unique=True, max_size=3).map(sorted)


def _values(enum_cls):
    return st.sampled_from([m.value for m in enum_cls])


def _maybe(strategy):
    return st.none() | strategy


@st.composite
def bundles(draw, catalogue: dict[str, dict]):
    """A valid bundle of the peer city "testby", in the order an export writes it.

    Each idea's history is generated as the workflow allows it: submitted to a stage, then
    moved along the stages' allowed transitions, in time order; the idea stands where its
    history ends.
    """
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
    allowed = {s["key"]: s["transitions"] for s in stages}
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
            "website": draw(_maybe(URL)),
            "is_synthetic": draw(st.booleans()),
            "description": draw(TRANSLATED),
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
            "reference": draw(_maybe(URL)),
        }
        for key in draw(st.lists(KEY, max_size=2, unique=True))
    ]
    usable = [m["key"] for m in local] + shared_keys

    ideas, transitions, applications, participations = [], [], [], []
    for number in range(1, draw(st.integers(0, 5)) + 1):
        reference = f"TST-2020-{number:04d}"
        submitted = draw(MOMENT)
        history = []
        if draw(st.integers(0, 9)) > 0:  # an idea without any history is valid too
            stage, at = draw(st.sampled_from(stage_keys)), submitted + draw(STEP)
            history.append((None, stage, at))
            for _ in range(draw(st.integers(0, 3))):
                if not allowed[stage]:
                    break
                target = draw(st.sampled_from(allowed[stage]))
                at += draw(STEP)
                history.append((stage, target, at))
                stage = target
        else:
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
                "submitted_at": exchange.datetime_text(submitted),
                "updated_at": exchange.datetime_text(submitted + draw(STEP)),
            }
        )
        transitions += [
            {
                "idea": reference,
                "from_stage": source,
                "to_stage": target,
                "from_phase": phase_of[source] if source else None,
                "to_phase": phase_of[target],
                "at": exchange.datetime_text(at),
            }
            for source, target, at in history
        ]
        for _ in range(draw(st.integers(0, 2))):
            started = draw(_maybe(DAY))
            ended = draw(_maybe(DAY))
            if started and ended and ended < started:
                started, ended = ended, started
            application = {
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
            if application not in applications:
                applications.append(application)
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
        "minor_version": exchange.MINOR_VERSION,
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
            "website": draw(_maybe(URL)),
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


def _shift(text, **delta):
    return exchange.datetime_text(
        datetime.fromisoformat(text.removesuffix("Z")) + timedelta(**delta)
    )


def _other_phase(phase):
    return next(p.value for p in Phase if p.value != phase)


@st.composite
def broken(draw, catalogue: dict[str, dict]):
    """A valid bundle with one integrity rule broken: (bundle, the rule's JSON path)."""
    bundle = draw(bundles(catalogue))
    moves = [i for i, t in enumerate(bundle["transitions"]) if t["from_stage"] is not None]
    firsts = [i for i, t in enumerate(bundle["transitions"]) if t["from_stage"] is None]
    stage_keys = [s["key"] for s in bundle["stages"]]
    allowed = {s["key"]: set(s["transitions"]) for s in bundle["stages"]}
    choices = ["future_export", "nul_title", "javascript_method"]
    if bundle["ideas"]:
        choices += ["idea_phase", "updated_before_submitted"]
    if bundle["transitions"]:
        choices += ["to_phase", "before_submission"]
    if moves:
        choices += ["out_of_order"]
        if any(set(stage_keys) - allowed[bundle["transitions"][i]["from_stage"]] for i in moves):
            choices += ["not_allowed"]
    if bundle["method_applications"]:
        choices += ["duplicate_application"]
    choice = draw(st.sampled_from(choices))
    if choice == "future_export":
        return bundle, "$.exported_at", choice
    if choice == "nul_title":
        bundle["ideas"] = bundle["ideas"] or []
        if not bundle["ideas"]:
            bundle["city"]["region"] = "Norr\x00botten"
            return bundle, "$.city.region", choice
        bundle["ideas"][0]["title"] = "Snö\x00"
        return bundle, "$.ideas[0].title", choice
    if choice == "javascript_method":
        method = {**next(iter(catalogue.values())), "key": "evil", "shared_key": "evil"}
        method["reference"] = "javascript:alert(1)"
        bundle["methods"] = sorted([*bundle["methods"], method], key=lambda m: m["key"])
        index = [m["key"] for m in bundle["methods"]].index("evil")
        return bundle, f"$.methods[{index}].reference", choice
    if choice == "idea_phase":
        i = draw(st.integers(0, len(bundle["ideas"]) - 1))
        bundle["ideas"][i]["phase"] = _other_phase(bundle["ideas"][i]["phase"])
        return bundle, f"$.ideas[{i}].phase", choice
    if choice == "updated_before_submitted":
        i = draw(st.integers(0, len(bundle["ideas"]) - 1))
        bundle["ideas"][i]["updated_at"] = _shift(bundle["ideas"][i]["submitted_at"], seconds=-1)
        return bundle, f"$.ideas[{i}].updated_at", choice
    if choice == "to_phase":
        i = draw(st.integers(0, len(bundle["transitions"]) - 1))
        t = bundle["transitions"][i]
        t["to_phase"] = _other_phase(t["to_phase"])
        return bundle, f"$.transitions[{i}].to_phase", choice
    if choice == "before_submission":
        i = draw(st.sampled_from(firsts))
        t = bundle["transitions"][i]
        idea = next(x for x in bundle["ideas"] if x["reference"] == t["idea"])
        t["at"] = _shift(idea["submitted_at"], days=-1)
        return bundle, f"$.transitions[{i}].at", choice
    if choice == "out_of_order":
        i = draw(st.sampled_from(moves))
        previous = bundle["transitions"][i - 1]
        idea = next(x for x in bundle["ideas"] if x["reference"] == previous["idea"])
        previous["at"] = _shift(bundle["transitions"][i]["at"], seconds=1)
        if previous["from_stage"] is None:  # the first one: still after the submission
            idea["updated_at"] = max(idea["updated_at"], previous["at"])
        return bundle, f"$.transitions[{i}].at", choice
    if choice == "not_allowed":
        i = draw(
            st.sampled_from(
                [
                    i
                    for i in moves
                    if set(stage_keys) - allowed[bundle["transitions"][i]["from_stage"]]
                ]
            )
        )
        t = bundle["transitions"][i]
        target = draw(st.sampled_from(sorted(set(stage_keys) - allowed[t["from_stage"]])))
        t["to_stage"] = target
        t["to_phase"] = next(s["phase"] for s in bundle["stages"] if s["key"] == target)
        return bundle, f"$.transitions[{i}].to_stage", choice
    i = draw(st.integers(0, len(bundle["method_applications"]) - 1))
    bundle["method_applications"].insert(i + 1, dict(bundle["method_applications"][i]))
    return bundle, f"$.method_applications[{i + 1}]", choice


@settings(max_examples=25, **LARGE_EXAMPLES)
@given(data=st.data())
def test_import_then_export_gives_back_the_same_bundle(platform, data):
    """Every example updates the same peer in place, so updates are exercised as well."""
    with platform.transaction() as session:
        catalogue = {
            m.key: exchange.method_record(m)
            for m in session.scalars(select(Method).where(Method.city_id.is_(None)))
        }
    bundle = data.draw(bundles(catalogue))
    bundle["exported_at"] = exchange.datetime_text(
        datetime(2026, 1, 1) + timedelta(seconds=next(_clock))
    )
    exchange.validate_bundle(bundle)
    with platform.transaction() as session:
        exchange.import_bundle(session, bundle, source="generated")
    with platform.transaction() as session:
        assert exchange.export_city(session, cities.get_city(session, "testby")) == bundle


_clock = itertools.count()


def _catalogue(platform):
    with platform.transaction() as session:
        return {
            m.key: exchange.method_record(m)
            for m in session.scalars(select(Method).where(Method.city_id.is_(None)))
        }


@settings(max_examples=40, **LARGE_EXAMPLES)
@given(data=st.data())
def test_a_bundle_with_one_rule_broken_is_refused_with_its_path_and_nothing_written(platform, data):
    bundle, field, rule = data.draw(broken(_catalogue(platform)))
    bundle["exported_at"] = exchange.datetime_text(
        datetime(2026, 1, 1) + timedelta(seconds=next(_clock))
    )
    if rule == "future_export":
        bundle["exported_at"] = "2099-01-01T00:00:00.000000Z"
    with pytest.raises(ValidationError) as error, platform.transaction() as session:
        exchange.import_bundle(session, bundle, source="generated")
    assert error.value.field == field, (rule, error.value)
    with platform.transaction() as session:
        assert session.scalar(select(City).where(City.slug == "testby")) is None
