"""Ten chats answering wizard steps while the leader does background work: the half that
`bench.digest_contention` (digests) and `bench.export_contention` (/export workbooks)
share. Each brings its own work, run in rounds; this times the chats meanwhile, splits
their steps into those taken during a round and those taken far from any, and prints
both phases per mode (`DIGEST_CHART_PROCESSES`: a worker thread or a worker process).
"""

import asyncio
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from aiohttp import ClientSession
from sqlalchemy import Engine

from bench.broadcast import leading_bot
from bench.load import Chat, Result
from bench.processes import sandbox_process
from bench.replies_during_broadcast import THINK, Step, converse, latencies, mark, result
from bench.tables import render
from bench.throughput import BOT_TOKEN, join
from sandbox.client import SandboxClient
from storage.db import make_engine

FIRST_LEADER = 30_001  # the leaders' sandbox user ids
FIRST_CHAT = 20_001  # the wizard users'
CHATS = 10
MODES = {"thread": "0", "process": "1"}  # DIGEST_CHART_PROCESSES
MARGIN = 1.0  # seconds around a round whose steps count for neither phase
Window = tuple[float, float]  # when a round started and ended (time.monotonic)
T = TypeVar("T")


@dataclass
class Run:
    """One mode's steps, split by whether the work was being done when each started."""

    mode: str
    quiet: Result
    during: Result
    runs: list[float] = field(default_factory=list)  # seconds each round took


async def measure(
    mode: str,
    prepare: Callable[[str], tuple[T, str]],
    leaders: int,
    work: Callable[[Engine, T], Awaitable[list[Window]]],
) -> Run:
    """On a fresh SQLite file that `prepare` fills (returning what `work` needs and the
    wizard workshop's invite), with the sandbox and `initiative-bot run` leading in the
    mode, time the chats while `work` does its rounds."""
    with tempfile.TemporaryDirectory(prefix="initiative-bot-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        prepared, code = await asyncio.to_thread(prepare, url)
        engine = make_engine(url)
        try:
            async with sandbox_process() as sandbox, ClientSession() as http:
                users = SandboxClient(sandbox, BOT_TOKEN, session=http)
                await users.start_chats(FIRST_LEADER, leaders)
                settings = {"QUIET_HOURS": "00:00-00:00", "DIGEST_CHART_PROCESSES": MODES[mode]}
                async with leading_bot(url, Path(tmp), sandbox, engine, **settings):
                    steps, windows = await talking_while(
                        users, code, lambda: work(engine, prepared)
                    )
        finally:
            engine.dispose()
    return split(mode, steps, windows)


async def talking_while(
    users: SandboxClient, code: str, work: Callable[[], Awaitable[list[Window]]]
) -> tuple[list[Step], list[Window]]:
    """Join the chats to the workshop of `code`, let them answer steps while `work` runs
    its rounds; return their steps and the rounds' windows."""
    expected: dict[str, str] = {}
    chats = [Chat(users, FIRST_CHAT + i, expected) for i in range(CHATS)]
    await asyncio.gather(*(join(chat, code) for chat in chats))
    await asyncio.gather(*(chat.step() for chat in chats))  # warm-up
    await asyncio.sleep(THINK)
    stop = asyncio.Event()
    talking = asyncio.create_task(converse(chats, lambda _: stop.is_set()))
    try:
        windows = await work()
    finally:
        stop.set()
    return await talking, windows


def split(mode: str, steps: Sequence[Step], windows: Sequence[Window]) -> Run:
    """Steps started during a round, against those not within MARGIN of any."""

    def during(step: Step) -> bool:
        return any(start <= step[0] <= end for start, end in windows)

    def near(step: Step) -> bool:
        began, took = step
        return any(
            began <= end + MARGIN and began + took >= start - MARGIN for start, end in windows
        )

    return Run(
        mode=mode,
        quiet=result([s for s in steps if not near(s)]),
        during=result([s for s in steps if during(s)]),
        runs=[end - start for start, end in windows],
    )


def table_of(
    runs: Sequence[Run], *, title: str, done_in: str, quiet: str, busy: str, target: float
) -> str:
    """Each mode's two phases as one text table: `done_in` heads the mode column, `quiet`
    and `busy` name the phases."""
    head = (
        done_in,
        "phase",
        "replies",
        "p50 ms",
        "p99 ms",
        "max ms",
        "rounds s",
        f"p99 / {quiet}",
        f"target ≤ {target}x",
    )
    rows = []
    for run in runs:
        rows.append((run.mode, *latencies(quiet, run.quiet), "", "", ""))
        ratio = (
            run.during.percentile_ms(0.99) / run.quiet.percentile_ms(0.99)
            if run.during.latencies and run.quiet.latencies
            else float("nan")
        )
        rows.append(
            (
                run.mode,
                *latencies(busy, run.during),
                ", ".join(f"{s:.1f}" for s in run.runs),
                f"{ratio:.2f}",
                mark(ratio <= target),
            )
        )
    title += f"; {CHATS} chats answer wizard steps {THINK} s after each answer"
    return render(title, head, rows)
