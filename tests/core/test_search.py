"""Full-text search over ideas, through SQLite FTS5 and PostgreSQL's Swedish configuration."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from innoplat.core.models import Idea
from innoplat.core.services import demo, ideas, search
from innoplat.core.services.ideas import IdeaFilter


def found(db_session, city, text, **filters):
    """References of the ideas a search finds, best match first."""
    return [
        i.reference for i in ideas.list_ideas(db_session, city, IdeaFilter(text=text, **filters))
    ]


@pytest.fixture
def sample(submit):
    """A few Swedish ideas to search in."""
    return {
        "snow": submit(
            title="Snöröjning med spillvärme",
            summary="Gator och cykelvägar hålls fria från is.",
            description="Spillvärme från gruvan värmer trottoarerna.",
        ),
        "library": submit(
            title="Bibliotek för alla",
            summary="Längre öppettider på biblioteket med självservice.",
            description="Meröppet bibliotek i Kiruna centrum.",
        ),
        "bus": submit(
            title="Uppvärmda busshållplatser",
            summary="Värme i väntan på bussen.",
            description="Vintertid blir det kallt; snöröjning runt hållplatserna behövs också.",
        ),
        "ore": submit(title="Malmens väg", summary="Visa gruvans historia för turister."),
    }


def test_swedish_words_with_a_ring_and_umlauts_are_found(sample, db_session, city):
    assert found(db_session, city, "snöröjning")[0] == sample["snow"].reference
    assert found(db_session, city, "öppettider") == [sample["library"].reference]
    assert found(db_session, city, "Värme") != []


def test_a_vowel_without_its_dots_is_another_letter(sample, db_session, city):
    """In Swedish 'o' is not 'ö': 'snorojning' finds nothing."""
    assert found(db_session, city, "snorojning") == []


def test_an_inflected_word_finds_its_base_form(sample, db_session, city):
    """The Swedish stemmer: 'snöröjningen' and 'biblioteken' find 'snöröjning' and 'bibliotek'."""
    assert sample["snow"].reference in found(db_session, city, "snöröjningen")
    assert sample["library"].reference in found(db_session, city, "biblioteken")


def test_a_partial_word_finds_the_whole_word(sample, db_session, city):
    assert found(db_session, city, "busshåll") == [sample["bus"].reference]
    assert set(found(db_session, city, "gruv")) == {
        sample["snow"].reference,
        sample["ore"].reference,
    }


def test_a_hit_in_the_title_ranks_above_a_hit_in_the_description(sample, db_session, city):
    assert found(db_session, city, "snöröjning") == [
        sample["snow"].reference,
        sample["bus"].reference,
    ]


def test_all_words_must_match(sample, db_session, city):
    assert found(db_session, city, "snöröjning gruvan") == [sample["snow"].reference]
    assert found(db_session, city, "snöröjning turister") == []


def test_no_hits_is_an_empty_list_and_a_zero_count(sample, db_session, city):
    assert found(db_session, city, "rymdhiss") == []
    assert ideas.count_ideas(db_session, city, IdeaFilter(text="rymdhiss")) == 0


def test_or_phrases_and_exclusions(sample, db_session, city):
    assert set(found(db_session, city, "turister OR öppettider")) == {
        sample["ore"].reference,
        sample["library"].reference,
    }
    assert found(db_session, city, '"uppvärmda busshållplatser"') == [sample["bus"].reference]
    assert found(db_session, city, '"busshållplatser uppvärmda"') == []
    assert found(db_session, city, "snöröjning -bussen") == [sample["snow"].reference]
    assert found(db_session, city, "snöröjning NOT bussen") == [sample["snow"].reference]


@pytest.mark.parametrize(
    "text",
    [
        '"',
        '"snö',
        "snö*",
        "*",
        "(snö",
        "snö)",
        "AND",
        "OR OR",
        "NOT",
        "-",
        "--snö",
        "snö AND OR NOT",
        "title:snö",
        "NEAR(snö gruva)",
        "snö^2 ~ {x} [y] 'z' \\",
        "'; DROP TABLE idea; --",
        "a & b | !c <-> d:*",
        "_ __ ___",
        "ö" * 500,
    ],
)
def test_odd_input_never_fails(sample, db_session, city, text):
    results = found(db_session, city, text)
    assert isinstance(results, list)
    assert ideas.count_ideas(db_session, city, IdeaFilter(text=text)) == len(results)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=st.text(max_size=40))
def test_any_text_is_a_valid_search(sample, db_session, city, text):
    """Whatever a user types, the database answers (an error would be a 500 page)."""
    assert isinstance(found(db_session, city, text), list)


def test_punctuation_alone_searches_nothing_and_lists_everything(sample, db_session, city):
    assert len(found(db_session, city, "*()")) == len(sample)


def test_search_combines_with_filters_and_visibility(submit, sample, db_session, city):
    hidden = submit(title="Snöröjning med drönare", visibility="internal")
    assert hidden.reference in found(db_session, city, "snöröjning")
    assert hidden.reference not in found(db_session, city, "snöröjning", public_only=True)
    assert found(db_session, city, "snöröjning", phase="screening") == []


def test_an_explicit_sort_overrides_relevance(sample, db_session, city):
    by_title = found(db_session, city, "snöröjning", sort="title")
    assert by_title == [sample["snow"].reference, sample["bus"].reference]
    newest = found(db_session, city, "snöröjning", sort="newest")
    assert newest == [sample["bus"].reference, sample["snow"].reference]


def test_edits_and_deletions_reach_the_index(sample, db_session, city):
    idea = sample["ore"]
    ideas.update_idea(db_session, idea, expected_version=idea.version, title="Järnvägens historia")
    assert found(db_session, city, "järnvägens") == [idea.reference]
    assert found(db_session, city, "malmens") == []
    db_session.execute(delete(Idea).where(Idea.id == sample["library"].id))
    assert found(db_session, city, "bibliotek") == []


def test_bulk_inserted_demo_ideas_are_searchable(platform, db_session, city):
    """The demo generator inserts with SQLAlchemy Core; the index follows all the same."""
    demo.load_demo(db_session, platform.city, city, ideas=40, seed=3)
    total = ideas.count_ideas(db_session, city)
    hits = ideas.count_ideas(db_session, city, IdeaFilter(text="syntetisk"))
    assert hits == total == 40
    some = ideas.list_ideas(db_session, city, limit=1)[0]
    word = some.title.split()[-1]
    assert some.reference in found(db_session, city, word)


def test_the_query_language_is_the_same_on_both_databases():
    parsed = search.parse('snöröjningen "öppna data" -parkering OR bibliotek')
    assert (
        search.to_fts5(parsed)
        == '(("snöröjning"* AND "öppna data") NOT "parkering"*) OR ("bibliotek"*)'
    )
    assert (
        search.to_tsquery(parsed)
        == "(snöröjningen:* & (öppna <-> data) & !parkering:*) | (bibliotek:*)"
    )
    assert not search.parse(" * ( ) - ")
