"""Leadership: one holder of the lease at a time; another takes over when it lapses."""

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import OperationalError

from bot.app import Core
from bot.leader.lease import Leadership, together
from storage import leases
from storage.db import one_statement
from tests.conftest import Clock
from tests.test_inbox import until


def hold(core: Core, holder: str, now: datetime, ttl: float = 30.0) -> bool:
    with one_statement(core.engine) as connection:
        return leases.hold(
            connection=connection,
            name="leader",
            holder=holder,
            now=now,
            ttl=timedelta(seconds=ttl),
        )


def test_a_lease_has_one_holder_until_it_runs_out_or_is_given_back(core: Core) -> None:
    start = datetime(2026, 11, 25, tzinfo=UTC)
    assert hold(core, "a", start)
    assert not hold(core, "b", start + timedelta(seconds=29))
    assert hold(core, "a", start + timedelta(seconds=29))  # renewed until 0:59
    assert not hold(core, "b", start + timedelta(seconds=58))
    assert hold(core, "b", start + timedelta(seconds=59))
    assert not hold(core, "a", start + timedelta(seconds=60))
    with one_statement(core.engine) as connection:
        leases.give_back(connection=connection, name="leader", holder="a")  # not a's: no-op
    assert not hold(core, "a", start + timedelta(seconds=61))
    with one_statement(core.engine) as connection:
        leases.give_back(connection=connection, name="leader", holder="b")
    assert hold(core, "a", start + timedelta(seconds=61))


async def test_the_standby_takes_over_when_the_leader_stops_renewing(
    core: Core, clock: Clock
) -> None:
    clock.now = datetime.now(UTC)  # standing still: a lease runs out only if given back
    runs: list[str] = []
    tries = {"1": 0, "2": 0}

    def work(name: str) -> object:
        async def run() -> None:
            runs.append(name)
            await asyncio.Event().wait()

        return run

    def counting(holder: str) -> Callable[[], datetime]:
        def now() -> datetime:
            tries[holder] += 1  # once for each attempt to take or renew the lease
            return clock()

        return now

    first = Leadership(
        engine=core.engine, work=work("first"), clock=counting("1"), ttl=0.3, holder="1"
    )
    second = Leadership(
        engine=core.engine, work=work("second"), clock=counting("2"), ttl=0.3, holder="2"
    )
    leading = asyncio.create_task(first.run())
    await until(lambda: runs == ["first"])
    standby = asyncio.create_task(second.run())
    await until(lambda: tries["2"] >= 3)  # the standby tried, and the leader renewed, thrice
    assert (first.leading, second.leading, runs) == (True, False, ["first"])
    leading.cancel()  # a clean stop gives the lease back: the standby takes over at once
    await asyncio.gather(leading, return_exceptions=True)
    await until(lambda: runs == ["first", "second"])  # its work starts after it leads
    assert (first.leading, second.leading, runs) == (False, True, ["first", "second"])
    standby.cancel()
    await asyncio.gather(standby, return_exceptions=True)


async def test_when_one_of_the_leaders_works_fails_the_others_stop_too() -> None:
    stopped = asyncio.Event()

    async def sender() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            stopped.set()  # it does not go on sending outside the lease

    async def scheduler() -> None:
        await asyncio.sleep(0.01)
        raise ConnectionError("the database is away")

    async with asyncio.timeout(5):
        await together(sender(), scheduler())  # logged, not raised: the lease starts it again
    assert stopped.is_set()


# On SQLite the database work runs on the event loop's thread (storage.db.run): a hung
# renewal there holds up everything, the timeout included.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_leader_whose_renewal_hangs_stops_its_work_before_the_lease_can_run_out(
    core: Core, clock: Clock
) -> None:
    clock.now = datetime.now(UTC)
    runs: list[str] = []
    hang = threading.Event()

    async def work() -> None:
        runs.append("leading")
        await asyncio.Event().wait()

    class Hanging(Leadership):
        def _hold(self) -> bool:
            if runs:  # renewals, once leading, never answer
                hang.wait(10)
            return super()._hold()

    leader = Hanging(engine=core.engine, work=work, clock=clock, ttl=0.6, holder="1")
    task = asyncio.create_task(leader.run())
    try:
        await until(lambda: runs == ["leading"])
        await until(lambda: not leader.leading, timeout=3)  # not after 10 s of hanging
        assert runs == ["leading"] and not leader.leading and not hang.is_set()
    finally:
        hang.set()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_leader_stops_a_third_of_the_lease_early_when_a_failure_then_a_hang_come(
    core: Core, clock: Clock
) -> None:
    """One renewal fails at once, the next hangs: the work stops two thirds of the lease
    after the last renewal, not when the lease runs out (another process may lead then)."""
    clock.now = datetime.now(UTC)
    ttl = 3.0
    stopped_at: list[float] = []
    hang = threading.Event()

    async def work() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            stopped_at.append(time.monotonic())

    class Failing(Leadership):
        renewals = 0

        def _hold(self) -> bool:
            if self.leading:
                self.renewals += 1
                if self.renewals == 1:
                    lost = Exception("server closed the connection unexpectedly")
                    raise OperationalError("UPDATE", {}, lost, connection_invalidated=True)
                hang.wait(10)
            return super()._hold()

    leader = Failing(engine=core.engine, work=work, clock=clock, ttl=ttl, holder="1")
    task = asyncio.create_task(leader.run())
    try:
        await until(lambda: bool(stopped_at), timeout=10)
        assert stopped_at[0] - leader.renewed <= ttl * 2 / 3 + 0.3  # not at ttl
    finally:
        hang.set()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
