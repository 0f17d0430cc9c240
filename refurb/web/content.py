"""What every request must be before a handler reads it.

The API reads JSON bodies and refuses anything else; no request carries a NUL
character (SQLite stores it, PostgreSQL refuses it: same input, same answer on
both engines); no JSON body nests deeper than `MAX_JSON_DEPTH` (the decoders
recurse, and a thousand levels was a `RecursionError`, a 500).
"""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Any

from litestar import Request
from litestar.exceptions import HTTPException

from refurb.core.errors import UNSTORABLE, BadInput
from refurb.core.i18n import N_

__all__ = ("MAX_JSON_DEPTH", "screen_request")

MAX_JSON_DEPTH = 64

_WRITES = {"POST", "PUT", "PATCH"}


class UnsupportedMediaType(HTTPException):
    """415: the body is not JSON."""

    status_code = 415


#: A JSON string escape for NUL that is not itself an escaped backslash followed by "u0000".
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(range(256)).translate(None, b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


async def screen_request(request: Request[Any, Any, Any]) -> None:
    """Refuse NUL characters and deep JSON on every route, and a non-JSON body on an API write.

    An API route opts out of JSON with `opt={"raw_body": True}` (uploads of tool reports).
    """
    if "\x00" in request.scope["path"] or b"%00" in request.scope.get("query_string", b""):
        raise BadInput(UNSTORABLE, code="bad_value")
    if request.method not in _WRITES:
        return
    has_body = request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
    if not has_body:
        return
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    is_json = media_type == "application/json" or media_type.endswith("+json")
    if (
        request.scope["path"].startswith("/api/")
        and not is_json
        and not request.route_handler.opt.get("raw_body")
    ):
        raise UnsupportedMediaType(
            detail=f"The body must be JSON (Content-Type: application/json), not {media_type or 'none'}."
        )
    if is_json:
        body = await request.body()
        if b"\x00" in body or _JSON_NUL.search(body):
            raise BadInput(UNSTORABLE, code="bad_value")
        if json_depth(body) > MAX_JSON_DEPTH:
            raise BadInput(
                N_("The JSON nests deeper than {limit} levels."), code="json_too_deep", limit=MAX_JSON_DEPTH
            )
    elif media_type == "application/x-www-form-urlencoded":
        body = await request.body()
        if b"%00" in body or b"\x00" in body:
            raise BadInput(UNSTORABLE, code="bad_value")


def json_depth(body: bytes) -> int:
    """How deep the brackets of a JSON text nest, strings left out (a cheap count first)."""
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return 0
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    return max(accumulate(_STEP[b] for b in brackets), default=0)
