"""A union leader's digest arrives in their messenger with its chart: on the chosen
morning through the outbox, and at once with /digest. Zalo takes a picture by URL only:
without PUBLIC_BASE_URL the digest comes as text that says its chart cannot be shown."""

from datetime import UTC, datetime

import pytest

from bot.app import Core
from bot.channels.zalo.channel import ZaloChannel
from core.messages import t
from sandbox.client import SandboxClient
from tests.conftest import DEMO_CODE, Clock
from tests.e2e.conftest import Leading, Messenger, submit
from tests.e2e.people import Person, Sent

PNG = b"\x89PNG\r\n\x1a\n"
HEADING = "Bản tin tổng hợp — Công ty A"


async def leader_and_worker(messenger: Messenger, enterprise: int) -> Person:
    """Seat a leader over the enterprise; a worker of its workshop submits an initiative."""
    leader = messenger.person(7501, "Đỗ Lãnh Đạo")
    await messenger.enrol(leader, enterprise)
    messenger.grant(leader, "leader", enterprise)
    worker = messenger.person(7502)
    await worker.join(DEMO_CODE)
    await submit(worker, "Máy dán nhãn tự động", "1,5 tỷ")
    return leader


async def chart_of(messenger: Messenger, sent: Sent) -> bytes:
    """Return the picture of a message as the messenger got it."""
    assert sent.picture, f"no picture: {sent.raw}"
    if isinstance(messenger.client, SandboxClient):
        return await messenger.client.file(sent.picture)
    return await messenger.client.photo(sent.id)  # what Zalo fetched from the bot's URL


async def test_the_leaders_digest_arrives_with_its_chart_on_the_morning_and_on_demand(
    core: Core, clock: Clock, enterprise: int, messenger: Messenger, bot: Leading
) -> None:
    leader = await leader_and_worker(messenger, enterprise)
    await bot.settle(leader)
    clock.now = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)  # Monday 10:00: weekly, at 08:00
    assert await bot.tick() == 1
    text, chart = await leader.replies(2)
    assert text.text.startswith(HEADING)
    assert "Sáng kiến mới: 1" in text.text and "1.500.000.000 đ" in text.text
    assert (await chart_of(messenger, chart)).startswith(PNG)  # a picture, not a file
    assert await bot.tick() == 0  # once a period
    await bot.settle()
    assert await leader.silence(0.2) == []

    text, chart = await leader.say("/digest", expect=2)  # now, for the last week
    assert text.text.startswith(HEADING) and "Sáng kiến mới: 1" in text.text
    assert (await chart_of(messenger, chart)).startswith(PNG)


@pytest.mark.parametrize("messenger", ["zalo"], indirect=True)
async def test_without_a_public_address_a_zalo_digest_says_its_chart_cannot_be_shown(
    core: Core, clock: Clock, enterprise: int, messenger: Messenger, bot: Leading
) -> None:
    assert isinstance(messenger.channel, ZaloChannel)
    messenger.channel.sender.public_url = None  # no PUBLIC_BASE_URL
    leader = await leader_and_worker(messenger, enterprise)
    await bot.settle(leader)
    clock.now = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    assert await bot.tick() == 1
    unavailable = leader.label(t("channel.picture_unavailable"))
    (scheduled,) = await leader.replies(1)
    (now,) = await leader.say("/digest")
    for digest in (scheduled, now):
        assert digest.text.startswith(HEADING) and "Sáng kiến mới: 1" in digest.text
        assert digest.text.endswith(unavailable) and digest.picture is None
    assert not await messenger.client.calls("sendPhoto")
