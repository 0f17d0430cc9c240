"""Station pages: pick a station, then scan at it."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from refurb.accounts.guards import allow, principal_of
from refurb.core.errors import Forbidden
from refurb.core.i18n import N_
from refurb.core.lifecycle import TRANSITIONS, Action
from refurb.core.roles import STAFF
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
        "print_label": gettext("Print the label (PDF)"),
        "printed": gettext("label printed on"),
        "printed_pdf": gettext("Label ready: print the PDF"),
        "reprint": gettext("Print it again"),
        "working_on": gettext("Receiving"),
        "leave": gettext("Done with this batch"),
        "secret_title": gettext("Licence key: type it into the machine now, it will not be shown again"),
        "secret_done": gettext("I have typed it"),
    }


class StationPages(Controller):
    """Server-rendered station pages; the scanning goes through `POST /api/v1/scans`."""

    path = "/stations"
    include_in_schema = False
    guards = allow(*STAFF)

    @get("/")
    async def list_page(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """The stations, each a link to its scanning page."""
        principal = principal_of(request)
        stations = await service.list_stations()
        usable = {s.code for s in stations if service.may_use(principal, s.stage)}
        return page(request, "stations/list.html", stations=stations, usable=usable)

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
        )
