"""Personal settings and help: /language and /help."""

from core.messages import t
from handlers.conversation import Context, Conversation, Outcome, Step, end, goto
from handlers.draft import question
from services import membership
from views.labels import LANGUAGE_LABELS


def ask(ctx: Context) -> Outcome:
    """Offer the languages the bot speaks."""
    return goto("settings.language")


def on_language(ctx: Context) -> Outcome:
    """Switch to the chosen language."""
    language = membership.checked_language((ctx.choice or "").removeprefix("lang:"))
    if ctx.member is not None:
        membership.set_language(session=ctx.session, member=ctx.member, language=language)
    else:
        ctx.data["lang"] = language
    ctx.language = language
    return end(t("language.changed", language=LANGUAGE_LABELS[language]))


def show_help(ctx: Context) -> Outcome:
    """List the commands."""
    return end(t("help.text") if ctx.member else t("help.guest"))


CONVERSATION = Conversation(
    name="settings",
    steps={
        "settings.language": Step(
            "settings.language",
            lambda ctx: question(
                t("language.ask"),
                *((f"lang:{code}", label) for code, label in LANGUAGE_LABELS.items()),
            ),
            on_language,
        )
    },
    commands={"language": ask, "help": show_help},
    menu={"language": t("command.language"), "help": t("command.help")},
    members_only=False,
    in_groups=("help",),
)
