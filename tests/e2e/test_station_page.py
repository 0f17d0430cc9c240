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
    await open_station(page, Stage.ERASURE)  # reception does not offer rejecting (received first)
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


async def test_a_refusal_is_red_stays_until_the_next_scan_and_links_to_the_device(page) -> None:
    device = await new_device(State.COLLECTED)
    other = await new_device(State.COLLECTED)
    await open_station(page, Stage.ERASURE)
    await scan(page, device.code)
    await page.wait_for_selector("#feedback.feedback-error")
    assert "collecté" in await page.inner_text("#feedback")
    assert await page.inner_text("#feedback .feedback-icon") == "✘"
    assert await page.get_attribute("#feedback-link", "href") == f"/devices/{device.code}"
    assert await focused_id(page) == "scan-input"
    assert await page.input_value("#scan-input") == ""
    await page.wait_for_timeout(2700)  # a refusal does not fade away by itself
    assert await page.is_visible("#feedback.feedback-error")
    assert (await page.inner_text("#scan-log li .log-icon")) == "✘"
    await scan(page, other.code)  # the next scan clears it (and answers)
    await page.wait_for_function("document.querySelectorAll('#scan-log li').length === 2")
    await page.click("#feedback")  # a tap clears it too
    await page.wait_for_selector("#feedback", state="hidden")
    assert (await device_row(device.code))["state"] == "collected"


async def test_a_missing_tag_is_printed_in_the_page_then_its_scan_receives(page) -> None:
    device = await new_device(State.COLLECTED)
    await open_station(page, Stage.RECEPTION)
    await scan(page, device.code)
    await page.wait_for_selector("#feedback.feedback-label")
    await page.wait_for_selector("#label-panel:not([hidden])")
    await page.wait_for_function("(document.getElementById('label-frame').src || '').startsWith('blob:')")
    assert await page.locator("#scan-log li.log-label button.label-action").count() == 1
    await page.wait_for_function("document.activeElement.id === 'scan-input'")
    await page.wait_for_timeout(2100)  # the same code again after the 2-second window
    await scan(page, device.code)
    await page.wait_for_selector("#feedback.feedback-ok")
    await page.wait_for_selector("#label-panel", state="hidden")
    assert (await device_row(device.code))["state"] == "received"
    assert "error" not in (await page.get_attribute("#station", "data-results")).split()


async def test_a_burst_of_scans_is_sent_and_answered_in_the_order_it_was_read(page) -> None:
    devices = [await new_device(State.RECEIVED) for _ in range(4)]
    station = await open_station(page, Stage.ERASURE)
    for device in devices:
        await page.keyboard.type(device.code, delay=1)
        await page.keyboard.press("Enter")
    await page.wait_for_function("document.querySelectorAll('#scan-log li').length === 4")
    rows = await Scan.select(Scan.code).where(Scan.station.code == station.code).order_by(Scan.id)
    assert [r["code"] for r in rows] == [d.code for d in devices]
    shown = await page.eval_on_selector_all("#scan-log li", "items => items.map(i => i.textContent)")
    assert [next(d.display_code for d in devices if d.display_code in text) for text in shown] == [
        d.display_code for d in reversed(devices)
    ]


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
    await page.wait_for_selector("#feedback.feedback-label")
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
