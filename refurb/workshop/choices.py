"""The lists a workshop configures: OS images it installs, software profiles it sets up."""

from __future__ import annotations

from refurb.core.errors import BadInput, Conflict, NotFound
from refurb.core.i18n import N_
from refurb.db import UNIQUE_VIOLATIONS, write_transaction
from refurb.workshop.schemas import ChoiceIn, ChoiceList, ChoiceOut
from refurb.workshop.tables import WorkshopChoice

__all__ = ("active", "active_names", "add", "list_choices", "require", "set_active")

_LIST_NAMES = {"os_image": N_("OS image"), "software_profile": N_("software profile")}


def _out(row: dict) -> ChoiceOut:
    return ChoiceOut(id=row["id"], list=row["list"], name=row["name"], active=bool(row["active"]))


async def list_choices(list_name: ChoiceList | None = None) -> list[ChoiceOut]:
    """Every entry (active or not), by list then name (a fresh database has the defaults of a migration)."""
    query = WorkshopChoice.select().order_by(WorkshopChoice.list).order_by(WorkshopChoice.name)
    if list_name is not None:
        query = query.where(WorkshopChoice.list == list_name)
    return [_out(r) for r in await query]


async def active_names(list_name: ChoiceList) -> list[str]:
    """What a technician may pick."""
    return (await active())[list_name]


async def active() -> dict[str, list[str]]:
    """Every list's active entries, from one read."""
    rows = (
        await WorkshopChoice.select(WorkshopChoice.list, WorkshopChoice.name)
        .where(WorkshopChoice.active == True)  # noqa: E712 - a Piccolo expression
        .order_by(WorkshopChoice.name)
    )
    found: dict[str, list[str]] = {name: [] for name in _LIST_NAMES}
    for row in rows:
        found[row["list"]].append(row["name"])
    return found


def require(lists: dict[str, list[str]], list_name: ChoiceList, name: str | None) -> str:
    """`name` if it is an active entry of the list ("" when none is given)."""
    if not name:
        return ""
    names = lists[list_name]
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
