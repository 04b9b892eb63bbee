"""Reply latency of wizard steps while 50 leaders' digests are built and drawn at once.

Run from the project directory:

    .venv/bin/python -m bench.digest_contention [--leaders 50] [--rounds 2] \
        [--modes thread,process]

On SQLite (a file in a temporary directory), with the sandbox and our bot
(`initiative-bot run`) in child processes as the other benchmarks run them: 50 leaders,
each over a workshop of its own with a week of submissions, and ten people of another
workshop answering wizard steps a little over a second after each answer. A round
makes every leader's daily digest due at once; the scheduler's next run (every 60 s)
builds, draws and queues them while the chats go on. The steps of the rounds are
compared with those taken while no digest was being made, in the same run, once with
the charts drawn in a worker thread of the bot (`DIGEST_CHART_PROCESSES=0`) and once in
a worker process (`1`).
"""

import argparse
import asyncio
import logging
import random
import time
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import Engine, column, func, insert, select, update
from sqlalchemy import table as sql_table
from sqlmodel import col

from bench import contention
from bench.contention import FIRST_LEADER, MARGIN, MODES, Run
from bench.contention import table_of as table_of_runs
from bench.crowd import add_members
from bot.dispatch.dispatcher import utc_now
from core.status import Status
from services import roles, units
from storage.db import make_engine, reading, transaction, upgrade
from storage.models import DigestSetting, Initiative, Member, Unit, table

PER_WORKSHOP = 200  # submissions in the last week, in each leader's workshop
TARGET = 1.5  # p99 during the digests, at most this times the p99 without
RUN_TIMEOUT = 300.0
_SETTINGS = table(DigestSetting)
_JOBS = sql_table("scheduler_job", column("next_run_time"))  # APScheduler's job store


def prepare(url: str, leaders: int) -> tuple[list[int], str]:
    """Migrate; add the leaders (each over a workshop of its own, with its submissions) and
    a workshop for the wizard users; return the leaders' member ids and that one's invite."""
    upgrade(url)
    engine = make_engine(url)
    now = utc_now()
    rng = random.Random(1)
    with transaction(engine) as session:
        top = units.add_unit(
            session=session, name="Công ty A", kind="enterprise", parent=None, now=now
        )
        shops = [
            units.add_unit(
                session=session, name=f"Xưởng {n}", kind="workshop", parent=top, now=now
            )
            for n in range(1, leaders + 1)
        ]
        wizard = units.add_unit(
            session=session, name="Xưởng mới", kind="workshop", parent=top, now=now
        )
        units.revoke_invites(session=session, unit=wizard, now=now)
        code = units.issue_invite(session=session, unit=wizard, now=now).code
        shop_ids = [shop.id or 0 for shop in shops]
    for n, shop_id in enumerate(shop_ids):
        add_members(engine, unit_id=shop_id, first_user_id=FIRST_LEADER + n, count=1, now=now)
    week = timedelta(days=7).total_seconds()
    rows = []
    for shop_id in shop_ids:
        for _ in range(PER_WORKSHOP):
            at = now - timedelta(seconds=rng.uniform(0, week))
            rows.append(
                {
                    "unit_id": shop_id,
                    "status": Status.SUBMITTED,
                    "title": "Máy dán nhãn tự động",
                    "estimated_benefit_vnd": rng.randrange(1, 500) * 1_000_000,
                    "confidential": False,
                    "created_at": at,
                    "updated_at": at,
                    "submitted_at": at,
                    "waiting_since": at,
                    "review_unit_id": shop_id,
                }
            )
    with transaction(engine) as session:
        session.execute(insert(table(Initiative)), rows)
        members = (
            session.execute(
                select(Member).where(col(Member.unit_id).in_(shop_ids)).order_by(col(Member.id))
            )
            .scalars()
            .all()
        )
        for member in members:
            unit = session.get(Unit, member.unit_id)
            assert unit is not None
            roles.grant(session=session, member=member, unit=unit, role="leader", now=now)
            session.add(DigestSetting(member_id=member.id or 0, frequency="off"))
        leader_ids = [member.id or 0 for member in members]
    engine.dispose()
    return leader_ids, code


def make_due(engine: Engine, leader_ids: Sequence[int]) -> None:
    """Make every leader's daily digest due: the period that ended last is not sent."""
    with transaction(engine) as session:
        session.execute(
            update(_SETTINGS)
            .where(_SETTINGS.c.member_id.in_(leader_ids))
            .values(frequency="daily", sent_until=None)
        )


def marked(engine: Engine) -> int:
    """Count the leaders whose digest went out (their period marked sent)."""
    with reading(engine) as session:
        query = select(func.count()).where(_SETTINGS.c.sent_until.is_not(None))
        return int(session.execute(query).scalar_one())


def next_run(engine: Engine) -> float:
    """Return when the scheduler's job runs next (seconds since the epoch)."""
    with reading(engine) as session:
        return float(session.execute(select(func.min(_JOBS.c.next_run_time))).scalar_one())


def table_column(name: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import column
    from sqlalchemy import table as sa_table

    return sa_table(name, column("next_run_time")).c.next_run_time


async def rounds(
    engine: Engine, leader_ids: Sequence[int], count: int
) -> list[tuple[float, float]]:
    """Make the digests due `count` times, each before a run of the job; return when each
    digest run started and ended (time.monotonic)."""
    windows = []
    for _ in range(count):
        while True:  # not just before a run: it would find only some leaders due
            at = await asyncio.to_thread(next_run, engine)
            if at - time.time() > 3:
                break
            await asyncio.sleep(1)
        await asyncio.to_thread(make_due, engine, leader_ids)
        at = await asyncio.to_thread(next_run, engine)
        start = time.monotonic() + (at - time.time())
        deadline = time.monotonic() + RUN_TIMEOUT
        while await asyncio.to_thread(marked, engine) < len(leader_ids):
            if time.monotonic() > deadline:
                raise TimeoutError("the digests did not all go out")
            await asyncio.sleep(0.05)
        windows.append((start, time.monotonic()))
        await asyncio.sleep(2 * MARGIN)
    return windows


async def measure(mode: str, leaders: int, count: int) -> Run:
    """Time the wizard users while digests are made `count` times, on a fresh database."""
    return await contention.measure(
        mode,
        lambda url: prepare(url, leaders),
        leaders,
        lambda engine, leader_ids: rounds(engine, leader_ids, count),
    )


def table_of(runs: Sequence[Run], leaders: int) -> str:
    """Format each mode's two phases as one text table."""
    title = (
        f"\nSQLite file (WAL): {leaders} leaders' daily digests due at once,"
        f" {len(runs[0].runs)} times"
    )
    return table_of_runs(
        runs,
        title=title,
        done_in="charts drawn in",
        quiet="no digests",
        busy=f"{leaders} digests",
        target=TARGET,
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.digest_contention", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--leaders", type=int, default=50, help="digests due at once")
    parser.add_argument("--rounds", type=int, default=2, help="digest runs per mode")
    parser.add_argument("--modes", default=",".join(MODES), help="thread, process or both")
    args = parser.parse_args(argv)
    args.modes = [m for m in args.modes.split(",") if m]
    if any(m not in MODES for m in args.modes):
        parser.error(f"--modes: choose among {', '.join(MODES)}")
    return args


async def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark in each mode and print one table."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    runs = [await measure(mode, args.leaders, args.rounds) for mode in args.modes]
    print(table_of(runs, args.leaders), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
