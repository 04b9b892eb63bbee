"""The sandbox emits chat lifecycle updates as Telegram does: only the kinds a bot asked
for; edited messages; the bot removed from and added to a group; a group's migration."""

from sandbox.client import SandboxClient, SandboxError
from tests.sandbox.conftest import USER, BotApi

GROUP = -4242
LINK = {"text": "Open", "url": "https://t.me/sandbox_123456789_bot?start=join"}


async def kinds(api: BotApi, **params: object) -> list[str]:
    """Return the kind of each pending update and confirm them all."""
    updates = await api.result("getUpdates", **params)
    if updates:
        await api.result("getUpdates", offset=updates[-1]["update_id"] + 1)
    return [next(key for key in update if key != "update_id") for update in updates]


async def test_updates_of_kinds_the_bot_did_not_ask_for_are_never_queued(
    api: BotApi, users: SandboxClient
) -> None:
    await users.send_text(USER, "/start")
    assert await kinds(api, allowed_updates=["message"]) == ["message"]
    await users.block(USER)
    await users.unblock(USER)
    sent = await users.send_text(USER, "hi")
    assert await kinds(api) == ["message"]  # the last subscription holds
    edit = await users.edit_text(USER, sent["message"]["message_id"], "hi!")
    assert "update_id" not in edit
    await users.block(USER)
    assert await kinds(api, allowed_updates=[]) == []  # the default from now on
    await users.unblock(USER)
    assert await kinds(api) == ["my_chat_member"]
    await users.block(USER, notify=False)  # an update lost while the bot was away
    assert await kinds(api) == []
    status, _ = await api.call("sendMessage", chat_id=USER, text="hello?")
    assert status == 403


async def test_an_edit_sends_the_new_version_with_its_edit_date(
    api: BotApi, users: SandboxClient
) -> None:
    sent = (await users.send_text(USER, "Đồ gá cũ"))["message"]
    update = await users.edit_text(USER, sent["message_id"], "/new Đồ gá mới")
    edited = update["edited_message"]
    assert (edited["message_id"], edited["text"]) == (sent["message_id"], "/new Đồ gá mới")
    assert edited["edit_date"] > sent["date"] and edited["entities"][0]["type"] == "bot_command"
    [seen] = await users.messages(USER, include_user=True)
    assert seen["text"] == "/new Đồ gá mới" and seen["edits"][0]["text"] == "Đồ gá cũ"
    reply = await api.result("sendMessage", chat_id=USER, text="ok")
    for message_id, error in ((reply["message_id"], 404), (999, 404)):
        try:
            await users.edit_text(USER, message_id, "x")
        except SandboxError as refused:
            assert refused.status == error
        else:
            raise AssertionError("the sandbox let a user edit what they did not send")


async def test_a_removed_bot_hears_it_cannot_post_and_hears_when_it_is_back(
    api: BotApi, users: SandboxClient
) -> None:
    await users.send_text(USER, "/help", chat_id=GROUP, chat_type="group", title="Tổ 1")
    await api.result("getUpdates", offset=-1)
    await users.remove_bot(GROUP, USER, status="kicked")
    status, body = await api.call("sendMessage", chat_id=GROUP, text="still here?")
    assert (status, body["description"]) == (403, "Forbidden: bot was kicked from the group chat")
    await users.add_bot(GROUP, USER)
    updates = await api.result("getUpdates", offset=-2)
    changes = [u["my_chat_member"] for u in updates]
    assert [(c["old_chat_member"]["status"], c["new_chat_member"]["status"]) for c in changes] == [
        ("member", "kicked"),
        ("kicked", "member"),
    ]
    assert changes[0]["chat"] == {"id": GROUP, "type": "group", "title": "Tổ 1"}
    assert changes[0]["from"]["id"] == USER and changes[0]["new_chat_member"]["user"]["is_bot"]
    markup = {"inline_keyboard": [[LINK]]}
    sent = await api.result("sendMessage", chat_id=GROUP, text="back", reply_markup=markup)
    assert sent["reply_markup"] == markup
    bad = {"inline_keyboard": [[{"text": "Open", "url": "ftp://example.org"}]]}
    status, body = await api.call("sendMessage", chat_id=GROUP, text="x", reply_markup=bad)
    assert (status, body["description"]) == (400, "Bad Request: BUTTON_URL_INVALID")


async def test_a_migrated_group_tells_both_chats_and_refuses_sends_to_its_old_id(
    api: BotApi, users: SandboxClient
) -> None:
    await users.send_text(USER, "/help", chat_id=GROUP, chat_type="group")
    await api.result("getUpdates", offset=-1)
    new_id = await users.migrate_group(GROUP, USER)
    assert new_id == -1004242
    updates = await api.result("getUpdates", offset=-2)
    old_side, new_side = (u["message"] for u in updates)
    assert (old_side["chat"]["id"], old_side["migrate_to_chat_id"]) == (GROUP, new_id)
    assert old_side["chat"]["type"] == "group"
    assert (new_side["chat"]["id"], new_side["migrate_from_chat_id"]) == (new_id, GROUP)
    assert new_side["chat"]["type"] == "supergroup" and new_side["from"]["id"] == USER
    status, body = await api.call("sendMessage", chat_id=GROUP, text="hello?")
    assert (status, body) == (
        400,
        {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: group chat was upgraded to a supergroup chat",
            "parameters": {"migrate_to_chat_id": new_id},
        },
    )
    await api.result("sendMessage", chat_id=new_id, text="hello")
    try:
        await users.migrate_group(GROUP, USER)
    except SandboxError as refused:
        assert refused.status == 409
    else:
        raise AssertionError("a group was migrated twice")
