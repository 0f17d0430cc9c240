"""The page shell and the small things people met: language switch, role links, /verify by code."""

from __future__ import annotations

import pytest

from tests.helpers import new_batch


async def test_switching_language_keeps_the_query_string(client, as_user) -> None:
    page = await client.get("/devices?state=received&page=2", headers=as_user("admin", accept="text/html"))
    assert 'name="next" value="/devices?state=received&amp;page=2"' in page.text


async def test_every_page_has_the_menu_button_the_account_and_a_skip_link(client, as_user) -> None:
    page = (await client.get("/devices", headers=as_user("supervisor", accept="text/html"))).text
    assert 'class="menu-toggle" aria-expanded="false" aria-controls="main-nav"' in page
    assert '<nav class="nav" id="main-nav"' in page
    assert page.index('class="account"') < page.index('id="main-nav"')  # logout and FR/EN come first
    assert '<a class="skip" href="#main">' in page


@pytest.mark.parametrize(("who", "shown"), [("technician", True), ("coordinator", False), ("auditor", False)])
async def test_the_stock_take_link_is_shown_only_to_those_who_may_do_one(client, as_user, who, shown) -> None:
    page = (await client.get("/stock", headers=as_user(who, accept="text/html"))).text
    assert ('href="/stock/take"' in page) is shown
    take = await client.get("/stock/take", headers=as_user(who, accept="text/html"))
    assert take.status_code == (200 if shown else 403)


@pytest.mark.parametrize(("who", "shown"), [("coordinator", True), ("bus_staff", False), ("auditor", False)])
async def test_pallet_labels_are_offered_only_to_roles_that_may_print_them(
    client, as_user, who, shown
) -> None:
    batch = await new_batch()
    page = (await client.get(f"/batches/{batch.code}", headers=as_user(who, accept="text/html"))).text
    assert (f'href="/labels/{batch.code}?kind=batch"' in page) is shown


async def test_verify_takes_a_typed_code_and_shows_the_verdict_in_colour(client) -> None:
    typed = await client.get("/verify?code=%20C-0000001-9%20", headers={"accept": "text/html"})
    assert (typed.status_code, typed.headers["location"]) == (303, "/verify/C-0000001-9")
    form = (await client.get("/verify", headers={"accept": "text/html"})).text
    assert '<input name="code"' in form
