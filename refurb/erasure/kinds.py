"""What kind of medium a drive is — hard disk or flash — and who says so.

An overwrite is Clear and only passes on a spinning hard disk, so the kind
decides whether a wipe counts. The sources, in the order they are trusted:

1. the bus or the tool's explicit flag: NVMe and eMMC are flash; nwipe's
   `-SSD` (smartctl's "Rotation Rate: Solid State Device", `src/device.c`),
   Workbench's `SolidStateDrive`, usody's `storage_medium` with a rotation rate;
2. the model string, when it names a known SSD family (never overruled, not
   even by a person's click) or a known hard-disk family (`MODEL_FAMILIES`);
3. a person who looked at the drive (a technician's "it is rotational");
4. the donor's manifest.

The absence of a flag says nothing: nwipe prints no `-SSD` when smartctl is
missing or a USB bridge hides the drive, and Workbench calls every drive it
cannot read a `HardDrive`. When nothing says, or the sources disagree, the
kind is `unknown`, which the policy treats like flash.

Pure: the parsers, the upload, the erasure sheet and the tests use it alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from refurb.core.i18n import N_

__all__ = (
    "BASIS_MESSAGES",
    "FLASH",
    "MODEL_FAMILIES",
    "KindDecision",
    "can_confirm_rotational",
    "decide_kind",
    "declared_kind",
    "model_kind",
)

FLASH = frozenset({"ssd", "nvme", "emmc", "usb", "sd"})

#: Model families, as data: (kind, family, pattern searched in the model string, case-insensitive).
#: SSD patterns come first; a model that matches one is flash whatever else says.
MODEL_FAMILIES: tuple[tuple[str, str, str], ...] = (
    # words that only flash drives carry
    ("ssd", "says SSD", r"SSD"),
    ("ssd", "says NVMe", r"NVMe"),
    ("ssd", "M.2 / mSATA", r"\bM\.2\b|\bmSATA\b"),
    ("ssd", "solid state", r"solid[ _-]?state"),
    ("ssd", "eMMC", r"\beMMC\b"),
    # OEM and retail SSD families whose model string does not say SSD
    ("ssd", "Samsung OEM (MZ…)", r"^(?:SAMSUNG[ _])?MZ[0-9A-Z]{2}[A-Z0-9]{6,}"),
    ("ssd", "Samsung 8x0/9x0 EVO/PRO/QVO", r"\b(?:8[3-7]0|9[5-9]0)[ _](?:EVO|PRO|QVO)\b"),
    ("ssd", "Samsung PM/SM OEM", r"\b(?:PM|SM)(?:8[0-9]{2}|9[0-9]{2}|1[0-9]{3})[A-Z]?\b"),
    ("ssd", "Crucial MX/BX/P", r"^(?:Crucial[ _])?CT\d+(?:MX|BX|M5|P\d|T\d)"),
    ("ssd", "Kingston A400/UV/KC/NV",
     r"^(?:KINGSTON[ _])?(?:SA400|SUV[45]00|SKC\d|SV300|SNV|SA2000|SEDC|SHFS|SM2280|RBU-)"),
    ("ssd", "SanDisk SSD Plus/Ultra/OEM", r"^(?:SanDisk[ _])?(?:SDSSD|SD[6-9][A-Z0-9]{2}|SD[6-9]S)"),
    ("ssd", "WD Blue/Green/Black SSD",
     r"^(?:WDC[ _])?WDS\d{3}G|\bWD[ _](?:Blue|Green|Red|Black)[ _]SN\d|\bPC[ _]SN\d{3}"),
    ("ssd", "Intel SSD", r"^(?:INTEL[ _])?SSD(?:SC|PE|PF|MC)"),
    ("ssd", "Micron", r"^Micron[ _]|^MTFD"),
    ("ssd", "SK hynix", r"^(?:SK ?hynix|HFS\d{3}G|HFM\d{3}G|BC[5-9]\d{2}\b)"),
    ("ssd", "Toshiba/Kioxia OEM SSD", r"^(?:TOSHIBA[ _]|KIOXIA[ _])?(?:THNS|KBG\d|KXG\d|KSG\d|TR200|Q300)"),
    ("ssd", "Lite-On SSD", r"^LITE-?ON[ _]?(?:CV|CA|CB|EP|IT|L8H|LCH|LCS|LGT|PH)"),
    ("ssd", "ADATA / Transcend / Lexar", r"^(?:ADATA[ _]S[UXP]\d|TS\d+G(?:MTS|SSD|MSA)|Lexar[ _]NS?\d)"),
    ("ssd", "Phison / SPCC / Netac / Patriot", r"^(?:Phison|SPCC|Netac|Patriot[ _](?:Burst|P\d)|PNY[ _]CS)"),
    # USB sticks (a drive behind a USB bridge shows the bridge's or the stick's name)
    ("usb", "USB flash drive",
     r"DataTraveler|Cruzer|JetFlash|Flash[ _]?(?:Drive|Disk)|Ultra[ _]Fit|USB[ _]?Flash|Voyager"),
    # hard-disk families: letters that only the disk makers' rotating lines use
    ("hdd", "Western Digital (WDnnnnXXXX)", r"^(?:WDC[ _])?WD\d{2,5}[A-Z]{4}"),
    ("hdd", "Seagate Barracuda/Momentus/IronWolf/Exos",
     r"^(?:ST|STM)\d{3,}(?:AS|DM|LM|NM|VX|VN|NE|SV|NS|CS|LT|AM|DL|MM)(?![A-Z])"),
    ("hdd", "HGST / Hitachi Travelstar, Deskstar, Ultrastar",
     r"^(?:HGST[ _]|Hitachi[ _])?H(?:TS|DS|DT|UA|US|UH|DP|TE|CS)\d{3}"),
    ("hdd", "Toshiba DT/MQ/MG/MD/HDW/MK", r"^(?:TOSHIBA[ _])?(?:DT01|MQ0\d|MG0\d|MD0\d|HDW[A-Z]\d|MK\d{4}G)"),
    ("hdd", "Samsung SpinPoint", r"^(?:SAMSUNG[ _])?(?:HD\d{3}[A-Z]{2}|HM\d{3}[A-Z]{2}|HN-M\d{3})"),
    ("hdd", "Fujitsu laptop disk", r"^(?:FUJITSU[ _])?MH[A-Z]\d{4}"),
    ("hdd", "Maxtor", r"^Maxtor[ _]\d|^MAXTOR[ _]STM"),
)  # fmt: skip
_COMPILED = tuple(
    (kind, family, re.compile(pattern, re.IGNORECASE)) for kind, family, pattern in MODEL_FAMILIES
)

#: Why a medium has its kind, for the erasure sheet (message ids).
BASIS_MESSAGES = {
    "tool": N_("the wiping tool says so"),
    "model": N_("its model is a known family"),
    "technician": N_("a person checked the drive"),
    "manifest": N_("the donor's manifest says so"),
    "disagreement": N_("the sources disagree"),
    "none": N_("nothing says whether it is a hard disk or flash memory"),
}


def model_kind(model: str) -> tuple[str, str] | None:
    """(kind, family) when the model string names a known family, else None."""
    text = " ".join((model or "").split())
    if not text:
        return None
    for kind, family, pattern in _COMPILED:
        if pattern.search(text):
            return kind, family
    return None


@dataclass(frozen=True, slots=True)
class KindDecision:
    """The kind a medium is taken for, and which source decided (`BASIS_MESSAGES`)."""

    kind: str
    basis: str


def _hard_flash(tool: str, model: str) -> str | None:
    """The flash kind the bus, the tool's flag or the model proves; a person cannot overrule it."""
    if tool in FLASH:
        return tool
    found = model_kind(model)
    if found is not None and found[0] in FLASH:
        return found[0]
    return None


def decide_kind(tool: str = "", model: str = "", declared: str = "", confirmed: str = "") -> KindDecision:
    """The kind of a medium from what each source says ("" = it says nothing).

    `tool` is the tool's explicit statement (bus or flag), never a default;
    `confirmed` is a person's decision (technician or supervisor).
    """
    if tool in FLASH:
        return KindDecision(tool, "tool")
    found = model_kind(model)
    if found is not None and found[0] in FLASH:
        return KindDecision(found[0], "model")
    if tool == "other":
        return KindDecision("other", "tool")
    if confirmed in FLASH or confirmed == "hdd":
        return KindDecision(confirmed, "technician")
    claims = (("tool", tool), ("model", found[0] if found else ""))
    says_hdd = [name for name, kind in claims if kind == "hdd"]
    if declared in FLASH:
        return KindDecision("unknown", "disagreement") if says_hdd else KindDecision(declared, "manifest")
    if says_hdd:
        return KindDecision("hdd", says_hdd[0])
    if declared == "hdd":
        return KindDecision("hdd", "manifest")
    return KindDecision("unknown", "none")


def can_confirm_rotational(tool: str, model: str) -> bool:
    """Whether a person may say "this drive spins": never against the bus, the tool's flag or an SSD model."""
    return _hard_flash(tool, model) is None and tool != "other"


_DECLARED_WORDS = (
    ("nvme", re.compile(r"\bnvme\b|\bm\.2\b", re.IGNORECASE)),
    ("emmc", re.compile(r"\bemmc\b", re.IGNORECASE)),
    ("ssd", re.compile(r"\bssd\b|\bflash\b", re.IGNORECASE)),
    ("hdd", re.compile(r"\bhdd\b|\bdisque dur\b|\bhard (?:disk|drive)\b|\btr/min\b|\brpm\b", re.IGNORECASE)),
)  # fmt: skip


def declared_kind(storage: str) -> str:
    """The kind a manifest's storage text names ("SSD 256 Go", "HDD 500GB"); '' if none or several."""
    kinds = {kind for kind, pattern in _DECLARED_WORDS if pattern.search(storage or "")}
    if kinds == {"nvme", "ssd"}:
        return "nvme"
    return kinds.pop() if len(kinds) == 1 else ""
