"""Wiping tools' reports: stored unchanged, recognised by sha256, parsed into records matched by serial."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from refurb.core.aliases import is_placeholder_serial, normal_serial
from refurb.core.errors import BadInput, Forbidden, NotFound
from refurb.core.i18n import N_
from refurb.core.lifecycle import State
from refurb.core.principal import Principal
from refurb.core.roles import WORKSHOP
from refurb.db import (
    UNIQUE_VIOLATIONS,
    chunked,
    fetch,
    insert_many,
    is_sqlite,
    json_value,
    update_many,
    write_transaction,
)
from refurb.devices import service as devices
from refurb.devices.service import DeviceRow
from refurb.erasure.advance import sanitize_passing
from refurb.erasure.kinds import FLASH, decide_kind
from refurb.erasure.policy import categorise, is_anonymised
from refurb.erasure.records import RECORD_COLUMNS, NewRecord, record_hash, record_row
from refurb.erasure.reports import ParsedMedium, ParsedReport, ReportFormatError, parse_report
from refurb.erasure.schemas import ReportOut
from refurb.erasure.tables import ErasureReport
from refurb.timestamps import utcnow

__all__ = (
    "MAX_REPORT_BYTES",
    "get_report",
    "import_report",
    "import_reports",
    "list_reports",
    "report_content",
)

MAX_REPORT_BYTES = 10 * 1024 * 1024
UPLOADERS = WORKSHOP


_REFUSALS = {
    "serial_missing": N_("the report gives no serial for this medium"),
    "serial_anonymised": N_("the serial is anonymised (nwipe -q): such reports are refused"),
    "serial_on_other_device": N_("this serial belongs to a medium of another device"),
    "no_device": N_("no device has a medium with this serial: scan the device, then upload again"),
    "device_not_received": N_("the device is not at the erasure stage"),
    "tool_error": N_(
        "nwipe reported INSANITY: its own state was inconsistent, so this run proves nothing — "
        "wipe the drive again"
    ),
}
_DESCRIBED = (
    "kind",
    "tool_kind",
    "kind_basis",
    "interface",
    "manufacturer",
    "model",
    "serial",
    "capacity_bytes",
    "detected",
)
_REPORT_COLUMNS_SQL = (
    "sha256",
    "format",
    "filename",
    "content",
    "size",
    "tool",
    "tool_version",
    "status",
    "problems",
    "unmatched",
    "device",
    "uploaded_by",
    "uploader_name",
    "station",
    "created_at",
    "updated_at",
)
_MEDIUM_COLUMNS_SQL = ("device", "source", *_DESCRIBED, "created_at", "updated_at")


@dataclass(slots=True)
class _Upload:
    """One file of an upload, and what it becomes."""

    content: bytes
    filename: str
    sha256: str
    parsed: ParsedReport
    host: DeviceRow | None = None
    records: list[NewRecord] = field(default_factory=list)
    media_keys: list[Any] = field(default_factory=list)  # per record: a medium id, or a new medium
    serials: list[str | None] = field(default_factory=list)  # per record: the medium's serial
    devices: list[tuple[int, str]] = field(default_factory=list)  # per record: (device id, code)
    unmatched: list[dict[str, Any]] = field(default_factory=list)

    @property
    def described_device(self) -> int | None:
        """The device whose hardware the report describes: its host, else the one all its drives belong to."""
        if self.host is not None:
            return self.host.id
        owners = {device for device, _ in self.devices}
        return owners.pop() if len(owners) == 1 else None

    @property
    def status(self) -> str:
        if self.records and not self.unmatched and not self.parsed.problems:
            return "matched"
        return "partial" if self.records else "unmatched"


@dataclass(slots=True)
class _NewMedium:
    """A medium first seen in a report, inserted with the records that need it."""

    device_id: int
    values: tuple[Any, ...]
    id: int | None = None


def _gib(size: int | None) -> str:
    return f"{size / 1e9:.0f} GB" if size else ""


def _tool_kind(known: str, new: str) -> str:
    """What the tools have said of a medium over its reports: a flash flag is never forgotten."""
    if known in FLASH:
        return known
    if new in FLASH:
        return new
    return new or known


def _described(parsed: ParsedMedium, serial: str, known: Mapping[str, Any] | None = None) -> tuple[Any, ...]:
    """The medium's described columns (`_DESCRIBED`) after this report, its kind decided again."""
    known = known or {}
    tool_kind = _tool_kind(known.get("tool_kind") or "", parsed.tool_kind)
    model = parsed.model[:200] or known.get("model") or ""
    declared, confirmed = known.get("declared_kind") or "", known.get("confirmed_kind") or ""
    decided = decide_kind(tool_kind, model, declared, confirmed)
    return (
        decided.kind,
        tool_kind,
        decided.basis,
        parsed.interface[:20] or known.get("interface") or "",
        parsed.manufacturer[:100] or known.get("manufacturer") or "",
        model,
        serial,
        parsed.capacity_bytes if parsed.capacity_bytes is not None else known.get("capacity_bytes"),
        True,
    )


def _changed(known: Mapping[str, Any], values: tuple[Any, ...]) -> bool:
    return any(known.get(column) != value for column, value in zip(_DESCRIBED, values, strict=True))


class _Media:
    """The media an upload can touch, read once and locked; what placing drives changes in them."""

    def __init__(
        self, by_serial: dict[str, dict[str, Any]], by_device: dict[int, list[dict[str, Any]]]
    ) -> None:
        self.by_serial = by_serial
        self.by_device = by_device
        self.updates: dict[int, tuple[Any, ...]] = {}  # medium id → described values
        self.created: list[_NewMedium] = []

    @classmethod
    async def load(cls, serials: set[str], hosts: set[int]) -> _Media:
        lock = "" if is_sqlite() else " FOR UPDATE OF m"
        select = "SELECT m.* FROM medium m WHERE m.absent_reason IS NULL AND "
        rows: list[dict[str, Any]] = []
        for chunk in chunked(sorted(serials)):
            marks = ", ".join("{}" for _ in chunk)
            rows += await fetch(select + f"m.serial IN ({marks}) ORDER BY m.id" + lock, *chunk)
        for chunk in chunked(sorted(hosts)):
            marks = ", ".join("{}" for _ in chunk)
            rows += await fetch(select + f"m.device IN ({marks}) ORDER BY m.id" + lock, *chunk)
        owners = await devices.device_refs([row["device"] for row in rows])
        by_serial: dict[str, dict[str, Any]] = {}
        by_device: dict[int, list[dict[str, Any]]] = {host: [] for host in hosts}
        seen: set[int] = set()
        for row in rows:
            owner = owners[row["device"]][0]
            row = {**row, "device_code": owner.code, "device_state": owner.state.value}
            if row["serial"] is not None:
                row = by_serial.setdefault(row["serial"], row)
            if row["device"] in hosts and row["id"] not in seen:
                by_device[row["device"]].append(row)
            seen.add(row["id"])
        return cls(by_serial, by_device)

    def place(self, parsed: ParsedMedium, host: DeviceRow | None) -> tuple[Any, str, str]:
        """Where a drive of the report goes: (medium id or new medium, review reason, refusal)."""
        serial = normal_serial(parsed.serial or "")
        if is_anonymised(serial):
            return None, "", "serial_anonymised"
        if not serial or is_placeholder_serial(serial):
            return None, "", "serial_missing"
        known = self.by_serial.get(serial)
        if known is not None:
            if host is not None and known["device"] != host.id:
                return None, "", "serial_on_other_device"
            values = _described(parsed, serial, known)
            if _changed(known, values):
                self.updates[known["id"]] = values
                known.update(zip(_DESCRIBED, values, strict=True))
            return known["id"], "", ""
        if host is None:
            return None, "", "no_device"
        media = self.by_device.setdefault(host.id, [])
        slot = next((m for m in media if m["serial"] is None and m["source"] == "declared"), None)
        declared = any(m["serial"] and m["source"] == "declared" for m in media)
        review = "serial_mismatch" if declared else ""
        if slot is not None:
            values = _described(parsed, serial, slot)
            slot.update(zip(_DESCRIBED, values, strict=True))
            self.by_serial[serial] = slot
            self.updates[slot["id"]] = values
            return slot["id"], review, ""
        values = _described(parsed, serial)
        new = _NewMedium(host.id, values)
        self.created.append(new)
        row = {
            **dict(zip(_DESCRIBED, values, strict=True)),
            "id": new,
            "device": host.id,
            "source": "detected",
            "device_state": host.state.value,
            "device_code": host.code,
        }
        self.by_serial[serial] = row
        media.append(row)
        return new, review, ""

    async def save(self, now: Any) -> None:
        """Write what placing changed: described media, then new ones (their ids fill the records)."""
        await update_many(
            "medium",
            "id",
            (*_DESCRIBED, "updated_at"),
            [(key, *values, now) for key, values in self.updates.items()],
        )
        if self.created:
            rows = [(m.device_id, "detected", *m.values, now, now) for m in self.created]
            ids = await insert_many("medium", _MEDIUM_COLUMNS_SQL, rows, returning="id")
            for medium, row in zip(self.created, ids, strict=True):
                medium.id = row["id"]


async def _plan(upload: _Upload, media: _Media, principal: Principal, station_id: int | None) -> None:
    """Decide every record and refusal of one report, before anything is written."""
    report, host = upload.parsed, upload.host
    erased = {normal_serial(e.medium.serial or "") for e in report.erasures}
    if host is not None:
        for parsed in report.detected:
            if normal_serial(parsed.serial or "") not in erased:
                media.place(parsed, host)  # seen, not erased: the sheet shows it as missing
    for erasure in report.erasures:
        key, review, refusal = media.place(erasure.medium, host)
        label = {
            "serial": erasure.medium.serial,
            "model": erasure.medium.model,
            "path": erasure.medium.device_path,
        }
        if key is None:
            upload.unmatched.append({**label, "reason": refusal, "message": _REFUSALS[refusal]})
            continue
        row = media.by_serial[normal_serial(erasure.medium.serial or "")]
        if erasure.result == "tool_error":
            upload.unmatched.append({**label, "reason": "tool_error", "message": _REFUSALS["tool_error"]})
            continue
        if row["device_state"] != State.RECEIVED.value:
            upload.unmatched.append(
                {
                    **label,
                    "reason": "device_not_received",
                    "device": row["device_code"],
                    "message": _REFUSALS["device_not_received"],
                }
            )
            continue
        upload.records.append(
            NewRecord(
                medium_id=0,
                device_id=row["device"],
                category=categorise(erasure.technique, erasure.result),
                technique=erasure.technique,
                result=erasure.result,
                method_label=erasure.method_label,
                passes=erasure.passes,
                pattern=erasure.pattern,
                verification=erasure.verification,
                verification_result=erasure.verification_result,
                tool=erasure.tool or report.tool,
                tool_version=erasure.tool_version or report.tool_version,
                started_at=erasure.started_at,
                ended_at=erasure.ended_at,
                bytes_erased=erasure.bytes_erased,
                bytes_total=erasure.bytes_total,
                errors=dict(erasure.errors),
                hpa_dco=erasure.hpa_dco,
                serial_seen=erasure.medium.serial,
                warnings=tuple(erasure.warnings),
                details=dict(erasure.details),
                review=review or ("warnings" if erasure.warnings or erasure.errors.get("retries") else ""),
                operator_id=principal.user_id,
                operator_name=principal.name,
                station_id=station_id,
            )
        )
        upload.media_keys.append(key)
        upload.serials.append(row["serial"])
        upload.devices.append((row["device"], row["device_code"]))


def _hardware(upload: _Upload) -> tuple[int, str, str, str] | None:
    hw, device = upload.parsed.hardware, upload.described_device
    if hw is None or device is None:
        return None
    ram = f"{round(hw.ram_bytes / 2**30)} GB" if hw.ram_bytes else ""
    storage = " + ".join(filter(None, (_gib(d.capacity_bytes) for d in hw.disks)))
    return device, hw.cpu, ram, storage


async def _write(
    uploads_: list[_Upload], principal: Principal, station_id: int | None, *, sanitize: bool
) -> dict[str, ReportOut]:
    """Store the reports, media, records and hardware inside the caller's write transaction.

    With `sanitize`, the devices whose media now all pass move to sanitized in
    the same transaction: one round of locks and reads instead of two.
    """
    now = utcnow()
    hosts = {u.host.id for u in uploads_ if u.host is not None}
    serials = {
        normal_serial(m.serial or "")
        for u in uploads_
        for m in (*u.parsed.detected, *(e.medium for e in u.parsed.erasures))
    } - {""}
    out: dict[str, ReportOut] = {}
    media = await _Media.load(serials, hosts)
    for upload in uploads_:
        await _plan(upload, media, principal, station_id)
    await media.save(now)
    reports = await insert_many(
        "erasure_report",
        _REPORT_COLUMNS_SQL,
        [
            (
                u.sha256,
                u.parsed.format,
                u.filename[:255],
                u.content,
                len(u.content),
                u.parsed.tool[:40],
                u.parsed.tool_version[:40],
                u.status,
                json.dumps(list(u.parsed.problems)),
                json.dumps(u.unmatched),
                u.host.id if u.host else None,
                principal.user_id,
                principal.name[:80],
                station_id,
                now,
                now,
            )
            for u in uploads_
        ],
        returning="id, sha256",
    )
    ids = {row["sha256"]: row["id"] for row in reports}
    rows = []
    for upload in uploads_:
        for record, key, serial, (_, code) in zip(
            upload.records, upload.media_keys, upload.serials, upload.devices, strict=True
        ):
            medium_id = key.id if isinstance(key, _NewMedium) else key
            record = replace(record, medium_id=medium_id, report_id=ids[upload.sha256])
            digest = record_hash(record, device_code=code, medium_serial=serial, report_sha256=upload.sha256)
            rows.append(record_row(record, digest, now))
    written = await insert_many("erasure_record", RECORD_COLUMNS, rows, returning="id, report")
    await devices.set_hardware([h for h in map(_hardware, uploads_) if h is not None])
    touched = sorted({code for upload in uploads_ for _, code in upload.devices})
    moved = set(await sanitize_passing(touched, principal, station_id=station_id)) if sanitize else set()
    by_report: dict[int, list[int]] = {}
    for row in written:
        by_report.setdefault(row["report"], []).append(row["id"])
    for upload in uploads_:
        report_id = ids[upload.sha256]
        out[upload.sha256] = ReportOut(
            id=report_id,
            sha256=upload.sha256,
            format=upload.parsed.format,
            filename=upload.filename[:255],
            size=len(upload.content),
            tool=upload.parsed.tool,
            tool_version=upload.parsed.tool_version,
            status=upload.status,
            problems=list(upload.parsed.problems),
            unmatched=upload.unmatched,
            records=sorted(by_report.get(report_id, [])),
            devices=sorted({c for _, c in upload.devices}),
            uploaded_by=principal.name,
            created_at=now,
            sanitized=sorted(moved & {c for _, c in upload.devices}),
        )
    return out


async def _report_outs(rows: list[Mapping[str, Any]], *, already: bool = False) -> list[ReportOut]:
    found: dict[int, list[Mapping[str, Any]]] = {row["id"]: [] for row in rows}
    ids = list(found)
    for chunk in chunked(ids):
        records = await fetch(
            "SELECT r.id, r.report, r.device FROM erasure_record r "  # noqa: S608
            f"WHERE r.report IN ({', '.join('{}' for _ in chunk)}) ORDER BY r.id",
            *chunk,
        )
        codes = await devices.codes_of("device", [record["device"] for record in records])
        for record in records:
            found[record["report"]].append({**record, "code": codes[record["device"]]})
    return [
        ReportOut(
            id=row["id"],
            sha256=row["sha256"],
            format=row["format"],
            filename=row["filename"],
            size=row["size"],
            tool=row["tool"],
            tool_version=row["tool_version"],
            status=row["status"],
            problems=json_value(row["problems"], []),
            unmatched=json_value(row["unmatched"], []),
            records=[r["id"] for r in found[row["id"]]],
            devices=sorted({r["code"] for r in found[row["id"]]}),
            already_imported=already,
            uploaded_by=row["uploader_name"],
            created_at=row["created_at"],
        )
        for row in rows
    ]


_REPORT_COLUMNS = tuple(c for c in ErasureReport._meta.columns if c._meta.name != "content")


async def _by_shas(shas: Sequence[str]) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    wanted = sorted(set(shas))
    for chunk in chunked(wanted):
        for row in await ErasureReport.select(*_REPORT_COLUMNS).where(ErasureReport.sha256.is_in(chunk)):
            found[row["sha256"]] = row
    return found


def _read(content: bytes, filename: str) -> ParsedReport:
    if not content:
        raise BadInput(N_("{name}: the report is empty."), code="report_empty", name=filename[:80] or "?")
    if len(content) > MAX_REPORT_BYTES:
        raise BadInput(
            N_("{name}: the report is larger than {limit} MiB."),
            code="report_too_large",
            name=filename[:80] or "?",
            limit=MAX_REPORT_BYTES // 2**20,
        )
    try:
        return parse_report(content, filename)
    except ReportFormatError as error:
        raise BadInput(
            N_("{name} is not a report Refurb can read: {why}"),
            code=error.code,
            name=filename[:80] or "?",
            why=error.message,
        ) from None


async def _hosts(uploads_: list[_Upload], device: DeviceRow | None) -> None:
    """The device each report is about: the one scanned first, else the one whose serial it gives."""
    if device is not None:
        for upload in uploads_:
            upload.host = device
        return
    serials = [normal_serial(u.parsed.host_serial or "") for u in uploads_]
    known = await devices.find_by_serials(
        [s for s in serials if s and not is_placeholder_serial(s)], lock=True
    )
    for upload, serial in zip(uploads_, serials, strict=True):
        upload.host = known.get(serial)


async def import_reports(
    files: Sequence[tuple[bytes, str]],
    principal: Principal,
    *,
    device_code: str | None = None,
    station_id: int | None = None,
    sanitize: bool = True,
) -> list[ReportOut]:
    """Store, parse and match reports, a whole folder at once; known bytes answer with their first import.

    Any file Refurb cannot read refuses the whole upload and stores nothing.
    With `sanitize`, the devices whose media all pass now move to sanitized.
    """
    if principal.role not in UPLOADERS:
        raise Forbidden(N_("Only workshop staff upload wiping reports."))
    if not files:
        raise BadInput(
            N_("Attach the report in the `file` field (multipart/form-data)."), code="file_required"
        )
    shas = [hashlib.sha256(content).hexdigest() for content, _ in files]
    try:
        async with write_transaction():
            existing = await _by_shas(shas)
            fresh: dict[str, _Upload] = {}
            for (content, filename), sha in zip(files, shas, strict=True):
                if sha not in existing and sha not in fresh:
                    fresh[sha] = _Upload(content, filename, sha, _read(content, filename))
            # the hosts are locked: two reports about one machine are matched one after the other
            device = await devices.device_ref(device_code, principal, lock=True) if device_code else None
            await _hosts(list(fresh.values()), device)
            written = (
                await _write(list(fresh.values()), principal, station_id, sanitize=sanitize) if fresh else {}
            )
    except UNIQUE_VIOLATIONS:  # the same report, uploaded at the same moment by another station
        return await import_reports(
            files, principal, device_code=device_code, station_id=station_id, sanitize=sanitize
        )
    earlier = {o.sha256: o for o in await _report_outs(list(existing.values()), already=True)}
    return [earlier.get(sha) or written[sha] for sha in shas]


async def import_report(
    content: bytes,
    filename: str,
    principal: Principal,
    *,
    device_code: str | None = None,
    station_id: int | None = None,
) -> ReportOut:
    """One report: stored, parsed and matched; the same bytes twice answer with the first import."""
    return (
        await import_reports([(content, filename)], principal, device_code=device_code, station_id=station_id)
    )[0]


async def get_report(report_id: int) -> ReportOut:
    """One uploaded report and what it became."""
    row = await ErasureReport.select(*_REPORT_COLUMNS).where(ErasureReport.id == report_id).first()
    if row is None:
        raise NotFound(N_("No report #{report} is known."), report=report_id)
    return (await _report_outs([row]))[0]


async def report_content(report_id: int) -> tuple[str, bytes]:
    """The report exactly as uploaded."""
    row = (
        await ErasureReport.select(ErasureReport.filename, ErasureReport.content)
        .where(ErasureReport.id == report_id)
        .first()
    )
    if row is None:
        raise NotFound(N_("No report #{report} is known."), report=report_id)
    return row["filename"] or f"report-{report_id}.txt", bytes(row["content"])


async def list_reports(*, status: Sequence[str] = (), limit: int = 50) -> list[ReportOut]:
    """The latest reports, the unmatched first when asked."""
    query = ErasureReport.select(*_REPORT_COLUMNS).order_by(ErasureReport.id, ascending=False).limit(limit)
    if status:
        query = query.where(ErasureReport.status.is_in(list(status)))
    return await _report_outs(await query)
