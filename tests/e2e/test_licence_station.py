"""The licensing station in a real browser: choose the pool, see the key once, type it, scan on."""

from __future__ import annotations

import pytest

from refurb.core.lifecycle import State
from refurb.core.stages import Stage
from refurb.stations.tables import Scan
from refurb.workshop import licence_keys, licences
from refurb.workshop.licence_keys import KeyCipher
from refurb.workshop.licence_schemas import PoolIn
from tests.conftest import LICENCE_KEY
from tests.e2e.conftest import focused_id, open_station, scan
from tests.helpers import device_row, new_device

pytestmark = pytest.mark.e2e

KEY = "E2EAA-BBBBB-CCCCC-DDDDD-00001"


async def test_the_key_is_shown_once_big_then_the_scanner_goes_on(page, monkeypatch) -> None:
    monkeypatch.setattr(licence_keys, "_cipher", KeyCipher(LICENCE_KEY))  # the server's key
    pool = await licences.create_pool(
        PoolIn(name="Windows 11 Pro — MAR", os="Windows 11 Pro", licence_type="MAR Citizenship")
    )
    await licences.import_keys(pool.id, f"key\n{KEY}\n".encode())
    device = await new_device(State.REFURBISHED)
    await open_station(page, Stage.LICENSING)

    await scan(page, device.code)
    await page.wait_for_selector("#scan-form:not([hidden])")
    # the pool installing the device's OS is preselected: the cursor waits in the COA field, Enter confirms
    assert await page.evaluate("document.activeElement.name") == "coa"
    assert await page.input_value("select[name=pool]") == str(pool.id)
    await page.keyboard.type("COA-778899")
    await page.keyboard.press("Enter")

    await page.wait_for_selector("#secret:not([hidden])")
    groups = await page.locator("#secret-value span").all_inner_texts()
    assert groups == KEY.split("-")
    assert await focused_id(page) == "secret-done"
    font = await page.evaluate("getComputedStyle(document.getElementById('secret-value')).fontFamily")
    assert "mono" in font.lower()
    assert KEY not in await page.inner_text("#scan-log")
    assert KEY not in await page.evaluate("JSON.stringify(Object.assign({}, localStorage, sessionStorage))")

    await page.click("#secret-done")
    await page.wait_for_selector("#secret", state="hidden")
    await page.wait_for_function("document.activeElement.id === 'scan-input'")
    assert await page.inner_text("#secret-value") == ""
    assert (await device_row(device.code))["state"] == "licensed"
    assert all(KEY not in row["message"] and KEY not in row["text"] for row in await Scan.select())
