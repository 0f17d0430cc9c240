"""What the scanning API reads and returns."""

from __future__ import annotations

import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from refurb.core.stages import Stage
from refurb.devices.schemas import DeviceOut

__all__ = (
    "ContextOut",
    "FieldSpec",
    "FormSpec",
    "PrintNote",
    "ScanIn",
    "ScanLogOut",
    "ScanOut",
    "StationOut",
    "ThingOut",
)


class ScanIn(BaseModel):
    """One scan: the raw text as the scanner typed it, at a station."""

    station: str = Field(description="Station code", examples=["S00000017"])
    text: str = Field(max_length=200, description="What was scanned or typed", examples=["D-0001234-5"])
    action: str | None = Field(default=None, description="A mode of the station other than its main action")
    inputs: dict[str, Any] = Field(
        default_factory=dict, description="Answers to a form the station asked for"
    )
    context: dict[str, str] = Field(
        default_factory=dict,
        description="What the station works on, from the previous answer (e.g. the batch being received)",
    )


class FieldSpec(BaseModel):
    """One input of a stage-specific form."""

    name: str
    label: str
    type: Literal["text", "number", "select", "checkbox"] = "text"
    required: bool = True
    max_length: int | None = None
    options: list[dict[str, str]] = Field(default_factory=list)
    default: str | None = Field(default=None, description="The value the field starts with")
    help: str | None = Field(default=None, description="A line of guidance shown under the field")
    section: str | None = Field(default=None, description="A heading the field starts (forms with parts)")
    minimum: float | None = None
    maximum: float | None = None
    required_when: dict[str, list[str]] | None = Field(
        default=None,
        description="Required only while these other fields hold one of these values "
        "(e.g. a grade only for a device that passes)",
    )


class FormSpec(BaseModel):
    """Inputs a handler needs before it can record the scan; send them back in `inputs`."""

    action: str
    title: str
    fields: list[FieldSpec]
    submit: str


class ThingOut(BaseModel):
    """Whatever a code designates."""

    type: str = Field(examples=["device"])
    code: str
    display_code: str
    title: str
    state: str | None = None
    url: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class PrintNote(BaseModel):
    """The label a scan printed."""

    kind: str
    job: int
    printer: str | None
    reprint: bool
    error: str | None = Field(default=None, description="Why the label did not print (the step is recorded)")


class ScanOut(BaseModel):
    """How a scan ended (refusals are problem details instead)."""

    result: Literal["recorded", "already_recorded", "needs_input", "needs_label", "found"]
    message: str
    station: str
    thing: ThingOut
    device: DeviceOut | None = None
    form: FormSpec | None = None
    context: dict[str, str] = Field(
        default_factory=dict, description="Send it back with the next scan (e.g. the batch being received)"
    )
    printed: PrintNote | None = None
    reprint: dict[str, str] | None = Field(
        default=None, description="Already done: the label that can be printed again (code, kind)"
    )
    secret: str | None = Field(
        default=None,
        description="Shown once (e.g. a licence product key to type into the machine), never stored in clear",
    )
    label: dict[str, str] | None = Field(
        default=None,
        description=(
            "needs_label: the label (code, kind) to print (POST /api/v1/labels/print-jobs), "
            "stick on, then scan: that scan records the step"
        ),
    )


class StationOut(BaseModel):
    """A station and what it does."""

    code: str
    display_code: str
    name: str
    stage: Stage
    site: str | None
    active: bool
    actions: list[str]
    printer: str | None = Field(default=None, description="Where its scans print their labels")
    label: str | None = Field(default=None, description="The label kind this stage prints")


class ScanLogOut(BaseModel):
    """A past scan, as the station page lists it."""

    at: datetime.datetime
    text: str
    code: str | None
    action: str | None
    result: str
    problem_code: str | None
    message: str
    user: str | None


class ContextOut(BaseModel):
    """What a station works on (the batch being received, the location filled), in its stage's words."""

    code: str
    display_code: str
    title: str
    heading: str = Field(description="The stage's words for it, e.g. 'Receiving batch'")
    progress: str = Field(description="Where it stands, e.g. '3 of 5 received'")
    done: int
    total: int | None = Field(default=None, description="None when there is no limit")
    missing: str | None = Field(default=None, description="What is still missing when the operator is done")
    leave: str = Field(description="The words of the button that ends it")
