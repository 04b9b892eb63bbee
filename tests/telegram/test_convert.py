"""Translating Telegram updates and replies: splitting, escaping, unexpected kinds."""

import logging
from typing import Any

import pytest
import telegram
from aiogram.types import Update as AiogramUpdate

from bot.channels.telegram.convert import (
    TEXT_LIMIT,
    MalformedUpdate,
    Update,
    chat_of,
    check,
    render,
    split_text,
    to_incoming,
)
from core.messages import Option, Reply, t
from locales import Catalogs


def message_update(**message: object) -> Update:
    base = {
        "message_id": 1,
        "date": 1764000000,
        "chat": {"id": 5, "type": "private"},
        "from": {"id": 5, "is_bot": False, "first_name": "An"},
    }
    return {"update_id": 10, "message": {**base, **message}}


def test_long_text_is_split_at_line_breaks_within_the_limit() -> None:
    lines = [f"dòng {n}: " + "x" * 90 for n in range(200)]
    pieces = split_text("\n".join(lines))
    assert len(pieces) > 1 and all(len(p) <= TEXT_LIMIT for p in pieces)
    assert "\n".join(pieces) == "\n".join(lines)
    assert all(not p.startswith("\n") for p in pieces)


def test_an_overlong_line_is_never_cut_inside_an_html_entity() -> None:
    line = ("a" * 4094) + "&amp;" + ("b" * 100)
    pieces = split_text(line)
    assert all(len(p) <= TEXT_LIMIT for p in pieces)
    assert "".join(pieces) == line
    assert pieces[0].endswith("a") and pieces[1].startswith("&amp;")


def test_user_text_is_escaped_and_buttons_go_on_the_last_piece() -> None:
    catalogs = Catalogs()
    reply = Reply(
        t("my.line", id=1, title="<script>" + "x" * 5000, status="ok"),
        (Option("open:1", t("my.opt_open", id=1)),),
    )
    pieces = render(reply, catalogs, "vi")
    assert "&lt;script&gt;" in pieces[0][0]
    assert [keyboard is not None for _, keyboard in pieces] == [False, True]
    keyboard = pieces[-1][1]
    assert keyboard is not None and keyboard[0][0][1] == "open:1"


def test_a_sticker_becomes_an_unsupported_message_that_gets_a_reask() -> None:
    sticker = {
        "file_id": "s1",
        "file_unique_id": "u1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    incoming = to_incoming(message_update(sticker=sticker), "bot")
    assert incoming is not None and incoming.unsupported and incoming.text is None


def test_photo_keeps_the_largest_size_by_file_id() -> None:
    sizes = [
        {"file_id": f"p{n}", "file_unique_id": f"u{n}", "width": n * 100, "height": n * 100}
        for n in (1, 2, 3)
    ]
    incoming = to_incoming(message_update(photo=sizes, caption="ảnh"), "bot")
    assert incoming is not None and incoming.attachments[0].file_ref == "p3"


def test_group_chatter_and_other_bots_commands_are_ignored() -> None:
    group = {"id": -1, "type": "group", "title": "Tổ 1"}
    assert to_incoming(message_update(chat=group, text="chào"), "our_bot") is None
    assert to_incoming(message_update(chat=group, text="/help@other_bot"), "our_bot") is None
    addressed = to_incoming(message_update(chat=group, text="/help@Our_Bot"), "our_bot")
    assert addressed is not None and addressed.in_group and addressed.command == "help"


def test_both_drivers_store_updates_that_read_the_same() -> None:
    photo = [{"file_id": "p1", "file_unique_id": "u1", "width": 9, "height": 9, "file_size": 5}]
    from_user = {"id": 5, "is_bot": False, "first_name": "An", "last_name": "Nguyễn"}
    press = {
        "id": "q1",
        "from": from_user,
        "chat_instance": "c",
        "data": "lang:vi",
        "message": {"message_id": 3, "date": 1764000000, "chat": {"id": 5, "type": "private"}},
    }
    for raw in (
        message_update(photo=photo, caption="ảnh", **{"from": from_user}),
        {"update_id": 11, "callback_query": press},
    ):
        by_aiogram = AiogramUpdate.model_validate(raw).model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
        by_ptb = telegram.Update.de_json(raw, None).to_dict()
        incoming = to_incoming(raw, "bot")
        assert incoming is not None and incoming.display_name == "An Nguyễn"
        assert to_incoming(by_aiogram, "bot") == incoming == to_incoming(by_ptb, "bot")


NAME = "Nguyễn Bí Mật"  # personal data that must never reach a log line
PRIVATE = {"id": 5, "type": "private"}
USER = {"id": 5, "is_bot": False, "first_name": NAME}


def press(**query: object) -> Update:
    base = {
        "id": "q1",
        "from": USER,
        "chat_instance": "c",
        "data": "lang:vi",
        "message": {"message_id": 3, "date": 1764000000, "chat": PRIVATE},
    }
    return {"update_id": 11, "callback_query": {**base, **query}}


def with_id(update_id: object) -> Update:
    return {**message_update(text=NAME), "update_id": update_id}


MALFORMED: list[tuple[Any, int | None, str]] = [
    # The three of issue 14: Telegram redelivered them forever after a 500.
    (message_update(text=12345), 10, "message.text is not a string"),
    (message_update(photo="abc", caption=NAME), 10, "message.photo is not an array"),
    (with_id(2**70), None, "update_id is not a 64-bit integer"),
    (with_id(-(2**63) - 1), None, "update_id is not a 64-bit integer"),
    (with_id(2**63), None, "update_id is not a 64-bit integer"),
    (with_id("10"), None, "update_id is not an integer"),
    (with_id(True), None, "update_id is not an integer"),
    (with_id(10.0), None, "update_id is not an integer"),
    ({"message": message_update()["message"]}, None, "update_id is missing"),
    ([NAME], None, "the update is not an object"),
    (NAME, None, "the update is not an object"),
    ({"update_id": 10, "message": NAME}, 10, "message is not an object"),
    (message_update(chat=None), 10, "message.chat is missing"),
    (message_update(chat=[5]), 10, "message.chat is not an object"),
    (message_update(chat={"id": "5", "type": "private"}), 10, "message.chat.id is not an integer"),
    (message_update(chat={"id": 2**64, "type": "private"}), 10, "message.chat.id is not a 64"),
    (message_update(chat={"id": 5}), 10, "message.chat.type is missing"),
    (message_update(**{"from": NAME}), 10, "message.from is not an object"),
    (message_update(**{"from": {**USER, "id": NAME}}), 10, "message.from.id is not an integer"),
    (message_update(**{"from": {"id": 5}}), 10, "message.from.first_name is missing"),
    (message_update(**{"from": {**USER, "is_bot": 0}}), 10, "message.from.is_bot is not a"),
    (message_update(**{"from": {**USER, "last_name": 7}}), 10, "message.from.last_name is"),
    (message_update(caption=[NAME]), 10, "message.caption is not a string"),
    (message_update(photo=[NAME]), 10, "message.photo[0] is not an object"),
    (message_update(photo=[{"file_size": 1}]), 10, "message.photo[0].file_id is missing"),
    (message_update(photo=[{"file_id": "p", "file_size": "1"}]), 10, "file_size is not an"),
    (message_update(document=NAME), 10, "message.document is not an object"),
    (message_update(document={"file_id": 1}), 10, "message.document.file_id is not a string"),
    (message_update(document={"file_id": "d", "file_name": 1}), 10, "document.file_name is"),
    (press(id=1), 11, "callback_query.id is not a string"),
    (press(**{"from": None}), 11, "callback_query.from is missing"),
    (press(data=5), 11, "callback_query.data is not a string"),
    (press(message={"message_id": "3", "chat": PRIVATE}), 11, "message.message_id is not an"),
    (press(message={"message_id": 3}), 11, "callback_query.message.chat is missing"),
    ({"update_id": 11, "callback_query": NAME}, 11, "callback_query is not an object"),
]


@pytest.mark.parametrize(("update", "update_id", "problem"), MALFORMED)
def test_a_malformed_update_is_refused_with_its_id_and_field_only(
    update: Any, update_id: int | None, problem: str, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(MalformedUpdate) as refused:
        check(update)
    assert refused.value.update_id == update_id
    assert problem in refused.value.problem
    assert isinstance(refused.value, TypeError)  # what callers caught before
    with pytest.raises(MalformedUpdate):
        to_incoming(update, "bot")
    with caplog.at_level(logging.WARNING, logger="bot.channels.telegram.convert"):
        assert chat_of(update) is None  # so it is never stored
    [line] = caplog.messages
    assert str(update_id if update_id is not None else "?") in line and problem in line
    assert NAME not in line and "12345" not in line and "abc" not in line


def test_what_telegram_sends_passes_the_check_unchanged() -> None:
    extremes = [{**with_id(n), "update_id": n} for n in (2**63 - 1, -(2**63), 0)]
    photo = [{"file_id": "p1", "file_unique_id": "u1", "width": 9, "height": 9, "file_size": 5}]
    document = {"file_id": "d1", "file_unique_id": "u2", "file_name": "a.pdf", "file_size": 7}
    for update in [
        *extremes,
        message_update(text="/start", entities=[{"type": "bot_command", "offset": 0}]),
        message_update(photo=photo, caption="ảnh"),
        message_update(document=document),
        message_update(text=None, caption=None, photo=None),  # null is as good as absent
        message_update(photo=[]),
        press(),
        press(message={"message_id": 3, "date": 0, "chat": PRIVATE}),  # inaccessible
        press(data=None, message=None),  # a button of an inline-mode message
    ]:
        assert check(update) is update


def test_updates_of_kinds_the_bot_ignores_are_not_checked_and_still_ignored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    for update in [
        {"update_id": 12, "edited_channel_post": {"text": 12345, "chat": "abc"}},
        {"update_id": 13, "chat_member": NAME},
        {"update_id": 14, "message": None, "poll": {"id": 1}},
        {"update_id": 15},
    ]:
        assert check(update) is update
        assert chat_of(update) is None and to_incoming(update, "bot") is None
    assert caplog.messages == []


def test_the_chat_of_an_update_is_its_message_s_or_the_pressed_one_s() -> None:
    assert chat_of(message_update(text="hi")) == "5"
    assert chat_of(press()) == "5"
    assert chat_of(press(message=None)) is None
