"""Minting codes: the next serials of a type, handed out inside a write transaction."""

from __future__ import annotations

from refurb.codes.tables import CodeCounter
from refurb.core.codes import MAX_SERIAL, Code, CodeType, make_code
from refurb.core.errors import Conflict
from refurb.core.i18n import N_

__all__ = ("mint",)


async def mint(code_type: CodeType, count: int = 1) -> list[Code]:
    """Reserve `count` consecutive serials of `code_type`.

    Call it inside the write transaction that stores the things: the counter row
    stays locked until commit, so two writers never get the same serial, and a
    rolled-back transaction gives its serials back.
    """
    if count < 1:
        return []
    await CodeCounter.insert(CodeCounter(letter=code_type.value, last_serial=0)).on_conflict(
        target=CodeCounter.letter, action="DO NOTHING"
    )
    rows = await (
        CodeCounter.update({CodeCounter.last_serial: CodeCounter.last_serial + count})
        .where(CodeCounter.letter == code_type.value)
        .returning(CodeCounter.last_serial)
    )
    last = rows[0]["last_serial"]
    if last > MAX_SERIAL:
        raise Conflict(
            N_("No {kind} codes are left: the {letter} serials are used up."),
            code="codes_exhausted",
            kind=code_type,
            letter=code_type.value,
        )
    return [make_code(code_type, serial) for serial in range(last - count + 1, last + 1)]
