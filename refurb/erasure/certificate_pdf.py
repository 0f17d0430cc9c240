"""Erasure certificates as A4 PDFs that carry their own proof.

The pages are for people: who erased what, for whom, how, with one annex row
per medium. The proof is for machines: the signed envelope, as its RFC 8785
bytes, is attached to the PDF as `certificate.json`, and the QR code on page 1
leads to the page that verifies it. Only the attachment counts: what the pages
say is a rendering of it, and a verifier shows the verified JSON, not the pages.

Rendering is deterministic (dates, file identifier and attachment all derive
from the envelope), so the same envelope gives byte-identical PDFs that can be
re-issued or compared by hash.

Text is drawn with the Helvetica core font, and with the bundled DejaVu font for
text beyond Latin-1, through the label backend's helpers; every value is cut or
wrapped to its box, and long sections flow onto new pages.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import segno
from fpdf import FPDF

from refurb.erasure.signing import canonical_bytes
from refurb.printing.fonts import ELLIPSIS, PLAIN, fit_text, text_width, wrap_text
from refurb.printing.pdf import font_family

__all__ = ("ATTACHMENT_NAME", "display_code", "render_certificate_pdf")

ATTACHMENT_NAME = "certificate.json"

PT = 72 / 25.4  # points per mm
PAGE_W, PAGE_H = 210.0, 297.0
LEFT, RIGHT, TOP = 15.0, 195.0, 15.0
WIDTH = RIGHT - LEFT
BOTTOM = 279.0  # content stops here; the footer lives below
QR_SIDE = 36.0  # mm, quiet zone excluded: a phone reads it from arm's length on paper
LABEL_W = 46.0
_CODE = re.compile(r"[A-Z][0-9]{8}")
_MAX_ATTACHMENT = 64 * 1024 * 1024  # decompressed; a certificate of 100,000 media is ~35 MB

TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Certificat d'effacement des données",
        "code": "N°",
        "version": "Version",
        "kind": "Portée",
        "kind.batch": "Lot complet",
        "kind.device": "Appareil",
        "issued_at": "Émis le",
        "supersedes": "Remplace",
        "scan": "Vérifier l'authenticité",
        "issuer": "Émetteur",
        "donor": "Donateur",
        "name": "Nom",
        "siret": "SIRET",
        "address": "Adresse",
        "batch": "Lot",
        "donor_reference": "Référence du donateur",
        "device": "Appareil",
        "device.kind": "Type",
        "device.model": "Fabricant et modèle",
        "device.serial": "N° de série",
        "custody": "Chaîne de garde",
        "agreement_signed_at": "Convention signée le",
        "collected_at": "Collecté le",
        "collected_by": "Collecté par",
        "seals": "Scellés",
        "received_at": "Réceptionné le",
        "quantities": "Appareils",
        "quantities.text": "{declared} déclarés, {received} reçus, {missing} manquants, "
        "{not_in_manifest} hors manifeste",
        "counts": "Bilan",
        "counts.devices": "Appareils",
        "counts.media": "Supports",
        "counts.clear": "Effacement simple",
        "counts.purge": "Effacement renforcé",
        "counts.destroy": "Destruction",
        "counts.failed": "Échecs",
        "counts.pending": "En attente",
        "counts.no_media_devices": "Sans support",
        "methods": "Outils et méthodes",
        "tools": "Outils",
        "methods.list": "Méthodes",
        "attestation": "Attestation",
        "signature": "Signature électronique Ed25519, clé {key_id}. Le fichier certificate.json joint à ce "
        "PDF fait foi ; son authenticité se vérifie à l'adresse {url}.",
        "annex": "Annexe : supports de données ({count})",
        "annex.none": "Aucun support de données.",
        "col.serial": "N° de série",
        "col.model": "Modèle",
        "col.kind": "Type",
        "col.device": "Appareil",
        "col.category": "NIST",
        "col.method": "Méthode",
        "col.result": "Résultat",
        "col.date": "Date",
        "col.hash": "Empreinte",
        "result.success": "Réussi",
        "result.failed": "Échec",
        "result.pending": "En attente",
        "verify": "Vérifier : {url}",
        "page": "page {n}/{nb}",
        "none": "-",
        "more": "et {count} autres",
    },
    "en": {
        "title": "Data erasure certificate",
        "code": "No.",
        "version": "Version",
        "kind": "Scope",
        "kind.batch": "Whole batch",
        "kind.device": "Device",
        "issued_at": "Issued",
        "supersedes": "Supersedes",
        "scan": "Check authenticity",
        "issuer": "Issuer",
        "donor": "Donor",
        "name": "Name",
        "siret": "SIRET",
        "address": "Address",
        "batch": "Batch",
        "donor_reference": "Donor reference",
        "device": "Device",
        "device.kind": "Kind",
        "device.model": "Manufacturer and model",
        "device.serial": "Serial number",
        "custody": "Chain of custody",
        "agreement_signed_at": "Agreement signed",
        "collected_at": "Collected",
        "collected_by": "Collected by",
        "seals": "Seals",
        "received_at": "Received",
        "quantities": "Devices",
        "quantities.text": "{declared} declared, {received} received, {missing} missing, "
        "{not_in_manifest} not in manifest",
        "counts": "Summary",
        "counts.devices": "Devices",
        "counts.media": "Media",
        "counts.clear": "Clear",
        "counts.purge": "Purge",
        "counts.destroy": "Destroy",
        "counts.failed": "Failed",
        "counts.pending": "Pending",
        "counts.no_media_devices": "No media",
        "methods": "Tools and methods",
        "tools": "Tools",
        "methods.list": "Methods",
        "attestation": "Attestation",
        "signature": "Ed25519 electronic signature, key {key_id}. The certificate.json file attached to "
        "this PDF is authoritative; check its authenticity at {url}.",
        "annex": "Annex: data-bearing media ({count})",
        "annex.none": "No data-bearing media.",
        "col.serial": "Serial number",
        "col.model": "Model",
        "col.kind": "Type",
        "col.device": "Device",
        "col.category": "NIST",
        "col.method": "Method",
        "col.result": "Result",
        "col.date": "Date",
        "col.hash": "Record hash",
        "result.success": "Success",
        "result.failed": "Failed",
        "result.pending": "Pending",
        "verify": "Verify: {url}",
        "page": "page {n}/{nb}",
        "none": "-",
        "more": "and {count} more",
    },
}

_MEDIA_KINDS = {"hdd": "HDD", "ssd": "SSD", "nvme": "NVMe", "emmc": "eMMC", "usb": "USB", "sd": "SD"}
_CATEGORIES = {"clear": "Clear", "purge": "Purge", "destroy": "Destroy"}
_COUNTS = ("devices", "media", "clear", "purge", "destroy", "failed", "pending", "no_media_devices")


@dataclass(frozen=True, slots=True)
class _Column:
    key: str
    width: float  # mm


_COLUMNS = (
    _Column("serial", 27.0),
    _Column("model", 26.0),
    _Column("kind", 10.0),
    _Column("device", 17.0),
    _Column("category", 12.0),
    _Column("method", 38.0),
    _Column("result", 13.0),
    _Column("date", 15.0),
    _Column("hash", 22.0),
)
ROW_H = 4.3  # mm
TABLE_SIZE = 6.5  # pt
PAD = 0.8  # mm inside a cell


def display_code(code: object) -> str:
    """`C00001234` as people read it, `C-0000123-4`; anything else unchanged."""
    text = "" if code is None else str(code)
    return f"{text[0]}-{text[1:8]}-{text[8]}" if _CODE.fullmatch(text) else text


def _parse_when(value: object) -> datetime | date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        if "T" in value or " " in value.strip():
            moment = datetime.fromisoformat(value)
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        return date.fromisoformat(value)
    except ValueError:
        return None


def _when(value: object, language: str, *, date_only: bool = False) -> str:
    """A date or date-time for people (UTC, stated); unparseable text is shown as given."""
    parsed = _parse_when(value)
    if parsed is None:
        return "-" if value in (None, "") else str(value)
    day_format = "%d/%m/%Y" if language == "fr" else "%Y-%m-%d"
    if isinstance(parsed, datetime):
        return parsed.strftime(day_format if date_only else f"{day_format} %H:%M UTC")
    return parsed.strftime(day_format)


def _text(value: object) -> str:
    return "-" if value is None or value == "" else str(value)


def _fit(text: str, width: float, size: float, min_size: float, bold: bool) -> tuple[str, float]:
    """`fit_text`, but text too long even at `min_size` is cut by bisection.

    `fit_text` drops one character at a time, which is quadratic: a 400-character
    word in a donor's field would cost seconds.
    """
    if text_width(text, min_size, bold) <= width:
        return fit_text(text, width, size, min_size, bold)
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if text_width(text[:middle] + ELLIPSIS, min_size, bold) <= width:
            low = middle
        else:
            high = middle - 1
    cut = text[:low].rstrip()
    return (cut + ELLIPSIS if cut else ""), min_size


class _CertificatePdf(FPDF):
    """fpdf2 with our footer, a content-derived file id and one cursor for the flowing layout."""

    def __init__(self, words: Mapping[str, str], code: str, verify_url: str, file_hash: str) -> None:
        super().__init__(unit="mm", format="A4")
        self.set_auto_page_break(False)
        self.set_margins(LEFT, TOP, PAGE_W - RIGHT)
        self.words = words
        self.code = code
        self.verify_url = verify_url
        self.file_hash = file_hash
        self.cursor = TOP
        self.font_state: tuple[str, str, float] | None = None
        self.on_new_page: list[Callable[[], None]] = []

    def file_id(self) -> str:
        """Derived from the inputs, not the clock: the same envelope renders to the same bytes."""
        return f"<{self.file_hash}><{self.file_hash}>"

    def footer(self) -> None:
        """Page n/m, the code and the verification address, on every page."""
        self.set_draw_color(160)
        self.set_line_width(0.2)
        self.line(LEFT, BOTTOM + 4, RIGHT, BOTTOM + 4)
        baseline = BOTTOM + 8.5
        self.put(LEFT, baseline, self.words["verify"].format(url=self.verify_url), 7, width=118)
        self.put(137, baseline, self.code, 7, bold=True, width=30)
        # Through cell(): fpdf2 puts the page count in for "{nb}" there, not in text().
        self.set_font("helvetica", "", 7)
        self.font_state = ("helvetica", "", 7)
        self.set_xy(RIGHT - 25, baseline - 2.35)
        self.cell(25, 3.2, self.words["page"].format(n=self.page_no(), nb="{nb}"), align="R")

    def start_page(self) -> None:
        """A new page; the annex repeats its header row there."""
        self.add_page()
        self.font_state = None
        self.cursor = TOP
        for action in self.on_new_page:
            action()

    def need(self, height: float) -> None:
        """Move to a new page unless `height` mm still fit above the footer."""
        if self.cursor + height > BOTTOM:
            self.start_page()

    def put(
        self,
        x: float,
        baseline: float,
        text: str,
        size: float,
        *,
        bold: bool = False,
        width: float | None = None,
        min_size: float | None = None,
    ) -> None:
        """Draw one line of text, shrunk then cut to `width` mm."""
        text = text.translate(PLAIN).replace("\n", " ")
        if width is not None:
            text, size = _fit(text, width * PT, size, min_size or size * 0.85, bold)
        if not text:
            return
        font = (font_family(self, text), "B" if bold else "", size)
        if font != self.font_state or not self.current_font_is_set_on_page:
            self.set_font(*font)
            self.font_state = font
        self.text(x, baseline, text)

    def paragraph(self, x: float, width: float, text: str, size: float, *, bold: bool = False) -> None:
        """Wrapped text at the cursor, flowing onto new pages; words too long for a line are cut."""
        line_h = size * 1.3 / PT
        for line in wrap_text(text.translate(PLAIN), width * PT, size, bold):
            self.need(line_h)
            self.put(x, self.cursor + size * 0.8 / PT, line, size, bold=bold, width=width)
            self.cursor += line_h

    def heading(self, text: str) -> None:
        """A section title with a rule, kept with at least two lines of its section."""
        self.need(15)
        self.cursor += 3
        self.put(LEFT, self.cursor + 4, text, 10.5, bold=True, width=WIDTH)
        self.set_draw_color(90)
        self.set_line_width(0.3)
        self.line(LEFT, self.cursor + 5.6, RIGHT, self.cursor + 5.6)
        self.cursor += 7.5

    def field(self, label: str, value: str, *, max_lines: int = 4) -> None:
        """A label and its value, wrapped to at most `max_lines` lines (the last one cut)."""
        size = 8.5
        line_h = size * 1.3 / PT
        value_w = WIDTH - LABEL_W
        lines = wrap_text(value.translate(PLAIN), value_w * PT, size) or [""]
        if len(lines) > max_lines:
            lines = [*lines[: max_lines - 1], " ".join(lines[max_lines - 1 :])]
        self.need(line_h * min(len(lines), 2))
        self.put(LEFT, self.cursor + size * 0.8 / PT, label, size, bold=True, width=LABEL_W - 2)
        for line in lines:
            self.need(line_h)
            self.put(LEFT + LABEL_W, self.cursor + size * 0.8 / PT, line, size, width=value_w)
            self.cursor += line_h


def _qr(pdf: _CertificatePdf, data: str, x: float, y: float, side: float) -> None:
    """The QR symbol as filled rectangles, one per run of dark modules (crisp at any zoom or print)."""
    matrix = segno.make_qr(data, error="m", boost_error=False).matrix
    module = side / len(matrix)
    pdf.set_fill_color(0)
    for row_index, row in enumerate(matrix):
        start = None
        for col_index, dark in enumerate([*row, 0]):
            if dark and start is None:
                start = col_index
            elif not dark and start is not None:
                # A hair taller than a module, so rows join without seams when rasterised.
                pdf.rect(
                    x + start * module,
                    y + row_index * module,
                    (col_index - start) * module,
                    module + 0.02,
                    style="F",
                )
                start = None


def _get(mapping: object, key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, Mapping) else None


def _list(value: object) -> list[Any]:
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else []


def _front(
    pdf: _CertificatePdf,
    payload: Mapping[str, Any],
    words: Mapping[str, str],
    language: str,
    verify_url: str,
    key_id: str,
) -> None:
    """Page 1 onwards: identification, parties, custody, summary, methods and the attestation."""
    qr_x = RIGHT - QR_SIDE
    _qr(pdf, verify_url, qr_x, TOP - 3, QR_SIDE)
    # The caption stays out of the symbol's quiet zone (4 modules, ~4.4 mm for a short URL).
    pdf.put(qr_x, TOP - 3 + QR_SIDE + 6.5, words["scan"], 7, width=QR_SIDE)
    head_w = qr_x - LEFT - 6
    pdf.paragraph(LEFT, head_w, words["title"], 17, bold=True)
    pdf.cursor += 2
    pdf.put(
        LEFT,
        pdf.cursor + 5,
        f"{words['code']} {display_code(payload.get('code'))}",
        14,
        bold=True,
        width=head_w,
    )
    pdf.cursor += 9
    kind = str(payload.get("kind") or "")
    lines = [
        (words["version"], _text(payload.get("version"))),
        (words["kind"], words.get(f"kind.{kind}", _text(kind))),
        (words["issued_at"], _when(payload.get("issued_at"), language)),
    ]
    if payload.get("supersedes"):
        lines.append((words["supersedes"], display_code(payload["supersedes"])))
    for label, value in lines:
        pdf.put(LEFT, pdf.cursor + 3.2, label, 9, bold=True, width=30)
        pdf.put(LEFT + 31, pdf.cursor + 3.2, value, 9, width=head_w - 31)
        pdf.cursor += 4.6
    pdf.cursor = max(pdf.cursor, TOP - 3 + QR_SIDE + 8)

    issuer, donor, batch = payload.get("issuer"), payload.get("donor"), payload.get("batch")
    pdf.heading(words["issuer"])
    pdf.field(words["name"], _text(_get(issuer, "name")), max_lines=2)
    pdf.field(words["siret"], _text(_get(issuer, "siret")), max_lines=1)
    pdf.field(words["address"], _text(_get(issuer, "address")), max_lines=3)

    pdf.heading(words["donor"])
    pdf.field(words["name"], _text(_get(donor, "name")), max_lines=2)
    pdf.field(words["siret"], _text(_get(donor, "siret")), max_lines=1)
    pdf.field(words["batch"], display_code(_get(batch, "code")) or "-", max_lines=1)
    pdf.field(words["donor_reference"], _text(_get(batch, "donor_reference")), max_lines=2)

    device = payload.get("device")
    if isinstance(device, Mapping):
        pdf.heading(words["device"])
        pdf.field(words["device"], display_code(device.get("code")) or "-", max_lines=1)
        pdf.field(words["device.kind"], _text(device.get("kind")), max_lines=1)
        maker = " ".join(str(v) for v in (device.get("manufacturer"), device.get("model")) if v)
        pdf.field(words["device.model"], _text(maker), max_lines=2)
        pdf.field(words["device.serial"], _text(device.get("serial")), max_lines=1)

    custody = payload.get("custody")
    pdf.heading(words["custody"])
    pdf.field(words["agreement_signed_at"], _when(_get(custody, "agreement_signed_at"), language))
    pdf.field(words["collected_at"], _when(_get(custody, "collected_at"), language))
    pdf.field(words["collected_by"], _text(_get(custody, "collected_by")), max_lines=2)
    seals = [str(seal) for seal in _list(_get(custody, "seals"))]
    pdf.field(words["seals"], ", ".join(seals) or "-", max_lines=3)
    pdf.field(words["received_at"], _when(_get(custody, "received_at"), language))
    quantities = {
        name: _text(_get(custody, name)) for name in ("declared", "received", "missing", "not_in_manifest")
    }
    pdf.field(words["quantities"], words["quantities.text"].format(**quantities), max_lines=2)

    _counts(pdf, payload.get("counts"), words)

    pdf.heading(words["methods"])
    tools = [str(tool) for tool in _list(payload.get("tools"))]
    pdf.field(words["tools"], ", ".join(tools) or "-", max_lines=3)
    pdf.field(words["methods.list"], _methods(_list(payload.get("media")), words), max_lines=6)

    pdf.heading(words["attestation"])
    pdf.paragraph(LEFT, WIDTH, _text(payload.get("statement")), 9)
    pdf.cursor += 2
    pdf.paragraph(LEFT, WIDTH, words["signature"].format(key_id=key_id or "-", url=verify_url), 7.5)


def _counts(pdf: _CertificatePdf, counts: object, words: Mapping[str, str]) -> None:
    """The summary as a row of boxes: label above, number below."""
    pdf.heading(words["counts"])
    pdf.need(12)
    box_w = WIDTH / len(_COUNTS)
    pdf.set_draw_color(170)
    pdf.set_line_width(0.2)
    for index, name in enumerate(_COUNTS):
        x = LEFT + index * box_w
        pdf.rect(x, pdf.cursor, box_w, 11)
        pdf.put(x + 1, pdf.cursor + 3.6, words[f"counts.{name}"], 7, width=box_w - 2, min_size=5)
        pdf.put(x + 1, pdf.cursor + 9, _text(_get(counts, name)), 11, bold=True, width=box_w - 2)
    pdf.cursor += 13


def _methods(media: list[Any], words: Mapping[str, str]) -> str:
    """Each distinct category, technique and method once, with how many media it was used on."""
    used = Counter(
        " / ".join(_CATEGORIES.get(str(part), str(part)) for part in parts if part)
        for parts in (
            (_get(medium, "category"), _get(medium, "technique"), _get(medium, "method")) for medium in media
        )
    )
    used.pop("", None)
    items = [
        f"{name} ({count})" for name, count in sorted(used.items(), key=lambda item: (-item[1], item[0]))
    ]
    if len(items) > 5:
        items = [*items[:5], words["more"].format(count=len(items) - 5)]
    return "; ".join(items) or "-"


def _cells(medium: object, words: Mapping[str, str], language: str) -> Iterator[str]:
    """One annex row's texts, in column order."""
    record_hash = _text(_get(medium, "record_hash"))
    result = _text(_get(medium, "result"))
    kind = _text(_get(medium, "kind"))
    category = _text(_get(medium, "category"))
    yield _text(_get(medium, "serial"))
    yield _text(_get(medium, "model"))
    yield _MEDIA_KINDS.get(kind, kind)
    yield display_code(_get(medium, "device")) or "-"
    yield _CATEGORIES.get(category, category)
    yield _text(_get(medium, "method"))
    yield words.get(f"result.{result}", result)
    yield _when(_get(medium, "date"), language, date_only=True)
    # "…" is printed "..." (fonts.PLAIN), like every label: the page keeps the core font.
    yield record_hash[:16] + "\u2026" if len(record_hash) > 16 else record_hash


def _annex(pdf: _CertificatePdf, media: list[Any], words: Mapping[str, str], language: str) -> None:
    """One row per medium, over as many pages as needed, the header row repeated on each."""

    def header_row() -> None:
        pdf.set_fill_color(225)
        pdf.rect(LEFT, pdf.cursor, WIDTH, ROW_H + 0.4, style="F")
        x = LEFT
        for column in _COLUMNS:
            pdf.put(
                x + PAD,
                pdf.cursor + 3.1,
                words[f"col.{column.key}"],
                TABLE_SIZE,
                bold=True,
                width=column.width - 2 * PAD,
                min_size=5,
            )
            x += column.width
        pdf.cursor += ROW_H + 0.6

    # Start on a new page unless the heading, header row and a few rows fit here.
    pdf.need(8 + ROW_H * 5)
    pdf.cursor += 3
    pdf.put(LEFT, pdf.cursor + 4, words["annex"].format(count=len(media)), 10.5, bold=True, width=WIDTH)
    pdf.cursor += 7
    if not media:
        pdf.put(LEFT, pdf.cursor + 3, words["annex.none"], 8.5, width=WIDTH)
        return
    header_row()
    pdf.on_new_page.append(header_row)
    for index, medium in enumerate(media):
        pdf.need(ROW_H)
        if index % 2:
            pdf.set_fill_color(244)
            pdf.rect(LEFT, pdf.cursor, WIDTH, ROW_H, style="F")
        x = LEFT
        baseline = pdf.cursor + 3.0
        for column, text in zip(_COLUMNS, _cells(medium, words, language), strict=True):
            pdf.put(x + PAD, baseline, text, TABLE_SIZE, width=column.width - 2 * PAD, min_size=5.5)
            x += column.width
        pdf.cursor += ROW_H
    pdf.on_new_page.remove(header_row)


def render_certificate_pdf(envelope: Mapping[str, Any], *, verify_url: str, language: str = "fr") -> bytes:
    """The certificate as an A4 PDF, with the envelope attached as `certificate.json`.

    `envelope` is what `SigningKey.sign` returns; it is rendered as given (verify
    it first if it comes from outside). Same inputs, same bytes.
    """
    words = TEXTS.get(language)
    if words is None:
        raise ValueError(f"certificates are written in {' or '.join(TEXTS)}, not {language!r}")
    payload = envelope.get("certificate")
    if not isinstance(payload, Mapping):
        raise ValueError("the envelope has no certificate object")
    issued = _parse_when(payload.get("issued_at"))
    if not isinstance(issued, datetime):
        raise ValueError("the certificate's issued_at must be an ISO 8601 date and time")
    attachment = canonical_bytes(envelope)
    code = str(payload.get("code") or "")
    file_hash = hashlib.sha256(b"\0".join([attachment, verify_url.encode(), language.encode()]))
    pdf = _CertificatePdf(words, display_code(code), verify_url, file_hash.hexdigest()[:32].upper())
    pdf.set_title(f"{words['title']} {display_code(code)}")
    pdf.set_subject(code)
    pdf.set_author(_text(_get(payload.get("issuer"), "name")))
    pdf.set_creator("Refurb")
    pdf.set_producer("Refurb")
    pdf.set_lang(language)
    pdf.set_creation_date(issued)
    pdf.embed_file(
        bytes=attachment,
        basename=ATTACHMENT_NAME,
        mime_type="application/json",
        desc=f"{words['title']} {display_code(code)} (JSON, Ed25519)",
        creation_date=issued,
        modification_date=issued,
        compress=True,
    )
    pdf.start_page()
    key_id = _get(envelope.get("signature"), "key_id")
    _front(pdf, payload, words, language, verify_url, str(key_id) if key_id else "")
    _annex(pdf, _list(payload.get("media")), words, language)
    return bytes(pdf.output())
