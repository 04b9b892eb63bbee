"""/search WORDS: what the organization recognized, and one's own, best matches first."""

from core.messages import Lines, Money, Reply, Text, t
from core.typed import number_in
from handlers.conversation import Context, Conversation, Outcome, Step, end, goto, text_step
from handlers.draft import member, question
from services.levels import LEVEL_LABELS
from services.search import Found, find, readable, shown_again
from views.labels import STATUS_LABELS

SHOWN = "search"  # the conversation data: what the list showed, [id, title only]


def start(ctx: Context) -> Outcome:
    """Search for the words after the command, or ask for them."""
    if not ctx.incoming.argument:
        return goto("search.words")
    return _search(ctx, ctx.incoming.argument)


def on_words(ctx: Context) -> Outcome:
    """Search for the words typed."""
    return _search(ctx, ctx.text)


def _search(ctx: Context, query: str) -> Outcome:
    found = find(session=ctx.session, member=member(ctx), query=query)
    if not found:
        ctx.data.pop(SHOWN, None)
        return end(t("search.none", words=query))
    ctx.data[SHOWN] = [[f.initiative.id, f.title_only] for f in found]
    return goto("search.pick")


def ask_pick(ctx: Context) -> tuple[Reply, ...]:
    """Show the list, with an option to open each initiative that may be opened."""
    found = shown_again(session=ctx.session, member=member(ctx), shown=_shown(ctx))
    return question(
        t("search.results", lines=Lines(tuple(_line(f) for f in found))),
        *(
            (f"open:{f.initiative.id}", t("search.opt_open", id=f.initiative.id or 0))
            for f in found
            if not f.title_only
        ),
    )


def on_pick(ctx: Context) -> Outcome:
    """Open the picked initiative; typed words search again."""
    if ctx.choice is None:
        return _search(ctx, ctx.text)
    wanted = ctx.choice.removeprefix("open:")
    initiative_id = number_in(wanted) or 0
    opened = readable(session=ctx.session, member=member(ctx), initiative_id=initiative_id)
    ctx.data.pop(SHOWN, None)
    i = opened.initiative
    return end(
        t(
            "search.card",
            line=_line(opened),
            problem=i.problem or t("card.not_given"),
            solution=i.solution or t("card.not_given"),
        )
    )


def _shown(ctx: Context) -> list[tuple[int, bool]]:
    shown = ctx.data.get(SHOWN)
    if not isinstance(shown, list):
        return []
    return [(int(i), bool(title_only)) for i, title_only in shown]


def _line(found: Found) -> Text:
    """One initiative of the list: unit, and level and verified benefit when recognized."""
    i = found.initiative
    title = i.title or t("card.not_given")
    if found.title_only:
        return t("search.line_confidential", id=i.id or 0, title=title, unit=found.unit.name)
    if i.level is None:
        status = STATUS_LABELS.get(i.status, t("card.not_given"))
        return t("search.line_own", id=i.id or 0, title=title, unit=found.unit.name, status=status)
    benefit: object = t("search.no_benefit")
    if i.verified_benefit_vnd is not None:
        benefit = Money(i.verified_benefit_vnd)
    return t(
        "search.line",
        id=i.id or 0,
        title=title,
        unit=found.unit.name,
        level=LEVEL_LABELS.get(i.level, t("card.not_given")),
        benefit=benefit,
    )


CONVERSATION = Conversation(
    name="search",
    steps={
        "search.words": text_step("search.words", t("search.ask_words"), on_words),
        "search.pick": Step("search.pick", ask_pick, on_pick, free_text=True),
    },
    commands={"search": start},
    menu={"search": t("command.search")},
)
