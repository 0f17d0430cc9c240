"""The lists a workshop configures: OS images it installs, software profiles it sets up."""

from __future__ import annotations

from refurb.core.errors import BadInput, Conflict, NotFound
from refurb.core.i18n import N_
from refurb.db import UNIQUE_VIOLATIONS, write_transaction
from refurb.workshop.schemas import ChoiceIn, ChoiceList, ChoiceOut
from refurb.workshop.tables import WorkshopChoice

__all__ = ("DEFAULTS", "active_names", "add", "list_choices", "require", "set_active")

#: What a new installation offers until the workshop edits its lists.
DEFAULTS: dict[str, tuple[str, ...]] = {
    "os_image": ("Windows 11 Pro", "Windows 10 Pro", "Linux Mint 22", "Ubuntu 24.04 LTS", "PrimTux 8"),
    "software_profile": (
        "Bureautique (LibreOffice, navigateur, lecteur PDF)",
        "Scolaire (ENT, bureautique, contrôle parental)",
        "Jeunes enfants (PrimTux, contrôle parental)",
        "Recherche d'emploi (bureautique, visio, France Travail)",
    ),
}

_LIST_NAMES = {"os_image": N_("OS image"), "software_profile": N_("software profile")}


def _out(row: dict) -> ChoiceOut:
    return ChoiceOut(id=row["id"], list=row["list"], name=row["name"], active=bool(row["active"]))


async def _seed_defaults() -> None:
    """A fresh database gets the default lists once, so a bench works from day one."""
    if await WorkshopChoice.count() > 0:
        return
    rows = [WorkshopChoice(list=name, name=entry) for name, entries in DEFAULTS.items() for entry in entries]
    try:
        async with write_transaction():
            if await WorkshopChoice.count() == 0:
                await WorkshopChoice.insert(*rows)
    except UNIQUE_VIOLATIONS:  # another request seeded them first
        pass


async def list_choices(list_name: ChoiceList | None = None) -> list[ChoiceOut]:
    """Every entry (active or not), by list then name."""
    await _seed_defaults()
    query = WorkshopChoice.select().order_by(WorkshopChoice.list).order_by(WorkshopChoice.name)
    if list_name is not None:
        query = query.where(WorkshopChoice.list == list_name)
    return [_out(r) for r in await query]


async def active_names(list_name: ChoiceList) -> list[str]:
    """What a technician may pick."""
    return [c.name for c in await list_choices(list_name) if c.active]


async def require(list_name: ChoiceList, name: str | None) -> str:
    """`name` if it is an active entry of the list ("" when none is given)."""
    if not name:
        return ""
    names = await active_names(list_name)
    if name not in names:
        raise BadInput(
            N_("'{name}' is not in the list of {list} (known: {known})."),
            code="unknown_choice",
            name=name[:100],
            list=_LIST_NAMES[list_name],
            known=", ".join(names),
        )
    return name


async def add(data: ChoiceIn) -> ChoiceOut:
    """A new entry; a name already in the list is refused."""
    await _seed_defaults()
    name = data.name.strip()
    if not name:
        raise BadInput(N_("The name is empty."), code="bad_choice")
    try:
        async with write_transaction():
            rows = await WorkshopChoice.insert(WorkshopChoice(list=data.list, name=name, active=data.active))
    except UNIQUE_VIOLATIONS:
        raise Conflict(
            N_("'{name}' is already in the list of {list}."),
            code="choice_exists",
            name=name,
            list=_LIST_NAMES[data.list],
        ) from None
    row = await WorkshopChoice.select().where(WorkshopChoice.id == rows[0]["id"]).first()
    return _out(row)


async def set_active(choice_id: int, active: bool) -> ChoiceOut:
    """Withdraw an entry (past passes keep its name) or bring it back."""
    async with write_transaction():
        await WorkshopChoice.update({WorkshopChoice.active: active}).where(WorkshopChoice.id == choice_id)
    row = await WorkshopChoice.select().where(WorkshopChoice.id == choice_id).first()
    if row is None:
        raise NotFound(N_("No list entry #{id}."), id=choice_id)
    return _out(row)
