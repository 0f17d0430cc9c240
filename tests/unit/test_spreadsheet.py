"""CSV exports open as tables in a French spreadsheet and never run a formula typed into our data."""

from __future__ import annotations

from refurb.web.spreadsheet import csv_bytes, inert


def test_text_that_would_be_a_formula_is_inert() -> None:
    assert [inert(v) for v in ('=HYPERLINK("x")', "+33 1", "-2", "@SUM(A1)", "COA-12", 3)] == [
        '\'=HYPERLINK("x")',
        "'+33 1",
        "'-2",
        "'@SUM(A1)",
        "COA-12",
        3,
    ]


def test_csv_is_semicolon_separated_with_a_bom() -> None:
    assert csv_bytes(["Lot", "Poids"], [["LOT-2026-0001", "12,5"], ["=1+1", "3"]]) == (
        "\ufeffLot;Poids\r\nLOT-2026-0001;12,5\r\n'=1+1;3\r\n".encode()
    )
