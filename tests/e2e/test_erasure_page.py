"""The erasure station and the public verification page, in a real browser."""

from __future__ import annotations

import datetime

import httpx
import pytest

from refurb.core.lifecycle import State
from tests.conftest import bearer
from tests.e2e.axe import Auditor
from tests.e2e.conftest import TABLET, login
from tests.fixtures.erasure.make_nwipe_log import make_log
from tests.helpers import I5, device_row, received, unknown_model_log

pytestmark = pytest.mark.e2e


async def test_scan_upload_and_the_device_is_sanitized(page) -> None:
    code = await received(["6RX7AWEZ"])
    display = f"D-{code[1:8]}-{code[8]}"
    await login(page, "technician")
    await page.goto("/erasure")
    await page.wait_for_function("document.activeElement && document.activeElement.id === 'scan-input'")
    await page.keyboard.type(display)
    await page.keyboard.press("Enter")
    await page.wait_for_selector(f"#sheet[data-device='{code}']")
    assert await page.get_attribute("#sheet", "data-ready") == "no"
    assert await page.locator("#media tr[data-status='pending']").count() == 1
    assert await page.locator("#missing li").count() >= 1
    assert await page.evaluate("document.activeElement.id") == "scan-input"  # the scanner can go on
    async with page.expect_navigation():
        await page.set_input_files("#report-file", files=[str(I5)])  # choosing the file sends it
    await page.wait_for_selector("#sheet[data-ready='yes']")
    assert await page.get_attribute("#sheet .state", "data-state") == "sanitized"
    assert await page.locator("#media tr[data-status='passed']").count() == 1
    assert "effacé" in await page.text_content("p.notice")
    assert (await device_row(code))["state"] == State.SANITIZED.value
    async with page.expect_navigation():
        await page.click("#issue-certificate")
    assert "Certificat émis" in await page.text_content("p.notice")
    link = page.locator("a", has_text="vérifier")
    assert "/verify/C" in await link.get_attribute("href")


async def test_anyone_verifies_a_certificate_and_a_forgery_is_caught(
    browser, server, tokens, tmp_path
) -> None:
    log = make_log(1, start=datetime.datetime(2026, 11, 21, 8, 30))
    serial = log.split("S/N=")[1].split()[0]
    code = await received([serial])
    async with httpx.AsyncClient(base_url=server.url) as http:
        headers = bearer(tokens["technician"])
        upload = await http.put(
            f"/api/v1/erasure-reports?device={code}", content=log.encode(), headers=headers
        )
        assert upload.json()["sanitized"] == [code]
        certificate = (await http.post("/api/v1/certificates", json={"device": code}, headers=headers)).json()
        pdf = (await http.get(f"/api/v1/certificates/{certificate['code']}/pdf", headers=headers)).content
    genuine, forged = tmp_path / "certificat.pdf", tmp_path / "falsifie.pdf"
    genuine.write_bytes(pdf)
    middle = len(pdf) // 2
    forged.write_bytes(pdf[:middle] + bytes([pdf[middle] ^ 0x01]) + pdf[middle + 1 :])
    context = await browser.new_context(viewport=TABLET, locale="fr-FR", base_url=server.url)
    visitor = await context.new_page()  # no login: the page is public
    auditor = Auditor(visitor)
    try:
        await visitor.goto(f"/verify/{certificate['code']}")
        assert await visitor.get_attribute("#verdict", "data-status") == "valid"
        assert serial not in await visitor.content()
        for path, authentic in ((genuine, "yes"), (forged, "no")):
            await visitor.goto("/verify")
            await visitor.set_input_files("input[name=file]", files=[str(path)])
            async with visitor.expect_navigation():
                await visitor.click("form[action='/verify'][method=post] button[type=submit]")
            assert await visitor.get_attribute("#verdict", "data-authentic") == authentic
        assert not await auditor.finish()
    finally:
        await context.close()


async def test_a_technician_confirms_a_drive_of_unknown_type_spins(page, tmp_path) -> None:
    code = await received(["CSL407D3GKRT6A"])
    log = tmp_path / "nwipe_log_20261202-090000.txt"
    log.write_bytes(unknown_model_log())
    await login(page, "technician")
    await page.goto(f"/erasure?code={code}")
    async with page.expect_navigation():
        await page.set_input_files("#report-file", files=[str(log)])
    row = page.locator("#media tr[data-status='pending']")
    assert await row.locator("td[data-kind='unknown'] strong").text_content() == "Type incertain"
    assert "type incertain (disque dur ou SSD\u202f?)" in await row.text_content()
    async with page.expect_navigation():
        await page.click("text=J'ai vérifié\u00a0: c'est un disque dur à plateaux")
    await page.wait_for_selector("#sheet[data-ready='yes']")
    assert await page.get_attribute("#sheet .state", "data-state") == "sanitized"
    assert "une personne a vérifié le disque" in await page.text_content("#media td[data-kind='hdd']")
    assert await page.evaluate("document.activeElement.id") == "scan-input"
    assert (await device_row(code))["state"] == State.SANITIZED.value
