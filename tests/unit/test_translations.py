"""Every message shown to people has a French translation with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "refurb" / "web" / "locale" / "fr.po"
METHODS = [("refurb/**.py", "python"), ("refurb/**/templates/**.html", "jinja2")]
OPTIONS = {"refurb/**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "Np_": (1, 2)}
PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%\([a-z_]+\)[sd]")


def _extracted() -> set[str | tuple[str, ...]]:
    found: set[str | tuple[str, ...]] = set()
    for _, _, message, _, _ in extract_from_dir(str(ROOT), METHODS, OPTIONS, KEYWORDS):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def test_every_message_is_translated() -> None:
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    translated = {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id and m.string}
    missing = sorted(str(m) for m in _extracted() - translated)
    assert not missing, f"add these to {PO.relative_to(ROOT)}: {missing}"


def test_translations_keep_their_placeholders() -> None:
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    for message in catalog:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        for source, target in zip(ids, strings, strict=False):
            assert sorted(PLACEHOLDER.findall(source)) == sorted(PLACEHOLDER.findall(target)), source
