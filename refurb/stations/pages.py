"""Station pages: pick a station, then scan at it."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from refurb.accounts.guards import allow, principal_of
from refurb.core.errors import Forbidden
from refurb.core.i18n import N_, fill
from refurb.core.lifecycle import TRANSITIONS, Action
from refurb.core.roles import STAFF
from refurb.core.stages import Stage, stage_roles
from refurb.stations import service
from refurb.web.i18n import gettext
from refurb.web.render import page

__all__ = ("StationPages",)


def _js_messages() -> dict[str, str]:
    """Texts the station script shows without asking the server."""
    return {
        "bad_check_digit": gettext("Wrong check digit: misread or mistyped, scan it again."),
        "unknown_code_type": gettext("Not a Refurb code type."),
        "malformed_code": gettext("Not a Refurb code (a letter and 8 digits, e.g. D-0001234-5)."),
        "duplicate": gettext("Same code again within 2 seconds: ignored."),
        "network": gettext("No answer from the server: check the network and scan again."),
        "not_ready": gettext("NOT READY: tap here to scan"),
        "ready": gettext("Ready to scan"),
        "sending": gettext("Sending…"),
        "cancel": gettext("Cancel"),
        "mode": gettext("Mode"),
        "print_label": gettext("Print the label"),
        "label_title": gettext("Stick the label on the device, then scan it"),
        "label_failed": gettext("The label could not be produced: tap Print the label."),
        "dismiss": gettext("Tap or scan to go on"),
        "status_ok": gettext("Done"),
        "status_error": gettext("Refused"),
        "status_ask": gettext("Question"),
        "status_label": gettext("Label to stick on"),
        "missing": gettext("Still missing:"),
        "printed": gettext("label printed on"),
        "printed_pdf": gettext("Label ready: print the PDF"),
        "reprint": gettext("Print it again"),
        "working_on": gettext("Working on"),
        "leave": gettext("Finish"),
        "secret_title": gettext("Licence key: type it into the machine now, it will not be shown again"),
        "secret_done": gettext("I have typed it"),
        "required_legend": gettext("Fields marked * are required."),
        "to_fill": gettext("{count} to fill"),
        "optional": gettext("optional"),
    }


#: What to scan first at a station of each stage, and once it works on something (its context).
_FIRST_SCAN = {
    Stage.RECEPTION: N_("Scan the batch label (B…), then each device."),
    Stage.ERASURE: N_("Scan a device's asset tag (D…) once its wiping report is in."),
    Stage.WORKSHOP: N_("Scan a device's asset tag (D…) to record its tests and repairs."),
    Stage.LICENSING: N_("Scan a device's asset tag (D…) to assign it a licence."),
    Stage.STOCK: N_("Scan the location (L…), then the devices."),
    Stage.LOADING: N_("Scan each device (D…) as it goes on the bus."),
    Stage.HANDOVER: N_("Scan the device (D…) being handed over."),
}
_NEXT_SCAN = {
    Stage.RECEPTION: N_("Scan each device: its serial number, the donor's asset tag or its D code."),
    Stage.STOCK: N_("Scan the devices to put here, or another location."),
}
_STAGE_ORDER = {stage: index for index, stage in enumerate(Stage)}  # the workflow's order


def _unavailable(station: Any, principal: Any) -> str | None:
    """Why a station cannot be used by this person, in words (None: it can)."""
    if not station.active:
        return gettext("Disabled")
    if not service.may_use(principal, station.stage):
        roles = ", ".join(gettext(r.label) for r in sorted(stage_roles(station.stage)))
        return fill(N_("Reserved for: {roles}"), {"roles": roles}, gettext)
    return None


class StationPages(Controller):
    """Server-rendered station pages; the scanning goes through `POST /api/v1/scans`."""

    path = "/stations"
    include_in_schema = False
    guards = allow(*STAFF)

    @get("/")
    async def list_page(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """The stations, each a link to its scanning page."""
        principal = principal_of(request)
        stations = sorted(await service.list_stations(), key=lambda s: (_STAGE_ORDER[s.stage], s.name))
        why_not = {s.code: _unavailable(s, principal) for s in stations}
        return page(request, "stations/list.html", stations=stations, why_not=why_not)

    @get("/{code:str}")
    async def station_page(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Response[Any]:
        """One input that keeps focus, feedback, the last scans, and the station's modes."""
        principal = principal_of(request)
        station = await service.get_station(code)
        if not service.may_use(principal, station.stage):
            raise Forbidden(
                N_("A {role} may not work at a {stage} station."), role=principal.role, stage=station.stage
            )
        actions = [Action(a) for a in station.actions]
        modes = [
            {"action": a.value, "label": gettext(a.label), "allowed": principal.role in TRANSITIONS[a].roles}
            for a in actions
        ]
        return page(
            request,
            "stations/station.html",
            station=station,
            modes=modes,
            scans=await service.recent_scans(station.code),
            messages=_js_messages(),
            first_scan=gettext(_FIRST_SCAN[station.stage]),
            next_scan=gettext(_NEXT_SCAN.get(station.stage, _FIRST_SCAN[station.stage])),
        )
