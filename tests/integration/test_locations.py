"""Managing stock locations over HTTP, on both engines: the tree, kinds, names, capacities, page, labels."""

from __future__ import annotations

from typing import Any

import pypdfium2
import zxingcpp

from refurb.core.codes import CodeType, make_code
from refurb.core.lifecycle import State
from refurb.core.stages import Stage
from refurb.stock import holdings
from refurb.stock.tables import Location
from tests.helpers import new_device, new_station

API = "/api/v1/locations"
UNKNOWN = make_code(CodeType.LOCATION, 9_999_999).display  # well formed, never minted here


async def add(client: Any, headers: dict[str, str], name: str, kind: str, **more: Any) -> Any:
    return await client.post(API, json={"name": name, "kind": kind, **more}, headers=headers)


async def build(client: Any, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Atelier → Réserve → Étagère A → Bac A1 (capacity 2) and Bac A2 (unlimited)."""
    made: dict[str, dict[str, Any]] = {}
    for name, kind, parent, capacity in (
        ("Atelier", "site", None, None),
        ("Réserve", "zone", "Atelier", None),
        ("Étagère A", "shelf", "Réserve", None),
        ("Bac A1", "bin", "Étagère A", 2),
        ("Bac A2", "bin", "Étagère A", None),
    ):
        parent_code = made[parent]["code"] if parent else None
        response = await add(client, headers, name, kind, parent=parent_code, capacity=capacity)
        assert response.status_code == 201, response.text
        made[name] = response.json()
    return made


async def put_away(client: Any, headers: dict[str, str], location: str, count: int) -> list[str]:
    station = (await new_station(Stage.STOCK, f"Rangement {location}")).code
    codes = []
    for _ in range(count):
        device = await new_device(State.LICENSED)
        response = await client.post(
            "/api/v1/scans",
            json={"station": station, "text": device.code, "context": {"location": location}},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        codes.append(device.code)
    return codes


def flat(nodes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for node in nodes:
        out[node["name"]] = node
        out.update(flat(node["children"]))
    return out


async def test_a_supervisor_builds_the_tree_and_everyone_in_the_workshop_reads_it(
    client, as_user, monkeypatch
) -> None:
    made = await build(client, as_user("supervisor"))
    assert made["Bac A1"]["parent"] == made["Étagère A"]["code"]
    assert (made["Bac A1"]["kind"], made["Bac A1"]["capacity"]) == ("bin", 2)
    assert made["Atelier"]["parent"] is None
    rows = await Location.select(Location.name, Location.kind, Location.capacity).order_by(Location.id)
    assert [(r["name"], r["kind"], r["capacity"]) for r in rows] == [
        ("Atelier", "site", None),
        ("Réserve", "zone", None),
        ("Étagère A", "shelf", None),
        ("Bac A1", "bin", 2),
        ("Bac A2", "bin", None),
    ]
    stored = await put_away(client, as_user("technician"), made["Bac A1"]["code"], 2)

    async def no_count_per_location(*_: Any, **__: Any) -> int:
        raise AssertionError("the tree counts with one grouped query, not one per location")

    monkeypatch.setattr(holdings, "count_at", no_count_per_location)
    for reader in ("technician", "coordinator", "auditor", "supervisor", "admin"):
        response = await client.get(API, headers=as_user(reader))
        assert response.status_code == 200, (reader, response.text)
    tree = response.json()
    assert [n["name"] for n in tree] == ["Atelier"]
    nodes = flat(tree)
    assert nodes["Bac A1"]["path"] == "Atelier / Réserve / Étagère A / Bac A1"
    assert (nodes["Bac A1"]["held"], nodes["Bac A1"]["capacity"], nodes["Bac A1"]["full"]) == (2, 2, True)
    assert (nodes["Bac A2"]["held"], nodes["Bac A2"]["capacity"], nodes["Bac A2"]["full"]) == (0, None, False)
    assert (nodes["Atelier"]["held"], nodes["Atelier"]["held_below"]) == (0, 2)
    assert [c["name"] for c in nodes["Étagère A"]["children"]] == ["Bac A1", "Bac A2"]
    assert nodes["Bac A1"]["display_code"].startswith("L-")
    assert len(stored) == 2
    for outsider in ("donor", "driver", "bus_staff"):
        assert (await client.get(API, headers=as_user(outsider))).status_code == 403


async def test_kinds_go_down_the_hierarchy_and_names_are_unique_among_siblings(client, as_user) -> None:
    sup = as_user("supervisor")
    made = await build(client, sup)
    before = await Location.count()
    shelf, bin_ = made["Étagère A"]["code"], made["Bac A1"]["code"]
    refusals = [
        (await add(client, sup, "Sous-bac", "bin", parent=bin_), 400, "bad_location_kind"),
        (await add(client, sup, "Zone sur étagère", "zone", parent=shelf), 400, "bad_location_kind"),
        (
            await add(client, sup, "Site dans site", "site", parent=made["Atelier"]["code"]),
            400,
            "bad_location_kind",
        ),
        (await add(client, sup, "Zone orpheline", "zone"), 400, "location_parent_required"),
        (await add(client, sup, "Armoire", "cupboard", parent=shelf), 400, "bad_location_kind"),
        (await add(client, sup, "Bac X", "bin", parent=UNKNOWN), 404, "not_found"),
        (
            await add(client, sup, "Bac Y", "bin", parent=UNKNOWN[:-1] + str((int(UNKNOWN[-1]) + 1) % 10)),
            400,
            "bad_check_digit",
        ),
        (await add(client, sup, "Bac Z", "bin", parent=shelf, capacity=-1), 400, "bad_capacity"),
        (await add(client, sup, "   ", "bin", parent=shelf), 400, "bad_location_name"),
        (await add(client, sup, "bac  a1 ", "bin", parent=shelf), 409, "location_name_taken"),
        (await add(client, sup, "Atelier", "site"), 409, "location_name_taken"),
    ]
    for response, status, code in refusals:
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert await Location.count() == before  # nothing half-made
    elsewhere = await add(client, sup, "Bac A1", "bin", parent=made["Réserve"]["code"])  # skips "shelf"
    assert elsewhere.status_code == 201, elsewhere.text
    assert elsewhere.json()["parent"] == made["Réserve"]["code"]
    assert (await add(client, as_user("technician"), "Bac T", "bin", parent=shelf)).status_code == 403
    assert (await add(client, as_user("coordinator"), "Bac C", "bin", parent=shelf)).status_code == 403
    admin = await add(client, as_user("admin"), "Bac Admin", "bin", parent=shelf, capacity=0)
    assert (admin.status_code, admin.json()["capacity"]) == (201, 0)


async def test_capacity_never_goes_below_what_is_held(client, as_user) -> None:
    sup = as_user("supervisor")
    made = await build(client, sup)
    code = made["Bac A2"]["code"]
    await put_away(client, as_user("technician"), code, 3)
    low = await client.patch(f"{API}/{code}", json={"capacity": 2, "name": "Bac renommé"}, headers=sup)
    assert low.status_code == 409
    problem = low.json()
    assert (problem["code"], problem["held"], problem["capacity"]) == ("capacity_below_held", 3, 2)
    row = await Location.select(Location.name, Location.capacity).where(Location.code == code).first()
    assert row == {"name": "Bac A2", "capacity": None}  # the name did not change either
    english = await client.patch(
        f"{API}/{code}", json={"capacity": 1}, headers={**sup, "accept-language": "en"}
    )
    assert "holds 3 devices" in english.json()["detail"]
    exact = await client.patch(f"{API}/{code}", json={"capacity": 3}, headers=sup)
    assert (exact.status_code, exact.json()["capacity"]) == (200, 3)
    assert flat((await client.get(API, headers=sup)).json())["Bac A2"]["full"] is True
    refused = await client.post(
        "/api/v1/scans",
        json={
            "station": (await new_station(Stage.STOCK)).code,
            "text": (await new_device(State.LICENSED)).code,
            "context": {"location": code},
        },
        headers=as_user("technician"),
    )
    assert refused.json()["code"] == "location_full"
    negative = await client.patch(f"{API}/{code}", json={"capacity": -5}, headers=sup)
    assert (negative.status_code, negative.json()["code"]) == (400, "bad_capacity")
    unlimited = await client.patch(f"{API}/{code}", json={"capacity": None}, headers=sup)
    assert (unlimited.status_code, unlimited.json()["capacity"]) == (200, None)
    renamed = await client.patch(f"{API}/{code}", json={"name": "Bac B"}, headers=sup)
    assert (renamed.status_code, renamed.json()["name"], renamed.json()["capacity"]) == (200, "Bac B", None)
    clash = await client.patch(f"{API}/{code}", json={"name": "BAC A1"}, headers=sup)
    assert (clash.status_code, clash.json()["code"]) == (409, "location_name_taken")
    same = await client.patch(f"{API}/{code}", json={"name": "bac b"}, headers=sup)  # its own name: fine
    assert same.status_code == 200
    assert (await client.patch(f"{API}/{UNKNOWN}", json={"name": "X"}, headers=sup)).status_code == 404
    assert (
        await client.patch(f"{API}/{code}", json={"capacity": 9}, headers=as_user("technician"))
    ).status_code == 403
    row = await Location.select(Location.name, Location.capacity).where(Location.code == code).first()
    assert row == {"name": "bac b", "capacity": None}


async def test_the_locations_page_shows_held_against_capacity_and_its_forms_work(client, as_user) -> None:
    sup = as_user("supervisor")
    made = await build(client, sup)
    full_bin = made["Bac A1"]["code"]
    await put_away(client, as_user("technician"), full_bin, 2)
    page = await client.get("/stock/locations", headers=sup)
    assert page.status_code == 200
    assert "Emplacements de stock" in page.text  # French by default
    row = page.text.split(f'id="{full_bin}"')[1].split("</tr>")[0]
    assert "location-full" in page.text.split(f'id="{full_bin}"')[0].rsplit("<tr", 1)[1] + row
    assert "2 / 2" in row
    assert f'href="/labels/{full_bin}?kind=location"' in row
    shelf_row = page.text.split(f'id="{made["Étagère A"]["code"]}"')[1].split("</tr>")[0]
    assert (
        f'data-codes="{made["Étagère A"]["code"]},{made["Bac A1"]["code"]},{made["Bac A2"]["code"]}"'
        in shelf_row
    )
    reader = await client.get("/stock/locations", headers={**as_user("coordinator"), "accept-language": "en"})
    assert reader.status_code == 200
    assert "Stock locations" in reader.text
    assert 'action="/stock/locations' not in reader.text  # no forms, no print links for a reader
    assert "/labels/" not in reader.text
    assert (await client.get("/stock/locations", headers=as_user("donor"))).status_code == 403
    added = await client.post(
        "/stock/locations",
        data={"name": "Bac A3", "kind": "bin", "parent": made["Étagère A"]["code"], "capacity": "4"},
        headers=sup,
    )
    assert added.status_code == 303, added.text
    new = await Location.select(Location.code, Location.capacity).where(Location.name == "Bac A3").first()
    assert new["capacity"] == 4
    assert added.headers["location"] == f"/stock/locations?done=added#{new['code']}"
    too_low = await client.post(
        f"/stock/locations/{full_bin}", data={"name": "Bac A1", "capacity": "1"}, headers=sup
    )
    assert too_low.status_code == 409
    assert "Bac A1" in too_low.text
    unlimited = await client.post(
        f"/stock/locations/{full_bin}", data={"name": "Bac A1", "capacity": ""}, headers=sup
    )
    assert unlimited.status_code == 303
    assert (await Location.select(Location.capacity).where(Location.code == full_bin).first())[
        "capacity"
    ] is None
    typo = await client.post(
        f"/stock/locations/{full_bin}", data={"name": "Bac A1", "capacity": "dix"}, headers=sup
    )
    assert typo.status_code == 400
    forbidden = await client.post(
        "/stock/locations", data={"name": "Z", "kind": "site"}, headers=as_user("technician")
    )
    assert forbidden.status_code == 403


async def test_the_labels_of_a_branch_print_and_decode(client, as_user) -> None:
    made = await build(client, as_user("supervisor"))
    shelf = flat((await client.get(API, headers=as_user("technician"))).json())["Étagère A"]
    codes = [shelf["code"], *(child["code"] for child in shelf["children"])]
    response = await client.post(
        "/api/v1/labels/print-jobs",
        json={"codes": codes, "kind": "location", "format": "pdf"},
        headers=as_user("technician"),
    )
    assert response.status_code == 201, response.text
    document = pypdfium2.PdfDocument(response.content)
    decoded = [
        {r.text for r in zxingcpp.read_barcodes(page.render(scale=300 / 72).to_pil())} for page in document
    ]
    assert [codes_on_page & set(codes) for codes_on_page in decoded] == [{c} for c in codes]
    assert made["Bac A1"]["code"] in codes
