"""Queries on initiatives, their authors, attachments and history."""

from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, Update, bindparam, literal, union, update
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col, func, or_, select

from core.status import Status
from storage.models import Attachment, Author, Initiative, StatusChange, Unit, table

_TABLE = table(Initiative)


def answer_of(*, session: Session, initiative_id: int, column: str) -> Any:
    """One column of an initiative (a core statement: cheaper than loading the row)."""
    return (
        session.connection().execute(_answer_statement(column), {"key_id": initiative_id}).scalar()
    )


@cache
def _answer_statement(column: str) -> Any:
    """Build `answer_of`'s statement once per column (building it costs more than running it)."""
    return select(_TABLE.c[column]).where(_TABLE.c.id == bindparam("key_id"))


def draft_of(*, session: Session, member_id: int) -> Initiative | None:
    """Return the member's unfinished draft, if any."""
    query = select(Initiative).where(
        Initiative.submitter_id == member_id, Initiative.status == Status.DRAFT
    )
    return session.exec(query.order_by(col(Initiative.id).desc())).first()


def write_if(
    *,
    session: Session,
    initiative_id: int,
    submitter_id: int,
    statuses: Sequence[str],
    values: dict[str, Any],
    now: datetime,
) -> str | None:
    """Write `values` (and `updated_at`) to the initiative if the submitter and status
    match, in one statement without loading it; return its status if it matched, else
    None.

    A copy already loaded in the session is flushed first and expired after, so it
    reads the new values.
    """
    loaded = session.identity_map.get(identity_key(Initiative, initiative_id))
    if loaded is not None:
        session.flush()
    statement = _write_statement(tuple(values), tuple(statuses))
    params = {**values, "key_id": initiative_id, "key_submitter": submitter_id, "now": now}
    status = session.connection().execute(statement, params).scalar()
    if loaded is not None:
        session.expire(loaded)
    return status


@cache
def _write_statement(columns: tuple[str, ...], statuses: tuple[str, ...]) -> Update:
    """Build `write_if`'s statement once per set of columns (a wizard step has one)."""
    return (
        update(_TABLE)
        .where(
            _TABLE.c.id == bindparam("key_id"),
            _TABLE.c.submitter_id == bindparam("key_submitter"),
            # Fixed values, not an expanding list: that is rendered again at each run.
            _TABLE.c.status.in_([literal(status) for status in statuses]),
        )
        .values({**{name: bindparam(name) for name in columns}, "updated_at": bindparam("now")})
        .returning(_TABLE.c.status)
    )


def initiatives_of_member(
    *, session: Session, member_id: int, limit: int = 20
) -> Sequence[Initiative]:
    """Return the initiatives a member submitted or co-authored, newest first."""
    query = (
        select(Initiative)
        .where(col(Initiative.id).in_(ids_of_member(member_id)))
        .order_by(col(Initiative.id).desc())
        .limit(limit)
    )
    return session.exec(query).all()


def ids_of_member(member_id: int) -> CompoundSelect[Any]:
    """The ids of the initiatives a member submitted or co-authored, as a subquery.

    Two index lookups in a UNION: with an OR of the two, PostgreSQL walks the whole
    table backwards for a member with few initiatives (300 ms over a million).
    """
    submitted = select(Initiative.id).where(Initiative.submitter_id == member_id)
    authored = select(Author.initiative_id).where(Author.member_id == member_id)
    return union(submitted, authored)


def authors_of(*, session: Session, initiative_id: int) -> Sequence[Author]:
    """Return an initiative's authors, the submitter first."""
    query = (
        select(Author)
        .where(Author.initiative_id == initiative_id)
        .order_by(col(Author.is_submitter).desc(), col(Author.id))
    )
    return session.exec(query).all()


def authored_by(*, session: Session, member_id: int) -> Sequence[Author]:
    """Return the author rows that point at a member."""
    return session.exec(select(Author).where(Author.member_id == member_id)).all()


def attachments_of(*, session: Session, initiative_id: int) -> Sequence[Attachment]:
    """Return an initiative's attachments in the order they were sent."""
    query = select(Attachment).where(Attachment.initiative_id == initiative_id)
    return session.exec(query.order_by(col(Attachment.id))).all()


def history_of(*, session: Session, initiative_id: int) -> Sequence[StatusChange]:
    """Return an initiative's status changes, oldest first."""
    query = select(StatusChange).where(StatusChange.initiative_id == initiative_id)
    return session.exec(query.order_by(col(StatusChange.at), col(StatusChange.id))).all()


@dataclass(frozen=True)
class ExportQuery:
    """Which initiatives an export holds: never drafts; optionally a subtree, submitted
    in [since, until), counted toward a campaign, in one of `statuses`."""

    unit_path: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    campaign_id: int | None = None
    statuses: Collection[str] = ()

    def conditions(self) -> list[ColumnElement[bool]]:
        """The query's conditions, on the initiative joined with its unit."""
        conditions: list[ColumnElement[bool]] = [col(Initiative.status) != Status.DRAFT]
        if self.unit_path is not None:
            conditions.append(col(Unit.path).startswith(self.unit_path))
        if self.since is not None:
            conditions.append(col(Initiative.submitted_at) >= self.since)
        if self.until is not None:
            conditions.append(col(Initiative.submitted_at) < self.until)
        if self.campaign_id is not None:
            conditions.append(col(Initiative.campaign_id) == self.campaign_id)
        if self.statuses:
            conditions.append(col(Initiative.status).in_(sorted(self.statuses)))
        return conditions


def count_export_rows(*, session: Session, query: ExportQuery) -> int:
    """Count what `export_rows` yields for the same query."""
    counted = (
        select(func.count())
        .select_from(Initiative)
        .join(Unit, Unit.id == Initiative.unit_id)  # type: ignore[arg-type]
        .where(*query.conditions())
    )
    return session.exec(counted).one()


def export_rows(
    *, session: Session, query: ExportQuery, batch: int = 1000
) -> Iterator[tuple[Initiative, Unit, list[Author]]]:
    """Yield the initiatives the query holds with unit and authors, oldest first.

    Reads in batches by id, two queries a batch, so memory stays flat.
    """
    conditions = query.conditions()
    last_id = 0
    while True:
        page = (
            select(Initiative, Unit)
            .join(Unit, Unit.id == Initiative.unit_id)  # type: ignore[arg-type]
            .where(*conditions, col(Initiative.id) > last_id)
            .order_by(col(Initiative.id))
            .limit(batch)
        )
        pairs = session.exec(page).all()
        if not pairs:
            return
        ids = [initiative.id for initiative, _ in pairs]
        authors: dict[int, list[Author]] = defaultdict(list)
        for author in session.exec(
            select(Author)
            .where(col(Author.initiative_id).in_(ids))
            .order_by(col(Author.is_submitter).desc(), col(Author.id))
        ).all():
            authors[author.initiative_id].append(author)
        for initiative, unit in pairs:
            yield initiative, unit, authors[initiative.id or 0]
        last_id = ids[-1] or 0
        session.expunge_all()


def submitted_by(*, session: Session, member_id: int) -> Sequence[Initiative]:
    """Return every initiative a member submitted, drafts included."""
    return session.exec(select(Initiative).where(Initiative.submitter_id == member_id)).all()


def changes_by(*, session: Session, member_id: int) -> Sequence[StatusChange]:
    """Return every status change a member made."""
    return session.exec(select(StatusChange).where(StatusChange.actor_id == member_id)).all()


def waiting_under(
    *,
    session: Session,
    statuses: Sequence[str],
    paths: Sequence[str],
    field: str | None,
    limit: int,
) -> Sequence[Initiative]:
    """Initiatives in `statuses` reviewed at a unit below one of `paths`, oldest first."""
    query = (
        select(Initiative)
        .join(Unit, col(Unit.id) == col(Initiative.review_unit_id))
        .where(col(Initiative.status).in_(statuses))
        .where(or_(*(col(Unit.path).startswith(path) for path in paths)))
        .order_by(col(Initiative.submitted_at), col(Initiative.id))
        .limit(limit)
    )
    if field is not None:
        query = query.where(col(Initiative.field) == field)
    return session.exec(query).all()


def initiatives_by_ids(*, session: Session, initiative_ids: Sequence[int]) -> Sequence[Initiative]:
    """Return the initiatives with these ids, in one query."""
    if not initiative_ids:
        return []
    return session.exec(select(Initiative).where(col(Initiative.id).in_(initiative_ids))).all()
