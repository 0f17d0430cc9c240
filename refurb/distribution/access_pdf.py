"""A household's right-of-access export as an A4 PDF, for the family to keep.

The same content as the JSON export, laid out for people, in the reader's
language. Drawn with the bundled DejaVu font so any name prints as written.
"""

from __future__ import annotations

from collections.abc import Callable

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from refurb.distribution.model import HouseholdStatus, LegalBasis
from refurb.distribution.schemas import AccessExport
from refurb.printing.resources import font_path

__all__ = ("render_access_pdf",)

FONT = "DejaVu"
LINE_MM = 6.0


def render_access_pdf(export: AccessExport, gettext: Callable[[str], str]) -> bytes:
    """The export as PDF bytes; `gettext` translates the headings and labels."""
    _ = gettext
    pdf = FPDF(format="A4")
    pdf.set_title(_("Data held on household %(code)s") % {"code": export.household.display_code})
    pdf.set_creator("Refurb")
    pdf.add_font(FONT, "", str(font_path(False)))
    pdf.add_font(FONT, "B", str(font_path(True)))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()

    def heading(text: str) -> None:
        pdf.ln(2)
        pdf.set_font(FONT, "B", 12)
        pdf.multi_cell(0, LINE_MM + 1, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FONT, "", 10)

    def field(label: str, value: object) -> None:
        pdf.set_font(FONT, "B", 10)
        pdf.cell(55, LINE_MM, label)
        pdf.set_font(FONT, "", 10)
        pdf.multi_cell(0, LINE_MM, str(value) if value not in (None, "") else "—", new_x=XPos.LMARGIN)

    household = export.household
    pdf.set_font(FONT, "B", 16)
    pdf.multi_cell(
        0,
        9,
        _("Data held on household %(code)s") % {"code": household.display_code},
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_font(FONT, "", 10)
    field(_("Generated at"), export.generated_at.strftime("%Y-%m-%d %H:%M UTC"))

    heading(_("Personal data"))
    person = export.personal_data
    if person is None:
        pdf.multi_cell(0, LINE_MM, _("No personal data is held."), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    else:
        field(_("Last name"), person.last_name)
        field(_("First name"), person.first_name)
        field(_("Phone"), person.phone)
        field(_("Email"), person.email)
        field(_("Postal address"), person.postal_address)
        field(_("Legal basis"), _(LegalBasis(person.legal_basis).label))
        field(_("Information notice"), f"{person.notice_version} ({person.notice_given_on.isoformat()})")

    heading(_("Household"))
    field(_("Programme"), household.programme_name)
    field(_("QPV"), household.qpv_code)
    field(_("School"), household.school)
    field(_("Referring organisation"), household.referring_organisation)
    field(_("Status"), _(HouseholdStatus(household.status).label))
    field(_("Adults"), household.adults)
    field(_("Children's birth years"), ", ".join(str(y) for y in household.children_birth_years))
    field(_("Computers at home"), household.computers)
    field(_("Printer at home"), _("yes") if household.has_printer else _("no"))
    field(_("Internet at home"), _("yes") if household.has_internet else _("no"))
    field(_("Requests"), ", ".join(household.requests))
    field(_("Waiting since"), household.waiting_since.isoformat())

    heading(_("History"))
    for event in household.history:
        moved = f"{event.from_status or '—'} → {event.to_status}"
        line = f"{event.at.strftime('%Y-%m-%d %H:%M')}  {event.action}  {moved}  {event.actor}"
        if event.reason:
            line += f"  — {event.reason}"
        pdf.multi_cell(0, LINE_MM, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    heading(_("Who read these data"))
    for access in export.accesses:
        line = f"{access.at.strftime('%Y-%m-%d %H:%M')}  {access.by}  ({access.purpose})"
        pdf.multi_cell(0, LINE_MM, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
