"""Label data of the spine's own things: the device asset tag.

Every other kind comes from the area that owns its data (batch, location,
wiped, spec, licence, convocation, receipt, manifest), registered with
`printing.service.register_provider`.
"""

from __future__ import annotations

from pydantic import BaseModel

from refurb.core.codes import Code
from refurb.core.principal import Principal
from refurb.devices import service as devices
from refurb.printing.kinds import DeviceLabel, LabelKind
from refurb.printing.service import LabelContext, register_provider

__all__ = ("register",)


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


def register() -> None:
    """Declare the kinds this area can fill."""
    register_provider(LabelKind.DEVICE, device_labels)
