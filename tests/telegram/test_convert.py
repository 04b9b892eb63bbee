"""Translating Telegram updates and replies: splitting, escaping, unexpected kinds."""

import telegram
from aiogram.types import Update as AiogramUpdate

from bot.channels.telegram.convert import TEXT_LIMIT, Update, render, split_text, to_incoming
from bot.messages import Option, Reply, t
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
