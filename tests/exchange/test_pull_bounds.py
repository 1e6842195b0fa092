"""Pulling from a sibling is bounded: size, total time, redirects; the body is streamed to a file."""

from __future__ import annotations

import contextlib
import gzip
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from innoplat.core.errors import InnoplatError
from innoplat.core.services import download

LOOPBACK = download.parse_networks(["127.0.0.0/8", "::1/128"])


def _serve_on(address: str, port: int, handle, tls: ssl.SSLContext | None = None) -> HTTPServer:
    """A server on its own thread answering every GET with ``handle`` (over TLS with ``tls``)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                handle(self)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((address, port), Handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[BaseHTTPRequestHandler], None]], str]]:
    """``serve(handle)`` → the base URL of a local server answering every GET with ``handle``."""
    servers: list[HTTPServer] = []

    def start(handle: Callable[[BaseHTTPRequestHandler], None]) -> str:
        server = _serve_on("127.0.0.1", 0, handle)
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _body(data: bytes, *, length: bool = True, headers: dict[str, str] | None = None):
    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        if length:
            request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    return handle


def test_a_body_within_the_cap_arrives_whole_and_large_ones_spill_to_disk(serve):
    data = b"x" * (download.IN_MEMORY + 1000)
    got = download.fetch(serve(_body(data)) + "/", max_bytes=len(data))
    try:
        assert got.status == 200 and got.size == len(data)
        assert got.body.read() == data
        assert got.body._rolled  # type: ignore[attr-defined]  # on disk, not in memory
    finally:
        got.close()


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "no-length"])
def test_a_body_over_the_cap_is_refused(serve, declared):
    url = serve(_body(b"x" * 300_000, length=declared)) + "/"
    with pytest.raises(InnoplatError, match=r"sent more than 100,000 bytes, the most accepted"):
        download.fetch(url, max_bytes=100_000)


def test_a_gzip_bomb_is_refused_by_its_decompressed_size(serve):
    bomb = gzip.compress(b"\0" * 5_000_000)
    url = serve(_body(bomb, headers={"Content-Encoding": "gzip"})) + "/"
    assert len(bomb) < 100_000
    with pytest.raises(InnoplatError, match="sent more than 1,000,000 bytes"):
        download.fetch(url, max_bytes=1_000_000)


def _trickle(every: float) -> Callable[[BaseHTTPRequestHandler], None]:
    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Length", "1000")
        request.end_headers()
        for _ in range(1000):
            request.wfile.write(b"x")
            request.wfile.flush()
            time.sleep(every)

    return handle


def test_a_server_trickling_bytes_cannot_hold_the_download_past_its_deadline(serve):
    """The issue's case scaled down: a byte every 1 s against a 3 s timeout (each byte resets
    a per-read timeout, so only a total deadline ends it)."""
    url = serve(_trickle(1.0)) + "/"
    start = time.monotonic()
    with pytest.raises(InnoplatError, match=r"did not answer in full within 3 s"):
        download.fetch(url, timeout=3)
    assert time.monotonic() - start < 4.5


def test_a_server_that_never_answers_is_given_up_at_the_deadline(serve):
    url = serve(lambda request: time.sleep(30)) + "/"
    start = time.monotonic()
    with pytest.raises(InnoplatError, match=r"within 2 s|timed out"):
        download.fetch(url, timeout=2)
    assert time.monotonic() - start < 3.5


def _redirect(location: str) -> Callable[[BaseHTTPRequestHandler], None]:
    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(302)
        request.send_header("Location", location)
        request.send_header("Content-Length", "0")
        request.end_headers()

    return handle


@pytest.mark.parametrize(
    "target",
    [
        "http://localhost:{port}/bundle",  # loopback, by name
        "http://169.254.169.254/latest/meta-data/",  # link-local: cloud metadata
        "http://10.1.2.3/",  # private
        "http://[::1]:{port}/",  # IPv6 loopback
        "http://[fe80::1]/",  # IPv6 link-local
        "file:///etc/passwd",
    ],
)
def test_redirects_to_loopback_link_local_and_private_addresses_are_refused(serve, target):
    final = serve(_body(b"{}"))
    port = final.rsplit(":", 1)[1]
    url = serve(_redirect(target.format(port=port))) + "/"
    with pytest.raises(InnoplatError, match="refused to follow a redirect to"):
        download.fetch(url, timeout=5)


def test_a_redirect_to_an_allowed_network_is_followed(serve):
    final = serve(_body(b'{"ok": true}'))
    url = serve(_redirect(final.replace("127.0.0.1", "localhost") + "/b")) + "/"
    got = download.fetch(url, timeout=5, allowed_networks=LOOPBACK)
    try:
        assert got.body.read() == b'{"ok": true}'
        assert got.url.endswith("/b") and len(got.redirects) == 1
    finally:
        got.close()


def test_endless_redirects_are_given_up(serve):
    holder: dict[str, str] = {}
    holder["url"] = serve(lambda r: _redirect(holder["url"] + "/again")(r))
    with pytest.raises(InnoplatError, match="redirected more than 5 times"):
        download.fetch(holder["url"] + "/", timeout=5, allowed_networks=LOOPBACK)


def test_a_bad_network_in_the_configuration_is_named():
    with pytest.raises(InnoplatError, match="allowed_networks: 'loopback' is not a network"):
        download.parse_networks(["127.0.0.0/8 loopback"])


# ----------------------------------------------------------------- DNS rebinding

REBINDING = "rebind.innoplat.test"


def _answer(label: bytes):
    def handle(request: BaseHTTPRequestHandler) -> None:
        body = label + b" " + request.headers.get("Host", "").encode()
        request.send_response(200)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    return handle


@pytest.fixture
def rebinding(monkeypatch) -> list[str]:
    """The rebinding name resolves to 127.0.0.1 the first time, to 127.0.0.2 every time after."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def resolve(host, port, *args, **kwargs):
        if host == REBINDING:
            asked.append(host)
            host = "127.0.0.1" if len(asked) == 1 else "127.0.0.2"
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return asked


def _certificate(tmp_path) -> tuple[ssl.SSLContext, str]:
    """A self-signed certificate for the rebinding name: a TLS context and the file to trust."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, REBINDING)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(REBINDING)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context, str(cert_file)


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_redirect_connects_to_the_address_that_was_checked(
    serve, rebinding, scheme, tmp_path, monkeypatch
):
    """A name checked as 127.0.0.1 that resolves to 127.0.0.2 a moment later (DNS rebinding)
    still leads to 127.0.0.1: only 127.0.0.1 is allowed, and the request is never resolved again."""
    tls = None
    if scheme == "https":
        tls, trusted = _certificate(tmp_path)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", trusted)
    checked = _serve_on("127.0.0.1", 0, _answer(b"checked"), tls)
    port = checked.server_port
    other = _serve_on("127.0.0.2", port, _answer(b"rebound"), tls)
    try:
        url = serve(_redirect(f"{scheme}://{REBINDING}:{port}/bundle")) + "/"
        got = download.fetch(
            url, timeout=5, allowed_networks=download.parse_networks(["127.0.0.1/32"])
        )
        try:
            assert got.body.read() == f"checked {REBINDING}:{port}".encode()
            assert got.url == f"{scheme}://{REBINDING}:{port}/bundle"
        finally:
            got.close()
        assert rebinding == [REBINDING]  # resolved once, for the check
    finally:
        for server in (checked, other):
            server.shutdown()
            server.server_close()
