"""A donor signs, registers a batch and imports a messy export, in a real browser."""

from __future__ import annotations

from pathlib import Path

import pytest

from refurb.devices.tables import Device
from refurb.intake.tables import Agreement, Batch
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).parent.parent / "fixtures" / "manifests"


def messy_export(folder: Path) -> Path:
    """The Windows-1252 `;` export of a town hall, plus a row without any identifier (row 9)."""
    content = (
        FIXTURES / "excel_fr_cp1252.csv"
    ).read_bytes() + ";;Portable;Dell;Latitude E5470;;;;;\r\n".encode("cp1252")
    path = folder / "inventaire-mairie.csv"
    path.write_bytes(content)
    return path


async def test_sign_register_import(page, tmp_path) -> None:
    await login(page, "donor")
    await page.goto("/batches")
    await page.click("p.alert a[href='/agreement']")
    await page.fill("input[name=signatory_name]", "Claire Dupont")
    await page.fill(
        "form[action='/agreement'] input[name=signatory_title]", "Directrice des systèmes d'information"
    )
    await page.click(
        "form[action='/agreement'] button[type=submit]"
    )  # the box is not ticked: the browser refuses
    assert await Agreement.count() == 0
    await page.check("input[name=accept]")
    await page.click("form[action='/agreement'] button[type=submit]")
    await page.wait_for_url("**/agreement?signed=true")
    assert (await Agreement.select(Agreement.signatory_name).first())["signatory_name"] == "Claire Dupont"

    await page.goto("/batches/new")
    await page.fill("textarea[name=site_address]", "Mairie annexe\n2 place de la République\n93000 Bobigny")
    await page.fill("input[name=declared_laptop]", "3")
    await page.fill("input[name=declared_desktop]", "1")
    await page.click("button.primary[type=submit]")
    await page.wait_for_selector("#manifest-form")
    code = (await Batch.select(Batch.code).first())["code"]
    assert page.url.endswith(f"/batches/{code}")

    await page.set_input_files("#manifest-form input[type=file]", str(messy_export(tmp_path)))
    await page.click("#manifest-form button[value=dry_run]")
    await page.wait_for_selector("#manifest-report .problems tr[data-row='9'][data-code='no_identifier']")
    report = await page.inner_text("#manifest-report")
    assert "cp1252" in report
    assert await Device.count() == 0

    await page.click("#manifest-form button[value=all]")  # the file stays chosen: no second pick
    await page.wait_for_selector("#manifest-report .report-refused")
    assert await Device.count() == 0

    await page.click("#manifest-form button[value=valid_only]")
    await page.wait_for_selector("#manifest-report .report-imported")
    assert await Device.count().where(Device.batch.code == code) == 5
    assert await page.inner_text("#reconciliation tfoot [data-kind=total] th:nth-child(3)") == "5"

    await page.click("form[action$='/submit'] button")
    await page.wait_for_url(f"**/batches/{code}?done=submitted")
    assert (await Batch.select(Batch.state).first())["state"] == "submitted"
