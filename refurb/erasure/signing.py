"""Ed25519 signatures over erasure certificates, checkable by anyone with the public key.

A certificate travels as an *envelope*::

    {"certificate": <payload>,
     "signature": {"alg": "EdDSA", "crv": "Ed25519", "key_id": "…", "value": "<base64url>"}}

The signature covers the RFC 8785 (JCS) canonical bytes of the payload, made by
the `rfc8785` package: the JSON text may be re-indented or have its keys
reordered by any tool and still verify, while any change to a value does not.

Payloads hold strings, integers (within ±2**53), booleans, null, lists and
objects only. Floats are refused when signing, and a payload holding one does
not verify: their canonical form depends on number formatting rules that other
verifiers easily get wrong (and JCS would make `1` and `1.0` the same text),
while nothing in a certificate needs them (sizes are integers, dates strings).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

__all__ = (
    "ALG",
    "CRV",
    "PublicKey",
    "Reason",
    "SigningKey",
    "Verification",
    "canonical_bytes",
    "verify_envelope",
)

ALG = "EdDSA"
CRV = "Ed25519"
_SEED_BYTES = 32
_SIGNATURE_BYTES = 64
_ENVELOPE_KEYS = frozenset({"certificate", "signature"})
_SIGNATURE_KEYS = frozenset({"alg", "crv", "key_id", "value"})
_KEY_TEXT_HELP = (
    "a signing key is the base64 (standard or URL-safe, padding optional) "
    "of a 32-byte raw Ed25519 private seed"
)


class Reason(StrEnum):
    """Why an envelope is (not) authentic: stable codes for APIs, logs and translations."""

    OK = "ok"
    NOT_JSON = "not_json"
    NOT_AN_ENVELOPE = "not_an_envelope"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    """Decode base64 in either alphabet, padding optional; ValueError on anything else."""
    compact = "".join(text.split()).translate(str.maketrans("-_", "+/")).rstrip("=")
    compact += "=" * (-len(compact) % 4)
    try:
        return base64.b64decode(compact.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("not base64") from None


def _key_id(raw_public: bytes) -> str:
    return hashlib.sha256(raw_public).hexdigest()[:16]


class _FloatInPayload(ValueError):
    """A float where only integers and strings are signed."""


def _plain(value: Any, *, allow_floats: bool) -> Any:
    """A copy made of dict, list, str, int, bool and None, which is all `rfc8785` accepts."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if allow_floats:
            return value
        raise _FloatInPayload("certificate payloads hold no floats (use integers or strings)")
    if isinstance(value, Mapping):
        result = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError("object keys must be strings")
            result[key] = _plain(item, allow_floats=allow_floats)
        return result
    if isinstance(value, list | tuple):
        return [_plain(item, allow_floats=allow_floats) for item in value]
    raise ValueError(f"{type(value).__name__} is not a JSON value")


def canonical_bytes(value: Any) -> bytes:
    """RFC 8785 bytes of any JSON-shaped value (mappings and tuples included).

    The one place where JSON becomes bytes to sign, hash or embed, so every
    consumer agrees on them.
    """
    return rfc8785.dumps(_plain(value, allow_floats=True))


@dataclass(frozen=True, slots=True)
class PublicKey:
    """The half of a signing key that verifiers get, e.g. as a JWK on a well-known URL."""

    key_id: str
    raw: bytes

    @classmethod
    def from_raw(cls, raw: bytes) -> PublicKey:
        """From the 32 raw bytes; the key id is derived, so it cannot disagree with the key."""
        if len(raw) != _SEED_BYTES:
            raise ValueError("an Ed25519 public key is 32 bytes")
        return cls(_key_id(raw), bytes(raw))

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> PublicKey:
        """From an OKP/Ed25519 JWK such as `to_jwk()` publishes; a `kid` must match the key."""
        if jwk.get("kty") != "OKP" or jwk.get("crv") != CRV or not isinstance(jwk.get("x"), str):
            raise ValueError("expected an OKP JWK with crv Ed25519 and an x member")
        key = cls.from_raw(_unb64(jwk["x"]))
        if "kid" in jwk and jwk["kid"] != key.key_id:
            raise ValueError("the JWK's kid does not match its key")
        return key

    def to_jwk(self) -> dict[str, str]:
        """The public key as a JWK (RFC 8037), ready for a JWKS document."""
        return {
            "kty": "OKP",
            "crv": CRV,
            "x": _b64url(self.raw),
            "kid": self.key_id,
            "alg": ALG,
            "use": "sig",
        }

    def verify(self, signature: bytes, message: bytes) -> bool:
        """True when `signature` is this key's Ed25519 signature of `message`."""
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class SigningKey:
    """The Ed25519 private key certificates are signed with; never printed, logged or compared by secret."""

    _key: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh random key (from the OS's CSPRNG)."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_text(cls, text: str) -> SigningKey:
        """Load the key from configuration: base64 of the 32-byte seed, in either alphabet.

        Error messages say what is expected and never repeat the text: it may be
        a real key pasted in the wrong place.
        """
        if not isinstance(text, str):
            raise TypeError(f"{_KEY_TEXT_HELP}, given as text")
        try:
            seed = _unb64(text)
        except ValueError:
            raise ValueError(f"{_KEY_TEXT_HELP}; the text given is not base64") from None
        if len(seed) != _SEED_BYTES:
            raise ValueError(f"{_KEY_TEXT_HELP}; the text given decodes to {len(seed)} bytes")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    def to_text(self) -> str:
        """The seed as unpadded base64url, which `from_text` reads back."""
        return _b64url(self._key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))

    @property
    def public(self) -> PublicKey:
        """The matching public key."""
        return PublicKey.from_raw(self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))

    @property
    def key_id(self) -> str:
        """First 16 hex digits of the SHA-256 of the raw public key: names the key in envelopes."""
        return self.public.key_id

    def sign(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Wrap `payload` in a signed envelope.

        The envelope's certificate is parsed back from the signed canonical bytes,
        so it is exactly what was signed (plain dicts and lists, no aliasing).
        """
        if not isinstance(payload, Mapping):
            raise TypeError("a certificate payload is a JSON object")
        canonical = rfc8785.dumps(_plain(payload, allow_floats=False))
        return {
            "certificate": json.loads(canonical),
            "signature": {
                "alg": ALG,
                "crv": CRV,
                "key_id": self.key_id,
                "value": _b64url(self._key.sign(canonical)),
            },
        }

    def __repr__(self) -> str:
        return f"SigningKey(key_id={self.key_id!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SigningKey):
            return NotImplemented
        return self.public == other.public

    def __hash__(self) -> int:
        return hash(self.public)


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of checking an envelope.

    `payload` is given only when authentic, so nothing unverified gets shown as
    a certificate; `key_id` is the key the envelope names, when it names one.
    """

    authentic: bool
    reason: Reason
    payload: Mapping[str, Any] | None
    key_id: str | None


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Duplicate keys would let two parsers read two different certificates from one text."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError("duplicate key")
        result[key] = value
    return result


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse(data: bytes) -> Any:
    return json.loads(
        bytes(data).decode("utf-8"),
        object_pairs_hook=_refuse_duplicates,
        parse_constant=_refuse_constant,
    )


def _fail(reason: Reason, key_id: str | None = None) -> Verification:
    return Verification(False, reason, None, key_id)


def verify_envelope(data: bytes | Mapping[str, Any], keys: Mapping[str, PublicKey]) -> Verification:
    """Check an envelope (JSON bytes or already parsed) against the known public keys.

    `keys` maps key ids to keys, so an envelope signed with a retired key still
    verifies as long as that key is listed. Never raises on bad input: the
    reason says what is wrong.
    """
    if isinstance(data, bytes | bytearray | memoryview):
        try:
            data = _parse(bytes(data))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return _fail(Reason.NOT_JSON)
    if not isinstance(data, Mapping) or set(data) != _ENVELOPE_KEYS:
        return _fail(Reason.NOT_AN_ENVELOPE)
    payload, signature = data["certificate"], data["signature"]
    if (
        not isinstance(payload, Mapping)
        or not isinstance(signature, Mapping)
        or set(signature) != _SIGNATURE_KEYS
        or not all(isinstance(signature[name], str) for name in _SIGNATURE_KEYS)
    ):
        return _fail(Reason.NOT_AN_ENVELOPE)
    key_id = signature["key_id"]
    key = keys.get(key_id)
    if key is None:
        return _fail(Reason.UNKNOWN_KEY, key_id)
    if signature["alg"] != ALG or signature["crv"] != CRV:
        return _fail(Reason.BAD_SIGNATURE, key_id)
    try:
        plain = _plain(payload, allow_floats=False)
        canonical = rfc8785.dumps(plain)
    except (_FloatInPayload, rfc8785.CanonicalizationError):
        # `sign` never produces these (e.g. 1 turned into 1.0 or 1e0): not what was signed.
        return _fail(Reason.BAD_SIGNATURE, key_id)
    except (ValueError, RecursionError):
        return _fail(Reason.NOT_AN_ENVELOPE, key_id)
    try:
        value = _unb64(signature["value"])
    except ValueError:
        return _fail(Reason.BAD_SIGNATURE, key_id)
    # Only the one encoding `sign` writes: base64 has spare bits and optional
    # padding, and a changed character must never still verify.
    if _b64url(value) != signature["value"] or len(value) != _SIGNATURE_BYTES:
        return _fail(Reason.BAD_SIGNATURE, key_id)
    if not key.verify(value, canonical):
        return _fail(Reason.BAD_SIGNATURE, key_id)
    return Verification(True, Reason.OK, plain, key_id)
