"""Reminders: a 95-day campaign's schedule, idle drafts and overdue reviews, each once."""

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot.app import Core, build
from bot.leader.digests import run_digests
from bot.leader.jobs import run_reminders
from bot.leader.preparing import Preparing
from core.codec import reply_from_json
from core.settings import Settings
from core.status import Status
from services import initiatives, reminders, review, roles
from services.campaigns import Plan
from storage.db import reading, transaction
from storage.models import Member, OutboxMessage, Unit
from tests.conftest import Clock
from tests.test_campaigns import create, organizer
from tests.tree import Tree, submitted

NINETY_FIVE_DAYS = Plan(
    "Đợt cao điểm 95 ngày", None, date(2026, 12, 1), date(2027, 3, 5), 300, None
)
MILESTONES = [
    "reminder.campaign_launch",
    "reminder.campaign_midpoint",
    "reminder.campaign_week",
    "reminder.campaign_day",
    "reminder.campaign_results",
]


def sent(core: Core) -> dict[int, list[tuple[str, datetime, str]]]:
    """Return each member's queued messages: key, when queued, language."""
    with reading(core.engine) as session:
        rows = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()  # type: ignore[arg-type]
    mine: dict[int, list[tuple[str, datetime, str]]] = defaultdict(list)
    for row in rows:
        mine[row.member_id or 0].append(
            (row.content["text"]["$text"], row.created_at, row.language)
        )
    return mine


def tick(core: Core, clock: Clock) -> int:
    return run_reminders(core.engine, core.settings, clock())


async def tick_all(core: Core, clock: Clock) -> int:
    """Run what the scheduler's job runs: reminders, then digests."""
    queued = tick(core, clock)
    prepare = Preparing(core.engine, core.settings, core.catalogs)
    return queued + await run_digests(core.engine, core.settings, clock(), prepare)


async def test_a_95_day_campaign_sends_each_milestone_once_outside_quiet_hours_across_a_restart(
    core: Core, settings: Settings, clock: Clock, tree: Tree
) -> None:
    boss = organizer(core, clock, tree.zone)
    create(core, clock, boss, tree.zone, NINETY_FIVE_DAYS)
    leader = tree.people["superior"]  # speaks Indonesian; weekly digest by default
    with transaction(core.engine) as session:
        member, zone_unit = session.get(Member, leader), session.get(Unit, tree.zone)
        assert member is not None and zone_unit is not None
        roles.grant(session=session, member=member, unit=zone_unit, role="leader", now=clock())
    clock.now = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    end = datetime(2027, 3, 7, tzinfo=UTC)
    running = core
    restarted = False
    while clock.now < end:
        await tick_all(running, clock)
        if clock.now.hour in (1, 9):
            await tick_all(running, clock)  # a second leader for a moment: nothing doubles
        if not restarted and clock.now >= datetime(2027, 1, 20, tzinfo=UTC):
            running.engine.dispose()  # the process stops; another starts on the same data
            running = build(settings, clock=clock, migrate=False)
            restarted = True
        clock.advance(hours=1)
    messages = sent(running)
    running.engine.dispose()

    with reading(core.engine) as session:
        members = session.exec(select(Member)).all()
    assert len(members) == 7 and set(messages) == {m.id for m in members}
    zone = settings.tz
    digests = [at for key, at, _ in messages[leader] if key == "digest.text"]
    mondays = [datetime(2026, 11, 30, 8, tzinfo=zone) + timedelta(weeks=n) for n in range(14)]
    assert [at.astimezone(zone) for at in digests] == mondays  # 30/11 … 1/3, each once
    for member in members:
        got = [m for m in messages[member.id or 0] if m[0] != "digest.text"]
        assert [key for key, _, _ in got] == MILESTONES
        assert all(language == member.language for _, _, language in got)
        assert all(time(7) <= at.astimezone(zone).time() < time(21) for _, at, _ in got)
    launch, midpoint, week, day, results = (at for _, at, _ in messages[boss])
    assert launch.astimezone(zone) == datetime(2026, 12, 1, 7, 0, tzinfo=zone)  # not at midnight
    assert week.astimezone(zone).date() == date(2027, 2, 27)
    assert day.astimezone(zone).date() == date(2027, 3, 5)
    assert results.astimezone(zone) == datetime(2027, 3, 6, 7, 0, tzinfo=zone)
    assert date(2027, 1, 17) <= midpoint.astimezone(zone).date() <= date(2027, 1, 18)


def test_milestones_render_in_each_recipients_language(
    core: Core, clock: Clock, tree: Tree
) -> None:
    boss = organizer(core, clock, tree.zone)
    create(core, clock, boss, tree.zone, NINETY_FIVE_DAYS)
    clock.now = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 08:00 in Vietnam
    assert tick(core, clock) == 7
    with reading(core.engine) as session:
        rows = session.exec(select(OutboxMessage)).all()
    shown = {
        row.language: core.catalogs.render(reply_from_json(row.content).text, row.language)
        for row in rows
    }
    assert shown["vi"].startswith("📣 Đợt thi đua «Đợt cao điểm 95 ngày» bắt đầu hôm nay")
    assert "05/03/2027" in shown["vi"]
    assert shown["en"].startswith("📣 The campaign «Đợt cao điểm 95 ngày» starts today")
    assert shown["id"].startswith("📣 Kampanye «Đợt cao điểm 95 ngày» dimulai")


def test_a_campaign_that_passed_while_the_bot_was_down_sends_only_its_results(
    core: Core, clock: Clock, tree: Tree
) -> None:
    boss = organizer(core, clock, tree.zone)
    create(core, clock, boss, tree.zone, NINETY_FIVE_DAYS)
    clock.now = datetime(2027, 3, 10, 3, 0, tzinfo=UTC)
    tick(core, clock)
    assert [key for key, _, _ in sent(core)[boss]] == ["reminder.campaign_results"]


def test_an_idle_draft_reminds_its_author_once(core: Core, clock: Clock, tree: Tree) -> None:
    clock.now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    with transaction(core.engine) as session:
        worker = session.get(Member, tree.people["worker"])
        assert worker is not None
        initiatives.start_draft(session=session, member=worker, now=clock())
    clock.advance(hours=23, minutes=59)
    tick(core, clock)
    assert sent(core) == {}
    for _ in range(3):
        clock.advance(hours=1)
        tick(core, clock)
    assert [key for key, _, _ in sent(core)[tree.people["worker"]]] == ["reminder.draft_idle"]


def test_a_review_past_its_sla_reminds_the_council_then_its_leaders(
    core: Core, clock: Clock, tree: Tree
) -> None:
    with transaction(core.engine) as session:
        zone, boss = session.get(Unit, tree.zone), session.get(Member, tree.people["superior"])
        a = session.get(Unit, tree.a)
        assert zone is not None and boss is not None and a is not None
        roles.grant(session=session, member=boss, unit=zone, role="leader", now=clock())
        a.review_sla_days = 3
        session.add(a)
    clock.now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    submitted(core, tree, clock)
    clock.advance(days=3, minutes=-1)
    tick(core, clock)
    assert [k for k, _, _ in sent(core)[tree.people["reviewer"]]] == ["notice.review_waiting"]
    clock.advance(minutes=1)
    tick(core, clock)
    clock.advance(days=3)
    tick(core, clock)
    tick(core, clock)
    messages = sent(core)
    assert [k for k, _, _ in messages[tree.people["reviewer"]]] == [
        "notice.review_waiting",
        "reminder.review_overdue",
    ]
    # The zone's leader hears of it after twice the SLA (A's council had it, not the zone's).
    assert [k for k, _, _ in messages[tree.people["superior"]]] == ["reminder.review_escalated"]


def test_a_reminder_recorded_by_another_process_is_not_sent_again(
    core: Core, clock: Clock, tree: Tree
) -> None:
    with transaction(core.engine) as session:
        worker = session.get(Member, tree.people["worker"])
        assert worker is not None
        draft = initiatives.start_draft(session=session, member=worker, now=clock())
    clock.advance(days=2)
    with reading(core.engine) as session:
        due = reminders.due(session=session, now=clock(), sla_days=7)
    assert [(d.kind, d.subject_id) for d in due] == [("draft.idle", draft.id)]
    with transaction(core.engine) as session:
        assert (
            reminders.send(session=session, item=due[0], now=clock(), zone=core.settings.tz) == 1
        )
    try:
        with transaction(core.engine) as session:
            reminders.send(session=session, item=due[0], now=clock(), zone=core.settings.tz)
        raised = False
    except IntegrityError:
        raised = True
    assert raised
    assert len(sent(core)[tree.people["worker"]]) == 1
    assert tick(core, clock) == 0


def test_nothing_is_queued_in_quiet_hours(core: Core, clock: Clock, tree: Tree) -> None:
    boss = organizer(core, clock, tree.zone)
    create(core, clock, boss, tree.zone, NINETY_FIVE_DAYS)
    clock.now = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)  # 21:30 in Vietnam
    assert tick(core, clock) == 0
    clock.now = datetime(2026, 12, 1, 23, 59, tzinfo=UTC)  # 06:59
    assert tick(core, clock) == 0
    clock.now = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)  # 07:00
    assert tick(core, clock) == 7


def test_quiet_hours_may_span_midnight_or_sit_inside_a_day(settings: Settings) -> None:
    zone = settings.tz
    at = [datetime(2026, 12, 1, h, tzinfo=zone) for h in (6, 7, 12, 20, 21, 23)]
    night = [reminders.quiet(moment, zone, (time(21), time(7))) for moment in at]
    noon = [reminders.quiet(moment, zone, (time(12), time(13))) for moment in at]
    assert night == [True, False, False, False, True, True]
    assert noon == [False, False, True, False, False, False]
    assert not reminders.quiet(at[0], zone, (time(0), time(0)))


def test_opening_a_waiting_review_neither_restarts_its_sla_nor_reminds_again(
    core: Core, clock: Clock, tree: Tree
) -> None:
    clock.now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam
    initiative_id = submitted(core, tree, clock)
    clock.advance(days=2)
    with transaction(core.engine) as session:
        reviewer = session.get(Member, tree.people["reviewer"])
        assert reviewer is not None
        opened = review.open_card(
            session=session, member=reviewer, initiative_id=initiative_id, now=clock()
        )
        assert opened.status == Status.UNDER_REVIEW
    clock.advance(days=5, minutes=1)  # the SLA (7 days) after it was submitted
    tick(core, clock)
    overdue = ["reminder.review_overdue"]
    assert [k for k, _, _ in sent(core)[tree.people["reviewer"]] if k in overdue] == overdue
    clock.advance(days=3)  # and the SLA after it was opened: the same wait, no second one
    tick(core, clock)
    assert [k for k, _, _ in sent(core)[tree.people["reviewer"]] if k in overdue] == overdue
