"""JSON/document API for labels, print jobs and printers."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from refurb.accounts.guards import allow, principal_of
from refurb.core.errors import Forbidden
from refurb.core.i18n import N_
from refurb.core.roles import STAFF, SUPERVISION, Role
from refurb.core.stages import Stage, stage_roles
from refurb.printing import service
from refurb.printing.pdf import SheetPlacement
from refurb.printing.render import Format, Rendered
from refurb.printing.schemas import PrinterIn, PrinterOut, PrintJobIn
from refurb.web.context import current_request_id
from refurb.web.forms import download
from refurb.web.openapi import files

__all__ = ("LabelController", "PrinterController")

PRINTER_ADMINS = SUPERVISION


def context_of(request: Request[Any, Any, Any], crates: int = 1) -> service.LabelContext:
    """Label context from the deployment settings."""
    settings = request.app.state.settings
    return service.LabelContext(
        base_url=settings.base_url, crates=crates, household_names=settings.print_household_names
    )


def document(
    rendered: Rendered, name: str, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response[bytes]:
    """A rendered document; ZPL downloads, the others open in the browser."""
    return download(
        rendered.content,
        f"{name}.{rendered.extension}",
        rendered.media_type,
        inline=rendered.extension != "zpl",
        status_code=status_code,
        headers={"x-label-pages": str(rendered.pages), **(headers or {})},
    )


Dpi = Annotated[int | None, QueryParameter(ge=1, le=10_000, description="203 or 300")]
Start = Annotated[int, QueryParameter(ge=1, le=500, description="First position on a sheet (1 = top left)")]
Offset = Annotated[float, QueryParameter(ge=-10, le=10, description="Sheet calibration in mm")]


class LabelController(Controller):
    """Labels of any code, as SVG, PDF, PNG or ZPL; print jobs."""

    path = "/api/v1/labels"
    tags = ["labels"]  # noqa: RUF012 - Litestar reads this class attribute
    guards = allow()

    @get(
        "/{code:str}",
        summary="Render the label of a code (not recorded as printed)",
        opt=files("application/pdf", "image/svg+xml", "image/png", "text/plain"),
    )
    async def label(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        kind: Annotated[str | None, QueryParameter(description="Default: the code's usual label")] = None,
        label_format: Annotated[Format, QueryParameter(name="format")] = Format.PDF,
        stock: Annotated[str | None, QueryParameter(description="A preset of labels/stock/")] = None,
        dpi: Dpi = None,
        crates: Annotated[int, QueryParameter(ge=1, le=999)] = 1,
        start: Start = 1,
        offset_x: Offset = 0.0,
        offset_y: Offset = 0.0,
    ) -> Response[bytes]:
        """A preview: to have it count as printed, use a print job."""
        rendered = await service.render_label(
            code,
            kind,
            label_format,
            stock,
            dpi,
            SheetPlacement(start, offset_x, offset_y),
            principal_of(request),
            context_of(request, crates),
        )
        return document(rendered, f"{code.upper()}-{kind or 'label'}")

    @get(
        "/samples/{kind:str}",
        summary="A label kind drawn with sample data (template preview)",
        opt=files("application/pdf", "image/svg+xml", "image/png", "text/plain"),
    )
    async def sample(
        self,
        kind: FromPath[str],
        label_format: Annotated[Format, QueryParameter(name="format")] = Format.SVG,
        stock: Annotated[str | None, QueryParameter()] = None,
        dpi: Dpi = None,
    ) -> Response[bytes]:
        """Edit a template in labels/templates/ and reload this to see it."""
        rendered = await service.render_sample(kind, label_format, stock, dpi, SheetPlacement())
        return document(rendered, f"sample-{kind}")

    @post(
        "/print-jobs",
        summary="Print labels",
        opt=files("application/json", "application/pdf", "text/plain"),
    )
    async def print_job(self, request: Request[Any, Any, Any], data: JSONBody[PrintJobIn]) -> Response[Any]:
        """Sent to `printer` (201 with the job), or the document itself (201, PDF/ZPL) to print from here.

        Either way the print is recorded, with reprints marked, and shows in each device's history.
        Each label kind has its roles (a donor prints its pallet labels, on its own printer).
        """
        station_id = None
        principal = principal_of(request)
        if principal.role is Role.DONOR and (data.printer or data.station):
            raise Forbidden(N_("A donor prints labels from the browser, not on the workshop's printers."))
        if data.station:
            station = await service.station_facts(data.station)
            if not station.active or principal.role not in stage_roles(Stage(station.stage)):
                raise Forbidden(N_("You may not print for station {ref}."), ref=station.display_code)
            station_id = station.id
        outcome = await service.print_labels(
            data.codes,
            data.kind,
            principal,
            context_of(request, data.crates),
            printer_name=data.printer,
            fmt=Format(data.format) if data.format else None,
            stock_name=data.stock,
            dpi=data.dpi,
            placement=SheetPlacement(data.start, data.offset_x, data.offset_y),
            station_id=station_id,
            request_id=current_request_id(),
        )
        if outcome.document is None:
            return Response(outcome.job, status_code=201)
        return document(
            outcome.document,
            f"{outcome.job.kind}-{outcome.job.id}",
            status_code=201,
            headers={"x-print-job": str(outcome.job.id)},
        )


class PrinterController(Controller):
    """Printers that labels can be sent to."""

    path = "/api/v1/printers"
    tags = ["labels"]  # noqa: RUF012

    @get("/", summary="List printers", guards=allow(*STAFF))
    async def list_printers(self) -> list[PrinterOut]:
        """Every printer."""
        return await service.list_printers()

    @post("/", summary="Add a printer", guards=allow(*PRINTER_ADMINS))
    async def create(self, data: JSONBody[PrinterIn]) -> PrinterOut:
        """`zpl-tcp` printers take raw ZPL on host:port (9100); `pdf` ones print from the browser."""
        return await service.create_printer(data)
