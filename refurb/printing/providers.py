"""Label data for what exists so far: batches, devices, locations.

Other areas register their own kinds (wiped, spec, licence, convocation,
receipt, manifest) with `printing.service.register_provider`.
"""

from __future__ import annotations

import datetime

from babel.dates import format_date
from pydantic import BaseModel

from refurb.core.codes import Code
from refurb.core.principal import Principal
from refurb.devices import service as devices
from refurb.intake import service as intake
from refurb.printing.kinds import BatchLabel, DeviceLabel, LabelKind, LocationLabel
from refurb.printing.service import LabelContext, register_provider
from refurb.stock import service as stock
from refurb.web.i18n import current_locale

__all__ = ("register",)


async def batch_labels(code: Code, principal: Principal, context: LabelContext) -> list[BaseModel]:
    """One label per crate of the batch: "Caisse n/m"."""
    batch = await intake.get_batch(code.compact, principal)
    today = format_date(datetime.date.today(), "medium", locale=current_locale())
    declared = await devices.counts_by_batch(code.compact) or batch.announced
    return [
        BatchLabel(
            code=batch.code,
            display_code=batch.display_code,
            donor=batch.donor,
            site=" · ".join(line.strip() for line in batch.site_address.splitlines() if line.strip()),
            date=today,
            crate=crate,
            crates=context.crates,
            declared=str(declared),
        )
        for crate in range(1, context.crates + 1)
    ]


async def device_labels(code: Code, principal: Principal, context: LabelContext) -> list[BaseModel]:
    """The asset tag; its QR leads to the device's page."""
    device = await devices.get(code.compact, principal)
    return [
        DeviceLabel(
            code=device.code,
            display_code=device.display_code,
            url=f"{context.qr_base}/D/{device.code}",
            organisation=device.custodian or principal.organisation_name,
            make_model=" ".join(p for p in (device.manufacturer, device.model) if p) or device.kind.value,
            serial=device.serial or "—",
        )
    ]


async def location_labels(code: Code, principal: Principal, context: LabelContext) -> list[BaseModel]:
    """A bin or shelf label with where it is."""
    location = await stock.get_location(code.compact)
    path = await stock.location_path(code.compact)
    return [
        LocationLabel(
            code=location.code,
            display_code=location.display_code,
            name=location.name,
            parent=" / ".join(path[:-1]),
        )
    ]


def register() -> None:
    """Declare the kinds this area can fill."""
    register_provider(LabelKind.BATCH, batch_labels)
    register_provider(LabelKind.DEVICE, device_labels)
    register_provider(LabelKind.LOCATION, location_labels)
