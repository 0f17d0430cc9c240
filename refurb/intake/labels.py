"""Label data this area owns: the donor batch's pallet labels."""

from __future__ import annotations

import datetime

from babel.dates import format_date
from pydantic import BaseModel

from refurb.core.codes import Code
from refurb.core.principal import Principal
from refurb.devices import service as devices
from refurb.intake import service as intake
from refurb.printing.kinds import BatchLabel, LabelKind
from refurb.printing.service import LabelContext, register_provider
from refurb.web.i18n import current_locale

__all__ = ("register",)


async def batch_labels(code: Code, principal: Principal, context: LabelContext) -> list[BaseModel]:
    """One label per crate of the batch: "Palette n/m"."""
    batch = await intake.get_batch(code.compact, principal)
    today = format_date(datetime.date.today(), "medium", locale=current_locale())
    declared = await devices.counts_by_batch(batch.id) or batch.announced
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


def register() -> None:
    """Declare the label kinds this area fills."""
    register_provider(LabelKind.BATCH, batch_labels)
