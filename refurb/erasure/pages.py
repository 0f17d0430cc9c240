"""The erasure station page and the public /verify pages.

The station page works by scanning alone: the scan input keeps focus, a
device's media show what is missing, and a report dropped on the page is
imported at once. Forms post and redirect; a refused one is shown again
with its message and status.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect
from pydantic import ValidationError

from refurb.accounts.guards import allow, principal_of
from refurb.core.codes import CodeType, parse_code
from refurb.core.errors import BadInput, DomainError
from refurb.core.i18n import N_
from refurb.core.roles import SUPERVISION, WORKSHOP
from refurb.erasure import certificates, kind_decisions, media, supervision, uploads
from refurb.erasure.advance import print_wiped, sanitize_ready
from refurb.erasure.api import FOLDER_BODY_LIMIT
from refurb.erasure.schemas import (
    AttestationIn,
    DestructionIn,
    KindDecisionIn,
    KindReviewIn,
    ManualRecordIn,
    MediumIn,
    QualityResultIn,
    ReviewIn,
)
from refurb.stations import service as stations
from refurb.web.context import current_request_id
from refurb.web.forms import Form, MultipartForm, blank, form_error, form_text, read_files, uploaded
from refurb.web.i18n import gettext
from refurb.web.params import RowId
from refurb.web.render import page

__all__ = ("ErasurePages", "SupervisionPages", "VerifyPages")

#: Values the templates translate: medium sources, report and record outcomes, certificate statuses.
WORDS = (
    N_("declared"),
    N_("detected"),
    N_("technician"),
    N_("new"),
    N_("matched"),
    N_("partial"),
    N_("unmatched"),
    N_("unreadable"),
    N_("success"),
    N_("failed"),
    N_("aborted"),
    N_("unknown"),
    N_("valid"),
    N_("superseded"),
    N_("revoked"),
)
DONE = {
    "report": N_("Report imported."),
    "report_again": N_("This report was already imported: nothing changed."),
    "medium": N_("Medium added."),
    "kind": N_("Recorded: the drive is a spinning hard disk."),
    "record": N_("Record saved."),
    "no_media": N_("Recorded: this device has no data-bearing media."),
    "sanitized": N_("Every medium passes: the device is now sanitized."),
    "certificate": N_("Certificate issued."),
}


def _sheet_url(code: str | None, station: str | None, **extra: str) -> str:
    query = {k: v for k, v in {"code": code or "", "station": station or "", **extra}.items() if v}
    return "/erasure" + ("?" + urlencode(query) if query else "")


class ErasurePages(Controller):
    """The erasure station: scan, see the media, upload, record, certify."""

    path = "/erasure"
    include_in_schema = False
    guards = allow(*WORKSHOP)

    async def _render(
        self,
        request: Request[Any, Any, Any],
        code: str | None,
        station: str | None,
        *,
        status_code: int = 200,
        error: str | None = None,
        notice: str | None = None,
        reports: list[Any] | None = None,
    ) -> Response[Any]:
        principal = principal_of(request)
        sheet = None
        device_certificates: list[Any] = []
        if code:
            try:
                sheet = await media.status(code, principal, gettext)
                device_certificates = await certificates.list_certificates(principal, device=sheet.device)
            except DomainError as failure:
                error, status_code = form_error(failure)
                code = None
        return page(
            request,
            "erasure/station.html",
            status_code=status_code,
            sheet=sheet,
            code=sheet.device if sheet else "",
            station=station or "",
            stations=[s for s in await stations.list_stations() if s.stage == "erasure"],
            certificates=device_certificates,
            error=error,
            notice=notice,
            reports=reports or [],
            pending=await uploads.list_reports(status=("unmatched", "partial"), limit=10),
            now=datetime.datetime.now(tz=datetime.UTC),
        )

    @get("/")
    async def sheet(
        self,
        request: Request[Any, Any, Any],
        code: Annotated[str | None, QueryParameter()] = None,
        station: Annotated[str | None, QueryParameter()] = None,
        done: Annotated[str | None, QueryParameter()] = None,
    ) -> Response[Any]:
        """Scan a device (its D code, typed or scanned) to see its media."""
        notice = gettext(DONE[done]) if done in DONE else None
        text = (code or "").strip()
        if text:
            try:
                text = parse_code(text, expected=CodeType.DEVICE).compact
            except DomainError as failure:
                message, status = form_error(failure)
                return await self._render(request, None, station, status_code=status, error=message)
        return await self._render(request, text or None, station, notice=notice)

    async def _step(
        self, request: Request[Any, Any, Any], code: str, station: str | None, step: Any, done: str
    ) -> Response[Any]:
        try:
            result = await step()
        except (DomainError, ValidationError) as failure:
            message, status = form_error(failure)
            return await self._render(request, code, station, status_code=status, error=message)
        if result:
            done = "sanitized"
        return Redirect(path=_sheet_url(parse_code(code).compact, station, done=done), status_code=303)

    async def _advance(
        self, request: Request[Any, Any, Any], codes: list[str], station: str | None
    ) -> list[str]:
        bench = await stations.station_ref(station) if station else None
        return await sanitize_ready(
            codes,
            principal_of(request),
            station=bench,
            base_url=request.app.state.settings.base_url,
            request_id=current_request_id(),
        )

    @post("/report", request_max_body_size=FOLDER_BODY_LIMIT, status_code=303)
    async def report(
        self,
        request: Request[Any, Any, Any],
        data: MultipartForm,
    ) -> Response[Any]:
        """Reports dropped on the page, for the device on screen (or matched by their serials)."""
        principal = principal_of(request)
        code = form_text(data, "device")
        station = form_text(data, "station")
        try:
            files = await read_files(data.get("file"))
            bench = await stations.station_ref(station) if station else None
            outcomes = await uploads.import_reports(
                files, principal, device_code=code, station_id=bench.id if bench else None
            )
            moved = sorted({c for o in outcomes if not o.already_imported for c in o.sanitized})
            await print_wiped(
                moved,
                principal,
                bench,
                base_url=request.app.state.settings.base_url,
                request_id=current_request_id(),
            )
        except (DomainError, ValidationError) as failure:
            message, status = form_error(failure)
            return await self._render(request, code, station, status_code=status, error=message)
        if len(outcomes) > 1 or any(o.unmatched or o.problems for o in outcomes) or not code:
            devices_seen = sorted({c for o in outcomes for c in o.devices})
            shown = code or (devices_seen[0] if len(devices_seen) == 1 else None)
            return await self._render(request, shown, station, status_code=200, reports=outcomes)
        done = "sanitized" if moved else "report_again" if outcomes[0].already_imported else "report"
        return Redirect(path=_sheet_url(code, station, done=done), status_code=303)

    @post("/{code:str}/media", status_code=303)
    async def add_medium(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: Form
    ) -> Response[Any]:
        """A medium the technician found in the device."""
        station = form_text(data, "station")

        async def step() -> list[str]:
            await media.add_medium(code, MediumIn.model_validate(blank(data)), principal_of(request))
            return []

        return await self._step(request, code, station, step, "medium")

    @post("/{code:str}/media/{medium:int}/kind", status_code=303)
    async def kind(
        self, request: Request[Any, Any, Any], code: FromPath[str], medium: RowId, data: Form
    ) -> Response[Any]:
        """A technician who looked at the drive: it spins (recorded with who and when)."""
        station = form_text(data, "station")

        async def step() -> list[str]:
            decision = KindDecisionIn.model_validate(blank({k: v for k, v in data.items() if k != "station"}))
            await kind_decisions.confirm_kind(code, medium, decision, principal_of(request))
            return await self._advance(request, [code], station)

        return await self._step(request, code, station, step, "kind")

    @post("/{code:str}/manual", status_code=303)
    async def manual(self, request: Request[Any, Any, Any], code: FromPath[str], data: Form) -> Response[Any]:
        """An erasure done with a tool that gives no report, attested by the operator."""
        station = form_text(data, "station")

        async def step() -> list[str]:
            record = ManualRecordIn.model_validate(blank(data))
            await media.record_manual(code, record, principal_of(request))
            return await self._advance(request, [code], station)

        return await self._step(request, code, station, step, "record")

    @post("/{code:str}/destruction", status_code=303)
    async def destruction(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: Form
    ) -> Response[Any]:
        """A medium shredded, crushed or drilled, with its witness and evidence."""
        station = form_text(data, "station")

        async def step() -> list[str]:
            await media.record_destruction(
                code, DestructionIn.model_validate(blank(data)), principal_of(request)
            )
            return await self._advance(request, [code], station)

        return await self._step(request, code, station, step, "record")

    @post("/{code:str}/no-media", status_code=303)
    async def no_media(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: Form
    ) -> Response[Any]:
        """A monitor or a 4G key: no data-bearing media."""
        station = form_text(data, "station")

        async def step() -> list[str]:
            if data.get("confirm") != "on":
                raise BadInput(
                    N_("Tick the box to confirm that the device has no data-bearing media."),
                    code="confirmation_required",
                )
            await media.attest_no_media(
                code, AttestationIn.model_validate(blank(data)).note, principal_of(request)
            )
            return await self._advance(request, [code], station)

        return await self._step(request, code, station, step, "no_media")

    @post("/{code:str}/certificate", status_code=303)
    async def certificate(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: Form
    ) -> Response[Any]:
        """The device's certificate, issued once its erasure is certified."""
        station = form_text(data, "station")

        async def step() -> list[str]:
            await certificates.issue_for_device(code, principal_of(request))
            return []

        return await self._step(request, code, station, step, "certificate")


class SupervisionPages(Controller):
    """A supervisor's desk: records waiting for review, and the week's quality-control sample."""

    path = "/erasure/supervision"
    include_in_schema = False
    guards = allow(*SUPERVISION)

    async def _render(
        self,
        request: Request[Any, Any, Any],
        *,
        status_code: int = 200,
        error: str | None = None,
        notice: str | None = None,
        week: str | None = None,
    ) -> Response[Any]:
        checks: list[Any] = []
        try:
            checks = await supervision.checks(week)
        except DomainError as failure:
            error, status_code = form_error(failure)
        return page(
            request,
            "erasure/supervision.html",
            status_code=status_code,
            reviews=await supervision.pending_reviews(),
            kinds=await kind_decisions.pending_kind_decisions(),
            checks=checks,
            week=week or "",
            error=error,
            notice=notice,
            me=principal_of(request).name,
        )

    @get("/")
    async def desk(
        self,
        request: Request[Any, Any, Any],
        week: Annotated[str | None, QueryParameter()] = None,
        done: Annotated[str | None, QueryParameter()] = None,
    ) -> Response[Any]:
        """Pending reviews first, then the quality checks of the week."""
        return await self._render(
            request, week=week, notice=gettext(SUPERVISED[done]) if done in SUPERVISED else None
        )

    async def _do(
        self, request: Request[Any, Any, Any], step: Any, done: str, week: str | None = None
    ) -> Response[Any]:
        try:
            await step()
        except (DomainError, ValidationError) as failure:
            message, status = form_error(failure)
            return await self._render(request, status_code=status, error=message, week=week)
        query = urlencode({k: v for k, v in {"done": done, "week": week or ""}.items() if v})
        return Redirect(path=f"/erasure/supervision?{query}", status_code=303)

    @post("/records/{record:int}", status_code=303)
    async def review(self, request: Request[Any, Any, Any], record: RowId, data: Form) -> Response[Any]:
        """Approve or reject a record with warnings; an approved one counts and may sanitize its device."""

        async def step() -> None:
            principal = principal_of(request)
            code = await supervision.review(record, ReviewIn.model_validate(blank(data)), principal)
            await sanitize_ready(
                [code],
                principal,
                base_url=request.app.state.settings.base_url,
                request_id=current_request_id(),
            )

        return await self._do(request, step, "reviewed")

    @post("/kinds/{decision:int}", status_code=303)
    async def review_kind(
        self, request: Request[Any, Any, Any], decision: RowId, data: Form
    ) -> Response[Any]:
        """Approve or revoke a technician's "the drive spins"; a revoked one is uncertain again."""

        async def step() -> None:
            await kind_decisions.review_kind(
                decision, KindReviewIn.model_validate(blank(data)), principal_of(request)
            )

        return await self._do(request, step, "reviewed")

    @post("/draw", status_code=303)
    async def draw(self, request: Request[Any, Any, Any], data: Form) -> Response[Any]:
        """Draw the week's sample (once per week)."""
        week = form_text(data, "week")

        async def step() -> None:
            await supervision.draw(week, principal_of(request))

        return await self._do(request, step, "drawn", week)

    @post("/checks/{check:int}", status_code=303)
    async def check(self, request: Request[Any, Any, Any], check: RowId, data: Form) -> Response[Any]:
        """The re-verification's outcome, by someone other than the operator."""
        week = form_text(data, "week")

        async def step() -> None:
            result = QualityResultIn.model_validate(blank({k: v for k, v in data.items() if k != "week"}))
            await supervision.record_result(check, result, principal_of(request))

        return await self._do(request, step, "checked", week)


SUPERVISED = {
    "reviewed": N_("Review recorded."),
    "drawn": N_("This week's sample is drawn."),
    "checked": N_("Quality check recorded."),
}


class VerifyPages(Controller):
    """Anyone can check a certificate: by its code, or by uploading the document."""

    path = "/verify"
    include_in_schema = False
    opt = {"public": True}  # noqa: RUF012

    @get("/")
    async def form(
        self,
        request: Request[Any, Any, Any],
        code: Annotated[str | None, QueryParameter(max_length=80)] = None,
    ) -> Response[Any]:
        """Upload a certificate (PDF or JSON) or type its code (the form sends it here, we go to its page)."""
        if code and code.strip():
            return Redirect(path=f"/verify/{quote(code.strip(), safe='')}", status_code=303)
        return page(request, "erasure/verify.html", result=None, code="")

    @post("/", request_max_body_size=certificates.MAX_VERIFY_BYTES, status_code=200)
    async def check(
        self,
        request: Request[Any, Any, Any],
        data: MultipartForm,
    ) -> Response[Any]:
        """Authentic and unchanged, or why not."""
        file = data.get("file")
        try:
            content = await uploaded(file).read()
        except DomainError as failure:
            message, status = form_error(failure)
            return page(
                request, "erasure/verify.html", result=None, code="", error=message, status_code=status
            )
        result = await certificates.verify_document(content)
        return page(request, "erasure/verify.html", result=result, code=result.code or "", uploaded=True)

    @get("/{code:str}")
    async def status(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Response[Any]:
        """The public status of a certificate: no serials, no names of people."""
        try:
            result = await certificates.verify_code(code)
        except DomainError as failure:
            message, status = form_error(failure)
            return page(
                request, "erasure/verify.html", result=None, code=code[:40], error=message, status_code=status
            )
        return page(request, "erasure/verify.html", result=result, code=result.code or "")
