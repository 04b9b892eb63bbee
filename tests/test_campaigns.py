"""Campaigns: organizers run them in chat, submissions count toward them, /stats shows it."""

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select

from bot.app import Core
from core.errors import Refused
from services import campaigns, initiatives, roles
from services.campaigns import Plan
from storage.db import reading, transaction
from storage.models import Campaign, Initiative, Member, Unit
from tests.conftest import Clock
from tests.person import Person
from tests.tree import Tree, person, submitted

PLAN = Plan("Đợt thi đua 95 ngày", None, date(2026, 12, 1), date(2026, 12, 3), 2, 100_000_000)


def organizer(core: Core, clock: Clock, unit_id: int, name: str = "organizer") -> int:
    """Add a member holding the organizer role over a unit."""
    with transaction(core.engine) as session:
        unit = session.get(Unit, unit_id)
        assert unit is not None
        member = person(session, unit, name, "vi", clock)
        roles.grant(session=session, member=member, unit=unit, role="organizer", now=clock())
        return member.id or 0


def create(core: Core, clock: Clock, who: int, unit_id: int, plan: Plan = PLAN) -> int:
    with transaction(core.engine) as session:
        member, unit = session.get(Member, who), session.get(Unit, unit_id)
        assert member is not None and unit is not None
        made = campaigns.create(
            session=session,
            member=member,
            unit=unit,
            plan=plan,
            zone=core.settings.tz,
            now=clock(),
        )
        return made.id or 0


def campaign_of(core: Core, initiative_id: int) -> int | None:
    with reading(core.engine) as session:
        initiative = session.get(Initiative, initiative_id)
        assert initiative is not None
        return initiative.campaign_id


def at(clock: Clock, iso: str) -> None:
    clock.now = datetime.fromisoformat(iso).replace(tzinfo=UTC)


def test_the_period_is_local_calendar_days_stored_in_utc(
    core: Core, clock: Clock, tree: Tree
) -> None:
    boss = organizer(core, clock, tree.zone)
    campaign_id = create(core, clock, boss, tree.zone)
    with reading(core.engine) as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        assert campaign.starts_at == datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
        assert campaign.ends_at == datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
        assert campaigns.plan_of(campaign, core.settings.tz) == PLAN

    at(clock, "2026-11-30T16:59:59")  # 23:59:59 on 30/11 in Vietnam: not yet
    assert campaign_of(core, submitted(core, tree, clock)) is None
    at(clock, "2026-11-30T17:00:00")  # midnight on 1/12 in Vietnam
    assert campaign_of(core, submitted(core, tree, clock)) == campaign_id
    at(clock, "2026-12-03T16:59:59")  # the last second of the last day
    assert campaign_of(core, submitted(core, tree, clock)) == campaign_id
    at(clock, "2026-12-03T17:00:00")
    assert campaign_of(core, submitted(core, tree, clock)) is None


def test_progress_and_standings_count_submitted_initiatives_per_unit(
    core: Core, clock: Clock, tree: Tree
) -> None:
    boss = organizer(core, clock, tree.zone)
    campaign_id = create(core, clock, boss, tree.zone)
    at(clock, "2026-12-02T03:00:00")
    for _ in range(3):
        submitted(core, tree, clock)
    with reading(core.engine) as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        progress = campaigns.progress(session=session, campaign=campaign)
        assert (progress.count, progress.estimated_vnd) == (3, 360_000_000)
        assert campaigns.percent(progress.count, campaign.target_count) == 150
        ranked = [
            (s.unit.name, s.progress.count, s.rank)
            for s in campaigns.standings(session=session, campaign=campaign)
        ]
    assert ranked == [("Công ty A", 3, 1), ("Công ty B", 0, 2)]


def refusal(session: Session, action: object) -> str:
    with pytest.raises(Refused) as refused:
        assert callable(action)
        action()
    return refused.value.text.key


def test_only_organizers_of_the_subtree_may_create_change_or_close(
    core: Core, clock: Clock, tree: Tree
) -> None:
    a_boss = organizer(core, clock, tree.a, "a_boss")
    b_boss = organizer(core, clock, tree.b, "b_boss")
    campaign_id = create(core, clock, a_boss, tree.a)
    with transaction(core.engine) as session:
        b = session.get(Member, b_boss)
        reviewer = session.get(Member, tree.people["reviewer"])
        zone = session.get(Unit, tree.zone)
        assert b is not None and reviewer is not None and zone is not None
        tz = core.settings.tz
        keys = [
            refusal(
                session,
                lambda: campaigns.create(
                    session=session, member=reviewer, unit=zone, plan=PLAN, zone=tz, now=clock()
                ),
            ),
            refusal(
                session,
                lambda: campaigns.create(
                    session=session, member=b, unit=zone, plan=PLAN, zone=tz, now=clock()
                ),
            ),
            refusal(
                session,
                lambda: campaigns.change(
                    session=session, member=b, campaign_id=campaign_id, plan=PLAN, zone=tz
                ),
            ),
            refusal(
                session,
                lambda: campaigns.close(
                    session=session, member=b, campaign_id=campaign_id, now=clock()
                ),
            ),
            refusal(
                session,
                lambda: campaigns.close(session=session, member=b, campaign_id=999, now=clock()),
            ),
        ]
    assert keys == ["campaign.not_organizer"] * 4 + ["campaign.not_found"]


def test_an_organizer_creates_a_campaign_in_chat_and_bad_answers_are_asked_again(
    core: Core, clock: Clock, tree: Tree
) -> None:
    organizer(core, clock, tree.zone)
    boss = Person(core.dispatcher, "organizer", channel="telegram")
    assert boss.say("/campaign") == ["campaign.menu"]
    assert boss.say(choice="campaign:new") == ["campaign.ask_name"]
    assert boss.say("   ") == ["wizard.need_text", "campaign.ask_name"]
    assert boss.say("Đợt thi đua cao điểm 95 ngày") == ["campaign.ask_description"]
    assert boss.say("/skip") == ["campaign.ask_starts"]
    assert boss.say("31/02/2027") == ["wizard.date_invalid", "campaign.ask_starts"]
    assert boss.say("01/03/2027") == ["campaign.ask_ends"]
    assert boss.say("28/02/2027") == ["campaign.ends_before_start", "campaign.ask_ends"]
    assert boss.say("03/06/2027") == ["campaign.ask_target_count"]
    assert boss.say("ba trăm") == ["campaign.count_retry", "campaign.ask_target_count"]
    assert boss.say("300") == ["campaign.ask_target_benefit"]
    assert boss.say("hai đồng đô") == ["campaign.benefit_retry", "campaign.ask_target_benefit"]
    assert boss.say("1,5 tỷ") == ["campaign.confirm"]
    assert boss.press("confirm:create") == ["campaign.created"]
    with reading(core.engine) as session:
        made = session.exec(select(Campaign)).one()
    assert (made.name, made.unit_id, made.description) == (
        "Đợt thi đua cao điểm 95 ngày",
        tree.zone,
        None,
    )
    assert (made.target_count, made.target_benefit_vnd) == (300, 1_500_000_000)
    assert made.starts_at == datetime(2027, 2, 28, 17, 0, tzinfo=UTC)
    assert made.ends_at == datetime(2027, 6, 3, 17, 0, tzinfo=UTC)


def test_an_organizer_edits_and_closes_a_campaign_from_its_card(
    core: Core, clock: Clock, tree: Tree
) -> None:
    boss_id = organizer(core, clock, tree.zone)
    campaign_id = create(core, clock, boss_id, tree.zone)
    boss = Person(core.dispatcher, "organizer", channel="telegram")
    boss.say("/campaign")
    assert f"campaign:{campaign_id}" in boss.options
    assert boss.say(choice=f"campaign:{campaign_id}") == ["campaign.full_card"]
    assert boss.press("edit:targets") == ["campaign.ask_target_count"]
    assert boss.say("500") == ["campaign.ask_target_benefit"]
    assert boss.say("/skip") == ["campaign.saved", "campaign.full_card"]
    assert boss.press("card:close") == ["campaign.ask_close"]
    assert boss.press("close:yes") == ["campaign.closed_now"]
    with reading(core.engine) as session:
        closed = session.get(Campaign, campaign_id)
        assert closed is not None
    assert (closed.target_count, closed.target_benefit_vnd) == (500, None)
    assert closed.closed_at == clock()
    at(clock, "2026-12-02T03:00:00")  # inside the old period: no longer counts
    assert campaign_of(core, submitted(core, tree, clock)) is None


def test_a_forged_campaign_button_opens_nothing(core: Core, clock: Clock, tree: Tree) -> None:
    a_boss = organizer(core, clock, tree.a, "a_boss")
    organizer(core, clock, tree.b, "b_boss")
    campaign_id = create(core, clock, a_boss, tree.a)
    intruder = Person(core.dispatcher, "b_boss", channel="telegram")
    intruder.say("/campaign")
    assert intruder.say(choice=f"campaign:{campaign_id}") == [
        "common.pick_option",
        "campaign.menu",
    ]
    # An organizer whose role is taken away while the card is open can do nothing more.
    owner = Person(core.dispatcher, "a_boss", channel="telegram")
    owner.say("/campaign")
    assert owner.say(choice=f"campaign:{campaign_id}") == ["campaign.full_card"]
    with transaction(core.engine) as session:
        member, unit = session.get(Member, a_boss), session.get(Unit, tree.a)
        assert member is not None and unit is not None
        roles.revoke(session=session, member=member, unit=unit, role="organizer")
    assert owner.press("card:close") == ["campaign.not_organizer"]
    assert owner.say(choice=f"close:yes:{campaign_id}") == ["common.stale_button"]
    with reading(core.engine) as session:
        still = session.get(Campaign, campaign_id)
        assert still is not None and still.closed_at is None
    worker = Person(core.dispatcher, "worker", channel="telegram")
    assert worker.say("/campaign") == ["campaign.not_organizer"]


def test_with_two_campaigns_running_the_worker_picks_one_and_a_forged_pick_is_refused(
    core: Core, clock: Clock, tree: Tree
) -> None:
    zone_boss = organizer(core, clock, tree.zone, "zone_boss")
    a_boss = organizer(core, clock, tree.a, "a_boss")
    b_boss = organizer(core, clock, tree.b, "b_boss")
    zone_wide = create(core, clock, zone_boss, tree.zone)
    company = create(core, clock, a_boss, tree.a)
    elsewhere = create(core, clock, b_boss, tree.b)
    at(clock, "2026-12-02T03:00:00")
    worker = Person(core.dispatcher, "worker", channel="telegram")
    worker.core_answers()
    assert worker.press("next:submit") == ["wizard.ask_campaign"]
    with reading(core.engine) as session:
        draft_id = session.exec(select(Initiative)).one().id
    offered = [f"campaign:{zone_wide}:{draft_id}", f"campaign:{company}:{draft_id}"]
    assert sorted(worker.options) == sorted(offered)
    assert worker.say(choice=f"campaign:{elsewhere}:{draft_id}") == [
        "common.pick_option",
        "wizard.ask_campaign",
    ]
    with transaction(core.engine) as session:  # the services refuse it too
        draft = session.exec(select(Initiative).where(Initiative.status == "draft")).one()
        member = session.get(Member, tree.people["worker"])
        assert member is not None
        submit = initiatives.submit
        for picked, key in ((elsewhere, "campaign.not_running"), (None, "campaign.pick_one")):
            with pytest.raises(Refused) as refused:
                submit(
                    session=session, member=member, initiative=draft, now=clock(), campaign=picked
                )
            assert refused.value.text.key == key
    assert worker.press(f"campaign:{company}") == [
        "wizard.submitted",
        "wizard.complete_later",
    ]
    with reading(core.engine) as session:
        mine = session.exec(select(Initiative).where(Initiative.status != "draft")).one()
    assert mine.campaign_id == company


def test_stats_shows_the_members_unit_standing(core: Core, clock: Clock, tree: Tree) -> None:
    worker = Person(core.dispatcher, "worker", channel="telegram")
    assert worker.say("/stats") == ["stats.no_campaign"]
    boss = organizer(core, clock, tree.zone)
    create(core, clock, boss, tree.zone)
    at(clock, "2026-12-02T03:00:00")
    submitted(core, tree, clock)
    assert worker.say("/stats") == ["stats.campaign"]
    assert worker.last is not None
    shown = core.catalogs.render(worker.last.replies[0].text, "en")
    assert "Initiatives: 1 / 2 — 50%" in shown
    assert "Your unit, Công ty A: rank 1 of 2 with 1 initiatives." in shown
    assert "1.2" not in shown and "120,000,000" in shown


def test_resubmitting_keeps_the_campaign_of_the_first_submission(
    core: Core, clock: Clock, tree: Tree
) -> None:
    boss = organizer(core, clock, tree.zone)
    campaign_id = create(core, clock, boss, tree.zone)
    at(clock, "2026-12-02T03:00:00")
    initiative_id = submitted(core, tree, clock)
    at(clock, "2026-12-20T03:00:00")  # after the campaign
    with transaction(core.engine) as session:
        initiative = session.get(Initiative, initiative_id)
        worker = session.get(Member, tree.people["worker"])
        assert initiative is not None and worker is not None
        initiative.status = initiatives.CHANGES_REQUESTED
        initiatives.submit(session=session, member=worker, initiative=initiative, now=clock())
    assert campaign_of(core, initiative_id) == campaign_id


def test_a_target_count_is_a_whole_number_up_to_a_billion() -> None:
    assert campaigns.read_target_count("1.000") == 1000
    assert campaigns.read_target_count("2 500") == 2500
    assert campaigns.read_target_count("1,000,000,000") == 10**9
    for wrong in ("0", "1.000.000.001", "mười", "-5", "²", ""):
        with pytest.raises(Refused):
            campaigns.read_target_count(wrong)


def test_a_campaign_may_end_on_its_first_day_but_not_before() -> None:
    assert campaigns.check_ends(date(2026, 12, 1), date(2026, 12, 1)) == date(2026, 12, 1)
    with pytest.raises(Refused) as refused:
        campaigns.check_ends(date(2026, 12, 2), date(2026, 12, 1))
    assert refused.value.text.key == "campaign.ends_before_start"


def test_continue_resumes_an_open_campaign_form_with_one_message(
    core: Core, clock: Clock, tree: Tree
) -> None:
    organizer(core, clock, tree.zone)
    boss = Person(core.dispatcher, "organizer", channel="telegram")
    boss.say("/campaign")
    boss.say(choice="campaign:new")
    assert boss.say("Đợt thi đua 95 ngày") == ["campaign.ask_description"]
    assert boss.say("/continue") == ["campaign.ask_description"]
    assert boss.say("/help") == ["help.text", "common.resume", "campaign.ask_description"]
    assert boss.say("/continue") == ["campaign.ask_description"]
