"""Reading a donor's asset list: CSV or XLSX, any usual encoding and separator, rows checked.

The file itself is read by `web.spreadsheet` (shared with the other importers).
Pure code over a binary file: it streams (memory does not grow with the file),
reports every problem with its row and column, and knows nothing of the
database. Rows are numbered as a spreadsheet shows them (the header is row 1).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from refurb.core.aliases import is_placeholder_serial, normal_asset_tag, normal_serial, normal_text
from refurb.core.i18n import N_
from refurb.core.kinds import DeviceKind
from refurb.intake.profiles import FIELDS, PROFILES, kind_of
from refurb.web.spreadsheet import Dialect, Problem, SheetError, normal_header, sheet_rows, sniff_file

__all__ = ("Dialect", "ManifestError", "ManifestRow", "Mapping_", "Problem", "Reader", "read_manifest")

MAX_CELL = 500
MAX_DISKS = 32
HEADER_SEARCH_ROWS = 10
# Several values in one cell: GLPI joins components with <br> (or a new line, or its
# internal $#$ separators); spreadsheets use commas, semicolons, slashes.
_MULTI = re.compile(r"\s*(?:<br\s*/?>|<hr\s*/?>|\$\$##\$\$|\$#\$|\r?\n)\s*", re.IGNORECASE)
_MAYBE_MULTI = re.compile(r"[<$\n]")
_LIST_SPLIT = re.compile(r"[,;|/\s]+")


#: A file that cannot be read at all; the name the importer has always used.
ManifestError = SheetError


@dataclass(frozen=True, slots=True)
class ManifestRow:
    """One device as the donor declared it."""

    row: int
    serial: str | None
    asset_tag: str | None
    kind: DeviceKind
    manufacturer: str
    model: str
    cpu: str
    ram: str
    storage: str
    disks: int | None
    disk_serials: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Mapping_:
    """Which column holds which field."""

    profile: str
    header_row: int
    columns: Mapping[str, int]  # field → column index
    names: tuple[str, ...]  # the header texts

    def column_name(self, field_name: str) -> str | None:
        """The header text of a field's column."""
        index = self.columns.get(field_name)
        return self.names[index] if index is not None else None


class Reader:
    """One pass over a manifest: the mapping, then rows and problems in file order."""

    def __init__(
        self,
        file: IO[bytes],
        *,
        profile: str | None = None,
        overrides: Mapping[str, str] | None = None,
        default_kind: DeviceKind | None = None,
    ) -> None:
        self.file = file
        self.dialect = sniff_file(file)
        self.profile_name = profile
        self.overrides = dict(overrides or {})
        self.default_kind = default_kind
        self.mapping: Mapping_ | None = None
        self._serials: dict[str, int] = {}
        self._tags: dict[str, int] = {}

    def _raw_rows(self) -> Iterator[list[str]]:
        return sheet_rows(self.file, self.dialect)

    def _map(self, candidates: list[list[str]]) -> Mapping_:
        profiles = [PROFILES[self.profile_name]] if self.profile_name else list(PROFILES.values())
        best: tuple[tuple[int, bool], int, str, dict[str, int]] | None = None
        for index, header in enumerate(candidates):
            normal = [normal_header(cell) for cell in header]
            for profile in profiles:
                lookup = profile.lookup()
                columns: dict[str, int] = {}
                for position, name in enumerate(normal):
                    field_name = lookup.get(name)
                    if field_name and field_name not in columns:
                        columns[field_name] = position
                # most recognised columns wins; a tool's own layout wins a tie with the generic one
                score = (len(columns), profile.name != "generic")
                if best is None or score > best[0]:
                    best = (score, index, profile.name, columns)
        if best is None:
            raise ManifestError("empty_file", N_("The file is empty."))
        _, header_index, profile_name, columns = best
        names = tuple(normal_text(cell) for cell in candidates[header_index])
        normal_names = [normal_header(name) for name in names]
        for field_name, column in self.overrides.items():
            if field_name not in FIELDS:
                raise ManifestError(
                    "bad_mapping",
                    N_("'{field}' is not a manifest field (known: {known})."),
                    field=field_name,
                    known=", ".join(FIELDS),
                )
            if not column:
                columns.pop(field_name, None)
                continue
            wanted = normal_header(column)
            if wanted not in normal_names:
                raise ManifestError(
                    "bad_mapping",
                    N_("The file has no column '{column}' (its columns: {known})."),
                    column=column,
                    known=", ".join(names),
                )
            columns[field_name] = normal_names.index(wanted)
        if "serial" not in columns and "asset_tag" not in columns:
            raise ManifestError(
                "no_identifier_column",
                N_("No serial number nor asset tag column was recognised (columns: {known}): map one."),
                known=", ".join(n for n in names if n) or "-",
            )
        return Mapping_(profile_name, header_index + 1, columns, names)

    def __iter__(self) -> Iterator[ManifestRow | Problem]:
        """Rows and problems; `mapping` is known once the first item is out."""
        rows = self._raw_rows()
        head: list[list[str]] = []
        for raw in rows:
            head.append(raw)
            if len(head) >= HEADER_SEARCH_ROWS:
                break
        non_empty = [r for r in head if any(c.strip() for c in r)]
        if not non_empty:
            raise ManifestError("empty_file", N_("The file is empty."))
        self.mapping = self._map(head)
        number = self.mapping.header_row
        for raw in head[self.mapping.header_row :]:
            number += 1
            yield from self._row(number, raw)
        for raw in rows:
            number += 1
            yield from self._row(number, raw)

    def _value(self, raw: list[str], field_name: str) -> str:
        assert self.mapping is not None
        index = self.mapping.columns.get(field_name)
        if index is None or index >= len(raw):
            return ""
        cell = raw[index]
        if not _MAYBE_MULTI.search(cell):
            return normal_text(cell)[:MAX_CELL]
        parts = (normal_text(part) for part in _MULTI.split(cell))
        return " + ".join(part for part in parts if part)[:MAX_CELL]

    def _problem(
        self, number: int, field_name: str, code: str, message: str, severity: str = "error", **params: Any
    ) -> Problem:
        assert self.mapping is not None
        column = self.mapping.column_name(field_name)
        if column is None and field_name == "serial":
            column = self.mapping.column_name("asset_tag")
        return Problem(number, column, code, message, params, severity)  # type: ignore[arg-type]

    def _row(self, number: int, raw: list[str]) -> Iterator[ManifestRow | Problem]:
        if not any(cell.strip() for cell in raw):
            return
        problem = self._problem
        problems: list[Problem] = []
        serial_text = self._value(raw, "serial")
        serial: str | None = normal_serial(serial_text) or None
        if serial and is_placeholder_serial(serial_text):
            message = N_("'{value}' is a placeholder, not a serial number: ignored.")
            problems.append(
                problem(number, "serial", "placeholder_serial", message, "warning", value=serial_text)
            )
            serial = None
        if serial and len(serial) > 100:
            problems.append(problem(number, "serial", "bad_serial", N_("The serial number is too long.")))
        tag = normal_asset_tag(self._value(raw, "asset_tag")) or None
        if tag and len(tag) > 100:
            problems.append(problem(number, "asset_tag", "bad_asset_tag", N_("The asset tag is too long.")))
        if serial is None and tag is None:
            message = N_("The row has neither a serial number nor an asset tag.")
            problems.append(problem(number, "serial", "no_identifier", message))
        if serial is not None:
            first = self._serials.setdefault(serial, number)
            if first != number:
                message = N_("Serial {value} is already on row {first}.")
                problems.append(
                    problem(number, "serial", "duplicate_in_file", message, value=serial, first=first)
                )
        if tag is not None:
            first = self._tags.setdefault(tag, number)
            if first != number:
                message = N_("Asset tag {value} is already on row {first}.")
                problems.append(
                    problem(number, "asset_tag", "duplicate_in_file", message, value=tag, first=first)
                )
        kind_text = self._value(raw, "kind")
        kind = kind_of(kind_text) if kind_text else None
        if kind is None:
            kind = self.default_kind or DeviceKind.OTHER
            if kind_text:
                message = N_("'{value}' is not a kind Refurb knows: recorded as {kind}.")
                problems.append(
                    problem(number, "kind", "unknown_kind", message, "warning", value=kind_text, kind=kind)
                )
            elif self.default_kind is None:
                message = N_("No kind given: recorded as {kind} (choose a kind for rows without one).")
                problems.append(problem(number, "kind", "no_kind", message, "warning", kind=kind))
        disks: int | None = None
        disks_text = self._value(raw, "disks")
        if disks_text:
            try:
                number_of_disks = float(disks_text.replace(",", "."))
                disks = int(number_of_disks)
                if disks < 0 or disks > MAX_DISKS or number_of_disks != disks:
                    raise ValueError
            except ValueError:
                message = N_("'{value}' is not a number of disks (0 to 32).")
                problems.append(problem(number, "disks", "bad_disk_count", message, value=disks_text))
                disks = None
        listed = self._value(raw, "disk_serials").replace(" + ", " ")
        parts = (normal_serial(part) for part in _LIST_SPLIT.split(listed))
        disk_serials = tuple(dict.fromkeys(part for part in parts if part))
        if disks is not None and len(disk_serials) > disks:
            message = N_("{count} disk serials for {disks} disks.")
            problems.append(
                problem(number, "disks", "disk_count_mismatch", message, count=len(disk_serials), disks=disks)
            )
        yield from problems
        if any(p.severity == "error" for p in problems):
            return
        yield ManifestRow(
            row=number,
            serial=serial,
            asset_tag=tag,
            kind=kind,
            manufacturer=self._value(raw, "manufacturer")[:100],
            model=self._value(raw, "model")[:200],
            cpu=self._value(raw, "cpu")[:200],
            ram=self._value(raw, "ram")[:100],
            storage=self._value(raw, "storage")[:200],
            disks=disks if disks is not None else (len(disk_serials) or None),
            disk_serials=disk_serials,
        )


def read_manifest(
    file: IO[bytes],
    *,
    profile: str | None = None,
    overrides: Mapping[str, str] | None = None,
    default_kind: DeviceKind | None = None,
) -> Reader:
    """A reader over `file` (rewound); iterate it for rows and problems."""
    if profile is not None and profile not in PROFILES:
        raise ManifestError(
            "unknown_profile",
            N_("'{profile}' is not a known export (known: {known})."),
            profile=profile,
            known=", ".join(PROFILES),
        )
    return Reader(file, profile=profile, overrides=overrides, default_kind=default_kind)
