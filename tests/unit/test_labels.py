"""Every label kind on every stock, 203 and 300 dpi: rasterised and decoded by a real decoder, first try."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp

from refurb.core.codes import CodeType, make_code
from refurb.printing.kinds import SAMPLES, DeviceLabel, LabelKind
from refurb.printing.layout import Bars, LayoutError, Qr, Text, compose
from refurb.printing.pdf import SheetPlacement
from refurb.printing.png import render_image
from refurb.printing.render import Format, RenderError, compose_labels, render
from refurb.printing.resources import labels_dir
from refurb.printing.symbols import code128_modules
from refurb.printing.templates import Catalogue, TemplateError, catalogue
from refurb.printing.zpl import render_zpl

CATALOGUE = catalogue(labels_dir())
CASES = [
    (kind, stock, dpi)
    for kind, template in CATALOGUE.templates.items()
    for stock in template.stocks
    for dpi in (203, 300)
]
IDS = [f"{kind.value}-{stock}-{dpi}" for kind, stock, dpi in CASES]


def expected_codes(kind: LabelKind) -> set[str]:
    sample = SAMPLES[kind]
    codes = {sample.code}
    if kind is LabelKind.RECEIPT:
        codes.add(sample.household_code)
    return codes


def decoded(image) -> dict[str, str]:
    return {result.text: result.format.name for result in zxingcpp.read_barcodes(image)}


def test_every_kind_has_a_template_and_the_stocks_exist() -> None:
    assert set(CATALOGUE.templates) == set(LabelKind)
    for name in ("57x32", "50x25", "62x29", "dymo-11354", "avery-l7160", "avery-l7651"):
        assert name in CATALOGUE.stocks


@pytest.mark.parametrize(("kind", "stock", "dpi"), CASES, ids=IDS)
def test_png_decodes_first_try(kind: LabelKind, stock: str, dpi: int) -> None:
    page = compose_labels(CATALOGUE, kind, [SAMPLES[kind]], CATALOGUE.stocks[stock], dpi)[0]
    found = decoded(render_image(page))
    assert expected_codes(kind) <= set(found), found
    for code in expected_codes(kind):
        assert found[code] == "Code128"
    qr = [item for item in page.items if isinstance(item, Qr)]
    for symbol in qr:
        assert found.get(symbol.data) == "QRCode"


@pytest.mark.parametrize(("kind", "stock", "dpi"), CASES, ids=IDS)
def test_pdf_decodes_first_try(kind: LabelKind, stock: str, dpi: int) -> None:
    rendered = render(CATALOGUE, kind, [SAMPLES[kind]], CATALOGUE.stocks[stock], Format.PDF, dpi=dpi)
    document = pypdfium2.PdfDocument(rendered.content)
    page = document[0]
    if CATALOGUE.stocks[stock].sheet is None:
        width_mm, height_mm = page.get_size()[0] * 25.4 / 72, page.get_size()[1] * 25.4 / 72
        assert round(width_mm, 1) == CATALOGUE.stocks[stock].width
        assert round(height_mm, 1) == CATALOGUE.stocks[stock].height
    found = decoded(page.render(scale=dpi / 72).to_pil())
    assert expected_codes(kind) <= set(found), found
    composed = compose_labels(CATALOGUE, kind, [SAMPLES[kind]], CATALOGUE.stocks[stock], dpi)[0]
    for symbol in (item for item in composed.items if isinstance(item, Qr)):
        assert found.get(symbol.data) == "QRCode", symbol.data


@pytest.mark.parametrize(("kind", "stock", "dpi"), CASES, ids=IDS)
def test_bars_are_whole_printer_dots_with_quiet_zones(kind: LabelKind, stock: str, dpi: int) -> None:
    page = compose_labels(CATALOGUE, kind, [SAMPLES[kind]], CATALOGUE.stocks[stock], dpi)[0]
    for bars in (item for item in page.items if isinstance(item, Bars)):
        assert isinstance(bars.module, int)
        assert bars.module >= (2 if dpi == 203 else 3)  # 0.25 mm at 203 dpi, 0.254 mm at 300 dpi
        width = len(bars.modules) * bars.module
        assert bars.x >= 0
        assert bars.x + width <= page.width


def test_quiet_zones_clear_of_other_ink() -> None:
    """Nothing is drawn within 10 modules left or right of the bars."""
    for kind, stock, dpi in CASES:
        page = compose_labels(CATALOGUE, kind, [SAMPLES[kind]], CATALOGUE.stocks[stock], dpi)[0]
        image = render_image(page)
        for bars in (item for item in page.items if isinstance(item, Bars)):
            quiet = 10 * bars.module
            top, bottom = bars.y, bars.y + bars.height
            left = image.crop((max(0, bars.x - quiet), top, bars.x, bottom))
            right_x = bars.x + len(bars.modules) * bars.module
            right = image.crop((right_x, top, min(page.width, right_x + quiet), bottom))
            assert left.getextrema()[0] == 255, (kind, stock, dpi, "left")
            assert right.getextrema()[0] == 255, (kind, stock, dpi, "right")


ZPL_CASES = [
    (k, s, d) for k, s, d in CASES if CATALOGUE.stocks[s].sheet is None and CATALOGUE.stocks[s].width <= 108
]


@pytest.mark.parametrize(
    ("kind", "stock", "dpi"), ZPL_CASES, ids=[f"{k.value}-{s}-{d}" for k, s, d in ZPL_CASES]
)
def test_zpl_structure(kind: LabelKind, stock: str, dpi: int) -> None:
    pages = compose_labels(CATALOGUE, kind, [SAMPLES[kind]], CATALOGUE.stocks[stock], dpi)
    zpl = render_zpl(pages)
    blocks = [b for b in zpl.strip().split("\n") if b]
    assert len(blocks) == len(pages)
    for block, page in zip(blocks, pages, strict=True):
        assert block.startswith(f"^XA^CI28^PW{page.width}^LL{page.height}^LH0,0")
        assert block.endswith("^PQ1^XZ")
        for item in page.items:
            if isinstance(item, Bars):
                field = f"^FO{item.x},{item.y}^BY{item.module}^BCN,{item.height},N,N,N,A^FD{item.data}^FS"
                assert field in block
                assert re.fullmatch(r"[A-Z0-9]+", item.data)
            elif isinstance(item, Qr):
                assert (
                    f"^FO{item.x},{item.y}^BQN,2,{item.module}^FH\\^FD{item.error.upper()}A,{item.data}^FS"
                    in block
                )
            elif isinstance(item, Text):
                assert f"^FT{item.x},{item.baseline}^A0N,{item.size},{item.size}^FH\\^FD" in block
        for data in re.findall(r"\^BCN,[^\^]*\^FD([^\^]*)\^FS", block):
            assert re.fullmatch(r"[A-Z0-9]+", data)
    # 57 x 32 mm at 203 dpi is 456 x 256 dots
    if stock == "57x32" and dpi == 203:
        assert "^PW456^LL256" in zpl


def test_zpl_escapes_caret_and_tilde_in_text() -> None:
    label = SAMPLES[LabelKind.DEVICE].model_copy(update={"make_model": "HP ^XZ ~JA model"})
    pages = compose_labels(CATALOGUE, LabelKind.DEVICE, [label], CATALOGUE.stocks["57x32"], 203)
    zpl = render_zpl(pages)
    assert "HP \\5EXZ \\7EJA model" in zpl
    assert zpl.count("^XZ") == 1


def test_zpl_is_refused_for_sheets_and_pages() -> None:
    for stock in ("avery-l7160", "a4"):
        template_kind = LabelKind.DEVICE if stock.startswith("avery") else LabelKind.RECEIPT
        with pytest.raises(RenderError) as caught:
            render(CATALOGUE, template_kind, [SAMPLES[template_kind]], CATALOGUE.stocks[stock], Format.ZPL)
        assert caught.value.code == "format_not_for_stock"


def test_sheet_start_position_and_offsets() -> None:
    stock = CATALOGUE.stocks["avery-l7160"]
    sample = SAMPLES[LabelKind.LOCATION]
    plain = render(CATALOGUE, LabelKind.LOCATION, [sample], stock, Format.PDF, placement=SheetPlacement(1))
    moved = render(
        CATALOGUE, LabelKind.LOCATION, [sample], stock, Format.PDF, placement=SheetPlacement(5, 1.5, -2.0)
    )

    def barcode_box(content: bytes) -> tuple[float, float]:
        image = pypdfium2.PdfDocument(content)[0].render(scale=300 / 72).to_pil()
        (result,) = zxingcpp.read_barcodes(image)
        return result.position.top_left.x * 25.4 / 300, result.position.top_left.y * 25.4 / 300

    x1, y1 = barcode_box(plain.content)
    x5, y5 = barcode_box(moved.content)
    # position 5 is row 2, column 2 of a 3-column sheet
    assert x5 - x1 == pytest.approx(stock.sheet.pitch_x + 1.5, abs=0.3)
    assert y5 - y1 == pytest.approx(stock.sheet.pitch_y - 2.0, abs=0.3)


def test_sheets_continue_on_the_next_page() -> None:
    stock = CATALOGUE.stocks["avery-l7160"]
    labels = []
    for serial in range(1, 26):
        code = make_code(CodeType.LOCATION, serial)
        labels.append(
            SAMPLES[LabelKind.LOCATION].model_copy(
                update={"code": code.compact, "display_code": code.display}
            )
        )
    rendered = render(CATALOGUE, LabelKind.LOCATION, labels, stock, Format.PDF, placement=SheetPlacement(5))
    document = pypdfium2.PdfDocument(rendered.content)
    assert len(document) == 2  # 17 on the first sheet (from position 5), 8 on the second
    first = decoded(document[0].render(scale=300 / 72).to_pil())
    second = decoded(document[1].render(scale=300 / 72).to_pil())
    assert set(first) == {label.code for label in labels[:17]}
    assert set(second) == {label.code for label in labels[17:]}


def test_a_start_past_the_sheet_is_refused() -> None:
    stock = CATALOGUE.stocks["avery-l7651"]
    with pytest.raises(RenderError) as caught:
        render(
            CATALOGUE,
            LabelKind.DEVICE,
            [SAMPLES[LabelKind.DEVICE]],
            stock,
            Format.PDF,
            placement=SheetPlacement(66),
        )
    assert caught.value.code == "bad_sheet_position"


def test_manifest_pages_hold_every_line() -> None:
    manifest = SAMPLES[LabelKind.MANIFEST]
    rendered = render(CATALOGUE, LabelKind.MANIFEST, [manifest], CATALOGUE.stocks["a4"], Format.PDF)
    document = pypdfium2.PdfDocument(rendered.content)
    found: set[str] = set()
    for page in document:
        found |= set(decoded(page.render(scale=300 / 72).to_pil()))
    assert {line.code for line in manifest.lines} <= found
    assert manifest.code in found
    assert len(document) == 3  # 30 lines, 14 a page


def test_long_text_is_shrunk_then_cut_inside_its_box() -> None:
    label = SAMPLES[LabelKind.DEVICE].model_copy(
        update={"make_model": "Hewlett-Packard EliteBook x360 1040 G8 Notebook PC with extra words"}
    )
    page = compose_labels(CATALOGUE, LabelKind.DEVICE, [label], CATALOGUE.stocks["57x32"], 203)[0]
    (model,) = [item for item in page.items if isinstance(item, Text) and item.text.startswith("Hewlett")]
    assert model.text.endswith("...")
    from refurb.printing import fonts

    assert fonts.text_width(model.text, model.size, model.bold) <= model.width


def test_a_barcode_that_cannot_fit_is_a_clear_error() -> None:
    layout = CATALOGUE.templates[LabelKind.DEVICE].layouts[-1]
    narrow = CATALOGUE.stocks["avery-l7651"].model_copy(update={"width": 20.0})
    with pytest.raises(LayoutError, match=r"needs .* mm with its quiet zones"):
        compose(layout, narrow, 203, SAMPLES[LabelKind.DEVICE].model_dump())


def test_no_household_name_on_labels_by_default() -> None:
    card = SAMPLES[LabelKind.CONVOCATION]
    assert card.name == ""
    page = compose_labels(CATALOGUE, LabelKind.CONVOCATION, [card], CATALOGUE.stocks["a6"], 300)[0]
    texts = " ".join(item.text for item in page.items if isinstance(item, Text))
    assert card.display_code in texts


def test_python_barcode_leading_99_is_never_fed() -> None:
    with pytest.raises(ValueError, match="99"):
        code128_modules("9912345678")
    with pytest.raises(ValueError, match=r"\[A-Z0-9\]"):
        code128_modules("d-0001234-5")


def test_svg_has_a_viewbox_and_mm_size() -> None:
    rendered = render(
        CATALOGUE, LabelKind.DEVICE, [SAMPLES[LabelKind.DEVICE]], CATALOGUE.stocks["57x32"], Format.SVG
    )
    svg = rendered.content.decode()
    assert 'viewBox="0 0 456 256"' in svg
    assert 'width="57.00mm" height="32.00mm"' in svg
    assert SAMPLES[LabelKind.DEVICE].display_code in svg


def test_same_geometry_in_every_backend() -> None:
    """The PNG is drawn from the same dots as the ZPL and the SVG."""
    page = compose_labels(
        CATALOGUE, LabelKind.DEVICE, [SAMPLES[LabelKind.DEVICE]], CATALOGUE.stocks["57x32"], 203
    )[0]
    (bars,) = [item for item in page.items if isinstance(item, Bars)]
    image = render_image(page)
    row = [image.getpixel((x, bars.y + bars.height // 2)) for x in range(page.width)]
    first_dark = next(x for x, value in enumerate(row) if value < 128)
    assert first_dark == bars.x
    svg = render(
        CATALOGUE, LabelKind.DEVICE, [SAMPLES[LabelKind.DEVICE]], CATALOGUE.stocks["57x32"], Format.SVG
    )
    assert f"M{bars.x} {bars.y}h" in svg.content.decode()


def test_broken_templates_are_refused_with_their_file_name(tmp_path: Path) -> None:
    shutil.copytree(labels_dir(), tmp_path / "labels")
    template = tmp_path / "labels" / "templates" / "device.toml"
    template.write_text(template.read_text().replace("{organisation}", "{organisaton}"))
    with pytest.raises(TemplateError, match=r"device\.toml: unknown placeholder"):
        Catalogue.load(tmp_path / "labels")
    template.write_text(
        "kind = 'device'\ntitle = 'x'\nstocks = ['nope']\n"
        "default_stock = 'nope'\n[[layouts]]\nelements = []\n"
    )
    with pytest.raises(TemplateError, match="unknown stock 'nope'"):
        Catalogue.load(tmp_path / "labels")


def test_a_new_stock_is_just_a_file(tmp_path: Path) -> None:
    shutil.copytree(labels_dir(), tmp_path / "labels")
    (tmp_path / "labels" / "stock" / "70x40.toml").write_text(
        'name = "70x40"\ntitle = "70 × 40"\nwidth = 70.0\nheight = 40.0\ndpi = 203\n'
    )
    template = tmp_path / "labels" / "templates" / "device.toml"
    template.write_text(template.read_text().replace('stocks = ["57x32"', 'stocks = ["70x40", "57x32"'))
    loaded = catalogue(tmp_path / "labels")
    label = DeviceLabel(**SAMPLES[LabelKind.DEVICE].model_dump())
    page = compose_labels(loaded, LabelKind.DEVICE, [label], loaded.stocks["70x40"], 203)[0]
    assert label.code in decoded(render_image(page))


def test_a_big_job_is_composed_in_parallel_and_keeps_its_order() -> None:
    from refurb.printing.parallel import PARALLEL_FROM

    count = PARALLEL_FROM + 30
    labels = []
    for serial in range(500_000, 500_000 + count):
        code = make_code(CodeType.DEVICE, serial)
        labels.append(
            SAMPLES[LabelKind.DEVICE].model_copy(
                update={
                    "code": code.compact,
                    "display_code": code.display,
                    "url": f"HTTP://X/D/{code.compact}",
                }
            )
        )
    rendered = render(CATALOGUE, LabelKind.DEVICE, labels, CATALOGUE.stocks["57x32"], Format.PDF)
    assert rendered.pages == count
    document = pypdfium2.PdfDocument(rendered.content)
    assert len(document) == count
    for index in (0, count // 2, count - 1):
        found = decoded(document[index].render(scale=203 / 72).to_pil())
        assert labels[index].code in found
        assert labels[index].url in found


@pytest.mark.parametrize(("kind", "stock", "dpi"), CASES, ids=IDS)
def test_text_stays_inside_its_box(kind: LabelKind, stock: str, dpi: int) -> None:
    long = {
        name: "W" * 80
        for name, value in dict(SAMPLES[kind]).items()
        if isinstance(value, str) and "code" not in name
    }
    label = SAMPLES[kind].model_copy(update={k: v for k, v in long.items() if k not in ("url", "verify_url")})
    from refurb.printing import fonts

    for page in compose_labels(CATALOGUE, kind, [label], CATALOGUE.stocks[stock], dpi):
        for text in (item for item in page.items if isinstance(item, Text)):
            assert fonts.text_width(text.text, text.size, text.bold) <= text.width + 0.001, text
            assert 0 <= text.x <= page.width


def test_household_names_stay_off_convocations_unless_enabled() -> None:
    from refurb.printing.service import LabelContext, redact

    named = SAMPLES[LabelKind.CONVOCATION].model_copy(update={"name": "Famille Martin"})
    (kept,) = redact(LabelKind.CONVOCATION, [named], LabelContext(base_url="http://x"))
    assert kept.name == ""
    page = compose_labels(CATALOGUE, LabelKind.CONVOCATION, [kept], CATALOGUE.stocks["a6"], 300)[0]
    assert "Martin" not in " ".join(item.text for item in page.items if isinstance(item, Text))
    (allowed,) = redact(
        LabelKind.CONVOCATION, [named], LabelContext(base_url="http://x", household_names=True)
    )
    assert allowed.name == "Famille Martin"
