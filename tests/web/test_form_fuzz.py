"""The web forms fuzzed with Hypothesis: whatever a browser (or anything else) sends, the
answer is a page or a redirect, never a server error, and nothing unstorable is stored."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web_helpers import add_idea

#: Any text, including NUL, lone surrogates' neighbours, control characters, and long runs.
TEXT = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.sampled_from(["", " ", "\x00", "²", "٣", "a@b.se\r\nBcc: x@y.se", "x" * 20_001]),
)
FUZZ = settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def form_client(make_app):
    app = make_app(config={"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    return app.test_client()


@FUZZ
@given(
    title=TEXT,
    summary=TEXT,
    description=TEXT,
    name=TEXT,
    email=TEXT,
    initiator_kind=TEXT,
    focus_areas=st.lists(st.one_of(st.sampled_from(["smart_arktisk_stad"]), TEXT), max_size=3),
    consent=st.sampled_from(["", "y"]),
    button=st.sampled_from(["send", "preview"]),
)
def test_the_submit_form_never_fails_on_any_input(
    form_client,
    title,
    summary,
    description,
    name,
    email,
    initiator_kind,
    focus_areas,
    consent,
    button,
):
    data = {
        "title": title,
        "summary": summary,
        "description": description,
        "name": name,
        "email": email,
        "initiator_kind": initiator_kind,
        "focus_areas": focus_areas,
        "consent": consent,
        button: "1",
    }
    response = form_client.post("/ideas/new", data=data)
    assert response.status_code in (200, 302, 400), response.status_code
    if response.status_code == 302:
        stored = form_client.get(response.headers["Location"])
        assert stored.status_code in (200, 302)


@pytest.fixture
def staff_client(make_app, sign_in):
    """A coordinator's client and an idea to move and edit."""
    app = make_app(config={"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    client = app.test_client()
    sign_in(client, "coordinator")
    return client, add_idea(app)


@FUZZ
@given(
    to=TEXT,
    note=TEXT,
    version=st.one_of(TEXT, st.integers().map(str)),
    title=TEXT,
    visibility=TEXT,
)
def test_the_staff_forms_never_fail_on_any_input(
    staff_client, to, note, version, title, visibility
):
    client, reference = staff_client
    moved = client.post(
        f"/ideas/{reference}/move", data={"to": to, "note": note, "version": version}
    )
    assert moved.status_code in (200, 302, 400, 409), moved.status_code
    edited = client.post(
        f"/ideas/{reference}/edit",
        data={"title": title, "visibility": visibility, "version": version},
    )
    assert edited.status_code in (200, 302, 400, 409), edited.status_code
