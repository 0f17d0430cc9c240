"""Piccolo's own CLI configuration, for developers: `PICCOLO_CONF=refurb.piccolo_conf piccolo …`.

`refurb.db` is the runtime configuration; it knows no area's tables until
they register. Piccolo's `migrations new --auto` must see them all, so this
module wires the house first (it sits on top, beside `app` and `wiring`).
"""

from __future__ import annotations

from typing import Any

from refurb import db
from refurb.wiring import wire

wire()

APP_REGISTRY = db.APP_REGISTRY


def __getattr__(name: str) -> Any:
    """`DB` is the engine in use now (the tests swap it)."""
    if name == "DB":
        return db.DB
    raise AttributeError(name)
