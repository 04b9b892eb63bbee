"""An amount of VND asked for in a conversation: typed, or picked among its readings.

"300-500 triệu", "200" and "1.500 triệu" are not refused outright: the reply says what
they may mean and the question is asked again with those amounts as options, so one
tap answers it. The amounts offered live in the conversation data until the next answer,
with the step they answer: a conversation left meanwhile (/cancel) does not carry them to
another amount question.
"""

from collections.abc import Callable

from core.errors import Refused
from core.messages import Money, Option, Reply, Text, t
from core.money import MAX_VND, MoneyError, parse_vnd
from handlers.conversation import AnswerFn, Back, Context, Step, back_to
from views.labels import money_problem

OFFERED = "amounts"
PREFIX = "amount:"


def _offered_at(ctx: Context, step: str | None) -> list[int] | None:
    """The amounts offered at `step`, if the last answer there offered some."""
    kept = ctx.data.get(OFFERED)
    if not isinstance(kept, dict) or kept.get("step") != step:
        return None
    amounts = kept.get("amounts")
    return amounts if isinstance(amounts, list) else None


def offered(ctx: Context, step: str) -> tuple[Option, ...]:
    """The amounts the last answer to `step` may have meant, as options of the question."""
    amounts = _offered_at(ctx, step)
    if amounts is None:
        return ()
    return tuple(Option(f"{PREFIX}{vnd}", t("money.amount", amount=Money(vnd))) for vnd in amounts)


def read(ctx: Context, retry: Callable[[Text], Refused]) -> int | Reply:
    """The amount picked or typed; or, when it may mean several, the reply that asks which.

    A typed text that is no amount is refused with what `retry` makes of the reason.
    """
    amounts = _offered_at(ctx, ctx.step)
    ctx.data.pop(OFFERED, None)
    if ctx.choice and ctx.choice.startswith(PREFIX):
        vnd = int(ctx.choice.removeprefix(PREFIX))
        if amounts is None or vnd not in amounts or not 0 < vnd <= MAX_VND:
            raise Refused("common.stale_button")
        return vnd
    if not ctx.text or ctx.incoming.command:
        raise Refused("wizard.need_text")
    try:
        return parse_vnd(ctx.text, ctx.language)
    except MoneyError as error:
        if not error.options:
            raise retry(money_problem(error)) from error
        ctx.data[OFFERED] = {"step": ctx.step, "amounts": list(error.options)}
        return Reply(money_problem(error))


def amount_step(name: str, text: Text, answer: AnswerFn, back: Back = None) -> Step:
    """Build a step that asks for an amount: typed, or one of the amounts last offered."""
    return Step(
        name, lambda ctx: (Reply(text, offered(ctx, name)),), answer, back_to(back), free_text=True
    )
