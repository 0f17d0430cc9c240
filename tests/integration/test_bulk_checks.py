"""Each area's bulk form of a check refuses exactly the devices its one-device form refuses."""

from __future__ import annotations

from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import TRANSITIONS, Action, Check, State
from refurb.devices import registry
from refurb.devices import service as devices
from refurb.devices.model import CheckContext
from tests.helpers import (
    I5,
    new_batch,
    new_device,
    principal,
    received,
    signed_agreement,
    unknown_model_log,
    upload,
)


async def _both(check: Check, action: Action, codes: list[str]) -> tuple[set[int], set[int]]:
    admin = await principal("admin")
    contexts = [
        CheckContext(await devices.device_ref(code, admin), TRANSITIONS[action], {}, admin) for code in codes
    ]
    bulk = await registry.refusals(check, contexts)  # several: the bulk form
    single: set[int] = set()
    for context in contexts:
        single |= set(await registry.refusals(check, [context]))  # one: the one-device form
    return set(bulk), single


async def test_media_sanitized_in_bulk_and_one_by_one(client, as_user) -> None:
    tech = as_user("technician")
    wiped = await received(["6RX7AWEZ"], kind=DeviceKind.DESKTOP)
    await upload(client, tech, I5)  # every medium passes (the device is sanitized by the upload)
    uncertain = await received(["CSL407D3GKRT6A"])
    await upload(client, tech, unknown_model_log(), device=uncertain, name="a.log")
    nothing = await received([None])
    codes = [wiped, uncertain, nothing]
    bulk, single = await _both(Check.MEDIA_SANITIZED, Action.SANITIZE, codes)
    refs = {code: (await devices.device_ref(code, await principal("admin"))).id for code in codes}
    assert bulk == single == {refs[uncertain], refs[nothing]}
    assert refs[wiped] not in bulk


async def test_agreement_signed_in_bulk_and_one_by_one(client) -> None:
    signed = await new_batch("Donor One")
    unsigned = await new_batch("Donor Two")
    await signed_agreement("Donor One")
    codes = [
        (await new_device(State.DECLARED, batch=signed)).code,
        (await new_device(State.DECLARED, batch=unsigned)).code,
        (await new_device(State.DECLARED, batch=unsigned)).code,
    ]
    bulk, single = await _both(Check.AGREEMENT_SIGNED, Action.COLLECT, codes)
    assert len(bulk) == 2
    assert bulk == single
