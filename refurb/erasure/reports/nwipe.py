"""nwipe / ShredOS logs: one erasure per wiped drive, read from the lines nwipe's source prints.

Line formats are nwipe's own (martijnvanbrummelen/nwipe):
- `src/logging.c`, `nwipe_log`: the `[YYYY/MM/DD HH:MM:SS]` stamp and 9-character level labels;
  `nwipe_log_summary`: the Error Summary, Drive Status (status in exactly eight characters:
  " Erased ", "-FAILED-", "UABORTED", "INSANITY") and the `Total Throughput …, nR+B+VL` footer,
  written without a stamp; `nwipe_log_sysinfo`: the dmidecode lines;
- `src/device.c`, `check_device`: `Found %s, %s, %s, %s, S/N=%s` with the 8-character bus column,
  "-SSD" appended only when smartctl says "Solid State Device";
- `src/method.c`, `nwipe_runmethod`: round, pass, blank and verify lines, error counts;
- `src/pass.c`: `Unable to write to '%s'.` and the other I/O failures;
- `src/nwipe.c`, `main`: `Nwipe exited with errors on device = %s, see log for specific error`
  before the summary, and the closing messages;
- `src/hpa_dco.c` and `src/se_*`: hidden sectors and firmware SANITIZE.
Logs are often cut (pasted from a terminal, copied before the wipe ended): the parser never raises
on a gap, it says what is missing in `problems`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from refurb.erasure.kinds import decide_kind
from refurb.erasure.reports.model import (
    ParsedErasure,
    ParsedHardware,
    ParsedMedium,
    ParsedReport,
    brand_from_model,
    clean_serial,
    hardware_kind,
    host_serial_or_none,
    looks_redacted,
)

__all__ = ("looks_like_nwipe", "parse_nwipe")

TOOL = "nwipe"

_STAMP = re.compile(
    r"^\[(\d{4})/(\d{2})/(\d{2}) (\d{2}):(\d{2}):(\d{2})\]\s*(?:nwipe:\s*)?"
    r"(?:(debug|info|notice|warning|error|fatal|sanity): ?)?(.*)$"
)
_LEVELLED = re.compile(r"^\[\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}\]\s+(?:nwipe:\s*)?[a-z]+: ")
_TABLE_HEADERS = tuple(
    re.compile(header)
    for header in (r"\|\s*Pass Errors\s*\|", r"\|\s*Bytes Erased\s*\|", r"\|\s*Status\s*\|\s*Thru-put\s*\|")
)
_BORDER = re.compile(r"^[*-]{20,}$")

# Table rows: nwipe_log_summary() prints "%s %s |…" — the "!" flag, a space, then the device
# right-justified in 8 characters; the flag is also met one column right in hand-edited logs.
_DEVICE_COLUMN = r"^[!\s]*(?P<name>[^\s|!]+)\s*\|"
_ERROR_ROW = re.compile(_DEVICE_COLUMN + r"\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)?\s*$")
_ERASURE_ROW = re.compile(
    _DEVICE_COLUMN + r"\s*(?P<erased>\d+)\s*\|\s*(?P<total>\d+)\s*\|\s*(?P<pct>[^|]*?)\s*$"
)
_STATUS_ROW = re.compile(
    _DEVICE_COLUMN + r"(?P<status>[^|]*)\|\s*(?P<thru>[^|]*?)\s*\|"
    r"\s*(?P<dur>\d+:\d{2}:\d{2})\s*\|\s?(?P<ident>.*)$"
)
_FOOTER = re.compile(r"Total Throughput (?P<thru>.+?)/s, (?P<rest>.+)$")
_CODES = re.compile(r"^(\d+)R\+(B|NB)\+(NV|VL|VA)$")
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(TB|GB|MB|KB|B)\b")
_SIZE_FACTORS = {"TB": 10**12, "GB": 10**9, "MB": 10**6, "KB": 10**3, "B": 1}
_DEV = r"(/dev/\S+?)"

#: The Drive Status column, eight characters (`nwipe_log_summary`): " Erased " when wipe_status is 0
#: without errors, "-FAILED-" on any pass/verify/fdatasync error (nwipe.c turns a fatal result into
#: one pass error), "UABORTED" when the user stopped a running wipe, "INSANITY" for any other state
#: (a method that returned early, a device that could not be opened): nwipe's own bug, not evidence.
_STATUS_RESULTS = {
    "Erased": "success",
    "-FAILED-": "failed",
    "UABORTED": "aborted",
    "INSANITY": "tool_error",
}
_VERIFY_CODES = {"VL": "last", "VA": "all", "NV": "none"}
_VERIFY_OPTIONS = {"off": "none", "last pass": "last", "all passes": "all"}
_FIRMWARE_ACTIONS = {
    "Block Erase": "block_erase",
    "Crypto Erase": "crypto_erase",
    "Crypto Scramble": "crypto_erase",
    "Overwrite": "overwrite",
}
_BUSES = {
    "ATA": "ATA",
    "SAS": "SAS",
    "SCSI": "SCSI",
    "IDE": "IDE",
    "USB": "USB",
    "NVME": "NVMe",
    "MMC": "MMC",
    "VIRT": "VIRT",
    "1394": "IEEE1394",
    "CPQ": "CPQ",
    "UNK": "",
}
_DMI_KEYS = re.compile(r"^((?:bios|system|baseboard|chassis|processor)-[a-z-]+) = (.*)$")


@dataclass(frozen=True, slots=True)
class _Method:
    """What nwipe's method label implies: technique, passes per round and pattern."""

    technique: str
    passes: int | None
    pattern: str
    firmware: bool = False  # the drive's own erase command does the work


_METHODS = {
    "prng stream": _Method("overwrite", 1, "random"),
    "fill with zeros": _Method("overwrite", 1, "zeros"),
    "zero fill": _Method("overwrite", 1, "zeros"),
    "fill with ones": _Method("overwrite", 1, "ones"),
    "one fill": _Method("overwrite", 1, "ones"),
    "dod short": _Method("overwrite", 3, "mixed"),
    "dod 5220.22-m": _Method("overwrite", 7, "mixed"),
    "gutmann wipe": _Method("overwrite", 35, "mixed"),
    "rcmp tssit ops-ii": _Method("overwrite", None, "mixed"),
    "hmg is5 enhanced": _Method("overwrite", 3, "zeros+ones+random"),
    "bruce schneier 7-pass": _Method("overwrite", 7, "mixed"),
    "bmb21-2019": _Method("overwrite", None, "mixed"),
    "verify zeros (0x00)": _Method("none", 0, "zeros"),
    "verify ones (0xff)": _Method("none", 0, "ones"),
    "secure erase (ata/nvme)": _Method("firmware_sanitize", None, "", firmware=True),
    "secure erase + prng + verify": _Method("firmware_sanitize", None, "random", firmware=True),
    "sanitize crypto erase (ata/scsi/nvme)": _Method("crypto_erase", None, "", firmware=True),
    "sanitize block erase (ata/scsi/nvme)": _Method("block_erase", None, "", firmware=True),
    "sanitize overwrite (ata/scsi/nvme)": _Method("overwrite", None, "", firmware=True),
}


# --- what the log says, gathered line by line ------------------------------------------------------


@dataclass(slots=True)
class _Found:
    bus: str
    model: str
    size_text: str
    serial: str | None
    cut: bool  # the line is exactly 80 characters in a paste cut at 80 columns


@dataclass(slots=True)
class _Firmware:
    controller: str
    action: str
    outcome: str  # "was successful", "has failed", "has completed"
    issued_at: datetime | None
    done_at: datetime | None
    args: str


@dataclass(slots=True)
class _Drive:
    path: str
    name: str = ""
    found: _Found | None = None
    hpa: str = ""
    busy: bool = False
    method: str = ""
    started: datetime | None = None
    ended: datetime | None = None
    pass_count: int | None = None
    round_count: int | None = None
    passes_finished: int = 0
    bytes_written: int | None = None
    blanked: bool = False
    verify: list[str] = field(default_factory=list)  # "passed" / "failed", in log order
    error_lines: dict[str, int] = field(default_factory=dict)
    firmware_status: str = ""  # method.c style "Sanitize … completed on"
    skipped_verify: bool = False
    failures: list[str] = field(default_factory=list)  # the log body's own words of a failure
    active: bool = False  # some wipe line names it
    errors_row: dict[str, int] | None = None
    erasure_row: tuple[int, int, str] | None = None
    status_row: dict[str, str] | None = None


@dataclass(slots=True)
class _Footer:
    at: datetime
    throughput: str
    method: str
    rounds: int | None
    blank: bool | None
    verify: str


@dataclass(slots=True)
class _Log:
    drives: dict[str, _Drive] = field(default_factory=dict)
    version: str = ""
    dmi: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    prng: str = ""
    footer: _Footer | None = None
    end: str = ""
    excluded: list[str] = field(default_factory=list)
    no_smartctl: bool = False  # nwipe then cannot flag SSDs (device.c reads "Rotation Rate" from smartctl)
    firmware: list[_Firmware] = field(default_factory=list)
    pending: dict[str, tuple[datetime | None, str]] = field(default_factory=dict)
    capabilities: dict[str, str] = field(default_factory=dict)
    rows: dict[str, list[dict[str, str]]] = field(
        default_factory=lambda: {"errors": [], "erasure": [], "status": []}
    )
    tables: set[str] = field(default_factory=set)
    old_layout: bool = False
    summaries: int = 0  # Drive Status tables: nwipe appends each run to the same log file
    long_lines: int = 0
    lines_80: int = 0
    line_length: int = 0  # of the line being read

    @property
    def cut_at_80(self) -> bool:
        """True for a terminal paste cut at 80 columns: no longer line, several of exactly 80."""
        return self.long_lines == 0 and self.lines_80 >= 2

    def drive(self, path: str) -> _Drive:
        """The drive for a device path, created on first mention."""
        drive = self.drives.get(path)
        if drive is None:
            drive = self.drives[path] = _Drive(path=path, name=path.rsplit("/", 1)[-1])
        return drive

    def touch(self, path: str, at: datetime, *, start: bool = False) -> _Drive:
        """Note wipe activity on a drive at a time; the first such line starts it."""
        drive = self.drive(path)
        drive.active = True
        if start and drive.started is None:
            drive.started = at
        drive.ended = at
        return drive


# --- line handlers --------------------------------------------------------------------------------

_Handler = Callable[[_Log, re.Match[str], datetime], None]


def _on_found(log: _Log, m: re.Match[str], at: datetime) -> None:
    parts = m.group(2).split(", ")
    if len(parts) >= 3:  # recent nwipe: bus, model, size
        bus, model, size_text = parts[0], ", ".join(parts[1:-1]).strip(), parts[-1].strip()
    else:  # older: model, size (libparted's model may start with "ATA ")
        bus, model, size_text = "", parts[0].strip(), parts[-1].strip() if len(parts) > 1 else ""
        if model.upper().startswith("ATA "):
            bus, model = "ATA", model[4:].strip()
    found = _Found(bus, model, size_text, clean_serial(m.group(3)), log.line_length == 80)
    log.drive(m.group(1)).found = found


def _on_hpa(value: str) -> _Handler:
    def handler(log: _Log, m: re.Match[str], at: datetime) -> None:
        log.drive(m.group(1)).hpa = value

    return handler


def _on_busy(log: _Log, m: re.Match[str], at: datetime) -> None:
    log.drive(m.group(1)).busy = True


def _on_excluded(log: _Log, m: re.Match[str], at: datetime) -> None:
    log.excluded.append(m.group(1))


def _on_version(log: _Log, m: re.Match[str], at: datetime) -> None:
    log.version = log.version or m.group(1)


def _on_dmi(log: _Log, m: re.Match[str], at: datetime) -> None:
    log.dmi.setdefault(m.group(1), m.group(2).strip())


def _on_option(key: str) -> _Handler:
    def handler(log: _Log, m: re.Match[str], at: datetime) -> None:
        log.options[key] = m.group(1).strip() if m.groups() else "1"

    return handler


def _on_prng(log: _Log, m: re.Match[str], at: datetime) -> None:
    log.prng = log.prng or m.group(1)


def _on_invoke(log: _Log, m: re.Match[str], at: datetime) -> None:
    log.touch(m.group(2), at, start=True).method = m.group(1)


def _on_round_start(log: _Log, m: re.Match[str], at: datetime) -> None:
    log.touch(m.group(3), at, start=True).round_count = int(m.group(2))


def _on_pass_start(log: _Log, m: re.Match[str], at: datetime) -> None:
    drive = log.touch(m.group(5), at, start=True)
    drive.pass_count, drive.round_count = int(m.group(2)), int(m.group(4))


def _on_pass_end(log: _Log, m: re.Match[str], at: datetime) -> None:
    drive = log.touch(m.group(5), at)
    drive.pass_count, drive.round_count = int(m.group(2)), int(m.group(4))
    drive.passes_finished += 1


def _on_start(log: _Log, m: re.Match[str], at: datetime) -> None:
    log.touch(m.group(1), at, start=True)


def _on_written(log: _Log, m: re.Match[str], at: datetime) -> None:
    log.touch(m.group(2), at).bytes_written = int(m.group(1))


def _on_activity(log: _Log, m: re.Match[str], at: datetime) -> None:
    log.touch(m.group(1), at)


def _on_blank(log: _Log, m: re.Match[str], at: datetime) -> None:
    log.touch(m.group(1), at).blanked = True


def _on_verify(outcome: str) -> _Handler:
    def handler(log: _Log, m: re.Match[str], at: datetime) -> None:
        log.touch(m.group(1), at).verify.append(outcome)

    return handler


def _on_error_count(key: str) -> _Handler:
    def handler(log: _Log, m: re.Match[str], at: datetime) -> None:
        log.touch(m.group(2), at).error_lines[key] = int(m.group(1))

    return handler


def _on_failure(log: _Log, m: re.Match[str], at: datetime) -> None:
    log.touch(m.group(1), at).failures.append(m.string.strip().rstrip("."))


def _on_exit_failure(log: _Log, m: re.Match[str], at: datetime) -> None:
    """Printed just before the summary: a failure, but not the time the wipe ended."""
    drive = log.drive(m.group(1))
    drive.active = True
    drive.failures.append(m.string.strip().rstrip("."))


def _on_no_smartctl(log: _Log, m: re.Match[str], at: datetime) -> None:
    log.no_smartctl = True


def _on_skip_verify(log: _Log, m: re.Match[str], at: datetime) -> None:
    log.touch(m.group(1), at).skipped_verify = True


def _on_method_firmware(outcome: str) -> _Handler:
    def handler(log: _Log, m: re.Match[str], at: datetime) -> None:
        log.touch(m.group(1), at).firmware_status = outcome

    return handler


def _on_sanitize_issued(log: _Log, m: re.Match[str], at: datetime) -> None:
    log.pending[m.group(1)] = (at, m.group(2).strip())


def _on_sanitize_done(log: _Log, m: re.Match[str], at: datetime) -> None:
    controller, action, outcome = m.group(1), m.group(2), m.group(3)
    issued_at, args = log.pending.pop(controller, (None, ""))
    log.firmware.append(_Firmware(controller, action, outcome, issued_at, at, args))


def _on_capabilities(log: _Log, m: re.Match[str], at: datetime) -> None:
    log.capabilities[m.group(1)] = f"{m.group(2)}: {m.group(3).strip()}"


def _on_end(value: str) -> _Handler:
    def handler(log: _Log, m: re.Match[str], at: datetime) -> None:
        log.end = value

    return handler


_HANDLERS: tuple[tuple[re.Pattern[str], _Handler], ...] = tuple(
    (re.compile(pattern), handler)
    for pattern, handler in (
        (rf"^Found {_DEV}, (.*), S/N=(.*)$", _on_found),
        (rf"^No hidden sectors on {_DEV}$", _on_hpa("none")),
        (rf"\*\*\* HIDDEN SECTORS DETECTED ! \*\*\* on {_DEV}$", _on_hpa("present")),
        (rf"^HIDDEN SECTORS INDETERMINATE! on {_DEV},", _on_hpa("indeterminate")),
        (rf"^{_DEV} may not support HPA/DCO", _on_hpa("not_applicable")),
        (rf"^{_DEV} is reported as IN USE", _on_busy),
        (r"^Device (\S+) (?:excluded|ignored) as per", _on_excluded),
        (r"^nwipe (?:version )?(\d[\w.+~-]*)\s*$", _on_version),
        (_DMI_KEYS.pattern, _on_dmi),
        (r"^\s+prng\s+= (.+)$", _on_option("prng")),
        (r"^\s+method\s+= (.+)$", _on_option("method")),
        (r"^\s+rounds\s+= (\d+)", _on_option("rounds")),
        (r"^\s+quiet\s+= (\d+)", _on_option("quiet")),
        (r"^\s+verify\s+= \d+ \((off|last pass|all passes)\)", _on_option("verify")),
        (r"^\s+do not perform a final blank pass", _on_option("noblank")),
        (r"^Initialising (.+?) prng$", _on_prng),
        (rf"^Invoking method '(.*)' on {_DEV}$", _on_invoke),
        (rf"^Starting round (\d+) of (\d+) on {_DEV}$", _on_round_start),
        (rf"^Starting pass (\d+)/(\d+), round (\d+)/(\d+), on {_DEV}$", _on_pass_start),
        (rf"^Finished pass (\d+)/(\d+), round (\d+)/(\d+), on {_DEV}$", _on_pass_end),
        (rf"^(\d+) bytes written to {_DEV}$", _on_written),
        (rf"^\d+ bytes read from {_DEV}$", _on_activity),
        (rf"^Finished (?:final )?round \d+ of \d+ on {_DEV}$", _on_activity),
        (rf"^Verifying (?:pass .* on |that |final random pattern FRP on ){_DEV}(?: is .*)?$", _on_activity),
        (rf"^Blanking device {_DEV}$", _on_blank),
        (rf"^\[SUCCESS\] Verified that {_DEV} is ", _on_verify("passed")),
        (rf"^\[SUCCESS\] Verified FRP on '{_DEV}' matches", _on_verify("passed")),
        (rf"^Verified pass \d+ of \d+, round \d+ of \d+, on '{_DEV}'\.$", _on_verify("passed")),
        (
            rf"^\[FAILURE\] {_DEV} (?:Verification errors|has not been Zeroed|is not full of ones)",
            _on_verify("failed"),
        ),
        (rf"^\[SUCCESS\] Blanked device {_DEV}$", _on_activity),
        (rf"^\[FAILURE\] {_DEV} may not be blanked$", _on_failure),
        # nwipe.c main(), before the summary: a drive with a non-zero result or any error
        (rf"^Nwipe exited with errors on device = {_DEV}, see log", _on_exit_failure),
        # pass.c and nwipe.c: I/O that failed on a device
        (rf"^Unable to (?:write to|read from|open device|reset the|bump the) '{_DEV}'", _on_failure),
        (rf"^{_DEV}: >>> FAILURE! <<<: (?:signal|code) -?\d+$", _on_failure),
        (rf"^Secure Erase could not be executed on {_DEV}\. Aborting method", _on_failure),
        (r"^Command not found\. Install smartmontools", _on_no_smartctl),
        (rf"^(\d+) verification errors on '{_DEV}'\.$", _on_error_count("verify")),
        (rf"^(\d+) wipe errors on '{_DEV}'\.$", _on_error_count("pass")),
        (rf"^(\d+) sync errors on '{_DEV}'\.$", _on_error_count("sync")),
        (rf"^Skipping verification of pass .* on {_DEV} due to", _on_skip_verify),
        (rf"^Attempting (?:ATA|NVMe|SCSI) \S.* on {_DEV} \(", _on_start),
        (
            rf"^Sanitize (?:Crypto Erase|Block Erase|Overwrite) completed on {_DEV}\.$",
            _on_method_firmware("success"),
        ),
        (
            rf"^Sanitize (?:Crypto Erase|Block Erase|Overwrite) failed on {_DEV}\.$",
            _on_method_firmware("failed"),
        ),
        (rf"^(?:ATA|NVMe) Secure Erase completed successfully on {_DEV}\.$", _on_method_firmware("success")),
        (rf"^(?:ATA|NVMe) Secure Erase: .*failure on {_DEV} ", _on_method_firmware("failed")),
        (rf"^{_DEV}: issuing SANITIZE (.*)$", _on_sanitize_issued),
        (
            rf"^{_DEV}: SANITIZE action '([^']+)' (was successful|has failed|has completed)\.",
            _on_sanitize_done,
        ),
        (rf"^{_DEV}: (ATA|NVMe|SCSI) Sanitize capabilities: (.*)$", _on_capabilities),
        (r"^Nwipe successfully (?:completed|exited)", _on_end("completed")),
        (r"^Nwipe exited with errors", _on_end("errors")),
        (r"^Nwipe was aborted by the user prior to the wipe starting", _on_end("aborted_before_start")),
        (r"^Nwipe was aborted by the user", _on_end("aborted")),
    )
)


# --- reading the text --------------------------------------------------------------------------


def looks_like_nwipe(text: str) -> bool:
    """True when the text has nwipe's levelled, timestamped lines or its summary tables."""
    head = text[:200_000]
    if any(header.search(head) for header in _TABLE_HEADERS) or "Total Throughput" in head:
        return True
    return any(_LEVELLED.match(line) for line in head.splitlines()[:2000])


class _Reader:
    """Feeds lines to the table readers or the message handlers."""

    def __init__(self) -> None:
        self.log = _Log()
        self.table = ""
        self.table_rows = 0

    def feed(self, lines: Iterable[str]) -> _Log:
        for line in lines:
            if self.table and self._table_line(line):
                continue
            self._line(line)
        return self.log

    def _line(self, line: str) -> None:
        log = self.log
        stamp = _STAMP.match(line)
        if stamp is None:
            self._maybe_table_header(line)
            return
        try:
            at = datetime(*(int(stamp.group(i)) for i in range(1, 7)), tzinfo=UTC)
        except ValueError:
            return  # a garbled timestamp: the line cannot be placed in time
        log.long_lines += len(line) > 80
        log.lines_80 += len(line) == 80
        log.line_length = len(line)
        message = stamp.group(8)
        if stamp.group(7) is None and (footer := _FOOTER.search(message)):
            log.footer = _read_footer(footer, at)
            return
        for pattern, handler in _HANDLERS:
            if m := pattern.search(message):
                handler(log, m, at)
                return

    def _maybe_table_header(self, line: str) -> None:
        kinds = zip(("errors", "erasure", "status"), _TABLE_HEADERS, strict=True)
        kind = next((k for k, header in kinds if header.search(line)), "")
        if kind:
            self.table, self.table_rows = kind, 0
            self.log.tables.add(kind)
            self.log.summaries += kind == "status"
            self.log.old_layout = self.log.old_layout or line.find("Device") <= 2

    def _table_line(self, line: str) -> bool:
        stripped = line.strip()
        if _BORDER.match(stripped) or not stripped:
            if stripped.startswith("-") and self.table_rows == 0:
                return True  # the rule under the column titles
            self.table = ""
            return True
        pattern = {"errors": _ERROR_ROW, "erasure": _ERASURE_ROW, "status": _STATUS_ROW}[self.table]
        if (m := pattern.match(line)) is None:
            self.table = ""
            return False
        self.log.rows[self.table].append({k: (v or "") for k, v in m.groupdict().items()} | {"_": line})
        self.table_rows += 1
        return True


def _read_footer(m: re.Match[str], at: datetime) -> _Footer:
    method, _, codes = m.group("rest").rpartition(", ")
    parsed = _CODES.match(codes.strip())
    if not parsed:
        return _Footer(at, m.group("thru").strip(), m.group("rest").strip(), None, None, "unknown")
    rounds, blank, verify = parsed.groups()
    return _Footer(
        at, m.group("thru").strip(), method.strip(), int(rounds), blank == "B", _VERIFY_CODES[verify]
    )


# --- turning the gathered facts into records -----------------------------------------------------


def _attach_rows(log: _Log) -> None:
    """Give each summary-table row to its drive (tables name devices without /dev/)."""
    for row in log.rows["errors"]:
        numbers = [int(n) for n in re.findall(r"\|\s*(\d+)", row["_"])]
        _drive_for_name(log, row["name"]).errors_row = dict(
            zip(("pass", "verify", "sync"), numbers, strict=False)
        )
    for row in log.rows["erasure"]:
        _drive_for_name(log, row["name"]).erasure_row = (
            int(row["erased"]),
            int(row["total"]),
            row["pct"].strip(),
        )
    for row in log.rows["status"]:
        _drive_for_name(log, row["name"]).status_row = row


def _drive_for_name(log: _Log, name: str) -> _Drive:
    """The drive a table row names; old logs cut the name to its last 6 characters."""
    for drive in log.drives.values():
        if drive.name == name:
            return drive
    cut = log.old_layout and len(name) == 6
    for drive in log.drives.values():
        if cut and drive.path and drive.name.endswith(name):
            return drive
    if cut:
        return log.drives.setdefault(f"?{name}", _Drive(path="", name=name))
    return log.drive(f"/dev/{name}")


def _bus_kind(bus: str, name: str) -> tuple[str, str]:
    """What the bus says of the medium, and the interface, from nwipe's type column and the device name.

    `src/device.c` (`check_device`) prints a 4-character bus (" ATA", " USB", "NVME", "VIRT", " MMC"…)
    and appends "-SSD" only when smartctl reports "Rotation Rate: Solid State Device"; four spaces
    otherwise, also when smartctl is missing or a USB bridge hides the drive. So "-SSD" is a flag,
    its absence is not: the tool's statement is then "" and the model decides (`refurb.erasure.kinds`).
    """
    head, _, tail = bus.strip().partition("-")
    interface = _BUSES.get(head.strip().upper(), head.strip())
    if interface == "NVMe" or re.match(r"^n?vme\d+n\d+", name):
        return "nvme", "NVMe"
    if interface == "MMC" or name.startswith("mmcblk"):
        return "emmc", "MMC"
    if interface == "VIRT" or name.startswith(("loop", "ram", "zram", "dm-")):
        return "other", interface
    if tail.strip().upper() == "SSD":
        return "ssd", interface
    return "", interface


def _size_bytes(text: str) -> int | None:
    """Bytes from nwipe's decimal size text ("7864 MB", "160GB"); nwipe rounds it down."""
    m = _SIZE.search(text)
    return int(float(m.group(1)) * _SIZE_FACTORS[m.group(2)]) if m else None


def _split_identity(ident: str) -> tuple[str, str | None]:
    """Model and serial from the Drive Status column `model/serial` (model cut to 17 characters)."""
    slashes = [i for i, ch in enumerate(ident) if ch == "/" and i <= 17]
    if not slashes:
        return ident.strip(), None
    cut = slashes[-1]
    return ident[:cut].strip(), clean_serial(ident[cut + 1 :])


def _medium(drive: _Drive, cut_at_80: bool) -> tuple[ParsedMedium, list[str]]:
    """The medium a drive's lines describe, and warnings about its identity."""
    warnings: list[str] = []
    label = drive.path or drive.name
    if drive.found is not None:
        found = drive.found
        model, serial, bus, size = found.model, found.serial, found.bus, _size_bytes(found.size_text)
        if found.cut and cut_at_80 and serial:
            warnings.append(
                f"the Found line of {label} is cut at 80 characters: its serial '{serial}' may be incomplete"
            )
    else:
        model, serial = _split_identity((drive.status_row or {}).get("ident", ""))
        bus, size = "", None
        if drive.status_row is not None:
            warnings.append("the model comes from the Drive Status table, which cuts it to 17 characters")
    if drive.erasure_row is not None and drive.erasure_row[1] > 0:
        size = drive.erasure_row[1]
    elif size is None and drive.bytes_written and drive.passes_finished:
        size = drive.bytes_written  # a finished pass writes the whole device
    tool_kind, interface = _bus_kind(bus, drive.name)
    kind = decide_kind(tool=tool_kind, model=model).kind
    if serial is None and (drive.found is not None or drive.status_row is not None):
        warnings.append(f"nwipe gave no serial number for {label}")
    elif looks_redacted(serial):
        warnings.append(f"the serial '{serial}' is anonymised (nwipe -q), so it cannot identify the drive")
    brand = brand_from_model(model)
    medium = ParsedMedium(kind, interface, brand, model, serial, size, drive.path, tool_kind)
    return medium, warnings


@dataclass(frozen=True, slots=True)
class _Settings:
    """The run-wide settings, from the footer, else the options block, else the drive's own lines."""

    label: str
    method: _Method | None
    rounds: int | None
    blank: bool | None
    verify: str
    prng: str


def _settings(log: _Log, drive: _Drive) -> _Settings:
    footer, options = log.footer, log.options
    label = (footer.method if footer else "") or drive.method or options.get("method", "")
    method = _METHODS.get(" ".join(label.lower().split()))
    rounds = (footer.rounds if footer else None) or _int(options.get("rounds")) or drive.round_count
    if footer is not None and footer.blank is not None:
        blank: bool | None = footer.blank
    elif "method" in options:
        blank = "noblank" not in options
    else:
        blank = True if drive.blanked else None
    verify = (
        footer.verify if footer is not None else _VERIFY_OPTIONS.get(options.get("verify", ""), "unknown")
    )
    if verify == "unknown" and drive.verify:
        verify = "last"
    if method is not None and method.technique == "none":
        verify = "all"  # the verify-only methods read the whole device back
    elif method is not None and method.firmware and not drive.verify:
        verify = "firmware_status"
    return _Settings(label, method, rounds, blank, verify, options.get("prng", "") or log.prng)


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


def _passes(settings: _Settings, drive: _Drive) -> int | None:
    method = settings.method
    if method is not None and method.technique == "none":
        return 0
    if method is not None and method.firmware:
        return None
    per_round = drive.pass_count if drive.pass_count is not None else (method.passes if method else None)
    return per_round * settings.rounds if per_round is not None and settings.rounds else None


def _pattern(settings: _Settings, drive: _Drive) -> str:
    if settings.method is not None:
        return settings.method.pattern
    return "random" if settings.prng and drive.pass_count == 1 else ""


def _verification_result(verify: str, drive: _Drive, errors: dict[str, int], status: str) -> str:
    if verify == "none":
        return "not_done"
    if "failed" in drive.verify or errors.get("verify", 0) > 0:
        return "failed"
    if "passed" in drive.verify:
        return "passed"
    if verify == "firmware_status":
        return {"success": "passed", "failed": "failed"}.get(drive.firmware_status, "unknown")
    if status == "Erased" and verify in {"last", "all"}:
        return "passed"  # nwipe marks a drive -FAILED- on any verification error
    return "not_done" if status == "UABORTED" else "unknown"


def _result(
    log: _Log, status: str, errors: dict[str, int], verification: str, drive: _Drive, technique: str
) -> tuple[str, list[str]]:
    """The outcome: the Drive Status column decides; without it, only the body's own failure lines do."""
    warnings: list[str] = []
    if not status:
        if drive.failures or any(count > 0 for count in errors.values()) or verification == "failed":
            warnings.append("the log has no Drive Status row for this drive; its body reports the failure")
            return "failed", warnings
        if log.end == "aborted":
            return "aborted", warnings
        return "unknown", warnings
    result = _STATUS_RESULTS.get(status, "unknown")
    if status not in _STATUS_RESULTS:
        warnings.append(f"unknown Drive Status '{status}'")
    if status == "INSANITY":
        warnings.append(
            "nwipe reported INSANITY for this drive: its own state was inconsistent, "
            "so the run proves nothing"
        )
    if result != "success":
        return result, warnings
    if (
        any(count > 0 for count in errors.values())
        or verification == "failed"
        or drive.firmware_status == "failed"
        or drive.failures
    ):
        warnings.append("the Drive Status says Erased but the log reports errors")
        return "failed", warnings
    erased = drive.erasure_row
    if technique == "overwrite" and erased is not None and erased[0] < erased[1]:
        warnings.append(f"only {erased[0]} of {erased[1]} bytes were erased ({erased[2]})")
        return "partial", warnings
    return "success", warnings


def _duration(text: str) -> timedelta | None:
    hours, minutes, seconds = (int(part) for part in text.split(":")) if text else (0, 0, 0)
    return timedelta(hours=hours, minutes=minutes, seconds=seconds) if text else None


def _times(log: _Log, drive: _Drive, status: str) -> tuple[datetime | None, datetime | None, list[str]]:
    """Start and end of the wipe; nwipe logs no per-drive times, so the summary may fill the gaps."""
    started, ended, warnings = drive.started, drive.ended, []
    duration = _duration((drive.status_row or {}).get("dur", ""))
    if log.footer is not None and drive.status_row is not None:
        if status == "UABORTED":
            ended = log.footer.at  # nwipe ends an aborted wipe at the time of the summary
        elif ended is None:
            ended = log.footer.at
            warnings.append(
                "the end time is the time of the summary table: the log has no end line for this drive"
            )
    if started is None and ended is not None and duration is not None:
        started = ended - duration
        warnings.append("the start time is estimated from the Drive Status duration")
    return started, ended, warnings


def _drive_warnings(drive: _Drive) -> list[str]:
    warnings = []
    if drive.busy:
        warnings.append(f"nwipe reported {drive.path} as in use (it could be mounted)")
    if drive.hpa == "present":
        warnings.append(f"nwipe detected hidden sectors (HPA/DCO) on {drive.path}")
    elif drive.hpa == "indeterminate":
        warnings.append(f"nwipe could not tell whether {drive.path} has hidden sectors (HPA/DCO)")
    if drive.skipped_verify:
        warnings.append("nwipe skipped a verification because the pass had write errors")
    return warnings


def _details(**values: object) -> dict[str, object]:
    return {key: value for key, value in values.items() if value not in (None, "", [], {})}


def _run_erasure(log: _Log, drive: _Drive, medium: ParsedMedium, medium_warnings: list[str]) -> ParsedErasure:
    """The erasure nwipe's own method run did on a drive."""
    settings = _settings(log, drive)
    technique = settings.method.technique if settings.method else "overwrite"
    errors = dict(drive.errors_row if drive.errors_row is not None else drive.error_lines)
    row = drive.status_row or {}
    status = row.get("status", "").strip()
    verification_result = _verification_result(settings.verify, drive, errors, status)
    result, result_warnings = _result(log, status, errors, verification_result, drive, technique)
    started, ended, time_warnings = _times(log, drive, status)
    erased = drive.erasure_row
    details = _details(
        status=status,
        rounds=settings.rounds,
        blank=settings.blank,
        prng=settings.prng,
        throughput=row.get("thru", "").strip(),
        duration=row.get("dur", ""),
        percentage_erased=erased[2] if erased else None,
        bytes_written=drive.bytes_written,
        firmware_status=drive.firmware_status,
        failures=drive.failures,
        table_device=drive.name if not drive.path else None,
        end_message=log.end,
    )
    warnings = medium_warnings + _drive_warnings(drive) + result_warnings + time_warnings
    return ParsedErasure(
        medium=medium,
        technique=technique,
        method_label=settings.label,
        passes=_passes(settings, drive),
        pattern=_pattern(settings, drive),
        verification=settings.verify,
        verification_result=verification_result,
        tool=TOOL,
        tool_version=log.version,
        started_at=started,
        ended_at=ended,
        bytes_erased=erased[0] if erased else None,
        bytes_total=erased[1] if erased else None,
        errors=errors,
        result=result,
        hpa_dco=drive.hpa,
        warnings=tuple(warnings),
        details=details,
    )


_FIRMWARE_OUTCOMES = {"was successful": ("success", "passed"), "has failed": ("failed", "failed")}


def _firmware_erasure(
    log: _Log, event: _Firmware, medium: ParsedMedium, hpa: str, warnings: list[str]
) -> ParsedErasure:
    """A firmware SANITIZE action, checked only by the status the device reports."""
    result, verified = _FIRMWARE_OUTCOMES.get(event.outcome, ("unknown", "unknown"))
    if event.outcome == "has completed":
        warnings = [*warnings, "the device reported neither success nor failure for the SANITIZE action"]
    details = _details(
        controller=event.controller,
        action=event.action,
        command=event.args,
        capabilities=log.capabilities.get(event.controller),
        firmware=True,
    )
    return ParsedErasure(
        medium=medium,
        technique=_FIRMWARE_ACTIONS[event.action],
        method_label=f"SANITIZE {event.action}",
        passes=None,
        pattern="",
        verification="firmware_status",
        verification_result=verified,
        tool=TOOL,
        tool_version=log.version,
        started_at=event.issued_at or event.done_at,
        ended_at=event.done_at,
        bytes_erased=None,
        bytes_total=None,
        errors={},
        result=result,
        hpa_dco=hpa,
        warnings=tuple(warnings),
        details=details,
    )


def _firmware_target(log: _Log, controller: str) -> tuple[_Drive | None, str]:
    """The drive a SANITIZE line is about; NVMe lines name the controller, not the namespace."""
    drive = log.drives.get(controller)
    if drive is not None and (drive.found is not None or drive.active):
        return drive, ""
    nvme = [d for d in log.drives.values() if d.path.startswith(f"{controller}n")]
    if not nvme and re.match(r"^/dev/nvme\d+$", controller):
        nvme = [
            d for d in log.drives.values() if _bus_kind(d.found.bus if d.found else "", d.name)[0] == "nvme"
        ]
    if len(nvme) == 1:
        note = (
            f"nwipe logs the SANITIZE on the controller {controller}; it was matched to {nvme[0].path} "
            "by name, which the log cannot confirm"
        )
        return nvme[0], note
    return None, ""


def _problems(log: _Log, filename: str) -> list[str]:
    problems: list[str] = []
    drives = list(log.drives.values())
    if log.cut_at_80:
        problems.append(
            "the lines are cut at 80 characters (a terminal paste): values at line ends may be incomplete"
        )
    if log.summaries > 1:
        runs = f"the log holds {log.summaries} nwipe runs"
        problems.append(f"{runs}: results come from the last summary, times may mix runs")
    if filename.endswith(".partial.log"):
        problems.append("the file name marks the log as partial")
    if not drives and not log.firmware:
        problems.append("the log names no drive")
    wiped = [d for d in drives if _has_run(d)]
    idle = [d.path for d in drives if not _has_run(d) and d.path]
    if idle and not wiped and not log.firmware:
        problems.append(f"the log ends before any wipe started: no wipe line for {', '.join(idle)}")
    elif idle:
        problems.append(f"no wipe is recorded for {', '.join(idle)} (not selected, or the log is cut)")
    no_status = [d.path or d.name for d in wiped if d.status_row is None]
    if no_status:
        where = "inside" if "status" in log.tables else "before"
        problems.append(f"the log ends {where} the Drive Status table: no result for {', '.join(no_status)}")
    from_table = [d.path or d.name for d in wiped if d.found is None and d.status_row is not None]
    if from_table:
        problems.append(
            f"the log has no Found line for {', '.join(from_table)}: "
            "model and serial come only from the Drive Status table"
        )
    anonymous = [d.path or d.name for d in wiped if d.found is None and d.status_row is None]
    if anonymous:
        problems.append(
            f"nothing in the log identifies {', '.join(anonymous)} (no Found line, no Drive Status row)"
        )
    for drive in wiped:
        if not drive.path:
            problems.append(
                f"the Drive Status table cuts device names to 6 characters: '{drive.name}' has no known path"
            )
    if wiped and log.footer is None and "method" not in log.options:
        problems.append(
            "the log has no Total Throughput line: method, rounds, blanking and verification mode are unknown"
        )
    if wiped and any(d.status_row for d in wiped) and "errors" not in log.tables:
        problems.append("the log has no Error Summary table: results rest on the Drive Status column alone")
    if wiped and not log.end:
        problems.append("the log has no closing nwipe message (completed, exited with errors, or aborted)")
    return problems


def _has_run(drive: _Drive) -> bool:
    return drive.active or any(
        row is not None for row in (drive.errors_row, drive.erasure_row, drive.status_row)
    )


def _hardware(log: _Log, host_serial: str | None, disks: tuple[ParsedMedium, ...]) -> ParsedHardware | None:
    """The host as nwipe's dmidecode lines describe it (no RAM figure in the log)."""
    dmi = log.dmi
    if not any(key.startswith("system-") for key in dmi):
        return None
    return ParsedHardware(
        kind=hardware_kind(dmi.get("chassis-type")),
        manufacturer=dmi.get("system-manufacturer", ""),
        model=dmi.get("system-product-name", ""),
        serial=host_serial,
        cpu=dmi.get("processor-version", ""),
        ram_bytes=None,
        disks=disks,
    )


def parse_nwipe(text: str, filename: str = "") -> ParsedReport:
    """Parse an nwipe log; gaps become `problems`, never exceptions."""
    log = _Reader().feed(text.splitlines())
    _attach_rows(log)
    problems = _problems(log, filename)
    by_drive: dict[str, list[tuple[_Firmware, str]]] = {}
    orphans: list[_Firmware] = []
    for event in log.firmware:
        if event.action not in _FIRMWARE_ACTIONS:
            continue  # Exit Failure Mode, Freeze Lock…: no data erased
        target, note = _firmware_target(log, event.controller)
        if target is None:
            orphans.append(event)
        else:
            by_drive.setdefault(target.path, []).append((event, note))
    erasures: list[ParsedErasure] = []
    detected: list[ParsedMedium] = []
    warnings: list[str] = []
    for drive in log.drives.values():
        medium, medium_warnings = _medium(drive, log.cut_at_80)
        detected.append(medium)
        problems += [w for w in medium_warnings if "cut at 80" in w]
        if not _has_run(drive) and drive.path not in by_drive:
            warnings += [w for w in medium_warnings if "cut at 80" not in w]
        for event, note in by_drive.get(drive.path, []):
            notes = medium_warnings + _drive_warnings(drive) + ([note] if note else [])
            erasures.append(_firmware_erasure(log, event, medium, drive.hpa, notes))
        if _has_run(drive):
            erasures.append(_run_erasure(log, drive, medium, medium_warnings))
    for event in orphans:
        kind = "nvme" if "nvme" in event.controller else "unknown"
        medium = ParsedMedium(kind, "NVMe" if kind == "nvme" else "", "", "", None, None, event.controller)
        problems.append(f"the SANITIZE on {event.controller} could not be matched to one drive of the log")
        if medium not in detected:
            detected.append(medium)
        erasures.append(_firmware_erasure(log, event, medium, "", []))
    if log.no_smartctl:
        warnings.append(
            "smartctl was not installed: nwipe could not flag SSDs, so each drive's type comes from its model"
        )
    raw_host = log.dmi.get("system-serial-number")
    host_serial = host_serial_or_none(raw_host)
    if raw_host and host_serial is None:
        warnings.append(f"the system serial '{raw_host}' is a placeholder or anonymised")
    details = _details(
        excluded=log.excluded,
        end_message=log.end,
        dmi=dict(log.dmi),
        options=dict(log.options),
        throughput=f"{log.footer.throughput}/s" if log.footer else None,
        summary_at=log.footer.at.isoformat() if log.footer else None,
    )
    return ParsedReport(
        format="nwipe_log",
        tool=TOOL,
        tool_version=log.version,
        host_serial=host_serial,
        erasures=tuple(erasures),
        detected=tuple(detected),
        hardware=_hardware(log, host_serial, tuple(detected)),
        problems=tuple(problems),
        warnings=tuple(warnings),
        details=details,
    )
