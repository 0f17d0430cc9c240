"""The "data wiped" label: the weakest category among the device's media, and its certificate to verify."""

from __future__ import annotations

from babel.dates import format_date
from pydantic import BaseModel

from refurb.core.codes import Code, parse_code
from refurb.core.i18n import N_
from refurb.core.principal import Principal
from refurb.core.stages import Stage
from refurb.devices import service as devices
from refurb.erasure import certificates
from refurb.erasure.media import device_media
from refurb.printing.kinds import LabelKind, WipedLabel
from refurb.printing.service import LabelContext, register_provider
from refurb.stations import service as stations
from refurb.web.i18n import current_locale, gettext

__all__ = ("register",)

_RANK = {"clear": 1, "purge": 2, "destroy": 3}
_NAMES = {"clear": "NIST 800-88 Clear", "purge": "NIST 800-88 Purge", "destroy": "NIST 800-88 Destroy"}


async def wiped_labels(code: Code, principal: Principal, context: LabelContext) -> list[BaseModel]:
    """Printed once the device is sanitized; its device certificate is issued if it has none yet."""
    device = await devices.device_ref(code.compact, principal)
    judged = await device_media(device)
    certificate = await certificates.issue_for_device(code.compact, principal)
    passed = [m for m in judged.media if m.out.status == "passed"]
    records = [next(r for r in m.out.records if r.id == m.verdict.record_id) for m in passed]
    if records:
        weakest = min(records, key=lambda r: _RANK.get(r.category, 0))
        category = _NAMES.get(weakest.category, weakest.category)
        method = weakest.method_label or weakest.technique
        tool = " ".join(p for p in (weakest.tool, weakest.tool_version) if p) or "—"
        when = weakest.ended_at or weakest.created_at
    else:
        category, method, tool, when = gettext("No data-bearing media"), "—", "—", certificate.issued_at
    return [
        WipedLabel(
            code=device.code,
            display_code=parse_code(device.code).display,
            method=method,
            nist_category=category,
            tool=tool,
            date=format_date(when, "short", locale=current_locale()),
            certificate=certificate.display_code,
            verify_url=certificate.verify_url,
        )
    ]


def register() -> None:
    """Declare the label kinds this area fills."""
    register_provider(LabelKind.WIPED, wiped_labels)
    stations.register_stage_label(Stage.ERASURE, LabelKind.WIPED.value)
    for refusal in ("media_not_sanitized", "batch_on_hold"):  # the erasure page says what is missing
        stations.register_refusal_link(refusal, "/erasure?code={code}", N_("Open the erasure page of {ref}"))
