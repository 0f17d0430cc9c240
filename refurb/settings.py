"""Configuration from `REFURB_*` environment variables."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ("EVERY_ADDRESS", "ConfigError", "DatabaseUrl", "Settings", "parse_database_url", "served_base_url")

DEFAULT_DATABASE_URL = "sqlite:///var/refurb.sqlite3"
EVERY_ADDRESS = ("", "0.0.0.0", "::")  # noqa: S104 - what `serve --host` may listen on, not a bind here


class ConfigError(Exception):
    """The configuration cannot work; the message says what to set."""


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    """A parsed `REFURB_DATABASE_URL`."""

    engine: Literal["sqlite", "postgres"]
    url: str
    sqlite_path: Path | None = None

    @property
    def redacted(self) -> str:
        """The URL without its password, for logs and messages."""
        if self.engine == "sqlite":
            return self.url
        parts = urlsplit(self.url)
        if parts.password is None:
            return self.url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()


def parse_database_url(url: str) -> DatabaseUrl:
    """Accept `sqlite:///relative.db`, `sqlite:////abs.db` and `postgresql://…`."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ConfigError(f"REFURB_DATABASE_URL {url!r} is not a URL (sqlite:///path or postgresql://…)")
    scheme = scheme.lower()
    if scheme == "sqlite":
        if not rest.startswith("/") or rest == "/":
            raise ConfigError("a SQLite URL is sqlite:///relative/path.db or sqlite:////absolute/path.db")
        return DatabaseUrl("sqlite", url, Path(unquote(rest[1:])))
    if scheme in {"postgresql", "postgres"}:
        return DatabaseUrl("postgres", "postgresql://" + rest)
    raise ConfigError(f"REFURB_DATABASE_URL scheme {scheme!r} is not supported (use sqlite or postgresql)")


def served_base_url(host: str, port: int) -> str:
    """The address `refurb serve --host --port` answers on, for links and QR codes without REFURB_BASE_URL.

    Listening on every address (0.0.0.0, ::) gives 127.0.0.1: the one address
    sure to reach the service, where guessing a network address could print
    labels that point nowhere.
    """
    shown = "127.0.0.1" if host in EVERY_ADDRESS else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"  # an IPv6 address in a URL
    return f"http://{shown}:{port}"


class Settings(BaseSettings):
    """Everything a deployment can set; defaults run a demo on one machine."""

    model_config = SettingsConfigDict(env_prefix="REFURB_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: SecretStr | None = None
    base_url: str = "http://127.0.0.1:8000"
    locale: Literal["fr", "en"] = "fr"
    timezone: str = "Europe/Paris"
    var_dir: Path = Path("var")
    db_pool_min: int = Field(default=2, ge=1)
    db_pool_max: int = Field(default=20, ge=1)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    session_hours: int = Field(default=12, ge=1)
    login_max_failures: int = Field(default=5, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)
    trusted_proxies: str = ""  # addresses of reverse proxies whose X-Forwarded-For is believed
    print_household_names: bool = False
    signing_key: SecretStr | None = None  # Ed25519 seed (base64) that signs erasure certificates
    signing_keys_retired: str = ""  # public keys (base64, comma-separated) of earlier certificates
    licence_key: SecretStr | None = None  # Fernet key that encrypts licence product keys at rest

    @field_validator("database_url")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        parse_database_url(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Europe/Paris)") from None
        return value

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def database(self) -> DatabaseUrl:
        """The parsed database URL."""
        return parse_database_url(self.database_url)

    @property
    def tzinfo(self) -> ZoneInfo:
        """The time zone pages show times in."""
        return ZoneInfo(self.timezone)

    @property
    def secure_cookies(self) -> bool:
        """Cookies are marked Secure when the service is served over HTTPS."""
        return self.base_url.startswith("https://")

    def resolved_signing_key(self) -> str | None:
        """The certificate signing key; SQLite generates one into `var/`, PostgreSQL must be given one."""
        if self.signing_key is not None:
            return self.signing_key.get_secret_value()
        if self.database.engine != "sqlite":
            return None
        return _kept_secret(self.var_dir / "signing_key", _new_signing_seed)

    def resolved_licence_key(self) -> str | None:
        """The licence-key cipher key; SQLite generates one into `var/`, PostgreSQL must be given one."""
        if self.licence_key is not None:
            return self.licence_key.get_secret_value()
        if self.database.engine != "sqlite":
            return None
        return _kept_secret(self.var_dir / "licence_key", _new_fernet_key)

    def resolved_secret_key(self) -> str:
        """The signing key; the embedded SQLite setup generates and keeps one in `var/`."""
        if self.secret_key is not None:
            value = self.secret_key.get_secret_value()
            if len(value) < 32:
                raise ConfigError("REFURB_SECRET_KEY must be at least 32 characters")
            return value
        if self.database.engine != "sqlite":
            raise ConfigError(
                "REFURB_SECRET_KEY is not set: it is required with PostgreSQL "
                "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return _kept_secret(self.var_dir / "secret_key", lambda: secrets.token_urlsafe(48))


def _new_signing_seed() -> str:
    """32 random bytes in base64: an Ed25519 private key seed."""
    import base64

    return base64.b64encode(secrets.token_bytes(32)).decode()


def _new_fernet_key() -> str:
    """A Fernet key: 32 random bytes, URL-safe base64."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def _kept_secret(path: Path, make: Callable[[], str]) -> str:
    """A secret generated once into a file only its owner can read; concurrent starts agree on it."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value
