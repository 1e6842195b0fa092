"""The comparison page meets WCAG 2.1 AA too: form, chart with its alternative, tables."""

from __future__ import annotations

import pytest
from test_accessibility import check_page


@pytest.mark.parametrize(
    "path",
    [
        "/compare?metric=lift",
        "/compare?metric=implementation_share&lang=en",
        "/compare?cities=atlantis",
    ],
)
def test_the_compare_page_has_no_accessibility_violations(page, live_server, screenshots, path):
    page.goto(live_server(path))
    check_page(
        page, "compare-" + path.split("?")[1].replace("=", "-").replace("&", "-"), screenshots
    )


def test_the_chart_loads_as_an_image(page, live_server):
    page.goto(live_server("/compare?metric=lift&lang=en"))
    loaded = page.eval_on_selector(
        "figure.chart img", "img => img.complete && img.naturalWidth > 0"
    )
    assert loaded
