"""The minutes of a commission session as an A4 PDF, for the meeting record.

Pseudonymous by construction: drawn from `commission.minutes`, which reads F
codes, QPV, composition and decisions — never the personal-data table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from refurb.distribution.commission import MinutesEntry
from refurb.distribution.schemas import SessionOut
from refurb.printing.resources import font_path

__all__ = ("render_minutes_pdf",)

FONT = "DejaVu"
LINE_MM = 6.0


def render_minutes_pdf(
    session: SessionOut, entries: Sequence[MinutesEntry], gettext: Callable[[str], str]
) -> bytes:
    """The minutes as PDF bytes; `gettext` translates headings and labels."""
    _ = gettext
    title = _("Minutes of the allocation commission of %(date)s") % {"date": session.held_on.isoformat()}
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator("Refurb")
    pdf.add_font(FONT, "", str(font_path(False)))
    pdf.add_font(FONT, "B", str(font_path(True)))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()

    def text(value: str, size: int = 10, bold: bool = False) -> None:
        pdf.set_font(FONT, "B" if bold else "", size)
        pdf.multi_cell(0, LINE_MM, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    text(title, 16, bold=True)
    text(_("Programme: %(name)s") % {"name": session.programme_name})
    text(_("Members present: %(members)s") % {"members": ", ".join(session.members)})
    text(_("%(count)s decisions") % {"count": len(entries)})
    pdf.ln(2)
    for entry in entries:
        children = ", ".join(str(age) for age in entry.children_ages) or "—"
        text(f"{entry.display_code} — {entry.qpv_code}", 11, bold=True)
        text(
            _("Adults: %(adults)s; children's ages: %(children)s")
            % {"adults": entry.adults, "children": children}
        )
        text(
            _("Decision: %(decision)s (rule set version %(version)s)")
            % {"decision": _(entry.kind.label), "version": entry.rule_set_version}
        )
        for line in entry.lines:
            text(f"  • {line.label} — {'; '.join(line.reasons)}")
        if entry.reason:
            text(_("Reason: %(reason)s") % {"reason": entry.reason})
        pdf.ln(1)
    return bytes(pdf.output())
