"""A referent's census spreadsheet through the census page in a real browser: a refusal that keeps the
file, the check's problems by row and column, then the valid rows imported (axe-core on every load,
through the `page` fixture)."""

from __future__ import annotations

import datetime

import pytest

from refurb.distribution import service as distribution
from refurb.distribution.schemas import ProgrammeIn
from refurb.distribution.tables import Household, HouseholdEvent, HouseholdPerson
from tests.e2e.axe import violations
from tests.e2e.conftest import login
from tests.helpers import principal
from tests.integration.test_census import ERRORS, FIRST, VALID, WITHOUT_PERSON
from tests.integration.test_programmes import PROGRAMME

pytestmark = pytest.mark.e2e

_names = iter(range(1_000))


async def _programme() -> int:
    coordinator = await principal("coordinator")
    body = {**PROGRAMME, "name": f"PRE recensement e2e {next(_names)}"}
    return (await distribution.create_programme(ProgrammeIn(**body), distribution.Actor.of(coordinator))).id


async def _stored(programme_id: int) -> dict[str, dict]:
    rows = await Household.select().where(Household.programme == programme_id)
    return {r["family_reference"]: r for r in rows}


async def test_a_census_is_checked_row_by_row_then_its_valid_rows_imported(page) -> None:
    programme_id = await _programme()
    await login(page, "coordinator")
    await page.goto(f"/programmes/{programme_id}/census")
    before = (await Household.count(), await HouseholdEvent.count(), await HouseholdPerson.count())

    # the file names families, the notice version is left out: refused, the field in hand, the file kept
    await page.set_input_files("#census-form input[name=file]", str(FIRST))
    async with page.expect_navigation():
        await page.click("#census-form button[type=submit]")
    said = await page.inner_text("#census-error")
    assert said == "Indiquez quelle version de la notice d'information a été remise."
    assert await page.evaluate("document.activeElement.name") == "notice_version"
    assert await page.get_attribute("[name=notice_version]", "aria-invalid") == "true"
    assert FIRST.name in await page.inner_text("#census-kept")

    # typed, and Enter checks the file kept, without choosing it again
    await page.keyboard.type("PRE-2026-09")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "census-report-title"
    assert await page.inner_text("#census-report-title") == f"Vérification\u00a0: {FIRST.name}"
    summary = await page.inner_text("#census-report p")
    assert summary.startswith("20 lignes\u00a0: 14 valides, 6 en erreur, 0 avertissement.")
    assert "L'import enregistrerait 14 nouveaux foyers" in summary
    problems = await page.eval_on_selector_all(
        "#census-report table.problems tbody tr",
        "rows => rows.map(r => [Number(r.dataset.row), r.cells[1].innerText, r.dataset.code])",
    )
    assert [tuple(p) for p in problems] == ERRORS
    assert "Observations" in await page.inner_text("#ignored")
    created = await page.eval_on_selector_all(
        "#census-lines tbody tr", "rows => rows.map(r => [r.dataset.reference, r.dataset.action])"
    )
    assert created == [[reference, "create"] for reference in VALID]
    # errors: only the valid rows can be imported
    assert await page.locator("#census-confirm button[value=all_or_nothing]").count() == 0
    assert await violations(page) == []
    assert (await Household.count(), await HouseholdEvent.count(), await HouseholdPerson.count()) == before

    async with page.expect_navigation():
        await page.click("#census-confirm button[value=valid_only]")
    assert await page.inner_text("#census-report-title") == f"{FIRST.name} importé"
    assert "14 foyers enregistrés, 0 mis à jour, 0 inchangés." in await page.inner_text("#census-report")
    assert await page.locator("#census-confirm").count() == 0
    links = await page.eval_on_selector_all(
        "#census-lines tbody tr", "rows => rows.map(r => [r.dataset.reference, r.querySelector('a').href])"
    )
    stored = await _stored(programme_id)
    assert sorted(stored) == VALID
    assert [(reference, href.rsplit("/", 1)[-1]) for reference, href in links] == [
        (reference, stored[reference]["code"]) for reference in VALID
    ]
    assert {row["status"] for row in stored.values()} == {"census"}
    people = await HouseholdPerson.select(
        HouseholdPerson.household, HouseholdPerson.legal_basis, HouseholdPerson.notice_version,
        HouseholdPerson.notice_given_on,
    ).where(HouseholdPerson.household.is_in([row["id"] for row in stored.values()]))  # fmt: skip
    assert len(people) == len(VALID) - len(WITHOUT_PERSON)
    assert {(p["legal_basis"], p["notice_version"], p["notice_given_on"]) for p in people} == {
        ("public_interest", "PRE-2026-09", datetime.date.today())
    }
