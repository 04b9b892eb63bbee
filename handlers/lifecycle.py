"""Chat events: a person blocks or unblocks the bot, a group removes or adds it back, a
group moves to a new chat id. The services record them; nobody is answered."""

from handlers.conversation import Context, Conversation, Outcome, goto
from services import chats


def _unchanged(ctx: Context) -> Outcome:
    """Leave the person's conversation where it was, with nothing to say."""
    return goto(ctx.step, ask=False)


def on_blocked(ctx: Context) -> Outcome:
    """Stop reaching the person who blocked the bot."""
    incoming = ctx.incoming
    chats.blocked(
        session=ctx.session, channel=incoming.channel, user_id=incoming.user_id, now=ctx.now
    )
    return _unchanged(ctx)


def on_unblocked(ctx: Context) -> Outcome:
    """Reach the person again."""
    chats.unblocked(
        session=ctx.session, channel=ctx.incoming.channel, user_id=ctx.incoming.user_id
    )
    return _unchanged(ctx)


def on_removed(ctx: Context) -> Outcome:
    """Stop posting to the group that removed the bot."""
    incoming = ctx.incoming
    chats.removed(
        session=ctx.session, channel=incoming.channel, chat_id=incoming.chat_id, now=ctx.now
    )
    return _unchanged(ctx)


def on_added(ctx: Context) -> Outcome:
    """Post to the group again."""
    chats.added(session=ctx.session, channel=ctx.incoming.channel, chat_id=ctx.incoming.chat_id)
    return _unchanged(ctx)


def on_migrated(ctx: Context) -> Outcome:
    """Follow the group to its new chat id."""
    if ctx.incoming.moved is not None:
        old, new = ctx.incoming.moved
        chats.moved(session=ctx.session, channel=ctx.incoming.channel, old=old, new=new)
    return _unchanged(ctx)


CONVERSATION = Conversation(
    name="lifecycle",
    events={
        "blocked": on_blocked,
        "unblocked": on_unblocked,
        "removed": on_removed,
        "added": on_added,
        "migrated": on_migrated,
    },
    members_only=False,
)
