"""The diffusion view and adopting on the web: editors adopt, everyone sees the links."""

from __future__ import annotations

import re

import pytest
from test_diffusion import lund_peer  # noqa: F401  (the fixture)

from innoplat.core.services import diffusion

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def client(platform, lund_peer):  # noqa: F811
    from innoplat.core.web import create_app

    return create_app(platform=platform, config={"TESTING": True}).test_client()


def test_an_editor_adopts_an_implemented_idea_from_the_diffusion_view(client, sign_in, lund_peer):  # noqa: F811
    reference, hidden = lund_peer
    public_view = client.get("/compare/diffusion?lang=en").get_data(as_text=True)
    assert "Adopt here" not in public_view  # visitors see no buttons
    sign_in(client, role="coordinator")
    html = client.get("/compare/diffusion?lang=en").get_data(as_text=True)
    assert reference in html and hidden not in html  # only public, implemented ideas
    token = TOKEN.search(html).group(1)
    response = client.post(f"/compare/diffusion/adopt/{reference}", data={"csrf_token": token})
    assert response.status_code == 302
    new_reference = response.headers["Location"].rsplit("/", 1)[1]
    assert new_reference.startswith("KIR-")
    page = client.get(f"/ideas/{new_reference}?lang=en").get_data(as_text=True)
    assert re.search(rf"Lund: {reference} \(\w+", page)  # the original, with its phase
    html = client.get("/compare/diffusion?lang=en").get_data(as_text=True)
    assert f"{new_reference}: Cykelbana med spillvärme" in html
    assert "Adopt here" not in html  # adopted already: no longer offered


def test_adopting_needs_an_editor_and_a_token(client, sign_in, lund_peer, platform):  # noqa: F811
    reference, _ = lund_peer
    response = client.post(f"/compare/diffusion/adopt/{reference}")
    assert response.status_code in (302, 400, 401, 403)  # refused, or sent to sign in
    assert "/ideas/" not in response.headers.get("Location", "")
    sign_in(client, role="coordinator")
    assert client.post(f"/compare/diffusion/adopt/{reference}").status_code == 400
    with platform.transaction() as session:
        assert diffusion.adoptions(session) == []
