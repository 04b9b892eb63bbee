"""Route each update to exactly one conversation step (or command, or chat event).

The router runs inside the transaction the dispatcher opened; a step that refuses
raises `Redo`, and the dispatcher rolls its writes back and asks again.
"""

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial

from sqlmodel import Session

from core.errors import Refused
from core.messages import Incoming, Link, Reply, Response, Text, t
from core.settings import Settings
from handlers.conversation import ANSWERED, AnswerFn, Context, Conversation, Outcome, Step, goto
from locales import Catalogs
from storage import outbox
from storage.conversations import State
from storage.models import Member

logger = logging.getLogger(__name__)
STEP_COMMANDS = ("back", "cancel")


class Redo(Exception):
    """A step refused: roll its writes back and process the update again as a re-ask."""

    def __init__(self, refusal: Refused, index: int = 0) -> None:
        super().__init__(refusal.text.key)
        self.refusal = refusal
        self.index = index  # which update of a group refused


def _stale() -> Outcome:
    raise Refused("common.stale_button")


def privately(ctx: Context, text: Text) -> Reply:
    """Answer with `text`; in a group, with a button to the private chat with the bot."""
    links = (Link(t("group.open_private")),) if ctx.incoming.in_group else ()
    return Reply(text, links=links)


_Apply = Callable[[Context, str | None, Callable[[], Outcome]], tuple[list[Reply], str | None]]


class Router:
    """The conversations' steps, commands and events, and which update goes where."""

    def __init__(
        self, *, settings: Settings, catalogs: Catalogs, conversations: Sequence[Conversation]
    ) -> None:
        self.settings = settings
        self.catalogs = catalogs
        self.steps: dict[str, Step] = {}
        self.commands: dict[str, tuple[Conversation, Callable[[Context], Outcome]]] = {}
        self.owners: dict[str, Conversation] = {}
        self.group_commands = {c for conv in conversations for c in conv.in_groups}
        self.events: dict[str, AnswerFn] = {}
        # The commands a messenger lists, with descriptions, conversation by conversation.
        self.menu: list[tuple[str, Text]] = []
        for conversation in conversations:
            if unknown := set(conversation.menu) - set(conversation.commands):
                raise ValueError(f"{conversation.name} lists commands it lacks: {unknown}")
            self.menu += conversation.menu.items()
            self.events.update(conversation.events)
            for name, step in conversation.steps.items():
                self.steps[name] = step
                self.owners[name] = conversation
            for command, entry in conversation.commands.items():
                self.commands[command] = (conversation, entry)

    def process(
        self,
        session: Session,
        incoming: Incoming,
        now: datetime,
        refused: Refused | None,
        state: State,
        member: Member | None,
    ) -> Response:
        """Run the update's step, updating `state` (the caller writes it back)."""
        ctx = Context(
            session=session,
            incoming=incoming,
            member=member,
            data=state.data,
            now=now,
            settings=self.settings,
            language=self._language(member, state.data),
            catalogs=self.catalogs,
            step=state.step,
        )
        replies, state.step = self._route(ctx, state, refused)
        # A refused press: where a channel can, a notice at the button says it all.
        toast = refused.text if refused is not None and incoming.choice is not None else None
        state.data = ctx.data
        if incoming.event is None:  # a chat event is no sign of the person's activity
            state.updated_at = now
        return Response(
            ctx.language, tuple(replies), queued=outbox.queued_any(session), toast=toast
        )

    def _language(self, member: object, data: dict[str, object]) -> str:
        language = getattr(member, "language", None) or data.get("lang")
        return str(language or self.settings.default_language)

    def _route(
        self, ctx: Context, state: State, refused: Refused | None
    ) -> tuple[list[Reply], str | None]:
        apply = partial(self._apply, refused=refused)
        if ctx.incoming.event is not None:
            return self._event(ctx, state)
        if ctx.incoming.edited:
            return self._edited(ctx, state, apply)
        ctx.data.pop(ANSWERED, None)  # a new message: an edit of an earlier one is too late
        command = ctx.incoming.command
        if ctx.incoming.in_group and command not in self.group_commands:
            return [privately(ctx, t("group.private_only"))], None
        current = self.steps.get(state.step or "")
        if current is None and state.step:
            logger.warning("dropped unknown step %s", state.step)
            state.step = None
        if command in STEP_COMMANDS and current is not None:
            return self._step_command(ctx, command, current, apply)
        if command in self.commands:
            conversation, entry = self.commands[command]
            if conversation.members_only and ctx.member is None:
                return [privately(ctx, t("common.join_first"))], state.step
            if current is not None and self.owners[current.name] is not conversation:
                ctx.data.setdefault("suspended", current.name)
            return apply(ctx, state.step, lambda: entry(ctx))
        if current is not None:
            stale = state.updated_at < ctx.now - timedelta(
                minutes=self.settings.resume_after_minutes
            )
            if stale and not command and ctx.incoming.choice is None:
                return apply(
                    ctx, current.name, lambda: goto(current.name, Reply(t("common.welcome_back")))
                )
            return apply(ctx, current.name, lambda: self._answer(ctx, current))
        if command == "back":
            return [Reply(t("common.nothing_to_go_back"))], None
        if command in STEP_COMMANDS:
            return [Reply(t("common.nothing_to_cancel"))], None
        if ctx.data.get("suspended") in self.steps:
            resumed = str(ctx.data.pop("suspended"))
            return apply(ctx, None, lambda: goto(resumed, Reply(t("common.resume"))))
        if command:
            return [Reply(t("common.unknown_command"))], None
        if ctx.incoming.choice is not None:  # a button of a conversation that is over
            return apply(ctx, None, _stale)
        if ctx.member is not None and "continue" in self.commands:
            resume = self.commands["continue"][1]
            return apply(ctx, None, lambda: resume(ctx))
        return [Reply(t("common.join_first"))], None

    def _event(self, ctx: Context, state: State) -> tuple[list[Reply], str | None]:
        """Record what happened to the chat; the conversation stays where it was."""
        handler = self.events.get(str(ctx.incoming.event))
        if handler is None:
            return [], state.step
        outcome = handler(ctx)
        return list(outcome.replies), outcome.step

    def _edited(self, ctx: Context, state: State, apply: _Apply) -> tuple[list[Reply], str | None]:
        """Hand an edited message to the waiting step's conversation; others ignore it."""
        current = self.steps.get(state.step or "")
        on_edit = None if current is None else self.owners[current.name].on_edit
        if current is None or on_edit is None:
            return [], state.step
        return apply(ctx, current.name, lambda: on_edit(ctx))

    def _step_command(
        self, ctx: Context, command: str, current: Step, apply: _Apply
    ) -> tuple[list[Reply], str | None]:
        if command == "cancel":
            on_cancel = self.owners[current.name].on_cancel
            return apply(
                ctx,
                current.name,
                lambda: on_cancel(ctx) if on_cancel else goto(None, Reply(t("common.cancelled"))),
            )
        previous = current.back(ctx)
        if previous is None:
            return apply(ctx, current.name, lambda: goto(current.name, Reply(t("common.no_back"))))
        return apply(ctx, current.name, lambda: goto(previous))

    def _answer(self, ctx: Context, step: Step) -> Outcome:
        if ctx.incoming.picture_lost:
            raise Refused("common.picture_lost")
        if ctx.incoming.unsupported:
            raise Refused("common.unsupported")
        if step.options is not None:
            options = list(step.options(ctx))
        else:
            options = [o for reply in step.ask(ctx) for o in reply.options]
        if options and ctx.incoming.command is not None and not step.free_text:
            raise Refused("common.pick_option")  # /done is none of the options
        if options and ctx.incoming.command is None:
            ctx.choice = self.catalogs.match_option(
                options, ctx.language, text=ctx.incoming.text, choice=ctx.incoming.choice
            )
            typed = step.free_text and ctx.incoming.choice is None
            if ctx.choice is None and not typed:
                raise Refused("common.pick_option")
        elif ctx.incoming.choice is not None:
            raise Refused("common.stale_button")
        return step.answer(ctx)

    def _apply(
        self,
        ctx: Context,
        current: str | None,
        run: Callable[[], Outcome],
        refused: Refused | None,
    ) -> tuple[list[Reply], str | None]:
        """Run a step or command; a refusal undoes its writes (see `handle`) and asks again."""
        if refused is not None and ctx.incoming.edited:  # the answer before the edit stays
            outcome = goto(current, Reply(refused.text), Reply(t("common.edit_kept")), ask=False)
        elif refused is not None:
            outcome = goto(current, Reply(refused.text))
        else:
            try:
                outcome = run()
            except Refused as refusal:
                raise Redo(refusal) from refusal
        replies = list(outcome.replies)
        step = outcome.step
        suspended = self.steps.get(str(ctx.data.get("suspended")))
        if suspended is not None and step is None:
            step = str(ctx.data.pop("suspended"))
            replies.append(Reply(t("common.resume")))
        elif suspended is not None and self.owners[str(step)] is self.owners[suspended.name]:
            ctx.data.pop("suspended")
        if step is not None and outcome.ask:
            try:
                replies.extend(self.steps[step].ask(ctx))
            except Refused as refusal:
                if refused is None:
                    raise Redo(refusal) from refusal
                return replies, None  # the question itself is refused now: stop here
        return replies, step
