"""Signed checkpoints: a checkpoint's head (seq and hash) and time signed with an Ed25519 key that
lives outside the database, the way Certificate Transparency logs sign their tree heads.

Needs only the ``cryptography`` package and ``forum.trail.chain`` (no Flask, no database), so
`forum trail verify --file` checks signatures as it checks hashes.

The signed statement is the UTF-8 text (each line ends with a newline)::

    decision-forum trail checkpoint v1
    <seq>
    <hash>
    <at>

``at`` is the checkpoint's time as the hash rule writes times. Keys are given as PEM (what
``openssl genpkey -algorithm ed25519`` and ``openssl pkey -pubout`` write) or as the raw 32 key
bytes in base64. A key's id is the first 16 hex digits of the SHA-256 of its raw public key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from forum.trail import chain

STATEMENT_HEADER = "decision-forum trail checkpoint v1"
SIGNING_KEY_VARIABLE = "FORUM_TRAIL_SIGNING_KEY"
PUBLIC_KEY_VARIABLE = "FORUM_TRAIL_PUBLIC_KEY"


class KeyProblem(ValueError):
    """A key that cannot be used; the message says which and why."""


def statement(seq: int, digest: str, at: str) -> bytes:
    """The bytes a checkpoint's signature covers."""
    return f"{STATEMENT_HEADER}\n{seq}\n{digest}\n{at}\n".encode()


# ------------------------------------------------------------------------------------ keys
def _key_bytes(text: str | bytes, what: str) -> tuple[bytes | None, bytes | None]:
    """(PEM bytes, None) or (None, raw bytes) of a key given as PEM or base64."""
    data = text.encode() if isinstance(text, str) else text
    data = data.strip()
    if not data:
        raise KeyProblem(f"the {what} is empty")
    if data.startswith(b"-----BEGIN"):
        return data, None
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyProblem(f"the {what} is neither PEM nor base64 ({exc})") from exc
    if len(raw) != 32:
        raise KeyProblem(f"the {what} in base64 must be the 32 raw key bytes, not {len(raw)}")
    return None, raw


def load_private_key(text: str | bytes) -> Ed25519PrivateKey:
    pem, raw = _key_bytes(text, "signing key")
    if raw is not None:
        return Ed25519PrivateKey.from_private_bytes(raw)
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyProblem(f"the signing key is not an unencrypted PEM private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyProblem(f"the signing key is a {type(key).__name__}, not an Ed25519 key")
    return key


def load_public_key(text: str | bytes) -> Ed25519PublicKey:
    pem, raw = _key_bytes(text, "public key")
    if raw is not None:
        return Ed25519PublicKey.from_public_bytes(raw)
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise KeyProblem(f"the public key is not a PEM public key ({exc})") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise KeyProblem(f"the public key is a {type(key).__name__}, not an Ed25519 key")
    return key


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(raw_public(key)).hexdigest()[:16]


def _from(environ: Mapping[str, str], variable: str, loader, what: str):
    """The key named by ``variable`` (the key itself) or ``variable``_FILE (a path to it)."""
    text, path = environ.get(variable, "").strip(), environ.get(f"{variable}_FILE", "").strip()
    if text and path:
        raise KeyProblem(f"set {variable} or {variable}_FILE, not both")
    if path:
        try:
            text = Path(path).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyProblem(f"cannot read the {what} file {path} ({exc})") from exc
    if not text:
        return None
    try:
        return loader(text)
    except KeyProblem as exc:
        raise KeyProblem(f"{variable}{'_FILE' if path else ''}: {exc}") from exc


def signing_key_from(environ: Mapping[str, str] = os.environ) -> Ed25519PrivateKey | None:
    """The signing key of FORUM_TRAIL_SIGNING_KEY or FORUM_TRAIL_SIGNING_KEY_FILE; None if
    neither is set."""
    return _from(environ, SIGNING_KEY_VARIABLE, load_private_key, "signing key")


def public_key_from(environ: Mapping[str, str] = os.environ) -> Ed25519PublicKey | None:
    """The public key of FORUM_TRAIL_PUBLIC_KEY or FORUM_TRAIL_PUBLIC_KEY_FILE; None if neither
    is set."""
    return _from(environ, PUBLIC_KEY_VARIABLE, load_public_key, "public key")


def new_key_pair() -> tuple[str, str]:
    """A new Ed25519 key pair: (private key PEM, public key PEM)."""
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption(),
    ).decode()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo,
    ).decode()
    return private_pem, public_pem


# ------------------------------------------------------------------------ signing, checking
@dataclass
class SignedCheckpoint:
    seq: int
    hash: str
    at: str
    key_id: str
    signature: str  # base64
    label: str = ""


def sign(key: Ed25519PrivateKey, seq: int, digest: str, at: str) -> SignedCheckpoint:
    signature = base64.b64encode(key.sign(statement(seq, digest, at))).decode("ascii")
    return SignedCheckpoint(seq, digest, at, key_id(key.public_key()), signature)


@dataclass
class SignatureCheck:
    """Whether a signed checkpoint's signature verifies with the public key; and, once the chain
    was walked, whether the chain still holds it (``chain_check``)."""

    checkpoint: SignedCheckpoint
    # "valid", "invalid" (not made by the public key's private key, or the statement was
    # changed) or "unchecked" (no public key given).
    status: str
    chain_check: chain.CheckpointCheck | None = None

    @property
    def ok(self) -> bool:
        return self.status != "invalid"

    def describe(self) -> str:
        c = self.checkpoint
        if self.status == "valid":
            return f"the signature verifies (key {c.key_id})"
        if self.status == "unchecked":
            return "the signature was not checked: no public key is configured"
        return (f"the signature does NOT verify with the public key (signed as key {c.key_id}): "
                "someone without the signing key made or changed this checkpoint")


def check_signature(public_key: Ed25519PublicKey | None, signed: SignedCheckpoint) -> SignatureCheck:
    if public_key is None:
        return SignatureCheck(signed, "unchecked")
    try:
        signature = base64.b64decode(signed.signature, validate=True)
        public_key.verify(signature, statement(signed.seq, signed.hash, signed.at))
    except (InvalidSignature, binascii.Error, ValueError, TypeError):
        return SignatureCheck(signed, "invalid")
    return SignatureCheck(signed, "valid")


def from_event_data(seq: int, data: Mapping) -> SignedCheckpoint | None:
    """The signed checkpoint a ``trail.checkpoint_recorded`` event carries, if it is signed."""
    signature = data.get("signature")
    if not signature:
        return None
    return SignedCheckpoint(
        seq=data.get("seq"), hash=str(data.get("hash", "")), at=str(data.get("at", "")),
        key_id=str(data.get("key_id", "")), signature=str(signature),
        label=f"signed checkpoint in event {seq}",
    )


def verify_with_signatures(
    public_key: Ed25519PublicKey | None, signed: Iterable[SignedCheckpoint], walk,
    checkpoints: Iterable[chain.CheckpointCheck] = (),
) -> chain.Verification:
    """Check each signed checkpoint's signature, then walk the chain (``walk(checkpoints)``, e.g.
    ``lambda c: verify_database(session, c)``) checking the given checkpoints and every signed
    one whose signature verifies (or, with no public key, every signed one). Sets the result's
    ``signatures`` and ``newest_signed`` (the newest signed head the chain still holds)."""
    checks = [check_signature(public_key, s) for s in _distinct(signed)]
    extra = []
    for check in checks:
        if check.status != "invalid" and type(check.checkpoint.seq) is int:
            c = check.checkpoint
            extra.append(chain.CheckpointCheck(c.seq, c.hash, label=c.label or f"signed checkpoint {c.seq}"))
    result = walk([*checkpoints, *extra])
    by_label = {(c.seq, c.hash, c.label): c for c in result.checkpoints}
    for check, wanted in zip((c for c in checks if c.status != "invalid" and type(c.checkpoint.seq) is int),
                             extra, strict=True):
        check.chain_check = by_label.get((wanted.seq, wanted.hash, wanted.label))
    result.signatures = checks
    held = [c for c in checks
            if c.status == "valid" and c.chain_check is not None and c.chain_check.status == "ok"]
    result.newest_signed = max(held, key=lambda c: c.checkpoint.seq).checkpoint if held else None
    result.public_key_id = key_id(public_key) if public_key is not None else None
    return result


def _distinct(signed: Iterable[SignedCheckpoint]) -> list[SignedCheckpoint]:
    seen, out = set(), []
    for s in signed:
        key = (s.seq, s.hash, s.at, s.signature)
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out
