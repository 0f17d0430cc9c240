"""The commission page on a projector, driven with the keyboard only: approve, modify, reject, defer
(axe-core on every load, through the `page` fixture)."""

from __future__ import annotations

import datetime

import pytest

from refurb.distribution import commission, matching
from refurb.distribution import service as distribution
from refurb.distribution.schemas import HouseholdIn, ProgrammeIn, SessionIn
from tests.e2e.conftest import login
from tests.helpers import principal
from tests.integration.test_programmes import PROGRAMME

pytestmark = pytest.mark.e2e

#: Needs forms whose priorities differ (waiting time weighs nothing here), highest first.
FAMILIES = {
    "high": {"children_birth_years": [2014, 2016], "social_hotel": True, "has_internet": False},  # 80
    "middle": {"children_birth_years": [2014], "has_internet": True},  # 40
    "third": {"children_birth_years": [2014, 2016], "computers": 1, "has_internet": True},  # 20
    "low": {"children_birth_years": [2014], "computers": 1, "has_internet": True},  # 10
}


_names = iter(range(1_000))


async def _agenda() -> tuple[int, dict[str, str]]:
    coordinator = await principal("coordinator")
    actor = distribution.Actor.of(coordinator)
    body = {
        **PROGRAMME,
        "name": f"PRE commission e2e {next(_names)}",
        "rules": {"weights": {"per_month_waiting": 0}},
    }
    made = await distribution.create_programme(ProgrammeIn(**body), actor)
    codes = {}
    for name, needs in FAMILIES.items():
        household = await distribution.create_household(
            HouseholdIn(programme=made.id, qpv_code="QN09301M", requests=["laptop"], **needs), coordinator
        )
        await distribution.change_status(household.code, "eligible", "", coordinator)
        codes[name] = household.code
    held_on = datetime.date.today()
    session = await commission.create_session(
        SessionIn(programme=made.id, held_on=held_on, members=["Mme Roux (PRE)"]), actor
    )
    return session.id, codes


async def _focused_item(page) -> str | None:
    return await page.evaluate(
        "(() => { const i = document.activeElement && document.activeElement.closest('.agenda-item');"
        " return i ? i.dataset.code : null; })()"
    )


async def _decide_by_keys(page, key: str, reason: str | None = None) -> None:
    await page.keyboard.press(key)
    if reason is not None:
        assert await page.evaluate("document.activeElement.name") == "reason"
        await page.keyboard.type(reason)
        async with page.expect_navigation():
            await page.keyboard.press("Enter")
    await page.wait_for_load_state()


async def test_a_commission_decides_with_the_keyboard_only(page) -> None:
    session_id, codes = await _agenda()
    await login(page, "coordinator")
    await page.goto(f"/commission/{session_id}")
    # the agenda is in priority order and the first household has the focus
    order = await page.eval_on_selector_all(".agenda-item", "items => items.map(i => i.dataset.code)")
    assert order == [codes["high"], codes["middle"], codes["third"], codes["low"]]
    assert await _focused_item(page) == codes["high"]

    async with page.expect_navigation():
        await page.keyboard.press("a")  # approve what the rules propose
    assert await _focused_item(page) == codes["middle"]

    await page.keyboard.press("m")  # modify: the lines open, the reason has the focus
    assert await page.is_visible(f"#item-{codes['middle']} .modify-lines")
    assert await page.evaluate("document.activeElement.name") == "reason"
    for _ in range(10):  # back through the quantities to the printer's
        await page.keyboard.press("Shift+Tab")
        if await page.evaluate("document.activeElement.name") == "q_printer":
            break
    await page.keyboard.press("Control+A")
    await page.keyboard.type("1")
    for _ in range(10):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.name") == "reason":
            break
    await page.keyboard.type("Imprimante demandée en séance")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert await _focused_item(page) == codes["third"]

    await page.keyboard.press("j")  # to the last household
    assert await _focused_item(page) == codes["low"]
    await _decide_by_keys(page, "r", "Équipée par ailleurs")
    assert await _focused_item(page) == codes["third"]
    await _decide_by_keys(page, "d", "Dossier incomplet")
    # a deferred household stays on the agenda, marked
    assert "ajourné" in await page.inner_text(f"#title-{codes['third']}")
    decided = await page.inner_text("#decided")
    assert "Imprimante demandée en séance" in decided
    assert "Équipée par ailleurs" in decided

    decisions = {d.household: d for d in await commission.decisions(session_id)}
    assert {code: decisions[code].kind for code in decisions} == {
        codes["high"]: "approve",
        codes["middle"]: "modify",
        codes["low"]: "reject",
        codes["third"]: "defer",
    }
    assert decisions[codes["middle"]].reason == "Imprimante demandée en séance"
    coordinator = await principal("coordinator")
    statuses = {
        name: (await distribution.get_household(code, coordinator)).status for name, code in codes.items()
    }
    assert statuses == {"high": "approved", "middle": "approved", "third": "eligible", "low": "declined"}
    middle = await distribution.household_ref(codes["middle"], coordinator)
    kinds = sorted(a.kind for a in await matching.list_allocations(household_id=middle.id))
    assert "printer" in kinds
    assert "laptop" in kinds


async def test_a_refused_decision_says_why_and_the_page_stays_usable(page) -> None:
    session_id, _ = await _agenda()
    await login(page, "coordinator")
    await page.goto(f"/commission/{session_id}")
    await page.keyboard.press("r")  # reject without a reason
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    alert = page.locator("#decision-error")
    assert await alert.is_visible()
    assert "pourquoi" in (await alert.inner_text()).lower()
    assert await commission.decisions(session_id) == []
    # Enter in a reason typed before choosing a decision decides nothing (the form's first button approves)
    await page.locator(".agenda-item").first.focus()
    for _ in range(15):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.name") == "reason":
            break
    await page.keyboard.type("Hésitation")
    await page.keyboard.press("Enter")
    await page.wait_for_timeout(300)
    assert await commission.decisions(session_id) == []
    # the keys still work: approve the first household
    await page.locator(".agenda-item").first.focus()
    async with page.expect_navigation():
        await page.keyboard.press("a")
    assert [d.kind for d in await commission.decisions(session_id)] == ["approve"]
