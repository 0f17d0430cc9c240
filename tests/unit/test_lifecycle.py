"""The transition table, checked against design §4 written out independently here."""

from __future__ import annotations

import pytest

from refurb.core.errors import BadInput, Forbidden, InvalidTransition
from refurb.core.lifecycle import TRANSITIONS, Action, Check, State, plan
from refurb.core.roles import Role
from refurb.core.stages import STAGE_ACTIONS, Stage, stage_roles
from tests.fixtures.lifecycle import DESIGN

S = State


def test_the_table_is_the_design() -> None:
    assert set(TRANSITIONS) == set(Action) == set(DESIGN)
    for action, (sources, target, guarded, reason) in DESIGN.items():
        transition = TRANSITIONS[action]
        assert transition.sources == sources, action
        assert transition.target is target, action
        assert bool(transition.checks) is guarded, action
        assert transition.reason_required is reason, action


def test_every_check_names_its_area() -> None:
    for check in Check:
        assert check.area in {"intake", "printing", "erasure", "workshop", "stock", "distribution"}
        assert check.label


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("state", list(State))
def test_every_state_action_pair(state: State, action: Action) -> None:
    sources, target, _, reason = DESIGN[action]
    payload = {"reason": "because"} if reason else {}
    if state in sources:
        assert plan(state, action, Role.ADMIN, payload).target is target
    else:
        with pytest.raises(InvalidTransition) as caught:
            plan(state, action, Role.ADMIN, payload)
        assert caught.value.code == "invalid_transition"


@pytest.mark.parametrize("action", [a for a, d in DESIGN.items() if d[3]])
def test_reason_is_required_and_must_be_text(action: Action) -> None:
    state = next(iter(DESIGN[action][0]))
    for payload in ({}, {"reason": ""}, {"reason": "   "}):
        with pytest.raises(BadInput) as caught:
            plan(state, action, Role.ADMIN, payload)
        assert caught.value.code == "reason_required"
    with pytest.raises(BadInput) as caught:
        plan(state, action, Role.ADMIN, {"reason": 42})
    assert caught.value.code == "bad_reason"
    with pytest.raises(BadInput) as caught:
        plan(state, action, Role.ADMIN, {"reason": "x" * 501})
    assert caught.value.code == "bad_reason"


def test_mark_missing_is_for_supervisors_only() -> None:
    for role in Role:
        if role in (Role.SUPERVISOR, Role.ADMIN):
            assert plan(S.RECEIVED, Action.MARK_MISSING, role, {"reason": "lost"}).target is S.MISSING
        else:
            with pytest.raises(Forbidden):
                plan(S.RECEIVED, Action.MARK_MISSING, role, {"reason": "lost"})


def test_donors_and_auditors_cannot_act_at_all() -> None:
    for action in Action:
        assert Role.DONOR not in TRANSITIONS[action].roles
        assert Role.AUDITOR not in TRANSITIONS[action].roles


def test_role_is_checked_before_state() -> None:
    # An auditor learns nothing about the device from a refusal.
    with pytest.raises(Forbidden):
        plan(S.RECYCLED, Action.REJECT, Role.AUDITOR, {})


def test_every_stage_performs_actions_of_its_people() -> None:
    for stage in Stage:
        actions = STAGE_ACTIONS[stage]
        assert actions, stage
        assert stage_roles(stage) == TRANSITIONS[actions[0]].roles
        assert Role.DONOR not in stage_roles(stage)
