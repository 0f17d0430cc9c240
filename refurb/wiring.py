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

    checks.register()
    providers.register()
    agreements.register()
    reception.register()
    media.register()
    labels.register()
    putaway.register()
    _done = True
