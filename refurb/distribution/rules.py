"""A programme's allocation rules (issue 17, point 5): what to propose to a household, and in which order.

Pure: no database, no web. The commission page, the agenda, the API and the
benchmark all ask the same two questions here — `propose` (which equipment, with
a reason for each line) and `priority` (a score with the reasons that make it) —
so a household gets the same answer everywhere for one rule set.

A rule set is data a coordinator edits (`RuleSet.from_json` validates it,
`RuleSet.revise` makes the next version); every `Proposal` and `Priority` records
the version it was made with, so a decision keeps its version when the rules change.

Reasons are message ids with parameters (marked with `N_`/`Np_`), never
pre-formatted text: a page renders them in the reader's language with `render`.

Choices made where the issue is silent, so that a commission can explain them:

* Ages come from birth years only (the census never keeps a birth date): a child's
  age is the age reached during the reference year (`reference_date.year - birth year`).
* Only children of school age (`school_age_min`–`school_age_max`, 3–17 by default)
  call for a computer and count for priority; a toddler needs no computer of their
  own, and a programme that wants the issue's literal "0–9" sets `school_age_min` to 0.
* Each school child calls for one computer: a desktop under `laptop_from_age` (9),
  a laptop from that age on, a tablet instead of either when the programme gives
  tablets. At most `max_computers` (1) per household; a commission exception lifts
  the cap for that household, with its reason written on the line.
* When the cap leaves children to share, the eldest children are served first and
  the others share the last computer. With one computer for children on both sides
  of the age threshold, the eldest's need wins: a laptop. The older child needs to
  carry it (school, library, the digital workspace away from home) and a laptop does
  everything a desktop does for the younger ones, while a desktop would not meet the
  older child's need; the younger children also grow into it.
* A household with no school child gets a computer only if it asked for one: the
  kind it asked for, a laptop if it asked for both, or for a tablet from a programme
  of computers (a note says so); a tablet from a programme of tablets.
* A computer at home does not remove the proposal (the commission knows whether it
  works); it removes the "no computer" priority points.
* A printer when asked for and none at home; a connection (the programme's kind:
  4G key or box) whenever there is no internet at home, asked for or not.
* Requests the rules do not grant, and what the household cannot do (pay a rent,
  install, use), come back as `notes` for the commission rather than silently dropped.
* A computer or tablet is given only with an OS suitable for the use (a browser able
  to open the school digital workspace, ENT): one the workshop recorded and, when the
  rule set names `suitable_os`, one that begins with one of those names as whole words
  ("Linux Mint" covers "Linux Mint 21.3", not "Linux Mintest"), ignoring case. A device
  with no OS recorded is not suitable yet (`RuleSet.os_suitable`).

Order: higher score first; on a tie the household waiting longer (earlier
`waiting_since`; an unknown date counts as waiting least); then the F code, so
that two agendas printed from the same data list households in the same order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache
from itertools import groupby
from operator import itemgetter
from types import MappingProxyType
from typing import Any

from refurb.core.choices import parse_choice
from refurb.core.errors import BadInput
from refurb.core.i18n import N_, Np_, Plural, fill
from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import clean_reason

__all__ = (
    "DEFAULT_RULES",
    "MAX_CHILD_AGE",
    "WEIGHT_FIELDS",
    "CommissionException",
    "ConnectionKind",
    "HouseholdNeeds",
    "Line",
    "Priority",
    "PriorityReason",
    "Proposal",
    "Ranked",
    "Reason",
    "Request",
    "RuleSet",
    "Weights",
    "order",
    "priority",
    "priority_key",
    "propose",
)

#: A "child" older than this is a typo (a parent's birth year), not a child at home.
MAX_CHILD_AGE = 30
#: The most computers a commission exception may give one household.
MAX_EXCEPTION_COMPUTERS = 10
#: Bounds that keep a rule set sane (and storable); weights are whole points.
_MAX_WEIGHT = 1000
_MAX_AGE = 25


class Request(StrEnum):
    """What a household asks for on the needs form."""

    DESKTOP = "desktop"
    LAPTOP = "laptop"
    TABLET = "tablet"
    PRINTER = "printer"
    CONNECTION = "connection"


class ConnectionKind(StrEnum):
    """The connection a programme gives a household without internet."""

    KEY_4G = "4g_key"
    BOX = "box"

    @property
    def label(self) -> str:
        """English name, a translation id."""
        return _CONNECTION_LABELS[self]


_CONNECTION_LABELS = {ConnectionKind.KEY_4G: N_("4G key"), ConnectionKind.BOX: N_("connection box")}
_COMPUTER_REQUESTS = {
    Request.DESKTOP: DeviceKind.DESKTOP,
    Request.LAPTOP: DeviceKind.LAPTOP,
    Request.TABLET: DeviceKind.TABLET,
}


_NO_PARAMS: Mapping[str, Any] = MappingProxyType({})

# --- reasons -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a line (or a note) is there: a stable `code`, a message id and its parameters."""

    code: str
    message: str
    params: Mapping[str, Any] = field(default_factory=lambda: _NO_PARAMS)  # most have none: share one

    def render(self, translate: Callable[[str], str] | None = None) -> str:
        """The reason in words, translated when a `translate` function (the web layer's gettext) is given."""
        return fill(self.message, self.params, translate)

    def to_json(self) -> dict[str, Any]:
        """The reason as stored with a proposal or a decision; `from_json` reads it back."""
        return _message_json(self.code, self.message, self.params)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reason:
        """A stored reason, able to render again (plural forms and kind names included)."""
        return cls(data["code"], *_message_from(data))


def _message_json(code: str, message: str, params: Mapping[str, Any]) -> dict[str, Any]:
    stored: dict[str, Any] = {"code": code, "message": str(message)}
    if isinstance(message, Plural):
        stored["plural"], stored["key"] = message.plural, message.key
    stored["params"] = {
        key: value.value if isinstance(value, StrEnum) else value for key, value in params.items()
    }
    return stored


def _message_from(data: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The message id and params of a stored reason; a `kind` param is a device kind (its name translates)."""
    message = data["message"]
    if "plural" in data:
        message = Plural(message, data["plural"], data["key"])
    params = dict(data.get("params", {}))
    if "kind" in params:
        params["kind"] = DeviceKind(params["kind"])
    return message, params


_A_CHILD = Np_("a child aged {age}", "a child aged {age}", key="age")
_SAME_AGE = Np_("{count} children aged {age}", "{count} children aged {age}", key="age")
_TWO_AGES = Np_(
    "{count} children aged {youngest} and {oldest}",
    "{count} children aged {youngest} and {oldest}",
    key="oldest",
)
_AGE_SPAN = Np_(
    "{count} children aged {youngest} to {oldest}",
    "{count} children aged {youngest} to {oldest}",
    key="oldest",
)


def _children(ages: list[int]) -> Reason:
    """Who a line serves, by youngest and eldest age: never a list (lists join differently by language)."""
    youngest, oldest = ages[-1], ages[0]  # ages come eldest first
    if len(ages) == 1:
        return Reason("children", _A_CHILD, {"age": oldest})
    if youngest == oldest:
        return Reason("children", _SAME_AGE, {"count": len(ages), "age": oldest})
    message = _TWO_AGES if len(ages) == 2 else _AGE_SPAN
    return Reason("children", message, {"count": len(ages), "youngest": youngest, "oldest": oldest})


_CAP = Np_(
    "at most {max} computer or tablet per household",
    "at most {max} computers or tablets per household",
    key="max",
)
_BOTH_SIDES = Np_(
    "children on both sides of {age}: the eldest's laptop also serves the younger ones",
    "children on both sides of {age}: the eldest's laptop also serves the younger ones",
    key="age",
)
_EXCEPTION = N_("exception recorded by the commission: {reason}")
_TABLETS = N_("the programme gives tablets instead of computers")
_NO_SCHOOL_CHILD = N_("asked for by the household, which has no child of school age")
_PRINTER = N_("printer asked for, none at home")
_NO_INTERNET = N_("no internet at home")

_PRINTER_AT_HOME = N_("printer asked for: there is one at home already")
_NO_PRINTERS = N_("printer asked for: the programme gives no printers")
_INTERNET_AT_HOME = N_("connection asked for: there is internet at home already")
_NO_CONNECTIONS = N_("no internet at home: the programme gives no connection")
_KIND_BY_AGE = N_("asked for: {kind}; the children's ages decide the kind of computer")
_KIND_TABLETS = N_("asked for: {kind}; the programme gives tablets instead of computers")
_KIND_NO_TABLETS = N_("asked for: {kind}; the programme gives computers, not tablets")
_NO_RENT = N_("cannot pay a rent: donation or loan rather than rental")
_NO_INSTALL = N_("cannot install the equipment alone: plan the installation at handover")
_NO_USE = N_("cannot use the equipment yet: offer the training session")

_NO_COMPUTER = N_("no computer at home")
_SCHOOL_CHILDREN = Np_("{count} child of school age", "{count} children of school age")
_SOCIAL_HOTEL = N_("hosted in a social hotel")
_WAITING = Np_("waiting for {count} month", "waiting for {count} months")
_WAITING_CAPPED = Np_(
    "waiting for {count} month, counted up to {max}", "waiting for {count} months, counted up to {max}"
)

_QUANTITIES: dict[DeviceKind | ConnectionKind, Plural] = {
    DeviceKind.DESKTOP: Np_("{count} desktop computer", "{count} desktop computers"),
    DeviceKind.LAPTOP: Np_("{count} laptop", "{count} laptops"),
    DeviceKind.TABLET: Np_("{count} tablet", "{count} tablets"),
    DeviceKind.PRINTER: Np_("{count} printer", "{count} printers"),
    ConnectionKind.KEY_4G: Np_("{count} 4G key", "{count} 4G keys"),
    ConnectionKind.BOX: Np_("{count} connection box", "{count} connection boxes"),
}


#: The reasons without parameters, made once (5,000 households are proposed at a time).
_FIXED = {
    reason.code: reason
    for reason in (
        Reason("printer_at_home", _PRINTER_AT_HOME),
        Reason("no_printers", _NO_PRINTERS),
        Reason("printer_requested", _PRINTER),
        Reason("no_connections", _NO_CONNECTIONS),
        Reason("no_internet", _NO_INTERNET),
        Reason("internet_at_home", _INTERNET_AT_HOME),
        Reason("cannot_pay_rent", _NO_RENT),
        Reason("cannot_install", _NO_INSTALL),
        Reason("cannot_use", _NO_USE),
        Reason("no_school_child", _NO_SCHOOL_CHILD),
        Reason("tablets", _TABLETS),
    )
}


# --- the rule set ------------------------------------------------------------------------------------

_BAD_RULES = "bad_rule_set"
_NOT_AN_OBJECT = N_("A rule set is a JSON object of named fields.")
_NOT_OBJECT_FIELD = N_("{field} must be an object of named fields.")
_UNKNOWN_FIELD = N_("Unknown field {field}; the known fields are: {known}.")
_NOT_WHOLE = N_("{field} must be a whole number.")
_OUT_OF_RANGE = N_("{field} must be between {low} and {high}.")
_NOT_BOOL = N_("{field} must be true or false.")
_NOT_ONE_OF = N_("{field} must be one of: {known}.")
_BELOW = N_("{field} must not be below {other}.")
_VERSION_IN_EDITS = N_("The version is set by Refurb: leave it out of the edits.")
_NOT_NAMES = N_("{field} must be a list of at most {max} names, each of 1 to {length} characters.")
#: Bounds of `suitable_os`: a device's OS is at most 100 characters (the device table's column).
_MAX_OS_NAMES = 20
_MAX_OS_LENGTH = 100


@dataclass(frozen=True, slots=True)
class Weights:
    """Points of priority, whole numbers a programme sets to its own policy."""

    no_computer: int = 30
    per_school_child: int = 10
    social_hotel: int = 20
    no_internet: int = 10
    per_month_waiting: int = 1
    max_waiting_months: int = 24  # waiting counts up to this, so it cannot outweigh every need


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A programme's allocation rules, one version of them; build it with `from_json` from edited data."""

    version: int = 1
    laptop_from_age: int = 9  # under it a desktop, from it on a laptop
    school_age_min: int = 3
    school_age_max: int = 17
    tablets: bool = False  # the programme gives tablets instead of computers
    printers: bool = True
    connection: ConnectionKind | None = ConnectionKind.KEY_4G  # None: the programme gives no connection
    max_computers: int = 1
    weights: Weights = field(default_factory=Weights)
    suitable_os: tuple[str, ...] = ()  # OS names a computer must run; empty: any OS recorded

    def os_suitable(self, os: str | None) -> bool:
        """Whether a device with this recorded OS may be given (no OS recorded: not yet)."""
        recorded = " ".join((os or "").split()).casefold()
        if not recorded:
            return False
        return not self.suitable_os or any(
            recorded == name or recorded.startswith(name + " ") for name in self._suitable_folded
        )

    @property
    def _suitable_folded(self) -> tuple[str, ...]:
        return tuple(name.casefold() for name in self.suitable_os)

    @classmethod
    def from_json(cls, data: object) -> RuleSet:
        """Validate edited data; a field left out takes its default. BadInput names the first wrong field."""
        if not isinstance(data, Mapping):
            raise BadInput(_NOT_AN_OBJECT, code=_BAD_RULES)
        _known(data, _RULE_FIELDS, "")
        weights = data.get("weights", {})
        if not isinstance(weights, Mapping):
            raise BadInput(_NOT_OBJECT_FIELD, code=_BAD_RULES, extra={"field": "weights"}, field="weights")
        _known(weights, WEIGHT_FIELDS, "weights.")
        default = DEFAULT_RULES
        school_min = _whole(data.get("school_age_min", default.school_age_min), "school_age_min", 0, _MAX_AGE)
        school_max = _whole(data.get("school_age_max", default.school_age_max), "school_age_max", 0, _MAX_AGE)
        if school_max < school_min:
            raise BadInput(
                _BELOW,
                code=_BAD_RULES,
                extra={"field": "school_age_max"},
                field="school_age_max",
                other="school_age_min",
            )
        connection = data.get("connection", default.connection)
        if connection is not None:
            try:
                connection = ConnectionKind(connection)
            except ValueError:
                known = ", ".join([*ConnectionKind, "null"])
                raise BadInput(
                    _NOT_ONE_OF,
                    code=_BAD_RULES,
                    extra={"field": "connection"},
                    field="connection",
                    known=known,
                ) from None
        return cls(
            version=_whole(data.get("version", default.version), "version", 1, 2**31 - 1),
            laptop_from_age=_whole(
                data.get("laptop_from_age", default.laptop_from_age), "laptop_from_age", 1, _MAX_AGE
            ),
            school_age_min=school_min,
            school_age_max=school_max,
            tablets=_flag(data, "tablets", default.tablets),
            printers=_flag(data, "printers", default.printers),
            connection=connection,
            max_computers=_whole(
                data.get("max_computers", default.max_computers), "max_computers", 1, MAX_EXCEPTION_COMPUTERS
            ),
            suitable_os=_names(data.get("suitable_os", list(default.suitable_os)), "suitable_os"),
            weights=Weights(
                **{
                    name: _whole(
                        weights.get(name, getattr(default.weights, name)), f"weights.{name}", 0, _MAX_WEIGHT
                    )
                    for name in WEIGHT_FIELDS
                }
            ),
        )

    def to_json(self) -> dict[str, Any]:
        """Every field, as `from_json` reads it back (the stored form of a version)."""
        return {
            "version": self.version,
            "laptop_from_age": self.laptop_from_age,
            "school_age_min": self.school_age_min,
            "school_age_max": self.school_age_max,
            "tablets": self.tablets,
            "printers": self.printers,
            "connection": None if self.connection is None else self.connection.value,
            "max_computers": self.max_computers,
            "weights": {name: getattr(self.weights, name) for name in WEIGHT_FIELDS},
            "suitable_os": list(self.suitable_os),
        }

    def revise(self, edits: Mapping[str, Any]) -> RuleSet:
        """The next version with `edits` applied (weights merged by name); this version stays as it was."""
        if not isinstance(edits, Mapping):
            raise BadInput(_NOT_AN_OBJECT, code=_BAD_RULES)
        if "version" in edits:
            raise BadInput(_VERSION_IN_EDITS, code=_BAD_RULES, extra={"field": "version"})
        data = self.to_json()
        for key, value in edits.items():
            if key == "weights" and isinstance(value, Mapping):
                data["weights"] = {**data["weights"], **value}
            else:
                data[key] = value
        data["version"] = self.version + 1
        return RuleSet.from_json(data)


_RULE_FIELDS = (
    "version",
    "laptop_from_age",
    "school_age_min",
    "school_age_max",
    "tablets",
    "printers",
    "connection",
    "max_computers",
    "weights",
    "suitable_os",
)
WEIGHT_FIELDS = (
    "no_computer",
    "per_school_child",
    "social_hotel",
    "no_internet",
    "per_month_waiting",
    "max_waiting_months",
)

#: The rules of the issue: under 9 a desktop, from 9 a laptop, one computer per household.
DEFAULT_RULES = RuleSet()


def _known(data: Mapping[Any, Any], fields: tuple[str, ...], prefix: str) -> None:
    for key in data:
        if key not in fields:
            raise BadInput(
                _UNKNOWN_FIELD,
                code=_BAD_RULES,
                extra={"field": f"{prefix}{key}"},
                field=f"{prefix}{str(key)[:40]}",
                known=", ".join(fields),
            )


def _names(value: object, path: str) -> tuple[str, ...]:
    """`value` as a tuple of names (spaces tidied, repeats dropped) if it is a short list of short texts."""
    refused = BadInput(
        _NOT_NAMES,
        code=_BAD_RULES,
        extra={"field": path},
        field=path,
        max=_MAX_OS_NAMES,
        length=_MAX_OS_LENGTH,
    )
    if not isinstance(value, list | tuple) or len(value) > _MAX_OS_NAMES:
        raise refused
    names: list[str] = []
    for item in value:
        name = " ".join(item.split()) if isinstance(item, str) else ""
        if not 1 <= len(name) <= _MAX_OS_LENGTH:
            raise refused
        if name.casefold() not in (n.casefold() for n in names):
            names.append(name)
    return tuple(names)


def _whole(value: object, path: str, low: int, high: int, code: str = _BAD_RULES) -> int:
    """`value` if it is a whole number from `low` to `high`; BadInput naming `path` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(_NOT_WHOLE, code=code, extra={"field": path}, field=path)
    if not low <= value <= high:
        raise BadInput(_OUT_OF_RANGE, code=code, extra={"field": path}, field=path, low=low, high=high)
    return value


def _flag(data: Mapping[str, Any], name: str, default: bool) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise BadInput(_NOT_BOOL, code=_BAD_RULES, extra={"field": name}, field=name)
    return value


# --- a household's needs -----------------------------------------------------------------------------

_BAD_NEEDS = "bad_household_needs"
_UNKNOWN_REQUEST = N_("Unknown request {request}; the requests are: {known}.")
_BORN_LATER = N_("A child's birth year ({year}) is after the reference date.")
_TOO_OLD = N_("A child's birth year ({year}) makes them older than {max}; is it a parent's?")
_AFTER_REFERENCE = N_("{field} is after the reference date.")
_NEEDS_REASON = N_("The commission's exception needs a reason.")


@dataclass(frozen=True, slots=True)
class HouseholdNeeds:
    """The needs form of one household, as the rules read it (pseudonymous: an F code, birth years)."""

    code: str  # the household's F code, the last tie-breaker
    reference_date: date  # ages and months of waiting are counted at this date (the commission's)
    adults: int = 1
    children_birth_years: tuple[int, ...] = ()
    computers_at_home: int = 0
    printer_at_home: bool = False
    internet_at_home: bool = False
    requests: frozenset[Request] = frozenset()
    social_hotel: bool = False
    waiting_since: date | None = None
    can_pay_rent: bool | None = None  # None: not asked
    can_install: bool | None = None
    can_use: bool | None = None

    def __post_init__(self) -> None:
        """Refuse a form the rules cannot read; requests given as text become `Request`s.

        The usual form passes on a few plain comparisons (an agenda reads 5,000 at a
        time); anything else goes through the full checks that say what is wrong.
        """
        if type(self.children_birth_years) is not tuple:
            object.__setattr__(self, "children_birth_years", tuple(self.children_birth_years))
        if not (type(self.adults) is int and 0 <= self.adults <= 20):
            _whole(self.adults, "adults", 0, 20, _BAD_NEEDS)
        if not (type(self.computers_at_home) is int and 0 <= self.computers_at_home <= 50):
            _whole(self.computers_at_home, "computers_at_home", 0, 50, _BAD_NEEDS)
        year = self.reference_date.year
        for birth in self.children_birth_years:
            if type(birth) is int and 0 <= year - birth <= MAX_CHILD_AGE:
                continue
            _whole(birth, "children_birth_years", 0, 9999, _BAD_NEEDS)
            if birth > year:
                raise BadInput(
                    _BORN_LATER, code=_BAD_NEEDS, extra={"field": "children_birth_years"}, year=birth
                )
            if year - birth > MAX_CHILD_AGE:
                raise BadInput(
                    _TOO_OLD,
                    code=_BAD_NEEDS,
                    extra={"field": "children_birth_years"},
                    year=birth,
                    max=MAX_CHILD_AGE,
                )
        if self.waiting_since is not None and self.waiting_since > self.reference_date:
            raise BadInput(
                _AFTER_REFERENCE, code=_BAD_NEEDS, extra={"field": "waiting_since"}, field="waiting_since"
            )
        if type(self.requests) is not frozenset or not all(type(r) is Request for r in self.requests):
            requests = frozenset(
                parse_choice(Request, r, _UNKNOWN_REQUEST, code=_BAD_NEEDS, field="request")
                for r in self.requests
            )
            object.__setattr__(self, "requests", requests)

    def school_ages(self, rules: RuleSet) -> list[int]:
        """The ages of the children of school age, eldest first."""
        year = self.reference_date.year
        youngest, eldest = year - rules.school_age_min, year - rules.school_age_max  # birth years
        ages = [year - birth for birth in self.children_birth_years if eldest <= birth <= youngest]
        ages.sort(reverse=True)
        return ages


@dataclass(frozen=True, slots=True)
class CommissionException:
    """The commission's recorded decision that this household may have more than the programme's cap."""

    computers: int
    reason: str

    def __post_init__(self) -> None:
        """Refuse an exception without a reason, or for an unreasonable number of computers."""
        _whole(self.computers, "computers", 1, MAX_EXCEPTION_COMPUTERS, "bad_exception")
        reason = clean_reason({"reason": self.reason})
        if reason is None:
            raise BadInput(_NEEDS_REASON, code="reason_required", extra={"field": "reason"})
        object.__setattr__(self, "reason", reason)


# --- the proposal ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Line:
    """One line of equipment: a kind (what stock is matched on), how many, and why."""

    kind: DeviceKind
    quantity: int
    reasons: tuple[Reason, ...]
    connection: ConnectionKind | None = None  # which connection, for a `connectivity` line

    @property
    def label(self) -> Plural:
        """The quantity and kind ('1 laptop') as a counted message id for gettext."""
        return _QUANTITIES[self.connection or self.kind].counted(self.quantity)

    def render(self, translate: Callable[[str], str] | None = None) -> str:
        """The quantity and kind in words."""
        return fill(_QUANTITIES[self.connection or self.kind], {"count": self.quantity}, translate)

    def to_json(self) -> dict[str, Any]:
        """The line as a decision stores it."""
        return {
            "kind": self.kind.value,
            "quantity": self.quantity,
            "connection": None if self.connection is None else self.connection.value,
            "reasons": [reason.to_json() for reason in self.reasons],
        }


@dataclass(frozen=True, slots=True)
class Proposal:
    """What the rules propose for one household, made with one rule-set version."""

    household: str
    rule_set_version: int
    lines: tuple[Line, ...]
    notes: tuple[Reason, ...] = ()  # requests not granted, abilities the commission should know about

    def to_json(self) -> dict[str, Any]:
        """The proposal as the commission's decision keeps it."""
        return {
            "household": self.household,
            "rule_set_version": self.rule_set_version,
            "lines": [line.to_json() for line in self.lines],
            "notes": [note.to_json() for note in self.notes],
        }


_PRINTER_LINE = Line(DeviceKind.PRINTER, 1, (_FIXED["printer_requested"],))
_CONNECTION_LINES = {
    kind: Line(DeviceKind.CONNECTIVITY, 1, (_FIXED["no_internet"],), kind) for kind in ConnectionKind
}


def propose(needs: HouseholdNeeds, rules: RuleSet, exception: CommissionException | None = None) -> Proposal:
    """The equipment the rules give `needs`, each line with its reasons; `exception` lifts the cap."""
    lines: list[Line] = []
    notes: list[Reason] = []
    computers = _computers(needs, rules, exception, notes)
    lines.extend(computers)
    requests = needs.requests
    if Request.PRINTER in requests:
        if needs.printer_at_home:
            notes.append(_FIXED["printer_at_home"])
        elif not rules.printers:
            notes.append(_FIXED["no_printers"])
        else:
            lines.append(_PRINTER_LINE)
    if not needs.internet_at_home:
        if rules.connection is None:
            notes.append(_FIXED["no_connections"])
        else:
            lines.append(_CONNECTION_LINES[rules.connection])
    elif Request.CONNECTION in requests:
        notes.append(_FIXED["internet_at_home"])
    if needs.can_pay_rent is False:
        notes.append(_FIXED["cannot_pay_rent"])
    if needs.can_install is False:
        notes.append(_FIXED["cannot_install"])
    if needs.can_use is False:
        notes.append(_FIXED["cannot_use"])
    return Proposal(needs.code, rules.version, tuple(lines), tuple(notes))


def _computers(
    needs: HouseholdNeeds, rules: RuleSet, exception: CommissionException | None, notes: list[Reason]
) -> list[Line]:
    """The computer (or tablet) lines: one per school child, eldest first, up to the cap."""
    ages = needs.school_ages(rules)
    requests = needs.requests
    asked = [kind for request, kind in _COMPUTER_REQUESTS.items() if request in requests] if requests else []
    if not ages:
        if not asked:
            return []
        if rules.tablets:
            kind = DeviceKind.TABLET
        elif DeviceKind.LAPTOP in asked or DeviceKind.TABLET in asked:
            kind = DeviceKind.LAPTOP
        else:
            kind = DeviceKind.DESKTOP
        reasons = [_FIXED["no_school_child"]]
        if rules.tablets:
            reasons.append(_FIXED["tablets"])
        # Without a school child the household's own choice of computer stands; only tablets differ.
        _asked_other_kinds(
            asked, {kind} if rules.tablets else {DeviceKind.DESKTOP, DeviceKind.LAPTOP}, rules, notes
        )
        return [Line(kind, 1, tuple(reasons))]

    cap = rules.max_computers
    lifted = exception if exception is not None and exception.computers > cap and len(ages) > cap else None
    if lifted is not None:
        cap = lifted.computers
    served = min(cap, len(ages))
    # Eldest first: consecutive children of one kind make a line; those beyond the cap share the last one.
    kinds = [DeviceKind.TABLET if rules.tablets else _by_age(age, rules) for age in ages[:served]]
    groups = [
        (kind, [age for _, age in pairs])
        for kind, pairs in groupby(zip(kinds, ages[:served], strict=True), key=itemgetter(0))
    ]
    lines = []
    for position, (kind, group) in enumerate(groups, start=1):
        children = group + ages[served:] if position == len(groups) else group
        reasons = [_children(children)]
        if rules.tablets:
            reasons.append(_FIXED["tablets"])
        elif kind is DeviceKind.LAPTOP and children[-1] < rules.laptop_from_age:
            reasons.append(Reason("eldest_decides", _BOTH_SIDES, {"age": rules.laptop_from_age}))
        if len(children) > len(group):
            reasons.append(Reason("computer_cap", _CAP, {"max": cap}))
        if lifted is not None:
            reasons.append(Reason("exception", _EXCEPTION, {"reason": lifted.reason}))
        lines.append(Line(kind, len(group), tuple(reasons)))
    _asked_other_kinds(asked, set(kinds), rules, notes)
    return lines


def _by_age(age: int, rules: RuleSet) -> DeviceKind:
    return DeviceKind.LAPTOP if age >= rules.laptop_from_age else DeviceKind.DESKTOP


def _asked_other_kinds(
    asked: list[DeviceKind], given: set[DeviceKind], rules: RuleSet, notes: list[Reason]
) -> None:
    """A note for each computer kind asked for that the lines do not give, saying which rule decided."""
    for kind in asked:
        if kind in given:
            continue
        if rules.tablets:
            message = _KIND_TABLETS
        elif kind is DeviceKind.TABLET:
            message = _KIND_NO_TABLETS
        else:
            message = _KIND_BY_AGE
        notes.append(Reason("kind_not_given", message, {"kind": kind}))


# --- priority ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PriorityReason:
    """One part of a priority score: why, and how many points it gives."""

    code: str
    message: str
    params: Mapping[str, Any]
    points: int

    def render(self, translate: Callable[[str], str] | None = None) -> str:
        """The reason in words (without its points, which a page shows in a column)."""
        return fill(self.message, self.params, translate)

    def to_json(self) -> dict[str, Any]:
        """The reason as stored beside a decision; `from_json` reads it back."""
        return {**_message_json(self.code, self.message, self.params), "points": self.points}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PriorityReason:
        """A stored priority reason, able to render again."""
        return cls(data["code"], *_message_from(data), data["points"])


@dataclass(frozen=True, slots=True)
class Priority:
    """A household's priority: the score is the sum of the reasons' points."""

    household: str
    rule_set_version: int
    score: int
    reasons: tuple[PriorityReason, ...]

    def to_json(self) -> dict[str, Any]:
        """The priority as the agenda and a decision keep it."""
        return {
            "household": self.household,
            "rule_set_version": self.rule_set_version,
            "score": self.score,
            "reasons": [reason.to_json() for reason in self.reasons],
        }


_PRIORITY_MESSAGES: dict[str, str] = {
    "no_computer": _NO_COMPUTER,
    "school_children": _SCHOOL_CHILDREN,
    "social_hotel": _SOCIAL_HOTEL,
    "no_internet": _NO_INTERNET,
    "waiting": _WAITING,
}


@lru_cache(maxsize=4096)
def _reason(code: str, points: int, count: int | None = None, cap: int | None = None) -> PriorityReason:
    """One priority reason, made once per value: the 5,000 households of an agenda share a few dozen."""
    if cap is not None:
        return PriorityReason(code, _WAITING_CAPPED, {"count": count, "max": cap}, points)
    return PriorityReason(
        code, _PRIORITY_MESSAGES[code], _NO_PARAMS if count is None else {"count": count}, points
    )


def priority(needs: HouseholdNeeds, rules: RuleSet) -> Priority:
    """The score of `needs` under the programme's weights, every point explained; a 0 weight says nothing."""
    weights = rules.weights
    reasons: list[PriorityReason] = []
    if needs.computers_at_home == 0 and weights.no_computer:
        reasons.append(_reason("no_computer", weights.no_computer))
    children = len(needs.school_ages(rules))
    if children and weights.per_school_child:
        reasons.append(_reason("school_children", children * weights.per_school_child, children))
    if needs.social_hotel and weights.social_hotel:
        reasons.append(_reason("social_hotel", weights.social_hotel))
    if not needs.internet_at_home and weights.no_internet:
        reasons.append(_reason("no_internet", weights.no_internet))
    if needs.waiting_since is not None and weights.per_month_waiting:
        months = _months(needs.waiting_since, needs.reference_date)
        counted = min(months, weights.max_waiting_months)
        if counted:
            cap = weights.max_waiting_months if months > counted else None
            reasons.append(_reason("waiting", counted * weights.per_month_waiting, months, cap))
    return Priority(needs.code, rules.version, sum(r.points for r in reasons), tuple(reasons))


def _months(since: date, until: date) -> int:
    """Whole months from `since` to `until` (15 January to 14 March is 1 month, to 15 March 2)."""
    return (until.year - since.year) * 12 + until.month - since.month - (until.day < since.day)


@dataclass(frozen=True, slots=True)
class Ranked:
    """A household's place on the agenda (1 is first)."""

    position: int
    needs: HouseholdNeeds
    priority: Priority


def priority_key(needs: HouseholdNeeds, score: int) -> tuple[int, date, str]:
    """Sort key of the agenda: higher score, then waiting longer (unknown date last), then F code."""
    return (-score, needs.waiting_since or date.max, needs.code)


def order(households: Iterable[HouseholdNeeds], rules: RuleSet) -> list[Ranked]:
    """The households by priority under `rules`, ties broken by `priority_key`: a total, repeatable order."""
    scored = [(needs, priority(needs, rules)) for needs in households]
    scored.sort(key=lambda pair: priority_key(pair[0], pair[1].score))
    return [Ranked(position, needs, prio) for position, (needs, prio) in enumerate(scored, start=1)]
