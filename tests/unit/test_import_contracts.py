"""The private-names contract of `lint-imports` catches what it must, and lets public use through."""

from __future__ import annotations

from pathlib import Path

from tests.import_contracts import _breaches

SOURCE = """
from refurb.intake.pages import _error, public_helper
from refurb.intake import pages
from refurb.erasure.media import _own_private
import refurb.printing._internal as internal

pages._error(None)
pages.page_title
"""


def test_private_names_of_another_area_are_breaches(tmp_path: Path) -> None:
    path = tmp_path / "module.py"
    path.write_text(SOURCE, encoding="utf-8")
    found = sorted((b.line, b.target) for b in _breaches("refurb.erasure.pages", path, "refurb"))
    assert found == [
        (2, "refurb.intake.pages._error"),
        (5, "refurb.printing._internal"),
        (7, "refurb.intake.pages._error"),
    ]


def test_the_tree_has_none() -> None:
    root = Path(__file__).resolve().parents[2] / "refurb"
    found = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found += _breaches(module, path, "refurb")
    assert [b.render() for b in found] == []
