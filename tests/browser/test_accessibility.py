"""axe-core finds no WCAG 2.1 AA violation on any main page; screenshots of each page for the README."""

from __future__ import annotations

import os

import pytest
from axe_playwright_python.sync_playwright import Axe
from conftest import REPOSITORY, sign_in
from sqlalchemy import select

from innoplat.core.models import Idea, MethodApplication, Visibility

AXE = Axe()
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    }
}
PUBLIC_PAGES = {
    "home": "/",
    "ideas": "/ideas",
    "ideas-filtered": "/ideas?phase=implemented&sort=title",
    "submit": "/ideas/new",
    "organisations": "/organisations",
    "organisation": "/organisations/tekniska-verken-i-kiruna",
    "methods": "/methods",
    "method": "/methods/living_lab",
    "about": "/about",
    "login": "/login",
    "not-found": "/no/such/page",
    "english-home": "/?lang=en",
    "sami-ideas": "/ideas?lang=se",
    "meankieli-submit": "/ideas/new?lang=fit",
    "finnish-methods": "/methods?lang=fi",
    # Names Kiruna gives no Sami or Meänkieli for, shown in Swedish and marked lang="sv".
    "sami-home": "/?lang=se",
    "meankieli-method": "/methods/kiruna-innovationsverkstad?lang=fit",
}


def _a_public_idea(live_server) -> str:
    """A public idea that went far: methods applied, organisations taking part, several stages."""
    with live_server.platform.transaction() as session:
        return session.scalar(
            select(Idea.reference)
            .where(Idea.visibility == Visibility.public, Idea.phase.in_(["implemented", "scaled"]))
            .where(Idea.id.in_(select(MethodApplication.idea_id)))
            .order_by(Idea.id)
            .limit(1)
        ) or session.scalar(
            select(Idea.reference).where(Idea.visibility == Visibility.public).limit(1)
        )


def staff_pages(reference: str) -> dict[str, str]:
    """The working group's pages, by name, with one public idea's own pages."""
    return {
        "dashboard": "/dashboard",
        "idea-staff": f"/ideas/{reference}",
        "move": f"/ideas/{reference}/move",
        "apply-method": f"/ideas/{reference}/methods/new",
        "edit": f"/ideas/{reference}/edit",
        "participations": f"/ideas/{reference}/participations",
        "audit": f"/ideas/{reference}/audit",
        "people": "/people",
        "memberships": "/organisations/ltu/memberships",
    }


def check_page(page, name: str, screenshots) -> None:
    """axe-core finds no violation on the page; its screenshot is saved as ``name``.png."""
    results = AXE.run(page, options=AXE_OPTIONS)
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("name", list(PUBLIC_PAGES))
def test_public_pages_have_no_accessibility_violations(page, live_server, screenshots, name):
    page.goto(live_server(PUBLIC_PAGES[name]))
    check_page(page, name, screenshots)


def test_the_idea_page_has_no_violations_and_is_pictured_in_the_docs(
    page, live_server, screenshots
):
    page.goto(live_server(f"/ideas/{_a_public_idea(live_server)}"))
    check_page(page, "idea", screenshots)
    # The README's picture is committed: it is rewritten only on request, so that a test run
    # leaves the working tree clean (INNOPLAT_DOCS_SCREENSHOTS=1 pytest tests/browser).
    docs = REPOSITORY / "docs" / "screenshots" / "idea-page.png"
    if os.environ.get("INNOPLAT_DOCS_SCREENSHOTS") == "1" or not docs.exists():
        docs.parent.mkdir(parents=True, exist_ok=True)
        page.set_viewport_size({"width": 1280, "height": 1200})
        page.screenshot(path=str(docs), full_page=False)


@pytest.mark.parametrize("locale", ["sv", "en"])
@pytest.mark.parametrize("width,height", [(1280, 800), (320, 640)])
def test_the_support_button_is_on_the_first_screen(browser, live_server, locale, width, height):
    """The main civic action needs no scrolling, on a laptop or a phone, and the page passes axe."""
    context = browser.new_context(locale="sv-SE", viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.goto(live_server(f"/ideas/{_a_public_idea(live_server)}?lang={locale}"))
        name = {"sv": "Stöd idén", "en": "Support this idea"}[locale]
        button = page.get_by_role("button", name=name, exact=True)
        box = button.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, box
        # Support comes before following, and the follow box (one more e-mail field) is folded.
        follow = page.locator(".plugin-notifications")
        assert box["y"] < follow.bounding_box()["y"]
        assert page.locator('input[type="email"]:visible').count() == 1
        results = AXE.run(page, options=AXE_OPTIONS)
        assert results.violations_count == 0, results.generate_report()
    finally:
        context.close()


def test_the_submission_preview_and_errors_have_no_violations(page, live_server, screenshots):
    page.goto(live_server("/ideas/new"))
    page.get_by_role("button", name="Skicka idén").click()  # empty: field errors
    check_page(page, "submit-errors", screenshots)
    page.get_by_label("Rubrik").fill("En idé att förhandsgranska")
    page.get_by_role("button", name="Förhandsgranska").click()
    check_page(page, "submit-preview", screenshots)


def test_working_group_pages_have_no_violations(page, live_server, screenshots):
    sign_in(page, live_server)
    reference = _a_public_idea(live_server)
    pages = staff_pages(reference)
    for name, path in {**pages, "new-organisation": "/organisations/new"}.items():
        page.goto(live_server(path))
        check_page(page, name, screenshots)


def test_axe_runs_offline_from_the_bundled_script(page, live_server):
    """axe-playwright-python carries axe-core itself: no request leaves the live server."""
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(live_server("/about"))
    assert AXE.run(page, options=AXE_OPTIONS).response["testEngine"]["name"] == "axe-core"
    assert requests and all(url.startswith(live_server.url) for url in requests)
