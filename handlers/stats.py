"""/stats: where the member's unit stands in the campaigns running for it."""

from core.messages import Lines, Text, t
from handlers.conversation import Context, Conversation, Outcome, end
from handlers.draft import member
from services import campaigns
from services.units import path_ids
from storage.models import Campaign
from storage.units import unit_by_id

TOP = 3


def show_stats(ctx: Context) -> Outcome:
    """Show each running campaign's progress, its leading units and the member's own."""
    unit = unit_by_id(session=ctx.session, unit_id=member(ctx).unit_id)
    running = campaigns.running_for(session=ctx.session, unit=unit, at=ctx.now) if unit else []
    if unit is None or not running:
        return end(t("stats.no_campaign"))
    return end(*(_standing(ctx, campaign, path_ids(unit)) for campaign in running))


def _standing(ctx: Context, campaign: Campaign, member_path: list[int]) -> Text:
    plan = campaigns.plan_of(campaign, ctx.settings.tz)
    progress = campaigns.progress(session=ctx.session, campaign=campaign)
    standings = campaigns.standings(session=ctx.session, campaign=campaign)
    top = tuple(
        t("stats.unit_line", rank=s.rank, unit=s.unit.name, count=s.progress.count)
        for s in standings[:TOP]
    )
    own = next((s for s in standings if s.unit.id in member_path), None)
    mine = (
        t(
            "stats.own_unit",
            unit=own.unit.name,
            rank=own.rank,
            of=len(standings),
            count=own.progress.count,
        )
        if own is not None
        else t("stats.whole_unit")
    )
    return t(
        "stats.campaign",
        name=campaign.name,
        starts=plan.starts_on,
        ends=plan.ends_on,
        progress=campaigns.progress_text(campaign, progress),
        top=Lines(top) if top else t("stats.no_units"),
        own=mine,
    )


CONVERSATION = Conversation(
    name="stats", commands={"stats": show_stats}, menu={"stats": t("command.stats")}
)
