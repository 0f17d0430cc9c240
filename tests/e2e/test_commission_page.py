"""The commission page on a projector, driven with the keyboard only: approve, modify (other equipment,
with the reason), defer, reject; the next household in hand after each decision; a refused decision
kept as typed beside its household (axe-core on every load, through the `page` fixture, and on the
page as the keys leave it)."""

from __future__ import annotations

import datetime

import pytest

from refurb.distribution import commission, matching
from refurb.distribution import service as distribution
from refurb.distribution.schemas import HouseholdIn, ProgrammeIn, SessionIn
from tests.e2e.axe import violations
from tests.e2e.conftest import login
from tests.helpers import principal
from tests.integration.test_programmes import PROGRAMME

pytestmark = pytest.mark.e2e

YEAR = datetime.date.today().year
#: Needs forms whose priorities differ (waiting time weighs nothing here), highest first, with what the
#: rules propose for each (children's ages kept the same whatever the year the test runs).
FAMILIES = {
    # two children of 12 and 10 in a social hotel, no internet: 30 + 20 + 20 + 10 = 80
    "high": {"adults": 2, "children_birth_years": [YEAR - 12, YEAR - 10], "social_hotel": True,
             "has_internet": False},
    # one child of 6, a single parent: 30 + 10 = 40; a desktop (under 9)
    "middle": {"adults": 1, "children_birth_years": [YEAR - 6], "has_internet": True},
    # two children of 15 and 12, a computer at home already: 20
    "third": {"adults": 2, "children_birth_years": [YEAR - 15, YEAR - 12], "computers": 1,
              "has_internet": True},
    # one child of 11, a computer at home: 10
    "low": {"adults": 1, "children_birth_years": [YEAR - 11], "computers": 1, "has_internet": True},
}  # fmt: skip
PROPOSED = {"high": [("laptop", 1), ("connectivity", 1)], "middle": [("desktop", 1)]}

_names = iter(range(1_000))


async def _agenda() -> tuple[int, int, dict[str, str]]:
    """A programme, its four eligible households and an open session today."""
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
    session = await commission.create_session(
        SessionIn(programme=made.id, held_on=datetime.date.today(), members=["Mme Roux (PRE)"]), actor
    )
    return session.id, made.id, codes


async def _focused_item(page) -> str | None:
    return await page.evaluate(
        "(() => { const i = document.activeElement && document.activeElement.closest('.agenda-item');"
        " return i ? i.dataset.code : null; })()"
    )


async def _focused_name(page) -> str | None:
    return await page.evaluate("document.activeElement.name || null")


async def _tab_to(page, name: str, *, back: bool = False) -> None:
    """Tab (or Shift+Tab) to the field called `name`, as a person does, within a few presses."""
    for _ in range(12):
        if await _focused_name(page) == name:
            return
        await page.keyboard.press("Shift+Tab" if back else "Tab")
    raise AssertionError(f"{name} was not reached with the keyboard; at {await _focused_name(page)}")


async def _send(page, key: str = "Enter") -> None:
    async with page.expect_navigation():
        await page.keyboard.press(key)


def _lines(decision) -> list[tuple[str, int]]:
    return sorted((line["kind"], line["quantity"]) for line in decision.lines)


async def test_a_commission_decides_with_the_keyboard_only(page) -> None:
    session_id, programme_id, codes = await _agenda()
    await login(page, "coordinator")
    await page.goto(f"/commission/{session_id}")
    # the agenda is in priority order, in large type, and the first household is in hand
    order = await page.eval_on_selector_all(".agenda-item", "items => items.map(i => i.dataset.code)")
    assert order == [codes["high"], codes["middle"], codes["third"], codes["low"]]
    assert await _focused_item(page) == codes["high"]
    text = await page.eval_on_selector(".agenda-item p", "p => parseFloat(getComputedStyle(p).fontSize)")
    assert text >= 20, f"the agenda's text is {text} px on a projector"

    await _send(page, "a")  # approve what the rules propose
    assert await _focused_item(page) == codes["middle"]

    # modify: a laptop and a printer instead of the desktop proposed, with the reason
    await page.keyboard.press("m")
    item = f"#item-{codes['middle']}"
    assert await page.is_visible(f"{item} .modify-lines")
    assert await _focused_name(page) == "reason"
    assert await page.inner_text(f"#hint-{codes['middle']}") == (
        "Modifier\u00a0: changez les quantités, tapez le motif, puis Entrée (Échap annule)."
    )
    assert f"hint-{codes['middle']}" in await page.get_attribute(f"{item} [name=reason]", "aria-describedby")
    await _tab_to(page, "q_desktop", back=True)
    await page.keyboard.press("ArrowDown")  # 1 → 0
    await _tab_to(page, "q_laptop")
    await page.keyboard.press("ArrowUp")  # 0 → 1
    await _tab_to(page, "q_printer")
    await page.keyboard.press("ArrowUp")
    await _tab_to(page, "reason")
    await page.keyboard.type("Collégienne l'an prochain, imprimante pour les devoirs")
    assert await violations(page) == []  # the page as the keys leave it: lines open, a decision chosen
    await _send(page)
    assert await _focused_item(page) == codes["third"]

    # defer: the household stays on the agenda, marked, and the one after it is in hand
    await page.keyboard.press("d")
    assert await _focused_name(page) == "reason"
    await page.keyboard.type("Dossier incomplet")
    await _send(page)
    assert "ajourné" in await page.inner_text(f"#title-{codes['third']}")
    assert await _focused_item(page) == codes["low"]

    # reject the last household: the one before it is in hand
    await page.keyboard.press("r")
    await page.keyboard.type("Équipée par ailleurs")
    await _send(page)
    assert await _focused_item(page) == codes["third"]
    assert await page.eval_on_selector_all(".agenda-item", "items => items.map(i => i.dataset.code)") == [
        codes["third"]
    ]
    decided = await page.inner_text("#decided")
    assert "Collégienne l'an prochain, imprimante pour les devoirs" in decided
    assert "Équipée par ailleurs" in decided

    decisions = await commission.decisions(session_id)
    assert [(d.household, d.kind, d.reason) for d in decisions] == [
        (codes["high"], "approve", ""),
        (codes["middle"], "modify", "Collégienne l'an prochain, imprimante pour les devoirs"),
        (codes["third"], "defer", "Dossier incomplet"),
        (codes["low"], "reject", "Équipée par ailleurs"),
    ]
    assert [_lines(d) for d in decisions] == [
        sorted(PROPOSED["high"]),
        [("laptop", 1), ("printer", 1)],
        [],
        [],
    ]
    assert (
        sorted((line["kind"], line["quantity"]) for line in decisions[1].proposal["lines"])
        == (PROPOSED["middle"])
    )  # the proposal is kept beside what the commission gave instead
    coordinator = await principal("coordinator")
    statuses = {
        name: (await distribution.get_household(code, coordinator)).status for name, code in codes.items()
    }
    assert statuses == {"high": "approved", "middle": "approved", "third": "eligible", "low": "declined"}
    declined = await distribution.get_household(codes["low"], coordinator)
    assert declined.status_reason == "Équipée par ailleurs"
    allocations = await matching.list_allocations(programme=programme_id)
    assert sorted((a.household, a.kind, a.status, a.decision) for a in allocations) == sorted(
        [
            (codes["high"], "laptop", "to_match", decisions[0].id),
            (codes["high"], "connectivity", "to_match", decisions[0].id),
            (codes["middle"], "laptop", "to_match", decisions[1].id),
            (codes["middle"], "printer", "to_match", decisions[1].id),
        ]
    )


async def test_a_refused_decision_is_kept_as_typed_beside_its_household(page) -> None:
    session_id, programme_id, codes = await _agenda()
    await login(page, "coordinator")
    await page.goto(f"/commission/{session_id}")
    item = f"#item-{codes['high']}"
    # modify without a reason: a printer added, and Enter in the quantity sends the modification
    await page.keyboard.press("m")
    await _tab_to(page, "q_printer", back=True)
    await page.keyboard.press("ArrowUp")
    await _send(page)
    assert await commission.decisions(session_id) == []
    # said beside the household, the modification still chosen, what was typed kept, the reason in hand
    said = await page.inner_text(f"{item} #decision-error")
    assert said == "Dites pourquoi la commission modifie la proposition."
    assert await page.locator("#decision-error").count() == 1
    assert await _focused_item(page) == codes["high"]
    assert await _focused_name(page) == "reason"
    reason = page.locator(f"{item} [name=reason]")
    assert await reason.get_attribute("aria-invalid") == "true"
    assert set((await reason.get_attribute("aria-describedby")).split()) == {
        "decision-error",
        f"hint-{codes['high']}",
    }
    assert await page.is_visible(f"{item} .modify-lines")
    kept = {n: await page.input_value(f"{item} [name=q_{n}]") for n in ("laptop", "printer", "tablet")}
    assert kept == {"laptop": "1", "printer": "1", "tablet": "0"}
    assert await violations(page) == []
    await page.keyboard.type("Imprimante demandée en séance")
    await _send(page)
    [modified] = await commission.decisions(session_id)
    assert (modified.household, modified.kind) == (codes["high"], "modify")
    assert _lines(modified) == [("connectivity", 1), ("laptop", 1), ("printer", 1)]
    assert await _focused_item(page) == codes["middle"]

    # Escape cancels a decision chosen by mistake; Enter in a reason typed before choosing sends nothing
    await page.keyboard.press("r")
    assert await _focused_name(page) == "reason"
    await page.keyboard.press("Escape")
    assert await page.evaluate("document.activeElement.matches('.agenda-item')")
    assert await page.is_hidden(f"#hint-{codes['middle']}")
    await _tab_to(page, "reason")
    await page.keyboard.type("Hésitation")
    await page.keyboard.press("Enter")
    await page.wait_for_timeout(300)  # nothing to wait for: a navigation would have begun by now
    assert len(await commission.decisions(session_id)) == 1
    # the keys still work: approve the household in hand
    await page.keyboard.press("Escape")
    await _send(page, "a")
    assert [d.kind for d in await commission.decisions(session_id)] == ["modify", "approve"]
    assert len(await matching.list_allocations(programme=programme_id)) == 4  # 3 modified + 1 desktop
