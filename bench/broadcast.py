"""A broadcast to many members through the emulator at the messenger's rate ceiling.

Run from the project directory:

    .venv/bin/python -m bench.broadcast [--recipients 10000,100000] [--backends postgresql,sqlite]
    .venv/bin/python -m bench.broadcast --messenger zalo [--recipients 1000]

For each backend and recipient count: a fresh database with that many members, the
emulator limited to the messenger's ceiling (Telegram: 1,000 messages/s, its paid
broadcasts; Zalo: ZALO_RATE_PER_SECOND's default, the emulator's own limit too) and our
bot (`initiative-bot run`) at that rate, in child processes; an organizer's broadcast is
created from here, and the table shows the rate the emulator saw, the bot's peak memory,
and how many messages were lost or repeated.
"""

import argparse
import asyncio
import logging
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import ClientSession
from sqlalchemy import Engine, func, select

from bench.crowd import add_members, add_organizer, announce
from bench.databases import add_backends, chosen_backends, database
from bench.processes import child, peak_rss_mb, sandbox_process
from bench.throughput import BOT_TOKEN, ZALO_BOT_TOKEN, bot_settings
from bot.dispatch.dispatcher import utc_now
from core.settings import Settings
from sandbox.client import ControlClient, SandboxClient
from sandbox.zalo.client import ZaloSandboxClient
from services import units
from storage import outbox
from storage.db import make_engine, reading, transaction, upgrade
from storage.models import Lease, OutboxMessage, table

# messages/s: Telegram's ceiling for paid broadcasts; what the bot is set to on Zalo
LIMITS = {"telegram": 1000, "zalo": Settings(_env_file=None).zalo_rate_per_second}
RECIPIENTS = {"telegram": "10000,100000", "zalo": "1000"}
TARGET = 0.95  # of the limit
ORGANIZER_USER = 1_000_000
FIRST_USER = ORGANIZER_USER + 1
FINISH_TIMEOUT = 600.0


@dataclass
class Row:
    """What one broadcast measured."""

    backend: str
    messenger: str
    recipients: int
    seconds: float
    rate: float
    peak_mb: float
    lost: int
    duplicated: int

    @property
    def ok(self) -> bool:
        """Tell whether the rate, loss and duplicate targets are met."""
        return self.rate >= TARGET * self.limit and self.lost == 0 and self.duplicated == 0

    @property
    def limit(self) -> int:
        """Return the messenger's ceiling, in messages/s."""
        return LIMITS[self.messenger]


def prepare(url: str, recipients: int, messenger: str = "telegram") -> tuple[int, int]:
    """Migrate the database and add a workshop of members; return it and the organizer."""
    upgrade(url)
    engine = make_engine(url)
    now = utc_now()
    with transaction(engine) as session:
        top = units.add_unit(
            session=session, name="Công ty A", kind="enterprise", parent=None, now=now
        )
        shop = units.add_unit(
            session=session, name="Xưởng 1", kind="workshop", parent=top, now=now
        )
        shop_id = shop.id or 0
    add_members(
        engine,
        unit_id=shop_id,
        first_user_id=FIRST_USER,
        count=recipients,
        now=now,
        channel=messenger,
    )
    organizer = add_organizer(
        engine, unit_id=shop_id, user_id=ORGANIZER_USER, now=now, channel=messenger
    )
    engine.dispose()
    return shop_id, organizer


def leader_pid(engine: Engine) -> int | None:
    """Return the process id holding the leader lease, if any."""
    with reading(engine) as session:
        lease = session.get(Lease, "leader")
    return None if lease is None else int(lease.holder.split(":")[1])


def queued(engine: Engine, broadcast_id: int) -> int:
    """Count the broadcast's messages not yet sent (or failed for good)."""
    messages = table(OutboxMessage)
    query = select(func.count()).where(
        messages.c.broadcast_id == broadcast_id, messages.c.status == outbox.QUEUED
    )
    with reading(engine) as session:
        return int(session.execute(query).scalar_one())


@dataclass
class Delivered:
    """What the sandbox counted of a broadcast's messages (`/control/deliveries`)."""

    first_at: float  # the sandbox's monotonic clock: when the first was accepted
    last_at: float  # and the last
    rate: float  # messages/s from the first to the last
    lost: int  # recipients with no message
    duplicated: int  # messages beyond one per recipient

    @property
    def seconds(self) -> float:
        """Return the time from the first to the last message."""
        return self.last_at - self.first_at

    @classmethod
    def of(cls, found: dict[str, Any]) -> "Delivered":
        """Summarize the sandbox's answer."""
        counts: list[int] = found["counts"]
        first_at, last_at = float(found["first_at"] or 0), float(found["last_at"] or 0)
        seconds = last_at - first_at
        return cls(
            first_at=first_at,
            last_at=last_at,
            rate=(sum(counts) - 1) / seconds if seconds > 0 else 0.0,
            lost=sum(1 for n in counts if n == 0),
            duplicated=sum(n - 1 for n in counts if n > 1),
        )


@asynccontextmanager
async def sandbox_at_limit(
    recipients: int, messenger: str = "telegram"
) -> AsyncIterator[tuple[str, ControlClient]]:
    """Run the emulator limited to the messenger's ceiling, the organizer's and the
    recipients' chats started; yield its URL and a client acting as our bot's users."""
    async with sandbox_process() as sandbox, ClientSession() as http:
        users: ControlClient
        if messenger == "zalo":
            users = ZaloSandboxClient(sandbox, ZALO_BOT_TOKEN, session=http)
            await users.set_limits(bot_per_second=LIMITS[messenger])
        else:
            users = SandboxClient(sandbox, BOT_TOKEN, session=http)
            await users.set_limits(bot_per_second=LIMITS[messenger])
        await users.start_chats(ORGANIZER_USER, recipients + 1)
        yield sandbox, users


@asynccontextmanager
async def leading_bot(
    url: str,
    workdir: Path,
    sandbox: str,
    engine: Engine,
    messenger: str = "telegram",
    **settings: str,
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Run `initiative-bot run` at the messenger's ceiling on the emulator (and
    `settings`, as environment variables); yield it once it leads."""
    limit = str(LIMITS[messenger])
    env = {"DATABASE_URL": url, "FILES_DIR": str(workdir / "files")}
    env |= bot_settings(messenger, sandbox)
    env |= {f"{messenger.upper()}_RATE_PER_SECOND": limit, **settings}
    async with child("-m", "bot", "run", env=env, ready=False) as (bot, _):
        await wait_for(lambda: leader_pid(engine) == bot.pid, "the lease", 60)
        yield bot


async def broadcast(
    engine: Engine, *, organizer: int, shop: int, messenger: str = "telegram"
) -> None:
    """Broadcast the announcement to the workshop now; wait until none of it is queued."""
    broadcast_id = await asyncio.to_thread(
        announce, engine, organizer_id=organizer, unit_id=shop, now=utc_now(), channel=messenger
    )
    await wait_for(lambda: queued(engine, broadcast_id) == 0, "the end", FINISH_TIMEOUT)


async def measure(backend: str, recipients: int, messenger: str) -> Row:
    """Broadcast to `recipients` members on a fresh database and sandbox; measure it."""
    with (
        tempfile.TemporaryDirectory(prefix="initiative-bot-bench-") as tmp,
        database(backend, Path(tmp)) as url,
    ):
        shop, organizer = await asyncio.to_thread(prepare, url, recipients, messenger)
        engine = make_engine(url)
        try:
            async with sandbox_at_limit(recipients, messenger) as (sandbox, users):
                async with leading_bot(url, Path(tmp), sandbox, engine, messenger) as bot:
                    await broadcast(engine, organizer=organizer, shop=shop, messenger=messenger)
                    peak = peak_rss_mb(bot.pid)
                found = Delivered.of(await users.deliveries(FIRST_USER, recipients))
        finally:
            engine.dispose()
    return Row(
        backend=backend,
        messenger=messenger,
        recipients=recipients,
        seconds=found.seconds,
        rate=found.rate,
        peak_mb=peak,
        lost=found.lost,
        duplicated=found.duplicated,
    )


async def wait_for(check: Callable[[], bool], what: str, timeout: float) -> None:
    """Poll a blocking check every half second until it passes."""
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(check):
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        await asyncio.sleep(0.5)


def table_of(rows: Sequence[Row]) -> str:
    """Format the results as a text table."""
    head = (
        "backend",
        "messenger",
        "recipients",
        "seconds",
        "msgs/s",
        "% of limit",
        "bot peak RSS MB",
        "lost",
        "duplicated",
        f"target ≥ {TARGET:.0%}, none lost",
    )
    lines = [head]
    for row in rows:
        lines.append(
            (
                row.backend,
                row.messenger,
                str(row.recipients),
                f"{row.seconds:.1f}",
                f"{row.rate:.1f}",
                f"{100 * row.rate / row.limit:.1f}",
                f"{row.peak_mb:.1f}",
                str(row.lost),
                str(row.duplicated),
                "ok" if row.ok else "MISSED",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    rendered = [
        " | ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True)) for line in lines
    ]
    rendered.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(rendered)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.broadcast", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--messenger", choices=tuple(LIMITS), default="telegram")
    parser.add_argument(
        "--recipients",
        help=f"comma-separated counts (default: {RECIPIENTS['telegram']} on Telegram, "
        f"{RECIPIENTS['zalo']} on Zalo)",
    )
    add_backends(parser, default="postgresql,sqlite")
    args = parser.parse_args(argv)
    args.recipients = args.recipients or RECIPIENTS[args.messenger]
    args.backends = chosen_backends(parser, args.backends)
    try:
        args.recipients = [int(n) for n in args.recipients.split(",") if n.strip()]
    except ValueError:
        parser.error("--recipients must be comma-separated numbers")
    if not args.recipients or min(args.recipients) < 2:
        parser.error("--recipients must be at least 2")
    return args


async def main(argv: Sequence[str] | None = None) -> None:
    """Run one broadcast per backend and recipient count; print a row as each ends."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    limit = LIMITS[args.messenger]
    print(f"{args.messenger}: emulator and bot limited to {limit} messages/s", flush=True)
    rows: list[Row] = []
    for backend in args.backends:
        for recipients in args.recipients:
            rows.append(await measure(backend, recipients, args.messenger))
            print(table_of(rows[-1:]), flush=True)
    print("\n" + table_of(rows), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
