"""Areas declare what they contribute to others (checks, label data, scan handlers) here, once."""

from __future__ import annotations

__all__ = ("wire",)

_done = False


def wire() -> None:
    """Register every area's contributions; safe to call more than once."""
    global _done
    if _done:
        return
    from refurb.erasure import labels, media
    from refurb.intake import agreements, reception
    from refurb.printing import checks, providers
    from refurb.stock import putaway
    from refurb.workshop import labels as workshop_labels
    from refurb.workshop import licences, recycling
    from refurb.workshop import service as workshop
    from refurb.workshop import station as workshop_station

    checks.register()
    providers.register()
    agreements.register()
    reception.register()
    media.register()
    labels.register()
    putaway.register()
    licences.register()
    recycling.register()
    workshop.register()
    workshop_station.register()
    workshop_labels.register()
    _done = True
