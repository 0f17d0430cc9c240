"""Identity codes: one type letter, seven serial digits, one Damm check digit.

`D00012345` is what the barcode carries (only `[A-Z0-9]`, which survives any
scanner keyboard layout); `D-0001234-5` is what people read. The check digit is
computed over the letter's index and the serial, so a wrong letter fails too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from refurb.core.errors import BadCheckDigit, MalformedCode, UnknownCodeType
from refurb.core.i18n import N_

__all__ = (
    "MAX_SERIAL",
    "Alias",
    "Code",
    "CodeType",
    "damm_check_digit",
    "damm_is_valid",
    "make_code",
    "parse_code",
    "read_scan",
)

SERIAL_DIGITS = 7
MAX_SERIAL = 10**SERIAL_DIGITS - 1
MAX_SCAN_LENGTH = 200

_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


class CodeType(StrEnum):
    """The type letter of a code; its index (one digit) feeds the check digit."""

    DEVICE = "D"
    BATCH = "B"
    LOCATION = "L"
    HOUSEHOLD = "F"
    ROUND = "R"
    CERTIFICATE = "C"
    STATION = "S"

    @property
    def index(self) -> int:
        """A distinct non-zero digit: a wrong letter is then a single-digit error."""
        return _TYPE_INDEX[self]

    @property
    def label(self) -> str:
        """English name of the thing, a translation id."""
        return _TYPE_LABELS[self]


# Never renumber: every printed label depends on these digits. 0 is left out
# because Damm ignores leading zeros.
_TYPE_INDEX = {
    CodeType.DEVICE: 1,
    CodeType.BATCH: 2,
    CodeType.LOCATION: 3,
    CodeType.HOUSEHOLD: 4,
    CodeType.ROUND: 5,
    CodeType.CERTIFICATE: 6,
    CodeType.STATION: 7,
}

_TYPE_LABELS = {
    CodeType.DEVICE: N_("device"),
    CodeType.BATCH: N_("batch"),
    CodeType.LOCATION: N_("location"),
    CodeType.HOUSEHOLD: N_("household"),
    CodeType.ROUND: N_("round"),
    CodeType.CERTIFICATE: N_("certificate"),
    CodeType.STATION: N_("station"),
}

_LETTERS = "".join(t.value for t in CodeType)
_COMPACT = re.compile(r"[A-Z][0-9]{8}")
_CODE_SHAPED = re.compile(rf"[{_LETTERS}][0-9]{{8}}")
# What a scanner set to QWERTY types on a French AZERTY layout for 1234567890.
_AZERTY_DIGITS = str.maketrans("&é\"'(-è_çà", "1234567890")
_AZERTY_CODE = re.compile(rf"[{_LETTERS}{_LETTERS.lower()}][&é\"'(\-è_çà]{{8}}")
_SEPARATORS = re.compile(r"[\s\-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:/")


def damm_check_digit(digits: str) -> int:
    """Return the digit that makes `digits + digit` pass the Damm check."""
    interim = 0
    for char in digits:
        interim = _DAMM[interim][int(char)]
    return interim


def damm_is_valid(digits: str) -> bool:
    """True when the last digit is the Damm check digit of the others."""
    return damm_check_digit(digits) == 0


@dataclass(frozen=True, slots=True)
class Code:
    """A parsed, checked identity code."""

    type: CodeType
    serial: int

    @property
    def check_digit(self) -> int:
        """The Damm digit over the type index and the serial."""
        return damm_check_digit(f"{self.type.index}{self.serial:0{SERIAL_DIGITS}d}")

    @property
    def compact(self) -> str:
        """The barcode form, e.g. `D00012345`."""
        return f"{self.type.value}{self.serial:0{SERIAL_DIGITS}d}{self.check_digit}"

    @property
    def display(self) -> str:
        """The form printed for people, e.g. `D-0001234-5`."""
        return f"{self.type.value}-{self.serial:0{SERIAL_DIGITS}d}-{self.check_digit}"

    def __str__(self) -> str:
        return self.compact


@dataclass(frozen=True, slots=True)
class Alias:
    """Scanned text that is not one of our codes: a donor asset tag or a serial."""

    text: str


def make_code(code_type: CodeType | str, serial: int) -> Code:
    """Build the code of a serial; serials run from 1 to 9,999,999."""
    if not 1 <= serial <= MAX_SERIAL:
        raise ValueError(f"serial {serial} is outside 1..{MAX_SERIAL}")
    return Code(CodeType(code_type), serial)


def _clean(text: str) -> str:
    return _CONTROL.sub("", text).strip()


def _from_url(text: str) -> str | None:
    """The last path segment of a URL (a QR code), or None if `text` is not a URL.

    `scheme:/host/…` counts too: proxies and routers may squeeze the double slash.
    """
    if not _URL.match(text) and not text.startswith("/"):
        return None
    path = urlsplit(text).path
    segments = [s for s in path.split("/") if s]
    return segments[-1] if segments else ""


def _compact_form(text: str) -> str:
    if _AZERTY_CODE.fullmatch(text):
        text = text.translate(_AZERTY_DIGITS)
    return _SEPARATORS.sub("", text).upper()


def _check(compact: str) -> Code:
    letter, digits = compact[0], compact[1:]
    if letter not in _LETTERS:
        raise UnknownCodeType(
            N_("'{letter}' is not a Refurb code type (expected one of {letters})."),
            letter=letter,
            letters=", ".join(_LETTERS),
        )
    code_type = CodeType(letter)
    if not damm_is_valid(f"{code_type.index}{digits}"):
        raise BadCheckDigit(
            N_("{ref} has a wrong check digit: misread or mistyped, scan it again."),
            ref=compact,
        )
    serial = int(digits[:-1])
    if serial == 0:
        raise MalformedCode(N_("{ref} is not a valid code."), ref=compact)
    return Code(code_type, serial)


def parse_code(text: str, *, expected: CodeType | None = None) -> Code:
    """Parse one code in any accepted form; refuse anything else.

    Accepts `D00012345`, `d-0001234-5`, spaces, a URL ending in the code, and
    the digits a QWERTY scanner types on an AZERTY keyboard.
    """
    cleaned = _clean(text)
    segment = _from_url(cleaned)
    compact = _compact_form(segment if segment is not None else cleaned)
    if not _COMPACT.fullmatch(compact):
        raise MalformedCode(
            N_("'{text}' is not a Refurb code (a letter and 8 digits, e.g. D-0001234-5)."),
            text=cleaned[:40],
        )
    code = _check(compact)
    if expected is not None and code.type is not expected:
        raise MalformedCode(
            N_("{ref} is a {found} code, a {expected} code was expected."),
            ref=code.display,
            found=code.type,
            expected=expected,
        )
    return code


def read_scan(text: str) -> Code | Alias:
    """Interpret scanner input: a checked code, or an alias to look up.

    Text shaped like one of our codes (a known letter and 8 digits) must pass
    the check digit: a misread is refused before any lookup.
    """
    cleaned = _clean(text)
    if not cleaned:
        raise MalformedCode(N_("Nothing was scanned."), text="")
    if len(cleaned) > MAX_SCAN_LENGTH:
        raise MalformedCode(
            N_("The scanned text is too long ({length} characters)."), text="", length=len(cleaned)
        )
    segment = _from_url(cleaned)
    if segment is not None:
        return parse_code(cleaned)
    compact = _compact_form(cleaned)
    if _CODE_SHAPED.fullmatch(compact):
        return _check(compact)
    return Alias(cleaned)
