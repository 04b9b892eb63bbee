"""Peak emulation campaigns: who may run them, which apply, and how far they got.

An organizer runs campaigns over the subtrees they hold the organizer role for. An
initiative counts toward the campaign it was submitted in: the one campaign running
for its unit, or the one its author picked when several were running.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from sqlmodel import Session

from core.errors import Refused
from core.messages import Lines, Money, Number, t
from services import presses, roles
from services.dates import local_midnight
from services.units import path_ids
from storage import campaigns as store
from storage.models import Campaign, Initiative, Member, Unit
from storage.units import children_of, unit_by_id

ORGANIZER = "organizer"
NAME_LIMIT = 200
LONGEST = timedelta(days=3 * 366)
TARGET_COUNT_LIMIT = 10**9


@dataclass(frozen=True)
class Plan:
    """What an organizer decides about a campaign; the dates are local calendar days."""

    name: str
    description: str | None
    starts_on: date
    ends_on: date
    target_count: int | None
    target_benefit_vnd: int | None


@dataclass(frozen=True)
class Progress:
    """How far a campaign (or one unit in it) got."""

    count: int
    recognized: int
    estimated_vnd: int
    verified_vnd: int


@dataclass(frozen=True)
class Standing:
    """A unit directly under the campaign's unit, with its progress and rank."""

    unit: Unit
    progress: Progress
    rank: int


def check_name(text: str) -> str:
    """Return a campaign name with single spaces, refusing an empty or over-long one."""
    name = " ".join(text.split())
    if not name:
        raise Refused("campaign.name_empty")
    if len(name) > NAME_LIMIT:
        raise Refused("campaign.name_too_long", limit=NAME_LIMIT)
    return name


def check_ends(starts_on: date, ends_on: date) -> date:
    """Return a campaign's last day, refusing one before its first."""
    if ends_on < starts_on:
        raise Refused("campaign.ends_before_start")
    return ends_on


def read_target_count(text: str) -> int:
    """Read a target number of initiatives ("1.000", "1 000"), refusing what is none."""
    digits = text.replace(".", "").replace(",", "").replace(" ", "")
    if not digits.isascii() or not digits.isdigit():
        raise Refused("campaign.count_retry")
    count = int(digits)
    if count <= 0 or count > TARGET_COUNT_LIMIT:
        raise Refused("campaign.count_retry")
    return count


def check_plan(plan: Plan) -> Plan:
    """Return a plan with a tidy name, or refuse what cannot be a campaign."""
    name = check_name(plan.name)
    check_ends(plan.starts_on, plan.ends_on)
    if plan.ends_on - plan.starts_on > LONGEST:
        raise Refused("campaign.too_long")
    for target in (plan.target_count, plan.target_benefit_vnd):
        if target is not None and target <= 0:
            raise Refused("campaign.target_positive")
    description = (plan.description or "").strip() or None
    return Plan(
        name,
        description,
        plan.starts_on,
        plan.ends_on,
        plan.target_count,
        plan.target_benefit_vnd,
    )


def plan_of(campaign: Campaign, zone: tzinfo) -> Plan:
    """Return a campaign's plan, with its period as local calendar days."""
    return Plan(
        campaign.name,
        campaign.description,
        campaign.starts_at.astimezone(zone).date(),
        (campaign.ends_at.astimezone(zone) - timedelta(days=1)).date(),
        campaign.target_count,
        campaign.target_benefit_vnd,
    )


def _apply(campaign: Campaign, plan: Plan, zone: tzinfo) -> None:
    plan = check_plan(plan)
    campaign.name = plan.name
    campaign.description = plan.description
    campaign.starts_at = local_midnight(plan.starts_on, zone)
    campaign.ends_at = local_midnight(plan.ends_on + timedelta(days=1), zone)
    campaign.target_count = plan.target_count
    campaign.target_benefit_vnd = plan.target_benefit_vnd


def organizer_units(*, session: Session, member: Member) -> list[Unit]:
    """Return the units whose subtrees the member may run campaigns in."""
    return roles.scopes(session=session, member=member, role=ORGANIZER)


def create(
    *, session: Session, member: Member, unit: Unit, plan: Plan, zone: tzinfo, now: datetime
) -> Campaign:
    """Start a campaign over a unit's subtree, if the member organizes that subtree."""
    if not roles.holds(session=session, member=member, role=ORGANIZER, unit=unit):
        raise Refused("campaign.not_organizer")
    campaign = Campaign(
        unit_id=unit.id or 0,
        name="",
        starts_at=now,
        ends_at=now,
        created_by=member.id,
        created_at=now,
    )
    _apply(campaign, plan, zone)
    session.add(campaign)
    session.flush()
    return campaign


def manageable(*, session: Session, member: Member, campaign_id: int) -> Campaign:
    """Return a campaign the member organizes; refuse any other, whatever was pressed."""
    campaign = session.get(Campaign, campaign_id)
    unit = unit_by_id(session=session, unit_id=campaign.unit_id) if campaign else None
    if campaign is None or unit is None:
        raise Refused("campaign.not_found")
    if not roles.holds(session=session, member=member, role=ORGANIZER, unit=unit):
        raise Refused("campaign.not_organizer")
    return campaign


def pressed(*, session: Session, member: Member, campaign_id: int, opened: object) -> Campaign:
    """Return the campaign a press names if the member organizes it and it is the open one."""
    campaign = manageable(session=session, member=member, campaign_id=campaign_id)
    presses.check_open(pressed=campaign_id, opened=opened, what="campaign")
    return campaign


def change(
    *, session: Session, member: Member, campaign_id: int, plan: Plan, zone: tzinfo
) -> Campaign:
    """Change a campaign's name, description, period or targets."""
    campaign = manageable(session=session, member=member, campaign_id=campaign_id)
    if campaign.closed_at is not None:
        raise Refused("campaign.closed")
    _apply(campaign, plan, zone)
    session.add(campaign)
    session.flush()
    return campaign


def close(*, session: Session, member: Member, campaign_id: int, now: datetime) -> Campaign:
    """Close a campaign: it stops counting new initiatives from now on."""
    campaign = manageable(session=session, member=member, campaign_id=campaign_id)
    if campaign.closed_at is not None:
        raise Refused("campaign.closed")
    campaign.closed_at = now
    campaign.ends_at = min(campaign.ends_at, now)
    session.add(campaign)
    session.flush()
    return campaign


def organized_by(*, session: Session, member: Member, limit: int = 10) -> list[Campaign]:
    """Return the newest campaigns in the member's organizer subtrees."""
    scopes = organizer_units(session=session, member=member)
    return store.newest_under(session=session, paths=[u.path for u in scopes], limit=limit)


def running_for(*, session: Session, unit: Unit, at: datetime) -> list[Campaign]:
    """Return the open campaigns whose subtree holds `unit` and whose period holds `at`."""
    return store.open_over(session=session, unit_ids=path_ids(unit), at=at)


def choose(
    *, session: Session, initiative: Initiative, unit: Unit, at: datetime, picked: int | None
) -> None:
    """Set the campaign a first submission counts toward.

    One running campaign is taken without asking; with several, the author's pick
    must be one of them.
    """
    running = running_for(session=session, unit=unit, at=at)
    if picked is not None:
        if picked not in {c.id for c in running}:
            raise Refused("campaign.not_running")
        initiative.campaign_id = picked
    elif len(running) == 1:
        initiative.campaign_id = running[0].id
    elif running:
        raise Refused("campaign.pick_one")


def progress(*, session: Session, campaign: Campaign) -> Progress:
    """Return what counts toward a campaign so far."""
    return progress_of(session=session, campaigns=[campaign])[campaign.id or 0]


def progress_of(*, session: Session, campaigns: Sequence[Campaign]) -> dict[int, Progress]:
    """Return what counts toward each of the campaigns so far, by campaign id, in one query."""
    ids = [c.id or 0 for c in campaigns]
    sums = store.sums_by_campaign(session=session, campaign_ids=ids)
    return {i: Progress(*sums.get(i, (0, 0, 0, 0))) for i in ids}


def standings(*, session: Session, campaign: Campaign) -> list[Standing]:
    """Rank the units directly under the campaign's unit by initiatives counted."""
    totals = _totals(session=session, campaign=campaign)
    children = children_of(session=session, unit_id=campaign.unit_id)
    empty = Progress(0, 0, 0, 0)
    scored = sorted(
        ((unit, totals.get(unit.id or 0, empty)) for unit in children),
        key=lambda pair: (-pair[1].count, -pair[1].estimated_vnd),
    )
    counts = [p.count for _, p in scored]
    return [Standing(unit, p, counts.index(p.count) + 1) for unit, p in scored]


def _totals(*, session: Session, campaign: Campaign) -> dict[int, Progress]:
    """Sum the campaign's initiatives per unit directly under its unit."""
    unit = unit_by_id(session=session, unit_id=campaign.unit_id)
    depth = len(path_ids(unit)) if unit else 0
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    by_path = store.sums_by_unit_path(session=session, campaign_id=campaign.id or 0)
    for path, numbers in by_path.items():
        ids = [int(part) for part in path.strip("/").split("/") if part]
        if len(ids) > depth:
            row = sums[ids[depth]]
            for index, number in enumerate(numbers):
                row[index] += number
    return {key: Progress(*row) for key, row in sums.items()}


def percent(done: int, target: int | None) -> int | None:
    """Return `done` as a whole percentage of `target` (None without a target)."""
    return None if not target else done * 100 // target


def progress_text(campaign: Campaign, progress: Progress) -> Lines:
    """Return the counts and benefit against the campaign's targets."""
    count = (
        t(
            "campaign.count_of_target",
            done=Number(progress.count),
            target=Number(campaign.target_count),
            percent=percent(progress.count, campaign.target_count) or 0,
        )
        if campaign.target_count
        else t("campaign.count", done=Number(progress.count))
    )
    benefit = (
        t(
            "campaign.benefit_of_target",
            done=Money(progress.estimated_vnd),
            target=Money(campaign.target_benefit_vnd),
            percent=percent(progress.estimated_vnd, campaign.target_benefit_vnd) or 0,
        )
        if campaign.target_benefit_vnd
        else t("campaign.benefit", done=Money(progress.estimated_vnd))
    )
    recognized = t(
        "campaign.recognized",
        count=Number(progress.recognized),
        verified=Money(progress.verified_vnd),
    )
    return Lines((count, benefit, recognized))
