"""Synthetic demo data: deterministic, labelled synthetic, legal in each city's workflow, profile-shaped."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from innoplat.core.models import Idea, Method, MethodApplication, Organisation, StageTransition
from innoplat.core.services import demo
from innoplat.core.toolkit import hookimpl

CITIES = ["kiruna", "lund", "goteborg", "boras", "stockholm", "umea"]


def _fingerprint(session, city):
    rows = session.execute(
        select(Idea.reference, Idea.title, Idea.phase, Idea.submitted_at)
        .where(Idea.city_id == city.id)
        .order_by(Idea.reference)
    ).all()
    return [tuple(str(v) for v in row) for row in rows]


@pytest.mark.parametrize("slug", CITIES)
def test_demo_works_for_every_city_and_follows_its_workflow(make_platform, slug):
    platform = make_platform(city=slug)
    with platform.transaction() as session:
        city = platform.city_row(session)
        summary = demo.load_demo(session, platform.city, city, ideas=200, seed=3)
    assert summary.ideas == 200 and summary.transitions > 400 and summary.method_applications > 0
    with platform.transaction() as session:
        stages = {s.id: s for s in platform.city_row(session).stages}
        for transition in session.scalars(
            select(StageTransition).where(StageTransition.from_stage_id.is_not(None))
        ):
            assert (
                stages[transition.to_stage_id].key in stages[transition.from_stage_id].transitions
            )
        ideas = session.scalars(select(Idea)).all()
        assert all(i.is_synthetic and i.description.startswith(demo.SYNTHETIC_LABEL) for i in ideas)
        assert all(
            i.stage_id == max(i.transitions, key=lambda t: (t.at, t.id)).to_stage_id
            for i in ideas[:50]
        )


def test_the_same_seed_gives_the_same_data_and_reloading_replaces_it(make_platform):
    platform = make_platform()
    with platform.transaction() as session:
        city = platform.city_row(session)
        demo.load_demo(session, platform.city, city, ideas=150, seed=7)
        first = _fingerprint(session, city)
        demo.load_demo(session, platform.city, city, ideas=150, seed=7)
        assert _fingerprint(session, city) == first
        assert session.scalar(select(func.count()).select_from(Idea)) == 150
        demo.load_demo(session, platform.city, city, ideas=150, seed=8)
        assert _fingerprint(session, city) != first
        synthetic_orgs = session.scalars(
            select(Organisation).where(Organisation.is_synthetic.is_(True))
        ).all()
        assert synthetic_orgs and all("(syntetisk)" in o.name for o in synthetic_orgs)


def test_the_profile_shapes_which_methods_are_used(make_platform):
    """Kiruna's profile favours some methods over others; the data shows it."""
    platform = make_platform()
    profile = platform.city.config.demo.methods
    with platform.transaction() as session:
        city = platform.city_row(session)
        demo.load_demo(session, platform.city, city, ideas=2000, seed=1)
        counts = dict(
            session.execute(
                select(Method.shared_key, func.count(func.distinct(MethodApplication.idea_id)))
                .join(Method, Method.id == MethodApplication.method_id)
                .group_by(Method.shared_key)
            ).all()
        )
    assert set(counts) == set(profile)
    for key, method in profile.items():
        assert abs(counts[key] / 2000 - method.share) < 0.05, key


def test_real_ideas_are_kept_when_demo_data_is_reloaded(make_platform):
    from innoplat.core.services import ideas

    platform = make_platform()
    with platform.transaction() as session:
        city = platform.city_row(session)
        real = ideas.submit_idea(session, city, title="En riktig idé")
        demo.load_demo(session, platform.city, city, ideas=50, seed=1)
        demo.load_demo(session, platform.city, city, ideas=50, seed=2)
        references = session.scalars(select(Idea.reference)).all()
    assert real.reference in references and len(set(references)) == 51


class HookRecorder:
    def __init__(self) -> None:
        self.calls: list[str] = []

    @hookimpl
    def innoplat_idea_submitted(self, idea):
        self.calls.append("submitted")

    @hookimpl
    def innoplat_stage_changed(self, idea):
        self.calls.append("stage_changed")

    @hookimpl
    def innoplat_method_applied(self, idea):
        self.calls.append("method_applied")


def test_demo_data_calls_no_lifecycle_hook(make_platform):
    """As docs/hooks.md says: synthetic history is loaded, not lived (no e-mails go out)."""
    recorder = HookRecorder()
    platform = make_platform(extra_plugins=[recorder])
    with platform.transaction() as session:
        city = platform.city_row(session)
        summary = demo.load_demo(session, platform.city, city, ideas=30, seed=1)
    assert summary.transitions and summary.method_applications
    assert recorder.calls == []
