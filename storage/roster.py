"""Queries on imported member lists (roster entries) and their personal join codes."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import RosterEntry, table

# Columns an import may change on an existing entry; its code and member never change.
CHANGEABLE = ("unit_id", "name", "employee_id", "phone", "language", "roles", "updated_at")

_UPDATE = (
    update(table(RosterEntry))
    .where(table(RosterEntry).c.id == bindparam("entry_id"))
    .values({name: bindparam(name) for name in CHANGEABLE})
)


def entries_matching(
    *,
    session: Session,
    organization_id: int,
    employee_ids: Sequence[str],
    phones: Sequence[str],
) -> list[RosterEntry]:
    """Return the organization's entries with any of these employee ids or phones.

    Two queries, each on its unique index: one with `OR` would read every entry of the
    organization for each batch.
    """
    found: dict[int | None, RosterEntry] = {}
    for column, values in ((RosterEntry.employee_id, employee_ids), (RosterEntry.phone, phones)):
        if values:
            query = select(RosterEntry).where(
                RosterEntry.organization_id == organization_id, col(column).in_(values)
            )
            found.update((entry.id, entry) for entry in session.exec(query).all())
    return list(found.values())


def insert_entries(*, session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert new entries (each row a dict of RosterEntry columns, all with the same keys):
    PostgreSQL's COPY where there is one, else one executemany."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table(RosterEntry)), list(rows))
        return
    driver = connection.connection.driver_connection
    assert driver is not None
    columns = list(rows[0])
    values = _driver_rows(connection, columns, rows)
    refused = connection.dialect.loaded_dbapi.IntegrityError
    statement = f"COPY rosterentry ({', '.join(columns)}) FROM STDIN"
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in values:
                copy.write_row(row)
    except refused as error:  # as SQLAlchemy would have said it
        raise IntegrityError(statement, None, error) from error


def _driver_rows(
    connection: Connection, columns: Sequence[str], rows: Sequence[dict[str, Any]]
) -> list[tuple[Any, ...]]:
    """Return the rows as the driver takes them, each value converted by its column's type
    (times to naive UTC), each distinct time once."""
    entries = table(RosterEntry)
    convert = [entries.c[c].type.bind_processor(connection.dialect) for c in columns]
    done: dict[tuple[int, Any], Any] = {}  # the few distinct times, converted once

    def value(position: int, raw: Any) -> Any:
        processor = convert[position]
        if processor is None or raw is None:
            return raw
        key = (position, raw)
        if key not in done:
            done[key] = processor(raw)
        return done[key]

    return [tuple(value(i, row[c]) for i, c in enumerate(columns)) for row in rows]


def update_entries(*, session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Update entries in one statement: each row is `entry_id` and every CHANGEABLE column."""
    if rows:
        session.connection().execute(_UPDATE, list(rows))


def entry_by_code(*, session: Session, code: str) -> RosterEntry | None:
    """Return the entry whose personal join code this is."""
    return session.exec(select(RosterEntry).where(RosterEntry.code == code)).first()


def entries_of_units(*, session: Session, unit_ids: Sequence[int]) -> Sequence[RosterEntry]:
    """Return the entries of these units, by unit then name."""
    query = (
        select(RosterEntry)
        .where(col(RosterEntry.unit_id).in_(unit_ids))
        .order_by(col(RosterEntry.unit_id), col(RosterEntry.name), col(RosterEntry.id))
    )
    return session.exec(query).all()


def entries_of_member(*, session: Session, member_id: int) -> Sequence[RosterEntry]:
    """Return the list entries a member joined with (their name and phone as imported)."""
    return session.exec(select(RosterEntry).where(col(RosterEntry.member_id) == member_id)).all()


def forget_member(*, session: Session, member_id: int) -> None:
    """Remove the list entries an erased member joined with: their name and phone go, and
    their personal code can no longer be claimed by anyone (with the roles it carried)."""
    entries = table(RosterEntry)
    session.execute(delete(entries).where(entries.c.member_id == member_id))


def claim_entry(*, session: Session, entry_id: int, member_id: int) -> bool:
    """Make `member_id` the person of an entry nobody claimed; return whether it was free."""
    result = session.connection().execute(
        update(table(RosterEntry))
        .where(table(RosterEntry).c.id == entry_id, table(RosterEntry).c.member_id.is_(None))
        .values(member_id=member_id)
    )
    return bool(result.rowcount)


def refresh_statistics(*, session: Session) -> None:
    """Let PostgreSQL's planner see how many entries there are now.

    A table that grew from nothing in one import has no statistics yet, and the planner
    then reads every entry of the organization to match a batch: quadratic in the list.
    """
    if session.connection().dialect.name == "postgresql":
        session.connection().exec_driver_sql("ANALYZE rosterentry")
