"""Every page reflows at 320 CSS pixels (WCAG 2.1 SC 1.4.10): nothing scrolls sideways but wide
tables, which scroll inside a labelled, focusable region; the narrow-screen menu folds away."""

from __future__ import annotations

import pytest
from conftest import sign_in
from test_accessibility import AXE, AXE_OPTIONS, PUBLIC_PAGES, _a_public_idea, staff_pages

NARROW = {"width": 320, "height": 640}
PLUGIN_PAGES = {"voting": "/voting/", "opendata": "/opendata/", "compare": "/compare"}
LOCALES = ("sv", "en", "se", "fi", "fit")

# How far the page itself scrolls sideways, and which element sticks out (for the message).
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const element of document.querySelectorAll('body *')) {
    if (element.closest('.table-scroll')) continue;
    const box = element.getBoundingClientRect();
    if (box.width && box.right > width + 1) wide.push(element.tagName.toLowerCase() + '.' + element.className + ' ' + Math.round(box.right));
  }
  return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 5)};
}"""


def _assert_reflows(page, where: str) -> None:
    found = page.evaluate(OVERFLOW)
    assert found["scroll"] <= found["width"], f"{where} scrolls sideways at 320 px: {found}"


def _narrow_page(browser, locale: str = "sv-SE"):
    context = browser.new_context(locale=locale, viewport=NARROW)
    context.set_default_timeout(15_000)
    return context, context.new_page()


@pytest.fixture
def narrow(browser):
    context, page = _narrow_page(browser)
    try:
        yield page
    finally:
        context.close()


@pytest.mark.parametrize("name", [*PUBLIC_PAGES, *PLUGIN_PAGES])
def test_public_pages_reflow_and_pass_axe_at_320_pixels(narrow, live_server, name):
    narrow.goto(live_server({**PUBLIC_PAGES, **PLUGIN_PAGES}[name]))
    _assert_reflows(narrow, name)
    results = AXE.run(narrow, options=AXE_OPTIONS)
    assert results.violations_count == 0, f"{name}: {results.generate_report()}"


def test_the_idea_page_reflows_and_passes_axe_in_every_language(narrow, live_server):
    reference = _a_public_idea(live_server)
    for locale in LOCALES:
        narrow.goto(live_server(f"/ideas/{reference}?lang={locale}"))
        _assert_reflows(narrow, f"the idea page in {locale}")
        results = AXE.run(narrow, options=AXE_OPTIONS)
        assert results.violations_count == 0, f"{locale}: {results.generate_report()}"


def test_working_group_pages_reflow_and_pass_axe_at_320_pixels(narrow, live_server):
    sign_in(narrow, live_server)
    reference = _a_public_idea(live_server)
    for name, path in {**staff_pages(reference), "evaluation": "/evaluation/"}.items():
        narrow.goto(live_server(path))
        _assert_reflows(narrow, name)
        results = AXE.run(narrow, options=AXE_OPTIONS)
        assert results.violations_count == 0, f"{name}: {results.generate_report()}"


def test_wide_tables_scroll_inside_a_labelled_focusable_region(narrow, live_server):
    narrow.goto(live_server("/methods"))
    region = narrow.locator(".table-scroll").first
    assert region.get_attribute("role") == "region"
    assert region.get_attribute("aria-label")
    assert region.get_attribute("tabindex") == "0"
    assert region.locator("table").count() == 1


def test_the_narrow_menu_folds_and_opens_with_the_keyboard(narrow, live_server):
    narrow.goto(live_server("/"))
    toggle = narrow.get_by_role("button", name="Meny")
    menu = narrow.locator("#main-menu")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not menu.is_visible()
    # The header leaves most of the first screen to the content.
    assert narrow.locator(".site-header").bounding_box()["height"] < 160
    toggle.focus()
    narrow.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert menu.is_visible()
    menu.get_by_role("link", name="Metoder").click()
    narrow.wait_for_url("**/methods")


def test_without_javascript_the_menu_is_simply_shown(browser, live_server):
    context = browser.new_context(locale="sv-SE", viewport=NARROW, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server("/"))
        assert page.locator("#main-menu").is_visible()
        assert not page.get_by_role("button", name="Meny").is_visible()
    finally:
        context.close()


@pytest.mark.parametrize("locale", LOCALES)
def test_the_desktop_header_fits_on_one_line_at_1280_pixels(browser, live_server, locale):
    context = browser.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        sign_in(page, live_server)
        for signed_in in (True, False):
            page.goto(live_server(f"/?lang={locale}"))
            items = page.locator("#main-menu li")
            tops = {round(items.nth(i).bounding_box()["y"]) for i in range(items.count())}
            assert len(tops) == 1, f"menu wraps in {locale} (signed in: {signed_in}): {tops}"
            if signed_in:
                page.goto(live_server("/logout"))
                page.locator("main").get_by_role("button").click()
    finally:
        context.close()


def test_after_a_server_side_error_focus_moves_to_the_error_summary(page, live_server):
    page.goto(live_server("/ideas/new"))
    page.get_by_role("button", name="Skicka idén").click()
    page.wait_for_selector(".error-summary")
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
