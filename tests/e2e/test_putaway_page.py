"""Putting devices away at a stock station, in a real browser, typed as a scanner types."""

from __future__ import annotations

import pytest

from refurb.core.lifecycle import State
from refurb.core.stages import Stage
from refurb.devices import service as devices
from refurb.stock import service as stock
from tests.e2e.conftest import login, open_station, scan
from tests.helpers import device_row, new_device, principal

pytestmark = pytest.mark.e2e


async def test_scan_a_bin_then_devices_until_it_is_full(page) -> None:
    site = await stock.create_location("Entrepôt e2e", "site")
    bin_ = await stock.create_location("Bac e2e", "bin", parent_code=site.code, capacity=1)
    first, second = await new_device(State.LICENSED), await new_device(State.LICENSED)
    await open_station(page, Stage.STOCK)
    await scan(page, bin_.code)
    await page.wait_for_selector("#scan-context:not([hidden])")
    assert bin_.display_code in await page.inner_text("#scan-context")
    await scan(page, first.code)
    await page.wait_for_function("document.querySelectorAll('#scan-log li.log-ok').length >= 2")
    assert await page.get_attribute("#station", "data-last-result") == "ok"
    await scan(page, second.code)  # the bin holds one: refused, with the numbers
    await page.wait_for_function("document.querySelector('#station').dataset.lastResult === 'error'")
    assert "1 place prise sur 1" in await page.locator("#scan-log li").first.inner_text()
    assert await page.evaluate("document.activeElement.id") == "scan-input"
    assert ((await device_row(first.code))["state"], (await device_row(first.code))["location"]) == (
        "in_stock",
        bin_.id,
    )
    assert (await device_row(second.code))["state"] == "licensed"


async def test_a_stock_take_by_typed_scans(page) -> None:
    site = await stock.create_location("Entrepôt inventaire", "site")
    bin_ = await stock.create_location("Bac inventaire", "bin", parent_code=site.code, capacity=10)
    technician = await principal("technician")
    shelved = [await new_device(State.LICENSED) for _ in range(2)]
    for device in shelved:
        await devices.transition(device.code, "stock", {"location": bin_.code}, technician)
    stray = await new_device(State.IN_STOCK)
    await login(page, "technician")
    await page.goto("/stock/take")
    await scan(page, bin_.display_code)
    await page.wait_for_selector(f"#take[data-location='{bin_.code}']")
    await page.wait_for_function("document.activeElement.id === 'scan-input'")
    await scan(page, shelved[0].code)
    await page.wait_for_function("document.querySelector('#take').dataset.done === '1'")
    await scan(page, stray.code)
    await page.wait_for_function("document.querySelector('#take').dataset.done === '2'")
    assert await page.inner_text("#found-count") == "1"
    assert await page.inner_text("#missing-count") == "1"
    assert await page.inner_text("#extra-count") == "1"
    assert shelved[1].code in await page.inner_text("#missing")
    assert await page.evaluate("document.activeElement.id") == "scan-input"
