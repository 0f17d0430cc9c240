"""The specification label printed when a device passes the bench."""

from __future__ import annotations

from babel.dates import format_date
from pydantic import BaseModel

from refurb.core.codes import Code
from refurb.core.errors import Conflict
from refurb.core.i18n import N_
from refurb.core.principal import Principal
from refurb.devices import service as devices
from refurb.printing.kinds import LabelKind, SpecLabel
from refurb.printing.service import LabelContext, register_provider
from refurb.timestamps import as_utc
from refurb.web.i18n import current_locale
from refurb.workshop import service as workshop

__all__ = ("register",)


async def spec_labels(code: Code, principal: Principal, context: LabelContext) -> list[BaseModel]:
    """CPU, RAM, storage, grade and OS as the workshop recorded them, with the date of the test."""
    device = await devices.get(code.compact, principal)
    ref = await devices.device_ref(code.compact, principal)
    last = await workshop.latest_pass(ref.id)
    if last is None or last["outcome"] != "passed":
        raise Conflict(
            N_("{ref} has not passed the workshop bench: it has no specification label yet."),
            code="device_not_tested",
            ref=device.display_code,
        )
    tested = as_utc(last["created_at"])
    return [
        SpecLabel(
            code=device.code,
            display_code=device.display_code,
            cpu=device.cpu or "—",
            ram=device.ram or "—",
            storage=device.storage or "—",
            grade=device.grade or "—",
            os=device.os or "—",
            test_date=format_date(tested, "short", locale=current_locale()),
        )
    ]


def register() -> None:
    """Declare the label kinds this area fills."""
    register_provider(LabelKind.SPEC, spec_labels)
