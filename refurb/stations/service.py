"""Stations and the scan dispatcher.

A scan is (station stage, scanned code) → a handler. Areas register handlers
for the code types they own (`register_handler`), resolvers that say what
their codes designate (`register_resolver`), the label their stage prints
(`register_stage_label`) and where a station's site is (`register_site_names`);
this module's own `register()` adds the device and station handlers. Stations
never import printing: `wiring` hands them a `LabelPrinting`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from refurb.core.choices import parse_choice
from refurb.core.codes import Alias, Code, CodeType, parse_code, read_scan
from refurb.core.errors import BadInput, DomainError, Forbidden, InvalidTransition, NotFound
from refurb.core.i18n import N_, fill
from refurb.core.lifecycle import TRANSITIONS, Action, clean_reason
from refurb.core.principal import Principal
from refurb.core.roles import Role
from refurb.core.stages import STAGE_ACTIONS, Stage, stage_roles
from refurb.db import fetch, single_write, write_transaction
from refurb.devices import service as devices
from refurb.devices.schemas import DeviceOut
from refurb.stations.schemas import (
    ContextOut,
    FieldSpec,
    FormSpec,
    PrintNote,
    ScanLogOut,
    ScanOut,
    StationOut,
    ThingOut,
)
from refurb.stations.tables import Scan, Station
from refurb.timestamps import utcnow
from refurb.web.i18n import gettext

__all__ = (
    "AliasResolution",
    "AliasScan",
    "LabelPrinting",
    "ScanOutcome",
    "ScanRequest",
    "StationRow",
    "create_station",
    "device_handler",
    "device_thing",
    "get_station",
    "list_stations",
    "may_use",
    "print_after_step",
    "recent_scans",
    "register",
    "register_alias_resolver",
    "register_context_reader",
    "register_handler",
    "register_refusal_link",
    "register_resolver",
    "register_site_names",
    "register_stage_label",
    "resolve",
    "scan",
    "set_printer",
    "station_context",
    "station_ref",
    "use_label_printing",
)

RECENT_SCANS = 10


# --- stations ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StationRow:
    """A station as the dispatcher needs it."""

    id: int
    code: Code
    name: str
    stage: Stage
    active: bool
    printer_id: int | None = None


@dataclass(frozen=True, slots=True)
class LabelPrinting:
    """What stations need of printing, handed over by `wiring` (stations never import printing)."""

    has_label: Callable[[str], bool]
    #: print `kind` for a code on a printer; (job id, printer name, reprint)
    print_label: Callable[..., Awaitable[tuple[int, str | None, bool]]]
    #: the id of a printer a station may print on by itself (refuses others, with why)
    station_printer: Callable[[str], Awaitable[int]]
    printer_names: Callable[[Sequence[int]], Awaitable[Mapping[int, str]]]


_printing: LabelPrinting | None = None
SiteNames = Callable[[Sequence[int]], Awaitable[Mapping[int, str]]]
_site_names: SiteNames | None = None
#: The label a station's scans print, per stage, and whether it prints once the step is recorded.
_stage_labels: dict[Stage, tuple[str, bool]] = {}


def use_label_printing(printing: LabelPrinting) -> None:
    """How stations print (wired once at start-up)."""
    global _printing
    _printing = printing


def register_site_names(names: SiteNames) -> None:
    """The area that owns locations says what a station's site is called."""
    global _site_names
    _site_names = names


def register_stage_label(stage: Stage, kind: str, *, after_step: bool = True) -> None:
    """The label `stage` prints; `after_step=False` when its area prints it before the step itself."""
    _stage_labels[stage] = (kind, after_step)


def stage_modes(stage: Stage) -> tuple[Action, ...]:
    """The actions a station of `stage` offers: its own, then the modes that apply there.

    From the lifecycle's transition table: a mode is offered when it applies to
    every state a device arrives in at that stage (the sources of the stage's
    own action), or when it undoes the stage's own action (it applies only to
    the state that action leaves). Rejecting is thus not offered at reception
    (a collected device cannot be rejected before it is received), while
    unloading is at the loading bench.
    """
    primary, *others = STAGE_ACTIONS[stage]
    arriving = TRANSITIONS[primary].sources
    left = frozenset({TRANSITIONS[primary].target})
    return (
        primary,
        *(a for a in others if arriving <= TRANSITIONS[a].sources or TRANSITIONS[a].sources <= left),
    )


def stage_label(stage: Stage) -> str | None:
    """The label kind a stage prints, if any."""
    found = _stage_labels.get(stage)
    return found[0] if found else None


async def _station_outs(rows: Sequence[Mapping[str, Any]]) -> list[StationOut]:
    site_ids = [r["site_id"] for r in rows if r["site_id"]]
    sites = await _site_names(site_ids) if _site_names and site_ids else {}
    printer_ids = [r["printer_id"] for r in rows if r["printer_id"]]
    printers = await _printing.printer_names(printer_ids) if _printing and printer_ids else {}
    outs = []
    for row in rows:
        code = parse_code(row["code"])
        stage = Stage(row["stage"])
        outs.append(
            StationOut(
                code=code.compact,
                display_code=code.display,
                name=row["name"],
                stage=stage,
                site=sites.get(row["site_id"]),
                active=row["active"],
                actions=[a.value for a in stage_modes(stage)],
                printer=printers.get(row["printer_id"]),
                label=stage_label(stage),
            )
        )
    return outs


_STATION_COLUMNS = (
    Station.id,
    Station.code,
    Station.name,
    Station.stage,
    Station.site.as_alias("site_id"),
    Station.active,
    Station.printer.as_alias("printer_id"),
)

_STATION_BY_CODE_SQL = (
    "SELECT id, code, name, stage, site AS site_id, active, printer AS printer_id "
    "FROM station WHERE code = {}"
)
_SCAN_INSERT_SQL = (
    'INSERT INTO scan (created_at, updated_at, station, "user", text, code, action, result, problem_code, '
    "message) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {})"
)


async def create_station(name: str, stage: Stage | str, *, site_id: int | None = None) -> StationOut:
    """Add a station with a fresh S code (`site_id`: the location it stands in)."""
    from refurb.codes.service import mint

    stage = parse_choice(
        Stage,
        stage,
        N_("'{stage}' is not a station stage (known: {known})."),
        code="bad_stage",
        field="stage",
    )
    if not name.strip():
        raise BadInput(N_("The station needs a name."), code="bad_station")
    async with write_transaction():
        (code,) = await mint(CodeType.STATION, 1)
        await Station.insert(Station(code=code.compact, name=name.strip(), stage=stage.value, site=site_id))
    return await get_station(code.compact)


async def _station_row(code_text: str) -> tuple[StationRow, Mapping[str, Any]]:
    code = parse_code(code_text, expected=CodeType.STATION)
    rows = await fetch(_STATION_BY_CODE_SQL, code.compact)  # every scan: no query object to build
    row = rows[0] if rows else None
    if row is None:
        raise NotFound(N_("No station {ref} is known."), ref=code.display)
    station = StationRow(row["id"], code, row["name"], Stage(row["stage"]), row["active"], row["printer_id"])
    return station, row


async def station_ref(code_text: str) -> StationRow:
    """What the dispatcher and printing need of a station."""
    return (await _station_row(code_text))[0]


async def set_printer(code_text: str, printer_name: str | None) -> StationOut:
    """Give a station a default printer (or none): its scans then print their labels."""
    station, _ = await _station_row(code_text)
    printer = None
    if printer_name:
        if _printing is None:
            raise BadInput(N_("Printing is not available."), code="printing_unavailable")
        printer = await _printing.station_printer(printer_name)
    async with write_transaction():
        await Station.update({Station.printer: printer}).where(Station.id == station.id)
    return await get_station(code_text)


async def get_station(code_text: str) -> StationOut:
    """A station by its code."""
    return (await _station_outs([(await _station_row(code_text))[1]]))[0]


async def find_station(name: str) -> StationOut | None:
    """A station by its exact name, if any."""
    row = await Station.select(*_STATION_COLUMNS).where(Station.name == name).first()
    return (await _station_outs([row]))[0] if row else None


async def list_stations() -> list[StationOut]:
    """Every station, by stage then name."""
    rows = await Station.select(*_STATION_COLUMNS).order_by(Station.stage).order_by(Station.name)
    return await _station_outs(rows)


def may_use(principal: Principal, stage: Stage) -> bool:
    """Whether the principal may work at a station of this stage."""
    return principal.role in stage_roles(stage)


async def recent_scans(code_text: str, limit: int = RECENT_SCANS) -> list[ScanLogOut]:
    """The last scans at a station, newest first."""
    station, _ = await _station_row(code_text)
    rows = (
        await Scan.select(
            Scan.created_at,
            Scan.text,
            Scan.code,
            Scan.action,
            Scan.result,
            Scan.problem_code,
            Scan.message,
            Scan.user.username,
        )
        .where(Scan.station == station.id)
        .order_by(Scan.id, ascending=False)
        .limit(limit)
    )
    return [
        ScanLogOut(
            at=r["created_at"],
            text=r["text"],
            code=r["code"],
            action=r["action"],
            result=r["result"],
            problem_code=r["problem_code"],
            message=r["message"],
            user=r["user.username"],
        )
        for r in rows
    ]


# --- what a station works on --------------------------------------------------

ContextReader = Callable[[Mapping[str, str], Principal], Awaitable[ContextOut | None]]
_context_readers: dict[Stage, ContextReader] = {}


def register_context_reader(stage: Stage, reader: ContextReader) -> None:
    """An area says, in its stage's words, where the thing a station works on stands."""
    _context_readers[stage] = reader


async def station_context(
    code_text: str, context: Mapping[str, str], principal: Principal
) -> ContextOut | None:
    """The station's context bar: what it works on and its progress (None: nothing, or nothing known)."""
    station, _ = await _station_row(code_text)
    if not may_use(principal, station.stage):
        raise Forbidden(
            N_("A {role} may not work at a {stage} station."), role=principal.role, stage=station.stage
        )
    reader = _context_readers.get(station.stage)
    if reader is None or not context:
        return None
    return await reader(context, principal)


# --- resolving codes ---------------------------------------------------------

Resolver = Callable[[Code, Principal], Awaitable[ThingOut]]
_resolvers: dict[CodeType, Resolver] = {}


def register_resolver(code_type: CodeType, resolver: Resolver) -> None:
    """An area says what its codes designate."""
    _resolvers[code_type] = resolver


def _device_thing(device: DeviceOut) -> ThingOut:
    title = " ".join(p for p in (device.manufacturer, device.model) if p) or gettext(device.kind.label)
    return ThingOut(
        type="device",
        code=device.code,
        display_code=device.display_code,
        title=title,
        state=device.state.value,
        url=f"/devices/{device.code}",
        details={"kind": device.kind.value, "serial": device.serial, "batch": device.batch},
    )


async def _resolve_device(code: Code, principal: Principal) -> ThingOut:
    return _device_thing(await devices.get(code.compact, principal))


def internal(principal: Principal, code: Code) -> None:
    """Donors do not see the workshop's internals: to them these codes do not exist."""
    if principal.scoped_to_organisation:
        raise NotFound(N_("No {kind} {ref} is known."), kind=code.type, ref=code.display)


async def _resolve_station(code: Code, principal: Principal) -> ThingOut:
    internal(principal, code)
    station = await get_station(code.compact)
    return ThingOut(
        type="station",
        code=station.code,
        display_code=station.display_code,
        title=station.name,
        url=f"/stations/{station.code}",
        details={"stage": station.stage.value},
    )


async def resolve(text: str, principal: Principal) -> ThingOut:
    """What scanned text designates: a code (checked first), or a donor asset tag / serial."""
    read = read_scan(text)
    if isinstance(read, Alias):
        return _device_thing(await devices.find_by_alias(read.text, principal))
    resolver = _resolvers.get(read.type)
    if resolver is None:
        raise NotFound(N_("No {kind} {ref} is known."), kind=read.type, ref=read.display)
    return await resolver(read, principal)


# --- scanning ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScanRequest:
    """Everything a handler needs about one scan."""

    station: StationRow
    principal: Principal
    text: str
    code: Code
    action: Action
    inputs: Mapping[str, Any]
    request_id: str | None = None
    idempotency_key: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    context: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AliasScan:
    """A scanned donor asset tag or serial, with what the station is working on."""

    station: StationRow
    principal: Principal
    text: str
    context: Mapping[str, str]
    inputs: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ScanOutcome:
    """A handler's answer; the message is a template with params, translated at the edge."""

    result: Literal["recorded", "already_recorded", "needs_input", "needs_label", "found"]
    message: str
    params: Mapping[str, Any]
    thing: ThingOut
    device: DeviceOut | None = None
    form: FormSpec | None = None
    context: Mapping[str, str] = field(default_factory=dict)
    printed: PrintNote | None = None
    secret: str | None = None  # shown once to the operator; never logged
    label: Mapping[str, str] | None = None  # needs_label: the label to print and stick on, then scan


#: Where a refusal sends the operator next, per problem code: (href template, link text template).
_refusal_links: dict[str, tuple[str, str]] = {}
_DEVICE_LINK = ("/devices/{code}", N_("Open the page of {ref}"))


def register_refusal_link(problem_code: str, href: str, text: str) -> None:
    """A refusal `problem_code` at a station links to a page: `href` and `text` may use {code} and {ref}."""
    _refusal_links[problem_code] = (href, text)


def _refusal_link(problem_code: str, code: Code) -> dict[str, str] | None:
    """The page a refused scan of `code` points to (its own page for a device), translated here."""
    found = _refusal_links.get(problem_code)
    if found is None and code.type is CodeType.DEVICE and problem_code != "not_found":
        found = _DEVICE_LINK
    if found is None:
        return None
    params = {"code": code.compact, "ref": code.display}
    return {"href": found[0].format(**params), "text": fill(found[1], params, gettext)}


Handler = Callable[[ScanRequest], Awaitable[ScanOutcome]]
_handlers: dict[tuple[Stage | None, CodeType], Handler] = {}
# (the device's code, the inputs to pass on) or an outcome that ends the scan (a question)
AliasResolution = tuple[Code, Mapping[str, Any]] | ScanOutcome
AliasResolver = Callable[[AliasScan], Awaitable[AliasResolution]]
_alias_resolvers: dict[Stage, AliasResolver] = {}


def register_alias_resolver(stage: Stage, resolver: AliasResolver) -> None:
    """An area decides what a donor's asset tag or serial scanned at `stage` designates."""
    _alias_resolvers[stage] = resolver


def handler_for(stage: Stage, code_type: CodeType) -> Handler | None:
    """The handler a scan of `code_type` at a `stage` station goes to."""
    return _handlers.get((stage, code_type)) or _handlers.get((None, code_type))


def register_handler(code_type: CodeType, handler: Handler, *, stage: Stage | None = None) -> None:
    """Handle scans of `code_type` at stations of `stage` (None: at every stage)."""
    _handlers[(stage, code_type)] = handler


def _reason_form(action: Action) -> FormSpec:
    return FormSpec(
        action=action.value,
        title=fill(N_("Why {action} this device?"), {"action": action}, gettext),
        fields=[FieldSpec(name="reason", label=gettext("Reason"), max_length=500)],
        submit=gettext("Confirm"),
    )


async def print_after_step(request: ScanRequest, kind: str) -> PrintNote | None:
    """The label of a step just recorded, on the station's printer if it has one.

    The step stands even when printing fails: the note then says why instead.
    """
    if request.station.printer_id is None or _printing is None or not _printing.has_label(kind):
        return None
    try:
        job, printer, reprint = await _printing.print_label(
            request.code.compact,
            kind,
            request.principal,
            base_url=request.base_url,
            printer_id=request.station.printer_id,
            station_id=request.station.id,
            request_id=request.request_id,
        )
    except DomainError as error:
        return PrintNote(kind=kind, job=0, printer=None, reprint=False, error=error.render(gettext))
    return PrintNote(kind=kind, job=job, printer=printer, reprint=reprint)


async def _device_handler(request: ScanRequest) -> ScanOutcome:
    """Apply the station's action to the scanned device; ask for a reason when one is needed.

    With a printer, a reception station prints the asset tag first (receiving
    needs it), and every station prints its stage's label once the step is recorded.
    """
    transition = TRANSITIONS[request.action]
    if transition.reason_required and clean_reason(request.inputs) is None:
        device = await devices.get(request.code.compact, request.principal)
        if device.state not in transition.sources:  # a mode that does not apply: name the state
            raise InvalidTransition(
                N_("{ref} is {state}: {action} applies only to a device that is {states}."),
                ref=device.display_code,
                state=device.state,
                action=request.action,
                states=", ".join(gettext(s.label) for s in sorted(transition.sources)),
            )
        # Ask only when the action can apply; otherwise the transition refuses with its reason.
        if request.principal.role in transition.roles:
            return ScanOutcome(
                "needs_input",
                N_("{ref}: a reason is needed to {action} it."),
                {"ref": device.display_code, "action": request.action},
                _device_thing(device),
                device,
                form=_reason_form(request.action),
            )
    printed: PrintNote | None = None
    result = await devices.transition(
        request.code.compact,
        request.action.value,
        dict(request.inputs),
        request.principal,
        station_id=request.station.id,
        station_code=request.station.code.compact,
        request_id=request.request_id,
        idempotency_key=request.idempotency_key,
    )
    device = result.device
    if result.outcome == "recorded":
        message = N_("{ref} is now {state}.")
    else:
        message = N_("{ref} is already {state}: already recorded.")
    label = _stage_labels.get(request.station.stage)
    if (
        result.outcome == "recorded"
        and label is not None
        and label[1]
        and request.action is STAGE_ACTIONS[request.station.stage][0]
    ):
        printed = await print_after_step(request, label[0])
    return ScanOutcome(
        result.outcome,
        message,
        {"ref": device.display_code, "state": device.state},
        _device_thing(device),
        device,
        printed=printed,
    )


device_handler = _device_handler
device_thing = _device_thing


def _station_action(station: StationRow, name: str | None) -> Action:
    allowed = stage_modes(station.stage)
    if name is None:
        return allowed[0]
    try:
        action = Action(name)
    except ValueError:
        action = None
    if action not in allowed:
        raise BadInput(
            N_("A {stage} station does not {action} devices (it can: {known})."),
            code="not_a_station_action",
            stage=station.stage,
            action=name[:40],
            known=", ".join(a.value for a in allowed),
        )
    return action


async def _log(
    station: StationRow,
    principal: Principal,
    text: str,
    code: Code | None,
    action: Action | None,
    result: str,
    message: str,
    problem_code: str | None = None,
) -> None:
    now = utcnow()
    async with single_write():  # the scan log: one INSERT
        await fetch(
            _SCAN_INSERT_SQL,
            now,
            now,
            station.id,
            principal.user_id,
            text.strip()[:200],
            code.compact if code else None,
            action.value if action else None,
            result,
            problem_code,
            message[:1000],
        )


async def scan(
    station_code: str,
    text: str,
    principal: Principal,
    *,
    action: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    request_id: str | None = None,
    idempotency_key: str | None = None,
    base_url: str = "http://127.0.0.1:8000",
    context: Mapping[str, str] | None = None,
) -> ScanOut:
    """Dispatch one scan; the outcome (or the refusal) is logged on the station."""
    station, _ = await _station_row(station_code)
    if not station.active:
        raise Forbidden(N_("Station {ref} is disabled."), code="station_disabled", ref=station.code.display)
    if not may_use(principal, station.stage):
        raise Forbidden(
            N_("A {role} may not work at a {stage} station."), role=principal.role, stage=station.stage
        )
    chosen: Action | None = None
    code: Code | None = None
    context = dict(context or {})
    inputs = dict(inputs or {})
    try:
        chosen = _station_action(station, action)
        read = read_scan(text)
        outcome: ScanOutcome | None = None
        if isinstance(read, Alias):
            alias_resolver = _alias_resolvers.get(station.stage)
            if alias_resolver is None:
                code = parse_code((await devices.find_by_alias(read.text, principal)).code)
            else:
                resolved = await alias_resolver(AliasScan(station, principal, read.text, context, inputs))
                if isinstance(resolved, ScanOutcome):
                    outcome = resolved
                else:
                    code, inputs = resolved[0], dict(resolved[1])
        else:
            code = read
        if outcome is None:
            assert code is not None
            handler = handler_for(station.stage, code.type)
            if handler is None:
                raise BadInput(
                    N_("A {kind} code is not expected at a {stage} station."),
                    code="unexpected_code",
                    kind=code.type,
                    stage=station.stage,
                )
            outcome = await handler(
                ScanRequest(
                    station,
                    principal,
                    text,
                    code,
                    chosen,
                    inputs,
                    request_id,
                    idempotency_key,
                    base_url,
                    context,
                )
            )
    except DomainError as error:
        await _log(station, principal, text, code, chosen, "refused", error.render(gettext), error.code)
        if code is not None and "link" not in error.extra:
            link = _refusal_link(error.code, code)
            if link is not None:
                error.extra["link"] = link
        raise
    message = fill(outcome.message, outcome.params, gettext)
    await _log(station, principal, text, code, chosen, outcome.result, message)
    label = stage_label(station.stage)
    reprint = None
    if outcome.result == "already_recorded" and outcome.device is not None and label is not None:
        reprint = {"code": outcome.device.code, "kind": label}
    return ScanOut(
        result=outcome.result,
        message=message,
        station=station.code.compact,
        thing=outcome.thing,
        device=outcome.device,
        form=outcome.form,
        context=dict(outcome.context) if outcome.context else context,
        printed=outcome.printed,
        reprint=reprint,
        secret=outcome.secret,
        label=dict(outcome.label) if outcome.label else None,
    )


def roles_at_stations() -> tuple[Role, ...]:
    """Every role that may work at some station."""
    return tuple(sorted({role for stage in Stage for role in stage_roles(stage)}))


def register() -> None:
    """The codes stations know themselves: devices (the stage's action) and stations."""
    register_resolver(CodeType.DEVICE, _resolve_device)
    register_resolver(CodeType.STATION, _resolve_station)
    register_handler(CodeType.DEVICE, _device_handler)
