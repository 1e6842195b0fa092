"""The method catalogue, method applications, organisations, people and memberships."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from innoplat.core.errors import NotFound, ReadOnlyError, ValidationError
from innoplat.core.models import AuditEvent, Method
from innoplat.core.services import actors, audit, figures, ideas, methods, persons

REQUIRED_METHODS = [
    "service_design",
    "design_thinking",
    "living_lab",
    "test_bed",
    "hackathon",
    "innovation_sprint",
    "challenge_driven_innovation",
    "innovation_procurement",
    "co_creation_workshop",
    "idea_box",
    "lean_startup",
    "futures_scenarios",
    "benefit_realisation",
    "pre_commercial_procurement",
    "citizen_dialogue",
]


def test_the_shared_catalogue_has_the_real_methods_in_swedish_and_english(db_session, city):
    catalogue = {m.key: m for m in methods.list_methods(db_session)}
    assert set(REQUIRED_METHODS) <= set(catalogue)
    for method in catalogue.values():
        assert method.name.get("sv") and method.name.get("en"), method.key
        assert method.description.get("sv") and method.description.get("en"), method.key
        assert method.reference and method.reference.startswith("https://"), method.key
        assert method.phases and method.source == "catalogue"


def test_local_methods_map_to_shared_keys(db_session, city):
    local = [m for m in methods.list_methods(db_session, city) if m.city_id == city.id]
    assert local, "Kiruna has local methods"
    assert all(m.key.startswith("kiruna:") and m.shared_key in REQUIRED_METHODS for m in local)
    found = methods.get_method(db_session, "kiruna-innovationsverkstad", city)
    assert found.shared_key == "co_creation_workshop"


def test_an_unknown_method_is_a_clear_error(db_session, city):
    with pytest.raises(NotFound, match="no method with key 'levande-labb'"):
        methods.get_method(db_session, "levande-labb", city)


def test_applying_a_method_records_outcome_and_is_audited(submit, db_session):
    idea = submit()
    application = methods.apply_method(
        db_session,
        idea,
        "living_lab",
        started_on=date(2026, 3, 1),
        organisations=["kiruna-kommun"],
        actor="lisa",
    )
    assert application.outcome.value == "ongoing"
    assert [o.key for o in application.organisations] == ["kiruna-kommun"]
    methods.record_outcome(
        db_session,
        application,
        "succeeded",
        ended_on=date(2026, 6, 1),
        outcome_note="Införs i alla skolor",
    )
    assert application.outcome.value == "succeeded" and application.ended_on == date(2026, 6, 1)
    actions = [e.action for e in audit.history(db_session, "idea", idea.id)]
    assert actions == ["submitted", "method_applied", "method_outcome"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"outcome": "great"}, "outcome"),
        ({"started_on": date(2026, 5, 1), "ended_on": date(2026, 4, 1)}, "ended_on"),
        ({"organisations": ["nobody"]}, "organisations"),
    ],
)
def test_bad_method_applications_name_the_field(submit, db_session, kwargs, field):
    idea = submit()
    with pytest.raises(ValidationError) as error:
        methods.apply_method(db_session, idea, "living_lab", **kwargs)
    assert error.value.field == field


def test_the_configured_organisations_are_in_the_database(db_session, city):
    orgs = {o.key: o for o in actors.list_organisations(db_session, city)}
    assert orgs["kiruna-kommun"].kind.value == "municipality"
    assert orgs["vinnova"].platform_role == "funder"
    departments = actors.list_organisations(db_session, city, kind="department")
    assert departments and all(d.parent and d.parent.key == "kiruna-kommun" for d in departments)


def test_participations_cross_organisation_boundaries(submit, db_session, city):
    idea = submit(owner_organisation="kiruna-kommun")
    actors.add_participation(db_session, idea, "rise", "expert")
    with pytest.raises(ValidationError, match="already takes part as expert"):
        actors.add_participation(db_session, idea, "rise", "expert")
    with pytest.raises(ValidationError) as error:
        actors.add_participation(db_session, idea, "rise", "sponsor")
    assert error.value.field == "role"
    db_session.refresh(idea)
    assert sorted((p.organisation.key, p.role.value) for p in idea.participations) == [
        ("kiruna-kommun", "owner"),
        ("rise", "expert"),
    ]
    counts = figures.organisation_idea_counts(db_session, city, public_only=False)
    assert counts[actors.get_organisation(db_session, city, "rise").id] == 1


def test_adding_organisations_people_and_memberships(db_session, city):
    org = actors.add_organisation(
        db_session, city, key="exempel-ab", name="Exempel AB", kind="business"
    )
    with pytest.raises(ValidationError, match="already an organisation"):
        actors.add_organisation(db_session, city, key="exempel-ab", name="Igen", kind="business")
    with pytest.raises(ValidationError, match="consent"):
        actors.add_person(db_session, city, name="Per", email="per@example.org", consent=False)
    person = actors.add_person(
        db_session, city, name="Per Persson", email="per@example.org", consent=True
    )
    membership = actors.add_membership(
        db_session, person, org, "innovationskoordinator", start_date=date(2025, 1, 1)
    )
    assert [m.role for m in actors.memberships(db_session, org)] == ["innovationskoordinator"]
    assert membership.person.name == "Per Persson"
    persons.erase_personal_data(db_session, city, persons.data_subject("per@example.org"))
    assert person.name is None and person.email is None and person.anonymised_at is not None
    assert membership.person is person  # the membership stays, with the person anonymised
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "erased")) is not None


def test_a_peer_city_is_read_only(submit, db_session, city):
    idea = submit()
    city.is_peer = True
    with pytest.raises(ReadOnlyError):
        ideas.move_idea(db_session, idea, "bedomning")
    with pytest.raises(ReadOnlyError):
        methods.apply_method(db_session, idea, "living_lab")
    with pytest.raises(ReadOnlyError):
        actors.add_participation(db_session, idea, "rise", "partner")


def test_catalogue_sync_is_idempotent(platform, db_session):
    before = db_session.scalars(select(Method.key)).all()
    platform.sync()
    platform.sync()
    assert sorted(db_session.scalars(select(Method.key)).all()) == sorted(before)
