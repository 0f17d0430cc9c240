"""Importing a donor's manifest into a batch: check it, then import all of it, or its valid rows.

The file is read in chunks in a worker thread (memory stays flat) and written
in bulk. Rows are matched to the donor's devices by serial, then asset tag: a
re-import updates them and never duplicates. "all" is one transaction that is
rolled back at the first error (the report still lists every problem).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, Literal

from refurb.core.codes import parse_code
from refurb.core.errors import BadInput, DomainError
from refurb.core.i18n import N_, fill
from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import State
from refurb.core.principal import Principal
from refurb.db import fetch, is_sqlite, write_transaction
from refurb.devices import service as devices
from refurb.erasure import service as erasure
from refurb.intake import service as batches
from refurb.intake.manifest import ManifestError, ManifestRow, Problem, Reader, read_manifest
from refurb.intake.schemas import BatchState, ImportReport, ProblemOut
from refurb.intake.tables import Batch, ManifestImport
from refurb.web.i18n import gettext

__all__ = ("MANIFEST_MAX_BYTES", "ImportOptions", "ManifestRefused", "import_manifest", "last_import")

MANIFEST_MAX_BYTES = 20 * 1024 * 1024
CHUNK_ROWS = 1000
MAX_REPORTED_PROBLEMS = 1000
Mode = Literal["dry_run", "all", "valid_only"]
# Devices whose manifest line may still change what we know of them.
UPDATABLE = frozenset({State.DECLARED, State.COLLECTED})


class ManifestRefused(DomainError):
    """The manifest has errors and the user asked to import all of it: nothing was imported."""

    code = "manifest_has_errors"


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """What the user chose: mode, export profile, column overrides, kind for rows without one."""

    mode: Mode = "dry_run"
    profile: str | None = None
    overrides: Mapping[str, str] = field(default_factory=dict)
    default_kind: DeviceKind | None = None


@dataclass(slots=True)
class _Tally:
    rows: int = 0
    invalid_rows: int = 0
    warnings: int = 0
    created: int = 0
    updated: int = 0
    problems: list[ProblemOut] = field(default_factory=list)
    problems_total: int = 0
    last_row: int = 0
    last_invalid: int = 0

    def see(self, row: int) -> None:
        if row != self.last_row:
            self.rows += 1
            self.last_row = row

    def add(self, problem: Problem) -> None:
        self.see(problem.row)
        self.problems_total += 1
        if problem.severity == "warning":
            self.warnings += 1
        elif self.last_invalid != problem.row:
            self.invalid_rows += 1
            self.last_invalid = problem.row
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            self.problems.append(
                ProblemOut(
                    row=problem.row,
                    column=problem.column,
                    code=problem.code,
                    message=fill(problem.message, problem.params, gettext),
                    severity=problem.severity,
                )
            )


class _Index:
    """The donor's devices by serial and by asset tag, and which this file already designated."""

    def __init__(self, known: list[devices.DonorDevice], batch_codes: Mapping[int, str]) -> None:
        self.serials = {d.serial: d for d in known if d.serial}
        self.tags = {d.asset_tag: d for d in known if d.asset_tag}
        self.batch_codes = batch_codes
        self.claimed: dict[int, int] = {}

    def match(self, row: ManifestRow, batch_id: int, reader: Reader) -> tuple[Problem | None, Any]:
        """(problem, device): the row's device if it exists, or the reason it cannot be imported."""
        by_serial = self.serials.get(row.serial) if row.serial else None
        by_tag = self.tags.get(row.asset_tag) if row.asset_tag else None
        column = reader.mapping.column_name if reader.mapping else (lambda _: None)
        if by_serial and by_tag and by_serial.id != by_tag.id:
            message = N_("Serial {serial} is {device}, but asset tag {tag} is {other}: correct one of them.")
            params = {
                "serial": row.serial,
                "device": _display(by_serial.code),
                "tag": row.asset_tag,
                "other": _display(by_tag.code),
            }
            return Problem(row.row, column("serial"), "alias_conflict", message, params), None
        found = by_serial or by_tag
        if found is None:
            return None, None
        if found.batch_id != batch_id:
            message = N_("{value} is already declared in batch {batch} (device {device}).")
            value = row.serial if by_serial else row.asset_tag
            params = {
                "value": value,
                "batch": _display(self.batch_codes.get(found.batch_id, "?")),
                "device": _display(found.code),
            }
            where = column("serial" if by_serial else "asset_tag")
            return Problem(row.row, where, "in_other_batch", message, params), None
        first = self.claimed.setdefault(found.id, row.row)
        if first != row.row:
            message = N_("This row designates the same device ({device}) as row {first}.")
            params = {"device": _display(found.code), "first": first}
            return Problem(row.row, column("serial"), "duplicate_device", message, params), None
        if found.state not in UPDATABLE:
            message = N_("{device} is already {state}: this line leaves it as it is.")
            params = {"device": _display(found.code), "state": found.state}
            return Problem(row.row, column("serial"), "already_received", message, params, "warning"), found
        return None, found


def _display(code: str) -> str:
    try:
        return parse_code(code).display
    except DomainError:
        return code


def _take(iterator: Iterator[ManifestRow | Problem], count: int) -> list[ManifestRow | Problem]:
    return list(itertools.islice(iterator, count))


async def _chunks(reader: Reader) -> AsyncIterator[list[ManifestRow | Problem]]:
    """The reader's items, a thousand at a time, parsed off the event loop.

    The next chunk is parsed while the caller writes this one to the database.
    """
    iterator = iter(reader)
    following = asyncio.ensure_future(asyncio.to_thread(_take, iterator, CHUNK_ROWS))
    try:
        while items := await following:
            following = asyncio.ensure_future(asyncio.to_thread(_take, iterator, CHUNK_ROWS))
            yield items
    finally:
        if not following.done():
            await asyncio.wait([following])  # the thread holds the file: let it finish


def _digest(file: IO[bytes]) -> tuple[str, int]:
    file.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := file.read(1 << 16):
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    return digest.hexdigest(), size


def _bad_file(error: ManifestError) -> BadInput:
    return BadInput(error.message, code=error.code, **error.params)


async def _lock_editable(batch: batches.BatchOut) -> None:
    """Inside the import's transaction: the batch is still open to manifest changes (and stays so)."""
    lock = "" if is_sqlite() else " FOR UPDATE"
    rows = await fetch(f"SELECT state FROM batch WHERE id = {{}}{lock}", batch.id)  # noqa: S608
    if BatchState(rows[0]["state"]) not in batches.EDITABLE:
        raise batches.refuse_state(
            batch.model_copy(update={"state": BatchState(rows[0]["state"])}),
            N_("Batch {ref} is {state}: its manifest can no longer change."),
        )


async def import_manifest(
    batch_code: str,
    file: IO[bytes],
    filename: str,
    options: ImportOptions,
    principal: Principal,
    *,
    request_id: str | None = None,
) -> ImportReport:
    """Check a manifest (dry run) or import it; the report says what was (or would be) done.

    Mode "all" with any error imports nothing and raises `ManifestRefused`
    carrying the report; "valid_only" imports the rows without errors.
    """
    batch = await batches.get_batch(batch_code, principal)
    batches.may_edit(principal)
    if batch.state not in batches.EDITABLE:
        raise batches.refuse_state(batch, N_("Batch {ref} is {state}: its manifest can no longer change."))
    sha256, size = await asyncio.to_thread(_digest, file)
    if size == 0:
        raise BadInput(N_("The file is empty."), code="empty_file")
    try:
        reader = await asyncio.to_thread(
            read_manifest,
            file,
            profile=options.profile,
            overrides=options.overrides,
            default_kind=options.default_kind,
        )
    except ManifestError as error:
        raise _bad_file(error) from None
    tally = _Tally()
    actor = devices.Actor.of(principal)
    writing = options.mode != "dry_run"
    refused = False
    try:
        async with write_transaction() if writing else contextlib.nullcontext():
            if writing:
                await _lock_editable(batch)
                if not is_sqlite():  # one import per donor at a time: matching by serial spans its batches
                    lock = f"manifest:{batch.donor_id}"
                    await fetch("SELECT pg_advisory_xact_lock(hashtext({}))", lock)
            # read what the donor already has only now, under the locks: two imports of one file at
            # the same moment (two replicas) must not both see "new" and both create
            known = await devices.donor_devices(batch.donor_id)
            codes = {
                r["id"]: r["code"]
                for r in await Batch.select(Batch.id, Batch.code).where(Batch.donor == batch.donor_id)
            }
            index = _Index(known, codes)
            async for items in _chunks(reader):
                creates: list[ManifestRow] = []
                updates: list[tuple[int, ManifestRow]] = []
                for item in items:
                    if isinstance(item, Problem):
                        tally.add(item)
                        continue
                    problem, found = index.match(item, batch.id, reader)
                    tally.see(item.row)
                    if problem is not None:  # an error, or a device already received: nothing to write
                        tally.add(problem)
                        continue
                    if found is None:
                        creates.append(item)
                    else:
                        updates.append((found.id, item))
                tally.created += len(creates)
                tally.updated += len(updates)
                if writing and not (options.mode == "all" and tally.invalid_rows):
                    await _write(batch.id, batch.donor_id, creates, updates, reader, actor, request_id)
            if options.mode == "all" and tally.invalid_rows:
                refused = True
                raise _Rollback
    except _Rollback:
        pass
    except ManifestError as error:
        raise _bad_file(error) from None
    status = "refused" if refused else ("imported" if writing else "checked")
    report = await _record(batch, reader, tally, options, status, filename, sha256, size, principal)
    if refused:
        raise ManifestRefused(
            N_(
                "{count} rows have errors: nothing was imported. Correct them, or import the valid rows only."
            ),
            count=tally.invalid_rows,
            extra={"report": report.model_dump(mode="json")},
        )
    return report


class _Rollback(Exception):
    """Leaves the import's transaction so that it rolls back."""


async def _write(
    batch_id: int,
    donor_id: int,
    creates: list[ManifestRow],
    updates: list[tuple[int, ManifestRow]],
    reader: Reader,
    actor: devices.Actor,
    request_id: str | None,
) -> None:
    def described(row: ManifestRow, in_manifest: bool = True) -> devices.NewDevice:
        return devices.NewDevice(
            kind=row.kind,
            manufacturer=row.manufacturer,
            model=row.model,
            serial=row.serial,
            asset_tag=row.asset_tag,
            cpu=row.cpu,
            ram=row.ram,
            storage=row.storage,
            in_manifest=in_manifest,
        )

    created = await devices.register_many(
        [described(r) for r in creates],
        batch_id=batch_id,
        donor_id=donor_id,
        actor=actor,
        request_id=request_id,
    )
    await devices.update_descriptions([(device_id, described(r)) for device_id, r in updates])
    await erasure.add_declared_media([
        erasure.DeclaredMedia(device_id, row.disks, row.disk_serials, row.storage)
        for (device_id, _), row in zip(created, creates, strict=True)
        if row.disks or row.disk_serials
    ])  # fmt: skip
    assert reader.mapping is not None
    if {"disks", "disk_serials"} & set(reader.mapping.columns):  # the file speaks of disks: it is the truth
        await erasure.declare_media(
            [erasure.DeclaredMedia(i, r.disks, r.disk_serials, r.storage) for i, r in updates]
        )


async def _record(
    batch: batches.BatchOut,
    reader: Reader,
    tally: _Tally,
    options: ImportOptions,
    status: str,
    filename: str,
    sha256: str,
    size: int,
    principal: Principal,
) -> ImportReport:
    """Keep a trace of the upload (refused ones too) and build the report."""
    mapping = reader.mapping
    columns = {f: mapping.names[i] for f, i in mapping.columns.items()} if mapping else {}
    imported = status == "imported"
    invalid = tally.invalid_rows
    valid = tally.rows - invalid
    async with write_transaction():
        rows = await ManifestImport.insert(
            ManifestImport(
                batch=batch.id,
                user=principal.user_id,
                filename=filename[-255:],
                sha256=sha256,
                size=size,
                format=reader.dialect.format,
                encoding=reader.dialect.encoding,
                delimiter=reader.dialect.delimiter,
                profile=mapping.profile if mapping else "",
                mapping=columns,
                mode=options.mode,
                status=status,
                rows=tally.rows,
                valid=valid,
                invalid=invalid,
                created_devices=tally.created if imported else 0,
                updated_devices=tally.updated if imported else 0,
                problems=[p.model_dump() for p in tally.problems],
            )
        ).returning(ManifestImport.id, ManifestImport.created_at)
    return ImportReport(
        id=rows[0]["id"],
        batch=batch.code,
        filename=filename,
        sha256=sha256,
        size=size,
        format=reader.dialect.format,
        encoding=reader.dialect.encoding,
        delimiter=reader.dialect.delimiter,
        profile=mapping.profile if mapping else "",
        header_row=mapping.header_row if mapping else 0,
        mapping=columns,
        columns=[n for n in mapping.names if n] if mapping else [],
        mode=options.mode,
        status=status,  # type: ignore[arg-type]
        rows=tally.rows,
        valid=valid,
        invalid=invalid,
        warnings=tally.warnings,
        created=tally.created,
        updated=tally.updated,
        problems=tally.problems,
        problems_total=tally.problems_total,
        created_at=rows[0]["created_at"],
    )


async def last_import(batch_id: int) -> dict[str, Any] | None:
    """The latest import that changed the batch, for its page."""
    return (
        await ManifestImport.select(
            ManifestImport.id,
            ManifestImport.filename,
            ManifestImport.created_at,
            ManifestImport.rows,
            ManifestImport.created_devices,
            ManifestImport.updated_devices,
            ManifestImport.user.username,
        )
        .where((ManifestImport.batch == batch_id) & (ManifestImport.status == "imported"))
        .order_by(ManifestImport.id, ascending=False)
        .first()
    )
