"""One way to read a named choice (a stage, a kind, a role) and refuse an unknown one with the known ones."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from refurb.core.errors import BadInput

__all__ = ("parse_choice",)

E = TypeVar("E", bound=StrEnum)


def parse_choice(enum: type[E], value: object, message: str, *, code: str, field: str) -> E:
    """`enum(value)`, or BadInput(`message`) with `{field}` (the value, cut) and `{known}` filled."""
    try:
        return enum(value)
    except ValueError:
        raise BadInput(
            message, code=code, **{field: str(value)[:40]}, known=", ".join(member.value for member in enum)
        ) from None
