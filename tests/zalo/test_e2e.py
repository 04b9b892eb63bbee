"""What only Zalo does, through the emulator's Zalo face: long texts split, redeliveries,
stickers, groups. The scenarios a person goes through are in tests/e2e, on both messengers."""

import pytest
from sqlmodel import Session, col, select

from bot.app import Core
from bot.channels.inbox import MAX_ATTEMPTS
from bot.channels.text import utf16_units
from bot.channels.zalo import api
from bot.channels.zalo.channel import ZaloChannel
from core.messages import t
from sandbox.zalo.client import ZaloSandboxClient
from storage.models import InboxUpdate
from tests.conftest import DEMO_CODE
from tests.zalo.conftest import ZaloUser, text_of


async def join(user: ZaloUser) -> None:
    """Join the test unit: the language by its number, consent by its label."""
    question = await user.say(f"/start {DEMO_CODE}")
    assert "1. Tiếng Việt" in text_of(question) and "2. English" in text_of(question)
    consent = text_of(await user.say("1", expect=2))
    assert "1. Tôi đồng ý" in consent
    welcome = text_of(await user.say("Tôi đồng ý", expect=2))
    assert "Xưởng 1" in welcome


async def test_a_long_reply_is_split_at_line_breaks_into_parts_zalo_takes(
    core: Core, unit_id: int, polling: ZaloChannel, zalo: ZaloSandboxClient
) -> None:
    user = ZaloUser(zalo, "u-long")
    await join(user)
    await user.say("/new", expect=2)
    await user.say("Đồ gá 😀")
    problem = "\n".join(f"{n}. Máy ép số {n} dừng 45 phút 😀😀" for n in range(1, 80))
    assert utf16_units(problem) > 2000
    await user.say(problem)
    await user.say("Chế tạo đồ gá định vị")
    await user.say("1")
    await user.say("1,5 tỷ", expect=2)
    await user.say("2")  # add details: the summary shows the problem again
    texts = [m["text"] for m in await zalo.messages(user.user_id) if m.get("text")]
    assert all(0 < utf16_units(text) <= 2000 for text in texts)  # the emulator counts too
    assert [c for c in await zalo.calls("sendMessage") if c.get("error_code")] == []


async def test_a_redelivered_update_is_handled_once(
    core: Core, unit_id: int, polling: ZaloChannel, zalo: ZaloSandboxClient
) -> None:
    user = ZaloUser(zalo, "u-again")
    await user.say(f"/start {DEMO_CODE}")
    await zalo.redeliver(count=2)
    assert await user.silence(1.5) == []  # nothing answered twice
    await user.say("1", expect=2)  # and the conversation goes on from where it was
    with Session(core.engine) as session:
        keys = session.exec(select(InboxUpdate.update_id).order_by(col(InboxUpdate.seq))).all()
    assert len(keys) == len(set(keys)) == 2
    assert all(key.startswith("message.text.received:") for key in keys)


async def test_stickers_and_unsupported_messages_get_the_unsupported_answer(
    core: Core, unit_id: int, polling: ZaloChannel, zalo: ZaloSandboxClient
) -> None:
    user = ZaloUser(zalo, "u-sticker")
    await join(user)
    await user.say("/new", expect=2)
    unsupported = core.catalogs.render(t("common.unsupported"), "vi")
    await zalo.send_sticker(user.user_id)
    assert unsupported in text_of(await user.replies(2))
    await zalo.send_unsupported(user.user_id)
    assert unsupported in text_of(await user.replies(2))
    await zalo.send_unsupported(user.user_id, bare=True)  # no message: nobody to answer
    assert await user.silence(1.0) == []


async def at_title(zalo: ZaloSandboxClient, user_id: str) -> ZaloUser:
    """A Zalo user who joined and started a draft: the wizard asks for its title."""
    user = ZaloUser(zalo, user_id)
    await join(user)
    await user.say("/new", expect=2)
    return user


async def test_a_picture_too_large_to_keep_is_asked_for_again_not_called_unsupported(
    core: Core,
    unit_id: int,
    polling: ZaloChannel,
    zalo: ZaloSandboxClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = await at_title(zalo, "u-large-photo")
    monkeypatch.setattr(api, "DOWNLOAD_LIMIT", 2048)  # 5 MB in the test's small
    huge = b"\x89PNG\r\n\x1a\n" + bytes(4096)
    await zalo.send_photo(user.user_id, huge, caption="Đồ gá")
    said = text_of(await user.replies(2))
    assert core.catalogs.render(t("common.picture_lost"), "vi") in said
    assert core.catalogs.render(t("common.unsupported"), "vi") not in said
    assert not core.files.folder.exists() or not any(core.files.folder.iterdir())


async def test_a_picture_the_network_keeps_failing_is_asked_for_again_not_dropped(
    core: Core,
    unit_id: int,
    polling: ZaloChannel,
    zalo: ZaloSandboxClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = await at_title(zalo, "u-photo-network")
    tries = []

    async def unreachable(url: str) -> tuple[bytes, str | None]:
        tries.append(url)
        raise api.ZaloError("download", None, "network: ClientConnectorError", None)

    monkeypatch.setattr(polling.api, "download", unreachable)
    await zalo.send_photo(user.user_id, b"\x89PNG\r\n\x1a\n" + bytes(64), caption="Đồ gá")
    said = text_of(await user.replies(2))
    assert core.catalogs.render(t("common.picture_lost"), "vi") in said
    assert len(tries) == MAX_ATTEMPTS  # tried again before giving up


async def test_in_a_group_the_bot_answers_commands_that_mention_it_into_the_group(
    core: Core, unit_id: int, polling: ZaloChannel, zalo: ZaloSandboxClient
) -> None:
    group = {"chat_id": "g-zalo-1", "chat_type": "GROUP", "mention": True}
    await zalo.send_text("u-in-group", "@Bot Sáng kiến /new", **group)
    private_only = core.catalogs.render(t("group.private_only"), "vi")
    sent = await zalo.messages("g-zalo-1", min_count=1, timeout=10)
    assert len(sent) == 1 and private_only in sent[0]["text"]
    assert await zalo.messages("u-in-group") == []  # nothing went to the private chat
