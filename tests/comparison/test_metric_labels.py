"""Metric labels go through the translators' catalogs: English msgids, translated in every language."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po

from innoplat.core.i18n import core_translations_folder
from innoplat.core.services.comparison import BUILTIN_METRICS

LOCALES = ["sv", "en", "se", "fi", "fit"]


def _catalog(locale: str):
    with (core_translations_folder() / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_metric_label_and_description_is_the_catalog_s_translation(locale):
    catalog = _catalog(locale)
    for metric in BUILTIN_METRICS:
        for text, shown in (
            (metric.label, metric.label_for(locale)),
            (metric.description, metric.description_for(locale)),
        ):
            entry = catalog.get(text)
            assert entry is not None and entry.string, f"{locale}: {text!r} is not translated"
            assert shown == entry.string


def test_labels_are_english_msgids_and_speak_each_language():
    share = next(m for m in BUILTIN_METRICS if m.key == "implementation_share")
    assert share.label == "Share implemented"
    assert share.label_for("sv") == "Andel införda"
    assert share.label_for("fi") == "Käyttöön otettujen osuus"  # the translators' string
    assert share.label_for(None) == "Andel införda"  # Swedish unless asked otherwise, as before


def _plugin_metrics():
    from innoplat.core.plugins import all_plugins_manager

    results = all_plugins_manager().hook.innoplat_comparison_metrics()
    return [metric for result in results for metric in result or []]


def test_no_metric_label_bypasses_the_catalogs():
    """Every installed plugin's metric: English msgids, never a {locale: text} dict."""
    metrics = _plugin_metrics()
    assert any(m.key == "evaluation_mean_score" for m in metrics)
    for metric in (*BUILTIN_METRICS, *metrics):
        assert isinstance(metric.label, str), metric.key
        assert metric.description is None or isinstance(metric.description, str), metric.key


@pytest.mark.parametrize("locale", LOCALES)
def test_a_plugin_s_metric_speaks_each_language_from_its_catalogs(locale):
    (score,) = [m for m in _plugin_metrics() if m.key == "evaluation_mean_score"]
    with (score.translations / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    for text, shown in (
        (score.label, score.label_for(locale)),
        (score.description, score.description_for(locale)),
    ):
        entry = catalog.get(text)
        assert entry is not None and entry.string, f"{locale}: {text!r} is not translated"
        assert shown == entry.string
    assert score.label_for("sv") == "Medelpoäng i bedömningen"
