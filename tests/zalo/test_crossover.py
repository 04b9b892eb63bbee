"""A photo sent on Telegram sent on to Zalo: fetched through the Telegram channel, kept once,
sent by its signed URL; a file Telegram no longer has goes as a line saying so."""

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import ClientSession

from bot.app import Core
from bot.channels.contract import Downloads, FetchFailed, FileGone
from bot.channels.public_files import PublicFiles, serving
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.runner import build_channel
from bot.channels.zalo.channel import ZaloChannel
from bot.runtime import fetcher
from core.codec import reply_to_json
from core.messages import Reply, Response, SharedFile, t
from sandbox.client import SandboxClient
from sandbox.zalo.client import ZaloSandboxClient
from storage.outbox import Due
from tests.conftest import Clock
from tests.telegram.conftest import TOKEN as TELEGRAM_TOKEN
from tests.zalo.conftest import text_of

PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
# Nothing here is stored: the database is the cheaper one only.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def driver() -> str:
    """The Telegram client library (a test may run under each)."""
    return "aiogram"


@pytest.fixture
async def telegram(core: Core, sandbox_url: str, driver: str) -> AsyncIterator[TelegramChannel]:
    """The Telegram channel against the same emulator, started, not serving."""
    built = build_channel(core, driver, token=TELEGRAM_TOKEN, api_base=sandbox_url, concurrency=1)
    await built.start()
    yield built
    await built.close()


@pytest.fixture
async def users(sandbox_url: str) -> AsyncIterator[SandboxClient]:
    """The control client that plays the Telegram users."""
    async with ClientSession() as http:
        yield SandboxClient(sandbox_url, TELEGRAM_TOKEN, session=http)


@pytest.fixture
async def crossing(
    core: Core, clock: Clock, channel: ZaloChannel, telegram: TelegramChannel
) -> AsyncIterator[ZaloChannel]:
    """The Zalo channel with public URLs served and Telegram to fetch from, as `run` has."""
    public = PublicFiles(core.files, "http://placeholder", b"k" * 32, clock, timedelta(hours=1))
    async with serving(public, "127.0.0.1:0") as address:
        public.base_url = f"http://{address}"
        channel.sender.public_url = public.url
        channel.fetch_with(fetcher([telegram, channel]))
        yield channel


def photo_notice(file_id: str) -> dict[str, object]:
    """A notice with a photo a person sent on Telegram (any catalog text will do)."""
    shared = SharedFile("photo", "telegram", file_id)
    return reply_to_json(Reply(t("wizard.text_too_short", min=5), files=(shared,)))


async def telegram_photo(users: SandboxClient) -> str:
    """Send PHOTO as a Telegram user; return its largest size's file id."""
    update = await users.send_photo(8301, PHOTO, first_name="An")
    file_id: str = update["message"]["photo"][-1]["file_id"]
    return file_id


async def test_a_telegram_photo_reaches_zalo_by_url_fetched_and_kept_once(
    core: Core, crossing: ZaloChannel, zalo: ZaloSandboxClient, users: SandboxClient
) -> None:
    file_id = await telegram_photo(users)
    for chat in ("z-801", "z-802"):
        await zalo.send_text(chat, "xin chào")
        item = Due(1, "zalo", chat, "private", "vi", photo_notice(file_id), attempts=0)
        assert (await crossing.deliver(item)).outcome == "sent"
        text, photo = await zalo.messages(chat)
        assert "5" in text["text"] and "\n(" not in text["text"]  # no "cannot be shown"
        assert await zalo.photo(photo["message_id"]) == PHOTO
    assert len(await users.calls("getFile")) == 1  # fetched once for both
    (kept,) = core.files.folder.iterdir()
    assert kept.suffix == ".png"  # kept once
    core.files.remove(kept.name)  # as the retention sweep does after a week
    item = Due(2, "zalo", "z-802", "private", "vi", photo_notice(file_id), attempts=0)
    assert (await crossing.deliver(item)).outcome == "sent"
    assert await zalo.photo((await zalo.messages("z-802"))[-1]["message_id"]) == PHOTO
    assert len(await users.calls("getFile")) == 2  # fetched again, not a dead URL


async def test_a_file_telegram_no_longer_has_goes_as_the_unavailable_line(
    core: Core, crossing: ZaloChannel, zalo: ZaloSandboxClient
) -> None:
    await zalo.send_text("z-803", "xin chào")
    item = Due(1, "zalo", "z-803", "private", "vi", photo_notice("AgAC-no-such-file"), attempts=0)
    assert (await crossing.deliver(item)).outcome == "sent"  # not retried forever
    missing = core.catalogs.render(t("channel.picture_unavailable"), "vi")
    sent = await zalo.messages("z-803")
    assert [m.get("text") for m in sent][1:] == [missing] and "5" in text_of(sent[:1])
    assert not await zalo.calls("sendPhoto")


async def test_a_fetch_that_fails_now_is_transient_and_the_retry_sends_only_the_photo(
    crossing: ZaloChannel, zalo: ZaloSandboxClient, users: SandboxClient
) -> None:
    file_id = await telegram_photo(users)
    await zalo.send_text("z-804", "xin chào")
    await users.inject_error("getFile", 500, count=1)
    item = Due(1, "zalo", "z-804", "private", "vi", photo_notice(file_id), attempts=0)
    failed = await crossing.deliver(item)
    assert (failed.outcome, failed.parts_sent) == ("transient", 1)  # the text went
    again = Due(1, "zalo", "z-804", "private", "vi", photo_notice(file_id), 1, parts_sent=1)
    assert (await crossing.deliver(again)).outcome == "sent"
    text, photo = await zalo.messages("z-804")
    assert "5" in text["text"] and await zalo.photo(photo["message_id"]) == PHOTO


@pytest.mark.parametrize("driver", ["aiogram", "ptb"])
async def test_a_reply_whose_photo_fails_to_fetch_now_tries_again_and_sends_it(
    crossing: ZaloChannel, zalo: ZaloSandboxClient, users: SandboxClient
) -> None:
    file_id = await telegram_photo(users)
    await zalo.send_text("z-805", "xin chào")
    await users.inject_error("getFile", 500, count=2)
    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)

    crossing.sender.sleep = pause
    shared = SharedFile("photo", "telegram", file_id)
    response = Response("vi", (Reply(t("review.files", count=1), files=(shared,)),))
    assert await crossing.send_response("z-805", "private", response)
    assert len(pauses) == 2 and len(await users.calls("getFile")) == 3
    text, photo = await zalo.messages("z-805")  # each once
    assert "1" in text["text"] and await zalo.photo(photo["message_id"]) == PHOTO


@pytest.mark.parametrize("driver", ["aiogram", "ptb"])
async def test_the_telegram_channel_downloads_as_the_contract_says(
    telegram: TelegramChannel, users: SandboxClient
) -> None:
    assert isinstance(telegram, Downloads)
    file_id = await telegram_photo(users)
    assert await telegram.download(file_id) == PHOTO
    with pytest.raises(FileGone):
        await telegram.download("AgAC-no-such-file")
    await users.inject_error("getFile", 502, count=1)
    with pytest.raises(FetchFailed) as failed:
        await telegram.download(file_id)
    assert not isinstance(failed.value, FileGone) and TELEGRAM_TOKEN not in str(failed.value)
    with pytest.raises(FileGone):  # a channel nobody downloads from
        await fetcher([telegram])("console", "whatever")
