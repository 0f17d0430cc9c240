"""The OpenAPI says what the API really answers: every error is a problem (RFC 9457) with a `code`.

Litestar documents its own error shape (`status_code`, `detail`, `extra`) as
`application/json`; Refurb answers `application/problem+json` (see
`web/problems.py`). `use_problem_answers` makes the app's OpenAPI plugin rewrite
every error response to the `Problem` schema and add it as each operation's
`default`, so clients and fuzzers validate errors against what is sent.

A route that sends files says which with `opt={"media_types": (...)}` (a label
is a PDF, SVG, PNG or ZPL; a report JSON or CSV): its 200 lists each of them.
"""

from __future__ import annotations

from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.openapi.spec import OpenAPI, OpenAPIMediaType, OpenAPIResponse, Operation, Reference, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType

from refurb.web.problems import PROBLEM_JSON

__all__ = ("PROBLEM_SCHEMA", "files", "problem_answers", "use_problem_answers")

_STRING = Schema(type=OpenAPIType.STRING)
_NULLABLE_STRING = Schema(type=[OpenAPIType.STRING, OpenAPIType.NULL])
_BINARY = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)

PROBLEM_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    title="Problem",
    description="RFC 9457 problem details; `code` is stable, the texts are in the reader's language.",
    required=["type", "title", "status", "detail", "code", "instance"],
    properties={
        "type": _STRING,
        "title": _STRING,
        "status": Schema(type=OpenAPIType.INTEGER, minimum=400, maximum=599),
        "detail": _STRING,
        "code": Schema(type=OpenAPIType.STRING, min_length=1, description="e.g. not_found, bad_check_digit"),
        "instance": _STRING,
        "request_id": _NULLABLE_STRING,
        "errors": Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(type=OpenAPIType.OBJECT),
            description="validation_error: the fields at fault",
        ),
    },
)


def _problem_response(description: str) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=description,
        content={PROBLEM_JSON: OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))},
    )


def problem_answers(openapi: OpenAPI) -> OpenAPI:
    """Every error response of every operation as a problem, and a problem as every `default`."""
    openapi.components.schemas = {**(openapi.components.schemas or {}), "Problem": PROBLEM_SCHEMA}
    for path_item in (openapi.paths or {}).values():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(path_item, method, None)
            if operation is None:
                continue
            responses = operation.responses = dict(operation.responses or {})
            for status, response in list(responses.items()):
                if status.isdigit() and int(status) >= 400:
                    description = response.description if isinstance(response, OpenAPIResponse) else ""
                    responses[status] = _problem_response(description or "A problem")
            responses.setdefault("default", _problem_response("A problem (RFC 9457) with its `code`"))
    return openapi


def files(*media_types: str) -> dict[str, tuple[str, ...]]:
    """A route's `opt` naming the media types its 200 may carry."""
    return {"media_types": media_types}


def _document_files(operation: Operation, status: int, media_types: tuple[str, ...]) -> None:
    ok = (operation.responses or {}).get(str(status))
    if not isinstance(ok, OpenAPIResponse):
        return
    known = ok.content or {}
    ok.content = {
        media_type: known.get(media_type) or OpenAPIMediaType(schema=_BINARY) for media_type in media_types
    }


class _ProblemOpenAPIPlugin(OpenAPIPlugin):
    """Litestar's plugin, with file types and problem answers applied to what it builds (no new state)."""

    __slots__ = ()

    def _build_openapi(self) -> OpenAPI:
        openapi = super()._build_openapi()
        for route in self.included_routes.values():
            item = (openapi.paths or {}).get(route.path_format or "/")
            for handler in route.route_handlers:
                media_types = handler.opt.get("media_types")
                if item is None or not media_types:
                    continue
                for method in handler.http_methods:
                    operation = getattr(item, method.lower(), None)
                    if operation is not None:
                        _document_files(operation, handler.status_code, media_types)
        return problem_answers(openapi)


def use_problem_answers(app: Litestar) -> None:
    """Make `app`'s OpenAPI document problem answers (Litestar creates its plugin itself)."""
    plugin = app.plugins.get(OpenAPIPlugin)
    plugin.__class__ = _ProblemOpenAPIPlugin
