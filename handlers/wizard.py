"""The submission wizard (/new): entry, summary, editing one field, and amending later."""

from core.messages import Reply, t
from core.status import Status
from handlers import (
    buttons,
    wizard_campaign,
    wizard_core,
    wizard_details,
    wizard_edit,
    wizard_similar,
)
from handlers.conversation import Context, Conversation, Outcome, end, goto
from handlers.draft import (
    DRAFT_MODE,
    WIZARD,
    begin,
    choose,
    current,
    finish,
    member,
    peek,
    picked,
    question,
    resume_step,
    wizard_data,
)
from services import initiatives, presses
from storage import initiatives as store
from views.cards import history, initiative_card

EDITABLE = {
    "title": ("wizard.title", t("edit.title")),
    "problem": ("wizard.problem", t("edit.problem")),
    "solution": ("wizard.solution", t("edit.solution")),
    "field": ("wizard.field", t("edit.field")),
    "benefit": ("wizard.benefit", t("edit.benefit")),
    "effects": ("wizard.effects", t("edit.effects")),
    "coauthors": ("wizard.coauthors_choice", t("edit.coauthors")),
    "applied": ("wizard.applied", t("edit.applied")),
    "attachments": ("wizard.attachments", t("edit.attachments")),
    "confidential": ("wizard.confidential", t("edit.confidential")),
}
DETAILS = ("effects", "coauthors", "applied", "attachments", "confidential")


def start(ctx: Context) -> Outcome:
    """Start a new draft, or offer to continue the unfinished one."""
    if store.draft_of(session=ctx.session, member_id=member(ctx).id or 0):
        return goto("wizard.draft_exists")
    draft = initiatives.start_draft(session=ctx.session, member=member(ctx), now=ctx.now)
    begin(ctx, draft, DRAFT_MODE)
    return goto("wizard.title", Reply(t("wizard.intro")))


def resume(ctx: Context) -> Outcome:
    """Continue what was interrupted (a draft, a campaign form...), else the unfinished draft."""
    if ctx.step:
        return goto(ctx.step)
    suspended = ctx.data.get("suspended")
    if isinstance(suspended, str) and suspended:
        return goto(suspended)
    draft = store.draft_of(session=ctx.session, member_id=member(ctx).id or 0)
    if draft is None:
        return end(t("wizard.nothing_to_continue"))
    begin(ctx, draft, DRAFT_MODE)
    return goto(resume_step(draft), Reply(t("common.resume")))


def ask_draft_exists(ctx: Context) -> tuple[Reply, ...]:
    """Offer to continue the unfinished draft, or to discard it and start afresh."""
    draft = store.draft_of(session=ctx.session, member_id=member(ctx).id or 0)
    options = (
        ("draft:continue", t("wizard.opt_continue")),
        ("draft:new", t("wizard.opt_discard_new")),
    )
    draft_id = (draft.id or 0) if draft is not None else 0  # gone: an answer starts afresh
    return question(t("wizard.ask_draft_exists"), *buttons.naming(draft_id, *options))


def on_draft_exists(ctx: Context) -> Outcome:
    """Continue the old draft, or discard it and start afresh."""
    draft = store.draft_of(session=ctx.session, member_id=member(ctx).id or 0)
    if draft is None:
        return start(ctx)
    action, named = buttons.split(ctx.choice)
    presses.check_open(pressed=named, opened=draft.id, what="draft")
    begin(ctx, draft, DRAFT_MODE)
    if action == "draft:continue":
        return goto(resume_step(draft))
    wizard_data(ctx)["discard"] = "wizard.draft_exists"  # then starts afresh
    return goto("wizard.discard")


def ask_summary(ctx: Context) -> tuple[Reply, ...]:
    """Show the whole draft with submit / edit / cancel."""
    initiative = peek(ctx)
    if initiative is None:
        return (Reply(t("wizard.no_draft")),)
    return choose(
        ctx,
        t("wizard.summary", card=initiative_card(session=ctx.session, initiative=initiative)),
        ("summary:submit", t("wizard.opt_submit")),
        ("summary:edit", t("wizard.opt_edit")),
        ("summary:discard", t("wizard.opt_discard")),
    )


def on_summary(ctx: Context) -> Outcome:
    """Submit the draft, pick a field to edit, or ask to discard the draft."""
    action = picked(ctx)
    initiative = current(ctx)
    if action == "summary:edit":
        return goto("wizard.edit")
    if action == "summary:discard":
        wizard_data(ctx)["discard"] = "wizard.summary"
        return goto("wizard.discard")
    return wizard_similar.submit(ctx, initiative, "track")


def ask_discard(ctx: Context) -> tuple[Reply, ...]:
    """Ask to confirm that the draft goes, with all that was written in it."""
    return choose(
        ctx,
        t("wizard.ask_discard"),
        ("discard:yes", t("wizard.opt_discard_yes")),
        ("discard:no", t("wizard.opt_discard_no")),
    )


def on_discard(ctx: Context) -> Outcome:
    """Discard the draft after a yes (and start afresh if /new asked); a no goes back."""
    action = picked(ctx)
    asked_from = str(wizard_data(ctx).pop("discard", None) or "wizard.summary")
    if action == "discard:no":
        return goto(asked_from)
    initiatives.discard(session=ctx.session, member=member(ctx), initiative=current(ctx))
    if asked_from == "wizard.draft_exists":
        return start(ctx)
    return finish(ctx, t("wizard.discarded"))


def ask_edit(ctx: Context) -> tuple[Reply, ...]:
    """Offer every part of the draft to edit."""
    parts = ((f"edit:{name}", label) for name, (_step, label) in EDITABLE.items())
    return choose(ctx, t("wizard.ask_edit"), *parts)


def on_edit(ctx: Context) -> Outcome:
    """Open the chosen field's question; its answer returns to the summary."""
    step, _label = EDITABLE[picked(ctx).removeprefix("edit:")]
    current(ctx)
    wizard_data(ctx)["return"] = "wizard.summary"
    return goto(step)


def ask_amend(ctx: Context) -> tuple[Reply, ...]:
    """Show a submitted initiative with the details that can still be completed."""
    initiative = peek(ctx)
    if initiative is None:
        return (Reply(t("wizard.no_draft")),)
    missing = initiatives.missing_details(session=ctx.session, initiative=initiative)
    sent_back = initiative.status == Status.CHANGES_REQUESTED
    names = EDITABLE if sent_back else DETAILS  # the council asked: everything may change
    options = [(f"amend:{name}", EDITABLE[name][1]) for name in names]
    if sent_back:
        options.append(("amend:resubmit", t("wizard.opt_resubmit")))
    options.append(("amend:done", t("wizard.opt_done")))
    return question(
        t(
            "wizard.amend",
            card=initiative_card(session=ctx.session, initiative=initiative),
            history=history(session=ctx.session, initiative=initiative),
            missing=len(missing),
        ),
        *buttons.naming(initiative.id or 0, *options),
    )


def on_amend(ctx: Context) -> Outcome:
    """Open the chosen detail of a submitted initiative, or finish."""
    action = picked(ctx)
    initiative = current(ctx)
    if action == "amend:done":
        return finish(ctx, t("wizard.amend_saved"))
    if action == "amend:resubmit":
        initiatives.submit(
            session=ctx.session, member=member(ctx), initiative=initiative, now=ctx.now
        )
        return finish(ctx, t("wizard.resubmitted", id=initiative.id or 0))
    wizard_data(ctx)["return"] = "wizard.amend"
    return goto(EDITABLE[action.removeprefix("amend:")][0])


def cancel(ctx: Context) -> Outcome:
    """Stop: what was answered stays saved, a draft waits for /continue.

    Nothing is deleted here: discarding a draft is the summary's confirmed choice.
    """
    initiative = peek(ctx)
    if initiative is not None and initiative.status == Status.DRAFT:
        return finish(ctx, t("wizard.stopped"))
    return finish(ctx, t("wizard.amend_saved"))


CONVERSATION = Conversation(
    name=WIZARD,
    steps={
        step.name: step
        for step in (
            *wizard_core.STEPS,
            *wizard_details.STEPS,
            *wizard_similar.STEPS,
            buttons.button_step("wizard.draft_exists", ask_draft_exists, on_draft_exists),
            buttons.button_step("wizard.summary", ask_summary, on_summary, "wizard.confidential"),
            buttons.button_step("wizard.edit", ask_edit, on_edit, "wizard.summary"),
            buttons.button_step("wizard.discard", ask_discard, on_discard, "wizard.summary"),
            buttons.button_step("wizard.amend", ask_amend, on_amend),
            wizard_campaign.STEP,
        )
    },
    commands={"new": start, "continue": resume},
    menu={"new": t("command.new"), "continue": t("command.continue")},
    on_cancel=cancel,
    on_edit=wizard_edit.on_edit,
)
