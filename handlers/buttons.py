"""Option values that name the object they act on (`act:reject:17`), and reading them back.

A question about one object (a review card, the wizard's questions, a campaign card, an
announcement being written) puts the object's id last in each option's value. A press
on an older message of the same question then names another object: the step still
hears it (`any_object`), and the services refuse it as stale (`services.presses`)
instead of acting on whatever is open now. Typed answers match the options offered
now, so they always name the open object.
"""

from collections.abc import Callable, Sequence

from core.messages import Option, Reply, Text
from core.typed import number_in
from handlers.conversation import AnswerFn, AskFn, Back, Context, Step, back_to

DRAFTS = "drafts"  # the conversation data's counter of objects that live only there

OptionsFn = Callable[[Context], tuple[Option, ...]]


def naming(object_id: int, *options: tuple[str, Text]) -> tuple[tuple[str, Text], ...]:
    """Return the options with the object's id appended to each value."""
    return tuple((f"{value}:{object_id}", label) for value, label in options)


def split(value: str | None) -> tuple[str, int | None]:
    """Split an option value into its action and the id of the object it names, if any."""
    action, _, tail = (value or "").rpartition(":")
    object_id = number_in(tail) if action else None
    if object_id is not None:
        return action, object_id
    return value or "", None


def also_pressed(ctx: Context, offered: Sequence[Option]) -> tuple[Option, ...]:
    """Return the offered options, and the press of one of them naming another object.

    The step hears that press (a button of an older message) and refuses it as stale.
    """
    pressed = ctx.incoming.choice
    if pressed is None or any(option.value == pressed for option in offered):
        return tuple(offered)
    action, object_id = split(pressed)
    same = next((o for o in offered if split(o.value)[0] == action), None)
    if object_id is None or same is None:
        return tuple(offered)
    return (*offered, Option(pressed, same.label))


def any_object(ask: Callable[[Context], Sequence[Reply]]) -> OptionsFn:
    """Build a step's `options`: those its question offers, and `also_pressed`."""
    return lambda ctx: also_pressed(ctx, [o for reply in ask(ctx) for o in reply.options])


def button_step(name: str, ask: AskFn, answer: AnswerFn, back: Back = None) -> Step:
    """Build a step that asks with buttons naming an object: its options are what `ask`
    offers, and a press of an older message of it (`any_object`)."""
    return Step(name, ask, answer, back_to(back), options=any_object(ask))


def new_draft(ctx: Context) -> int:
    """Number an object that lives only in the conversation data, for its buttons to name."""
    number = ctx.data.get(DRAFTS)
    number = (number if isinstance(number, int) else 0) + 1
    ctx.data[DRAFTS] = number
    return number
