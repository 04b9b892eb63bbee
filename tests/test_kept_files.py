"""Kept files: an erasure takes its person's files along, and a daily sweep removes the
files nothing refers to any more, never one something still names."""

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlmodel import Session, col, select

from bot.app import Core
from bot.channels.public_files import SECRET_FILE, shared_secret
from bot.leader import scheduler
from bot.leader.jobs import expire_handed, sweep_files
from core.codec import reply_to_json
from core.messages import KEPT, InAttachment, Reply, SharedFile, t
from core.settings import Settings
from services import broadcasts, initiatives
from services.broadcasts import Audience
from storage import outbox
from storage.db import reading, shared_transaction, transaction
from storage.file_references import forget_when_committed
from storage.files import FileStore, UnknownFile
from storage.models import Member, OutboxMessage
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


def test_the_sweep_removes_old_files_nothing_refers_to_and_keeps_the_rest(
    core: Core, clock: Clock, tree: Tree
) -> None:
    store = core.files

    def old(name: str) -> str:
        return put_days_ago(store, clock, 8, name.encode())

    unreferenced, sent_once = old("a chart served once"), old("sent, no longer queued")
    young = put_days_ago(store, clock, 6.5, b"a photo sent where text was asked")
    attached, queued, wizard, scheduled = (
        old("attached"),
        old("queued"),
        old("wizard"),
        old("scheduled"),
    )
    boss_id = organizer(core, clock, tree.a)
    with transaction(core.engine) as session:
        worker = session.get(Member, tree.people["worker"])
        boss = session.get(Member, boss_id)
        assert worker is not None and boss is not None
        draft = initiatives.start_draft(session=session, member=worker, now=clock())
        initiatives.add_attachment(
            session=session, initiative=draft, channel="zalo", item=photo(attached), now=clock()
        )
        for key in (queued, sent_once):
            reply = Reply(t("notice.received"), files=(SharedFile("photo", KEPT, key),))
            outbox.enqueue(
                session=session,
                channel="telegram",
                chat_id="reviewer",
                chat_kind="private",
                language="vi",
                content=reply_to_json(reply),
                now=clock(),
            )
        broadcasts.create(
            session=session,
            member=boss,
            audience=Audience(unit_id=tree.a),
            versions={"vi": "Lễ tổng kết thứ Sáu"},
            default_language="vi",
            attachment={"kind": "photo", "channel": KEPT, "ref": scheduled},
            send_at=clock() + timedelta(days=3),
            report_to=("telegram", "organizer", "vi"),
            now=clock(),
        )
    with transaction(core.engine) as session:
        message = session.exec(
            select(OutboxMessage).order_by(col(OutboxMessage.id).desc())
        ).first()
        assert message is not None and sent_once in str(message.content)
        message.status = outbox.SENT
    writing = Person(core.dispatcher, "organizer", channel="telegram")
    writing.say("/broadcast")
    writing.say(choice=f"unit:{tree.a}")
    assert writing.say(attachments=(photo(wizard),)) == ["broadcast.got_file"]
    secret = shared_secret(core.settings.files_dir)
    part = store.folder / ".part-abc123"  # a write a crash cut short a month ago
    part.write_bytes(b"half written")
    writing_now = store.folder / ".part-def456"
    writing_now.write_bytes(b"being written")
    past = (clock() - timedelta(days=30)).timestamp()
    for path in (core.settings.files_dir / SECRET_FILE, part):
        os.utime(path, (past, past))

    assert sweep_files(core.engine, core.settings, store, clock()) == 3
    assert not kept(store, unreferenced) and not kept(store, sent_once)
    assert all(kept(store, key) for key in (young, attached, queued, wizard, scheduled))
    assert shared_secret(core.settings.files_dir) == secret
    assert not part.exists() and writing_now.exists()
    assert sweep_files(core.engine, core.settings, store, clock()) is None  # once a day
    clock.advance(days=1)
    writing.say("/cancel")  # the wizard lets its photo go
    assert sweep_files(core.engine, core.settings, store, clock()) == 2  # and the young one
    assert not kept(store, wizard) and not kept(store, young)


def test_a_file_put_again_is_young_again(tmp_path: Path) -> None:
    store, clock = FileStore(tmp_path), Clock(datetime.now(UTC))  # put() reads the real time
    key = put_days_ago(store, clock, 30, b"the same chart, sent again")
    assert list(store.idle_since(clock())) == [key]
    store.put(b"the same chart, sent again", ".jpg")
    assert list(store.idle_since(clock() - timedelta(days=1))) == []


async def test_the_leaders_job_sweeps(core: Core, clock: Clock) -> None:
    store = core.files
    key = put_days_ago(store, clock, 8, b"nobody's")
    scheduler._RUNNING.update(core=core)
    try:
        await scheduler.files_job()
    finally:
        scheduler._RUNNING.clear()
    assert not kept(store, key)


def test_a_handed_file_is_served_as_kept_ones_and_goes_once_its_link_expired(
    tmp_path: Path,
) -> None:
    settings = Settings(_env_file=None, public_file_ttl_hours=24)  # type: ignore[call-arg]
    store, now = FileStore(tmp_path), datetime.now(UTC)
    ages = {"expired": timedelta(hours=24, minutes=6), "young": timedelta(hours=23)}
    handed = {}
    for name, age in ages.items():
        handed[name] = store.put(f"my data, {name}".encode(), ".json", handed=True)
        moment = (now - age).timestamp()
        os.utime(store.handed / handed[name], (moment, moment))
    old_kept = put_days_ago(store, Clock(now), 2, b"a photo of an initiative")
    assert store.read(handed["young"]) == b"my data, young"  # a URL serves it
    assert not (store.folder / handed["young"]).exists()
    assert list(store.idle_since(now)) == [old_kept]  # the daily sweep's files only

    assert expire_handed(settings, store, now) == 1
    assert not kept(store, handed["expired"]) and kept(store, handed["young"])
    assert kept(store, old_kept)  # kept files wait for the daily sweep's references
    assert expire_handed(settings, store, now + timedelta(hours=2)) == 1
    assert not kept(store, handed["young"])


async def test_the_leaders_job_expires_handed_files_at_every_run(core: Core, clock: Clock) -> None:
    store = core.files
    scheduler._RUNNING.update(core=core)
    try:
        await scheduler.files_job()  # today's sweep is done
        key = store.put(b"a workbook sent by link", ".xlsx", handed=True)
        past = (clock() - timedelta(hours=core.settings.public_file_ttl_hours + 1)).timestamp()
        os.utime(store.handed / key, (past, past))
        await scheduler.files_job()
    finally:
        scheduler._RUNNING.clear()
    assert not kept(store, key)


def test_files_are_kept_longer_than_their_urls_work() -> None:
    with pytest.raises(ValidationError, match="FILES_UNREFERENCED_DAYS"):
        Settings(
            _env_file=None,  # type: ignore[call-arg]
            files_unreferenced_days=2,
            public_file_ttl_hours=48,
        )
    assert Settings(_env_file=None).files_unreferenced_days == 7  # type: ignore[call-arg]


@pytest.fixture(autouse=True)
def _logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
