"""Throughput and latency of a wizard step through each messenger's emulator, against an
echo bot.

Run from the project directory:

    .venv/bin/python -m bench.throughput [--messages 600] [--rounds 3]
        [--backends sqlite,postgresql] [--messengers telegram,zalo] [--zalo-pollers 1,4]

For each database backend and messenger one emulator serves a bare echo bot (aiogram on
Telegram, `bench.zalo_echo` on Zalo) and our bot (`initiative-bot run`) side by side,
each in its own process; for 1, 10 and 100 concurrent chats each bot answers the same
texts, one message at a time per chat, and the table shows updates/s, p50/p99 latency
and CPU time per update of both. The two bots take turns, `--rounds` times per chat
count, so that both meet this machine's slow and fast moments alike: each bot's rounds
together make its row, and the spread of the rounds' ratios is shown. On Zalo our bot
runs once per `--zalo-pollers` value (ZALO_POLLERS: long polls at a time; a crash can
cost one update per poll).
"""

import argparse
import asyncio
import contextlib
import logging
import tempfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from aiohttp import ClientSession, TCPConnector

from bench.databases import BACKENDS, add_backends, chosen_backends, database
from bench.load import STEADY, Chat, Result, combined, measure
from bench.processes import child, sandbox_process
from bench.tables import render
from bot.app import build
from bot.dispatch.dispatcher import utc_now
from core.settings import Settings
from sandbox.client import SandboxClient
from sandbox.zalo.client import ZaloSandboxClient
from services import units
from storage.db import transaction

ECHO_TOKEN = "111111:" + "E" * 35
BOT_TOKEN = "222222:" + "B" * 35
ZALO_ECHO_TOKEN = "1111111111:zalo-echo-bench"
ZALO_BOT_TOKEN = "2222222222:zalo-bot-bench"
MESSENGERS = ("telegram", "zalo")
CHAT_COUNTS = (1, 10, 100)
TARGET = 0.5
Row = tuple[int, Result, Result, list[float]]  # chats, echo, ours, each round's ratio


def prepare(url: str, workdir: Path) -> str:
    """Migrate the database and create a workshop; return its invite code."""
    settings = Settings(_env_file=None, database_url=url, files_dir=workdir / "files")
    core = build(settings)
    now = utc_now()
    with transaction(core.engine) as session:
        top = units.add_unit(
            session=session, name="Công ty A", kind="enterprise", parent=None, now=now
        )
        shop = units.add_unit(
            session=session, name="Xưởng 1", kind="workshop", parent=top, now=now
        )
        units.revoke_invites(session=session, unit=shop, now=now)
        code = units.issue_invite(session=session, unit=shop, now=now).code
    core.engine.dispose()
    return code


def bot_settings(messenger: str, sandbox: str, pollers: int = 1) -> dict[str, str]:
    """Return the environment that points our bot at the emulator's face for `messenger`,
    with its flood limiter off (the emulator runs without limits: both bots answer as
    fast as they can)."""
    if messenger == "zalo":
        return {
            "ZALO_BOT_TOKEN": ZALO_BOT_TOKEN,
            "ZALO_API_BASE": f"{sandbox}/zalo",
            "ZALO_RATE_PER_SECOND": "0",
            "ZALO_RATE_PER_CHAT": "0",
            "ZALO_RATE_PER_GROUP": "0",
            "ZALO_POLLERS": str(pollers),
        }
    return {
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_BASE": sandbox,
        "TELEGRAM_RATE_PER_SECOND": "0",
        "TELEGRAM_RATE_PER_CHAT": "0",
    }


@contextlib.asynccontextmanager
async def bots(
    sandbox: str, url: str, workdir: Path, messenger: str, pollers: int
) -> AsyncIterator[tuple[int, int]]:
    """Run the echo bot and `initiative-bot run` in child processes; yield their pids."""
    env = {"DATABASE_URL": url, "FILES_DIR": str(workdir / "files")}
    env |= bot_settings(messenger, sandbox, pollers)
    echo = ("bench.zalo_echo", f"{sandbox}/zalo", ZALO_ECHO_TOKEN)
    if messenger == "telegram":
        echo = ("bench.echo", sandbox, ECHO_TOKEN)
    async with (
        child("-m", *echo) as (echoing, _),
        child("-m", "bot", "run", env=env, ready=False) as (ours, _),
    ):
        yield echoing.pid, ours.pid


async def join(chat: Chat, code: str) -> None:
    """Join the workshop (Vietnamese, consent) and open the wizard at its title question."""
    await chat.say(f"/start {code}")
    await chat.say("1", expect=2)
    await chat.say("1", expect=2)
    await chat.say("/new", expect=2)


async def run_backend(
    backend: str, messenger: str, messages: int, pollers: int, rounds: int
) -> list[Row]:
    """Measure both bots on a fresh database of the backend, with a fresh emulator."""
    with (
        tempfile.TemporaryDirectory(prefix="initiative-bot-bench-") as tmp,
        database(backend, Path(tmp)) as url,
    ):
        code = await asyncio.to_thread(prepare, url, Path(tmp))
        async with (
            sandbox_process() as sandbox,
            ClientSession(connector=TCPConnector(limit=0)) as http,
        ):
            echo_chats, bot_chats = await chats(sandbox, messenger, http)
            async with bots(sandbox, url, Path(tmp), messenger, pollers) as pids:
                await asyncio.gather(*(join(chat, code) for chat in bot_chats))
                return await compare(echo_chats, bot_chats, pids, messages, rounds)


async def chats(
    sandbox: str, messenger: str, http: ClientSession
) -> tuple[list[Chat], list[Chat]]:
    """Return the echo bot's chats and ours on the messenger's face (limits off)."""
    top = max(CHAT_COUNTS)
    echo_expected = {text: text for text in STEADY}
    bot_expected: dict[str, str] = {}
    if messenger == "telegram":
        echo_users = SandboxClient(sandbox, ECHO_TOKEN, session=http)
        bot_users = SandboxClient(sandbox, BOT_TOKEN, session=http)
        return (
            [Chat(echo_users, 10_001 + i, echo_expected) for i in range(top)],
            [Chat(bot_users, 20_001 + i, bot_expected) for i in range(top)],
        )
    zalo_echo = ZaloSandboxClient(sandbox, ZALO_ECHO_TOKEN, session=http)
    zalo_bot = ZaloSandboxClient(sandbox, ZALO_BOT_TOKEN, session=http)
    await zalo_bot.set_limits(bot_per_second=0, chat_per_second=0, group_per_minute=0)
    name = "display_name"
    return (
        [Chat(zalo_echo, str(10_001 + i), echo_expected, name_field=name) for i in range(top)],
        [Chat(zalo_bot, str(20_001 + i), bot_expected, name_field=name) for i in range(top)],
    )


async def compare(
    echo_chats: list[Chat],
    bot_chats: list[Chat],
    pids: tuple[int, int],
    messages: int,
    rounds: int,
) -> list[Row]:
    """Time the echo bot and ours for every chat count, taking turns `rounds` times (so
    both meet the machine's slow and fast moments alike); each bot's rounds together make
    its result, and each round's ratio shows the spread."""
    rows = []
    for count in CHAT_COUNTS:
        echoes, ours = [], []
        for _ in range(rounds):
            echoes.append(await measure(echo_chats[:count], messages, pids[0]))
            ours.append(await measure(bot_chats[:count], messages, pids[1]))
        ratios = [bot.rate / echo.rate for echo, bot in zip(echoes, ours, strict=True)]
        rows.append((count, combined(echoes), combined(ours), ratios))
    return rows


def table(title: str, rows: Sequence[Row]) -> str:
    """Format one backend's results as a text table."""
    head = (
        "chats",
        "echo upd/s",
        "echo p50 ms",
        "echo p99 ms",
        "echo CPU ms/upd",
        "bot upd/s",
        "bot p50 ms",
        "bot p99 ms",
        "bot CPU ms/upd",
        "bot/echo",
        "rounds' bot/echo",
        f"target ≥ {TARGET}",
    )
    lines = []
    for count, echo, ours, ratios in rows:
        ratio = ours.rate / echo.rate
        lines.append(
            (
                str(count),
                f"{echo.rate:.1f}",
                f"{echo.percentile_ms(0.5):.1f}",
                f"{echo.percentile_ms(0.99):.1f}",
                f"{echo.cpu_ms:.2f}",
                f"{ours.rate:.1f}",
                f"{ours.percentile_ms(0.5):.1f}",
                f"{ours.percentile_ms(0.99):.1f}",
                f"{ours.cpu_ms:.2f}",
                f"{ratio:.2f}",
                f"{min(ratios):.2f}–{max(ratios):.2f}",
                "ok" if ratio >= TARGET else "MISSED",
            )
        )
    return render(title, head, lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.throughput", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--messages",
        type=int,
        default=600,
        help="timed messages per chat count and round, split over the chats",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="turns each bot takes per chat count (the machine's noise evens out)",
    )
    parser.add_argument(
        "--messengers", default=",".join(MESSENGERS), help="comma-separated: telegram,zalo"
    )
    parser.add_argument(
        "--zalo-pollers",
        default="1,4",
        help="comma-separated ZALO_POLLERS values to run the Zalo bot with",
    )
    add_backends(parser)
    args = parser.parse_args(argv)
    args.backends = chosen_backends(parser, args.backends)
    args.messengers = [m.strip() for m in args.messengers.split(",") if m.strip()]
    if not args.messengers or set(args.messengers) - set(MESSENGERS):
        parser.error(f"--messengers takes {', '.join(MESSENGERS)}")
    try:
        args.zalo_pollers = [int(n) for n in args.zalo_pollers.split(",") if n.strip()]
    except ValueError:
        args.zalo_pollers = []
    if not args.zalo_pollers or min(args.zalo_pollers) < 1:
        parser.error("--zalo-pollers takes numbers of at least 1, e.g. 1,4")
    if args.messages < 1 or args.rounds < 1:
        parser.error("--messages and --rounds must be at least 1")
    return args


async def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark on every chosen backend and print a table for each."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings(_env_file=None)
    concurrency = {"telegram": settings.telegram_concurrency, "zalo": settings.zalo_concurrency}
    for backend in args.backends:
        for messenger in args.messengers:
            for pollers in args.zalo_pollers if messenger == "zalo" else [1]:
                rows = await run_backend(backend, messenger, args.messages, pollers, args.rounds)
                polls = f", ZALO_POLLERS={pollers}" if messenger == "zalo" else ""
                title = (
                    f"\n{BACKENDS[backend]}, {messenger}{polls}: {args.rounds} rounds of "
                    f"{args.messages} timed messages per bot and row, our bot handles "
                    f"{concurrency[messenger]} chats at a time ({messenger.upper()}_CONCURRENCY)"
                )
                print(table(title, rows), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
