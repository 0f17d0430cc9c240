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


async def collected_batch(manifest: bytes = MANIFEST) -> str:
    """A batch of two declared devices, collected by the driver."""
    await signed_agreement()
    batch = await submitted_batch()
    options = imports.ImportOptions(mode="all")
    await imports.import_manifest(
        batch.code, io.BytesIO(manifest), "parc.csv", options, await principal("donor")
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


WATCH_FEEDBACK = """() => {
  window.__feedbackClasses = [];
  new MutationObserver(() => window.__feedbackClasses.push(document.getElementById('feedback').className))
    .observe(document.getElementById('feedback'), {attributes: true, attributeFilter: ['class']});
}"""


async def test_a_reception_without_a_printer_receives_with_no_red_flash(page) -> None:
    code = await collected_batch(MANIFEST.replace(b"E2E-", b"NOPR-").replace(b"INV-1", b"INV-NOPR"))
    batch_display = f"B-{code[1:8]}-{code[8]}"
    station = await new_station(Stage.RECEPTION, "Réception sans imprimante")
    await login(page, "technician")
    await page.goto(f"/stations/{station.code}")
    await page.wait_for_function("document.activeElement && document.activeElement.id === 'scan-input'")
    assert "Scannez l'étiquette du lot (B…)" in await page.inner_text("#scan-hint")
    await page.evaluate(WATCH_FEEDBACK)

    await scan(page, batch_display)
    await page.wait_for_function("document.getElementById('station').dataset.progress === '0/2'")
    bar = await page.inner_text("#scan-context")
    assert "Réception du lot" in bar
    assert batch_display in bar
    assert "0 reçu sur 2" in bar
    assert "Terminer ce lot" in bar
    assert "Scannez chaque appareil" in await page.inner_text("#scan-hint")

    await scan(page, "NOPR-2")  # its serial: no tag yet, so the page prints it (amber), in the page
    await page.wait_for_selector("#label-panel:not([hidden])")
    assert "Collez l'étiquette" in await page.inner_text("#label-panel")
    await page.wait_for_function("(document.getElementById('label-frame').src || '').startsWith('blob:')")
    device = await Device.select().where(Device.serial == "NOPR-2").first()
    assert device["state"] == "collected"
    display = f"D-{device['code'][1:8]}-{device['code'][8]}"
    await page.wait_for_function("document.activeElement.id === 'scan-input'")

    await page.reload()  # the batch and the label to stick on survive a reload
    await page.wait_for_function("document.getElementById('station').dataset.progress === '0/2'")
    assert batch_display in await page.inner_text("#scan-context")
    assert await page.is_visible("#label-panel")
    assert await page.locator("#scan-log li.log-label button.label-action").count() == 1
    await page.evaluate(WATCH_FEEDBACK)

    await scan(page, display)  # the label stuck on the device: received, in green
    await page.wait_for_selector("#feedback.feedback-ok")
    await page.wait_for_selector("#label-panel", state="hidden")
    await page.wait_for_function("document.getElementById('station').dataset.progress === '1/2'")
    assert "1 reçu sur 2" in await page.inner_text("#scan-context")
    assert (await Device.select(Device.state).where(Device.id == device["id"]).first())["state"] == "received"

    await scan(page, "NEW-88")  # not in the manifest: "Add and receive" leads to the same step
    await page.wait_for_selector("#scan-form:not([hidden])")
    await page.select_option("#scan-form select[name=kind]", "laptop")
    await page.click("#scan-form-submit")
    await page.wait_for_selector("#label-panel:not([hidden])")
    extra = await Device.select().where(Device.serial == "NEW-88").first()
    await page.wait_for_function("(document.getElementById('label-frame').src || '').startsWith('blob:')")
    await page.wait_for_function("document.activeElement.id === 'scan-input'")
    await scan(page, f"D-{extra['code'][1:8]}-{extra['code'][8]}")
    await page.wait_for_function("document.getElementById('station').dataset.progress === '2/2'")
    assert (await Device.select(Device.state).where(Device.id == extra["id"]).first())["state"] == "received"

    classes = await page.evaluate("window.__feedbackClasses")
    assert classes
    assert not [c for c in classes if "error" in c], classes
    results = (await page.get_attribute("#station", "data-results")).split()
    assert "error" not in results
    assert {"ok", "label"} <= set(results)

    await page.click("#scan-context-leave")  # done: what is still missing
    await page.wait_for_selector("#feedback.feedback-label")
    assert "1 appareil déclaré pas encore reçu" in await page.inner_text("#feedback")
    assert await page.is_hidden("#scan-context")
