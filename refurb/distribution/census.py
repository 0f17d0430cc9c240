"""Importing a referent's census spreadsheet into a programme's households.

The file is read by `web.spreadsheet` (CSV in any usual encoding and separator,
or XLSX), its header matched leniently against what a social worker types
(« Réf. famille », « Âges des enfants », « Ordinateur(s) au foyer »…), and every
problem is reported with its row, column and code. Then, as for a donor's
manifest: a dry run changes nothing; `all_or_nothing` imports nothing when any
row has an error; `valid_only` imports the rows without errors.

Rules, chosen and kept:

- A row is one family, known by the referent's own reference: (programme,
  referring organisation, family reference) finds the household again, so a
  re-import updates it and never duplicates it. Each change writes a
  `HouseholdEvent` naming the fields changed, never their values.
- Children are stored as birth years, never ages: an age becomes
  *the import's year minus the age* (a child of 8 imported in 2027 is recorded
  as born in 2019; for a child whose birthday is still to come that year it is
  one year late, which the rules, that count in years, tolerate). Birth years
  are taken as given. When a row gives both, the birth years win.
- An empty cell says nothing: a new household gets the default (1 adult, no
  equipment, abilities unknown, waiting since today), an existing one keeps
  what it has. So a re-import never erases anything with empty cells — least
  of all personal data, which only a non-empty cell replaces (erasing is done
  on the household's page or by the purge). To say "no children" or "nothing
  asked", write « aucun ».
- Names, phone, address and email go to `HouseholdPerson` only, with the
  legal basis and the information-notice version given for the import.
- Households already decided (approved, equipped, declined, withdrawn) are
  left as they are: their row is reported as a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import functools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, Any, Literal

from refurb.accounts import service as accounts
from refurb.codes.service import mint
from refurb.core.aliases import normal_text
from refurb.core.codes import CodeType, parse_code
from refurb.core.errors import BadInput, DomainError, Forbidden
from refurb.core.i18n import N_, fill
from refurb.core.principal import Principal
from refurb.core.roles import Role
from refurb.db import fetch, is_sqlite, write_transaction
from refurb.distribution import service
from refurb.distribution.model import Ability, Equipment, HouseholdStatus, LegalBasis
from refurb.distribution.schemas import CensusLine, CensusReport
from refurb.distribution.tables import Household, HouseholdPerson
from refurb.intake.schemas import ProblemOut
from refurb.timestamps import utcnow
from refurb.web.i18n import gettext
from refurb.web.spreadsheet import (
    Dialect,
    Problem,
    SheetError,
    normal_header,
    sheet_rows,
    sniff_file,
)

__all__ = (
    "CENSUS_MAX_BYTES",
    "COLUMNS",
    "CensusOptions",
    "CensusRefused",
    "CensusReport",
    "census_options",
    "import_census",
    "read_census",
)

CENSUS_MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
HEADER_SEARCH_ROWS = 10
MAX_REPORTED_PROBLEMS = 1000
Mode = Literal["all_or_nothing", "valid_only"]
#: Households whose census row may still change them.
OPEN = frozenset({HouseholdStatus.CENSUS, HouseholdStatus.ELIGIBLE})

#: Field → header texts as a social worker types them (matched without case, accents, plurals).
COLUMNS: Mapping[str, tuple[str, ...]] = {
    "family_reference": (
        "Réf. famille", "Référence famille", "Réf", "Référence", "Référence dossier", "N° dossier",
        "Dossier", "Code famille", "Identifiant famille", "ID famille", "N° famille", "Réf. dossier",
    ),
    "qpv": ("QPV", "Code QPV", "Quartier", "Quartier prioritaire", "Quartier QPV"),
    "school": (
        "École", "Établissement", "Établissement scolaire", "Collège", "École fréquentée",
        "Établissement fréquenté",
    ),
    "adults": ("Nb adultes", "Nombre d'adultes", "Adultes", "Adultes au foyer"),
    "children_ages": ("Âges des enfants", "Âge des enfants", "Âges", "Enfants (âges)", "Âge enfants"),
    "children_birth_years": (
        "Années de naissance des enfants", "Année de naissance des enfants", "Années de naissance",
        "Naissance des enfants", "Enfants (années de naissance)",
    ),
    "computers": ("Ordinateur(s) au foyer", "Nb ordinateurs", "Ordinateurs", "PC au foyer"),
    "has_printer": ("Imprimante", "Imprimante au foyer", "A une imprimante"),
    "has_internet": ("Internet", "Internet au foyer", "Connexion internet", "Accès à internet"),
    "can_pay_rent": ("Peut payer un petit loyer", "Petit loyer", "Peut payer un loyer", "Loyer possible"),
    "can_install": ("Sait installer", "Sait installer le matériel", "Installation"),
    "can_use": ("Sait utiliser", "Sait utiliser un ordinateur", "Utilisation"),
    "training_accepted": ("Accepte une formation", "Formation acceptée", "Formation", "Accepte la formation"),
    "requests": ("Demande", "Besoin", "Équipement demandé", "Matériel demandé"),
    "social_hotel": ("Hébergé en hôtel social", "Hôtel social", "Hébergement en hôtel social"),
    "waiting_since": (
        "En attente depuis", "Attente depuis", "Date de demande", "Date de la demande", "Date d'inscription",
        "Inscrit le",
    ),
    "last_name": ("Nom", "Nom de famille", "Nom du parent", "Nom du responsable"),
    "first_name": ("Prénom", "Prénom du parent", "Prénom du responsable"),
    "phone": ("Téléphone", "Tél", "Portable", "N° de téléphone"),
    "postal_address": ("Adresse", "Adresse postale"),
    "email": ("Courriel", "Email", "E-mail", "Mail", "Adresse mail", "Adresse électronique"),
}  # fmt: skip
PERSONAL = ("last_name", "first_name", "phone", "postal_address", "email")
PERSONAL_LIMITS = {"last_name": 200, "first_name": 200, "phone": 40, "postal_address": 1000, "email": 254}
_YES_NO = ("has_printer", "has_internet", "training_accepted", "social_hotel")
_ABILITIES = ("can_pay_rent", "can_install", "can_use")

_HEADER_FILLERS = frozenset(
    {"a", "au", "aux", "en", "un", "une", "l", "s", "x", "et", "nb", "nbre", "nombre"}
)
_PARENTHESES = re.compile(r"\([^)]*\)")
_YES = frozenset({"oui", "o", "x", "1", "vrai", "yes", "y", "true", "ok"})
_NO = frozenset({"non", "n", "0", "faux", "no", "false"})
_UNKNOWN = frozenset({"?", "nsp", "ne sait pas", "inconnu", "je ne sais pas", "a voir"})
_NONE = frozenset({"aucun", "aucune", "neant", "rien", "-", "pas d'enfant", "sans enfant", "0 enfant"})
_LIST = re.compile(r"\s*(?:[,;/+&\n]|\bet\b)\s*")
_AGES_REST = re.compile(r"\d+|\bans?\b|\bmois\b|\bet\b|[,;/+&\s.-]")
_AGE = re.compile(r"(\d+)\s*(mois)?")
_DATE_FR = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})")
_DATE_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ][\d:.]+)?")
_PHONE = re.compile(r"[0-9 +().-]{4,40}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_REQUESTS: Mapping[str, Equipment] = {
    **{t: Equipment.LAPTOP for t in ("ordinateur portable", "portable", "pc portable", "ordi portable")},
    **{
        t: Equipment.DESKTOP
        for t in ("ordinateur fixe", "fixe", "pc fixe", "ordi fixe", "tour", "unite centrale")
    },
    **{t: Equipment.DESKTOP for t in ("ordinateur de bureau",)},
    **{t: Equipment.TABLET for t in ("tablette", "tablette numerique")},
    **{t: Equipment.PRINTER for t in ("imprimante",)},
    **{
        t: Equipment.CONNECTION
        for t in (
            "connexion",
            "connexion internet",
            "internet",
            "box",
            "box internet",
            "cle 4g",
            "4g",
            "modem",
        )
    },
    **{e.value: e for e in Equipment},
}


class CensusRefused(DomainError):
    """The census has errors and the user asked for all of it: nothing was imported."""

    code = "census_has_errors"


@dataclass(frozen=True, slots=True)
class CensusOptions:
    """What the user chose for an import."""

    dry_run: bool = True
    mode: Mode = "all_or_nothing"
    legal_basis: str | None = None  # public_interest | consent; needed when the file has personal data
    notice_version: str | None = None
    notice_given_on: datetime.date | None = None  # default: today
    referent: str | None = None  # coordinators: username of the referent of new households
    referring_organisation: str | None = None  # coordinators: default their own


_TRUE = frozenset({"true", "1", "yes", "on", "oui"})
_FALSE = frozenset({"false", "0", "no", "off", "non", ""})


def census_options(values: Mapping[str, Any]) -> CensusOptions:
    """The options of an upload form (API or page), checked."""
    dry_text = str(values.get("dry_run") or "").strip().lower()
    if dry_text not in _TRUE | _FALSE:
        raise BadInput(N_("dry_run is true or false."), code="bad_dry_run")
    mode = str(values.get("mode") or "all_or_nothing")
    if mode not in ("all_or_nothing", "valid_only"):
        message = N_("'{mode}' is not an import mode (all_or_nothing, valid_only).")
        raise BadInput(message, code="bad_mode", mode=mode[:20])
    given_on_text = str(values.get("notice_given_on") or "").strip()
    try:
        given_on = datetime.date.fromisoformat(given_on_text) if given_on_text else None
    except ValueError:
        raise BadInput(
            N_("'{value}' is not a date (YYYY-MM-DD)."),
            code="bad_notice_date",
            extra={"field": "notice_given_on"},
            value=given_on_text[:20],
        ) from None

    def text(name: str) -> str | None:
        return str(values.get(name) or "").strip() or None

    return CensusOptions(
        dry_run=dry_text in _TRUE,
        mode=mode,  # type: ignore[arg-type]
        legal_basis=text("legal_basis"),
        notice_version=text("notice_version"),
        notice_given_on=given_on,
        referent=text("referent"),
        referring_organisation=text("referring_organisation"),
    )


# --- reading (pure, no database) ---------------------------------------------


def _plain(text: str) -> str:
    """Lower case, no accents, single spaces: how a typed answer is compared."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).replace("\u2019", "'")
    return " ".join(plain.split()).strip(" .")


def header_key(text: str) -> str:
    """A header as compared: `normal_header`, without small words nor plural s."""
    words = [w for w in normal_header(text).split() if w not in _HEADER_FILLERS]
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words)


@functools.cache
def _lookup() -> dict[str, str]:
    return {header_key(text): name for name, texts in COLUMNS.items() for text in texts}


def _field_of(header: str) -> str | None:
    lookup = _lookup()
    found = lookup.get(header_key(header))
    if found is None and "(" in header:
        found = lookup.get(header_key(_PARENTHESES.sub(" ", header)))
    return found


@dataclass(frozen=True, slots=True)
class CensusRow:
    """One family as the file gives it: only the cells that are not empty."""

    row: int
    reference: str
    values: dict[str, Any]  # Household columns
    person: dict[str, str]  # HouseholdPerson columns


@dataclass(slots=True)
class CensusFile:
    """A census as read: how, which columns, the rows without errors and every problem."""

    dialect: Dialect
    header_row: int = 0
    columns: dict[str, int] = field(default_factory=dict)  # field → column index
    names: tuple[str, ...] = ()
    rows: list[CensusRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    seen: list[int] = field(default_factory=list)  # every non-empty row number
    invalid: set[int] = field(default_factory=set)

    def column_name(self, name: str) -> str | None:
        """The header text of a field's column."""
        index = self.columns.get(name)
        return self.names[index] if index is not None else None

    @property
    def has_personal_data(self) -> bool:
        """Whether the file has any personal-data column."""
        return any(name in self.columns for name in PERSONAL)

    @property
    def ignored(self) -> list[str]:
        """Header texts no field was recognised in."""
        used = set(self.columns.values())
        return [name for i, name in enumerate(self.names) if name and i not in used]


class _Row:
    """Checking one row: each cell to its column value, or a problem with the header text."""

    def __init__(self, census: CensusFile, number: int, raw: list[str]) -> None:
        self.census = census
        self.number = number
        self.raw = raw
        self.problems: list[Problem] = []

    def text(self, name: str) -> str:
        index = self.census.columns.get(name)
        if index is None or index >= len(self.raw):
            return ""
        return normal_text(self.raw[index])

    def problem(self, name: str, code: str, message: str, severity: str = "error", **params: Any) -> None:
        self.problems.append(
            Problem(self.number, self.census.column_name(name), code, message, params, severity)  # type: ignore[arg-type]
        )


def _whole(text: str) -> int | None:
    try:
        number = float(text.replace(",", ".").replace(" ", ""))
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def _yes_no(text: str) -> bool | None:
    plain = _plain(text)
    return True if plain in _YES else False if plain in _NO else None


def _date(text: str) -> datetime.date | None:
    try:
        if found := _DATE_FR.fullmatch(text):
            day, month, year = (int(g) for g in found.groups())
            return datetime.date(year + 2000 if year < 100 else year, month, day)
        if found := _DATE_ISO.fullmatch(text):
            return datetime.date(*(int(g) for g in found.groups()))
    except ValueError:
        return None
    return None


def _ages(row: _Row, text: str, reference_year: int) -> list[int] | None:
    plain = _plain(text)
    if _AGES_REST.sub("", plain) or not re.search(r"\d", plain):
        message = N_("'{value}' is not a list of ages (write them like 8, 13 or 8 ans / 13 ans).")
        row.problem("children_ages", "bad_child_age", message, value=text[:40])
        return None
    years = []
    for number, months in _AGE.findall(plain):
        age = 0 if months else int(number)
        if not 0 <= age <= service.MAX_CHILD_AGE:
            message = N_("A child's age is 0 to {limit}, not {value}.")
            row.problem("children_ages", "bad_child_age", message, value=number, limit=service.MAX_CHILD_AGE)
            return None
        years.append(reference_year - age)
    return sorted(years)


def _birth_years(row: _Row, text: str, reference_year: int) -> list[int] | None:
    parts = [part for part in re.split(r"[\s,;/+&]+|\bet\b", _plain(text)) if part]
    first = reference_year - service.MAX_CHILD_AGE
    years = []
    for part in parts:
        year = int(part) if part.isdigit() else None
        if year is None or not first <= year <= reference_year:
            message = N_("'{value}' is not a child's birth year (from {first} to {last}).")
            row.problem(
                "children_birth_years",
                "bad_birth_year",
                message,
                value=part[:20],
                first=first,
                last=reference_year,
            )
            return None
        years.append(year)
    return sorted(years)


def _requests(row: _Row, text: str) -> list[str] | None:
    out: list[str] = []
    for part in _LIST.split(_plain(text)):
        if not part:
            continue
        wanted = _REQUESTS.get(part.replace("-", " "))
        if wanted is None:
            message = N_(
                "'{value}' is not a request Refurb knows (ordinateur portable, ordinateur fixe, tablette, "
                "imprimante, connexion)."
            )
            row.problem("requests", "bad_request", message, value=part[:40])
            return None
        if wanted.value not in out:
            out.append(wanted.value)
    return out


def _qpv(row: _Row, text: str, qpvs: Mapping[str, str]) -> str | None:
    compact = re.sub(r"\s+", "", text).upper()
    if compact in qpvs:
        return compact
    wanted = normal_header(text)
    for code, name in qpvs.items():
        if wanted == normal_header(name):
            return code
    message = N_("'{value}' is not a QPV of the programme (known: {known}).")
    known = ", ".join(f"{code} {name}" for code, name in sorted(qpvs.items())) or "-"
    row.problem("qpv", "unknown_qpv", message, value=text[:40], known=known)
    return None


def _check_row(
    row: _Row, qpvs: Mapping[str, str], reference_year: int, today: datetime.date
) -> tuple[dict[str, Any], dict[str, str]]:
    """The household and person values of a row's non-empty cells; problems go on `row`."""
    values: dict[str, Any] = {}
    if text := row.text("qpv"):
        found = _qpv(row, text, qpvs)
        if found:
            values["qpv_code"] = found
    if text := row.text("school"):
        if len(text) > service.NAME_MAX:
            row.problem("school", "too_long", N_("At most {limit} characters."), limit=service.NAME_MAX)
        values["school"] = text
    if text := row.text("adults"):
        adults = _whole(text)
        if adults is None or not 1 <= adults <= service.MAX_ADULTS:
            message = N_("'{value}' is not a number of adults (1 to {limit}).")
            row.problem("adults", "bad_adults", message, value=text[:20], limit=service.MAX_ADULTS)
        else:
            values["adults"] = adults
    ages_text, years_text = row.text("children_ages"), row.text("children_birth_years")
    if years_text:
        years = [] if _plain(years_text) in _NONE else _birth_years(row, years_text, reference_year)
        if years is not None:
            values["children_birth_years"] = years
        if ages_text:
            message = N_("Both ages and birth years are given: the birth years are kept.")
            row.problem("children_ages", "ages_ignored", message, "warning")
    elif ages_text:
        years = [] if _plain(ages_text) in _NONE else _ages(row, ages_text, reference_year)
        if years is not None:
            values["children_birth_years"] = years
    if text := row.text("computers"):
        count = _whole(text)
        if count is None:
            answer = _yes_no(text)
            count = None if answer is None else int(answer)
        if count is None or not 0 <= count <= service.MAX_COMPUTERS:
            message = N_("'{value}' is not a number of computers (0 to {limit}, or oui / non).")
            row.problem("computers", "bad_computers", message, value=text[:20], limit=service.MAX_COMPUTERS)
        else:
            values["computers"] = count
    for name in _YES_NO:
        if text := row.text(name):
            answer = _yes_no(text)
            if answer is None:
                message = N_("'{value}' is not a yes or no (oui, non, o, n, x, 1, 0, vrai, faux).")
                row.problem(name, "bad_yes_no", message, value=text[:20])
            else:
                values[name] = answer
    for name in _ABILITIES:
        if text := row.text(name):
            answer = _yes_no(text)
            if answer is None and _plain(text) not in _UNKNOWN:
                message = N_("'{value}' is not a yes, no or ? (oui, non, o, n, x, 1, 0, vrai, faux, ?).")
                row.problem(name, "bad_yes_no", message, value=text[:20])
            else:
                values[name] = (
                    Ability.UNKNOWN if answer is None else Ability.YES if answer else Ability.NO
                ).value
    if text := row.text("requests"):
        wanted = [] if _plain(text) in _NONE else _requests(row, text)
        if wanted is not None:
            values["requests"] = wanted
    if text := row.text("waiting_since"):
        since = _date(text)
        if since is None:
            message = N_("'{value}' is not a date (write it like 14/09/2026).")
            row.problem("waiting_since", "bad_date", message, value=text[:20])
        elif since > today:
            message = N_("A household cannot be waiting since a future date.")
            row.problem("waiting_since", "bad_waiting_since", message)
        else:
            values["waiting_since"] = since
    person: dict[str, str] = {}
    for name in PERSONAL:
        if not (text := row.text(name)):
            continue
        if len(text) > PERSONAL_LIMITS[name]:
            row.problem(name, "too_long", N_("At most {limit} characters."), limit=PERSONAL_LIMITS[name])
        elif name == "phone" and not _PHONE.fullmatch(text):
            message = N_("'{value}' is not a phone number.")
            row.problem(name, "bad_phone", message, value=text[:40])
        elif name == "email" and not _EMAIL.fullmatch(text):
            message = N_("'{value}' is not an email address.")
            row.problem(name, "bad_email", message, value=text[:60])
        else:
            person[name] = text
    return values, person


def _map(census: CensusFile, head: list[list[str]]) -> None:
    """Find the header among the first rows: the one where most fields are recognised."""
    best: tuple[int, int, dict[str, int]] | None = None
    for index, header in enumerate(head):
        columns: dict[str, int] = {}
        for position, text in enumerate(header):
            name = _field_of(text) if text.strip() else None
            if name and name not in columns:
                columns[name] = position
        if len(columns) and (best is None or len(columns) > best[0]):
            best = (len(columns), index, columns)
    if best is None:
        raise SheetError(
            "no_census_header",
            N_("No census column was recognised in the first rows (expected e.g. Réf. famille, QPV, École)."),
        )
    _, index, columns = best
    census.header_row = index + 1
    census.columns = columns
    census.names = tuple(normal_text(cell) for cell in head[index])
    if "family_reference" not in columns:
        raise SheetError(
            "no_reference_column",
            N_("No family reference column (Réf. famille) was found (columns: {known}): add one."),
            known=", ".join(n for n in census.names if n) or "-",
        )


def read_census(
    file: IO[bytes], qpvs: Mapping[str, str], *, reference_year: int, today: datetime.date
) -> CensusFile:
    """Read and check a whole census file (it is small: at most `MAX_ROWS` families)."""
    census = CensusFile(sniff_file(file))
    rows = sheet_rows(file, census.dialect)
    head: list[list[str]] = []
    for raw in rows:
        head.append(raw)
        if len(head) >= HEADER_SEARCH_ROWS:
            break
    if not any(any(c.strip() for c in r) for r in head):
        raise SheetError("empty_file", N_("The file is empty."))
    _map(census, head)
    references: dict[str, int] = {}
    number = census.header_row
    for raw in [*head[census.header_row :], *rows]:
        number += 1
        if not any(cell.strip() for cell in raw):
            continue
        census.seen.append(number)
        if len(census.seen) > MAX_ROWS:
            raise SheetError(
                "too_many_rows", N_("A census has at most {limit} families: split the file."), limit=MAX_ROWS
            )
        row = _Row(census, number, raw)
        reference = row.text("family_reference")
        if not reference:
            row.problem("family_reference", "missing_reference", N_("The row has no family reference."))
        elif len(reference) > 100:
            row.problem("family_reference", "too_long", N_("At most {limit} characters."), limit=100)
        else:
            first = references.setdefault(reference.casefold(), number)
            if first != number:
                message = N_("The family reference {value} is already on row {first}.")
                row.problem("family_reference", "duplicate_reference", message, value=reference, first=first)
        values, person = _check_row(row, qpvs, reference_year, today)
        census.problems.extend(row.problems)
        if any(p.severity == "error" for p in row.problems):
            census.invalid.add(number)
        else:
            census.rows.append(CensusRow(number, reference, values, person))
    return census


# --- importing ---------------------------------------------------------------


@dataclass(slots=True)
class _Plan:
    """What the import does (or would do), row by row."""

    creates: list[CensusRow] = field(default_factory=list)
    updates: list[tuple[dict[str, Any], CensusRow, list[str], list[str]]] = field(default_factory=list)
    lines: list[CensusLine] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    invalid: set[int] = field(default_factory=set)
    unchanged: int = 0
    skipped: int = 0


def _changes(existing: Mapping[str, Any], values: Mapping[str, Any]) -> list[str]:
    return sorted(name for name, value in values.items() if service.stored(name, existing[name]) != value)


async def _plan(
    census: CensusFile,
    programme_id: int,
    organisation_id: int,
    qpvs: Mapping[str, str],
    principal: Principal,
) -> _Plan:
    """Match the rows to the households the referent already has; say what changes."""
    plan = _Plan()
    references = [row.reference for row in census.rows]
    existing: dict[str, dict[str, Any]] = {}
    for start in range(0, len(references), 500):
        part = references[start : start + 500]
        for found in await Household.select().where(
            (Household.programme == programme_id)
            & (Household.referring_organisation == organisation_id)
            & Household.family_reference.is_in(part)
        ):
            existing[found["family_reference"]] = found
    persons: dict[int, dict[str, Any]] = {}
    ids = [h["id"] for h in existing.values()]
    for start in range(0, len(ids), 500):
        for person in await HouseholdPerson.select().where(
            HouseholdPerson.household.is_in(ids[start : start + 500])
        ):
            persons[person["household"]] = person
    column = census.column_name
    only_qpv = next(iter(qpvs)) if len(qpvs) == 1 else None
    for row in census.rows:
        found = existing.get(row.reference)
        if found is None:
            if "qpv_code" not in row.values and only_qpv is None:
                message = N_("A new family needs its QPV.")
                plan.problems.append(Problem(row.row, column("qpv"), "missing_qpv", message))
                plan.invalid.add(row.row)
                continue
            plan.creates.append(row)
            plan.lines.append(
                CensusLine(row=row.row, reference=row.reference, household=None, action="create")
            )
            continue
        code = parse_code(found["code"]).display
        ref = service.HouseholdRef(
            found["id"], found["code"], programme_id, found["referent"], HouseholdStatus(found["status"]), 1
        )
        if not service.may_see_household(principal, ref):
            message = N_("The family reference {value} is household {ref}, which another referent follows.")
            plan.problems.append(
                Problem(
                    row.row,
                    column("family_reference"),
                    "reference_not_yours",
                    message,
                    {"value": row.reference, "ref": code},
                )
            )
            plan.invalid.add(row.row)
            continue
        status = HouseholdStatus(found["status"])
        if status not in OPEN:
            message = N_("Household {ref} is {status}: this row leaves it as it is.")
            plan.problems.append(
                Problem(
                    row.row,
                    column("family_reference"),
                    "household_decided",
                    message,
                    {"ref": code, "status": status},
                    "warning",
                )
            )
            plan.skipped += 1
            plan.lines.append(
                CensusLine(row=row.row, reference=row.reference, household=found["code"], action="skip")
            )
            continue
        changed = _changes(found, row.values)
        person = persons.get(found["id"])
        person_changed = sorted(
            name for name, value in row.person.items() if person is None or person[name] != value
        )
        if changed or person_changed:
            plan.updates.append((found, row, changed, person_changed))
            action = "update"
        else:
            plan.unchanged += 1
            action = "unchanged"
        plan.lines.append(
            CensusLine(
                row=row.row,
                reference=row.reference,
                household=found["code"],
                action=action,
                changed=changed + [f"personal_data.{n}" for n in person_changed],
            )
        )
    return plan


@dataclass(frozen=True, slots=True)
class _Consent:
    legal_basis: str
    notice_version: str
    notice_given_on: datetime.date


async def _write(
    plan: _Plan,
    programme_id: int,
    organisation_id: int,
    referent_id: int | None,
    consent: _Consent | None,
    actor: service.Actor,
    only_qpv: str | None,
) -> dict[int, str]:
    """Create and update the households of the plan; their events; their personal data."""
    today = datetime.date.today()
    now = utcnow()
    codes = await mint(CodeType.HOUSEHOLD, len(plan.creates))
    created: dict[int, str] = {}
    if plan.creates:
        rows = []
        for code, row in zip(codes, plan.creates, strict=True):
            values = dict(row.values)
            rows.append(
                Household(
                    code=code.compact,
                    programme=programme_id,
                    qpv_code=values.pop("qpv_code", only_qpv),
                    referring_organisation=organisation_id,
                    referent=referent_id,
                    family_reference=row.reference,
                    status=HouseholdStatus.CENSUS.value,
                    version=1,
                    waiting_since=values.pop("waiting_since", today),
                    last_activity_at=now,
                    **values,
                )
            )
        inserted = await Household.insert(*rows).returning(Household.id, Household.code)
        ids = {r["code"]: r["id"] for r in inserted}
        for code, row in zip(codes, plan.creates, strict=True):
            created[row.row] = code.compact
            household_id = ids[code.compact]
            await service.record_event(
                household_id, "create", None, HouseholdStatus.CENSUS.value, actor, payload={"via": "census"}
            )
            if row.person and consent is not None:
                await HouseholdPerson.insert(
                    HouseholdPerson(
                        household=household_id,
                        **row.person,
                        legal_basis=consent.legal_basis,
                        notice_version=consent.notice_version,
                        notice_given_on=consent.notice_given_on,
                    )
                )
                changed = sorted(set(row.person) | {"legal_basis", "notice_version", "notice_given_on"})
                await service.record_event(
                    household_id,
                    "personal_data",
                    HouseholdStatus.CENSUS.value,
                    HouseholdStatus.CENSUS.value,
                    actor,
                    payload={"changed": changed, "via": "census"},
                )
    for found, row, changed, person_changed in plan.updates:
        status = found["status"]
        if changed:
            await Household.update({**{n: row.values[n] for n in changed}, "last_activity_at": now}).where(
                Household.id == found["id"]
            )
            await service.record_event(
                found["id"], "update", status, status, actor, payload={"changed": changed, "via": "census"}
            )
        if person_changed and consent is not None:
            given = {name: row.person[name] for name in person_changed}
            basis = {
                "legal_basis": consent.legal_basis,
                "notice_version": consent.notice_version,
                "notice_given_on": consent.notice_given_on,
            }
            exists = await HouseholdPerson.exists().where(HouseholdPerson.household == found["id"])
            if exists:
                await HouseholdPerson.update({**given, **basis}).where(
                    HouseholdPerson.household == found["id"]
                )
            else:
                await HouseholdPerson.insert(HouseholdPerson(household=found["id"], **given, **basis))
            if not changed:
                await Household.update({Household.last_activity_at: now}).where(Household.id == found["id"])
            await service.record_event(
                found["id"],
                "personal_data",
                status,
                status,
                actor,
                payload={"changed": sorted(person_changed), "via": "census"},
            )
    return created


def _consent(options: CensusOptions, census: CensusFile, principal: Principal) -> _Consent | None:
    """The legal basis and notice of the personal data the file carries; refusals change nothing."""
    if not census.has_personal_data:
        return None
    if principal.role is Role.ADMIN:
        raise Forbidden(
            N_("The file holds personal data (names, contacts): a coordinator or the referent imports it."),
            code="personal_data_not_allowed",
        )
    columns = ", ".join(n for n in (census.column_name(p) for p in PERSONAL) if n)
    if not options.legal_basis:
        raise BadInput(
            N_("The file holds personal data ({columns}): say its legal basis (public_interest or consent)."),
            code="legal_basis_required",
            extra={"field": "legal_basis"},
            columns=columns,
        )
    try:
        basis = LegalBasis(options.legal_basis)
    except ValueError:
        raise BadInput(
            N_("'{basis}' is not a legal basis (known: public_interest, consent)."),
            code="bad_legal_basis",
            extra={"field": "legal_basis"},
            basis=options.legal_basis[:20],
        ) from None
    notice = (options.notice_version or "").strip()
    if not notice:
        raise BadInput(
            N_("Say which version of the information notice was given."),
            code="notice_required",
            extra={"field": "notice_version"},
        )
    if len(notice) > 40:
        raise BadInput(
            N_("At most {limit} characters."), code="too_long", extra={"field": "notice_version"}, limit=40
        )
    given_on = options.notice_given_on or datetime.date.today()
    if given_on > datetime.date.today():
        raise BadInput(
            N_("The information notice cannot be given in the future."),
            code="bad_notice_date",
            extra={"field": "notice_given_on"},
        )
    return _Consent(basis.value, notice, given_on)


def _bad_file(error: SheetError) -> BadInput:
    return BadInput(error.message, code=error.code, **error.params)


def _problem_out(problem: Problem) -> ProblemOut:
    return ProblemOut(
        row=problem.row,
        column=problem.column,
        code=problem.code,
        message=fill(problem.message, problem.params, gettext),
        severity=problem.severity,
    )


async def import_census(
    programme_id: int,
    file: IO[bytes],
    filename: str,
    options: CensusOptions,
    principal: Principal,
) -> CensusReport:
    """Check a census (dry run) or import it; the report says what was (or would be) done.

    `all_or_nothing` with any error row imports nothing and raises `CensusRefused`
    carrying the report; `valid_only` imports the rows without errors.
    """
    if principal.role in service.NO_PERSONAL_DATA:
        raise Forbidden(N_("A {role} may not record households."), role=principal.role)
    if options.mode not in ("all_or_nothing", "valid_only"):
        raise BadInput(
            N_("'{mode}' is not an import mode (all_or_nothing, valid_only)."),
            code="bad_mode",
            mode=str(options.mode)[:20],
        )
    programme = await service.get_programme(programme_id)
    qpvs = {q.code: q.name for q in programme.qpvs}
    managing = principal.role in service.HOUSEHOLD_MANAGERS
    if managing:
        try:
            referent_id = await service.referent_user(options.referent)
        except DomainError as error:  # an unknown or unfit username: the form's field to correct
            error.extra.setdefault("field", "referent")
            raise
        organisation_id = (
            await accounts.organisation_id(" ".join(options.referring_organisation.split()))
            if options.referring_organisation
            else principal.organisation_id
        )
    else:
        if options.referent or options.referring_organisation:
            raise Forbidden(N_("Only a coordinator imports a census for another referent or organisation."))
        referent_id, organisation_id = principal.user_id, principal.organisation_id
    file.seek(0, 2)
    size = file.tell()
    file.seek(0)
    if size == 0:
        raise BadInput(N_("The file is empty."), code="empty_file")
    if size > CENSUS_MAX_BYTES:
        raise BadInput(
            N_("A census file is at most {limit} bytes."), code="file_too_large", limit=CENSUS_MAX_BYTES
        )
    today = datetime.date.today()
    try:
        census = await asyncio.to_thread(read_census, file, qpvs, reference_year=today.year, today=today)
    except SheetError as error:
        raise _bad_file(error) from None
    consent = _consent(options, census, principal)
    writing = not options.dry_run
    refused = False
    created: dict[int, str] = {}
    async with write_transaction() if writing else contextlib.nullcontext():
        if writing and not is_sqlite():  # one import per referent's organisation and programme at a time
            await fetch(
                "SELECT pg_advisory_xact_lock(hashtext({}))", f"census:{programme_id}:{organisation_id}"
            )
        plan = await _plan(census, programme_id, organisation_id, qpvs, principal)
        invalid = census.invalid | plan.invalid
        refused = writing and options.mode == "all_or_nothing" and bool(invalid)
        if writing and not refused:
            only_qpv = next(iter(qpvs)) if len(qpvs) == 1 else None
            created = await _write(
                plan,
                programme_id,
                organisation_id,
                referent_id,
                consent,
                service.Actor.of(principal),
                only_qpv,
            )
    problems = sorted([*census.problems, *plan.problems], key=lambda p: p.row)
    lines = sorted(plan.lines, key=lambda line: line.row)
    if created:
        lines = [
            line.model_copy(update={"household": created[line.row]}) if line.row in created else line
            for line in lines
        ]
    status = "refused" if refused else ("imported" if writing else "checked")
    mapping = {name: census.names[index] for name, index in census.columns.items()}
    report = CensusReport(
        programme=programme_id,
        filename=filename[-255:],
        size=size,
        format=census.dialect.format,
        encoding=census.dialect.encoding,
        delimiter=census.dialect.delimiter,
        header_row=census.header_row,
        mapping=mapping,
        columns=[n for n in census.names if n],
        ignored_columns=census.ignored,
        reference_year=today.year,
        dry_run=options.dry_run,
        mode=options.mode,
        status=status,  # type: ignore[arg-type]
        rows=len(census.seen),
        valid=len(census.seen) - len(invalid),
        invalid=len(invalid),
        warnings=sum(1 for p in problems if p.severity == "warning"),
        created=len(plan.creates) if not refused else 0,
        updated=len(plan.updates) if not refused else 0,
        unchanged=plan.unchanged,
        skipped=plan.skipped,
        problems=[_problem_out(p) for p in problems[:MAX_REPORTED_PROBLEMS]],
        problems_total=len(problems),
        lines=lines if not refused else [],
    )
    if refused:
        raise CensusRefused(
            N_(
                "{count} rows have errors: nothing was imported. Correct them, or import the valid rows only."
            ),
            count=len(invalid),
            extra={"report": report.model_dump(mode="json")},
        )
    return report
