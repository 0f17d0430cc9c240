"""Searching the device list by code, serial or asset tag, the API and the page alike."""

from __future__ import annotations

import re
from typing import Any

from refurb.core.lifecycle import State
from tests.conftest import OTHER_DONOR_ORG
from tests.helpers import new_batch, new_device


async def _cast() -> dict[str, Any]:
    """Two devices of Donor One in one batch, one in another batch, one of Donor Two with a shared serial."""
    batch = await new_batch()
    alpha = await new_device(State.RECEIVED, batch=batch, serial="sn-alpha 1", asset_tag="ACME-42")
    beta = await new_device(State.DECLARED, batch=batch, serial="SHARED-1")
    other_batch = await new_batch()
    gamma = await new_device(State.RECEIVED, batch=other_batch, serial="GAMMA-9")
    theirs = await new_device(State.RECEIVED, batch=await new_batch(OTHER_DONOR_ORG), serial="SHARED-1")
    return {"batch": batch, "alpha": alpha, "beta": beta, "gamma": gamma, "theirs": theirs}


async def _found(client: Any, headers: dict[str, str], text: str) -> list[str]:
    response = await client.get("/api/v1/devices", params={"q": text}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    return [item["code"] for item in body["items"]]


async def test_the_api_finds_a_device_by_any_form_of_its_code_its_serial_or_its_asset_tag(
    client, as_user
) -> None:
    cast = await _cast()
    alpha, admin = cast["alpha"], as_user("admin")
    number = alpha.code[1:8]
    for text in (
        alpha.code,
        alpha.display_code,
        alpha.display_code.lower(),
        f" {alpha.code} ",
        f"http://refurb.example/D/{alpha.code}",
        "SN-ALPHA1",
        "sn-alpha 1",
        "acme-42",
    ):
        assert await _found(client, admin, text) == [alpha.code], text
    assert await _found(client, admin, cast["batch"].display_code) == [alpha.code, cast["beta"].code]
    assert await _found(client, admin, "SHARED-1") == [cast["beta"].code, cast["theirs"].code]
    wrong_check_digit = f"D-{number}-{(int(alpha.code[-1]) + 1) % 10}"
    assert await _found(client, admin, wrong_check_digit) == []
    assert await _found(client, admin, "nothing-like-it") == []
    assert await _found(client, admin, "") == [
        d.code for d in (alpha, cast["beta"], cast["gamma"], cast["theirs"])
    ]


async def test_a_donor_finds_only_its_own_devices(client, as_user) -> None:
    cast = await _cast()
    assert await _found(client, as_user("donor"), "SHARED-1") == [cast["beta"].code]
    assert await _found(client, as_user("other_donor"), "SHARED-1") == [cast["theirs"].code]
    assert await _found(client, as_user("other_donor"), cast["alpha"].code) == []
    assert await _found(client, as_user("other_donor"), "ACME-42") == []


async def test_the_search_is_bounded_and_combines_with_the_filters(client, as_user) -> None:
    cast = await _cast()
    admin = as_user("admin")
    too_long = await client.get("/api/v1/devices", params={"q": "X" * 101}, headers=admin)
    assert too_long.status_code == 400
    assert too_long.headers["content-type"].startswith("application/problem+json")
    assert (await client.get("/api/v1/devices", params={"q": "X" * 100}, headers=admin)).json()["total"] == 0
    declared = await client.get(
        "/api/v1/devices", params={"q": "SHARED-1", "state": "declared"}, headers=admin
    )
    assert [item["code"] for item in declared.json()["items"]] == [cast["beta"].code]


async def test_the_device_list_page_has_a_search_box(client, as_user) -> None:
    cast = await _cast()
    page = await client.get("/devices", params={"q": "shared-1"}, headers=as_user("donor"))
    assert page.status_code == 200
    assert re.search(r'<input type="search" name="q" value="shared-1" maxlength="100"', page.text)
    table = page.text[page.text.index("<tbody>") : page.text.index("</tbody>")]
    assert re.findall(r'data-code="(D\d+)"', table) == [cast["beta"].code]
    assert "1 appareil" in page.text
    everyone = await client.get("/devices", params={"q": cast["batch"].code}, headers=as_user("admin"))
    table = everyone.text[everyone.text.index("<tbody>") : everyone.text.index("</tbody>")]
    assert re.findall(r'data-code="(D\d+)"', table) == [cast["alpha"].code, cast["beta"].code]
    too_long = await client.get("/devices", params={"q": "X" * 101}, headers=as_user("admin"))
    assert too_long.status_code == 400
