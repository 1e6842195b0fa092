"""Bundles prove where they came from: each city signs its exchange bundles with Ed25519.

The signature is detached and covers the exact bytes of the bundle as sent (before any
transfer encoding such as gzip), never a re-serialisation: the signed message is
``MESSAGE_PREFIX`` followed by the SHA-512 digest of those bytes, so a bundle of any size is
hashed as it streams past and held in memory nowhere. Keys are raw 32-byte Ed25519 keys,
written in base64.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import InnoplatError, ValidationError
from ..models import City, SigningKey

ALGORITHM = "ed25519"
MESSAGE_PREFIX = b"innoplat-exchange-signature-v1\n"
#: The HTTP header that carries a bundle's signature, and the suffix of a bundle file's sidecar.
HEADER = "Innoplat-Signature"
SIDECAR_SUFFIX = ".sig"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(what, "not base64 text") from None


def ensure_key(session: Session, city: City) -> SigningKey:
    """The city's key pair, made on first use (``innoplat init`` calls this)."""
    key = session.scalar(select(SigningKey).where(SigningKey.city_id == city.id))
    if key is not None:
        return key
    private = Ed25519PrivateKey.generate()
    key = SigningKey(
        city_id=city.id,
        private_key=_b64(private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())),
        public_key=_b64(private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)),
    )
    session.add(key)
    session.flush()
    return key


def public_key(session: Session, city: City) -> str | None:
    """The city's public key (base64), or None before ``innoplat init`` made one."""
    return session.scalar(select(SigningKey.public_key).where(SigningKey.city_id == city.id))


def check_public_key(text: str) -> str:
    """A base64 Ed25519 public key, checked; raises ValidationError naming ``public_key``."""
    raw = _unb64(text, "public_key")
    if len(raw) != 32:
        raise ValidationError("public_key", "an Ed25519 public key is 32 bytes")
    try:
        Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise ValidationError("public_key", "not an Ed25519 public key") from None
    return _b64(raw)


class Digest:
    """The SHA-512 of bytes fed piece by piece: what a signature covers."""

    def __init__(self) -> None:
        self._hash = hashlib.sha512()

    def update(self, data: bytes) -> None:
        self._hash.update(data)

    def message(self) -> bytes:
        return MESSAGE_PREFIX + self._hash.digest()


def digest_of(chunks: Iterable[bytes] | IO[bytes]) -> Digest:
    """The digest of a file (read in blocks from its current position) or of chunks."""
    digest = Digest()
    if hasattr(chunks, "read"):
        for block in iter(lambda: chunks.read(1 << 20), b""):  # type: ignore[union-attr]
            digest.update(block)
    else:
        for chunk in chunks:
            digest.update(chunk)
    return digest


def sign(key: SigningKey, digest: Digest) -> str:
    """The detached signature (base64) of the digested bytes."""
    private = Ed25519PrivateKey.from_private_bytes(_unb64(key.private_key, "private_key"))
    return _b64(private.sign(digest.message()))


def verify(public_key_b64: str, signature_b64: str | None, digest: Digest, *, source: str) -> None:
    """Check a signature against a pinned key; raises InnoplatError with one clear line."""
    if not signature_b64:
        raise InnoplatError(
            f"{source} is not signed; refusing it (--unsigned imports it unchecked)"
        )
    try:
        signature = base64.b64decode(signature_b64.strip(), validate=True)
        Ed25519PublicKey.from_public_bytes(_unb64(public_key_b64, "public_key")).verify(
            signature, digest.message()
        )
    except (InvalidSignature, binascii.Error, ValueError):
        raise InnoplatError(
            f"{source}: the signature does not match the pinned key of this peer; nothing was imported"
        ) from None


def sidecar_path(bundle: Path) -> Path:
    """Where a bundle file's signature lives: beside it, with ``.sig`` added."""
    return bundle.with_name(bundle.name + SIDECAR_SUFFIX)


def write_sidecar(key: SigningKey, city_slug: str, bundle: Path) -> Path:
    """Sign a bundle file as written and put the signature beside it (a small JSON document)."""
    with bundle.open("rb") as file:
        digest = digest_of(file)
    path = sidecar_path(bundle)
    document = {
        "algorithm": ALGORITHM,
        "city": city_slug,
        "public_key": key.public_key,
        "signature": sign(key, digest),
    }
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    return path


def verify_file(public_key_b64: str, bundle: Path) -> None:
    """Check a bundle file against its sidecar and a pinned key; InnoplatError in one line."""
    path = sidecar_path(bundle)
    signature = None
    if path.is_file():
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise InnoplatError(f"{path} is not a signature document (JSON)") from None
        signature = document.get("signature") if isinstance(document, dict) else None
    with bundle.open("rb") as file:
        digest = digest_of(file)
    verify(
        public_key_b64,
        signature if isinstance(signature, str) else None,
        digest,
        source=str(bundle),
    )
