"""Importing a union's member list: rows matched on employee id or phone within the
organization, written a batch per transaction; the rows that cannot be, reported."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from core.errors import Refused
from services import membership, roles
from services.imports import (
    BATCH,
    OnError,
    OnProgress,
    Outcome,
    RowError,
    Summary,
    batches,
    columns,
)
from services.member_rows import NAMES, REQUIRED, Person, read_person, units_of
from services.roster import new_codes
from services.sheets import Sheet
from storage import roster
from storage.db import reading, transaction
from storage.models import Member, RosterEntry, Unit
from storage.seen_keys import SeenKeys
from storage.units import unit_by_id

logger = logging.getLogger(__name__)


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
