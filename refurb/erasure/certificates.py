"""Erasure certificates (C codes): issued from the records, signed, rendered, verified, revoked.

The signed JSON is the certificate; the PDF is its rendering with the JSON
embedded. Both are kept byte for byte with their SHA-256, so a document anyone
uploads to /verify is authentic exactly when it is one of ours, unchanged.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime
import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from refurb.accounts import service as accounts
from refurb.codes.service import mint
from refurb.core.codes import CodeType, parse_code
from refurb.core.errors import Conflict, Forbidden, NotFound, Unavailable
from refurb.core.i18n import N_, Np_
from refurb.core.lifecycle import State
from refurb.core.principal import Principal
from refurb.core.roles import SUPERVISION, WORKSHOP, Role
from refurb.db import fetch, is_sqlite, write_transaction
from refurb.devices import service as devices
from refurb.devices.service import DeviceRow
from refurb.erasure.certificate_pdf import render_certificate_pdf
from refurb.erasure.media import DeviceMedia, device_media, is_on_hold, judge_devices
from refurb.erasure.schemas import CertificateOut, VerificationOut
from refurb.erasure.signing import PublicKey, SigningKey, canonical_bytes, verify_envelope
from refurb.erasure.tables import Certificate
from refurb.intake import agreements
from refurb.intake import service as batches
from refurb.intake.reconciliation import reconciliation
from refurb.settings import Settings
from refurb.timestamps import utcnow

__all__ = (
    "Keyring",
    "configure",
    "document",
    "issue_for_batch",
    "issue_for_device",
    "keyring",
    "list_certificates",
    "public_keys",
    "revoke",
    "verify_code",
    "verify_document",
)

MAX_VERIFY_BYTES = 20 * 1024 * 1024
ISSUERS = WORKSHOP | {Role.COORDINATOR}
REVOKERS = SUPERVISION
#: States a device reaches only once its erasure is certified.
AFTER_SANITIZE = frozenset(
    {
        State.SANITIZED,
        State.REFURBISHED,
        State.LICENSED,
        State.IN_STOCK,
        State.RESERVED,
        State.DISPATCHED,
        State.HANDED_OVER,
    }
)
STATEMENT = {
    "fr": (
        "Le reconditionneur atteste que chaque support de données listé en annexe a été effacé ou détruit "
        "selon la politique indiquée (NIST SP 800-88 : Clear, Purge ou Destroy), vérifié, et que les données "
        "du donateur n'ont été traitées qu'aux fins de leur effacement (RGPD art. 28)."
    ),
    "en": (
        "The refurbisher attests that every data-bearing medium listed in the annex was erased or destroyed "
        "under the stated policy (NIST SP 800-88: Clear, Purge or Destroy), verified, and that the donor's "
        "data was processed only to erase it (GDPR art. 28)."
    ),
}


@dataclass(frozen=True, slots=True)
class Keyring:
    """The key that signs new certificates and every key that signed earlier ones."""

    signing: SigningKey | None
    public: Mapping[str, PublicKey]
    base_url: str
    language: str


_keyring: Keyring | None = None


def configure(settings: Settings) -> Keyring:
    """Read the keys from the settings once, at start-up."""
    global _keyring
    seed = settings.resolved_signing_key()
    signing = SigningKey.from_text(seed) if seed else None
    public: dict[str, PublicKey] = {}
    for text in filter(None, (part.strip() for part in settings.signing_keys_retired.split(","))):
        try:
            key = PublicKey.from_raw(base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_"))
        except (binascii.Error, ValueError):
            continue
        public[key.key_id] = key
    if signing is not None:
        public[signing.key_id] = signing.public
    _keyring = Keyring(signing, public, settings.base_url, settings.locale)
    return _keyring


def keyring() -> Keyring:
    """The configured keys (configure() runs when the app is created)."""
    if _keyring is None:
        raise Unavailable(N_("Certificates are not configured."), code="signing_key_missing")
    return _keyring


def public_keys() -> list[dict[str, str]]:
    """Every key a certificate of ours can be verified with, as JWKs."""
    return [key.to_jwk() for key in keyring().public.values()]


def _signer() -> SigningKey:
    signing = keyring().signing
    if signing is None:
        raise Unavailable(
            N_("No signing key is set (REFURB_SIGNING_KEY): certificates cannot be issued."),
            code="signing_key_missing",
        )
    return signing


def verify_url(code: str) -> str:
    """The public page of a certificate, as its QR code carries it."""
    return f"{keyring().base_url}/verify/{code}"


# --- what a certificate says -------------------------------------------------------------------


def _media_rows(judged: DeviceMedia) -> list[dict[str, Any]]:
    rows = []
    for medium in judged.media:
        if medium.out.status == "absent":
            continue
        record = next((r for r in medium.out.records if r.id == medium.verdict.record_id), None)
        if record is None:
            continue
        method = record.method_label or record.technique
        if record.passes:
            method += f", {record.passes} pass" + ("es" if record.passes > 1 else "")
        when = record.ended_at or record.started_at or record.created_at
        rows.append(
            {
                "serial": medium.out.serial or "",
                "model": medium.out.model,
                "kind": medium.out.kind,
                "device": judged.device.code,
                "category": record.category,
                "technique": record.technique,
                "method": method,
                "result": record.result,
                "date": when.date().isoformat(),
                "record_hash": record.record_hash,
                "tool": " ".join(p for p in (record.tool, record.tool_version) if p),
                "failed_before": any(r.result != "success" for r in medium.out.records if r.id < record.id),
            }
        )
    return rows


def _counts(judged: Sequence[DeviceMedia], missing: int) -> dict[str, int]:
    media = [row for j in judged for row in _media_rows(j)]
    categories = Counter(row["category"] for row in media)
    return {
        "devices": len(judged) + missing,
        "media": len(media),
        "clear": categories["clear"],
        "purge": categories["purge"],
        "destroy": categories["destroy"],
        "failed": sum(1 for row in media if row["failed_before"]),
        "pending": 0,
        "no_media_devices": sum(1 for j in judged if j.attestation is not None and not j.media),
        "missing_devices": missing,
    }


async def _organisation(org_id: int | None) -> dict[str, str]:
    if org_id is None:
        return {"name": "", "siret": ""}
    name, siret = await accounts.organisation_facts(org_id)
    return {"name": name, "siret": siret or ""}


async def _custody(batch_code: str, principal: Principal) -> tuple[dict[str, Any], dict[str, Any], int]:
    batch = await batches.get_batch(batch_code, principal)
    agreement = await agreements.current_agreement(batch.donor_id)
    numbers = await reconciliation(batch.code, principal)
    collection = batch.collection or {}
    custody = {
        "agreement_signed_at": agreement.signed_at.isoformat() if agreement else "",
        "collected_at": batch.collected_at.isoformat() if batch.collected_at else "",
        "collected_by": str(collection.get("driver", "")),
        "seals": [str(s) for s in collection.get("seals", [])],
        "received_at": batch.received_at.isoformat() if batch.received_at else "",
        "declared": numbers.total.declared,
        "received": numbers.total.received,
        "missing": numbers.total.missing,
        "not_in_manifest": numbers.total.not_in_manifest,
    }
    return custody, {"code": batch.code, "donor_reference": batch.reference or ""}, batch.donor_id


def _payload(
    code: str,
    version: int,
    kind: str,
    issued_at: datetime.datetime,
    supersedes: str | None,
    issuer: dict[str, str],
    donor: dict[str, str],
    batch: dict[str, Any] | None,
    device: dict[str, Any] | None,
    custody: dict[str, Any],
    judged: Sequence[DeviceMedia],
    missing: int,
) -> dict[str, Any]:
    media = [row for j in judged for row in _media_rows(j)]
    for row in media:
        del row["failed_before"]
    tools = sorted({row.pop("tool") for row in media if row.get("tool")})
    return {
        "code": code,
        "version": version,
        "kind": kind,
        "issued_at": issued_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "supersedes": supersedes,
        "issuer": issuer,
        "donor": donor,
        "batch": batch,
        "device": device,
        "custody": custody,
        "counts": _counts(judged, missing),
        "tools": tools,
        "statement": STATEMENT.get(keyring().language, STATEMENT["en"]),
        "media": media,
    }


def _fingerprint(payload: Mapping[str, Any]) -> str:
    """What makes two issues the same certificate: everything but its code, version and date."""
    same = {k: v for k, v in payload.items() if k not in ("code", "version", "issued_at", "supersedes")}
    return hashlib.sha256(canonical_bytes(same)).hexdigest()


# --- issuing ------------------------------------------------------------------------------------


def _terminal(device: DeviceRow, judged: DeviceMedia) -> bool:
    """Erasure is over for this device: certified, or recycled/rejected with every medium done."""
    if device.state in AFTER_SANITIZE:
        return True
    return device.state in (State.REJECTED, State.RECYCLED) and judged.ready


async def _current(kind: str, *, batch_id: int | None, device_id: int | None) -> Mapping[str, Any] | None:
    where = (Certificate.kind == kind) & (Certificate.status == "valid")
    where &= (Certificate.device == device_id) if kind == "device" else (Certificate.batch == batch_id)
    return (
        await Certificate.select(Certificate.id, Certificate.code, Certificate.version, Certificate.envelope)
        .where(where)
        .first()
    )


async def _store(
    kind: str,
    payload_of: Any,
    *,
    batch_id: int | None,
    device_id: int | None,
    donor_id: int | None,
    principal: Principal,
    force_supersede: Mapping[str, Any] | None = None,
) -> CertificateOut:
    """Issue unless a valid certificate already says the same; a changed content supersedes it."""
    signing = _signer()
    async with write_transaction():
        if not is_sqlite():  # one issuer at a time per batch or device
            await fetch(
                "SELECT pg_advisory_xact_lock(hashtext({}))", f"refurb-cert-{kind}-{batch_id}-{device_id}"
            )
        current = force_supersede or await _current(kind, batch_id=batch_id, device_id=device_id)
        probe = payload_of("C00000000", 1, None)
        if current is not None and force_supersede is None:
            previous = json.loads(current["envelope"])["certificate"]
            if _fingerprint(previous) == _fingerprint(probe):
                return await _out_by_code(current["code"])
        code = (await mint(CodeType.CERTIFICATE))[0].compact
        version = current["version"] + 1 if current else 1
        payload = payload_of(code, version, current["code"] if current else None)
        envelope = signing.sign(payload)
        envelope_bytes = canonical_bytes(envelope)
        pdf = await asyncio.to_thread(
            render_certificate_pdf, envelope, verify_url=verify_url(code), language=keyring().language
        )
        now = utcnow()
        if current is not None:
            await Certificate.update(
                {
                    Certificate.status: "superseded",
                    Certificate.status_changed_at: now,
                    Certificate.status_reason: code,
                }
            ).where((Certificate.id == current["id"]) & (Certificate.status == "valid"))
        counts = payload["counts"]
        await Certificate.insert(
            Certificate(
                code=code,
                kind=kind,
                batch=batch_id,
                device=device_id,
                donor=donor_id,
                version=version,
                supersedes=current["id"] if current else None,
                envelope=envelope_bytes.decode(),
                envelope_sha256=hashlib.sha256(envelope_bytes).hexdigest(),
                pdf=pdf,
                pdf_sha256=hashlib.sha256(pdf).hexdigest(),
                key_id=signing.key_id,
                issued_by=principal.user_id,
                issuer_name=principal.name,
                devices=counts["devices"],
                media=counts["media"],
                created_at=now,
                updated_at=now,
            )
        )
    return await _out_by_code(code)


async def issue_for_device(
    code_text: str, principal: Principal, *, force_supersede: Mapping[str, Any] | None = None
) -> CertificateOut:
    """A device's certificate, once its erasure is certified; the same content is not issued twice."""
    if principal.role not in ISSUERS:
        raise Forbidden(N_("A {role} may not issue certificates."), role=principal.role)
    device = await devices.device_ref(code_text, principal)
    if await is_on_hold(device.batch_id):
        raise Conflict(
            N_("The batch of {ref} is on hold after a failed erasure quality check."),
            code="batch_on_hold",
            ref=parse_code(device.code).display,
        )
    judged = await device_media(device)
    if not _terminal(device, judged):
        raise Conflict(
            N_("{ref} is {state}: its erasure is not certified yet."),
            code="erasure_not_certified",
            ref=parse_code(device.code).display,
            state=device.state,
        )
    found = await devices.get(device.code, principal)
    custody, batch, donor_id = ({}, None, None)
    if found.batch:
        custody, batch, donor_id = await _custody(found.batch, principal)
    issuer = await _organisation(principal.organisation_id)
    donor = await _organisation(donor_id)
    about = {
        "code": device.code,
        "kind": device.kind.value,
        "manufacturer": found.manufacturer,
        "model": found.model,
        "serial": found.serial or "",
    }
    issued_at = utcnow()

    def payload_of(code: str, version: int, supersedes: str | None) -> dict[str, Any]:
        return _payload(
            code, version, "device", issued_at, supersedes, issuer, donor, batch, about, custody, [judged], 0
        )

    return await _store(
        "device",
        payload_of,
        batch_id=device.batch_id,
        device_id=device.id,
        donor_id=donor_id,
        principal=principal,
        force_supersede=force_supersede,
    )


async def issue_for_batch(
    code_text: str, principal: Principal, *, force_supersede: Mapping[str, Any] | None = None
) -> CertificateOut:
    """A batch's certificate, only once every device of it is terminal for erasure."""
    if principal.role not in ISSUERS:
        raise Forbidden(N_("A {role} may not issue certificates."), role=principal.role)
    batch = await batches.get_batch(code_text, principal)
    if await is_on_hold(batch.id):
        raise Conflict(
            N_("Batch {ref} is on hold after a failed erasure quality check."),
            code="batch_on_hold",
            ref=batch.display_code,
        )
    rows = await devices.batch_devices(batch.id)
    present = [row for row in rows if row.state is not State.MISSING]
    missing = len(rows) - len(present)
    judged: list[DeviceMedia] = []
    pending: list[str] = []
    for row, media_of in zip(present, await judge_devices(present), strict=True):
        if _terminal(row, media_of):
            judged.append(media_of)
        else:
            pending.append(parse_code(row.code).display)
    if pending or not rows:
        raise Conflict(
            Np_(
                "Batch {ref} cannot be certified yet: {count} device is not through erasure ({some}).",
                "Batch {ref} cannot be certified yet: {count} devices are not through erasure ({some}).",
            ),
            code="batch_not_terminal",
            ref=batch.display_code,
            count=len(pending),
            some=", ".join(pending[:5]) + (" …" if len(pending) > 5 else ""),
        )
    custody, about, donor_id = await _custody(batch.code, principal)
    issuer = await _organisation(principal.organisation_id)
    donor = await _organisation(donor_id)
    issued_at = utcnow()

    def payload_of(code: str, version: int, supersedes: str | None) -> dict[str, Any]:
        return _payload(
            code,
            version,
            "batch",
            issued_at,
            supersedes,
            issuer,
            donor,
            about,
            None,
            custody,
            judged,
            missing,
        )

    return await _store(
        "batch",
        payload_of,
        batch_id=batch.id,
        device_id=None,
        donor_id=donor_id,
        principal=principal,
        force_supersede=force_supersede,
    )


# --- reading ------------------------------------------------------------------------------------

_SELECT = """
SELECT c.id, c.code, c.kind, c.version, c.status, c.status_reason, c.created_at, c.devices, c.media, c.key_id,
       c.pdf_sha256, c.envelope_sha256, c.donor, c.batch AS batch_id, c.device AS device_id
FROM certificate c"""


async def _select(where: str, *values: Any) -> list[dict[str, Any]]:
    """Certificate rows with the codes of their batch and device."""
    rows = await fetch(_SELECT + where, *values)
    batches = await devices.codes_of("batch", [row["batch_id"] for row in rows])
    devices_ = await devices.codes_of("device", [row["device_id"] for row in rows])
    return [
        {**row, "batch_code": batches.get(row["batch_id"]), "device_code": devices_.get(row["device_id"])}
        for row in rows
    ]


def _out(row: Mapping[str, Any]) -> CertificateOut:
    return CertificateOut(
        code=row["code"],
        display_code=parse_code(row["code"]).display,
        kind=row["kind"],
        version=row["version"],
        batch=row["batch_code"],
        device=row["device_code"],
        status=row["status"],
        status_reason=row["status_reason"] if row["status"] == "revoked" else "",
        issued_at=row["created_at"],
        devices=row["devices"],
        media=row["media"],
        key_id=row["key_id"],
        verify_url=verify_url(row["code"]),
        pdf_sha256=row["pdf_sha256"],
        json_sha256=row["envelope_sha256"],
    )


async def _row(code_text: str, principal: Principal | None) -> Mapping[str, Any]:
    code = parse_code(code_text, expected=CodeType.CERTIFICATE)
    rows = await _select(" WHERE c.code = {}", code.compact)
    row = rows[0] if rows else None
    if row is None or (
        principal is not None
        and principal.scoped_to_organisation
        and row["donor"] != principal.organisation_id
    ):
        raise NotFound(N_("No certificate {ref} is known."), ref=code.display)
    return row


async def _out_by_code(code: str) -> CertificateOut:
    return _out(await _row(code, None))


async def get_certificate(code_text: str, principal: Principal) -> CertificateOut:
    """One certificate; another donor's is a 404."""
    return _out(await _row(code_text, principal))


async def list_certificates(
    principal: Principal, *, batch: str | None = None, device: str | None = None
) -> list[CertificateOut]:
    """Certificates of a batch (its devices' too) or of a device, newest first."""
    clauses, values = [], []
    if batch:
        found = await batches.get_batch(batch, principal)
        clauses.append("c.batch = {}")
        values.append(found.id)
    if device:
        ref = await devices.device_ref(device, principal)
        clauses.append("c.device = {}")
        values.append(ref.id)
    if principal.scoped_to_organisation:
        clauses.append("c.donor = {}")
        values.append(principal.organisation_id)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    rows = await _select(where + " ORDER BY c.id DESC LIMIT 500", *values)
    return [_out(row) for row in rows]


async def document(code_text: str, principal: Principal, fmt: str) -> tuple[str, bytes, str]:
    """The signed JSON or the PDF, exactly as issued: (filename, bytes, media type)."""
    row = await _row(code_text, principal)
    column = Certificate.pdf if fmt == "pdf" else Certificate.envelope
    stored = await Certificate.select(column).where(Certificate.id == row["id"]).first()
    assert stored is not None
    if fmt == "pdf":
        return f"{row['code']}.pdf", bytes(stored["pdf"]), "application/pdf"
    return f"{row['code']}.json", stored["envelope"].encode(), "application/json"


async def revoke(code_text: str, reason: str, principal: Principal, *, reissue: bool) -> CertificateOut:
    """Withdraw a certificate with the reason; `reissue` issues its next version from today's records.

    Revoking and re-issuing happen together or not at all; a certificate that
    already has a newer version is not re-issued again.
    """
    if principal.role not in REVOKERS:
        raise Forbidden(N_("Only a supervisor can revoke a certificate."), code="forbidden")
    found = await _row(code_text, principal)
    async with write_transaction():
        if not is_sqlite():  # the same lock as issuing: one version at a time
            key = f"refurb-cert-{found['kind']}-{found['batch_id']}-{found['device_id']}"
            await fetch("SELECT pg_advisory_xact_lock(hashtext({}))", key)
        row = await _row(code_text, principal)
        ref = parse_code(row["code"]).display
        if row["status"] == "superseded" or await Certificate.exists().where(
            Certificate.supersedes == row["id"]
        ):
            raise Conflict(
                N_("{ref} has a newer version: revoke that one."), code="certificate_superseded", ref=ref
            )
        if row["status"] == "valid":
            await Certificate.update(
                {
                    Certificate.status: "revoked",
                    Certificate.status_reason: reason.strip(),
                    Certificate.status_changed_at: utcnow(),
                }
            ).where(Certificate.id == row["id"])
        if not reissue:
            return await _out_by_code(row["code"])
        previous = {"id": row["id"], "code": row["code"], "version": row["version"]}
        if row["kind"] == "batch":
            return await issue_for_batch(row["batch_code"], principal, force_supersede=previous)
        return await issue_for_device(row["device_code"], principal, force_supersede=previous)


# --- verification -------------------------------------------------------------------------------


def _public(
    row: Mapping[str, Any] | None,
    *,
    authentic: bool,
    reason: str,
    code: str | None = None,
    counts: Mapping[str, int] | None = None,
    issuer: str | None = None,
) -> VerificationOut:
    """What an anonymous visitor may learn: no serials, no names of people."""
    if row is None:
        return VerificationOut(
            code=code,
            authentic=authentic,
            reason=reason,
            status=None,
            kind=None,
            version=None,
            issued_at=None,
            issuer=issuer,
            devices=None,
            media=None,
        )
    return VerificationOut(
        code=row["code"],
        authentic=authentic,
        reason=reason,
        status=row["status"],
        kind=row["kind"],
        version=row["version"],
        issued_at=row["created_at"],
        issuer=issuer,
        devices=row["devices"],
        media=row["media"],
        counts={k: int(v) for k, v in (counts or {}).items() if isinstance(v, int)},
    )


def _facts(envelope_text: str) -> tuple[str, dict[str, int]]:
    payload = json.loads(envelope_text)["certificate"]
    return payload["issuer"]["name"], payload["counts"]


async def verify_code(code_text: str) -> VerificationOut:
    """The public status of a certificate by its code."""
    row = await _row(code_text, None)
    stored = await Certificate.select(Certificate.envelope).where(Certificate.id == row["id"]).first()
    assert stored is not None
    issuer, counts = _facts(stored["envelope"])
    return _public(row, authentic=True, reason="ok", counts=counts, issuer=issuer)


async def verify_document(content: bytes) -> VerificationOut:
    """Is this PDF or JSON one of our certificates, unchanged? Never an error: the reason says."""
    digest = hashlib.sha256(content).hexdigest()
    if content.lstrip()[:5] == b"%PDF-":
        rows = await _select(" WHERE c.pdf_sha256 = {}", digest)
        if not rows:
            return _public(None, authentic=False, reason="unknown_document")
        return await _known(rows[0])
    result = verify_envelope(content, keyring().public)
    if not result.authentic or result.payload is None:
        return _public(None, authentic=False, reason=str(result.reason))
    code = str(result.payload.get("code", ""))
    rows = await _select(" WHERE c.code = {}", code)
    if not rows:
        return _public(None, authentic=True, reason="not_issued_here", code=code)
    row = rows[0]
    if hashlib.sha256(canonical_bytes(json.loads(content))).hexdigest() != row["envelope_sha256"]:
        return _public(None, authentic=False, reason="not_the_issued_version", code=code)
    return await _known(row)


async def _known(row: Mapping[str, Any]) -> VerificationOut:
    stored = await Certificate.select(Certificate.envelope).where(Certificate.id == row["id"]).first()
    assert stored is not None
    issuer, counts = _facts(stored["envelope"])
    return _public(row, authentic=True, reason="ok", counts=counts, issuer=issuer)
