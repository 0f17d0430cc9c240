"""The kinds of label Refurb prints, the data each one shows, and who may print it.

Templates in `labels/templates/` may use exactly these fields as `{placeholders}`.
Labels carry no personal data of households beyond the pseudonymous F code
(the convocation card shows a name only when the programme enables it).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from refurb.core.codes import CodeType, make_code
from refurb.core.i18n import N_
from refurb.core.roles import WORKSHOP, Role

__all__ = ("KIND_DATA", "KIND_ROLES", "KIND_TYPES", "SAMPLES", "LabelKind")


class LabelKind(StrEnum):
    """One label (or printed document) per stage."""

    BATCH = "batch"
    DEVICE = "device"
    WIPED = "wiped"
    SPEC = "spec"
    LICENCE = "licence"
    LOCATION = "location"
    CONVOCATION = "convocation"
    RECEIPT = "receipt"
    MANIFEST = "manifest"

    @property
    def label(self) -> str:
        """English name, a translation id."""
        return _LABELS[self]


_LABELS = {
    LabelKind.BATCH: N_("pallet label"),
    LabelKind.DEVICE: N_("asset tag"),
    LabelKind.WIPED: N_("data wiped label"),
    LabelKind.SPEC: N_("specification label"),
    LabelKind.LICENCE: N_("licence label"),
    LabelKind.LOCATION: N_("location label"),
    LabelKind.CONVOCATION: N_("convocation card"),
    LabelKind.RECEIPT: N_("hand-over receipt"),
    LabelKind.MANIFEST: N_("round manifest"),
}


class BatchLabel(BaseModel):
    """A pallet or crate of a donor batch."""

    code: str
    display_code: str
    donor: str
    site: str = ""
    date: str = ""
    crate: int = 1
    crates: int = 1
    declared: str = ""


class DeviceLabel(BaseModel):
    """The permanent asset tag stuck on at reception."""

    code: str
    display_code: str
    url: str
    organisation: str
    make_model: str
    serial: str


class WipedLabel(BaseModel):
    """Proof on the device that its data was erased, with the certificate to verify."""

    code: str
    display_code: str
    method: str
    nist_category: str
    tool: str
    date: str
    certificate: str
    verify_url: str


class SpecLabel(BaseModel):
    """What the refurbished device is."""

    code: str
    display_code: str
    cpu: str
    ram: str
    storage: str
    grade: str
    os: str
    test_date: str


class LicenceLabel(BaseModel):
    """The operating system and licence type; never the key."""

    code: str
    display_code: str
    os: str
    licence_type: str


class LocationLabel(BaseModel):
    """A stock location or bin."""

    code: str
    display_code: str
    name: str
    parent: str = ""


class ConvocationCard(BaseModel):
    """Given to a household: where and when to collect its device (F code, no name by default)."""

    code: str
    display_code: str
    round: str
    stop: str
    date: str
    time_window: str
    name: str = ""
    bring: str = ""


class ReceiptLabel(BaseModel):
    """The hand-over receipt the family keeps."""

    code: str
    display_code: str
    household: str
    household_code: str
    device: str
    serial: str
    mode: str
    date: str
    warranty_end: str
    support_contact: str
    terms: str = ""


class ManifestLine(BaseModel):
    """One device on a round."""

    code: str
    display_code: str
    device: str
    household: str
    stop: str


class RoundManifest(BaseModel):
    """Every device loaded on a bus round."""

    code: str
    display_code: str
    name: str
    date: str
    lines: list[ManifestLine]


KIND_DATA: dict[LabelKind, type[BaseModel]] = {
    LabelKind.BATCH: BatchLabel,
    LabelKind.DEVICE: DeviceLabel,
    LabelKind.WIPED: WipedLabel,
    LabelKind.SPEC: SpecLabel,
    LabelKind.LICENCE: LicenceLabel,
    LabelKind.LOCATION: LocationLabel,
    LabelKind.CONVOCATION: ConvocationCard,
    LabelKind.RECEIPT: ReceiptLabel,
    LabelKind.MANIFEST: RoundManifest,
}

# The code a label is printed for.
KIND_TYPES: dict[LabelKind, CodeType] = {
    LabelKind.BATCH: CodeType.BATCH,
    LabelKind.DEVICE: CodeType.DEVICE,
    LabelKind.WIPED: CodeType.DEVICE,
    LabelKind.SPEC: CodeType.DEVICE,
    LabelKind.LICENCE: CodeType.DEVICE,
    LabelKind.LOCATION: CodeType.LOCATION,
    LabelKind.CONVOCATION: CodeType.HOUSEHOLD,
    LabelKind.RECEIPT: CodeType.DEVICE,
    LabelKind.MANIFEST: CodeType.ROUND,
}

_WORKSHOP = WORKSHOP
_DISTRIBUTION = frozenset({Role.ADMIN, Role.COORDINATOR, Role.BUS_STAFF, Role.SUPERVISOR})
KIND_ROLES: dict[LabelKind, frozenset[Role]] = {
    LabelKind.BATCH: _WORKSHOP | {Role.DONOR, Role.DRIVER, Role.COORDINATOR},
    LabelKind.DEVICE: _WORKSHOP,
    LabelKind.WIPED: _WORKSHOP,
    LabelKind.SPEC: _WORKSHOP,
    LabelKind.LICENCE: _WORKSHOP,
    LabelKind.LOCATION: _WORKSHOP,
    LabelKind.CONVOCATION: _DISTRIBUTION,
    LabelKind.RECEIPT: _DISTRIBUTION,
    LabelKind.MANIFEST: _DISTRIBUTION | {Role.TECHNICIAN},
}


def _c(code_type: CodeType, serial: int) -> dict[str, str]:
    code = make_code(code_type, serial)
    return {"code": code.compact, "display_code": code.display}


_DEVICE = _c(CodeType.DEVICE, 1234)
_HOUSEHOLD = make_code(CodeType.HOUSEHOLD, 421)
_ROUND = make_code(CodeType.ROUND, 12)
_CERTIFICATE = make_code(CodeType.CERTIFICATE, 310)

# What a template editor sees in the preview of a kind (GET /api/v1/labels/samples/{kind}).
SAMPLES: dict[LabelKind, BaseModel] = {
    LabelKind.BATCH: BatchLabel(
        **_c(CodeType.BATCH, 42),
        donor="Acme Assurances",
        site="12 rue des Lilas, 93200 Saint-Denis",
        date="21/11/2026",
        crate=2,
        crates=3,
        declared="40",
    ),
    LabelKind.DEVICE: DeviceLabel(
        **_DEVICE,
        url=f"https://refurb.example.org/devices/{_DEVICE['code']}",
        organisation="Atelier Solidaire du Val",
        make_model="Dell Latitude 5490",
        serial="5CG7361XYZ",
    ),
    LabelKind.WIPED: WipedLabel(
        **_DEVICE,
        method="Effacement cryptographique (NVMe)",
        nist_category="NIST 800-88 Purge",
        tool="nwipe 0.37",
        date="21/11/2026",
        certificate=_CERTIFICATE.display,
        verify_url=f"https://refurb.example.org/verify/{_CERTIFICATE.compact}",
    ),
    LabelKind.SPEC: SpecLabel(
        **_DEVICE,
        cpu="Intel Core i5-8350U",
        ram="8 Go",
        storage="256 Go SSD",
        grade="A",
        os="Linux Mint 22",
        test_date="21/11/2026",
    ),
    LabelKind.LICENCE: LicenceLabel(**_DEVICE, os="Windows 11 Pro", licence_type="MAR Citizenship"),
    LabelKind.LOCATION: LocationLabel(
        **_c(CodeType.LOCATION, 77), name="Bac A1", parent="Atelier / Réception / Étagère A"
    ),
    LabelKind.CONVOCATION: ConvocationCard(
        code=_HOUSEHOLD.compact,
        display_code=_HOUSEHOLD.display,
        round=f"{_ROUND.display} · Quartier des Tilleuls",
        stop="Pied de la tour B, 4 allée Jean Moulin",
        date="samedi 5 décembre 2026",
        time_window="14 h 00 – 15 h 30",
        bring="cette carte et une pièce d'identité",
    ),
    LabelKind.RECEIPT: ReceiptLabel(
        **_DEVICE,
        household=_HOUSEHOLD.display,
        household_code=_HOUSEHOLD.compact,
        device="Ordinateur portable Dell Latitude 5490",
        serial="5CG7361XYZ",
        mode="Don",
        date="05/12/2026",
        warranty_end="05/12/2027",
        support_contact="Atelier Solidaire du Val · 01 23 45 67 89",
        terms=(
            "Don : l'équipement vous appartient dès le jour de sa remise. Vous ne pouvez ni le vendre, "
            "ni le louer, ni le céder pendant au moins un an."
        ),
    ),
    LabelKind.MANIFEST: RoundManifest(
        code=_ROUND.compact,
        display_code=_ROUND.display,
        name="Quartier des Tilleuls",
        date="05/12/2026",
        lines=[
            ManifestLine(
                **_c(CodeType.DEVICE, 1234 + i),
                device="Dell Latitude 5490",
                household=make_code(CodeType.HOUSEHOLD, 421 + i).display,
                stop=f"Tour {chr(65 + i % 3)}",
            )
            for i in range(30)
        ],
    ),
}
