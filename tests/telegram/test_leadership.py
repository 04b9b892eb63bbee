"""Two bot processes on one database: one leads, and the other takes over when it dies."""

import signal
import socket
import subprocess
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, select

from bot.app import Core
from bot.dispatch.dispatcher import utc_now
from sandbox.client import SandboxClient
from services import campaigns, roles
from services.campaigns import Plan
from storage.db import reading, transaction
from storage.models import Lease, Member, OutboxMessage, Unit
from tests.telegram.conftest import start_bot, wait_until
from tests.tree import person

USERS = [7001, 7002, 7003]
SETTINGS = {
    "LEADER_LEASE_SECONDS": "2",
    "QUIET_HOURS": "00:00-00:00",  # the processes run on the real clock
    "TELEGRAM_WEBHOOK_SECRET": "s3cret-for-two-workers",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def worker(core: Core, sandbox_url: str, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start a webhook worker, as a province runs several behind a proxy; return it and
    the port it listens on."""
    port = free_port()
    process = start_bot(
        core.settings.database_url,
        sandbox_url,
        log,
        "--webhook",
        f"http://127.0.0.1:{port}/hook",
        "--listen",
        f"127.0.0.1:{port}",
        **SETTINGS,
    )
    return process, port


def listening(port: int) -> bool:
    """Tell whether a worker is up: it listens once its channel started, and stands by
    for the lease from then on."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def leader_pid(core: Core) -> int | None:
    with Session(core.engine) as session:
        lease = session.get(Lease, "leader")
    if lease is None or lease.expires_at < utc_now():
        return None
    return int(lease.holder.split(":")[1])


def campaign(core: Core, unit_id: int, organizer_id: int, name: str) -> None:
    """Start a campaign today: its launch reminder is due at once."""
    today = utc_now().astimezone(core.settings.tz).date()
    with transaction(core.engine) as session:
        member, unit = session.get(Member, organizer_id), session.get(Unit, unit_id)
        assert member is not None and unit is not None
        plan = Plan(name, None, today, today + timedelta(days=30), None, None)
        campaigns.create(
            session=session,
            member=member,
            unit=unit,
            plan=plan,
            zone=core.settings.tz,
            now=utc_now(),
        )


def members(core: Core, unit_id: int) -> int:
    """Add the sandbox users as members; the first organizes campaigns. Return its id."""
    with transaction(core.engine) as session:
        unit = session.get(Unit, unit_id)
        assert unit is not None
        added = [person(session, unit, str(user), "vi", utc_now) for user in USERS]
        roles.grant(session=session, member=added[0], unit=unit, role="organizer", now=utc_now())
        return added[0].id or 0


def launches(core: Core, status: str | None = None) -> Counter[str]:
    """Count the launch reminders queued (every outbox row, so that a doubled job shows),
    or only those in `status`, per chat."""
    query = select(OutboxMessage)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    with reading(core.engine) as session:
        rows = session.exec(query).all()
    return Counter(
        row.chat_id for row in rows if row.content["text"]["$text"] == "reminder.campaign_launch"
    )


async def test_killing_the_leader_hands_the_scheduler_and_outbox_to_the_other_process(
    core: Core, unit_id: int, users: SandboxClient, sandbox_url: str, tmp_path: Path
) -> None:
    for user in USERS:
        await users.send_text(user, "/start")  # the chats exist in the sandbox
    organizer = members(core, unit_id)
    campaign(core, unit_id, organizer, "Đợt thi đua 40 ngày")
    first, _ = worker(core, sandbox_url, tmp_path / "first.log")
    second = None
    try:
        await wait_until(lambda: leader_pid(core) == first.pid, timeout=60)
        second, port = worker(core, sandbox_url, tmp_path / "second.log")
        await wait_until(lambda: sum(launches(core, "sent").values()) == len(USERS), timeout=60)
        await wait_until(lambda: listening(port), timeout=60)  # up and standing by
        assert leader_pid(core) == first.pid

        campaign(core, unit_id, organizer, "Đợt cao điểm 95 ngày")  # due now, for whoever leads
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        killed = time.monotonic()
        await wait_until(lambda: leader_pid(core) == second.pid, timeout=60)
        took_over = time.monotonic() - killed
        # The new leader's job goes through the due campaigns in order: a launch of the
        # first campaign queued again would be in the outbox before the second's are sent.
        await wait_until(
            lambda: sum(launches(core, "sent").values()) == 2 * len(USERS), timeout=60
        )
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
    print(f"\nthe second process took over {took_over:.1f} s after the SIGKILL")
    assert took_over < 60
    assert launches(core) == Counter({str(user): 2 for user in USERS})
    for user in USERS:
        texts = [str(m.get("text")) for m in await users.messages(user)]
        assert sum("bắt đầu hôm nay" in text for text in texts) == 2, texts
    for log in ("first.log", "second.log"):
        assert "Traceback" not in (tmp_path / log).read_text("utf-8", errors="replace")
