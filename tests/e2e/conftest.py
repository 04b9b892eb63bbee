"""The end-to-end suite: every scenario through Telegram and through Zalo, on SQLite and
PostgreSQL, against one emulator (both faces) per test.

`messenger` is parametrized over the messengers (and `database_url` over the databases);
a test that must hold on each Telegram client library takes `EVERY_CLIENT`. `bot` serves
the messenger's channel in this process with what the leader process runs next to it
(the outbox sender, the broadcast reporter); its `tick` runs the scheduler's reminders
job once at the test clock's time.
"""

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from aiohttp import ClientSession
from sqlmodel import col, select

from bot.app import Core
from bot.channels import public_files
from bot.channels.contract import Channel
from bot.channels.flood import FloodLimiter, Rates
from bot.channels.telegram.runner import build_channel
from bot.channels.zalo.api import ZaloApi
from bot.channels.zalo.channel import ZaloChannel
from bot.leader import digests, jobs
from bot.leader.broadcast_report import Reporter
from bot.leader.outbox import OutboxSender
from bot.leader.preparing import Preparing
from core.messages import t
from sandbox.client import SandboxClient
from sandbox.limits import Limits
from sandbox.server import SandboxConfig, running
from sandbox.zalo.client import ZaloSandboxClient
from sandbox.zalo.records import ZaloLimits
from services import roles
from storage.db import reading, transaction
from storage.members import member_for
from storage.models import ChannelIdentity, Member, OutboxMessage, Unit
from storage.outbox import QUEUED
from tests.e2e.people import Person, TelegramPerson, ZaloPerson
from tests.telegram.conftest import TOKEN as TELEGRAM_TOKEN
from tests.zalo.conftest import IN_PROCESS_POLL
from tests.zalo.conftest import TOKEN as ZALO_TOKEN
from views.labels import FIELD_LABELS

MESSENGERS = ("telegram", "zalo")
# For what each Telegram client library must do alike: Telegram on both, and Zalo.
EVERY_CLIENT = ("telegram", "telegram-ptb", "zalo")
WAIT = 20.0  # seconds the outbox gets to deliver what was queued


@dataclass
class Messenger:
    """One messenger as the suite drives it: the emulator's face, the bot's channel."""

    name: str  # the channel's name: telegram or zalo
    core: Core
    client: SandboxClient | ZaloSandboxClient
    channel: Channel

    def person(self, number: int, name: str = "Nguyễn Văn An", language: str = "vi") -> Person:
        """Return the person with user id `number` on this messenger (Zalo's are strings)."""
        catalogs = self.core.catalogs
        if isinstance(self.client, ZaloSandboxClient):
            return ZaloPerson(self.client, str(number), name, language, catalogs)
        return TelegramPerson(self.client, number, name, language, catalogs)

    async def enrol(self, person: Person, unit_id: int, language: str = "vi") -> Member:
        """Make a person a member of a unit who joined earlier (and started the bot)."""
        await self.client.start_chats(int(person.user_id), 1)  # a chat the bot may write to
        now = self.core.dispatcher.clock()
        with transaction(self.core.engine) as session:
            member = Member(
                unit_id=unit_id,
                display_name=person.name,
                language=language,
                consent_at=now,
                created_at=now,
            )
            session.add(member)
            session.flush()
            session.add(
                ChannelIdentity(
                    member_id=member.id or 0,
                    channel=self.name,
                    external_user_id=person.user_id,
                    chat_id=person.user_id,
                )
            )
        person.language = language
        return member

    def grant(self, person: Person, role: str, unit_id: int) -> None:
        """Grant a person a role over a unit (as `initiative-bot member grant` does)."""
        clock = self.core.dispatcher.clock
        with transaction(self.core.engine) as session:
            member = member_for(session=session, channel=self.name, user_id=person.user_id)
            unit = session.get(Unit, unit_id)
            assert member is not None and unit is not None
            roles.grant(session=session, member=member, unit=unit, role=role, now=clock())

    def revoke(self, person: Person, role: str, unit_id: int) -> None:
        """Take a role back (as `initiative-bot member revoke` does)."""
        with transaction(self.core.engine) as session:
            member = member_for(session=session, channel=self.name, user_id=person.user_id)
            unit = session.get(Unit, unit_id)
            assert member is not None and unit is not None
            roles.revoke(session=session, member=member, unit=unit, role=role)


@pytest.fixture
def enterprise(core: Core, unit_id: int) -> int:
    """Return the enterprise above the workshop people join with DEMO_CODE: its council
    reviews their initiatives."""
    with reading(core.engine) as session:
        workshop = session.get(Unit, unit_id)
        assert workshop is not None and workshop.parent_id is not None
        return workshop.parent_id


@pytest.fixture
def emulator_config() -> SandboxConfig:
    """Return the emulator's settings: its flood limits are off."""
    return SandboxConfig(
        Limits(bot_per_second=0, private_per_second=0, group_per_minute=0),
        ZaloLimits(bot_per_second=0, chat_per_second=0, group_per_minute=0),
        seed=1,
    )


@pytest.fixture
async def emulator(emulator_config: SandboxConfig) -> AsyncIterator[str]:
    """Run the emulator (both faces) on a free loopback port."""
    async with running(emulator_config) as url:
        yield url


@pytest.fixture(params=MESSENGERS)
async def messenger(
    request: pytest.FixtureRequest, core: Core, emulator: str
) -> AsyncIterator[Messenger]:
    """Build the messenger's channel against the emulator, started, not yet serving.

    Zalo takes pictures by URL only: its channel signs URLs of kept files served here,
    as `run` does with PUBLIC_BASE_URL (a test takes `public_url` away to go without).
    """
    kind: str = request.param
    async with ClientSession() as http, contextlib.AsyncExitStack() as stack:
        if kind.startswith("telegram"):
            driver = "ptb" if kind.endswith("-ptb") else "aiogram"
            telegram = build_channel(
                core, driver, token=TELEGRAM_TOKEN, api_base=emulator, concurrency=4
            )
            telegram.limiter = FloodLimiter(Rates(0, 0, 0))
            built = Messenger(
                "telegram", core, SandboxClient(emulator, TELEGRAM_TOKEN, session=http), telegram
            )
        else:
            zalo = ZaloChannel(core, ZaloApi(ZALO_TOKEN, f"{emulator}/zalo"), concurrency=4)
            zalo.limiter = zalo.sender.limiter = FloodLimiter(Rates(0, 0, 0))
            zalo.sender.pause = 0.2  # Zalo's 429 says nothing of how long: a short pause
            zalo.poll_timeout = IN_PROCESS_POLL
            signer = public_files.PublicFiles(
                core.files, "http://127.0.0.1", secrets.token_bytes(32), core.dispatcher.clock
            )
            address = await stack.enter_async_context(public_files.serving(signer, "127.0.0.1:0"))
            signer.base_url = f"http://{address}"  # the port is known once it listens
            zalo.sender.public_url = signer.url
            built = Messenger(
                "zalo", core, ZaloSandboxClient(emulator, ZALO_TOKEN, session=http), zalo
            )
        await built.channel.start()
        try:
            yield built
        finally:
            await built.channel.close()


class Leading:
    """What the leader process runs next to the channel, in this process; the scheduler's
    job runs when the test says (`tick`), at the test clock's time."""

    def __init__(self, core: Core, channel: Channel) -> None:
        self.core = core
        clock = core.dispatcher.clock
        self.prepare = Preparing(core.engine, core.settings, core.catalogs)
        self.sender = OutboxSender(
            engine=core.engine,
            channels={channel.name: channel},
            clock=clock,
            make=self.prepare.make,
        )
        self.reporter = Reporter(
            engine=core.engine, posters={channel.name: channel.post_status}, clock=clock, every=0.2
        )

    async def tick(self) -> int:
        """Run the scheduler's reminders job once (reminders, digests, scheduled
        broadcasts) and wake the sender, as `bot.leader.scheduler` does; return the
        messages queued."""
        core, now = self.core, self.core.dispatcher.clock()
        queued = jobs.run_reminders(core.engine, core.settings, now)
        queued += await digests.run_digests(core.engine, core.settings, now, self.prepare)
        queued += jobs.run_broadcasts(core.engine, now)
        self.sender.notify()
        return queued

    def waiting(self) -> int:
        """Count the outbox messages not delivered yet."""
        with reading(self.core.engine) as session:
            query = select(OutboxMessage).where(col(OutboxMessage.status) == QUEUED)
            return len(session.exec(query).all())

    async def settle(self, *people: Person) -> None:
        """Wait until every queued message went out, then count them as seen by `people`."""
        await until(lambda: self.waiting() == 0, WAIT)
        for person in people:
            await person.catch_up()


@pytest.fixture
async def bot(core: Core, messenger: Messenger) -> AsyncIterator[Leading]:
    """Serve the channel (updates, replies) with the outbox sender and the broadcast
    reporter beside it, woken after each update as `run` does."""
    leading = Leading(core, messenger.channel)
    messenger.channel.after_update = leading.sender.notify
    stop = asyncio.Event()
    serving = asyncio.create_task(messenger.channel.serve(stop))
    tasks = [
        asyncio.create_task(leading.sender.run()),
        asyncio.create_task(leading.reporter.run()),
    ]
    yield leading
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.wait_for(serving, timeout=10)  # a channel stops when asked
    leading.prepare.close()


async def submit(person: Person, title: str, benefit: str = "120 triệu") -> None:
    """Go through the wizard's five questions and submit at once."""
    await person.say("/new", expect=2)
    await person.say(title)
    await person.say(f"Vấn đề: {title}")
    await person.say(f"Giải pháp: {title}")
    await person.choose(FIELD_LABELS["technical"])
    await person.say(benefit, expect=2)
    await person.choose(t("wizard.opt_submit_now"), expect=2)


async def until(check: Callable[[], bool], timeout: float) -> None:
    """Wait until a (blocking) check passes; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await asyncio.to_thread(check):
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)
