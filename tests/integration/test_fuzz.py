"""The whole API thrown at a fuzzer: Schemathesis, in process against the ASGI app, on both engines.

Every operation of the OpenAPI gets a bounded number of generated requests, each
sent as one member of the cast (every role, a donor of another organisation, and
nobody). Half of the codes in paths are real ones seeded here, so the requests go
past "not a Refurb code" into the handlers. Checks: no 5xx, answers conform to
the schema (status, content type, body), and every problem carries its `code`.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import CheckContext
from schemathesis.python import asgi as schemathesis_asgi

from refurb.core.lifecycle import State
from refurb.core.stages import Stage
from tests.conftest import CAST, make_settings
from tests.helpers import new_batch, new_device, new_station, signed_agreement

#: Generated requests per operation, engine and run: 90 operations on both engines take about 40 s.
EXAMPLES = 30
WHO = [*CAST, None]


@schemathesis.check
def problem_has_code(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    """A problem answer (RFC 9457) names its stable `code`."""
    if response.headers.get("content-type", [""])[0].startswith("application/problem+json"):
        body = response.json()
        assert isinstance(body.get("code"), str), f"problem without a code: {body}"
        assert body["code"], f"problem with an empty code: {body}"
    return None


async def _seed() -> list[str]:
    """Codes that exist, for path parameters: a batch, its devices, a station."""
    await signed_agreement()
    batch = await new_batch()
    codes = [batch.code]
    for state in (State.DECLARED, State.RECEIVED, State.IN_STOCK):
        codes.append((await new_device(state, batch=batch)).code)
    codes.append((await new_station(Stage.RECEPTION)).code)
    return codes


@pytest.fixture
async def seeded(database: str) -> list[str]:
    return await _seed()


def test_no_operation_answers_5xx_or_off_schema(
    database: str, tmp_path: Path, tokens: dict[str, str], seeded: list[str]
) -> None:
    from refurb.app import create_app

    app = create_app(make_settings(database, tmp_path))
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    statuses: Counter[int] = Counter()
    try:
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) > 80
        for operation in operations:
            _fuzz(operation, tokens, seeded, statuses)
    finally:
        schemathesis_asgi.shutdown_lifespans()
    assert statuses[200] > 0, statuses  # the fuzzer got past the guards and the codes
    assert statuses[404] > 0, statuses


def _fuzz(operation: Any, tokens: dict[str, str], seeded: list[str], statuses: Counter[int]) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=operation.as_strategy(),
        who=st.sampled_from(WHO),
        real_code=st.one_of(st.none(), st.sampled_from(seeded)),
    )
    def run(case: Any, who: str | None, real_code: str | None) -> None:
        if real_code is not None and case.path_parameters and "code" in case.path_parameters:
            case.path_parameters["code"] = real_code
        headers = {"authorization": f"Bearer {tokens[who]}"} if who else {}
        response = case.call(headers=headers)
        statuses[response.status_code] += 1
        case.validate_response(
            response,
            checks=[
                schemathesis.checks.not_a_server_error,
                schemathesis.checks.response_schema_conformance,
                schemathesis.checks.content_type_conformance,
                problem_has_code,
            ],
        )

    run()


def _unbounded(schema: Any, components: dict[str, Any], where: str, seen: set[str]) -> list[str]:
    """Integers without a maximum in `schema` (following references once each)."""
    if not isinstance(schema, dict):
        return []
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        return _unbounded(components[name], components, name, seen)
    found: list[str] = []
    types = schema.get("type")
    variants = [
        s.get("type") for s in schema.get("oneOf", []) + schema.get("anyOf", []) if isinstance(s, dict)
    ]
    is_integer = (
        types == "integer" or (isinstance(types, list) and "integer" in types) or "integer" in variants
    )
    bounded = "enum" in schema or "const" in schema or "maximum" in schema
    if is_integer and not bounded and all("maximum" not in s for s in schema.get("oneOf", [])):
        found.append(where)
    for name, sub in schema.get("properties", {}).items():
        found += _unbounded(sub, components, f"{where}.{name}", seen)
    for key in ("oneOf", "anyOf", "allOf"):
        for sub in schema.get(key, []):
            if sub.get("type") != "integer":
                found += _unbounded(sub, components, where, seen)
    found += _unbounded(schema.get("items"), components, f"{where}[]", seen)
    found += _unbounded(schema.get("additionalProperties"), components, f"{where}{{}}", seen)
    return found


def test_every_integer_a_client_sends_is_bounded_in_the_openapi(tmp_path: Path) -> None:
    """Paths, queries and bodies: a fuzzer and a client know the limits, and the server enforces them."""
    from refurb.app import create_app

    app = create_app(make_settings(f"sqlite:///{tmp_path / 'unused.sqlite3'}", tmp_path))
    document = app.openapi_schema.to_schema()
    components = document["components"]["schemas"]
    unbounded: list[str] = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                where = f"{method.upper()} {path} {parameter['name']}"
                unbounded += _unbounded(parameter["schema"], components, where, set())
            for content in operation.get("requestBody", {}).get("content", {}).values():
                unbounded += _unbounded(content["schema"], components, f"{method.upper()} {path} body", set())
    assert sorted(set(unbounded)) == [], "\n".join(sorted(set(unbounded)))
