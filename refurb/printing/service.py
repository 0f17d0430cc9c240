"""Printing use cases: render a label, run a print job, manage printers.

Label data comes from the area that owns it: areas `register_provider(kind, …)`.
A print is recorded only once it left Refurb (sent to the printer, or handed
over as a document to download); a failed send records a failed job and no
printed label, so nothing half-printed counts as printed.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import anyio.to_thread
from pydantic import BaseModel

from refurb.core.choices import parse_choice
from refurb.core.codes import Code, CodeType, parse_code
from refurb.core.errors import BadInput, Conflict, Forbidden, NotFound, Unavailable
from refurb.core.i18n import N_
from refurb.core.principal import Principal
from refurb.db import fetch, is_sqlite, write_transaction
from refurb.devices import service as devices
from refurb.printing.drivers import PrinterUnreachable, send_raw
from refurb.printing.kinds import KIND_ROLES, KIND_TYPES, LabelKind
from refurb.printing.pdf import SheetPlacement
from refurb.printing.render import Format, Rendered, RenderError, render
from refurb.printing.resources import labels_dir
from refurb.printing.schemas import PrinterIn, PrinterOut, PrintJobOut
from refurb.printing.stock import Stock
from refurb.printing.tables import PrintedLabel, Printer, PrintJob
from refurb.printing.templates import Catalogue, TemplateError, catalogue

__all__ = (
    "LabelContext",
    "StationLookup",
    "check_role",
    "create_printer",
    "default_kind",
    "has_label",
    "list_printers",
    "print_for_station",
    "print_labels",
    "print_once_for_station",
    "printer_names",
    "register_provider",
    "render_items",
    "render_label",
    "station_printer",
    "use_station_lookup",
    "was_printed",
)

MAX_LABELS_PER_JOB = 5000
_LOCK_CODES_SQL = (
    "SELECT pg_advisory_xact_lock(hashtext('label:' || c)) FROM unnest({}::text[]) AS c ORDER BY c"
)
DRIVERS = ("zpl-tcp", "pdf")
_UNKNOWN_KIND = N_("'{kind}' is not a kind of label (known: {known}).")


@dataclass(frozen=True, slots=True)
class LabelContext:
    """What providers need besides the code."""

    base_url: str
    crates: int = 1
    household_names: bool = False  # a programme may print names on convocation cards

    @property
    def qr_base(self) -> str:
        """The service address for QR codes: scheme and host in capitals keep the QR small."""
        parts = urlsplit(self.base_url)
        return urlunsplit((parts.scheme.upper(), parts.netloc.upper(), parts.path.rstrip("/"), "", ""))


Provider = Callable[[Code, Principal, LabelContext], Awaitable[list[BaseModel]]]
_providers: dict[LabelKind, Provider] = {}
_PROVIDER_AREAS = {
    LabelKind.WIPED: "erasure",
    LabelKind.SPEC: "workshop",
    LabelKind.LICENCE: "workshop",
    LabelKind.CONVOCATION: "distribution",
    LabelKind.RECEIPT: "distribution",
    LabelKind.MANIFEST: "distribution",
}
_DEFAULT_KIND = {
    CodeType.DEVICE: LabelKind.DEVICE,
    CodeType.BATCH: LabelKind.BATCH,
    CodeType.LOCATION: LabelKind.LOCATION,
    CodeType.HOUSEHOLD: LabelKind.CONVOCATION,
    CodeType.ROUND: LabelKind.MANIFEST,
}


def register_provider(kind: LabelKind, provider: Provider) -> None:
    """An area supplies the data of a label kind (one item per label)."""
    _providers[kind] = provider


def has_provider(kind: LabelKind) -> bool:
    """Whether the data of `kind` can be fetched yet."""
    return kind in _providers


def has_label(kind: str) -> bool:
    """Whether labels of the kind named `kind` can be printed yet (for stations)."""
    try:
        return LabelKind(kind) in _providers
    except ValueError:
        return False


def default_kind(code: Code) -> LabelKind:
    """The usual label of a code."""
    kind = _DEFAULT_KIND.get(code.type)
    if kind is None:
        raise BadInput(
            N_("Refurb prints no label for a {kind} code."), code="no_label_for_code", kind=code.type
        )
    return kind


def parse_kind(name: str | None, code: Code) -> LabelKind:
    """The requested kind, or the code's usual one."""
    if name is None:
        return default_kind(code)
    return parse_choice(LabelKind, name, _UNKNOWN_KIND, code="unknown_label_kind", field="kind")


def current_catalogue() -> Catalogue:
    """Templates and stocks, as on disk now; a broken edit is a clear 503, not a crash."""
    try:
        return catalogue(labels_dir())
    except TemplateError as error:
        raise Unavailable(
            N_("The label templates cannot be used: {reason}"),
            code="label_templates_broken",
            reason=str(error),
        ) from None


def resolve_stock(kind: LabelKind, name: str | None, cat: Catalogue) -> Stock:
    """The stock to print on: the requested one if the template suits it, else the template's default."""
    template = cat.templates[kind]
    chosen = name or template.default_stock
    if chosen not in cat.stocks:
        raise BadInput(
            N_("'{stock}' is not a label stock (known: {known})."),
            code="unknown_stock",
            stock=chosen[:40],
            known=", ".join(sorted(cat.stocks)),
        )
    if chosen not in template.stocks:
        raise BadInput(
            N_("The {kind} is not printed on {stock} (it fits: {known})."),
            code="stock_not_for_kind",
            kind=kind,
            stock=chosen,
            known=", ".join(template.stocks),
        )
    return cat.stocks[chosen]


async def check_role(kind: LabelKind, code: Code, principal: Principal) -> None:
    """403 for a label the role may not print — but 404 for a device the principal may not even see.

    A donor asking for another donor's asset tag learns nothing, as for its batch label.
    """
    if principal.role in KIND_ROLES[kind]:
        return
    if code.type is CodeType.DEVICE:
        await devices.get(code.compact, principal)
    raise Forbidden(N_("A {role} may not print the {kind}."), role=principal.role, kind=kind)


async def items_for(
    code: Code, kind: LabelKind, principal: Principal, context: LabelContext
) -> list[BaseModel]:
    """The data of every label `code` stands for (a batch code stands for its devices' tags)."""
    await check_role(kind, code, principal)
    if code.type is CodeType.BATCH and kind is LabelKind.DEVICE:
        items: list[BaseModel] = []
        batch_id = await devices.id_of("batch", code.compact)
        for device_code in await devices.codes_in_batch(batch_id, principal) if batch_id is not None else []:
            items.extend(await items_for(parse_code(device_code), kind, principal, context))
        return items
    if KIND_TYPES[kind] is not code.type:
        raise BadInput(
            N_("A {kind} is printed for a {expected} code, not for {ref}."),
            code="kind_not_for_code",
            kind=kind,
            expected=KIND_TYPES[kind],
            ref=code.display,
        )
    provider = _providers.get(kind)
    if provider is None:
        raise Conflict(
            N_("The {kind} cannot be printed yet: its data comes with the {area} area."),
            code="label_data_not_available",
            kind=kind,
            area=_PROVIDER_AREAS.get(kind, "?"),
        )
    return redact(kind, await provider(code, principal, context), context)


def redact(kind: LabelKind, items: list[BaseModel], context: LabelContext) -> list[BaseModel]:
    """Labels carry no household name unless the programme enables it."""
    if kind is LabelKind.CONVOCATION and not context.household_names:
        return [item.model_copy(update={"name": ""}) for item in items]
    return items


async def _render(
    kind: LabelKind,
    items: Sequence[BaseModel],
    stock: Stock,
    fmt: Format,
    dpi: int | None,
    placement: SheetPlacement | None,
    cat: Catalogue,
) -> Rendered:
    if not items:
        raise BadInput(N_("There is nothing to print."), code="nothing_to_print")
    if dpi not in (None, 203, 300):
        raise BadInput(N_("A printer has 203 or 300 dpi."), code="bad_dpi")
    work = functools.partial(render, cat, kind, items, stock, fmt, dpi=dpi, placement=placement)
    try:
        # Rendering is CPU work: off the event loop, so scans elsewhere are not held up.
        return await anyio.to_thread.run_sync(work)
    except RenderError as error:
        raise BadInput(
            N_("This label cannot be drawn: {reason}"), code=error.code, reason=str(error)
        ) from None


async def render_label(
    code_text: str,
    kind_name: str | None,
    fmt: Format,
    stock_name: str | None,
    dpi: int | None,
    placement: SheetPlacement | None,
    principal: Principal,
    context: LabelContext,
) -> Rendered:
    """A label to look at (not recorded as printed)."""
    code = parse_code(code_text)
    kind = parse_kind(kind_name, code)
    cat = current_catalogue()
    stock = resolve_stock(kind, stock_name, cat)
    items = await items_for(code, kind, principal, context)
    if fmt in (Format.SVG, Format.PNG):
        items = items[:1]  # a preview image shows one label
    if len(items) > MAX_LABELS_PER_JOB:
        raise BadInput(
            N_("At most {limit} labels in one job."), code="too_many_labels", limit=MAX_LABELS_PER_JOB
        )
    return await _render(kind, items, stock, fmt, dpi, placement, cat)


async def render_items(
    kind: LabelKind,
    items: Sequence[BaseModel],
    fmt: Format,
    stock_name: str | None = None,
    placement: SheetPlacement | None = None,
    context: LabelContext | None = None,
) -> Rendered:
    """Labels an area gathered itself (a round's convocation cards), drawn as one document."""
    cat = current_catalogue()
    if context is not None:
        items = redact(kind, list(items), context)
    if len(items) > MAX_LABELS_PER_JOB:
        raise BadInput(
            N_("At most {limit} labels in one job."), code="too_many_labels", limit=MAX_LABELS_PER_JOB
        )
    return await _render(kind, items, resolve_stock(kind, stock_name, cat), fmt, None, placement, cat)


async def render_sample(
    kind_name: str, fmt: Format, stock_name: str | None, dpi: int | None, placement: SheetPlacement | None
) -> Rendered:
    """A kind drawn with sample data: the preview of a template being edited."""
    from refurb.printing.kinds import SAMPLES

    kind = parse_choice(LabelKind, kind_name, _UNKNOWN_KIND, code="unknown_label_kind", field="kind")
    cat = current_catalogue()
    return await _render(
        kind, [SAMPLES[kind]], resolve_stock(kind, stock_name, cat), fmt, dpi, placement, cat
    )


# --- printers ----------------------------------------------------------------


def _printer_out(row: dict[str, Any]) -> PrinterOut:
    return PrinterOut(
        name=row["name"],
        driver=row["driver"],
        host=row["host"],
        port=row["port"],
        stock=row["stock"],
        dpi=row["dpi"],
        active=row["active"],
    )


async def create_printer(data: PrinterIn) -> PrinterOut:
    """Add a printer after checking its stock exists."""
    cat = current_catalogue()
    if data.stock not in cat.stocks:
        raise BadInput(
            N_("'{stock}' is not a label stock (known: {known})."),
            code="unknown_stock",
            stock=data.stock,
            known=", ".join(sorted(cat.stocks)),
        )
    if data.driver == "zpl-tcp" and not data.host:
        raise BadInput(N_("A zpl-tcp printer needs a host."), code="bad_printer")
    if data.driver == "zpl-tcp" and cat.stocks[data.stock].sheet is not None:
        raise BadInput(N_("A ZPL printer prints on rolls, not on sheets."), code="bad_printer")
    async with write_transaction():
        if await Printer.exists().where(Printer.name == data.name):
            raise Conflict(N_("A printer named '{name}' already exists."), name=data.name)
        await Printer.insert(Printer(**data.model_dump()))
    return await get_printer(data.name)


async def get_printer(name: str) -> PrinterOut:
    """A printer by name."""
    row = await Printer.select().where(Printer.name == name).first()
    if row is None:
        raise NotFound(N_("No printer is named '{name}'."), name=name[:100])
    return _printer_out(row)


async def list_printers() -> list[PrinterOut]:
    """Every printer, by name."""
    return [_printer_out(row) for row in await Printer.select().order_by(Printer.name)]


async def printer_id(name: str) -> int:
    """The id of a printer (for stations)."""
    row = await Printer.select(Printer.id).where(Printer.name == name).first()
    if row is None:
        raise NotFound(N_("No printer is named '{name}'."), name=name[:100])
    return row["id"]


# --- print jobs --------------------------------------------------------------


@dataclass(frozen=True)
class PrintOutcome:
    """A recorded job, and the document when it is for download."""

    job: PrintJobOut
    document: Rendered | None


async def print_labels(
    codes: Sequence[str],
    kind_name: str | None,
    principal: Principal,
    context: LabelContext,
    *,
    printer_name: str | None = None,
    printer_row_id: int | None = None,
    fmt: Format | None = None,
    stock_name: str | None = None,
    dpi: int | None = None,
    placement: SheetPlacement | None = None,
    station_id: int | None = None,
    request_id: str | None = None,
) -> PrintOutcome:
    """Print labels for `codes`: send them to a printer, or return the document to download."""
    if not codes:
        raise BadInput(N_("There is nothing to print."), code="nothing_to_print")
    parsed = list(dict.fromkeys(parse_code(text) for text in codes))
    kind = parse_kind(kind_name, parsed[0])
    printer = None
    if printer_name is not None or printer_row_id is not None:
        where = Printer.name == printer_name if printer_name is not None else Printer.id == printer_row_id
        printer = await Printer.select().where(where).first()
        if printer is None:
            raise NotFound(N_("No printer is named '{name}'."), name=(printer_name or "")[:100])
        if not printer["active"]:
            raise Conflict(
                N_("The printer '{name}' is disabled."), code="printer_disabled", name=printer["name"]
            )
    cat = current_catalogue()
    if printer is not None:
        fmt = Format.ZPL if printer["driver"] == "zpl-tcp" else Format.PDF
        stock_name = stock_name or printer["stock"]
        # a thermal printer has one resolution: dots must be its dots
        dpi = printer["dpi"] if printer["driver"] == "zpl-tcp" else dpi or printer["dpi"]
    fmt = fmt or Format.PDF
    if fmt not in (Format.PDF, Format.ZPL):
        raise BadInput(N_("Print jobs are PDF or ZPL."), code="bad_format")
    stock = resolve_stock(kind, stock_name, cat)
    items: list[BaseModel] = []
    for code in parsed:
        items.extend(await items_for(code, kind, principal, context))
        if len(items) > MAX_LABELS_PER_JOB:
            raise BadInput(
                N_("At most {limit} labels in one job."), code="too_many_labels", limit=MAX_LABELS_PER_JOB
            )
    rendered = await _render(kind, items, stock, fmt, dpi, placement, cat)
    printed_codes = [getattr(item, "code", "") for item in items]
    job_values = {
        "user": principal.user_id,
        "printer": printer["id"] if printer else None,
        "station": station_id,
        "kind": kind.value,
        "format": fmt.value,
        "stock": stock.name,
        "dpi": dpi or stock.dpi,
        "codes": printed_codes,
        "labels": len(items),
    }
    if printer is not None and printer["driver"] == "zpl-tcp":
        try:
            await send_raw(printer["host"], printer["port"], rendered.content)
        except PrinterUnreachable as error:
            async with write_transaction():
                await PrintJob.insert(PrintJob(**job_values, status="failed", error=str(error)))
            raise Unavailable(
                N_("The printer '{name}' did not take the job: {reason}. Nothing was printed."),
                code="printer_unreachable",
                name=printer["name"],
                reason=str(error),
            ) from None
    job = await _record(job_values, kind, printed_codes, principal, station_id, request_id, printer)
    return PrintOutcome(job, None if printer is not None and printer["driver"] == "zpl-tcp" else rendered)


async def _record(
    job_values: dict[str, Any],
    kind: LabelKind,
    printed_codes: list[str],
    principal: Principal,
    station_id: int | None,
    request_id: str | None,
    printer: dict[str, Any] | None,
) -> PrintJobOut:
    """Record a successful print: the job, each printed label, and a note in each device's history."""
    unique = list(dict.fromkeys(printed_codes))
    async with write_transaction():
        if not is_sqlite():  # two jobs for one code agree on which printed it first
            await fetch(_LOCK_CODES_SQL, unique)
        before = {
            row["code"]
            for row in await PrintedLabel.select(PrintedLabel.code).where(
                PrintedLabel.code.is_in(unique) & (PrintedLabel.kind == kind.value)
            )
        }
        reprint = bool(before)
        rows = await PrintJob.insert(PrintJob(**job_values, status="printed", reprint=reprint)).returning(
            PrintJob.id
        )
        job_id = rows[0]["id"]
        await PrintedLabel.insert(*(PrintedLabel(job=job_id, code=code, kind=kind.value) for code in unique))
        device_codes = [code for code in unique if code.startswith(CodeType.DEVICE.value)]
        note = {"kind": kind.value, "job": job_id, "printer": printer["name"] if printer else None}
        for reprinted in (False, True):
            await devices.note_labels_printed(
                [code for code in device_codes if (code in before) is reprinted],
                {**note, "reprint": reprinted},
                principal,
                station_id=station_id,
                request_id=request_id,
            )
    return PrintJobOut(
        id=job_id,
        status="printed",
        kind=kind,
        format=job_values["format"],
        stock=job_values["stock"],
        dpi=job_values["dpi"],
        labels=job_values["labels"],
        printer=printer["name"] if printer else None,
        reprint=reprint,
        codes=unique,
    )


async def was_printed(code: str, kind: LabelKind) -> bool:
    """Whether a label of `kind` for `code` has ever been printed (or downloaded)."""
    return await PrintedLabel.exists().where((PrintedLabel.code == code) & (PrintedLabel.kind == kind.value))


# --- for stations (wired by `wiring`: printing never imports stations) ---------------


async def print_for_station(
    code: str,
    kind: str,
    principal: Principal,
    *,
    base_url: str,
    printer_id: int,
    station_id: int,
    request_id: str | None,
) -> tuple[int, str | None, bool]:
    """Print a station's label on its printer; (job id, printer name, reprint)."""
    outcome = await print_labels(
        [code],
        kind,
        principal,
        LabelContext(base_url=base_url),
        printer_row_id=printer_id,
        station_id=station_id,
        request_id=request_id,
    )
    return outcome.job.id, outcome.job.printer, outcome.job.reprint


_printing_now: dict[str, asyncio.Lock] = {}
_LOCK_TAG_SQL = "SELECT pg_advisory_xact_lock(hashtext({}))"


async def print_once_for_station(
    code: str,
    kind: LabelKind,
    principal: Principal,
    *,
    base_url: str,
    printer_id: int,
    station_id: int,
    request_id: str | None,
) -> tuple[int, str | None, bool] | None:
    """Print a label unless it already was (an asset tag): two scans of one device print one tag.

    On PostgreSQL the guard is a transaction-scoped advisory lock, so two replicas
    behind a load balancer agree too; SQLite runs one process, and its writers
    must not wait on a printer, so an in-process lock is the guard there.
    """
    if not is_sqlite():
        async with write_transaction():
            await fetch(_LOCK_TAG_SQL, f"print-once:{kind.value}:{code}")
            if await was_printed(code, kind):
                return None
            return await print_for_station(
                code,
                kind.value,
                principal,
                base_url=base_url,
                printer_id=printer_id,
                station_id=station_id,
                request_id=request_id,
            )
    lock = _printing_now.setdefault(code, asyncio.Lock())
    try:
        async with lock:
            if await was_printed(code, kind):
                return None
            return await print_for_station(
                code,
                kind.value,
                principal,
                base_url=base_url,
                printer_id=printer_id,
                station_id=station_id,
                request_id=request_id,
            )
    finally:
        if not lock.locked() and _printing_now.get(code) is lock:
            del _printing_now[code]


async def station_printer(name: str) -> int:
    """The id of a printer a station may print on by itself: a raw ZPL printer (a PDF needs a click)."""
    details = await get_printer(name)
    if details.driver != "zpl-tcp":
        raise BadInput(
            N_("A station prints by itself only on a zpl-tcp printer; '{name}' is {driver}."),
            code="station_printer_not_raw",
            name=name,
            driver=details.driver,
        )
    return await printer_id(name)


async def printer_names(ids: Sequence[int]) -> Mapping[int, str]:
    """Printers' names by id."""
    if not ids:
        return {}
    rows = await Printer.select(Printer.id, Printer.name).where(Printer.id.is_in(list(ids)))
    return {row["id"]: row["name"] for row in rows}


@dataclass(frozen=True, slots=True)
class StationFacts:
    """What printing needs of a station a print job names."""

    id: int
    display_code: str
    stage: str
    active: bool


StationLookup = Callable[[str], Awaitable[StationFacts]]
_station_lookup: StationLookup | None = None


def use_station_lookup(lookup: StationLookup) -> None:
    """How printing reads a station by its code (wired once at start-up)."""
    global _station_lookup
    _station_lookup = lookup


async def station_facts(code: str) -> StationFacts:
    """A station a print job names; NotFound when stations are not wired."""
    if _station_lookup is None:
        raise NotFound(N_("No station {ref} is known."), ref=code[:20])
    return await _station_lookup(code)
