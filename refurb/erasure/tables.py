"""Data-bearing media, tool reports, erasure records, reviews, quality checks, certificates."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    BigInt,
    Boolean,
    Bytea,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.reference import LazyTableReference

from refurb.accounts.tables import Organisation, User
from refurb.devices.tables import Device
from refurb.stations.tables import Station
from refurb.timestamps import Timestamped

BATCH = LazyTableReference("Batch", module_path="refurb.intake.tables")  # intake's, named not imported

__all__ = (
    "TABLES",
    "Certificate",
    "ErasurePolicy",
    "ErasureRecord",
    "ErasureReport",
    "ErasureReview",
    "Medium",
    "MediumKindDecision",
    "NoMediaAttestation",
    "QualityCheck",
)


class Medium(Timestamped):
    """A disk or other data-bearing part of a device, and where we learnt of it."""

    device = ForeignKey(references=Device, on_delete=OnDelete.restrict, null=False, index=True)
    kind = Varchar(length=12, default="unknown")  # hdd, ssd, nvme, emmc, usb, sd, other, unknown
    # what each source says of the kind ("" = nothing); `kind` is decided from them (erasure.kinds)
    tool_kind = Varchar(length=12, default="")  # the wiping tool's flag or the bus
    declared_kind = Varchar(length=12, default="")  # the donor's manifest
    confirmed_kind = Varchar(length=12, default="")  # a person's latest decision (MediumKindDecision)
    kind_basis = Varchar(length=16, default="none")  # tool, model, technician, manifest, disagreement, none
    interface = Varchar(length=20, default="")
    manufacturer = Varchar(length=100, default="")
    model = Varchar(length=200, default="")
    serial = Varchar(length=100, null=True, default=None, index=True)
    capacity_bytes = BigInt(null=True, default=None)
    source = Varchar(length=12)  # "declared" (manifest), "detected" (tool report), "technician", "new"
    detected = Boolean(default=False)  # a tool report or a technician has seen it in the device
    absent_reason = Text(null=True, default=None)  # declared but not in the device (supervisor)


class MediumKindDecision(Timestamped):
    """A person's decision on a medium's kind (a technician: "this disk spins").

    Never updated: a supervisor's review is a later row, approving (`kind`
    repeated) or revoking (`kind` "").
    """

    medium = ForeignKey(references=Medium, on_delete=OnDelete.restrict, null=False, index=True)
    kind = Varchar(length=12)  # hdd, ssd, …; "" revokes the earlier decision
    reviews = ForeignKey(references="MediumKindDecision", on_delete=OnDelete.restrict, null=True)
    note = Text(default="")
    decided_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    decider_name = Varchar(length=80, default="")
    decider_role = Varchar(length=20, default="")


class ErasureReport(Timestamped):
    """A wiping tool's report exactly as uploaded; its sha256 recognises a second upload."""

    sha256 = Varchar(length=64, unique=True)
    format = Varchar(length=20, default="")  # nwipe_log, workbench_v10, workbench_v11, usody_sanitize
    filename = Varchar(length=255, default="")
    content = Bytea()
    size = Integer()
    tool = Varchar(length=40, default="")
    tool_version = Varchar(length=40, default="")
    status = Varchar(length=12)  # matched, partial, unmatched, unreadable
    problems = JSON(default=[])  # why the report is incomplete
    unmatched = JSON(default=[])  # media of the report that became no record, with the reason
    device = ForeignKey(references=Device, on_delete=OnDelete.restrict, null=True)  # scanned first
    uploaded_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    uploader_name = Varchar(length=80, default="")
    station = ForeignKey(references=Station, on_delete=OnDelete.restrict, null=True)


class ErasureRecord(Timestamped):
    """What was done to one medium. Never updated nor deleted: a correction supersedes."""

    medium = ForeignKey(references=Medium, on_delete=OnDelete.restrict, null=False, index=True)
    device = ForeignKey(references=Device, on_delete=OnDelete.restrict, null=False, index=True)
    report = ForeignKey(references=ErasureReport, on_delete=OnDelete.restrict, null=True)
    supersedes = ForeignKey(references="ErasureRecord", on_delete=OnDelete.restrict, null=True)
    category = Varchar(length=8)  # clear, purge, destroy, none
    technique = Varchar(length=20)  # overwrite, block_erase, crypto_erase, firmware_sanitize, shred, …
    method_label = Varchar(length=120, default="")
    passes = Integer(null=True, default=None)
    pattern = Varchar(length=40, default="")
    verification = Varchar(length=16, default="unknown")  # all, last, sample, firmware_status, visual, none
    verification_result = Varchar(length=10, default="unknown")  # passed, failed, not_done, unknown
    tool = Varchar(length=40, default="")
    tool_version = Varchar(length=40, default="")
    started_at = Timestamptz(null=True, default=None)
    ended_at = Timestamptz(null=True, default=None)
    bytes_erased = BigInt(null=True, default=None)
    bytes_total = BigInt(null=True, default=None)
    errors = JSON(default={})
    result = Varchar(length=10)  # success, failed, aborted, partial, unknown
    hpa_dco = Varchar(length=20, default="")
    serial_seen = Varchar(length=100, null=True, default=None)
    warnings = JSON(default=[])
    details = JSON(default={})  # method details; for destruction: method, facility, witness, evidence
    review = Varchar(length=60, default="")  # why a supervisor must look at it first ("" = not needed)
    operator = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    operator_name = Varchar(length=80, default="")
    station = ForeignKey(references=Station, on_delete=OnDelete.restrict, null=True)
    record_hash = Varchar(length=64)


class ErasureReview(Timestamped):
    """A supervisor's decision on a record waiting for review."""

    record = ForeignKey(references=ErasureRecord, on_delete=OnDelete.restrict, null=False, unique=True)
    decision = Varchar(length=10)  # approved, rejected
    note = Text(default="")
    reviewer = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    reviewer_name = Varchar(length=80, default="")


class NoMediaAttestation(Timestamped):
    """A technician's statement that a device holds no data-bearing media (a monitor, a 4G key)."""

    device = ForeignKey(references=Device, on_delete=OnDelete.restrict, null=False, unique=True)
    note = Text(default="")
    attested_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    attester_name = Varchar(length=80, default="")


class ErasurePolicy(Timestamped):
    """What an organisation's media must reach; without a row the safe default applies."""

    organisation = ForeignKey(references=Organisation, on_delete=OnDelete.restrict, null=False, unique=True)
    rules = JSON(default={})
    qc_rate_percent = Integer(default=5)


class QualityCheck(Timestamped):
    """An independent re-verification of a logically erased medium, drawn at random."""

    record = ForeignKey(references=ErasureRecord, on_delete=OnDelete.restrict, null=False, unique=True)
    medium = ForeignKey(references=Medium, on_delete=OnDelete.restrict, null=False)
    batch = ForeignKey(references=BATCH, on_delete=OnDelete.restrict, null=True, index=True)
    week = Varchar(length=8)  # ISO week the draw was made for, e.g. 2026-W48
    result = Varchar(length=8, default="pending")  # pending, passed, failed
    note = Text(default="")
    checked_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    checker_name = Varchar(length=80, default="")
    checked_at = Timestamptz(null=True, default=None)


class Certificate(Timestamped):
    """A signed erasure certificate (C code) for a device or a batch; versions supersede."""

    code = Varchar(length=9, unique=True)
    kind = Varchar(length=6)  # device, batch
    batch = ForeignKey(references=BATCH, on_delete=OnDelete.restrict, null=True, index=True)
    device = ForeignKey(references=Device, on_delete=OnDelete.restrict, null=True, index=True)
    donor = ForeignKey(references=Organisation, on_delete=OnDelete.restrict, null=True, index=True)
    version = Integer(default=1)
    supersedes = ForeignKey(references="Certificate", on_delete=OnDelete.restrict, null=True)
    envelope = Text()  # the signed JSON, canonical bytes as text
    envelope_sha256 = Varchar(length=64, index=True)
    pdf = Bytea()
    pdf_sha256 = Varchar(length=64, index=True)
    key_id = Varchar(length=16)
    issued_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    issuer_name = Varchar(length=80, default="")
    devices = Integer(default=0)
    media = Integer(default=0)
    status = Varchar(length=10, default="valid")  # valid, superseded, revoked
    status_reason = Text(default="")
    status_changed_at = Timestamptz(null=True, default=None)


#: This area's tables, registered with the database by `wiring` (in dependency order).
TABLES = (
    Medium,
    MediumKindDecision,
    ErasureReport,
    ErasureRecord,
    ErasureReview,
    NoMediaAttestation,
    ErasurePolicy,
    QualityCheck,
    Certificate,
)
