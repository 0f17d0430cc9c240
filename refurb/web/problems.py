"""Every error as an RFC 9457 problem (API) or an error page (browser).

A problem has `type`, `title`, `status`, `detail`, `instance`, and Refurb's
stable `code` (e.g. `invalid_transition`, `bad_check_digit`, `not_found`); the
text is in the reader's language, the code never changes.
"""

from __future__ import annotations

import logging
import socket
import sqlite3
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import asyncpg
from babel.numbers import format_decimal
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    SerializationException,
    ValidationException,
)
from litestar.response import Redirect

from refurb.core.errors import (
    UNSTORABLE,
    BadInput,
    Conflict,
    DomainError,
    Forbidden,
    InvalidTransition,
    NotAuthenticated,
    NotFound,
    RateLimited,
    Unavailable,
)
from refurb.core.i18n import N_
from refurb.web.i18n import current_locale, gettext, render_error
from refurb.web.render import page

__all__ = (
    "PROBLEM_JSON",
    "exception_handlers",
    "is_api_request",
    "is_outage",
    "problem_response",
    "status_of",
)

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("refurb.errors")

_STATUS_BY_CLASS: list[tuple[type[DomainError], int]] = [
    (NotFound, 404),
    (InvalidTransition, 409),
    (Conflict, 409),
    (Forbidden, 403),
    (RateLimited, 429),
    (Unavailable, 502),
    (NotAuthenticated, 401),
    (BadInput, 400),
]
_STATUS_BY_CODE = {
    "idempotency_key_reused": 422,
    "label_templates_broken": 503,
    "manifest_has_errors": 422,
    "census_has_errors": 422,
    "licence_import_has_errors": 422,
    "key_file_unreadable": 422,
    "key_file_empty": 422,
    "key_file_not_csv": 422,
    "key_column_not_found": 422,
    "pool_quantity_exceeded": 422,
    "licence_key_missing": 503,
    "licence_key_mismatch": 503,
    "signing_key_missing": 503,
    "report_unrecognised": 422,
    "report_malformed": 422,
    "report_empty": 422,
}

TITLES: dict[str, str] = {
    "not_found": N_("Not found"),
    "invalid_transition": N_("Not possible in this state"),
    "guard_not_available": N_("Check not available yet"),
    "guard_refused": N_("Refused by a check"),
    "conflict": N_("Conflict"),
    "forbidden": N_("Not allowed"),
    "action_not_allowed_for_role": N_("Not allowed for your role"),
    "not_authenticated": N_("Login required"),
    "invalid_credentials": N_("Login failed"),
    "too_many_attempts": N_("Too many attempts"),
    "bad_input": N_("Invalid input"),
    "malformed_code": N_("Not a Refurb code"),
    "bad_check_digit": N_("Wrong check digit"),
    "unknown_code_type": N_("Unknown code type"),
    "unknown_action": N_("Unknown action"),
    "reason_required": N_("Reason required"),
    "validation_error": N_("Invalid request"),
    "malformed_json": N_("Malformed JSON"),
    "method_not_allowed": N_("Method not allowed"),
    "body_too_large": N_("Request too large"),
    "unsupported_media_type": N_("Unsupported content type"),
    "csrf_failed": N_("Form expired"),
    "idempotency_key_reused": N_("Idempotency key reused"),
    "idempotency_in_flight": N_("Request already in progress"),
    "device_busy": N_("Device busy"),
    "manifest_has_errors": N_("The manifest has errors"),
    "census_has_errors": N_("The census has errors"),
    "agreement_missing": N_("No signed donation agreement"),
    "batch_state": N_("Not possible in this batch state"),
    "batch_closed": N_("Batch closed"),
    "internal_error": N_("Internal error"),
    "database_unavailable": N_("Database unavailable"),
    "bad_value": N_("Value not storable"),
    "json_too_deep": N_("JSON nested too deeply"),
    "conflicting_parameters": N_("Conflicting parameters"),
}


def is_api_request(request: Request[Any, Any, Any]) -> bool:
    """API paths and clients that do not ask for HTML get JSON problems."""
    path = request.url.path
    if path.startswith("/api/") or path == "/api" or path == "/health":
        return True
    accept = request.headers.get("accept", "")
    return "text/html" not in accept and "application/json" in accept


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response[Any]:
    """A problem details answer, or the error page for a browser."""
    title = gettext(TITLES[code]) if code in TITLES else HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.url.path,
        "request_id": request.scope.get("state", {}).get("request_id"),
    }
    if extra:
        body.update(extra)
    if is_api_request(request):
        return Response(content=body, status_code=status, media_type=PROBLEM_JSON, headers=headers)
    return page(request, "web/error.html", status_code=status, headers=headers, problem=body)


def status_of(exc: DomainError) -> int:
    """The HTTP status a domain refusal answers with."""
    return _STATUS_BY_CODE.get(exc.code) or next(s for cls, s in _STATUS_BY_CLASS if isinstance(exc, cls))


def _domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    status = status_of(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited):
        headers["retry-after"] = str(exc.retry_after)
    if isinstance(exc, NotAuthenticated):
        if not is_api_request(request):
            return Redirect(path=f"/login?next={quote(request.url.path)}", status_code=303)
        headers["www-authenticate"] = 'Bearer realm="refurb"'
    return problem_response(request, status, exc.code, render_error(exc), headers=headers, extra=exc.extra)


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    headers = dict(exc.headers or {})
    extra: dict[str, Any] | None = None
    detail = exc.detail
    if isinstance(exc, ValidationException):
        code = "validation_error"
        errors = [
            {"field": e.get("key"), "source": e.get("source"), "message": e.get("message")}
            for e in (exc.extra if isinstance(exc.extra, list) else [])
            if isinstance(e, dict)
        ]
        if "json" in detail.lower() and not errors:
            code = "malformed_json"
            detail = gettext("The request body is not valid JSON.")
        else:
            detail = gettext("The request has invalid fields; see `errors`.")
        extra = {"errors": errors}
    elif status == 400 and isinstance(exc.__cause__, SerializationException):
        code = "malformed_json"
        detail = gettext("The request body is not valid JSON.")
    elif isinstance(exc, NotFoundException) or status == 404:
        code = "not_found"
        detail = gettext("Nothing here: check the address.")
    elif isinstance(exc, MethodNotAllowedException) or status == 405:
        code = "method_not_allowed"
        detail = gettext("This address does not accept {method}.").format(method=request.method)
    elif isinstance(exc, NotAuthorizedException) or status == 401:
        if not is_api_request(request):
            return Redirect(path=f"/login?next={quote(request.url.path)}", status_code=303)
        code = "not_authenticated"
        detail = gettext("Log in, or send a valid bearer token.")
        headers["www-authenticate"] = 'Bearer realm="refurb"'
    elif isinstance(exc, PermissionDeniedException) or status == 403:
        if "csrf" in detail.lower():
            code = "csrf_failed"
            detail = gettext("The form expired or came from elsewhere: reload the page and try again.")
        else:
            code = "forbidden"
            detail = gettext("Your role does not allow this.")
    elif status == 413:
        code = "body_too_large"
        limit = (
            request.route_handler.resolve_request_max_body_size()
            if request.scope.get("route_handler")
            else None
        )
        detail = (
            gettext("The request body is larger than the limit of {mib} MiB ({limit} bytes).").format(
                mib=format_decimal(round(limit / 1_048_576, 1), locale=current_locale()), limit=limit
            )
            if limit
            else gettext("The request body is too large.")
        )
        extra = {"limit": limit} if limit else None
    elif status == 415:
        code = "unsupported_media_type"
        detail = gettext("The body must be JSON (Content-Type: application/json).")
    else:
        code = HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    return problem_response(request, status, code, detail, headers=headers, extra=extra)


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        request,
        500,
        "internal_error",
        gettext("Something went wrong on our side; the request id identifies it in the logs."),
    )


def _unstorable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """PostgreSQL refused a value (class 22: a number out of range, a NUL character): bad input, not a bug.

    The statement failed, so its transaction was rolled back and nothing changed.
    """
    log.info(
        "value refused by the database on %s %s: %s", request.method, request.url.path, type(exc).__name__
    )
    return problem_response(
        request,
        400,
        "bad_value",
        gettext(UNSTORABLE),
    )


#: SQLite's words for a database it cannot write now (busy past the timeout, a full disk, a read-only file).
_SQLITE_UNAVAILABLE = (
    "database is locked",
    "database or disk is full",
    "attempt to write a readonly database",
    "disk i/o error",
    "unable to open database file",
)
RETRY_AFTER_SECONDS = 5


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached or written now (not that the request is wrong)."""
    if isinstance(exc, sqlite3.OperationalError):
        return any(words in str(exc).lower() for words in _SQLITE_UNAVAILABLE)
    return isinstance(
        exc,
        ConnectionError
        | socket.gaierror
        | TimeoutError
        | asyncpg.PostgresConnectionError
        | asyncpg.InterfaceError
        | asyncpg.exceptions._base.InternalClientError  # a connection left mid-operation by a dead server
        | asyncpg.exceptions.OperatorInterventionError
        | asyncpg.exceptions.InsufficientResourcesError,
    )


def _database_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The database is restarting, unreachable, full or read-only: 503 with Retry-After, not a 500.

    Nothing was acknowledged: a client retries with the same Idempotency-Key.
    """
    if not is_outage(exc):
        return _unexpected(request, exc)
    where = f"{request.method} {request.url.path}"
    log.warning("database unavailable on %s: %s: %s", where, type(exc).__name__, exc)
    return problem_response(
        request,
        503,
        "database_unavailable",
        gettext("The database is not available right now; nothing was recorded. Try again in a few seconds."),
        headers={"retry-after": str(RETRY_AFTER_SECONDS)},
    )


exception_handlers: dict[type[Exception] | int, Any] = {
    DomainError: _domain_error,
    OSError: _database_unavailable,
    TimeoutError: _database_unavailable,
    sqlite3.OperationalError: _database_unavailable,
    asyncpg.PostgresConnectionError: _database_unavailable,
    asyncpg.InterfaceError: _database_unavailable,
    asyncpg.exceptions._base.InternalClientError: _database_unavailable,
    asyncpg.exceptions.OperatorInterventionError: _database_unavailable,
    asyncpg.exceptions.InsufficientResourcesError: _database_unavailable,
    HTTPException: _http_error,
    asyncpg.exceptions.DataError: _unstorable,  # raised by the server (SQLSTATE class 22)
    asyncpg.exceptions._base.DataError: _unstorable,  # raised by asyncpg encoding an argument
    OverflowError: _unstorable,  # SQLite: an integer past 64 bits
    Exception: _unexpected,
}
