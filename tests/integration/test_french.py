"""French pages speak French: no English word left, French numbers, amounts and plurals."""

from __future__ import annotations

import html
import re
from typing import Any

from refurb.core.lifecycle import State
from refurb.core.stages import Stage
from refurb.stock import service as stock
from tests.helpers import new_batch, new_device, new_station, received
from tests.integration.test_stock import scan

#: English that showed in French pages before (words are matched whole, case counts).
LEAKS = (
    "Clear",
    "Purge",
    "Destroy",
    "generic",
    "UNKNOWN",
    "OTHER",
    "demo data",
    "Total:",
    "Code:",
    "Reason:",
    "1 avertissements",
    "0 appareils",
    "1 appareils",
    "device · PDF",
    "None",
    "Pool",
    "Pickup",
    "Batch",
    "Devices",
)
#: Pages with their readers (a page a role may not open answers 403 and is skipped).
PAGES = (
    "/",
    "/devices",
    "/batches",
    "/collect",
    "/stock",
    "/stock/locations",
    "/stock/take",
    "/workshop",
    "/licences",
    "/licences/report",
    "/recycling",
    "/recycling/register",
    "/erasure",
    "/erasure/supervision",
    "/verify",
    "/agreement",
    "/stations",
    "/programmes",
    "/programmes/new",
    "/households",
    "/households/purge",
)
ROLES = ("admin", "coordinator", "supervisor", "technician", "driver", "donor", "auditor")


def visible_text(page: str) -> str:
    """What a reader sees: no scripts, no tags, entities decoded, spaces as typed."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(page)


def leaks_in(text: str) -> list[str]:
    """The known English strings present in `text`."""
    found = []
    for leak in LEAKS:
        pattern = (r"(?<![\w-])" if leak[0].isalnum() else "") + re.escape(leak)
        pattern += r"(?![\w-])" if leak[-1].isalnum() else ""
        if re.search(pattern, text):
            found.append(leak)
    return found


async def _seed(client: Any, as_user: Any) -> dict[str, str]:
    """A little of everything: devices in several states with a history, a pool with a price."""
    batch = await new_batch()
    kept = await new_device(State.RECEIVED, batch=batch, serial="SN-FR-1")
    refused = await new_device(State.RECEIVED, batch=batch, serial="SN-FR-2")
    await client.post(
        f"/api/v1/devices/{refused.code}/actions/reject",
        json={"reason": "carte mère HS"},
        headers=as_user("technician"),
    )
    wiping = await received(["WD-FR-1"], batch=batch)
    pool = await client.post(
        "/api/v1/licence-pools",
        json={
            "name": "Windows 11",
            "os": "Windows 11 Pro",
            "licence_type": "MAR",
            "unit_cost_cents": 123450,
            "quantity": 12000,
        },
        headers=as_user("supervisor"),
    )
    assert pool.status_code == 201, pool.text
    lot = await client.post("/api/v1/recycling-lots", headers=as_user("supervisor"))
    assert lot.status_code == 201, lot.text
    station = await new_station(Stage.RECEPTION, "Réception 1")
    return {
        "batch": batch.code,
        "kept": kept.code,
        "refused": refused.code,
        "wiping": wiping,
        "lot": lot.json()["reference"],
        "station": station.code,
    }


async def test_french_pages_carry_no_english_leak(client, as_user) -> None:
    seeded = await _seed(client, as_user)
    pages = [
        *PAGES,
        f"/devices/{seeded['kept']}",
        f"/devices/{seeded['refused']}",
        f"/batches/{seeded['batch']}",
        f"/erasure?code={seeded['wiping']}",
        f"/recycling/{seeded['lot']}",
        f"/labels/{seeded['kept']}",
        f"/labels/{seeded['batch']}?kind=batch",
        f"/collect/{seeded['batch']}",
        f"/batches/{seeded['batch']}/edit",
        "/batches/new",
    ]
    seen, leaks = 0, {}
    for role in ROLES:
        for path in pages:
            response = await client.get(path, headers=as_user(role, **{"accept-language": "fr"}))
            if response.status_code in (403, 404):
                continue
            assert response.status_code == 200, (role, path, response.status_code)
            assert '<html lang="fr">' in response.text
            seen += 1
            found = leaks_in(visible_text(response.text))
            if found:
                leaks[(role, path)] = found
    assert seen > 40
    assert leaks == {}


async def test_the_leak_check_finds_english(client, as_user) -> None:
    """The check itself: the same pages in English are full of what it looks for."""
    seeded = await _seed(client, as_user)
    english = as_user("admin", **{"accept-language": "en"})
    response = await client.get(f"/batches/{seeded['batch']}", headers=english)
    assert {"Clear", "Purge", "Destroy", "Batch", "Devices"} <= set(leaks_in(visible_text(response.text)))
    assert leaks_in("Motif\u00a0: carte mère HS · 1 avertissement · Purgez-le") == []
    assert leaks_in("Total: 3 · Code: x") == ["Total:", "Code:"]


async def test_a_french_page_formats_money_numbers_and_history_the_french_way(client, as_user) -> None:
    seeded = await _seed(client, as_user)
    pools = await client.get("/licences", headers=as_user("supervisor", **{"accept-language": "fr"}))
    row = pools.text.split('data-pool="')[1].split("</tr>")[0]
    assert '<td class="amount">1\u202f234,50\u00a0€</td>' in row
    assert "<td>0 / 12\u202f000</td>" in row  # keys held of keys bought
    english = await client.get("/licences", headers=as_user("supervisor", **{"accept-language": "en"}))
    assert '<td class="amount">€1,234.50</td>' in english.text
    history = await client.get(f"/devices/{seeded['refused']}", headers=as_user("auditor"))
    timeline = visible_text(history.text[history.text.index('class="timeline"') :])
    assert "rejeté" in timeline
    assert "rejeter" not in timeline
    assert "Motif\u00a0: carte mère HS" in timeline


async def test_counts_agree_with_their_number_in_french(client, as_user) -> None:
    batch = await new_batch()
    imported = await client.post(
        f"/batches/{batch.code}/manifest",
        data={"mode": "all"},
        files={"file": ("parc.csv", b"serial;kind\nP-1;laptop\n", "text/csv")},
        headers=as_user("donor", **{"accept-language": "fr"}),
    )
    assert imported.status_code == 200, imported.text
    text = visible_text(imported.text)
    assert "1 appareil ajouté, 0 mis à jour." in text
    assert "1 ligne\u00a0: 1 valide, 0 en erreur, 0 avertissement." in text
    assert "1 appareils" not in text


async def test_refusals_agree_with_their_count_in_each_language(client, as_user) -> None:
    pool = await client.post(
        "/api/v1/licence-pools",
        json={"name": "Windows 11", "os": "Windows 11 Pro", "licence_type": "MAR"},
        headers=as_user("supervisor"),
    )
    key = "TSTAA-00001-QQQQQ-RRRRR-SSSSS"
    one_bad = f"key\r\n{key}\r\nnot a key!\r\n".encode()
    two_bad = f"key\r\n{key}\r\nnot a key!\r\nnor this!\r\n".encode()
    answers = {}
    for language, body in (("fr", one_bad), ("en", one_bad), ("fr", two_bad), ("en", two_bad)):
        refused = await client.post(
            f"/api/v1/licence-pools/{pool.json()['id']}/keys",
            content=body,
            headers=as_user("supervisor", **{"content-type": "text/csv", "accept-language": language}),
        )
        assert refused.status_code == 422, refused.text
        answers[(language, body.count(b"\r\n") - 2)] = refused.json()["detail"]
    assert answers == {
        ("fr", 1): "1 ligne du fichier de clés a des erreurs\u00a0: rien n'a été importé.",
        ("en", 1): "1 row of the key file has errors: nothing was imported.",
        ("fr", 2): "2 lignes du fichier de clés ont des erreurs\u00a0: rien n'a été importé.",
        ("en", 2): "2 rows of the key file have errors: nothing was imported.",
    }


async def test_a_stock_station_counts_places_in_french(client, as_user) -> None:
    site = await stock.create_location("Entrepôt", "site")
    bin_ = await stock.create_location("Bac A3", "bin", parent_code=site.code, capacity=10)
    station = await new_station(Stage.STOCK, "Rangement 1")
    messages = []
    for stored in (0, 1, 2):
        if stored:
            device = await new_device(State.LICENSED)
            put = await scan(
                client, as_user("technician"), station.code, device.code, {"location": bin_.code}
            )
            assert put.status_code == 200, put.text
        scanned = await scan(
            client, as_user("technician", **{"accept-language": "fr"}), station.code, bin_.code, {}
        )
        messages.append(scanned.json()["message"])
    assert messages == [
        f"Bac A3 ({bin_.display_code})\u00a0: {held} Scannez les appareils à ranger ici."
        for held in ("0 place prise sur 10.", "1 place prise sur 10.", "2 places prises sur 10.")
    ]
