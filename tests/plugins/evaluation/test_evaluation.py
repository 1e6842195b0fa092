"""evaluation: a scoring matrix per city, evaluators' scores, a ranked list, a comparison metric."""

from __future__ import annotations

import copy

import pytest

from innoplat.core.errors import PluginError, ValidationError
from innoplat.core.services import ideas, methods
from innoplat.core.services.comparison import compare_methods
from innoplat.plugins.evaluation import scoring
from innoplat.plugins.evaluation.matrix import matrix, problems

CRITERIA = [
    {
        "key": "citizen_value",
        "weight": 0.5,
        "name": {"sv": "Nytta för invånare", "en": "Citizen value"},
    },
    {"key": "feasibility", "weight": 0.5, "name": {"sv": "Genomförbarhet", "en": "Feasibility"}},
]
SETTINGS = {"evaluation": {"criteria": CRITERIA}}


def _with(**change):
    criteria = copy.deepcopy(CRITERIA)
    criteria[1].update(change)
    return {"criteria": criteria}


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({}, "criteria: expected a list"),
        (_with(weight=0.6), "criteria: the weights sum to 1.1; they must sum to 1"),
        (_with(weight=-1), "criteria[1].weight: expected a number between 0 and 1"),
        (_with(key="citizen_value"), "criteria[1].key: 'citizen_value' is used twice"),
        (_with(key="Bad Key"), "criteria[1].key: expected lower-case letters"),
        (_with(name={"sv": "Genomförbarhet"}), "criteria[1].name.en: missing"),
        ({"criteria": CRITERIA, "scale": [5, 1]}, "scale: expected [lowest, highest]"),
        ({"criteria": CRITERIA, "weights": []}, "weights: unknown setting"),
    ],
)
def test_a_bad_matrix_is_refused_naming_the_key(make_platform, settings, problem):
    with pytest.raises(PluginError) as error:
        make_platform(plugins=["evaluation"], settings={"evaluation": settings})
    assert f"plugins.evaluation.{problem}" in str(error.value)


def test_every_bundled_city_matrix_is_valid():
    from innoplat.core.config import load_city

    for slug in ("kiruna", "lund", "goteborg", "stockholm"):
        assert problems(load_city(slug).config.plugins.settings("evaluation")) == []


@pytest.fixture
def evaluating(make_platform):
    from innoplat.core.services import accounts

    platform = make_platform(plugins=["evaluation"], settings=SETTINGS)
    with platform.transaction() as session:
        city = platform.city_row(session)
        ids = [
            accounts.create_account(
                session,
                city,
                email=f"e{n}@kiruna.example",
                name=f"E{n}",
                password="x" * 12,
                role="member",
            ).id
            for n in range(2)
        ]
    return platform, ids


def test_scores_give_a_weighted_score_and_a_ranking(evaluating):
    platform, (anna, olle) = evaluating
    the_matrix = matrix(SETTINGS["evaluation"])
    with platform.transaction() as session:
        city = platform.city_row(session)
        low = ideas.submit_idea(session, city, title="Låg")
        high = ideas.submit_idea(session, city, title="Hög")
        ideas.submit_idea(session, city, title="Ej bedömd")
        scoring.record_scores(
            session, low, anna, {"citizen_value": 2, "feasibility": 1}, the_matrix
        )
        scoring.record_scores(
            session, high, anna, {"citizen_value": 5, "feasibility": 3}, the_matrix
        )
        scoring.record_scores(
            session, high, olle, {"citizen_value": "4", "feasibility": "4"}, the_matrix
        )
        # scoring again replaces the evaluator's own scores
        scoring.record_scores(
            session, low, anna, {"citizen_value": 3, "feasibility": 1}, the_matrix
        )
        result = scoring.idea_score(session, high)
        assert result.score == pytest.approx(4.0) and result.evaluators == 2
        assert result.by_criterion == {"citizen_value": 4.5, "feasibility": 3.5}
        ranked = scoring.ranking(session, city)
        assert [(r.idea.title, r.score) for r in ranked] == [("Hög", 4.0), ("Låg", 2.0)]


@pytest.mark.parametrize(
    ("scores", "field"),
    [
        ({"citizen_value": 6, "feasibility": 3}, "citizen_value"),
        ({"citizen_value": 3}, "feasibility"),
        ({"citizen_value": 3, "feasibility": "2.5"}, "feasibility"),
        ({"citizen_value": 3, "feasibility": 3, "beauty": 5}, "beauty"),
    ],
)
def test_bad_scores_name_the_criterion_and_store_nothing(evaluating, scores, field):
    platform, (anna, _olle) = evaluating
    with platform.transaction() as session:
        idea = ideas.submit_idea(session, platform.city_row(session), title="Idé")
        with pytest.raises(ValidationError) as error:
            scoring.record_scores(session, idea, anna, scores, matrix(SETTINGS["evaluation"]))
        assert error.value.field == field
        assert scoring.idea_score(session, idea).score is None


def test_scores_feed_the_comparison_as_a_metric(evaluating):
    """The mean weighted score of ideas that went through a method appears in compare_methods."""
    platform, (anna, _olle) = evaluating
    the_matrix = matrix(SETTINGS["evaluation"])
    with platform.transaction() as session:
        city = platform.city_row(session)
        for title, value in (("A", 5), ("B", 3), ("C", 1)):
            idea = ideas.submit_idea(session, city, title=title)
            if title != "C":
                methods.apply_method(session, idea, "living_lab")
            scoring.record_scores(
                session, idea, anna, {"citizen_value": value, "feasibility": value}, the_matrix
            )
        rows = compare_methods(
            session, methods=["living_lab"], metrics=[scoring.METRIC_KEY], staff_of=city
        )
    (row,) = rows
    assert row["city"] == "kiruna" and row["method"] == "living_lab"
    assert row["value"] == pytest.approx(4.0) and row["n"] == 2 and row["small_sample"] is True


def test_the_mean_score_is_for_the_citys_own_staff_only(evaluating, make_platform):
    """The public figures have no mean score; Kiruna's staff see Kiruna's, never Lund's."""
    platform, (anna, _olle) = evaluating
    the_matrix = matrix(SETTINGS["evaluation"])
    lund = make_platform(city="lund", plugins=["evaluation"], settings=SETTINGS)
    for each, value in ((platform, 4), (lund, 2)):
        with each.transaction() as session:
            city = each.city_row(session)
            idea = ideas.submit_idea(session, city, title="Idé")
            methods.apply_method(session, idea, "living_lab")
            scoring.record_scores(
                session, idea, anna, {"citizen_value": value, "feasibility": value}, the_matrix
            )
    with platform.transaction() as session:
        kiruna = platform.city_row(session)
        public = compare_methods(session, methods=["living_lab"])
        assert scoring.METRIC_KEY not in {r["metric"] for r in public}
        with pytest.raises(ValidationError, match="staff only"):
            compare_methods(session, metrics=[scoring.METRIC_KEY])
        staff = compare_methods(
            session, methods=["living_lab"], metrics=[scoring.METRIC_KEY], staff_of=kiruna
        )
    assert [(r["city"], r["value"]) for r in staff] == [("kiruna", 4.0)]


def test_evaluators_score_on_the_web_and_see_the_ranking(plugin_client, public_idea, sign_in):
    client, app = plugin_client(["evaluation"], SETTINGS)
    reference = public_idea(app, title="Snösmältning med spillvärme")
    assert client.get("/evaluation/").status_code in (302, 401)
    assert "Evaluation" not in client.get(f"/ideas/{reference}").get_data(as_text=True)
    sign_in(client, "member")
    form = client.get(f"/evaluation/ideas/{reference}")
    assert form.status_code == 200
    refused = client.post(f"/evaluation/ideas/{reference}", data={"criterion_citizen_value": "4"})
    assert refused.status_code == 400
    saved = client.post(
        f"/evaluation/ideas/{reference}",
        data={"criterion_citizen_value": "4", "criterion_feasibility": "2"},
    )
    assert saved.status_code == 303
    ranked = client.get("/evaluation/").get_data(as_text=True)
    assert "Snösmältning med spillvärme" in ranked and "3.0" in ranked


def test_saving_the_same_scores_twice_at_once_stores_one_set(evaluating):
    """A double click on "Save scores" on PostgreSQL: both succeed, one score per criterion."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import func, select

    from innoplat.plugins.evaluation.models import Score

    platform, (anna, _olle) = evaluating
    the_matrix = matrix(SETTINGS["evaluation"])
    with platform.transaction() as session:
        reference = ideas.submit_idea(session, platform.city_row(session), title="Dubbel").reference
    barrier = threading.Barrier(2)

    def save(value: int) -> None:
        barrier.wait()
        with platform.transaction() as session:
            idea = ideas.get_idea(session, reference)
            scores = {"citizen_value": value, "feasibility": value}
            scoring.record_scores(session, idea, anna, scores, the_matrix)

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(save, value) for value in (2, 4)]:
            future.result()
    with platform.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Score)) == 2
