"""The allocation rules of issue 17 (point 5), pure: proposals, the computer cap, priority, rule sets."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pytest

from refurb.core.codes import make_code
from refurb.core.errors import BadInput
from refurb.core.kinds import DeviceKind
from refurb.distribution.rules import (
    DEFAULT_RULES,
    CommissionException,
    ConnectionKind,
    HouseholdNeeds,
    PriorityReason,
    Proposal,
    Reason,
    Request,
    RuleSet,
    order,
    priority,
    propose,
)
from refurb.web.i18n import gettext, use_locale

ON = date(2026, 9, 15)  # the commission's date: ages are those reached in 2026
F1 = make_code("F", 1).compact
NBSP, NNBSP = "\u00a0", "\u202f"

CAP_1 = "at most 1 computer or tablet per household"
BOTH_SIDES_9 = "children on both sides of 9: the eldest's laptop also serves the younger ones"
NO_INTERNET = "no internet at home"
TABLETS = "the programme gives tablets instead of computers"


def born(*ages: int) -> tuple[int, ...]:
    """Birth years of children of these ages at the commission (the census keeps years only)."""
    return tuple(ON.year - age for age in ages)


def needs(**fields: Any) -> HouseholdNeeds:
    """A household with internet at home unless said otherwise, so each case shows only its own lines."""
    fields.setdefault("internet_at_home", True)
    return HouseholdNeeds(fields.pop("code", F1), ON, **fields)


def shown(proposal: Proposal) -> list[tuple[str, list[str]]]:
    """Each line as the commission reads it (English): quantity and kind, then its reasons."""
    return [(line.render(), [reason.render() for reason in line.reasons]) for line in proposal.lines]


def notes(proposal: Proposal) -> list[str]:
    return [note.render() for note in proposal.notes]


PROPOSALS = [
    pytest.param({}, DEFAULT_RULES, [], [], id="no child, nothing asked"),
    pytest.param(
        {"requests": {"laptop", "printer"}},
        DEFAULT_RULES,
        [
            ("1 laptop", ["asked for by the household, which has no child of school age"]),
            ("1 printer", ["printer asked for, none at home"]),
        ],
        [],
        id="no child, asks a laptop and a printer",
    ),
    pytest.param({"children_birth_years": born(2)}, DEFAULT_RULES, [], [], id="a toddler needs no computer"),
    pytest.param(
        {"children_birth_years": born(8)},
        DEFAULT_RULES,
        [("1 desktop computer", ["a child aged 8"])],
        [],
        id="one child of 8",
    ),
    pytest.param(
        {"children_birth_years": born(9)},
        DEFAULT_RULES,
        [("1 laptop", ["a child aged 9"])],
        [],
        id="one child of 9: the threshold gives a laptop",
    ),
    pytest.param(
        {"children_birth_years": born(8, 10)},
        DEFAULT_RULES,
        [("1 laptop", ["2 children aged 8 and 10", BOTH_SIDES_9, CAP_1])],
        [],
        id="children of 8 and 10: the eldest decides",
    ),
    pytest.param(
        {"children_birth_years": born(13, 10)},
        DEFAULT_RULES,
        [("1 laptop", ["2 children aged 10 and 13", CAP_1])],
        [],
        id="the issue's example: children of 10 and 13",
    ),
    pytest.param(
        {"children_birth_years": born(7, 7)},
        DEFAULT_RULES,
        [("1 desktop computer", ["2 children aged 7", CAP_1])],
        [],
        id="twins of 7",
    ),
    pytest.param(
        {"children_birth_years": born(6, 9, 12, 16)},
        DEFAULT_RULES,
        [("1 laptop", ["4 children aged 6 to 16", BOTH_SIDES_9, CAP_1])],
        [],
        id="four children",
    ),
    pytest.param(
        {"children_birth_years": born(1, 5, 7, 19)},
        DEFAULT_RULES,
        [("1 desktop computer", ["2 children aged 5 and 7", CAP_1])],
        [],
        id="four children, a baby and a grown one not of school age",
    ),
    pytest.param(
        {"children_birth_years": born(3, 17)},
        DEFAULT_RULES,
        [("1 laptop", ["2 children aged 3 and 17", BOTH_SIDES_9, CAP_1])],
        [],
        id="school age bounds 3 and 17 included",
    ),
    pytest.param(
        {"children_birth_years": born(8), "internet_at_home": False},
        DEFAULT_RULES,
        [("1 desktop computer", ["a child aged 8"]), ("1 4G key", [NO_INTERNET])],
        [],
        id="no internet: a 4G key by default",
    ),
    pytest.param(
        {"internet_at_home": False},
        DEFAULT_RULES.revise({"connection": "box"}),
        [("1 connection box", [NO_INTERNET])],
        [],
        id="no internet, no child, a programme of boxes",
    ),
    pytest.param(
        {"internet_at_home": False, "requests": {"connection"}},
        DEFAULT_RULES.revise({"connection": None}),
        [],
        ["no internet at home: the programme gives no connection"],
        id="no internet, the programme gives no connection",
    ),
    pytest.param(
        {"requests": {"connection"}},
        DEFAULT_RULES,
        [],
        ["connection asked for: there is internet at home already"],
        id="connection asked for with internet at home",
    ),
    pytest.param(
        {"children_birth_years": born(12), "requests": {"printer"}},
        DEFAULT_RULES,
        [("1 laptop", ["a child aged 12"]), ("1 printer", ["printer asked for, none at home"])],
        [],
        id="printer asked for, none at home",
    ),
    pytest.param(
        {"children_birth_years": born(12), "requests": {"printer"}, "printer_at_home": True},
        DEFAULT_RULES,
        [("1 laptop", ["a child aged 12"])],
        ["printer asked for: there is one at home already"],
        id="printer asked for, one at home",
    ),
    pytest.param(
        {"children_birth_years": born(12), "printer_at_home": False},
        DEFAULT_RULES,
        [("1 laptop", ["a child aged 12"])],
        [],
        id="no printer at home but none asked for",
    ),
    pytest.param(
        {"requests": {"printer"}},
        DEFAULT_RULES.revise({"printers": False}),
        [],
        ["printer asked for: the programme gives no printers"],
        id="printer asked for, the programme gives none",
    ),
    pytest.param(
        {"children_birth_years": born(8, 10), "requests": {"laptop"}, "internet_at_home": False},
        DEFAULT_RULES.revise({"tablets": True}),
        [("1 tablet", ["2 children aged 8 and 10", TABLETS, CAP_1]), ("1 4G key", [NO_INTERNET])],
        ["asked for: laptop; the programme gives tablets instead of computers"],
        id="a tablets programme: connected tablets",
    ),
    pytest.param(
        {"requests": {"desktop"}},
        DEFAULT_RULES.revise({"tablets": True}),
        [("1 tablet", ["asked for by the household, which has no child of school age", TABLETS])],
        ["asked for: desktop; the programme gives tablets instead of computers"],
        id="a tablets programme, no child, a desktop asked for",
    ),
    pytest.param(
        {"children_birth_years": born(12), "requests": {"desktop"}},
        DEFAULT_RULES,
        [("1 laptop", ["a child aged 12"])],
        ["asked for: desktop; the children's ages decide the kind of computer"],
        id="a desktop asked for, the age gives a laptop",
    ),
    pytest.param(
        {"requests": {"tablet"}},
        DEFAULT_RULES,
        [("1 laptop", ["asked for by the household, which has no child of school age"])],
        ["asked for: tablet; the programme gives computers, not tablets"],
        id="a tablet asked for in a programme of computers",
    ),
    pytest.param(
        {"requests": {"desktop", "laptop"}},
        DEFAULT_RULES,
        [("1 laptop", ["asked for by the household, which has no child of school age"])],
        [],
        id="no child, both kinds asked for: a laptop",
    ),
    pytest.param(
        {"children_birth_years": born(8), "can_pay_rent": False, "can_install": False, "can_use": False},
        DEFAULT_RULES,
        [("1 desktop computer", ["a child aged 8"])],
        [
            "cannot pay a rent: donation or loan rather than rental",
            "cannot install the equipment alone: plan the installation at handover",
            "cannot use the equipment yet: offer the training session",
        ],
        id="what the household cannot do is told to the commission",
    ),
    pytest.param(
        {"children_birth_years": born(8), "can_pay_rent": True, "can_install": None, "can_use": True},
        DEFAULT_RULES,
        [("1 desktop computer", ["a child aged 8"])],
        [],
        id="abilities present or not asked say nothing",
    ),
    pytest.param(
        {"children_birth_years": born(8, 10)},
        DEFAULT_RULES.revise({"school_age_min": 0, "laptop_from_age": 11}),
        [("1 desktop computer", ["2 children aged 8 and 10", "at most 1 computer or tablet per household"])],
        [],
        id="a programme's own threshold",
    ),
]


@pytest.mark.parametrize(("fields", "rules", "lines", "expected_notes"), PROPOSALS)
def test_proposals(
    fields: dict[str, Any], rules: RuleSet, lines: list[tuple[str, list[str]]], expected_notes: list[str]
) -> None:
    proposal = propose(needs(**fields), rules)
    assert shown(proposal) == lines
    assert notes(proposal) == expected_notes
    assert proposal.household == F1
    assert proposal.rule_set_version == rules.version


def test_lines_carry_the_kind_stock_is_matched_on() -> None:
    proposal = propose(
        needs(children_birth_years=born(8, 10), requests={"printer"}, internet_at_home=False), DEFAULT_RULES
    )
    assert [(line.kind, line.quantity, line.connection) for line in proposal.lines] == [
        (DeviceKind.LAPTOP, 1, None),
        (DeviceKind.PRINTER, 1, None),
        (DeviceKind.CONNECTIVITY, 1, ConnectionKind.KEY_4G),
    ]
    assert [reason.code for reason in proposal.lines[0].reasons] == [
        "children",
        "eldest_decides",
        "computer_cap",
    ]
    assert proposal.lines[0].reasons[0].params == {"count": 2, "youngest": 8, "oldest": 10}


def test_reasons_render_in_french() -> None:
    use_locale("fr")
    proposal = propose(
        needs(children_birth_years=born(13, 10), requests={"desktop"}, internet_at_home=False), DEFAULT_RULES
    )
    assert [(line.render(gettext), [r.render(gettext) for r in line.reasons]) for line in proposal.lines] == [
        (
            "1 ordinateur portable",
            ["2 enfants de 10 et 13 ans", "au plus 1 ordinateur ou tablette par foyer"],
        ),
        ("1 clé 4G", ["pas d'internet au foyer"]),
    ]
    assert [note.render(gettext) for note in proposal.notes] == [
        f"demande{NBSP}: ordinateur fixe{NNBSP}; l'âge des enfants décide du type d'ordinateur"
    ]
    one = propose(needs(children_birth_years=born(8)), DEFAULT_RULES).lines[0]
    assert (one.render(gettext), one.reasons[0].render(gettext)) == (
        "1 ordinateur fixe",
        "un enfant de 8 ans",
    )
    toddler = propose(needs(children_birth_years=born(1)), DEFAULT_RULES.revise({"school_age_min": 0}))
    assert toddler.lines[0].reasons[0].render(gettext) == "un enfant de 1 an"
    three = propose(needs(children_birth_years=born(10, 12, 14)), DEFAULT_RULES.revise({"max_computers": 3}))
    assert three.lines[0].render(gettext) == "3 ordinateurs portables"
    assert three.lines[0].reasons[0].render(gettext) == "3 enfants de 10 à 14 ans"


# --- the one-computer rule and its exception ----------------------------------------------------------

AGES = [3, 5, 8, 9, 12, 16]


@pytest.mark.parametrize("max_computers", [1, 2])
def test_never_more_computers_than_the_cap(max_computers: int) -> None:
    rules = DEFAULT_RULES.revise({"max_computers": max_computers})
    for count in range(1, 5):
        for ages in itertools.combinations_with_replacement(AGES, count):
            proposal = propose(needs(children_birth_years=born(*ages)), rules)
            computers = [
                line for line in proposal.lines if line.kind in (DeviceKind.DESKTOP, DeviceKind.LAPTOP)
            ]
            assert sum(line.quantity for line in computers) == min(count, max_computers), ages
            capped = any(reason.code == "computer_cap" for line in computers for reason in line.reasons)
            assert capped is (count > max_computers), ages


def test_a_recorded_exception_lifts_the_cap_with_its_reason_on_the_lines() -> None:
    household = needs(children_birth_years=born(4, 7, 11, 15))
    exception = CommissionException(3, "  three pupils at three different schools ")
    assert exception.reason == "three pupils at three different schools"
    reason = "exception recorded by the commission: three pupils at three different schools"
    assert shown(propose(household, DEFAULT_RULES, exception)) == [
        ("2 laptops", ["2 children aged 11 and 15", reason]),
        (
            "1 desktop computer",
            ["2 children aged 4 and 7", "at most 3 computers or tablets per household", reason],
        ),
    ]
    assert shown(propose(household, DEFAULT_RULES)) == [
        ("1 laptop", ["4 children aged 4 to 15", BOTH_SIDES_9, CAP_1])
    ]


def test_an_exception_for_more_than_the_children_gives_one_each() -> None:
    household = needs(children_birth_years=born(8, 10))
    exception = CommissionException(4, "parents separated, two homes")
    reason = "exception recorded by the commission: parents separated, two homes"
    assert shown(propose(household, DEFAULT_RULES, exception)) == [
        ("1 laptop", ["a child aged 10", reason]),
        ("1 desktop computer", ["a child aged 8", reason]),
    ]


def test_an_exception_that_changes_nothing_is_not_written() -> None:
    exception = CommissionException(2, "two homes")
    assert shown(propose(needs(children_birth_years=born(12)), DEFAULT_RULES, exception)) == [
        ("1 laptop", ["a child aged 12"])
    ]
    assert shown(propose(needs(), DEFAULT_RULES, exception)) == []


@pytest.mark.parametrize(
    ("computers", "reason", "code", "message"),
    [
        (2, "", "reason_required", "The commission's exception needs a reason."),
        (2, "   ", "reason_required", "The commission's exception needs a reason."),
        (2, 42, "bad_reason", "The reason must be text."),
        (2, "x" * 501, "bad_reason", "The reason is too long (501 characters, at most 500)."),
        (0, "two homes", "bad_exception", "computers must be between 1 and 10."),
        (11, "two homes", "bad_exception", "computers must be between 1 and 10."),
        ("2", "two homes", "bad_exception", "computers must be a whole number."),
    ],
)
def test_an_exception_needs_a_reason_and_a_sane_number(
    computers: Any, reason: Any, code: str, message: str
) -> None:
    with pytest.raises(BadInput) as caught:
        CommissionException(computers, reason)
    assert (caught.value.code, caught.value.render()) == (code, message)


# --- priority -----------------------------------------------------------------------------------------


def scored(household: HouseholdNeeds, rules: RuleSet = DEFAULT_RULES) -> list[tuple[str, int]]:
    return [(reason.render(), reason.points) for reason in priority(household, rules).reasons]


def test_priority_explains_every_point() -> None:
    household = needs(
        children_birth_years=born(2, 8, 13, 16),
        internet_at_home=False,
        social_hotel=True,
        waiting_since=date(2025, 2, 20),
    )
    result = priority(household, DEFAULT_RULES)
    assert scored(household) == [
        ("no computer at home", 30),
        ("3 children of school age", 30),
        ("hosted in a social hotel", 20),
        ("no internet at home", 10),
        ("waiting for 18 months", 18),
    ]
    assert (result.score, result.household, result.rule_set_version) == (108, F1, 1)
    use_locale("fr")
    assert [reason.render(gettext) for reason in result.reasons] == [
        "aucun ordinateur au foyer",
        "3 enfants d'âge scolaire",
        "hébergé en hôtel social",
        "pas d'internet au foyer",
        "en attente depuis 18 mois",
    ]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({}, [], id="nothing to count"),
        pytest.param(
            {"computers_at_home": 1, "children_birth_years": born(10)},
            [("1 child of school age", 10)],
            id="a computer at home",
        ),
        pytest.param(
            {"waiting_since": date(2026, 7, 15)}, [("waiting for 2 months", 2)], id="two whole months"
        ),
        pytest.param(
            {"waiting_since": date(2026, 7, 16)}, [("waiting for 1 month", 1)], id="a day short of two"
        ),
        pytest.param({"waiting_since": ON}, [], id="waiting since today"),
        pytest.param(
            {"waiting_since": date(2023, 9, 15)},
            [("waiting for 36 months, counted up to 24", 24)],
            id="waiting counts up to a cap",
        ),
    ],
)
def test_priority_parts(fields: dict[str, Any], expected: list[tuple[str, int]]) -> None:
    fields.setdefault("computers_at_home", 1)
    assert scored(needs(**fields)) == expected


def test_priority_weights_are_the_programme_s() -> None:
    rules = DEFAULT_RULES.revise(
        {"weights": {"no_computer": 0, "per_school_child": 25, "per_month_waiting": 3}}
    )
    household = needs(children_birth_years=born(8, 10), waiting_since=date(2026, 5, 1))
    assert scored(household, rules) == [("2 children of school age", 50), ("waiting for 4 months", 12)]
    assert priority(household, rules).score == 62


def test_order_breaks_ties_by_waiting_then_code() -> None:
    def household(serial: int, **fields: Any) -> HouseholdNeeds:
        return needs(code=make_code("F", serial).compact, computers_at_home=1, **fields)

    # Every household below scores 20 (two school children), except the first.
    households = [
        household(1, children_birth_years=born(8, 10, 12)),  # 30
        household(2, children_birth_years=born(8, 10), waiting_since=ON),
        household(3, children_birth_years=born(8, 10), waiting_since=ON),
        household(4, children_birth_years=born(8, 10)),  # waiting since unknown: last of its score
        household(5, children_birth_years=born(8, 10), waiting_since=ON),
        household(6, children_birth_years=born(9, 11), waiting_since=date(2026, 9, 1)),  # waiting, < 1 month
        household(7, children_birth_years=born(7)),  # 10
    ]
    expected = [1, 6, 2, 3, 5, 4, 7]
    for arrangement in (households, households[::-1], households[3:] + households[:3]):
        ranked = order(arrangement, DEFAULT_RULES)
        assert [r.needs.code for r in ranked] == [make_code("F", n).compact for n in expected]
        assert [r.priority.score for r in ranked] == [30, 20, 20, 20, 20, 20, 10]
        assert [r.position for r in ranked] == [1, 2, 3, 4, 5, 6, 7]


# --- rule sets: validation and versions ---------------------------------------------------------------


def test_rule_set_json_round_trip() -> None:
    assert RuleSet.from_json({}) == DEFAULT_RULES
    assert DEFAULT_RULES.to_json() == {
        "version": 1,
        "laptop_from_age": 9,
        "school_age_min": 3,
        "school_age_max": 17,
        "tablets": False,
        "printers": True,
        "connection": "4g_key",
        "max_computers": 1,
        "weights": {
            "no_computer": 30,
            "per_school_child": 10,
            "social_hotel": 20,
            "no_internet": 10,
            "per_month_waiting": 1,
            "max_waiting_months": 24,
        },
        "suitable_os": [],
    }
    edited = RuleSet.from_json(
        {"version": 4, "connection": None, "tablets": True, "weights": {"social_hotel": 0}}
    )
    assert RuleSet.from_json(edited.to_json()) == edited
    assert (edited.version, edited.connection, edited.weights.social_hotel, edited.weights.no_computer) == (
        4,
        None,
        0,
        30,
    )


KNOWN = (
    "version, laptop_from_age, school_age_min, school_age_max, tablets, printers, connection, max_computers,"
    " weights, suitable_os"
)
KNOWN_WEIGHTS = (
    "no_computer, per_school_child, social_hotel, no_internet, per_month_waiting, max_waiting_months"
)


NOT_NAMES = "suitable_os must be a list of at most 20 names, each of 1 to 100 characters."


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ([], None, "A rule set is a JSON object of named fields."),
        ({"laptop_age": 9}, "laptop_age", f"Unknown field laptop_age; the known fields are: {KNOWN}."),
        (
            {"weights": {"hotel": 5}},
            "weights.hotel",
            f"Unknown field weights.hotel; the known fields are: {KNOWN_WEIGHTS}.",
        ),
        ({"weights": [1, 2]}, "weights", "weights must be an object of named fields."),
        ({"laptop_from_age": "9"}, "laptop_from_age", "laptop_from_age must be a whole number."),
        ({"laptop_from_age": 9.0}, "laptop_from_age", "laptop_from_age must be a whole number."),
        ({"laptop_from_age": 0}, "laptop_from_age", "laptop_from_age must be between 1 and 25."),
        ({"max_computers": True}, "max_computers", "max_computers must be a whole number."),
        ({"max_computers": 0}, "max_computers", "max_computers must be between 1 and 10."),
        ({"tablets": 1}, "tablets", "tablets must be true or false."),
        ({"printers": "yes"}, "printers", "printers must be true or false."),
        ({"connection": "fibre"}, "connection", "connection must be one of: 4g_key, box, null."),
        ({"connection": 4}, "connection", "connection must be one of: 4g_key, box, null."),
        (
            {"weights": {"social_hotel": -5}},
            "weights.social_hotel",
            "weights.social_hotel must be between 0 and 1000.",
        ),
        (
            {"weights": {"per_month_waiting": None}},
            "weights.per_month_waiting",
            "weights.per_month_waiting must be a whole number.",
        ),
        (
            {"school_age_min": 12, "school_age_max": 10},
            "school_age_max",
            "school_age_max must not be below school_age_min.",
        ),
        ({"version": 0}, "version", "version must be between 1 and 2147483647."),
        ({"suitable_os": "Linux Mint"}, "suitable_os", NOT_NAMES),
        ({"suitable_os": ["Linux Mint", "  "]}, "suitable_os", NOT_NAMES),
        ({"suitable_os": [11]}, "suitable_os", NOT_NAMES),
        ({"suitable_os": ["x" * 101]}, "suitable_os", NOT_NAMES),
        ({"suitable_os": [f"OS {n}" for n in range(21)]}, "suitable_os", NOT_NAMES),
    ],
)
def test_rule_set_validation(data: Any, field: str | None, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        RuleSet.from_json(data)
    assert caught.value.code == "bad_rule_set"
    assert caught.value.render() == message
    assert caught.value.extra.get("field") == field


def test_rule_set_errors_read_in_french() -> None:
    use_locale("fr")
    with pytest.raises(BadInput) as caught:
        RuleSet.from_json({"weights": {"social_hotel": -5}})
    assert caught.value.render(gettext) == "weights.social_hotel doit être compris entre 0 et 1000."


def test_a_proposal_keeps_its_rule_set_version_after_the_rules_change() -> None:
    household = needs(children_birth_years=born(8, 10), social_hotel=True)
    version_1 = RuleSet.from_json({"version": 1})
    made = propose(household, version_1)
    ranked = priority(household, version_1)
    stored = made.to_json()

    version_2 = version_1.revise({"laptop_from_age": 11, "weights": {"social_hotel": 40}})
    assert (version_2.version, version_2.laptop_from_age) == (2, 11)
    assert (version_2.weights.social_hotel, version_2.weights.no_computer) == (
        40,
        30,
    )  # weights merged by name
    assert version_1.laptop_from_age == 9  # the old version is untouched

    assert (made.rule_set_version, shown(made)[0][0]) == (1, "1 laptop")
    assert (ranked.rule_set_version, ranked.score) == (1, 70)
    assert stored["rule_set_version"] == 1
    assert [Reason.from_json(r).render() for r in stored["lines"][0]["reasons"]] == shown(made)[0][1]

    remade = propose(household, version_2)
    assert (remade.rule_set_version, shown(remade)) == (
        2,
        [("1 desktop computer", ["2 children aged 8 and 10", CAP_1])],
    )
    assert (priority(household, version_2).rule_set_version, priority(household, version_2).score) == (2, 90)
    assert version_2.revise({}).version == 3


def test_stored_reasons_render_again_in_any_language() -> None:
    use_locale("fr")
    proposal = propose(needs(children_birth_years=born(12), requests={"tablet", "laptop"}), DEFAULT_RULES)
    for reason in (*proposal.lines[0].reasons, *proposal.notes):
        again = Reason.from_json(reason.to_json())
        assert again.render(gettext) == reason.render(gettext)
        assert again.render() == reason.render()
    assert proposal.notes[0].render(gettext) == (
        f"demande{NBSP}: tablette{NNBSP}; le programme donne des ordinateurs, pas de tablettes"
    )
    waiting = priority(needs(waiting_since=date(2025, 9, 15)), DEFAULT_RULES).reasons[-1]
    again = PriorityReason.from_json(waiting.to_json())
    assert (again.render(gettext), again.points) == ("en attente depuis 12 mois", 12)


@pytest.mark.parametrize(
    ("edits", "field", "message"),
    [
        ({"version": 7}, "version", "The version is set by Refurb: leave it out of the edits."),
        ({"max_computers": -1}, "max_computers", "max_computers must be between 1 and 10."),
        (
            {"weights": {"no_computer": -1}},
            "weights.no_computer",
            "weights.no_computer must be between 0 and 1000.",
        ),
    ],
)
def test_a_bad_revision_is_refused(edits: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        DEFAULT_RULES.revise(edits)
    assert (caught.value.code, caught.value.render(), caught.value.extra["field"]) == (
        "bad_rule_set",
        message,
        field,
    )
    assert RuleSet() == DEFAULT_RULES


# --- the needs form -----------------------------------------------------------------------------------


def test_requests_given_as_text_are_read() -> None:
    assert needs(requests=["laptop", "printer"]).requests == frozenset({Request.LAPTOP, Request.PRINTER})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"children_birth_years": (2027,)}, "A child's birth year (2027) is after the reference date."),
        (
            {"children_birth_years": (1990,)},
            "A child's birth year (1990) makes them older than 30; is it a parent's?",
        ),
        ({"children_birth_years": ("2015",)}, "children_birth_years must be a whole number."),
        ({"waiting_since": date(2026, 9, 16)}, "waiting_since is after the reference date."),
        ({"adults": -1}, "adults must be between 0 and 20."),
        ({"computers_at_home": 1.5}, "computers_at_home must be a whole number."),
        (
            {"requests": {"scanner"}},
            "Unknown request scanner; the requests are: desktop, laptop, tablet, printer, connection.",
        ),
    ],
)
def test_a_needs_form_the_rules_cannot_read_is_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(BadInput) as caught:
        needs(**fields)
    assert (caught.value.code, caught.value.render()) == ("bad_household_needs", message)


# --- an OS suitable for the use -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suitable", "recorded", "expected"),
    [
        ([], "Windows 11 Pro", True),  # no list: any OS the workshop recorded
        ([], "", False),  # none recorded: not yet
        ([], "   ", False),
        ([], None, False),
        (["Linux Mint", "Windows 11"], "Linux Mint 21.3", True),  # a whole-word prefix
        (["Linux Mint", "Windows 11"], "linux  mint", True),  # case and spaces do not matter
        (["Linux Mint", "Windows 11"], "Windows 11 Pro", True),
        (["Linux Mint", "Windows 11"], "Windows 10 Pro", False),
        (["Linux Mint", "Windows 11"], "Linux Mintest", False),  # not a whole word
        (["Linux Mint", "Windows 11"], "", False),
    ],
)
def test_an_os_is_suitable_when_recorded_and_accepted(
    suitable: list[str], recorded: Any, expected: bool
) -> None:
    rules = RuleSet.from_json({"suitable_os": suitable})
    assert rules.os_suitable(recorded) is expected


def test_suitable_os_names_are_tidied_and_kept_in_a_new_version() -> None:
    rules = RuleSet.from_json({"suitable_os": [" Linux   Mint ", "linux mint", "Windows 11"]})
    assert rules.suitable_os == ("Linux Mint", "Windows 11")
    assert RuleSet.from_json(rules.to_json()) == rules
    revised = rules.revise({"suitable_os": ["Emmabuntüs"]})
    assert (revised.version, revised.suitable_os, rules.suitable_os) == (
        2,
        ("Emmabuntüs",),
        ("Linux Mint", "Windows 11"),
    )
