"""Column names of the exports donors send, recognised from the header row.

Each profile maps Refurb's manifest fields to the header texts a tool writes
(French and English). Matching ignores case, accents and punctuation. The
generic profile is a union of common spreadsheet wordings.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from refurb.core.i18n import N_
from refurb.core.kinds import DeviceKind
from refurb.web.spreadsheet import normal_header

__all__ = ("FIELDS", "FIELD_LABELS", "PROFILES", "Profile", "kind_of", "normal_header")

# What a manifest row can tell us, in the order a generic sheet lists them.
FIELDS = (
    "serial",
    "asset_tag",
    "kind",
    "manufacturer",
    "model",
    "cpu",
    "ram",
    "storage",
    "disks",
    "disk_serials",
)

FIELD_LABELS = {
    "serial": N_("Serial number"),
    "asset_tag": N_("Asset tag"),
    "kind": N_("Kind"),
    "manufacturer": N_("Manufacturer"),
    "model": N_("Model"),
    "cpu": N_("Processor"),
    "ram": N_("Memory (RAM)"),
    "storage": N_("Storage"),
    "disks": N_("Number of disks"),
    "disk_serials": N_("Disk serial numbers"),
}


@dataclass(frozen=True)
class Profile:
    """A known export layout."""

    name: str
    columns: Mapping[str, Sequence[str]]  # field → header texts, as the tool writes them

    def lookup(self) -> dict[str, str]:
        """Normalised header text → field."""
        return {normal_header(text): field for field, texts in self.columns.items() for text in texts}


GENERIC = Profile(
    "generic",
    {
        "serial": [
            "serial",
            "serial number",
            "serial no",
            "sn",
            "s n",
            "numero de serie",
            "n de serie",
            "no de serie",
            "num serie",
            "numero serie",
            "serie",
            "service tag",
            "device serial",
        ],
        "asset_tag": [
            "asset tag",
            "asset",
            "tag",
            "inventory number",
            "inventory",
            "asset number",
            "numero d inventaire",
            "n d inventaire",
            "no d inventaire",
            "inventaire",
            "etiquette",
            "code inventaire",
            "immobilisation",
            "n immobilisation",
            "numero d immobilisation",
        ],
        "kind": [
            "kind",
            "type",
            "category",
            "categorie",
            "device type",
            "type de materiel",
            "type d equipement",
            "famille",
        ],
        "manufacturer": ["manufacturer", "make", "brand", "vendor", "fabricant", "marque", "constructeur"],
        "model": ["model", "modele", "model name", "reference", "product"],
        "cpu": ["cpu", "processor", "processeur", "proc"],
        "ram": ["ram", "memory", "memoire", "memoire vive", "ram go", "ram gb"],
        "storage": ["storage", "disk", "hard drive", "stockage", "disque", "disque dur", "capacite"],
        "disks": [
            "number of disks",
            "disks",
            "disk count",
            "nb disques",
            "nombre de disques",
            "nb de disques",
        ],
        "disk_serials": [
            "disk serials",
            "disk serial",
            "disk serial numbers",
            "hdd serial",
            "ssd serial",
            "numeros de serie des disques",
            "n de serie disque",
            "serie disque",
            "numero de serie disque",
        ],
    },
)

# GLPI: the Computers list exported from the search results. Headers are the
# search options' names in the exporting user's language; options outside the
# main group are prefixed by their group ("Composants - Processeur"). The CSV is
# `;`-separated, every field quoted, often with a BOM and a trailing `;`.
GLPI = Profile(
    "glpi",
    {
        "serial": ["Serial number", "Numéro de série"],
        "asset_tag": ["Inventory number", "Numéro d'inventaire"],
        "kind": ["Type", "Computer types", "Types d'ordinateur"],
        "manufacturer": ["Manufacturer", "Fabricant"],
        "model": ["Model", "Modèle", "Computer models", "Modèles d'ordinateur"],
        "cpu": ["Components - Processor", "Composants - Processeur"],
        "ram": ["Components - Memory", "Composants - Mémoire"],
        "storage": [
            "Components - Hard drive: Capacity by default",
            "Composants - Disque dur : Capacité par défaut",
            "Components - Hard drive size",
            "Composants - Taille du disque dur",
        ],
        "disk_serials": [
            "Components - Hard drive: Serial number",
            "Composants - Disque dur : Numéro de série",
        ],
    },
)

# Snipe-IT: the assets list export (the visible columns' titles) and the custom
# asset report (comma-separated). French Snipe-IT writes "Série " and
# "Сatégorie" with a Cyrillic С; `normal_header` folds both.
SNIPE_IT = Profile(
    "snipe-it",
    {
        "serial": ["Serial", "Série", "Numéro de série"],
        "asset_tag": ["Asset Tag", "Étiquette de l'actif", "Numéro d'inventaire"],
        "kind": ["Category", "Catégorie"],
        "manufacturer": ["Manufacturer", "Fabricant"],
        "model": ["Model", "Modèle"],
    },
)

PROFILES: Mapping[str, Profile] = {p.name: p for p in (GLPI, SNIPE_IT, GENERIC)}

# Words in a kind column, normalised, and the kind they mean.
_KIND_WORDS: Sequence[tuple[DeviceKind, tuple[str, ...]]] = (
    (DeviceKind.LAPTOP, ("portable", "laptop", "notebook", "ultrabook", "netbook", "chromebook", "macbook")),
    (DeviceKind.TABLET, ("tablette", "tablet", "ipad", "surface go")),
    (DeviceKind.MONITOR, ("ecran", "moniteur", "monitor", "display", "screen")),
    (DeviceKind.PRINTER, ("imprimante", "printer", "multifonction", "mfp", "copieur")),
    (DeviceKind.PHONE, ("telephone", "smartphone", "phone", "mobile", "iphone", "gsm")),
    (
        DeviceKind.CONNECTIVITY,
        ("box", "cle 4g", "routeur", "router", "modem", "hotspot", "dongle", "mifi", "4g", "5g"),
    ),
    (
        DeviceKind.DESKTOP,
        (
            "desktop",
            "fixe",
            "unite centrale",
            "tour",
            "tower",
            "mini pc",
            "pc",
            "workstation",
            "station de travail",
            "all in one",
            "tout en un",
            "computer",
            "ordinateur",
            "uc",
            "sff",
            "thin client",
        ),
    ),
)


@functools.lru_cache(maxsize=4096)
def kind_of(value: str) -> DeviceKind | None:
    """The device kind a cell names, or None when it names none we know (a manifest repeats a few)."""
    text = normal_header(value)
    if not text:
        return None
    for kind in DeviceKind:
        if text == kind.value:
            return kind
    # "Laptops", "Ordinateurs portables", "Écrans": compare singulars
    singular = " ".join(w[:-1] if len(w) > 3 and w[-1] in "sx" else w for w in text.split())
    padded = f" {singular} "
    for kind, words in _KIND_WORDS:
        if any(f" {word} " in padded for word in words):
            return kind
    return None
