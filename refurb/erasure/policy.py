"""What an erasure must reach to count: NIST categories, the per-kind policy, and verdicts.

Pure: the gate, the station page and certificates all ask the same questions
here, so a medium passes or fails for one reason everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from refurb.core.i18n import N_, Np_

__all__ = (
    "CATEGORIES",
    "DEFAULT_RULES",
    "DESTRUCTION_TECHNIQUES",
    "FIRMWARE_TECHNIQUES",
    "MEDIUM_KINDS",
    "MediumVerdict",
    "Problem",
    "RecordFacts",
    "Rule",
    "categorise",
    "check_rules",
    "is_anonymised",
    "judge_medium",
    "judge_record",
    "rules_from",
)

MEDIUM_KINDS = ("hdd", "ssd", "nvme", "emmc", "usb", "sd", "other", "unknown")
FLASH_KINDS = frozenset({"ssd", "nvme", "emmc", "usb", "sd"})
CATEGORIES = ("none", "clear", "purge", "destroy")
_RANK = {name: rank for rank, name in enumerate(CATEGORIES)}
FIRMWARE_TECHNIQUES = frozenset({"block_erase", "crypto_erase", "firmware_sanitize", "firmware_overwrite"})
DESTRUCTION_TECHNIQUES = frozenset({"shred", "disintegrate", "crush", "drill", "incinerate", "degauss"})
LOGICAL_TECHNIQUES = frozenset({"overwrite"}) | FIRMWARE_TECHNIQUES
FULL_VERIFICATION = frozenset({"all", "last", "firmware_status"})
VERIFICATIONS = ("full", "sample")


@dataclass(frozen=True, slots=True)
class Rule:
    """What one kind of medium needs: a minimum category and how its verification is read."""

    minimum: str  # clear, purge or destroy
    verification: str = "full"  # full read-back (or the drive's sanitize status), or a sample


#: The safe default: flash needs Purge or Destroy (an overwrite of an SSD is only Clear),
#: a hard disk needs at least Clear read back in full.
DEFAULT_RULES: Mapping[str, Rule] = {
    "hdd": Rule("clear"),
    "ssd": Rule("purge"),
    "nvme": Rule("purge"),
    "emmc": Rule("purge"),
    "usb": Rule("purge"),
    "sd": Rule("purge"),
    "other": Rule("purge"),
    "unknown": Rule("purge"),
}
#: No organisation may ask for less than this.
_FLOOR = {kind: rule.minimum for kind, rule in DEFAULT_RULES.items()}


def rules_from(stored: Mapping[str, Any] | None) -> dict[str, Rule]:
    """An organisation's rules over the default; what it does not set stays safe."""
    rules = dict(DEFAULT_RULES)
    for kind, value in (stored or {}).items():
        if kind in rules and isinstance(value, Mapping):
            rules[kind] = Rule(
                str(value.get("minimum", rules[kind].minimum)),
                str(value.get("verification", rules[kind].verification)),
            )
    return rules


def check_rules(stored: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Why a policy cannot be saved: (kind, message id) pairs; empty when it can."""
    problems: list[tuple[str, str]] = []
    for kind, value in stored.items():
        if kind not in DEFAULT_RULES:
            problems.append((kind, N_("unknown medium kind")))
            continue
        if not isinstance(value, Mapping):
            problems.append((kind, N_('expected {"minimum": …, "verification": …}')))
            continue
        minimum = value.get("minimum", DEFAULT_RULES[kind].minimum)
        verification = value.get("verification", DEFAULT_RULES[kind].verification)
        if minimum not in ("clear", "purge", "destroy"):
            problems.append((kind, N_("the minimum is clear, purge or destroy")))
        elif _RANK[minimum] < _RANK[_FLOOR[kind]]:
            problems.append((kind, N_("below the safe floor: flash memory needs purge or destroy")))
        if verification not in VERIFICATIONS:
            problems.append((kind, N_("the verification is full or sample")))
        elif verification == "sample" and kind in FLASH_KINDS:
            problems.append((kind, N_("flash memory needs a full verification")))
    return problems


def categorise(technique: str, result: str) -> str:
    """The NIST SP 800-88 category a technique reaches when it succeeds.

    An overwrite is Clear on any medium (it cannot reach an SSD's spare blocks);
    the drive's own sanitize or crypto erase is Purge; destruction is Destroy.
    """
    if result != "success":
        return "none"
    if technique in DESTRUCTION_TECHNIQUES:
        return "destroy"
    if technique in FIRMWARE_TECHNIQUES:
        return "purge"
    if technique == "overwrite":
        return "clear"
    return "none"


def is_anonymised(serial: str | None) -> bool:
    """Nwipe -q prints XXXXXXXX or ????????; redacted exports repeat one character."""
    text = (serial or "").strip()
    if not text:
        return False
    if set(text) <= set("X?*#x-"):
        return True
    return len(text) >= 4 and len(set(text)) == 1


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a record or a medium does not pass; `code` is stable, `message` a translation id."""

    code: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)


#: Why a record waits for a supervisor before it counts.
_REVIEW_REASONS = {
    "warnings": N_(
        "waiting for a supervisor: the tool reported warnings (retries, hidden areas, exceptions)"
    ),
    "serial_mismatch": N_("waiting for a supervisor: the serial is not one declared for this device"),
    "manual": N_("waiting for a supervisor: recorded by hand, without a tool's report"),
}


@dataclass(frozen=True, slots=True)
class RecordFacts:
    """The parts of an erasure record a verdict looks at."""

    id: int
    category: str
    technique: str
    result: str
    verification: str
    verification_result: str
    bytes_erased: int | None
    bytes_total: int | None
    errors: Mapping[str, int]
    hpa_dco: str
    serial_seen: str | None
    review: str  # why it waits for a supervisor ("" = it does not)
    review_decision: str | None  # approved, rejected, None
    destroyed: bool = False


def judge_record(kind: str, record: RecordFacts, rules: Mapping[str, Rule]) -> list[Problem]:
    """Every reason this record does not make the medium pass; empty when it does."""
    rule = rules.get(kind, DEFAULT_RULES["unknown"])
    problems: list[Problem] = []
    if record.review_decision == "rejected":
        return [Problem("review_rejected", N_("a supervisor rejected this record"))]
    if record.result != "success":
        problems.append(
            Problem("result_not_success", N_("the run did not succeed ({result})"), {"result": record.result})
        )
        return problems
    if record.review and record.review_decision != "approved":
        problems.append(
            Problem("review_pending", _REVIEW_REASONS.get(record.review, _REVIEW_REASONS["warnings"]))
        )
    if record.category == "destroy":
        return problems
    if not record.serial_seen:
        problems.append(Problem("serial_missing", N_("the report gives no serial for this medium")))
    elif is_anonymised(record.serial_seen):
        problems.append(Problem("serial_anonymised", N_("the report's serial is anonymised")))
    if record.bytes_total and (record.bytes_erased or 0) < record.bytes_total:
        problems.append(
            Problem(
                "bytes_short",
                N_("only {erased} of {total} bytes were erased"),
                {"erased": record.bytes_erased or 0, "total": record.bytes_total},
            )
        )
    errors = sum(int(v) for k, v in record.errors.items() if k != "retries")
    if errors:
        problems.append(
            Problem(
                "errors_reported",
                Np_("the tool reported {count} error", "the tool reported {count} errors"),
                {"count": errors},
            )
        )
    if record.hpa_dco == "present":
        problems.append(Problem("hidden_area", N_("a hidden area (HPA/DCO) was found and not erased")))
    if record.verification_result == "failed":
        problems.append(Problem("verification_failed", N_("the verification failed")))
    elif record.verification in ("none", "unknown", "") or record.verification_result != "passed":
        problems.append(Problem("verification_missing", N_("the erasure was not verified")))
    elif rule.verification == "full" and record.verification not in FULL_VERIFICATION:
        problems.append(
            Problem(
                "verification_sampled",
                N_("the verification read a sample; the policy asks for a full read-back"),
            )
        )
    if _RANK.get(record.category, 0) < _RANK[rule.minimum]:
        problems.append(_too_low(kind, record.category, rule.minimum))
    return problems


def _too_low(kind: str, category: str, minimum: str) -> Problem:
    """Why a category is not enough, said so that the person knows what to do next."""
    if category == "clear" and kind in FLASH_KINDS:
        return Problem(
            "ssd_needs_purge",
            N_(
                "flash memory ({kind}): an overwrite is only Clear and cannot reach its spare blocks — "
                "purge it (the drive's sanitize or crypto erase) or destroy it"
            ),
            {"kind": kind},
        )
    if category == "clear" and kind == "unknown":
        return Problem(
            "type_uncertain",
            N_(
                "type uncertain (hard disk or SSD?): an overwrite passes only on a hard disk — "
                "confirm that the drive spins, or purge or destroy it"
            ),
        )
    return Problem(
        "category_too_low",
        N_("{category} is not enough for a {kind}: the policy asks for {minimum}"),
        {"category": category, "kind": kind, "minimum": minimum},
    )


@dataclass(frozen=True, slots=True)
class MediumVerdict:
    """Whether a medium is done with, by which record, and otherwise why not."""

    passes: bool
    record_id: int | None
    category: str
    problems: tuple[Problem, ...]


def judge_medium(kind: str, records: Sequence[RecordFacts], rules: Mapping[str, Rule]) -> MediumVerdict:
    """The best of a medium's current records decides: one passing record is enough."""
    if not records:
        return MediumVerdict(False, None, "none", (Problem("no_record", N_("no erasure record yet")),))
    judged = [(record, judge_record(kind, record, rules)) for record in records]
    for record, problems in sorted(judged, key=lambda pair: -pair[0].id):
        if not problems:
            return MediumVerdict(True, record.id, record.category, ())
    latest, problems = max(judged, key=lambda pair: pair[0].id)
    return MediumVerdict(False, latest.id, latest.category, tuple(problems))
