"""The station page in a real browser, typed into as a keyboard-wedge scanner types."""

from __future__ import annotations

import json

import pytest

from refurb.core.lifecycle import State
from refurb.core.stages import Stage
from refurb.stations.tables import Scan
from tests.e2e.conftest import focused_id, open_station, scan
from tests.helpers import device_row, event_rows, new_device

pytestmark = pytest.mark.e2e


async def test_reject_mode_asks_a_reason_then_records(page) -> None:
    device = await new_device(State.RECEIVED)
    await open_station(page, Stage.RECEPTION)
    await page.click("button.mode[data-action=reject]")
    assert await focused_id(page) == "scan-input"

    await scan(page, device.display_code)
    await page.wait_for_selector("#scan-form:not([hidden])")
    assert await page.get_attribute("#station", "data-last-result") == "ask"
    assert await page.is_hidden("#feedback")  # nothing covers the form
    assert await page.evaluate("document.activeElement.name") == "reason"

    await page.keyboard.type("écran cassé")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#feedback.feedback-ok")
    assert device.display_code in await page.inner_text("#feedback")
    await page.wait_for_function("document.activeElement.id === 'scan-input'")
    assert await page.locator("#scan-log li.log-ok").count() == 1
    assert (await device_row(device.code))["state"] == "rejected"
    payload = (await event_rows(device.code))[-1]["payload"]
    assert (json.loads(payload) if isinstance(payload, str) else payload) == {"reason": "écran cassé"}


async def test_a_refusal_is_red_and_focus_stays(page) -> None:
    device = await new_device(State.COLLECTED)
    await open_station(page, Stage.RECEPTION)
    await scan(page, device.code)
    await page.wait_for_selector("#feedback.feedback-error")
    assert "pas encore imprimée" in await page.inner_text("#feedback")
    assert await focused_id(page) == "scan-input"
    assert await page.input_value("#scan-input") == ""
    assert (await device_row(device.code))["state"] == "collected"


async def test_print_the_missing_tag_then_receive(page) -> None:
    device = await new_device(State.COLLECTED)
    await open_station(page, Stage.RECEPTION)
    await scan(page, device.code)
    button = page.locator("#scan-log li.log-error button.label-action")
    await button.wait_for()
    async with page.context.expect_page() as opened:
        await button.click()
    pdf_tab = await opened.value  # opened during the click, so no popup blocker stops it
    await pdf_tab.wait_for_url(lambda url: url.startswith("blob:"), wait_until="commit")
    await page.bring_to_front()
    await page.wait_for_function("document.activeElement.id === 'scan-input'")
    await page.wait_for_timeout(2100)  # the same code again after the 2-second window
    await scan(page, device.code)
    await page.wait_for_selector("#feedback.feedback-ok")
    assert (await device_row(device.code))["state"] == "received"


async def test_a_bad_check_digit_never_reaches_the_server(page) -> None:
    device = await new_device(State.RECEIVED)
    station = await open_station(page, Stage.RECEPTION)
    bad = device.code[:-1] + str((int(device.code[-1]) + 1) % 10)
    await scan(page, bad)
    await page.wait_for_selector("#feedback.feedback-error")
    assert "clé de contrôle" in (await page.inner_text("#feedback")).lower()
    assert await Scan.count().where(Scan.station.code == station.code) == 0


async def test_the_same_code_twice_within_two_seconds_counts_once(page) -> None:
    device = await new_device(State.COLLECTED)
    station = await open_station(page, Stage.RECEPTION)
    await scan(page, device.code, end="Tab")
    await scan(page, device.code, end="Tab")
    await page.wait_for_selector("#feedback.feedback-error")
    await page.wait_for_timeout(300)
    assert await page.get_attribute("#station", "data-duplicates") == "1"
    assert await Scan.count().where(Scan.station.code == station.code) == 1
    assert await focused_id(page) == "scan-input"


async def test_focus_comes_back_after_clicking_elsewhere(page) -> None:
    await open_station(page, Stage.ERASURE)
    await page.click("h1")
    await page.wait_for_function("document.activeElement.id === 'scan-input'")
    await page.click(".last-scans")
    await page.wait_for_function("document.activeElement.id === 'scan-input'")
    assert "Prêt à scanner" in await page.inner_text("#ready")


async def test_fits_a_1024_by_600_tablet(page) -> None:
    await open_station(page, Stage.RECEPTION)
    box = await page.locator("#scan-input").bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= 600
    assert box["x"] + box["width"] <= 1024
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1024
