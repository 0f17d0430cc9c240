"""The code scheme: make, display, parse, and what the Damm digit catches."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refurb.core.codes import (
    MAX_SERIAL,
    Alias,
    Code,
    CodeType,
    damm_check_digit,
    damm_is_valid,
    make_code,
    parse_code,
    read_scan,
)
from refurb.core.errors import BadCheckDigit, MalformedCode, UnknownCodeType

serials = st.integers(min_value=1, max_value=MAX_SERIAL)
types = st.sampled_from(list(CodeType))


def test_known_damm_vector() -> None:
    # The textbook example: 572 → check digit 4.
    assert damm_check_digit("572") == 4
    assert damm_is_valid("5724")
    assert not damm_is_valid("5723")


def test_make_and_display() -> None:
    code = make_code(CodeType.DEVICE, 1234)
    assert code.compact == f"D0001234{code.check_digit}"
    assert code.display == f"D-0001234-{code.check_digit}"
    assert len(code.compact) == 9
    assert str(code) == code.compact


@pytest.mark.parametrize("serial", [0, MAX_SERIAL + 1, -1])
def test_make_refuses_out_of_range(serial: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        make_code(CodeType.DEVICE, serial)


@given(types, serials)
def test_every_accepted_form_parses_back(code_type: CodeType, serial: int) -> None:
    code = make_code(code_type, serial)
    forms = [
        code.compact,
        code.display,
        code.compact.lower(),
        code.display.lower(),
        f"  {code.display}\r\n",
        " ".join(code.compact),
        f"https://refurb.example.org/devices/{code.compact}",
        f"https://refurb.example.org/v/{code.display}?utm=qr#top",
        f"/devices/{code.compact}/",
    ]
    for form in forms:
        assert parse_code(form) == code, form
        assert read_scan(form) == code, form


@given(types, serials, st.data())
def test_every_single_digit_error_is_caught(code_type: CodeType, serial: int, data: st.DataObject) -> None:
    compact = make_code(code_type, serial).compact
    position = data.draw(st.integers(min_value=1, max_value=8))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != compact[position]]))
    mangled = compact[:position] + wrong + compact[position + 1 :]
    with pytest.raises((BadCheckDigit, MalformedCode)):
        parse_code(mangled)


@given(types, serials, st.integers(min_value=1, max_value=7))
def test_every_adjacent_transposition_is_caught(code_type: CodeType, serial: int, position: int) -> None:
    compact = make_code(code_type, serial).compact
    a, b = compact[position], compact[position + 1]
    if a == b:
        return
    swapped = compact[:position] + b + a + compact[position + 2 :]
    with pytest.raises((BadCheckDigit, MalformedCode)):
        parse_code(swapped)


def test_exhaustive_single_errors_and_transpositions_for_a_range() -> None:
    """Not a sample: every error of both kinds over 20,000 device serials."""
    missed = 0
    for serial in range(1, 20_001):
        digits = f"{CodeType.DEVICE.index}{serial:07d}"
        full = digits + str(damm_check_digit(digits))
        for i in range(len(full)):
            for d in "0123456789":
                if d != full[i] and damm_is_valid(full[:i] + d + full[i + 1 :]):
                    missed += 1
            if i + 1 < len(full) and full[i] != full[i + 1]:
                swapped = full[:i] + full[i + 1] + full[i] + full[i + 2 :]
                if damm_is_valid(swapped):
                    missed += 1
    assert missed == 0


@given(serials, st.sampled_from(list(CodeType)), st.sampled_from(list(CodeType)))
def test_a_wrong_letter_is_caught(serial: int, right: CodeType, wrong: CodeType) -> None:
    if right is wrong:
        return
    compact = make_code(right, serial).compact
    with pytest.raises(BadCheckDigit):
        parse_code(wrong.value + compact[1:])


def test_no_code_starts_with_digits() -> None:
    # python-barcode 0.16.1 drops a leading "99" in Code 128: our codes always start with a letter.
    for code_type in CodeType:
        assert make_code(code_type, 9_999_999).compact[0].isalpha()


def test_azerty_scanner_output_is_repaired() -> None:
    code = make_code(CodeType.DEVICE, 1234)
    azerty = code.compact.translate(str.maketrans("1234567890", "&é\"'(-è_çà"))
    assert azerty != code.compact
    assert parse_code(azerty) == code
    assert read_scan(azerty) == code


@pytest.mark.parametrize(
    ("text", "error", "code"),
    [
        ("", MalformedCode, "malformed_code"),
        ("hello", MalformedCode, "malformed_code"),
        ("D123", MalformedCode, "malformed_code"),
        ("Z00012345", UnknownCodeType, "unknown_code_type"),
        (f"D0000000{damm_check_digit('10000000')}", MalformedCode, "malformed_code"),
        ("D00000000", BadCheckDigit, "bad_check_digit"),
    ],
)
def test_parse_refusals(text: str, error: type[Exception], code: str) -> None:
    with pytest.raises(error) as caught:
        parse_code(text)
    assert caught.value.code == code  # type: ignore[attr-defined]


def test_bad_check_digit_message_names_the_code() -> None:
    good = make_code(CodeType.DEVICE, 42).compact
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    with pytest.raises(BadCheckDigit) as caught:
        parse_code(bad)
    assert caught.value.code == "bad_check_digit"
    assert bad in str(caught.value)


def test_expected_type_is_enforced() -> None:
    batch = make_code(CodeType.BATCH, 7)
    with pytest.raises(MalformedCode, match="batch code"):
        parse_code(batch.compact, expected=CodeType.DEVICE)


def test_read_scan_returns_aliases_for_other_text() -> None:
    assert read_scan("  SN-ABC123 ") == Alias("SN-ABC123")
    # An unknown letter with 8 digits is someone else's tag, not a misread of ours.
    assert read_scan("X12345678") == Alias("X12345678")
    assert isinstance(read_scan(make_code(CodeType.STATION, 3).display), Code)


def test_read_scan_refuses_our_shape_with_a_bad_check_digit() -> None:
    good = make_code(CodeType.LOCATION, 99).compact
    bad = good[:-1] + str((int(good[-1]) + 3) % 10)
    with pytest.raises(BadCheckDigit):
        read_scan(bad)


def test_read_scan_refuses_empty_and_huge() -> None:
    with pytest.raises(MalformedCode):
        read_scan(" \r\n")
    with pytest.raises(MalformedCode):
        read_scan("A" * 201)
