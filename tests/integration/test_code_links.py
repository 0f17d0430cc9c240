"""Codes for humans: pages show the display form or the thing's name, linked to its page."""

from __future__ import annotations

from refurb.core.lifecycle import State
from refurb.core.stages import Stage
from refurb.stock import service as stock
from tests.helpers import new_batch, new_device, new_station
from tests.integration.test_stock import scan


def link(href: str, display: str, compact: str, shown: str | None = None) -> str:
    """The markup of `code_link` (by default it shows the display form)."""
    shown = shown or f"<code>{display}</code>"
    return f'<a href="{href}" title="{display}" data-code="{compact}">{shown}</a>'


async def test_the_device_list_and_page_link_codes_in_their_display_form(client, as_user) -> None:
    batch = await new_batch()
    device = await new_device(State.RECEIVED, batch=batch, serial="SN-LINK")
    page = (await client.get("/devices", headers=as_user("admin"))).text
    device_link = link(
        f"/devices/{device.code}", device.display_code, device.code, f"<code>{device.display_code}</code>"
    )
    batch_link = link(
        f"/batches/{batch.code}", batch.display_code, batch.code, f"<code>{batch.display_code}</code>"
    )
    row = page[page.index("<tbody>") : page.index("</tbody>")]
    assert f"<tr>\n      <td>{device_link}</td>" in row
    assert f"<td>{batch_link}</td>" in row
    assert f">{batch.code}<" not in row  # the compact code was shown before
    assert f">{device.code}<" not in row
    shown = (await client.get(f"/devices/{device.code}", headers=as_user("admin"))).text
    assert f"<dd>{batch_link}</dd>" in shown


async def test_stock_pages_name_the_location_and_link_it(client, as_user) -> None:
    site = await stock.create_location("Entrepôt", "site")
    bin_ = await stock.create_location("Bac A3", "bin", parent_code=site.code, capacity=5)
    station = (await new_station(Stage.STOCK, "Rangement 1")).code
    device = await new_device(State.LICENSED)
    stored = await scan(client, as_user("technician"), station, device.code, {"location": bin_.code})
    assert stored.status_code == 200, stored.text
    levels = await client.get("/stock", headers=as_user("coordinator"))
    named = '<span class="code-name">Entrepôt / Bac A3</span>'
    assert link(f"/stock/locations#{bin_.code}", bin_.display_code, bin_.code, named) in levels.text
    history = await client.get(f"/devices/{device.code}", headers=as_user("coordinator"))
    assert link(f"/stock/locations#{bin_.code}", bin_.display_code, bin_.code) in history.text
    assert f"{bin_.code}<" not in levels.text
    assert f"{bin_.code}<" not in history.text
