"""Each area's bulk form of a check refuses exactly the devices its one-device form refuses."""

from __future__ import annotations

from typing import Any

from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import TRANSITIONS, Action, Check, State
from refurb.devices import registry
from refurb.devices import service as devices
from refurb.devices.model import CheckContext
from tests.helpers import (
    I5,
    MANUAL,
    new_batch,
    new_device,
    principal,
    received,
    sheet,
    signed_agreement,
    unknown_model_log,
    upload,
)


async def _both(
    check: Check, action: Action, codes: list[str], payloads: list[dict[str, Any]] | None = None
) -> tuple[set[int], set[int]]:
    admin = await principal("admin")
    contexts = [
        CheckContext(await devices.device_ref(code, admin), TRANSITIONS[action], payload, admin)
        for code, payload in zip(codes, payloads or [{} for _ in codes], strict=True)
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


async def test_erasure_qc_clear_in_bulk_and_one_by_one(client, as_user) -> None:
    tech, boss, operator = as_user("technician"), as_user("supervisor"), as_user("admin")
    held = await new_batch()
    checked = await received(["6RX7AWEQ"], batch=held)
    medium = (await sheet(client, tech, checked))["media"][0]
    recorded = await client.post(
        f"/api/v1/devices/{checked}/erasure-records",
        json={**MANUAL, "medium": medium["id"], "serial_seen": medium["serial"]},
        headers=operator,
    )
    assert recorded.status_code == 201, recorded.text
    (drawn,) = (await client.post("/api/v1/erasure/quality-checks/draw", headers=boss)).json()
    failed = await client.post(
        f"/api/v1/erasure/quality-checks/{drawn['id']}", json={"result": "failed"}, headers=boss
    )
    assert failed.status_code == 200, failed.text
    codes = [
        checked,
        (await new_device(State.IN_STOCK, batch=held)).code,
        (await new_device(State.IN_STOCK)).code,  # another batch, not on hold
    ]
    bulk, single = await _both(Check.ERASURE_QC_CLEAR, Action.RESERVE, codes)
    admin = await principal("admin")
    ids = [(await devices.device_ref(code, admin)).id for code in codes]
    assert bulk == single == {ids[0], ids[1]}


async def test_allocation_approved_in_bulk_and_one_by_one(client, as_user) -> None:
    from refurb.distribution.tables import Allocation
    from tests.integration.test_commission import decide, eligible, programme, session

    coordinator = as_user("coordinator")
    prog = await programme(client, coordinator)
    sid = await session(client, coordinator, prog)
    for _ in range(3):
        code = await eligible(client, coordinator, prog)
        assert (await decide(client, coordinator, sid, household=code, kind="approve")).status_code == 201
    free, taken, other = [r["id"] for r in await Allocation.select(Allocation.id).order_by(Allocation.id)]
    reserved = await new_device(State.IN_STOCK)
    admin = await principal("admin")
    await devices.transition(reserved.code, "reserve", {"allocation": taken}, admin)
    laptops = [(await new_device(State.IN_STOCK)).code for _ in range(4)]
    desktop = (await new_device(State.IN_STOCK, kind=DeviceKind.DESKTOP)).code
    codes = [*laptops, desktop]
    payloads = [
        {"allocation": free},  # passes
        {"allocation": taken},  # has a device already
        {"allocation": 999_999},  # unknown
        {},  # no allocation named
        {"allocation": other},  # a desktop for a laptop allocation
    ]
    bulk, single = await _both(Check.ALLOCATION_APPROVED, Action.RESERVE, codes, payloads)
    ids = [(await devices.device_ref(code, admin)).id for code in codes]
    assert bulk == single == set(ids[1:])
