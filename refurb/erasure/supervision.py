"""A supervisor's side of erasure: records with warnings, and the weekly quality-control sample."""

from __future__ import annotations

import datetime
import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from refurb.core.errors import BadInput, Conflict, Forbidden, NotFound
from refurb.core.i18n import N_
from refurb.core.principal import Principal
from refurb.db import UNIQUE_VIOLATIONS, fetch, is_sqlite, json_value, write_transaction
from refurb.devices import service as devices
from refurb.erasure.schemas import QualityCheckOut, QualityResultIn, ReviewIn
from refurb.erasure.tables import ErasurePolicy, ErasureRecord, ErasureReview, QualityCheck
from refurb.timestamps import utcnow

__all__ = ("PendingReview", "checks", "draw", "pending_reviews", "record_result", "resolve", "review")

_sample = random.SystemRandom()


class PendingReview(BaseModel):
    """A record that counts only once a supervisor approves it."""

    record: int
    device: str
    medium_serial: str | None
    review: str
    warnings: list[str]
    operator: str
    created_at: datetime.datetime


async def pending_reviews() -> list[PendingReview]:
    """Records flagged for review that no supervisor has decided on, oldest first."""
    rows = await fetch(
        "SELECT r.id, r.review, r.warnings, r.operator_name, r.created_at, r.device, m.serial "
        "FROM erasure_record r JOIN medium m ON m.id = r.medium "
        "LEFT JOIN erasure_review v ON v.record = r.id "
        "WHERE r.review <> '' AND v.id IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM erasure_record s WHERE s.supersedes = r.id) ORDER BY r.id"
    )
    codes = await devices.codes_of("device", [r["device"] for r in rows])
    return [
        PendingReview(
            record=r["id"],
            device=codes[r["device"]],
            medium_serial=r["serial"],
            review=r["review"],
            warnings=_list(r["warnings"]),
            operator=r["operator_name"],
            created_at=r["created_at"],
        )
        for r in rows
    ]


def _list(value: Any) -> list[str]:
    return list(json_value(value, []))


async def review(record_id: int, data: ReviewIn, principal: Principal) -> str:
    """Decide once on a flagged record; the device's code."""
    rows = await fetch(
        "SELECT r.review, r.operator, r.device FROM erasure_record r WHERE r.id = {}",
        record_id,
    )
    if not rows:
        raise NotFound(N_("No erasure record #{record} is known."), record=record_id)
    row = rows[0]
    if not row["review"]:
        raise Conflict(
            N_("Record #{record} does not wait for a review."), code="review_not_needed", record=record_id
        )
    try:
        async with write_transaction():
            await ErasureReview.insert(
                ErasureReview(
                    record=record_id,
                    decision=data.decision,
                    note=data.note,
                    reviewer=principal.user_id,
                    reviewer_name=principal.name,
                )
            )
    except UNIQUE_VIOLATIONS:
        existing = (
            await ErasureReview.select(ErasureReview.decision)
            .where(ErasureReview.record == record_id)
            .first()
        )
        if existing is None or existing["decision"] != data.decision:
            raise Conflict(
                N_("Record #{record} was already reviewed."), code="already_reviewed", record=record_id
            ) from None
    return (await devices.codes_of("device", [row["device"]]))[row["device"]]


def _week(value: str | None) -> tuple[str, datetime.datetime, datetime.datetime]:
    """An ISO week ("2026-W48") and its bounds in UTC; the current week by default."""
    if value:
        try:
            start_day = datetime.datetime.strptime(value + "-1", "%G-W%V-%u").date()
            datetime.datetime.combine(start_day, datetime.time()) + datetime.timedelta(days=7)
        except (ValueError, OverflowError):
            raise BadInput(
                N_("'{week}' is not a week (e.g. 2026-W48)."), code="bad_week", week=value[:20]
            ) from None
    else:
        today = utcnow().date()
        start_day = today - datetime.timedelta(days=today.weekday())
    year, number, _ = start_day.isocalendar()
    start = datetime.datetime.combine(start_day, datetime.time(), tzinfo=datetime.UTC)
    return f"{year}-W{number:02d}", start, start + datetime.timedelta(days=7)


_CHECKS_SQL = """
SELECT q.*, r.device, m.serial, r.operator_name
FROM quality_check q
JOIN erasure_record r ON r.id = q.record
JOIN medium m ON m.id = q.medium"""


async def _check_outs(rows: Sequence[Mapping[str, Any]]) -> list[QualityCheckOut]:
    """Checks with their device's and batch's codes."""
    devices_ = await devices.codes_of("device", [row["device"] for row in rows])
    batches = await devices.codes_of("batch", [row["batch"] for row in rows])
    return [
        _check_out({**row, "device_code": devices_[row["device"]], "batch_code": batches.get(row["batch"])})
        for row in rows
    ]


def _check_out(row: Mapping[str, Any]) -> QualityCheckOut:
    return QualityCheckOut(
        id=row["id"],
        week=row["week"],
        record_id=row["record"],
        medium_id=row["medium"],
        serial=row["serial"],
        device=row["device_code"],
        batch=row["batch_code"],
        operator=row["operator_name"],
        result=row["result"],
        note=row["note"],
        checked_by=row["checker_name"],
        checked_at=row["checked_at"],
    )


async def checks(week: str | None) -> list[QualityCheckOut]:
    """The draw of a week with each check's outcome."""
    name, _, _ = _week(week)
    rows = await fetch(_CHECKS_SQL + " WHERE q.week = {} ORDER BY q.id", name)
    return await _check_outs(rows)


async def draw(week: str | None, principal: Principal) -> list[QualityCheckOut]:
    """Draw the week's sample: the policy's share of its logically erased media, at least one.

    Drawing again later in the week tops the sample up to the share of what
    was erased since; what is drawn stays drawn. The rate is the refurbisher's
    own policy (its quality programme), not a donor's.
    """
    name, start, end = _week(week)
    policy = (
        await ErasurePolicy.select(ErasurePolicy.qc_rate_percent)
        .where(ErasurePolicy.organisation == principal.organisation_id)
        .first()
    )
    rate = policy["qc_rate_percent"] if policy else 5
    async with write_transaction():
        if not is_sqlite():  # one draw per week, whoever asks at the same moment
            await fetch("SELECT pg_advisory_xact_lock(hashtext({}))", "refurb-qc-" + name)
        drawn = {
            row["record"]
            for row in await QualityCheck.select(QualityCheck.record).where(QualityCheck.week == name)
        }
        candidates = await fetch(
            "SELECT r.id, r.medium, r.device FROM erasure_record r "
            "LEFT JOIN erasure_review v ON v.record = r.id "
            "WHERE r.category IN ('clear', 'purge') AND r.result = 'success' "
            "AND r.created_at >= {} AND r.created_at < {} AND (r.review = '' OR v.decision = 'approved') "
            "AND NOT EXISTS (SELECT 1 FROM erasure_record s WHERE s.supersedes = r.id) ORDER BY r.id",
            start,
            end,
        )
        if not candidates:
            return []
        size = max(1, math.ceil(len(candidates) * rate / 100)) - len(drawn)
        remaining = [row for row in candidates if row["id"] not in drawn]
        owners = await devices.device_refs([row["device"] for row in remaining])
        now = utcnow()
        for row in _sample.sample(remaining, max(0, min(size, len(remaining)))):
            await QualityCheck.insert(
                QualityCheck(
                    record=row["id"],
                    medium=row["medium"],
                    batch=owners[row["device"]][0].batch_id,
                    week=name,
                    created_at=now,
                    updated_at=now,
                )
            )
    return await checks(name)


async def _one(check_id: int) -> Mapping[str, Any]:
    rows = await fetch(_CHECKS_SQL + " WHERE q.id = {}", check_id)
    if not rows:
        raise NotFound(N_("No quality check #{check} is known."), check=check_id)
    return rows[0]


async def record_result(check_id: int, data: QualityResultIn, principal: Principal) -> QualityCheckOut:
    """An independent re-verification: never by the operator of the erasure; once."""
    row = await _one(check_id)
    operator = (
        await ErasureRecord.select(ErasureRecord.operator).where(ErasureRecord.id == row["record"]).first()
    )
    if operator and operator["operator"] == principal.user_id:
        raise Forbidden(
            N_("The re-verification must be done by someone other than the operator of the erasure."),
            code="qc_not_independent",
        )
    async with write_transaction():
        updated = (
            await QualityCheck.update(
                {
                    QualityCheck.result: data.result,
                    QualityCheck.note: data.note,
                    QualityCheck.checked_by: principal.user_id,
                    QualityCheck.checker_name: principal.name,
                    QualityCheck.checked_at: utcnow(),
                }
            )
            .where((QualityCheck.id == check_id) & (QualityCheck.result == "pending"))
            .returning(QualityCheck.id)
        )
    if not updated:
        current = await _one(check_id)
        if current["result"] != data.result:
            raise Conflict(
                N_("Quality check #{check} is already recorded as {result}."),
                code="qc_already_recorded",
                check=check_id,
                result=current["result"],
            )
    return (await _check_outs([await _one(check_id)]))[0]


async def resolve(check_id: int, note: str, principal: Principal) -> QualityCheckOut:
    """A failed check settled (media re-wiped or destroyed): the batch is no longer held by it."""
    async with write_transaction():
        updated = (
            await QualityCheck.update({QualityCheck.result: "resolved", QualityCheck.note: note})
            .where((QualityCheck.id == check_id) & (QualityCheck.result == "failed"))
            .returning(QualityCheck.id)
        )
    if not updated:
        current = await _one(check_id)
        if current["result"] != "resolved":
            raise Conflict(N_("Only a failed check can be resolved."), code="qc_not_failed")
    return (await _check_outs([await _one(check_id)]))[0]
