"""The five answers and two taps that make a submittable initiative."""

from core.errors import Refused
from core.messages import Money, Reply, t
from handlers import amounts, buttons, wizard_similar
from handlers.conversation import Context, Outcome, goto, text_step
from handlers.draft import advance, back, choose, current, keeping, picked, save, shortened
from services import answers
from views.labels import FIELD_LABELS


def need_text(ctx: Context) -> str:
    """Return the message text, refusing photos, files and empty messages."""
    if ctx.incoming.command == "skip":
        raise Refused("wizard.cannot_skip")
    if not ctx.text or ctx.incoming.command:
        raise Refused("wizard.need_text")
    return ctx.text


def on_title(ctx: Context) -> Outcome:
    """Save the title and ask for the problem."""
    save(ctx, answers.set_title, need_text(ctx))
    return goto(advance(ctx, "wizard.problem"))


def on_problem(ctx: Context) -> Outcome:
    """Save the current problem and ask for the solution."""
    save(ctx, answers.set_problem, need_text(ctx))
    return goto(advance(ctx, "wizard.solution"))


def on_solution(ctx: Context) -> Outcome:
    """Save the solution and ask for the field."""
    save(ctx, answers.set_solution, need_text(ctx))
    return goto(advance(ctx, "wizard.field"))


def on_field(ctx: Context) -> Outcome:
    """Save the chosen field and ask for the estimated benefit."""
    save(ctx, answers.set_field, picked(ctx).removeprefix("field:"))
    return goto(advance(ctx, "wizard.benefit"))


def on_benefit(ctx: Context) -> Outcome:
    """Save the estimated annual benefit in VND (or none) and offer to submit."""
    if ctx.incoming.command == "skip":
        save(ctx, answers.set_no_benefit)
        return goto(advance(ctx, "wizard.next"), Reply(t("wizard.benefit_skipped")))
    amount = amounts.read(ctx, lambda why: Refused("wizard.benefit_retry", why=why))
    if isinstance(amount, Reply):
        return goto("wizard.benefit", amount)
    save(ctx, answers.set_benefit, amount)
    return goto(
        advance(ctx, "wizard.next"), Reply(t("wizard.benefit_saved", amount=Money(amount)))
    )


def on_next(ctx: Context) -> Outcome:
    """Submit now, or go on to the optional details."""
    action = picked(ctx)
    initiative = current(ctx)
    if action == "next:details":
        return goto("wizard.effects")
    return wizard_similar.submit(ctx, initiative, "later")


def ask_field(ctx: Context) -> tuple[Reply, ...]:
    """Offer the fields of application."""
    fields = ((f"field:{code}", label) for code, label in FIELD_LABELS.items())
    return choose(ctx, t("wizard.ask_field"), *fields)


def ask_next(ctx: Context) -> tuple[Reply, ...]:
    """Offer to submit now or to add the optional details first."""
    return choose(
        ctx,
        t("wizard.ask_next"),
        ("next:submit", t("wizard.opt_submit_now")),
        ("next:details", t("wizard.opt_add_details")),
    )


STEPS = (
    keeping(
        text_step("wizard.title", t("wizard.ask_title"), on_title, back(None)),
        "title",
        "wizard.problem",
    ),
    keeping(
        text_step("wizard.problem", t("wizard.ask_problem"), on_problem, back("wizard.title")),
        "problem",
        "wizard.solution",
        shortened,
    ),
    keeping(
        text_step(
            "wizard.solution", t("wizard.ask_solution"), on_solution, back("wizard.problem")
        ),
        "solution",
        "wizard.field",
        shortened,
    ),
    buttons.button_step("wizard.field", ask_field, on_field, back("wizard.solution")),
    keeping(
        amounts.amount_step(
            "wizard.benefit", t("wizard.ask_benefit"), on_benefit, back("wizard.field")
        ),
        "estimated_benefit_vnd",
        "wizard.next",
        Money,
    ),
    buttons.button_step("wizard.next", ask_next, on_next, "wizard.benefit"),
)
