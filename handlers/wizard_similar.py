"""Before a draft goes in: the initiatives like it, how this one differs, or submit anyway.

It never blocks: the worker may always submit. Each initiative is shown once per draft;
one that appears later (an edit of the title) is shown again with the others.
"""

from core.errors import Refused
from core.messages import Lines, Reply, t
from handlers import wizard_campaign
from handlers.buttons import button_step
from handlers.conversation import Context, Outcome, goto, text_step
from handlers.draft import choose, current, member, picked, save, wizard_data
from services import answers
from services.similar import like
from storage.models import Initiative
from views.labels import STATUS_LABELS

SHOWN = "similar_shown"  # the wizard data: the ids of the similar ones shown
CLOSING = "similar_closing"


def submit(ctx: Context, initiative: Initiative, closing: str) -> Outcome:
    """Show the initiatives like a first submission (once each), else submit it."""
    data = wizard_data(ctx)
    if initiative.submitted_at is None:
        found = like(session=ctx.session, member=member(ctx), initiative=initiative)
        before = data.get(SHOWN)
        shown = before if isinstance(before, list) else []
        if any(a.initiative.id not in shown for a in found):
            data[SHOWN] = [*shown, *(a.initiative.id for a in found)]
            data[CLOSING] = closing
            return goto("wizard.similar")
    return wizard_campaign.submit(ctx, initiative, closing)


def ask_similar(ctx: Context) -> tuple[Reply, ...]:
    """List the similar initiatives and ask how this one differs, or to submit anyway."""
    found = like(session=ctx.session, member=member(ctx), initiative=current(ctx))
    lines = tuple(
        t(
            "wizard.similar_line",
            id=a.initiative.id or 0,
            title=a.initiative.title or "",
            status=STATUS_LABELS.get(a.initiative.status, t("card.not_given")),
            unit=a.unit.name,
        )
        for a in found
    )
    return choose(
        ctx,
        t("wizard.similar", lines=Lines(lines)),
        ("similar:differs", t("wizard.opt_similar_differs")),
        ("similar:submit", t("wizard.opt_submit_anyway")),
    )


def on_similar(ctx: Context) -> Outcome:
    """Ask how it differs, or submit it as it is."""
    action = picked(ctx)
    initiative = current(ctx)
    if action == "similar:differs":
        return goto("wizard.differs")
    return wizard_campaign.submit(ctx, initiative, _closing(ctx))


def on_differs(ctx: Context) -> Outcome:
    """Keep how it differs (the council reads it) and submit."""
    if not ctx.text or ctx.incoming.command:
        raise Refused("wizard.need_text")
    save(ctx, answers.set_difference, ctx.text)
    return wizard_campaign.submit(ctx, current(ctx), _closing(ctx))


def _closing(ctx: Context) -> str:
    closing = str(wizard_data(ctx).get(CLOSING))
    return closing if closing in wizard_campaign.CLOSINGS else "track"


def _before(ctx: Context) -> str:
    """Where /back leads: the step the worker submitted from."""
    return "wizard.summary" if _closing(ctx) == "track" else "wizard.next"


STEPS = (
    button_step("wizard.similar", ask_similar, on_similar, _before),
    text_step("wizard.differs", t("wizard.ask_differs"), on_differs, "wizard.similar"),
)
