"""Who is who: the roles of design §6 (one per user) and the kinds of organisation."""

from __future__ import annotations

from enum import StrEnum

from refurb.core.i18n import N_

__all__ = ("ALL_ROLES", "STAFF", "SUPERVISION", "WORKSHOP", "OrganisationKind", "Role")


class Role(StrEnum):
    """What a person does in Refurb; routes and actions are allowed per role."""

    ADMIN = "admin"
    COORDINATOR = "coordinator"
    DONOR = "donor"
    TECHNICIAN = "technician"
    SUPERVISOR = "supervisor"
    DRIVER = "driver"
    BUS_STAFF = "bus_staff"
    AUDITOR = "auditor"

    @property
    def label(self) -> str:
        """English name, a translation id."""
        return _LABELS[self]


_LABELS = {
    Role.ADMIN: N_("administrator"),
    Role.COORDINATOR: N_("coordinator"),
    Role.DONOR: N_("donor"),
    Role.TECHNICIAN: N_("technician"),
    Role.SUPERVISOR: N_("supervisor"),
    Role.DRIVER: N_("driver"),
    Role.BUS_STAFF: N_("bus staff"),
    Role.AUDITOR: N_("auditor"),
}

ALL_ROLES = frozenset(Role)
#: The groups routes and actions are allowed to, named once for every area.
WORKSHOP = frozenset({Role.TECHNICIAN, Role.SUPERVISOR, Role.ADMIN})  # at the bench
SUPERVISION = frozenset({Role.SUPERVISOR, Role.ADMIN})  # decide, correct, configure
STAFF = frozenset(role for role in Role if role is not Role.DONOR)  # everyone but donors


class OrganisationKind(StrEnum):
    """What an organisation is in a programme."""

    DONOR = "donor"
    WORKSHOP = "workshop"
    DISTRIBUTOR = "distributor"
    COORDINATOR = "coordinator"
    RECYCLER = "recycler"
    OPERATOR = "operator"

    @property
    def label(self) -> str:
        """English name, a translation id."""
        return _KIND_LABELS[self]


_KIND_LABELS = {
    OrganisationKind.DONOR: N_("donor company"),
    OrganisationKind.WORKSHOP: N_("workshop"),
    OrganisationKind.DISTRIBUTOR: N_("distributor"),
    OrganisationKind.COORDINATOR: N_("coordinator"),
    OrganisationKind.RECYCLER: N_("recycler"),
    OrganisationKind.OPERATOR: N_("operator"),
}
