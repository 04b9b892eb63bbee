"""What every wizard step shares: the initiative being edited and where to go next."""

from collections.abc import Callable
from dataclasses import replace
from typing import Any, Concatenate, ParamSpec, TypeVar

from core.errors import Refused
from core.messages import Option, Reply, Text, t
from handlers import buttons
from handlers.conversation import Context, Outcome, Step, end, goto, remember_answer
from services import answers, initiatives, presses
from storage import initiatives as store
from storage.models import Initiative, Member

WIZARD = "wizard"
DRAFT_MODE, AMEND_MODE = "draft", "amend"
P = ParamSpec("P")
R = TypeVar("R")


def wizard_data(ctx: Context) -> dict[str, Any]:
    """Return the wizard's part of the conversation data."""
    data = ctx.data.get(WIZARD)
    return data if isinstance(data, dict) else {}


def begin(ctx: Context, initiative: Initiative, mode: str, back_to: str | None = None) -> None:
    """Point the wizard at an initiative."""
    ctx.data[WIZARD] = {"id": initiative.id, "mode": mode, "return": back_to}


def member(ctx: Context) -> Member:
    """Return the member behind the update; wizard steps are for members only."""
    if ctx.member is None:
        raise Refused("common.join_first")
    return ctx.member


def draft_id(ctx: Context) -> int:
    """Return the id of the initiative the wizard edits."""
    initiative_id = wizard_data(ctx).get("id")
    if not isinstance(initiative_id, int):
        raise Refused("wizard.no_draft")
    return initiative_id


def choose(ctx: Context, text: Text, *options: tuple[str, Text]) -> tuple[Reply, ...]:
    """Build a question whose options name the initiative the wizard edits."""
    return question(text, *buttons.naming(draft_id(ctx), *options))


def picked(ctx: Context) -> str:
    """Return what the picked option does; refuse one naming another initiative than this."""
    action, named = buttons.split(ctx.choice)
    presses.check_open(pressed=named, opened=wizard_data(ctx).get("id"), what="initiative")
    return action


def current(ctx: Context) -> Initiative:
    """Return the initiative the wizard edits, checking the member may still edit it."""
    owner, initiative_id = member(ctx), draft_id(ctx)
    return initiatives.editable(session=ctx.session, member=owner, initiative_id=initiative_id)


def save(
    ctx: Context,
    setter: Callable[Concatenate[answers.Edit, P], R],
    *args: P.args,
    **kwargs: P.kwargs,
) -> R:
    """Save an answer to the initiative the wizard edits with its setter, which checks
    and cleans it and refuses as `current` refuses.

    A typed answer (not a command, not one of the options) is remembered, so that an
    edit of its message can replace it while it is the latest (see `wizard_edit`).
    """
    edit = answers.Edit(
        session=ctx.session, member=member(ctx), initiative_id=draft_id(ctx), now=ctx.now
    )
    result = setter(edit, *args, **kwargs)
    if ctx.choice is None and ctx.incoming.choice is None and not ctx.incoming.command:
        remember_answer(ctx)
    return result


def peek(ctx: Context) -> Initiative | None:
    """Return the initiative the wizard edits, for display only (no checks)."""
    initiative_id = wizard_data(ctx).get("id")
    return ctx.session.get(Initiative, initiative_id) if isinstance(initiative_id, int) else None


def resume_step(initiative: Initiative) -> str:
    """Return where a draft resumes: its first unanswered question, else the summary."""
    missing = initiatives.missing_core(initiative)
    return f"wizard.{missing}" if missing else "wizard.summary"


def keeping(
    step: Step, column: str, next_step: str, shown: Callable[[Any], Any] = lambda value: value
) -> Step:
    """Show the answer the draft already has with the question, and take `/keep` (or the
    word, in any language) as "keep it".

    Going back (or editing from the summary) then never makes anyone retype a long text
    to move past it; `column` holds the answer, `shown` makes it fit for showing. It is a
    command, not a button: a button left on a question the person answers by typing is
    taken off with one more call to the messenger, which costs Telegram's one message a
    second in that chat and so delays the reply by a second.
    """

    def ask(ctx: Context) -> tuple[Reply, ...]:
        replies = step.ask(ctx)
        # Only a way back to an answered question reads it: going forward, the next
        # question is new (and reading the draft for each wizard step would cost it).
        coming_back = ctx.incoming.command == "back" or wizard_data(ctx).get("return")
        answer = _shown(ctx) if coming_back else None
        if answer is None or not replies:
            return replies
        last = replies[-1]
        text = t("wizard.current_answer", question=last.text, answer=answer)
        return (*replies[:-1], replace(last, text=text))

    def _shown(ctx: Context) -> Any:
        initiative_id = wizard_data(ctx).get("id")
        if not isinstance(initiative_id, int):
            return None
        value = store.answer_of(session=ctx.session, initiative_id=initiative_id, column=column)
        return None if value is None else shown(value)

    def answer(ctx: Context) -> Outcome:
        typed = ctx.incoming.command is None and ctx.catalogs.is_word(KEEP_WORDS, ctx.text)
        if (ctx.incoming.command == "keep" or typed) and _shown(ctx) is not None:
            current(ctx)  # the member may still edit it
            return goto(advance(ctx, next_step))
        return step.answer(ctx)

    def options(ctx: Context) -> tuple[Option, ...]:
        return tuple(option for reply in step.ask(ctx) for option in reply.options)

    return replace(step, ask=ask, answer=answer, free_text=True, options=step.options or options)


KEEP_WORDS = t("wizard.words_keep")


def shortened(text: str, limit: int = 300) -> str:
    """A long answer cut to `limit` characters for showing it again."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def advance(ctx: Context, default: str) -> str:
    """Return the next step: back to the summary when editing one field, else `default`."""
    back_to = wizard_data(ctx).get("return")
    return str(back_to) if back_to else default


def back(default: str | None) -> Any:
    """Build a /back rule: to the summary when editing one field, else to `default`."""
    return lambda ctx: wizard_data(ctx).get("return") or default


def question(text: Text, *options: tuple[str, Text]) -> tuple[Reply, ...]:
    """Build a step's question with its options."""
    return (Reply(text, tuple(Option(value, label) for value, label in options)),)


def finish(ctx: Context, *texts: Text) -> Outcome:
    """Leave the wizard, forgetting which initiative it edited."""
    ctx.data.pop(WIZARD, None)
    return end(*texts)


def saved(ctx: Context, initiative: Initiative) -> None:
    """Store the changed initiative with its new timestamp."""
    initiatives.touch(session=ctx.session, initiative=initiative, now=ctx.now)


SKIP_HINT = t("wizard.skip_hint")
