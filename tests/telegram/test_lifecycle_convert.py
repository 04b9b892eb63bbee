"""Translating the lifecycle updates: edits, the bot's own membership, group migrations."""

import logging
from typing import Any

import pytest
import telegram
from aiogram.types import Update as AiogramUpdate

from bot.channels.telegram.convert import (
    ALLOWED_UPDATES,
    Button,
    MalformedUpdate,
    chat_of,
    render,
    to_incoming,
)
from bot.channels.text import render_reply
from core.codec import reply_from_json, reply_to_json
from core.messages import Incoming, Link, Option, Reply, t
from locales import Catalogs

USER = {"id": 5, "is_bot": False, "first_name": "An"}
BOT = {"id": 9, "is_bot": True, "first_name": "Bot", "username": "our_bot"}
PRIVATE = {"id": 5, "type": "private", "first_name": "An"}
GROUP = {"id": -42, "type": "group", "title": "Tổ 1"}
SUPERGROUP = {"id": -10042, "type": "supergroup", "title": "Tổ 1"}


def status(name: str, **more: object) -> dict[str, Any]:
    return {"user": BOT, "status": name, **({"until_date": 0} if name == "kicked" else {}), **more}


def membership(chat: dict[str, Any], old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    changed = {"chat": chat, "from": USER, "date": 1764000000}
    return {
        "update_id": 20,
        "my_chat_member": {**changed, "old_chat_member": old, "new_chat_member": new},
    }


def message(kind: str = "message", **fields: object) -> dict[str, Any]:
    base = {"message_id": 7, "date": 1764000000, "chat": PRIVATE, "from": USER}
    return {"update_id": 21, kind: {**base, **fields}}


def read(raw: dict[str, Any]) -> Incoming | None:
    """Read an update as stored by each driver; both must read the same."""
    by_aiogram = AiogramUpdate.model_validate(raw).model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    by_ptb = telegram.Update.de_json(raw, None).to_dict()
    incoming = to_incoming(raw, "our_bot")
    assert to_incoming(by_aiogram, "our_bot") == incoming == to_incoming(by_ptb, "our_bot")
    return incoming


def test_the_bot_subscribes_to_edits_and_its_own_membership() -> None:
    assert {"edited_message", "my_chat_member"} <= set(ALLOWED_UPDATES)


@pytest.mark.parametrize(
    ("update", "chat", "event"),
    [
        (membership(PRIVATE, status("member"), status("kicked")), "5", "blocked"),
        (membership(PRIVATE, status("kicked"), status("member")), "5", "unblocked"),
        (membership(GROUP, status("member"), status("left")), "-42", "removed"),
        (membership(GROUP, status("member"), status("kicked")), "-42", "removed"),
        (membership(GROUP, status("left"), status("member")), "-42", "added"),
        (membership(SUPERGROUP, status("left"), status("member")), "-10042", "added"),
    ],
)
def test_the_bot_s_membership_becomes_a_chat_event_in_its_chat(
    update: dict[str, Any], chat: str, event: str
) -> None:
    incoming = read(update)
    assert incoming is not None and (incoming.chat_id, incoming.event) == (chat, event)
    assert incoming.user_id == "5" and incoming.text is None
    assert chat_of(update) == chat


@pytest.mark.parametrize(
    ("new", "event"),
    [
        (status("administrator"), "added"),
        (status("restricted", is_member=True), "added"),
        (status("restricted", is_member=False), "removed"),
    ],
)
def test_an_administrator_or_restricted_bot_is_in_the_group_only_as_a_member(
    new: dict[str, Any], event: str
) -> None:
    incoming = to_incoming(membership(SUPERGROUP, status("member"), new), "our_bot")
    assert incoming is not None and incoming.event == event and incoming.in_group


def test_a_group_migration_is_one_move_whichever_chat_tells_it() -> None:
    old_side = read(message(chat=GROUP, migrate_to_chat_id=-10042))
    new_side = read(message(chat=SUPERGROUP, migrate_from_chat_id=-42))
    assert old_side is not None and new_side is not None
    assert old_side.event == new_side.event == "migrated"
    assert old_side.moved == new_side.moved == ("-42", "-10042")
    assert (old_side.chat_id, new_side.chat_id) == ("-42", "-10042")


def test_an_edit_names_the_message_it_changes_and_is_ignored_in_groups() -> None:
    sent = read(message(text="Đồ gá"))
    edited = read(message("edited_message", text="Đồ gá mới", edit_date=1764000100))
    assert sent is not None and edited is not None
    assert (sent.sent_ref, sent.edited) == ("7", False)
    assert (edited.sent_ref, edited.edited, edited.text) == ("7", True, "Đồ gá mới")
    assert chat_of(message("edited_message", text="x")) == "5"
    assert read(message("edited_message", chat=GROUP, text="/help@our_bot")) is None


MALFORMED = [
    (message("edited_message", text=12345), "edited_message.text is not a string"),
    (message("edited_message", chat="abc"), "edited_message.chat is not an object"),
    (message(message_id="7", text="x"), "message.message_id is not an integer"),
    (message(chat=GROUP, migrate_to_chat_id="-100"), "migrate_to_chat_id is not an integer"),
    (membership(PRIVATE, status("member"), {"user": BOT}), "new_chat_member.status is missing"),
    (membership(GROUP, {}, {"user": BOT, "status": 7}), "new_chat_member.status is not a"),
    ({"update_id": 22, "my_chat_member": {"chat": GROUP}}, "my_chat_member.from is missing"),
]


@pytest.mark.parametrize(("update", "problem"), MALFORMED)
def test_a_malformed_lifecycle_update_is_dropped_naming_only_its_field(
    update: dict[str, Any], problem: str, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(MalformedUpdate) as refused:
        to_incoming(update, "our_bot")
    assert problem in refused.value.problem
    with caplog.at_level(logging.WARNING, logger="bot.channels.telegram.convert"):
        assert chat_of(update) is None  # so it is never stored
    assert "An" not in caplog.text and "12345" not in caplog.text


def test_a_link_survives_the_outbox_and_each_channel_shows_it() -> None:
    reply = Reply(
        t("group.private_only"),
        (Option("lang:vi", t("common.yes")),),
        links=(Link(t("group.open_private")), Link(t("common.no"), url="https://example.org")),
    )
    assert reply_from_json(reply_to_json(reply)) == reply
    catalogs = Catalogs()
    [(_, keyboard)] = render(reply, catalogs, "vi")
    assert keyboard == [
        [Button("Có", "lang:vi")],
        [Button("💬 Nhắn riêng cho bot")],  # the driver knows the bot's t.me address
        [Button("Không", url="https://example.org")],
    ]
    assert render_reply(reply, catalogs, "vi").splitlines()[1:] == [
        "  1. Có",
        "  → 💬 Nhắn riêng cho bot",
        "  → Không: https://example.org",
    ]
