"""The per-idea facts stay right after every kind of write, on both databases.

Random sequences of writes — submitting, moving, applying, editing and removing method
applications, editing ideas (visibility, focus areas), participations, organisation kinds,
focus-area order, importing a peer's bundle, adopting, erasing a person, generating demo
data — and after each sequence: the stored facts equal the facts computed afresh from the
source tables, and the figures' statements over the facts give exactly the counts the direct
computation from the stage history gives (``facts_oracle.py``), for the public and for
a city's staff, for the comparison and for the evidence; and the figures cached per city
before the writes are never served stale.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
from datetime import datetime, timedelta

import pytest
from facts_oracle import direct_evidence_statements, direct_figures_statement
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from innoplat.core.config import load_city
from innoplat.core.errors import InnoplatError
from innoplat.core.models import (
    City,
    FocusArea,
    Idea,
    IdeaFact,
    IdeaMethodFact,
    Method,
    MethodApplication,
    Organisation,
    OrganisationKind,
    Participation,
    utcnow,
)
from innoplat.core.platform import Platform
from innoplat.core.services import (
    actors,
    comparison,
    demo,
    diffusion,
    exchange,
    facts,
    ideas,
    methods,
    persons,
)
from innoplat.core.services.evidence import analysis
from innoplat.core.services.exchange.export import datetime_text
from innoplat.core.services.visibility import visible_ideas

START = datetime(2024, 1, 1)
EMAIL = "anna@example.se"


def _lund_bundles(tmp_path) -> list[dict]:
    """Two states of Lund's own instance, exported: the second has moved on."""
    lund = Platform.open(load_city("lund"), f"sqlite:///{tmp_path / 'lund.sqlite3'}")
    bundles = []
    try:
        lund.init()
        with lund.transaction() as session:
            city = lund.city_row(session)
            demo.load_demo(session, lund.city, city, ideas=40, seed=3, now=datetime(2026, 6, 1))
            bundles.append(json.loads(json.dumps(exchange.export_city(session, city))))
        with lund.transaction() as session:
            city = lund.city_row(session)
            demo.load_demo(session, lund.city, city, ideas=25, seed=4, now=datetime(2026, 9, 1))
            bundles.append(json.loads(json.dumps(exchange.export_city(session, city))))
    finally:
        lund.dispose()
    return bundles


@pytest.fixture
def world(platform, tmp_path):
    """Kiruna with demo ideas and one idea of a known submitter, Lund imported as a peer."""
    bundles = _lund_bundles(tmp_path)
    with platform.transaction() as session:
        city = platform.city_row(session)
        demo.load_demo(session, platform.city, city, ideas=40, seed=2, now=datetime(2026, 6, 1))
        ideas.submit_idea(
            session,
            city,
            title="Anna's idea",
            submitter=ideas.Submitter(name="Anna", email=EMAIL, consent=True),
            submitted_at=START,
        )
        exchange.import_bundle(session, bundles[0], source="lund.json")
    return World(platform, bundles)


class World(tuple):
    """(platform, Lund's bundles), shown briefly when a test fails."""

    def __new__(cls, platform, bundles):
        return super().__new__(cls, (platform, bundles))

    def __repr__(self) -> str:
        return "<Kiruna with demo ideas, Lund a peer>"


# --------------------------------------------------------------------------- the writes


def _own_idea(session, city, rnd) -> Idea:
    ids = session.scalars(select(Idea.id).where(Idea.city_id == city.id).order_by(Idea.id)).all()
    return session.get(Idea, rnd.choice(ids))


def submit(platform, session, city, rnd, _bundles):
    areas = session.scalars(select(FocusArea.key).where(FocusArea.city_id == city.id)).all()
    ideas.submit_idea(
        session,
        city,
        title=f"Idé {rnd.random()}",
        visibility=rnd.choice(["public", "internal"]),
        focus_areas=rnd.sample(sorted(areas), k=rnd.randint(0, 2)),
        submitted_at=START + timedelta(days=rnd.randint(0, 900), seconds=rnd.randint(0, 86399)),
    )


def move(platform, session, city, rnd, _bundles):
    idea = _own_idea(session, city, rnd)
    stages = ideas.allowed_stages(session, idea)
    if stages:
        ideas.move_idea(session, idea, rnd.choice(stages).key)


def apply_method(platform, session, city, rnd, _bundles):
    idea = _own_idea(session, city, rnd)
    method = rnd.choice(methods.list_methods(session, city))
    try:
        with session.begin_nested():
            methods.apply_method(session, idea, method.key)
    except InnoplatError:
        pass  # already applied: refused, nothing written


def edit_application(platform, session, city, rnd, _bundles):
    applications = session.scalars(
        select(MethodApplication).join(Idea).where(Idea.city_id == city.id)
    ).all()
    if applications:
        application = rnd.choice(applications)
        application.method = rnd.choice(methods.list_methods(session, city))
        methods.record_outcome(session, application, rnd.choice(["ongoing", "succeeded", "failed"]))


def remove_application(platform, session, city, rnd, _bundles):
    applications = session.scalars(
        select(MethodApplication).join(Idea).where(Idea.city_id == city.id)
    ).all()
    if applications:
        session.delete(rnd.choice(applications))


def edit_idea(platform, session, city, rnd, _bundles):
    idea = _own_idea(session, city, rnd)
    ideas.update_idea(
        session,
        idea,
        expected_version=idea.version,
        visibility=rnd.choice(["public", "internal"]),
    )
    areas = session.scalars(select(FocusArea).where(FocusArea.city_id == city.id)).all()
    idea.focus_areas = rnd.sample(list(areas), k=rnd.randint(0, 2))


def participate(platform, session, city, rnd, _bundles):
    idea = _own_idea(session, city, rnd)
    if idea.participations and rnd.random() < 0.5:
        actors.remove_participation(session, rnd.choice(idea.participations))
        return
    organisation = rnd.choice(actors.list_organisations(session, city))
    try:
        with session.begin_nested():
            actors.add_participation(session, idea, organisation.key, "partner")
    except InnoplatError:
        pass


def organisation_kind(platform, session, city, rnd, _bundles):
    participating = select(Participation.organisation_id)
    organisation = rnd.choice(
        session.scalars(
            select(Organisation).where(
                Organisation.city_id == city.id, Organisation.id.in_(participating)
            )
        ).all()
    )
    organisation.kind = rnd.choice(list(OrganisationKind))


def focus_order(platform, session, city, rnd, _bundles):
    first, second = rnd.sample(
        list(session.scalars(select(FocusArea).where(FocusArea.city_id == city.id))), 2
    )
    first.position, second.position = second.position, first.position


def shared_key(platform, session, city, rnd, _bundles):
    local = session.scalars(select(Method).where(Method.city_id == city.id)).all()
    if local:
        keys = sorted(set(session.scalars(select(Method.shared_key))))
        rnd.choice(local).shared_key = rnd.choice(keys)


def import_peer(platform, session, city, rnd, bundles):
    """Lund's bundle in one of its two states, exported now (a peer only moves forward)."""
    bundle = {**rnd.choice(bundles), "exported_at": datetime_text(utcnow())}
    exchange.import_bundle(session, bundle, source="lund.json")


def adopt(platform, session, city, rnd, _bundles):
    lund = session.scalar(select(City).where(City.slug == "lund"))
    if lund is None:
        return
    public = session.scalars(
        select(Idea.reference).where(Idea.city_id == lund.id, Idea.visibility == "public")
    ).all()
    if public:
        diffusion.adopt_idea(session, city, rnd.choice(sorted(public)))


def erase(platform, session, city, rnd, _bundles):
    with contextlib.suppress(InnoplatError):  # erased before: nobody left to erase
        persons.erase_personal_data(session, city, persons.data_subject(EMAIL))


def generate_demo(platform, session, city, rnd, _bundles):
    demo.load_demo(
        session, platform.city, city, ideas=rnd.randint(5, 30), seed=rnd.randint(1, 9),
        now=datetime(2026, 6, 1),
    )  # fmt: skip


WRITES = [
    submit,
    move,
    apply_method,
    edit_application,
    remove_application,
    edit_idea,
    participate,
    organisation_kind,
    focus_order,
    shared_key,
    import_peer,
    adopt,
    erase,
    generate_demo,
]


# --------------------------------------------------------------------------- the checks


def _stored(session, table, key):
    columns = [*facts.FACT_COLUMNS, *(["method"] if table is IdeaMethodFact else [])]
    rows = session.execute(select(*(table.__table__.c[c] for c in columns))).all()
    return sorted((tuple(r) for r in rows), key=key)


def _same(found, expected):
    assert len(found) == len(expected)
    for got, want in zip(found, expected, strict=True):
        assert len(got) == len(want)
        for a, b in zip(got, want, strict=True):
            if isinstance(a, float) or isinstance(b, float):
                assert a is not None and b is not None and math.isclose(a, b, rel_tol=1e-12), (
                    got,
                    want,
                )
            else:
                assert a == b, (got, want)


def _check(session, as_of):
    fresh_facts = session.execute(facts.facts_query()).all()
    key = lambda r: (r[0], str(r[-1]))  # noqa: E731
    _same(_stored(session, IdeaFact, key), sorted((tuple(r) for r in fresh_facts), key=key))
    fresh_links = session.execute(facts.method_facts_query()).all()
    _same(_stored(session, IdeaMethodFact, key), sorted((tuple(r) for r in fresh_links), key=key))

    # Every (city, submission year) with facts has a version token, and only those.
    with_facts = set(session.execute(select(IdeaFact.city_id, IdeaFact.year).distinct()).tuples())
    tokened = {
        (city_id, year)
        for city_id, years in facts.years_of(session, session.scalars(select(City.id))).items()
        for year in years
    }
    assert tokened == with_facts

    cities = list(session.scalars(select(City).order_by(City.id)))
    city_ids = [c.id for c in cities]
    order = lambda r: tuple("" if v is None else str(v) for v in r)  # noqa: E731
    for staff_of in (None, cities[0]):
        for since in (None, datetime(2025, 1, 1)):
            visible = visible_ideas(staff_of)
            ours = session.execute(
                comparison.core_figures_statement(city_ids, None, since, visible)
            ).all()
            oracle = session.execute(direct_figures_statement(city_ids, None, since, visible))
            _same(sorted(map(tuple, ours), key=order), sorted(map(tuple, oracle), key=order))
    for public_only in (False, True):
        curves, strata = analysis._statements(cities, None, None, as_of, public_only)
        oracle_curves, oracle_strata = direct_evidence_statements(
            cities, None, None, as_of, public_only
        )
        _same(
            sorted(_over_the_years(session.execute(curves)), key=order),
            sorted(map(tuple, session.execute(oracle_curves)), key=order),
        )
        _same(
            sorted(map(tuple, session.execute(strata)), key=order),
            sorted(map(tuple, session.execute(oracle_strata)), key=order),
        )


def _over_the_years(curve_rows) -> list[tuple]:
    """The curves' counts per (city, method, year, day) added up over the years."""
    total: dict[tuple, list[int]] = {}
    for city_id, method, _year, day, *counts in curve_rows:
        sums = total.setdefault((city_id, method, day), [0, 0, 0])
        for i, count in enumerate(counts):
            sums[i] += int(count or 0)
    return [(*key, *sums) for key, sums in total.items()]


AS_OF = datetime(2030, 1, 1)


def _figures(session):
    kiruna = session.scalar(select(City).where(City.slug == "kiruna"))
    return (
        comparison.compare_methods(session),
        comparison.compare_methods(session, staff_of=kiruna),
        comparison.compare_methods(session, since="2025-01-01"),
        analysis.method_evidence(session, as_of=AS_OF).rows,
        analysis.method_evidence(session, as_of=AS_OF, public_only=True).rows,
    )


def _cached_figures_are_current(session):
    """What the caches give (this process's, then the database's) equals what computing
    afresh gives."""
    cached = _figures(session)
    facts.clear_cache()
    assert _figures(session) == cached  # from the figures stored in the database
    facts.clear_cache(session)
    assert _figures(session) == cached  # computed from the facts


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    writes=st.lists(st.sampled_from(WRITES), min_size=1, max_size=6),
    seed=st.integers(0, 2**32 - 1),
)
def test_facts_stay_right_after_any_sequence_of_writes(world, writes, seed):
    platform, bundles = world
    rnd = random.Random(seed)
    with platform.transaction() as session:
        _figures(session)  # cached before the writes
    for write in writes:
        with platform.transaction() as session:
            write(platform, session, platform.city_row(session), rnd, bundles)
    with platform.transaction() as session:
        _check(session, utcnow())
        _cached_figures_are_current(session)


def test_every_kind_of_write_is_covered(world):
    """Each write once, in a fixed order, checked after each (the random test may miss one)."""
    platform, bundles = world
    rnd = random.Random(1)
    for write in WRITES:
        with platform.transaction() as session:
            _figures(session)
        with platform.transaction() as session:
            write(platform, session, platform.city_row(session), rnd, bundles)
        with platform.transaction() as session:
            _check(session, utcnow())
            _cached_figures_are_current(session)


def test_a_change_the_listener_missed_would_be_caught(world):
    """The check is not vacuous: facts edited behind the platform's back are found out."""
    platform, _ = world
    with platform.transaction() as session:
        fact = session.scalars(select(IdeaFact).where(IdeaFact.kinds > 0)).first()
        fact.kinds += 1
    with platform.transaction() as session, pytest.raises(AssertionError):
        _check(session, utcnow())
