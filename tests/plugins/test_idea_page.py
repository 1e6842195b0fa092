"""The idea page with the built-in plugins: civic actions grouped at the top, staff sections last."""

from __future__ import annotations

NOTIFY = {"notifications": {"sender": "innovation-kiruna@example.invalid"}}


def _positions(page: str, markers: list[str]) -> list[int]:
    return [page.index(marker) for marker in markers]


def test_a_citizen_finds_support_then_follow_before_the_description_and_discussion_after_it(
    plugin_client, public_idea
):
    client, app = plugin_client(["voting", "notifications", "comments"], NOTIFY)
    reference = public_idea(app, description="Beskrivningen av idén")
    page = client.get(f"/ideas/{reference}").get_data(as_text=True)
    actions = page.split('class="idea-actions"')[1].split('class="idea-main"')[0]
    assert 'class="plugin-voting"' in actions and 'class="plugin-notifications"' in actions
    markers = [
        'class="plugin-voting"',
        'class="plugin-notifications"',
        "Beskrivningen av idén",
        'class="plugin-comments"',
        'id="facts-heading"',
    ]
    positions = _positions(page, markers)
    assert positions == sorted(positions), dict(zip(markers, positions, strict=True))
    assert 'class="idea-staff"' not in page  # nothing of the working group's for a citizen


def test_the_working_groups_sections_come_last(plugin_client, public_idea, sign_in):
    client, app = plugin_client(["voting", "notifications", "comments", "evaluation"], NOTIFY)
    reference = public_idea(app)
    sign_in(client, "coordinator")
    page = client.get(f"/ideas/{reference}").get_data(as_text=True)
    staff = page.split('class="idea-staff"')[1]
    assert 'class="plugin-evaluation"' in staff
    assert page.index('class="plugin-voting"') < page.index('class="plugin-comments"')
    assert page.index('id="timeline-heading"') < page.index('class="plugin-evaluation"')


def test_every_id_on_the_idea_page_is_unique(plugin_client, public_idea):
    import re

    client, app = plugin_client(["voting", "notifications", "comments"], NOTIFY)
    reference = public_idea(app)
    page = client.get(f"/ideas/{reference}").get_data(as_text=True)
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
