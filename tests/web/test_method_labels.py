"""Method pages name categories and Innovationsguiden steps in the visitor's language, never by key."""

from __future__ import annotations

import pytest

from innoplat.core.services.cities import GUIDE_STEPS
from innoplat.core.web.labels import GUIDE_STEPS as STEP_LABELS
from innoplat.core.web.labels import METHOD_CATEGORIES


@pytest.mark.parametrize(
    ("locale", "category", "steps"),
    [
        ("sv", "Experimenterande", ["Testa idéer", "Förverkliga"]),
        ("en", "Experimentation", ["Test ideas", "Make it real"]),
        ("fi", "Kokeilu", ["Testaa ideoita", "Toteuta"]),
    ],
)
def test_a_method_page_shows_labels_not_keys(client, locale, category, steps):
    html = client.get(f"/methods/living_lab?lang={locale}").get_data(as_text=True)
    assert f"<dd>{category}</dd>" in html
    assert all(f"<li>{step}</li>" in html for step in steps)
    assert "testa_ideer" not in html and "experimentation" not in html


def test_the_method_list_shows_category_names(client):
    html = client.get("/methods?lang=sv").get_data(as_text=True)
    assert "<td>Samskapande</td>" in html and "<td>co_creation</td>" not in html


def test_every_step_the_catalogue_may_name_has_a_label():
    assert set(STEP_LABELS) == set(GUIDE_STEPS)


def test_every_category_of_the_catalogue_has_a_label():
    import tomllib

    from innoplat.plugins.catalogue import CATALOGUE_FILE

    methods = tomllib.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))["methods"]
    assert {m["category"] for m in methods} <= set(METHOD_CATEGORIES)
