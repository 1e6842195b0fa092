"""``make run`` shows the network: ``innoplat demo --siblings N`` brings the five siblings as peers."""

from __future__ import annotations

import json
import re

from sqlalchemy import func, select

from innoplat.core.models import City, Idea
from innoplat.core.web import create_app

SIX = {"kiruna", "lund", "goteborg", "boras", "stockholm", "umea"}


def test_the_demo_comes_with_five_synthetic_sibling_peers_and_compares_six_cities(
    platform, run_cli
):
    url = platform.engine.url.render_as_string(hide_password=False)
    code, out, err = run_cli(
        "demo", "--city", "kiruna", "--ideas", "60", "--siblings", "40", "--db", url
    )
    assert code == 0, err
    assert "Peers (5, synthetic): boras (" in out
    with platform.transaction() as session:
        peers = session.scalars(select(City).where(City.is_peer.is_(True))).all()
        assert {p.slug for p in peers} == SIX - {"kiruna"}
        assert all(p.peer_source.startswith("synthetic demo data of ") for p in peers)
        synthetic = session.execute(
            select(Idea.is_synthetic, func.count()).group_by(Idea.is_synthetic)
        ).all()
        assert dict(synthetic).get(False, 0) == 0  # every idea, own and peer, is synthetic

    code, out, _ = run_cli(
        "compare", "--format", "json", "--metric", "implementation_share", "--db", url
    )
    assert {r["city"] for r in json.loads(out)} == SIX
    client = create_app(platform=platform, config={"TESTING": True}).test_client()
    html = client.get("/compare?lang=en").get_data(as_text=True)
    assert html.count("(peer platform)") >= 5
    note = re.search(r"Synthetic demo data, not real ideas: ([^<]*)\.</p>", html)
    assert note and len(note.group(1).split(", ")) == 6  # the newcomer is told, city by city

    # Running it again (make run twice) updates the peers in place.
    code, out, err = run_cli(
        "demo", "--city", "kiruna", "--ideas", "60", "--siblings", "40", "--db", url
    )
    assert code == 0, err
    with platform.transaction() as session:
        assert session.scalar(select(func.count()).where(City.is_peer.is_(True))) == 5
