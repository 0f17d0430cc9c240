"""The README's donation walk-through on the demo data, step by step over HTTP."""

from __future__ import annotations

import json
import re
from pathlib import Path

from refurb.demo import load_demo
from refurb.devices.tables import Device
from refurb.intake.tables import Batch
from tests.conftest import SECRET_KEY

README = Path(__file__).resolve().parents[2] / "README.md"


async def _scan(client, headers, station: str, text: str, context: dict[str, str] | None = None):
    body = {"station": station, "text": text, "context": context or {}}
    return await client.post("/api/v1/scans", json=body, headers=headers)


async def test_the_readme_donation_walk_through(client, as_user) -> None:
    await load_demo(SECRET_KEY)
    walk_through = README.read_text().split("To try a donation from end to end", 1)[1].split("\n\n", 1)[0]

    driver = as_user("driver")
    opened = await client.get("/collect", params={"code": "DEMO-2026-002"}, headers=driver)
    assert opened.status_code == 303
    code = opened.headers["location"].removeprefix("/collect/")
    pickup = {"count_laptop": "4", "count_desktop": "2", "signer_name": "Marc Dupont"}
    collected = await client.post(f"/collect/{code}", data=pickup, headers=driver)
    assert (collected.status_code, collected.headers["location"]) == (303, f"/collect?done={code}")

    technician = as_user("technician", **{"accept-language": "fr"})
    stations = (await client.get("/api/v1/stations", headers=technician)).json()
    (station,) = [s for s in stations if s["name"] == "Réception 1"]
    assert station["printer"] is None  # hence the PDF button of the walk-through
    found = await _scan(client, technician, station["code"], code)
    assert (found.status_code, found.json()["result"]) == (200, "found")
    context = found.json()["context"]

    asked = await _scan(client, technician, station["code"], "ACMEPICK01", context)
    assert (asked.status_code, asked.json()["result"]) == (200, "needs_label")  # amber, not a refusal
    label = asked.json()["label"]
    page = await client.get(f"/stations/{station['code']}", headers=technician)
    shown = json.loads(re.search(r'id="station-messages">(.*?)</script>', page.text).group(1))
    assert f"*{shown['print_label']}*" in walk_through  # the README names the button the page shows
    assert (await Device.select(Device.state).where(Device.serial == "ACMEPICK01").first())["state"] == (
        "collected"
    )

    job = {"codes": [label["code"]], "kind": label["kind"], "station": station["code"]}
    printed = await client.post("/api/v1/labels/print-jobs", json=job, headers=technician)
    assert (printed.status_code, printed.headers["content-type"]) == (201, "application/pdf")
    again = await _scan(client, technician, station["code"], label["code"], context)  # the label stuck on
    assert (again.status_code, again.json()["result"]) == (200, "recorded")
    assert again.json()["device"]["code"] == label["code"]
    assert (await Device.select(Device.state).where(Device.serial == "ACMEPICK01").first())["state"] == (
        "received"
    )
    batches = await Batch.select(Batch.reference, Batch.state).order_by(Batch.reference)
    assert batches == [
        {"reference": "DEMO-2026-001", "state": "received"},
        {"reference": "DEMO-2026-002", "state": "received"},
    ]
