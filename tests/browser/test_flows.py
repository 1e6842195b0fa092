"""What citizens and the working group do, in a real browser: submit, screen, apply a method, move."""

from __future__ import annotations

import re

from conftest import sign_in
from playwright.sync_api import expect


def test_a_citizen_submits_an_idea_in_swedish_and_a_coordinator_takes_it_to_test(
    browser, page, live_server
):
    page.goto(live_server("/"))
    page.get_by_role("navigation", name="Huvudmeny").get_by_role(
        "link", name="Lämna en idé"
    ).click()
    page.get_by_label("Rubrik").fill("Uppvärmda cykelställ vid stationen")
    page.get_by_label("Sammanfattning").fill("Spillvärme håller cykelställen isfria hela vintern.")
    page.get_by_label("Beskrivning").fill("Vi kan använda **spillvärme** från fjärrvärmenätet.")
    page.get_by_label("Tekniska lösningar").check()
    page.get_by_role("button", name="Förhandsgranska").click()
    expect(page.get_by_role("heading", name="Förhandsgranska")).to_be_visible()
    expect(page.locator(".preview-card strong")).to_have_text("spillvärme")
    page.get_by_label("Ditt namn (frivilligt)").fill("Elsa Invånare")
    page.get_by_role("button", name="Skicka idén").click()
    expect(page.locator("#consent-error")).to_be_visible()  # a name needs consent
    page.get_by_label("Jag samtycker till att kommunen sparar").check()
    page.get_by_role("button", name="Skicka idén").click()
    expect(page.get_by_role("heading", name="Tack för din idé")).to_be_visible()
    reference = page.locator("strong.reference").inner_text()
    assert re.fullmatch(r"KIR-\d{4}-\d{4}", reference)

    staff = browser.new_context(locale="sv-SE")
    coordinator = staff.new_page()
    try:
        sign_in(coordinator, live_server)
        coordinator.goto(live_server(f"/ideas/{reference}"))
        for stage, note in (
            ("Bedömning", "Arbetsgruppen bedömer idén"),
            ("Utveckling", ""),
            ("Test", "Testas i vinter"),
        ):
            coordinator.get_by_role("link", name="Flytta till ett annat steg").click()
            coordinator.get_by_label(stage, exact=True).check()
            if note:
                coordinator.get_by_label("Anteckning").fill(note)
            coordinator.get_by_role("button", name="Flytta idé").click()
            expect(coordinator.locator(".stage-badge")).to_have_text(stage)
            if stage == "Bedömning":
                coordinator.get_by_role("link", name="Tillämpa en metod").click()
                coordinator.get_by_label("Metod").select_option("living_lab")
                coordinator.get_by_label("Resultat").select_option("ongoing")
                coordinator.get_by_role("button", name="Registrera metod").click()
                expect(
                    coordinator.locator("#methods-heading + .table-scroll table")
                ).to_contain_text("Pågår")
        expect(coordinator.locator(".timeline")).to_contain_text("Testas i vinter")
    finally:
        staff.close()

    page.goto(live_server(f"/ideas/{reference}"))
    expect(page.locator(".stage-badge")).to_have_text("Test")


def test_switching_to_english_and_northern_sami_changes_the_page(page, live_server):
    page.goto(live_server("/ideas"))
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.get_by_role("heading", level=1)).to_have_text("Idéer")
    page.get_by_role("navigation", name="Språk").get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ideas")
    page.get_by_role("navigation", name="Language").get_by_role(
        "link", name="Davvisámegiella"
    ).click()
    expect(page.locator("html")).to_have_attribute("lang", "se")
    expect(page.get_by_role("heading", level=1)).to_have_text("Jurdagat")
    page.goto(live_server("/"))  # the choice is remembered
    expect(page.locator("html")).to_have_attribute("lang", "se")


def test_keyboard_only_skip_link_and_submitting_the_form(page, live_server):
    page.goto(live_server("/ideas/new"))
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Hoppa till innehållet")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()  # visible when focused
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Rubrik")).to_be_focused()
    page.keyboard.type("Idé skickad med tangentbordet")
    page.keyboard.press("Enter")  # implicit submission: the first button, the preview
    expect(page.get_by_role("heading", name="Förhandsgranska")).to_be_visible()
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.name") == "send":
            break
    expect(page.get_by_role("button", name="Skicka idén")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Tack för din idé")).to_be_visible()
