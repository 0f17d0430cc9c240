"""Licence product keys at rest: Fernet-encrypted, recognised again by an HMAC fingerprint.

The cipher key comes from the settings (`REFURB_LICENCE_KEY`); the fingerprint
key is derived from it, so a second import of a key is caught without ever
storing or comparing the key in clear. Nothing here logs or echoes a key.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from cryptography.fernet import Fernet, InvalidToken

from refurb.core.errors import Unavailable
from refurb.core.i18n import N_
from refurb.settings import ConfigError, Settings

__all__ = ("KeyCipher", "cipher", "configure", "configured", "normal_key")

_SPACES = re.compile(r"\s+")
FINGERPRINT_CONTEXT = b"refurb-licence-fingerprint"


def normal_key(text: str) -> str:
    """The key as it is stored and compared: stripped, uppercase, no spaces."""
    return _SPACES.sub("", text).upper()


class KeyCipher:
    """Encrypts, decrypts and fingerprints product keys with one secret."""

    __slots__ = ("_fernet", "_mac_key")

    def __init__(self, fernet_key: str) -> None:
        raw = fernet_key.strip().encode()
        try:
            self._fernet = Fernet(raw)
        except ValueError:
            raise ConfigError(
                "REFURB_LICENCE_KEY is not a Fernet key (32 bytes, URL-safe base64; "
                "`refurb licence-key` prints one)"
            ) from None
        self._mac_key = hashlib.sha256(FINGERPRINT_CONTEXT + raw).digest()

    def __repr__(self) -> str:
        return "KeyCipher(***)"

    def encrypt(self, key: str) -> str:
        """The Fernet token of the normalised key."""
        return self._fernet.encrypt(normal_key(key).encode()).decode()

    def decrypt(self, token: str) -> str:
        """The key of a token; a token from another cipher key is a configuration problem."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise Unavailable(
                N_("A licence key cannot be decrypted: REFURB_LICENCE_KEY changed since it was imported."),
                code="licence_key_mismatch",
            ) from None

    def fingerprint(self, key: str) -> str:
        """HMAC-SHA256 (hex) of the normalised key: equal keys, equal fingerprints."""
        return hmac.new(self._mac_key, normal_key(key).encode(), hashlib.sha256).hexdigest()


_cipher: KeyCipher | None = None


def configure(settings: Settings) -> KeyCipher | None:
    """Read the cipher key from the settings once, at start-up (None: keyed pools are refused)."""
    global _cipher
    value = settings.resolved_licence_key()
    _cipher = KeyCipher(value) if value else None
    return _cipher


def configured() -> bool:
    """Whether keyed pools can take and give keys."""
    return _cipher is not None


def cipher() -> KeyCipher:
    """The configured cipher, or a 503 saying what to set."""
    if _cipher is None:
        raise Unavailable(
            N_("Licence keys cannot be imported or given out: REFURB_LICENCE_KEY is not set."),
            code="licence_key_missing",
        )
    return _cipher
