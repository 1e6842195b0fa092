"""The evidence pages meet WCAG 2.1 AA: ranking table, forest plot and curves with their tables."""

from __future__ import annotations

import pytest
from test_accessibility import check_page


@pytest.mark.parametrize(
    "path",
    ["/compare/evidence", "/compare/evidence?lang=en", "/compare/evidence/living_lab?lang=en"],
)
def test_the_evidence_pages_have_no_accessibility_violations(page, live_server, screenshots, path):
    page.goto(live_server(path))
    name = "evidence-" + path.strip("/").replace("/", "-").replace("?", "-").replace("=", "-")
    check_page(page, name, screenshots)


def test_the_forest_plot_and_curves_load_as_images(page, live_server):
    page.goto(live_server("/compare/evidence/living_lab?lang=en"))
    loaded = page.eval_on_selector_all(
        "figure.chart img", "imgs => imgs.map(img => img.complete && img.naturalWidth > 0)"
    )
    assert loaded and all(loaded)
