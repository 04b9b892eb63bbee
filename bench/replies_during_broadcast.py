"""Reply latency of wizard steps while a broadcast goes out at the configured limit.

Run from the project directory:

    .venv/bin/python -m bench.replies_during_broadcast [--recipients 100000] \
        [--backends sqlite,postgresql]

For each backend: a fresh database with a workshop of that many members, the sandbox
limited to 1,000 messages/s and our bot (`initiative-bot run`, at that rate) in child
processes, as `bench.broadcast` runs them. Ten people of another workshop answer wizard
steps, each a little over a second after the bot's last answer: first with no
broadcast, then while the broadcast goes out. The table shows their reply latency in
both phases and the broadcast's rate over its whole run.
"""

import argparse
import asyncio
import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from bench import broadcast
from bench.broadcast import FIRST_USER, LIMITS, Delivered
from bench.databases import BACKENDS, add_backends, chosen_backends, database
from bench.load import Chat, Result
from bench.tables import render
from bench.throughput import join
from bot.dispatch.dispatcher import utc_now
from sandbox.client import SandboxClient
from services import units
from storage.db import make_engine, transaction
from storage.models import Unit

LIMIT = LIMITS["telegram"]  # this benchmark runs on Telegram
CHATS = 10
FIRST_CHAT = 20_001  # the wizard users' ids: outside the recipients' and the organizer's
# A person answers a wizard step a second or more after its question. 1.1 s keeps each
# chat out of its own per-chat window (1 message/s, kept 2 % longer), so the latency is
# the bot's (queue, processing, the shared flood limiter), not that limit's.
THINK = 1.1
BASELINE_STEPS = 20  # per chat, with no broadcast: 200 replies in ~25 s
TARGET_P99_MS = 500.0  # during the broadcast
TARGET_SHARE = 0.95  # of the limit, over the broadcast's whole run


@dataclass
class Run:
    """One backend's two phases and the broadcast."""

    baseline: Result
    during: Result
    sent: Delivered
    before: int  # steps started while the broadcast was being created, not counted
    after: int  # steps started after its last message, not counted


def prepare(url: str, recipients: int) -> tuple[int, int, str]:
    """Make `bench.broadcast`'s workshop of recipients and organizer, and a second
    workshop beside it (not in the audience) for the wizard users; return the first
    workshop, the organizer and the second's invite code."""
    shop, organizer = broadcast.prepare(url, recipients)
    engine = make_engine(url)
    now = utc_now()
    with transaction(engine) as session:
        first = session.get(Unit, shop)
        assert first is not None
        parent = session.get(Unit, first.parent_id)
        other = units.add_unit(
            session=session, name="Xưởng 2", kind="workshop", parent=parent, now=now
        )
        units.revoke_invites(session=session, unit=other, now=now)
        code = units.issue_invite(session=session, unit=other, now=now).code
    engine.dispose()
    return shop, organizer, code


Step = tuple[float, float]  # when it started (time.monotonic, the sandbox's clock), seconds


async def converse(chats: Sequence[Chat], done: Callable[[Chat], bool]) -> list[Step]:
    """Let every chat answer steps, THINK seconds after each answer, until `done`.

    The chats start spread over THINK, so that their messages do not come in bursts.
    """
    steps: list[Step] = []

    async def talk(index: int, chat: Chat) -> None:
        await asyncio.sleep(index * THINK / len(chats))
        while not done(chat):
            started = time.monotonic()
            await chat.step()
            steps.append((started, time.monotonic() - started))
            await asyncio.sleep(THINK)

    async with asyncio.TaskGroup() as group:
        for index, chat in enumerate(chats):
            group.create_task(talk(index, chat))
    return steps


def result(steps: Sequence[Step]) -> Result:
    """Return the steps' latencies (and their span) as the throughput benchmark's result."""
    if not steps:
        return Result(seconds=0.0)
    seconds = max(s + d for s, d in steps) - min(s for s, _ in steps)
    return Result(seconds=seconds, latencies=[d for _, d in steps])


async def measure(backend: str, recipients: int) -> Run:
    """Time the wizard users with no broadcast, then during one, on a fresh database."""
    with (
        tempfile.TemporaryDirectory(prefix="initiative-bot-bench-") as tmp,
        database(backend, Path(tmp)) as url,
    ):
        shop, organizer, code = await asyncio.to_thread(prepare, url, recipients)
        engine = make_engine(url)
        try:
            async with broadcast.sandbox_at_limit(recipients) as (sandbox, users):
                assert isinstance(users, SandboxClient)  # Telegram's face
                async with broadcast.leading_bot(url, Path(tmp), sandbox, engine):
                    baseline, steps = await wizard_users(users, code, engine, organizer, shop)
                sent = Delivered.of(await users.deliveries(FIRST_USER, recipients))
        finally:
            engine.dispose()
    during = [s for s in steps if sent.first_at <= s[0] <= sent.last_at]
    return Run(
        baseline=result(baseline),
        during=result(during),
        sent=sent,
        before=sum(1 for s in steps if s[0] < sent.first_at),
        after=sum(1 for s in steps if s[0] > sent.last_at),
    )


async def wizard_users(
    users: SandboxClient, code: str, engine: Engine, organizer: int, shop: int
) -> tuple[list[Step], list[Step]]:
    """Open the wizard in every chat, time the baseline, then the steps of a broadcast."""
    expected: dict[str, str] = {}
    chats = [Chat(users, FIRST_CHAT + i, expected) for i in range(CHATS)]
    await asyncio.gather(*(join(chat, code) for chat in chats))
    await asyncio.gather(*(chat.step() for chat in chats))  # warm-up, not timed
    await asyncio.sleep(THINK)
    last = {chat.user_id: chat.turn + BASELINE_STEPS for chat in chats}
    baseline = await converse(chats, lambda chat: chat.turn >= last[chat.user_id])
    sending = asyncio.create_task(broadcast.broadcast(engine, organizer=organizer, shop=shop))
    try:
        steps = await converse(chats, lambda _: sending.done())
        await sending  # its error, if any
    finally:
        sending.cancel()
    return baseline, steps


def table(title: str, run: Run) -> str:
    """Format one backend's phases as a text table."""
    head = (
        "phase",
        "replies",
        "p50 ms",
        "p99 ms",
        "max ms",
        "broadcast s",
        "msgs/s",
        "% of limit",
        "lost",
        "duplicated",
        f"target p99 < {TARGET_P99_MS:.0f} ms",
        f"target ≥ {TARGET_SHARE:.0%}",
    )
    rows = [latencies("no broadcast", run.baseline) + ("",) * 7]
    share = run.sent.rate / LIMIT
    rows.append(
        latencies("during the broadcast", run.during)
        + (
            f"{run.sent.seconds:.1f}",
            f"{run.sent.rate:.1f}",
            f"{100 * share:.1f}",
            str(run.sent.lost),
            str(run.sent.duplicated),
            mark(bool(run.during.latencies) and run.during.percentile_ms(0.99) < TARGET_P99_MS),
            mark(share >= TARGET_SHARE),
        )
    )
    return render(title, head, rows)


def latencies(phase: str, timed: Result) -> tuple[str, ...]:
    """Return a phase's name, count and latency cells."""
    if not timed.latencies:
        return (phase, "0", "", "", "")
    return (
        phase,
        str(len(timed.latencies)),
        f"{timed.percentile_ms(0.5):.1f}",
        f"{timed.percentile_ms(0.99):.1f}",
        f"{timed.percentile_ms(1.0):.1f}",
    )


def mark(met: bool) -> str:
    """Return how a target cell reads."""
    return "ok" if met else "MISS"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.replies_during_broadcast", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--recipients", type=int, default=100_000, help="broadcast size")
    add_backends(parser)
    args = parser.parse_args(argv)
    args.backends = chosen_backends(parser, args.backends)
    if args.recipients < 2:
        parser.error("--recipients must be at least 2")
    return args


async def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark on every chosen backend and print a table for each."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for backend in args.backends:
        run = await measure(backend, args.recipients)
        title = (
            f"\n{BACKENDS[backend]}: {args.recipients:,} recipients at {LIMIT} messages/s; "
            f"{CHATS} chats answer wizard steps {THINK} s after each answer "
            f"({run.before} steps before the first message and {run.after} after the last "
            "not counted)"
        )
        print(table(title, run), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
