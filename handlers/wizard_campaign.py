"""Submitting from the wizard, with the pick of a campaign when several are running."""

from core.messages import Reply, Text, t
from core.typed import number_in
from handlers import buttons
from handlers.conversation import Context, Outcome, goto
from handlers.draft import choose, current, finish, member, picked, wizard_data
from services import campaigns, initiatives
from storage.models import Initiative
from storage.units import unit_by_id

CLOSING = "closing"
# What to add after "submitted": the summary's submit, or "submit now" before the details.
CLOSINGS: dict[str, Text] = {
    "track": t("wizard.track_with_my"),
    "later": t("wizard.complete_later"),
}


def submit(ctx: Context, initiative: Initiative, closing: str) -> Outcome:
    """Submit the draft now, or first ask which running campaign it counts toward."""
    unit = unit_by_id(session=ctx.session, unit_id=initiative.unit_id)
    if initiative.submitted_at is None and unit is not None:
        running = campaigns.running_for(session=ctx.session, unit=unit, at=ctx.now)
        if len(running) > 1:
            wizard_data(ctx)[CLOSING] = closing
            return goto("wizard.campaign")
    return _submit(ctx, initiative, None, closing)


def _submit(ctx: Context, initiative: Initiative, picked: int | None, closing: str) -> Outcome:
    initiatives.submit(
        session=ctx.session,
        member=member(ctx),
        initiative=initiative,
        now=ctx.now,
        campaign=picked,
    )
    return finish(ctx, t("wizard.submitted", id=initiative.id or 0), CLOSINGS[closing])


def ask_campaign(ctx: Context) -> tuple[Reply, ...]:
    """Offer the campaigns running for the member's unit."""
    unit = unit_by_id(session=ctx.session, unit_id=member(ctx).unit_id)
    running = campaigns.running_for(session=ctx.session, unit=unit, at=ctx.now) if unit else []
    options = ((f"campaign:{c.id}", t("campaign.option", name=c.name)) for c in running)
    return choose(ctx, t("wizard.ask_campaign"), *options)


def on_campaign(ctx: Context) -> Outcome:
    """Submit toward the picked campaign (the services check it is running)."""
    campaign = picked(ctx).removeprefix("campaign:")
    initiative = current(ctx)
    closing = str(wizard_data(ctx).get(CLOSING))
    closing = closing if closing in CLOSINGS else "track"
    number = number_in(campaign)
    return _submit(ctx, initiative, -1 if number is None else number, closing)


STEP = buttons.button_step("wizard.campaign", ask_campaign, on_campaign, "wizard.summary")
