"""Who may call what: a table of role × route × expected status, and organisation scoping."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from refurb.core.codes import CodeType, make_code
from refurb.core.lifecycle import State
from refurb.core.roles import Role
from refurb.core.stages import Stage
from refurb.distribution import commission, rounds
from refurb.distribution import service as distribution
from refurb.distribution.round_schemas import RoundIn, StopIn
from refurb.distribution.rules import WEIGHT_FIELDS
from refurb.distribution.schemas import HouseholdIn, PersonalDataIn, ProgrammeIn, SessionIn
from refurb.intake.agreements import TERMS_VERSION
from tests.conftest import CAST
from tests.helpers import new_batch, new_device, new_station, principal, signed_agreement, submitted_batch
from tests.integration.test_households import PERSON
from tests.integration.test_programmes import PROGRAMME

ROLES = [name for name in CAST if name != "other_donor"]
EVERYONE = {name: 200 for name in ROLES}
STAFF = {**EVERYONE, "donor": 403}
WORKSHOP = {"technician", "supervisor", "admin"}
EDITORS = {"donor", "coordinator", "admin"}  # describe batches, sign agreements, import manifests
SCHEDULERS = {"coordinator", "supervisor", "admin"}
COLLECTORS = {"driver", "supervisor", "admin"}
CLOSERS = {"supervisor", "admin"}
AGREEMENT_READERS = EDITORS | {"supervisor", "driver", "auditor"}
SUPERVISION = {"supervisor", "admin"}
ERASURE_READERS = WORKSHOP | {"auditor", "coordinator"}
ISSUERS = WORKSHOP | {"coordinator"}
STOCK_READERS = WORKSHOP | {"coordinator", "auditor"}
RECYCLING_READERS = SUPERVISION | {"auditor"}
REGISTER_READERS = RECYCLING_READERS | {"coordinator"}
LICENCE_REPORT_READERS = SUPERVISION | {"coordinator", "auditor"}
PROGRAMME_WRITERS = {"coordinator", "admin"}
HOUSEHOLD_READERS = PROGRAMME_WRITERS | {"bus_staff"}  # bus staff list the households they refer
ROUND_READERS = PROGRAMME_WRITERS | {"bus_staff"}  # the round's own staff; anyone else: 404
HANDING_OVER = {"bus_staff", "admin"}
PERSONAL_DATA_READERS = {"coordinator"}  # and a household's own referent; everyone else: 404


def only(allowed: set[str], ok: int, *, refused: int = 403) -> dict[str, int]:
    return {name: ok if name in allowed else refused for name in ROLES}


#: A row id nobody has (0 and negative ids are refused by the bounds before any lookup).
ABSENT_ID = 999_999

# (method, path template, expected status per role); {device}, {station} are filled per call.
TABLE: list[tuple[str, str, dict[str, int]]] = [
    ("GET", "/", EVERYONE),
    ("GET", "/devices", EVERYONE),
    ("GET", "/devices/{device}", EVERYONE),
    ("GET", "/stations", STAFF),
    ("GET", "/stations/{station}", only(WORKSHOP, 200)),
    ("GET", "/api/v1/me", EVERYONE),
    ("GET", "/api/v1/me/work", EVERYONE),
    ("GET", "/api/v1/devices", EVERYONE),
    ("GET", "/api/v1/devices/states", EVERYONE),
    ("GET", "/api/v1/devices/{device}", EVERYONE),
    ("GET", "/api/v1/devices/{device}/events", EVERYONE),
    ("POST", "/api/v1/devices/{device}/actions/{action}", only(WORKSHOP, 201)),
    ("GET", "/api/v1/codes/{text}", EVERYONE),
    ("POST", "/api/v1/scans", only(WORKSHOP, 200)),
    ("GET", "/api/v1/stations", STAFF),
    ("GET", "/api/v1/stations/{code}", STAFF),
    ("GET", "/api/v1/stations/{code}/scans", STAFF),
    ("GET", "/api/v1/stations/{code}/context", only(WORKSHOP, 200)),
    ("PUT", "/api/v1/stations/{code}/printer", only({"admin", "supervisor"}, 200)),
    ("GET", "/api/v1/labels/{code}", only(WORKSHOP, 200)),
    ("GET", "/api/v1/labels/samples/{kind}", EVERYONE),
    ("POST", "/api/v1/labels/print-jobs", only(WORKSHOP, 201)),
    ("GET", "/api/v1/printers", STAFF),
    ("POST", "/api/v1/printers", only({"admin", "supervisor"}, 201)),
    ("GET", "/labels/{device}", only(WORKSHOP, 200)),
    ("GET", "/batches", EVERYONE),
    ("GET", "/batches/new", only(EDITORS, 200)),
    ("POST", "/batches/new", only(EDITORS, 303)),
    ("GET", "/batches/{batch}", EVERYONE),
    ("GET", "/batches/{batch}/edit", only(EDITORS, 200)),
    ("POST", "/batches/{batch}/edit", only(EDITORS, 303)),
    ("POST", "/batches/{batch}/submit", only(EDITORS, 303)),
    ("POST", "/batches/{batch}/schedule", only(SCHEDULERS, 303)),
    ("POST", "/batches/{batch}/manifest", only(EDITORS, 200)),
    ("POST", "/batches/{batch}/close", only(CLOSERS, 303)),
    ("GET", "/agreement", only(EDITORS, 200)),
    ("POST", "/agreement", only(EDITORS, 303)),
    ("POST", "/agreement/upload", only(EDITORS, 303)),
    ("GET", "/collect", only(COLLECTORS, 200)),
    ("GET", "/collect/{batch}", only(COLLECTORS, 200)),
    ("POST", "/collect/{batch}", only(COLLECTORS, 303)),
    ("GET", "/api/v1/agreements/current", only(AGREEMENT_READERS, 200)),
    ("POST", "/api/v1/agreements", only(EDITORS, 201)),
    ("POST", "/api/v1/agreements/upload", only(EDITORS, 201)),
    ("GET", "/api/v1/agreements/{agreement}/document", only(AGREEMENT_READERS, 200)),
    ("GET", "/api/v1/batches", EVERYONE),
    ("POST", "/api/v1/batches", only(EDITORS, 201)),
    ("GET", "/api/v1/batches/{batch}", EVERYONE),
    ("PATCH", "/api/v1/batches/{batch}", only(EDITORS, 200)),
    ("POST", "/api/v1/batches/{batch}/submit", only(EDITORS, 200)),
    ("POST", "/api/v1/batches/{batch}/schedule", only(SCHEDULERS, 200)),
    ("POST", "/api/v1/batches/{batch}/manifest", only(EDITORS, 200)),
    ("POST", "/api/v1/batches/{batch}/collection", only(COLLECTORS, 201)),
    ("GET", "/api/v1/batches/{batch}/reconciliation", EVERYONE),
    ("POST", "/api/v1/batches/{batch}/close", only(CLOSERS, 200)),
    ("GET", "/api/v1/devices/{device}/erasure", only(ERASURE_READERS, 200)),
    ("POST", "/api/v1/devices/{device}/media", only(WORKSHOP, 201)),
    ("POST", "/api/v1/devices/{device}/media/{medium}/absent", only(SUPERVISION, 404)),
    ("POST", "/api/v1/devices/{device}/media/{medium}/kind", only(WORKSHOP, 404)),
    ("POST", "/api/v1/devices/{device}/erasure-records", only(WORKSHOP, 404)),
    ("POST", "/api/v1/devices/{device}/destruction-records", only(WORKSHOP, 404)),
    ("POST", "/api/v1/devices/{device}/no-media", only(SUPERVISION, 201)),  # a laptop: technicians may not
    ("GET", "/api/v1/erasure-reports", only(ERASURE_READERS, 200)),
    ("POST", "/api/v1/erasure-reports", only(WORKSHOP, 201)),
    ("PUT", "/api/v1/erasure-reports", only(WORKSHOP, 201)),
    ("POST", "/api/v1/erasure-reports/folder", only(WORKSHOP, 201)),
    ("GET", "/api/v1/erasure-reports/{report}", only(ERASURE_READERS, 404)),
    ("GET", "/api/v1/erasure-reports/{report}/raw", only(ERASURE_READERS, 404)),
    ("GET", "/api/v1/erasure/reviews", only(SUPERVISION, 200)),
    ("POST", "/api/v1/erasure/records/{record}/review", only(SUPERVISION, 404)),
    ("GET", "/api/v1/erasure/kind-decisions", only(SUPERVISION, 200)),
    ("POST", "/api/v1/erasure/kind-decisions/{decision}/review", only(SUPERVISION, 404)),
    ("POST", "/api/v1/erasure/quality-checks/draw", only(SUPERVISION, 200)),
    ("GET", "/api/v1/erasure/quality-checks", only(SUPERVISION, 200)),
    ("POST", "/api/v1/erasure/quality-checks/{check}", only(SUPERVISION, 404)),
    ("POST", "/api/v1/erasure/quality-checks/{check}/resolve", only(SUPERVISION, 404)),
    ("GET", "/api/v1/erasure/policies/{organisation}", only(SUPERVISION, 200)),
    ("PUT", "/api/v1/erasure/policies/{organisation}", only({"admin"}, 200)),
    ("GET", "/api/v1/certificates", EVERYONE),
    ("POST", "/api/v1/certificates", only(ISSUERS, 409)),
    ("GET", "/api/v1/certificates/{certificate}", {name: 404 for name in ROLES}),
    ("GET", "/api/v1/certificates/{certificate}/pdf", {name: 404 for name in ROLES}),
    ("GET", "/api/v1/certificates/{certificate}/json", {name: 404 for name in ROLES}),
    ("POST", "/api/v1/certificates/{certificate}/revoke", only(SUPERVISION, 404)),
    ("GET", "/erasure", only(WORKSHOP, 200)),
    ("POST", "/erasure/report", only(WORKSHOP, 200)),
    ("POST", "/erasure/{device}/media", only(WORKSHOP, 303)),
    ("POST", "/erasure/{device}/media/{medium}/kind", only(WORKSHOP, 404)),
    ("POST", "/erasure/{device}/manual", only(WORKSHOP, 404)),
    ("POST", "/erasure/{device}/destruction", only(WORKSHOP, 404)),
    ("POST", "/erasure/{device}/no-media", only(SUPERVISION, 303)),
    ("POST", "/erasure/{device}/certificate", only(WORKSHOP, 409)),
    ("GET", "/erasure/supervision", only(SUPERVISION, 200)),
    ("GET", "/api/v1/stock/levels", only(STOCK_READERS, 200)),
    ("POST", "/api/v1/stock/takes", only(WORKSHOP, 404)),
    ("GET", "/stock", only(STOCK_READERS, 200)),
    ("GET", "/stock/take", only(WORKSHOP, 200)),
    ("GET", "/api/v1/locations", only(STOCK_READERS, 200)),
    ("POST", "/api/v1/locations", only(SUPERVISION, 201)),
    ("PATCH", "/api/v1/locations/{code}", only(SUPERVISION, 400)),  # {code} is a station's S code here
    ("GET", "/stock/locations", only(STOCK_READERS, 200)),
    ("POST", "/stock/locations", only(SUPERVISION, 303)),
    ("POST", "/stock/locations/{code}", only(SUPERVISION, 400)),
    ("POST", "/erasure/supervision/records/{record}", only(SUPERVISION, 404)),
    ("POST", "/erasure/supervision/draw", only(SUPERVISION, 303)),
    ("POST", "/erasure/supervision/checks/{check}", only(SUPERVISION, 404)),
    ("POST", "/erasure/supervision/kinds/{decision}", only(SUPERVISION, 404)),
    ("GET", "/api/v1/workshop/checklists/{kind}", only(STOCK_READERS, 400)),  # {kind} is "device" here
    ("POST", "/api/v1/workshop/reconditionings", only(WORKSHOP, 400)),  # rejected without a reason
    ("GET", "/api/v1/workshop/reconditionings", only(STOCK_READERS, 400)),  # no ?device=
    ("GET", "/api/v1/workshop/choices", only(STOCK_READERS, 200)),
    ("POST", "/api/v1/workshop/choices", only(SUPERVISION, 201)),
    ("PATCH", "/api/v1/workshop/choices/{choice_id}", only(SUPERVISION, 404)),
    ("GET", "/api/v1/workshop/view", only(STOCK_READERS, 200)),
    ("GET", "/workshop", only(STOCK_READERS, 200)),
    ("POST", "/workshop/choices", only(SUPERVISION, 303)),
    ("POST", "/workshop/choices/{choice_id}", only(SUPERVISION, 404)),
    ("GET", "/api/v1/recycling-lots", only(RECYCLING_READERS, 200)),
    ("POST", "/api/v1/recycling-lots", only(SUPERVISION, 201)),
    ("GET", "/api/v1/recycling-lots/{reference}", only(RECYCLING_READERS, 404)),
    ("POST", "/api/v1/recycling-lots/{reference}/devices", only(SUPERVISION, 404)),
    ("DELETE", "/api/v1/recycling-lots/{reference}/devices/{code}", only(SUPERVISION, 400)),  # an S code
    ("POST", "/api/v1/recycling-lots/{reference}/handover", only(SUPERVISION, 400)),  # no recycler
    ("GET", "/api/v1/waste-register", only(REGISTER_READERS, 200)),
    ("GET", "/recycling", only(RECYCLING_READERS, 200)),
    ("POST", "/recycling/new", only(SUPERVISION, 303)),
    ("GET", "/recycling/register", only(REGISTER_READERS, 200)),
    ("GET", "/recycling/{reference}", only(RECYCLING_READERS, 404)),
    ("POST", "/recycling/{reference}/devices", only(SUPERVISION, 404)),
    ("POST", "/recycling/{reference}/devices/{code}/remove", only(SUPERVISION, 404)),
    ("POST", "/recycling/{reference}/handover", only(SUPERVISION, 404)),
    ("GET", "/api/v1/licence-pools", only(SUPERVISION, 200)),
    ("POST", "/api/v1/licence-pools", only(SUPERVISION, 201)),
    ("PATCH", "/api/v1/licence-pools/{pool_id}", only(SUPERVISION, 404)),
    ("POST", "/api/v1/licence-pools/{pool_id}/keys", only(SUPERVISION, 404)),
    ("POST", "/api/v1/licences", only(WORKSHOP, 404)),  # no such pool
    ("DELETE", "/api/v1/licences/{device}", only(SUPERVISION, 400)),  # no reason
    ("GET", "/api/v1/licences/report", only(LICENCE_REPORT_READERS, 200)),
    ("GET", "/licences", only(SUPERVISION, 200)),
    ("POST", "/licences/pools", only(SUPERVISION, 303)),
    ("POST", "/licences/pools/{pool_id}/keys", only(SUPERVISION, 404)),
    ("GET", "/licences/report", only(LICENCE_REPORT_READERS, 200)),
    ("GET", "/api/v1/programmes", STAFF),
    ("POST", "/api/v1/programmes", only(PROGRAMME_WRITERS, 201)),
    ("GET", "/api/v1/programmes/{programme_id}", STAFF),
    ("PUT", "/api/v1/programmes/{programme_id}", only(PROGRAMME_WRITERS, 200)),
    ("GET", "/api/v1/programmes/{programme_id}/statistics", STAFF),
    ("POST", "/api/v1/programmes/{programme_id}/census", only(HOUSEHOLD_READERS, 200)),
    ("GET", "/api/v1/households", only(HOUSEHOLD_READERS, 200)),
    ("POST", "/api/v1/households", only(HOUSEHOLD_READERS, 201)),
    ("GET", "/api/v1/households/{household}", only(PROGRAMME_WRITERS, 200, refused=404)),
    ("PATCH", "/api/v1/households/{household}", only(PROGRAMME_WRITERS, 200, refused=404)),
    ("POST", "/api/v1/households/{household}/status", only(PROGRAMME_WRITERS, 200, refused=404)),
    ("GET", "/api/v1/households/{household}/personal-data", only(PERSONAL_DATA_READERS, 200, refused=404)),
    ("PUT", "/api/v1/households/{household}/personal-data", only(PERSONAL_DATA_READERS, 200, refused=404)),
    ("GET", "/api/v1/households/{household}/access-export", only(PERSONAL_DATA_READERS, 200, refused=404)),
    (
        "GET",
        "/api/v1/households/{household}/access-export.pdf",
        only(PERSONAL_DATA_READERS, 200, refused=404),
    ),
    ("GET", "/programmes", STAFF),
    ("GET", "/programmes/new", only(PROGRAMME_WRITERS, 200)),
    ("POST", "/programmes/new", only(PROGRAMME_WRITERS, 303)),
    ("GET", "/programmes/{programme_id}", STAFF),
    ("GET", "/programmes/{programme_id}/edit", only(PROGRAMME_WRITERS, 200)),
    ("POST", "/programmes/{programme_id}/edit", only(PROGRAMME_WRITERS, 303)),
    ("GET", "/programmes/{programme_id}/rules", only(PROGRAMME_WRITERS, 200)),
    ("POST", "/programmes/{programme_id}/rules", only(PROGRAMME_WRITERS, 303)),
    ("GET", "/programmes/{programme_id}/census", only(HOUSEHOLD_READERS, 200)),
    ("POST", "/programmes/{programme_id}/census", only(HOUSEHOLD_READERS, 200)),
    ("GET", "/households", only(HOUSEHOLD_READERS, 200)),
    ("GET", "/households/new", only(HOUSEHOLD_READERS, 200)),
    ("POST", "/households/new", only(HOUSEHOLD_READERS, 303)),
    ("GET", "/households/purge", only(PROGRAMME_WRITERS, 200)),
    ("POST", "/households/purge", only(PROGRAMME_WRITERS, 303)),
    ("GET", "/households/{household}", only(PROGRAMME_WRITERS, 200, refused=404)),
    ("GET", "/households/{household}/edit", only(PROGRAMME_WRITERS, 200, refused=404)),
    ("POST", "/households/{household}/edit", only(PROGRAMME_WRITERS, 303, refused=404)),
    ("POST", "/households/{household}/status", only(PROGRAMME_WRITERS, 303, refused=404)),
    ("POST", "/households/{household}/personal-data", only(PERSONAL_DATA_READERS, 303, refused=404)),
    ("GET", "/api/v1/commission-sessions", only(PROGRAMME_WRITERS, 200)),
    ("POST", "/api/v1/commission-sessions", only(PROGRAMME_WRITERS, 201)),
    ("GET", "/api/v1/commission-sessions/{session_id}", only(PROGRAMME_WRITERS, 200)),
    ("POST", "/api/v1/commission-sessions/{session_id}/close", only(PROGRAMME_WRITERS, 200)),
    ("GET", "/api/v1/commission-sessions/{session_id}/agenda", only(PROGRAMME_WRITERS, 200)),
    ("GET", "/api/v1/commission-sessions/{session_id}/decisions", only(PROGRAMME_WRITERS, 200)),
    ("POST", "/api/v1/commission-sessions/{session_id}/decisions", only(PROGRAMME_WRITERS, 201)),
    ("GET", "/api/v1/commission-sessions/{session_id}/minutes.pdf", only(PROGRAMME_WRITERS, 200)),
    ("GET", "/api/v1/allocations", only(PROGRAMME_WRITERS, 200)),
    ("GET", "/api/v1/allocations/shortage", only(PROGRAMME_WRITERS, 200)),
    ("GET", "/api/v1/allocations/stock-demand", only(PROGRAMME_WRITERS, 200)),
    ("POST", "/api/v1/allocations/match-all", only(PROGRAMME_WRITERS, 200)),
    ("POST", "/api/v1/allocations/{allocation_id}/match", only(PROGRAMME_WRITERS, 404)),
    ("POST", "/api/v1/allocations/{allocation_id}/release", only(PROGRAMME_WRITERS, 404)),
    ("GET", "/commission", only(PROGRAMME_WRITERS, 200)),
    ("POST", "/commission", only(PROGRAMME_WRITERS, 303)),
    ("GET", "/commission/{session_id}", only(PROGRAMME_WRITERS, 200)),
    ("POST", "/commission/{session_id}/decisions", only(PROGRAMME_WRITERS, 303)),
    ("GET", "/allocations", only(PROGRAMME_WRITERS, 200)),
    ("POST", "/allocations/match-all", only(PROGRAMME_WRITERS, 303)),
    ("GET", "/allocations/stock-demand", only(PROGRAMME_WRITERS, 200)),
    ("GET", "/api/v1/rounds", EVERYONE),
    ("POST", "/api/v1/rounds", only(PROGRAMME_WRITERS, 201)),
    ("GET", "/api/v1/rounds/{round}", only(ROUND_READERS, 200, refused=404)),
    ("POST", "/api/v1/rounds/{round}/status", only(ROUND_READERS, 200, refused=404)),
    ("POST", "/api/v1/rounds/{round}/close", only(ROUND_READERS, 409, refused=404)),
    ("GET", "/api/v1/rounds/{round}/appointments", only(ROUND_READERS, 200, refused=404)),
    (
        "POST",
        "/api/v1/rounds/{round}/appointments",
        {**only(ROUND_READERS, 409, refused=404), "bus_staff": 403},
    ),
    ("POST", "/api/v1/rounds/{round}/fill", {**only(ROUND_READERS, 200, refused=404), "bus_staff": 403}),
    (
        "POST",
        "/api/v1/rounds/{round}/reconvoke-absent",
        {**only(ROUND_READERS, 200, refused=404), "bus_staff": 403},
    ),
    ("GET", "/api/v1/rounds/{round}/progress", only(ROUND_READERS, 200, refused=404)),
    ("GET", "/api/v1/rounds/{round}/pack", only(ROUND_READERS, 200, refused=404)),
    (
        "POST",
        "/api/v1/rounds/{round}/handovers",
        {**only(ROUND_READERS, 409, refused=404), "coordinator": 403},
    ),
    ("GET", "/api/v1/rounds/{round}/conflicts", only(ROUND_READERS, 200, refused=404)),
    ("GET", "/api/v1/rounds/{round}/convocations.pdf", only(ROUND_READERS, 400, refused=404)),
    ("GET", "/api/v1/rounds/{round}/manifest.pdf", only(ROUND_READERS, 200, refused=404)),
    ("POST", "/api/v1/appointments/{appointment_id}/move", only(PROGRAMME_WRITERS, 404)),
    ("POST", "/api/v1/appointments/{appointment_id}/cancel", only(PROGRAMME_WRITERS, 404)),
    ("POST", "/api/v1/handovers", only(HANDING_OVER, 409)),
    ("GET", "/api/v1/handovers/{device}", {name: 404 for name in ROLES}),
    ("GET", "/api/v1/conflicts", EVERYONE),
    ("POST", "/api/v1/conflicts/{conflict_id}/resolve", only(PROGRAMME_WRITERS, 404)),
    ("GET", "/rounds", only(ROUND_READERS, 200)),
    ("POST", "/rounds", {**only(PROGRAMME_WRITERS, 303)}),
    ("GET", "/rounds/{round}", only(ROUND_READERS, 200)),
    ("GET", "/rounds/sw.js", only(ROUND_READERS, 200)),
    ("GET", "/rounds/{round}/handover", {**only(HANDING_OVER, 200), "coordinator": 404}),
    ("POST", "/rounds/{round}/status", only(ROUND_READERS, 303)),
    ("POST", "/rounds/{round}/fill", only(PROGRAMME_WRITERS, 303)),
    ("POST", "/rounds/{round}/appointments", only(PROGRAMME_WRITERS, 409)),
    ("POST", "/rounds/{round}/reconvoke-absent", only(PROGRAMME_WRITERS, 303)),
    ("POST", "/rounds/{round}/conflicts/{conflict_id}", only(PROGRAMME_WRITERS, 404)),
]

PUBLIC = {
    ("GET", "/health"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("POST", "/locale"),
    ("GET", "/problems/{code}"),
    ("GET", "/static/{file_path}"),
    ("HEAD", "/static/{file_path}"),
    ("GET", "/D/{code}"),
    ("GET", "/api/v1/certificates/keys"),
    ("GET", "/api/v1/verify/{code}"),
    ("POST", "/api/v1/verify"),
    ("GET", "/verify"),
    ("POST", "/verify"),
    ("GET", "/verify/{code}"),
}


def _normalise(path: str) -> str:
    for kind in (":str", ":path", ":int"):
        path = path.replace(kind, "")
    return path


def test_every_route_is_in_the_table(tmp_path) -> None:
    from refurb.app import create_app
    from tests.conftest import make_settings

    app = create_app(make_settings(f"sqlite:///{tmp_path}/unused.sqlite3", tmp_path))
    tabled = {
        (
            m,
            p.replace("{device}", "{code}")
            .replace("{station}", "{code}")
            .replace("{batch}", "{code}")
            .replace("{certificate}", "{code}")
            .replace("{household}", "{code}")
            .replace("{round}", "{code}"),
        )
        for m, p, _ in TABLE
    } | {(m, p.replace("{agreement}", "{agreement_id}")) for m, p, _ in TABLE}
    missing = []
    for route in app.routes:
        path = _normalise(route.path)
        if path.startswith("/schema"):  # the OpenAPI documents and their UI are public
            continue
        for method in route.methods - {"OPTIONS"}:
            if (method, path) not in tabled and (method, path) not in PUBLIC:
                missing.append((method, path))
    assert not missing, f"routes without an access rule in this table: {missing}"


def test_role_guards_run_in_the_middleware_not_per_copy_of_the_handler(tmp_path) -> None:
    """Litestar copies the handler for each guard it calls: the role checks are RoleCheck's (the table above
    proves they still refuse); a Litestar that no longer lets them move fails here, not in a benchmark."""
    from refurb.accounts.guards import RoleGuard
    from refurb.app import create_app
    from tests.conftest import make_settings

    app = create_app(make_settings(f"sqlite:///{tmp_path}/unused.sqlite3", tmp_path))
    handlers = [h for route in app.routes for h in getattr(route, "route_handlers", ())]
    assert len(handlers) > 300
    still_guarded = [h for h in handlers if any(isinstance(g, RoleGuard) for g in h.resolve_guards())]
    assert still_guarded == []
    assert sum("refurb_roles" in h.opt for h in handlers) > 300


_printers = iter(range(1_000_000))


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
MANIFEST = "Serial;Asset tag;Type\nSN-1;AT-1;Laptop\n"
MANUAL_RECORD = {
    "medium": ABSENT_ID,
    "technique": "overwrite",
    "method_label": "Zero fill",
    "tool": "hdparm",
    "verification": "all",
    "verification_result": "passed",
    "result": "success",
    "serial_seen": "X1",
}
DESTRUCTION = {
    "medium": ABSENT_ID,
    "technique": "shred",
    "facility": "Paprec Bobigny",
    "witness": "Paul Roux",
}
_snapshots = iter(range(1_000_000))


def workbench_snapshot() -> bytes:
    """A Workbench v11 snapshot, different at every call so each upload is new."""
    return json.dumps(
        {
            "type": "Snapshot",
            "software": "Workbench",
            "version": "11.0b9",
            "uuid": f"00000000-0000-0000-0000-{next(_snapshots):012d}",
            "device": {"type": "Laptop", "manufacturer": "Acer", "model": "AOHAPPY", "serialNumber": None},
            "components": [],
        }
    ).encode()


RULES_FORM = {"laptop_from_age": 9, "school_age_min": 3, "school_age_max": 18, "max_computers": 1}
PROGRAMME_FORM = {
    "starts_on": "2027-01-01",
    "equipment": "laptop",
    "modes": "donation",
    "qpvs": "QN09301M; A",
}


async def _distribution(template: str) -> tuple[int, str, int]:
    """A programme and, in it, a household with personal data, referred by nobody (for their routes).

    For the commission's routes the household is eligible and a session of the programme is open.
    """
    words = ("programme", "household", "commission", "allocation", "round", "handover")
    if not any(word in template for word in words):
        return ABSENT_ID, "", ABSENT_ID
    coordinator = await principal("coordinator")
    known = await distribution.list_programmes()  # one programme per test: /households/new then opens it
    if known:
        programme_id = min(p.id for p in known)
    else:
        body = {**PROGRAMME, "name": f"Programme {next(_printers)}"}
        actor = distribution.Actor.of(coordinator)
        programme_id = (await distribution.create_programme(ProgrammeIn(**body), actor)).id
    household = await distribution.create_household(
        HouseholdIn(programme=programme_id, qpv_code="QN09301M"), coordinator
    )
    await distribution.set_personal_data(household.code, PersonalDataIn(**PERSON), coordinator)
    if "commission" not in template:
        return programme_id, household.code, ABSENT_ID
    await distribution.change_status(household.code, "eligible", "", coordinator)
    session = await commission.create_session(
        SessionIn(programme=programme_id, held_on="2027-01-15", members=["Mme Roux (PRE)"]),
        distribution.Actor.of(coordinator),
    )
    return programme_id, household.code, session.id


BUS_STOP = {"place": "Tour 12", "qpv_code": "QN09301M", "starts_at": "09:00", "ends_at": "10:00"}
HANDOVER = {"terms_version": "remise-2026-12", "typed_name": "Samira Benali", "identity_checked": True}


async def _round(programme_id: int) -> str:
    """A planned round of the programme, with the cast's bus staff on board."""
    planned = await rounds.create_round(
        RoundIn(
            programme=programme_id, held_on="2027-04-10", staff=["bus_staff"], stops=[StopIn(**BUS_STOP)]
        ),
        await principal("coordinator"),
    )
    return planned.code


async def _call(client: Any, method: str, template: str, headers: dict[str, str], station: str) -> Any:
    device = await new_device(State.RECEIVED)
    batch = await submitted_batch() if "{batch}" in template else None
    agreement = (
        await signed_agreement(pdf=PDF) if "{agreement}" in template or "collect" in template else None
    )
    code = device.code if template.startswith("/api/v1/labels/") else station
    programme_id, household, session_id = await _distribution(template)
    round_code = await _round(programme_id) if "{round}" in template else ""
    path = template.format(
        programme_id=programme_id,
        household=household,
        device=device.code,
        station=station,
        code=code,
        action="reject",
        text=device.code,
        kind="device",
        batch=batch.code if batch else "",
        agreement=agreement.id if agreement else 0,
        medium=ABSENT_ID,
        report=ABSENT_ID,
        record=ABSENT_ID,
        check=ABSENT_ID,
        decision=ABSENT_ID,
        organisation="Donor One",
        certificate=make_code(CodeType.CERTIFICATE, 999_999).compact,
        reference="LOT-1900-0000",
        choice_id=ABSENT_ID,
        pool_id=ABSENT_ID,
        session_id=session_id,
        allocation_id=ABSENT_ID,
        round=round_code,
        appointment_id=ABSENT_ID,
        conflict_id=ABSENT_ID,
    )
    if path == "/api/v1/agreements/current":
        path += "?donor=Donor%20One"
    sign = {
        "signatory_name": "Alice Martin",
        "accept": True,
        "terms_version": TERMS_VERSION,
        "donor": "Donor One",
    }
    bodies: dict[str, Any] = {
        "/api/v1/scans": {
            "station": station,
            "text": device.code,
            "action": "reject",
            "inputs": {"reason": "t"},
        },
        "/api/v1/labels/print-jobs": {"codes": [device.code]},
        "/api/v1/printers": {"name": f"printer {next(_printers)}", "driver": "pdf", "stock": "57x32"},
        "/api/v1/stations/{code}/printer": {"printer": None},
        "/api/v1/agreements": sign,
        "/api/v1/batches": {"donor": "Donor One", "site_address": "1 rue de la Paix"},
        "/api/v1/batches/{batch}": {"notes": "second floor"},
        "/api/v1/batches/{batch}/schedule": {"pickup_date": "2026-12-01"},
        "/api/v1/batches/{batch}/collection": {"counts": {"laptop": 2}, "signer_name": "Bob Durand"},
        "/api/v1/devices/{device}/media": {"kind": "hdd", "serial": "WD-ACCESS-1"},
        "/api/v1/devices/{device}/erasure-records": MANUAL_RECORD,
        "/api/v1/devices/{device}/destruction-records": DESTRUCTION,
        "/api/v1/erasure/records/{record}/review": {"decision": "approved"},
        "/api/v1/devices/{device}/media/{medium}/kind": {"kind": "hdd"},
        "/api/v1/erasure/kind-decisions/{decision}/review": {"decision": "revoked"},
        "/api/v1/erasure/quality-checks/{check}": {"result": "passed"},
        "/api/v1/erasure/policies/{organisation}": {"rules": {"hdd": {"minimum": "purge"}}},
        "/api/v1/certificates": {"device": device.code},
        "/api/v1/stock/takes": {"location": make_code(CodeType.LOCATION, 999_999).compact, "scanned": []},
        "/api/v1/locations": {"name": f"Site {next(_printers)}", "kind": "site"},
        "/api/v1/recycling-lots/{reference}/devices": {"text": device.code},
        "/api/v1/workshop/reconditionings": {"device": device.code, "minutes": 5, "outcome": "rejected"},
        "/api/v1/workshop/choices": {"list": "software_profile", "name": f"Profil {next(_printers)}"},
        "/api/v1/workshop/choices/{choice_id}": {"active": True},
        "/api/v1/licence-pools": {"name": f"Pool {next(_printers)}", "os": "Win 11", "licence_type": "MAR"},
        "/api/v1/licences": {"device": device.code, "pool": ABSENT_ID},
        "/api/v1/programmes": {**PROGRAMME, "name": f"Programme {next(_printers)}"},
        "/api/v1/programmes/{programme_id}": {**PROGRAMME, "name": f"Programme {next(_printers)}"},
        "/api/v1/households": {"programme": programme_id, "qpv_code": "QN09301M"},
        "/api/v1/households/{household}": {"school": "École Jean-Jaurès"},
        "/api/v1/households/{household}/status": {"status": "eligible"},
        "/api/v1/households/{household}/personal-data": PERSON,
        "/api/v1/commission-sessions": {
            "programme": programme_id,
            "held_on": "2027-01-15",
            "members": ["Mme Roux (PRE)"],
        },
        "/api/v1/rounds": {
            "programme": programme_id,
            "held_on": "2027-04-10",
            "staff": ["bus_staff"],
            "stops": [BUS_STOP],
        },
        "/api/v1/rounds/{round}/status": {"status": "loading"},
        "/api/v1/rounds/{round}/appointments": {"household": household, "stop": ABSENT_ID, "slot": "09:00"},
        "/api/v1/rounds/{round}/fill": {},
        "/api/v1/rounds/{round}/reconvoke-absent": {"round": round_code},
        "/api/v1/rounds/{round}/handovers": HANDOVER | {"household": household, "device": device.code},
        "/api/v1/handovers": HANDOVER | {"household": household, "device": device.code},
        "/api/v1/appointments/{appointment_id}/move": {
            "round": round_code or "R00000010",
            "stop": 1,
            "slot": "09:00",
        },
        "/api/v1/conflicts/{conflict_id}/resolve": {"resolution": "tested"},
        "/api/v1/commission-sessions/{session_id}/decisions": {
            "household": household,
            "kind": "reject",
            "reason": "tested",
        },
    }
    forms: dict[str, dict[str, str]] = {
        "/batches/new": {"donor": "Donor One", "site_address": "1 rue de la Paix", "declared_laptop": "3"},
        "/batches/{batch}/edit": {"site_address": "2 rue de la Paix", "declared_laptop": "3"},
        "/batches/{batch}/schedule": {"pickup_date": "2026-12-01"},
        "/batches/{batch}/close": {"reason": "tested"},
        "/agreement": {**{k: str(v) for k, v in sign.items()}, "accept": "on"},
        "/collect/{batch}": {"count_laptop": "2", "signer_name": "Bob Durand"},
        "/erasure/{device}/media": {"kind": "ssd", "serial": "S4P3NF0ACCESS"},
        "/erasure/{device}/manual": {k: str(v) for k, v in MANUAL_RECORD.items()},
        "/erasure/{device}/destruction": {k: str(v) for k, v in DESTRUCTION.items()},
        "/erasure/{device}/no-media": {"confirm": "on", "note": "a monitor"},
        "/erasure/supervision/records/{record}": {"decision": "approved"},
        "/erasure/{device}/media/{medium}/kind": {"kind": "hdd"},
        "/erasure/supervision/kinds/{decision}": {"decision": "revoked"},
        "/erasure/supervision/checks/{check}": {"result": "passed"},
        "/erasure/supervision/draw": {},
        "/stock/locations": {"name": f"Site {next(_printers)}", "kind": "site"},
        "/stock/locations/{code}": {"name": "Bac", "capacity": ""},
        "/recycling/{reference}/devices": {"text": device.code},
        "/recycling/{reference}/handover": {},
        "/workshop/choices": {"list": "os_image", "name": f"OS {next(_printers)}"},
        "/workshop/choices/{choice_id}": {"active": "1"},
        "/licences/pools": {"name": f"Pool {next(_printers)}", "os": "Windows 11", "licence_type": "MAR"},
        "/programmes/new": {"name": f"Programme {next(_printers)}", **PROGRAMME_FORM},
        "/programmes/{programme_id}/edit": {"name": f"Programme {next(_printers)}", **PROGRAMME_FORM},
        "/households/new": {"programme": str(programme_id), "qpv_code": "QN09301M", "adults": "1"},
        "/households/purge": {"older_than": "24months"},
        "/programmes/{programme_id}/rules": {
            **{n: str(v) for n, v in RULES_FORM.items()},
            **{f"w_{n}": "1" for n in WEIGHT_FIELDS},
        },
        "/households/{household}/edit": {"qpv_code": "QN09301M", "adults": "2"},
        "/households/{household}/status": {"status": "eligible"},
        "/households/{household}/personal-data": PERSON,
        "/commission": {"programme": str(programme_id), "held_on": "2027-01-15", "members": "Mme Roux"},
        "/commission/{session_id}/decisions": {"household": household, "kind": "reject", "reason": "tested"},
        "/rounds": {
            "programme": str(programme_id),
            "held_on": "2027-04-10",
            "staff": "bus_staff",
            "stops": "Tour 12; QN09301M; Centre social; 09:00-10:00; 30; 2",
        },
        "/rounds/{round}/status": {"status": "loading"},
        "/rounds/{round}/fill": {"qpvs": ""},
        "/rounds/{round}/appointments": {"household": household, "stop": "1", "slot": "09:00"},
        "/rounds/{round}/reconvoke-absent": {"round": round_code},
        "/rounds/{round}/conflicts/{conflict_id}": {"resolution": "tested"},
    }
    uploads: dict[str, tuple[dict[str, str], Any]] = {
        "/agreement/upload": (
            {"signatory_name": "Alice Martin", "signed_on": "2026-11-01", "donor": "Donor One"},
            {"file": ("signed.pdf", PDF, "application/pdf")},
        ),
        "/batches/{batch}/manifest": ({"mode": "dry_run"}, {"file": ("list.csv", MANIFEST, "text/csv")}),
        "/licences/pools/{pool_id}/keys": ({}, {"file": ("keys.csv", "key\nAAAAA-BBBBB\n", "text/csv")}),
        "/api/v1/programmes/{programme_id}/census": (
            {"dry_run": "true"},
            {"file": ("census.csv", "Réf. famille;QPV\nA-1;QN09301M\n", "text/csv")},
        ),
        "/programmes/{programme_id}/census": (
            {"step": "check"},
            {"file": ("census.csv", "Réf. famille;QPV\nA-1;QN09301M\n", "text/csv")},
        ),
    }
    snapshot = workbench_snapshot()
    uploads["/api/v1/erasure-reports"] = ({}, {"file": ("snapshot.json", snapshot, "application/json")})
    uploads["/api/v1/erasure-reports/folder"] = (
        {},
        [
            ("file", ("a.json", snapshot, "application/json")),
            ("file", ("b.json", workbench_snapshot(), "application/json")),
        ],
    )
    uploads["/erasure/report"] = (
        {"device": device.code},
        {"file": ("snapshot.json", snapshot, "application/json")},
    )
    if template == "/api/v1/erasure-reports" and method == "PUT":
        return await client.put(path, content=snapshot, headers=headers)
    uploads["/api/v1/agreements/upload"] = uploads["/agreement/upload"]
    uploads["/api/v1/batches/{batch}/manifest"] = uploads["/batches/{batch}/manifest"]
    if template in uploads and method != "GET":  # a page and its upload form share a path
        fields, files = uploads[template]
        return await client.request(method, path, data=fields, files=files, headers=headers)
    if template in forms:
        return await client.request(method, path, data=forms[template], headers=headers)
    if method in ("POST", "PUT", "PATCH"):
        body = bodies.get(template, {"reason": "tested"})
        return await client.request(method, path, json=body, headers=headers)
    if method == "DELETE":
        return await client.delete(path, headers=headers)
    return await client.get(path, headers=headers)


@pytest.mark.parametrize(("method", "template", "expected"), TABLE, ids=[f"{m} {p}" for m, p, _ in TABLE])
async def test_route_by_role(client, as_user, method: str, template: str, expected: dict[str, int]) -> None:
    station = (await new_station(Stage.ERASURE)).code  # its modes include rejecting a received device
    seen = {}
    for username in ROLES:
        response = await _call(client, method, template, as_user(username), station)
        seen[username] = response.status_code
        if response.status_code == 403 and "json" in response.headers["content-type"]:
            assert response.json()["code"] in {
                "forbidden",
                "action_not_allowed_for_role",
                "attestation_needs_supervisor",
            }
    assert seen == expected


@pytest.mark.parametrize(("method", "template", "expected"), TABLE, ids=[f"{m} {p}" for m, p, _ in TABLE])
async def test_route_without_credentials(
    client, method: str, template: str, expected: dict[str, int]
) -> None:
    station = (await new_station(Stage.ERASURE)).code
    response = await _call(client, method, template, {}, station)
    if template.startswith("/api/"):
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
        assert response.headers["www-authenticate"].startswith("Bearer")
    elif method == "POST":  # a browser form without a session has no CSRF token either
        assert response.status_code == 403
        assert "csrf" in response.text.lower() or "expired" in response.text.lower()
    else:
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


async def test_a_bad_token_is_refused_even_with_a_cookie(client) -> None:
    response = await client.get("/api/v1/me", headers={"authorization": "Bearer rfb_not-a-real-token"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    response = await client.get("/api/v1/me", headers={"authorization": "Basic YWRtaW46YWRtaW4="})
    assert response.status_code == 401


async def test_donors_see_only_their_own_organisation(client, as_user) -> None:
    mine = await new_device(State.RECEIVED, batch=await new_batch("Donor One"))
    theirs = await new_device(State.RECEIVED, batch=await new_batch("Donor Two"))
    station = await new_station(Stage.RECEPTION)
    me = as_user("donor")
    assert (await client.get(f"/api/v1/devices/{mine.code}", headers=me)).status_code == 200
    for path in (
        f"/api/v1/devices/{theirs.code}",
        f"/api/v1/devices/{theirs.code}/events",
        f"/api/v1/codes/{theirs.code}",
        f"/api/v1/codes/{station.code}",
        f"/devices/{theirs.code}",
    ):
        response = await client.get(path, headers={**me, "accept": "application/json"})
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"
    listing = (await client.get("/api/v1/devices", headers=me)).json()
    assert [d["code"] for d in listing["items"]] == [mine.code]
    assert listing["total"] == 1
    counts = (await client.get("/api/v1/devices/states", headers=me)).json()
    assert sum(counts.values()) == 1
    everything = (await client.get("/api/v1/devices", headers=as_user("auditor"))).json()
    assert everything["total"] == 2


async def test_an_unknown_and_a_foreign_device_look_the_same(client, as_user) -> None:
    theirs = await new_device(State.RECEIVED, batch=await new_batch("Donor Two"))
    foreign = await client.get(f"/api/v1/devices/{theirs.code}", headers=as_user("donor"))
    unknown_code = make_code(CodeType.DEVICE, 9_000_000).compact
    unknown = await client.get(f"/api/v1/devices/{unknown_code}", headers=as_user("donor"))
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json()["code"] == unknown.json()["code"] == "not_found"


def test_the_readme_names_who_may_sign_the_agreement() -> None:
    """The README's agreement line lists exactly the roles the table lets sign, no more ("staff")."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    roles = re.search(r"\*\*Donation agreement\*\* \(`/agreement`, ([^;)]*)", readme).group(1)
    named = {role.value for role in Role if re.search(rf"\b{role.value}s?\b", roles)}
    assert "staff" not in roles
    for method in ("GET", "POST"):
        (expected,) = [statuses for m, path, statuses in TABLE if (m, path) == (method, "/agreement")]
        assert named == {name for name, status in expected.items() if status != 403}
