"""SIGKILL in the middle of a broadcast: after a restart everyone has the announcement,
and only the sends that were in flight at the kill went twice."""

import asyncio
import signal
from pathlib import Path

from sqlalchemy import func, select

from bench.crowd import add_members, add_organizer, announce
from bot.app import Core
from bot.dispatch.dispatcher import utc_now
from bot.leader.outbox import MAX_AHEAD
from sandbox.client import SandboxClient
from storage import outbox
from storage.db import reading
from storage.models import Lease, OutboxMessage, table
from tests.telegram.conftest import start_bot, wait_until

RECIPIENTS = 500  # more than MAX_AHEAD, so the bound below is not trivially met
FIRST_USER = 300_001
ORGANIZER_USER = FIRST_USER - 1
SETTINGS = {
    "TELEGRAM_RATE_PER_SECOND": "60",  # the broadcast takes about eight seconds
    "LEADER_LEASE_SECONDS": "2",  # the restarted process takes over soon after the kill
    "QUIET_HOURS": "00:00-00:00",
}


def leader_pid(core: Core) -> int | None:
    """Return the process id of the lease holder, if the lease is held."""
    with reading(core.engine) as session:
        lease = session.get(Lease, "leader")
    if lease is None or lease.expires_at < utc_now():
        return None
    return int(lease.holder.split(":")[1])


def recorded_sent(core: Core, broadcast_id: int) -> int:
    """Count the broadcast's messages whose send is written down."""
    messages = table(OutboxMessage)
    query = select(func.count()).where(
        messages.c.broadcast_id == broadcast_id, messages.c.status == outbox.SENT
    )
    with reading(core.engine) as session:
        return int(session.execute(query).scalar_one())


def queued(core: Core, broadcast_id: int) -> int:
    """Count the broadcast's messages still waiting to go."""
    messages = table(OutboxMessage)
    query = select(func.count()).where(
        messages.c.broadcast_id == broadcast_id, messages.c.status == outbox.QUEUED
    )
    with reading(core.engine) as session:
        return int(session.execute(query).scalar_one())


async def counts(users: SandboxClient) -> list[int]:
    """Return how many messages each recipient has from the bot."""
    found: list[int] = (await users.deliveries(FIRST_USER, RECIPIENTS))["counts"]
    return found


async def test_sigkill_mid_broadcast_reaches_everyone_and_repeats_only_sends_in_flight(
    core: Core, unit_id: int, users: SandboxClient, sandbox_url: str, tmp_path: Path
) -> None:
    await users.start_chats(ORGANIZER_USER, RECIPIENTS + 1)
    add_members(
        core.engine, unit_id=unit_id, first_user_id=FIRST_USER, count=RECIPIENTS, now=utc_now()
    )
    organizer = add_organizer(core.engine, unit_id=unit_id, user_id=ORGANIZER_USER, now=utc_now())
    url, log = core.settings.database_url, tmp_path / "bot.log"
    bot = start_bot(url, sandbox_url, log, **SETTINGS)
    try:
        await wait_until(lambda: leader_pid(core) == bot.pid, timeout=60)
        broadcast_id = announce(
            core.engine, organizer_id=organizer, unit_id=unit_id, now=utc_now()
        )

        async def arrived() -> int:
            return sum(1 for n in await counts(users) if n)

        while await arrived() < RECIPIENTS // 3:
            await asyncio.sleep(0.05)
    finally:
        bot.send_signal(signal.SIGKILL)
        bot.wait(timeout=30)
    # Nothing moves now: what the sandbox has and what the database says are final.
    delivered = sum(1 for n in await counts(users) if n)
    unrecorded = delivered - recorded_sent(core, broadcast_id)
    assert delivered < RECIPIENTS, "the kill came too late to test anything"

    bot = start_bot(url, sandbox_url, log, **SETTINGS)
    try:
        await wait_until(lambda: queued(core, broadcast_id) == 0, timeout=60)
    finally:
        bot.terminate()
        bot.wait(timeout=30)
    final = await counts(users)
    duplicates = sum(n - 1 for n in final if n > 1)
    print(
        f"\nSIGKILL after {delivered} of {RECIPIENTS} had the announcement, {unrecorded} of "
        f"them not yet written down; {duplicates} duplicates after the restart"
    )
    assert "Traceback" not in log.read_text("utf-8", errors="replace")
    assert all(n >= 1 for n in final), "someone never got the announcement"
    # A message is repeated only if it was sent but its outcome was not yet written when
    # the process died. The sender holds at most MAX_AHEAD messages read from the table
    # and not yet written back (16 of them sending at once, the others waiting for a slot
    # or, sent, for the recorder's next batch), so no more than MAX_AHEAD can repeat,
    # however the kill falls. Measured, it is exactly the sends the sandbox saw and the
    # database did not record at the kill.
    assert duplicates <= unrecorded <= MAX_AHEAD
