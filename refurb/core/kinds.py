"""Kinds of donated equipment."""

from __future__ import annotations

from enum import StrEnum

from refurb.core.i18n import N_

__all__ = ("DeviceKind",)


class DeviceKind(StrEnum):
    """What a device is; checklists, labels and reports differ per kind."""

    DESKTOP = "desktop"
    LAPTOP = "laptop"
    TABLET = "tablet"
    MONITOR = "monitor"
    PRINTER = "printer"
    PHONE = "phone"
    CONNECTIVITY = "connectivity"
    OTHER = "other"

    @property
    def label(self) -> str:
        """English name, a translation id."""
        return _LABELS[self]


_LABELS = {
    DeviceKind.DESKTOP: N_("desktop"),
    DeviceKind.LAPTOP: N_("laptop"),
    DeviceKind.TABLET: N_("tablet"),
    DeviceKind.MONITOR: N_("monitor"),
    DeviceKind.PRINTER: N_("printer"),
    DeviceKind.PHONE: N_("phone"),
    DeviceKind.CONNECTIVITY: N_("connectivity box / 4G key"),
    DeviceKind.OTHER: N_("other"),
}
