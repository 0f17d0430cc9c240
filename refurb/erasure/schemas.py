"""What the erasure API reads and returns."""

from __future__ import annotations

import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from refurb.web.params import MAX_ID

__all__ = (
    "AttestationIn",
    "AttestationOut",
    "CertificateOut",
    "DestructionIn",
    "ErasureStatusOut",
    "KindDecisionIn",
    "KindDecisionOut",
    "KindReviewIn",
    "ManualRecordIn",
    "MediumIn",
    "MediumOut",
    "PolicyIn",
    "PolicyOut",
    "ProblemOut",
    "QualityCheckOut",
    "QualityResultIn",
    "RecordOut",
    "ReportOut",
    "ReviewIn",
    "RevokeIn",
    "VerificationOut",
)

MediumKind = Literal["hdd", "ssd", "nvme", "emmc", "usb", "sd", "other"]


class ProblemOut(BaseModel):
    """Why something does not pass, with a stable code."""

    code: str
    message: str


class RecordOut(BaseModel):
    """One erasure or destruction record of a medium."""

    id: int
    medium_id: int
    device: str
    category: str = Field(description="NIST SP 800-88: clear, purge, destroy, or none when it failed")
    technique: str
    method_label: str
    passes: int | None
    pattern: str
    verification: str
    verification_result: str
    tool: str
    tool_version: str
    started_at: datetime.datetime | None
    ended_at: datetime.datetime | None
    bytes_erased: int | None
    bytes_total: int | None
    errors: dict[str, int]
    result: str
    hpa_dco: str
    serial_seen: str | None
    warnings: list[str]
    details: dict[str, Any]
    review: str = Field(description="Why a supervisor must look at it first; empty when not needed")
    review_decision: str | None
    operator: str
    report_sha256: str | None
    supersedes: int | None
    superseded: bool
    record_hash: str
    created_at: datetime.datetime


class KindDecisionOut(BaseModel):
    """A person's decision on a medium's kind, or a supervisor's review of one."""

    id: int
    kind: str = Field(description='The kind decided; "" when a supervisor revoked the decision it reviews')
    reviews: int | None
    note: str
    by: str
    role: str
    at: datetime.datetime


class MediumOut(BaseModel):
    """A data-bearing medium of a device and where its erasure stands."""

    id: int
    kind: str
    interface: str
    manufacturer: str
    model: str
    serial: str | None
    capacity_bytes: int | None
    source: str = Field(description="declared (manifest), detected (tool report), technician, new")
    detected: bool
    absent_reason: str | None
    status: Literal["passed", "pending", "absent", "new"]
    category: str
    record_id: int | None = Field(description="The record that decides")
    problems: list[ProblemOut]
    records: list[RecordOut]
    kind_basis: str = Field(
        default="none",
        description="What decided the kind: tool (its flag or the bus), model (a known family), "
        "technician (a person's decision), manifest, disagreement, none",
    )
    kind_reason: str = Field(default="", description="The basis in words")
    can_confirm_rotational: bool = Field(
        default=False,
        description="A person may record that the drive spins (never against the tool's flag or an SSD "
        "model)",
    )
    kind_decisions: list[KindDecisionOut] = Field(default_factory=list)


class KindDecisionIn(BaseModel):
    """A person's decision: what the medium is, having looked at it."""

    kind: Literal["hdd", "ssd", "nvme", "emmc", "usb", "sd"] = Field(
        default="hdd", description="hdd: the technician confirms the drive spins (a rotational hard disk)"
    )
    note: str = Field(default="", max_length=1000)


class KindReviewIn(BaseModel):
    """A supervisor's review of a technician's decision on a medium's kind."""

    decision: Literal["approved", "revoked"]
    note: str = Field(default="", max_length=1000)


class AttestationOut(BaseModel):
    """A technician's "no data-bearing media" statement."""

    by: str
    at: datetime.datetime
    note: str


class ErasureStatusOut(BaseModel):
    """A device's media and whether it may be certified as wiped."""

    device: str
    display_code: str
    kind: str
    state: str
    batch: str | None
    media: list[MediumOut]
    attestation: AttestationOut | None
    ready: bool = Field(description="Every medium passes (or none, attested): sanitize will be accepted")
    problems: list[ProblemOut]
    on_hold: bool = Field(description="The batch failed a quality check: its devices cannot leave sanitized")


class MediumIn(BaseModel):
    """A medium a technician found in the device."""

    kind: MediumKind
    interface: str = Field(default="", max_length=20)
    manufacturer: str = Field(default="", max_length=100)
    model: str = Field(default="", max_length=200)
    serial: str = Field(min_length=1, max_length=100)
    capacity_bytes: int | None = Field(default=None, ge=0, le=10**16, description="Up to 10 PB")


class ManualRecordIn(BaseModel):
    """An erasure done with a tool whose report cannot be uploaded, attested by the operator."""

    medium: int = Field(ge=1, le=MAX_ID)
    medium_kind: MediumKind | None = Field(default=None, description="What the medium is, if not known yet")
    technique: Literal["overwrite", "block_erase", "crypto_erase", "firmware_sanitize"]
    method_label: str = Field(min_length=1, max_length=120)
    tool: str = Field(min_length=1, max_length=40)
    tool_version: str = Field(default="", max_length=40)
    passes: int | None = Field(default=None, ge=0, le=100)
    pattern: str = Field(default="", max_length=40)
    verification: Literal["all", "last", "sample", "firmware_status", "none"]
    verification_result: Literal["passed", "failed", "not_done"]
    result: Literal["success", "failed", "aborted", "partial"]
    started_at: datetime.datetime | None = None
    ended_at: datetime.datetime | None = None
    serial_seen: str = Field(min_length=1, max_length=100, description="The serial read on the medium")
    supersedes: int | None = Field(default=None, ge=1, le=MAX_ID, description="The record this one corrects")
    note: str = Field(default="", max_length=1000)


class DestructionIn(BaseModel):
    """Physical destruction of a medium."""

    medium: int = Field(ge=1, le=MAX_ID)
    technique: Literal["shred", "disintegrate", "crush", "drill", "incinerate", "degauss"]
    facility: str = Field(min_length=1, max_length=200, description="Where it was destroyed")
    witness: str = Field(min_length=1, max_length=200)
    evidence: str = Field(default="", max_length=500, description="Photo or video reference")
    standard: str = Field(default="", max_length=120, description="e.g. DIN 66399 H-5, particle size")
    destroyed_at: datetime.datetime | None = None
    supersedes: int | None = Field(default=None, ge=1, le=MAX_ID)


class AttestationIn(BaseModel):
    """The device holds no data-bearing media."""

    note: str = Field(default="", max_length=1000)


class ReviewIn(BaseModel):
    """A supervisor's decision on a record with warnings."""

    decision: Literal["approved", "rejected"]
    note: str = Field(default="", max_length=1000)


class ReportOut(BaseModel):
    """An uploaded tool report and what it became."""

    id: int
    sha256: str
    format: str
    filename: str
    size: int
    tool: str
    tool_version: str
    status: Literal["matched", "partial", "unmatched", "unreadable"]
    problems: list[str]
    unmatched: list[dict[str, Any]]
    records: list[int]
    devices: list[str]
    sanitized: list[str] = Field(default_factory=list, description="Devices this upload moved to sanitized")
    already_imported: bool = False
    uploaded_by: str
    created_at: datetime.datetime


class PolicyIn(BaseModel):
    """Per-kind rules; what is not set keeps the safe default."""

    rules: dict[str, dict[str, str]] = Field(default_factory=dict)
    qc_rate_percent: int = Field(default=5, ge=1, le=100)


class PolicyOut(PolicyIn):
    """The rules in force for an organisation."""

    organisation: str
    default: bool


class QualityCheckOut(BaseModel):
    """One medium drawn for independent re-verification."""

    id: int
    week: str
    record_id: int
    medium_id: int
    serial: str | None
    device: str
    batch: str | None
    operator: str
    result: Literal["pending", "passed", "failed", "resolved"]
    note: str
    checked_by: str
    checked_at: datetime.datetime | None


class QualityResultIn(BaseModel):
    """The re-verification's outcome."""

    result: Literal["passed", "failed"]
    note: str = Field(default="", max_length=1000)


class CertificateOut(BaseModel):
    """A certificate's public facts and where to get it."""

    code: str
    display_code: str
    kind: Literal["device", "batch"]
    version: int
    batch: str | None
    device: str | None
    status: Literal["valid", "superseded", "revoked"]
    status_reason: str
    issued_at: datetime.datetime
    devices: int
    media: int
    key_id: str
    verify_url: str
    pdf_sha256: str
    json_sha256: str


class EnvelopeSignature(BaseModel):
    """An Ed25519 signature over the RFC 8785 bytes of the certificate."""

    alg: Literal["EdDSA"]
    crv: Literal["Ed25519"]
    key_id: str
    value: str = Field(description="base64url, no padding")


class SignedCertificate(BaseModel):
    """The signed JSON document, as issued (for the OpenAPI: the route sends the stored bytes)."""

    certificate: dict[str, Any]
    signature: EnvelopeSignature


class RevokeIn(BaseModel):
    """Why a certificate is withdrawn."""

    reason: str = Field(min_length=3, max_length=1000)
    reissue: bool = Field(default=False, description="Issue a new version at once")


class VerificationOut(BaseModel):
    """What /verify says about a certificate or an uploaded document."""

    code: str | None
    authentic: bool
    reason: str
    status: str | None
    kind: str | None
    version: int | None
    issued_at: datetime.datetime | None
    issuer: str | None
    devices: int | None
    media: int | None
    counts: dict[str, int] = Field(default_factory=dict)
