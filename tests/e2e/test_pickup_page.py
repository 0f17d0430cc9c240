"""The driver's pickup on a phone: count (nothing pre-filled), a refusal keeps the typing, then /collect."""

from __future__ import annotations

import pytest

from refurb.core.kinds import DeviceKind
from refurb.intake.tables import Batch
from tests.e2e.axe import describe, violations
from tests.e2e.conftest import login
from tests.helpers import signed_agreement, submitted_batch

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


@pytest.fixture
async def phone(browser, server):
    context = await browser.new_context(
        viewport=PHONE, locale="fr-FR", base_url=server.url, is_mobile=True, has_touch=True
    )
    tab = await context.new_page()
    yield tab
    await context.close()


async def _checked(page) -> None:
    """No sideways scrolling on the phone, and nothing axe-core calls critical or serious."""
    width = await page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], (page.url, width)
    found = await violations(page)
    assert found == [], describe(page.url, found)


async def test_a_driver_counts_a_pickup_on_a_phone(phone) -> None:
    page = phone
    batch = await submitted_batch(declared={DeviceKind.LAPTOP: 3, DeviceKind.DESKTOP: 1})
    await login(page, "driver")
    await page.goto("/collect")
    await _checked(page)
    await page.click(f"a[href='/collect/{batch.code}']")
    await page.wait_for_url(f"**/collect/{batch.code}")
    await _checked(page)
    for kind in ("laptop", "desktop"):  # nothing to confirm unseen: empty, required, the number beside it
        assert await page.input_value(f"#count_{kind}") == ""
        assert await page.get_attribute(f"#count_{kind}", "required") is not None
    assert await page.inner_text("#hint-count_laptop") == "attendus\u00a0: 3"

    await page.fill("#count_laptop", "3")
    await page.fill("#signer_name", "Bob Durand")
    await page.click("#pickup-form button[type=submit]")  # the desktops are not counted: the phone says so
    assert page.url.endswith(f"/collect/{batch.code}")
    assert await page.evaluate("document.querySelector('#count_desktop').validity.valueMissing")

    await page.fill("#count_desktop", "1")
    await page.fill("#seals", "S-1\nS-2")
    await page.fill("#vehicle", "AB-123-CD")
    await page.click("#pickup-form button[type=submit]")  # no signed agreement yet: refused by the server
    await page.wait_for_selector("p.alert[role=alert]")
    assert await page.inner_text("p.alert[role=alert]") == (
        f"{batch.display_code} ne peut pas être collecté\u00a0: "
        "son donateur n'a pas signé la convention de don."
    )
    typed = {
        "#count_laptop": "3",
        "#count_desktop": "1",
        "#signer_name": "Bob Durand",
        "#vehicle": "AB-123-CD",
    }
    for selector, value in typed.items():
        assert await page.input_value(selector) == value, selector
    assert await page.input_value("#seals") == "S-1\nS-2"
    await _checked(page)
    assert (await Batch.select(Batch.state).first())["state"] == "submitted"

    await signed_agreement()
    await page.click("#pickup-form button[type=submit]")
    await page.wait_for_url("**/collect?done=*")
    notice = await page.inner_text("#pickup-done")
    assert notice == f"Collecte de {batch.display_code} enregistrée\u00a0: 4 appareils comptés."
    await _checked(page)
    assert await page.locator(f"a[href='/collect/{batch.code}']").count() == 0
    row = await Batch.select(Batch.state, Batch.collection).first()
    assert row["state"] == "collected"
