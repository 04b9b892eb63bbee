"""Campaigns in chat for organizers (/campaign): create, open, edit, close.

The steps collect a plan; services.campaigns checks the organizer's role again on
every create, change and close, whatever the buttons said.
"""

from collections.abc import Callable
from datetime import date
from typing import Any

from core.errors import Refused
from core.messages import Lines, Reply, Text, t
from core.typed import number_in
from handlers import amounts, buttons
from handlers.conversation import (
    AnswerFn,
    Back,
    Context,
    Conversation,
    Outcome,
    Step,
    end,
    goto,
    text_step,
)
from handlers.draft import SKIP_HINT, member, question
from handlers.wizard_core import need_text
from services import campaigns, presses
from services.campaigns import Plan
from services.dates import read_day
from storage.models import Unit
from storage.units import unit_by_id
from views.campaign import campaign_card, plan_card

KEY = "campaign"
# The next question while creating; editing an existing campaign saves after the
# last question of the group it opened (dates: start and end; targets: both).
NEXT = {
    "name": "description",
    "description": "starts",
    "starts": "ends",
    "ends": "target_count",
    "target_count": "target_benefit",
    "target_benefit": "confirm",
}
GROUP_ENDS = ("name", "description", "ends", "target_benefit")
EDITS = {
    "edit:name": ("name", t("campaign.opt_edit_name")),
    "edit:description": ("description", t("campaign.opt_edit_description")),
    "edit:dates": ("starts", t("campaign.opt_edit_dates")),
    "edit:targets": ("target_count", t("campaign.opt_edit_targets")),
}


def _data(ctx: Context) -> dict[str, Any]:
    data = ctx.data.setdefault(KEY, {})
    assert isinstance(data, dict)
    return data


def _plan(ctx: Context) -> Plan:
    data = _data(ctx)
    today = ctx.now.astimezone(ctx.settings.tz).date()
    return Plan(
        str(data.get("name") or ""),
        data.get("description"),
        date.fromisoformat(str(data.get("starts") or today.isoformat())),
        date.fromisoformat(str(data.get("ends") or today.isoformat())),
        data.get("count"),
        data.get("benefit"),
    )


def _unit(ctx: Context) -> Unit:
    unit_id = _data(ctx).get("unit")
    unit = unit_by_id(session=ctx.session, unit_id=unit_id) if isinstance(unit_id, int) else None
    if unit is None:
        raise Refused("campaign.not_found")
    return unit


def open_menu(ctx: Context) -> Outcome:
    """List the organizer's campaigns, to open one or start a new one."""
    if not campaigns.organizer_units(session=ctx.session, member=member(ctx)):
        return end(t("campaign.not_organizer"))
    ctx.data[KEY] = {}
    return goto("campaign.menu")


def ask_menu(ctx: Context) -> tuple[Reply, ...]:
    """Show the newest campaigns with a button each, and 'new campaign'."""
    listed = campaigns.organized_by(session=ctx.session, member=member(ctx))
    lines = tuple(
        t(
            "campaign.line",
            id=c.id or 0,
            name=c.name,
            starts=campaigns.plan_of(c, ctx.settings.tz).starts_on,
            ends=campaigns.plan_of(c, ctx.settings.tz).ends_on,
        )
        for c in listed
    )
    return question(
        t("campaign.menu", lines=Lines(lines) if lines else t("campaign.none_yet")),
        ("campaign:new", t("campaign.opt_new")),
        *((f"campaign:{c.id}", t("campaign.opt_open", id=c.id or 0)) for c in listed),
    )


def on_menu(ctx: Context) -> Outcome:
    """Start a new campaign, or open the picked one (checked by the services)."""
    picked = (ctx.choice or "").removeprefix("campaign:")
    if picked == "new":
        scopes = campaigns.organizer_units(session=ctx.session, member=member(ctx))
        ctx.data[KEY] = {"plan": buttons.new_draft(ctx)}
        if len(scopes) == 1:
            _data(ctx)["unit"] = scopes[0].id
        return goto("campaign.name" if len(scopes) == 1 else "campaign.unit")
    return _open(ctx, number_in(picked) or 0)


def _open(ctx: Context, campaign_id: int) -> Outcome:
    campaign = campaigns.manageable(
        session=ctx.session, member=member(ctx), campaign_id=campaign_id
    )
    plan = campaigns.plan_of(campaign, ctx.settings.tz)
    ctx.data[KEY] = {
        "id": campaign.id,
        "unit": campaign.unit_id,
        "name": plan.name,
        "description": plan.description,
        "starts": plan.starts_on.isoformat(),
        "ends": plan.ends_on.isoformat(),
        "count": plan.target_count,
        "benefit": plan.target_benefit_vnd,
    }
    return goto("campaign.card")


def ask_unit(ctx: Context) -> tuple[Reply, ...]:
    """Offer the units the member organizes."""
    scopes = campaigns.organizer_units(session=ctx.session, member=member(ctx))
    return question(
        t("campaign.ask_unit"),
        *((f"unit:{u.id}", t("campaign.option", name=u.name)) for u in scopes),
    )


def on_unit(ctx: Context) -> Outcome:
    """Take the picked unit, if the member organizes it."""
    picked = (ctx.choice or "").removeprefix("unit:")
    scopes = campaigns.organizer_units(session=ctx.session, member=member(ctx))
    unit = next((u for u in scopes if str(u.id) == picked), None)
    if unit is None:
        raise Refused("campaign.not_organizer")
    _data(ctx)["unit"] = unit.id
    return goto("campaign.name")


def _next(ctx: Context, field: str) -> Outcome:
    """Go to the next question, or save an edit of an existing campaign."""
    data = _data(ctx)
    if isinstance(data.get("id"), int) and field in GROUP_ENDS:
        campaigns.change(
            session=ctx.session,
            member=member(ctx),
            campaign_id=data["id"],
            plan=_plan(ctx),
            zone=ctx.settings.tz,
        )
        return goto("campaign.card", Reply(t("campaign.saved")))
    return goto(f"campaign.{NEXT[field]}")


def on_name(ctx: Context) -> Outcome:
    """Save the name."""
    _data(ctx)["name"] = campaigns.check_name(need_text(ctx))
    return _next(ctx, "name")


def on_description(ctx: Context) -> Outcome:
    """Save the description, or none."""
    _data(ctx)["description"] = None if ctx.incoming.command == "skip" else need_text(ctx)
    return _next(ctx, "description")


def on_starts(ctx: Context) -> Outcome:
    """Save the first day."""
    _data(ctx)["starts"] = read_day(need_text(ctx)).isoformat()
    return _next(ctx, "starts")


def on_ends(ctx: Context) -> Outcome:
    """Save the last day, which is not before the first."""
    starts = date.fromisoformat(str(_data(ctx).get("starts")))
    _data(ctx)["ends"] = campaigns.check_ends(starts, read_day(need_text(ctx))).isoformat()
    return _next(ctx, "ends")


def on_target_count(ctx: Context) -> Outcome:
    """Save the target number of initiatives, or none."""
    skipped = ctx.incoming.command == "skip"
    _data(ctx)["count"] = None if skipped else campaigns.read_target_count(need_text(ctx))
    return _next(ctx, "target_count")


def on_target_benefit(ctx: Context) -> Outcome:
    """Save the target benefit in VND, or none."""
    amount = None
    if ctx.incoming.command != "skip":
        amount = amounts.read(ctx, lambda why: Refused("campaign.benefit_retry", why=why))
        if isinstance(amount, Reply):
            return goto("campaign.target_benefit", amount)
    _data(ctx)["benefit"] = amount
    return _next(ctx, "target_benefit")


def ask_confirm(ctx: Context) -> tuple[Reply, ...]:
    """Show the plan with create / cancel."""
    options = (
        ("confirm:create", t("campaign.opt_create")),
        ("confirm:cancel", t("campaign.opt_cancel")),
    )
    return question(
        t("campaign.confirm", card=plan_card(_plan(ctx), _unit(ctx).name)),
        *buttons.naming(int(_data(ctx).get("plan") or 0), *options),
    )


def on_confirm(ctx: Context) -> Outcome:
    """Create the campaign (the services check the organizer role), or drop the plan."""
    action, named = buttons.split(ctx.choice)
    presses.check_open(pressed=named, opened=_data(ctx).get("plan"), what="campaign plan")
    if action == "confirm:cancel":
        return cancel(ctx)
    campaign = campaigns.create(
        session=ctx.session,
        member=member(ctx),
        unit=_unit(ctx),
        plan=_plan(ctx),
        zone=ctx.settings.tz,
        now=ctx.now,
    )
    ctx.data.pop(KEY, None)
    return end(t("campaign.created", id=campaign.id or 0, name=campaign.name))


def ask_card(ctx: Context) -> tuple[Reply, ...]:
    """Show an existing campaign with its progress, and what can be done with it."""
    data = _data(ctx)
    campaign = campaigns.manageable(
        session=ctx.session, member=member(ctx), campaign_id=int(data.get("id") or 0)
    )
    card = campaign_card(session=ctx.session, campaign=campaign, zone=ctx.settings.tz)
    back = ("card:back", t("campaign.opt_back"))
    if campaign.closed_at is not None:
        return question(card, *buttons.naming(campaign.id or 0, back))
    edits = ((value, label) for value, (_field, label) in EDITS.items())
    closing = ("card:close", t("campaign.opt_close"))
    return question(card, *buttons.naming(campaign.id or 0, *edits, closing, back))


def _pressed(ctx: Context) -> str:
    """Return what the press does, if it names the open campaign and the member runs it."""
    action, named = buttons.split(ctx.choice)
    campaigns.pressed(
        session=ctx.session,
        member=member(ctx),
        campaign_id=named or 0,
        opened=_data(ctx).get("id"),
    )
    return action


def on_card(ctx: Context) -> Outcome:
    """Open a question to edit, close the campaign, or go back to the list."""
    action = _pressed(ctx)
    if action == "card:back":
        ctx.data[KEY] = {}
        return goto("campaign.menu")
    if action == "card:close":
        return goto("campaign.close")
    return goto(f"campaign.{EDITS[action][0]}")


def ask_close(ctx: Context) -> tuple[Reply, ...]:
    """Ask to confirm closing the campaign."""
    options = (
        ("close:yes", t("campaign.opt_close_yes")),
        ("close:no", t("campaign.opt_close_no")),
    )
    return question(
        t("campaign.ask_close"), *buttons.naming(int(_data(ctx).get("id") or 0), *options)
    )


def on_close(ctx: Context) -> Outcome:
    """Close the campaign after a yes."""
    if _pressed(ctx) != "close:yes":
        return goto("campaign.card")
    campaign = campaigns.close(
        session=ctx.session,
        member=member(ctx),
        campaign_id=int(_data(ctx).get("id") or 0),
        now=ctx.now,
    )
    ctx.data.pop(KEY, None)
    progress = campaigns.progress(session=ctx.session, campaign=campaign)
    return end(t("campaign.closed_now", name=campaign.name, count=progress.count))


def cancel(ctx: Context) -> Outcome:
    """Leave the campaign questions; nothing unsaved is kept."""
    ctx.data.pop(KEY, None)
    return end(t("campaign.cancelled"))


def _question(
    field: str,
    text: Text,
    answer: Callable[[Context], Outcome],
    back: str,
    build: Callable[[str, Text, AnswerFn, Back], Step] = text_step,
) -> Step:
    """Build a plan question: /back leads to `back`, or to the card when editing."""

    def editing(ctx: Context) -> str:
        return "campaign.card" if isinstance(_data(ctx).get("id"), int) else back

    return build(f"campaign.{field}", text, answer, editing)


CONVERSATION = Conversation(
    name=KEY,
    steps={
        step.name: step
        for step in (
            Step("campaign.menu", ask_menu, on_menu),
            Step("campaign.unit", ask_unit, on_unit, lambda ctx: "campaign.menu"),
            _question("name", t("campaign.ask_name"), on_name, "campaign.menu"),
            _question(
                "description",
                t("campaign.ask_description", skip=SKIP_HINT),
                on_description,
                "campaign.name",
            ),
            _question("starts", t("campaign.ask_starts"), on_starts, "campaign.description"),
            _question("ends", t("campaign.ask_ends"), on_ends, "campaign.starts"),
            _question(
                "target_count",
                t("campaign.ask_target_count", skip=SKIP_HINT),
                on_target_count,
                "campaign.ends",
            ),
            _question(
                "target_benefit",
                t("campaign.ask_target_benefit", skip=SKIP_HINT),
                on_target_benefit,
                "campaign.target_count",
                amounts.amount_step,
            ),
            buttons.button_step(
                "campaign.confirm", ask_confirm, on_confirm, "campaign.target_benefit"
            ),
            buttons.button_step("campaign.card", ask_card, on_card, "campaign.menu"),
            buttons.button_step("campaign.close", ask_close, on_close, "campaign.card"),
        )
    },
    commands={"campaign": open_menu},
    menu={"campaign": t("command.campaign")},
    on_cancel=cancel,
)
