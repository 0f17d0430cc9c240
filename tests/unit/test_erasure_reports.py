"""Wiping-report parsers: every fixture gives the records its text supports, and no more.

Expectations were written by reading each file (see the READMEs next to them).
Real nwipe logs are all cut, so they check that gaps become `problems`; the
synthetic logs check complete runs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refurb.erasure.reports import (
    ParsedErasure,
    ParsedHardware,
    ParsedMedium,
    ParsedReport,
    ReportFormatError,
    parse_report,
)
from tests.fixtures.erasure.make_nwipe_log import make_log, render, synthetic_files

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "erasure"
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"
ALL_FILES = sorted(p for p in FIXTURES.glob("*/*") if p.suffix in {".log", ".json"})


def parse(relative: str) -> ParsedReport:
    path = FIXTURES / relative
    return parse_report(path.read_bytes(), path.name)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def only(report: ParsedReport) -> ParsedErasure:
    assert len(report.erasures) == 1
    return report.erasures[0]


def by_path(report: ParsedReport) -> dict[str, list[ParsedErasure]]:
    found: dict[str, list[ParsedErasure]] = {}
    for erasure in report.erasures:
        found.setdefault(erasure.medium.device_path, []).append(erasure)
    return found


# --- the fixture set -------------------------------------------------------------------------------


def test_the_copies_are_byte_for_byte_the_shared_fixtures() -> None:
    if not SHARED.is_dir():
        pytest.skip("no shared fixture folder on this machine (a clean clone): nothing to compare")
    for folder in ("nwipe", "workbench", "usody"):
        shared = sorted(p.name for p in (SHARED / folder).iterdir())
        assert sorted(p.name for p in (FIXTURES / folder).iterdir()) == shared
        for name in shared:
            assert (FIXTURES / folder / name).read_bytes() == (SHARED / folder / name).read_bytes()


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_fixture_parses_to_its_format(path: Path) -> None:
    expected = {
        "nwipe": "nwipe_log",
        "nwipe-synthetic": "nwipe_log",
        "usody": "usody_sanitize",
        "workbench": "workbench_v10" if "v10" in path.name else "workbench_v11",
    }[path.parent.name]
    report = parse_report(path.read_bytes(), path.name)
    assert report.format == expected
    assert all(e.medium in report.detected for e in report.erasures)
    assert all(e.started_at is None or e.started_at.tzinfo is UTC for e in report.erasures)


def test_the_committed_synthetic_logs_are_what_the_generator_writes() -> None:
    for name, spec in synthetic_files().items():
        assert (FIXTURES / "nwipe-synthetic" / name).read_text(encoding="utf-8") == render(spec)


# --- real nwipe logs (all cut) ------------------------------------------------------------------------


def test_nwipe_issue278_old_drive_status_block() -> None:
    report = parse("nwipe/issue278-nvme-drive-status.log")
    erasure = only(report)
    assert erasure.medium == ParsedMedium(
        kind="nvme",
        interface="NVMe",
        manufacturer="Samsung",
        model="Samsung SSD 970 E",  # cut to 17 characters by nwipe
        serial="S4P3NF0M317460J",
        capacity_bytes=None,
        device_path="",  # the 6-character column shows "vme1n1"
        tool_kind="nvme",  # the device name says NVMe
    )
    assert (erasure.technique, erasure.method_label, erasure.passes, erasure.pattern) == (
        "overwrite",
        "Zero Fill",
        1,
        "zeros",
    )
    assert (erasure.verification, erasure.verification_result, erasure.result) == (
        "last",
        "passed",
        "success",
    )
    assert erasure.ended_at == utc(2020, 6, 17, 19, 31, 37)  # the footer time: no other time in the block
    assert erasure.started_at == utc(2020, 6, 17, 19, 5, 35)  # minus the 00:26:02 duration
    assert erasure.errors == {}
    assert erasure.details["blank"] is True
    assert erasure.details["table_device"] == "vme1n1"
    assert erasure.details["end_message"] == "completed"  # "Nwipe successfully exited."
    assert "the model comes from the Drive Status table, which cuts it to 17 characters" in erasure.warnings
    assert report.problems == (
        "the log has no Found line for vme1n1: model and serial come only from the Drive Status table",
        "the Drive Status table cuts device names to 6 characters: 'vme1n1' has no known path",
        "the log has no Error Summary table: results rest on the Drive Status column alone",
    )
    assert report.tool_version == ""
    assert report.hardware is None


def test_nwipe_issue444_log_cut_inside_the_drive_status_table() -> None:
    report = parse("nwipe/issue444-three-drives.partial.log")
    erasures = by_path(report)
    assert list(erasures) == ["/dev/sda", "/dev/sdc", "/dev/sdb"]
    for erasure in report.erasures:
        assert erasure.result == "unknown"
        assert erasure.verification == "unknown"
        assert erasure.verification_result == "unknown"
        assert erasure.errors == {"pass": 0, "verify": 0, "sync": 0}
        assert erasure.medium.serial is None
        assert erasure.passes == 1
        assert erasure.started_at is None
    assert erasures["/dev/sdc"][0].ended_at == utc(2023, 3, 12, 4, 44, 9)
    assert erasures["/dev/sdc"][0].medium.capacity_bytes == 4000787030016  # a finished pass wrote it all
    assert erasures["/dev/sdb"][0].medium.capacity_bytes == 10000831348736
    assert erasures["/dev/sda"][0].medium.capacity_bytes is None  # its "bytes written" line is cut off
    assert erasures["/dev/sda"][0].ended_at == utc(2023, 3, 11, 20, 40, 30)
    assert report.problems == (
        "the file name marks the log as partial",
        "the log ends inside the Drive Status table: no result for /dev/sda, /dev/sdc, /dev/sdb",
        "nothing in the log identifies /dev/sda, /dev/sdc, /dev/sdb (no Found line, no Drive Status row)",
        "the log has no Total Throughput line: method, rounds, blanking and verification mode are unknown",
        "the log has no closing nwipe message (completed, exited with errors, or aborted)",
    )


def test_nwipe_issue585_usb_stick_with_an_empty_serial() -> None:
    report = parse("nwipe/issue585-usb-stick-v0.37.partial.log")
    assert report.erasures == ()
    assert report.detected == (
        ParsedMedium("usb", "USB", "Kingston", "Kingston DataTraveler 3.0", None, 7_864_000_000, "/dev/sda"),
    )  # the USB bus alone says nothing of the medium: the model names a USB stick
    assert report.tool_version == "0.37"
    assert report.problems == (
        "the file name marks the log as partial",
        "the log ends before any wipe started: no wipe line for /dev/sda",
    )
    assert report.warnings == (
        "nwipe gave no serial number for /dev/sda",
        "smartctl was not installed: nwipe could not flag SSDs, so each drive's type comes from its model",
    )


def test_nwipe_pr223_paste_cut_at_80_columns() -> None:
    report = parse("nwipe/pr223-single-drive.partial.log")
    assert report.erasures == ()
    # the old Found line has no bus column; the model names a Western Digital hard-disk family
    medium = ParsedMedium(
        "hdd", "ATA", "Western Digital", "WDC WD1600AAJS-2", "W", 160_000_000_000, "/dev/sdc"
    )
    assert report.detected == (medium,)
    assert report.problems == (
        "the lines are cut at 80 characters (a terminal paste): values at line ends may be incomplete",
        "the file name marks the log as partial",
        "the log ends before any wipe started: no wipe line for /dev/sdc",
        "the Found line of /dev/sdc is cut at 80 characters: its serial 'W' may be incomplete",
    )
    assert report.host_serial is None
    assert report.warnings == ("the system serial 'To be filled by O.E.M.' is a placeholder or anonymised",)
    assert report.hardware == ParsedHardware("unknown", "MEDION", "X681X", None, "", None, (medium,))
    assert report.details["excluded"] == ["/dev/sda", "/dev/sdb", "/dev/mapper/cryptswap1"]


def test_nwipe_pr325_loop_device_with_the_old_three_column_error_table() -> None:
    report = parse("nwipe/pr325-loop-device.partial.log")
    erasure = only(report)
    assert erasure.medium == ParsedMedium(
        "other", "", "", "Loopback device", None, 31_457_280, "/dev/loop44", "other"
    )
    assert erasure.errors == {"pass": 0, "verify": 0}
    assert (erasure.result, erasure.verification, erasure.verification_result) == (
        "success",
        "unknown",
        "unknown",
    )
    assert (erasure.passes, erasure.pattern, erasure.method_label) == (1, "random", "")
    assert (erasure.started_at, erasure.ended_at) == (
        utc(2021, 6, 4, 21, 41, 12),
        utc(2021, 6, 4, 21, 41, 13),
    )
    assert erasure.details["prng"] == "Isaac"
    assert "nwipe gave no serial number for /dev/loop44" in erasure.warnings
    assert (
        "the log has no closing nwipe message (completed, exited with errors, or aborted)" in report.problems
    )
    assert (
        "the log has no Total Throughput line: method, rounds, blanking and verification mode are unknown"
        in report.problems
    )


# --- synthetic complete nwipe logs ----------------------------------------------------------------------


def test_nwipe_three_drives_success() -> None:
    report = parse("nwipe-synthetic/three-drives-success.log")
    assert (report.tool, report.tool_version, report.host_serial) == ("nwipe", "0.37", "5G5RBK2")
    assert report.problems == ()
    assert report.warnings == ()
    assert [e.medium.serial for e in report.erasures] == ["WD-WCC2E000001", "S3YJNB0K000002", "Z9A000003"]
    assert [e.medium.kind for e in report.erasures] == ["hdd", "ssd", "hdd"]
    for erasure in report.erasures:
        assert (erasure.technique, erasure.method_label, erasure.passes, erasure.pattern) == (
            "overwrite",
            "PRNG Stream",
            1,
            "random",
        )
        assert (erasure.verification, erasure.verification_result, erasure.result) == (
            "last",
            "passed",
            "success",
        )
        assert erasure.errors == {"pass": 0, "verify": 0, "sync": 0}
        assert erasure.bytes_erased == erasure.bytes_total == erasure.medium.capacity_bytes
        assert erasure.hpa_dco == "none"
        assert erasure.warnings == ()
        assert erasure.details["blank"] is True
    ssd = report.erasures[1]
    assert ssd.medium == ParsedMedium(
        "ssd",
        "ATA",
        "Samsung",
        "Samsung SSD 860 EVO 250GB",
        "S3YJNB0K000002",
        250_059_350_016,
        "/dev/sdb",
        "ssd",
    )  # " ATA-SSD": nwipe's flag
    assert (ssd.started_at, ssd.ended_at) == (utc(2025, 3, 14, 9, 12, 5), utc(2025, 3, 14, 9, 38, 8))
    assert ssd.details["duration"] == "00:26:03"
    assert report.hardware == ParsedHardware(
        kind="desktop",
        manufacturer="Dell Inc.",
        model="OptiPlex 7020",
        serial="5G5RBK2",
        cpu="Intel(R) Core(TM) i5-4590 CPU @ 3.30GHz",
        ram_bytes=None,
        disks=report.detected,
    )


def test_nwipe_one_drive_failed_verification() -> None:
    report = parse("nwipe-synthetic/one-drive-failed-verification.log")
    good, bad = report.erasures
    assert (good.medium.device_path, good.result, good.verification_result) == (
        "/dev/sda",
        "success",
        "passed",
    )
    assert (bad.medium.device_path, bad.result, bad.verification_result) == ("/dev/sdb", "failed", "failed")
    assert bad.errors == {"pass": 0, "verify": 8192, "sync": 0}
    assert bad.details["status"] == "-FAILED-"
    assert bad.ended_at == utc(2025, 3, 17, 14, 28, 18)
    assert report.details["end_message"] == "errors"
    assert report.problems == ()


def test_nwipe_user_aborted() -> None:
    report = parse("nwipe-synthetic/user-aborted.log")
    finished, aborted = report.erasures
    assert (finished.result, finished.bytes_erased, finished.bytes_total) == (
        "success",
        240_057_409_536,
        240_057_409_536,
    )
    assert aborted.medium.serial == "Z9A2LQ7K"
    assert (aborted.result, aborted.verification_result) == ("aborted", "not_done")
    assert (aborted.bytes_erased, aborted.bytes_total) == (384_000_000_000, 1_000_204_886_016)
    assert aborted.details["percentage_erased"] == "38.39%"
    assert (aborted.started_at, aborted.ended_at) == (utc(2025, 4, 2, 8, 30, 5), utc(2025, 4, 2, 9, 10, 6))
    assert report.details["end_message"] == "aborted"


def test_nwipe_anonymised_run_keeps_the_serials_and_warns() -> None:
    report = parse("nwipe-synthetic/anonymised-quiet.log")
    disk, stick = report.erasures
    assert disk.medium.serial == "XXXXXXXXXXXXXXXXXXXX"
    assert stick.medium.serial == "????????????????????"
    assert disk.warnings == (
        "the serial 'XXXXXXXXXXXXXXXXXXXX' is anonymised (nwipe -q), so it cannot identify the drive",
    )
    assert stick.warnings == (
        "the serial '????????????????????' is anonymised (nwipe -q), so it cannot identify the drive",
        "nwipe could not tell whether /dev/sdb has hidden sectors (HPA/DCO)",
    )
    assert (stick.medium.kind, stick.medium.interface, stick.hpa_dco) == ("usb", "USB", "indeterminate")
    assert [e.result for e in report.erasures] == ["success", "success"]
    assert report.host_serial is None
    assert report.warnings == ("the system serial 'XXXXXXXXXXXXXXX' is a placeholder or anonymised",)
    assert report.details["options"]["quiet"] == "1"


def test_nwipe_nvme_firmware_sanitize_then_verify_zeros() -> None:
    report = parse("nwipe-synthetic/nvme-sanitize-then-verify.log")
    erasures = by_path(report)
    assert list(erasures) == ["/dev/nvme0n1", "/dev/nvme1n1"]
    crypto, verify0 = erasures["/dev/nvme0n1"]
    block, verify1 = erasures["/dev/nvme1n1"]
    assert crypto.medium == ParsedMedium(
        "nvme",
        "NVMe",
        "Samsung",
        "Samsung SSD 980 PRO 1TB",
        "S5GXNF0R612345A",
        1_000_000_000_000,
        "/dev/nvme0n1",
        "nvme",
    )
    assert (crypto.technique, crypto.method_label, crypto.passes, crypto.pattern) == (
        "crypto_erase",
        "SANITIZE Crypto Erase",
        None,
        "",
    )
    assert (crypto.verification, crypto.verification_result, crypto.result) == (
        "firmware_status",
        "passed",
        "success",
    )
    assert (crypto.started_at, crypto.ended_at) == (utc(2025, 6, 10, 10, 0, 4), utc(2025, 6, 10, 10, 0, 8))
    assert crypto.details == {
        "controller": "/dev/nvme0",
        "action": "Crypto Erase",
        "command": "sanact=4",
        "firmware": True,
    }
    assert crypto.warnings == (
        "nwipe logs the SANITIZE on the controller /dev/nvme0; it was matched to /dev/nvme0n1 by name, "
        "which the log cannot confirm",
    )
    assert (block.technique, block.method_label, block.result) == (
        "block_erase",
        "SANITIZE Block Erase",
        "success",
    )
    assert (block.started_at, block.ended_at) == (utc(2025, 6, 10, 10, 0, 28), utc(2025, 6, 10, 10, 1, 5))
    for verify in (verify0, verify1):
        assert (verify.technique, verify.method_label, verify.passes, verify.pattern) == (
            "none",
            "Verify Zeros (0x00)",
            0,
            "zeros",
        )
        assert (verify.verification, verify.verification_result, verify.result) == (
            "all",
            "passed",
            "success",
        )
        assert verify.details["blank"] is False
    assert verify1.ended_at == utc(2025, 6, 10, 10, 6, 22)
    assert report.problems == ()


def test_nwipe_ssd_without_its_flag_and_a_failed_drive() -> None:
    """nwipe 0.37 without smartctl: no "-SSD"; a write error makes sdc -FAILED- with one pass error."""
    report = parse("nwipe-synthetic/ssd-without-flag-and-failed-drive.log")
    hdd, ssd, failed = report.erasures
    assert [e.medium.device_path for e in report.erasures] == ["/dev/sda", "/dev/sdb", "/dev/sdc"]
    assert [(e.medium.kind, e.medium.tool_kind) for e in report.erasures] == [
        ("hdd", ""),  # the model names a WD hard-disk family
        ("ssd", ""),  # no flag, but the model says SSD
        ("hdd", ""),
    ]
    assert (hdd.result, hdd.verification, hdd.verification_result) == ("success", "last", "passed")
    assert (ssd.technique, ssd.result, ssd.verification_result) == ("overwrite", "success", "passed")
    assert (failed.result, failed.errors) == ("failed", {"pass": 1, "verify": 0, "sync": 0})
    assert failed.details["status"] == "-FAILED-"
    assert failed.details["failures"] == [
        "Unable to read from '/dev/sdc'",  # pass.c's words for a failed write in the PRNG pass
        "Nwipe exited with errors on device = /dev/sdc, see log for specific error",
    ]
    assert failed.ended_at == utc(2026, 11, 30, 10, 57, 43)
    assert failed.medium.serial == "WD-WCC2EVX81234"
    assert report.problems == ()
    assert report.warnings == (
        "smartctl was not installed: nwipe could not flag SSDs, so each drive's type comes from its model",
    )
    assert report.details["end_message"] == "errors"


def test_nwipe_drive_status_flag_beside_the_name_is_read_too() -> None:
    text = (FIXTURES / "nwipe-synthetic/ssd-without-flag-and-failed-drive.log").read_text()
    row = "!      sdc |-FAILED-|"
    assert row in text
    moved = text.replace(row, "     ! sdc |-FAILED-|").replace(
        "!      sdc |           1", "     ! sdc |           1"
    )
    failed = by_path(parse_report(moved.encode()))["/dev/sdc"][0]
    assert (failed.result, failed.errors) == ("failed", {"pass": 1, "verify": 0, "sync": 0})


def test_nwipe_a_failure_in_the_body_of_a_cut_log_is_still_a_failed_record() -> None:
    text = (FIXTURES / "nwipe-synthetic/ssd-without-flag-and-failed-drive.log").read_text()
    cut = text[: text.index("******************************** Error Summary")]
    report = parse_report(cut.encode(), "nwipe_cut.partial.log")
    erasures = by_path(report)
    failed = erasures["/dev/sdc"][0]
    assert failed.result == "failed"
    assert "the log has no Drive Status row for this drive; its body reports the failure" in failed.warnings
    assert erasures["/dev/sda"][0].result == "unknown"  # finished, but its status never came
    assert (
        "the log ends before the Drive Status table: no result for /dev/sda, /dev/sdb, /dev/sdc"
        in report.problems
    )


def test_nwipe_unknown_model_and_insanity() -> None:
    report = parse("nwipe-synthetic/unknown-model-and-insanity.log")
    erasures = by_path(report)
    travelstar = erasures["/dev/sda"][0]
    assert (travelstar.medium.kind, travelstar.result) == ("unknown", "success")
    insane = erasures["/dev/sdb"][0]
    assert insane.result == "tool_error"
    assert insane.details["status"] == "INSANITY"
    assert insane.details["failures"] == ["Unable to open device '/dev/sdb'"]
    assert report.details["end_message"] == "completed"  # nwipe.c: no result, no error counted


def test_make_log_24_drives_for_the_benchmark() -> None:
    log = make_log(24, start=datetime(2025, 1, 6, 8, 0), failed={3, 17})
    report = parse_report(log.encode(), "bench.log")
    assert len(report.erasures) == 24
    assert report.problems == ()
    assert len({e.medium.serial for e in report.erasures}) == 24
    assert [e.medium.device_path for e in report.erasures][-3:] == ["/dev/sdv", "/dev/sdw", "/dev/sdx"]
    failed = {e.medium.device_path: e.errors["verify"] for e in report.erasures if e.result == "failed"}
    assert failed == {"/dev/sdd": 16384, "/dev/sdr": 73728}
    assert all(e.result == "success" for e in report.erasures if e.medium.device_path not in failed)
    assert min(e.started_at for e in report.erasures if e.started_at) == utc(2025, 1, 6, 8, 0, 5)


def test_make_log_without_failures_is_all_success() -> None:
    report = parse_report(make_log(2, start=datetime(2025, 1, 6, 8, 0)).encode())
    assert [e.result for e in report.erasures] == ["success", "success"]
    assert report.details["end_message"] == "completed"


# --- nwipe rules on edited logs -------------------------------------------------------------------------

THREE = (FIXTURES / "nwipe-synthetic" / "three-drives-success.log").read_text(encoding="utf-8")


def test_nwipe_fewer_bytes_erased_than_the_total_is_partial() -> None:
    row = "       sdc |     1000204886016 |      1000204886016 |           100.00%"
    assert row in THREE
    edited = THREE.replace(row, "!      sdc |      900000000000 |      1000204886016 |            89.98%")
    sdc = by_path(parse_report(edited.encode()))["/dev/sdc"][0]
    assert sdc.result == "partial"
    assert "only 900000000000 of 1000204886016 bytes were erased (89.98%)" in sdc.warnings


def test_nwipe_insanity_status_is_a_tool_error_not_evidence() -> None:
    edited = THREE.replace("       sda | Erased |", "       sda |INSANITY|")
    sda = by_path(parse_report(edited.encode()))["/dev/sda"][0]
    assert sda.result == "tool_error"
    assert (
        "nwipe reported INSANITY for this drive: its own state was inconsistent, so the run proves nothing"
        in sda.warnings
    )


def test_nwipe_hidden_sectors_detected() -> None:
    edited = THREE.replace(
        "   info: No hidden sectors on /dev/sdc", "warning:  *** HIDDEN SECTORS DETECTED ! *** on /dev/sdc"
    )
    sdc = by_path(parse_report(edited.encode()))["/dev/sdc"][0]
    assert sdc.hpa_dco == "present"
    assert "nwipe detected hidden sectors (HPA/DCO) on /dev/sdc" in sdc.warnings


def test_nwipe_failed_sanitize_and_an_unmatched_controller() -> None:
    text = (FIXTURES / "nwipe-synthetic" / "nvme-sanitize-then-verify.log").read_text(encoding="utf-8")
    text = text.replace(
        "   info: /dev/nvme1: SANITIZE action 'Block Erase' was successful.",
        "  error: /dev/nvme1: SANITIZE action 'Block Erase' has failed.",
    )
    text = text.replace("/dev/nvme0: ", "/dev/nvme7: ")
    report = parse_report(text.encode())
    block = by_path(report)["/dev/nvme1n1"][0]
    assert (block.result, block.verification_result) == ("failed", "failed")
    orphan = by_path(report)["/dev/nvme7"][0]
    assert (orphan.technique, orphan.result, orphan.medium.serial) == ("crypto_erase", "success", None)
    assert "the SANITIZE on /dev/nvme7 could not be matched to one drive of the log" in report.problems
    assert orphan.medium in report.detected


def test_nwipe_firmware_method_run() -> None:
    found = "Found /dev/sda,  ATA-SSD, Crucial CT500MX500SSD1,  500 GB, S/N=2039E4A1B2C3"
    log = "\n".join(
        [
            f"[2025/07/01 09:00:00]  notice: {found}",
            "[2025/07/01 09:00:05]  notice: Attempting ATA Sanitize Block Erase on /dev/sda ( ATA-SSD).",
            "[2025/07/01 09:00:05]  notice: Starting ATA Sanitize Block Erase via hdparm on /dev/sda.",
            "[2025/07/01 09:00:41]  notice: Sanitize Block Erase completed on /dev/sda.",
            "",
            "********************************* Drive Status *********************************",
            "!   Device | Status | Thru-put | HH:MM:SS | Model/Serial Number",
            "-" * 80,
            "       sda | Erased |   0 B/s | 00:00:36 | Crucial CT500MX500/2039E4A1B2C3",
            "-" * 80,
            "[2025/07/01 09:00:42] Total Throughput   0 B/s, Sanitize Block Erase (ATA/SCSI/NVMe), 1R+NB+VL",
            "*" * 80,
        ]
    )
    erasure = only(parse_report(log.encode()))
    assert (erasure.technique, erasure.method_label, erasure.passes) == (
        "block_erase",
        "Sanitize Block Erase (ATA/SCSI/NVMe)",
        None,
    )
    assert (erasure.verification, erasure.verification_result) == ("firmware_status", "passed")
    assert erasure.result == "success"
    assert (erasure.started_at, erasure.ended_at) == (utc(2025, 7, 1, 9, 0, 5), utc(2025, 7, 1, 9, 0, 41))
    assert (erasure.medium.kind, erasure.medium.serial) == ("ssd", "2039E4A1B2C3")


def test_nwipe_two_runs_appended_to_one_log() -> None:
    report = parse_report((THREE + THREE).encode())
    assert len(report.erasures) == 3
    assert report.problems == (
        "the log holds 2 nwipe runs: results come from the last summary, times may mix runs",
    )


def test_nwipe_latin1_and_crlf_and_bom() -> None:
    latin = THREE.replace("Dell Inc.", "Société Générale").encode("latin-1")
    assert parse_report(latin).hardware.manufacturer == "Société Générale"  # type: ignore[union-attr]
    windows = b"\xef\xbb\xbf" + THREE.replace("\n", "\r\n").encode()
    assert [e.result for e in parse_report(windows).erasures] == ["success"] * 3


# --- Workbench -----------------------------------------------------------------------------------------


def test_workbench_v10_erase_sectors() -> None:
    report = parse("workbench/erased-i5.v10.json")
    erasure = only(report)
    disk = ParsedMedium("hdd", "ATA", "Seagate", "ST3160815AS", "6RX7AWEZ", 152_627_000_000)
    assert erasure.medium == disk
    assert (erasure.technique, erasure.method_label, erasure.passes, erasure.pattern) == (
        "overwrite",
        "EraseSectors",
        2,
        "zeros+random",
    )
    assert (erasure.verification, erasure.verification_result, erasure.result) == ("all", "passed", "success")
    assert (erasure.started_at, erasure.ended_at) == (utc(2018, 2, 7, 9, 39, 57), utc(2018, 2, 7, 11, 51, 46))
    assert (erasure.tool, erasure.tool_version) == ("Workbench", "10.0b1")
    assert erasure.errors == {}
    assert erasure.warnings == ()
    assert report.host_serial == "CZC901381R"
    assert report.hardware == ParsedHardware(
        "desktop",
        "Hewlett-Packard",
        "HP Compaq dc7900 Small Form Factor",
        "CZC901381R",
        "Intel Core2 Duo CPU E8400 @ 3.00GHz",
        None,  # no RamModule in this snapshot
        (disk,),
    )
    assert report.problems == ()


def test_workbench_v11_acer_erase_basic() -> None:
    report = parse("workbench/acer-happy.snapshot.json")
    erasure = only(report)
    disk = ParsedMedium(
        "hdd", "ATA", "Western Digital", "WDC WD1600BEVT-2", "WD-WX11A80W7430", 160_042_000_000
    )
    assert erasure.medium == disk
    assert (erasure.technique, erasure.method_label, erasure.passes, erasure.pattern) == (
        "overwrite",
        "EraseBasic",
        1,
        "random",
    )
    assert (erasure.verification, erasure.verification_result, erasure.result) == (
        "none",
        "not_done",
        "success",
    )
    assert erasure.started_at == datetime(2019, 9, 10, 10, 51, 20, 207733, tzinfo=UTC)
    assert erasure.ended_at == datetime(2019, 9, 10, 11, 37, 7, 459940, tzinfo=UTC)
    assert erasure.tool_version == "11.0b9"
    assert report.hardware == ParsedHardware(
        "laptop",
        "Acer",
        "AOHAPPY",
        "LUSEA0D010038879A01601",
        "Intel Atom CPU N450 @ 1.66GHz",
        1024 * 1024**2,
        (disk,),
    )


def test_workbench_teal_snapshot_with_redacted_serials() -> None:
    report = parse("workbench/snapshot01.teal.json")
    erasure = only(report)
    assert erasure.medium == ParsedMedium("hdd", "ATA", "Seagate", "ST3500418AS", "AAAAAAAA", 500_000_000_000)
    assert (erasure.method_label, erasure.passes, erasure.pattern, erasure.verification) == (
        "EraseSectors",
        2,
        "zeros+random",
        "all",
    )
    assert (erasure.result, erasure.verification_result) == ("success", "passed")
    assert erasure.started_at == datetime(2021, 10, 11, 9, 45, 19, 623967, tzinfo=UTC)
    assert erasure.ended_at == datetime(2022, 10, 11, 13, 45, 31, 239555, tzinfo=UTC)  # as given, but flagged
    assert erasure.warnings == (
        "the erasure ends 365 days and 0 hours after its last step: its end time may be wrong",
        "the serial 'AAAAAAAA' is anonymised or a placeholder, so it cannot identify the medium",
    )
    assert report.host_serial is None
    assert report.warnings == ("the system serial 'AAAAAAAA' is a placeholder or redacted",)
    assert report.hardware is not None
    assert (report.hardware.kind, report.hardware.model, report.hardware.ram_bytes) == (
        "desktop",
        "3227A2G",
        4096 * 1024**2,
    )


def test_workbench_failed_and_unerased_disks() -> None:
    snapshot = (
        '{"type": "Snapshot", "version": "11.0", "device": {"type": "Laptop", "serialNumber": "L1"}, '
        '"components": ['
        '{"type": "SolidStateDrive", "serialNumber": "S1", "size": 256000, "interface": "ATA", "actions": ['
        '{"type": "EraseBasic", "severity": "Error", "startTime": "2024-01-01T10:00:00", "steps": []}]},'
        '{"type": "HardDrive", "serialNumber": "H2", "size": "1000000.0 MB", "actions": []}]}'
    )
    report = parse_report(snapshot.encode())
    erasure = only(report)
    assert (erasure.medium.kind, erasure.medium.serial, erasure.result, erasure.passes) == (
        "ssd",
        "S1",
        "failed",
        None,
    )
    assert erasure.started_at == utc(2024, 1, 1, 10, 0, 0)  # naive times are taken as UTC
    assert [m.serial for m in report.detected] == ["S1", "H2"]
    assert report.detected[1].capacity_bytes == 1_000_000_000_000


# --- usody-sanitize ------------------------------------------------------------------------------------


def test_usody_success() -> None:
    report = parse("usody/2023-07-22_120312E2M3121K00UN6S.json")
    erasure = only(report)
    assert erasure.medium == ParsedMedium(
        kind="hdd",
        interface="USB",
        manufacturer="ASMT",  # the USB bridge's vendor, as lsblk reports it
        model="Hitachi_HTS543232A7A384",
        serial="120312E2M3121K00UN6S",
        capacity_bytes=320_082_437_734,  # "298.1G" × 1024³, rounded
        device_path="/dev/sda",
        tool_kind="hdd",  # smartctl's rotation rate: 5400 rpm
    )
    assert (erasure.technique, erasure.method_label, erasure.passes, erasure.pattern) == (
        "overwrite",
        "Basic Erasure",
        1,
        "random",
    )
    assert (erasure.verification, erasure.verification_result, erasure.result) == (
        "sample",
        "passed",
        "success",
    )
    assert erasure.started_at == datetime(2023, 7, 21, 21, 48, 59, 14322, tzinfo=UTC)
    assert erasure.ended_at == datetime(2023, 7, 22, 1, 3, 9, 548316, tzinfo=UTC)
    assert (erasure.tool, erasure.tool_version) == ("usody-sanitize", "0.1.1-beta1")
    assert erasure.details["commands"] == ["shred --force --verbose --iterations=1 /dev/sda"]
    assert erasure.details["smart_capacity_bytes"] == 320_072_933_376
    assert erasure.warnings == ()
    assert report.problems == ()
    assert report.host_serial is None
    assert report.hardware is None


def test_usody_failure_without_steps() -> None:
    report = parse("usody/2023-07-22_152D00539000.json")
    erasure = only(report)
    assert erasure.medium == ParsedMedium(
        "hdd", "USB", "TOSHIBA", "MK3259GSXP", "152D00539000", 320_082_437_734, "/dev/sdb", "hdd"
    )
    assert (erasure.result, erasure.verification, erasure.verification_result) == (
        "failed",
        "sample",
        "failed",
    )
    assert (erasure.started_at, erasure.ended_at) == (None, None)
    assert report.problems == ("no erasure step was recorded",)
    assert erasure.warnings == (
        "the validation before the erasure failed, so usody-sanitize did not erase the drive",
        "the validation wrote to /dev/sda, not to /dev/sdb",
        "smartctl reports the serial 42T9CPEGT but the report names 152D00539000 "
        "(a USB bridge can hide the drive's own serial)",
    )


# --- detection and errors ------------------------------------------------------------------------------


def test_report_format_error_carries_a_code() -> None:
    error = ReportFormatError("report_empty", "x is empty")
    assert isinstance(error, ValueError)
    assert (error.code, error.message, str(error)) == (
        "report_empty",
        "x is empty",
        "report_empty: x is empty",
    )


@pytest.mark.parametrize(
    ("data", "code"),
    [
        pytest.param(b"", "report_empty", id="empty"),
        pytest.param(b"  \r\n\t\n", "report_empty", id="blank"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01", "report_unrecognised", id="png"),
        pytest.param(b'{"name": "laptop", "items": [1, 2]}', "report_unrecognised", id="unrelated-json"),
        pytest.param(b"[1, 2, 3]", "report_unrecognised", id="json-list"),
        pytest.param(b'{"hello": ', "report_unrecognised", id="broken-json-of-no-known-shape"),
        pytest.param(b'{"device_info": {"serial_number": "X"', "report_malformed", id="broken-usody-json"),
        pytest.param(
            b'{"device_info": [], "method": {}}', "report_malformed", id="usody-device-info-not-object"
        ),
        pytest.param(
            b'{"type": "Snapshot", "components": "none"}', "report_malformed", id="workbench-components"
        ),
        pytest.param(b"Dear customer,\nyour invoice is attached.\n", "report_unrecognised", id="plain-text"),
    ],
)
def test_unreadable_input_raises_with_a_code(data: bytes, code: str) -> None:
    with pytest.raises(ReportFormatError) as caught:
        parse_report(data, "upload.bin")
    assert caught.value.code == code


def test_a_truncated_fixture_json_is_malformed() -> None:
    data = (FIXTURES / "workbench" / "acer-happy.snapshot.json").read_bytes()[:1500]
    with pytest.raises(ReportFormatError) as caught:
        parse_report(data, "acer.json")
    assert caught.value.code == "report_malformed"
    assert "is not valid JSON" in caught.value.message


def test_detection_uses_the_content_not_the_file_name() -> None:
    data = (FIXTURES / "usody" / "2023-07-22_120312E2M3121K00UN6S.json").read_bytes()
    assert parse_report(data, "nwipe_log_20230722.txt").format == "usody_sanitize"
    assert parse_report(b"[" + data + b"]").format == "usody_sanitize"  # the API's list of one report
    log = (FIXTURES / "nwipe" / "issue278-nvme-drive-status.log").read_bytes()
    assert parse_report(log, "report.json").format == "nwipe_log"


def outcome(data: bytes) -> str:
    """The format parsed, or the error code: anything else escapes and fails the test."""
    try:
        return parse_report(data, "fuzz").format
    except ReportFormatError as error:
        return error.code


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
SHAPES = st.sampled_from(
    [
        {"device_info": None, "method": None, "steps": None, "validation": None, "result": None},
        {"@type": "devices:Snapshot", "device": None, "components": None},
        {"type": "Snapshot", "device": None, "components": None},
    ]
)


@settings(max_examples=150, deadline=None)
@given(shape=SHAPES, values=st.lists(JSON_VALUES, min_size=5, max_size=5))
def test_any_json_of_a_known_shape_parses_or_is_malformed(
    shape: dict[str, object], values: list[object]
) -> None:
    document = dict(zip(shape, values, strict=False))
    assert outcome(json.dumps(document).encode()) in {
        "usody_sanitize",
        "workbench_v10",
        "workbench_v11",
        "report_malformed",
        "report_unrecognised",
    }


@settings(max_examples=150, deadline=None)
@given(cut=st.integers(min_value=0, max_value=len(THREE)), noise=st.binary(max_size=40))
def test_a_cut_or_garbled_nwipe_log_never_raises_anything_else(cut: int, noise: bytes) -> None:
    assert outcome(THREE.encode()[:cut] + noise) in {"nwipe_log", "report_empty", "report_unrecognised"}
