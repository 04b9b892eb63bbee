"""The search index of initiatives: one interface over SQLite FTS5 and PostgreSQL.

Each initiative past its draft has one entry: its folded syllables (`core.folding`;
a confidential one's title only) and tags that scope a query, `#u<id>` for every unit
on its path and `#s<status>`. SQLite keeps the entries in an FTS5 table whose tokenizer
splits on spaces only (the text is folded already); PostgreSQL in a `tsvector` built
verbatim from the same words, under a GIN index. Both match whole syllables, so both
return the same ids; ranking is left to the caller, in Python, on both.
"""

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Row, bindparam, select, text
from sqlmodel import Session

from core.folding import syllables
from core.status import Status
from storage.initiatives import ids_of_member
from storage.models import Initiative, Unit, table

TABLE = "initiativesearch"
SQLITE_TOKENIZER = "unicode61 remove_diacritics 0 tokenchars '#'"
# A longer "word" (a pasted serial number...) is left out: PostgreSQL takes lexemes of
# up to 2 KB, and nobody searches for one.
MAX_WORD = 60
OWN = 100  # a member's own initiatives a search reads


# How each database's query language quotes a word and says "and" and "or".
_SYNTAX = {"sqlite": ('"%s"', " AND ", " OR "), "postgresql": ("'%s'", " & ", " | ")}
_SQLITE_MATCHING = text(
    f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH :query ORDER BY rowid DESC LIMIT :limit"
)
# Materialized: the planner must not walk the primary key backwards hoping to meet
# `limit` matches early, which for a rare word reads the whole table.
_MATCHING = text(
    f"WITH found AS MATERIALIZED (SELECT initiative_id FROM {TABLE}"
    " WHERE document @@ CAST(:query AS tsquery))"
    " SELECT initiative_id FROM found ORDER BY initiative_id DESC LIMIT :limit"
)


def unit_tag(unit_id: int) -> str:
    """Return the tag an entry carries for a unit on its path."""
    return f"#u{unit_id}"


def status_tag(status: str) -> str:
    """Return the tag an entry carries for its status."""
    return "#s" + status.replace("_", "")


def words_of(title: str | None, *more: str | None) -> list[str]:
    """Return the distinct folded syllables of some texts, in order."""
    found = (w for part in (title, *more) if part for w in syllables(part))
    return list(dict.fromkeys(w for w in found if len(w) <= MAX_WORD))


def refresh(*, session: Session, initiative_ids: Sequence[int]) -> None:
    """Bring the entries of these initiatives in line with them (a draft has none)."""
    if not initiative_ids:
        return
    session.flush()
    initiative, unit = table(Initiative).c, table(Unit).c
    query = (
        select(
            initiative.id,
            initiative.title,
            initiative.problem,
            initiative.solution,
            initiative.confidential,
            initiative.status,
            unit.path,
        )
        .join_from(table(Initiative), table(Unit), unit.id == initiative.unit_id)
        .where(initiative.id.in_(initiative_ids), initiative.status != Status.DRAFT)
    )
    connection = session.connection()
    entries = []
    for initiative_id, title, problem, solution, confidential, status, path in connection.execute(
        query
    ):
        words = words_of(title) if confidential else words_of(title, problem, solution)
        units = [unit_tag(int(part)) for part in path.strip("/").split("/") if part]
        entries.append((initiative_id, [*words, *units, status_tag(status)]))
    _delete(connection, initiative_ids)
    write(connection, entries)


def _delete(connection: Connection, initiative_ids: Sequence[int]) -> None:
    key = "rowid" if connection.dialect.name == "sqlite" else "initiative_id"
    statement = text(f"DELETE FROM {TABLE} WHERE {key} IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    connection.execute(statement, {"ids": list(initiative_ids)})


def write(connection: Connection, entries: Iterable[tuple[int, list[str]]]) -> None:
    """Add entries (an id and its words and tags) that are not in the index yet."""
    if connection.dialect.name == "sqlite":
        statement = text(f"INSERT INTO {TABLE} (rowid, document) VALUES (:id, :document)")
        rows = [{"id": i, "document": " ".join(words)} for i, words in entries]
    else:
        statement = text(
            f"INSERT INTO {TABLE} (initiative_id, document)"
            " VALUES (:id, array_to_tsvector(CAST(:document AS text[])))"
        )
        rows = [{"id": i, "document": sorted(set(words))} for i, words in entries]
    if rows:
        connection.execute(statement, rows)


def texts(
    *, session: Session, initiative_ids: Sequence[int] = (), member_id: int | None = None
) -> list[Row[Any]]:
    """Return what ranking and permissions read of some initiatives, without loading them:
    id, unit_id, status, confidential, title, problem, solution. Those of `initiative_ids`,
    or (with `member_id`) the member's own past their draft, newest first, 100 at most."""
    c = table(Initiative).c
    query = select(c.id, c.unit_id, c.status, c.confidential, c.title, c.problem, c.solution)
    if member_id is not None:
        query = (
            query.where(c.id.in_(ids_of_member(member_id)), c.status != Status.DRAFT)
            .order_by(c.id.desc())
            .limit(OWN)
        )
    else:
        query = query.where(c.id.in_(initiative_ids))
    return list(session.connection().execute(query))


def matching(
    *,
    session: Session,
    words: Sequence[str],
    every_word: bool,
    unit_id: int,
    statuses: Sequence[str],
    limit: int,
) -> list[int]:
    """Return the ids, newest first, of entries under `unit_id` in one of `statuses` that
    hold every one (or, without `every_word`, any one) of the folded `words`."""
    words = [w for w in words if w.isascii() and w.isalnum() and len(w) <= MAX_WORD]
    if not words or not statuses:
        return []
    connection = session.connection()
    quote, both, either = _SYNTAX[connection.dialect.name]
    wanted = (both if every_word else either).join(quote % w for w in dict.fromkeys(words))
    status = either.join(quote % status_tag(s) for s in statuses)
    query = f"({wanted}){both}{quote % unit_tag(unit_id)}{both}({status})"
    statement = _SQLITE_MATCHING if connection.dialect.name == "sqlite" else _MATCHING
    rows = connection.execute(statement, {"query": query, "limit": limit})
    return [int(row[0]) for row in rows]
