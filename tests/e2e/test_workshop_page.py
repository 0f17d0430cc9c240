"""The workshop station in a real browser: scan, fill the checklist with the keyboard, the device passes."""

from __future__ import annotations

import pytest

from refurb.core.lifecycle import State
from refurb.core.stages import Stage
from refurb.workshop.tables import Reconditioning
from tests.e2e.conftest import open_station, scan
from tests.helpers import device_row, new_device

pytestmark = pytest.mark.e2e

LAPTOP = ("battery", "screen", "keyboard", "touchpad", "webcam", "microphone", "speakers", "wifi",
          "bluetooth", "usb_ports", "video_ports", "charger")  # fmt: skip


async def test_a_laptop_is_tested_graded_and_refurbished_by_scan_and_form(page) -> None:
    device = await new_device(State.SANITIZED)
    await open_station(page, Stage.WORKSHOP)
    await scan(page, device.display_code)
    await page.wait_for_selector("#scan-form:not([hidden])")
    assert await page.evaluate("document.activeElement.name") == "check_battery"
    assert await page.locator("#scan-form details.form-section").count() >= 4
    for name in LAPTOP:
        await page.select_option(f"#scan-form [name=check_{name}]", "absent" if name == "webcam" else "ok")
    await page.fill("[name=battery_health]", "82")
    await page.fill("[name=battery_cycles]", "240")
    await page.locator("details.form-section:has([name=part_ssd]) summary").click()  # folded: optional
    await page.fill("[name=part_ssd]", "SSD 480 Go")
    await page.fill("[name=part_ssd_serial]", "S4EVNX0N123456")
    await page.fill("[name=part_ssd_capacity_gb]", "480")
    await page.fill("[name=part_ssd_cost]", "31.5")
    await page.select_option("[name=os_image]", "Linux Mint 22")
    await page.select_option("[name=grade]", "A")
    assert "80 %" in await page.inner_text("#scan-form")  # the grade definitions are on the form
    await page.fill("[name=minutes]", "50")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#feedback.feedback-ok")
    assert device.display_code in await page.inner_text("#feedback")
    await page.wait_for_function("document.activeElement.id === 'scan-input'")
    row = await device_row(device.code)
    assert (row["state"], row["grade"], row["os"]) == ("refurbished", "A", "Linux Mint 22")
    passed = (
        await Reconditioning.select(Reconditioning.minutes, Reconditioning.parts_cost_cents)
        .where(Reconditioning.device.code == device.code)
        .first()
    )
    assert passed == {"minutes": 50, "parts_cost_cents": 3150}


async def test_a_missing_answer_keeps_the_form_and_records_nothing(page) -> None:
    device = await new_device(State.SANITIZED)
    await open_station(page, Stage.WORKSHOP)
    await scan(page, device.code)
    await page.wait_for_selector("#scan-form:not([hidden])")
    await page.fill("[name=minutes]", "10")
    await page.click("#scan-form-submit")  # the browser refuses: functions unanswered
    assert await page.is_visible("#scan-form")
    assert await Reconditioning.count().where(Reconditioning.device.code == device.code) == 0
    await page.keyboard.press("Escape")
    await page.wait_for_function("document.activeElement.id === 'scan-input'")
    assert (await device_row(device.code))["state"] == "sanitized"
