"""Group chats: a unit admin links one to the unit with /linkgroup."""

from core.messages import t
from handlers.conversation import Context, Conversation, Outcome, end
from handlers.draft import member
from services import groups


def link_group(ctx: Context) -> Outcome:
    """Link this group chat to the admin's unit (or the unit named after the command)."""
    if not ctx.incoming.in_group:
        return end(t("group.only_in_groups"))
    unit = groups.link(
        session=ctx.session,
        member=member(ctx),
        channel=ctx.incoming.channel,
        chat_id=ctx.incoming.chat_id,
        unit_ref=ctx.incoming.argument,
        now=ctx.now,
    )
    return end(t("group.linked", unit=unit.name))


CONVERSATION = Conversation(
    name="groups", commands={"linkgroup": link_group}, in_groups=("linkgroup",)
)
