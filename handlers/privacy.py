"""A member's rights over their data: /mydata and /deleteme."""

import json

from core.messages import OutDocument, Reply, t
from handlers.conversation import Context, Conversation, Outcome, Step, end, goto
from handlers.draft import question
from services import membership
from storage.files import FileStore


def my_data(ctx: Context) -> Outcome:
    """Send everything stored about the member as a JSON document."""
    if ctx.member is None:
        return end(t("privacy.nothing_stored"))
    data = membership.personal_data(session=ctx.session, member=ctx.member)
    document = OutDocument(
        "my-data.json", json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    )
    return goto(None, Reply(t("privacy.my_data"), documents=(document,)))


def delete_me(ctx: Context) -> Outcome:
    """Ask for confirmation before erasing the member."""
    if ctx.member is None:
        return end(t("privacy.nothing_stored"))
    return goto("privacy.confirm")


def on_confirm(ctx: Context) -> Outcome:
    """Erase the member on a clear yes; anything else keeps the data."""
    if ctx.choice != "erase:yes" or ctx.member is None:
        return end(t("privacy.kept"))
    files = FileStore(ctx.settings.files_dir)
    membership.erase(session=ctx.session, member=ctx.member, files=files, now=ctx.now)
    ctx.member = None
    ctx.data.clear()
    return end(t("privacy.erased"))


CONVERSATION = Conversation(
    name="privacy",
    steps={
        "privacy.confirm": Step(
            "privacy.confirm",
            lambda ctx: question(
                t("privacy.ask_erase"),
                ("erase:no", t("privacy.opt_keep")),
                ("erase:yes", t("privacy.opt_erase")),
            ),
            on_confirm,
        )
    },
    commands={"mydata": my_data, "deleteme": delete_me},
    menu={"mydata": t("command.mydata"), "deleteme": t("command.deleteme")},
    members_only=False,
)
