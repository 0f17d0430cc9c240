"""A device's media, where each one's erasure stands, and the sanitize gate built on it."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from refurb.core.aliases import is_placeholder_serial, normal_serial
from refurb.core.codes import parse_code
from refurb.core.errors import BadInput, Conflict, DomainError, Forbidden, GuardRefused, NotFound
from refurb.core.i18n import N_, Np_, fill
from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import Check, State
from refurb.core.principal import Principal
from refurb.core.roles import SUPERVISION, WORKSHOP
from refurb.db import chunked, json_value, write_transaction
from refurb.devices import service as devices
from refurb.devices.service import CheckContext, DeviceRow, register_check
from refurb.erasure.custody import require_erasure_stage
from refurb.erasure.kind_decisions import decide, decisions_of, kind_of, record_decision
from refurb.erasure.kinds import BASIS_MESSAGES, can_confirm_rotational, decide_kind
from refurb.erasure.policy import (
    DEFAULT_RULES,
    MediumVerdict,
    Problem,
    Rule,
    check_rules,
    is_anonymised,
    judge_medium,
    rules_from,
)
from refurb.erasure.records import (
    NewRecord,
    current_facts,
    insert_record,
    record_hash,
    records_of,
)
from refurb.erasure.schemas import (
    AttestationOut,
    DestructionIn,
    ErasureStatusOut,
    ManualRecordIn,
    MediumIn,
    MediumOut,
    PolicyIn,
    PolicyOut,
    ProblemOut,
)
from refurb.erasure.tables import ErasurePolicy, ErasureRecord, Medium, NoMediaAttestation, QualityCheck
from refurb.timestamps import utcnow
from refurb.web.i18n import gettext

__all__ = (
    "DeviceMedia",
    "add_medium",
    "add_new_medium",
    "attest_no_media",
    "batch_outcomes",
    "device_media",
    "get_policy",
    "has_workbench_snapshot",
    "is_on_hold",
    "judge_devices",
    "mark_absent",
    "record_destruction",
    "record_manual",
    "register",
    "set_policy",
    "status",
)


@dataclass(frozen=True, slots=True)
class JudgedMedium:
    """One medium with its records and verdict."""

    row: Mapping[str, Any]
    verdict: MediumVerdict
    out: MediumOut


@dataclass(frozen=True, slots=True)
class DeviceMedia:
    """Everything the gate and the station page need about one device."""

    device: DeviceRow
    media: list[JudgedMedium]
    attestation: Mapping[str, Any] | None
    problems: list[Problem]

    @property
    def ready(self) -> bool:
        """Sanitize will be accepted."""
        return not self.problems


def _problem_out(problem: Problem, translate: Any) -> ProblemOut:
    return ProblemOut(code=problem.code, message=fill(problem.message, dict(problem.params), translate))


async def rules_for(donor_id: int | None) -> dict[str, Rule]:
    """The donor's policy over the safe default."""
    if donor_id is None:
        return dict(DEFAULT_RULES)
    row = (
        await ErasurePolicy.select(ErasurePolicy.rules).where(ErasurePolicy.organisation == donor_id).first()
    )
    return rules_from(json_value(row["rules"], {}) if row else None)


async def device_media(device: DeviceRow, translate: Any = str) -> DeviceMedia:
    """Judge every medium of a device against its donor's policy."""
    return (await judge_devices([device], translate))[0]


async def judge_devices(devices_: Sequence[DeviceRow], translate: Any = str) -> list[DeviceMedia]:
    """Judge many devices with a few queries (a batch certificate covers a thousand).

    Only what was recorded since the device's last reception counts: a device
    handed back goes through a new sanitization (design §4).
    """
    rules_by_donor = {donor: await rules_for(donor) for donor in {d.donor_id for d in devices_}}
    ids = [d.id for d in devices_]
    since = await devices.last_action_at(ids, "receive")
    media_rows: dict[int, list[Mapping[str, Any]]] = {i: [] for i in ids}
    attested: dict[int, Mapping[str, Any]] = {}
    for chunk in chunked(ids):
        for row in await Medium.select().where(Medium.device.is_in(chunk)).order_by(Medium.id):
            media_rows[row["device"]].append(row)
        for row in await NoMediaAttestation.select().where(NoMediaAttestation.device.is_in(chunk)):
            if _after(row["created_at"], since.get(row["device"])):
                attested[row["device"]] = row
    history = await records_of([row["id"] for rows in media_rows.values() for row in rows])
    return [
        _judge(
            device,
            media_rows[device.id],
            history,
            attested.get(device.id),
            rules_by_donor[device.donor_id],
            translate,
            since.get(device.id),
        )
        for device in devices_
    ]


def _after(at: Any, since: Any) -> bool:
    """Recorded after the device's last reception (always, when it was never received by scan)."""
    if since is None:
        return True
    if isinstance(at, str):
        at = datetime.datetime.fromisoformat(at)
    if isinstance(since, str):
        since = datetime.datetime.fromisoformat(since)
    return at > since


def _judge(
    device: DeviceRow,
    rows: Sequence[Mapping[str, Any]],
    history: Mapping[int, list[Any]],
    attestation: Mapping[str, Any] | None,
    rules: Mapping[str, Rule],
    translate: Any,
    since: Any,
) -> DeviceMedia:
    """One device's verdict from rows read beforehand; what predates `since` (its last reception) is past."""
    judged: list[JudgedMedium] = []
    problems: list[Problem] = []
    for row in rows:
        records = history[row["id"]]  # the whole history is shown; what counts is this reception's
        kind = kind_of(row)
        current = [r for r in records if _after(r.created_at, since)]
        if row["absent_reason"] is not None:
            verdict = MediumVerdict(True, None, "none", ())
            state = "absent"
        elif row["source"] == "new" and _after(row["created_at"], since):
            # fitted new by the workshop since the device came in: it never held anyone's data
            verdict = MediumVerdict(True, None, "none", ())
            state = "new"
        else:
            verdict = judge_medium(kind.kind, current_facts(current), rules)
            if not verdict.passes and not row["detected"] and not current:
                verdict = MediumVerdict(
                    False,
                    None,
                    "none",
                    (Problem("not_detected", N_("declared by the donor, not seen in the device yet")),),
                )
            state = "passed" if verdict.passes else "pending"
        judged.append(
            JudgedMedium(
                row,
                verdict,
                MediumOut(
                    id=row["id"],
                    kind=kind.kind,
                    kind_basis=kind.basis,
                    kind_reason=translate(BASIS_MESSAGES[kind.basis]),
                    can_confirm_rotational=(
                        state == "pending"
                        and kind.kind != "hdd"
                        and can_confirm_rotational(row["tool_kind"], row["model"])
                    ),
                    interface=row["interface"],
                    manufacturer=row["manufacturer"],
                    model=row["model"],
                    serial=row["serial"],
                    capacity_bytes=row["capacity_bytes"],
                    source=row["source"],
                    detected=bool(row["detected"]),
                    absent_reason=row["absent_reason"],
                    status=state,
                    category=verdict.category,
                    record_id=verdict.record_id,
                    problems=[_problem_out(p, translate) for p in verdict.problems],
                    records=records,
                ),
            )
        )
        if not verdict.passes:
            label = row["serial"] or row["model"] or f"#{row['id']}"
            problems += [
                Problem(
                    p.code,
                    N_("{medium}: {why}"),
                    {"medium": label, "why": fill(p.message, dict(p.params), translate)},
                )
                for p in verdict.problems
            ]
    present = [m for m in judged if m.out.status != "absent"]
    if not present and attestation is None:
        problems.append(
            Problem(
                "media_unknown",
                N_(
                    "no data-bearing medium is recorded: upload the wiping report, add the media, "
                    "or attest that the device has none"
                ),
            )
        )
    if present and attestation is not None:
        problems.append(
            Problem(
                "attestation_contradicted",
                N_(
                    "a technician attested no data-bearing media, yet media are recorded: "
                    "a supervisor must settle it"
                ),
            )
        )
    return DeviceMedia(device, judged, attestation, problems)


async def batch_outcomes(batch_id: int) -> dict[str, int]:
    """The batch's media by outcome, as the donor's reconciliation shows them."""
    judged = await judge_devices(await devices.batch_devices(batch_id))
    names = ("media", "clear", "purge", "destroy", "pending", "absent", "no_media_devices")
    outcomes = dict.fromkeys(names, 0)
    for device in judged:
        if not device.media and device.attestation is not None:
            outcomes["no_media_devices"] += 1
        for medium in device.media:
            if medium.out.status == "new":  # the workshop's, not the donor's
                continue
            outcomes["media"] += 1
            if medium.out.status == "passed":
                outcomes[medium.verdict.category] = outcomes.get(medium.verdict.category, 0) + 1
            else:
                outcomes[medium.out.status] += 1
    return outcomes


async def is_on_hold(batch_id: int | None) -> bool:
    """A failed quality check holds its batch."""
    if batch_id is None:
        return False
    return await QualityCheck.exists().where(
        (QualityCheck.batch == batch_id) & (QualityCheck.result == "failed")
    )


async def status(code_text: str, principal: Principal, translate: Any = str) -> ErasureStatusOut:
    """The erasure sheet of one device."""
    device = await devices.device_ref(code_text, principal)
    judged = await device_media(device, translate)
    refs = await devices.device_refs([device.id])
    decisions = await decisions_of([m.out.id for m in judged.media])
    attestation = judged.attestation
    return ErasureStatusOut(
        device=device.code,
        display_code=parse_code(device.code).display,
        kind=device.kind.value,
        state=device.state.value,
        batch=refs[device.id][1],
        media=[m.out.model_copy(update={"kind_decisions": decisions[m.out.id]}) for m in judged.media],
        attestation=AttestationOut(
            by=attestation["attester_name"], at=attestation["created_at"], note=attestation["note"]
        )
        if attestation
        else None,
        ready=judged.ready,
        problems=[_problem_out(p, translate) for p in judged.problems],
        on_hold=await is_on_hold(device.batch_id),
    )


def _require_workshop(principal: Principal) -> None:
    if principal.role not in WORKSHOP:
        raise Forbidden(N_("Only workshop staff record erasures."))


async def _lock_device(code_text: str, principal: Principal) -> DeviceRow:
    return await devices.device_ref(code_text, principal, lock=True)


async def add_medium(code_text: str, data: MediumIn, principal: Principal) -> MediumOut:
    """A medium the technician found: it fills a declared one without serial, else it is added."""
    _require_workshop(principal)
    serial = normal_serial(data.serial)
    if not serial or is_placeholder_serial(serial) or is_anonymised(serial):
        raise BadInput(
            N_("{serial} looks anonymised: type the serial printed on the medium."),
            code="serial_anonymised",
            serial=serial,
        )
    async with write_transaction():
        device = await _lock_device(code_text, principal)
        require_erasure_stage(device)
        rows = await Medium.select().where(Medium.device == device.id)
        if any(normal_serial(r["serial"] or "") == normal_serial(serial) for r in rows):
            raise Conflict(
                N_("{ref} already has a medium with serial {serial}."),
                code="medium_exists",
                ref=parse_code(device.code).display,
                serial=serial,
            )
        decided = decide_kind(model=data.model, confirmed=data.kind)
        values = {
            Medium.kind: decided.kind,
            Medium.confirmed_kind: data.kind,
            Medium.kind_basis: decided.basis,
            Medium.interface: data.interface,
            Medium.manufacturer: data.manufacturer,
            Medium.model: data.model,
            Medium.serial: serial,
            Medium.capacity_bytes: data.capacity_bytes,
            Medium.detected: True,
        }
        placeholder = next(
            (
                r
                for r in rows
                if r["serial"] is None and r["source"] == "declared" and r["absent_reason"] is None
            ),
            None,
        )
        if placeholder is not None:
            await Medium.update(values).where(Medium.id == placeholder["id"])
            medium_id = placeholder["id"]
        else:
            inserted = await Medium.insert(
                Medium(**{c._meta.name: v for c, v in values.items()}, device=device.id, source="technician")
            )
            medium_id = inserted[0]["id"]
        await record_decision(medium_id, data.kind, principal, note="added by hand")
    judged = await device_media(device)
    return next(m.out for m in judged.media if m.out.id == medium_id)


async def add_new_medium(
    device_id: int, kind: str, *, serial: str | None, capacity_bytes: int | None, model: str = ""
) -> int:
    """A blank disk the workshop fitted: a medium "new, no prior data" until the device comes back.

    Runs inside the caller's write transaction.
    """
    inserted = await Medium.insert(
        Medium(
            device=device_id,
            kind=kind,
            confirmed_kind=kind,  # the workshop fitted it: its kind is known
            kind_basis="technician",
            model=model[:200],
            serial=normal_serial(serial) if serial else None,
            capacity_bytes=capacity_bytes,
            source="new",
            detected=True,
        )
    )
    return inserted[0]["id"]


async def has_workbench_snapshot(device_id: int) -> bool:
    """Whether a Workbench report measured this device (its CPU, RAM and storage are then the tool's)."""
    row = (
        await ErasureRecord.select(ErasureRecord.id)
        .where((ErasureRecord.device == device_id) & ErasureRecord.report.format.like("workbench%"))
        .first()
    )
    return row is not None


async def _medium_of(device: DeviceRow, medium_id: int) -> Mapping[str, Any]:
    row = await Medium.select().where((Medium.id == medium_id) & (Medium.device == device.id)).first()
    if row is None:
        raise NotFound(
            N_("{ref} has no medium #{medium}."), ref=parse_code(device.code).display, medium=medium_id
        )
    return row


async def _check_supersedes(medium_id: int, supersedes: int | None) -> None:
    if supersedes is None:
        return
    history = (await records_of([medium_id]))[medium_id]
    target = next((r for r in history if r.id == supersedes), None)
    if target is None:
        raise BadInput(
            N_("Record #{record} is not a record of this medium."), code="bad_supersedes", record=supersedes
        )
    if target.superseded:
        raise Conflict(
            N_("Record #{record} is already corrected by another record."),
            code="already_superseded",
            record=supersedes,
        )


async def _write(device: DeviceRow, medium: Mapping[str, Any], record: NewRecord) -> int:
    digest = record_hash(record, device_code=device.code, medium_serial=medium["serial"], report_sha256=None)
    record_id = await insert_record(record, digest, utcnow())
    if not medium["detected"]:
        await Medium.update({Medium.detected: True}).where(Medium.id == medium["id"])
    return record_id


async def record_manual(
    code_text: str, data: ManualRecordIn, principal: Principal, station_id: int | None = None
) -> int:
    """An operator's record of an erasure whose tool gives no importable report."""
    _require_workshop(principal)
    from refurb.erasure.policy import categorise

    async with write_transaction():
        device = await _lock_device(code_text, principal)
        require_erasure_stage(device)
        medium = await _medium_of(device, data.medium)
        await _check_supersedes(medium["id"], data.supersedes)
        if data.medium_kind and not medium["confirmed_kind"]:
            await decide(medium, data.medium_kind, principal, note="with a record typed by hand")
        known = medium["serial"]
        seen = normal_serial(data.serial_seen)
        if not seen or is_placeholder_serial(seen) or is_anonymised(seen):
            raise BadInput(
                N_("'{serial}' is not a serial: type the one printed on the medium."),
                code="serial_missing",
                serial=data.serial_seen[:40],
            )
        mismatch = bool(known) and normal_serial(known) != seen
        record = NewRecord(
            medium_id=medium["id"],
            device_id=device.id,
            category=categorise(data.technique, data.result),
            technique=data.technique,
            result=data.result,
            method_label=data.method_label,
            passes=data.passes,
            pattern=data.pattern,
            verification=data.verification,
            verification_result=data.verification_result,
            tool=data.tool,
            tool_version=data.tool_version,
            started_at=data.started_at,
            ended_at=data.ended_at,
            serial_seen=data.serial_seen.strip(),
            details={"manual": True, "note": data.note},
            # a hand-typed record counts once a supervisor approves it, unless a supervisor typed it
            review="serial_mismatch" if mismatch else "" if principal.role in SUPERVISION else "manual",
            supersedes=data.supersedes,
            operator_id=principal.user_id,
            operator_name=principal.name,
            station_id=station_id,
        )
        return await _write(device, medium, record)


async def record_destruction(
    code_text: str, data: DestructionIn, principal: Principal, station_id: int | None = None
) -> int:
    """Physical destruction: method, facility, witness and the photo or video that proves it."""
    _require_workshop(principal)
    async with write_transaction():
        device = await _lock_device(code_text, principal)
        if device.state not in (State.RECEIVED, State.REJECTED):
            raise Conflict(
                N_("{ref} is {state}: media are destroyed from received or rejected devices."),
                code="not_in_erasure",
                ref=parse_code(device.code).display,
                state=device.state,
            )
        medium = await _medium_of(device, data.medium)
        await _check_supersedes(medium["id"], data.supersedes)
        record = NewRecord(
            medium_id=medium["id"],
            device_id=device.id,
            category="destroy",
            technique=data.technique,
            result="success",
            method_label=data.standard or data.technique,
            verification="visual",
            verification_result="passed",
            started_at=data.destroyed_at,
            ended_at=data.destroyed_at,
            serial_seen=medium["serial"],
            details={
                "facility": data.facility,
                "witness": data.witness,
                "evidence": data.evidence,
                "standard": data.standard,
            },
            supersedes=data.supersedes,
            operator_id=principal.user_id,
            operator_name=principal.name,
            station_id=station_id,
        )
        return await _write(device, medium, record)


async def mark_absent(code_text: str, medium_id: int, reason: str, principal: Principal) -> None:
    """A declared medium that is not in the device: a supervisor says so, with the reason."""
    if principal.role not in SUPERVISION:
        raise Forbidden(N_("Only a supervisor can record that a declared medium is absent."))
    reason = reason.strip()
    if len(reason) < 3:
        raise BadInput(N_("Say why the medium is absent."), code="reason_required")
    async with write_transaction():
        device = await _lock_device(code_text, principal)
        medium = await _medium_of(device, medium_id)
        if medium["detected"]:
            raise Conflict(
                N_("This medium was seen in the device: it cannot be absent."), code="medium_detected"
            )
        await Medium.update({Medium.absent_reason: reason}).where(Medium.id == medium_id)


#: Kinds a technician may attest as having no data-bearing media; any other needs a supervisor.
STORAGELESS = frozenset({DeviceKind.MONITOR, DeviceKind.CONNECTIVITY})


async def attest_no_media(code_text: str, note: str, principal: Principal) -> AttestationOut:
    """The device has no data-bearing media (a monitor, a 4G key): said by name, once per reception.

    A laptop, a phone or a printer without a disk is unusual enough to need a
    supervisor (phones and tablets always hold flash memory).
    """
    _require_workshop(principal)
    async with write_transaction():
        device = await _lock_device(code_text, principal)
        require_erasure_stage(device)
        if device.kind not in STORAGELESS and principal.role not in SUPERVISION:
            raise Forbidden(
                N_("A {kind} usually holds data: only a supervisor can attest that this one has no medium."),
                code="attestation_needs_supervisor",
                kind=device.kind,
            )
        present = await Medium.count().where((Medium.device == device.id) & Medium.absent_reason.is_null())
        if present:
            raise Conflict(
                Np_(
                    "{ref} has {count} medium recorded: it cannot be attested as having none.",
                    "{ref} has {count} media recorded: it cannot be attested as having none.",
                ),
                code="media_present",
                ref=parse_code(device.code).display,
                count=present,
            )
        current = (await judge_devices([device])).pop().attestation
        values = {"note": note.strip(), "attested_by": principal.user_id, "attester_name": principal.name}
        if current is None:  # never attested, or before its last reception: this reception's statement
            now = utcnow()
            updated = (
                await NoMediaAttestation.update(
                    {
                        **{getattr(NoMediaAttestation, k): v for k, v in values.items()},
                        NoMediaAttestation.created_at: now,
                    }
                )
                .where(NoMediaAttestation.device == device.id)
                .returning(NoMediaAttestation.id)
            )
            if not updated:
                await NoMediaAttestation.insert(NoMediaAttestation(device=device.id, **values))
    row = await NoMediaAttestation.select().where(NoMediaAttestation.device == device.id).first()
    return AttestationOut(by=row["attester_name"], at=row["created_at"], note=row["note"])


async def get_policy(organisation_id: int, organisation_name: str) -> PolicyOut:
    """The rules in force for an organisation's media."""
    row = await ErasurePolicy.select().where(ErasurePolicy.organisation == organisation_id).first()
    rules = rules_from(json_value(row["rules"], {}) if row else None)
    return PolicyOut(
        organisation=organisation_name,
        default=row is None,
        rules={k: {"minimum": r.minimum, "verification": r.verification} for k, r in rules.items()},
        qc_rate_percent=row["qc_rate_percent"] if row else 5,
    )


async def set_policy(organisation_id: int, organisation_name: str, data: PolicyIn) -> PolicyOut:
    """Stricter than the default is allowed; below the floor for flash is refused."""
    problems = check_rules(data.rules)
    if problems:
        raise BadInput(
            N_("This policy cannot be saved: {problems}."),
            code="bad_policy",
            problems="; ".join(f"{kind}: {gettext(why)}" for kind, why in problems),
        )
    async with write_transaction():
        updated = (
            await ErasurePolicy.update(
                {ErasurePolicy.rules: data.rules, ErasurePolicy.qc_rate_percent: data.qc_rate_percent}
            )
            .where(ErasurePolicy.organisation == organisation_id)
            .returning(ErasurePolicy.id)
        )
        if not updated:
            await ErasurePolicy.insert(
                ErasurePolicy(
                    organisation=organisation_id, rules=data.rules, qc_rate_percent=data.qc_rate_percent
                )
            )
    return await get_policy(organisation_id, organisation_name)


def _reasons(judged: DeviceMedia) -> str:
    """The first few problems of a device, in the reader's language, for a refusal."""
    text = "; ".join(fill(p.message, dict(p.params), gettext) for p in judged.problems[:4])
    return text + (" …" if len(judged.problems) > 4 else "")


def _not_sanitized(judged: DeviceMedia) -> GuardRefused:
    return GuardRefused(
        N_("{ref} cannot be certified as wiped: {reasons}."),
        code="media_not_sanitized",
        ref=parse_code(judged.device.code).display,
        reasons=_reasons(judged),
        extra={"problems": [{"code": p.code} for p in judged.problems]},
    )


async def _media_sanitized(context: CheckContext) -> None:
    """The lifecycle check of `sanitize`: every medium passes, or none exists and that is attested."""
    judged = await device_media(context.device, gettext)  # the reasons in the reader's language
    if not judged.ready:
        raise _not_sanitized(judged)


async def _media_sanitized_many(contexts: Sequence[CheckContext]) -> dict[int, DomainError]:
    """The bulk form of `_media_sanitized` (a folder of reports): every device judged in a few queries."""
    judged = await judge_devices([context.device for context in contexts], gettext)
    return {j.device.id: _not_sanitized(j) for j in judged if not j.ready}


async def _media_disposed(context: CheckContext) -> None:
    """The lifecycle check of `recycle`: no medium goes to the recycler before it is erased or destroyed."""
    judged = await device_media(context.device, gettext)
    if judged.ready:
        return
    reasons = _reasons(judged)
    raise GuardRefused(
        N_("{ref} cannot go to recycling yet: {reasons}."),
        code="media_not_disposed",
        ref=parse_code(context.device.code).display,
        reasons=reasons,
    )


def _on_hold(device: DeviceRow) -> GuardRefused:
    return GuardRefused(
        N_("{ref} cannot go further: its batch is on hold after a failed erasure quality check."),
        code="batch_on_hold",
        ref=parse_code(device.code).display,
    )


async def _not_on_hold(context: CheckContext) -> None:
    """Devices of a batch on hold stay sanitized until its failed quality check is settled."""
    if await is_on_hold(context.device.batch_id):
        raise _on_hold(context.device)


async def _not_on_hold_many(contexts: Sequence[CheckContext]) -> dict[int, DomainError]:
    """The bulk form of `_not_on_hold` (a "match all"): the batches on hold among them, in one query."""
    batches = sorted({c.device.batch_id for c in contexts if c.device.batch_id is not None})
    held: set[int] = set()
    for chunk in chunked(batches):
        rows = await QualityCheck.select(QualityCheck.batch).where(
            QualityCheck.batch.is_in(chunk) & (QualityCheck.result == "failed")
        )
        held.update(r["batch"] for r in rows)
    return {c.device.id: _on_hold(c.device) for c in contexts if c.device.batch_id in held}


def register() -> None:
    """Declare the checks this area answers."""
    register_check(Check.MEDIA_SANITIZED, _media_sanitized, bulk=_media_sanitized_many)
    register_check(Check.ERASURE_QC_CLEAR, _not_on_hold, bulk=_not_on_hold_many)
    register_check(Check.MEDIA_DISPOSED, _media_disposed)
