"""This city as a member of the federation: its public key and its signed exchange bundle.

``/.well-known/innoplat-key`` names the city and its Ed25519 public key, which a sibling
pins with ``innoplat peers add``. ``/api/v1/exchange`` serves the bundle with a detached
signature in the ``Innoplat-Signature`` header, an entity tag and ``Last-Modified`` (a
conditional request gets "304 Not Modified" without the bundle being built), and gzip for
clients that accept it. With ``?since=`` it serves a partial bundle: only what changed since
then (``services.exchange.merge`` documents it); every answer says so in ``Innoplat-Changes``.
"""

from __future__ import annotations

import gzip
from datetime import datetime
from tempfile import SpooledTemporaryFile
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request

from ..services import exchange, publishing, signing
from .current import platform

blueprint = Blueprint("federation", __name__)

WELL_KNOWN_KEY = "/.well-known/innoplat-key"
#: Bodies up to this size are built in memory; larger ones in a temporary file.
_IN_MEMORY = 8 * 1024 * 1024


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)


@blueprint.get(WELL_KNOWN_KEY)
def public_key() -> Response:
    """The city's Ed25519 public key, for siblings to pin (docs/exchange.md, "Signatures")."""
    with platform().transaction() as session:
        city = platform().city_row(session)
        key = signing.public_key(session, city)
        name = city.name
    if key is None:
        response = jsonify(error="this city has no signing key yet (run: innoplat init)")
        response.status_code = 404
        return response
    response = jsonify(
        city=platform().city.slug,
        name=name,
        algorithm=signing.ALGORITHM,
        public_key=key,
        changes_since=True,  # /api/v1/exchange?since= serves partial bundles
    )
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def exchange_response(since: datetime | None = None) -> Response:
    """This city's signed bundle, or 304 when the sibling's copy is current.

    :param since: serve a partial bundle, only what changed at or after this moment (UTC).
    """
    with platform().transaction() as session:
        city = platform().city_row(session)
        version = publishing.bundle_version(session, city)
        not_modified = Response(status=304)
        _validators(not_modified, version)
        if request.if_none_match.contains_weak(version.etag.removeprefix("W/").strip('"')):
            return not_modified
        if (
            not request.if_none_match
            and request.if_modified_since is not None
            and version.modified.replace(microsecond=0)
            <= request.if_modified_since.replace(tzinfo=None)
        ):
            return not_modified
        key = signing.ensure_key(session, city)
        # Written as the database is read: memory stays flat, a large bundle spills to disk.
        body = SpooledTemporaryFile(max_size=_IN_MEMORY)  # noqa: SIM115 - closed by the response
        digest = signing.Digest()
        gzipped = "gzip" in request.accept_encodings
        sink: Any = (
            gzip.GzipFile(fileobj=body, mode="wb", compresslevel=6, mtime=0) if gzipped else body
        )
        for piece in exchange.byte_chunks(session, city, exported_at=version.modified, since=since):
            digest.update(piece)
            sink.write(piece)
        if gzipped:
            sink.close()  # writes the gzip trailer; the body stays open
    length = body.tell()
    body.seek(0)
    response = Response(_chunks(body), mimetype="application/json", direct_passthrough=True)
    response.headers["Content-Length"] = str(length)
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    response.headers[signing.HEADER] = signing.sign(key, digest)
    name = platform().city.slug + ("-changes" if since is not None else "")
    response.headers["Content-Disposition"] = f'inline; filename="{name}.json"'
    _validators(response, version)
    return response


def _validators(response: Response, version: publishing.BundleVersion) -> None:
    response.headers["ETag"] = version.etag
    response.headers[exchange.CHANGES_HEADER] = exchange.CHANGES_OFFERED
    response.last_modified = version.modified.replace(microsecond=0)
    response.headers["Cache-Control"] = "no-cache"


def _chunks(body: SpooledTemporaryFile[bytes]):  # type: ignore[no-untyped-def]
    try:
        yield from iter(lambda: body.read(1 << 16), b"")
    finally:
        body.close()
