"""The bus's labels, read back by a real decoder (zxing-cpp) on both engines: the convocation cards (one,
and a round's four to an A4 page), the round manifest with every reserved device, the hand-over receipt."""

from __future__ import annotations

from typing import Any

import pypdfium2
import zxingcpp

from refurb.core.codes import parse_code
from tests.integration.bus import ROUNDS, handover_body, round_with_households
from tests.integration.test_households import PERSON


def decoded(pdf: bytes) -> list[set[str]]:
    """The barcodes of each page of a PDF, rendered at 300 dpi."""
    document = pypdfium2.PdfDocument(pdf)
    return [
        {r.text for r in zxingcpp.read_barcodes(page.render(scale=300 / 72).to_pil())} for page in document
    ]


def text_of(pdf: bytes) -> str:
    document = pypdfium2.PdfDocument(pdf)
    return "\n".join(page.get_textpage().get_text_range() for page in document)


async def _personal_data(household: str) -> None:
    from refurb.distribution.schemas import PersonalDataIn
    from refurb.distribution.service import set_personal_data
    from tests.helpers import principal

    await set_personal_data(household, PersonalDataIn(**PERSON), await principal("coordinator"))


async def test_convocation_cards_decode_to_the_family_code_and_name_nobody(client, as_user) -> None:
    coordinator = as_user("coordinator", **{"accept-language": "fr"})
    setup = await round_with_households(client, coordinator, 3)
    code, households = setup["round"]["code"], setup["households"]
    await _personal_data(households[0])

    one = await client.get(f"/api/v1/labels/{households[0]}?kind=convocation&format=pdf", headers=coordinator)
    assert one.status_code == 200, one.text
    assert decoded(one.content) == [{households[0]}]
    words = " ".join(text_of(one.content).split())
    assert "Horaire : 09:00 - 09:30" in words  # the dash as the PDF's font draws it
    assert "Pied de la tour 12" in words
    assert parse_code(code).display in words
    assert "pièce d'identité" in words
    assert "BENALI" not in words  # names are printed only when the setting is on
    assert "Benali" not in words

    sheet = await client.get(f"{ROUNDS}/{code}/convocations.pdf", headers=as_user("bus_staff"))
    assert sheet.status_code == 200, sheet.text
    pages = decoded(sheet.content)
    assert len(pages) == 1  # four A6 cards to an A4 page
    assert pages[0] == set(households)

    stranger = await client.get(f"{ROUNDS}/{code}/convocations.pdf", headers=as_user("donor"))
    assert stranger.status_code == 404


async def test_the_round_manifest_lists_every_reserved_device_with_its_barcode(client, as_user) -> None:
    coordinator = as_user("coordinator", **{"accept-language": "fr"})
    setup = await round_with_households(client, coordinator, 3)
    code, devices = setup["round"]["code"], setup["devices"]
    sheet = await client.get(f"{ROUNDS}/{code}/manifest.pdf", headers=as_user("bus_staff"))
    assert sheet.status_code == 200, sheet.text
    (page,) = decoded(sheet.content)
    assert page == {code, *devices}
    words = text_of(sheet.content)
    for household in setup["households"]:
        assert parse_code(household).display in words


async def test_the_receipt_decodes_to_the_device_and_the_family_and_states_the_terms(client, as_user) -> None:
    coordinator = as_user("coordinator", **{"accept-language": "fr"})
    staff = as_user("bus_staff", **{"accept-language": "fr"})
    setup = await round_with_households(client, coordinator, 1)
    code, (household,), (device,) = setup["round"]["code"], setup["households"], setup["devices"]
    await client.post(f"{ROUNDS}/{code}/status", json={"status": "loading"}, headers=staff)
    await client.post(f"/api/v1/devices/{device}/actions/dispatch", json={"round": code}, headers=staff)
    await client.post(f"{ROUNDS}/{code}/status", json={"status": "out"}, headers=staff)
    done = await client.post(
        f"{ROUNDS}/{code}/handovers", json=handover_body(household, device), headers=staff
    )
    assert done.status_code == 201, done.text
    receipt = await client.get(done.json()["receipt_url"], headers=staff)
    assert receipt.status_code == 200, receipt.text
    assert decoded(receipt.content) == [{device, household}]
    words = " ".join(text_of(receipt.content).split())
    assert "Mode : don" in words
    assert "vous appartient dès le jour de sa remise" in words
    assert "Centre social Les Courtillières" in words
    never = await client.get(
        f"/api/v1/labels/{setup['devices'][0]}?kind=receipt&format=pdf", headers=coordinator
    )
    assert never.status_code == 200
    before: Any = await client.get(
        f"/api/v1/labels/{household}?kind=convocation&format=pdf", headers=coordinator
    )
    assert (before.status_code, before.json()["code"]) == (409, "not_convoked")  # served: no longer convoked
