"""One person, two messengers: /link shows a one-time code, /link CODE joins this messenger."""

from core.errors import Refused
from core.messages import t
from handlers.conversation import Context, Conversation, Outcome, end
from services import links
from storage.units import unit_by_id


def link(ctx: Context) -> Outcome:
    """Show a one-time code for another messenger, or take the code typed after /link."""
    if ctx.incoming.argument:
        return redeem(ctx, ctx.incoming.argument)
    if ctx.member is None:
        return end(t("link.how_to_join"))
    code = links.issue(
        session=ctx.session,
        member=ctx.member,
        channel=ctx.incoming.channel,
        user_id=ctx.incoming.user_id,
        now=ctx.now,
    )
    minutes = int(links.VALID_FOR.total_seconds() // 60)
    return end(t("link.code", code=code, minutes=minutes))


def redeem(ctx: Context, typed: str) -> Outcome:
    """Join this messenger to the member whose code was typed, and greet them as that member."""
    result = links.redeem(
        session=ctx.session,
        typed=typed,
        member=ctx.member,
        channel=ctx.incoming.channel,
        user_id=ctx.incoming.user_id,
        chat_id=ctx.incoming.chat_id,
        now=ctx.now,
    )
    if isinstance(result, Refused):
        return end(result.text)
    ctx.member, ctx.language = result, result.language
    ctx.data.clear()  # whatever was begun here (joining, say) is the other member's now
    unit = unit_by_id(session=ctx.session, unit_id=result.unit_id)
    return end(
        t("link.linked", name=result.display_name, unit=unit.name if unit else ""),
        t("help.text"),
    )


CONVERSATION = Conversation(
    name="link",
    commands={"link": link},
    menu={"link": t("command.link")},
    members_only=False,
)
