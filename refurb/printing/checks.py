"""The lifecycle check this area answers: whether the device's asset tag is printed."""

from __future__ import annotations

from refurb.core.codes import parse_code
from refurb.core.errors import GuardRefused
from refurb.core.i18n import N_
from refurb.core.lifecycle import Check
from refurb.devices.service import CheckContext, register_check
from refurb.printing.kinds import LabelKind
from refurb.printing.service import was_printed

__all__ = ("register",)


async def asset_tag_printed(context: CheckContext) -> None:
    """Receiving needs the D-code asset tag printed (sent to a printer or downloaded)."""
    if not await was_printed(context.device.code, LabelKind.DEVICE):
        ref = parse_code(context.device.code).display
        raise GuardRefused(
            N_("The asset tag of {ref} is not printed yet: print it, stick it on, then scan again."),
            code="asset_tag_not_printed",
            ref=ref,
            extra={"label": {"code": context.device.code, "kind": LabelKind.DEVICE.value}},
        )


def register() -> None:
    """Declare the checks this area can answer."""
    register_check(Check.ASSET_TAG_PRINTED, asset_tag_printed)
