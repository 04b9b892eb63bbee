"""Leases: a named right that one holder has until it expires or is given back."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.models import Lease, table

_TABLE = table(Lease)


def _take_statement(insert: Any) -> Any:
    statement = insert(_TABLE).values(
        name=bindparam("name"), holder=bindparam("holder"), expires_at=bindparam("until")
    )
    return statement.on_conflict_do_update(
        index_elements=[_TABLE.c.name],
        set_={"holder": statement.excluded.holder, "expires_at": statement.excluded.expires_at},
        where=(_TABLE.c.holder == bindparam("holder")) | (_TABLE.c.expires_at <= bindparam("now")),
    ).execution_options(preserve_rowcount=True)


_TAKE = {"postgresql": _take_statement(pg_insert), "sqlite": _take_statement(sqlite_insert)}
_GIVE_BACK = delete(_TABLE).where(
    _TABLE.c.name == bindparam("name"), _TABLE.c.holder == bindparam("holder")
)


def hold(*, connection: Connection, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or extend the lease in one statement; False while someone else holds it."""
    params = {"name": name, "holder": holder, "now": now, "until": now + ttl}
    result = connection.execute(_TAKE[connection.dialect.name], params)
    return bool(result.rowcount)


def give_back(*, connection: Connection, name: str, holder: str) -> None:
    """End the lease now, if this holder has it, so another can take over at once."""
    connection.execute(_GIVE_BACK, {"name": name, "holder": holder})
