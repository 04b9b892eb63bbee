"""sendMessage validation, keyboards, edits, button presses and blocked users."""

import asyncio
import json

import pytest
from aiohttp import FormData

from sandbox.client import SandboxClient
from tests.sandbox.conftest import USER, BotApi

KEYBOARD = {"inline_keyboard": [[{"text": "Approve", "callback_data": "approve:42"}]]}


@pytest.fixture(autouse=True)
async def user_started_the_bot(users: SandboxClient) -> None:
    """Let the test user write to the bot first, as Telegram requires."""
    await users.send_text(USER, "/start")


async def test_html_message_is_stored_with_plain_text_and_entities(
    api: BotApi, users: SandboxClient
) -> None:
    text = '<b>Bold</b> &amp; <a href="https://example.org">link</a>'
    sent = await api.result("sendMessage", chat_id=USER, text=text, parse_mode="HTML")
    assert sent["text"] == "Bold & link"
    assert sent["entities"] == [
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "text_link", "offset": 7, "length": 4, "url": "https://example.org"},
    ]
    [seen] = await users.messages(USER)
    assert seen["text"] == text and seen["parse_mode"] == "HTML"


@pytest.mark.parametrize(
    "text",
    ["<b>unclosed", "<b>crossed <i>tags</b></i>", "<div>block</div>", "1 < 2", "</b>stray"],
)
async def test_bad_html_cannot_be_parsed(api: BotApi, text: str) -> None:
    status, body = await api.call("sendMessage", chat_id=USER, text=text, parse_mode="HTML")
    assert status == 400
    assert body["description"].startswith("Bad Request: can't parse entities")


async def test_unchecked_text_with_angle_brackets_is_fine_without_parse_mode(api: BotApi) -> None:
    await api.result("sendMessage", chat_id=USER, text="1 < 2 <div>")


async def test_text_over_4096_characters_is_too_long(api: BotApi) -> None:
    await api.result("sendMessage", chat_id=USER, text="x" * 4096)
    status, body = await api.call("sendMessage", chat_id=USER, text="x" * 4097)
    assert (status, body["description"]) == (400, "Bad Request: message is too long")


async def test_markup_does_not_count_toward_the_length(api: BotApi) -> None:
    text = "<b>" + "x" * 4096 + "</b>"
    sent = await api.result("sendMessage", chat_id=USER, text=text, parse_mode="HTML")
    assert sent["text"] == "x" * 4096


@pytest.mark.parametrize("text", ["", "   ", "<b></b>"])
async def test_empty_text_is_refused(api: BotApi, text: str) -> None:
    status, body = await api.call("sendMessage", chat_id=USER, text=text, parse_mode="HTML")
    assert (status, body["description"]) == (400, "Bad Request: message text is empty")


async def test_callback_data_over_64_bytes_is_refused(api: BotApi) -> None:
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "é" * 33}]]}
    status, body = await api.call("sendMessage", chat_id=USER, text="hi", reply_markup=markup)
    assert (status, body["description"]) == (400, "Bad Request: BUTTON_DATA_INVALID")


async def test_unknown_chat_is_not_found(api: BotApi) -> None:
    status, body = await api.call("sendMessage", chat_id=999, text="hi")
    assert (status, body["description"]) == (400, "Bad Request: chat not found")


async def test_multipart_with_json_encoded_reply_markup_keeps_the_keyboard(
    api: BotApi, users: SandboxClient
) -> None:
    form = FormData()
    form.add_field("chat_id", str(USER))
    form.add_field("text", "Review <i>this</i>")
    form.add_field("parse_mode", "HTML")
    form.add_field("reply_markup", json.dumps(KEYBOARD))
    form.add_field("disable_notification", "true")
    form.add_field("photo_unused", b"\x00", filename="x.bin")  # forces multipart encoding
    status, body = await api.form("sendMessage", form)
    assert status == 200, body
    assert body["result"]["reply_markup"] == KEYBOARD
    [seen] = await users.messages(USER)
    assert seen["reply_markup"] == KEYBOARD


async def test_press_creates_a_callback_query_and_the_answer_is_kept(
    api: BotApi, users: SandboxClient
) -> None:
    sent = await api.result("sendMessage", chat_id=USER, text="Approve?", reply_markup=KEYBOARD)
    await api.result("getUpdates", offset=-1)
    update = await users.press(USER, USER, sent["message_id"], "approve:999")  # forged
    query = update["callback_query"]
    assert query["data"] == "approve:999"
    assert query["message"]["message_id"] == sent["message_id"]
    assert query["from"]["id"] == USER
    await api.result("answerCallbackQuery", callback_query_id=query["id"], text="Refused")
    answer = await users.callback_answer(query["id"])
    assert answer is not None and answer["text"] == "Refused"
    status, _ = await api.call("answerCallbackQuery", callback_query_id=query["id"])
    assert status == 400


async def test_edits_keep_the_history(api: BotApi, users: SandboxClient) -> None:
    sent = await api.result("sendMessage", chat_id=USER, text="Draft", reply_markup=KEYBOARD)
    ids = {"chat_id": USER, "message_id": sent["message_id"]}
    edited = await api.result("editMessageText", text="Final", **ids)
    assert edited["text"] == "Final" and "reply_markup" not in edited
    status, body = await api.call("editMessageText", text="Final", **ids)
    assert status == 400 and "message is not modified" in body["description"]
    await api.result("editMessageReplyMarkup", reply_markup=KEYBOARD, **ids)
    [seen] = await users.messages(USER)
    assert seen["text"] == "Final" and seen["reply_markup"] == KEYBOARD
    assert [e["text"] for e in seen["edits"]] == ["Draft", "Final"]


async def test_blocked_user_answers_403_and_the_bot_is_told(
    api: BotApi, users: SandboxClient
) -> None:
    await api.result("getUpdates", offset=-1)
    await users.block(USER)
    status, body = await api.call("sendMessage", chat_id=USER, text="hello?")
    assert status == 403
    assert body == {
        "ok": False,
        "error_code": 403,
        "description": "Forbidden: bot was blocked by the user",
    }
    updates = await api.result("getUpdates", offset=-1)
    assert updates[0]["my_chat_member"]["new_chat_member"]["status"] == "kicked"
    await users.unblock(USER)
    await api.result("sendMessage", chat_id=USER, text="welcome back")


async def test_commands_are_stored_per_language(api: BotApi, users: SandboxClient) -> None:
    commands = [{"command": "start", "description": "Begin"}]
    await api.result("setMyCommands", commands=commands, language_code="vi")
    assert await api.result("getMyCommands", language_code="vi") == commands
    assert await api.result("getMyCommands") == []
    assert await users.commands() == {"default:vi": commands}
    status, _ = await api.call("setMyCommands", commands=[{"command": "Bad!", "description": "x"}])
    assert status == 400


async def test_chat_action_is_logged(api: BotApi, users: SandboxClient) -> None:
    await api.result("sendChatAction", chat_id=USER, action="typing")
    [call] = await users.calls("sendChatAction")
    assert call["ok"] and call["chat_id"] == USER


async def test_waiting_for_messages_returns_when_the_bot_writes(
    api: BotApi, users: SandboxClient
) -> None:
    waiting = asyncio.create_task(users.messages(USER, min_count=1, timeout=2))
    await asyncio.sleep(0.05)
    await api.result("sendMessage", chat_id=USER, text="done")
    [seen] = await asyncio.wait_for(waiting, 1)
    assert seen["text"] == "done"


async def test_waiting_on_one_chat_ignores_other_chats_and_skip_leaves_out_the_seen(
    api: BotApi, users: SandboxClient
) -> None:
    other = USER + 1
    await users.send_text(other, "/start")
    await api.result("sendMessage", chat_id=USER, text="first")
    waiting = asyncio.create_task(users.messages(USER, min_count=2, timeout=5, skip=1))
    await asyncio.sleep(0.05)
    await api.result("sendMessage", chat_id=other, text="elsewhere")
    await asyncio.sleep(1.0)  # also lets the per-chat flood limit (1/s) pass
    assert not waiting.done()
    await api.result("sendMessage", chat_id=USER, text="second")
    seen = await asyncio.wait_for(waiting, 1)
    assert [m["text"] for m in seen] == ["second"]
