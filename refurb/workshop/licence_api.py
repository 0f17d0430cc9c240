"""JSON API of licences: pools, key imports, assigning (the one-time reveal), unassigning, the report."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, JSONBody, QueryParameter

from refurb.accounts.guards import allow, principal_of
from refurb.core.errors import BadInput
from refurb.core.i18n import N_
from refurb.core.roles import SUPERVISION, Role
from refurb.devices.api import IdempotencyKey
from refurb.web.context import current_request_id
from refurb.web.forms import download
from refurb.web.i18n import gettext
from refurb.web.openapi import files
from refurb.web.params import OptionalQueryId, RowId
from refurb.web.spreadsheet import csv_bytes
from refurb.workshop import key_files, licences
from refurb.workshop.licence_schemas import (
    AssignIn,
    KeyImportOut,
    LicenceOut,
    PoolIn,
    PoolOut,
    PoolPatch,
    ReportRow,
    UnassignIn,
)

__all__ = ("LicenceController", "LicencePoolController", "read_key_upload", "report_csv")

LICENSERS = (Role.TECHNICIAN, *SUPERVISION)
REPORT_READERS = (*SUPERVISION, Role.COORDINATOR, Role.AUDITOR)
KEY_BODY_LIMIT = key_files.MAX_KEY_FILE_BYTES + 65_536
NO_STORE = {"cache-control": "no-store"}
REPORT_COLUMNS = (
    ("display_code", N_("Device")),
    ("pool", N_("Pool")),
    ("os", N_("OS")),
    ("licence_type", N_("Licence type")),
    ("programme", N_("Programme")),
    ("coa", N_("COA")),
    ("assigned_at", N_("Licensed on")),
    ("household", N_("Household")),
    ("handed_over_at", N_("Handed over on")),
    ("unassigned_at", N_("Unassigned on")),
    ("unassign_reason", N_("Unassign reason")),
)


async def read_key_upload(request: Request[Any, Any, Any]) -> bytes:
    """The key file: a multipart `file` field, or the raw body (text/csv)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise BadInput(
                N_("Attach the file in the `file` field (multipart/form-data)."), code="file_required"
            )
        return await file.read()
    return await request.body()


def _cell(value: Any, tz: datetime.tzinfo) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.astimezone(tz).strftime("%d/%m/%Y %H:%M")
    return str(value)


def report_csv(rows: list[ReportRow], tz: datetime.tzinfo) -> bytes:
    """`;`-separated with a UTF-8 BOM and day-first dates: opens as a table in a French Excel."""
    return csv_bytes(
        [gettext(title) for _, title in REPORT_COLUMNS],
        (
            [_cell(values[name], tz) for name, _ in REPORT_COLUMNS]
            for values in (r.model_dump() for r in rows)
        ),
    )


class LicencePoolController(Controller):
    """Licence pools and their keys; supervisors and admins."""

    path = "/api/v1/licence-pools"
    tags = ["licences"]  # noqa: RUF012 - Litestar reads this class attribute
    guards = allow(*SUPERVISION)

    @get("/", summary="Licence pools with their counts (never a key)")
    async def list_pools(self) -> list[PoolOut]:
        """`low`: a keyed pool with fewer available keys than `low_stock`; `expired` past `expires_on`."""
        return await licences.list_pools()

    @post("/", summary="Create a pool", status_code=201)
    async def create(self, data: JSONBody[PoolIn]) -> PoolOut:
        """A free OS is `needs_key: false` (no keys, usually no cost); a taken name is `pool_name_taken`."""
        return await licences.create_pool(data)

    @patch("/{pool_id:int}", summary="Change a pool")
    async def update(self, pool_id: RowId, data: JSONBody[PoolPatch]) -> PoolOut:
        """Only the fields given change; `needs_key` cannot."""
        return await licences.update_pool(pool_id, data)

    @post(
        "/{pool_id:int}/keys",
        summary="Import keys from a CSV (raw text/csv body or multipart `file`)",
        opt={"raw_body": True},
        request_max_body_size=KEY_BODY_LIMIT,
    )
    async def import_keys(
        self,
        request: Request[Any, Any, Any],
        pool_id: RowId,
        dry_run: Annotated[bool, QueryParameter()] = False,
    ) -> Response[KeyImportOut]:
        """All or nothing: any wrong row answers 422 `licence_import_has_errors` with `report.errors`.

        A header with a `key` column (or `clé`, `product key`, `licence key`), or one key per line;
        `,` `;` or tab; UTF-8 (with or without BOM) or Windows-1252. Duplicates within the file
        (`duplicate_in_file`) and already imported keys (`duplicate_in_database`) are named by row
        number only. 201 when imported, 200 for `dry_run=true`. 503 `licence_key_missing` without
        REFURB_LICENCE_KEY.
        """
        report = await licences.import_keys(pool_id, await read_key_upload(request), dry_run=dry_run)
        return Response(report, status_code=200 if dry_run else 201)


class LicenceController(Controller):
    """Licensing devices, taking licences back, and the licence report."""

    path = "/api/v1/licences"
    tags = ["licences"]  # noqa: RUF012 - Litestar reads this class attribute

    @post("/", summary="License a device (the key is in the answer, once)", guards=allow(*LICENSERS))
    async def assign(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[AssignIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[LicenceOut]:
        """201 with `key` (null for a free OS): it is never readable again. The device becomes `licensed`.

        Already licensed: 200 `key: null`. Refusals: `pool_empty`, `pool_expired`, `pool_inactive`,
        `licence_already_assigned` (a device holding another pool's licence), `invalid_transition`.
        """
        assigned = await licences.assign(
            data.device,
            data.pool,
            data.coa,
            principal_of(request),
            request_id=current_request_id(),
            idempotency_key=idempotency_key,
        )
        recorded = assigned.transition.outcome == "recorded"
        return Response(assigned.licence, status_code=201 if recorded else 200, headers=NO_STORE)

    @delete(
        "/{device:str}",
        summary="Take a device's licence back",
        guards=allow(*SUPERVISION),
        status_code=204,
        opt={"raw_body": True},
    )
    async def unassign(self, request: Request[Any, Any, Any], device: FromPath[str]) -> None:
        """Body `{"reason": …, "void": false}`: the key goes back to the pool, or is burned with `void`."""
        try:
            data = UnassignIn.model_validate_json(await request.body() or b"{}")
        except ValueError:
            raise BadInput(N_("Say why the licence is taken back."), code="reason_required") from None
        await licences.unassign(device, data.reason, principal_of(request), void=data.void)

    @get(
        "/report",
        summary="Licences given: device, pool, COA, dates, household",
        guards=allow(*REPORT_READERS),
        opt=files("application/json", "text/csv"),
    )
    async def report(
        self,
        request: Request[Any, Any, Any],
        pool: OptionalQueryId = None,
        format: Annotated[str, QueryParameter()] = "json",
    ) -> Response[Any]:
        """`format=csv`: `;`-separated, UTF-8 with BOM, for Excel and the refurbisher programme."""
        rows = await licences.report(pool_id=pool)
        if format == "csv":
            return download(report_csv(rows, request.app.state.settings.tzinfo), "licences.csv", "text/csv")
        return Response(rows)
