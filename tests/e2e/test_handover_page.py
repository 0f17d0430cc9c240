"""The bus's hand-over page in Chromium, with the network gone: two hand-overs done offline (scans typed
as a wedge scanner does, a signature drawn with the mouse), the queue surviving a reload, sent exactly
once when the network is back; then a hand-over another client recorded meanwhile, ending in the
conflict list (axe-core on every load, through the `page` fixture)."""

from __future__ import annotations

import httpx
import pytest

from refurb.devices.tables import Device
from refurb.distribution.tables import Handover
from tests.conftest import bearer
from tests.e2e.conftest import login, scan
from tests.integration.bus import ROUNDS, handover_body, round_with_households

pytestmark = pytest.mark.e2e

WAIT_MS = 15_000


async def _round_out(server, tokens) -> dict:
    """A round with three convoked households, one reserved laptop each, loaded, the bus out."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        coordinator, staff = bearer(tokens["coordinator"]), bearer(tokens["bus_staff"])
        setup = await round_with_households(http, coordinator, 3)
        code = setup["round"]["code"]
        assert (
            await http.post(f"{ROUNDS}/{code}/status", json={"status": "loading"}, headers=staff)
        ).is_success
        for device in setup["devices"]:
            loaded = await http.post(
                f"/api/v1/devices/{device}/actions/dispatch", json={"round": code}, headers=staff
            )
            assert loaded.status_code == 201, loaded.text
        assert (await http.post(f"{ROUNDS}/{code}/status", json={"status": "out"}, headers=staff)).is_success
    return setup


async def _waiting(page, count: int) -> None:
    await page.wait_for_function(
        f"document.getElementById('waiting').dataset.waiting === '{count}'", timeout=WAIT_MS
    )


async def _sign(page) -> None:
    await page.locator("#signature").scroll_into_view_if_needed()
    box = await page.locator("#signature").bounding_box()
    x, y = box["x"], box["y"]
    await page.mouse.move(x + 30, y + 60)
    await page.mouse.down()
    for step in range(1, 12):
        await page.mouse.move(x + 30 + step * 25, y + 60 + (step % 3) * 20)
    await page.mouse.up()


CONSOLE: list[str] = []


async def _hand_over(page, household: str, device: str, *, typed_name: str | None = None) -> None:
    await page.focus("#scan-input")
    await scan(page, household)
    await page.wait_for_selector("#family:not([hidden])")
    await scan(page, device)
    await page.wait_for_selector(f'#devices li[data-device="{device}"][data-state="scanned"]')
    await page.wait_for_selector("#agreement:not([hidden])")
    if typed_name:
        await page.fill("#typed-name", typed_name)
    else:
        await _sign(page)
    await page.check("#identity")
    await page.check("#support-given")
    await page.check('input[name="training"][value="accepted"]')
    await page.click("#confirm")
    try:
        await page.wait_for_selector("#family", state="hidden", timeout=WAIT_MS)
    except Exception:  # say what the page said, and what the browser's console saw
        said = await page.text_content("#message")
        raise AssertionError(f"{said} (console: {CONSOLE})") from None
    assert await page.get_attribute("#handover", "data-last-result") == "ok"


async def _rows(device: str) -> int:
    return await Handover.count().where(Handover.device.code == device)


async def test_hand_overs_done_offline_are_sent_once_and_a_refused_one_is_a_conflict(
    page, server, tokens
) -> None:
    setup = await _round_out(server, tokens)
    code, households, devices = setup["round"]["code"], setup["households"], setup["devices"]
    page.on("console", lambda m: CONSOLE.append(m.text))
    page.on("pageerror", lambda e: CONSOLE.append(str(e)))
    await login(page, "bus_staff")
    await page.goto(f"/rounds/{code}/handover")
    await page.wait_for_selector("#handover[data-ready=yes]", timeout=WAIT_MS)
    assert "3" in await page.text_content("#pack-state")
    await page.wait_for_function(
        "navigator.serviceWorker && navigator.serviceWorker.controller !== undefined"
    )
    await page.evaluate("navigator.serviceWorker.ready.then(() => true)")

    context = page.context
    await context.set_offline(True)
    # a scan of a device that is another family's is refused on the tablet itself
    await page.focus("#scan-input")
    await scan(page, households[0])
    await scan(page, devices[1])
    assert await page.get_attribute("#handover", "data-last-result") == "error"
    assert "réservé pour un autre foyer" in await page.text_content("#message")
    await page.click("#cancel")

    await _hand_over(page, households[0], devices[0])
    await _hand_over(page, households[1], devices[1], typed_name="Samira Benali")
    await _waiting(page, 2)
    assert "2 en attente d'envoi" in await page.text_content("#waiting")
    assert await _rows(devices[0]) == 0

    await (
        page.reload()
    )  # still offline: the page comes from the service worker's cache, the queue from IndexedDB
    await page.wait_for_selector("#handover[data-ready=yes]", timeout=WAIT_MS)
    await _waiting(page, 2)

    await context.set_offline(False)
    await _waiting(page, 0)
    assert [await _rows(d) for d in devices[:2]] == [1, 1]
    states = await Device.select(Device.code, Device.state).where(Device.code.is_in(devices))
    assert {r["code"]: r["state"] for r in states} == {
        devices[0]: "handed_over", devices[1]: "handed_over", devices[2]: "dispatched",
    }  # fmt: skip
    signed = await Handover.select(Handover.signature_sha256, Handover.typed_name).where(
        Handover.device.code.is_in(devices[:2])
    ).order_by(Handover.id)  # fmt: skip
    assert len(signed[0]["signature_sha256"]) == 64
    assert (signed[1]["signature_sha256"], signed[1]["typed_name"]) == ("", "Samira Benali")

    # The third family: served on this tablet offline, and meanwhile by another client online.
    await context.set_offline(True)
    await _hand_over(page, households[2], devices[2])
    await _waiting(page, 1)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        other = await http.post(
            f"{ROUNDS}/{code}/handovers",
            json=handover_body(households[2], devices[2]),
            headers={**bearer(tokens["bus_staff"]), "idempotency-key": "other-tablet-1"},
        )
        assert other.status_code == 201, other.text
    await context.set_offline(False)
    await _waiting(page, 0)
    await page.wait_for_selector(
        '#conflict-list li[data-problem="device_already_handed_over"]', timeout=WAIT_MS
    )
    assert await _rows(devices[2]) == 1
    await page.goto("/")  # the start page tells bus staff what the tablet still has to send
    await page.wait_for_function("document.getElementById('bus-waiting').textContent !== ''")
    assert await page.text_content("#bus-waiting") == "0 en attente d'envoi"
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        listed = (await http.get(f"{ROUNDS}/{code}/conflicts", headers=bearer(tokens["coordinator"]))).json()
    assert [(c["device"], c["household"], c["problem_code"]) for c in listed] == [
        (devices[2], households[2], "device_already_handed_over")
    ]
    # Logging out wipes the round pack (the families' names) from the tablet.
    await page.goto(f"/rounds/{code}/handover")
    await page.wait_for_selector("#handover[data-ready=yes]", timeout=WAIT_MS)
    assert await page.evaluate(PACKS) == 1
    await page.click("form.logout button")
    await page.wait_for_url("**/login**")
    assert await page.evaluate(PACKS) == 0


PACKS = """() => new Promise(resolve => {
  const request = indexedDB.open("refurb-bus", 1);
  request.onsuccess = () => {
    const count = request.result.transaction("packs").objectStore("packs").count();
    count.onsuccess = () => { resolve(count.result); request.result.close(); };
  };
})"""
