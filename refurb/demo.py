"""Demo data: one organisation of each kind, one user per role, two batches, stock, stations, a programme.

Idempotent: running it again changes nothing but the demo users' passwords,
which are derived from the secret key so they are stable yet unguessable.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
from dataclasses import dataclass

from refurb.accounts import service as accounts
from refurb.accounts.tables import User
from refurb.core.errors import Conflict, NotFound
from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import State
from refurb.core.principal import Principal
from refurb.core.roles import OrganisationKind, Role
from refurb.core.stages import Stage
from refurb.db import write_transaction
from refurb.devices import service as devices
from refurb.devices.tables import Device
from refurb.distribution import rounds
from refurb.distribution import service as distribution
from refurb.distribution.round_schemas import RoundIn, StopIn
from refurb.distribution.schemas import HouseholdIn, PersonalDataIn, ProgrammeIn, QpvIn
from refurb.erasure.service import DeclaredMedia, add_declared_media
from refurb.intake import agreements
from refurb.intake import service as intake
from refurb.intake.schemas import AgreementIn, BatchPatch, BatchState
from refurb.stations import service as stations
from refurb.stock import service as stock

__all__ = ("DemoLogin", "load_demo")

ORGANISATIONS = {
    OrganisationKind.DONOR: "Acme Assurances (démo)",
    OrganisationKind.WORKSHOP: "Atelier Solidaire du Val (démo)",
    OrganisationKind.DISTRIBUTOR: "Bus Numérique (démo)",
    OrganisationKind.COORDINATOR: "Ville de Villeneuve — PRE (démo)",
    OrganisationKind.RECYCLER: "Recyclage D3E Val (démo)",
    OrganisationKind.OPERATOR: "Refurb opérateur (démo)",
}

USERS = [
    ("admin", Role.ADMIN, OrganisationKind.OPERATOR, "Camille Admin"),
    ("coordinator", Role.COORDINATOR, OrganisationKind.COORDINATOR, "Nadia Coordinatrice"),
    ("donor", Role.DONOR, OrganisationKind.DONOR, "Marc DSI Acme"),
    ("technician", Role.TECHNICIAN, OrganisationKind.WORKSHOP, "Yanis Technicien"),
    ("supervisor", Role.SUPERVISOR, OrganisationKind.WORKSHOP, "Sophie Encadrante"),
    ("driver", Role.DRIVER, OrganisationKind.WORKSHOP, "Karim Chauffeur"),
    ("bus", Role.BUS_STAFF, OrganisationKind.DISTRIBUTOR, "Léa Médiatrice bus"),
    ("auditor", Role.AUDITOR, OrganisationKind.OPERATOR, "Paul Auditeur"),
]

STATIONS = [
    ("Réception 1", Stage.RECEPTION),
    ("Effacement 1", Stage.ERASURE),
    ("Atelier 1", Stage.WORKSHOP),
    ("Licences", Stage.LICENSING),
    ("Stock", Stage.STOCK),
    ("Chargement bus", Stage.LOADING),
    ("Bus — remise", Stage.HANDOVER),
]

MODELS = [
    (DeviceKind.LAPTOP, "Dell", "Latitude 5490"),
    (DeviceKind.LAPTOP, "HP", "EliteBook 840 G5"),
    (DeviceKind.LAPTOP, "Lenovo", "ThinkPad T480"),
    (DeviceKind.DESKTOP, "Lenovo", "ThinkCentre M710q"),
    (DeviceKind.DESKTOP, "HP", "ProDesk 600 G3"),
    (DeviceKind.DESKTOP, "Dell", "OptiPlex 7050"),
    (DeviceKind.TABLET, "Samsung", "Galaxy Tab A8"),
    (DeviceKind.MONITOR, "Dell", "P2419H"),
]

# How many demo devices sit in each state; all but `declared` are imported with a reason.
SPREAD = [
    (State.DECLARED, 6),
    (State.COLLECTED, 3),
    (State.RECEIVED, 5),
    (State.SANITIZED, 3),
    (State.REFURBISHED, 2),
    (State.IN_STOCK, 2),
    (State.HANDED_OVER, 1),
    (State.REJECTED, 1),
    (State.MISSING, 1),
]
BATCH_REFERENCE = "DEMO-2026-001"
# A second batch waits for pickup: a driver collects it, the reception station receives it.
PICKUP_REFERENCE = "DEMO-2026-002"
PICKUP_DEVICES = 6


@dataclass(frozen=True, slots=True)
class DemoLogin:
    """A demo account to print."""

    username: str
    password: str
    role: Role
    organisation: str


def demo_password(secret_key: str, username: str) -> str:
    """Stable per installation, unguessable without the secret key."""
    digest = hmac.new(secret_key.encode(), f"demo:{username}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:14]


async def _organisation(kind: OrganisationKind) -> int:
    name = ORGANISATIONS[kind]
    try:
        return await accounts.organisation_id(name)
    except NotFound:
        return await accounts.create_organisation(name, kind)


async def load_demo(secret_key: str) -> list[DemoLogin]:
    """Create what is missing of the demo data; returns the demo logins."""
    org_ids = {kind: await _organisation(kind) for kind in OrganisationKind}
    logins = []
    for username, role, kind, display_name in USERS:
        password = demo_password(secret_key, username)
        try:
            await accounts.create_user(
                username, role, ORGANISATIONS[kind], password=password, display_name=display_name
            )
        except Conflict:  # the user exists: make the printed password true
            await accounts.set_password(username, password)
        logins.append(DemoLogin(username, password, role, ORGANISATIONS[kind]))

    site = await stock.find_location("Atelier Solidaire du Val") or await stock.create_location(
        "Atelier Solidaire du Val", "site"
    )
    if await stock.find_location("Réception") is None:
        zone = await stock.create_location("Réception", "zone", parent_code=site.code)
        shelf = await stock.create_location("Étagère A", "shelf", parent_code=zone.code)
        for name in ("Bac A1", "Bac A2", "Bac A3"):
            await stock.create_location(name, "bin", parent_code=shelf.code, capacity=20)
    for name, stage in STATIONS:
        if await stations.find_station(name) is None:
            await stations.create_station(name, stage, site_id=site.id)

    donor_id = org_ids[OrganisationKind.DONOR]
    batch = await intake.find_batch(donor_id, BATCH_REFERENCE) or await intake.create_batch(
        donor_id, BATCH_REFERENCE
    )
    if not await Device.exists().where(Device.batch == batch.id):
        system = devices.Actor(None, "démo", org_ids[OrganisationKind.OPERATOR])
        workshop = org_ids[OrganisationKind.WORKSHOP]
        number = 0
        for state, count in SPREAD:
            for _ in range(count):
                kind, make, model = MODELS[number % len(MODELS)]
                number += 1
                in_custody = state not in (State.DECLARED, State.COLLECTED, State.HANDED_OVER)
                await devices.register(
                    kind=kind,
                    actor=system,
                    manufacturer=make,
                    model=model,
                    serial=f"DEMO{number:05d}{make[:2].upper()}",
                    asset_tag=f"ACME-{1000 + number}",
                    batch_id=batch.id,
                    donor_id=donor_id,
                    custodian_id=workshop if in_custody else None,
                    state=state,
                    reason=None if state is State.DECLARED else "demo data",  # app.SYSTEM_REASONS
                )
        await _wipe_waiting(batch.id, donor_id, system, workshop)
    async with write_transaction():  # its devices are at the workshop and beyond: the batch was received
        await intake.move(batch.id, BatchState.RECEIVED, [BatchState.DRAFT])
    await _pickup_batch(donor_id)
    await _licence_pools()
    await _programme()
    return logins


PROGRAMME_NAME = "PRE Villeneuve 2027 (démo)"
QPVS = [("QN09401M", "Les Hauts de Villeneuve"), ("QN09402M", "Le Val Fleuri")]
# (QPV, school, adults, children's birth years, computers, printer, internet, requests, status)
HOUSEHOLDS = [
    (0, "École Jean-Jaurès", 2, [2016, 2013], 0, False, True, ["laptop", "printer"], "census"),
    (0, "École Jean-Jaurès", 1, [2019], 0, False, False, ["desktop", "connection"], "census"),
    (0, "Collège Louise-Michel", 2, [2012, 2014, 2018], 1, True, True, ["laptop"], "eligible"),
    (0, "Collège Louise-Michel", 1, [2011], 0, False, True, ["laptop"], "eligible"),
    (0, "École Jean-Jaurès", 2, [2017, 2020], 0, False, True, ["desktop"], "approved"),
    (1, "École Pablo-Neruda", 1, [2015, 2017], 0, False, False, ["laptop", "connection"], "census"),
    (1, "École Pablo-Neruda", 2, [2018], 0, True, True, ["desktop"], "eligible"),
    (1, "Collège Louise-Michel", 2, [2010, 2012], 1, False, True, ["laptop", "printer"], "approved"),
    (1, "École Pablo-Neruda", 1, [2016], 0, False, True, ["tablet"], "declined"),
    (1, "Collège Louise-Michel", 2, [2013], 0, False, False, ["laptop"], "withdrawn"),
]
PATHS = {
    "census": [],
    "eligible": ["eligible"],
    "approved": ["eligible", "approved"],
    "declined": ["declined"],
    "withdrawn": ["withdrawn"],
}


async def _programme() -> None:
    """A city programme over two QPVs with ten households at every step, once."""
    if any(p.name == PROGRAMME_NAME for p in await distribution.list_programmes()):
        return
    coordinator = await _principal("coordinator")
    programme = await distribution.create_programme(
        ProgrammeIn(
            name=PROGRAMME_NAME,
            territory="Villeneuve",
            starts_on=datetime.date(2027, 1, 1),
            ends_on=datetime.date(2027, 12, 31),
            equipment=["desktop", "laptop", "tablet", "printer", "connection"],
            modes=["donation", "loan"],
            loan_months=12,
            minimum_grade="B",
            qpvs=[QpvIn(code=code, name=name) for code, name in QPVS],
        ),
        distribution.Actor.of(coordinator),
    )
    for number, (qpv, school, adults, years, computers, printer, internet, wants, status) in enumerate(
        HOUSEHOLDS, start=1
    ):
        household = await distribution.create_household(
            HouseholdIn(
                programme=programme.id,
                qpv_code=QPVS[qpv][0],
                school=school,
                referent="bus" if number % 4 == 0 else None,
                family_reference=f"DEMO-{number:03d}",
                adults=adults,
                children_birth_years=years,
                computers=computers,
                has_printer=printer,
                has_internet=internet,
                requests=wants,
                training_accepted=number % 2 == 0,
                social_hotel=number == 2,
            ),
            coordinator,
        )
        await distribution.set_personal_data(
            household.code,
            PersonalDataIn(
                last_name=f"Famille démo {number}",
                first_name="Prénom",
                phone="01 00 00 00 00",
                postal_address="Adresse fictive, Villeneuve",
                legal_basis="public_interest",
                notice_version="2027-01",
                notice_given_on=datetime.date(2026, 12, 1),
            ),
            coordinator,
        )
        for step in PATHS[status]:
            reason = "demo data" if step in ("declined", "withdrawn") else ""
            await distribution.change_status(household.code, step, reason, coordinator)
    await rounds.create_round(
        RoundIn(
            programme=programme.id,
            held_on=datetime.date.today(),
            vehicle="Bus numérique",
            staff=["bus"],
            stops=[
                StopIn(place="Pied de la tour 12", qpv_code=QPVS[0][0], partner="Centre social Les Hauts",
                       starts_at="09:30", ends_at="11:30", slot_minutes=30, slot_capacity=3),
                StopIn(place="Parvis de l'école Jean-Jaurès", qpv_code=QPVS[1][0], partner="Médiathèque",
                       starts_at="14:00", ends_at="16:00", slot_minutes=30, slot_capacity=3),
            ],
        ),
        coordinator,
    )  # fmt: skip


DEMO_KEY_LETTERS = "BCDFGHJKMPQRTVWXY2346789"


def demo_licence_keys(count: int = 20) -> list[str]:
    """Clearly fake product keys (they start with DEMO), the same at every run."""
    import random

    draw = random.Random(2026)  # noqa: S311 - demo data, not a secret
    return [
        "-".join(["DEMO" + str(i % 10)] + ["".join(draw.choices(DEMO_KEY_LETTERS, k=5)) for _ in range(4)])
        for i in range(count)
    ]


async def _licence_pools() -> None:
    """A keyed Windows pool with fake keys (when a licence key is configured) and a free Linux pool."""
    from refurb.workshop import licence_keys, licences
    from refurb.workshop.licence_schemas import PoolIn

    windows = "Windows 11 Pro — MAR Citizenship"
    pools = {pool.name: pool for pool in await licences.list_pools()}
    if windows not in pools:
        pools[windows] = await licences.create_pool(
            PoolIn(
                name=windows,
                os="Windows 11 Pro",
                licence_type="MAR Citizenship",
                programme="Microsoft Registered Refurbisher",
                supplier="Microsoft (démo)",
                unit_cost_cents=900,
                quantity=20,
                low_stock=5,
            )
        )
    if "Linux Mint" not in pools:
        await licences.create_pool(
            PoolIn(name="Linux Mint", os="Linux Mint", licence_type="Logiciel libre", needs_key=False)
        )
    if licence_keys.configured() and pools[windows].keys == 0:
        content = "key\n" + "\n".join(demo_licence_keys()) + "\n"
        await licences.import_keys(pools[windows].id, content.encode())


# A received desktop whose donor declared its disk: the Workbench snapshot in
# tests/fixtures/erasure/workbench/erased-i5.v10.json is its wiping report.
WIPE_HOST = ("HP", "HP Compaq dc7900 Small Form Factor", "CZC901381R", "6RX7AWEZ")


async def _wipe_waiting(batch_id: int, donor_id: int, system: devices.Actor, workshop: int) -> None:
    """Received devices with the disks their donor declared, waiting at the erasure station."""
    make, model, serial, disk = WIPE_HOST
    host = await devices.register(
        kind=DeviceKind.DESKTOP,
        actor=system,
        manufacturer=make,
        model=model,
        serial=serial,
        asset_tag="ACME-1900",
        batch_id=batch_id,
        donor_id=donor_id,
        custodian_id=workshop,
        state=State.RECEIVED,
        reason="demo data",
    )
    received = await Device.select(Device.id, Device.serial, Device.kind).where(
        (Device.batch == batch_id) & (Device.state == State.RECEIVED.value)
    )
    await add_declared_media(
        [
            DeclaredMedia(row["id"], 1, [disk if row["serial"] == serial else f"WD-{row['serial']}"])
            for row in received
            if row["kind"] != DeviceKind.MONITOR.value
        ]
    )
    assert host.state is State.RECEIVED


async def _pickup_batch(donor_id: int) -> None:
    """A signed agreement and a submitted batch whose manifest serials can be typed at reception."""
    donor = await _principal("donor")
    if donor.organisation_id != donor_id:  # a "donor" user of another company was there before the demo
        donor = await _principal("coordinator")
    if await agreements.current_agreement(donor_id) is None:
        terms = AgreementIn(
            signatory_name="Marc Dupont",
            signatory_title="DSI",
            accept=True,
            terms_version=agreements.TERMS_VERSION,
        )
        await agreements.sign(donor_id, terms, donor)
    if await intake.find_batch(donor_id, PICKUP_REFERENCE) is not None:
        return
    details = BatchPatch(
        site_address="12 rue des Lilas, 94000 Créteil",
        contact_name="Marc Dupont",
        contact_phone="01 23 45 67 89",
        declared={DeviceKind.LAPTOP: 4, DeviceKind.DESKTOP: 2},
    )
    batch = await intake.create_batch(donor_id, PICKUP_REFERENCE, details=details, created_by=donor.user_id)
    items = [
        devices.NewDevice(
            kind=DeviceKind.LAPTOP if n <= 4 else DeviceKind.DESKTOP,
            manufacturer="Dell",
            model="Latitude 5490" if n <= 4 else "OptiPlex 7050",
            serial=f"ACMEPICK{n:02d}",
            asset_tag=f"ACME-2{n:03d}",
        )
        for n in range(1, PICKUP_DEVICES + 1)
    ]
    await devices.register_many(
        items, batch_id=batch.id, donor_id=donor_id, actor=devices.Actor(donor.user_id, donor.name, donor_id)
    )
    await intake.submit(batch.code, donor, PICKUP_DEVICES)
    assert (await intake.get_batch(batch.code, None)).state is BatchState.SUBMITTED


async def _principal(username: str) -> Principal:
    user = await User.select(User.id).where(User.username == username).first()
    return await accounts.principal_for_user(user["id"])
