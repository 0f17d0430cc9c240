"""The shell at the sizes people use: a driver's phone, the workshop tablet, the desk."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 1024, "height": 600}
DESK = {"width": 1366, "height": 768}


async def test_a_driver_on_a_phone_reaches_the_pickups_from_the_start_page(page) -> None:
    await page.set_viewport_size(PHONE)
    await login(page, "driver")
    assert await page.is_visible("text=Votre travail")
    assert not await page.is_visible("#main-nav a[href='/collect']")  # folded behind the menu button
    await page.click(".menu-toggle")
    assert await page.get_attribute(".menu-toggle", "aria-expanded") == "true"
    await page.click("#main-nav a[href='/collect']")
    await page.wait_for_url("**/collect")
    assert await page.is_visible("form.logout button")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width


@pytest.mark.parametrize("size", [TABLET, DESK], ids=["1024x600", "1366x768"])
@pytest.mark.parametrize("who", ["supervisor", "admin"])
async def test_logout_and_language_stay_on_screen_for_the_longest_menus(page, size, who) -> None:
    await page.set_viewport_size(size)
    await login(page, who)
    for selector in ("form.logout button", "form.locale button[value=en]", "#main-nav a[href='/recycling']"):
        box = await page.locator(selector).bounding_box()
        assert box is not None, selector
        assert box["x"] >= 0, selector
        assert box["x"] + box["width"] <= size["width"], (selector, box)
        assert box["height"] >= 44, (selector, box)
    assert await page.evaluate("document.documentElement.scrollWidth") <= size["width"]
    assert not await page.is_visible(".menu-toggle")
