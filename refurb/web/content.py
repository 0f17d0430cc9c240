"""The API reads JSON bodies; anything else is refused before parsing."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import HTTPException

__all__ = ("require_json_body",)

_WRITES = {"POST", "PUT", "PATCH"}


class UnsupportedMediaType(HTTPException):
    """415: the body is not JSON."""

    status_code = 415


async def require_json_body(request: Request[Any, Any, Any]) -> None:
    """Refuse a non-JSON body on an API write, unless the route opts out (`opt={"raw_body": True}`)."""
    if request.method not in _WRITES or not request.scope["path"].startswith("/api/"):
        return
    if request.route_handler.opt.get("raw_body"):
        return
    has_body = request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if has_body and media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType(
            detail=f"The body must be JSON (Content-Type: application/json), not {media_type or 'none'}."
        )
