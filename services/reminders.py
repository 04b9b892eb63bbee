"""Reminders: what is due is read from the database, and each goes out once.

Campaign milestones (launch, midpoint, a week and a day before the end, results) go
to every member of the participating units; a draft idle for a day reminds its
author once; a review waiting past its unit's SLA reminds the council, and after twice
the SLA its leaders. A `Reminder` row, written with the notices in one transaction,
is what makes each go out once, whichever process runs the job and however often.
Reminders are not urgent: none is queued in quiet hours (they wait for the morning).
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from sqlmodel import Session

from core.messages import Reply, Text, t
from services import campaigns, notices, roles
from services.initiatives import DRAFT as DRAFT_STATUS
from services.initiatives import UNDER_REVIEW, WAITING
from storage import reminders as store
from storage.models import Campaign, Initiative, Member, StatusChange, Unit
from storage.units import unit_by_id

IDLE_DRAFT = timedelta(hours=24)
BATCH = 500
LAUNCH, MIDPOINT, WEEK, DAY, RESULTS = (
    "campaign.launch",
    "campaign.midpoint",
    "campaign.week",
    "campaign.day",
    "campaign.results",
)
MILESTONES = (LAUNCH, MIDPOINT, WEEK, DAY, RESULTS)
DRAFT, OVERDUE, ESCALATED = "draft.idle", "review.overdue", "review.escalated"


@dataclass(frozen=True)
class Due:
    """One reminder to send now; `skip` records it without sending (a later one is due)."""

    kind: str
    subject_id: int
    skip: bool = False


def quiet(now: datetime, zone: tzinfo, hours: tuple[time, time]) -> bool:
    """Tell whether `now` falls in the quiet hours (local time; they may span midnight)."""
    start, end = hours
    local = now.astimezone(zone).time()
    if start == end:
        return False
    return start <= local < end if start < end else local >= start or local < end


def milestone_times(campaign: Campaign) -> dict[str, datetime]:
    """Return when each milestone of a campaign falls (a week before only if it fits)."""
    starts, ends = campaign.starts_at, campaign.ends_at
    times = {
        LAUNCH: starts,
        MIDPOINT: starts + (ends - starts) / 2,
        WEEK: ends - timedelta(days=7),
        DAY: ends - timedelta(days=1),
        RESULTS: ends,
    }
    return {kind: at for kind, at in times.items() if kind in (LAUNCH, RESULTS) or at > starts}


def due(*, session: Session, now: datetime, sla_days: int) -> list[Due]:
    """Return every reminder whose time has come and that has not gone out."""
    return [
        *_campaigns_due(session, now),
        *_drafts_due(session, now),
        *_reviews_due(session, now, sla_days),
    ]


def _campaigns_due(session: Session, now: datetime) -> list[Due]:
    started = store.campaigns_started(session=session, now=now, last_kind=RESULTS)
    sent = store.sent_among(
        session=session, kinds=MILESTONES, subject_ids=[c.id or 0 for c in started]
    )
    found: list[Due] = []
    for campaign in started:
        passed = [
            kind
            for kind, at in milestone_times(campaign).items()
            if at <= now and (kind, campaign.id) not in sent
        ]
        # Only the latest of the milestones that passed still makes sense to send.
        found += [Due(kind, campaign.id or 0, skip=kind != passed[-1]) for kind in passed]
    return found


def _drafts_due(session: Session, now: datetime) -> list[Due]:
    idle = store.idle_drafts(
        session=session, status=DRAFT_STATUS, idle_since=now - IDLE_DRAFT, kind=DRAFT, limit=BATCH
    )
    return [Due(DRAFT, initiative_id) for initiative_id in idle]


def _reviews_due(session: Session, now: datetime, sla_days: int) -> list[Due]:
    """Find waiting initiatives by the status change that made them wait.

    A council member opening one puts it under review: still the same wait, so that
    change neither restarts the SLA nor makes a new subject to remind of.
    """
    found: list[Due] = []
    waits = store.waits(
        session=session,
        waiting=WAITING,
        not_restarting=(UNDER_REVIEW,),
        kinds=(OVERDUE, ESCALATED),
    )
    for change_id, at, unit_id, sent in waits:
        unit = unit_by_id(session=session, unit_id=unit_id or 0)
        sla = timedelta(days=sla_for(session=session, unit=unit, default=sla_days))
        for kind, after in ((OVERDUE, sla), (ESCALATED, 2 * sla)):
            if at + after <= now and kind not in sent:
                found.append(Due(kind, change_id))
    return found[:BATCH]


def sla_for(*, session: Session, unit: Unit | None, default: int) -> int:
    """Return a unit's review SLA in days: its own, the nearest ancestor's, or `default`."""
    while unit is not None:
        if unit.review_sla_days:
            return unit.review_sla_days
        unit = unit_by_id(session=session, unit_id=unit.parent_id) if unit.parent_id else None
    return default


def send(*, session: Session, item: Due, now: datetime, zone: tzinfo) -> int:
    """Record a reminder and queue its notices in the caller's transaction.

    Recording first makes a second sender fail on the row's key (and roll back)
    instead of queuing the notices again. Returns how many notices were queued.
    """
    record = store.record(session=session, kind=item.kind, subject_id=item.subject_id, now=now)
    if item.skip:
        return 0
    if item.kind in MILESTONES:
        recipients = _milestone(session, item, now, zone)
    elif item.kind == DRAFT:
        recipients = _idle_draft(session, item.subject_id, now)
    else:
        recipients = _overdue(session, item, now)
    store.count_recipients(session=session, reminder=record, recipients=recipients)
    return recipients


def _milestone(session: Session, item: Due, now: datetime, zone: tzinfo) -> int:
    campaign = session.get(Campaign, item.subject_id)
    unit = unit_by_id(session=session, unit_id=campaign.unit_id) if campaign else None
    if campaign is None or unit is None:
        return 0
    progress = campaigns.progress_text(
        campaign, campaigns.progress(session=session, campaign=campaign)
    )
    last_day = campaigns.plan_of(campaign, zone).ends_on
    texts: dict[str, Text] = {
        LAUNCH: t("reminder.campaign_launch", name=campaign.name, ends=last_day),
        MIDPOINT: t("reminder.campaign_midpoint", name=campaign.name, progress=progress),
        WEEK: t("reminder.campaign_week", name=campaign.name, progress=progress),
        DAY: t("reminder.campaign_day", name=campaign.name, progress=progress),
        RESULTS: t("reminder.campaign_results", name=campaign.name, progress=progress),
    }
    return notices.to_members_in(
        session=session, unit=unit, reply=Reply(texts[item.kind]), now=now
    )


def _idle_draft(session: Session, initiative_id: int, now: datetime) -> int:
    draft = session.get(Initiative, initiative_id)
    author = session.get(Member, draft.submitter_id) if draft and draft.submitter_id else None
    if draft is None or author is None or draft.status != DRAFT_STATUS:
        return 0
    reply = Reply(t("reminder.draft_idle", title=draft.title or "…"))
    return int(notices.to_member(session=session, member=author, reply=reply, now=now))


def _overdue(session: Session, item: Due, now: datetime) -> int:
    change = session.get(StatusChange, item.subject_id)
    initiative = session.get(Initiative, change.initiative_id) if change else None
    unit = (
        unit_by_id(session=session, unit_id=initiative.review_unit_id or 0) if initiative else None
    )
    if change is None or initiative is None or unit is None:
        return 0
    days = (now - change.at).days
    title = initiative.title or ""
    if item.kind == OVERDUE:
        reply = Reply(t("reminder.review_overdue", title=title, days=days, unit=unit.name))
        return notices.to_reviewers(session=session, unit=unit, reply=reply, now=now, skip=set())
    leaders_unit = roles.nearest_with(session=session, unit=unit, role="leader")
    if leaders_unit is None:
        return 0
    reply = Reply(t("reminder.review_escalated", title=title, days=days, unit=unit.name))
    return sum(
        notices.to_member(session=session, member=leader, reply=reply, now=now)
        for leader in notices.holders(session=session, unit=leaders_unit, role="leader")
    )
