"""``innoplat export``, ``import`` and ``pull``: bundles between instances, from the terminal."""

from __future__ import annotations

import json
import threading

from werkzeug.serving import make_server

from innoplat.core.testing import with_demo_ideas
from innoplat.core.web import create_app

SIX = ("kiruna", "lund", "goteborg", "boras", "stockholm", "umea")


def _url(platform) -> str:
    return platform.engine.url.render_as_string(hide_password=False)


def test_all_six_cities_exported_imported_as_peers_and_compared(make_instance, innoplat, tmp_path):
    """The issue's definition of done, at a small scale: six demo cities in one comparison."""
    hub = make_instance("kiruna")
    with_demo_ideas(hub, 120)
    for slug in SIX[1:]:
        sibling = with_demo_ideas(make_instance(slug), 120)
        bundle = tmp_path / f"{slug}.json"
        code, _, err = innoplat("export", "--city", slug, "-o", str(bundle), "--db", _url(sibling))
        assert code == 0 and f"Exported {slug}" in err
        code, out, _ = innoplat("import", str(bundle), "--unsigned", "--db", _url(hub))
        assert code == 0 and f"({slug}) as a read-only peer" in out
    code, out, _ = innoplat(
        "compare", "--format", "json", "--metric", "implementation_share", "--db", _url(hub)
    )
    assert code == 0
    assert {r["city"] for r in json.loads(out)} == set(SIX)
    code, out, _ = innoplat("compare", "--metric", "lift", "--db", _url(hub))
    header = next(line for line in out.splitlines() if line.startswith("Method"))
    assert all(slug in header for slug in SIX)
    html = (
        create_app(platform=hub, config={"TESTING": True})
        .test_client()
        .get("/compare?lang=en")
        .get_data(as_text=True)
    )
    assert html.count("(peer platform)") == 5


def test_importing_twice_reports_nothing_changed(make_instance, innoplat, tmp_path):
    lund = with_demo_ideas(make_instance("lund"), 40)
    hub = make_instance("kiruna")
    bundle = tmp_path / "lund.json"
    innoplat("export", "--city", "lund", "-o", str(bundle), "--db", _url(lund))
    assert "Imported" in innoplat("import", str(bundle), "--unsigned", "--db", _url(hub))[1]
    assert (
        "already up to date" in innoplat("import", str(bundle), "--unsigned", "--db", _url(hub))[1]
    )


def test_a_broken_file_is_one_clear_line_naming_the_path(make_instance, innoplat, tmp_path):
    hub = make_instance("kiruna")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "innoplat-exchange", "version": 7}))
    code, _, err = innoplat("import", str(bad), "--unsigned", "--db", _url(hub))
    assert code == 1 and err.startswith(
        "Error: $.version: this bundle is in version 7 of the exchange format"
    )
    bad.write_text("{")
    code, _, err = innoplat("import", str(bad), "--unsigned", "--db", _url(hub))
    assert code == 1 and "is not JSON" in err and "Traceback" not in err


def test_pull_fetches_a_sibling_bundle_over_http(make_instance, innoplat):
    """A second instance served on 127.0.0.1; pull imports its /api/v1/exchange."""
    lund = with_demo_ideas(make_instance("lund"), 60)
    hub = make_instance("kiruna")
    server = make_server(
        "127.0.0.1", 0, create_app(platform=lund, config={"TESTING": True}), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        code, out, err = innoplat("pull", f"{base}/", "--unsigned", "--db", _url(hub))
        assert code == 0, err
        assert out.startswith("lund: imported, ")
        assert out.strip().endswith(f"from {base}/api/v1/exchange")
        # The sibling's data did not change: its bundle is the same, and so is the peer.
        code, again, _ = innoplat(
            "pull", f"{base}/api/v1/exchange", "--unsigned", "--db", _url(hub)
        )
        assert code == 0 and again.startswith("lund: unchanged")
    finally:
        server.shutdown()
        thread.join(timeout=10)
    code, out, _ = innoplat(
        "compare",
        "--format",
        "json",
        "--metric",
        "ideas_with_method",
        "--cities",
        "lund",
        "--db",
        _url(hub),
    )
    assert code == 0 and json.loads(out)


def test_pull_from_nowhere_is_a_clear_error(make_instance, innoplat):
    hub = make_instance("kiruna")
    code, _, err = innoplat(
        "pull", "http://127.0.0.1:9/", "--unsigned", "--db", _url(hub), "--timeout", "2"
    )
    assert code == 1 and err.startswith("Error: cannot fetch http://127.0.0.1:9/api/v1/exchange")
    code, _, err = innoplat("pull", "ftp://example.org/", "--db", _url(hub))
    assert code == 1 and "url: 'ftp://example.org/' is not an http:// or https:// address" in err
