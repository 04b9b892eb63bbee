"""Importing a union's member list: rows checked one by one, matched on employee id or
phone within the organization, written a batch per transaction."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from core.errors import Refused
from core.settings import LANGUAGES
from services import membership, roles, units
from services.imports import (
    BATCH,
    OnError,
    OnProgress,
    Outcome,
    RowError,
    Summary,
    batches,
    cell,
    columns,
    fold,
    unit_key,
)
from services.phones import normalize_phone
from services.roster import new_codes
from services.sheets import UNREADABLE, Sheet
from storage import roster
from storage.db import reading, transaction
from storage.digests import units_under
from storage.models import Member, RosterEntry, Unit
from storage.seen_keys import SeenKeys
from storage.units import unit_by_id

logger = logging.getLogger(__name__)

# The headers each column is recognised by (case, diacritics and punctuation aside).
NAMES: dict[str, tuple[str, ...]] = {
    "name": ("Họ và tên", "họ tên", "tên", "name", "full name", "nama", "nama lengkap"),
    "employee_id": (
        "Mã nhân viên",
        "mã nv",
        "msnv",
        "mã số",
        "mã số nhân viên",
        "employee id",
        "employee no",
        "id karyawan",
        "nomor karyawan",
        "nik",
    ),
    "phone": (
        "Số điện thoại",
        "điện thoại",
        "sđt",
        "đt",
        "phone",
        "mobile",
        "telepon",
        "nomor telepon",
        "no hp",
    ),
    "unit": ("Đơn vị", "bộ phận", "unit", "unit path", "unit kerja"),
    "language": ("Ngôn ngữ", "language", "bahasa"),
    "roles": ("Vai trò", "roles", "role", "peran"),
}
REQUIRED = (("name",), ("employee_id", "phone"))
LANGUAGE_WORDS = {
    "vi": ("vi", "tiếng việt", "việt", "việt nam", "vietnamese", "bahasa vietnam"),
    "en": ("en", "english", "tiếng anh", "anh", "inggris", "bahasa inggris"),
    "id": ("id", "indonesia", "tiếng indonesia", "indonesian", "bahasa indonesia"),
}
ROLE_WORDS = {
    "worker": ("worker", "công nhân", "người lao động", "đoàn viên", "pekerja"),
    "reviewer": ("reviewer", "hội đồng", "hội đồng sáng kiến", "thành viên hội đồng", "dewan"),
    "leader": ("leader", "lãnh đạo", "chủ tịch", "chủ tịch công đoàn", "pimpinan", "ketua"),
    "organizer": ("organizer", "tổ chức", "người tổ chức", "cán bộ công đoàn", "penyelenggara"),
    "admin": ("admin", "quản trị", "quản trị viên"),
}
_LANGUAGE = {fold(word): code for code, words in LANGUAGE_WORDS.items() for word in words}
_ROLE = {fold(word): code for code, words in ROLE_WORDS.items() for word in words}
ROLE_SEPARATORS = str.maketrans({";": ",", "/": ",", "+": ",", "\n": ","})
NAME_LIMIT = 100
EMPLOYEE_ID_LIMIT = 64
KNOWN_LIMIT = 100_000  # unit cells remembered, at most


@dataclass(frozen=True)
class Person:
    """A readable row: what it says, None where a cell was left empty."""

    row: int
    cells: tuple[str, ...]
    name: str
    employee_id: str | None
    phone: str | None
    unit_id: int | None
    language: str | None
    roles: str | None  # comma-separated, sorted, always with "worker"


@dataclass(frozen=True)
class Units:
    """The organization's subtree by path of names below it, and the names above it."""

    below: dict[tuple[str, ...], int]
    above: tuple[str, ...]  # the organization's own path of names, root first
    # What each cell text found: a list names few units many times over.
    known: dict[str, int | None] = field(default_factory=dict)

    def find(self, typed: str) -> int | None:
        """Return the unit a cell names ("Tỉnh / KCN / Công ty / Xưởng", or a path
        below the organization, or part of its own path and then below)."""
        if typed in self.known:
            return self.known[typed]
        found = self._find(typed)
        if len(self.known) < KNOWN_LIMIT:
            self.known[typed] = found
        return found

    def _find(self, typed: str) -> int | None:
        parts = tuple(unit_key(part) for part in typed.split("/") if part.strip())
        for k in range(min(len(self.above), len(parts)), 0, -1):
            if parts[:k] == self.above[-k:]:
                parts = parts[k:]
                break
        return self.below.get(parts)


def units_of(*, session: Session, organization: Unit) -> Units:
    """Read the organization's subtree and its ancestors' names."""
    names: dict[int, tuple[str, ...]] = {}
    below: dict[tuple[str, ...], int] = {}
    for unit in sorted(units_under(session=session, path=organization.path), key=units.path_ids):
        uid = unit.id or 0
        above = names.get(unit.parent_id or 0)
        if uid == organization.id:
            names[uid] = ()
        elif above is not None:
            names[uid] = (*above, unit_key(unit.name))
        else:
            continue
        below.setdefault(names[uid], uid)
    ancestors = [unit_by_id(session=session, unit_id=i) for i in units.path_ids(organization)]
    return Units(below, tuple(unit_key(a.name) for a in ancestors if a is not None))


def _roles(typed: str) -> str | None:
    if not typed:
        return None
    found = {"worker"}
    for word in typed.translate(ROLE_SEPARATORS).split(","):
        if not word.strip():
            continue
        role = _ROLE.get(fold(word))
        if role is None:
            raise Refused("import.role_unknown", role=word.strip(), roles=", ".join(roles.ROLES))
        found.add(role)
    return ",".join(sorted(found))


def read_person(number: int, cells: tuple[str, ...], where: dict[str, int], tree: Units) -> Person:
    """Check one row and return the person it describes, or refuse with the reason."""
    if any(UNREADABLE in value for value in cells):
        raise Refused("import.unreadable_characters")
    name = cell(cells, where, "name")
    if not name:
        raise Refused("import.name_missing")
    if len(name) > NAME_LIMIT:
        raise Refused("import.name_too_long", limit=NAME_LIMIT)
    employee_id = cell(cells, where, "employee_id").upper() or None
    if employee_id and len(employee_id) > EMPLOYEE_ID_LIMIT:
        raise Refused("import.employee_id_too_long", limit=EMPLOYEE_ID_LIMIT)
    typed_phone = cell(cells, where, "phone")
    phone = normalize_phone(typed_phone) if typed_phone else None
    if typed_phone and phone is None:
        raise Refused("import.phone_unreadable", phone=typed_phone)
    if not employee_id and not phone:
        raise Refused("import.key_missing")
    typed_language = cell(cells, where, "language")
    language = _LANGUAGE.get(fold(typed_language)) if typed_language else None
    if typed_language and language not in LANGUAGES:
        raise Refused("import.language_unknown", language=typed_language)
    typed_unit = cell(cells, where, "unit")
    unit_id = tree.find(typed_unit) if typed_unit else None
    if typed_unit and unit_id is None:
        raise Refused("import.unit_unknown", unit=typed_unit)
    return Person(
        number,
        cells,
        name,
        employee_id,
        phone,
        unit_id,
        language,
        _roles(cell(cells, where, "roles")),
    )


def keys_of(person: Person) -> list[str]:
    """Return the keys a person is known by: their employee id and their phone."""
    keys = [f"id:{person.employee_id}"] if person.employee_id else []
    return keys + [f"phone:{person.phone}"] if person.phone else keys


def first_seen(people: list[Person], seen: SeenKeys) -> list[Person | Refused]:
    """Refuse each row whose employee id or phone an earlier row of the file had."""
    earlier = seen.rows_of([key for person in people for key in keys_of(person)])
    checked: list[Person | Refused] = []
    for person in people:
        keys = keys_of(person)
        first = next((earlier[key] for key in keys if key in earlier), None)
        if first is not None:
            checked.append(Refused("import.duplicate_in_file", row=first))
            continue
        earlier.update(dict.fromkeys(keys, person.row))
        checked.append(person)
    seen.add({key: row for key, row in earlier.items()})
    return checked


@dataclass
class Plan:
    """What one batch will write, and how each row ends."""

    inserts: list[dict[str, Any]]
    updates: list[dict[str, Any]]
    joined: list[tuple[RosterEntry, dict[str, Any]]]  # updated entries of joined members
    outcomes: list[tuple[Person, Outcome | Refused]]


def _match(
    person: Person, by_id: dict[str, RosterEntry], by_phone: dict[str, RosterEntry]
) -> RosterEntry | None:
    with_id = by_id.get(person.employee_id) if person.employee_id else None
    with_phone = by_phone.get(person.phone) if person.phone else None
    if with_phone is not None and with_phone is not with_id:
        other = with_phone.employee_id
        if with_id is not None or (other and other != person.employee_id):
            raise Refused("import.phone_taken", employee_id=other or "-")
    return with_id or with_phone


def plan(
    *, session: Session, people: Sequence[Person], organization: Unit, default_language: str
) -> Plan:
    """Decide, against what is stored, which rows create, update or change nothing."""
    existing = roster.entries_matching(
        session=session,
        organization_id=organization.id or 0,
        employee_ids=[p.employee_id for p in people if p.employee_id],
        phones=[p.phone for p in people if p.phone],
    )
    by_id = {e.employee_id: e for e in existing if e.employee_id}
    by_phone = {e.phone: e for e in existing if e.phone}
    result = Plan([], [], [], [])
    touched: set[int] = set()
    for person in people:
        try:
            entry = _match(person, by_id, by_phone)
        except Refused as refusal:
            result.outcomes.append((person, refusal))
            continue
        if entry is None:
            result.inserts.append(
                {
                    "organization_id": organization.id,
                    "unit_id": person.unit_id or organization.id,
                    "name": person.name,
                    "employee_id": person.employee_id,
                    "phone": person.phone,
                    "language": person.language or default_language,
                    "roles": person.roles or "worker",
                }
            )
            result.outcomes.append((person, Outcome.CREATED))
            continue
        values = {
            "unit_id": person.unit_id or entry.unit_id,
            "name": person.name,
            "employee_id": person.employee_id or entry.employee_id,
            "phone": person.phone or entry.phone,
            "language": person.language or entry.language,
            "roles": person.roles or entry.roles,
        }
        if all(getattr(entry, column) == value for column, value in values.items()):
            result.outcomes.append((person, Outcome.UNCHANGED))
            continue
        if entry.id in touched:
            result.outcomes.append((person, Refused("import.conflict")))
            continue
        touched.add(entry.id or 0)
        result.updates.append({"entry_id": entry.id, **values})
        if entry.member_id is not None:
            result.joined.append((entry, values))
        result.outcomes.append((person, Outcome.UPDATED))
    return result


def write(*, session: Session, plan: Plan, now: datetime) -> None:
    """Write a batch's plan: new entries with fresh personal codes, then the changes."""
    codes = new_codes(len(plan.inserts))
    roster.insert_entries(
        session=session,
        rows=[
            {**row, "code": code, "created_at": now, "updated_at": now}
            for row, code in zip(plan.inserts, codes, strict=True)
        ],
    )
    roster.update_entries(
        session=session, rows=[{**row, "updated_at": now} for row in plan.updates]
    )
    for entry, values in plan.joined:
        follow(session=session, entry=entry, values=values, now=now)


def follow(*, session: Session, entry: RosterEntry, values: dict[str, Any], now: datetime) -> None:
    """Move a member who joined with this entry to its new unit and give its new roles.

    Their name and language stay those they chose; roles the list no longer names stay
    too (`member revoke` takes a role away).
    """
    member = session.get(Member, entry.member_id)
    unit = unit_by_id(session=session, unit_id=values["unit_id"])
    if member is None or unit is None:
        return
    membership.move(session=session, member=member, unit=unit, now=now)
    for role in values["roles"].split(","):
        roles.grant(session=session, member=member, unit=unit, role=role, now=now)


def import_members(
    *,
    engine: Engine,
    sheet: Sheet,
    organization: Unit,
    default_language: str,
    now: datetime,
    dry_run: bool,
    on_error: OnError,
    on_progress: OnProgress | None = None,
    batch_size: int = BATCH,
) -> Summary:
    """Import a member list into `organization`'s subtree, a batch per transaction."""
    where = columns(sheet.header, NAMES, REQUIRED)
    with reading(engine) as session:
        tree = units_of(session=session, organization=organization)
    summary = Summary(sheet.encoding)
    seen = SeenKeys()
    batches_done = 0
    try:
        for batch in batches(sheet.rows, batch_size):
            errors: list[RowError] = []
            readable: list[Person] = []
            for number, cells in batch:
                try:
                    readable.append(read_person(number, cells, where, tree))
                except Refused as refusal:
                    errors.append(RowError(number, refusal.text, cells))
            people: list[Person] = []
            for person, checked in zip(readable, first_seen(readable, seen), strict=True):
                if isinstance(checked, Refused):
                    errors.append(RowError(person.row, checked.text, person.cells))
                else:
                    people.append(person)
            for person, outcome in _apply(
                engine, people, organization, default_language, now, dry_run
            ):
                if isinstance(outcome, Refused):
                    errors.append(RowError(person.row, outcome.text, person.cells))
                else:
                    summary.add(outcome)
            summary.add(Outcome.ERROR, len(errors))
            for error in sorted(errors, key=lambda e: e.row):
                on_error(error)
            if on_progress is not None:
                on_progress(len(batch))
            batches_done += 1
            if not dry_run and batches_done & (batches_done - 1) == 0:  # 1, 2, 4, 8…
                with transaction(engine) as session:
                    roster.refresh_statistics(session=session)
    finally:
        seen.close()
    return summary


def _apply(
    engine: Engine,
    people: list[Person],
    organization: Unit,
    default_language: str,
    now: datetime,
    dry_run: bool,
) -> list[tuple[Person, Outcome | Refused]]:
    """Plan and write a batch in one transaction (only plan it on a dry run).

    Should the database refuse the batch (two rows trading phone numbers), each row is
    tried in a transaction of its own, and the ones it still refuses are errors.
    """
    if dry_run:
        with reading(engine) as session:
            return plan(
                session=session,
                people=people,
                organization=organization,
                default_language=default_language,
            ).outcomes
    try:
        with transaction(engine) as session:
            planned = plan(
                session=session,
                people=people,
                organization=organization,
                default_language=default_language,
            )
            write(session=session, plan=planned, now=now)
            return planned.outcomes
    except IntegrityError:
        if len(people) == 1:
            return [(people[0], Refused("import.conflict"))]
        logger.warning("a batch of %d rows conflicted; writing it row by row", len(people))
    outcomes: list[tuple[Person, Outcome | Refused]] = []
    for person in people:
        outcomes += _apply(engine, [person], organization, default_language, now, dry_run)
    return outcomes
