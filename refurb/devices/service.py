"""The devices service: the spine's one public door (reading, recording, transitions, registration).

Its parts live beside it: `queries` (reading), `records` (what is recorded
besides state), `transitions` (the ONE writer of state), `registry` (what the
areas contribute), `model` (the shapes they exchange).
"""

from __future__ import annotations

from refurb.devices.model import Actor, CheckContext, DeviceRow, DonorDevice, NewDevice, TransitionResult
from refurb.devices.queries import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    MAX_SEARCH,
    batch_census,
    batch_devices,
    codes_in_batch,
    count_in_states,
    counts_by_batch,
    counts_by_state,
    device_ref,
    device_refs,
    donor_devices,
    events,
    events_of,
    events_since,
    find_by_alias,
    find_by_serials,
    find_in_batch,
    get,
    get_facts,
    last_action_at,
    list_devices,
)
from refurb.devices.records import (
    LABEL_PRINTED,
    MOVE,
    move,
    note_labels_printed,
    place,
    register,
    register_many,
    set_facts,
    set_hardware,
    update_descriptions,
)
from refurb.devices.registry import codes_of, id_of, register_check, register_effect, register_reference
from refurb.devices.transitions import transition, transition_batch, transition_many

__all__ = (
    "DEFAULT_PAGE_SIZE",
    "LABEL_PRINTED",
    "MAX_PAGE",
    "MAX_PAGE_SIZE",
    "MAX_SEARCH",
    "MOVE",
    "Actor",
    "CheckContext",
    "DeviceRow",
    "DonorDevice",
    "NewDevice",
    "TransitionResult",
    "batch_census",
    "batch_devices",
    "codes_in_batch",
    "codes_of",
    "count_in_states",
    "counts_by_batch",
    "counts_by_state",
    "device_ref",
    "device_refs",
    "donor_devices",
    "events",
    "events_of",
    "events_since",
    "find_by_alias",
    "find_by_serials",
    "find_in_batch",
    "get",
    "get_facts",
    "id_of",
    "last_action_at",
    "list_devices",
    "move",
    "note_labels_printed",
    "place",
    "register",
    "register_check",
    "register_effect",
    "register_many",
    "register_reference",
    "set_facts",
    "set_hardware",
    "transition",
    "transition_batch",
    "transition_many",
    "update_descriptions",
)
