"""Forms that help: clean error summaries, an edit conflict that keeps the loser's text to send
again, one id per element, and the filters a visitor needs first."""

from __future__ import annotations

import re
from collections import Counter

from web_helpers import add_idea, csrf_token, edit_form

from innoplat.core.services import ideas as idea_service


def page(response) -> str:
    return response.get_data(as_text=True)


def test_the_error_summary_has_clean_punctuation_and_can_take_focus(client):
    token = csrf_token(client, "/ideas/new")
    response = client.post(
        "/ideas/new",
        data={"title": "En idé", "email": "kim@example.org", "send": "1", "csrf_token": token},
    )
    assert '<div class="error-summary" role="alert" tabindex="-1">' in page(response)
    summary = page(response).split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert "med idén: Kryssa i rutan" in summary
    assert ".:" not in summary


def test_the_loser_of_an_edit_conflict_keeps_their_text_and_can_send_it_again(app, coordinator):
    reference = add_idea(app, title="Ursprunglig rubrik")
    token = csrf_token(coordinator, f"/ideas/{reference}/edit")
    first = edit_form(title="Annas rubrik", csrf_token=token)
    assert coordinator.post(f"/ideas/{reference}/edit", data=first).status_code == 302
    bertil = {**first, "title": "Bertils rubrik", "description": "Bertils långa text om saken."}
    conflict = page(coordinator.post(f"/ideas/{reference}/edit", data=bertil))
    form = conflict.split('id="resubmit-heading"', 1)[1]
    assert 'value="Bertils rubrik"' in form
    assert "Bertils långa text om saken." in form.split("<textarea", 2)[2]
    assert re.search(r'name="version" type="hidden" value="2"', form)  # against the saved version
    # Sent again as it stands, Bertil's text is saved over Anna's version knowingly.
    again = {
        **bertil,
        "version": "2",
        "csrf_token": csrf_token(coordinator, f"/ideas/{reference}/edit"),
    }
    assert coordinator.post(f"/ideas/{reference}/edit", data=again).status_code == 302
    with app.extensions["innoplat"].transaction() as session:
        assert idea_service.get_idea(session, reference).title == "Bertils rubrik"


def test_a_signed_in_idea_page_has_no_duplicate_ids(app, coordinator):
    reference = add_idea(app)
    html = page(coordinator.get(f"/ideas/{reference}"))
    ids = Counter(re.findall(r'\sid="([^"]+)"', html))
    assert [name for name, n in ids.items() if n > 1] == []
    assert html.count('name="csrf_token"') >= 3  # several forms, each with its own token


def test_the_idea_filters_show_the_few_that_matter_and_fold_the_rest(client):
    html = page(client.get("/ideas"))
    main, more = html.split('<details class="more-filters"', 1)
    for name in ("q", "stage", "focus_area", "sort"):
        assert f'id="{name}"' in main
    for name in ("phase", "sdg", "method", "organisation", "origin_channel"):
        assert f'id="{name}"' in more.split("</details>", 1)[0]
    assert more.startswith(">")  # folded while none of them is used
    assert (
        page(client.get("/ideas?phase=pilot"))
        .split('<details class="more-filters"', 1)[1]
        .startswith(" open>")
    )
