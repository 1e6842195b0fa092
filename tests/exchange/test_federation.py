"""The federation: signed bundles with ETag/Last-Modified/gzip, peers pinned by key, sync, worker."""

from __future__ import annotations

import base64
import gzip
import json
import subprocess
import sys
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import func, select

from innoplat.core.models import Idea, Peer, SigningKey, Visibility
from innoplat.core.services import exchange, ideas, signing
from innoplat.core.testing import with_demo_ideas
from innoplat.core.web import create_app

ALLOW = ("--allow-network", "127.0.0.0/8")


def _url(platform) -> str:
    return platform.engine.url.render_as_string(hide_password=False)


def _public(platform) -> int:
    with platform.transaction() as session:
        city = platform.city_row(session)
        return session.scalar(
            select(func.count(Idea.id)).where(
                Idea.city_id == city.id, Idea.visibility == Visibility.public
            )
        )


def _submit(platform) -> None:
    with platform.transaction() as session:
        ideas.submit_idea(
            session,
            platform.city_row(session),
            title="Heated bus stops",
            summary="Warm shelters on the main line.",
            description="Warm shelters on the main line in winter.",
        )


# ----------------------------------------------------------------- the publisher


def test_the_bundle_is_signed_and_served_conditionally_with_gzip(make_instance):
    lund = with_demo_ideas(make_instance("lund"), 80)
    client = create_app(platform=lund, config={"TESTING": True}).test_client()
    key = client.get("/.well-known/innoplat-key").get_json()
    assert key["city"] == "lund" and key["algorithm"] == "ed25519"

    plain = client.get("/api/v1/exchange")
    assert plain.status_code == 200 and plain.headers.get("Content-Encoding") is None
    body = plain.get_data()
    digest = signing.digest_of([body])
    signing.verify(key["public_key"], plain.headers["Innoplat-Signature"], digest, source="test")
    etag, modified = plain.headers["ETag"], plain.headers["Last-Modified"]
    assert json.loads(body)["exported_at"].startswith(
        datetime.strptime(modified, "%a, %d %b %Y %H:%M:%S GMT").strftime("%Y-%m-%dT%H:%M:%S")
    )

    zipped = client.get("/api/v1/exchange", headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.get_data()) == body  # the same bytes, the same signature
    assert zipped.headers["Innoplat-Signature"] == plain.headers["Innoplat-Signature"]
    assert len(zipped.get_data()) < len(body) / 3

    again = client.get("/api/v1/exchange", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag
    since = client.get("/api/v1/exchange", headers={"If-Modified-Since": modified})
    assert since.status_code == 304

    _submit(lund)
    changed = client.get("/api/v1/exchange", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert len(json.loads(changed.get_data())["ideas"]) == len(json.loads(body)["ideas"]) + 1


def test_the_served_bundle_is_the_exported_file_byte_for_byte(make_instance, tmp_path):
    """The web answer holds the very bytes ``innoplat export`` writes for the same moment,
    whole and partial (Swedish letters included)."""
    lund = with_demo_ideas(make_instance("lund"), 30)
    client = create_app(platform=lund, config={"TESTING": True}).test_client()
    body = client.get("/api/v1/exchange").get_data()
    assert max(body) > 127  # å, ä, ö: UTF-8 as written
    exported_at = json.loads(body)["exported_at"]
    moment = datetime.fromisoformat(exported_at.removesuffix("Z"))
    path = tmp_path / "lund.json"
    with lund.transaction() as session, path.open("w", encoding="utf-8") as out:
        exchange.write_bundle(session, lund.city_row(session), out, exported_at=moment)
    assert path.read_bytes() == body

    since = datetime(2020, 1, 1)
    partial = client.get("/api/v1/exchange?since=2020-01-01T00:00:00Z").get_data()
    with lund.transaction() as session:
        pieces = exchange.byte_chunks(
            session, lund.city_row(session), exported_at=moment, since=since
        )
        assert partial == b"".join(pieces)
    assert json.loads(partial)["since"] == "2020-01-01T00:00:00.000000Z"


def test_the_private_key_is_never_served_or_exported(make_instance, tmp_path, innoplat):
    lund = with_demo_ideas(make_instance("lund"), 20)
    with lund.transaction() as session:
        private = session.scalar(select(SigningKey.private_key))
    client = create_app(platform=lund, config={"TESTING": True}).test_client()
    for path in ("/.well-known/innoplat-key", "/api/v1/exchange"):
        response = client.get(path)
        assert private not in response.get_data(as_text=True)
        assert all(private not in v for v in response.headers.values())
    out = tmp_path / "lund.json"
    code, _, _ = innoplat("export", "--city", "lund", "-o", str(out), "--db", _url(lund))
    assert code == 0 and private not in out.read_text()


def test_a_bundle_file_is_signed_beside_it_and_checked_on_import(make_instance, innoplat, tmp_path):
    lund = with_demo_ideas(make_instance("lund"), 20)
    hub = make_instance("kiruna")
    bundle = tmp_path / "lund.json"
    code, _, err = innoplat("export", "--city", "lund", "-o", str(bundle), "--db", _url(lund))
    assert code == 0 and f"signed in {bundle}.sig" in err
    with lund.transaction() as session:
        key = signing.public_key(session, lund.city_row(session))
    assert json.loads((tmp_path / "lund.json.sig").read_text())["public_key"] == key

    code, _, err = innoplat("import", str(bundle), "--db", _url(hub))
    assert code == 1 and err.strip() == (
        f"Error: {bundle}: no key to check its signature against (lund is not a peer here): "
        "add it with innoplat peers add URL, give its key with --key, or pass --unsigned"
    )
    original = bundle.read_bytes()
    bundle.write_bytes(original.replace(b'"ideas":[', b'"ideas": [', 1))  # same JSON, other bytes
    code, _, err = innoplat("import", str(bundle), "--key", key, "--db", _url(hub))
    assert code == 1 and err.strip() == (
        f"Error: {bundle}: the signature does not match the pinned key of this peer; "
        "nothing was imported"
    )
    code, out, _ = innoplat("compare", "--format", "json", "--db", _url(hub))
    assert "lund" not in {r["city"] for r in json.loads(out)}

    bundle.write_bytes(original)
    code, out, err = innoplat("import", str(bundle), "--key", key, "--db", _url(hub))
    assert code == 0 and "Imported" in out, err
    (tmp_path / "lund.json.sig").unlink()
    code, _, err = innoplat("import", str(bundle), "--key", key, "--db", _url(hub))
    assert code == 1 and "is not signed; refusing it (--unsigned imports it unchecked)" in err
    code, out, _ = innoplat("import", str(bundle), "--unsigned", "--db", _url(hub))
    assert code == 0 and "already up to date" in out


# ----------------------------------------------------------------- peers and sync


def test_peers_are_added_with_their_key_pinned_and_synced_conditionally(
    make_instance, serve_platform, innoplat
):
    lund = with_demo_ideas(make_instance("lund"), 60)
    umea = with_demo_ideas(make_instance("umea"), 40, seed=3)
    hub = make_instance("kiruna")
    lund_url, umea_url = serve_platform(lund), serve_platform(umea)

    code, out, err = innoplat("peers", "add", lund_url, "--db", _url(hub), *ALLOW)
    assert code == 0, err
    with lund.transaction() as session:
        assert signing.public_key(session, lund.city_row(session)) in out
    assert innoplat("peers", "add", umea_url + "/api/v1/exchange", "--db", _url(hub))[0] == 0
    code, _, err = innoplat("peers", "add", lund_url, "--db", _url(hub))
    assert code == 1 and "lund is already a peer here" in err

    code, out, err = innoplat("sync", "--db", _url(hub), *ALLOW)
    assert code == 0, err
    n_lund, n_umea = _public(lund), _public(umea)
    assert out.splitlines() == [
        f"lund: imported, {n_lund} public ideas",
        f"umea: imported, {n_umea} public ideas",
    ]

    code, out, _ = innoplat("sync", "--db", _url(hub))
    assert out.splitlines() == ["lund: unchanged", "umea: unchanged"]  # 304s: nothing fetched

    _submit(lund)  # Lund publishes one more idea
    code, out, _ = innoplat("sync", "--db", _url(hub))
    lund_line, umea_line = out.splitlines()
    assert lund_line.startswith(
        f"lund: updated, {n_lund + 1} public ideas: 1 new, 0 updated, 0 withdrawn (changes since "
    )
    assert umea_line == "umea: unchanged"

    code, out, _ = innoplat("peers", "list", "--db", _url(hub), "--json")
    listed = json.loads(out)
    assert [p["city"] for p in listed] == ["lund", "umea"]
    assert listed[0]["last_result"] == lund_line

    code, out, _ = innoplat("peers", "remove", "umea", "--db", _url(hub))
    assert code == 0 and "Removed umea" in out
    code, out, _ = innoplat("sync", "--db", _url(hub))
    assert out.splitlines() == ["lund: unchanged"]
    code, _, err = innoplat("peers", "remove", "umea", "--db", _url(hub))
    assert (
        code == 1
        and err.strip() == "Error: peer: 'umea' is not a peer here (see: innoplat peers list)"
    )


def test_a_bundle_not_signed_by_the_pinned_key_is_refused_and_nothing_imported(
    make_instance, serve_platform, innoplat
):
    lund = with_demo_ideas(make_instance("lund"), 30)
    hub = make_instance("kiruna")
    lund_url = serve_platform(lund)
    assert innoplat("peers", "add", lund_url, "--db", _url(hub), *ALLOW)[0] == 0
    impostor = base64.b64encode(
        Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    ).decode()
    with hub.transaction() as session:
        session.scalar(select(Peer)).public_key = impostor  # as if another server answered
    code, out, err = innoplat("sync", "--db", _url(hub))
    assert code == 1, (out, err)
    assert out.strip() == (
        f"lund: failed: {lund_url}/api/v1/exchange: the signature does not match the pinned "
        "key of this peer; nothing was imported"
    )
    code, out, _ = innoplat("compare", "--format", "json", "--db", _url(hub))
    assert "lund" not in {r["city"] for r in json.loads(out)}


def test_a_peer_that_serves_no_signature_is_refused(make_instance, serve_platform, innoplat):
    lund = with_demo_ideas(make_instance("lund"), 10)
    hub = make_instance("kiruna")
    app = create_app(platform=lund, config={"TESTING": True})

    @app.after_request
    def strip(response):
        response.headers.pop("Innoplat-Signature", None)
        return response

    url = serve_platform(lund, app)
    assert innoplat("peers", "add", url, "--db", _url(hub), *ALLOW)[0] == 0
    code, out, _ = innoplat("sync", "--db", _url(hub))
    assert code == 1 and "is not signed; refusing it" in out


def test_pulling_from_an_address_that_is_not_a_peer_needs_the_unsigned_flag(
    make_instance, serve_platform, innoplat
):
    lund = with_demo_ideas(make_instance("lund"), 10)
    hub = make_instance("kiruna")
    url = serve_platform(lund)
    code, _, err = innoplat("pull", url, "--db", _url(hub))
    assert code == 1 and "is not a peer here" in err and "--unsigned" in err
    code, out, err = innoplat("pull", url, "--unsigned", "--db", _url(hub))
    assert code == 0, err
    assert out.strip() == f"lund: imported, {_public(lund)} public ideas from {url}/api/v1/exchange"


def test_peers_add_refuses_a_key_other_than_the_one_given(make_instance, serve_platform, innoplat):
    lund = make_instance("lund")
    hub = make_instance("kiruna")
    url = serve_platform(lund)
    other = base64.b64encode(b"\x01" * 32).decode()
    code, _, err = innoplat("peers", "add", url, "--key", other, "--db", _url(hub), *ALLOW)
    assert code == 1 and "serves a different key than the one given; not added" in err
    code, out, _ = innoplat("peers", "list", "--db", _url(hub), "--json")
    assert json.loads(out) == []


def test_sync_survives_a_peer_that_is_down(make_instance, serve_platform, innoplat):
    lund = with_demo_ideas(make_instance("lund"), 20)
    umea = with_demo_ideas(make_instance("umea"), 20)
    hub = make_instance("kiruna")
    lund_url, umea_url = serve_platform(lund), serve_platform(umea)
    for url in (lund_url, umea_url):
        assert innoplat("peers", "add", url, "--db", _url(hub))[0] == 0
    with hub.transaction() as session:
        lund_peer = session.scalar(select(Peer).where(Peer.city_slug == "lund"))
        lund_peer.url = "http://127.0.0.1:9/api/v1/exchange"  # Lund's server is down
    code, out, _ = innoplat("sync", "--db", _url(hub), "--timeout", "5")
    lines = out.splitlines()
    assert code == 1
    assert lines[0].startswith("lund: failed: cannot fetch http://127.0.0.1:9/api/v1/exchange")
    assert lines[1] == f"umea: imported, {_public(umea)} public ideas"


def test_the_worker_logs_one_line_per_run_and_carries_on_when_a_peer_is_down(
    make_instance, serve_platform, innoplat
):
    umea = with_demo_ideas(make_instance("umea"), 15)
    hub = make_instance("kiruna")
    assert innoplat("peers", "add", serve_platform(umea), "--db", _url(hub))[0] == 0
    with hub.transaction() as session:
        session.add(
            Peer(url="http://127.0.0.1:9/api/v1/exchange", city_slug="lund", public_key=None)
        )
    done = subprocess.run(
        [sys.executable, "-m", "innoplat.core.cli", "worker", "--once", "--db", _url(hub)],
        capture_output=True,
        text=True,
        timeout=600,  # three Python processes start: slow on a busy machine
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.strip().splitlines()
    sync_line = next(line for line in lines if " sync: " in line)
    assert "lund: failed: cannot fetch http://127.0.0.1:9/api/v1/exchange" in sync_line
    assert f"umea: imported, {_public(umea)} public ideas" in sync_line
    assert any(" outbox kiruna: Sent 0" in line for line in lines), lines
