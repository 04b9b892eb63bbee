"""The opening and closing statements of one update's transaction on PostgreSQL (issue 17).

    python -m bench.pg_transaction [--updates 3000] [--rounds 5]

Every update the bot processes alone (one chat writing, or Zalo's one-update polls)
opens its transaction by storing the update, reading the person's state (locked) and
member, and closes it by writing the state back and committing. This times that
opening and closing alone, client CPU and wall time per update, four ways on one
database, in alternating rounds (the median round is shown):

- through SQLAlchemy Core, as on SQLite (`inbox.store`, `conversations.load_with_members`,
  `conversations.save_many`, then COMMIT): the baseline;
- both ends in a psycopg pipeline (`pg_pipeline.begin_pipelined`, `save_and_commit`):
  what a group of updates runs;
- the lone statement and the pipelined close (`pg_pipeline.begin`, `save_and_commit`):
  what a lone update runs;
- the lone statement and SQLAlchemy's close: whether the close's pipeline pays.

The wizard step between them is left out: it is the same in all four. A last row runs
whole updates through the dispatcher as a channel does (`bench.throughput`'s texts: a
title, then /back), to show what the opening and closing weigh in an update.
"""

import argparse
import itertools
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine

from bench import throughput
from bench.databases import database
from bench.load import STEADY
from bench.tables import render
from bot.app import Core, build
from core.messages import Incoming
from core.settings import Settings
from storage import conversations, inbox, pg_pipeline
from storage.conversations import Ahead, Key

KEY: Key = ("zalo", "4000001", "4000001")
PAYLOAD = {
    "event_name": "message.text.received",
    "message": {"message_id": "m", "text": "Máy dán nhãn tự động số 7"},
}
Open = Callable[[Connection, inbox.Received, datetime], list[Ahead]]
Close = Callable[[Connection, list[conversations.State]], None]


def open_core(connection: Connection, received: inbox.Received, now: datetime) -> list[Ahead]:
    """The SQLite path: each statement through SQLAlchemy, one round trip each."""
    inbox.store_or_claim(connection=connection, received=received, claims=[], now=now)
    return conversations.load_with_members(connection=connection, keys=[KEY], now=now)


def open_pipelined(connection: Connection, received: inbox.Received, now: datetime) -> list[Ahead]:
    return pg_pipeline.begin_pipelined(
        connection, received=received, claims=[], keys=[KEY], now=now
    )[1]


def open_lone(connection: Connection, received: inbox.Received, now: datetime) -> list[Ahead]:
    return pg_pipeline.begin(connection, received=received, claims=[], keys=[KEY], now=now)[1]


def close_core(connection: Connection, states: list[conversations.State]) -> None:
    conversations.save_many(connection=connection, states=states)
    connection.commit()


def close_pipelined(connection: Connection, states: list[conversations.State]) -> None:
    pg_pipeline.save_and_commit(connection, states)
    connection.commit()  # finds nothing to do, as in the dispatcher


WHOLE = "the whole update through the dispatcher"
WAYS: dict[str, tuple[Open, Close]] = {
    "SQLAlchemy Core (baseline)": (open_core, close_core),
    "pipeline + pipeline (a group)": (open_pipelined, close_pipelined),
    "lone statement + pipeline (a lone update)": (open_lone, close_pipelined),
    "lone statement + SQLAlchemy close": (open_lone, close_core),
}


def join(core: Core, code: str) -> None:
    """KEY's person joins (Vietnamese, consent) and opens the wizard at its title."""
    keys = []
    for turn, text in enumerate((f"/start {code}", "1", "1", "/new")):
        incoming = Incoming(
            channel=KEY[0],
            chat_id=KEY[1],
            user_id=KEY[2],
            text=text,
            update_id=f"join{turn}",
            display_name="Nguyễn Văn A",
        )
        response = core.dispatcher.handle(incoming)
        assert response is not None and not response.failed
        keys = [reply.text.key for reply in response.replies]
    assert keys[-1] == "wizard.ask_title", keys


def run_dispatcher(core: Core, updates: int, ids: "itertools.count[int]") -> tuple[float, float]:
    """Process `updates` lone updates through the dispatcher as a channel does (stored
    and handled in one transaction): a title, then /back, and again; return the client's
    CPU ms and the wall ms per update."""
    cpu, wall = time.process_time(), time.perf_counter()
    for turn in range(updates):
        update_id = f"d{next(ids)}"
        text = STEADY[turn % len(STEADY)]
        incoming = Incoming(
            channel=KEY[0], chat_id=KEY[1], user_id=KEY[2], text=text, update_id=update_id
        )
        row = inbox.Row(update_id, turn, KEY[1], PAYLOAD)
        received = inbox.Received(KEY[0], [row], frozenset({update_id}))
        (response,) = core.dispatcher.handle_group([incoming], received=received)
        assert response is not None and not response.failed
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return 1000 * cpu / updates, 1000 * wall / updates


def run_way(
    engine: Engine, way: tuple[Open, Close], updates: int, ids: "itertools.count[int]"
) -> tuple[float, float]:
    """Open and close `updates` transactions one after the other; return the client's
    CPU ms and the wall ms per update."""
    opening, closing = way
    now = datetime.now(UTC)
    with engine.connect() as connection:
        cpu, wall = time.process_time(), time.perf_counter()
        for turn in range(updates):
            update_id = f"u{next(ids)}"
            row = inbox.Row(update_id, turn, KEY[1], PAYLOAD)
            received = inbox.Received(KEY[0], [row], frozenset({update_id}))
            connection.begin()
            ((state, member, _),) = opening(connection, received, now)
            assert member is not None and update_id in received.new
            later = state.updated_at + timedelta(microseconds=1)
            closing(connection, [replace(state, updated_at=later)])
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return 1000 * cpu / updates, 1000 * wall / updates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=3000, help="per way and round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, database("postgresql", Path(tmp)) as url:
        code = throughput.prepare(url, Path(tmp))
        settings = Settings(_env_file=None, database_url=url, files_dir=Path(tmp) / "files")
        core = build(settings, migrate=False)
        join(core, code)
        ids = itertools.count()
        measured: dict[str, list[tuple[float, float]]] = {name: [] for name in [*WAYS, WHOLE]}
        for way in WAYS.values():  # warm up: statements prepared, caches filled
            run_way(core.engine, way, 50, ids)
        run_dispatcher(core, 50, ids)
        for _ in range(args.rounds):
            for name, way in WAYS.items():
                measured[name].append(run_way(core.engine, way, args.updates, ids))
            measured[WHOLE].append(run_dispatcher(core, args.updates, ids))
        core.engine.dispose()
    base_cpu = statistics.median(cpu for cpu, _ in measured[next(iter(WAYS))])
    base_wall = statistics.median(wall for _, wall in measured[next(iter(WAYS))])
    rows = []
    for name, results in measured.items():
        cpu = statistics.median(c for c, _ in results)
        wall = statistics.median(w for _, w in results)
        rows.append(
            (name, f"{cpu:.3f}", f"{cpu / base_cpu:.2f}", f"{wall:.3f}", f"{wall / base_wall:.2f}")
        )
    title = (
        f"PostgreSQL: opening and closing one update's transaction, {args.updates} updates"
        f" per way and round, median of {args.rounds} rounds"
    )
    head = ("way", "client CPU ms/upd", "× baseline", "wall ms/upd", "× baseline")
    print(render(title, head, rows))


if __name__ == "__main__":
    main()
