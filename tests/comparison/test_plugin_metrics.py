"""Plugins add metrics through innoplat_comparison_metrics; they join every output."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import func, select

from innoplat.core.errors import ValidationError
from innoplat.core.hookspecs import hookimpl
from innoplat.core.models import Idea, Method, MethodApplication
from innoplat.core.services import comparison, ideas, methods
from innoplat.core.services.comparison import Metric


def _applications_per_idea(session, city_ids, method_keys, since, *, visible):
    query = (
        select(Idea.city_id, Method.shared_key, func.count(), func.count(func.distinct(Idea.id)))
        .join(MethodApplication, MethodApplication.idea_id == Idea.id)
        .join(Method, Method.id == MethodApplication.method_id)
        .where(Idea.city_id.in_(city_ids), visible)
        .group_by(Idea.city_id, Method.shared_key)
    )
    if method_keys is not None:
        query = query.where(Method.shared_key.in_(method_keys))
    return [
        {
            "city_id": c,
            "method": m,
            "metric": "applications_per_idea",
            "value": a / n,
            "low": None,
            "high": None,
            "n": n,
        }
        for c, m, a, n in session.execute(query)
    ]


APPLICATIONS_PER_IDEA = Metric(
    "applications_per_idea",
    {"sv": "Tillämpningar per idé", "en": "Applications per idea"},
    "ratio",
    _applications_per_idea,
)


class ApplicationsPlugin:
    @hookimpl
    def innoplat_comparison_metrics(self):
        return [APPLICATIONS_PER_IDEA]


def test_a_plugin_metric_is_compared_like_the_built_in_ones(make_platform):
    platform = make_platform(extra_plugins=[ApplicationsPlugin()])
    with platform.transaction() as session:
        city = platform.city_row(session)
        idea = ideas.submit_idea(session, city, title="Idé")
        methods.apply_method(session, idea, "living_lab", started_on=date(2025, 1, 1))
        methods.apply_method(session, idea, "living_lab", started_on=date(2025, 3, 1))
    with platform.transaction() as session:
        keys = [m.key for m in comparison.available_metrics(session)]
        rows = comparison.compare_methods(
            session, metrics=["applications_per_idea", "ideas_with_method"]
        )
    builtin = [m.key for m in comparison.BUILTIN_METRICS]
    assert keys[: len(builtin)] == builtin and "applications_per_idea" in keys[len(builtin) :]
    assert [(r["metric"], r["value"], r["n"], r["small_sample"]) for r in rows] == [
        ("applications_per_idea", 2, 1, True),
        ("ideas_with_method", 1, 1, True),
    ]


def _blind_count(session, city_ids, method_keys, since):
    """A compute function written before ``visible`` existed: it counts every idea."""
    query = (
        select(Idea.city_id, Method.shared_key, func.count(func.distinct(Idea.id)))
        .join(MethodApplication, MethodApplication.idea_id == Idea.id)
        .join(Method, Method.id == MethodApplication.method_id)
        .where(Idea.city_id.in_(city_ids))
        .group_by(Idea.city_id, Method.shared_key)
    )
    return [
        {"city_id": c, "method": m, "metric": "blind_count", "value": n, "n": n}
        for c, m, n in session.execute(query)
    ]


class VisibilityPlugin:
    @hookimpl
    def innoplat_comparison_metrics(self):
        return [
            APPLICATIONS_PER_IDEA,
            Metric("blind_count", {"sv": "Alla", "en": "All"}, "ideas", _blind_count),
        ]


def test_a_plugin_metric_counts_what_the_reader_may_see(make_platform):
    """Public figures leave internal ideas out; a compute function that cannot is staff only."""
    platform = make_platform(extra_plugins=[VisibilityPlugin()])
    with platform.transaction() as session:
        city = platform.city_row(session)
        for visibility in ("public", "internal", "internal"):
            idea = ideas.submit_idea(session, city, title="Idé", visibility=visibility)
            methods.apply_method(session, idea, "living_lab", started_on=date(2025, 1, 1))
    with platform.transaction() as session:
        city = platform.city_row(session)
        public = comparison.compare_methods(session, metrics=["applications_per_idea"])
        assert "blind_count" not in [
            m.key for m in comparison.available_metrics(session, staff=False)
        ]
        staff = comparison.compare_methods(
            session, metrics=["applications_per_idea", "blind_count"], staff_of=city
        )
    assert [(r["metric"], r["n"]) for r in public] == [("applications_per_idea", 1)]
    assert [(r["metric"], r["n"]) for r in staff] == [
        ("applications_per_idea", 3),
        ("blind_count", 3),
    ]


def test_a_metric_names_a_known_audience():
    with pytest.raises(ValidationError, match="audience"):
        Metric("x", "X", "ideas", _blind_count, audience="everyone")  # type: ignore[arg-type]


def _hostile_rows(session, city_ids, method_keys, since, *, visible):
    return [
        {"city_id": c, "method": '=HYPERLINK("https://evil.example","x")', "metric": "hostile",
         "value": -1.5, "low": None, "high": None, "n": 40}
        for c in city_ids
    ]  # fmt: skip


class HostilePlugin:
    @hookimpl
    def innoplat_comparison_metrics(self):
        return [Metric("hostile", "Hostile", "ratio", _hostile_rows)]


def test_the_comparison_csv_neutralises_formulas(make_platform):
    """A cell that a spreadsheet would run gets a leading apostrophe; numbers stay numbers."""
    from innoplat.core.web import create_app

    platform = make_platform(extra_plugins=[HostilePlugin()])
    client = create_app(platform=platform, config={"TESTING": True}).test_client()
    text = client.get("/compare.csv?metric=hostile&cities=kiruna").get_data(as_text=True)
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert row["method"] == '\'=HYPERLINK("https://evil.example","x")'
    assert row["value"] == "-1.5"
