"""The council's queue in chat (/review): open a card, then approve, send back or reject.

Every decision goes through services.review, which checks the reviewer's role again:
the options here only offer what makes sense, they prove nothing.
"""

from typing import Any

from core.errors import Refused
from core.messages import Lines, Money, Reply, SharedFile, Text, t
from core.status import Status
from core.typed import number_in
from handlers import amounts, buttons
from handlers.conversation import Context, Conversation, Outcome, Step, end, goto, text_step
from handlers.draft import member, question
from handlers.review_queue import (
    KEY,
    ask_filter,
    ask_pick,
    on_filter,
    on_pick,
    open_queue,
    review_data,
)
from handlers.wizard_core import need_text
from services import forms, review, reward, similar
from services.initiatives import allows
from services.levels import LEVEL_LABELS, LEVELS
from services.similar import Alike
from storage.models import Initiative
from views.cards import history, initiative_card
from views.form_pdf import form_reply
from views.similar import similar_card, similar_items, with_similar


def _opened(ctx: Context, action: str) -> Initiative:
    """Return the initiative the reviewer opened, checked again by the services."""
    initiative_id = review_data(ctx).get("id")
    if not isinstance(initiative_id, int):
        raise Refused("review.not_found")
    initiative, _ = review.reviewable(
        session=ctx.session, member=member(ctx), initiative_id=initiative_id, action=action
    )
    return initiative


def _pressed(ctx: Context, action: str) -> tuple[str, Initiative]:
    """Return what the press does and the initiative it names, if it is the one opened."""
    chosen, named = buttons.split(ctx.choice)
    initiative = review.pressed(
        session=ctx.session,
        member=member(ctx),
        initiative_id=named or 0,
        opened=review_data(ctx).get("id"),
        action=action,
    )
    return chosen, initiative


def card(ctx: Context, initiative: Initiative) -> Text:
    """The reviewer's card: everything, or title, effects and level when confidential
    and reviewed above the council it was first recognized by."""
    lines = history(session=ctx.session, initiative=initiative)
    if not review.in_full(initiative):
        return t(
            "review.card_confidential",
            id=initiative.id or 0,
            title=initiative.title or "",
            effects=initiative.other_effects or t("card.not_given"),
            benefit=Money(initiative.verified_benefit_vnd or 0),
            level=LEVEL_LABELS[initiative.level or LEVELS[0]],
            history=lines,
        )
    return t(
        "review.card",
        card=initiative_card(session=ctx.session, initiative=initiative),
        history=lines,
    )


def _similar(ctx: Context, initiative: Initiative) -> list[Alike]:
    """The card's look-alikes, found once per update: a press is matched against the
    card's options, then answered, and approving a look-alike asks once more."""
    key = f"similar:{initiative.id}"
    if key not in ctx.memo:
        ctx.memo[key] = similar.for_review(
            session=ctx.session, reviewer=member(ctx), initiative_id=initiative.id or 0
        )
    found: list[Alike] = ctx.memo[key]
    return found


def ask_card(ctx: Context) -> tuple[Reply, ...]:
    """Show the card with the decisions, and the initiatives like it to open."""
    initiative = _opened(ctx, "open")
    alike = _similar(ctx, initiative)
    options = [("act:approve", t("review.opt_approve"))]
    files = review.attachments_for(
        session=ctx.session, member=member(ctx), initiative_id=initiative.id or 0
    )
    if files:
        options.insert(0, ("act:files", t("review.opt_files", count=len(files))))
    if allows(initiative.status, Status.CHANGES_REQUESTED):
        options.append(("act:changes", t("review.opt_changes")))
    options.append(("act:reject", t("review.opt_reject")))
    if review.in_full(initiative):
        options.append(("act:form", t("review.opt_form")))
    options += [
        (f"sim:{a.initiative.id}", t("review.opt_similar", id=a.initiative.id)) for a in alike
    ]
    options.append(("act:back", t("review.opt_back")))
    return question(_card(ctx, initiative, alike), *buttons.naming(initiative.id or 0, *options))


def _card(ctx: Context, initiative: Initiative, alike: list[Alike]) -> Text:
    """The card with the initiatives like it (and how the authors say theirs differs)."""
    difference = initiative.difference if review.in_full(initiative) else None
    return with_similar(card(ctx, initiative), alike, difference)


ACTIONS = {
    "act:approve": ("review.benefit", t("review.opt_approve")),
    "act:changes": ("review.comment", t("review.opt_changes")),
    "act:reject": ("review.reason", t("review.opt_reject")),
    "act:back": ("review.pick", t("review.opt_back")),
}


def _files(ctx: Context, initiative: Initiative) -> Reply:
    """The attachments this reviewer may see, sent on by their file ids."""
    attachments = review.attachments_for(
        session=ctx.session, member=member(ctx), initiative_id=initiative.id or 0
    )
    shared = tuple(
        SharedFile(
            "photo" if a.kind == "photo" else "document", a.channel, a.file_ref, a.file_name
        )
        for a in attachments
    )
    return Reply(t("review.files", count=len(shared)), files=shared)


def _form(ctx: Context, initiative: Initiative) -> Reply:
    """The application form (DOCX and PDF), if this reviewer may have it."""
    form = forms.for_member(
        session=ctx.session, member=member(ctx), initiative_id=initiative.id or 0
    )
    return form_reply(form, catalogs=ctx.catalogs, zone=ctx.settings.tz)


def on_card(ctx: Context) -> Outcome:
    """Go to the chosen decision's question; the card keeps the choice, without buttons."""
    action, initiative = _pressed(ctx, "open")
    if action == "act:files":
        return goto("review.card", _files(ctx, initiative), ask=False)
    if action == "act:form":
        return goto("review.card", _form(ctx, initiative), ask=False)
    if action.startswith("sim:"):
        return goto("review.card", _open_similar(ctx, initiative, action), ask=False)
    step, label = ACTIONS.get(action, ACTIONS["act:back"])
    alike = _similar(ctx, initiative)
    if action == "act:approve" and alike:
        step = "review.duplicate"  # one more confirmation before approving a look-alike
    shown = _card(ctx, initiative, alike)
    chosen = Reply(t("review.chosen", card=shown, action=label), edit=True)
    return goto(step, chosen)


def _open_similar(ctx: Context, initiative: Initiative, action: str) -> Reply:
    wanted = action.removeprefix("sim:")
    opened = similar.opened_for_review(
        session=ctx.session,
        reviewer=member(ctx),
        initiative_id=initiative.id or 0,
        similar_id=number_in(wanted) or 0,
    )
    return Reply(similar_card(opened))


def ask_duplicate(ctx: Context) -> tuple[Reply, ...]:
    """Ask once more before approving an initiative like others of the organization."""
    initiative = _opened(ctx, "approve")
    options = (
        ("dup:approve", t("review.opt_approve_anyway")),
        ("dup:back", t("review.opt_back_to_card")),
    )
    return question(
        t("review.ask_duplicate", similar=similar_items(_similar(ctx, initiative))),
        *buttons.naming(initiative.id or 0, *options),
    )


def on_duplicate(ctx: Context) -> Outcome:
    """Go on to the verified benefit, or back to the card."""
    if _pressed(ctx, "approve")[0] == "dup:approve":
        return goto("review.benefit")
    return goto("review.card")


def on_benefit(ctx: Context) -> Outcome:
    """Take the verified annual benefit in VND (/skip: none can be computed)."""
    _opened(ctx, "approve")
    if ctx.incoming.command == "skip":
        review_data(ctx)["benefit"] = None
        return goto("review.level")
    amount = amounts.read(ctx, lambda why: Refused("review.benefit_retry", why=why))
    if isinstance(amount, Reply):
        return goto("review.benefit", amount)
    review_data(ctx)["benefit"] = amount
    return goto("review.level")


def ask_level(ctx: Context) -> tuple[Reply, ...]:
    """Offer the levels above the one already reached that this council may award."""
    initiative_id = int(review_data(ctx).get("id") or 0)
    allowed = review.levels_for(
        session=ctx.session, member=member(ctx), initiative_id=initiative_id
    )
    levels = ((f"level:{code}", LEVEL_LABELS[code]) for code in allowed)
    return question(t("review.ask_level"), *buttons.naming(initiative_id, *levels))


def on_level(ctx: Context) -> Outcome:
    """Approve with the level and benefit; show the reward suggestion."""
    level = _pressed(ctx, "approve")[0].removeprefix("level:")
    benefit = review_data(ctx).get("benefit")
    suggestion = review.approve(
        **_decision(ctx),
        benefit_vnd=benefit if isinstance(benefit, int) else None,
        level=level,
    )
    done = Reply(t("review.approved", reward=_suggestion(suggestion)), edit=True)
    return goto("review.after", done)


def _suggestion(suggestion: reward.Suggestion) -> Text:
    if suggestion.total_vnd is None:
        return t("reward.unknown")
    lines = tuple(
        t("review.reward_share", name=a.name or t("card.anonymous"), amount=Money(amount))
        for a, amount in suggestion.shares
    )
    total, shares = Money(suggestion.total_vnd), Lines(lines)
    if suggestion.per_year:
        return t(
            "review.reward_per_year",
            total=total,
            years=reward.YEARS,
            rate=suggestion.rate_percent,
            due=review.due(suggestion),
            shares=shares,
        )
    return t("review.reward_once", total=total, shares=shares)


def on_after(ctx: Context) -> Outcome:
    """Recommend the approved initiative to the next council up, or stop here."""
    text = t("review.done")
    if _pressed(ctx, "recommend")[0] == "after:recommend":
        superior = review.recommend(**_decision(ctx))
        text = t("review.recommended", unit=superior.name)
    ctx.data.pop(KEY, None)
    return goto(None, Reply(text, edit=True))


def on_comment(ctx: Context) -> Outcome:
    """Send the initiative back to its authors with the comment."""
    review.request_changes(**_decision(ctx), comment=need_text(ctx))
    return _finish(ctx, t("review.changes_sent"))


def on_reason(ctx: Context) -> Outcome:
    """Reject the initiative; the reason goes to its authors."""
    review.reject(**_decision(ctx), reason=need_text(ctx))
    return _finish(ctx, t("review.rejected"))


def _decision(ctx: Context) -> dict[str, Any]:
    """What every decision on the opened initiative is called with."""
    return {
        "session": ctx.session,
        "reviewer": member(ctx),
        "initiative_id": int(review_data(ctx).get("id") or 0),
        "now": ctx.now,
    }


def ask_after(ctx: Context) -> tuple[Reply, ...]:
    """Offer to recommend the approved initiative to the next council up."""
    options = (
        ("after:recommend", t("review.opt_recommend")),
        ("after:done", t("review.opt_done")),
    )
    return question(
        t("review.ask_after"), *buttons.naming(int(review_data(ctx).get("id") or 0), *options)
    )


def _finish(ctx: Context, done: Text) -> Outcome:
    ctx.data.pop(KEY, None)
    return end(done)


def _end(ctx: Context) -> Outcome:
    return _finish(ctx, t("review.done"))


CONVERSATION = Conversation(
    name=KEY,
    steps={
        step.name: step
        for step in (
            Step("review.pick", ask_pick, on_pick),
            Step("review.filter", ask_filter, on_filter, lambda ctx: "review.pick"),
            buttons.button_step("review.card", ask_card, on_card, "review.pick"),
            buttons.button_step("review.duplicate", ask_duplicate, on_duplicate, "review.card"),
            amounts.amount_step(
                "review.benefit", t("review.ask_benefit"), on_benefit, "review.card"
            ),
            buttons.button_step("review.level", ask_level, on_level, "review.benefit"),
            buttons.button_step("review.after", ask_after, on_after),
            text_step("review.comment", t("review.ask_comment"), on_comment, "review.card"),
            text_step("review.reason", t("review.ask_reason"), on_reason, "review.card"),
        )
    },
    commands={"review": open_queue},
    menu={"review": t("command.review")},
    on_cancel=_end,
)
