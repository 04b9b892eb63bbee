"""Kept files: an erasure takes its person's files along, and a daily sweep removes the
files nothing refers to any more, never one something still names."""

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.app import Core
from core.messages import KEPT, InAttachment
from storage.db import reading, shared_transaction, transaction
from storage.file_references import forget_when_committed
from storage.files import FileStore, UnknownFile
from storage.models import Member
from tests.conftest import DEMO_CODE, Clock
from tests.person import Person
from tests.test_campaigns import organizer
from tests.tree import Tree


def photo(key: str) -> InAttachment:
    return InAttachment("photo", key, "jig.jpg", "image/jpeg", 10, channel=KEPT)


def kept(store: FileStore, key: str) -> bool:
    try:
        store.path(key)
    except UnknownFile:
        return False
    return True


def draft_with(person: Person, *keys: str) -> None:
    """Join, write a draft and attach these kept files to it."""
    person.join(DEMO_CODE)
    person.core_answers()
    assert person.press("next:details") == ["wizard.ask_effects"]
    person.say("/skip")
    person.press("authors:alone")
    assert person.press("applied:no") == ["wizard.ask_attachments"]
    for key in keys:
        assert person.say(attachments=(photo(key),)) == ["wizard.attachment_received"]


def put_days_ago(store: FileStore, clock: Clock, days: float, content: bytes) -> str:
    """Keep `content` as if it was last put `days` before the clock's now."""
    key = store.put(content, ".jpg")
    when = (clock() - timedelta(days=days)).timestamp()
    os.utime(store.path(key), (when, when))
    return key


def test_deleteme_removes_the_drafts_photo_but_not_one_another_initiative_uses(
    core: Core, unit_id: int
) -> None:
    store = core.files
    mine = store.put(b"\xff\xd8\xff my face at the press", ".jpg")
    shared = store.put(b"\xff\xd8\xff the line, from the same group chat", ".jpg")
    draft_with(Person(core.dispatcher, "u2", "Trần Thị Bình"), shared)
    me = Person(core.dispatcher)
    draft_with(me, mine, shared)
    assert me.say("/deleteme") == ["privacy.ask_erase"]
    assert me.say(choice="erase:yes") == ["privacy.erased"]
    assert not kept(store, mine)
    assert kept(store, shared)


def test_a_file_that_cannot_be_removed_leaves_the_erasure_standing(
    core: Core, unit_id: int, caplog: pytest.LogCaptureFixture
) -> None:
    store = core.files
    key = store.put(b"\xff\xd8\xff a photo", ".jpg")
    me = Person(core.dispatcher)
    draft_with(me, key)
    path = store.path(key)
    path.unlink()
    path.mkdir()  # what stands there now cannot be unlinked
    me.say("/deleteme")
    assert me.say(choice="erase:yes") == ["privacy.erased"]
    assert f"could not remove kept file {key}" in caplog.text
    with reading(core.engine) as session:
        assert session.exec(select(Member)).all() == []


def test_an_unfinished_announcements_photo_goes_with_its_organizers_erasure(
    core: Core, clock: Clock, tree: Tree
) -> None:
    store = core.files
    key = store.put(b"\xff\xd8\xff the ceremony poster", ".jpg")
    organizer(core, clock, tree.a)
    boss = Person(core.dispatcher, "organizer", channel="telegram")
    boss.say("/broadcast")
    assert boss.say(choice=f"unit:{tree.a}") == ["broadcast.ask_text"]
    assert boss.say(attachments=(photo(key),)) == ["broadcast.got_file"]
    boss.say("/deleteme")
    assert boss.say(choice="erase:yes") == ["privacy.erased"]
    assert not kept(store, key)


@pytest.mark.parametrize("shared", [False, True])
def test_files_of_erased_rows_go_only_once_the_erasure_commits(core: Core, shared: bool) -> None:
    store = core.files
    key = store.put(b"\xff\xd8\xff a photo", ".jpg")

    @contextmanager
    def erasing() -> Iterator[Session]:
        if not shared:
            with transaction(core.engine) as session:
                yield session
            return
        with shared_transaction(core.engine) as connection, Session(bind=connection) as session:
            yield session
            session.commit()  # joins the connection's transaction: commits nothing yet

    with pytest.raises(RuntimeError), erasing() as session:
        forget_when_committed(session=session, files=store, keys=[key])
        raise RuntimeError("the erasure failed")
    assert kept(store, key)
    with erasing() as session:
        forget_when_committed(session=session, files=store, keys=[key])
        assert kept(store, key)
    assert not kept(store, key)


@pytest.fixture(autouse=True)
def _logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
