"""Bounded downloads from siblings: a size cap, a total deadline, streamed to a file, safe redirects.

A sibling is another city's server on the internet, so whatever it sends is bounded before it
reaches the importer: the body is written to a temporary file (kept in memory only while
small), never read whole; a body larger than ``max_bytes`` (after decompression) is refused;
the whole exchange — connecting, redirects, headers, body — ends by ``timeout`` seconds even
when the server trickles a byte at a time; and a redirect may lead only to a public address
(not loopback, link-local, private or otherwise reserved) unless that network is allowed
explicitly (``allowed_networks``: configuration, or tests that serve on 127.0.0.1).

The address a redirect's host name resolved to when it was checked is the address connected
to: the request goes to that address with the original ``Host`` header (and, over TLS, the
original name for SNI and the certificate check), so a name that resolves to a public
address for the check and to a private one a moment later (DNS rebinding) gains nothing.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from tempfile import SpooledTemporaryFile
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

from ..errors import InnoplatError, ValidationError

#: The default cap on a body (after decompression): a 100,000-idea bundle is about 60 MB.
MAX_BYTES = 256 * 1024 * 1024
MAX_REDIRECTS = 5
#: Bodies up to this size stay in memory; larger ones spill to a temporary file.
IN_MEMORY = 4 * 1024 * 1024
_CHUNK = 64 * 1024

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> list[Network]:
    """Networks from CIDR texts (``127.0.0.0/8``, ``::1/128``, or a single address)."""
    out: list[Network] = []
    for value in values:
        for part in value.replace(",", " ").split():
            try:
                out.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValidationError(
                    "allowed_networks", f"{part!r} is not a network (e.g. 10.0.0.0/8)"
                ) from None
    return out


def configured_networks() -> list[Network]:
    """The networks ``INNOPLAT_ALLOW_NETWORKS`` allows redirects to (empty: public addresses only)."""
    return parse_networks([os.environ.get("INNOPLAT_ALLOW_NETWORKS", "")])


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def check_destination(url: str, allowed_networks: Iterable[Network] = ()) -> str:
    """Refuse a URL whose host is not http(s) or resolves to a non-public, non-allowed address.

    :return: the address checked, the one to connect to (never resolve the name again).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InnoplatError(f"refused to follow a redirect to {url!r}: not an http(s) address")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise InnoplatError(f"cannot resolve {parts.hostname}: {exc}") from None
    allowed = list(allowed_networks)
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    for address in addresses:
        if not is_public(address) and not any(address in net for net in allowed):
            raise InnoplatError(
                f"refused to follow a redirect to {url}: {parts.hostname} is {address}, a "
                "loopback, link-local or private address (allow it with INNOPLAT_ALLOW_NETWORKS)"
            )
    if not addresses:
        raise InnoplatError(f"cannot resolve {parts.hostname}: no address")
    return str(addresses[0])


def _pinned(url: str, address: str) -> tuple[str, str]:
    """``url`` with its host replaced by the checked ``address``, and the ``Host`` header to send."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    original = parts.netloc.rsplit("@", 1)[-1]
    return parts._replace(netloc=netloc, path=parts.path or "/").geturl(), original


def _pinned_tls(hostname: str) -> Any:
    """A transport adapter that names ``hostname`` in TLS (SNI) and checks its certificate for
    it, while the connection goes to the address in the URL."""
    from requests.adapters import HTTPAdapter

    class PinnedTLS(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            kwargs["server_hostname"] = hostname
            kwargs["assert_hostname"] = hostname
            super().init_poolmanager(*args, **kwargs)

    return PinnedTLS()


@dataclass
class Download:
    """A finished response: ``body`` is positioned at its start (empty for 304)."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: IO[bytes]
    size: int
    redirects: list[str] = field(default_factory=list)

    def close(self) -> None:
        self.body.close()


def fetch(
    url: str,
    *,
    timeout: float = 60.0,
    max_bytes: int = MAX_BYTES,
    allowed_networks: Iterable[Network] = (),
    headers: Mapping[str, str] | None = None,
) -> Download:
    """GET ``url`` within ``timeout`` seconds in all, keeping at most ``max_bytes`` of body.

    :raises InnoplatError: one line naming the URL and what went wrong.
    """
    deadline = time.monotonic() + timeout
    outcome: dict[str, Any] = {}
    cancelled = threading.Event()

    def run() -> None:
        try:
            outcome["download"] = _fetch(
                url, deadline, timeout, max_bytes, list(allowed_networks), headers, cancelled
            )
        except BaseException as exc:  # handed to the waiting thread
            outcome["error"] = exc

    # A daemon thread: a server that stops answering can hold it, never the caller.
    worker = threading.Thread(target=run, name=f"innoplat-fetch {url}", daemon=True)
    worker.start()
    worker.join(max(0.0, deadline - time.monotonic()) + 0.5)
    if worker.is_alive():
        cancelled.set()
        raise InnoplatError(f"{url} did not answer in full within {timeout:g} s; gave up")
    if "error" in outcome:
        raise outcome["error"]
    download: Download = outcome["download"]
    return download


def _fetch(
    url: str,
    deadline: float,
    timeout: float,
    max_bytes: int,
    allowed: list[Network],
    headers: Mapping[str, str] | None,
    cancelled: threading.Event,
) -> Download:
    import requests

    redirects: list[str] = []
    with requests.Session() as http:
        current = url
        #: The address the current URL's host was checked to have (None: the URL as given).
        address: str | None = None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise InnoplatError(f"{url} did not answer in full within {timeout:g} s; gave up")
            target, sent = current, dict(headers or {})
            if address is not None:
                target, sent["Host"] = _pinned(current, address)
                if target.startswith("https://"):
                    base = f"https://{urlsplit(target).netloc}/"
                    http.mount(base, _pinned_tls(str(urlsplit(current).hostname)))
            try:
                response = http.get(
                    target,
                    headers=sent,
                    stream=True,
                    allow_redirects=False,
                    timeout=(remaining, min(remaining, timeout)),
                )
            except requests.RequestException as exc:
                raise InnoplatError(f"cannot fetch {current}: {exc}") from None
            if not response.is_redirect:
                break
            location = urljoin(current, response.headers.get("Location", ""))
            response.close()
            if len(redirects) >= MAX_REDIRECTS:
                raise InnoplatError(f"{url} redirected more than {MAX_REDIRECTS} times; gave up")
            address = check_destination(location, allowed)
            redirects.append(location)
            current = location
        with response:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise InnoplatError(_too_large(current, max_bytes))
            body: IO[bytes] = SpooledTemporaryFile(max_size=IN_MEMORY)  # noqa: SIM115 - handed to the caller
            size = 0
            try:
                while True:
                    try:
                        # read1 returns as soon as anything arrived, so the deadline is checked
                        # between the bytes of a server that trickles.
                        chunk = response.raw.read1(_CHUNK, decode_content=True)
                    except Exception as exc:
                        raise InnoplatError(f"cannot fetch {current}: {exc}") from None
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > max_bytes:
                        raise InnoplatError(_too_large(current, max_bytes))
                    if cancelled.is_set() or time.monotonic() > deadline:
                        raise InnoplatError(
                            f"{url} did not answer in full within {timeout:g} s; gave up"
                        )
                    body.write(chunk)
            except BaseException:
                body.close()
                raise
            body.seek(0)
            return Download(
                url=current,
                status=response.status_code,
                headers=response.headers,
                body=body,
                size=size,
                redirects=redirects,
            )


def _too_large(url: str, max_bytes: int) -> str:
    return f"{url} sent more than {max_bytes:,} bytes, the most accepted; gave up"
