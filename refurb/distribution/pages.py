"""Programme and household pages for coordinators, referents and (counts only) auditors.

Plain forms (POST, then redirect); a refused form comes back filled, with its
message. Household lists never show names; the personal-data block of a
household's page is drawn only for whoever may read it, and each showing is logged.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import io
import re
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect
from pydantic import ValidationError

from refurb.accounts.guards import allow, principal_of
from refurb.core.errors import BadInput, DomainError
from refurb.core.i18n import N_
from refurb.core.roles import STAFF, Role
from refurb.distribution import census, commission, matching, rounds, service
from refurb.distribution.bus import AppointmentStatus
from refurb.distribution.model import (
    TRANSITIONS,
    Ability,
    AllocationStatus,
    AttributionMode,
    BudgetCategory,
    DecisionKind,
    Equipment,
    HouseholdStatus,
    LegalBasis,
    ResourceKind,
    cutoff_before,
)
from refurb.distribution.rules import WEIGHT_FIELDS, ConnectionKind, RuleSet
from refurb.distribution.schemas import (
    BudgetLineIn,
    CensusReport,
    HouseholdIn,
    HouseholdPatch,
    PersonalDataIn,
    ProgrammeIn,
    QpvIn,
    SupportResourceIn,
)
from refurb.timestamps import utcnow
from refurb.web.forms import Form, MultipartForm, form_error
from refurb.web.i18n import gettext, render_error
from refurb.web.params import MAX_ID, OptionalQueryId, RowId
from refurb.web.render import page

__all__ = ("HouseholdPages", "ProgrammePages")

#: The confirm step sends the checked file back, base64-encoded (a third larger).
CENSUS_PAGE_LIMIT = census.CENSUS_MAX_BYTES * 2
#: The census form's own fields: a refusal naming one of them keeps the file checked.
_CENSUS_FIELDS = frozenset({"legal_basis", "notice_version", "notice_given_on", "referent"})

PURGERS = frozenset({Role.COORDINATOR, Role.ADMIN})
DEFAULT_PURGE = "24months"
_SPLIT = re.compile(r"\s*[;|]\s*")


def _multi(data: dict[str, Any], name: str) -> list[str]:
    """Every value of a repeated field (checkboxes)."""
    value = data.get(name)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    return str(value[-1] if isinstance(value, list) else value).strip()


def _int(data: dict[str, Any], name: str, message: str, code: str) -> int | None:
    text = _text(data, name).replace(" ", "").replace("\u00a0", "")
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise BadInput(message, code=code) from None


def _cents(text: str) -> int:
    cleaned = text.replace(" ", "").replace("\u00a0", "").replace("€", "").replace(",", ".")
    try:
        return round(float(cleaned) * 100)
    except ValueError:
        raise BadInput(
            N_("'{amount}' is not an amount in euros."), code="bad_budget_amount", amount=text[:20]
        ) from None


def _lines(text: str) -> list[list[str]]:
    return [_SPLIT.split(line.strip()) for line in text.splitlines() if line.strip()]


def _programme_in(data: dict[str, Any]) -> ProgrammeIn:
    """The programme form as the service takes it; QPVs, budget and resources are one per line."""
    qpvs = []
    for parts in _lines(_text(data, "qpvs")):
        code, _, name = parts[0].partition(" ") if len(parts) == 1 else (parts[0], "", parts[1])
        qpvs.append(QpvIn(code=code, name=name.strip()))
    budget = []
    for parts in _lines(_text(data, "budget_lines")):
        if len(parts) != 3:
            raise BadInput(N_("A budget line is: category; label; amount in euros."), code="bad_budget_line")
        budget.append(BudgetLineIn(category=parts[0], label=parts[1], amount_cents=_cents(parts[2])))
    resources = []
    for parts in _lines(_text(data, "support_resources")):
        if len(parts) < 3:
            raise BadInput(
                N_("A support resource is: QPV; kind; name; address; opening hours; contact."),
                code="bad_resource",
            )
        parts += [""] * (6 - len(parts))
        resources.append(
            SupportResourceIn(
                qpv_code=parts[0],
                kind=parts[1],
                name=parts[2],
                address=parts[3],
                opening_hours=parts[4],
                contact=";".join(parts[5:]),
            )
        )
    number = N_("A number of months, a rent in cents and a share in percent are whole numbers.")
    return ProgrammeIn(
        name=_text(data, "name"),
        territory=_text(data, "territory"),
        starts_on=_text(data, "starts_on") or None,  # type: ignore[arg-type]
        ends_on=_text(data, "ends_on") or None,  # type: ignore[arg-type]
        equipment=_multi(data, "equipment"),
        modes=_multi(data, "modes"),
        loan_months=_int(data, "loan_months", number, "bad_number"),
        rental_monthly_cents=_int(data, "rental_monthly_cents", number, "bad_number"),
        rental_programme_share=_int(data, "rental_programme_share", number, "bad_number"),
        minimum_grade=_text(data, "minimum_grade") or None,
        rules=data.get("_rules", {}),
        qpvs=qpvs,
        budget_lines=budget,
        support_resources=resources,
    )


_RULE_NUMBERS = ("laptop_from_age", "school_age_min", "school_age_max", "max_computers")
_WEIGHT_LABELS = {
    "no_computer": N_("No computer at home"),
    "per_school_child": N_("Per child of school age"),
    "social_hotel": N_("Hosted in a social hotel"),
    "no_internet": N_("No internet at home"),
    "per_month_waiting": N_("Per month of waiting"),
    "max_waiting_months": N_("Months of waiting counted at most"),
}


def _rule_values(rules: dict[str, Any]) -> dict[str, Any]:
    """A rule set as its form shows it."""
    values = {name: rules[name] for name in _RULE_NUMBERS}
    values |= {f"w_{name}": value for name, value in rules["weights"].items()}
    values |= {"tablets": rules["tablets"], "printers": rules["printers"]}
    values |= {"suitable_os": "\n".join(rules.get("suitable_os", []))}
    return values | {"connection": rules["connection"] or "none"}


def _rule_number(data: dict[str, Any], name: str) -> Any:
    text = _text(data, name)
    return int(text) if text.lstrip("-").isdigit() else text  # the rules say what is wrong with the rest


def _rules_in(data: dict[str, Any]) -> dict[str, Any]:
    """The rules form as `RuleSet.from_json` reads it."""
    rules = {
        **{name: _rule_number(data, name) for name in _RULE_NUMBERS},
        "tablets": bool(_text(data, "tablets")),
        "printers": bool(_text(data, "printers")),
        "weights": {name: _rule_number(data, f"w_{name}") for name in WEIGHT_FIELDS},
        "suitable_os": [line.strip() for line in _text(data, "suitable_os").splitlines() if line.strip()],
    }
    connection = _text(data, "connection")
    if connection:  # left out: the default
        rules["connection"] = None if connection == "none" else connection
    return rules


def _programme_values(programme: Any) -> dict[str, Any]:
    """A programme as its form shows it."""
    return {
        "name": programme.name,
        "territory": programme.territory,
        "starts_on": programme.starts_on.isoformat(),
        "ends_on": programme.ends_on.isoformat() if programme.ends_on else "",
        "equipment": programme.equipment,
        "modes": programme.modes,
        "loan_months": programme.loan_months or "",
        "rental_monthly_cents": programme.rental_monthly_cents
        if programme.rental_monthly_cents is not None
        else "",
        "rental_programme_share": programme.rental_programme_share
        if programme.rental_programme_share is not None
        else "",
        "minimum_grade": programme.minimum_grade or "",
        "qpvs": "\n".join(f"{q.code}; {q.name}" for q in programme.qpvs),
        "budget_lines": "\n".join(
            f"{b.category}; {b.label}; {b.amount_cents / 100:.2f}" for b in programme.budget_lines
        ),
        "support_resources": "\n".join(
            f"{r.qpv_code}; {r.kind}; {r.name}; {r.address}; {r.opening_hours}; {r.contact}"
            for r in programme.support_resources
        ),
    }


def _choices() -> dict[str, Any]:
    return {
        "equipment_choices": list(Equipment),
        "mode_choices": list(AttributionMode),
        "category_choices": list(BudgetCategory),
        "resource_choices": list(ResourceKind),
        "status_choices": list(HouseholdStatus),
        "ability_choices": list(Ability),
        "basis_choices": list(LegalBasis),
    }


class ProgrammePages(Controller):
    """Programmes: the list, a programme with its counts, the form."""

    path = "/programmes"
    include_in_schema = False
    guards = allow(*STAFF)

    @get("/")
    async def programmes_page(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Every programme with its number of households."""
        return page(
            request,
            "distribution/programmes.html",
            programmes=await service.list_programmes(),
            can_write=principal_of(request).role in service.PROGRAMME_WRITERS,
        )

    async def _form(
        self,
        request: Request[Any, Any, Any],
        *,
        values: dict[str, Any],
        programme_id: int | None = None,
        error: str | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        return page(
            request,
            "distribution/programme_form.html",
            status_code=status_code,
            values=values,
            programme_id=programme_id,
            error=error,
            **_choices(),
        )

    @get("/new", guards=allow(*service.PROGRAMME_WRITERS))
    async def new_page(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """An empty programme form."""
        today = datetime.date.today().isoformat()
        return await self._form(request, values={"starts_on": today, "equipment": [], "modes": ["donation"]})

    @post("/new", guards=allow(*service.PROGRAMME_WRITERS), status_code=303)
    async def create(self, request: Request[Any, Any, Any], data: Form) -> Response[Any]:
        """Create, then show the programme; refused, the form comes back filled."""
        try:
            made = await service.create_programme(
                _programme_in(data), service.Actor.of(principal_of(request))
            )
        except (DomainError, ValidationError) as error:
            message, status = form_error(error)
            return await self._form(request, values=_echo(data), error=message, status_code=status)
        return Redirect(path=f"/programmes/{made.id}", status_code=303)

    @get("/{programme_id:int}")
    async def programme_page(self, request: Request[Any, Any, Any], programme_id: RowId) -> Response[Any]:
        """The programme, its counts by status and QPV, its budget and support resources."""
        programme = await service.get_programme(programme_id)
        principal = principal_of(request)
        return page(
            request,
            "distribution/programme.html",
            programme=programme,
            statistics=await service.programme_statistics(programme.id),
            statuses=list(HouseholdStatus),
            can_write=principal.role in service.PROGRAMME_WRITERS,
            can_list=principal.role in service.HOUSEHOLD_READERS,
            **_choices(),
        )

    @get("/{programme_id:int}/edit", guards=allow(*service.PROGRAMME_WRITERS))
    async def edit_page(self, request: Request[Any, Any, Any], programme_id: RowId) -> Response[Any]:
        """The programme's form, filled."""
        programme = await service.get_programme(programme_id)
        return await self._form(request, values=_programme_values(programme), programme_id=programme.id)

    @post("/{programme_id:int}/edit", guards=allow(*service.PROGRAMME_WRITERS), status_code=303)
    async def edit(self, request: Request[Any, Any, Any], programme_id: RowId, data: Form) -> Response[Any]:
        """Save; the rule set is kept as it is (it is edited apart)."""
        programme = await service.get_programme(programme_id)
        try:
            given = _programme_in({**data, "_rules": programme.rules})
            await service.update_programme(programme.id, given, service.Actor.of(principal_of(request)))
        except (DomainError, ValidationError) as error:
            message, status = form_error(error)
            return await self._form(
                request, values=_echo(data), programme_id=programme.id, error=message, status_code=status
            )
        return Redirect(path=f"/programmes/{programme.id}", status_code=303)

    async def _rules(
        self,
        request: Request[Any, Any, Any],
        programme_id: int,
        values: dict[str, Any] | None = None,
        error: str | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        programme = await service.get_programme(programme_id)
        current = RuleSet.from_json({**programme.rules, "version": programme.rules_version}).to_json()
        return page(
            request,
            "distribution/programme_rules.html",
            status_code=status_code,
            programme=programme,
            values=values or _rule_values(current),
            connections=list(ConnectionKind),
            weights=[(name, _WEIGHT_LABELS[name]) for name in WEIGHT_FIELDS],
            error=error,
        )

    @get("/{programme_id:int}/rules", guards=allow(*service.PROGRAMME_WRITERS))
    async def rules_page(self, request: Request[Any, Any, Any], programme_id: RowId) -> Response[Any]:
        """The allocation rules and priority weights, one field each."""
        return await self._rules(request, programme_id)

    @post("/{programme_id:int}/rules", guards=allow(*service.PROGRAMME_WRITERS), status_code=303)
    async def save_rules(
        self, request: Request[Any, Any, Any], programme_id: RowId, data: Form
    ) -> Response[Any]:
        """Validated as a whole; refused, the form comes back as typed with the field named."""
        try:
            await service.replace_rules(programme_id, _rules_in(data))
        except DomainError as error:
            message, status = form_error(error)
            return await self._rules(request, programme_id, _echo(data), message, status)
        return Redirect(path=f"/programmes/{programme_id}", status_code=303)

    async def _census(
        self,
        request: Request[Any, Any, Any],
        programme_id: int,
        *,
        values: dict[str, Any],
        report: CensusReport | None = None,
        content: str = "",
        kept: str = "",
        error: str | None = None,
        field: str = "",
        status_code: int = 200,
    ) -> Response[Any]:
        return page(
            request,
            "distribution/census.html",
            status_code=status_code,
            programme=await service.get_programme(programme_id),
            values=values,
            report=report,
            content=content,
            kept=kept,
            error=error,
            field=field,
            names_referent=principal_of(request).role in service.HOUSEHOLD_MANAGERS,
            today=datetime.date.today().isoformat(),
            **_choices(),
        )

    @get("/{programme_id:int}/census", guards=allow(*service.HOUSEHOLD_READERS))
    async def census_page(self, request: Request[Any, Any, Any], programme_id: RowId) -> Response[Any]:
        """Upload a census spreadsheet: it is checked first, then imported on confirmation."""
        values = {"legal_basis": LegalBasis.PUBLIC_INTEREST.value, "notice_given_on": datetime.date.today()}
        return await self._census(request, programme_id, values={k: str(v) for k, v in values.items()})

    @post(
        "/{programme_id:int}/census",
        guards=allow(*service.HOUSEHOLD_READERS),
        request_max_body_size=CENSUS_PAGE_LIMIT,
        status_code=200,
    )
    async def census(
        self, request: Request[Any, Any, Any], programme_id: RowId, data: MultipartForm
    ) -> Response[Any]:
        """Check (a dry run, the file kept in the page), then import that same file on confirmation.

        `step=check` runs the dry run; `step=import` imports, all or nothing or its valid rows.
        A check refused for what the form says (the notice version, say) keeps the file: the
        referent corrects the field and checks again without choosing the file a second time.
        """
        fields = ("legal_basis", "notice_version", "notice_given_on", "referent", "mode", "filename")
        values = {name: _text(data, name) for name in fields}
        importing = _text(data, "step") == "import"
        content = _text(data, "content")
        raw = b""
        try:
            upload = data.get("file")
            if isinstance(upload, UploadFile) and upload.filename and not importing:
                raw = await upload.read()
                values["filename"] = upload.filename
            elif content:
                try:
                    raw = base64.b64decode(content, validate=True)
                except (binascii.Error, ValueError):
                    raise BadInput(
                        N_("Check the file again, then import it."), code="file_required"
                    ) from None
            if not raw:
                raise BadInput(
                    N_("Check the file again, then import it.")
                    if importing
                    else N_("Choose the census file."),
                    code="file_required",
                )
            options = census.census_options({**values, "dry_run": "false" if importing else "true"})
            report = await census.import_census(
                programme_id, io.BytesIO(raw), values["filename"], options, principal_of(request)
            )
        except census.CensusRefused as refused:
            report = CensusReport.model_validate(refused.extra["report"])
            return await self._census(
                request,
                programme_id,
                values=values,
                report=report,
                content=content if importing else "",
                error=render_error(refused),
                status_code=422,
            )
        except DomainError as error:
            message, status = form_error(error)
            field = str(error.extra.get("field", ""))
            keep = bool(raw) and not importing and field in _CENSUS_FIELDS  # the form is wrong, not the file
            return await self._census(
                request,
                programme_id,
                values=values,
                content=content if importing else "",
                kept=base64.b64encode(raw).decode("ascii") if keep else "",
                error=message,
                field=field,
                status_code=status,
            )
        kept = "" if importing else base64.b64encode(raw).decode("ascii")
        return await self._census(request, programme_id, values=values, report=report, content=kept)


def _echo(data: dict[str, Any]) -> dict[str, Any]:
    """What was typed, to fill the form again."""
    repeated = ("equipment", "modes", "requests")
    return {name: (_multi(data, name) if name in repeated else _text(data, name)) for name in data}


def _household_in(data: dict[str, Any], programme: int) -> dict[str, Any]:
    """The needs form's fields as the schemas take them."""
    years_text = _text(data, "children_birth_years")
    try:
        years = [int(y) for y in re.split(r"[\s,;]+", years_text) if y]
    except ValueError:
        raise BadInput(
            N_("Children are listed by birth year, e.g. 2015, 2018."), code="bad_birth_years"
        ) from None
    number = N_("Adults and computers are counted in whole numbers.")
    values: dict[str, Any] = {
        "programme": programme,
        "qpv_code": _text(data, "qpv_code"),
        "school": _text(data, "school"),
        "family_reference": _text(data, "family_reference") or None,
        "adults": _int(data, "adults", number, "bad_number") or 0,
        "children_birth_years": years,
        "computers": _int(data, "computers", number, "bad_number") or 0,
        "has_printer": bool(_text(data, "has_printer")),
        "has_internet": bool(_text(data, "has_internet")),
        "can_pay_rent": _text(data, "can_pay_rent") or "unknown",
        "can_install": _text(data, "can_install") or "unknown",
        "can_use": _text(data, "can_use") or "unknown",
        "training_accepted": bool(_text(data, "training_accepted")),
        "requests": _multi(data, "requests"),
        "social_hotel": bool(_text(data, "social_hotel")),
        "waiting_since": _text(data, "waiting_since") or None,
    }
    if "referent" in data:
        values["referent"] = _text(data, "referent") or None
    return values


def _household_values(household: Any) -> dict[str, Any]:
    return {
        "qpv_code": household.qpv_code,
        "school": household.school,
        "family_reference": household.family_reference or "",
        "referent": household.referent or "",
        "adults": household.adults,
        "children_birth_years": ", ".join(str(y) for y in household.children_birth_years),
        "computers": household.computers,
        "has_printer": household.has_printer,
        "has_internet": household.has_internet,
        "can_pay_rent": household.can_pay_rent,
        "can_install": household.can_install,
        "can_use": household.can_use,
        "training_accepted": household.training_accepted,
        "requests": household.requests,
        "social_hotel": household.social_hotel,
        "waiting_since": household.waiting_since.isoformat(),
    }


class HouseholdPages(Controller):
    """Households: the list (no names), the needs form, a household's page, the purge."""

    path = "/households"
    include_in_schema = False
    guards = allow()  # a household's pages answer 404 to the roles that never see households

    @get("/", guards=allow(*service.HOUSEHOLD_READERS))
    async def households_page(
        self,
        request: Request[Any, Any, Any],
        programme: OptionalQueryId = None,
        status: Annotated[str | None, QueryParameter(max_length=20)] = None,
        qpv: Annotated[str | None, QueryParameter(max_length=20)] = None,
        school: Annotated[str | None, QueryParameter(max_length=200)] = None,
        order: Annotated[str, QueryParameter(max_length=10)] = "code",
        priority_min: Annotated[int | None, QueryParameter(ge=0, le=100_000)] = None,
    ) -> Response[Any]:
        """Filtered by programme, status, QPV, school and priority; F codes and composition, never names."""
        principal = principal_of(request)
        programmes = await service.list_programmes()
        if programme is None and len(programmes) == 1:
            programme = programmes[0].id
        chosen = await service.get_programme(programme) if programme else None
        filters = {"programme": programme, "status": status, "qpv": qpv, "school": school}
        ranked = order == "priority" or priority_min is not None
        if ranked:
            households = await commission.households_by_priority(
                principal,
                datetime.date.today(),
                **filters,
                priority_min=priority_min,
                limit=service.LIST_LIMIT,
            )
        else:
            households = await service.list_households(principal, **filters, limit=service.LIST_LIMIT)
        return page(
            request,
            "distribution/households.html",
            households=households,
            ranked=ranked,
            order="priority" if ranked else "code",
            priority_min=priority_min,
            programmes=programmes,
            programme=chosen,
            status=status or "",
            qpv=qpv or "",
            school=school or "",
            schools=await service.schools(programme),
            can_write=principal.role in service.HOUSEHOLD_READERS,
            can_purge=principal.role in PURGERS,
            **_choices(),
        )

    async def _form(
        self,
        request: Request[Any, Any, Any],
        programme_id: int,
        *,
        values: dict[str, Any],
        code: str | None = None,
        error: str | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        return page(
            request,
            "distribution/household_form.html",
            status_code=status_code,
            programme=await service.get_programme(programme_id),
            values=values,
            code=code,
            error=error,
            names_referent=principal_of(request).role in service.HOUSEHOLD_MANAGERS,
            today=datetime.date.today().isoformat(),
            **_choices(),
        )

    @get("/new", guards=allow(*service.HOUSEHOLD_READERS))
    async def new_page(
        self, request: Request[Any, Any, Any], programme: OptionalQueryId = None
    ) -> Response[Any]:
        """The needs form for a programme (the only one, or the one chosen)."""
        if programme is None:
            programmes = await service.list_programmes()
            if len(programmes) != 1:
                return Redirect(path="/programmes", status_code=303)
            programme = programmes[0].id
        values = {"adults": 1, "computers": 0, "waiting_since": datetime.date.today().isoformat()}
        return await self._form(request, programme, values=values)

    @post("/new", guards=allow(*service.HOUSEHOLD_READERS), status_code=303)
    async def create(
        self, request: Request[Any, Any, Any], data: Form, programme: OptionalQueryId = None
    ) -> Response[Any]:
        """Record the household, then show its page (where its personal data is added)."""
        programme_id = programme or _int(data, "programme", N_("Choose a programme."), "bad_programme") or 0
        try:
            made = await service.create_household(
                HouseholdIn.model_validate(_household_in(data, programme_id)), principal_of(request)
            )
        except (DomainError, ValidationError) as error:
            message, status = form_error(error)
            return await self._form(
                request, programme_id, values=_echo(data), error=message, status_code=status
            )
        return Redirect(path=f"/households/{made.code}", status_code=303)

    @get("/purge", guards=allow(*PURGERS))
    async def purge_page(
        self,
        request: Request[Any, Any, Any],
        older_than: Annotated[str, QueryParameter(max_length=20)] = DEFAULT_PURGE,
        done: Annotated[int | None, QueryParameter(ge=0, le=MAX_ID)] = None,
    ) -> Response[Any]:
        """How many households a purge would erase, and the button."""
        return await self._purge(request, older_than, done=done)

    async def _purge(
        self,
        request: Request[Any, Any, Any],
        older_than: str,
        *,
        done: int | None = None,
        error: str | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        count, cutoff = None, None
        if error is None:
            try:
                cutoff = cutoff_before(older_than, utcnow())
                count = await service.purge_candidates(cutoff)
            except DomainError as refused:
                error, status_code = form_error(refused)
        return page(
            request,
            "distribution/purge.html",
            status_code=status_code,
            older_than=older_than,
            count=count,
            cutoff=cutoff,
            done=done,
            error=error,
        )

    @post("/purge", guards=allow(*PURGERS), status_code=303)
    async def purge(self, request: Request[Any, Any, Any], data: Form) -> Response[Any]:
        """Purge, then say how many households were erased; the audit line names who did it."""
        older_than = _text(data, "older_than") or DEFAULT_PURGE
        try:
            cutoff = cutoff_before(older_than, utcnow())
            result = await service.purge(cutoff, service.Actor.of(principal_of(request)), via="web")
        except DomainError as error:
            message, status = form_error(error)
            return await self._purge(request, older_than, error=message, status_code=status)
        return Redirect(
            path=f"/households/purge?older_than={older_than}&done={result.households}", status_code=303
        )

    async def _household(
        self,
        request: Request[Any, Any, Any],
        code: str,
        *,
        status_error: str | None = None,
        person_error: str | None = None,
        person_values: dict[str, Any] | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        principal = principal_of(request)
        household = await service.get_household(code, principal)
        ref = await service.household_ref(household.code, principal)
        readable = await service.may_read_personal_data(principal, ref)
        person = (
            await service.read_personal_data(
                household.code, principal, purpose="detail_page", route=request.url.path
            )
            if readable
            else None
        )
        programme = await service.get_programme(household.programme)
        return page(
            request,
            "distribution/household.html",
            status_code=status_code,
            household=household,
            programme=programme,
            proposal=await commission.household_proposal(ref.id, gettext, datetime.date.today()),
            decisions=await commission.household_decisions(ref.id),
            allocations=await matching.list_allocations(household_id=ref.id),
            convocations=await rounds.household_appointments(ref.id),
            appointment_label=lambda s: AppointmentStatus(s).label,
            decision_kinds=DecisionKind,
            allocation_statuses=AllocationStatus,
            modes=AttributionMode,
            person=person,
            readable=readable,
            person_values=person_values
            or (person.model_dump(mode="json") if person else {"legal_basis": "public_interest"}),
            next_statuses=sorted(
                TRANSITIONS[HouseholdStatus(household.status)], key=list(HouseholdStatus).index
            ),
            can_manage=principal.role in service.HOUSEHOLD_MANAGERS,
            status_error=status_error,
            person_error=person_error,
            today=datetime.date.today().isoformat(),
            **_choices(),
        )

    @get("/{code:str}")
    async def household_page(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Response[Any]:
        """Composition, needs, history; the personal data block only for whoever may read it (logged)."""
        return await self._household(request, code)

    @get("/{code:str}/edit")
    async def edit_page(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Response[Any]:
        """The needs form, filled."""
        household = await service.get_household(code, principal_of(request))
        return await self._form(
            request, household.programme, values=_household_values(household), code=household.code
        )

    @post("/{code:str}/edit", status_code=303)
    async def edit(self, request: Request[Any, Any, Any], code: FromPath[str], data: Form) -> Response[Any]:
        """Save the needs form."""
        principal = principal_of(request)
        household = await service.get_household(code, principal)
        try:
            values = _household_in(data, household.programme)
            del values["programme"]
            if principal.role not in service.HOUSEHOLD_MANAGERS:
                values.pop("referent", None)
            await service.update_household(household.code, HouseholdPatch.model_validate(values), principal)
        except (DomainError, ValidationError) as error:
            message, status = form_error(error)
            return await self._form(
                request,
                household.programme,
                values=_echo(data),
                code=household.code,
                error=message,
                status_code=status,
            )
        return Redirect(path=f"/households/{household.code}", status_code=303)

    @post("/{code:str}/status", status_code=303)
    async def change_status(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: Form
    ) -> Response[Any]:
        """One status change with its reason; refused, the page says why."""
        version = _int(data, "version", N_("Reload the page."), "bad_number")
        try:
            moved = await service.change_status(
                code, _text(data, "status"), _text(data, "reason"), principal_of(request), version=version
            )
        except DomainError as error:
            message, status = form_error(error)
            return await self._household(request, code, status_error=message, status_code=status)
        return Redirect(path=f"/households/{moved.code}", status_code=303)

    @post("/{code:str}/personal-data", status_code=303)
    async def set_personal_data(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: Form
    ) -> Response[Any]:
        """Record the family's contact with the legal basis and the notice given."""
        fields = (
            "last_name", "first_name", "phone", "email", "postal_address", "legal_basis", "notice_version",
            "notice_given_on",
        )  # fmt: skip
        values = {name: _text(data, name) for name in fields}
        try:
            given = PersonalDataIn.model_validate(
                {**values, "notice_given_on": values["notice_given_on"] or None}
            )
            stored = await service.set_personal_data(code, given, principal_of(request))
        except (DomainError, ValidationError) as error:
            message, status = form_error(error)
            return await self._household(
                request, code, person_error=message, person_values=values, status_code=status
            )
        return Redirect(path=f"/households/{stored.household}", status_code=303)
