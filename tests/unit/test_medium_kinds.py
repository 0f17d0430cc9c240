"""Hard disk or flash: the model table, the order of trust between sources, the manifest's words."""

from __future__ import annotations

import pytest

from refurb.erasure.kinds import (
    MODEL_FAMILIES,
    KindDecision,
    can_confirm_rotational,
    decide_kind,
    declared_kind,
    model_kind,
)

# Real model strings as drives report them (smartctl/hdparm/nwipe "Found" lines, Workbench, usody).
SSD_MODELS = [
    "Samsung SSD 860 EVO 250GB",
    "SAMSUNG MZ7LN256HMJP-000L7",  # OEM PM871, no "SSD" in the name
    "SAMSUNG MZVLB512HBJQ-000L7",  # OEM PM981 NVMe
    "Crucial_CT256MX100SSD1",
    "CT500BX500SSD1",
    "KINGSTON SA400S37240G",
    "KINGSTON SUV400S37120G",
    "SanDisk SDSSDA240G",  # SSD Plus
    "SanDisk SD8SB8U256G1001",  # OEM X400
    "WDC WDS500G2B0A-00SM50",  # WD Blue SSD
    "WDC PC SN520 SDAPNUW-256G-1014",  # OEM NVMe
    "INTEL SSDSC2BW240H6",
    "Micron_1100_MTFDDAK256TBN",
    "MTFDDAK512TBN-1AR1ZABHA",
    "SK hynix SC311 SATA 256GB",
    "HFS256G39TND-N210A",
    "TOSHIBA THNSNK256GVN8",
    "LITEON CV3-8D128",
    "ADATA SU800",
]
HDD_MODELS = [
    "WDC WD5000AAKX-00ERMA0",
    "WDC WD1600BEVT-22A23T0",
    "WDC WD10EZEX-08WN4A0",
    "ST3160815AS",
    "ST1000DM003-1SB102",
    "ST500LM012 HN-M500MBB",
    "STM3500418AS",
    "Hitachi_HTS543232A7A384",
    "HGST HTS545050A7E680",
    "HGST HUS724040ALE640",
    "TOSHIBA MQ01ABD050",
    "TOSHIBA DT01ACA100",
    "MK3259GSXP",
    "SAMSUNG HD502HJ",
    "SAMSUNG HM500JI",
    "FUJITSU MHV2080AH",
]
USB_MODELS = ["Kingston DataTraveler 3.0", "SanDisk Cruzer Blade", "JetFlash Transcend 16GB"]
UNKNOWN_MODELS = [
    "IC25N040ATCS04-0",  # IBM Travelstar: a hard disk no table lists
    "ST1000LX015-1U7172",  # Seagate FireCuda SSHD: a flash cache, so not a plain hard disk
    "Loopback device",
    "",
]


@pytest.mark.parametrize("model", SSD_MODELS)
def test_known_ssd_models_are_flash(model: str) -> None:
    assert model_kind(model) is not None
    assert model_kind(model)[0] == "ssd"


@pytest.mark.parametrize("model", HDD_MODELS)
def test_known_hard_disk_models_are_rotational(model: str) -> None:
    assert model_kind(model) is not None
    assert model_kind(model)[0] == "hdd"


@pytest.mark.parametrize("model", USB_MODELS)
def test_usb_sticks(model: str) -> None:
    assert model_kind(model)[0] == "usb"


@pytest.mark.parametrize("model", UNKNOWN_MODELS)
def test_unlisted_models_say_nothing(model: str) -> None:
    assert model_kind(model) is None


def test_the_table_names_a_family_for_every_pattern_and_puts_flash_first() -> None:
    kinds = [kind for kind, _, _ in MODEL_FAMILIES]
    assert set(kinds) == {"ssd", "usb", "hdd"}
    assert kinds.index("hdd") > max(i for i, k in enumerate(kinds) if k != "hdd")
    assert all(family for _, family, _ in MODEL_FAMILIES)


@pytest.mark.parametrize(
    ("tool", "model", "declared", "confirmed", "expected"),
    [
        # nwipe without "-SSD" says nothing: the model decides
        ("", "Samsung SSD 860 EVO 250GB", "", "", KindDecision("ssd", "model")),
        ("", "WDC WD5000AAKX-00ERMA0", "", "", KindDecision("hdd", "model")),
        ("", "IC25N040ATCS04-0", "", "", KindDecision("unknown", "none")),
        # the tool's flag and the bus come first
        ("ssd", "WDC WD5000AAKX-00ERMA0", "", "", KindDecision("ssd", "tool")),
        ("nvme", "", "", "hdd", KindDecision("nvme", "tool")),
        ("emmc", "", "", "", KindDecision("emmc", "tool")),
        ("other", "Loopback device", "", "", KindDecision("other", "tool")),
        ("hdd", "IC25N040ATCS04-0", "", "", KindDecision("hdd", "tool")),  # usody: a rotation rate
        # a person's click: never against an SSD model, enough for an unknown model
        ("", "Samsung SSD 860 EVO 250GB", "", "hdd", KindDecision("ssd", "model")),
        ("", "IC25N040ATCS04-0", "", "hdd", KindDecision("hdd", "technician")),
        ("", "IC25N040ATCS04-0", "ssd", "hdd", KindDecision("hdd", "technician")),  # overrules the manifest
        ("", "WDC WD5000AAKX-00ERMA0", "", "ssd", KindDecision("ssd", "technician")),  # flash is always safe
        # the manifest, last
        ("", "IC25N040ATCS04-0", "hdd", "", KindDecision("hdd", "manifest")),
        ("", "IC25N040ATCS04-0", "ssd", "", KindDecision("ssd", "manifest")),
        ("", "WDC WD5000AAKX-00ERMA0", "ssd", "", KindDecision("unknown", "disagreement")),
        ("hdd", "", "nvme", "", KindDecision("unknown", "disagreement")),
        ("", "", "", "", KindDecision("unknown", "none")),
    ],
)
def test_the_order_of_trust(
    tool: str, model: str, declared: str, confirmed: str, expected: KindDecision
) -> None:
    assert decide_kind(tool, model, declared, confirmed) == expected


def test_nobody_may_call_a_drive_rotational_against_a_flash_flag_or_an_ssd_model() -> None:
    assert can_confirm_rotational("", "IC25N040ATCS04-0")
    assert can_confirm_rotational("", "")
    assert can_confirm_rotational("hdd", "WDC WD5000AAKX-00ERMA0")
    assert not can_confirm_rotational("", "Samsung SSD 860 EVO 250GB")
    assert not can_confirm_rotational("ssd", "IC25N040ATCS04-0")
    assert not can_confirm_rotational("nvme", "")
    assert not can_confirm_rotational("", "Kingston DataTraveler 3.0")
    assert not can_confirm_rotational("other", "Loopback device")


@pytest.mark.parametrize(
    ("storage", "kind"),
    [
        ("SSD 256 Go", "ssd"),
        ("256GB SSD", "ssd"),
        ("NVMe M.2 512 Go", "nvme"),
        ("HDD 500 Go", "hdd"),
        ("Disque dur 1 To 7200 tr/min", "hdd"),
        ("32 Go eMMC", "emmc"),
        ("SSD 128 + HDD 1 To", ""),  # two kinds: the manifest cannot say which disk is which
        ("500 Go", ""),
        ("", ""),
    ],
)
def test_the_kind_a_manifest_names(storage: str, kind: str) -> None:
    assert declared_kind(storage) == kind
