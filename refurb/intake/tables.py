"""Donor batches (the intake issue adds agreements, manifests and collection)."""

from __future__ import annotations

from piccolo.columns import ForeignKey, OnDelete, Varchar

from refurb.accounts.tables import Organisation
from refurb.timestamps import Timestamped

__all__ = ("Batch",)


class Batch(Timestamped):
    """A donation: the devices one donor hands over together, with a B code."""

    code = Varchar(length=9, unique=True)
    donor = ForeignKey(references=Organisation, on_delete=OnDelete.restrict, null=False)
    reference = Varchar(length=100, null=True, default=None)
    state = Varchar(length=20, default="draft")
