"""An edited message during the wizard: the latest typed answer takes the edit, checked as
its question checks an answer; an edit of an earlier message is not applied."""

from core.messages import Reply, t
from handlers import wizard_core, wizard_details
from handlers.conversation import Context, Outcome, answered_step, goto

# The questions a typed answer is remembered for (see `draft.save`).
TYPED = {step.name: step for step in (*wizard_core.STEPS, *wizard_details.STEPS)}


def on_edit(ctx: Context) -> Outcome:
    """Apply the edit to the answer its message gave, if no answer came after it."""
    here = ctx.step
    step = TYPED.get(answered_step(ctx) or "")
    if step is None:
        return goto(here, Reply(t("wizard.edit_not_applied")), ask=False)
    ctx.step = step.name  # answered again, as that question: the same checks, the same field
    try:
        answer = step.answer(ctx)
    finally:
        ctx.step = here
    if answer.step == step.name:  # asked again: an amount it may mean several ways
        return goto(here, Reply(t("wizard.edit_unclear")), ask=False)
    return goto(here, Reply(t("wizard.edit_applied")), *answer.replies, ask=False)
