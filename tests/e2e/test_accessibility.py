"""Every role's pages at the three screens people use, held to axe-core and to the screen's width.

A phone (390×844), a station tablet (1024×600) and a desk (1366×768): each role logs in
at each screen (the SQLite server is crawled at one, the PostgreSQL server at the other
two: the markup does not depend on the engine, and a crawl costs a minute), opens every
page its menu offers and the pages one click below (a batch, a device, a location tree,
a label preview…). No page may scroll sideways (a wide table
scrolls inside its own frame). axe-core (critical and serious) reads every page at the
screen the role works on — the phone for drivers and bus staff, the tablet for
technicians, the desk for the others — and the start page at every screen: its rules
look at the markup, which is the same at every width, except for what the shell shows
or hides (the menu), which the start page carries. The `page` fixture audits each load
of the other browser tests as well.
"""

from __future__ import annotations

import httpx

from refurb.core.lifecycle import State
from tests.conftest import bearer
from tests.e2e.axe import describe, violations
from tests.e2e.conftest import login
from tests.helpers import new_device, submitted_batch
from tests.integration.test_programmes import PROGRAMME

SCREENS = {"phone": (390, 844), "tablet": (1024, 600), "desk": (1366, 768)}
#: The markup and the layout do not depend on the engine: each engine's server crawls some screens,
#: together all of them (a crawl takes about a minute on the CI machine).
CRAWLS = {"sqlite": ["desk"], "postgres": ["phone", "tablet"]}
#: role → the screen it works on
ROLES = {
    "admin": "desk",
    "supervisor": "desk",
    "technician": "tablet",
    "driver": "phone",
    "donor": "desk",
    "coordinator": "desk",
    "auditor": "desk",
    "bus_staff": "phone",
}
#: Swagger UI is a vendored third-party page: it is the API's reference, not a page of ours.
NOT_OURS = ("/schema",)


async def _seed(server, tokens, name: str) -> dict[str, str]:
    """A batch of the test donor with a device in it, a stock location, a licence pool, a programme with a
    household in census and one on a commission session's agenda."""
    batch = await submitted_batch()
    device = await new_device(State.RECEIVED, batch=batch)
    async with httpx.AsyncClient(base_url=server.url) as http:
        supervisor = bearer(tokens["supervisor"])
        site = await http.post(
            "/api/v1/locations", json={"name": f"Entrepôt {name}", "kind": "site"}, headers=supervisor
        )
        assert site.status_code == 201, site.text
        pool = await http.post(
            "/api/v1/licence-pools",
            json={"name": f"Mint {name}", "os": "Linux Mint 22", "licence_type": "GPL", "needs_key": False},
            headers=supervisor,
        )
        assert pool.status_code == 201, pool.text
        coordinator = bearer(tokens["coordinator"])
        body = {
            **PROGRAMME,
            "name": f"PRE {name}",
            "support_resources": [],
        }
        programme = await http.post("/api/v1/programmes", json=body, headers=coordinator)
        assert programme.status_code == 201, programme.text
        household = await http.post(
            "/api/v1/households",
            json={
                "programme": programme.json()["id"],
                "qpv_code": "QN09301M",
                "children_birth_years": [2016],
            },
            headers=coordinator,
        )
        assert household.status_code == 201, household.text
        # an eligible household on a session's agenda: the commission page as the projector shows it
        agenda = await http.post(
            "/api/v1/households",
            json={
                "programme": programme.json()["id"],
                "qpv_code": "QN09301M",
                "children_birth_years": [2014, 2019],
                "has_internet": False,
            },
            headers=coordinator,
        )
        assert agenda.status_code == 201, agenda.text
        status = f"/api/v1/households/{agenda.json()['code']}/status"
        eligible = await http.post(status, json={"status": "eligible"}, headers=coordinator)
        assert eligible.status_code == 200, eligible.text
        session = await http.post(
            "/api/v1/commission-sessions",
            json={"programme": programme.json()["id"], "held_on": "2027-03-15", "members": ["Mme Roux"]},
            headers=coordinator,
        )
        assert session.status_code == 201, session.text
        planned = await http.post(
            "/api/v1/rounds",
            json={
                "programme": programme.json()["id"],
                "held_on": "2027-04-10",
                "vehicle": "Bus 1",
                "staff": ["bus_staff"],
                "stops": [{"place": "Pied de la tour 12", "qpv_code": "QN09301M", "starts_at": "09:00",
                           "ends_at": "10:00"}],
            },
            headers=coordinator,
        )  # fmt: skip
        assert planned.status_code == 201, planned.text
    return {
        "round": planned.json()["code"],
        "batch": batch.code,
        "device": device.code,
        "location": site.json()["code"],
        "programme": str(programme.json()["id"]),
        "household": household.json()["code"],
        "session": str(session.json()["id"]),
    }


def _below(role: str, seeded: dict[str, str]) -> list[str]:
    """Pages one click below the menu that the role opens."""
    pages = [f"/batches/{seeded['batch']}", f"/devices/{seeded['device']}", "/verify"]
    if role == "donor":
        pages += ["/agreement"]
    if role in {"admin", "supervisor", "coordinator"}:
        pages += ["/batches/new"]
    if role in {"admin", "supervisor", "technician", "coordinator", "auditor"}:
        pages += ["/stock/locations"]
    if role in {"admin", "supervisor", "technician"}:
        pages += [f"/labels/{seeded['device']}", "/stock/take"]
    if role in {"admin", "supervisor", "auditor", "coordinator"}:
        pages += ["/recycling/register"]
    if role in {"admin", "auditor", "coordinator"}:
        pages += [f"/programmes/{seeded['programme']}"]
    if role in {"admin", "coordinator", "bus_staff"}:
        pages += [f"/rounds/{seeded['round']}"]
    if role in {"admin", "coordinator"}:
        pages += [
            "/programmes/new",
            f"/programmes/{seeded['programme']}/edit",
            f"/households?programme={seeded['programme']}",
            f"/households/new?programme={seeded['programme']}",
            f"/households/{seeded['household']}",
            f"/households/{seeded['household']}/edit",
            "/households/purge",
            f"/programmes/{seeded['programme']}/census",
            f"/programmes/{seeded['programme']}/rules",
            "/commission",
            f"/commission/{seeded['session']}",
            "/allocations",
            "/allocations/stock-demand",
        ]
    return pages


async def test_every_page_of_every_role_passes_axe_and_fits_the_screen(browser, server, tokens) -> None:
    engine = "sqlite" if server.database_url.startswith("sqlite") else "postgres"
    for screen in CRAWLS[engine]:
        await _crawl(browser, server, tokens, screen)


async def _crawl(browser, server, tokens, screen: str) -> None:
    seeded = await _seed(server, tokens, screen)
    width, height = SCREENS[screen]
    problems: list[str] = []
    seen = audited = 0
    for role, own_screen in ROLES.items():
        context = await browser.new_context(
            viewport={"width": width, "height": height}, locale="fr-FR", base_url=server.url
        )
        tab = await context.new_page()
        try:
            await login(tab, role)
            menu = await tab.eval_on_selector_all("#main-nav a", "as => as.map(a => a.getAttribute('href'))")
            for path in dict.fromkeys([*menu, *_below(role, seeded)]):
                if path.startswith(NOT_OURS):
                    continue
                response = await tab.goto(path)
                if response is None or response.status == 403:
                    continue  # offered one click below to other roles only
                assert response.status == 200, f"{role} {path}: {response.status}"
                seen += 1
                if screen == own_screen or path == "/":
                    audited += 1
                    found = await violations(tab)
                    if found:
                        problems.append(f"{role} at {screen}: " + describe(path, found))
                overflow = await tab.evaluate(
                    "document.scrollingElement.scrollWidth - document.documentElement.clientWidth"
                )
                if overflow > 0:
                    problems.append(f"{role} at {screen}: {path} scrolls sideways by {overflow} px")
        finally:
            await context.close()
    assert seen >= 60, f"only {seen} pages were opened"
    assert audited >= 8, f"only {audited} pages were audited"
    assert not problems, "\n".join(problems)
