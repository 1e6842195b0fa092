"""Plugins add metrics through innoplat_comparison_metrics; they join every output."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from innoplat.core.hookspecs import hookimpl
from innoplat.core.models import Idea, Method, MethodApplication
from innoplat.core.services import comparison, ideas, methods
from innoplat.core.services.comparison import Metric


def _applications_per_idea(session, city_ids, method_keys, since):
    query = (
        select(Idea.city_id, Method.shared_key, func.count(), func.count(func.distinct(Idea.id)))
        .join(MethodApplication, MethodApplication.idea_id == Idea.id)
        .join(Method, Method.id == MethodApplication.method_id)
        .where(Idea.city_id.in_(city_ids))
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


class ApplicationsPlugin:
    @hookimpl
    def innoplat_comparison_metrics(self):
        return [
            Metric(
                "applications_per_idea",
                {"sv": "Tillämpningar per idé", "en": "Applications per idea"},
                "ratio",
                _applications_per_idea,
            )
        ]


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
