"""Receiving a donor batch at the reception station, in a real browser, typed as a scanner types."""

from __future__ import annotations

import asyncio
import io

import pytest

from refurb.core.kinds import DeviceKind
from refurb.core.stages import Stage
from refurb.devices.tables import Device
from refurb.intake import collection, imports
from refurb.intake.schemas import CollectionIn
from refurb.printing import service as printing
from refurb.printing.schemas import PrinterIn
from refurb.stations import service as stations
from tests.e2e.conftest import login, scan
from tests.helpers import event_rows, new_station, principal, signed_agreement, submitted_batch

pytestmark = pytest.mark.e2e

MANIFEST = (
    b"Num\xc3\xa9ro de s\xc3\xa9rie;Num\xc3\xa9ro d'inventaire;Type;Fabricant;Mod\xc3\xa8le\n"
    b"E2E-1;INV-1;Portable;Dell;Latitude 5490\n"
    b"E2E-2;;Unit\xc3\xa9 centrale;HP;ProDesk 600\n"
)


async def collected_batch() -> str:
    """A batch of two declared devices, collected by the driver."""
    await signed_agreement()
    batch = await submitted_batch()
    options = imports.ImportOptions(mode="all")
    await imports.import_manifest(
        batch.code, io.BytesIO(MANIFEST), "parc.csv", options, await principal("donor")
    )
    counts = CollectionIn(counts={DeviceKind.LAPTOP: 1, DeviceKind.DESKTOP: 1}, signer_name="Bob Durand")
    await collection.record_collection(batch.code, counts, await principal("driver"))
    return batch.code


async def test_receiving_a_batch_by_typed_serials(page, printer_server) -> None:
    code = await collected_batch()
    batch_display = f"B-{code[1:8]}-{code[8]}"
    await printing.create_printer(
        PrinterIn(
            name="Zebra réception",
            driver="zpl-tcp",
            host="127.0.0.1",
            port=printer_server.port,
            stock="57x32",
        )
    )
    station = await new_station(Stage.RECEPTION, "Réception e2e")
    await stations.set_printer(station.code, "Zebra réception")
    await login(page, "technician")
    await page.goto(f"/stations/{station.code}")
    await page.wait_for_function("document.activeElement && document.activeElement.id === 'scan-input'")

    await scan(page, batch_display)
    await page.wait_for_selector("#scan-context:not([hidden])")
    assert batch_display in await page.inner_text("#scan-context")
    assert batch_display in await page.locator("#scan-log li").first.inner_text()

    await scan(page, "e2e-1")  # the serial, typed in lower case
    device = await Device.select().where(Device.serial == "E2E-1").first()
    display = f"D-{device['code'][1:8]}-{device['code'][8]}"
    newest_has = "text => (document.querySelector('#scan-log li') || {}).textContent.includes(text)"
    await page.wait_for_function(newest_has, arg=display)
    assert await page.get_attribute("#station", "data-last-result") == "ok"
    assert (await Device.select(Device.state).where(Device.id == device["id"]).first())["state"] == "received"
    await asyncio.wait_for(printer_server.done.wait(), timeout=5)
    assert device["code"].encode() in b"".join(printer_server.received)  # the asset tag went to the Zebra
    assert await page.evaluate("document.activeElement.id") == "scan-input"

    await scan(page, "NEW-77")  # not in the manifest: one confirmation adds it
    await page.wait_for_selector("#scan-form:not([hidden])")
    assert "NEW-77" in await page.inner_text("#scan-form-title")
    await page.select_option("#scan-form select[name=kind]", "laptop")
    await page.fill("#scan-form input[name=manufacturer]", "Acer")
    await page.click("#scan-form-submit")
    await page.wait_for_function("document.activeElement.id === 'scan-input'")
    await page.wait_for_function("document.querySelectorAll('#scan-log li.log-ok').length >= 3")
    extra = await Device.select().where(Device.serial == "NEW-77").first()
    assert (extra["in_manifest"], extra["state"], extra["manufacturer"], extra["kind"]) == (
        False,
        "received",
        "Acer",
        "laptop",
    )

    await scan(page, "E2E-1")  # again: already received, with its D code and a reprint button
    await page.wait_for_function("document.querySelectorAll('#scan-log li.log-ok').length >= 4")
    latest = page.locator("#scan-log li").first
    assert display in await latest.inner_text()
    assert "déjà" in await latest.inner_text()
    assert await latest.locator("button.label-action").count() == 1
    assert [e["action"] for e in await event_rows(device["code"])] == [
        "declare",
        "collect",
        "label_printed",
        "receive",
    ]
    assert await Device.count().where(Device.serial == "NEW-77") == 1
