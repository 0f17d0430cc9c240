"""JSON API of erasure: media, tool reports, records, reviews, policies, quality checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post, put
from litestar.enums import RequestEncodingType
from litestar.openapi import ResponseSpec
from litestar.params import Body, FromPath, JSONBody, QueryParameter
from pydantic import BaseModel, Field

from refurb.accounts import service as accounts
from refurb.accounts.guards import allow, principal_of
from refurb.core.errors import BadInput
from refurb.core.i18n import N_
from refurb.core.principal import Principal
from refurb.core.roles import SUPERVISION, WORKSHOP, Role
from refurb.erasure import certificates, kind_decisions, media, supervision, uploads
from refurb.erasure.advance import print_wiped, sanitize_ready
from refurb.erasure.schemas import (
    AttestationIn,
    AttestationOut,
    CertificateOut,
    DestructionIn,
    ErasureStatusOut,
    KindDecisionIn,
    KindReviewIn,
    ManualRecordIn,
    MediumIn,
    MediumOut,
    PolicyIn,
    PolicyOut,
    QualityCheckOut,
    QualityResultIn,
    ReportOut,
    ReviewIn,
    RevokeIn,
    SignedCertificate,
    VerificationOut,
)
from refurb.stations import service as stations
from refurb.stations.service import StationRow
from refurb.web.context import current_request_id
from refurb.web.forms import MultipartForm, download, form_text, read_files, uploaded
from refurb.web.i18n import gettext
from refurb.web.openapi import files
from refurb.web.params import RowId

__all__ = (
    "CertificateController",
    "CertificateKeysController",
    "ErasureController",
    "ErasureReportController",
    "ErasureSupervisionController",
    "VerifyController",
)

READERS = (*WORKSHOP, Role.AUDITOR, Role.COORDINATOR)
REPORT_BODY_LIMIT = uploads.MAX_REPORT_BYTES + 65_536
MAX_FOLDER_FILES = 2_000
FOLDER_BODY_LIMIT = 100 * 1024 * 1024


class RecordCreated(BaseModel):
    """A record written, and where the device stands after it."""

    record: int
    status: ErasureStatusOut
    sanitized: list[str] = Field(default_factory=list)


class KindRecorded(BaseModel):
    """A person's decision on a medium's kind, and where the device stands after it."""

    recorded: bool = Field(description="False when the medium already had this decision: nothing changed")
    status: ErasureStatusOut
    sanitized: list[str] = Field(default_factory=list)


class Attested(BaseModel):
    """The attestation, and where the device stands after it."""

    attestation: AttestationOut
    status: ErasureStatusOut
    sanitized: list[str] = Field(default_factory=list)


class AbsentIn(BaseModel):
    """Why a declared medium is not in the device."""

    reason: str = Field(min_length=3, max_length=1000)


@dataclass
class ReportUpload:
    """A report file; `device` (its D code) when the device was scanned first, `station` its S code."""

    file: Any
    device: str | None = None
    station: str | None = None


class FolderOut(BaseModel):
    """What a folder of reports became."""

    reports: list[ReportOut]
    sanitized: list[str] = Field(default_factory=list, description="Devices this upload moved to sanitized")


async def _station(code: str | None) -> StationRow | None:
    return await stations.station_ref(code) if code else None


async def _after(
    request: Request[Any, Any, Any], report: ReportOut, principal: Principal, station: StationRow | None
) -> Response[ReportOut]:
    await print_wiped(
        report.sanitized,
        principal,
        station,
        base_url=request.app.state.settings.base_url,
        request_id=current_request_id(),
    )
    return Response(report, status_code=200 if report.already_imported else 201)


class ErasureController(Controller):
    """A device's media and erasure records."""

    path = "/api/v1/devices/{code:str}"
    tags = ["erasure"]  # noqa: RUF012 - Litestar reads this class attribute
    guards = allow(*READERS)  # each route narrows it (guards of all layers apply)

    @get("/erasure", summary="The device's media and what is missing")
    async def erasure(self, request: Request[Any, Any, Any], code: FromPath[str]) -> ErasureStatusOut:
        """`ready` says whether `sanitize` would be accepted; `problems` say why not."""
        return await media.status(code, principal_of(request), gettext)

    @post("/media", summary="Add a medium found in the device", status_code=201, guards=allow(*WORKSHOP))
    async def add_medium(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: JSONBody[MediumIn]
    ) -> MediumOut:
        """It fills a medium declared without a serial, else it is added as found by a technician."""
        return await media.add_medium(code, data, principal_of(request))

    @post(
        "/media/{medium:int}/absent",
        summary="A declared medium is not in the device",
        status_code=200,
        guards=allow(*SUPERVISION),
    )
    async def absent(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        medium: RowId,
        data: JSONBody[AbsentIn],
    ) -> ErasureStatusOut:
        """Supervisors only, with the reason; a medium a tool has seen cannot be absent."""
        principal = principal_of(request)
        await media.mark_absent(code, medium, data.reason, principal)
        return await media.status(code, principal, gettext)

    @post(
        "/media/{medium:int}/kind",
        summary="Record what a medium is, having looked at it (e.g. the drive spins)",
        status_code=200,
        guards=allow(*WORKSHOP),
    )
    async def kind(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        medium: RowId,
        data: JSONBody[KindDecisionIn],
    ) -> KindRecorded:
        """For a medium of unknown type, `hdd` lets an overwrite pass.

        Refused with `medium_is_flash` where the tool's flag, the bus or the model
        proves flash; a supervisor reviews the decision later.
        """
        principal = principal_of(request)
        recorded = await kind_decisions.confirm_kind(code, medium, data, principal)
        moved = await sanitize_ready(
            [code], principal, base_url=request.app.state.settings.base_url, request_id=current_request_id()
        )
        return KindRecorded(
            recorded=recorded, status=await media.status(code, principal, gettext), sanitized=moved
        )

    async def _recorded(self, request: Request[Any, Any, Any], code: str, record: int) -> RecordCreated:
        principal = principal_of(request)
        moved = await sanitize_ready(
            [code], principal, base_url=request.app.state.settings.base_url, request_id=current_request_id()
        )
        return RecordCreated(
            record=record, status=await media.status(code, principal, gettext), sanitized=moved
        )

    @post("/erasure-records", summary="Record an erasure by hand", status_code=201, guards=allow(*WORKSHOP))
    async def manual(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: JSONBody[ManualRecordIn]
    ) -> RecordCreated:
        """For a tool whose report cannot be uploaded; `supersedes` corrects an earlier record."""
        record = await media.record_manual(code, data, principal_of(request))
        return await self._recorded(request, code, record)

    @post(
        "/destruction-records",
        summary="Record the physical destruction of a medium",
        status_code=201,
        guards=allow(*WORKSHOP),
    )
    async def destruction(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: JSONBody[DestructionIn]
    ) -> RecordCreated:
        """Method, facility, witness and the photo or video reference."""
        record = await media.record_destruction(code, data, principal_of(request))
        return await self._recorded(request, code, record)

    @post(
        "/no-media",
        summary="Attest that the device has no data-bearing media",
        status_code=201,
        guards=allow(*WORKSHOP),
    )
    async def no_media(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: JSONBody[AttestationIn]
    ) -> Attested:
        """A monitor, a 4G key: refused while media are recorded; the device is then sanitized."""
        principal = principal_of(request)
        attestation = await media.attest_no_media(code, data.note, principal)
        moved = await sanitize_ready(
            [code], principal, base_url=request.app.state.settings.base_url, request_id=current_request_id()
        )
        return Attested(
            attestation=attestation, status=await media.status(code, principal, gettext), sanitized=moved
        )


class ErasureReportController(Controller):
    """Wiping tools' reports: nwipe/ShredOS logs, Workbench snapshots, usody sanitize JSON."""

    path = "/api/v1/erasure-reports"
    tags = ["erasure"]  # noqa: RUF012
    guards = allow(*READERS)

    @post(
        "/",
        summary="Upload a report (multipart)",
        guards=allow(*WORKSHOP),
        opt={"raw_body": True},
        request_max_body_size=REPORT_BODY_LIMIT,
    )
    async def upload(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[ReportUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[ReportOut]:
        """201 with the records made; the same file again answers 200 `already_imported` and changes nothing.

        Media are matched by serial: `device` names the device scanned first (media it has no record of
        are added to it); without it, each drive is matched to the medium with its serial.
        """
        principal = principal_of(request)
        file = uploaded(data.file)
        station = await _station(data.station)
        report = await uploads.import_report(
            await file.read(),
            file.filename or "",
            principal,
            device_code=data.device or None,
            station_id=station.id if station else None,
        )
        return await _after(request, report, principal, station)

    @post(
        "/folder",
        summary="Upload several reports at once (multipart, repeated `file`)",
        status_code=201,
        guards=allow(*WORKSHOP),
        opt={"raw_body": True},
        request_max_body_size=FOLDER_BODY_LIMIT,
    )
    async def upload_folder(
        self,
        request: Request[Any, Any, Any],
        data: MultipartForm,
    ) -> Response[FolderOut]:
        """A USB stick of Workbench snapshots or ShredOS logs; a file Refurb cannot read refuses them all.

        201 when something new was imported, 200 when every file was known already.
        """
        principal = principal_of(request)
        files = await read_files(data.get("file"))
        if len(files) > MAX_FOLDER_FILES:
            raise BadInput(
                N_("At most {limit} files at once."), code="too_many_files", limit=MAX_FOLDER_FILES
            )
        station = await _station(form_text(data, "station"))
        reports = await uploads.import_reports(
            files,
            principal,
            device_code=form_text(data, "device"),
            station_id=station.id if station else None,
        )
        fresh = [r for r in reports if not r.already_imported]
        moved = sorted({code for r in fresh for code in r.sanitized})
        await print_wiped(
            moved,
            principal,
            station,
            base_url=request.app.state.settings.base_url,
            request_id=current_request_id(),
        )
        return Response(FolderOut(reports=reports, sanitized=moved), status_code=201 if fresh else 200)

    @put(
        "/",
        summary="Send a report as the raw body (ShredOS http_post_url)",
        status_code=201,
        guards=allow(*WORKSHOP),
        opt={"raw_body": True},
        request_max_body_size=REPORT_BODY_LIMIT,
    )
    async def put_raw(
        self,
        request: Request[Any, Any, Any],
        device: Annotated[str | None, QueryParameter()] = None,
        station: Annotated[str | None, QueryParameter()] = None,
        filename: Annotated[str | None, QueryParameter()] = None,
    ) -> Response[ReportOut]:
        """For `wget --method PUT --body-file=<log>`: ShredOS sets no header, so `?token=` carries it."""
        principal = principal_of(request)
        bench = await _station(station)
        report = await uploads.import_report(
            await request.body(),
            filename or "nwipe.log",
            principal,
            device_code=device,
            station_id=bench.id if bench else None,
        )
        return await _after(request, report, principal, bench)

    @get("/", summary="The latest reports")
    async def list_reports(
        self, status: Annotated[list[str] | None, QueryParameter()] = None
    ) -> list[ReportOut]:
        """`status=unmatched` or `partial` lists what still needs a person."""
        return await uploads.list_reports(status=status or ())

    @get("/{report:int}", summary="One report and what it became")
    async def get_report(self, report: RowId) -> ReportOut:
        """Its records, devices, unmatched media with the reason, and problems."""
        return await uploads.get_report(report)

    @get("/{report:int}/raw", summary="The report exactly as uploaded", opt=files("application/octet-stream"))
    async def raw(self, report: RowId) -> Response[bytes]:
        """The stored bytes; their SHA-256 is the report's `sha256`."""
        name, content = await uploads.report_content(report)
        return download(content, name, "application/octet-stream")


class ErasureSupervisionController(Controller):
    """Reviews of records with warnings, quality-control draws, policies."""

    path = "/api/v1/erasure"
    tags = ["erasure"]  # noqa: RUF012
    guards = allow(*SUPERVISION)

    @get("/reviews", summary="Records waiting for a supervisor")
    async def reviews(self) -> list[supervision.PendingReview]:
        """Oldest first."""
        return await supervision.pending_reviews()

    @post("/records/{record:int}/review", summary="Approve or reject a record", status_code=200)
    async def review(
        self, request: Request[Any, Any, Any], record: RowId, data: JSONBody[ReviewIn]
    ) -> RecordCreated:
        """Once per record; an approved record then counts like any other."""
        principal = principal_of(request)
        code = await supervision.review(record, data, principal)
        moved = await sanitize_ready(
            [code], principal, base_url=request.app.state.settings.base_url, request_id=current_request_id()
        )
        return RecordCreated(
            record=record, status=await media.status(code, principal, gettext), sanitized=moved
        )

    @get("/kind-decisions", summary="Technicians' decisions on media kinds waiting for a review")
    async def pending_kinds(self) -> list[kind_decisions.PendingKindDecision]:
        """Oldest first; each already counts until a supervisor revokes it."""
        return await kind_decisions.pending_kind_decisions()

    @post(
        "/kind-decisions/{decision:int}/review",
        summary="Approve or revoke a technician's decision on a medium's kind",
        status_code=200,
    )
    async def review_kind(
        self, request: Request[Any, Any, Any], decision: RowId, data: JSONBody[KindReviewIn]
    ) -> ErasureStatusOut:
        """Once per decision; a revoked one makes the medium's type uncertain again."""
        principal = principal_of(request)
        code = await kind_decisions.review_kind(decision, data, principal)
        return await media.status(code, principal, gettext)

    @post("/quality-checks/draw", summary="Draw this week's quality-control sample", status_code=200)
    async def draw(
        self, request: Request[Any, Any, Any], week: Annotated[str | None, QueryParameter()] = None
    ) -> list[QualityCheckOut]:
        """The policy's share (5 % by default, at least one) of the media logically erased that week."""
        return await supervision.draw(week, principal_of(request))

    @get("/quality-checks", summary="Quality-control checks of a week")
    async def checks(self, week: Annotated[str | None, QueryParameter()] = None) -> list[QualityCheckOut]:
        """The current week by default."""
        return await supervision.checks(week)

    @post("/quality-checks/{check:int}", summary="Record a re-verification", status_code=200)
    async def result(
        self, request: Request[Any, Any, Any], check: RowId, data: JSONBody[QualityResultIn]
    ) -> QualityCheckOut:
        """By someone other than the operator; a failure puts the batch on hold."""
        return await supervision.record_result(check, data, principal_of(request))

    @post("/quality-checks/{check:int}/resolve", summary="Settle a failed check", status_code=200)
    async def resolve(
        self, request: Request[Any, Any, Any], check: RowId, data: JSONBody[AbsentIn]
    ) -> QualityCheckOut:
        """Once the media are re-wiped or destroyed: the batch is released; `reason` says what was done."""
        return await supervision.resolve(check, data.reason, principal_of(request))

    @get("/policies/{organisation:str}", summary="An organisation's erasure policy")
    async def policy(self, organisation: FromPath[str]) -> PolicyOut:
        """Without its own rules, the safe default."""
        org_id = await accounts.organisation_id(organisation)
        return await media.get_policy(org_id, organisation)

    @put(
        "/policies/{organisation:str}",
        summary="Set an organisation's erasure policy",
        guards=allow(Role.ADMIN),
    )
    async def set_policy(self, organisation: FromPath[str], data: JSONBody[PolicyIn]) -> PolicyOut:
        """Stricter than the default is allowed; flash below Purge is refused."""
        org_id = await accounts.organisation_id(organisation)
        return await media.set_policy(org_id, organisation, data)


class CertificateIn(BaseModel):
    """What to certify: a batch (every device through erasure) or one device."""

    batch: str | None = None
    device: str | None = None


class CertificateController(Controller):
    """Signed erasure certificates: issue, list, download, revoke; the public keys."""

    path = "/api/v1/certificates"
    tags = ["certificates"]  # noqa: RUF012
    guards = allow()

    @post(
        "/",
        summary="Issue a certificate for a batch or a device",
        status_code=201,
        guards=allow(*certificates.ISSUERS),
    )
    async def issue(self, request: Request[Any, Any, Any], data: JSONBody[CertificateIn]) -> CertificateOut:
        """A batch only once every device is sanitized (or beyond), recycled with media destroyed, or missing.

        Asking again with nothing changed returns the certificate in force; a change issues a new version.
        """
        principal = principal_of(request)
        if bool(data.batch) == bool(data.device):
            raise BadInput(N_("Name either a batch or a device."), code="batch_or_device")
        if data.batch:
            return await certificates.issue_for_batch(data.batch, principal)
        return await certificates.issue_for_device(str(data.device), principal)

    @get("/", summary="Certificates of a batch or a device")
    async def list_certificates(
        self,
        request: Request[Any, Any, Any],
        batch: Annotated[str | None, QueryParameter()] = None,
        device: Annotated[str | None, QueryParameter()] = None,
    ) -> list[CertificateOut]:
        """A donor sees its own only."""
        return await certificates.list_certificates(principal_of(request), batch=batch, device=device)

    @get("/{code:str}", summary="One certificate")
    async def get_certificate(self, request: Request[Any, Any, Any], code: FromPath[str]) -> CertificateOut:
        """Another donor's certificate is a 404."""
        return await certificates.get_certificate(code, principal_of(request))

    @get("/{code:str}/pdf", summary="The certificate as issued (PDF)", opt=files("application/pdf"))
    async def pdf(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Response[bytes]:
        """Byte for byte what was issued; its SHA-256 is `pdf_sha256`."""
        return _file(await certificates.document(code, principal_of(request), "pdf"))

    @get(
        "/{code:str}/json",
        summary="The signed certificate (JSON)",
        media_type="application/json",
        responses={
            200: ResponseSpec(SignedCertificate, description="RFC 8785 bytes", media_type="application/json")
        },
    )
    async def signed_json(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Response[bytes]:
        """`{"certificate": …, "signature": {"alg": "EdDSA", "key_id": …, "value": …}}`, RFC 8785 bytes."""
        return _file(await certificates.document(code, principal_of(request), "json"))

    @post(
        "/{code:str}/revoke",
        summary="Revoke a certificate",
        status_code=200,
        guards=allow(*certificates.REVOKERS),
    )
    async def revoke(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: JSONBody[RevokeIn]
    ) -> CertificateOut:
        """With the reason; `reissue` returns the new version, else the revoked one."""
        return await certificates.revoke(code, data.reason, principal_of(request), reissue=data.reissue)


def _file(found: tuple[str, bytes, str]) -> Response[bytes]:
    name, content, media_type = found
    return download(content, name, media_type, inline=True)


class CertificateKeysController(Controller):
    """The public half of the signing keys, for anyone verifying offline."""

    path = "/api/v1/certificates/keys"
    tags = ["certificates"]  # noqa: RUF012
    opt = {"public": True}  # noqa: RUF012

    @get("/", summary="Public keys that verify our certificates (JWK set)")
    async def keys(self) -> dict[str, list[dict[str, str]]]:
        """Ed25519 keys as OKP JWKs; `kid` is the `key_id` a certificate's signature names."""
        return {"keys": certificates.public_keys()}


class VerifyController(Controller):
    """Public verification: anyone, no login."""

    path = "/api/v1/verify"
    tags = ["certificates"]  # noqa: RUF012
    opt = {"public": True}  # noqa: RUF012

    @get("/{code:str}", summary="A certificate's public status")
    async def status(self, code: FromPath[str]) -> VerificationOut:
        """Valid / superseded / revoked, issue date, issuer, counts; never serials nor names."""
        return await certificates.verify_code(code)

    @post(
        "/",
        summary="Is this certificate (JSON or PDF) authentic and unchanged?",
        status_code=200,
        opt={"raw_body": True},
        request_max_body_size=certificates.MAX_VERIFY_BYTES,
    )
    async def check(self, request: Request[Any, Any, Any]) -> VerificationOut:
        """Send the file as the raw body; `authentic` false comes with a `reason`."""
        return await certificates.verify_document(await request.body())
