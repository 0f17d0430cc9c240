"""The serial counters behind minted codes."""

from __future__ import annotations

from piccolo.columns import Integer, Varchar

from refurb.timestamps import Timestamped

__all__ = ("TABLES", "CodeCounter")


class CodeCounter(Timestamped):
    """Last serial handed out per code type; bumped in the minting transaction."""

    letter = Varchar(length=1, unique=True)
    last_serial = Integer(default=0)


#: This area's tables, registered with the database by `wiring` (in dependency order).
TABLES = (CodeCounter,)
