"""The device lifecycle of design §4: states, actions, the transition table, guards.

Pure decisions only. Guards that need evidence kept by other areas (a signed
agreement, erasure records, a licence…) are named `Check`s; the devices service
asks the area that registered each check, and a check nobody registered refuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from refurb.core.errors import BadInput, Forbidden, InvalidTransition
from refurb.core.i18n import N_
from refurb.core.roles import SUPERVISION as _SUPERVISION
from refurb.core.roles import WORKSHOP as _WORKSHOP
from refurb.core.roles import Role

__all__ = (
    "ENDS_CUSTODY",
    "TAKES_CUSTODY",
    "TRANSITIONS",
    "Action",
    "Check",
    "State",
    "Transition",
    "clean_reason",
    "parse_action",
    "plan",
    "require_role",
)

MAX_REASON_LENGTH = 500


class State(StrEnum):
    """Where a device is in its life."""

    DECLARED = "declared"
    COLLECTED = "collected"
    RECEIVED = "received"
    SANITIZED = "sanitized"
    REFURBISHED = "refurbished"
    LICENSED = "licensed"
    IN_STOCK = "in_stock"
    RESERVED = "reserved"
    DISPATCHED = "dispatched"
    HANDED_OVER = "handed_over"
    RETURNED = "returned"
    REJECTED = "rejected"
    RECYCLED = "recycled"
    MISSING = "missing"

    @property
    def label(self) -> str:
        """English name, a translation id."""
        return _STATE_LABELS[self]


_STATE_LABELS = {
    State.DECLARED: N_("declared"),
    State.COLLECTED: N_("collected"),
    State.RECEIVED: N_("received"),
    State.SANITIZED: N_("data wiped"),
    State.REFURBISHED: N_("refurbished"),
    State.LICENSED: N_("licensed"),
    State.IN_STOCK: N_("in stock"),
    State.RESERVED: N_("reserved"),
    State.DISPATCHED: N_("on a round"),
    State.HANDED_OVER: N_("handed over"),
    State.RETURNED: N_("returned"),
    State.REJECTED: N_("rejected"),
    State.RECYCLED: N_("recycled"),
    State.MISSING: N_("missing"),
}


class Action(StrEnum):
    """A step that moves a device from one state to another."""

    COLLECT = "collect"
    RECEIVE = "receive"
    SANITIZE = "sanitize"
    REFURBISH = "refurbish"
    LICENSE = "license"
    STOCK = "stock"
    RESERVE = "reserve"
    RELEASE = "release"
    DISPATCH = "dispatch"
    UNLOAD = "unload"
    HAND_OVER = "hand_over"
    RETURN = "return"
    REJECT = "reject"
    RECYCLE = "recycle"
    MARK_MISSING = "mark_missing"

    @property
    def label(self) -> str:
        """English verb, a translation id: what a button does."""
        return _ACTION_LABELS[self]

    @property
    def done_label(self) -> str:
        """English past participle, a translation id: what a device's history says was done."""
        return _ACTION_DONE_LABELS[self]


_ACTION_LABELS = {
    Action.COLLECT: N_("collect"),
    Action.RECEIVE: N_("receive"),
    Action.SANITIZE: N_("certify as wiped"),
    Action.REFURBISH: N_("mark refurbished"),
    Action.LICENSE: N_("license"),
    Action.STOCK: N_("put in stock"),
    Action.RESERVE: N_("reserve"),
    Action.RELEASE: N_("release"),
    Action.DISPATCH: N_("load on a round"),
    Action.UNLOAD: N_("unload from a round"),
    Action.HAND_OVER: N_("hand over"),
    Action.RETURN: N_("take back"),
    Action.REJECT: N_("reject"),
    Action.RECYCLE: N_("send to recycling"),
    Action.MARK_MISSING: N_("mark missing"),
}

_ACTION_DONE_LABELS = {
    Action.COLLECT: N_("collected"),
    Action.RECEIVE: N_("received"),
    Action.SANITIZE: N_("certified as wiped"),
    Action.REFURBISH: N_("refurbished"),
    Action.LICENSE: N_("licence assigned"),
    Action.STOCK: N_("put away in stock"),
    Action.RESERVE: N_("reserved"),
    Action.RELEASE: N_("reservation released"),
    Action.DISPATCH: N_("loaded on a round"),
    Action.UNLOAD: N_("unloaded from a round"),
    Action.HAND_OVER: N_("handed over"),
    Action.RETURN: N_("taken back"),
    Action.REJECT: N_("rejected"),
    Action.RECYCLE: N_("sent to recycling"),
    Action.MARK_MISSING: N_("marked missing"),
}


class Check(StrEnum):
    """Evidence a guard needs from another area; that area registers the check."""

    AGREEMENT_SIGNED = "agreement_signed"
    ASSET_TAG_PRINTED = "asset_tag_printed"
    MEDIA_SANITIZED = "media_sanitized"
    TESTS_RECORDED = "tests_recorded"
    LICENCE_ASSIGNED = "licence_assigned"
    LOCATION_CAPACITY = "location_capacity"
    ALLOCATION_APPROVED = "allocation_approved"
    ROUND_OPEN = "round_open"
    HOUSEHOLD_MATCHES = "household_matches"
    HANDOVER_AGREEMENT_ACCEPTED = "handover_agreement_accepted"
    MEDIA_DISPOSED = "media_disposed"
    D3E_RECORDED = "d3e_recorded"
    ERASURE_QC_CLEAR = "erasure_qc_clear"

    @property
    def label(self) -> str:
        """What the check verifies, a translation id."""
        return _CHECK_LABELS[self]

    @property
    def area(self) -> str:
        """The area whose evidence the check reads."""
        return _CHECK_AREAS[self]


_CHECK_LABELS = {
    Check.AGREEMENT_SIGNED: N_("the batch has a signed donation agreement"),
    Check.ASSET_TAG_PRINTED: N_("the device's asset tag is printed"),
    Check.MEDIA_SANITIZED: N_("every data-bearing medium is erased or destroyed"),
    Check.TESTS_RECORDED: N_("the required tests and the grade are recorded"),
    Check.LICENCE_ASSIGNED: N_("a licence or a free OS is assigned"),
    Check.LOCATION_CAPACITY: N_("a location is scanned and has room"),
    Check.ALLOCATION_APPROVED: N_("an approved allocation for a household"),
    Check.ROUND_OPEN: N_("an open distribution round"),
    Check.HOUSEHOLD_MATCHES: N_("the scanned household is the reserved one"),
    Check.HANDOVER_AGREEMENT_ACCEPTED: N_("the household accepted the hand-over agreement"),
    Check.MEDIA_DISPOSED: N_("every medium is sanitized or destroyed"),
    Check.D3E_RECORDED: N_("a D3E recycling record"),
    Check.ERASURE_QC_CLEAR: N_("the batch is not on hold after a failed erasure quality check"),
}

_CHECK_AREAS = {
    Check.AGREEMENT_SIGNED: "intake",
    Check.ASSET_TAG_PRINTED: "printing",
    Check.MEDIA_SANITIZED: "erasure",
    Check.TESTS_RECORDED: "workshop",
    Check.LICENCE_ASSIGNED: "workshop",
    Check.LOCATION_CAPACITY: "stock",
    Check.ALLOCATION_APPROVED: "distribution",
    Check.ROUND_OPEN: "distribution",
    Check.HOUSEHOLD_MATCHES: "distribution",
    Check.HANDOVER_AGREEMENT_ACCEPTED: "distribution",
    Check.MEDIA_DISPOSED: "erasure",
    Check.D3E_RECORDED: "workshop",
    Check.ERASURE_QC_CLEAR: "erasure",
}


@dataclass(frozen=True, slots=True)
class Transition:
    """One row of the transition table."""

    action: Action
    sources: frozenset[State]
    target: State
    roles: frozenset[Role]
    checks: tuple[Check, ...] = ()
    reason_required: bool = False


_IN_CUSTODY = frozenset(
    {
        State.RECEIVED,
        State.SANITIZED,
        State.REFURBISHED,
        State.LICENSED,
        State.IN_STOCK,
        State.RESERVED,
        State.DISPATCHED,
        State.RETURNED,
        State.REJECTED,
    }
)


def _t(
    action: Action,
    sources: set[State],
    target: State,
    roles: frozenset[Role] | set[Role],
    checks: tuple[Check, ...] = (),
    *,
    reason: bool = False,
) -> Transition:
    return Transition(action, frozenset(sources), target, frozenset(roles), checks, reason)


TRANSITIONS: Mapping[Action, Transition] = {
    t.action: t
    for t in (
        _t(Action.COLLECT, {State.DECLARED}, State.COLLECTED,
           {Role.DRIVER, *_SUPERVISION}, (Check.AGREEMENT_SIGNED,)),
        _t(Action.RECEIVE, {State.DECLARED, State.COLLECTED, State.RETURNED}, State.RECEIVED,
           _WORKSHOP, (Check.ASSET_TAG_PRINTED,)),
        _t(Action.SANITIZE, {State.RECEIVED}, State.SANITIZED, _WORKSHOP, (Check.MEDIA_SANITIZED,)),
        _t(Action.REFURBISH, {State.SANITIZED}, State.REFURBISHED, _WORKSHOP,
           (Check.ERASURE_QC_CLEAR, Check.TESTS_RECORDED)),
        _t(Action.LICENSE, {State.REFURBISHED}, State.LICENSED, _WORKSHOP,
           (Check.ERASURE_QC_CLEAR, Check.LICENCE_ASSIGNED)),
        _t(Action.STOCK, {State.LICENSED}, State.IN_STOCK, _WORKSHOP,
           (Check.ERASURE_QC_CLEAR, Check.LOCATION_CAPACITY)),
        _t(Action.RESERVE, {State.IN_STOCK}, State.RESERVED,
           {Role.COORDINATOR, Role.ADMIN}, (Check.ERASURE_QC_CLEAR, Check.ALLOCATION_APPROVED)),
        _t(Action.RELEASE, {State.RESERVED}, State.IN_STOCK,
           {Role.COORDINATOR, Role.ADMIN}, (Check.ALLOCATION_APPROVED,)),
        _t(Action.DISPATCH, {State.RESERVED}, State.DISPATCHED,
           {Role.BUS_STAFF, *_WORKSHOP}, (Check.ERASURE_QC_CLEAR, Check.ROUND_OPEN)),
        _t(Action.UNLOAD, {State.DISPATCHED}, State.RESERVED,
           {Role.BUS_STAFF, *_WORKSHOP}, (Check.ROUND_OPEN,)),
        _t(Action.HAND_OVER, {State.DISPATCHED, State.RESERVED}, State.HANDED_OVER,
           {Role.BUS_STAFF, Role.ADMIN},
           (Check.ERASURE_QC_CLEAR, Check.HOUSEHOLD_MATCHES, Check.HANDOVER_AGREEMENT_ACCEPTED)),
        _t(Action.RETURN, {State.HANDED_OVER}, State.RETURNED, {Role.BUS_STAFF, *_WORKSHOP}, reason=True),
        _t(Action.REJECT, {State.RECEIVED, State.SANITIZED, State.REFURBISHED, State.RETURNED},
           State.REJECTED, _WORKSHOP, reason=True),
        _t(Action.RECYCLE, {State.REJECTED}, State.RECYCLED, _SUPERVISION,
           (Check.MEDIA_DISPOSED, Check.D3E_RECORDED)),
        _t(Action.MARK_MISSING, {State.DECLARED, State.COLLECTED, *_IN_CUSTODY}, State.MISSING,
           _SUPERVISION, reason=True),
    )
}  # fmt: skip


# Whoever performs these takes the device into their organisation's custody;
# these end custody (the household or the recycler has it now).
TAKES_CUSTODY = frozenset({Action.COLLECT, Action.RECEIVE})
ENDS_CUSTODY = frozenset({Action.HAND_OVER, Action.RECYCLE})


def parse_action(name: str) -> Action:
    """The action called `name`, or a refusal listing the known ones."""
    try:
        return Action(name)
    except ValueError:
        raise BadInput(
            N_("'{name}' is not a device action (known: {known})."),
            code="unknown_action",
            name=name[:40],
            known=", ".join(a.value for a in Action),
        ) from None


def clean_reason(payload: Mapping[str, Any]) -> str | None:
    """The stripped `reason` of a payload, refusing one of the wrong type or size."""
    reason = payload.get("reason")
    if reason is None:
        return None
    if not isinstance(reason, str):
        raise BadInput(N_("The reason must be text."), code="bad_reason")
    reason = reason.strip()
    if len(reason) > MAX_REASON_LENGTH:
        raise BadInput(
            N_("The reason is too long ({length} characters, at most {limit})."),
            code="bad_reason",
            length=len(reason),
            limit=MAX_REASON_LENGTH,
        )
    return reason or None


def require_role(action: Action, role: Role) -> Transition:
    """Refuse a role that may not apply `action` at all, whatever the device's state."""
    transition = TRANSITIONS[action]
    if role not in transition.roles:
        raise Forbidden(
            N_("A {role} may not {action} a device."),
            code="action_not_allowed_for_role",
            role=role,
            action=action,
        )
    return transition


def plan(state: State, action: Action, role: Role, payload: Mapping[str, Any]) -> Transition:
    """Decide whether `role` may apply `action` to a device in `state`.

    Returns the transition to apply; the named checks are still to be asked.
    """
    transition = require_role(action, role)
    if state not in transition.sources:
        raise InvalidTransition(
            N_("Cannot {action} a device that is {state}."),
            action=action,
            state=state,
        )
    if transition.reason_required and clean_reason(payload) is None:
        raise BadInput(
            N_("A reason is required to {action} a device."),
            code="reason_required",
            action=action,
        )
    return transition
