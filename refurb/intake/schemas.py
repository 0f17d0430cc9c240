"""What the intake API reads and returns: agreements, batches, manifest imports, collection."""

from __future__ import annotations

import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from refurb.core.i18n import N_
from refurb.core.kinds import DeviceKind

__all__ = (
    "AgreementIn",
    "AgreementOut",
    "BatchIn",
    "BatchOut",
    "BatchPatch",
    "BatchState",
    "CloseIn",
    "CollectionIn",
    "ImportReport",
    "ProblemOut",
    "ReconciliationOut",
    "ReconciliationRow",
    "ScheduleIn",
)

MAX_PER_KIND = 100_000


class BatchState(StrEnum):
    """Where a donation stands: draft → submitted → scheduled → collected → received → closed."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    SCHEDULED = "scheduled"
    COLLECTED = "collected"
    RECEIVED = "received"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        """English name, a translation id."""
        return _STATE_LABELS[self]


_STATE_LABELS = {
    BatchState.DRAFT: N_("draft"),
    BatchState.SUBMITTED: N_("submitted"),
    BatchState.SCHEDULED: N_("pickup scheduled"),
    BatchState.COLLECTED: N_("collected"),
    BatchState.RECEIVED: N_("being received"),
    BatchState.CLOSED: N_("closed"),
}

Counts = dict[DeviceKind, Annotated[int, Field(ge=0, le=MAX_PER_KIND)]]
#: The OpenAPI of `Counts` (Litestar leaves out the bound of a dict's values).
_COUNTS_SCHEMA = {
    "type": "object",
    "additionalProperties": {"type": "integer", "minimum": 0, "maximum": MAX_PER_KIND},
}


def _clean_counts(value: dict[DeviceKind, int]) -> dict[DeviceKind, int]:
    for kind, count in value.items():
        if not 0 <= count <= MAX_PER_KIND:
            raise ValueError(f"{kind}: a count is between 0 and {MAX_PER_KIND}")
    return {kind: count for kind, count in value.items() if count}


class BatchPatch(BaseModel):
    """What a donor tells about a donation; every field optional when changing it."""

    reference: str | None = Field(default=None, max_length=100, description="The donor's own reference")
    site_address: str | None = Field(default=None, max_length=1000, description="Pickup site address")
    contact_name: str | None = Field(default=None, max_length=200)
    contact_phone: str | None = Field(default=None, max_length=40)
    declared: Counts | None = Field(
        default=None,
        description="Devices per kind, as announced",
        json_schema_extra={"one_of": [_COUNTS_SCHEMA, {"type": "null"}]},
    )
    pickup_from: datetime.date | None = Field(default=None, description="Requested pickup window: first day")
    pickup_to: datetime.date | None = Field(default=None, description="Requested pickup window: last day")
    notes: str | None = Field(default=None, max_length=4000)

    @field_validator("declared")
    @classmethod
    def _declared(cls, value: Counts | None) -> Counts | None:
        return _clean_counts(value) if value is not None else None

    @model_validator(mode="after")
    def _window(self) -> BatchPatch:
        if self.pickup_from and self.pickup_to and self.pickup_to < self.pickup_from:
            raise ValueError("the pickup window ends before it starts")
        return self


class BatchIn(BatchPatch):
    """A new batch; staff name the donor organisation, a donor's own is implied."""

    donor: str | None = Field(default=None, max_length=200, description="Donor organisation (staff only)")


class BatchOut(BaseModel):
    """A batch as other areas and the API see it."""

    id: int
    code: str
    display_code: str
    donor: str
    donor_id: int
    reference: str | None
    state: BatchState
    site_address: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    declared: dict[str, int] = Field(default_factory=dict)
    pickup_from: datetime.date | None = None
    pickup_to: datetime.date | None = None
    pickup_date: datetime.date | None = None
    notes: str = ""
    collection: dict[str, Any] = Field(default_factory=dict)
    discrepancy: dict[str, Any] = Field(default_factory=dict, description="Kinds counted apart at pickup")
    submitted_at: datetime.datetime | None = None
    scheduled_at: datetime.datetime | None = None
    collected_at: datetime.datetime | None = None
    received_at: datetime.datetime | None = None
    closed_at: datetime.datetime | None = None
    created_at: datetime.datetime | None = None

    @property
    def announced(self) -> int:
        """Devices the donor announced in the batch form."""
        return sum(self.declared.values())


class ScheduleIn(BaseModel):
    """The operator sets the pickup date."""

    pickup_date: datetime.date


class CollectionIn(BaseModel):
    """What the driver records at pickup."""

    counts: Counts = Field(
        description="Devices counted per kind",
        json_schema_extra={"additional_properties": _COUNTS_SCHEMA["additionalProperties"]},
    )
    seals: list[str] = Field(default_factory=list, max_length=50, description="Seal numbers")
    signer_name: str = Field(min_length=1, max_length=200, description="The donor's person who signs off")
    vehicle: str = Field(default="", max_length=40, description="Vehicle registration")
    collected_at: datetime.datetime | None = Field(default=None, description="Default: now")

    @field_validator("counts")
    @classmethod
    def _counts(cls, value: Counts) -> Counts:
        return _clean_counts(value)

    @field_validator("seals")
    @classmethod
    def _seals(cls, value: list[str]) -> list[str]:
        seals = [s.strip() for s in value if s.strip()]
        if any(len(s) > 40 for s in seals):
            raise ValueError("a seal number is at most 40 characters")
        return seals

    @field_validator("signer_name")
    @classmethod
    def _signer(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the signer's name is required")
        return value.strip()


class CloseIn(BaseModel):
    """Closing a batch: devices never received become missing, for this reason."""

    reason: str = Field(min_length=1, max_length=500)


class AgreementIn(BaseModel):
    """Signing the donation agreement in the portal: typed name, explicit consent."""

    signatory_name: str = Field(min_length=2, max_length=200)
    signatory_title: str = Field(default="", max_length=200)
    accept: bool = Field(description="Must be true: the signatory accepts the terms")
    terms_version: str = Field(max_length=20, description="The version of the terms shown")


class AgreementOut(BaseModel):
    """A donor's signed agreement."""

    id: int
    donor: str
    terms_version: str
    signatory_name: str
    signatory_title: str
    signed_at: datetime.datetime
    method: Literal["portal", "upload"]
    data_processing_clause: bool
    document_name: str | None = None
    document_sha256: str | None = None
    signed_by: str | None = None


class ProblemOut(BaseModel):
    """One problem in a manifest: where, what, how bad."""

    row: int = Field(description="Row number as a spreadsheet shows it (the header is usually row 1)")
    column: str | None
    code: str
    message: str
    severity: Literal["error", "warning"]


class ImportReport(BaseModel):
    """How a manifest was read and what importing it did (or would do)."""

    id: int
    batch: str
    filename: str
    sha256: str
    size: int
    format: str
    encoding: str
    delimiter: str
    profile: str
    header_row: int
    mapping: dict[str, str] = Field(description="Field → the file's column")
    columns: list[str] = Field(description="Every column of the file")
    mode: Literal["dry_run", "all", "valid_only"]
    status: Literal["checked", "imported", "refused"]
    rows: int
    valid: int
    invalid: int
    warnings: int
    created: int = Field(description="Devices added (or that would be)")
    updated: int = Field(description="Devices already known, updated (or that would be)")
    problems: list[ProblemOut]
    problems_total: int
    created_at: datetime.datetime


class ReconciliationRow(BaseModel):
    """Counts for one device kind (or the total)."""

    kind: str
    announced: int = Field(description="In the batch form")
    declared: int = Field(description="Manifest lines")
    collected: int = Field(description="Counted at pickup")
    received: int = Field(description="Received at the workshop, in the manifest or not")
    not_in_manifest: int
    missing: int = Field(description="Declared, never received (counted once the batch is closed)")
    awaiting: int = Field(description="Declared, not received yet")


class ReconciliationOut(BaseModel):
    """Declared / collected / received / not in manifest / missing, per kind."""

    batch: str
    state: BatchState
    frozen: bool = Field(description="True once the batch is closed: these numbers no longer change")
    rows: list[ReconciliationRow]
    total: ReconciliationRow
