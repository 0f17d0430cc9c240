"""Licence pages: the pools with their stock, importing keys, the licence report.

Forms post and redirect; a refused one is shown again with its message (and,
for a key file, the table of wrong rows by number — never a key).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import QueryParameter
from litestar.response import Redirect
from pydantic import ValidationError

from refurb.accounts.guards import allow
from refurb.core.errors import BadInput, DomainError
from refurb.core.i18n import N_
from refurb.core.roles import SUPERVISION
from refurb.web.forms import Form, MultipartForm, form_error
from refurb.web.i18n import gettext
from refurb.web.params import OptionalQueryId, RowId
from refurb.web.render import page
from refurb.workshop import key_files, licences
from refurb.workshop.licence_api import REPORT_READERS
from refurb.workshop.licence_schemas import PoolIn

__all__ = ("LicencePages",)

DONE = {
    "pool": N_("Pool created."),
    "keys": N_("Keys imported."),
    "checked": N_("The file is correct: no key was imported yet (dry run)."),
}


def _pool_form(form: dict[str, Any]) -> PoolIn:
    """The create form as PoolIn wants it: euros to cents, empty fields left out, checkboxes."""
    values: dict[str, Any] = {
        k: str(v).strip() for k, v in form.items() if k != "_csrf_token" and str(v).strip()
    }
    if "unit_cost" in values:
        try:
            values["unit_cost_cents"] = round(Decimal(values.pop("unit_cost").replace(",", ".")) * 100)
        except (ArithmeticError, ValueError):
            raise BadInput(N_("The unit cost is a number of euros."), code="bad_cost") from None
    values["needs_key"] = form.get("needs_key") in ("on", "true", "1")
    return PoolIn.model_validate(values)


class LicencePages(Controller):
    """`/licences`: pools and keys (supervisors); `/licences/report` (also coordinators and auditors)."""

    path = "/licences"
    include_in_schema = False

    async def _render(
        self,
        request: Request[Any, Any, Any],
        *,
        status_code: int = 200,
        error: str | None = None,
        notice: str | None = None,
        problems: list[Any] | None = None,
        failed_pool: int | None = None,
    ) -> Response[Any]:
        return page(
            request,
            "workshop/licences.html",
            status_code=status_code,
            pools=await licences.list_pools(),
            error=error,
            notice=notice,
            problems=problems or [],
            failed_pool=failed_pool,
        )

    @get("/", guards=allow(*SUPERVISION))
    async def pools(
        self,
        request: Request[Any, Any, Any],
        done: Annotated[str | None, QueryParameter()] = None,
        count: Annotated[int | None, QueryParameter(ge=0, le=1_000_000)] = None,
    ) -> Response[Any]:
        """Pools with available / assigned keys; low stock in red."""
        notice = gettext(DONE[done]) if done in DONE else None
        if notice and count is not None:
            notice = f"{notice} ({count})"
        return await self._render(request, notice=notice)

    @post("/pools", guards=allow(*SUPERVISION), status_code=303)
    async def create_pool(self, request: Request[Any, Any, Any], data: Form) -> Response[Any]:
        """A new pool from the form."""
        try:
            await licences.create_pool(_pool_form(data))
        except (DomainError, ValidationError) as failure:
            message, status = form_error(failure)
            return await self._render(request, status_code=status, error=message)
        return Redirect(path="/licences?done=pool", status_code=303)

    @post(
        "/pools/{pool_id:int}/keys",
        guards=allow(*SUPERVISION),
        status_code=303,
        request_max_body_size=key_files.MAX_KEY_FILE_BYTES + 65_536,
    )
    async def import_keys(
        self, request: Request[Any, Any, Any], pool_id: RowId, data: MultipartForm
    ) -> Response[Any]:
        """The key file; any wrong row imports nothing and lists the rows."""
        dry_run = data.get("dry_run") in ("on", "true", "1")
        try:
            file = data.get("file")
            if not isinstance(file, UploadFile):
                raise BadInput(N_("Choose the CSV file of keys."), code="file_required")
            report = await licences.import_keys(pool_id, await file.read(), dry_run=dry_run)
        except DomainError as failure:
            message, status = form_error(failure)
            problems = failure.extra.get("report", {}).get("errors", [])
            return await self._render(
                request, status_code=status, error=message, problems=problems, failed_pool=pool_id
            )
        done = "checked" if dry_run else "keys"
        return Redirect(path=f"/licences?done={done}&count={report.rows}", status_code=303)

    @get("/report", guards=allow(*REPORT_READERS))
    async def report(self, request: Request[Any, Any, Any], pool: OptionalQueryId = None) -> Response[Any]:
        """Every licence given: device → pool → COA → dates → household."""
        return page(
            request,
            "workshop/licence_report.html",
            rows=await licences.report(pool_id=pool),
            pools=await licences.list_pools(),
            pool=pool,
        )
