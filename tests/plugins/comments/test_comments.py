"""comments: residents discuss public ideas; the working group hides and restores comments."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from innoplat.core.errors import ValidationError
from innoplat.core.models import AuditEvent
from innoplat.core.services import ideas
from innoplat.plugins.comments import discussion
from innoplat.plugins.comments.models import Comment, CommentReport


def _comments(app) -> list[Comment]:
    with app.extensions["innoplat"].transaction() as session:
        return list(session.scalars(select(Comment).order_by(Comment.id)))


def test_a_resident_comments_and_the_comment_shows_on_the_idea_page(plugin_client, public_idea):
    client, app = plugin_client(["comments"])
    reference = public_idea(app)
    response = client.post(
        f"/comments/idea/{reference}",
        data={"body": "Bra idé!\n\nVi har samma problem i Tuolluvaara.", "author_name": "Maja"},
    )
    assert response.status_code == 303
    page = client.get(f"/ideas/{reference}").get_data(as_text=True)
    assert "Maja" in page and "<p>Bra idé!</p><p>Vi har samma problem i Tuolluvaara.</p>" in page


def test_markup_in_a_comment_cannot_run(plugin_client, public_idea):
    """Scripts and event handlers never reach the page; angle brackets stay visible text."""
    client, app = plugin_client(["comments"])
    reference = public_idea(app)
    client.post(
        f"/comments/idea/{reference}",
        data={"body": "<script>alert(1)</script><img src=x onerror=alert(2)> 3 < 4"},
    )
    (comment,) = _comments(app)
    assert "<script" not in comment.body and "<img" not in comment.body
    assert "&lt;script&gt;" in comment.body and "3 &lt; 4" in comment.body
    page = client.get(f"/ideas/{reference}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page


def test_an_empty_comment_is_refused_and_nothing_is_stored(plugin_client, public_idea):
    client, app = plugin_client(["comments"])
    reference = public_idea(app)
    assert client.post(f"/comments/idea/{reference}", data={"body": "   "}).status_code == 400
    assert _comments(app) == []


def test_report_hide_and_restore(plugin_client, public_idea, sign_in):
    """Anyone reports; a coordinator hides (audited, gone from the public page) and restores."""
    client, app = plugin_client(["comments"])
    reference = public_idea(app)
    client.post(f"/comments/idea/{reference}", data={"body": "Köp billiga klockor på example.com"})
    (comment,) = _comments(app)
    assert (
        client.post(f"/comments/{comment.id}/report", data={"reason": "Reklam"}).status_code == 303
    )
    assert client.post(f"/comments/{comment.id}/hide").status_code in (302, 401)  # not signed in

    moderator = app.test_client()
    sign_in(moderator, "coordinator")
    queue = moderator.get("/comments/moderation").get_data(as_text=True)
    assert "Reklam" in queue and "billiga klockor" in queue
    assert (
        moderator.post(f"/comments/{comment.id}/hide", data={"reason": "Reklam"}).status_code == 303
    )
    assert "billiga klockor" not in client.get(f"/ideas/{reference}").get_data(as_text=True)
    assert "billiga klockor" in moderator.get(f"/ideas/{reference}").get_data(as_text=True)
    assert moderator.post(f"/comments/{comment.id}/restore").status_code == 303
    assert "billiga klockor" in client.get(f"/ideas/{reference}").get_data(as_text=True)
    with app.extensions["innoplat"].transaction() as session:
        actions = list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.entity_type == "comment")
                .order_by(AuditEvent.id)
            )
        )
        assert actions == ["posted", "hidden", "restored"]
        assert session.scalar(select(CommentReport)).resolved_at is not None


def test_a_member_cannot_hide_comments(plugin_client, public_idea, sign_in):
    client, app = plugin_client(["comments"])
    reference = public_idea(app)
    client.post(f"/comments/idea/{reference}", data={"body": "Hej"})
    (comment,) = _comments(app)
    sign_in(client, "member")
    assert client.post(f"/comments/{comment.id}/hide").status_code == 403
    assert client.get("/comments/moderation").status_code == 403
    assert not _comments(app)[0].hidden


def test_internal_ideas_have_no_public_discussion(make_platform):
    platform = make_platform(plugins=["comments"])
    with platform.transaction() as session:
        idea = ideas.submit_idea(
            session, platform.city_row(session), title="Intern", visibility="internal"
        )
        with pytest.raises(ValidationError) as error:
            discussion.post_comment(session, idea, "Hej")
    assert error.value.field == "idea"


def test_coordinators_see_the_moderation_page(make_client, sign_in):
    """The example of docs/writing-plugins.md, "Testing a plugin"."""
    client = make_client(plugins=["comments"])
    sign_in(client, role="coordinator")
    assert client.get("/comments/moderation").status_code == 200


def test_a_staff_comment_is_marked_and_a_name_cannot_copy_the_mark(
    plugin_client, public_idea, sign_in
):
    """The working-group badge follows the signed-in account; "K coordinator" typed in gets none."""
    client, app = plugin_client(["comments"])
    reference = public_idea(app)
    client.post(
        f"/comments/idea/{reference}",
        data={"body": "Vi tar upp det i arbetsgruppen.", "author_name": "K coordinator"},
    )
    staff = app.test_client()
    sign_in(staff, "coordinator")
    assert (
        staff.post(f"/comments/idea/{reference}", data={"body": "Vi testar i vinter."}).status_code
        == 303
    )
    page = client.get(f"/ideas/{reference}?lang=en").get_data(as_text=True)
    items = {
        "anonymous": page[page.index("K coordinator") :].split("</p>", 1)[0],
        "staff": page[page.index("Test coordinator") :].split("</p>", 1)[0],
    }
    assert 'class="badge staff-badge">Working group<' in items["staff"]
    assert "staff-badge" not in items["anonymous"] and "Working group" not in items["anonymous"]
    assert page.count("staff-badge") == 1
