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
