"""Reply latency of wizard steps while /export workbooks are made and sent.

Run from the project directory:

    .venv/bin/python -m bench.export_contention [--exports 4] [--rounds 2] \
        [--modes thread,process]

On SQLite, with the sandbox and our bot (`initiative-bot run`) in child processes, on
`bench.digest_contention`'s organization (50 workshops of 200 submissions each, 10,000
initiatives under the enterprise) and its ten people answering wizard steps a little
over a second after each answer. A round queues `--exports` messages that carry the
enterprise's workbook to make (what /export queues: `views.later`), to a leader of it,
and waits until they were sent. The steps taken while workbooks were made are compared
with those taken while none was, in the same run, once with the workbooks made in a
worker thread of the bot (`DIGEST_CHART_PROCESSES=0`) and once in a worker process (`1`).
"""

import argparse
import asyncio
import logging
import time
from collections.abc import Sequence

from sqlalchemy import Engine, func
from sqlmodel import col, select

from bench import contention, digest_contention
from bench.contention import FIRST_LEADER, MODES, Run, Window
from bench.contention import table_of as table_of_runs
from bot.dispatch.dispatcher import utc_now
from core.codec import reply_to_json
from core.messages import LaterDocument, Reply, t
from services import roles
from storage import outbox
from storage.db import make_engine, reading, transaction
from storage.models import Member, OutboxMessage, Unit

TARGET = 1.5  # p99 while workbooks are made, at most this times the p99 without
RUN_TIMEOUT = 300.0
QUIET = 6.0  # seconds of steps with no workbook made, before each round and after the last
LEADERS = 50  # workshops of bench.digest_contention's organization


def prepare(url: str) -> tuple[tuple[int, int], str]:
    """The organization, and its first leader made a leader of the enterprise too; return
    that member's id and the enterprise's id, and the wizard workshop's invite."""
    leader_ids, code = digest_contention.prepare(url, LEADERS)
    engine = make_engine(url)
    with transaction(engine) as session:
        member = session.get(Member, leader_ids[0])
        top = session.exec(select(Unit).where(col(Unit.parent_id).is_(None))).one()
        assert member is not None
        roles.grant(session=session, member=member, unit=top, role="leader", now=utc_now())
        top_id = top.id or 0
    engine.dispose()
    return (leader_ids[0], top_id), code


def queue_exports(engine: Engine, member_id: int, unit_id: int, count: int) -> list[int]:
    """Queue `count` messages with the enterprise's workbook to make; return their ids."""
    workbook = LaterDocument(
        "export", {"member": member_id, "unit": unit_id, "campaign": None, "name": "a.xlsx"}
    )
    content = reply_to_json(Reply(t("export.sent", unit="Công ty A", count=0), later=(workbook,)))
    with transaction(engine) as session:
        queued = [
            outbox.enqueue(
                session=session,
                channel="telegram",
                chat_id=str(FIRST_LEADER),
                chat_kind="private",
                language="vi",
                content=content,
                now=utc_now(),
                member_id=member_id,
            )
            for _ in range(count)
        ]
        session.flush()
        return [message.id or 0 for message in queued]


def unsent(engine: Engine, ids: Sequence[int]) -> int:
    """Count the messages of `ids` not sent yet."""
    with reading(engine) as session:
        query = select(func.count()).where(
            col(OutboxMessage.id).in_(ids), col(OutboxMessage.status) != outbox.SENT
        )
        return int(session.execute(query).scalar_one())


async def rounds(
    engine: Engine, member_id: int, unit_id: int, exports: int, count: int
) -> list[Window]:
    """Queue the workbooks `count` times; return when each round started and ended."""
    windows = []
    for _ in range(count):
        await asyncio.sleep(QUIET)
        start = time.monotonic()
        ids = await asyncio.to_thread(queue_exports, engine, member_id, unit_id, exports)
        deadline = start + RUN_TIMEOUT
        while await asyncio.to_thread(unsent, engine, ids):
            if time.monotonic() > deadline:
                raise TimeoutError("the workbooks did not all go out")
            await asyncio.sleep(0.05)
        windows.append((start, time.monotonic()))
    await asyncio.sleep(QUIET)
    return windows


async def measure(mode: str, exports: int, count: int) -> Run:
    """Time the wizard users while workbooks are made `count` times, on a fresh database."""

    async def work(engine: Engine, prepared: tuple[int, int]) -> list[Window]:
        return await rounds(engine, *prepared, exports, count)

    return await contention.measure(mode, prepare, 1, work)


def table_of(runs: Sequence[Run], exports: int) -> str:
    """Format each mode's two phases as one text table."""
    title = (
        f"\nSQLite file (WAL): {exports} workbooks of {LEADERS * 200:,} initiatives queued at"
        f" once, {len(runs[0].runs)} times"
    )
    return table_of_runs(
        runs,
        title=title,
        done_in="workbooks made in",
        quiet="none made",
        busy=f"{exports} workbooks",
        target=TARGET,
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.export_contention", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--exports", type=int, default=4, help="workbooks queued at once")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per mode")
    parser.add_argument("--modes", default=",".join(MODES), help="thread, process or both")
    args = parser.parse_args(argv)
    args.modes = [m for m in args.modes.split(",") if m]
    if any(m not in MODES for m in args.modes) or args.exports < 1 or args.rounds < 1:
        parser.error(f"--modes: choose among {', '.join(MODES)}; --exports, --rounds ≥ 1")
    return args


async def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark in each mode and print one table."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    runs = [await measure(mode, args.exports, args.rounds) for mode in args.modes]
    print(table_of(runs, args.exports), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
