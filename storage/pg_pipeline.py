"""PostgreSQL: the statements every group of updates runs, through the driver.

Processing a group of updates (see `Dispatcher.handle_group`) starts with BEGIN, storing
or claiming the updates, and reading the people's conversation states (locked) and
members. Through SQLAlchemy that is four round trips, each with the driver's and
SQLAlchemy's work around it. Here psycopg's pipeline mode sends all four at once and
reads the answers after. It ends with writing the states back and the COMMIT, one round
trip again.
The statements are written for PostgreSQL. Lists travel as arrays through unnest(), so
each is prepared once, whatever the group size. A lone update (one chat, the latency
that matters) is stored or claimed and its state and member read by one statement,
outside a pipeline: psycopg's pipeline mode is Python work per statement, and for three
statements it costs more client time than the BEGIN's round trip it saves
(`bench.pg_transaction`; bench/README, "A lone update's transaction on PostgreSQL").
SQLite runs the same steps through SQLAlchemy (`storage.inbox`, `storage.conversations`).
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from psycopg import Connection as PgConnection
from psycopg.types.json import Json
from sqlalchemy import Connection, inspect
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict

from storage import conversations
from storage.conversations import Ahead, Key, State
from storage.inbox import Received
from storage.models import Member, table
from storage.types import UTCDateTime

_STORE_INTO = """
INSERT INTO inboxupdate (channel, update_id, seq, chat_id, payload, received_at, attempts,
                         done_at)
"""
_STORE_END = "ON CONFLICT DO NOTHING RETURNING channel, update_id"
_STORE = f"""{_STORE_INTO}
SELECT %(channel)s, u.update_id, u.seq, u.chat_id, u.payload, %(now)s, 0,
       CASE WHEN u.claimed THEN %(now)s END
FROM unnest(%(ids)s::text[], %(seqs)s::bigint[], %(chats)s::text[], %(payloads)s::json[],
            %(claimed)s::bool[]) AS u(update_id, seq, chat_id, payload, claimed)
{_STORE_END}
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
# The kept replies when they are owed (`conversations.mark_owed`), else NULL.
_OWED = f"CASE WHEN replies->>'{conversations.OWED}' IS NOT NULL THEN replies END AS owed"
_STATES = f"""
SELECT id, channel, chat_id, user_id, step, data, updated_at, {_OWED} FROM conversationstate
WHERE (channel, chat_id, user_id) IN (
    SELECT * FROM unnest(%s::text[], %s::text[], %s::text[]))
ORDER BY id  -- one lock order everywhere (see `conversations._CONFIRM`)
FOR UPDATE
"""
_MEMBER_COLUMNS = list(table(Member).columns)
_NEW_MEMBER = inspect(Member).class_manager.new_instance
_MEMBERS_FROM = f"""
SELECT {", ".join(f"m.{column.name}" for column in _MEMBER_COLUMNS)},
       c.channel, c.external_user_id, c.last_used_at
FROM member m JOIN channelidentity c ON c.member_id = m.id
"""
_MEMBERS = f"""{_MEMBERS_FROM}
WHERE (c.channel, c.external_user_id) IN (SELECT * FROM unnest(%s::text[], %s::text[]))
"""
# A lone update: its store (or claim), its state (locked) and member in one statement,
# whose one row has the stored (or claimed) update id or NULL, then the state's columns
# (NULL: none yet), the member's and the identity's last use (NULL: not a member).
_LONE_STORE = f"""
WITH first AS ({_STORE_INTO}
VALUES (%(channel)s, %(id)s, %(seq)s, %(chat)s, %(payload)s, %(now)s, 0,
        CASE WHEN %(claimed)s THEN %(now)s::timestamp END)
{_STORE_END}),
"""
_LONE_CLAIM = """
WITH first AS (
INSERT INTO inboxupdate AS i (channel, update_id, seq, chat_id, payload, received_at,
                              attempts, done_at)
VALUES (%(channel)s, %(id)s, 0, %(chat)s, '{}', %(now)s, 0, %(now)s)
ON CONFLICT (channel, update_id) DO UPDATE SET done_at = excluded.done_at, payload = '{}'
WHERE i.done_at IS NULL
RETURNING channel, update_id),
"""
_LONE_READ = f"""
state AS (
    SELECT id, channel, chat_id, user_id, step, data, updated_at, {_OWED}
    FROM conversationstate
    WHERE channel = %(key_channel)s AND chat_id = %(key_chat)s AND user_id = %(key_user)s
    FOR UPDATE)
SELECT (SELECT update_id FROM first), s.*,
       {", ".join(f"m.{column.name}" for column in _MEMBER_COLUMNS)},
       c.channel, c.external_user_id, c.last_used_at
FROM (VALUES (1)) AS one (x)
LEFT JOIN state s ON true
LEFT JOIN channelidentity c
       ON c.channel = %(key_channel)s AND c.external_user_id = %(key_user)s
LEFT JOIN member m ON m.id = c.member_id
"""
_LONE = {"store": _LONE_STORE + _LONE_READ, "claim": _LONE_CLAIM + _LONE_READ}
_STATE_WIDTH = 8  # the columns of `state` in the lone statement's row
_UPDATE_STATE = """
UPDATE conversationstate SET step = %(step)s, data = %(data)s, updated_at = %(updated_at)s,
    replies = %(replies)s, replies_to = %(replies_to)s
WHERE id = %(state_id)s
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
) -> tuple[set[tuple[str, str]], list[Ahead]]:
    """Store `received` (or claim the (channel, update id, chat id) `claims`), then read
    the states (locked) and members of `keys`: in one round trip with the BEGIN, or
    for a lone update in one statement.

    Return the (channel, update id) pairs claimed now and each key's state and member,
    as `conversations.load_with_members` does. `received.new`
    gets the ids that were not stored before.
    """
    if len(keys) == 1 and len(received.updates if received else claims) == 1:
        return _begin_lone(connection, received, claims, keys[0], now)
    return begin_pipelined(connection, received=received, claims=claims, keys=keys, now=now)


def begin_pipelined(
    connection: Connection,
    *,
    received: Received | None,
    claims: Sequence[tuple[str, str, str]],
    keys: Sequence[Key],
    now: datetime,
) -> tuple[set[tuple[str, str]], list[Ahead]]:
    """`begin` for any number of updates: its statements and the BEGIN in one pipeline."""
    statement, params = _store_or_claim(received, claims)
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
        return claimed, []
    return claimed, _ahead(keys, states.fetchall(), members.fetchall(), now)


def _begin_lone(
    connection: Connection,
    received: Received | None,
    claims: Sequence[tuple[str, str, str]],
    key: Key,
    now: datetime,
) -> tuple[set[tuple[str, str]], list[Ahead]]:
    """`begin` for one update and one person, in one statement (psycopg sends the
    BEGIN before it)."""
    if received is None:
        ((channel, update_id, chat),) = claims
        statement = _LONE["claim"]
        params: dict[str, Any] = {"channel": channel, "id": update_id, "chat": chat}
    else:
        ((update_id, seq, chat, payload),) = received.updates
        channel, claim = received.channel, update_id in received.claimed
        statement = _LONE["store"]
        params = {
            "channel": channel,
            "id": update_id,
            "seq": seq,
            "chat": chat,
            "payload": Json({} if claim else payload),
            "claimed": claim,
        }
    params |= {"now": _naive(now), "key_channel": key[0], "key_chat": key[1], "key_user": key[2]}
    cursor = _driver(connection).execute(statement, params, prepare=True)
    row = cursor.fetchone()
    assert row is not None  # the statement always returns its one row
    stored, state, member = row[0], row[1 : 1 + _STATE_WIDTH], row[1 + _STATE_WIDTH :]
    done = set() if stored is None else {update_id}
    if received is not None:
        received.new = done
        done = done & received.claimed  # a new set: `new` keeps them all
    states = [] if state[0] is None else [state]
    members = [] if member[0] is None else [member]
    return {(channel, i) for i in done}, _ahead([key], states, members, now)


def _store_or_claim(
    received: Received | None, claims: Sequence[tuple[str, str, str]]
) -> tuple[str, dict[str, Any]]:
    """Return the statement that stores `received` (or claims `claims`), and its parameters."""
    if received is None:
        return _CLAIM, {
            "channels": [channel for channel, _, _ in claims],
            "ids": [update_id for _, update_id, _ in claims],
            "chats": [chat for _, _, chat in claims],
        }
    rows = received.updates
    return _STORE, {
        "channel": received.channel,
        "ids": [update_id for update_id, _, _, _ in rows],
        "seqs": [seq for _, seq, _, _ in rows],
        "chats": [chat for _, _, chat, _ in rows],
        "payloads": [
            Json({} if update_id in received.claimed else payload)
            for update_id, _, _, payload in rows
        ],
        "claimed": [update_id in received.claimed for update_id, _, _, _ in rows],
    }


def save_and_commit(connection: Connection, states: Sequence[State]) -> None:
    """Write states back as `conversations.save_many` does and commit: the updates and
    the COMMIT in one round trip, through the driver.

    The transaction ends here; SQLAlchemy's own commit after it finds nothing to do
    (psycopg skips a COMMIT outside a transaction). Nothing may run on `connection`
    between this and the end of its transaction.
    """
    inserts, updates, deletes = conversations.changes(states)
    conversations.write_changes(connection=connection, rows=(inserts, [], deletes))
    rows = [
        {
            **row,
            "data": Json(row["data"]),
            "updated_at": _naive(row["updated_at"]),
            "replies": None if row["replies"] is None else Json(row["replies"]),
        }
        for row in updates
    ]
    pg = _driver(connection)
    with pg.pipeline(), pg.cursor() as cursor:
        if len(rows) == 1:
            cursor.execute(_UPDATE_STATE, rows[0])
        elif rows:
            cursor.executemany(_UPDATE_STATE, rows)
        pg.commit()


def _ahead(
    keys: Sequence[Key], states: list[Any], members: list[Any], now: datetime
) -> list[Ahead]:
    found = {(row[1], row[2], row[3]): row for row in states}  # id, channel, chat, user, ...
    people: dict[tuple[str, str], tuple[Member, datetime | None]] = {}
    for row in members:
        values: dict[str, Any] = {}
        for column, value in zip(_MEMBER_COLUMNS, row, strict=False):
            aware = isinstance(column.type, UTCDateTime) and value is not None
            values[column.name] = _aware(value) if aware else value
        # Built as a query's row is (no validation: the row is the database's), and
        # detached as if loaded: a session merges it unread.
        member = _NEW_MEMBER()
        instance_dict(member).update(values)
        make_transient_to_detached(member)
        *_, channel, user, used = row
        people[(channel, user)] = (member, used and _aware(used))
    result = []
    for key in keys:
        channel, chat, user = key
        if (found_row := found.get(key)) is None:
            state = State(channel, chat, user, None, None, {}, now)
        else:
            state_id, *_, step, data, updated_at, owed = found_row
            state = State(
                channel, chat, user, state_id, step, dict(data), _aware(updated_at), owed=owed
            )
        result.append((state, *people.get((channel, user), (None, None))))
    return result
