"""Documents made as their message is sent: what a queued message says to make."""

from bot.app import Core
from core.codec import reply_from_json, reply_to_json
from core.messages import LaterDocument, Reply, t
from storage.db import reading
from views import later


def test_a_kind_nobody_makes_sends_the_message_without_it(core: Core) -> None:
    """A message queued by another version of the bot names a maker this one lacks:
    the text still goes (an exception would retry it forever)."""
    queued = reply_to_json(
        Reply(t("export.sent", unit="A", count=1), later=(LaterDocument("x", {}),))
    )
    with reading(core.engine) as session:
        content = later.made(
            session=session,
            catalogs=core.catalogs,
            settings=core.settings,
            content=queued,
            language="vi",
        )
    reply = reply_from_json(content)
    assert reply.text.key == "export.sent" and reply.documents == () and reply.later == ()
