"""Erasure certificates: Ed25519 envelopes over RFC 8785 bytes, and the PDF that carries them."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import time
from typing import Any

import pypdfium2
import pytest
import zxingcpp

from refurb.erasure.certificate_pdf import display_code, render_certificate_pdf
from refurb.erasure.signing import PublicKey, Reason, SigningKey, canonical_bytes, verify_envelope

VERIFY_URL = "https://refurb.example.org/v/C00001234?k=3Hq9xZ"
KINDS = ("hdd", "ssd", "nvme")
CATEGORIES = ("clear", "purge", "destroy")


def medium(index: int) -> dict[str, Any]:
    return {
        "serial": f"WD-WX11A80W{index:04d}",
        "model": "WDC WD1600BEVT-22A23T0 (modèle très long qui ne tient pas dans sa colonne)",
        "kind": KINDS[index % 3],
        "device": f"D{index // 2 + 1:07d}{index % 10}",
        "category": CATEGORIES[index % 3],
        "technique": "overwrite" if index % 3 == 0 else "crypto_erase",
        "method": "PRNG Stream, 1 pass, verify last" if index % 3 == 0 else "Sanitize crypto scramble",
        "result": "success",
        "date": "2026-11-20",
        "record_hash": hashlib.sha256(str(index).encode()).hexdigest(),
    }


def payload(media: int = 3, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": "C00001234",
        "version": 1,
        "kind": "batch",
        "issued_at": "2026-11-27T14:05:00Z",
        "supersedes": None,
        "issuer": {
            "name": "Atelier Réemploi Solidaire — Société coopérative d'intérêt collectif",
            "siret": "12345678900017",
            "address": "12 rue de l'Église, Bâtiment B, 69007 Lyon " * 3,
        },
        "donor": {"name": "Łódź Ingénierie & Œuvres SAS", "siret": "98765432100020"},
        "batch": {"code": "B00000012", "donor_reference": "PO-2026-0042 / Renouvellement parc"},
        "device": None,
        "custody": {
            "agreement_signed_at": "2026-10-01T09:00:00Z",
            "collected_at": "2026-11-03T08:30:00+01:00",
            "collected_by": "Transports Martin (chauffeur : Jérôme)",
            "seals": ["S-000123", "S-000124", "S-000125"],
            "received_at": "2026-11-03T11:10:00Z",
            "declared": 12,
            "received": 11,
            "missing": 1,
            "not_in_manifest": 0,
        },
        "counts": {
            "devices": 12,
            "media": media,
            "clear": 3,
            "purge": 9,
            "destroy": 2,
            "failed": 0,
            "pending": 0,
            "no_media_devices": 1,
        },
        "tools": ["nwipe 0.37", "Workbench 11.0b9"],
        "statement": (
            "Nous attestons que les supports de données listés en annexe ont été effacés selon les "
            "méthodes indiquées, conformément aux catégories du NIST SP 800-88 Rev. 1, et que chaque "
            "opération est consignée dans un enregistrement dont l'empreinte figure en annexe. "
        )
        * 4,
        "media": [medium(index) for index in range(media)],
    }
    data.update(changes)
    return data


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture(scope="module")
def keys(key: SigningKey) -> dict[str, PublicKey]:
    return {key.key_id: key.public}


# -- signing ---------------------------------------------------------------------------------------


def test_round_trip(key: SigningKey, keys: dict[str, PublicKey]) -> None:
    envelope = key.sign(payload())
    assert set(envelope) == {"certificate", "signature"}
    assert envelope["signature"]["alg"] == "EdDSA"
    assert envelope["signature"]["crv"] == "Ed25519"
    assert envelope["signature"]["key_id"] == key.key_id
    assert "=" not in envelope["signature"]["value"]
    assert envelope["certificate"] == payload()
    for data in (envelope, json.dumps(envelope).encode(), canonical_bytes(envelope)):
        result = verify_envelope(data, keys)
        assert (result.authentic, result.reason, result.key_id) == (True, "ok", key.key_id)
        assert result.payload == payload()


def test_key_order_and_layout_do_not_matter(key: SigningKey, keys: dict[str, PublicKey]) -> None:
    envelope = key.sign(payload())
    reordered = {
        "signature": dict(reversed(list(envelope["signature"].items()))),
        "certificate": dict(reversed(list(envelope["certificate"].items()))),
    }
    text = json.dumps(reordered, indent=3, ensure_ascii=True).encode()
    assert text != json.dumps(envelope).encode()
    assert verify_envelope(text, keys).reason == Reason.OK


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("code",), "C00001235"),
        (("version",), 2),
        (("issuer", "siret"), "12345678900018"),
        (("custody", "seals", 0), "S-000999"),
        (("media", 1, "result"), "failed"),
        (("media", 2, "record_hash"), "0" * 64),
        (("supersedes",), "C00001226"),
    ],
)
def test_any_changed_value_is_a_bad_signature(
    key: SigningKey, keys: dict[str, PublicKey], path: tuple[Any, ...], value: Any
) -> None:
    envelope = key.sign(payload())
    target = envelope["certificate"]
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    result = verify_envelope(json.dumps(envelope).encode(), keys)
    assert (result.authentic, result.reason, result.payload) == (False, "bad_signature", None)


@pytest.mark.parametrize(("field", "value"), [("alg", "EdDSA2"), ("crv", "Ed448"), ("value", "AAAA")])
def test_changed_signature_fields_are_a_bad_signature(
    key: SigningKey, keys: dict[str, PublicKey], field: str, value: str
) -> None:
    envelope = key.sign(payload())
    envelope["signature"][field] = value
    assert verify_envelope(envelope, keys).reason == Reason.BAD_SIGNATURE


def test_every_flipped_signature_byte_is_a_bad_signature(key: SigningKey, keys: dict[str, PublicKey]) -> None:
    envelope = key.sign(payload())
    raw = base64.urlsafe_b64decode(envelope["signature"]["value"] + "==")
    for index in range(len(raw)):
        flipped = bytearray(raw)
        flipped[index] ^= 0x01
        forged = copy.deepcopy(envelope)
        forged["signature"]["value"] = base64.urlsafe_b64encode(bytes(flipped)).rstrip(b"=").decode()
        assert verify_envelope(forged, keys).reason == Reason.BAD_SIGNATURE, index


def test_other_encodings_of_the_same_signature_are_refused(
    key: SigningKey, keys: dict[str, PublicKey]
) -> None:
    envelope = key.sign(payload())
    value = envelope["signature"]["value"]
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".index(value[-1])
    spare_bits = value[:-1] + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last | 1]
    for variant in (
        value + "==",
        base64.b64encode(base64.urlsafe_b64decode(value + "==")).decode(),
        spare_bits,
    ):
        if variant == value:
            continue
        forged = copy.deepcopy(envelope)
        forged["signature"]["value"] = variant
        assert verify_envelope(forged, keys).reason == Reason.BAD_SIGNATURE, variant


def test_unknown_key(key: SigningKey, keys: dict[str, PublicKey]) -> None:
    other = SigningKey.generate()
    result = verify_envelope(other.sign(payload()), keys)
    assert (result.authentic, result.reason, result.key_id) == (False, "unknown_key", other.key_id)
    # A known key id over another key's signature is a forgery, not an unknown key.
    forged = other.sign(payload())
    forged["signature"]["key_id"] = key.key_id
    assert verify_envelope(forged, keys).reason == Reason.BAD_SIGNATURE
    # Retired keys keep verifying as long as they are listed.
    assert verify_envelope(other.sign(payload()), {**keys, other.key_id: other.public}).authentic


@pytest.mark.parametrize(
    "data",
    [b"", b"\xff\xfe{}", b"not json", b'{"certificate": {}, "signature": ', b'{"a": NaN}', b'{"a":1,"a":2}'],
)
def test_not_json(keys: dict[str, PublicKey], data: bytes) -> None:
    result = verify_envelope(data, keys)
    assert (result.authentic, result.reason, result.payload, result.key_id) == (False, "not_json", None, None)


@pytest.mark.parametrize(
    "data",
    [
        b"[]",
        b'"text"',
        b"{}",
        b'{"certificate": {}}',
        b'{"certificate": [], "signature": {"alg": "EdDSA", "crv": "Ed25519", "key_id": "x", "value": "y"}}',
        b'{"certificate": {}, "signature": {"alg": "EdDSA", "crv": "Ed25519", "key_id": 1, "value": "y"}}',
        b'{"certificate": {}, "signature": {"alg": "EdDSA", "key_id": "x", "value": "y"}}',
        b'{"certificate": {}, "signature": "x", "extra": 1}',
    ],
)
def test_not_an_envelope(keys: dict[str, PublicKey], data: bytes) -> None:
    assert verify_envelope(data, keys).reason == Reason.NOT_AN_ENVELOPE


def test_a_duplicate_key_cannot_smuggle_a_second_value(key: SigningKey, keys: dict[str, PublicKey]) -> None:
    text = json.dumps(key.sign(payload())).encode()
    smuggled = text.replace(b'"code": "C00001234"', b'"code": "C00009999", "code": "C00001234"')
    assert smuggled != text
    assert verify_envelope(smuggled, keys).reason == Reason.NOT_JSON


def test_floats_are_refused_when_signing(key: SigningKey) -> None:
    with pytest.raises(ValueError, match="no floats"):
        key.sign(payload(extra={"capacity_tb": 1.5}))


def test_an_integer_rewritten_as_a_float_does_not_verify(key: SigningKey, keys: dict[str, PublicKey]) -> None:
    text = json.dumps(key.sign(payload())).encode()
    for number in (b"1.0", b"1e0", b"10E-1"):
        rewritten = re.sub(rb'"version": 1(?=[,}])', b'"version": ' + number, text)
        assert rewritten != text
        assert verify_envelope(rewritten, keys).reason == Reason.BAD_SIGNATURE


# -- keys ------------------------------------------------------------------------------------------


def test_key_text_round_trip_in_every_base64_form(key: SigningKey) -> None:
    seed = base64.urlsafe_b64decode(key.to_text() + "=")
    assert len(seed) == 32
    forms = [
        key.to_text(),
        base64.urlsafe_b64encode(seed).decode(),
        base64.b64encode(seed).decode(),
        base64.b64encode(seed).decode().rstrip("="),
        f"  {base64.b64encode(seed).decode()}\n",
    ]
    for text in forms:
        loaded = SigningKey.from_text(text)
        assert loaded == key
        assert loaded.key_id == key.key_id
        assert verify_envelope(loaded.sign({"a": 1}), {key.key_id: key.public}).authentic


@pytest.mark.parametrize(
    "text",
    ["", "not base64 at all!", "c2VjcmV0", base64.b64encode(b"x" * 64).decode(), "é" * 43],
)
def test_bad_key_text_says_what_is_expected_without_echoing(text: str) -> None:
    with pytest.raises(ValueError, match="32-byte raw Ed25519 private seed") as caught:
        SigningKey.from_text(text)
    if text.strip():
        assert text not in str(caught.value)
    assert caught.value.__cause__ is None


def test_key_id_and_jwk(key: SigningKey) -> None:
    public = key.public
    assert key.key_id == hashlib.sha256(public.raw).hexdigest()[:16] == public.key_id
    assert re.fullmatch(r"[0-9a-f]{16}", key.key_id)
    jwk = public.to_jwk()
    assert jwk == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": base64.urlsafe_b64encode(public.raw).rstrip(b"=").decode(),
        "kid": key.key_id,
        "alg": "EdDSA",
        "use": "sig",
    }
    assert PublicKey.from_jwk(jwk) == public
    with pytest.raises(ValueError, match="kid"):
        PublicKey.from_jwk({**jwk, "kid": "0" * 16})


def test_repr_hides_the_seed(key: SigningKey) -> None:
    seed = base64.urlsafe_b64decode(key.to_text() + "=")
    shown = repr(key) + str(key) + f"{key!r}" + repr([key]) + repr({"key": key})
    for secret in (key.to_text(), seed.hex(), base64.b64encode(seed).decode(), repr(seed)):
        assert secret not in shown
    assert key.key_id in repr(key)


# -- PDF -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big(key: SigningKey) -> tuple[dict[str, Any], bytes]:
    envelope = key.sign(payload(media=1200))
    start = time.perf_counter()
    pdf = render_certificate_pdf(envelope, verify_url=VERIFY_URL)
    print(f"\n1,200-medium certificate: {time.perf_counter() - start:.3f} s, {len(pdf):,} bytes")
    return envelope, pdf


def test_display_code() -> None:
    assert display_code("C00001234") == "C-0000123-4"
    assert display_code("D00000123") == "D-0000012-3"
    assert display_code("odd") == "odd"


def test_big_annex_pages(big: tuple[dict[str, Any], bytes]) -> None:
    _, pdf = big
    document = pypdfium2.PdfDocument(pdf)
    try:
        pages = len(document)
        assert pages > 1
        width, height = document[0].get_size()
        assert (round(width), round(height)) == (595, 842)  # A4
        last = document[pages - 1].get_textpage().get_text_range()
        assert f"page {pages}/{pages}" in last
        assert "C-0000123-4" in last
        assert f"Vérifier : {VERIFY_URL}" in last
        assert "WD-WX11A80W1199" in last
        middle = document[pages // 2].get_textpage().get_text_range()
        assert "N° de série" in middle  # the header row is repeated
        first = document[0].get_textpage().get_text_range()
        assert "Certificat d'effacement des données" in first
        assert f"page 1/{pages}" in first
        assert "C-0000123-4" in first
    finally:
        document.close()


def test_same_envelope_same_bytes(big: tuple[dict[str, Any], bytes]) -> None:
    envelope, pdf = big
    again = render_certificate_pdf(copy.deepcopy(envelope), verify_url=VERIFY_URL)
    assert again == pdf
    assert b"/CreationDate (D:20261127140500Z" in pdf
    assert b"/Producer (Refurb)" in pdf
    assert b"/Subject (C00001234)" in pdf
    other = render_certificate_pdf(envelope, verify_url=VERIFY_URL + "x")
    assert other != pdf


def test_embedded_envelope_is_the_canonical_bytes_and_verifies(
    big: tuple[dict[str, Any], bytes], keys: dict[str, PublicKey]
) -> None:
    envelope, pdf = big
    embedded = extract_envelope(pdf)
    assert embedded == canonical_bytes(envelope)
    result = verify_envelope(embedded, keys)
    assert result.authentic
    assert result.payload == envelope["certificate"]
    # Another reader (PDFium) finds the same attachment.
    document = pypdfium2.PdfDocument(pdf)
    try:
        attachment = document.get_attachment(0)
        assert attachment.get_name() == "certificate.json"
        assert bytes(attachment.get_data()) == embedded
    finally:
        document.close()


def extract_envelope(pdf: bytes) -> bytes | None:
    """The `certificate.json` attachment as another PDF reader (PDFium) finds it; None if unreadable."""
    try:
        document = pypdfium2.PdfDocument(pdf)
    except pypdfium2.PdfiumError:
        return None
    try:
        for index in range(document.count_attachments()):
            attachment = document.get_attachment(index)
            if attachment.get_name() == "certificate.json":
                return bytes(attachment.get_data())
        return None
    finally:
        document.close()


def render_page_one(pdf: bytes, dpi: int = 200) -> Any:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return document[0].render(scale=dpi / 72, grayscale=True).to_pil()
    finally:
        document.close()


@pytest.mark.parametrize("language", ["fr", "en"])
def test_qr_on_page_one_decodes_to_the_verify_url(key: SigningKey, language: str) -> None:
    pdf = render_certificate_pdf(key.sign(payload()), verify_url=VERIFY_URL, language=language)
    found = zxingcpp.read_barcodes(render_page_one(pdf))
    qr = [barcode for barcode in found if barcode.format == zxingcpp.BarcodeFormat.QRCode]
    assert [barcode.text for barcode in qr] == [VERIFY_URL]
    position = qr[0].position
    side_px = abs(position.top_right.x - position.top_left.x)
    assert side_px / 200 * 25.4 >= 30  # mm on paper


def test_device_certificate_in_english(key: SigningKey, keys: dict[str, PublicKey]) -> None:
    device = {
        "code": "D00001236",
        "kind": "laptop",
        "manufacturer": "Lenovo",
        "model": "ThinkPad T480 " + "x" * 200,
        "serial": "PF1ABCDE",
    }
    envelope = key.sign(payload(media=1, kind="device", device=device, supersedes="C00001226"))
    pdf = render_certificate_pdf(envelope, verify_url=VERIFY_URL, language="en")
    document = pypdfium2.PdfDocument(pdf)
    try:
        text = "".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()
    assert "Data erasure certificate" in text
    assert "D-0000123-6" in text
    assert "Supersedes" in text
    assert "Verify: " + VERIFY_URL in text
    assert verify_envelope(extract_envelope(pdf) or b"", keys).authentic


def test_empty_lists_and_unknown_language(key: SigningKey) -> None:
    envelope = key.sign(payload(media=0, tools=[], custody={**payload()["custody"], "seals": []}))
    assert extract_envelope(render_certificate_pdf(envelope, verify_url=VERIFY_URL)) == canonical_bytes(
        envelope
    )
    with pytest.raises(ValueError, match="fr or en"):
        render_certificate_pdf(envelope, verify_url=VERIFY_URL, language="de")


def test_long_and_odd_values_stay_inside_the_page(key: SigningKey) -> None:
    long_word = "X" * 400
    hostile = payload(
        media=0,
        issuer={"name": "株式会社 Réemploi " * 30, "siret": long_word, "address": "rue " * 300},
        donor={"name": long_word + " Œuvre", "siret": None},
        batch={"code": "not-a-code", "donor_reference": long_word},
        custody={
            "agreement_signed_at": "hier",
            "collected_at": None,
            "collected_by": long_word,
            "seals": [long_word] * 40,
            "received_at": "2026-11-03",
            "declared": 12,
            "received": 11,
            "missing": 1,
            "not_in_manifest": 0,
        },
        tools=[long_word] * 20,
        statement=("Attestation très longue. " * 40 + "\n") * 12 + long_word,
    )
    hostile["media"] = [
        {
            **medium(index),
            "serial": long_word,
            "model": None,
            "method": long_word,
            "date": "2026-11-20T23:59:59Z",
        }
        for index in range(80)
    ]
    pdf = render_certificate_pdf(key.sign(hostile), verify_url=VERIFY_URL + "/" + "q" * 150)
    document = pypdfium2.PdfDocument(pdf)
    try:
        assert len(document) > 2  # the statement and the annex flowed onto further pages
        for page in document:
            text = page.get_textpage()
            for index in range(text.count_chars()):
                left, bottom, right, top = text.get_charbox(index)
                if right > left:  # a drawn glyph, not a generated space or line break
                    assert left >= 42, text.get_text_range(index, 1)
                    assert right <= 553.5, text.get_text_range(index, 1)
                    assert bottom >= 20
                    assert top <= 842 - 20
    finally:
        document.close()
