"""similar_ideas: BM25 over Swedish stems finds like ideas of the city and its peers."""

from __future__ import annotations

from datetime import datetime

import pytest

from innoplat.core.errors import PluginError
from innoplat.core.models import City, Idea, Stage
from innoplat.core.services import ideas
from innoplat.plugins.similar_ideas import similarity

IDEAS = [
    (
        "Snöröjning vid busshållplatserna",
        "Busshållplatser plogas sent; snöröjningen borde börja där.",
    ),
    ("Uppvärmda cykelbanor", "Spillvärme från gruvan kan hålla cykelbanorna isfria."),
    ("Bibliotek i det nya stadshuset", "Ett öppet bibliotek med plats för läxhjälp."),
]


def test_words_are_stemmed_the_swedish_way():
    assert similarity.tokens("Snöröjningen vid skolorna") == ["snöröjning", "skol"]
    assert similarity.tokens("snöröjning") == similarity.tokens("Snöröjningen")


def _submit_all(session, city):
    return [ideas.submit_idea(session, city, title=t, summary=s) for t, s in IDEAS]


def test_a_draft_finds_the_idea_about_the_same_thing(make_platform):
    platform = make_platform(plugins=["similar_ideas"])
    with platform.transaction() as session:
        city = platform.city_row(session)
        snow, _bikes, _library = _submit_all(session, city)
        matches = similarity.similar_to_draft(
            session, city, {"title": "Bättre snöröjning", "summary": "Ploga hållplatsen vid skolan"}
        )
        assert matches[0].idea.id == snow.id
        assert (
            similarity.similar_to_draft(session, city, {"title": "Konstgräs på fotbollsplanen"})
            == []
        )


def test_the_index_sees_ideas_submitted_after_it_was_built(make_platform):
    platform = make_platform(plugins=["similar_ideas"])
    with platform.transaction() as session:
        city = platform.city_row(session)
        _submit_all(session, city)
        assert similarity.similar_to_draft(session, city, {"title": "Isbana på torget"}) == []
        rink = ideas.submit_idea(session, city, title="Spolad isbana på torget")
        assert [
            m.idea.id
            for m in similarity.similar_to_draft(session, city, {"title": "Isbana på torget"})
        ] == [rink.id]


def _peer_with_idea(session, year: int = 2025) -> Idea:
    lund = City(
        slug="lund",
        name={"sv": "Lund", "en": "Lund"},
        reference_prefix="LUN",
        locales=["sv", "en"],
        is_peer=True,
    )
    session.add(lund)
    session.flush()
    stage = Stage(
        city_id=lund.id, key="test", phase="pilot", position=1, name={"sv": "Test", "en": "Pilot"}
    )
    session.add(stage)
    session.flush()
    when = datetime(year, 3, 1)
    idea = Idea(
        city_id=lund.id,
        reference=f"LUN-{year}-0007",
        title="Snöröjning av cykelbanor med sopsaltning",
        summary="Sopsaltade cykelbanor hela vintern.",
        stage_id=stage.id,
        phase="pilot",
        submitted_at=when,
        updated_at=when,
    )
    session.add(idea)
    session.flush()
    return idea


def test_the_preview_shows_similar_ideas_of_the_city_and_of_peers(plugin_client, public_idea):
    """While writing: "Lund tried this in 2025" beside the city's own similar idea."""
    client, app = plugin_client(["similar_ideas"])
    for title, summary in IDEAS:
        public_idea(app, title=title, summary=summary)
    with app.extensions["innoplat"].transaction() as session:
        _peer_with_idea(session)
    response = client.post(
        "/ideas/new?lang=en",
        data={
            "title": "Snöröjning av cykelbanor",
            "summary": "Cykelbanorna plogas för sent.",
            "preview": "1",
            "initiator_kind": "citizen",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "Similar ideas" in page
    assert "Lund tried this in 2025" in page
    assert "Uppvärmda cykelbanor" in page
    assert "Bibliotek i det nya stadshuset" not in page


def test_coordinators_get_a_duplicate_hint_and_the_public_does_not(
    plugin_client, public_idea, sign_in
):
    client, app = plugin_client(["similar_ideas"])
    for title, summary in IDEAS:
        public_idea(app, title=title, summary=summary)
    twin = public_idea(
        app, title="Snöröjning vid busshållplatser", summary="Busshållplatserna plogas för sent."
    )
    assert "Possible duplicates" not in client.get(f"/ideas/{twin}?lang=en").get_data(as_text=True)
    sign_in(client, "coordinator")
    page = client.get(f"/ideas/{twin}?lang=en").get_data(as_text=True)
    assert "Possible duplicates" in page and "Snöröjning vid busshållplatserna" in page
    assert "Uppvärmda cykelbanor" not in page.split("Possible duplicates")[1]


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"limit": 0}, "limit"),
        ({"candidates": "all"}, "candidates"),
        ({"duplicate_threshold": 2}, "duplicate_threshold"),
        ({"peers": True}, "peers"),
    ],
)
def test_bad_settings_name_the_key(make_platform, settings, key):
    with pytest.raises(PluginError, match=f"plugins.similar_ideas.{key}"):
        make_platform(plugins=["similar_ideas"], settings={"similar_ideas": settings})
