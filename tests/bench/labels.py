"""1,000 device asset tags as one PDF and as one ZPL stream, beside python-barcode's SVGWriter.

    python -m tests.bench.labels [--labels 1000] [--runs 5]

Each run uses device codes never rendered before (no cache helps); the warm-up
run starts the worker processes a server keeps running. Medians are printed and
written to tests/bench/results/labels.json.
Targets: PDF <= 0.5 ms a label (and >= 2.5x faster than SVGWriter alone), ZPL <= 0.05 ms.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from barcode import Code128
from barcode.writer import SVGWriter

from refurb.core.codes import CodeType, make_code
from refurb.printing.kinds import DeviceLabel, LabelKind
from refurb.printing.parallel import shutdown
from refurb.printing.render import Format, render
from refurb.printing.resources import labels_dir
from refurb.printing.service import LabelContext
from refurb.printing.templates import catalogue

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "tests" / "bench" / "results" / "labels.json"
QR_BASE = LabelContext(base_url="https://refurb.ville-exemple.fr").qr_base


def tags(first_serial: int, count: int) -> list[DeviceLabel]:
    """Asset tags as the device provider makes them."""
    labels = []
    for serial in range(first_serial, first_serial + count):
        code = make_code(CodeType.DEVICE, serial)
        labels.append(
            DeviceLabel(
                code=code.compact,
                display_code=code.display,
                url=f"{QR_BASE}/D/{code.compact}",
                organisation="Atelier Solidaire du Val",
                make_model="Dell Latitude 5490",
                serial=f"5CG{serial:07d}",
            )
        )
    return labels


def per_label_ms(seconds: float, count: int) -> float:
    return seconds / count * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--labels", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stock", default="57x32")
    options = parser.parse_args()
    cat = catalogue(labels_dir())
    stock = cat.stocks[options.stock]
    render(
        cat, LabelKind.DEVICE, tags(9_000_000, options.labels), stock, Format.PDF
    )  # warm-up: workers start
    results: dict[str, list[float]] = {"pdf": [], "zpl": [], "python_barcode_svgwriter": []}
    pages = 0
    for run in range(options.runs):
        batch = tags(1_000_000 + run * options.labels * 2, options.labels)
        started = time.perf_counter()
        pdf = render(cat, LabelKind.DEVICE, batch, stock, Format.PDF)
        results["pdf"].append(per_label_ms(time.perf_counter() - started, options.labels))
        pages = pdf.pages
        batch = tags(1_000_000 + run * options.labels * 2 + options.labels, options.labels)
        started = time.perf_counter()
        render(cat, LabelKind.DEVICE, batch, stock, Format.ZPL)
        results["zpl"].append(per_label_ms(time.perf_counter() - started, options.labels))
        started = time.perf_counter()
        for label in batch:
            Code128(label.code, writer=SVGWriter()).render()
        results["python_barcode_svgwriter"].append(
            per_label_ms(time.perf_counter() - started, options.labels)
        )
        print(
            f"run {run + 1}/{options.runs}: "
            + ", ".join(f"{name} {values[-1]:.3f} ms" for name, values in results.items()),
            flush=True,
        )
    shutdown()
    medians = {name: round(statistics.median(values), 4) for name, values in results.items()}
    speedup = medians["python_barcode_svgwriter"] / medians["pdf"]
    met = {
        "pdf_at_most_0.5_ms": medians["pdf"] <= 0.5,
        "pdf_2.5x_faster_than_svgwriter": speedup >= 2.5,
        "zpl_at_most_0.05_ms": medians["zpl"] <= 0.05,
    }
    summary = {
        "when": datetime.datetime.now(tz=datetime.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} · {os.cpu_count()} CPU · Python {platform.python_version()}",
        "command": "python -m tests.bench.labels " + " ".join(sys.argv[1:]),
        "labels": options.labels,
        "stock": stock.name,
        "runs": options.runs,
        "pdf_pages": pages,
        "median_ms_per_label": medians,
        "pdf_speedup_over_svgwriter": round(speedup, 2),
        "targets_met": met,
        "all_runs_ms_per_label": results,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nper label (median of {options.runs}, {options.labels} asset tags, {stock.name}):")
    print(f"  PDF                          {medians['pdf']:.3f} ms   target <= 0.5")
    print(f"  ZPL                          {medians['zpl']:.4f} ms  target <= 0.05")
    print(f"  python-barcode SVGWriter     {medians['python_barcode_svgwriter']:.3f} ms (barcode only)")
    print(f"  PDF is {speedup:.2f}x faster than SVGWriter alone (target >= 2.5x)")
    print("targets: " + ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in met.items()))
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
