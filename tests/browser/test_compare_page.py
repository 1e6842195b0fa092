"""The comparison page meets WCAG 2.1 AA too: form, chart with its alternative, tables."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

AXE = Axe()
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    }
}


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
    results = AXE.run(page, options=AXE_OPTIONS)
    name = "compare-" + path.split("?")[1].replace("=", "-").replace("&", "-")
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
    assert results.violations_count == 0, results.generate_report()


def test_the_chart_loads_as_an_image(page, live_server):
    page.goto(live_server("/compare?metric=lift&lang=en"))
    loaded = page.eval_on_selector(
        "figure.chart img", "img => img.complete && img.naturalWidth > 0"
    )
    assert loaded
