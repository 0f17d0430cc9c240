"""Who is asking: the authenticated user as the domain sees them."""

from __future__ import annotations

from dataclasses import dataclass

from refurb.core.roles import OrganisationKind, Role

__all__ = ("Principal",)


@dataclass(frozen=True, slots=True)
class Principal:
    """A logged-in user with their role and organisation."""

    user_id: int
    username: str
    display_name: str
    role: Role
    organisation_id: int
    organisation_name: str
    organisation_kind: OrganisationKind
    token_scope: str | None = None  # a token limited to one use (e.g. "erasure-reports")

    @property
    def scoped_to_organisation(self) -> bool:
        """Donors see only their own organisation's batches, devices and certificates."""
        return self.role is Role.DONOR

    @property
    def name(self) -> str:
        """How the person is shown in histories."""
        return self.display_name or self.username
