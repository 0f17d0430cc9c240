"""What the licence API reads and returns. No model here ever carries a key, except `LicenceOut.key`."""

from __future__ import annotations

import datetime
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from refurb.web.params import MAX_ID

__all__ = (
    "AssignIn",
    "KeyImportOut",
    "KeyProblem",
    "LicenceOut",
    "PoolIn",
    "PoolOut",
    "PoolPatch",
    "ReportRow",
    "UnassignIn",
)


MAX_CENTS = 100_000_000  # €1,000,000 a licence: beyond is a typing mistake
MAX_COUNT = 1_000_000
_CLEARABLE = frozenset({"quantity", "expires_on"})


class PoolIn(BaseModel):
    """Licences bought (or a free OS) under one programme."""

    name: str = Field(min_length=1, max_length=120, examples=["Windows 11 Pro — MAR Citizenship"])
    os: str = Field(min_length=1, max_length=100, examples=["Windows 11 Pro"])
    licence_type: str = Field(min_length=1, max_length=60, examples=["MAR Citizenship"])
    programme: str = Field(default="", max_length=100, examples=["Microsoft Registered Refurbisher"])
    supplier: str = Field(default="", max_length=200)
    unit_cost_cents: int = Field(default=0, ge=0, le=MAX_CENTS)
    quantity: int | None = Field(
        default=None, ge=0, le=MAX_COUNT, description="Keys bought; null for a free OS"
    )
    expires_on: datetime.date | None = None
    needs_key: bool = Field(default=True, description="False: a free OS, no key to type")
    low_stock: int = Field(
        default=10, ge=0, le=MAX_COUNT, description="Warn when fewer keys than this are left"
    )
    active: bool = True


class PoolPatch(BaseModel):
    """The fields to change; the others stay."""

    name: str | None = Field(default=None, min_length=1, max_length=120)
    os: str | None = Field(default=None, min_length=1, max_length=100)
    licence_type: str | None = Field(default=None, min_length=1, max_length=60)
    programme: str | None = Field(default=None, max_length=100)
    supplier: str | None = Field(default=None, max_length=200)
    unit_cost_cents: int | None = Field(default=None, ge=0, le=MAX_CENTS)
    quantity: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    expires_on: datetime.date | None = None
    low_stock: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    active: bool | None = None

    @model_validator(mode="after")
    def _no_null_for_required(self) -> PoolPatch:
        """Only the quantity and the expiry may be cleared; the other columns always hold a value."""
        cleared = sorted(
            name for name in self.model_fields_set if getattr(self, name) is None and name not in _CLEARABLE
        )
        if cleared:
            raise ValueError(f"cannot be null: {', '.join(cleared)}")
        return self


class PoolOut(BaseModel):
    """A pool with its counts; never a key."""

    id: int
    name: str
    os: str
    licence_type: str
    programme: str
    supplier: str
    unit_cost_cents: int
    quantity: int | None
    expires_on: datetime.date | None
    needs_key: bool
    low_stock: int
    active: bool
    available: int = Field(description="Keys not given out yet")
    assigned: int = Field(description="Devices holding a licence of this pool now")
    keys: int = Field(description="Keys imported (available, assigned and void)")
    low: bool = Field(description="A keyed pool with fewer available keys than `low_stock`")
    expired: bool


class KeyProblem(BaseModel):
    """A row of a key file that cannot be imported: its number and why (never its key)."""

    row: int
    code: str = Field(examples=["duplicate_in_file", "duplicate_in_database", "bad_key"])
    message: str
    first_row: int | None = Field(default=None, description="duplicate_in_file: the row it repeats")


class KeyImportOut(BaseModel):
    """What an import read and did; all or nothing."""

    pool: int
    rows: int = Field(description="Keys read from the file")
    imported: int
    dry_run: bool
    errors: list[KeyProblem] = Field(default_factory=list)


class AssignIn(BaseModel):
    """License a device from a pool."""

    device: str = Field(examples=["D-0001234-5"])
    pool: Annotated[int, Field(ge=1, le=MAX_ID)] | str = Field(
        description="Pool id or name",
        json_schema_extra={
            "one_of": [{"type": "integer", "minimum": 1, "maximum": MAX_ID}, {"type": "string"}]
        },
    )
    coa: str | None = Field(default=None, max_length=60, description="COA sticker number, if any")


class LicenceOut(BaseModel):
    """A licence given to a device. `key` is shown this once; it is never readable again."""

    device: str
    display_code: str
    pool: str
    os: str
    licence_type: str
    coa: str | None
    assigned_at: datetime.datetime
    state: str
    key: str | None = Field(default=None, description="The product key, shown once (null: free OS or reused)")
    reused: bool = Field(default=False, description="The device kept the licence it already had")


class UnassignIn(BaseModel):
    """Why the licence is taken back; `void` burns the key instead of returning it to the pool."""

    reason: str = Field(min_length=1, max_length=400)
    void: bool = False


class ReportRow(BaseModel):
    """One licence given: device → pool → COA → dates → household (once handed over)."""

    device: str
    display_code: str
    pool: str
    os: str
    licence_type: str
    programme: str
    coa: str | None
    assigned_at: datetime.datetime
    handed_over_at: datetime.datetime | None
    household: str
    unassigned_at: datetime.datetime | None
    unassign_reason: str
