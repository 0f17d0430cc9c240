"""Labels through the API, print jobs, raw-TCP printers, and printing from stations."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import socket
from collections.abc import Iterator

import pypdfium2
import pytest
import zxingcpp
from PIL import Image

from refurb.core.lifecycle import State
from refurb.core.stages import Stage
from refurb.printing.drivers import PrinterUnreachable, send_raw
from refurb.printing.tables import PrintedLabel, PrintJob
from tests.helpers import device_row, event_rows, new_batch, new_device, new_station


def codes_in_png(content: bytes) -> set[str]:
    return {r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(content)))}


def codes_in_pdf(content: bytes) -> list[set[str]]:
    document = pypdfium2.PdfDocument(content)
    return [
        {r.text for r in zxingcpp.read_barcodes(page.render(scale=300 / 72).to_pil())} for page in document
    ]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose listen queue is full: connections to it are never answered."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for filler in fillers:
        filler.close()
    listener.close()


async def test_label_of_a_device_in_every_format(client, as_user) -> None:
    device = await new_device(State.RECEIVED, serial="SN-42")
    url = f"/api/v1/labels/{device.display_code}"
    headers = as_user("technician")
    png = await client.get(url, params={"format": "png"}, headers=headers)
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert device.code in codes_in_png(png.content)
    assert f"HTTP://127.0.0.1:8000/D/{device.code}" in codes_in_png(png.content)
    pdf = await client.get(url, params={"format": "pdf", "stock": "62x29", "dpi": 300}, headers=headers)
    assert pdf.headers["content-type"] == "application/pdf"
    assert codes_in_pdf(pdf.content)[0] >= {device.code}
    svg = await client.get(url, params={"format": "svg"}, headers=headers)
    assert svg.text.startswith("<svg")
    assert "viewBox" in svg.text
    zpl = await client.get(url, params={"format": "zpl", "dpi": 203}, headers=headers)
    assert zpl.headers["content-type"].startswith("text/plain")
    assert zpl.headers["content-disposition"].startswith("attachment")
    assert f"^FD{device.code}^FS" in zpl.text
    assert "SN-42" in zpl.text
    assert await PrintJob.count() == 0  # previews are not prints


async def test_the_qr_opens_the_device_page(client, as_user) -> None:
    device = await new_device(State.RECEIVED)
    png = await client.get(
        f"/api/v1/labels/{device.code}", params={"format": "png"}, headers=as_user("technician")
    )
    (url,) = [text for text in codes_in_png(png.content) if text.startswith("HTTP")]
    path = url.split("8000", 1)[1]
    response = await client.get(path, headers=as_user("technician"))
    assert response.status_code == 303
    assert response.headers["location"] == f"/devices/{device.code}"


async def test_pallet_labels_one_per_crate(client, as_user) -> None:
    batch = await new_batch("Donor One")
    await new_device(State.DECLARED, batch=batch)
    response = await client.get(
        f"/api/v1/labels/{batch.code}", params={"crates": 3, "stock": "57x32"}, headers=as_user("donor")
    )
    assert response.status_code == 200
    pages = codes_in_pdf(response.content)
    assert pages == [{batch.code}] * 3
    assert response.headers["x-label-pages"] == "3"
    foreign = await client.get(f"/api/v1/labels/{batch.code}", headers=as_user("other_donor"))
    assert foreign.status_code == 404


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"kind": "sticker"}, 400, "unknown_label_kind"),
        ({"stock": "a3"}, 400, "unknown_stock"),
        ({"stock": "a4"}, 400, "stock_not_for_kind"),
        ({"format": "zpl", "stock": "avery-l7160"}, 400, "format_not_for_stock"),
        ({"stock": "avery-l7651", "start": 66}, 400, "bad_sheet_position"),
        ({"kind": "wiped"}, 409, "erasure_not_certified"),
        ({"kind": "spec"}, 409, "device_not_tested"),
        ({"kind": "batch"}, 400, "kind_not_for_code"),
        ({"format": "gif"}, 400, "validation_error"),
        ({"dpi": 600}, 400, "bad_dpi"),
    ],
)
async def test_bad_label_requests(client, as_user, params, status, code) -> None:
    device = await new_device(State.RECEIVED)
    response = await client.get(f"/api/v1/labels/{device.code}", params=params, headers=as_user("technician"))
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


async def test_unknown_and_misread_codes(client, as_user) -> None:
    response = await client.get("/api/v1/labels/D00000000", headers=as_user("technician"))
    assert response.json()["code"] == "bad_check_digit"
    from refurb.core.codes import CodeType, make_code

    unknown = make_code(CodeType.DEVICE, 7_777_777).compact
    assert (await client.get(f"/api/v1/labels/{unknown}", headers=as_user("technician"))).status_code == 404


async def test_samples_preview_every_kind(client, as_user) -> None:
    for kind in (
        "batch",
        "device",
        "wiped",
        "spec",
        "licence",
        "location",
        "convocation",
        "receipt",
        "manifest",
    ):
        response = await client.get(
            f"/api/v1/labels/samples/{kind}", params={"format": "png"}, headers=as_user("auditor")
        )
        assert response.status_code == 200, kind
        assert codes_in_png(response.content), kind


async def test_download_print_job_is_recorded_and_reprints_marked(client, as_user) -> None:
    device = await new_device(State.COLLECTED)
    headers = as_user("technician")
    first = await client.post("/api/v1/labels/print-jobs", json={"codes": [device.code]}, headers=headers)
    assert first.status_code == 201
    assert first.headers["content-type"] == "application/pdf"
    job_id = int(first.headers["x-print-job"])
    assert codes_in_pdf(first.content)[0] >= {device.code}
    again = await client.post(
        "/api/v1/labels/print-jobs", json={"codes": [device.display_code]}, headers=headers
    )
    jobs = await PrintJob.select().order_by(PrintJob.id)
    assert [(j["id"], j["status"], j["reprint"], j["kind"]) for j in jobs] == [
        (job_id, "printed", False, "device"),
        (int(again.headers["x-print-job"]), "printed", True, "device"),
    ]
    notes = [e for e in await event_rows(device.code) if e["action"] == "label_printed"]
    assert len(notes) == 2
    payloads = [json.loads(e["payload"]) if isinstance(e["payload"], str) else e["payload"] for e in notes]
    assert [p["reprint"] for p in payloads] == [False, True]
    assert all(e["from_state"] == e["to_state"] == "collected" for e in notes)
    assert (await device_row(device.code))["version"] == 1  # a print changes no state


async def test_a_batch_code_prints_its_devices_tags_on_a_sheet(client, as_user) -> None:
    batch = await new_batch()
    devices = [await new_device(State.DECLARED, batch=batch) for _ in range(3)]
    response = await client.post(
        "/api/v1/labels/print-jobs",
        json={"codes": [batch.code], "kind": "device", "stock": "avery-l7160", "start": 4, "offset_x": 0.5},
        headers=as_user("supervisor"),
    )
    assert response.status_code == 201
    (page,) = codes_in_pdf(response.content)
    assert {d.code for d in devices} <= page
    assert await PrintedLabel.count() == 3


async def test_printing_to_a_raw_tcp_printer(client, as_user, printer_server) -> None:
    device = await new_device(State.RECEIVED)
    admin = as_user("admin")
    created = await client.post(
        "/api/v1/printers",
        json={"name": "Zebra atelier", "driver": "zpl-tcp", "host": "127.0.0.1", "port": printer_server.port,
              "stock": "57x32", "dpi": 203},
        headers=admin,
    )  # fmt: skip
    assert created.status_code == 201
    response = await client.post(
        "/api/v1/labels/print-jobs", json={"codes": [device.code], "printer": "Zebra atelier"}, headers=admin
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["printer"], body["labels"], body["format"]) == (
        "printed",
        "Zebra atelier",
        1,
        "zpl",
    )
    await asyncio.wait_for(printer_server.done.wait(), 5)
    expected = await client.get(
        f"/api/v1/labels/{device.code}", params={"format": "zpl", "stock": "57x32", "dpi": 203}, headers=admin
    )
    assert printer_server.received == [expected.content]
    assert printer_server.received[0].startswith(b"^XA^CI28^PW456^LL256")


async def test_an_unreachable_printer_prints_nothing(client, as_user) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    device = await new_device(State.RECEIVED)
    admin = as_user("admin")
    await client.post(
        "/api/v1/printers",
        json={"name": "Off", "driver": "zpl-tcp", "host": "127.0.0.1", "port": closed_port, "stock": "57x32"},
        headers=admin,
    )
    response = await client.post(
        "/api/v1/labels/print-jobs", json={"codes": [device.code], "printer": "Off"}, headers=admin
    )
    assert response.status_code == 502
    assert response.json()["code"] == "printer_unreachable"
    assert "Off" in response.json()["detail"]
    (job,) = await PrintJob.select()
    assert job["status"] == "failed"
    assert "cannot connect" in job["error"]
    assert await PrintedLabel.count() == 0
    assert [e["action"] for e in await event_rows(device.code)] == ["import"]


async def test_a_printer_that_does_not_answer_times_out(silent_port: int) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(PrinterUnreachable, match=r"no answer .* within 0.5 s"):
        await send_raw("127.0.0.1", silent_port, b"^XA^XZ", connect_timeout=0.5)
    assert loop.time() - started < 3


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": "P", "driver": "zpl-tcp", "stock": "57x32"}, 400, "bad_printer"),
        ({"name": "P", "driver": "zpl-tcp", "host": "h", "stock": "avery-l7160"}, 400, "bad_printer"),
        ({"name": "P", "driver": "pdf", "stock": "a3"}, 400, "unknown_stock"),
        ({"name": "P", "driver": "lpr", "stock": "57x32"}, 400, "validation_error"),
    ],
)
async def test_bad_printers(client, as_user, body, status, code) -> None:
    response = await client.post("/api/v1/printers", json=body, headers=as_user("admin"))
    assert response.status_code == status
    assert response.json()["code"] == code


async def test_a_reception_station_with_a_printer_prints_then_receives(
    client, as_user, printer_server
) -> None:
    admin = as_user("admin")
    await client.post(
        "/api/v1/printers",
        json={"name": "Réception", "driver": "zpl-tcp", "host": "127.0.0.1", "port": printer_server.port,
              "stock": "57x32"},
        headers=admin,
    )  # fmt: skip
    station = await new_station(Stage.RECEPTION)
    assigned = await client.put(
        f"/api/v1/stations/{station.code}/printer", json={"printer": "Réception"}, headers=admin
    )
    assert assigned.json()["printer"] == "Réception"
    device = await new_device(State.COLLECTED)
    response = await client.post(
        "/api/v1/scans", json={"station": station.code, "text": device.code}, headers=as_user("technician")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["result"] == "recorded"
    assert body["device"]["state"] == "received"
    assert body["printed"]["kind"] == "device"
    assert body["printed"]["printer"] == "Réception"
    await asyncio.wait_for(printer_server.done.wait(), 5)
    assert f"^FD{device.code}^FS".encode() in printer_server.received[0]
    actions = [e["action"] for e in await event_rows(device.code)]
    assert actions == ["import", "label_printed", "receive"]


async def test_without_a_printer_the_tag_is_downloaded_then_received(client, as_user) -> None:
    station = await new_station(Stage.RECEPTION)
    device = await new_device(State.DECLARED)
    headers = as_user("technician")
    asked = await client.post(
        "/api/v1/scans", json={"station": station.code, "text": device.code}, headers=headers
    )
    assert (asked.status_code, asked.json()["result"]) == (200, "needs_label")
    job = asked.json()["label"] | {"codes": [device.code], "station": station.code}
    download = await client.post("/api/v1/labels/print-jobs", json=job, headers=headers)
    assert download.status_code == 201
    received = await client.post(
        "/api/v1/scans", json={"station": station.code, "text": device.code}, headers=headers
    )
    assert received.json()["result"] == "recorded"
    assert received.json()["device"]["custodian"] == "Workshop"


async def test_device_page_shows_prints_and_links_to_labels(client, as_user) -> None:
    device = await new_device(State.RECEIVED)
    await client.post(
        "/api/v1/labels/print-jobs", json={"codes": [device.code]}, headers=as_user("technician")
    )
    page = await client.get(f"/devices/{device.code}", headers=as_user("technician"))
    assert f'href="/labels/{device.code}"' in page.text
    assert "étiquette imprimée" in page.text
    preview = await client.get(f"/labels/{device.code}", headers=as_user("technician"))
    assert preview.status_code == 200
    assert f"/api/v1/labels/{device.code}?kind=device" in preview.text
    assert 'id="print-form"' in preview.text


async def test_no_label_for_a_station_code(client, as_user) -> None:
    station = await new_station(Stage.RECEPTION)
    response = await client.get(f"/api/v1/labels/{station.code}", headers=as_user("technician"))
    assert response.status_code == 400
    assert response.json()["code"] == "no_label_for_code"


async def test_a_station_prints_by_itself_only_on_a_raw_printer(client, as_user) -> None:
    admin = as_user("admin")
    await client.post(
        "/api/v1/printers", json={"name": "Navigateur", "driver": "pdf", "stock": "57x32"}, headers=admin
    )
    station = await new_station(Stage.RECEPTION)
    response = await client.put(
        f"/api/v1/stations/{station.code}/printer", json={"printer": "Navigateur"}, headers=admin
    )
    assert response.status_code == 400
    assert response.json()["code"] == "station_printer_not_raw"


async def test_reprints_are_marked_per_device(client, as_user) -> None:
    first, second = await new_device(State.RECEIVED), await new_device(State.RECEIVED)
    headers = as_user("technician")
    await client.post("/api/v1/labels/print-jobs", json={"codes": [first.code]}, headers=headers)
    await client.post("/api/v1/labels/print-jobs", json={"codes": [first.code, second.code]}, headers=headers)
    jobs = await PrintJob.select(PrintJob.reprint).order_by(PrintJob.id)
    assert [j["reprint"] for j in jobs] == [False, True]

    def reprints(events):
        return [
            (json.loads(e["payload"]) if isinstance(e["payload"], str) else e["payload"])["reprint"]
            for e in events
            if e["action"] == "label_printed"
        ]

    assert reprints(await event_rows(first.code)) == [False, True]
    assert reprints(await event_rows(second.code)) == [False]


async def test_a_zpl_printer_prints_at_its_own_resolution(client, as_user, printer_server) -> None:
    device = await new_device(State.RECEIVED)
    admin = as_user("admin")
    await client.post(
        "/api/v1/printers",
        json={"name": "Z300", "driver": "zpl-tcp", "host": "127.0.0.1", "port": printer_server.port,
              "stock": "62x29", "dpi": 300},
        headers=admin,
    )  # fmt: skip
    response = await client.post(
        "/api/v1/labels/print-jobs",
        json={"codes": [device.code], "printer": "Z300", "dpi": 203},
        headers=admin,
    )
    assert response.json()["dpi"] == 300
    await asyncio.wait_for(printer_server.done.wait(), 5)
    assert printer_server.received[0].startswith(b"^XA^CI28^PW732^LL343")  # 62 x 29 mm at 300 dpi


async def test_printing_for_a_station_one_may_not_use(client, as_user) -> None:
    station = await new_station(Stage.RECEPTION)
    batch = await new_batch()
    response = await client.post(
        "/api/v1/labels/print-jobs",
        json={"codes": [batch.code], "kind": "batch", "station": station.code},
        headers=as_user("driver"),
    )
    assert response.status_code == 403
    assert await PrintJob.count() == 0


async def test_broken_templates_are_a_clear_503(client, as_user, tmp_path, monkeypatch) -> None:
    import shutil

    from refurb.printing.resources import labels_dir

    shutil.copytree(labels_dir(), tmp_path / "labels")
    broken = tmp_path / "labels" / "templates" / "device.toml"
    broken.write_text(broken.read_text().replace("[[layouts]]", "[[layouts", 1))
    monkeypatch.setenv("REFURB_LABELS_DIR", str(tmp_path / "labels"))
    device = await new_device(State.RECEIVED)
    response = await client.get(f"/api/v1/labels/{device.code}", headers=as_user("technician"))
    assert response.status_code == 503
    assert response.json()["code"] == "label_templates_broken"
    assert "device.toml" in response.json()["detail"]


@pytest.mark.parametrize("host", ["printer host", "a;b", "-x"])
async def test_printer_hosts_are_checked(client, as_user, host) -> None:
    body = {"name": "P", "driver": "zpl-tcp", "host": host, "stock": "57x32"}
    response = await client.post("/api/v1/printers", json=body, headers=as_user("admin"))
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


async def test_every_kind_prints_to_a_raw_tcp_printer(printer_server) -> None:
    from refurb.printing.kinds import SAMPLES
    from refurb.printing.render import Format, render
    from refurb.printing.resources import labels_dir
    from refurb.printing.templates import catalogue

    cat = catalogue(labels_dir())
    for kind, template in cat.templates.items():
        stock = next(cat.stocks[name] for name in template.stocks if cat.stocks[name].sheet is None
                     and cat.stocks[name].width <= 108)  # fmt: skip
        zpl = render(cat, kind, [SAMPLES[kind]], stock, Format.ZPL).content
        printer_server.done.clear()
        await send_raw("127.0.0.1", printer_server.port, zpl)
        await asyncio.wait_for(printer_server.done.wait(), 5)
        assert printer_server.received[-1] == zpl
        assert f"^FD{SAMPLES[kind].code}^FS".encode() in zpl
