"""A referent's census spreadsheet over HTTP, on both engines: the dry run's exact problems, all or
nothing, valid rows only, re-imports that update without duplicates, ages stored as birth years,
personal data only in its own table, and who may import."""

from __future__ import annotations

import copy
import csv
import datetime
import html
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from refurb.accounts.tables import User
from refurb.distribution.tables import Household, HouseholdEvent, HouseholdPerson
from tests.integration.test_cli import refurb
from tests.integration.test_programmes import PROGRAMME

CENSUS = Path(__file__).parent.parent / "fixtures" / "census"
FIRST = CENSUS / "recensement_courtillieres.csv"  # cp1252, ';', a title row: the header is row 3
UPDATE = CENSUS / "recensement_mise_a_jour.csv"  # UTF-8 with BOM, ',', other header wordings
CONSENT = {"legal_basis": "public_interest", "notice_version": "PRE-2026-09", "notice_given_on": "2026-10-01"}
#: (row, column as the file writes it, code) of every error in the first census.
ERRORS = [
    (7, "QPV", "unknown_qpv"),
    (8, "Internet", "bad_yes_no"),
    (9, "Âges des enfants", "bad_child_age"),
    (10, "Réf. famille", "missing_reference"),
    (11, "Réf. famille", "duplicate_reference"),
    (19, "En attente depuis", "bad_date"),
]
VALID = [f"PRE-{n:03d}" for n in (1, 2, 3, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 18)]
#: Valid families that gave no name nor contact.
WITHOUT_PERSON = {"PRE-010"}
SECRETS = ("Benali", "Samira", "06 12 34 56 78", "samira.benali", "allée des Courtillières", "Mamadou")
NEVER = ("donor", "technician", "supervisor", "driver", "auditor")


async def programme_id(client: Any, headers: dict[str, str]) -> int:
    response = await client.post("/api/v1/programmes", json=copy.deepcopy(PROGRAMME), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def send(
    client: Any,
    headers: dict[str, str],
    programme: int,
    content: bytes,
    name: str = "recensement.csv",
    **fields: str,
) -> Any:
    files = {"file": (name, content, "application/octet-stream")}
    data = {**CONSENT, **fields}
    url = f"/api/v1/programmes/{programme}/census"
    return await client.post(url, data=data, files=files, headers=headers)


def as_xlsx(path: Path) -> bytes:
    """The census as a referent's workbook: numbers typed as numbers, dates as dates."""
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("cp1252")), delimiter=";"))
    book = Workbook()
    sheet = book.active
    for number, row in enumerate(rows, start=1):
        cells: list[Any] = []
        for text in row:
            value: Any = text or None
            if number > 3 and text.isdigit():
                value = int(text)
            elif number > 3 and len(text) == 10 and text[2] == "/" and text != "31/02/2026":
                day, month, year = (int(part) for part in text.split("/"))
                value = datetime.datetime(year, month, day)
            cells.append(value)
        sheet.append(cells if number != 1 else [row[0]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def households() -> dict[str, dict[str, Any]]:
    rows = await Household.select().order_by(Household.id)
    return {r["family_reference"]: r for r in rows}


async def history(reference: str) -> list[tuple[str, dict[str, Any]]]:
    household = (await households())[reference]
    rows = (
        await HouseholdEvent.select(HouseholdEvent.action, HouseholdEvent.payload)
        .where(HouseholdEvent.household == household["id"])
        .order_by(HouseholdEvent.id)
    )
    return [(r["action"], _json(r["payload"])) for r in rows]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def counts() -> tuple[int, int, int]:
    return await Household.count(), await HouseholdEvent.count(), await HouseholdPerson.count()


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
async def test_a_dry_run_reports_every_problem_with_its_row_and_column_and_changes_nothing(
    client, as_user, kind: str
) -> None:
    coordinator = as_user("coordinator")
    programme = await programme_id(client, coordinator)
    content = FIRST.read_bytes() if kind == "csv" else as_xlsx(FIRST)
    response = await send(client, coordinator, programme, content, f"recensement.{kind}", dry_run="true")
    assert response.status_code == 200, response.text
    report = response.json()
    expected_dialect = ("csv", "cp1252", ";") if kind == "csv" else ("xlsx", "", "")
    assert (report["format"], report["encoding"], report["delimiter"]) == expected_dialect
    assert report["header_row"] == 3
    assert report["ignored_columns"] == ["Observations"]
    assert report["mapping"]["children_ages"] == "Âges des enfants"
    assert report["mapping"]["computers"] == "Ordinateur(s) au foyer"
    assert (report["status"], report["dry_run"], report["mode"]) == ("checked", True, "all_or_nothing")
    assert (report["rows"], report["valid"], report["invalid"], report["warnings"]) == (20, 14, 6, 0)
    assert (report["created"], report["updated"], report["unchanged"]) == (14, 0, 0)
    assert [(p["row"], p["column"], p["code"]) for p in report["problems"]] == ERRORS
    assert [line["reference"] for line in report["lines"]] == VALID
    assert {line["action"] for line in report["lines"]} == {"create"}
    messages = {p["code"]: p["message"] for p in report["problems"]}
    assert messages["duplicate_reference"] == "La référence famille PRE-002 figure déjà à la ligne 5."
    assert messages["bad_child_age"] == "L'âge d'un enfant va de 0 à 25\u00a0ans, pas 31."
    assert await counts() == (0, 0, 0)


async def test_all_or_nothing_refuses_a_census_with_errors_and_changes_nothing(client, as_user) -> None:
    coordinator = as_user("coordinator")
    programme = await programme_id(client, coordinator)
    refused = await send(client, coordinator, programme, FIRST.read_bytes())
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    assert body["code"] == "census_has_errors"
    assert (body["report"]["status"], body["report"]["invalid"]) == ("refused", 6)
    assert (body["report"]["created"], body["report"]["updated"]) == (0, 0)
    assert [(p["row"], p["column"], p["code"]) for p in body["report"]["problems"]] == ERRORS
    assert await counts() == (0, 0, 0)


async def test_valid_only_imports_the_valid_rows_with_history_and_personal_data(client, as_user) -> None:
    coordinator = as_user("coordinator")
    programme = await programme_id(client, coordinator)
    response = await send(client, coordinator, programme, FIRST.read_bytes(), mode="valid_only")
    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["status"], report["created"], report["invalid"]) == ("imported", 14, 6)
    stored = await households()
    assert sorted(stored) == VALID
    assert {line["reference"]: line["household"] for line in report["lines"]} == {
        ref: row["code"] for ref, row in stored.items()
    }
    with_person = len(VALID) - len(WITHOUT_PERSON)
    assert await counts() == (14, 14 + with_person, with_person)
    assert await history("PRE-001") == [
        ("create", {"via": "census"}),
        (
            "personal_data",
            {
                "changed": [
                    "email", "first_name", "last_name", "legal_basis", "notice_given_on", "notice_version",
                    "phone", "postal_address",
                ],
                "via": "census",
            },
        ),
    ]  # fmt: skip
    assert await history("PRE-010") == [("create", {"via": "census"})]
    first = stored["PRE-001"]
    assert (first["qpv_code"], first["school"], first["adults"], first["computers"]) == (
        "QN09301M",
        "École Jean-Jaurès",
        2,
        0,
    )
    assert (bool(first["has_printer"]), bool(first["has_internet"]), bool(first["training_accepted"])) == (
        False,
        True,
        True,
    )
    assert (first["can_pay_rent"], first["can_install"], first["can_use"]) == ("no", "yes", "no")
    assert _json(first["requests"]) == ["laptop", "printer"]
    assert (first["waiting_since"], first["status"], first["referent"]) == (
        datetime.date(2026, 9, 14),
        "census",
        None,
    )
    second = stored["PRE-002"]  # "Courtillières" is the QPV's name; "?" an unknown ability; "x" a yes
    assert (second["qpv_code"], second["can_pay_rent"], bool(second["training_accepted"])) == (
        "QN09301M",
        "unknown",
        True,
    )
    assert bool(second["social_hotel"]) is True
    assert _json(second["requests"]) == ["desktop", "connection"]


async def test_ages_and_birth_years_are_both_stored_as_birth_years(client, as_user) -> None:
    coordinator = as_user("coordinator")
    programme = await programme_id(client, coordinator)
    year = datetime.date.today().year  # the import's year: an age of 8 is recorded as born `year - 8`
    await send(client, coordinator, programme, FIRST.read_bytes(), mode="valid_only")
    update = await send(client, coordinator, programme, UPDATE.read_bytes(), "maj.csv")
    assert update.status_code == 201, update.text
    assert update.json()["reference_year"] == year
    children = {ref: _json(row["children_birth_years"]) for ref, row in (await households()).items()}
    assert children["PRE-001"] == [year - 13, year - 8]  # "8, 13"
    assert children["PRE-002"] == [year - 13, year - 8]  # "8 ans / 13 ans"
    assert children["PRE-007"] == [year - 4, year]  # "6 mois, 4"
    assert children["PRE-008"] == [year - 14, year - 11]  # "11 ans et 14 ans"
    assert children["PRE-003"] == [2019]  # a birth year as given (the first census had no child)
    assert children["PRE-021"] == [2017]
    code = (await households())["PRE-001"]["code"]
    api = await client.get(f"/api/v1/households/{code}", headers=coordinator)
    assert api.json()["children_birth_years"] == [year - 13, year - 8]


async def test_a_reimport_updates_by_family_reference_without_duplicates_or_erasing(client, as_user) -> None:
    coordinator = as_user("coordinator")
    programme = await programme_id(client, coordinator)
    await send(client, coordinator, programme, FIRST.read_bytes(), mode="valid_only")
    before = await households()
    events_before = await HouseholdEvent.count()
    consent = {"legal_basis": "consent", "notice_version": "PRE-2026-11"}
    response = await send(client, coordinator, programme, UPDATE.read_bytes(), "maj.csv", **consent)
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["mapping"]["family_reference"] == "Référence famille"
    assert (report["encoding"], report["delimiter"], report["header_row"]) == ("utf-8-sig", ",", 1)
    assert (report["created"], report["updated"], report["unchanged"], report["invalid"]) == (1, 2, 1, 0)
    assert [(line["reference"], line["action"], line["changed"]) for line in report["lines"]] == [
        ("PRE-001", "update", ["computers", "requests", "personal_data.phone"]),
        ("PRE-002", "unchanged", []),
        ("PRE-003", "update", ["adults", "children_birth_years"]),
        ("PRE-021", "create", []),
    ]
    after = await households()
    assert sorted(after) == sorted([*VALID, "PRE-021"])
    assert {ref: after[ref]["code"] for ref in VALID} == {ref: before[ref]["code"] for ref in VALID}
    assert (after["PRE-001"]["computers"], _json(after["PRE-001"]["requests"])) == (1, ["printer"])
    assert after["PRE-001"]["school"] == "École Jean-Jaurès"  # no column: kept
    assert after["PRE-003"]["adults"] == 3
    assert await history("PRE-001") == [
        *(await history("PRE-001"))[:2],
        ("update", {"changed": ["computers", "requests"], "via": "census"}),
        ("personal_data", {"changed": ["phone"], "via": "census"}),
    ]
    assert len(await history("PRE-002")) == 2  # unchanged: no event
    assert await history("PRE-003") == [
        *(await history("PRE-003"))[:2],
        ("update", {"changed": ["adults", "children_birth_years"], "via": "census"}),
    ]
    assert await HouseholdEvent.count() == events_before + 3 + 2  # PRE-001 ×2, PRE-003, PRE-021 ×2
    person = await HouseholdPerson.select().where(HouseholdPerson.household == after["PRE-001"]["id"]).first()
    # the empty name and email cells erased nothing; the new phone replaced the old one
    assert (person["last_name"], person["first_name"], person["email"]) == (
        "Benali",
        "Samira",
        "samira.benali@example.org",
    )
    assert (person["phone"], person["legal_basis"], person["notice_version"]) == (
        "06 99 88 77 66",
        "consent",
        "PRE-2026-11",
    )
    again = await send(client, coordinator, programme, UPDATE.read_bytes(), "maj.csv", **consent)
    assert (again.json()["created"], again.json()["updated"], again.json()["unchanged"]) == (0, 0, 4)
    assert await Household.count() == 15
    assert await HouseholdEvent.count() == events_before + 5


async def test_personal_data_lands_only_in_its_own_table(client, as_user) -> None:
    coordinator = as_user("coordinator")
    programme = await programme_id(client, coordinator)
    await send(client, coordinator, programme, FIRST.read_bytes(), mode="valid_only")
    pseudonymous = json.dumps(
        [await Household.select(), await HouseholdEvent.select()], default=str, ensure_ascii=False
    )
    for secret in (*SECRETS, "Mère seule le soir", "coordonnées à venir"):
        assert secret not in pseudonymous, secret
    people = json.dumps(await HouseholdPerson.select(), default=str, ensure_ascii=False)
    assert all(secret in people for secret in SECRETS)
    assert "Mère seule le soir" not in people  # an ignored column is not kept anywhere
    first = (await households())["PRE-001"]
    person = await HouseholdPerson.select().where(HouseholdPerson.household == first["id"]).first()
    assert (person["legal_basis"], person["notice_version"], person["notice_given_on"]) == (
        "public_interest",
        "PRE-2026-09",
        datetime.date(2026, 10, 1),
    )
    for route in ("/api/v1/households?limit=500", f"/api/v1/households/{first['code']}"):
        answer = await client.get(route, headers=coordinator)
        assert answer.status_code == 200
        assert not any(secret in answer.text for secret in SECRETS), route


async def test_who_may_import_a_census(client, as_user) -> None:
    coordinator = as_user("coordinator")
    programme = await programme_id(client, coordinator)
    content = FIRST.read_bytes()
    for username in NEVER:  # refused exactly as recording a household is
        response = await send(client, as_user(username), programme, content, dry_run="true")
        household = await client.post(
            "/api/v1/households",
            json={"programme": programme, "qpv_code": "QN09301M"},
            headers=as_user(username),
        )
        assert (response.status_code, response.json()["code"]) == (403, "forbidden"), username
        assert (household.status_code, household.json()["code"]) == (403, "forbidden"), username
    admin = await send(client, as_user("admin"), programme, content, dry_run="true")
    assert (admin.status_code, admin.json()["code"]) == (403, "personal_data_not_allowed")
    absent = await send(client, coordinator, 999_999, content, dry_run="true")
    assert (absent.status_code, absent.json()["code"]) == (404, "not_found")
    assert await counts() == (0, 0, 0)

    # a referent (here a bus staff member) imports their own families and becomes their referent
    referent = as_user("bus_staff")
    mine = await send(client, referent, programme, UPDATE.read_bytes(), "maj.csv")
    assert mine.status_code == 201, mine.text
    bus_staff = (await User.select(User.id).where(User.username == "bus_staff").first())["id"]
    assert {row["referent"] for row in (await households()).values()} == {bus_staff}
    # the coordinator's file names the same references in the same organisation: they are the referent's
    theirs = await send(client, coordinator, programme, UPDATE.read_bytes(), "maj.csv", dry_run="true")
    assert (theirs.json()["unchanged"], theirs.json()["invalid"]) == (4, 0)
    # a referent may not update a family another referent follows
    await client.patch(
        f"/api/v1/households/{(await households())['PRE-003']['code']}",
        json={"referent": None},
        headers=coordinator,
    )
    refused = await send(client, referent, programme, UPDATE.read_bytes(), "maj.csv")
    assert refused.status_code == 422
    problems = refused.json()["report"]["problems"]
    assert [(p["row"], p["column"], p["code"]) for p in problems] == [
        (4, "Référence famille", "reference_not_yours")
    ]


@pytest.mark.parametrize(
    ("content", "fields", "code"),
    [
        (FIRST.read_bytes(), {"legal_basis": ""}, "legal_basis_required"),
        (FIRST.read_bytes(), {"legal_basis": "friendship"}, "bad_legal_basis"),
        (FIRST.read_bytes(), {"notice_version": ""}, "notice_required"),
        (FIRST.read_bytes(), {"mode": "most"}, "bad_mode"),
        ("Nom;QPV;École\nBenali;QN09301M;Jean-Jaurès\n".encode(), {}, "no_reference_column"),
        ("Numéro de série;Marque\nX1;Dell\n".encode(), {}, "no_census_header"),
        (b"", {}, "empty_file"),
    ],
)
async def test_a_file_that_cannot_be_imported_is_refused_with_its_code(
    client, as_user, content: bytes, fields: dict[str, str], code: str
) -> None:
    coordinator = as_user("coordinator")
    programme = await programme_id(client, coordinator)
    response = await send(client, coordinator, programme, content, **fields)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code
    assert await counts() == (0, 0, 0)


async def test_the_census_page_checks_then_imports_the_same_file_on_confirmation(client, as_user) -> None:
    coordinator = as_user("coordinator")
    programme = await programme_id(client, coordinator)
    page = as_user("coordinator", accept="text/html")
    form = await client.get(f"/programmes/{programme}/census", headers=page)
    assert form.status_code == 200
    assert 'id="census-form"' in form.text
    shown = await client.get(f"/programmes/{programme}", headers=page)
    assert f'href="/programmes/{programme}/census"' in shown.text

    fields = {"step": "check", **CONSENT}
    files = {"file": ("recensement.csv", FIRST.read_bytes(), "text/csv")}
    checked = await client.post(f"/programmes/{programme}/census", data=fields, files=files, headers=page)
    assert checked.status_code == 200, checked.text
    rows = re.findall(r'data-row="(\d+)" data-code="([a-z_]+)"', checked.text)
    assert rows == [(str(row), code) for row, _, code in ERRORS]
    assert "Observations" in checked.text  # the column left out is named
    assert await counts() == (0, 0, 0)
    content = re.search(r'name="content" value="([^"]+)"', checked.text).group(1)
    assert 'value="valid_only"' in checked.text
    assert 'value="all_or_nothing"' not in checked.text  # errors: only the valid rows can be imported

    confirm = {**CONSENT, "mode": "valid_only", "content": content, "filename": "recensement.csv"}
    multipart = {"step": (None, "import")}  # the confirm form is multipart, without a file
    url = f"/programmes/{programme}/census"
    imported = await client.post(url, data=confirm, files=multipart, headers=page)
    assert imported.status_code == 200, imported.text
    assert "14 foyers enregistrés, 0 mis à jour, 0 inchangés." in imported.text
    assert 'name="content"' not in imported.text
    assert await Household.count() == 14
    all_of_it = {**confirm, "mode": "all_or_nothing"}
    refused = await client.post(url, data=all_of_it, files=multipart, headers=page)
    assert refused.status_code == 422
    assert 'id="census-error"' in refused.text
    assert "rien n'a été importé" in html.unescape(refused.text)
    assert await Household.count() == 14
    for username in NEVER:
        assert (
            await client.get(f"/programmes/{programme}/census", headers=as_user(username))
        ).status_code == 403


async def test_the_command_line_checks_then_imports_the_valid_rows(
    client, as_user, database: str, tmp_path: Path
) -> None:
    programme = await programme_id(client, as_user("coordinator"))
    base = ["households", "import", str(FIRST), "--programme", str(programme), "--by", "coordinator"]
    consent = ["--legal-basis", "public_interest", "--notice-version", "PRE-2026-09"]
    checked = refurb([*base, *consent, "--dry-run"], database, tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "20 row(s): 14 valid, 6 with errors; 14 new, 0 updated, 0 unchanged" in checked.stdout
    assert "row 7, QPV: [unknown_qpv]" in checked.stderr
    refused = refurb([*base, *consent], database, tmp_path)
    assert refused.returncode != 0
    assert "[census_has_errors]" in refused.stderr
    assert await counts() == (0, 0, 0)
    imported = refurb([*base, *consent, "--valid-only"], database, tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert "(imported)" in imported.stdout
    assert await Household.count() == 14
    unnamed = refurb([*base, "--valid-only"], database, tmp_path)
    assert unnamed.returncode != 0
    assert "[legal_basis_required]" in unnamed.stderr


async def test_a_census_sent_twice_with_one_idempotency_key_is_imported_once(client, as_user) -> None:
    coordinator = as_user("coordinator")
    programme = await programme_id(client, coordinator)
    keyed = {**coordinator, "idempotency-key": "census-2027-01"}
    first = await send(client, keyed, programme, FIRST.read_bytes(), mode="valid_only")
    assert first.status_code == 201, first.text
    again = await send(client, keyed, programme, FIRST.read_bytes(), mode="valid_only")
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["idempotent-replayed"] == "true"  # the stored answer, not a second import
    assert "idempotent-replayed" not in first.headers
    assert await counts() == (14, 14 + len(VALID) - len(WITHOUT_PERSON), len(VALID) - len(WITHOUT_PERSON))
    other = await send(client, keyed, programme, UPDATE.read_bytes(), mode="valid_only")
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert len(await households()) == 14
