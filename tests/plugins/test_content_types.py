"""Every HTML page a plugin serves says it is HTML (``text/html``), errors included.

Several plugin views once built werkzeug's own ``Response``, whose default type is
``text/plain``: a browser then showed the evaluation scoring page as source text.
"""

from __future__ import annotations

CORE_BLUEPRINTS = {"public", "submit", "auth", "workgroup", "api", "compare", "static", None}


def _is_html(response) -> bool:
    return response.get_data()[:15].lower().startswith(b"<!doctype html")


def _check(response, what: str) -> None:
    if _is_html(response):
        assert response.mimetype == "text/html", f"{what}: HTML served as {response.mimetype}"


def test_every_plugin_page_and_error_page_is_text_html(make_app, public_idea, sign_in):
    app = make_app(config={"WTF_CSRF_ENABLED": False})
    client = app.test_client()
    reference = public_idea(app, title="Snösmältning med spillvärme")
    sign_in(client, "coordinator")
    values = {"reference": reference, "token": "no-such-token", "comment_id": 1}
    walked = 0
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.rpartition(".")[0] or None
        if blueprint in CORE_BLUEPRINTS or "GET" not in rule.methods:
            continue
        url = rule.build({name: values.get(name, "living_lab") for name in rule.arguments})[1]
        response = client.get(url)
        assert response.status_code < 500, url
        _check(response, f"GET {url}")
        walked += 1
    assert walked >= 8
    refusals = [
        (f"/voting/support/{reference}", {"email": "not an address"}),
        (f"/notifications/follow/{reference}", {"email": "anna@example.org\nBcc: x@example.org"}),
        (f"/comments/idea/{reference}", {"body": ""}),
        ("/notifications/unfollow/no-such-token", {}),
    ]
    visitor = app.test_client()
    for url, data in refusals:
        response = visitor.post(url, data=data)
        assert 400 <= response.status_code < 500, url
        assert _is_html(response), url
        _check(response, f"POST {url}")
    scoring = client.post(f"/evaluation/ideas/{reference}", data={"criterion_citizen_value": "4"})
    assert scoring.status_code == 400 and _is_html(scoring)
    assert scoring.mimetype == "text/html"
