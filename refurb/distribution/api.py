"""JSON API of programmes and households.

Household routes answer 404 to the roles that never see households (donors,
technicians, supervisors, drivers, auditors), as for a household that does not
exist; personal data only comes from `/personal-data` and the access exports,
and each reading is logged.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody, QueryParameter

from refurb.accounts.guards import allow, principal_of
from refurb.core.roles import STAFF
from refurb.distribution import census, commission, service
from refurb.distribution.access_pdf import render_access_pdf
from refurb.distribution.schemas import (
    AccessExport,
    CensusReport,
    HouseholdIn,
    HouseholdOut,
    HouseholdPatch,
    HouseholdSummary,
    PersonalDataIn,
    PersonalDataOut,
    ProgrammeIn,
    ProgrammeOut,
    ProgrammeStatistics,
    ProgrammeSummary,
    StatusIn,
)
from refurb.web.forms import download, uploaded
from refurb.web.i18n import gettext
from refurb.web.openapi import files
from refurb.web.params import OptionalQueryId, RowId

__all__ = ("CensusUpload", "HouseholdController", "ProgrammeController")

CENSUS_BODY_LIMIT = census.CENSUS_MAX_BYTES + 65_536


@dataclass
class CensusUpload:
    """A census file and how to import it (multipart/form-data)."""

    file: UploadFile
    dry_run: str = "false"
    mode: str = "all_or_nothing"
    legal_basis: str | None = None
    notice_version: str | None = None
    notice_given_on: str | None = None
    referent: str | None = None
    referring_organisation: str | None = None


class ProgrammeController(Controller):
    """Programmes: staff read them (auditors see counts only, never a household); coordinators write."""

    path = "/api/v1/programmes"
    tags = ["distribution"]  # noqa: RUF012 - Litestar reads this class attribute
    guards = allow(*STAFF)

    @get("/", summary="Programmes, with their number of households")
    async def list_programmes(self) -> list[ProgrammeSummary]:
        """Newest start first."""
        return await service.list_programmes()

    @post("/", summary="Create a programme", guards=allow(*service.PROGRAMME_WRITERS))
    async def create_programme(
        self, request: Request[Any, Any, Any], data: JSONBody[ProgrammeIn]
    ) -> ProgrammeOut:
        """With its QPVs, budget lines and support resources; all or nothing."""
        return await service.create_programme(data, service.Actor.of(principal_of(request)))

    @get("/{programme_id:int}", summary="One programme")
    async def get_programme(self, programme_id: RowId) -> ProgrammeOut:
        """QPVs, budget with its total, support resources, the rule set and its version."""
        return await service.get_programme(programme_id)

    @put("/{programme_id:int}", summary="Replace a programme", guards=allow(*service.PROGRAMME_WRITERS))
    async def update_programme(
        self, request: Request[Any, Any, Any], programme_id: RowId, data: JSONBody[ProgrammeIn]
    ) -> ProgrammeOut:
        """The rule-set version goes up when the rules change; a QPV households belong to stays."""
        return await service.update_programme(programme_id, data, service.Actor.of(principal_of(request)))

    @post(
        "/{programme_id:int}/census",
        summary="Check or import a referent's census spreadsheet (CSV or XLSX)",
        guards=allow(*service.HOUSEHOLD_READERS),
        opt={"raw_body": True},
        request_max_body_size=CENSUS_BODY_LIMIT,
    )
    async def census(
        self,
        request: Request[Any, Any, Any],
        programme_id: RowId,
        data: Annotated[CensusUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[CensusReport]:
        """`dry_run=true`: 200, nothing changes; otherwise 201.

        `mode=all_or_nothing` (default): any error row answers 422 `census_has_errors` with the report,
        and nothing is imported; `valid_only`: the rows with errors are skipped.

        One row per family, found again by the referent's family reference (programme + referring
        organisation): a re-import updates, never duplicates, and an empty cell never erases. Children's
        ages become birth years (the import's year minus the age). Names and contacts go to the personal
        data, with `legal_basis` (public_interest or consent) and `notice_version`. CSV (`;` `,` tab;
        UTF-8, BOM, Windows-1252) or XLSX; at most 5 MiB.
        """
        options = census.census_options(data.__dict__)
        file = uploaded(data.file)
        report = await census.import_census(
            programme_id, file.file, file.filename or "", options, principal_of(request)
        )
        return Response(report, status_code=200 if options.dry_run else 201)

    @get("/{programme_id:int}/statistics", summary="Households by status and QPV")
    async def statistics(self, programme_id: RowId) -> ProgrammeStatistics:
        """Counts only: what auditors see, and what a purge keeps."""
        return await service.programme_statistics(programme_id)


class HouseholdController(Controller):
    """Households, pseudonymous; their personal data on its own route, logged."""

    path = "/api/v1/households"
    tags = ["distribution"]  # noqa: RUF012
    guards = allow()

    @get("/", summary="Households, filtered (no names, ever)", guards=allow(*service.HOUSEHOLD_READERS))
    async def list_households(
        self,
        request: Request[Any, Any, Any],
        programme: OptionalQueryId = None,
        status: Annotated[str | None, QueryParameter(max_length=20)] = None,
        qpv: Annotated[str | None, QueryParameter(max_length=20)] = None,
        school: Annotated[str | None, QueryParameter(max_length=200)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=service.LIST_LIMIT)] = 100,
        offset: Annotated[int, QueryParameter(ge=0, le=10_000_000)] = 0,
        order: Annotated[
            Literal["code", "priority"],
            QueryParameter(description="`priority`: the agenda's order, with scores"),
        ] = "code",
        priority_min: Annotated[int | None, QueryParameter(ge=0, le=100_000)] = None,
    ) -> list[HouseholdSummary]:
        """By F code, or by priority; a referent who is not a coordinator lists only their own households."""
        filters = {"programme": programme, "status": status, "qpv": qpv, "school": school}
        if order == "priority" or priority_min is not None:
            return await commission.households_by_priority(
                principal_of(request),
                datetime.date.today(),
                **filters,
                priority_min=priority_min,
                limit=limit,
                offset=offset,
            )
        return await service.list_households(principal_of(request), **filters, limit=limit, offset=offset)

    @post("/", summary="Record a household (needs form)", guards=allow(*service.HOUSEHOLD_READERS))
    async def create_household(
        self, request: Request[Any, Any, Any], data: JSONBody[HouseholdIn]
    ) -> HouseholdOut:
        """In `census`, with a fresh F code; names go to `/personal-data`."""
        return await service.create_household(data, principal_of(request))

    @get("/{code:str}", summary="One household, with its history")
    async def get_household(self, request: Request[Any, Any, Any], code: FromPath[str]) -> HouseholdOut:
        """Never its personal data; 404 to whoever may not see it."""
        return await service.get_household(code, principal_of(request))

    @patch("/{code:str}", summary="Change a household's needs form")
    async def update_household(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: JSONBody[HouseholdPatch]
    ) -> HouseholdOut:
        """Send only what changes; the history names the fields changed."""
        return await service.update_household(code, data, principal_of(request))

    @post("/{code:str}/status", summary="Change a household's status", status_code=200)
    async def change_status(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: JSONBody[StatusIn]
    ) -> HouseholdOut:
        """Declined, withdrawn and steps back need a reason; `version` refuses a stale page."""
        return await service.change_status(
            code, data.status, data.reason, principal_of(request), version=data.version
        )

    @get("/{code:str}/personal-data", summary="A household's personal data (logged)")
    async def personal_data(self, request: Request[Any, Any, Any], code: FromPath[str]) -> PersonalDataOut:
        """Coordinators and the household's referent only (404 to anyone else); each reading is logged."""
        found = await service.read_personal_data(
            code, principal_of(request), purpose="api_read", route=request.url.path
        )
        if found is None:
            raise service.no_personal_data(code)
        return found

    @put("/{code:str}/personal-data", summary="Record a household's personal data")
    async def set_personal_data(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: JSONBody[PersonalDataIn]
    ) -> PersonalDataOut:
        """With the legal basis (public_interest or consent) and the information notice version given."""
        return await service.set_personal_data(code, data, principal_of(request))

    @get("/{code:str}/access-export", summary="Right-of-access export (JSON, logged)")
    async def access_export(self, request: Request[Any, Any, Any], code: FromPath[str]) -> AccessExport:
        """Everything held on the household: its file, history, personal data and who read them."""
        return await service.access_export(
            code, principal_of(request), purpose="access_export_json", route=request.url.path
        )

    @get(
        "/{code:str}/access-export.pdf",
        summary="Right-of-access export (PDF, logged)",
        opt=files("application/pdf"),
    )
    async def access_export_pdf(
        self, request: Request[Any, Any, Any], code: FromPath[str]
    ) -> Response[bytes]:
        """The same as the JSON export, for the family to keep."""
        export = await service.access_export(
            code, principal_of(request), purpose="access_export_pdf", route=request.url.path
        )
        content = render_access_pdf(export, gettext)
        return download(content, f"{export.household.code}-access.pdf", "application/pdf")
