"""Donor portal and driver pages: batches, the agreement, manifest uploads, collection.

Plain forms that work without JavaScript (POST, then redirect); a failed
form is shown again with its message and the right status.
"""

from __future__ import annotations

import datetime
from collections import Counter
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect
from pydantic import ValidationError

from refurb.accounts import service as accounts
from refurb.accounts.guards import allow, principal_of
from refurb.core.codes import parse_code
from refurb.core.errors import BadInput, DomainError
from refurb.core.i18n import N_, Np_, fill
from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import State
from refurb.core.roles import Role
from refurb.devices import service as devices
from refurb.erasure import certificates
from refurb.erasure import media as erasure_media
from refurb.intake import agreements, collection, imports, reconciliation
from refurb.intake import service as batches
from refurb.intake.api import (
    AGREEMENT_BODY_LIMIT,
    MANIFEST_BODY_LIMIT,
    AgreementUpload,
    ManifestUpload,
    donor_of,
    import_options,
    uploaded,
)
from refurb.intake.manifest import FIELDS
from refurb.intake.profiles import PROFILES
from refurb.intake.schemas import (
    MAX_PER_KIND,
    AgreementIn,
    BatchIn,
    BatchPatch,
    BatchState,
    CollectionIn,
    ImportReport,
)
from refurb.printing.kinds import KIND_ROLES, LabelKind
from refurb.web.forms import Form, form_error
from refurb.web.i18n import gettext, render_error
from refurb.web.render import page

__all__ = ("AgreementPages", "BatchPages", "CollectPages")

#: The pickup form's limits (those of `CollectionIn`), checked field by field to say which one is wrong.
MAX_SEALS, MAX_SEAL_LENGTH, MAX_SIGNER_LENGTH, MAX_VEHICLE_LENGTH = 50, 40, 200, 40


def _batch_form(form: dict[str, Any]) -> dict[str, Any]:
    """The batch form's fields as BatchIn wants them (empty dates and counts left out)."""
    values: dict[str, Any] = {
        name: form.get(name, "")
        for name in ("reference", "site_address", "contact_name", "contact_phone", "notes", "donor")
        if name in form
    }
    for name in ("pickup_from", "pickup_to"):
        values[name] = form.get(name) or None
    declared = {}
    for kind in DeviceKind:
        text = str(form.get(f"declared_{kind.value}", "")).strip()
        if text:
            try:
                declared[kind.value] = int(text)
            except ValueError:
                raise BadInput(
                    N_("'{value}' is not a number of devices."), code="bad_count", value=text[:20]
                ) from None
    values["declared"] = declared
    return values


async def _census_by_state(batch_id: int) -> dict[State, int]:
    counts: Counter[State] = Counter()
    for row in await devices.batch_census(batch_id):
        counts[State(row["state"])] += row["count"]
    return {state: counts[state] for state in State if counts[state]}


class BatchPages(Controller):
    """The donor's batches and, for staff, everyone's."""

    path = "/batches"
    include_in_schema = False
    guards = allow()

    async def _render(
        self,
        request: Request[Any, Any, Any],
        code: str,
        *,
        status_code: int = 200,
        error: str | None = None,
        report: ImportReport | None = None,
        notice: str | None = None,
    ) -> Response[Any]:
        principal = principal_of(request)
        batch = await batches.get_batch(code, principal)
        role = principal.role
        editable = batch.state in batches.EDITABLE
        return page(
            request,
            "intake/batch.html",
            status_code=status_code,
            batch=batch,
            agreement=await agreements.current_agreement(batch.donor_id),
            states=await _census_by_state(batch.id),
            reconciliation=await reconciliation.reconciliation(batch.code, principal),
            media_outcomes=await erasure_media.batch_outcomes(batch.id),
            certificates=await certificates.list_certificates(principal, batch=batch.code),
            last_import=await imports.last_import(batch.id),
            report=report,
            error=error,
            notice=notice,
            can={
                "edit": role in batches.BATCH_EDITORS and editable,
                "submit": role in batches.BATCH_EDITORS and batch.state is BatchState.DRAFT,
                "schedule": role in batches.SCHEDULERS
                and batch.state in (BatchState.SUBMITTED, BatchState.SCHEDULED),
                "collect": role in collection.COLLECTORS and batch.state in collection.COLLECTABLE,
                "close": role in reconciliation.CLOSERS and batch.state is not BatchState.CLOSED,
                "labels": role in KIND_ROLES[LabelKind.BATCH],
            },
            kinds=list(DeviceKind),
            fields=FIELDS,
            profiles=list(PROFILES),
            today=datetime.date.today(),
        )

    @get("/")
    async def list_page(
        self,
        request: Request[Any, Any, Any],
        state_filter: Annotated[str | None, QueryParameter(name="state")] = None,
    ) -> Response[Any]:
        """Batches, newest first, filtered by state."""
        principal = principal_of(request)
        chosen = BatchState(state_filter) if state_filter in set(BatchState) else None
        found = await batches.list_batches(principal, states=[chosen] if chosen else None)
        agreement = (
            await agreements.current_agreement(principal.organisation_id)
            if principal.role is Role.DONOR
            else None
        )
        return page(
            request,
            "intake/batches.html",
            batches=found,
            state=chosen,
            states=list(BatchState),
            agreement=agreement,
            can_create=principal.role in batches.BATCH_EDITORS,
        )

    async def _form(
        self,
        request: Request[Any, Any, Any],
        *,
        values: dict[str, Any],
        batch: Any = None,
        error: str | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        principal = principal_of(request)
        donors = [] if principal.role is Role.DONOR or batch else await accounts.donor_organisations()
        return page(
            request,
            "intake/batch_form.html",
            status_code=status_code,
            values=values,
            batch=batch,
            donors=donors,
            kinds=list(DeviceKind),
            error=error,
        )

    @get("/new", guards=allow(*batches.BATCH_EDITORS))
    async def new_form(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """An empty batch form."""
        return await self._form(request, values={"declared": {}})

    @post("/new", guards=allow(*batches.BATCH_EDITORS), status_code=303)
    async def create(self, request: Request[Any, Any, Any], data: Form) -> Response[Any]:
        """Create the draft, then show it."""
        values: dict[str, Any] = {"declared": {}}
        try:
            values = _batch_form(data)
            batch = await batches.create_for(BatchIn.model_validate(values), principal_of(request))
        except (DomainError, ValidationError) as error:
            message, status = form_error(error)
            return await self._form(request, values={**data, **values}, error=message, status_code=status)
        return Redirect(path=f"/batches/{batch.code}", status_code=303)

    @get("/{code:str}")
    async def batch_page(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        done: Annotated[str | None, QueryParameter()] = None,
    ) -> Response[Any]:
        """The batch, what happened to it, its manifest and its reconciliation."""
        notices = {
            "created": gettext("Batch saved."),
            "submitted": gettext("Batch submitted: the programme will schedule the pickup."),
            "scheduled": gettext("Pickup date saved."),
            "closed": gettext("Batch closed: the reconciliation is final."),
            "collected": gettext("Collection recorded."),
        }
        return await self._render(request, code, notice=notices.get(done or ""))

    @get("/{code:str}/edit", guards=allow(*batches.BATCH_EDITORS))
    async def edit_form(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Response[Any]:
        """The batch form, filled."""
        batch = await batches.get_batch(code, principal_of(request))
        return await self._form(request, values=batch.model_dump(), batch=batch)

    @post("/{code:str}/edit", guards=allow(*batches.BATCH_EDITORS), status_code=303)
    async def edit(self, request: Request[Any, Any, Any], code: FromPath[str], data: Form) -> Response[Any]:
        """Save the form."""
        principal = principal_of(request)
        batch = await batches.get_batch(code, principal)
        values: dict[str, Any] = {"declared": {}}
        try:
            values = _batch_form(data)
            values.pop("donor", None)
            await batches.update_batch(code, BatchPatch.model_validate(values), principal)
        except (DomainError, ValidationError) as error:
            message, status = form_error(error)
            return await self._form(
                request, values={**data, **values}, batch=batch, error=message, status_code=status
            )
        return Redirect(path=f"/batches/{batch.code}?done=created", status_code=303)

    async def _step(self, request: Request[Any, Any, Any], code: str, step: Any, done: str) -> Response[Any]:
        try:
            await step()
        except (DomainError, ValidationError) as error:
            message, status = form_error(error)
            return await self._render(request, code, status_code=status, error=message)
        return Redirect(path=f"/batches/{parse_code(code).compact}?done={done}", status_code=303)

    @post("/{code:str}/submit", guards=allow(*batches.BATCH_EDITORS), status_code=303)
    async def submit(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Response[Any]:
        """Hand the batch to the programme."""
        principal = principal_of(request)

        async def step() -> None:
            batch = await batches.get_batch(code, principal)
            await batches.submit(code, principal, await devices.counts_by_batch(batch.id))

        return await self._step(request, code, step, "submitted")

    @post("/{code:str}/schedule", guards=allow(*batches.SCHEDULERS), status_code=303)
    async def schedule(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: Form
    ) -> Response[Any]:
        """Set the pickup date."""

        async def step() -> None:
            try:
                day = datetime.date.fromisoformat(str(data.get("pickup_date", "")))
            except ValueError:
                raise BadInput(N_("Choose the pickup date."), code="bad_date") from None
            await batches.schedule(code, day, principal_of(request))

        return await self._step(request, code, step, "scheduled")

    @post("/{code:str}/close", guards=allow(*reconciliation.CLOSERS), status_code=303)
    async def close(self, request: Request[Any, Any, Any], code: FromPath[str], data: Form) -> Response[Any]:
        """Close: the devices never received become missing."""

        async def step() -> None:
            reason = str(data.get("reason", "")).strip()
            if not reason:
                raise BadInput(N_("Say why the devices not received are missing."), code="reason_required")
            await reconciliation.close_batch(code, reason[:500], principal_of(request))

        return await self._step(request, code, step, "closed")

    @post(
        "/{code:str}/manifest",
        guards=allow(*batches.BATCH_EDITORS),
        request_max_body_size=MANIFEST_BODY_LIMIT,
        status_code=200,
    )
    async def manifest(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: Annotated[ManifestUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[Any]:
        """Check or import the uploaded file; the page shows the report."""
        try:
            options = import_options(data)
            file = uploaded(data.file)
            report = await imports.import_manifest(
                code, file.file, file.filename or "", options, principal_of(request)
            )
        except imports.ManifestRefused as refused:
            report = ImportReport.model_validate(refused.extra["report"])
            return await self._render(
                request, code, status_code=422, error=render_error(refused), report=report
            )
        except DomainError as error:
            message, status = form_error(error)
            return await self._render(request, code, status_code=status, error=message)
        return await self._render(request, code, report=report)


class AgreementPages(Controller):
    """The donation agreement: read the terms, sign them, or upload the signed PDF."""

    path = "/agreement"
    include_in_schema = False
    guards = allow(*agreements.SIGNERS)

    async def _render(
        self,
        request: Request[Any, Any, Any],
        donor: str | None,
        *,
        status_code: int = 200,
        error: str | None = None,
        signed: bool = False,
    ) -> Response[Any]:
        principal = principal_of(request)
        donors = [] if principal.role is Role.DONOR else await accounts.donor_organisations()
        donor_id = None
        if principal.role is Role.DONOR or donor:
            donor_id = await donor_of(principal, donor)
        return page(
            request,
            "intake/agreement.html",
            status_code=status_code,
            agreement=await agreements.current_agreement(donor_id) if donor_id else None,
            terms_version=agreements.TERMS_VERSION,
            donor=donor if principal.role is not Role.DONOR else principal.organisation_name,
            donors=donors,
            chosen=donor_id is not None,
            error=error,
            signed=signed,
        )

    @get("/")
    async def agreement_page(
        self,
        request: Request[Any, Any, Any],
        donor: Annotated[str | None, QueryParameter()] = None,
        signed: Annotated[bool, QueryParameter()] = False,
    ) -> Response[Any]:
        """The terms and the signature form (staff pick the donor first)."""
        return await self._render(request, donor, signed=signed)

    @post("/", status_code=303)
    async def sign(self, request: Request[Any, Any, Any], data: Form) -> Response[Any]:
        """Sign with a typed name and a ticked box; never by following a link."""
        principal = principal_of(request)
        donor = str(data.get("donor") or "") or None
        try:
            form = AgreementIn(
                signatory_name=str(data.get("signatory_name", "")),
                signatory_title=str(data.get("signatory_title", "")),
                accept=data.get("accept") in ("on", "true", "1", "yes"),
                terms_version=str(data.get("terms_version", "")),
            )
            await agreements.sign(await donor_of(principal, donor), form, principal)
        except (DomainError, ValidationError) as error:
            message, status = form_error(error)
            return await self._render(request, donor, status_code=status, error=message)
        suffix = f"&donor={quote(donor)}" if donor else ""
        return Redirect(path=f"/agreement?signed=true{suffix}", status_code=303)

    @post("/upload", request_max_body_size=AGREEMENT_BODY_LIMIT, status_code=303)
    async def upload(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[AgreementUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[Any]:
        """Keep the PDF signed on paper."""
        principal = principal_of(request)
        try:
            file = uploaded(data.file)
            await agreements.upload(
                await donor_of(principal, data.donor),
                file.file,
                file.filename,
                signatory_name=data.signatory_name,
                signatory_title=data.signatory_title,
                signed_on=data.signed_on,
                principal=principal,
            )
        except DomainError as error:
            message, status = form_error(error)
            return await self._render(request, data.donor, status_code=status, error=message)
        suffix = f"&donor={quote(data.donor)}" if data.donor else ""
        return Redirect(path=f"/agreement?signed=true{suffix}", status_code=303)


class CollectPages(Controller):
    """The driver's phone: batches to pick up, then one form per batch."""

    path = "/collect"
    include_in_schema = False
    guards = allow(*collection.COLLECTORS)

    @get("/")
    async def collect_list(
        self,
        request: Request[Any, Any, Any],
        code: Annotated[str | None, QueryParameter()] = None,
        done: Annotated[str | None, QueryParameter()] = None,
    ) -> Response[Any]:
        """Scan (or type) a batch label or the donor's reference, or pick from the batches waiting."""
        error, status, notice = None, 200, None
        principal = principal_of(request)
        if code:
            try:
                found = await batches.get_batch_by_code_or_reference(code, principal)
                return Redirect(path=f"/collect/{found.code}", status_code=303)
            except DomainError as problem:
                error, status = form_error(problem)
        if done:
            notice = await _pickup_notice(done, principal)
        waiting = await collection.collectable(principal)
        return page(
            request,
            "intake/collect_list.html",
            batches=waiting,
            error=error,
            notice=notice,
            status_code=status,
        )

    async def _render(
        self,
        request: Request[Any, Any, Any],
        code: str,
        *,
        values: dict[str, Any] | None = None,
        error: str | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        principal = principal_of(request)
        batch = await batches.get_batch(code, principal)
        expected = await collection.expected_counts(batch)
        agreement = await agreements.current_agreement(batch.donor_id)
        counted = [k for k in DeviceKind if expected.get(k.value)] or list(DeviceKind)
        return page(
            request,
            "intake/collect.html",
            status_code=status_code,
            batch=batch,
            expected=expected,
            agreement=agreement,
            values=values or {},
            counted=counted,
            others=[k for k in DeviceKind if k not in counted],
            error=error,
            errors=errors or {},
            collectable=batch.state in collection.COLLECTABLE,
        )

    @get("/{code:str}")
    async def collect_form(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Response[Any]:
        """Counts per kind (empty; the expected number is a hint), seals, signer, vehicle."""
        return await self._render(request, code)

    @post("/{code:str}", status_code=303)
    async def collect(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: Form
    ) -> Response[Any]:
        """Record the pickup; every declared device becomes collected. Then back to the pickups."""
        values = {k: v for k, v in data.items() if isinstance(v, str)}
        principal = principal_of(request)
        try:
            expected = await collection.expected_counts(await batches.get_batch(code, principal))
            form, errors = _pickup_form(values, expected)
            if form is None:
                return await self._render(
                    request,
                    code,
                    values=values,
                    errors=errors,
                    error=gettext("Check the fields marked below."),
                    status_code=400,
                )
            _, batch = await collection.record_collection(code, form, principal)
        except (DomainError, ValidationError) as error:
            message, status = form_error(error)
            return await self._render(request, code, values=values, error=message, status_code=status)
        return Redirect(path=f"/collect?done={batch.code}", status_code=303)


def _pickup_form(
    values: dict[str, str], expected: dict[str, int]
) -> tuple[CollectionIn | None, dict[str, str]]:
    """The pickup form as a `CollectionIn`, or each refused field with its message.

    A kind the manifest expects must be counted (0 is an answer; empty is not):
    the expected number is a hint, never a value the driver can confirm unseen.
    """
    errors: dict[str, str] = {}
    counts: dict[DeviceKind, int] = {}
    for kind in DeviceKind:
        name = f"count_{kind.value}"
        text = values.get(name, "").strip()
        if not text:
            if expected.get(kind.value):
                errors[name] = gettext("Count these devices and type the number found (0 if none).")
            continue
        if not text.isdigit() or int(text) > MAX_PER_KIND:
            errors[name] = fill(N_("'{value}' is not a number of devices."), {"value": text[:20]}, gettext)
            continue
        counts[kind] = int(text)
    seals = [s.strip() for s in values.get("seals", "").replace(",", "\n").splitlines() if s.strip()]
    if len(seals) > MAX_SEALS or any(len(s) > MAX_SEAL_LENGTH for s in seals):
        errors["seals"] = fill(
            N_("At most {count} seals of at most {length} characters each."),
            {"count": MAX_SEALS, "length": MAX_SEAL_LENGTH},
            gettext,
        )
    signer = values.get("signer_name", "").strip()
    if not signer:
        errors["signer_name"] = gettext("Type the full name of the donor's person who signs.")
    elif len(signer) > MAX_SIGNER_LENGTH:
        errors["signer_name"] = fill(
            N_("At most {length} characters."), {"length": MAX_SIGNER_LENGTH}, gettext
        )
    vehicle = values.get("vehicle", "").strip()
    if len(vehicle) > MAX_VEHICLE_LENGTH:
        errors["vehicle"] = fill(N_("At most {length} characters."), {"length": MAX_VEHICLE_LENGTH}, gettext)
    if errors:
        return None, errors
    return CollectionIn(counts=counts, seals=seals, signer_name=signer, vehicle=vehicle), {}


async def _pickup_notice(code: str, principal: Any) -> str | None:
    """The confirmation shown on the pickups page once a batch is collected."""
    try:
        batch = await batches.get_batch(code, principal)
    except DomainError:
        return None
    if batch.collected_at is None:
        return None
    counted = sum(int(n) for n in (batch.collection.get("counts") or {}).values())
    return fill(
        Np_(
            "Pickup of {ref} recorded: {count} device counted.",
            "Pickup of {ref} recorded: {count} devices counted.",
        ),
        {"ref": batch.display_code, "count": counted},
        gettext,
    )
