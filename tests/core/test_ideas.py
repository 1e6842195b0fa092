"""Ideas: submitting, moving through the workflow, editing without lost updates, finding."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from innoplat.core.errors import ConflictError, IllegalTransition, ValidationError
from innoplat.core.models import AuditEvent, Idea, StageTransition
from innoplat.core.services import ideas
from innoplat.core.services.ideas import IdeaFilter, Submitter


def test_a_submitted_idea_gets_a_reference_and_starts_in_the_first_stage(submit, db_session):
    idea = submit(title="Uppvärmda busshållplatser", summary="Värme från fjärrvärmenätet.")
    assert idea.reference.startswith(f"KIR-{idea.submitted_at.year}-")
    assert idea.reference.endswith("-0001")
    assert idea.stage.key == "inkommen" and idea.phase.value == "submitted"
    assert [t.to_stage.key for t in idea.transitions] == ["inkommen"]
    second = submit(title="Andra idén")
    assert second.reference.endswith("-0002")


def test_focus_areas_bring_their_sdgs(submit, platform):
    area = platform.city.config.focus_areas[0]
    idea = submit(focus_areas=[area.key], sdgs=[3])
    assert set(area.sdgs) | {3} == set(idea.sdgs)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"origin_channel": "pigeon"}, "origin_channel"),
        ({"focus_areas": ["no-such-area"]}, "focus_areas"),
        ({"sdgs": [18]}, "sdgs"),
        ({"owner_organisation": "nobody"}, "owner_organisation"),
        ({"submitter": Submitter(name="Anna", email="anna@example.org", consent=False)}, "consent"),
        ({"submitter": Submitter(name="Anna", email="not-an-address", consent=True)}, "email"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(submit, db_session, fields, field):
    with pytest.raises(ValidationError) as error:
        submit(**fields)
    assert error.value.field == field
    assert db_session.scalar(select(Idea).limit(1)) is None


def test_personal_data_is_stored_only_with_consent(submit):
    idea = submit(submitter=Submitter(name="Anna Nilsson", email="anna@example.org", consent=True))
    assert idea.submitter.email == "anna@example.org"
    assert idea.submitter.consent_at is not None


def test_moving_follows_the_city_workflow_and_is_audited(submit, db_session):
    idea = submit()
    transition = ideas.move_idea(
        db_session, idea, "bedomning", note="Bedöms i arbetsgruppen", actor="anna"
    )
    assert idea.stage.key == "bedomning" and idea.phase.value == "screening"
    assert transition.from_stage.key == "inkommen" and transition.note == "Bedöms i arbetsgruppen"
    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "idea", AuditEvent.entity_id == idea.id)
    ).all()
    assert [e.action for e in events] == ["submitted", "stage_changed"]
    assert events[1].before["stage"] == "inkommen" and events[1].after["stage"] == "bedomning"
    assert events[1].actor == "anna"


def test_an_illegal_transition_is_a_clear_error(submit, db_session):
    idea = submit()
    with pytest.raises(
        IllegalTransition,
        match="cannot move from 'inkommen' to 'inford'; allowed next stages: bedomning",
    ):
        ideas.move_idea(db_session, idea, "inford")
    with pytest.raises(ValidationError, match="'nowhere' is not a stage of kiruna"):
        ideas.move_idea(db_session, idea, "nowhere")
    assert idea.stage.key == "inkommen"
    assert (
        db_session.scalar(
            select(StageTransition).where(
                StageTransition.idea_id == idea.id, StageTransition.from_stage_id.is_not(None)
            )
        )
        is None
    )


def test_allowed_stages_are_the_workflow_targets(submit, db_session):
    idea = submit()
    assert [s.key for s in ideas.allowed_stages(db_session, idea)] == ["bedomning", "avslutad"]


def test_a_stale_version_is_refused_and_nothing_is_overwritten(submit, db_session):
    idea = submit()
    version = idea.version
    ideas.update_idea(db_session, idea, expected_version=version, title="Första redigeringen")
    with pytest.raises(ConflictError, match="changed by someone else"):
        ideas.update_idea(db_session, idea, expected_version=version, title="Andra redigeringen")
    assert idea.title == "Första redigeringen"


def test_concurrent_sessions_cannot_overwrite_each_other(platform):
    """Two people open the same idea; the second to save gets a conflict."""
    with platform.transaction() as session:
        reference = ideas.submit_idea(
            session, platform.city_row(session), title="Gemensam idé"
        ).reference
    first, second = platform.sessions(), platform.sessions()
    try:
        a = ideas.get_idea(first, reference)
        b = ideas.get_idea(second, reference)
        ideas.update_idea(first, a, expected_version=a.version, title="Anna ändrade")
        first.commit()
        # Bertil's copy still carries the version he read before Anna saved.
        with pytest.raises(ConflictError):
            ideas.update_idea(second, b, expected_version=b.version, title="Bertil ändrade")
        second.rollback()
    finally:
        first.close()
        second.close()
    with platform.transaction() as session:
        assert ideas.get_idea(session, reference).title == "Anna ändrade"


def test_filters_narrow_the_list(submit, db_session, city):
    a = submit(title="Smart snöröjning", origin_channel="email")
    b = submit(title="Bibliotek på hjul", visibility="internal")
    ideas.move_idea(db_session, b, "bedomning")
    assert [
        i.reference for i in ideas.list_ideas(db_session, city, IdeaFilter(phase="screening"))
    ] == [b.reference]
    assert [
        i.reference for i in ideas.list_ideas(db_session, city, IdeaFilter(stage="inkommen"))
    ] == [a.reference]
    assert [i.reference for i in ideas.list_ideas(db_session, city, IdeaFilter(text="snöröj"))] == [
        a.reference
    ]
    assert [
        i.reference for i in ideas.list_ideas(db_session, city, IdeaFilter(public_only=True))
    ] == [a.reference]
    assert [
        i.reference for i in ideas.list_ideas(db_session, city, IdeaFilter(origin_channel="email"))
    ] == [a.reference]
    assert ideas.count_ideas(db_session, city) == 2


def test_funnel_counts_ideas_per_stage(submit, db_session, city):
    submit()
    moved = submit()
    ideas.move_idea(db_session, moved, "bedomning")
    counts = {stage.key: n for stage, n in ideas.funnel(db_session, city)}
    assert counts["inkommen"] == 1 and counts["bedomning"] == 1 and counts["inford"] == 0
