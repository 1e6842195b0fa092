"""A city with a few known ideas (one internal, one with a named submitter) and some demo ideas."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from innoplat.core.services import actors, demo, ideas, methods
from innoplat.core.services.ideas import Submitter

PERSON_NAME = "Anna Nilsson-Pekkari"
PERSON_EMAIL = "anna.pekkari@example.org"
STAFF_ACTOR = "Bertil Staffsson"


@dataclass
class Known:
    """References of the ideas the API tests look for."""

    snow: str
    library: str
    internal: str
    total_public: int


@pytest.fixture
def known(app: Any) -> Known:
    platform = app.extensions["innoplat"]
    with platform.transaction() as session:
        city = platform.city_row(session)
        demo.load_demo(session, platform.city, city, ideas=20, seed=7)
        snow = ideas.submit_idea(
            session,
            city,
            title="Snöröjning med spillvärme",
            summary="Gator och cykelvägar hålls fria från is med värme från gruvan.",
            description="Spillvärme **från gruvan** värmer trottoarerna.",
            focus_areas=["smart_arktisk_stad"],
            sdgs=[7],
            owner_organisation="tekniska-verken-i-kiruna",
            origin_channel="workshop",
            submitter=Submitter(name=PERSON_NAME, email=PERSON_EMAIL, consent=True),
            actor=STAFF_ACTOR,
        )
        ideas.move_idea(session, snow, "bedomning", note=f"Ring {PERSON_NAME}", actor=STAFF_ACTOR)
        ideas.move_idea(session, snow, "utveckling", actor=STAFF_ACTOR)
        methods.apply_method(
            session,
            snow,
            "living_lab",
            outcome="succeeded",
            started_on=date(2026, 1, 10),
            ended_on=date(2026, 3, 1),
            facilitator="ltu",
            organisations=["rise"],
            outcome_note=f"Enligt {PERSON_NAME}",
            actor=STAFF_ACTOR,
        )
        actors.add_participation(session, snow, "kirunabostader", "partner", actor=STAFF_ACTOR)
        library = ideas.submit_idea(
            session, city, title="Meröppet bibliotek", summary="Biblioteket öppet med självservice."
        )
        internal = ideas.submit_idea(
            session,
            city,
            title="Intern snöröjningsbudget",
            summary="Hemlig kalkyl för snöröjning.",
            visibility="internal",
            owner_organisation="kiruna-kommun",
            focus_areas=["smart_arktisk_stad"],
        )
        methods.apply_method(session, internal, "hackathon", outcome="ongoing")
        total_public = ideas.count_ideas(session, city, ideas.IdeaFilter(public_only=True))
        return Known(snow.reference, library.reference, internal.reference, total_public)
