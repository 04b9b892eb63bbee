"""PostgreSQL: the first statements of a group of updates, sent together with the BEGIN.

Processing a group of updates (see `Dispatcher.handle_group`) starts with BEGIN, storing
or claiming the updates, and reading the people's conversation states (locked) and
members. Through SQLAlchemy that is four round trips, each with the driver's and
SQLAlchemy's work around it. Here psycopg's pipeline mode sends all four at once and
reads the answers after. The statements are written for PostgreSQL; lists travel as
arrays through unnest(), so each is prepared once, whatever the group size.
SQLite runs the same steps through SQLAlchemy (`storage.inbox`, `storage.conversations`).
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from psycopg import Connection as PgConnection
from psycopg.types.json import Json
from sqlalchemy import Connection
from sqlalchemy.orm import make_transient_to_detached

from storage.conversations import Ahead, Key, State
from storage.inbox import Received
from storage.models import Member, table
from storage.types import UTCDateTime

_STORE = """
INSERT INTO inboxupdate (channel, update_id, seq, chat_id, payload, received_at, attempts,
                         done_at)
SELECT %(channel)s, u.update_id, u.seq, u.chat_id, u.payload, %(now)s, 0,
       CASE WHEN u.claimed THEN %(now)s END
FROM unnest(%(ids)s::text[], %(seqs)s::bigint[], %(chats)s::text[], %(payloads)s::json[],
            %(claimed)s::bool[]) AS u(update_id, seq, chat_id, payload, claimed)
ON CONFLICT DO NOTHING
RETURNING channel, update_id
"""
# As `inbox.claim_many`: a processed update (done_at set) is not claimed again.
_CLAIM = """
INSERT INTO inboxupdate AS i (channel, update_id, seq, chat_id, payload, received_at,
                              attempts, done_at)
SELECT u.channel, u.update_id, 0, u.chat_id, '{}', %(now)s, 0, %(now)s
FROM unnest(%(channels)s::text[], %(ids)s::text[], %(chats)s::text[])
     AS u(channel, update_id, chat_id)
ON CONFLICT (channel, update_id) DO UPDATE SET done_at = excluded.done_at, payload = '{}'
WHERE i.done_at IS NULL
RETURNING channel, update_id
"""
_STATES = """
SELECT id, channel, chat_id, user_id, step, data, updated_at FROM conversationstate
WHERE (channel, chat_id, user_id) IN (
    SELECT * FROM unnest(%s::text[], %s::text[], %s::text[]))
FOR UPDATE
"""
_MEMBER_COLUMNS = list(table(Member).columns)
_MEMBERS = f"""
SELECT {", ".join(f"m.{column.name}" for column in _MEMBER_COLUMNS)},
       c.channel, c.external_user_id
FROM member m JOIN channelidentity c ON c.member_id = m.id
WHERE (c.channel, c.external_user_id) IN (SELECT * FROM unnest(%s::text[], %s::text[]))
"""


def _driver(connection: Connection) -> PgConnection[Any]:
    driver = connection.connection.driver_connection
    assert isinstance(driver, PgConnection)
    return driver


def _naive(moment: datetime) -> datetime:
    """The columns hold naive UTC (see `UTCDateTime`)."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


def begin(
    connection: Connection,
    *,
    received: Received | None,
    claims: Sequence[tuple[str, str, str]],
    keys: Sequence[Key],
    now: datetime,
) -> tuple[set[tuple[str, str]], list[Ahead] | None]:
    """Store `received` (or claim the (channel, update id, chat id) `claims`), then read
    the states (locked) and members of `keys`, in one round trip with the BEGIN.

    Return the (channel, update id) pairs claimed now and, when `keys` are given, each
    key's state and member as `conversations.load_with_members` does. `received.new`
    gets the ids that were not stored before.
    """
    if received is not None:
        statement = _STORE
        updates = received.updates
        params: dict[str, Any] = {
            "channel": received.channel,
            "ids": [str(seq) for seq, _, _ in updates],
            "seqs": [seq for seq, _, _ in updates],
            "chats": [chat for _, chat, _ in updates],
            "payloads": [
                Json({} if str(seq) in received.claimed else payload)
                for seq, _, payload in updates
            ],
            "claimed": [str(seq) in received.claimed for seq, _, _ in updates],
        }
    else:
        statement = _CLAIM
        params = {
            "channels": [channel for channel, _, _ in claims],
            "ids": [update_id for _, update_id, _ in claims],
            "chats": [chat for _, _, chat in claims],
        }
    params["now"] = _naive(now)
    pg = _driver(connection)
    with pg.pipeline():
        first, states, members = pg.cursor(), pg.cursor(), pg.cursor()
        first.execute(statement, params)
        if keys:
            channels, chats, users = ([key[i] for key in keys] for i in range(3))
            states.execute(_STATES, (channels, chats, users))
            members.execute(_MEMBERS, (channels, users))
    stored = first.fetchall()
    if received is not None:
        received.new = {update_id for _, update_id in stored}
        claimed = {(received.channel, update_id) for update_id in received.claimed & received.new}
    else:
        claimed = {(channel, update_id) for channel, update_id in stored}
    if not keys:
        return claimed, None
    return claimed, _ahead(keys, states.fetchall(), members.fetchall(), now)


def _ahead(
    keys: Sequence[Key], states: list[Any], members: list[Any], now: datetime
) -> list[Ahead]:
    found = {(row[1], row[2], row[3]): row for row in states}  # id, channel, chat, user, ...
    people = {}
    for row in members:
        values: dict[str, Any] = {}
        for column, value in zip(_MEMBER_COLUMNS, row, strict=False):
            aware = isinstance(column.type, UTCDateTime) and value is not None
            values[column.name] = _aware(value) if aware else value
        member = Member(**values)
        make_transient_to_detached(member)  # as if loaded: a session merges it unread
        people[(row[-2], row[-1])] = member
    result = []
    for key in keys:
        channel, chat, user = key
        if (found_row := found.get(key)) is None:
            state = State(channel, chat, user, None, None, {}, now)
        else:
            state_id, *_, step, data, updated_at = found_row
            state = State(channel, chat, user, state_id, step, dict(data), _aware(updated_at))
        result.append((state, people.get((channel, user))))
    return result
