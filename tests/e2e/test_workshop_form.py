"""The workshop checklist on a 1024×600 tablet: « Tout fonctionne », required fields marked per kind,
sections folded, the submit always on screen, a refused form kept as typed (axe-core on every load)."""

from __future__ import annotations

import json

import pytest

from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import State
from refurb.core.stages import Stage
from refurb.workshop import checklists
from refurb.workshop.tables import Reconditioning
from tests.e2e.axe import violations
from tests.e2e.conftest import TABLET, open_station, scan
from tests.helpers import device_row, new_device

pytestmark = pytest.mark.e2e

LAPTOP = [f.name for f in checklists.CHECKLISTS[DeviceKind.LAPTOP]]


async def _on_screen(page, selector: str) -> bool:
    box = await page.locator(selector).bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= TABLET["height"]


async def _stored_checks(code: str) -> dict[str, str]:
    row = await Reconditioning.select(Reconditioning.checks).where(Reconditioning.device.code == code).first()
    return row["checks"] if isinstance(row["checks"], dict) else json.loads(row["checks"])


async def test_all_works_and_the_required_measures_refurbish_a_laptop(page) -> None:
    device = await new_device(State.SANITIZED)
    await open_station(page, Stage.WORKSHOP)
    await scan(page, device.display_code)
    await page.wait_for_selector("#scan-form:not([hidden])")
    # the submit is on screen at once, and tall enough to tap
    assert await _on_screen(page, "#scan-form-submit")
    assert (await page.locator("#scan-form-submit").bounding_box())["height"] >= 44
    # required fields of a laptop are marked, with the legend
    assert await page.is_visible("#scan-form-legend")
    for name in ("battery_health", "battery_cycles", "os_image", "grade", "minutes"):
        control = page.locator(f"#scan-form [name={name}]")
        assert await control.get_attribute("aria-required") == "true", name
        assert await control.evaluate("c => c.required"), name
        assert await control.evaluate("c => !c.closest('label').querySelector('.required-mark').hidden"), name
    assert await page.locator("#scan-form [name=cpu]").get_attribute("aria-required") == "false"
    # the optional sections start folded, those with something to fill open
    assert await page.locator("details.form-section:has([name=part_ram])").get_attribute("open") is None
    assert await page.locator("details.form-section:has([name=battery_health])").get_attribute("open") == ""
    await page.check("#scan-form [name=all_works]")
    for name in LAPTOP:  # ticked where the technician can see it
        assert await page.input_value(f"#scan-form [name=check_{name}]") == "ok", name
    await page.fill("[name=battery_health]", "82")
    await page.fill("[name=battery_cycles]", "240")
    await page.select_option("[name=os_image]", "Linux Mint 22")
    await page.select_option("[name=grade]", "A")
    await page.fill("[name=minutes]", "25")
    assert await _on_screen(page, "#scan-form-submit")  # still there after filling, without scrolling
    found = await violations(page)
    assert found == [], found
    await page.click("#scan-form-submit")
    await page.wait_for_selector("#feedback.feedback-ok")
    assert device.display_code in await page.inner_text("#feedback")
    row = await device_row(device.code)
    assert (row["state"], row["grade"], row["os"]) == ("refurbished", "A", "Linux Mint 22")
    assert await _stored_checks(device.code) == dict.fromkeys(LAPTOP, "ok")


async def test_the_folded_form_fits_the_tablet_and_a_refusal_keeps_what_was_typed(page) -> None:
    device = await new_device(State.SANITIZED)
    await open_station(page, Stage.WORKSHOP)
    await scan(page, device.code)
    await page.wait_for_selector("#scan-form:not([hidden])")
    await page.check("#scan-form [name=all_works]")
    await page.evaluate("document.querySelectorAll('#scan-form details').forEach(d => { d.open = false; })")
    height = (await page.locator("#scan-form").bounding_box())["height"]
    assert height <= TABLET["height"], f"the folded form is {height} px tall"
    await page.locator("#scan-form").scroll_into_view_if_needed()
    assert await _on_screen(page, "#scan-form-submit")
    # a measure out of the grade's range: the server refuses, the form comes back as typed
    await page.locator("details.form-section:has([name=battery_health]) summary").click()
    await page.fill("[name=battery_health]", "70")
    await page.fill("[name=battery_cycles]", "300")
    await page.locator("details.form-section:has([name=grade]) summary").click()
    await page.select_option("[name=grade]", "A")  # grade A needs 80 %
    await page.fill("[name=minutes]", "12")
    await page.locator("details.form-section:has([name=os_image]) summary").click()
    await page.select_option("[name=os_image]", "Linux Mint 22")
    await page.click("#scan-form-submit")
    await page.wait_for_selector("#scan-form-error:not([hidden])")
    assert await page.is_visible("#scan-form")
    assert "80" in await page.inner_text("#scan-form-error")
    assert await page.locator("[name=grade]").get_attribute("aria-invalid") == "true"
    assert await page.evaluate("document.activeElement.name") == "grade"
    assert await page.input_value("[name=battery_health]") == "70"
    assert await page.input_value("[name=minutes]") == "12"
    assert await page.is_checked("[name=all_works]")
    assert await page.input_value("[name=check_keyboard]") == "ok"
    found = await violations(page)
    assert found == [], found
    assert (await device_row(device.code))["state"] == "sanitized"
    await page.select_option("[name=grade]", "B")
    await page.click("#scan-form-submit")
    await page.wait_for_selector("#feedback.feedback-ok")
    assert (await device_row(device.code))["grade"] == "B"
