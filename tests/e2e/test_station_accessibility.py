"""axe-core on the station list and on a station page of each stage, at 1024×600, feedback shown or not."""

from __future__ import annotations

import pytest

from refurb.core.lifecycle import State
from refurb.core.stages import Stage
from tests.e2e.axe import describe, violations
from tests.e2e.conftest import login, scan
from tests.helpers import new_device, new_station

pytestmark = pytest.mark.e2e


async def test_the_station_list_and_every_stage_page_pass_axe(page) -> None:
    stations = [await new_station(stage, f"Poste {stage.value}") for stage in Stage]
    await login(page, "technician")  # some stations are not theirs: the list says why
    await page.goto("/stations")
    found = await violations(page)
    assert found == [], describe("/stations", found)
    for station in stations:
        if station.stage in (Stage.LOADING, Stage.HANDOVER):
            continue  # not a technician's bench
        url = f"/stations/{station.code}"
        await page.goto(url)
        await page.wait_for_function("document.activeElement && document.activeElement.id === 'scan-input'")
        found = await violations(page)
        assert found == [], describe(url, found)


async def test_a_station_page_passes_axe_with_each_feedback_shown(page) -> None:
    station = await new_station(Stage.RECEPTION, "Réception axe")
    await login(page, "technician")
    url = f"/stations/{station.code}"
    await page.goto(url)
    await page.wait_for_function("document.activeElement && document.activeElement.id === 'scan-input'")
    await scan(page, (await new_device(State.RECEIVED)).code)  # already received: green
    await page.wait_for_selector("#feedback.feedback-ok")
    found = await violations(page)
    assert found == [], describe(url + " (ok)", found)
    await scan(page, (await new_device(State.COLLECTED)).code)  # no tag yet: amber, the label panel
    await page.wait_for_selector("#feedback.feedback-label")
    found = await violations(page)
    assert found == [], describe(url + " (label)", found)
    await scan(page, (await new_device(State.SANITIZED)).code)  # cannot be received: red, with a link
    await page.wait_for_selector("#feedback.feedback-error")
    found = await violations(page)
    assert found == [], describe(url + " (error)", found)


async def test_the_bus_staff_pages_pass_axe(page) -> None:
    loading = await new_station(Stage.LOADING, "Quai de chargement")
    await login(page, "bus_staff")
    await page.goto("/stations")
    found = await violations(page)
    assert found == [], describe("/stations (bus staff)", found)
    url = f"/stations/{loading.code}"
    await page.goto(url)
    await page.wait_for_function("document.activeElement && document.activeElement.id === 'scan-input'")
    found = await violations(page)
    assert found == [], describe(url, found)
