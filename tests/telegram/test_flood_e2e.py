"""Through the sandbox over HTTP: a bot configured faster than Telegram lets it send.

The sandbox allows 20 messages a second, the bot assumes 30: the 429s must pause the
bot and lower its rate, so 200 notices cost a handful of 429s, not a hundred.
"""

import time
from collections import Counter

from bot.app import Core
from bot.channels.flood import Rates
from bot.channels.telegram.channel import TelegramChannel
from sandbox.client import SandboxClient
from tests.conftest import Clock
from tests.telegram.conftest import wait_until
from tests.telegram.test_outbox import queue, sending, statuses

FIRST_USER = 20_001
RECIPIENTS = 200
SANDBOX_RATE = 20  # messages a second, bot-wide
MAX_429 = 40  # before the fix: hundreds


async def test_a_bot_configured_at_30_per_second_learns_the_sandboxs_20(
    core: Core, unit_id: int, clock: Clock, channel: TelegramChannel, users: SandboxClient
) -> None:
    await users.start_chats(FIRST_USER, RECIPIENTS)
    await users.set_limits(bot_per_second=SANDBOX_RATE)
    queue(core, clock, list(range(FIRST_USER, FIRST_USER + RECIPIENTS)), 1)
    started = time.monotonic()
    async with sending(core, channel, Rates(per_second=30, private_per_second=1)):
        await wait_until(lambda: statuses(core) == Counter({"sent": RECIPIENTS}), timeout=90)
    seconds = time.monotonic() - started
    found = await users.deliveries(FIRST_USER, RECIPIENTS)
    calls = await users.calls("sendMessage")
    refused = sum(1 for c in calls if c["error_code"] == 429)
    print(
        f"\n{RECIPIENTS} notices at {SANDBOX_RATE}/s in {seconds:.1f} s: "
        f"{len(calls)} sendMessage calls, {refused} answered 429"
    )
    assert found["counts"] == [1] * RECIPIENTS  # every notice arrived, and only once
    assert refused < MAX_429
    assert len(calls) == RECIPIENTS + refused
    # Near the sandbox's rate all along (10 s at best): lowered, not cut to a trickle.
    assert found["last_at"] - found["first_at"] < 14
