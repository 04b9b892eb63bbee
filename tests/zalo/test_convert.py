"""Zalo updates to Incoming, and replies to the texts Zalo takes (2,000 UTF-16 units)."""

import pytest

from bot.channels.text import split_plain, utf16_units
from bot.channels.zalo.convert import (
    TEXT_LIMIT,
    chat_of,
    from_bot,
    key_of,
    photo_url,
    render,
    to_incoming,
    unwrap,
)
from core.messages import KEPT, InAttachment, Option, Reply, t
from locales import Catalogs


def update(event: str = "message.text.received", **message: object) -> dict[str, object]:
    body: dict[str, object] = {
        "from": {"id": "u1", "display_name": "Ted", "is_bot": False},
        "chat": {"id": "u1", "chat_type": "PRIVATE"},
        "message_id": "2d758cb5e222177a4e35",
        "date": 1750316131602,
    }
    body.update(message)
    return {"event_name": event, "message": body}


def test_an_update_is_keyed_by_its_event_and_message_id() -> None:
    assert key_of(update(text="a")) == "message.text.received:2d758cb5e222177a4e35"
    sticker = update("message.sticker.received", sticker="x")
    assert key_of(sticker) == "message.sticker.received:2d758cb5e222177a4e35"


def test_an_update_without_a_message_id_is_keyed_by_its_content_within_the_column() -> None:
    bare = {"event_name": "message.unsupported.received"}
    key = key_of(bare)
    assert key == key_of(dict(bare)) and len(key) <= 64
    assert key != key_of({"event_name": "message.unsupported.received", "x": 1})


def test_a_webhook_body_is_read_wrapped_or_bare() -> None:
    inner = update(text="hi")
    assert unwrap({"ok": True, "result": inner}) == inner
    assert unwrap(inner) == inner
    assert unwrap({"ok": True, "result": {}}) is None
    assert unwrap([inner]) is None


def test_the_bots_own_messages_are_recognised() -> None:
    echo = update(text="x", **{"from": {"id": "bot9", "is_bot": False}})
    assert from_bot(echo, "bot9")
    assert from_bot(update(text="x", **{"from": {"id": "z", "is_bot": True}}), "bot9")
    assert not from_bot(update(text="x"), "bot9")


def test_a_text_becomes_an_incoming_with_its_sender() -> None:
    incoming = to_incoming(update(text="Xin chào"), "k1")
    assert incoming is not None
    assert (incoming.channel, incoming.chat_id, incoming.user_id) == ("zalo", "u1", "u1")
    assert (incoming.text, incoming.display_name, incoming.update_id) == ("Xin chào", "Ted", "k1")
    assert not incoming.unsupported and not incoming.in_group


def test_the_senders_name_is_read_from_any_field_zalo_uses() -> None:
    older = update(text="x", **{"from": {"id": "u1", "name": "Lan"}})
    assert (incoming := to_incoming(older, "k")) is not None and incoming.display_name == "Lan"


def test_an_image_reads_photo_url_before_photo_and_keeps_its_caption() -> None:
    both = update("message.image.received", photo_url="https://a/1.jpg", photo="https://b/2")
    assert photo_url(both) == "https://a/1.jpg"
    assert photo_url(update("message.image.received", photo="https://b/2")) == "https://b/2"
    photo = InAttachment("photo", "f" * 64 + ".jpg", channel=KEPT)
    incoming = to_incoming(update("message.image.received", caption="cũ"), "k", photo)
    assert incoming is not None and incoming.attachments == (photo,)
    assert incoming.caption == "cũ" and incoming.text is None and not incoming.unsupported


@pytest.mark.parametrize(
    "event",
    ["message.sticker.received", "message.unsupported.received", "message.image.received"],
)
def test_stickers_unsupported_and_lost_pictures_get_the_unsupported_answer(event: str) -> None:
    incoming = to_incoming(update(event, sticker="abc", url="https://s"), "k")
    assert incoming is not None and incoming.unsupported and incoming.text is None


def test_an_update_without_a_chat_has_nobody_to_answer() -> None:
    bare = {"event_name": "message.unsupported.received"}
    assert chat_of(bare) is None and to_incoming(bare, "k") is None


def test_a_group_mention_is_taken_off_before_the_command() -> None:
    group = {"chat": {"id": "g1", "chat_type": "GROUP"}}
    incoming = to_incoming(update(text="@Bot Sáng kiến /linkgroup Xưởng 1", **group), "k")
    assert incoming is not None and incoming.in_group and incoming.chat_id == "g1"
    assert incoming.text == "/linkgroup Xưởng 1" and incoming.user_id == "u1"
    assert to_incoming(update(text="@Bot hello", **group), "k") is None  # chatter
    after = to_incoming(update(text="/linkgroup @Bot Sáng kiến", **group), "k")
    assert after is not None and after.text == "/linkgroup" and after.argument == ""
    named = to_incoming(update(text="/linkgroup Xưởng 1 @Bot Sáng kiến", **group), "k")
    assert named is not None and named.argument == "Xưởng 1"
    close = to_incoming(update(text="@Bot/help", **group), "k")
    assert close is not None and close.command == "help"


def test_a_slash_inside_group_chatter_is_no_command() -> None:
    group = {"chat": {"id": "g1", "chat_type": "GROUP"}}
    for said in (
        "@Bot Sáng kiến họp ngày 12/5 nhé",
        "@Bot xem https://congdoan.vn/sang-kien",
        "@Bot Sáng kiến 1/2 ca làm",
    ):
        assert to_incoming(update(text=said, **group), "k") is None, said
    command = to_incoming(update(text="@Bot Sáng kiến xem 12/5 /help", **group), "k")
    assert command is not None and command.command == "help"


def test_group_chatter_is_dropped_unread_and_commands_are_taken() -> None:
    group = {"chat": {"id": "g1", "chat_type": "GROUP"}}
    # Replies to the bot's message (a digest, say) reach it without a mention.
    thanks = update(text="cảm ơn bot", **group)
    sticker = update("message.sticker.received", sticker="x", **group)
    photo = update("message.image.received", photo_url="https://f.example/1.jpg", **group)
    assert [to_incoming(u, "k") for u in (thanks, sticker, photo)] == [None] * 3
    assert photo_url(photo) is None  # not even downloaded
    command = to_incoming(update(text="/help", **group), "k")
    assert command is not None and command.command == "help"
    in_private = to_incoming(update(text="cảm ơn bot"), "k")
    assert in_private is not None and in_private.text == "cảm ơn bot"


def test_utf16_units_count_characters_outside_the_basic_plane_twice() -> None:
    assert utf16_units("ắ") == 1 and utf16_units("😀") == 2 and utf16_units("a😀b") == 4
    assert utf16_units("\ud800") == 1  # a lone surrogate (as JSON may carry) is one unit


def test_a_text_that_fits_is_one_part_without_blank_lines_at_its_ends() -> None:
    assert split_plain("\n\n Ý tưởng 😀\n\nmới\n\n", 20) == [" Ý tưởng 😀\n\nmới"]
    assert split_plain("\n \n", 10) == []
    assert split_plain("ab\ncd", 4) == ["ab", "cd"]  # one unit over: split at the break


def test_a_long_text_is_split_at_line_breaks_within_2000_units_never_empty() -> None:
    lines = [f"{n:04d} " + "ệ" * 90 for n in range(60)]
    parts = split_plain("\n".join(lines) + "\n\n\n", TEXT_LIMIT)
    assert len(parts) > 1 and all(0 < utf16_units(p) <= TEXT_LIMIT for p in parts)
    assert all(p.strip() for p in parts)
    assert "\n".join(parts).split("\n") == lines  # cut only between lines


def test_a_line_longer_than_the_limit_is_cut_at_a_space_and_never_inside_an_emoji() -> None:
    words = ("😀" * 7 + " ") * 300
    parts = split_plain(words, TEXT_LIMIT)
    assert all(utf16_units(p) <= TEXT_LIMIT for p in parts)
    assert all(not p.startswith(" ") and p.strip() for p in parts)
    assert "".join(parts).replace(" ", "") == words.replace(" ", "")
    unbroken = split_plain("😀" * 1500, TEXT_LIMIT)
    assert [utf16_units(p) for p in unbroken] == [2000, 1000]


def test_options_are_numbered_in_the_text() -> None:
    reply = Reply(t("common.unsupported"), options=(Option("a", t("unit_kind.team")),))
    (text,) = render(reply, Catalogs(), "en")
    assert text.endswith("\n  1. team")
