"""Donation agreements, donor batches and manifest imports."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    Bytea,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)

from refurb.accounts.tables import Organisation, User
from refurb.timestamps import Timestamped

__all__ = ("TABLES", "Agreement", "Batch", "ManifestImport")


class Agreement(Timestamped):
    """A donor's signed donation agreement (convention de don), in the portal or as a signed PDF."""

    donor = ForeignKey(references=Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    terms_version = Varchar(length=20)
    signatory_name = Varchar(length=200)
    signatory_title = Varchar(length=200, default="")
    signed_at = Timestamptz()
    method = Varchar(length=10)  # "portal" | "upload"
    signed_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    data_processing_clause = Boolean(default=True)  # GDPR art. 28: data processed only to be erased
    document = Bytea(null=True, default=None)
    document_name = Varchar(length=200, null=True, default=None)
    document_sha256 = Varchar(length=64, null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class Batch(Timestamped):
    """A donation: the devices one donor hands over together, with a B code.

    States: draft → submitted → scheduled → collected → received → closed.
    """

    code = Varchar(length=9, unique=True)
    donor = ForeignKey(references=Organisation, on_delete=OnDelete.restrict, null=False)
    reference = Varchar(length=100, null=True, default=None)
    state = Varchar(length=20, default="draft")
    site_address = Text(default="")
    contact_name = Varchar(length=200, default="")
    contact_phone = Varchar(length=40, default="")
    declared = JSON(default={})  # device kind → count, as the donor declared it
    pickup_from = Date(null=True, default=None)
    pickup_to = Date(null=True, default=None)
    notes = Text(default="")
    pickup_date = Date(null=True, default=None)
    submitted_at = Timestamptz(null=True, default=None)
    scheduled_at = Timestamptz(null=True, default=None)
    collected_at = Timestamptz(null=True, default=None)
    received_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    collection = JSON(default={})  # counts, seals, donor signer, vehicle, driver, time
    discrepancy = JSON(default={})  # kind → {"expected": n, "counted": m} when they differ
    reconciliation = JSON(default={})  # frozen when the batch is closed
    created_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)


class ManifestImport(Timestamped):
    """One upload of a donor's asset list: how it was read, what it found, what it did."""

    batch = ForeignKey(references=Batch, on_delete=OnDelete.restrict, null=False, index=True)
    user = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    filename = Varchar(length=255, default="")
    sha256 = Varchar(length=64)
    size = Integer(default=0)
    format = Varchar(length=10)  # "csv" | "xlsx"
    encoding = Varchar(length=20, default="")
    delimiter = Varchar(length=4, default="")
    profile = Varchar(length=20)
    mapping = JSON(default={})
    mode = Varchar(length=12)  # "dry_run" | "all" | "valid_only"
    status = Varchar(length=12)  # "checked" | "imported" | "refused"
    rows = Integer(default=0)
    valid = Integer(default=0)
    invalid = Integer(default=0)
    created_devices = Integer(default=0)
    updated_devices = Integer(default=0)
    problems = JSON(default=[])


#: This area's tables, registered with the database by `wiring` (in dependency order).
TABLES = (Agreement, Batch, ManifestImport)
