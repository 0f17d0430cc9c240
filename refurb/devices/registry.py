"""What the areas contribute to the spine: checks, effects, and the codes of what a device points at.

The spine never imports an area. An area registers, from its `register()`
called by `wiring.wire()`:
- the checks it can answer (`register_check`), each optionally with a bulk
  form that judges many devices in a few queries (a folder of wiping reports,
  a whole batch collected);
- the effects that follow an action inside its transaction (`register_effect`),
  each optionally with a bulk form that follows many devices in a few statements;
- how to read the codes of what a device row points at (`register_reference`:
  its batch, its location, the station of an event). Codes never change once
  minted, so they are cached for the life of the process;
- what it shows on the device's page (`register_section`: the workshop's grade
  and tests, say), so the page tells what each stage recorded without the spine
  knowing the stages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from refurb.core.errors import DomainError, GuardNotAvailable
from refurb.core.i18n import N_
from refurb.core.lifecycle import Action, Check
from refurb.core.principal import Principal
from refurb.devices.model import CheckContext
from refurb.devices.schemas import DeviceOut
from refurb.devices.tables import Device

__all__ = (
    "BulkCheckFn",
    "BulkEffectFn",
    "CheckFn",
    "DeviceSection",
    "EffectFn",
    "Reference",
    "SectionFn",
    "codes_of",
    "has_effects",
    "id_of",
    "refusals",
    "register_check",
    "register_effect",
    "register_reference",
    "register_section",
    "run_effects",
    "sections_for",
)

CheckFn = Callable[[CheckContext], Awaitable[None]]
#: A bulk check answers for many devices at once: the refusal of each device it refuses, by device id.
BulkCheckFn = Callable[[Sequence[CheckContext]], Awaitable[Mapping[int, DomainError]]]
#: An effect may return what it changed on the device row (e.g. its new location), or None.
EffectFn = Callable[[CheckContext], Awaitable[Mapping[str, Any] | None]]
#: A bulk effect follows many moved devices at once: what it changed on each device row, by device id.
BulkEffectFn = Callable[[Sequence[CheckContext]], Awaitable[Mapping[int, Mapping[str, Any]]]]
Reference = Literal["device", "batch", "location", "station"]
CodesFn = Callable[[Sequence[int]], Awaitable[Mapping[int, str]]]
FindFn = Callable[[str], Awaitable[int | None]]

_checks: dict[Check, tuple[CheckFn, BulkCheckFn | None]] = {}
_effects: dict[Action, list[EffectFn]] = {}
_bulk_effects: dict[EffectFn, BulkEffectFn] = {}
_codes: dict[str, CodesFn] = {}
_finders: dict[str, FindFn] = {}
_cache: dict[str, dict[int, str]] = {}
MAX_CACHED = 200_000


@dataclass(frozen=True, slots=True)
class DeviceSection:
    """A part of the device page an area fills.

    Its heading, its template (under the area's `templates/`) and what that
    template reads as `section.data`.
    """

    title: str
    template: str
    data: Mapping[str, Any] = field(default_factory=dict)


#: A section provider answers for one device (None: nothing to show for it).
SectionFn = Callable[[DeviceOut, Principal], Awaitable[DeviceSection | None]]
_sections: dict[str, SectionFn] = {}


def register_check(check: Check, fn: CheckFn, *, bulk: BulkCheckFn | None = None) -> None:
    """An area declares it can verify `check`: `fn` raises a `DomainError` to say no.

    `bulk`, when given, must refuse exactly the devices `fn` would refuse
    (tests hold each area to it); it is used when many devices move at once.
    """
    _checks[check] = (fn, bulk)


def register_effect(action: Action, fn: EffectFn, *, bulk: BulkEffectFn | None = None) -> None:
    """An area follows up `action` on a device (a reject frees its licence, a put-away places it).

    The effect runs once the compare-and-set has won, inside the same write
    transaction: if it raises, the transition is rolled back with it. `bulk`,
    when given, must do for many devices what `fn` does for each; it is used
    when many devices move at once.
    """
    if fn not in _effects.setdefault(action, []):
        _effects[action].append(fn)
    if bulk is not None:
        _bulk_effects[fn] = bulk


def has_effects(action: Action) -> bool:
    """Whether an action is followed by effects (its transition then needs a transaction)."""
    return bool(_effects.get(action))


def _missing(check: Check) -> GuardNotAvailable:
    return GuardNotAvailable(
        N_("Refused: Refurb cannot verify yet that {check} (this check comes with the {area} area)."),
        check=check,
        area=check.area,
    )


async def refusals(check: Check, contexts: Sequence[CheckContext]) -> dict[int, DomainError]:
    """The devices `check` refuses, by device id, with why; the bulk form when there are several."""
    registered = _checks.get(check)
    if registered is None:
        return {context.device.id: _missing(check) for context in contexts}
    fn, bulk = registered
    if bulk is not None and len(contexts) > 1:
        return dict(await bulk(contexts))
    refused: dict[int, DomainError] = {}
    for context in contexts:
        try:
            await fn(context)
        except DomainError as error:
            refused[context.device.id] = error
    return refused


async def run_effects(action: Action, contexts: Sequence[CheckContext]) -> dict[int, dict[str, Any]]:
    """Run the action's effects for each moved device; what they changed, by device id."""
    changed: dict[int, dict[str, Any]] = {}
    for fn in _effects.get(action, ()):
        bulk = _bulk_effects.get(fn)
        if bulk is not None and len(contexts) > 1:
            for device_id, update in (await bulk(contexts)).items():
                if update:
                    changed.setdefault(device_id, {}).update(update)
            continue
        for context in contexts:
            update = await fn(context)
            if update:
                changed.setdefault(context.device.id, {}).update(update)
    return changed


def register_reference(name: Reference, codes: CodesFn, find: FindFn | None = None) -> None:
    """The area that owns `name` says how to read codes by id (and, optionally, an id by code)."""
    _codes[name] = codes
    if find is not None:
        _finders[name] = find


async def _device_codes(ids: Sequence[int]) -> dict[int, str]:
    rows = await Device.select(Device.id, Device.code).where(Device.id.is_in(list(ids)))
    return {row["id"]: row["code"] for row in rows}


async def codes_of(name: Reference, ids: Sequence[int | None]) -> dict[int, str]:
    """The codes of these ids (cached: a code never changes once minted); unknown ids are left out.

    `device` is the spine's own; the other references are the areas' (`register_reference`).
    """
    cache = _cache.setdefault(name, {})
    wanted = sorted({i for i in ids if i is not None and i not in cache})
    reader = _device_codes if name == "device" else _codes.get(name)
    if wanted and reader is not None:
        if len(cache) > MAX_CACHED:
            cache.clear()
        cache.update(await reader(wanted))
    return {i: cache[i] for i in ids if i is not None and i in cache}


async def id_of(name: Reference, code: str) -> int | None:
    """The id of the thing with this code, or None when nobody knows it."""
    finder = _finders.get(name)
    return await finder(code) if finder is not None else None


def register_section(name: str, provider: SectionFn) -> None:
    """An area adds a section to the device page (registered again under the same name, it is replaced)."""
    _sections[name] = provider


async def sections_for(device: DeviceOut, principal: Principal) -> list[DeviceSection]:
    """The device page's sections from the areas, in the order they were registered."""
    shown = []
    for provider in _sections.values():
        section = await provider(device, principal)
        if section is not None:
            shown.append(section)
    return shown
