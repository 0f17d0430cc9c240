"""Loading, unloading, handing over: the spine's checks for the bus, the hand-over itself, offline conflicts.

The spine asks this area three things (design §4): `round_open` (a device is
loaded on, or unloaded from, the round its household is convoked on),
`household_matches` (the scanned household is the one the device is reserved
for) and `handover_agreement_accepted` (a `Handover` row — signature or typed
name, identity checked, the current terms — names this device). `hand_over`
writes that row and the device's transition in one transaction, the device row
locked first, so two tablets replaying the same hand-over give one result.

A hand-over done offline carries `queued_at`; if the server refuses it on replay,
the refusal is kept as a `SyncConflict` for the staff and the coordinator — never
dropped, never applied.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
from collections.abc import Mapping
from typing import Any

from refurb.core.codes import CodeType, parse_code
from refurb.core.errors import BadInput, Conflict, DomainError, Forbidden, GuardRefused, NotFound
from refurb.core.i18n import N_
from refurb.core.lifecycle import Action, Check, State
from refurb.core.principal import Principal
from refurb.core.roles import Role
from refurb.db import fetch, json_value, single_write, write_transaction
from refurb.devices import service as devices
from refurb.devices.service import CheckContext, register_check, register_effect
from refurb.distribution.bus import ON_THE_ROAD, TERMS_VERSION, AppointmentStatus, RoundStatus, terms_for
from refurb.distribution.model import AllocationStatus, HouseholdStatus
from refurb.distribution.round_schemas import ConflictOut, HandoverIn, HandoverOut
from refurb.distribution.rounds import RoundRef, round_ref
from refurb.distribution.service import Actor, household_ref, record_event
from refurb.distribution.tables import (
    Allocation,
    Appointment,
    Handover,
    Household,
    Programme,
    Round,
    SupportResource,
    SyncConflict,
)
from refurb.timestamps import as_utc, utcnow
from refurb.web.i18n import gettext, local_today

__all__ = (
    "MAX_SIGNATURE_BYTES",
    "get_handover",
    "hand_over",
    "list_conflicts",
    "register",
    "resolve_conflict",
    "support_text",
)

MAX_SIGNATURE_BYTES = 256 * 1024
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# The device's reserved allocation, its household, and the round that household is convoked on.
_PLACE_SQL = (
    "SELECT a.id, a.household, a.mode, a.programme, h.code AS household_code, h.qpv_code, "
    "ap.id AS appointment, ap.round AS round_id, r.code AS round_code "
    "FROM allocation a JOIN household h ON h.id = a.household "
    "LEFT JOIN appointment ap ON ap.household = a.household AND ap.status = 'convoked' "
    "LEFT JOIN round r ON r.id = ap.round "
    "WHERE a.device = {} AND a.status = 'reserved'"
)


async def _place(device_id: int) -> dict[str, Any] | None:
    rows = await fetch(_PLACE_SQL, device_id)
    return rows[0] if rows else None


def _not_reserved(ref: str) -> GuardRefused:
    return GuardRefused(N_("{ref} is not reserved for any household."), code="device_not_reserved", ref=ref)


def _payload_code(payload: Mapping[str, Any], name: str, code_type: CodeType, ref: str) -> str:
    text = payload.get(name)
    if not isinstance(text, str) or not text.strip():
        what = {
            CodeType.ROUND: N_("the round (its R code)"),
            CodeType.HOUSEHOLD: N_("the household (its F code)"),
        }
        raise GuardRefused(
            N_("{ref}: scan {what} first."), code=f"{name}_required", ref=ref, what=what[code_type]
        )
    return parse_code(text, expected=code_type).compact


# --- the spine's checks --------------------------------------------------------


async def _round_open(context: CheckContext) -> None:
    """`dispatch` onto, `unload` off, the round the device's household is convoked on."""
    ref = parse_code(context.device.code).display
    wanted = _payload_code(context.payload, "round", CodeType.ROUND, ref)
    found = await round_ref(wanted)
    loading = context.transition.action is Action.DISPATCH
    allowed = {RoundStatus.LOADING} if loading else ON_THE_ROAD
    if found.status not in allowed:
        raise GuardRefused(
            N_("Round {round} is {status}: devices are loaded while it is loading.")
            if loading
            else N_("Round {round} is {status}: devices come off a round that is loading or out."),
            code="round_not_open",
            round=found.display,
            status=found.status,
        )
    place = await _place(context.device.id)
    if place is None:
        raise _not_reserved(ref)
    if place["round_id"] is None:
        raise GuardRefused(
            N_("{ref} is reserved for household {household}, which is not convoked on any round."),
            code="household_not_convoked",
            ref=ref,
            household=parse_code(place["household_code"]).display,
        )
    if place["round_id"] != found.id:
        raise GuardRefused(
            N_("{ref} belongs to round {other} (household {household}), not to {round}."),
            code="device_other_round",
            ref=ref,
            other=parse_code(place["round_code"]).display,
            household=parse_code(place["household_code"]).display,
            round=found.display,
        )


async def _household_matches(context: CheckContext) -> None:
    """`hand_over`: the household scanned is the one the device is reserved for (on this round, if one)."""
    ref = parse_code(context.device.code).display
    wanted = _payload_code(context.payload, "household", CodeType.HOUSEHOLD, ref)
    place = await _place(context.device.id)
    if place is None:
        raise _not_reserved(ref)
    if place["household_code"] != wanted:
        raise GuardRefused(
            N_("{ref} is reserved for another household, not for {household}."),
            code="wrong_household",
            ref=ref,
            household=parse_code(wanted).display,
        )
    round_text = context.payload.get("round")
    if (
        context.device.state is State.DISPATCHED
        and round_text
        and place["round_code"] != parse_code(str(round_text), expected=CodeType.ROUND).compact
    ):
        raise GuardRefused(N_("{ref} is loaded on another round."), code="device_other_round", ref=ref)


async def _agreement_accepted(context: CheckContext) -> None:
    """`hand_over`: a hand-over record of this device with an accepted agreement (see `hand_over`)."""
    ref = parse_code(context.device.code).display
    handover_id = context.payload.get("handover")
    row = None
    if isinstance(handover_id, int) and not isinstance(handover_id, bool):
        row = (
            await Handover.select(
                Handover.device, Handover.signature_sha256, Handover.typed_name,
                Handover.identity_checked, Handover.terms_version,
            ).where(Handover.id == handover_id).first()
        )  # fmt: skip
    if row is None or row["device"] != context.device.id:
        raise GuardRefused(
            N_("{ref}: the family's agreement is missing; hand it over from the round's hand-over page."),
            code="handover_agreement_missing",
            ref=ref,
        )
    if not (row["signature_sha256"] or row["typed_name"]) or not row["identity_checked"]:
        raise GuardRefused(
            N_("{ref}: the agreement is not signed or the identity was not checked."),
            code="handover_agreement_missing",
            ref=ref,
        )
    if row["terms_version"] != TERMS_VERSION:
        raise GuardRefused(
            N_("{ref}: the terms accepted ({version}) are not the current ones."),
            code="terms_changed",
            ref=ref,
            version=row["terms_version"],
        )


async def _handed_over(context: CheckContext) -> dict[str, Any]:
    """After `hand_over`: the allocation is delivered, then the convocation and the household when done.

    The convocation is delivered once nothing of the household is left reserved;
    the household is equipped once every allocation is delivered.
    """
    moved = await fetch(
        "UPDATE allocation SET status = {}, updated_at = {} WHERE device = {} AND status = {} "
        "RETURNING id, household",
        AllocationStatus.HANDED_OVER.value, utcnow(), context.device.id, AllocationStatus.RESERVED.value,
    )  # fmt: skip
    if not moved:
        raise Conflict(
            N_("{ref}: its allocation changed meanwhile."),
            code="allocation_changed",
            ref=parse_code(context.device.code).display,
        )
    household_id = moved[0]["household"]
    open_lines = await Allocation.select(Allocation.status).where(
        (Allocation.household == household_id)
        & Allocation.status.is_in([AllocationStatus.TO_MATCH.value, AllocationStatus.RESERVED.value])
    )
    if not any(line["status"] == AllocationStatus.RESERVED.value for line in open_lines):
        await Appointment.update({Appointment.status: AppointmentStatus.DELIVERED.value}).where(
            (Appointment.household == household_id) & (Appointment.status == AppointmentStatus.CONVOKED.value)
        )
    if not open_lines:
        row = (
            await Household.select(Household.status, Household.version)
            .where(Household.id == household_id)
            .first()
        )
        if row is not None and row["status"] == HouseholdStatus.APPROVED.value:
            await Household.update(
                {
                    Household.status: HouseholdStatus.EQUIPPED.value,
                    Household.version: row["version"] + 1,
                    Household.last_activity_at: utcnow(),
                }
            ).where(Household.id == household_id)
            await record_event(
                household_id,
                "status",
                HouseholdStatus.APPROVED.value,
                HouseholdStatus.EQUIPPED.value,
                Actor.of(context.principal),
                payload={"device": context.device.code},
            )
    return {"allocation": moved[0]["id"]}


# --- the hand-over -------------------------------------------------------------


def _signature(data: HandoverIn) -> bytes | None:
    text = (data.signature_png or "").strip()
    if not text:
        return None
    if text.startswith("data:"):
        text = text.partition(",")[2]
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if not raw.startswith(_PNG_MAGIC) or len(raw) > MAX_SIGNATURE_BYTES:
        raise BadInput(
            N_("The signature must be a PNG image of at most {limit} KB, in base64."),
            code="bad_signature",
            limit=MAX_SIGNATURE_BYTES // 1024,
            extra={"field": "signature_png"},
        )
    return raw


def _agreement(data: HandoverIn) -> tuple[bytes | None, str]:
    signature = _signature(data)
    typed_name = " ".join((data.typed_name or "").split())
    if signature is None and not typed_name:
        raise BadInput(
            N_("The family accepts by signing on the screen, or by a typed name when signing is impossible."),
            code="agreement_missing",
            extra={"field": "signature_png"},
        )
    if not data.identity_checked:
        raise BadInput(
            N_("Tick that the identity of the person was checked."),
            code="identity_not_checked",
            extra={"field": "identity_checked"},
        )
    if data.terms_version != TERMS_VERSION:
        raise Conflict(
            N_("The terms changed (now {version}): reload the round before handing over."),
            code="terms_changed",
            version=TERMS_VERSION,
        )
    return signature, typed_name


async def support_text(programme_id: int, qpv_code: str) -> tuple[int | None, str]:
    """The local support resource of a QPV in a programme, as told to the family."""
    row = (
        await SupportResource.select()
        .where((SupportResource.programme == programme_id) & (SupportResource.qpv_code == qpv_code))
        .order_by(SupportResource.id)
        .first()
    )
    if row is None:
        return None, ""
    parts = [row["name"], row["address"], row["opening_hours"], row["contact"]]
    return row["id"], " · ".join(" ".join(p.split()) for p in parts if p and p.strip())


async def _support(programme_id: int, qpv_code: str) -> tuple[int | None, str]:
    row = (
        await SupportResource.select(SupportResource.id, SupportResource.name)
        .where((SupportResource.programme == programme_id) & (SupportResource.qpv_code == qpv_code))
        .order_by(SupportResource.id)
        .first()
    )
    return (row["id"], row["name"]) if row else (None, "")


async def _terms_of(programme_id: int, mode: str, day: datetime.date) -> Any:
    row = await Programme.select(
        Programme.loan_months, Programme.rental_monthly_cents, Programme.rental_programme_share
    ).where(Programme.id == programme_id).first()  # fmt: skip
    return terms_for(
        mode,
        day,
        loan_months=row["loan_months"] if row else None,
        rental_monthly_cents=row["rental_monthly_cents"] if row else None,
        rental_programme_share=row["rental_programme_share"] if row else None,
    )


def _may_hand_over(principal: Principal, ref: RoundRef | None) -> None:
    if principal.role not in (Role.BUS_STAFF, Role.ADMIN):
        raise Forbidden(N_("Only bus staff hand devices over."), code="action_not_allowed_for_role",
                        role=principal.role, action=Action.HAND_OVER)  # fmt: skip


async def _out(row: Mapping[str, Any], outcome: str) -> HandoverOut:
    codes = await devices.codes_of("device", [row["device"]])
    household = (
        await Household.select(Household.code, Household.status)
        .where(Household.id == row["household"])
        .first()
    )
    round_code = None
    if row["round"] is not None:
        found = await Round.select(Round.code).where(Round.id == row["round"]).first()
        round_code = found["code"] if found else None
    support = ""
    if row["support_resource"] is not None:
        res = (
            await SupportResource.select(SupportResource.name)
            .where(SupportResource.id == row["support_resource"])
            .first()
        )
        support = res["name"] if res else ""
    code = codes[row["device"]]
    return HandoverOut(
        id=row["id"],
        outcome=outcome,  # type: ignore[arg-type]
        device=code,
        household=household["code"],
        round=round_code,
        mode=row["mode"],
        terms_version=row["terms_version"],
        terms_figures=_json(row["terms"]),
        without_appointment=row["without_appointment"],
        signature_sha256=row["signature_sha256"],
        support=support,
        training=row["training"],
        household_status=household["status"],
        receipt_url=f"/api/v1/labels/{code}?kind=receipt&format=pdf",
        handed_at=as_utc(row["created_at"]),
    )


def _json(value: Any) -> dict[str, Any]:
    return json_value(value, {}) or {}


async def get_handover(device_code: str, principal: Principal) -> HandoverOut:
    """The last hand-over of a device (for its receipt): bus staff and coordinators; 404 to anyone else."""
    if principal.role not in (Role.BUS_STAFF, Role.COORDINATOR, Role.ADMIN):
        raise NotFound(
            N_("{ref} was never handed over."), ref=parse_code(device_code, expected=CodeType.DEVICE).display
        )
    device = await devices.device_ref(device_code, principal)
    row = (
        await Handover.select()
        .where(Handover.device == device.id)
        .order_by(Handover.id, ascending=False)
        .first()
    )
    if row is None:
        raise NotFound(N_("{ref} was never handed over."), ref=parse_code(device.code).display)
    return await _out(row, "already_recorded")


async def hand_over(
    round_code: str | None,
    data: HandoverIn,
    principal: Principal,
    *,
    idempotency_key: str | None = None,
    request_id: str | None = None,
) -> HandoverOut:
    """Hand a reserved device to its household with the agreement; an offline one refused is a conflict."""
    ref: RoundRef | None = None
    try:
        ref = await round_ref(round_code, principal) if round_code else None
        return await _hand_over(ref, data, principal, idempotency_key, request_id)
    except DomainError as error:
        if data.queued_at is not None and not isinstance(error, NotFound | Forbidden):
            conflict_id = await _record_conflict(ref, data, error, principal, idempotency_key)
            error.extra["conflict"] = conflict_id
        raise


async def _hand_over(
    ref: RoundRef | None,
    data: HandoverIn,
    principal: Principal,
    idempotency_key: str | None,
    request_id: str | None,
) -> HandoverOut:
    _may_hand_over(principal, ref)
    household_code = parse_code(data.household, expected=CodeType.HOUSEHOLD)
    device_code = parse_code(data.device, expected=CodeType.DEVICE)
    if ref is not None and ref.status not in ON_THE_ROAD:
        raise Conflict(
            N_("Round {ref} is {status}: hand-overs are recorded while it is loading or out."),
            code="round_not_open",
            ref=ref.display,
            status=ref.status,
        )
    household = await household_ref(household_code.compact)
    signature, typed_name = _agreement(data)
    async with write_transaction():
        device = await devices.device_ref(device_code.compact, principal, lock=True)
        previous = (
            await Handover.select()
            .where(Handover.device == device.id)
            .order_by(Handover.id, ascending=False)
            .first()
        )
        if device.state is State.HANDED_OVER and previous is not None:
            same_household = previous["household"] == household.id
            if same_household and (data.queued_at is None or previous["client_key"] == idempotency_key):
                return await _out(previous, "already_recorded")
            if same_household:  # a tablet's offline hand-over, while another one recorded it: look into it
                raise Conflict(
                    N_("{ref} was already handed over to this household by {actor}: this one is not kept."),
                    code="device_already_handed_over",
                    ref=device_code.display,
                    actor=previous["actor_name"],
                )
            raise Conflict(
                N_("{ref} was already handed over to another household."),
                code="device_handed_over_elsewhere",
                ref=device_code.display,
            )
        place = await _place(device.id)
        if place is None:
            raise _not_reserved(device_code.display)
        if place["household"] != household.id:
            raise GuardRefused(
                N_("{ref} is reserved for another household, not for {household}."),
                code="wrong_household",
                ref=device_code.display,
                household=household_code.display,
            )
        on_this_round = ref is not None and place["round_id"] == ref.id
        today = local_today()
        terms = await _terms_of(place["programme"], place["mode"], today)
        support_id, support_name = await _support(place["programme"], place["qpv_code"])
        (row,) = await Handover.insert(
            Handover(
                device=device.id,
                household=household.id,
                allocation=place["id"],
                round=ref.id if ref else None,
                appointment=place["appointment"] if on_this_round else None,
                without_appointment=not on_this_round,
                mode=place["mode"],
                terms_version=TERMS_VERSION,
                terms=terms.figures(),
                loan_ends_on=datetime.date.fromisoformat(terms.params["loan_ends_on"])
                if "loan_ends_on" in terms.params
                else None,
                signature=signature,
                signature_sha256=hashlib.sha256(signature).hexdigest() if signature else "",
                typed_name=typed_name,
                identity_checked=data.identity_checked,
                support_resource=support_id if data.support_given else None,
                training=data.training,
                training_session=" ".join(data.training_session.split()),
                client_key=idempotency_key,
                queued_at=data.queued_at,
                actor=principal.user_id,
                actor_name=principal.name[:80],
            )
        ).returning(Handover.id)
        payload: dict[str, Any] = {"household": household.code, "handover": row["id"], "mode": place["mode"]}
        if ref is not None:
            payload["round"] = ref.code
        if "loan_ends_on" in terms.params:
            payload["loan_ends_on"] = terms.params["loan_ends_on"]
        await devices.transition(
            device.code, Action.HAND_OVER.value, payload, principal,
            request_id=request_id, idempotency_key=idempotency_key,
        )  # fmt: skip
        status = await Household.select(Household.status).where(Household.id == household.id).first()
        return HandoverOut(
            id=row["id"],
            outcome="recorded",
            device=device.code,
            household=household.code,
            round=ref.code if ref else None,
            mode=place["mode"],
            terms_version=TERMS_VERSION,
            terms_figures=terms.figures(),
            without_appointment=not on_this_round,
            signature_sha256=hashlib.sha256(signature).hexdigest() if signature else "",
            support=support_name if data.support_given else "",
            training=data.training,
            household_status=status["status"] if status else household.status.value,
            receipt_url=f"/api/v1/labels/{device.code}?kind=receipt&format=pdf",
            handed_at=utcnow(),
        )


# --- conflicts -----------------------------------------------------------------


async def _record_conflict(
    ref: RoundRef | None, data: HandoverIn, error: DomainError, principal: Principal, key: str | None
) -> int:
    if key:
        known = await SyncConflict.select(SyncConflict.id).where(
            (SyncConflict.client_key == key) & (SyncConflict.actor == principal.user_id)
        ).first()  # fmt: skip
        if known is not None:
            return known["id"]

    def compact(text: str, code_type: CodeType) -> str:
        try:
            return parse_code(text, expected=code_type).compact
        except DomainError:
            return ""

    async with single_write():
        (row,) = await SyncConflict.insert(
            SyncConflict(
                round=ref.id if ref else None,
                household_code=compact(data.household, CodeType.HOUSEHOLD),
                device_code=compact(data.device, CodeType.DEVICE),
                action=Action.HAND_OVER.value,
                problem_code=error.code,
                detail=error.render(gettext)[:1000],
                client_key=key,
                queued_at=data.queued_at,
                actor=principal.user_id,
                actor_name=principal.name[:80],
            )
        ).returning(SyncConflict.id)
    return row["id"]


def _conflict_out(row: Mapping[str, Any], round_codes: Mapping[int, str]) -> ConflictOut:
    return ConflictOut(
        id=row["id"],
        round=round_codes.get(row["round"]) if row["round"] else None,
        household=row["household_code"],
        device=row["device_code"],
        action=row["action"],
        problem_code=row["problem_code"],
        detail=row["detail"],
        queued_at=as_utc(row["queued_at"]) if row["queued_at"] else None,
        reported_at=as_utc(row["created_at"]),
        actor=row["actor_name"],
        resolved_at=as_utc(row["resolved_at"]) if row["resolved_at"] else None,
        resolution=row["resolution"],
        resolved_by=row["resolved_by"],
    )


async def list_conflicts(
    principal: Principal, round_code: str | None = None, *, open_only: bool = False
) -> list[ConflictOut]:
    """Conflicts of a round (its staff and coordinators), or of every round (coordinators), latest first."""
    query = SyncConflict.select()
    if round_code:
        ref = await round_ref(round_code, principal)
        query = query.where(SyncConflict.round == ref.id)
    elif principal.role not in (Role.COORDINATOR, Role.ADMIN):
        query = query.where(SyncConflict.actor == principal.user_id)
    if open_only:
        query = query.where(SyncConflict.resolved_at.is_null())
    rows = await query.order_by(SyncConflict.id, ascending=False).limit(500)
    ids = sorted({r["round"] for r in rows if r["round"]})
    codes = {
        r["id"]: r["code"] for r in await Round.select(Round.id, Round.code).where(Round.id.is_in(ids or [0]))
    }
    return [_conflict_out(r, codes) for r in rows]


async def resolve_conflict(conflict_id: int, resolution: str, principal: Principal) -> ConflictOut:
    """A coordinator says what was done about a conflict; it leaves the open list."""
    if principal.role not in (Role.COORDINATOR, Role.ADMIN):
        raise Forbidden(N_("Only a coordinator resolves a conflict."), code="forbidden")
    text = " ".join(resolution.split())
    if not text:
        raise BadInput(
            N_("Say what was done about it."), code="reason_required", extra={"field": "resolution"}
        )
    async with write_transaction():
        row = await SyncConflict.select().where(SyncConflict.id == conflict_id).first()
        if row is None:
            raise NotFound(N_("No conflict #{id} is known."), id=conflict_id)
        if row["resolved_at"] is None:
            await SyncConflict.update(
                {SyncConflict.resolved_at: utcnow(), SyncConflict.resolution: text,
                 SyncConflict.resolved_by: principal.name[:80]}
            ).where(SyncConflict.id == conflict_id)  # fmt: skip
        row = await SyncConflict.select().where(SyncConflict.id == conflict_id).first()
    codes = {}
    if row["round"]:
        found = await Round.select(Round.code).where(Round.id == row["round"]).first()
        codes = {row["round"]: found["code"]} if found else {}
    return _conflict_out(row, codes)


def register() -> None:
    """Answer the spine's bus checks and follow `hand_over`."""
    register_check(Check.ROUND_OPEN, _round_open)
    register_check(Check.HOUSEHOLD_MATCHES, _household_matches)
    register_check(Check.HANDOVER_AGREEMENT_ACCEPTED, _agreement_accepted)
    register_effect(Action.HAND_OVER, _handed_over)
