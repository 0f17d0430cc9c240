"""Station stages: which lifecycle actions a bench performs on a scanned device."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from refurb.core.i18n import N_
from refurb.core.lifecycle import TRANSITIONS, Action
from refurb.core.roles import Role

__all__ = ("STAGE_ACTIONS", "Stage", "stage_roles")


class Stage(StrEnum):
    """The stage a station works at."""

    RECEPTION = "reception"
    ERASURE = "erasure"
    WORKSHOP = "workshop"
    LICENSING = "licensing"
    STOCK = "stock"
    LOADING = "loading"
    HANDOVER = "handover"

    @property
    def label(self) -> str:
        """English name, a translation id."""
        return _LABELS[self]


_LABELS = {
    Stage.RECEPTION: N_("reception"),
    Stage.ERASURE: N_("data erasure"),
    Stage.WORKSHOP: N_("workshop"),
    Stage.LICENSING: N_("licensing"),
    Stage.STOCK: N_("stock"),
    Stage.LOADING: N_("bus loading"),
    Stage.HANDOVER: N_("hand-over"),
}

# The first action is what a plain scan does; the others are modes the
# operator picks on the station page before scanning.
STAGE_ACTIONS: Mapping[Stage, tuple[Action, ...]] = {
    Stage.RECEPTION: (Action.RECEIVE, Action.REJECT, Action.MARK_MISSING),
    Stage.ERASURE: (Action.SANITIZE, Action.REJECT),
    Stage.WORKSHOP: (Action.REFURBISH, Action.REJECT),
    Stage.LICENSING: (Action.LICENSE, Action.REJECT),
    Stage.STOCK: (Action.STOCK, Action.MARK_MISSING),
    Stage.LOADING: (Action.DISPATCH, Action.UNLOAD),
    Stage.HANDOVER: (Action.HAND_OVER, Action.RETURN),
}


def stage_roles(stage: Stage) -> frozenset[Role]:
    """Roles that may work at a station of `stage`: anyone allowed its main action."""
    return TRANSITIONS[STAGE_ACTIONS[stage][0]].roles
