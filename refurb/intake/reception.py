"""The reception station: scan a batch label, then each of its devices.

A device is scanned by its D code, or by the donor's asset tag or the
manufacturer's serial, matched within the batch being received. A device the
manifest does not list is added after one confirmation, flagged "not in
manifest". Receiving prints the D-code asset tag on the station's printer.

A station without a printer receives in two scans, a normal (amber) step and
not a refusal: the first scan of a device whose tag was never printed answers
`needs_label` with the label to print; the page prints it (a PDF, in the page),
the technician sticks it on and scans it, and that scan receives the device.
Why not "received as soon as the PDF is produced": receiving means the machine
carries its asset tag, and only the scan of the stuck label proves it — a PDF
that never printed, or a label stuck on the wrong machine, is caught here
instead of at the erasure bench.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from refurb.core.codes import CodeType, parse_code
from refurb.core.errors import Conflict, GuardRefused, NotFound
from refurb.core.i18n import N_, Np_, fill
from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import Action
from refurb.core.stages import Stage
from refurb.db import fetch, is_sqlite, write_transaction
from refurb.devices import service as devices
from refurb.devices.schemas import DeviceOut
from refurb.intake import service as batches
from refurb.intake.schemas import BatchOut, BatchState
from refurb.intake.tables import Batch
from refurb.printing import service as printing
from refurb.printing.kinds import LabelKind
from refurb.stations import service as stations
from refurb.stations.schemas import ContextOut, FieldSpec, FormSpec, PrintNote, ThingOut
from refurb.web.i18n import gettext

__all__ = ("register",)

# The batch is at the workshop once one of its devices is received.
ARRIVING = (BatchState.DRAFT, BatchState.SUBMITTED, BatchState.SCHEDULED, BatchState.COLLECTED)


def _batch_thing(batch: BatchOut) -> ThingOut:
    return ThingOut(
        type="batch",
        code=batch.code,
        display_code=batch.display_code,
        title=batch.donor + (f" — {batch.reference}" if batch.reference else ""),
        state=batch.state.value,
        url=f"/batches/{batch.code}",
    )


async def _open_batch(code_text: str, principal: Any) -> BatchOut:
    batch = await batches.get_batch(code_text, principal)
    if batch.state is BatchState.CLOSED:
        raise Conflict(
            N_("Batch {ref} is closed: its reconciliation is final, nothing more is received into it."),
            code="batch_closed",
            ref=batch.display_code,
        )
    return batch


async def _batch_scanned(request: stations.ScanRequest) -> stations.ScanOutcome:
    """The batch label: the station now matches aliases within this batch."""
    batch = await _open_batch(request.code.compact, request.principal)
    census = await devices.batch_census(batch.id)
    received = sum(row["count"] for row in census if row["received"])
    expected = sum(row["count"] for row in census if row["in_manifest"]) or batch.announced
    return stations.ScanOutcome(
        "found",
        N_("Batch {ref} ({donor}): {received} of {expected} received. Scan each device."),
        {"ref": batch.display_code, "donor": batch.donor, "received": received, "expected": expected},
        _batch_thing(batch),
        context={"batch": batch.code},
    )


def _unexpected_form(text: str) -> FormSpec:
    kinds = [{"value": kind.value, "label": gettext(kind.label)} for kind in DeviceKind]
    identifiers = [
        {"value": "serial", "label": gettext("its serial number")},
        {"value": "asset_tag", "label": gettext("the donor's asset tag")},
    ]
    return FormSpec(
        action="receive",
        title=fill(N_("'{text}' is not in the manifest: add it to the batch?"), {"text": text}, gettext),
        fields=[
            FieldSpec(name="kind", label=gettext("Kind"), type="select", options=kinds),
            FieldSpec(
                name="identifier",
                label=fill(N_("'{text}' is"), {"text": text}, gettext),
                type="select",
                options=identifiers,
            ),
            FieldSpec(name="manufacturer", label=gettext("Manufacturer"), required=False, max_length=100),
            FieldSpec(name="model", label=gettext("Model"), required=False, max_length=200),
        ],
        submit=gettext("Add and receive"),
    )


async def _add_unexpected(batch: BatchOut, scan: stations.AliasScan) -> DeviceOut:
    """Register a device that turned up without a manifest line; two stations add it once."""
    try:
        kind = DeviceKind(str(scan.inputs.get("kind")))
    except ValueError:
        kind = DeviceKind.OTHER
    as_tag = scan.inputs.get("identifier") == "asset_tag"
    async with write_transaction():
        lock = "" if is_sqlite() else " FOR UPDATE"
        await fetch(f"SELECT id FROM batch WHERE id = {{}}{lock}", batch.id)  # noqa: S608
        existing = await devices.find_in_batch(scan.text, batch.id, scan.principal)
        if existing is not None:
            return existing
        return await devices.register(
            kind=kind,
            actor=devices.Actor.of(scan.principal),
            manufacturer=str(scan.inputs.get("manufacturer") or "")[:100],
            model=str(scan.inputs.get("model") or "")[:200],
            serial=None if as_tag else scan.text,
            asset_tag=scan.text if as_tag else None,
            batch_id=batch.id,
            donor_id=batch.donor_id,
            in_manifest=False,
        )


async def _alias_scanned(scan: stations.AliasScan) -> stations.AliasResolution:
    """An asset tag or serial: the batch's device, or (once confirmed) a new one "not in manifest"."""
    batch_code = scan.context.get("batch")
    if not batch_code:
        return parse_code((await devices.find_by_alias(scan.text, scan.principal)).code), scan.inputs
    batch = await _open_batch(batch_code, scan.principal)
    device = await devices.find_in_batch(scan.text, batch.id, scan.principal)
    if device is None:
        try:  # another batch's device: it is still the same machine, receive it
            device = await devices.find_by_alias(scan.text, scan.principal)
        except NotFound:
            device = None
    if device is not None:
        return parse_code(device.code), {}
    if "kind" not in scan.inputs:
        return stations.ScanOutcome(
            "needs_input",
            N_("'{text}' is not in the manifest of batch {ref}."),
            {"text": scan.text[:60], "ref": batch.display_code},
            _batch_thing(batch),
            form=_unexpected_form(scan.text[:60]),
            context={"batch": batch.code},
        )
    device = await _add_unexpected(batch, scan)
    return parse_code(device.code), {"in_manifest": False}


async def mark_received(batch_code: str) -> None:
    """The batch's first received device puts the batch in "received"."""
    row = await Batch.select(Batch.id, Batch.state).where(Batch.code == batch_code).first()
    if row is None or BatchState(row["state"]) not in ARRIVING:
        return  # the usual case: read, no write
    async with write_transaction():
        await batches.move(row["id"], BatchState.RECEIVED, ARRIVING)


async def _print_tag(request: stations.ScanRequest) -> PrintNote | None:
    """The asset tag on the station's printer, once: receiving needs it printed."""
    done = await printing.print_once_for_station(
        request.code.compact,
        LabelKind.DEVICE,
        request.principal,
        base_url=request.base_url,
        printer_id=request.station.printer_id,
        station_id=request.station.id,
        request_id=request.request_id,
    )
    if done is None:
        return None
    job, printer, reprint = done
    return PrintNote(kind=LabelKind.DEVICE.value, job=job, printer=printer, reprint=reprint)


async def _label_needed(request: stations.ScanRequest) -> stations.ScanOutcome:
    """No printer and no tag yet: print it from the page, stick it on, scan it (an amber step)."""
    device = await devices.get(request.code.compact, request.principal)
    return stations.ScanOutcome(
        "needs_label",
        N_("{ref}: print its asset tag, stick it on the device, then scan the label."),
        {"ref": device.display_code},
        stations.device_thing(device),
        device,
        context=request.context,
        label={"code": device.code, "kind": LabelKind.DEVICE.value},
    )


async def _device_scanned(request: stations.ScanRequest) -> stations.ScanOutcome:
    printed = None
    if request.station.printer_id is not None and request.action is Action.RECEIVE:
        printed = await _print_tag(request)
    try:
        outcome = await stations.device_handler(request)
    except GuardRefused as refused:
        # the tag check refused and nothing changed: the usual first scan at a station without a printer
        if refused.code != "asset_tag_not_printed" or request.station.printer_id is not None:
            raise
        return await _label_needed(request)
    if printed is not None and outcome.printed is None:
        outcome = dataclasses.replace(outcome, printed=printed)
    if outcome.result == "recorded" and outcome.device is not None and outcome.device.batch:
        await mark_received(outcome.device.batch)
    return outcome


async def _context(context: Mapping[str, str], principal: Any) -> ContextOut | None:
    """The reception bar: the batch, received of declared, and which declared devices are still missing."""
    code = context.get("batch")
    if not code:
        return None
    batch = await batches.get_batch(code, principal)
    census = await devices.batch_census(batch.id)
    received = sum(row["count"] for row in census if row["received"])
    expected = sum(row["count"] for row in census if row["in_manifest"]) or batch.announced or 0
    missing = sum(row["count"] for row in census if row["in_manifest"] and not row["received"])
    return ContextOut(
        code=batch.code,
        display_code=batch.display_code,
        title=_batch_thing(batch).title,
        heading=gettext("Receiving batch"),
        progress=fill(
            Np_("{received} of {expected} received", "{received} of {expected} received", key="received"),
            {"received": received, "expected": expected},
            gettext,
        ),
        done=received,
        total=expected,
        missing=fill(
            Np_(
                "{count} declared device not received yet",
                "{count} declared devices not received yet",
            ),
            {"count": missing},
            gettext,
        )
        if missing
        else None,
        leave=gettext("Done with this batch"),
    )


def register() -> None:
    """Batch labels and donor aliases mean something at reception."""
    stations.register_handler(CodeType.BATCH, _batch_scanned, stage=Stage.RECEPTION)
    stations.register_handler(CodeType.DEVICE, _device_scanned, stage=Stage.RECEPTION)
    stations.register_alias_resolver(Stage.RECEPTION, _alias_scanned)
    stations.register_context_reader(Stage.RECEPTION, _context)
    # the tag prints before the step (receiving needs it), not after
    stations.register_stage_label(Stage.RECEPTION, LabelKind.DEVICE.value, after_step=False)
