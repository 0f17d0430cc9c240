"""The work waiting for each role: the start page and `GET /api/v1/me/work`.

It sits on top (like the home page) because it reads every area. Each role gets
sections of things to do, each with how many, the oldest few, and where to go to
do them. Coordinators and bus staff get theirs with the distribution area.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from litestar import Controller, Request, get
from piccolo.query.functions.aggregate import Count
from pydantic import BaseModel, Field

from refurb.accounts.guards import allow, principal_of
from refurb.accounts.tables import User
from refurb.core.i18n import N_
from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import TRANSITIONS, State
from refurb.core.principal import Principal
from refurb.core.roles import Role
from refurb.core.stages import STAGE_ACTIONS, Stage
from refurb.db import database_status
from refurb.devices import service as devices
from refurb.distribution import commission, matching, rounds
from refurb.erasure import certificates, kind_decisions, supervision
from refurb.intake import collection
from refurb.intake import service as batches
from refurb.intake.schemas import BatchState
from refurb.printing import service as printing
from refurb.stations import service as stations
from refurb.web.i18n import gettext

__all__ = ("WorkController", "WorkItem", "WorkOut", "WorkSection", "work_for")

#: How many of the oldest things a section lists.
SHOWN = 5
#: The stages whose waiting devices a technician sees, in workflow order.
BENCH_STAGES = (Stage.RECEPTION, Stage.ERASURE, Stage.WORKSHOP, Stage.LICENSING, Stage.STOCK)

_NEXT_STEP = {
    BatchState.DRAFT: N_("Complete the batch and submit it"),
    BatchState.SUBMITTED: N_("Waiting for a pickup date"),
    BatchState.SCHEDULED: N_("Pickup planned"),
    BatchState.COLLECTED: N_("On its way to the workshop"),
    BatchState.RECEIVED: N_("Being wiped and refurbished"),
    BatchState.CLOSED: N_("Done: certificates ready"),
}
_CHECK_RESULTS = {"pending": N_("to re-verify"), "failed": N_("failed: settle it")}


class WorkItem(BaseModel):
    """One thing to do, or to look at."""

    label: str
    detail: str = ""
    code: str | None = Field(default=None, description="The Refurb code it is about, if any")
    href: str | None = None
    since: datetime.datetime | datetime.date | None = None


class WorkSection(BaseModel):
    """A kind of work: how much is waiting and where to do it."""

    key: str = Field(description="Stable name, e.g. stage_erasure, reviews, pickups")
    title: str
    count: int
    href: str | None = Field(default=None, description="The page where this work is done")
    action: str | None = Field(default=None, description="The words of the link to it")
    items: list[WorkItem] = Field(default_factory=list)


class WorkOut(BaseModel):
    """Everything waiting for the principal, most urgent first."""

    role: Role
    sections: list[WorkSection]


def waiting_states(stage: Stage) -> list[State]:
    """The states a device waits for `stage`'s main action in (declared ones are still at the donor)."""
    sources = TRANSITIONS[STAGE_ACTIONS[stage][0]].sources
    return sorted((s for s in sources if s is not State.DECLARED), key=list(State).index)


async def _stage_sections(principal: Principal) -> list[WorkSection]:
    counts = await devices.counts_by_state(principal)
    usable = [s for s in await stations.list_stations() if s.active and stations.may_use(principal, s.stage)]
    sections = []
    for stage in BENCH_STAGES:
        if not stations.may_use(principal, stage):
            continue
        states = waiting_states(stage)
        items: list[WorkItem] = []
        for state in states:
            found = await devices.list_devices(principal, state=state, page_size=SHOWN)
            items += [_device_item(d) for d in found.items]
        items = sorted(items, key=lambda i: i.since or datetime.datetime.max.replace(tzinfo=datetime.UTC))
        bench = next((s for s in usable if s.stage is stage), None)
        sections.append(
            WorkSection(
                key=f"stage_{stage.value}",
                title=gettext("Waiting for {stage}").format(stage=gettext(stage.label)),
                count=sum(counts[s] for s in states),
                href=f"/stations/{bench.code}" if bench else "/stations",
                action=gettext("Open {station}").format(station=bench.name) if bench else gettext("Stations"),
                items=items[:SHOWN],
            )
        )
    return sections


def _device_item(device: Any) -> WorkItem:
    return WorkItem(
        label=device.display_code,
        detail=" ".join(p for p in (device.manufacturer, device.model) if p) or gettext(device.kind.label),
        code=device.code,
        href=f"/devices/{device.code}",
        since=device.updated_at,
    )


async def _supervision(principal: Principal) -> list[WorkSection]:
    reviews = await supervision.pending_reviews()
    kinds = await kind_decisions.pending_kind_decisions()
    checks = [c for c in await supervision.checks(None) if c.result in ("pending", "failed")]
    received = await batches.list_batches(principal, states=[BatchState.RECEIVED])
    return [
        WorkSection(
            key="reviews",
            title=gettext("Erasure records and drive types to review"),
            count=len(reviews) + len(kinds),
            href="/erasure/supervision",
            action=gettext("Open the supervision desk"),
            items=[
                WorkItem(label=r.device, detail=r.review, href=f"/erasure/{r.device}", since=r.created_at)
                for r in reviews[:SHOWN]
            ],
        ),
        WorkSection(
            key="quality_checks",
            title=gettext("This week's quality-control sample"),
            count=len(checks),
            href="/erasure/supervision",
            action=gettext("Re-verify"),
            items=[
                WorkItem(
                    label=c.device, detail=gettext(_CHECK_RESULTS[c.result]), href=f"/erasure/{c.device}"
                )
                for c in checks[:SHOWN]
            ],
        ),
        WorkSection(
            key="batches_to_close",
            title=gettext("Received batches to reconcile and close"),
            count=len(received),
            href="/batches",
            action=gettext("Batches"),
            items=[_batch_item(b, b.discrepancy and gettext("counted apart at pickup")) for b in received][
                :SHOWN
            ],
        ),
    ]


def _batch_item(batch: Any, detail: str | None = None) -> WorkItem:
    return WorkItem(
        label=batch.display_code,
        detail=detail or " · ".join(p for p in (batch.donor, batch.reference or "") if p),
        code=batch.code,
        href=f"/batches/{batch.code}",
        since=batch.received_at or batch.created_at,
    )


async def _pickups(principal: Principal) -> list[WorkSection]:
    waiting = await collection.collectable(principal)
    today = datetime.date.today()

    def window(batch: Any) -> str:
        if batch.pickup_date:
            return batch.pickup_date.isoformat()
        if batch.pickup_from or batch.pickup_to:
            return f"{batch.pickup_from or '…'} → {batch.pickup_to or '…'}"
        return gettext("no date yet")

    todays = [b for b in waiting if b.pickup_date == today]
    return [
        WorkSection(
            key="pickups",
            title=gettext("Pickups today") if todays else gettext("Pickups waiting"),
            count=len(todays or waiting),
            href="/collect",
            action=gettext("Open the pickups"),
            items=[
                WorkItem(
                    label=f"{b.donor} · {b.display_code}",
                    detail=f"{b.site_address} — {window(b)}",
                    code=b.code,
                    href=f"/collect/{b.code}",
                    since=b.pickup_date,
                )
                for b in (todays or waiting)[:SHOWN]
            ],
        )
    ]


async def _donor(principal: Principal) -> list[WorkSection]:
    mine = await batches.list_batches(principal)
    ready = await certificates.list_certificates(principal)
    open_batches = [b for b in mine if b.state is not BatchState.CLOSED]
    return [
        WorkSection(
            key="batches",
            title=gettext("Your donations"),
            count=len(open_batches),
            href="/batches",
            action=gettext("New batch") if not mine else gettext("Batches"),
            items=[_batch_item(b, gettext(_NEXT_STEP[b.state])) for b in open_batches[:SHOWN]],
        ),
        WorkSection(
            key="certificates",
            title=gettext("Erasure certificates ready"),
            count=len([c for c in ready if c.status == "valid"]),
            href="/batches",
            action=gettext("Batches"),
            items=[
                WorkItem(
                    label=c.display_code, detail=c.batch or c.device or "", code=c.code, href=c.verify_url
                )
                for c in ready
                if c.status == "valid"
            ][:SHOWN],
        ),
    ]


async def _admin() -> list[WorkSection]:
    users = await User.select(User.role, Count(alias="count")).where(User.active.eq(True)).group_by(User.role)
    all_stations = await stations.list_stations()
    printers = await printing.list_printers()
    health = await database_status()
    no_printer = [s for s in all_stations if s.active and s.label and not s.printer]
    return [
        WorkSection(
            key="health",
            title=gettext("Service health"),
            count=0 if health["status"] == "ok" else 1,
            href="/health",
            action=gettext("Details"),
            items=[WorkItem(label=gettext("Database"), detail=str(health["status"]))],
        ),
        WorkSection(
            key="stations",
            title=gettext("Stations without a printer"),
            count=len(no_printer),
            href="/stations",
            action=gettext("Stations"),
            items=[WorkItem(label=s.name, detail=gettext(s.stage.label), code=s.code) for s in no_printer][
                :SHOWN
            ],
        ),
        WorkSection(
            key="printers",
            title=gettext("Printers"),
            count=len([p for p in printers if p.active]),
            items=[
                WorkItem(label=p.name, detail=" ".join(filter(None, (p.driver, p.host)))) for p in printers
            ][:SHOWN],
        ),
        WorkSection(
            key="users",
            title=gettext("Active users"),
            count=sum(r["count"] for r in users),
            items=[WorkItem(label=gettext(Role(r["role"]).label), detail=str(r["count"])) for r in users],
        ),
    ]


async def _coordinator() -> list[WorkSection]:
    """Households to review, the next commission, allocations to match and the shortage."""
    work = await commission.coordinator_work(datetime.date.today(), SHOWN)
    short = await matching.shortage()
    nxt = work.next_session
    return [
        WorkSection(
            key="households_to_review",
            title=gettext("Households to review"),
            count=work.to_review,
            href="/households?status=census",
            action=gettext("Households"),
            items=[WorkItem(label=code, code=code, href=f"/households/{code}") for code in work.review_codes],
        ),
        WorkSection(
            key="next_commission",
            title=gettext("Next commission"),
            count=work.eligible,
            href=f"/commission/{nxt.id}" if nxt else "/commission",
            action=gettext("Open the agenda") if nxt else gettext("Commission sessions"),
            items=[
                WorkItem(
                    label=nxt.programme_name,
                    detail=gettext("%(count)s eligible households") % {"count": work.eligible},
                    since=nxt.held_on,
                )
            ]
            if nxt
            else [],
        ),
        WorkSection(
            key="allocations_to_match",
            title=gettext("Allocations to match"),
            count=short.total,
            href="/allocations",
            action=gettext("Match devices"),
        ),
        WorkSection(
            key="shortage",
            title=gettext("Shortage"),
            count=short.total,
            href="/allocations/stock-demand",
            action=gettext("Stock against demand"),
            items=[
                WorkItem(label=gettext(DeviceKind(kind).label), detail=str(count))
                for kind, count in short.by_kind.items()
            ],
        ),
    ]


async def _bus_staff(principal: Principal) -> list[WorkSection]:
    """Today's round (and the next ones) with their stops and what is on board; the hand-over page."""
    today = datetime.date.today()
    mine = [r for r in await rounds.list_rounds(principal) if r.held_on >= today and r.status != "closed"]
    mine.sort(key=lambda r: (r.held_on, r.code))
    sections = []
    for found in mine[:SHOWN]:
        progress = await rounds.progress(found.code, principal)
        on_board = sum(s.loaded for s in progress.stops)
        to_load = sum(s.to_load for s in progress.stops)
        title = gettext("Today's round") if found.held_on == today else gettext("Next round")
        sections.append(
            WorkSection(
                key=f"round_{found.code}",
                title=f"{title} {found.display_code}",
                count=found.appointments,
                href=f"/rounds/{found.code}/handover"
                if found.status in ("loading", "out")
                else f"/rounds/{found.code}",
                action=gettext("Hand-over page")
                if found.status in ("loading", "out")
                else gettext("Open the round"),
                items=[
                    WorkItem(
                        label=f"{s.place}",
                        detail=gettext(
                            "%(waiting)s waiting, %(delivered)s delivered, %(loaded)s of %(total)s on board"
                        )
                        % {
                            "waiting": s.waiting,
                            "delivered": s.delivered,
                            "loaded": s.loaded,
                            "total": s.loaded + s.to_load,
                        },
                        href=f"/rounds/{found.code}",
                    )
                    for s in progress.stops
                ]
                + [WorkItem(label=gettext("On board"), detail=f"{on_board} / {on_board + to_load}")],
            )
        )
    return sections


async def work_for(principal: Principal) -> WorkOut:
    """The sections of work for the principal's role."""
    role = principal.role
    sections: Sequence[WorkSection] = []
    if role is Role.DONOR:
        sections = await _donor(principal)
    elif role is Role.DRIVER:
        sections = await _pickups(principal)
    elif role is Role.TECHNICIAN:
        sections = await _stage_sections(principal)
    elif role is Role.SUPERVISOR:
        sections = [*await _supervision(principal), *await _stage_sections(principal)]
    elif role is Role.COORDINATOR:
        sections = await _coordinator()
    elif role is Role.BUS_STAFF:
        sections = await _bus_staff(principal)
    elif role is Role.ADMIN:
        sections = [*await _admin(), *await _supervision(principal), *await _pickups(principal)]
    return WorkOut(role=role, sections=list(sections))


class WorkController(Controller):
    """`GET /api/v1/me/work`: what the start page shows, for scripts and other front-ends."""

    path = "/api/v1/me/work"
    tags = ["accounts"]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/", summary="The work waiting for me", guards=allow())
    async def work(self, request: Request[Any, Any, Any]) -> WorkOut:
        """Sections of work for the caller's role, each with a count, the oldest few and where to do it."""
        return await work_for(principal_of(request))
