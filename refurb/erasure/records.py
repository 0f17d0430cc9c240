"""Erasure records: written once, hashed, superseded by corrections, read back with their reviews."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import rfc8785

from refurb.db import chunked, fetch, insert_many, json_value
from refurb.devices import service as devices
from refurb.erasure.policy import RecordFacts
from refurb.erasure.schemas import RecordOut

__all__ = (
    "RECORD_COLUMNS",
    "NewRecord",
    "current_facts",
    "insert_record",
    "record_hash",
    "record_row",
    "records_of",
)

RECORD_COLUMNS = (
    "medium",
    "device",
    "report",
    "supersedes",
    "category",
    "technique",
    "method_label",
    "passes",
    "pattern",
    "verification",
    "verification_result",
    "tool",
    "tool_version",
    "started_at",
    "ended_at",
    "bytes_erased",
    "bytes_total",
    "errors",
    "result",
    "hpa_dco",
    "serial_seen",
    "warnings",
    "details",
    "review",
    "operator",
    "operator_name",
    "station",
    "record_hash",
    "created_at",
    "updated_at",
)


@dataclass(frozen=True, slots=True)
class NewRecord:
    """A record about to be written; `record_hash` seals exactly these facts."""

    medium_id: int
    device_id: int
    category: str
    technique: str
    result: str
    method_label: str = ""
    passes: int | None = None
    pattern: str = ""
    verification: str = "unknown"
    verification_result: str = "unknown"
    tool: str = ""
    tool_version: str = ""
    started_at: datetime.datetime | None = None
    ended_at: datetime.datetime | None = None
    bytes_erased: int | None = None
    bytes_total: int | None = None
    errors: Mapping[str, int] = field(default_factory=dict)
    hpa_dco: str = ""
    serial_seen: str | None = None
    warnings: Sequence[str] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    review: str = ""
    report_id: int | None = None
    supersedes: int | None = None
    operator_id: int | None = None
    operator_name: str = ""
    station_id: int | None = None


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def record_hash(
    record: NewRecord, *, device_code: str, medium_serial: str | None, report_sha256: str | None
) -> str:
    """SHA-256 of the canonical JSON of the facts: the annex of a certificate cites it."""
    facts = asdict(record)
    facts.update(device=device_code, medium_serial=medium_serial, report_sha256=report_sha256)
    return hashlib.sha256(rfc8785.dumps(_jsonable(facts))).hexdigest()


def record_row(record: NewRecord, digest: str, now: datetime.datetime) -> tuple[Any, ...]:
    """The values of RECORD_COLUMNS for one record."""
    return (
        record.medium_id,
        record.device_id,
        record.report_id,
        record.supersedes,
        record.category,
        record.technique,
        record.method_label[:120],
        record.passes,
        record.pattern[:40],
        record.verification,
        record.verification_result,
        record.tool[:40],
        record.tool_version[:40],
        record.started_at,
        record.ended_at,
        record.bytes_erased,
        record.bytes_total,
        json.dumps(dict(record.errors)),
        record.result,
        record.hpa_dco[:20],
        record.serial_seen,
        json.dumps(list(record.warnings)),
        json.dumps(_jsonable(dict(record.details))),
        record.review[:60],
        record.operator_id,
        record.operator_name[:80],
        record.station_id,
        digest,
        now,
        now,
    )


async def insert_record(record: NewRecord, digest: str, now: datetime.datetime) -> int:
    """Write one record inside the caller's write transaction; its id."""
    rows = await insert_many(
        "erasure_record", RECORD_COLUMNS, [record_row(record, digest, now)], returning="id"
    )
    return rows[0]["id"]


_SELECT = """
SELECT r.*, v.decision AS review_decision, p.sha256 AS report_sha256,
       EXISTS (SELECT 1 FROM erasure_record s WHERE s.supersedes = r.id) AS superseded
FROM erasure_record r
LEFT JOIN erasure_review v ON v.record = r.id
LEFT JOIN erasure_report p ON p.id = r.report
WHERE r.medium IN ({marks})
ORDER BY r.id"""


def _out(row: Mapping[str, Any], device_codes: Mapping[int, str]) -> RecordOut:
    return RecordOut(
        id=row["id"],
        medium_id=row["medium"],
        device=device_codes[row["device"]],
        category=row["category"],
        technique=row["technique"],
        method_label=row["method_label"],
        passes=row["passes"],
        pattern=row["pattern"],
        verification=row["verification"],
        verification_result=row["verification_result"],
        tool=row["tool"],
        tool_version=row["tool_version"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        bytes_erased=row["bytes_erased"],
        bytes_total=row["bytes_total"],
        errors=json_value(row["errors"], {}),
        result=row["result"],
        hpa_dco=row["hpa_dco"],
        serial_seen=row["serial_seen"],
        warnings=json_value(row["warnings"], []),
        details=json_value(row["details"], {}),
        review=row["review"],
        review_decision=row["review_decision"],
        operator=row["operator_name"],
        report_sha256=row["report_sha256"],
        supersedes=row["supersedes"],
        superseded=bool(row["superseded"]),
        record_hash=row["record_hash"],
        created_at=row["created_at"],
    )


async def records_of(medium_ids: Sequence[int]) -> dict[int, list[RecordOut]]:
    """Every record of these media, oldest first, superseded ones included (the history)."""
    found: dict[int, list[RecordOut]] = {medium: [] for medium in medium_ids}
    ids = list(medium_ids)
    for chunk in chunked(ids):
        rows = await fetch(_SELECT.format(marks=", ".join("{}" for _ in chunk)), *chunk)
        codes = await devices.codes_of("device", [row["device"] for row in rows])
        for row in rows:
            found[row["medium"]].append(_out(row, codes))
    return found


def current_facts(records: Sequence[RecordOut]) -> list[RecordFacts]:
    """What a verdict weighs: the records no correction has replaced."""
    return [
        RecordFacts(
            id=r.id,
            category=r.category,
            technique=r.technique,
            result=r.result,
            verification=r.verification,
            verification_result=r.verification_result,
            bytes_erased=r.bytes_erased,
            bytes_total=r.bytes_total,
            errors=r.errors,
            hpa_dco=r.hpa_dco,
            serial_seen=r.serial_seen,
            review=r.review,
            review_decision=r.review_decision,
        )
        for r in records
        if not r.superseded
    ]
