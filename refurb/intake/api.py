"""JSON API of donor intake: agreements, batches, manifests, collection, reconciliation."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody, QueryParameter
from pydantic import BaseModel

from refurb.accounts import service as accounts
from refurb.accounts.guards import allow, principal_of
from refurb.core.errors import BadInput
from refurb.core.i18n import N_
from refurb.core.kinds import DeviceKind
from refurb.core.principal import Principal
from refurb.core.roles import Role
from refurb.devices import service as devices
from refurb.intake import agreements, collection, imports, reconciliation
from refurb.intake import service as batches
from refurb.intake.manifest import FIELDS
from refurb.intake.schemas import (
    AgreementIn,
    AgreementOut,
    BatchIn,
    BatchOut,
    BatchPatch,
    BatchState,
    CloseIn,
    CollectionIn,
    ImportReport,
    ReconciliationOut,
    ScheduleIn,
)
from refurb.web.context import current_request_id
from refurb.web.forms import download, uploaded
from refurb.web.openapi import files
from refurb.web.params import RowId

__all__ = ("AgreementController", "BatchController")

AGREEMENT_BODY_LIMIT = agreements.MAX_DOCUMENT_BYTES + 65_536
MANIFEST_BODY_LIMIT = imports.MANIFEST_MAX_BYTES + 65_536


class AgreementStatus(BaseModel):
    """The terms in force and the donor's signed agreement, if any."""

    terms_version: str
    agreement: AgreementOut | None


class StaffAgreementIn(AgreementIn):
    """Staff signing on a donor's behalf name the donor organisation."""

    donor: str | None = None


@dataclass
class AgreementUpload:
    """A donation agreement signed on paper, scanned to PDF."""

    file: UploadFile
    signatory_name: str
    signed_on: datetime.date
    signatory_title: str = ""
    donor: str | None = None


@dataclass
class ManifestUpload:
    """A manifest file and how to read it. `map_<field>` names the column of a field ("" to ignore one)."""

    file: UploadFile
    mode: str = "dry_run"
    profile: str | None = None
    default_kind: str | None = None
    map_serial: str | None = None
    map_asset_tag: str | None = None
    map_kind: str | None = None
    map_manufacturer: str | None = None
    map_model: str | None = None
    map_cpu: str | None = None
    map_ram: str | None = None
    map_storage: str | None = None
    map_disks: str | None = None
    map_disk_serials: str | None = None


async def donor_of(principal: Principal, donor: str | None) -> int:
    """A donor's own organisation; staff name the donor they act for."""
    if principal.role is Role.DONOR:
        return principal.organisation_id
    if not donor:
        raise BadInput(N_("Name the donor organisation."), code="donor_required")
    return await accounts.donor_organisation(donor)


def import_options(form: ManifestUpload | dict[str, Any]) -> imports.ImportOptions:
    """The reading options of an upload form, checked."""
    values = form if isinstance(form, dict) else form.__dict__
    mode = str(values.get("mode") or "dry_run")
    if mode not in ("dry_run", "all", "valid_only"):
        raise BadInput(
            N_("'{mode}' is not an import mode (dry_run, all, valid_only)."), code="bad_mode", mode=mode[:20]
        )
    kind_text = values.get("default_kind") or None
    try:
        default_kind = DeviceKind(kind_text) if kind_text else None
    except ValueError:
        raise BadInput(
            N_("'{kind}' is not a kind of device."), code="bad_kind", kind=str(kind_text)[:40]
        ) from None
    overrides = {f: str(values[f"map_{f}"]) for f in FIELDS if values.get(f"map_{f}") is not None}
    return imports.ImportOptions(
        mode=mode,  # type: ignore[arg-type]
        profile=values.get("profile") or None,
        overrides=overrides,
        default_kind=default_kind,
    )


class AgreementController(Controller):
    """Donation agreements: read, sign in the portal, upload a signed PDF."""

    path = "/api/v1/agreements"
    tags = ["intake"]  # noqa: RUF012 - Litestar reads this class attribute
    guards = allow(Role.DONOR, Role.COORDINATOR, Role.ADMIN, Role.SUPERVISOR, Role.DRIVER, Role.AUDITOR)

    @get("/current", summary="The donor's agreement in force")
    async def current(
        self, request: Request[Any, Any, Any], donor: Annotated[str | None, QueryParameter()] = None
    ) -> AgreementStatus:
        """`agreement` is null until the donor signs; staff pass `donor`."""
        donor_id = await donor_of(principal_of(request), donor)
        return AgreementStatus(
            terms_version=agreements.TERMS_VERSION, agreement=await agreements.current_agreement(donor_id)
        )

    @post("/", summary="Sign the donation agreement", status_code=201)
    async def sign(self, request: Request[Any, Any, Any], data: JSONBody[StaffAgreementIn]) -> AgreementOut:
        """A typed name and `accept: true` for the `terms_version` shown (see `/current`)."""
        principal = principal_of(request)
        return await agreements.sign(await donor_of(principal, data.donor), data, principal)

    @post(
        "/upload",
        summary="Upload an agreement signed on paper (PDF)",
        status_code=201,
        opt={"raw_body": True},
        request_max_body_size=AGREEMENT_BODY_LIMIT,
    )
    async def upload(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[AgreementUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> AgreementOut:
        """multipart/form-data; the PDF is kept with its SHA-256."""
        principal = principal_of(request)
        file = uploaded(data.file)
        return await agreements.upload(
            await donor_of(principal, data.donor),
            file.file,
            file.filename,
            signatory_name=data.signatory_name,
            signatory_title=data.signatory_title,
            signed_on=data.signed_on,
            principal=principal,
        )

    @get("/{agreement_id:int}/document", summary="The signed PDF", opt=files("application/pdf"))
    async def document(self, request: Request[Any, Any, Any], agreement_id: RowId) -> Response[bytes]:
        """The uploaded file, as it was uploaded."""
        name, content = await agreements.document(agreement_id, principal_of(request))
        return download(content, name, "application/pdf", inline=True)


class BatchController(Controller):
    """Donor batches from draft to closed."""

    path = "/api/v1/batches"
    tags = ["intake"]  # noqa: RUF012
    guards = allow()

    @get("/", summary="List batches")
    async def list_batches(
        self,
        request: Request[Any, Any, Any],
        state_filter: Annotated[BatchState | None, QueryParameter(name="state")] = None,
    ) -> list[BatchOut]:
        """A donor sees its own; newest first."""
        return await batches.list_batches(
            principal_of(request), states=[state_filter] if state_filter else None
        )

    @post("/", summary="Register a batch", status_code=201)
    async def create(self, request: Request[Any, Any, Any], data: JSONBody[BatchIn]) -> BatchOut:
        """A draft with a fresh B code; staff name the `donor`."""
        return await batches.create_for(data, principal_of(request))

    @get("/{code:str}", summary="One batch")
    async def get_batch(self, request: Request[Any, Any, Any], code: FromPath[str]) -> BatchOut:
        """Another donor's batch is a 404."""
        return await batches.get_batch(code, principal_of(request))

    @patch("/{code:str}", summary="Change what a batch says")
    async def update(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: JSONBody[BatchPatch]
    ) -> BatchOut:
        """Until it is collected."""
        return await batches.update_batch(code, data, principal_of(request))

    @post("/{code:str}/submit", summary="Submit a batch for pickup", status_code=200)
    async def submit(self, request: Request[Any, Any, Any], code: FromPath[str]) -> BatchOut:
        """Needs the pickup address and devices (counts or a manifest); submitting twice changes nothing."""
        principal = principal_of(request)
        batch = await batches.get_batch(code, principal)
        return await batches.submit(code, principal, await devices.counts_by_batch(batch.id))

    @post("/{code:str}/schedule", summary="Set the pickup date", status_code=200)
    async def schedule(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: JSONBody[ScheduleIn]
    ) -> BatchOut:
        """Coordinators and supervisors; it can be moved until the pickup."""
        return await batches.schedule(code, data.pickup_date, principal_of(request))

    @post(
        "/{code:str}/manifest",
        summary="Check or import the donor's asset list (CSV or XLSX)",
        opt={"raw_body": True},
        request_max_body_size=MANIFEST_BODY_LIMIT,
    )
    async def manifest(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: Annotated[ManifestUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[ImportReport]:
        """Modes: `dry_run` (200, nothing changes), `all`, `valid_only` (201).

        `all` with any error row answers 422 `manifest_has_errors` and imports nothing; `valid_only`
        skips the rows with errors. CSV (`,` `;` tab; UTF-8, BOM, Windows-1252) or XLSX; GLPI,
        Snipe-IT or generic columns, recognised from the header (`profile` forces one). At most 20 MiB.
        """
        options = import_options(data)
        file = uploaded(data.file)
        report = await imports.import_manifest(
            code,
            file.file,
            file.filename or "",
            options,
            principal_of(request),
            request_id=current_request_id(),
        )
        return Response(report, status_code=200 if options.mode == "dry_run" else 201)

    @post("/{code:str}/collection", summary="Record the pickup", status_code=201)
    async def collect(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: JSONBody[CollectionIn]
    ) -> Response[BatchOut]:
        """Drivers: counts per kind, seals, signer, vehicle. Needs the donor's signed agreement.

        Every declared device becomes `collected`; counts that differ from the manifest are kept as the
        batch's `discrepancy`. Sending the same collection again answers 200 and changes nothing.
        """
        outcome, batch = await collection.record_collection(
            code, data, principal_of(request), request_id=current_request_id()
        )
        return Response(batch, status_code=201 if outcome == "recorded" else 200)

    @get("/{code:str}/reconciliation", summary="Declared, collected, received, not in manifest, missing")
    async def reconciliation(self, request: Request[Any, Any, Any], code: FromPath[str]) -> ReconciliationOut:
        """Per device kind; frozen once the batch is closed."""
        return await reconciliation.reconciliation(code, principal_of(request))

    @post("/{code:str}/close", summary="Close a batch", status_code=200)
    async def close(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: JSONBody[CloseIn]
    ) -> ReconciliationOut:
        """Supervisors: devices never received become `missing` with the reason; the numbers freeze."""
        return await reconciliation.close_batch(code, data.reason, principal_of(request))
