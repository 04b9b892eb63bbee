"""Broadcasts: the audience stays inside the organizer's subtree; each gets their language."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from bot.app import Core
from bot.leader.broadcast_report import Reporter
from bot.leader.jobs import run_broadcasts
from core.codec import reply_from_json
from core.errors import Refused
from core.messages import KEPT, InAttachment, Incoming, Number
from services import broadcasts, membership, roles
from services.broadcasts import Audience
from storage import outbox
from storage.broadcasts import SENDING, tallies
from storage.db import reading, transaction
from storage.models import Broadcast, GroupChat, Member, OutboxMessage, Unit
from tests.conftest import Clock
from tests.person import Person
from tests.test_campaigns import organizer
from tests.tree import Tree

REPORT = ("telegram", "organizer", "vi")


def send(
    core: Core, clock: Clock, who: int, audience: Audience, **versions: str
) -> tuple[int, int]:
    """Create a broadcast now; return its id and how many messages it queued."""
    with transaction(core.engine) as session:
        member = session.get(Member, who)
        assert member is not None
        made = broadcasts.create(
            session=session,
            member=member,
            audience=audience,
            versions=versions or {"vi": "Lễ tổng kết <b>thứ Sáu</b>"},
            default_language="vi",
            attachment=None,
            send_at=clock(),
            report_to=REPORT,
            now=clock(),
        )
        return made.id or 0, made.recipients


def texts(core: Core) -> dict[str, str]:
    """Render what each chat's queued broadcast message says, as the sender would."""
    with reading(core.engine) as session:
        due = outbox.due(session=session, now=core.dispatcher.clock(), limit=100)
    return {
        item.chat_id: core.catalogs.render(reply_from_json(item.content).text, item.language)
        for item in due
    }


def test_an_organizer_reaches_their_subtree_each_member_in_their_language(
    core: Core, clock: Clock, tree: Tree
) -> None:
    boss = organizer(core, clock, tree.a)
    audience = Audience(unit_id=tree.a)
    with reading(core.engine) as session:
        member = session.get(Member, boss)
        assert member is not None
        assert broadcasts.count(session=session, member=member, audience=audience) == (5, 0)
    _, queued = send(core, clock, boss, audience, vi="Xin chào", en="Hello")
    assert queued == 5
    shown = texts(core)
    assert set(shown) == {"worker", "coauthor", "reviewer", "revoked", "organizer"}
    assert shown["coauthor"].endswith("Hello") and shown["worker"].endswith("Xin chào")


def test_filters_narrow_the_audience_and_groups_can_be_added(
    core: Core, clock: Clock, tree: Tree
) -> None:
    boss = organizer(core, clock, tree.zone)
    with transaction(core.engine) as session:
        session.add(GroupChat(channel="telegram", chat_id="-5", unit_id=tree.a, linked_at=clock()))
        member = session.get(Member, boss)
        assert member is not None

        def count(**filters: object) -> tuple[int, int]:
            audience = Audience(unit_id=tree.zone, **filters)  # type: ignore[arg-type]
            return broadcasts.count(session=session, member=member, audience=audience)

        assert count() == (7, 0)
        assert count(language="en") == (1, 0)
        assert count(role="reviewer") == (3, 0)  # reviewer, sibling, superior
        assert count(kind="workshop") == (2, 0)
        assert count(members=False, groups=True) == (0, 1)
        assert count(groups=True, kind="workshop") == (2, 0)  # the group is on enterprise A


def test_an_organizer_cannot_address_anyone_outside_their_subtree(
    core: Core, clock: Clock, tree: Tree
) -> None:
    boss = organizer(core, clock, tree.a)
    for unit_id in (tree.zone, tree.b, 10_000):
        with pytest.raises(Refused):
            send(core, clock, boss, Audience(unit_id=unit_id))
    with reading(core.engine) as session:
        assert session.exec(select(OutboxMessage)).all() == []
        assert session.exec(select(Broadcast)).all() == []


def test_cancel_stops_what_has_not_gone_and_counts_stay_honest(
    core: Core, clock: Clock, tree: Tree
) -> None:
    boss = organizer(core, clock, tree.zone)
    broadcast_id, queued = send(core, clock, boss, Audience(unit_id=tree.zone))
    with reading(core.engine) as session:
        first = outbox.due(session=session, now=clock(), limit=2)
    with transaction(core.engine) as session:
        outbox.record(
            session=session,
            outcomes=[
                outbox.Outcome(first[0].id, "sent", clock(), outbox.SENT),
                outbox.Outcome(first[1].id, "blocked", clock(), outbox.BLOCKED),
            ],
        )
    with transaction(core.engine) as session:
        member = session.get(Member, boss)
        assert member is not None
        stopped = broadcasts.cancel(
            session=session, member=member, broadcast_id=broadcast_id, now=clock()
        )
        assert stopped == queued - 2
        with pytest.raises(Refused):  # twice
            broadcasts.cancel(
                session=session, member=member, broadcast_id=broadcast_id, now=clock()
            )
    other = organizer(core, clock, tree.b, name="other")  # organizes B only: not this one
    with transaction(core.engine) as session:
        member = session.get(Member, other)
        assert member is not None
        with pytest.raises(Refused):
            broadcasts.manageable(session=session, member=member, broadcast_id=broadcast_id)
    with reading(core.engine) as session:
        tally = tallies(session=session, broadcast_ids=[broadcast_id])[broadcast_id]
        counts = (tally["sent"], tally["blocked"], tally["cancelled"], tally["queued"])
        assert counts == (1, 1, queued - 2, 0) and tally.total == queued
        assert outbox.due(session=session, now=clock() + timedelta(days=1), limit=10) == []


def schedule(core: Core, clock: Clock, who: int, audience: Audience, at: datetime) -> int:
    """Schedule a broadcast for `at`; return its id."""
    with transaction(core.engine) as session:
        member = session.get(Member, who)
        assert member is not None
        made = broadcasts.create(
            session=session,
            member=member,
            audience=audience,
            versions={"vi": "Hội thi sáng kiến bắt đầu thứ Hai"},
            default_language="vi",
            attachment=None,
            send_at=at,
            report_to=(REPORT[0], f"chat-{who}", REPORT[2]),
            now=clock(),
        )
        return made.id or 0


def test_a_scheduled_broadcast_goes_only_if_its_organizer_still_is_one(
    core: Core, clock: Clock, tree: Tree
) -> None:
    demoted = organizer(core, clock, tree.a, name="demoted")
    erased = organizer(core, clock, tree.a, name="erased")
    kept = organizer(core, clock, tree.a, name="kept")
    tomorrow = clock() + timedelta(days=1)
    ids = [
        schedule(core, clock, who, Audience(unit_id=tree.a), tomorrow)
        for who in (demoted, erased, kept)
    ]
    with transaction(core.engine) as session:
        member, unit = session.get(Member, demoted), session.get(Unit, tree.a)
        assert member is not None and unit is not None
        roles.revoke(session=session, member=member, unit=unit, role="organizer")
        gone = session.get(Member, erased)
        assert gone is not None
        membership.erase(session=session, member=gone, files=core.files, now=clock())
    assert run_broadcasts(core.engine, tomorrow) == 6  # the kept organizer's only, to all six
    with reading(core.engine) as session:
        made = [session.get(Broadcast, i) for i in ids]
        assert [(b.status, b.reported_final) for b in made if b] == [
            ("cancelled", True),
            ("cancelled", True),
            ("sending", False),
        ]
        chats = {b.report_chat_id for b in session.exec(select(Broadcast)).all()}
        assert f"chat-{erased}" not in chats  # no progress or report goes to an erased chat
        queued = {m.broadcast_id for m in session.exec(select(OutboxMessage)).all()}
        assert queued == {ids[2]}
        organizer_kept = session.get(Member, kept)
        assert organizer_kept is not None
        data = membership.personal_data(session=session, member=organizer_kept)
        assert [b["id"] for b in data["broadcasts_made"]] == [ids[2]]  # /mydata lists it


def test_a_message_of_a_cancelled_broadcast_is_not_queued_again_by_its_sends_retry(
    core: Core, clock: Clock, tree: Tree
) -> None:
    boss = organizer(core, clock, tree.zone)
    broadcast_id, _ = send(core, clock, boss, Audience(unit_id=tree.zone))
    with reading(core.engine) as session:
        in_flight = outbox.due(session=session, now=clock(), limit=3)
    with transaction(core.engine) as session:
        member = session.get(Member, boss)
        assert member is not None
        broadcasts.cancel(session=session, member=member, broadcast_id=broadcast_id, now=clock())
    later = clock() + timedelta(seconds=30)
    with transaction(core.engine) as session:  # the sends that were in flight end now
        outbox.record(
            session=session,
            outcomes=[
                outbox.Outcome(
                    in_flight[0].id, "retry_after", clock(), outbox.QUEUED, later, 30.0
                ),
                outbox.Outcome(in_flight[1].id, "transient", clock(), outbox.QUEUED, later),
                outbox.Outcome(in_flight[2].id, "sent", clock(), outbox.SENT),
            ],
        )
    with reading(core.engine) as session:
        assert [session.get(OutboxMessage, m.id).status for m in in_flight] == [  # type: ignore[union-attr]
            "cancelled",
            "cancelled",
            "sent",
        ]
        assert outbox.due(session=session, now=later + timedelta(days=1), limit=10) == []


def test_an_outcome_written_late_does_not_queue_again_what_was_sent(
    core: Core, clock: Clock, tree: Tree
) -> None:
    boss = organizer(core, clock, tree.zone)
    send(core, clock, boss, Audience(unit_id=tree.zone))
    with reading(core.engine) as session:
        (item,) = outbox.due(session=session, now=clock(), limit=1)
    later = clock() + timedelta(seconds=30)
    with transaction(core.engine) as session:  # the new leader sent it
        outbox.record(session=session, outcomes=[outbox.Outcome(item.id, "sent", clock(), "sent")])
    with transaction(core.engine) as session:  # the old one's outcome, written at last
        outbox.record(
            session=session,
            outcomes=[outbox.Outcome(item.id, "transient", clock(), outbox.QUEUED, later)],
        )
    with reading(core.engine) as session:
        message = session.get(OutboxMessage, item.id)
        assert message is not None and message.status == "sent"


def test_a_broadcast_yields_to_notices_but_keeps_its_place(
    core: Core, clock: Clock, tree: Tree
) -> None:
    boss = organizer(core, clock, tree.zone)
    send(core, clock, boss, Audience(unit_id=tree.zone))
    with transaction(core.engine) as session:
        outbox.enqueue(
            session=session,
            channel="telegram",
            chat_id="worker",
            chat_kind="private",
            language="vi",
            content={"text": {"$text": "notice.review_waiting", "params": {}}},
            now=clock(),
        )
    with reading(core.engine) as session:
        due = outbox.due(session=session, now=clock(), limit=100)
    assert due[0].chat_id == "worker" and "broadcast" not in str(due[0].content)
    assert sorted(item.chat_id for item in due).count("worker") == 2  # both, different order


def test_an_organizer_writes_chooses_previews_and_sends_in_chat(
    core: Core, clock: Clock, tree: Tree
) -> None:
    organizer(core, clock, tree.zone)
    boss = Person(core.dispatcher, "organizer", channel="telegram")
    assert boss.say("/broadcast") == ["broadcast.ask_unit"]
    assert f"unit:{tree.zone}" in boss.options and f"unit:{tree.a}" in boss.options
    assert boss.say(choice=f"unit:{tree.a}") == ["broadcast.ask_text"]
    photo = InAttachment("photo", "PHOTO-1")
    assert boss.say(attachments=(photo,)) == ["broadcast.got_file"]
    assert boss.say("Lễ tổng kết <b>thứ Sáu</b> lúc 8h") == ["broadcast.audience"]
    assert boss.last is not None
    params = boss.last.replies[0].text.params
    assert (params["members"], params["groups"]) == (Number(4), Number(0))
    assert boss.press("aud:language") == ["broadcast.audience"]  # en only
    assert boss.last.replies[0].text.params["members"] == Number(1)
    boss.press("aud:language")  # id
    boss.press("aud:language")  # vi
    assert boss.last.replies[0].text.params["members"] == Number(3)
    boss.press("aud:language")  # everyone again
    assert boss.press("version:en") == ["broadcast.ask_version"]
    assert boss.say("Closing ceremony on Friday at 8") == ["broadcast.audience"]
    assert boss.press("aud:go") == [
        "broadcast.preview_title",
        "broadcast.message",
        "broadcast.confirm",
    ]
    assert boss.last.replies[1].files[0].file_ref == "PHOTO-1"
    assert boss.press("send:now") == ["broadcast.started"]
    shown = texts(core)
    assert set(shown) == {"worker", "coauthor", "reviewer", "revoked"}
    assert "&lt;b&gt;" not in shown["worker"]  # rendered plain here; the channel escapes
    assert shown["coauthor"].endswith("Closing ceremony on Friday at 8")
    assert boss.say("/broadcast list") == ["broadcast.history"]
    assert boss.say("/broadcast cancel") == ["broadcast.ask_cancel"]
    assert boss.say(choice=boss.options[0]) == ["broadcast.cancelled"]


def test_forged_buttons_and_bad_times_get_clear_answers(
    core: Core, clock: Clock, tree: Tree
) -> None:
    organizer(core, clock, tree.a)
    boss = Person(core.dispatcher, "organizer", channel="telegram")
    assert boss.say("/broadcast") == ["broadcast.ask_unit"]
    # A forged button is not among those offered; a typed unit goes to the service's check.
    assert boss.say(choice=f"unit:{tree.b}") == ["common.pick_option", "broadcast.ask_unit"]
    assert boss.say("KCN") == ["broadcast.not_organizer", "broadcast.ask_unit"]
    boss.say(choice=f"unit:{tree.a1}")
    boss.say("Họp tổ lúc 8h")
    assert boss.press("aud:role") == ["broadcast.audience"]  # workers: only `worker`
    boss.press("aud:go")
    assert boss.press("send:later") == ["broadcast.ask_when"]
    assert boss.say("ngày mai") == ["broadcast.when_format", "broadcast.ask_when"]
    assert boss.say("01/01/2020 08:00") == ["broadcast.when_past", "broadcast.ask_when"]
    assert boss.say("02/12/2026 08:00") == ["broadcast.scheduled"]
    worker = Person(core.dispatcher, "worker", channel="telegram")
    assert worker.say("/broadcast") == ["broadcast.not_organizer"]
    assert worker.say("/broadcast cancel 1") == ["broadcast.not_organizer"]
    with reading(core.engine) as session:
        assert session.exec(select(OutboxMessage)).all() == []
    clock.now = clock.now.replace(day=2, month=12, hour=1, minute=0)  # 08:00 in Vietnam
    assert run_broadcasts(core.engine, clock()) == 1
    assert run_broadcasts(core.engine, clock()) == 0
    assert set(texts(core)) == {"worker"}


def test_a_photo_the_bot_kept_goes_out_as_kept_whoever_receives_it(
    core: Core, clock: Clock, tree: Tree
) -> None:
    """A photo the bot kept (Zalo's and the console's are) stays the bot's in the
    announcement, so every messenger sends it, not only the one it came from."""
    organizer(core, clock, tree.a1)
    boss = Person(core.dispatcher, "organizer", channel="telegram")
    boss.say("/broadcast")
    kept = InAttachment("photo", "a" * 64 + ".jpg", channel=KEPT)
    assert boss.say(attachments=(kept,)) == ["broadcast.got_file"]
    boss.say("Lễ tổng kết thứ Sáu lúc 8h")
    preview = next(o for o in boss.options if o.startswith("aud:go"))
    assert boss.say(choice=preview)[1] == "broadcast.message"
    assert boss.last is not None
    (shared,) = boss.last.replies[1].files
    assert (shared.channel, shared.file_ref) == (KEPT, "a" * 64 + ".jpg")


def test_a_caption_is_cleaned_like_typed_text(core: Core, clock: Clock, tree: Tree) -> None:
    organizer(core, clock, tree.a1)
    boss = Person(core.dispatcher, "organizer", channel="telegram")
    boss.say("/broadcast")
    response = core.dispatcher.handle(
        Incoming(
            channel="telegram",
            chat_id="organizer",
            user_id="organizer",
            caption="Họp tổ\x00 lúc 8h",  # a NUL: PostgreSQL would refuse it
            attachments=(InAttachment("photo", "PHOTO-2"),),
        )
    )
    assert response is not None and [r.text.key for r in response.replies] == [
        "broadcast.audience"
    ]
    preview = next(o.value for o in response.replies[-1].options if o.value.startswith("aud:go"))
    assert boss.say(choice=preview)[1] == "broadcast.message"
    assert boss.last is not None
    assert boss.last.replies[1].text.params["text"] == "Họp tổ lúc 8h"


def test_each_press_on_the_audience_counts_it_once(
    core: Core, clock: Clock, tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting a province-wide audience takes a while: the buttons are matched without it."""
    organizer(core, clock, tree.zone)
    boss = Person(core.dispatcher, "organizer", channel="telegram")
    boss.say("/broadcast")
    boss.say(choice=f"unit:{tree.a}")
    boss.say("Lễ tổng kết thứ Sáu lúc 8h")
    counted: list[Audience] = []
    real_count = broadcasts.count

    def count(**kwargs: Any) -> tuple[int, int]:
        counted.append(kwargs["audience"])
        return real_count(**kwargs)

    monkeypatch.setattr(broadcasts, "count", count)
    assert boss.press("aud:language") == ["broadcast.audience"]
    assert [audience.language for audience in counted] == ["en"]  # the new question's count
    assert boss.say(choice="aud:forged") == ["common.pick_option", "broadcast.audience"]


async def test_the_reporter_counts_every_broadcast_with_one_query_a_round(
    core: Core, clock: Clock, tree: Tree
) -> None:
    boss = organizer(core, clock, tree.zone)
    first, _ = send(core, clock, boss, Audience(unit_id=tree.a))
    second, queued = send(core, clock, boss, Audience(unit_id=tree.zone))
    statements: list[str] = []
    event.listen(core.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    reporter = Reporter(engine=core.engine, posters={}, clock=clock)
    await reporter.once()
    tally_queries = [s for s in statements if "count(*)" in s and "GROUP BY" in s]
    assert len(tally_queries) == 1
    with transaction(core.engine) as session:
        stopped = broadcasts.cancel(
            session=session, member=_member(session, boss), broadcast_id=second, now=clock()
        )
    assert stopped == queued
    statements.clear()
    await reporter.once()  # the cancelled one's final report: still one count for both
    assert len([s for s in statements if "count(*)" in s and "GROUP BY" in s]) == 1
    with reading(core.engine) as session:
        listed = {b.id: b for b in session.exec(select(Broadcast)).all()}
    assert listed[first].status == SENDING and not listed[first].reported_final
    assert listed[second].reported_final


async def test_the_reporter_tells_the_channel_how_much_of_a_broadcast_is_done(
    core: Core, clock: Clock, tree: Tree
) -> None:
    boss = organizer(core, clock, tree.zone)
    broadcast_id, queued = send(core, clock, boss, Audience(unit_id=tree.zone))
    assert queued >= 2
    with transaction(core.engine) as session:
        messages = session.exec(
            select(OutboxMessage).where(OutboxMessage.broadcast_id == broadcast_id)
        ).all()
        for message in messages[: queued // 2]:
            message.status = outbox.SENT
            session.add(message)
    posted: list[float] = []

    async def post(*_: Any, final: bool = False, done: float = 0.0) -> str:
        posted.append(done)
        return "status-1"

    await Reporter(engine=core.engine, posters={"telegram": post}, clock=clock).once()
    assert posted == [pytest.approx((queued // 2) / queued)]


def _member(session: Session, member_id: int) -> Member:
    member = session.get(Member, member_id)
    assert member is not None
    return member


@pytest.mark.parametrize(
    ("listing", "cancelling"),
    [("list", "cancel"), ("danh sách", "Huỷ"), ("DANH SACH", "dung"), ("daftar", "batal")],
)
def test_list_and_cancel_words_of_every_language_are_understood(
    core: Core, clock: Clock, tree: Tree, listing: str, cancelling: str
) -> None:
    organizer(core, clock, tree.a1)
    boss = Person(core.dispatcher, "organizer", channel="telegram")
    assert boss.say(f"/broadcast {listing}") == ["broadcast.history_none"]
    assert boss.say(f"/broadcast {cancelling}") == ["broadcast.nothing_running"]
    assert boss.say(f"/broadcast {cancelling} #404") == ["broadcast.not_found"]
    assert boss.say("/broadcast danh") == ["broadcast.ask_text"]  # not a word: a new one


def test_each_catalog_lists_its_own_words_for_list_and_cancel(core: Core) -> None:
    words = {
        language: core.catalogs.template("broadcast.words_cancel", language)
        for language in ("vi", "en", "id")
    }
    assert "hủy" in words["vi"] and "cancel" in words["en"] and "batal" in words["id"]
    for language in ("vi", "en", "id"):  # no language lacks its words (English fallback)
        assert core.catalogs.messages[language]["broadcast.words_list"].strip()


def test_a_send_time_is_a_local_day_and_time_in_the_future(core: Core, clock: Clock) -> None:
    zone = core.settings.tz  # Asia/Ho_Chi_Minh, UTC+7
    read = broadcasts.read_send_at("02/12/2026 8h30", zone=zone, now=clock())
    assert read.astimezone(UTC) == datetime(2026, 12, 2, 1, 30, tzinfo=UTC)
    assert broadcasts.read_send_at("02/12/2026 08", zone=zone, now=clock()).hour == 8
    for wrong in ("ngày mai", "02/12/2026 24:00", "02/12/2026 8:60", "08:00", "02/12/2026 ٨"):
        with pytest.raises(Refused) as refused:
            broadcasts.read_send_at(wrong, zone=zone, now=clock())
        assert refused.value.text.key == "broadcast.when_format"
    with pytest.raises(Refused) as refused:
        broadcasts.read_send_at("25/11/2026 09:59", zone=zone, now=clock())  # 02:59 UTC
    assert refused.value.text.key == "broadcast.when_past"
