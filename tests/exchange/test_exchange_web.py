"""Peers on the web: shown with their figures, never editable."""

from __future__ import annotations

from datetime import datetime

from innoplat.core.services import demo, exchange
from innoplat.core.web import create_app


def test_peers_are_shown_as_peers_and_not_editable(platform, make_instance):
    with platform.transaction() as session:
        row = platform.city_row(session)
        demo.load_demo(session, platform.city, row, ideas=150, seed=2, now=datetime(2026, 1, 1))
    with platform.transaction() as session:
        bundle = exchange.export_city(session, platform.city_row(session))
    lund = make_instance("lund")
    with lund.transaction() as session:
        exchange.import_bundle(session, bundle, source="kiruna.json")
    client = create_app(platform=lund, config={"TESTING": True}).test_client()
    html = client.get("/compare?lang=en").get_data(as_text=True)
    assert "Innovation Platform Kiruna (peer platform)" in html
    assert "cannot be edited here" in html
    peer_idea = bundle["ideas"][0]["reference"]
    assert (
        client.get(f"/ideas/{peer_idea}").status_code == 404
    )  # Lund's pages are Lund's ideas only
