"""The domain error family.

Each error carries a stable machine `code` (the API's problem `code` field), an
English message template (a translation id) and the parameters to fill it, so
the web layer can answer in the reader's language without parsing strings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from refurb.core.i18n import N_, fill

__all__ = (
    "UNSTORABLE",
    "BadCheckDigit",
    "BadInput",
    "Conflict",
    "DomainError",
    "Forbidden",
    "GuardNotAvailable",
    "GuardRefused",
    "InvalidTransition",
    "MalformedCode",
    "NotAuthenticated",
    "NotFound",
    "RateLimited",
    "Unavailable",
    "UnknownCodeType",
)

#: Why a value a database cannot store (a number past 64 bits, a NUL character) is refused.
UNSTORABLE = N_("A value is out of range or holds a character that cannot be stored (such as NUL).")


class DomainError(Exception):
    """Base of every refusal the domain can give."""

    code: str = "domain_error"

    def __init__(
        self, message: str, /, *, code: str | None = None, extra: dict[str, Any] | None = None, **params: Any
    ) -> None:
        self.message = message
        self.params = params
        self.extra = extra or {}  # machine-readable details a client may act on
        if code is not None:
            self.code = code
        super().__init__(self.render())

    def render(self, translate: Callable[[str], str] | None = None) -> str:
        """The message, translated when a `translate` function is given."""
        return fill(self.message, self.params, translate)


class NotFound(DomainError):
    """The thing does not exist, or the reader may not know it exists."""

    code = "not_found"


class InvalidTransition(DomainError):
    """The action does not apply to the device in its current state."""

    code = "invalid_transition"


class Conflict(DomainError):
    """The request collides with the current state of the data."""

    code = "conflict"


class GuardRefused(Conflict):
    """A lifecycle guard looked at the evidence and said no."""

    code = "guard_refused"


class GuardNotAvailable(Conflict):
    """A guard whose evidence belongs to an area that is not built yet; it never passes."""

    code = "guard_not_available"


class Forbidden(DomainError):
    """The actor's role may not do this."""

    code = "forbidden"


class BadInput(DomainError):
    """The input is wrong; nothing was changed."""

    code = "bad_input"


class MalformedCode(BadInput):
    """Scanned or typed text that is not a Refurb code."""

    code = "malformed_code"


class BadCheckDigit(BadInput):
    """A code whose check digit does not match: a misread or a typo."""

    code = "bad_check_digit"


class UnknownCodeType(BadInput):
    """A code-shaped text whose letter is not one of ours."""

    code = "unknown_code_type"


class RateLimited(DomainError):
    """Too many attempts; `retry_after` seconds tell when to try again."""

    code = "too_many_attempts"

    @property
    def retry_after(self) -> int:
        """Seconds to wait."""
        return int(self.params.get("retry_after", 60))


class Unavailable(DomainError):
    """Something Refurb depends on (a printer) did not answer; nothing was recorded."""

    code = "unavailable"


class NotAuthenticated(DomainError):
    """No valid credentials came with the request."""

    code = "not_authenticated"
