"""Donation agreements (conventions de don): signed in the portal or uploaded as a signed PDF.

No batch is collected without one. The terms say the refurbisher processes the
donor's data only to erase it (GDPR art. 28: the refurbisher is a processor).
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Mapping, Sequence
from typing import IO, Any

from refurb.core.codes import parse_code
from refurb.core.errors import BadInput, DomainError, Forbidden, GuardRefused, NotFound
from refurb.core.i18n import N_
from refurb.core.lifecycle import Check
from refurb.core.principal import Principal
from refurb.core.roles import Role
from refurb.db import write_transaction
from refurb.devices.service import CheckContext, register_check
from refurb.intake.schemas import AgreementIn, AgreementOut
from refurb.intake.tables import Agreement
from refurb.timestamps import utcnow

__all__ = (
    "TERMS_VERSION",
    "current_agreement",
    "document",
    "register",
    "require_agreement",
    "sign",
    "upload",
)

TERMS_VERSION = "2026-11"
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
SIGNERS = frozenset({Role.DONOR, Role.COORDINATOR, Role.ADMIN})
_COLUMNS = (
    Agreement.id,
    Agreement.donor.name,
    Agreement.terms_version,
    Agreement.signatory_name,
    Agreement.signatory_title,
    Agreement.signed_at,
    Agreement.method,
    Agreement.data_processing_clause,
    Agreement.document_name,
    Agreement.document_sha256,
    Agreement.signed_by.username,
)


def _out(row: Mapping[str, Any]) -> AgreementOut:
    return AgreementOut(
        id=row["id"],
        donor=row["donor.name"],
        terms_version=row["terms_version"],
        signatory_name=row["signatory_name"],
        signatory_title=row["signatory_title"],
        signed_at=row["signed_at"],
        method=row["method"],
        data_processing_clause=row["data_processing_clause"],
        document_name=row["document_name"],
        document_sha256=row["document_sha256"],
        signed_by=row["signed_by.username"],
    )


def _signer(principal: Principal, donor_id: int) -> None:
    if principal.role not in SIGNERS:
        raise Forbidden(N_("A {role} may not sign a donation agreement."), role=principal.role)
    if principal.role is Role.DONOR and donor_id != principal.organisation_id:
        raise NotFound(N_("No such donor organisation."))


async def current_agreement(donor_id: int) -> AgreementOut | None:
    """The donor's latest agreement in force, if any."""
    row = (
        await Agreement.select(*_COLUMNS)
        .where((Agreement.donor == donor_id) & Agreement.revoked_at.is_null())
        .order_by(Agreement.signed_at, ascending=False)
        .order_by(Agreement.id, ascending=False)
        .first()
    )
    return _out(row) if row else None


async def sign(donor_id: int, data: AgreementIn, principal: Principal) -> AgreementOut:
    """Sign in the portal: a typed name and an explicit acceptance of the current terms."""
    _signer(principal, donor_id)
    if not data.accept:
        raise BadInput(N_("Tick the box to accept the terms of the agreement."), code="terms_not_accepted")
    if data.terms_version != TERMS_VERSION:
        raise BadInput(
            N_("These terms ({version}) are out of date: reload the page and read version {current}."),
            code="terms_outdated",
            version=data.terms_version,
            current=TERMS_VERSION,
        )
    name = " ".join(data.signatory_name.split())
    if len(name) < 2:
        raise BadInput(N_("Type the signatory's full name."), code="bad_signatory")
    async with write_transaction():
        rows = await Agreement.insert(
            Agreement(
                donor=donor_id,
                terms_version=TERMS_VERSION,
                signatory_name=name,
                signatory_title=" ".join(data.signatory_title.split()),
                signed_at=utcnow(),
                method="portal",
                signed_by=principal.user_id,
                data_processing_clause=True,
            )
        ).returning(Agreement.id)
    return await _get(rows[0]["id"])


async def upload(
    donor_id: int,
    file: IO[bytes],
    filename: str,
    *,
    signatory_name: str,
    signatory_title: str,
    signed_on: datetime.date,
    principal: Principal,
) -> AgreementOut:
    """Record an agreement signed on paper: the PDF is kept with its SHA-256."""
    _signer(principal, donor_id)
    name = " ".join(signatory_name.split())
    if len(name) < 2 or len(name) > 200:
        raise BadInput(N_("Type the signatory's full name."), code="bad_signatory")
    if signed_on > datetime.date.today() + datetime.timedelta(days=1):
        raise BadInput(N_("The signature date is in the future."), code="bad_signature_date")
    content = file.read(MAX_DOCUMENT_BYTES + 1)
    if len(content) > MAX_DOCUMENT_BYTES:
        raise BadInput(
            N_("The signed agreement is larger than {limit} MiB."),
            code="document_too_large",
            limit=MAX_DOCUMENT_BYTES // (1024 * 1024),
        )
    if not content.startswith(b"%PDF-"):
        raise BadInput(N_("The signed agreement must be a PDF file."), code="not_a_pdf")
    signed_at = datetime.datetime.combine(signed_on, datetime.time(12), tzinfo=datetime.UTC)
    async with write_transaction():
        rows = await Agreement.insert(
            Agreement(
                donor=donor_id,
                terms_version=TERMS_VERSION,
                signatory_name=name,
                signatory_title=" ".join(signatory_title.split())[:200],
                signed_at=signed_at,
                method="upload",
                signed_by=principal.user_id,
                data_processing_clause=True,
                document=content,
                document_name=(filename or "agreement.pdf")[-200:],
                document_sha256=hashlib.sha256(content).hexdigest(),
            )
        ).returning(Agreement.id)
    return await _get(rows[0]["id"])


async def _get(agreement_id: int) -> AgreementOut:
    row = await Agreement.select(*_COLUMNS).where(Agreement.id == agreement_id).first()
    assert row is not None
    return _out(row)


async def document(agreement_id: int, principal: Principal) -> tuple[str, bytes]:
    """The uploaded PDF of an agreement (a donor gets only its own)."""
    where = Agreement.id == agreement_id
    if principal.scoped_to_organisation:
        where &= Agreement.donor == principal.organisation_id
    row = await Agreement.select(Agreement.document_name, Agreement.document).where(where).first()
    if row is None or row["document"] is None:
        raise NotFound(N_("No signed document is stored for this agreement."))
    return row["document_name"] or "agreement.pdf", bytes(row["document"])


async def require_agreement(donor_id: int, ref: str) -> AgreementOut:
    """The agreement in force, or the refusal to collect."""
    agreement = await current_agreement(donor_id)
    if agreement is None:
        raise GuardRefused(
            N_("{ref} cannot be collected: its donor has not signed the donation agreement."),
            code="agreement_missing",
            ref=ref,
        )
    return agreement


async def _agreement_signed(context: CheckContext) -> None:
    """The lifecycle check of `collect`."""
    if context.device.donor_id is None:
        raise GuardRefused(
            N_("{ref} belongs to no donor batch: there is no agreement to collect it under."),
            code="agreement_missing",
            ref=parse_code(context.device.code).display,
        )
    await require_agreement(context.device.donor_id, parse_code(context.device.code).display)


async def _agreements_signed(contexts: Sequence[CheckContext]) -> dict[int, DomainError]:
    """The bulk form of `_agreement_signed`: one look per donor for a whole batch."""
    signed: dict[int, bool] = {}
    refused: dict[int, DomainError] = {}
    for context in contexts:
        donor = context.device.donor_id
        if donor is not None and donor not in signed:
            signed[donor] = await current_agreement(donor) is not None
        if donor is None or not signed[donor]:
            try:
                await _agreement_signed(context)
            except DomainError as error:
                refused[context.device.id] = error
    return refused


def register() -> None:
    """Declare the checks this area answers."""
    register_check(Check.AGREEMENT_SIGNED, _agreement_signed, bulk=_agreements_signed)
