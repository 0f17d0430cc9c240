"""Where the house is put together, once: tables, the hosts' ports, and every area's contributions.

The spine (`devices`) and the hosts (`stations`, `printing`) never import a
stage area, nor each other; each area's `register()` hands them its checks,
effects, scan handlers, code resolvers and label data. Nothing registers at
import time: `wire()` is called by `create_app`, the CLI and the tests.
"""

from __future__ import annotations

__all__ = ("wire",)

_done = False


def wire() -> None:
    """Register every table and every area's contributions; safe to call more than once."""
    global _done
    if _done:
        return
    from refurb import db
    from refurb.accounts import tables as accounts_tables
    from refurb.codes import tables as codes_tables
    from refurb.devices import tables as devices_tables
    from refurb.distribution import bus_labels as distribution_labels
    from refurb.distribution import handover as distribution_handover
    from refurb.distribution import loading as distribution_loading
    from refurb.distribution import matching as distribution_matching
    from refurb.distribution import service as distribution
    from refurb.distribution import tables as distribution_tables
    from refurb.erasure import labels as erasure_labels
    from refurb.erasure import media
    from refurb.erasure import tables as erasure_tables
    from refurb.intake import agreements, reception
    from refurb.intake import labels as intake_labels
    from refurb.intake import service as intake
    from refurb.intake import tables as intake_tables
    from refurb.printing import checks, providers
    from refurb.printing import service as printing
    from refurb.printing import tables as printing_tables
    from refurb.stations import service as stations
    from refurb.stations import tables as stations_tables
    from refurb.stock import labels as stock_labels
    from refurb.stock import putaway
    from refurb.stock import service as stock
    from refurb.stock import tables as stock_tables
    from refurb.web import tables as web_tables
    from refurb.workshop import labels as workshop_labels
    from refurb.workshop import licence_station, licences, recycling
    from refurb.workshop import service as workshop
    from refurb.workshop import station as workshop_station
    from refurb.workshop import tables as workshop_tables

    for module in (
        accounts_tables, codes_tables, stock_tables, printing_tables, intake_tables, stations_tables,
        devices_tables, erasure_tables, workshop_tables, web_tables, distribution_tables,
    ):  # fmt: skip
        db.register_tables(*module.TABLES)

    # the hosts' ports to each other: stations print through printing, printing reads stations
    stations.use_label_printing(
        stations.LabelPrinting(
            has_label=printing.has_label,
            print_label=printing.print_for_station,
            station_printer=printing.station_printer,
            printer_names=printing.printer_names,
        )
    )
    printing.use_station_lookup(_station_facts)
    stations.register()
    checks.register()
    providers.register()

    intake.register()
    agreements.register()
    reception.register()
    intake_labels.register()
    media.register()
    erasure_labels.register()
    stock.register()
    putaway.register()
    stock_labels.register()
    licences.register()
    recycling.register()
    workshop.register()
    workshop_station.register()
    licence_station.register()
    workshop_labels.register()
    distribution.register()
    distribution_matching.register()
    distribution_handover.register()
    distribution_loading.register()
    distribution_labels.register()
    _done = True


async def _station_facts(code: str) -> object:
    """A station as printing needs it (printing never imports stations)."""
    from refurb.printing.service import StationFacts
    from refurb.stations import service as stations

    station = await stations.station_ref(code)
    return StationFacts(station.id, station.code.display, station.stage.value, station.active)
