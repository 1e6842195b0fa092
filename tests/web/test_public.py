"""Public pages: home, the list of ideas, an idea, organisations, methods, about."""

from __future__ import annotations

from web_helpers import add_idea

from innoplat.core.services import ideas as idea_service
from innoplat.core.services import methods as method_service


def text(response) -> str:
    return response.get_data(as_text=True)


def test_home_shows_the_city_its_partners_funder_focus_areas_and_funnel(app, client):
    add_idea(app, title="Snöröjning med sensorer")
    page = text(client.get("/"))
    assert "Innovationsplattform Kiruna" in page
    assert "Tekniska Verken i Kiruna AB" in page and "Vinnova" in page
    assert "Stadsomvandlingen" in page  # a focus area
    assert "Snöröjning med sensorer" in page
    assert 'href="/ideas?stage=inkommen"' in page  # the funnel links each stage


def test_home_lists_methods_used_most(app, client):
    reference = add_idea(app)
    platform = app.extensions["innoplat"]
    with platform.transaction() as session:
        idea = idea_service.get_idea(session, reference)
        method_service.apply_method(session, idea, "living_lab")
    assert 'href="/methods/living_lab"' in text(client.get("/"))


def test_ideas_can_be_filtered_searched_and_sorted(app, client):
    add_idea(app, title="Solceller på skolan", focus_areas=["tekniska_losningar"])
    add_idea(app, title="Lånecyklar vintertid", origin_channel="workshop")
    by_area = text(client.get("/ideas?focus_area=tekniska_losningar"))
    assert "Solceller på skolan" in by_area and "Lånecyklar vintertid" not in by_area
    by_channel = text(client.get("/ideas?origin_channel=workshop"))
    assert "Lånecyklar vintertid" in by_channel and "Solceller" not in by_channel
    searched = text(client.get("/ideas?q=vintertid"))
    assert "Lånecyklar vintertid" in searched and "Solceller" not in searched
    by_title = text(client.get("/ideas?sort=title"))
    assert by_title.index("Lånecyklar") < by_title.index("Solceller")
    by_sdg = text(client.get("/ideas?sdg=7"))  # tekniska_losningar maps to SDG 7
    assert "Solceller på skolan" in by_sdg and "Lånecyklar" not in by_sdg


def test_ideas_are_paginated_and_counted(make_app):
    app = make_app(config={"INNOPLAT_PAGE_SIZE": 2})
    for n in range(5):
        add_idea(app, title=f"Idé nummer {n}")
    client = app.test_client()
    first = text(client.get("/ideas"))
    assert "5 idéer hittades" in first and "Sida 1 av 3" in first
    last = text(client.get("/ideas?page=3"))
    assert "Idé nummer 0" in last and "Idé nummer 4" not in last
    assert client.get("/ideas?page=99").status_code == 200  # clamps to the last page


def test_an_unknown_filter_value_is_ignored_not_an_error(client):
    assert client.get("/ideas?phase=nonsense&sdg=99&origin_channel=x&sort=y").status_code == 200


def test_idea_page_shows_markdown_timeline_methods_and_organisations(app, client):
    reference = add_idea(
        app,
        title="Värmekamera vid busshållplatser",
        description="Ett **fetstilt** förslag.\n\n- punkt ett",
        owner_organisation="tekniska-verken-i-kiruna",
    )
    platform = app.extensions["innoplat"]
    with platform.transaction() as session:
        idea = idea_service.get_idea(session, reference)
        idea_service.move_idea(session, idea, "bedomning", note="Till arbetsgruppen")
        method_service.apply_method(session, idea, "living_lab", outcome="succeeded")
    page = text(client.get(f"/ideas/{reference}"))
    assert "<strong>fetstilt</strong>" in page and "<li>punkt ett</li>" in page
    assert "Bedömning" in page and "Till arbetsgruppen" in page
    assert "Lyckades" in page  # the outcome, in Swedish
    assert "Tekniska Verken i Kiruna AB" in page


def test_a_script_in_an_idea_never_reaches_the_page(app, client):
    reference = add_idea(
        app,
        title="<script>alert('title')</script>",
        description="Hej <script>alert('xss')</script> [länk](javascript:alert(1)) <img src=x onerror=alert(2)>",
    )
    page = text(client.get(f"/ideas/{reference}"))
    description = page.split('<section class="description"')[1].split("</section>")[0]
    assert "<script" not in page.replace('<script src="', "")  # no inline script anywhere
    assert 'href="javascript:' not in description
    assert "<img" not in description  # shown as text, never as an element with a handler


def test_internal_ideas_are_hidden_from_visitors(app, client):
    reference = add_idea(app, title="Intern budgetidé", visibility="internal")
    assert client.get(f"/ideas/{reference}").status_code == 404
    assert "Intern budgetidé" not in text(client.get("/ideas"))


def test_an_unknown_idea_is_a_friendly_404(client):
    response = client.get("/ideas/KIR-1999-9999")
    assert response.status_code == 404
    assert "Sidan hittades inte" in text(response) and "Traceback" not in text(response)


def test_organisations_directory_and_detail_with_collaborators(app, client):
    add_idea(app, title="Gemensam idé", owner_organisation="ltu")
    platform = app.extensions["innoplat"]
    with platform.transaction() as session:
        from innoplat.core.services import actors

        idea = idea_service.list_ideas(session, platform.city_row(session))[0]
        actors.add_participation(session, idea, "rise", "partner")
    directory = text(client.get("/organisations"))
    assert "Luleå tekniska universitet" in directory and "Universitet" in directory
    detail = text(client.get("/organisations/ltu"))
    assert "Gemensam idé" in detail and "RISE Research Institutes of Sweden" in detail
    assert client.get("/organisations/no-such-org").status_code == 404


def test_method_catalogue_and_method_page_with_outcomes(app, client):
    reference = add_idea(app, title="Testbädd för snösmältning")
    platform = app.extensions["innoplat"]
    with platform.transaction() as session:
        method_service.apply_method(
            session, idea_service.get_idea(session, reference), "living_lab", outcome="failed"
        )
    catalogue = text(client.get("/methods"))
    assert 'href="/methods/living_lab"' in catalogue and "Innovationsverkstad" in catalogue
    page = text(client.get("/methods/living_lab"))
    assert "Testbädd för snösmältning" in page and "Misslyckades" in page
    assert client.get("/methods/no_such_method").status_code == 404


def test_about_page_explains_the_workflow(client):
    page = text(client.get("/about"))
    assert "Inkommen" in page and "Vilande" in page and "Kiruna kommun" in page


def test_theme_colours_come_from_city_toml(client):
    css = text(client.get("/theme.css"))
    assert "--primary: #0b5a8a" in css and "--accent: #a3361a" in css


def test_the_citys_logo_is_shown_and_served_from_its_folder(make_app, tmp_path):
    import shutil

    from innoplat.core.config import load_city

    folder = tmp_path / "kiruna"
    shutil.copytree(
        load_city("kiruna").folder, folder, ignore=shutil.ignore_patterns("__pycache__")
    )
    (folder / "static").mkdir(exist_ok=True)
    (folder / "static" / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"/>', encoding="utf-8"
    )
    toml = (folder / "city.toml").read_text(encoding="utf-8")
    (folder / "city.toml").write_text(
        toml.replace('logo = "wordmark.svg"', 'logo = "logo.svg"'), encoding="utf-8"
    )
    client = make_app(city=folder).test_client()
    assert '<img src="/city/static/logo.svg" alt="" class="logo">' in text(client.get("/"))
    logo = client.get("/city/static/logo.svg")
    assert logo.status_code == 200 and logo.mimetype == "image/svg+xml"
    logo.close()
    assert client.get("/city/static/../city.toml").status_code == 404
