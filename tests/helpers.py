"""Setting up data through the services, as the product itself would."""

from __future__ import annotations

import datetime
import io
from pathlib import Path
from typing import Any

from refurb.accounts import service as accounts
from refurb.accounts.tables import User
from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import State
from refurb.core.principal import Principal
from refurb.core.stages import Stage
from refurb.devices import service as devices
from refurb.devices.schemas import DeviceOut
from refurb.devices.tables import Device, DeviceEvent
from refurb.erasure.service import DeclaredMedia, add_declared_media
from refurb.intake import agreements
from refurb.intake import service as intake
from refurb.intake.schemas import AgreementIn, AgreementOut, BatchOut, BatchPatch
from refurb.stations import service as stations
from refurb.stations.schemas import StationOut
from refurb.wiring import wire
from tests.fixtures.erasure.make_nwipe_log import Drive, LogSpec, render

wire()  # the checks and handlers areas give each other, as the app has them

SETUP = devices.Actor(None, "tests", None)


async def principal(username: str) -> Principal:
    row = await User.select(User.id).where(User.username == username).first()
    return await accounts.principal_for_user(row["id"])


async def new_batch(donor_organisation: str = "Donor One", reference: str | None = None) -> BatchOut:
    return await intake.create_batch(await accounts.organisation_id(donor_organisation), reference)


async def submitted_batch(donor_organisation: str = "Donor One", **details: Any) -> BatchOut:
    """A batch with an address and announced devices, handed to the programme."""
    batch = await intake.create_batch(
        await accounts.organisation_id(donor_organisation),
        details=BatchPatch(
            site_address=details.pop("site_address", "12 rue des Lilas, 93000 Bobigny"),
            declared=details.pop("declared", {DeviceKind.LAPTOP: 2}),
            **details,
        ),
    )
    return await intake.submit(batch.code, await principal("admin"), 0)


async def signed_agreement(
    donor_organisation: str = "Donor One", *, pdf: bytes | None = None
) -> AgreementOut:
    """The donor's agreement, signed in the portal (or uploaded when `pdf` is given)."""
    donor_id = await accounts.organisation_id(donor_organisation)
    signer = await principal("admin")
    if pdf is not None:
        return await agreements.upload(
            donor_id,
            io.BytesIO(pdf),
            "signed.pdf",
            signatory_name="Claire Dupont",
            signatory_title="DSI",
            signed_on=datetime.date(2026, 11, 2),
            principal=signer,
        )
    terms = AgreementIn(
        signatory_name="Claire Dupont",
        signatory_title="DSI",
        accept=True,
        terms_version=agreements.TERMS_VERSION,
    )
    return await agreements.sign(donor_id, terms, signer)


async def new_device(
    state: State = State.DECLARED,
    *,
    batch: BatchOut | None = None,
    kind: DeviceKind = DeviceKind.LAPTOP,
    serial: str | None = None,
    asset_tag: str | None = None,
) -> DeviceOut:
    if batch is None:
        batch = await new_batch()
    return await devices.register(
        kind=kind,
        actor=SETUP,
        manufacturer="Dell",
        model="Latitude 5490",
        serial=serial,
        asset_tag=asset_tag,
        batch_id=batch.id,
        donor_id=batch.donor_id,
        state=state,
        reason=None if state is State.DECLARED else "test setup",
    )


async def new_station(stage: Stage, name: str | None = None) -> StationOut:
    return await stations.create_station(name or f"{stage.value} bench", stage)


async def device_row(code: str) -> dict[str, Any]:
    row = await Device.select().where(Device.code == code).first()
    assert row is not None
    return row


async def event_rows(code: str) -> list[dict[str, Any]]:
    device = await device_row(code)
    return await DeviceEvent.select().where(DeviceEvent.device == device["id"]).order_by(DeviceEvent.id)


async def event_count() -> int:
    return await DeviceEvent.count()


# --- erasure: received devices with declared disks, and their wiping reports -----------------------

ERASURE = Path(__file__).resolve().parent / "fixtures" / "erasure"
ACER = ERASURE / "workbench" / "acer-happy.snapshot.json"  # HDD WD-WX11A80W7430, EraseBasic, no verification
I5 = ERASURE / "workbench" / "erased-i5.v10.json"  # HDD 6RX7AWEZ, EraseSectors zeros+random, verified
USODY_OK = ERASURE / "usody" / "2023-07-22_120312E2M3121K00UN6S.json"
USODY_FAILED = ERASURE / "usody" / "2023-07-22_152D00539000.json"
SYNTHETIC = ERASURE / "nwipe-synthetic"


async def received(
    serials: list[str | None],
    *,
    kind: DeviceKind = DeviceKind.LAPTOP,
    batch: Any = None,
    serial: str | None = None,
) -> str:
    """A received device whose donor declared these disks (None: a disk without its serial)."""
    device = await new_device(State.RECEIVED, kind=kind, batch=batch, serial=serial)
    row = await device_row(device.code)
    if serials:
        await add_declared_media(
            [DeclaredMedia(row["id"], len(serials), [s for s in serials if s is not None])]
        )
    return device.code


async def upload(
    client: Any,
    headers: dict[str, str],
    path: Path | bytes,
    *,
    device: str | None = None,
    name: str | None = None,
) -> Any:
    content = read(path) if isinstance(path, Path) else path
    filename = name or (path.name if isinstance(path, Path) else "report.log")
    data = {"device": device} if device else {}
    return await client.post(
        "/api/v1/erasure-reports", data=data, files={"file": (filename, content)}, headers=headers
    )


def read(path: Path) -> bytes:
    return path.read_bytes()


async def sheet(client: Any, headers: dict[str, str], code: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/devices/{code}/erasure", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def sanitize(client: Any, headers: dict[str, str], code: str) -> Any:
    return await client.post(f"/api/v1/devices/{code}/actions/sanitize", headers=headers)


MANUAL = {
    "medium_kind": "hdd",
    "technique": "overwrite",
    "method_label": "Zero fill, 1 pass",
    "tool": "hdparm",
    "tool_version": "9.65",
    "passes": 1,
    "verification": "all",
    "verification_result": "passed",
    "result": "success",
}


NO_FLAG = SYNTHETIC / "ssd-without-flag-and-failed-drive.log"  # nwipe 0.37 without smartctl: no "-SSD"
TRAVELSTAR = Drive("sda", " ATA    ", "IC25N040ATCS04-0", "CSL407D3GKRT6A", 40_007_761_920, 30_000_000)


def unknown_model_log() -> bytes:
    """A verified overwrite of a hard disk whose model no table lists, nwipe without smartctl."""
    spec = LogSpec(
        start=datetime.datetime(2026, 12, 2, 9, 0), drives=[TRAVELSTAR], smartctl=False, erasure_summary=False
    )
    return render(spec).encode()
