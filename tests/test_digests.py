"""Leader digests: the numbers of a subtree and period, /digest, settings and schedule."""

import asyncio
from datetime import UTC, date, datetime

from sqlmodel import select

from bot.app import Core
from bot.leader.digests import Prepared, deliver, drawn, gather, run_digests
from bot.leader.preparing import Preparing
from core.codec import reply_from_json
from services import digest_schedule, digests, review, roles
from storage.db import reading, transaction
from storage.models import DigestSetting, GroupChat, Initiative, Member, OutboxMessage, Unit
from tests.conftest import Clock
from tests.person import Person
from tests.test_campaigns import create, organizer
from tests.tree import Tree, submitted
from views.digest import digest_text

PNG = b"\x89PNG\r\n\x1a\n"


def preparing(core: Core) -> Preparing:
    """Prepare digests as the leader does with `DIGEST_CHART_PROCESSES=0`."""
    return Preparing(core.engine, core.settings, core.catalogs)


def lead(core: Core, clock: Clock, tree: Tree, who: str = "superior") -> int:
    with transaction(core.engine) as session:
        member, zone = session.get(Member, tree.people[who]), session.get(Unit, tree.zone)
        assert member is not None and zone is not None
        roles.grant(session=session, member=member, unit=zone, role="leader", now=clock())
        return member.id or 0


def decide(core: Core, clock: Clock, tree: Tree, initiative_id: int, approve: bool) -> None:
    with transaction(core.engine) as session:
        reviewer = session.get(Member, tree.people["reviewer"])
        assert reviewer is not None
        if approve:
            review.approve(
                session=session,
                reviewer=reviewer,
                initiative_id=initiative_id,
                benefit_vnd=90_000_000,
                level="grassroots",
                now=clock(),
            )
        else:
            review.reject(
                session=session,
                reviewer=reviewer,
                initiative_id=initiative_id,
                reason="Chưa có số liệu",
                now=clock(),
            )


def test_a_digest_counts_new_decided_pending_and_overdue_in_the_subtree(
    core: Core, clock: Clock, tree: Tree
) -> None:
    boss = organizer(core, clock, tree.zone)
    create(core, clock, boss, tree.zone)
    clock.now = datetime(2026, 11, 1, 3, tzinfo=UTC)
    old = submitted(core, tree, clock)  # before the period, still waiting: overdue
    clock.now = datetime(2026, 12, 1, 3, tzinfo=UTC)
    approved, rejected = submitted(core, tree, clock), submitted(core, tree, clock)
    pending = submitted(core, tree, clock)
    clock.advance(days=1)
    decide(core, clock, tree, approved, approve=True)
    decide(core, clock, tree, rejected, approve=False)
    with reading(core.engine) as session:
        zone = session.get(Unit, tree.zone)
        assert zone is not None
        digest = digests.build(
            session=session,
            scope=zone,
            start=datetime(2026, 11, 30, 17, tzinfo=UTC),
            end=datetime(2026, 12, 7, 17, tzinfo=UTC),
            now=clock(),
            sla_days=7,
            zone=core.settings.tz,
        )
    totals = digest.totals
    assert (totals.new, totals.approved, totals.rejected) == (3, 1, 1)
    assert (totals.pending, totals.overdue) == (2, 1)  # `old` waits since November
    assert (totals.estimated_vnd, totals.verified_vnd) == (360_000_000, 90_000_000)
    assert [(u.name, c.new) for u, c in digest.units] == [("Công ty A", 3), ("Công ty B", 0)]
    assert [(item.id, item.unit) for item in digest.top] == [(approved, "Xưởng A1")]
    spread = core.catalogs.render(digest_text(digest, core.settings.tz), "vi")
    assert "Đã công nhận ở đây, đáng nhân rộng ra các đơn vị" in spread
    assert f"#{approved} " in spread and "(Xưởng A1) — 90.000.000 đ/năm" in spread
    assert [c.name for c, _ in digest.campaigns] == ["Đợt thi đua 95 ngày"]
    assert digest.daily[0] == (date(2026, 12, 1), 3) and len(digest.daily) == 7
    with reading(core.engine) as session:
        waiting = session.exec(select(Initiative.id).where(Initiative.waiting_since != None))  # noqa: E711
        assert set(waiting.all()) == {old, pending}


def test_leaders_get_the_digest_with_a_chart_now_and_others_are_told_why_not(
    core: Core, clock: Clock, tree: Tree
) -> None:
    lead(core, clock, tree)
    submitted(core, tree, clock)
    leader = Person(core.dispatcher, "superior", channel="telegram")
    assert leader.say("/digest") == ["digest.text"]
    assert leader.last is not None
    reply = leader.last.replies[0]
    assert reply.documents and reply.documents[0].content.startswith(PNG)
    shown = core.catalogs.render(reply.text, "id")
    assert "Inisiatif baru: 1" in shown and "VND 120.000.000" in shown
    worker = Person(core.dispatcher, "worker", channel="telegram")
    assert worker.say("/digest") == ["digest.not_leader"]
    assert worker.say("/digest settings") == ["digest.not_leader"]


def test_a_leader_chooses_weekly_on_friday_at_five_or_turns_it_off(
    core: Core, clock: Clock, tree: Tree
) -> None:
    leader_id = lead(core, clock, tree)
    leader = Person(core.dispatcher, "superior", channel="telegram")
    assert leader.say("/digest settings") == ["digest.ask_frequency"]
    assert leader.say(choice="freq:weekly") == ["digest.ask_hour"]
    assert leader.say(choice="hour:17") == ["digest.ask_weekday"]
    assert leader.say(choice="day:4") == ["digest.saved"]
    with reading(core.engine) as session:
        setting = session.get(DigestSetting, leader_id)
        assert setting is not None
        assert (setting.frequency, setting.at_hour, setting.weekday) == ("weekly", 17, 4)
    leader.say("/digest settings")
    assert leader.say(choice="freq:off") == ["digest.saved_off"]
    with reading(core.engine) as session:
        assert digest_schedule.due(session=session, now=clock(), zone=core.settings.tz) == []


def test_periods_end_at_the_chosen_local_hour() -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    now = datetime(2026, 12, 2, 2, 30, tzinfo=UTC)  # Wednesday 09:30 in Vietnam
    cases = {
        ("daily", 8, 0): ((2026, 12, 1, 8), (2026, 12, 2, 8)),
        ("daily", 10, 0): ((2026, 11, 30, 10), (2026, 12, 1, 10)),
        ("weekly", 8, 0): ((2026, 11, 23, 8), (2026, 11, 30, 8)),
        ("weekly", 9, 2): ((2026, 11, 25, 9), (2026, 12, 2, 9)),
        ("monthly", 8, 0): ((2026, 11, 1, 8), (2026, 12, 1, 8)),
    }
    for (frequency, hour, weekday), (start, end) in cases.items():
        setting = DigestSetting(member_id=1, frequency=frequency, at_hour=hour, weekday=weekday)
        got = digest_schedule.latest_period(setting, now, zone)
        assert got == (datetime(*start, tzinfo=zone), datetime(*end, tzinfo=zone)), frequency


async def test_scheduled_digests_go_out_once_per_period_in_the_leaders_language(
    core: Core, clock: Clock, tree: Tree
) -> None:
    leader_id = lead(core, clock, tree)  # speaks Indonesian
    clock.now = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # Monday 07:00 in Vietnam
    queued = []
    prepare = preparing(core)
    for _ in range(24 * 15):
        queued.append(await run_digests(core.engine, core.settings, clock(), prepare))
        queued.append(await run_digests(core.engine, core.settings, clock(), prepare))
        clock.advance(hours=1)
    with reading(core.engine) as session:
        rows = session.exec(select(OutboxMessage)).all()
    zone = core.settings.tz
    assert sum(queued) == len(rows)
    assert [row.created_at.astimezone(zone) for row in rows] == [
        datetime(2026, 11, 30, 8, tzinfo=zone),  # Mondays at 08:00, each once though run twice
        datetime(2026, 12, 7, 8, tzinfo=zone),
        datetime(2026, 12, 14, 8, tzinfo=zone),
    ]
    for row in rows:
        assert row.member_id == leader_id and row.language == "id"
        reply = reply_from_json(row.content)
        assert reply.documents[0].content.startswith(PNG)
        assert core.catalogs.render(reply.text, "id").startswith("<b>Ringkasan berkala")


async def test_a_leader_can_have_the_digest_posted_to_the_units_group_once_per_period(
    core: Core, clock: Clock, tree: Tree
) -> None:
    first = lead(core, clock, tree)
    second = lead(core, clock, tree, who="worker")  # a second leader of the same zone
    with transaction(core.engine) as session:
        session.add(
            GroupChat(channel="telegram", chat_id="-100", unit_id=tree.zone, linked_at=clock())
        )
    leader = Person(core.dispatcher, "superior", channel="telegram")
    leader.say("/digest settings")
    leader.say(choice="freq:weekly")
    leader.say(choice="hour:8")
    assert leader.say(choice="day:0") == ["digest.ask_groups"]
    assert leader.say(choice="groups:yes") == ["digest.saved", "digest.saved_groups"]
    with transaction(core.engine) as session:
        member = session.get(Member, second)
        assert member is not None
        digest_schedule.change(session=session, member=member, frequency="weekly", to_groups=True)
    clock.now = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # Monday 07:00 in Vietnam
    for _ in range(24 * 8):
        await run_digests(core.engine, core.settings, clock(), preparing(core))
        clock.advance(hours=1)
    with reading(core.engine) as session:
        rows = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    to_group = [row for row in rows if row.chat_id == "-100"]
    assert sorted(row.member_id for row in rows if row.member_id) == sorted([first, second] * 2)
    assert [(row.chat_kind, row.language) for row in to_group] == [("group", "vi")] * 2
    assert core.catalogs.render(reply_from_json(to_group[0].content).text, "vi").startswith(
        "<b>Bản tin"
    )


async def test_two_runs_that_both_read_a_period_due_queue_it_once(
    core: Core, clock: Clock, tree: Tree
) -> None:
    leader_id = lead(core, clock, tree)
    with transaction(core.engine) as session:
        session.add(
            GroupChat(channel="telegram", chat_id="-100", unit_id=tree.zone, linked_at=clock())
        )
        member = session.get(Member, leader_id)
        assert member is not None
        digest_schedule.change(session=session, member=member, frequency="daily", to_groups=True)
    clock.now = datetime(2026, 12, 1, 3, tzinfo=UTC)  # 10:00 in Vietnam: 08:00's is due
    settings = core.settings
    with reading(core.engine) as session:
        (item,) = digest_schedule.due(session=session, now=clock(), zone=settings.tz)
    # Two leaders (or a doubled job) read the period as due before either writes.
    first = gather(core.engine, item, settings, clock())
    second = gather(core.engine, item, settings, clock())
    assert first is not None and second is not None
    assert [len(scope.groups) for scope in second.scopes] == [1]
    ready = [Prepared(g, drawn(g, settings, core.catalogs)) for g in (first, second)]
    assert deliver(core.engine, ready[0], clock()) == 2  # the leader and the group
    assert deliver(core.engine, ready[1], clock()) == 0  # re-checked: sent already
    with reading(core.engine) as session:
        rows = session.exec(select(OutboxMessage)).all()
    assert sorted((row.chat_kind, row.member_id) for row in rows) == [
        ("group", None),
        ("private", leader_id),
    ]


async def test_a_job_run_twice_at_once_queues_each_digest_once(
    core: Core, clock: Clock, tree: Tree
) -> None:
    lead(core, clock, tree)
    lead(core, clock, tree, who="worker")
    clock.now = datetime(2026, 11, 30, 3, tzinfo=UTC)  # Monday 10:00 in Vietnam
    args = (core.engine, core.settings, clock())
    runs = await asyncio.gather(
        run_digests(*args, preparing(core)), run_digests(*args, preparing(core))
    )
    with reading(core.engine) as session:
        rows = session.exec(select(OutboxMessage)).all()
    assert sum(runs) == len(rows) == 2


async def test_a_digest_prepared_in_a_worker_process_is_the_one_a_thread_prepares(
    core: Core, clock: Clock, tree: Tree
) -> None:
    lead(core, clock, tree)
    submitted(core, tree, clock)
    clock.now = datetime(2026, 11, 30, 3, tzinfo=UTC)
    with reading(core.engine) as session:
        (item,) = digest_schedule.due(session=session, now=clock(), zone=core.settings.tz)
    pool = Preparing(core.engine, core.settings, core.catalogs, processes=1)
    try:  # the worker reads the database through an engine of its own
        by_process = await pool(item, clock())
    finally:
        pool.close()
    by_thread = await preparing(core)(item, clock())
    assert by_process is not None and by_thread is not None
    (scope,) = by_process.ready
    assert scope.reply.documents[0].content[:8] == PNG
    (same,) = by_thread.ready
    assert scope.reply.text == same.reply.text
    assert len(scope.reply.documents[0].content) == len(same.reply.documents[0].content)
    assert by_process.gathered.scopes[0].digest.totals.new == 1
    assert deliver(core.engine, by_process, clock()) == 1  # what came back is enough to send


def test_the_settings_word_after_digest_is_understood_in_every_language(
    core: Core, clock: Clock, tree: Tree
) -> None:
    lead(core, clock, tree)
    leader = Person(core.dispatcher, "superior", channel="telegram")
    for word in ("settings", "cài đặt", "Cai dat", "pengaturan"):
        assert leader.say(f"/digest {word}") == ["digest.ask_frequency"], word
        assert leader.say(choice="freq:off") == ["digest.saved_off"]
