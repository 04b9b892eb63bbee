"""The pieces every conversation is built from: context, steps and outcomes."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from core.messages import Incoming, Option, Reply, Text
from core.settings import Settings
from locales import Catalogs
from storage.models import Member


@dataclass
class Context:
    """What a step gets: the update, its session, the member and the saved data."""

    session: Session
    incoming: Incoming
    member: Member | None
    data: dict[str, Any]
    now: datetime
    settings: Settings
    language: str
    catalogs: Catalogs
    step: str | None = None
    choice: str | None = None
    # What one step worked out that another of the same update may reuse (never saved).
    memo: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """Return the message text, stripped (empty for non-text messages)."""
        return (self.incoming.text or "").strip()


# The conversation data's record of the answer the person's latest message gave, so that
# an edit of that message can be applied to it; any later message or press drops it.
ANSWERED = "answered"


def remember_answer(ctx: Context) -> None:
    """Record that the person's message answered the current step (for an edit of it)."""
    if ctx.incoming.sent_ref is not None and ctx.step is not None:
        ctx.data[ANSWERED] = {"message": ctx.incoming.sent_ref, "step": ctx.step}


def answered_step(ctx: Context) -> str | None:
    """Return the step the edited message answered, if it is the latest answer taken."""
    answered = ctx.data.get(ANSWERED)
    if not isinstance(answered, dict) or answered.get("message") != ctx.incoming.sent_ref:
        return None
    step = answered.get("step")
    return step if isinstance(step, str) else None


@dataclass(frozen=True)
class Outcome:
    """What a step decided: the replies so far and the step to go to next.

    `step=None` ends the conversation. `ask=False` leaves the next step's question
    unasked (the replies already say everything).
    """

    step: str | None
    replies: tuple[Reply, ...] = ()
    ask: bool = True


def goto(step: str | None, *replies: Reply, ask: bool = True) -> Outcome:
    """Go to `step` (None ends the conversation) after sending `replies`."""
    return Outcome(step, replies, ask)


def end(*texts: Text) -> Outcome:
    """End the conversation with these messages."""
    return Outcome(None, tuple(Reply(text) for text in texts))


AskFn = Callable[[Context], tuple[Reply, ...]]
AnswerFn = Callable[[Context], Outcome]


@dataclass(frozen=True)
class Step:
    """A question (`ask`) and what to do with its answer (`answer`)."""

    name: str
    ask: AskFn
    answer: AnswerFn
    back: Callable[[Context], str | None] = lambda ctx: None
    # Typed text that matches no option still goes to `answer` (buttons never do).
    free_text: bool = False
    # The options `ask` shows, when asking costs more than listing them (an answer is
    # matched against the options, so without this each answer asks the question too).
    options: Callable[[Context], tuple[Option, ...]] | None = None


# Where /back leads from a step: a step's name, or a function of the context saying which.
Back = str | Callable[[Context], str | None] | None


def back_to(back: Back) -> Callable[[Context], str | None]:
    """Return a step's `back` function for a step name (or a function already)."""
    return back if callable(back) else (lambda ctx: back)


def text_step(name: str, text: Text, answer: AnswerFn, back: Back = None) -> Step:
    """Build a step that asks `text`, with no options, and takes what is typed or sent."""
    return Step(name, lambda ctx: (Reply(text),), answer, back_to(back))


@dataclass(frozen=True)
class Conversation:
    """A set of steps plus the commands that enter them."""

    name: str
    steps: Mapping[str, Step] = field(default_factory=dict)
    commands: Mapping[str, AnswerFn] = field(default_factory=dict)
    # The commands a messenger lists in its menu, with their descriptions.
    menu: Mapping[str, Text] = field(default_factory=dict)
    on_cancel: AnswerFn | None = None
    # What an edited message does while one of the steps waits (None: nothing at all).
    on_edit: AnswerFn | None = None
    # What happens on a chat event ("blocked", "removed"...): `Incoming.event` names it.
    events: Mapping[str, AnswerFn] = field(default_factory=dict)
    members_only: bool = True
    in_groups: tuple[str, ...] = ()
