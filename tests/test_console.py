"""The console channel: what it keeps of the files it is given."""

import json
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from bot.app import Core
from bot.channels import console
from bot.channels.console import ConsoleSession
from bot.channels.text import render_reply
from core.messages import Incoming, Reply, Response, t
from services import initiatives, roles
from storage.db import transaction
from storage.members import member_for
from storage.models import Unit
from tests.conftest import Chat, Clock, join


def test_a_photo_where_text_is_asked_leaves_no_file_behind(
    core: Core, unit_id: int, chat: Chat, tmp_path: Path
) -> None:
    photo = tmp_path / "jig.jpg"
    photo.write_bytes(b"\xff\xd8\xff fake jpeg")
    me = chat("c1")
    join(me)
    me.send("/new")
    store = core.settings.files_dir / "kept"
    answer = me.send(f"/photo {photo}")
    assert "Máy" not in answer and answer  # the title question again
    assert not store.exists() or list(store.iterdir()) == []
    for line in (
        "Máy dán nhãn tự động",
        "Công nhân dán nhãn bằng tay, mất nhiều thời gian",
        "Lắp cảm biến và cơ cấu dán nhãn tự động",
        "1",
        "100 triệu",
        "2",  # add details
        "/skip",
        "1",  # alone
        "1",  # not applied yet
    ):
        me.send(line)
    me.send(f"/photo {photo}")
    assert len(list(store.iterdir())) == 1  # kept: an attachment refers to it


def joined_as(
    core: Core, chat: Chat, user_id: str, role: str, unit_id: int, clock: Clock
) -> ConsoleSession:
    """A console user who joined the test unit and holds `role` over it."""
    me = chat(user_id)
    join(me)
    with transaction(core.engine) as session:
        member = member_for(session=session, channel="console", user_id=user_id)
        unit = session.get(Unit, unit_id)
        assert member is not None and unit is not None
        roles.grant(session=session, member=member, unit=unit, role=role, now=clock())
    return me


def test_an_announcements_photo_stays_while_the_organizer_writes_it(
    core: Core, unit_id: int, chat: Chat, clock: Clock, tmp_path: Path
) -> None:
    photo = tmp_path / "hoi-truong.jpg"
    photo.write_bytes(b"\xff\xd8\xff fake jpeg")
    me = joined_as(core, chat, "c2", "organizer", unit_id, clock)
    me.send("/broadcast")  # one unit: straight to the text
    me.send(f"/photo {photo}")  # no answer keeps it yet: the wizard's state holds it
    store = core.settings.files_dir / "kept"
    assert len(list(store.iterdir())) == 1


def test_the_console_drops_markup_but_keeps_what_a_person_wrote(core: Core) -> None:
    reply = Reply(
        t(
            "stats.campaign",
            name="<Đợt 95 ngày> & co",
            starts="1",
            ends="2",
            progress="",
            top="",
            own="",
        )
    )
    shown = render_reply(reply, core.catalogs, "vi")
    assert shown.startswith("<Đợt 95 ngày> & co (1 – 2)")
    assert "<b>" not in shown and "&amp;" not in shown


def test_files_from_the_bot_are_saved_and_their_path_printed(
    core: Core, unit_id: int, chat: Chat
) -> None:
    me = chat("c1")
    join(me)
    printed = me.send("/mydata")
    saved = core.settings.files_dir / "received"
    files = list(saved.iterdir())
    assert len(files) == 1 and str(files[0]) in printed
    assert json.loads(files[0].read_text(encoding="utf-8"))


def test_a_workbook_asked_for_in_the_console_is_made_and_saved_after_the_answer(
    core: Core, unit_id: int, chat: Chat, clock: Clock
) -> None:
    me = joined_as(core, chat, "c3", "reviewer", unit_id, clock)
    with transaction(core.engine) as session:
        member = member_for(session=session, channel="console", user_id="c3")
        assert member is not None
        draft = initiatives.start_draft(session=session, member=member, now=clock())
        draft.title, draft.problem, draft.solution = "Máy dán nhãn", "Dán tay", "Một đồ gá"
        draft.field, draft.estimated_benefit_vnd = "technical", 10_000_000
        initiatives.submit(session=session, member=member, initiative=draft, now=clock())
    printed = me.send("/export")
    (saved,) = (core.settings.files_dir / "received").glob("sang-kien-*.xlsx")
    assert "Đang chuẩn bị" in printed and f"[{saved}]" in printed  # the notice after it
    assert printed.index("Đang chuẩn bị") < printed.index(str(saved))


def test_the_database_away_is_said_plainly_and_the_console_goes_on(
    core: Core, unit_id: int, chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = chat("c-away")
    join(me)
    handle = core.dispatcher.handle

    def away(incoming: Incoming) -> Response | None:
        raise OperationalError("BEGIN", {}, Exception("database is locked"))

    monkeypatch.setattr(core.dispatcher, "handle", away)
    said = me.send("/new")
    assert said == core.catalogs.render(t("common.internal_error"), "vi")
    monkeypatch.setattr(core.dispatcher, "handle", handle)
    assert me.send("/new")  # typed again once the database is back: answered


def test_a_photo_is_kept_while_the_database_cannot_say_whether_it_is_needed(
    core: Core, unit_id: int, chat: Chat, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = tmp_path / "jig.jpg"
    photo.write_bytes(b"\xff\xd8\xff fake jpeg")
    me = chat("c-away-photo")
    join(me)
    me.send("/new")

    def away(**_: object) -> set[str]:
        lost = Exception("server closed the connection unexpectedly")
        raise OperationalError("SELECT", {}, lost, connection_invalidated=True)

    monkeypatch.setattr(console, "referenced_keys", away)
    assert me.send(f"/photo {photo}")  # answered (the title question again)
    kept = core.settings.files_dir / "kept"
    assert len(list(kept.iterdir())) == 1  # not removed unasked: the sweep decides later
