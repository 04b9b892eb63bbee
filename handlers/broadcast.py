"""Broadcasts in chat for organizers: /broadcast, /broadcast list, /broadcast cancel.

The steps collect an announcement and its audience; services.broadcasts checks the
organizer's role over the audience again on every count, send and cancel, whatever the
buttons said.
"""

from dataclasses import asdict
from datetime import datetime
from typing import Any

from core.errors import Refused
from core.messages import Lines, Number, Option, Reply, Text, t
from core.typed import number_in
from handlers import buttons
from handlers.conversation import Context, Conversation, Outcome, Step, end, goto, text_step
from handlers.draft import member, question
from handlers.wizard_core import need_text
from services import broadcasts, presses, roles, units
from services.broadcasts import Audience
from storage import broadcasts as store
from storage.broadcasts import SENDING
from storage.units import children_of
from views.broadcast import history_text
from views.labels import (
    AUDIENCE_LABELS,
    BROADCAST_STATUS_LABELS,
    LANGUAGE_LABELS,
    ROLE_LABELS,
    UNIT_KIND_LABELS,
)

KEY = "broadcast"
# What may follow /broadcast, in any language: the catalogs list the words.
LIST_WORDS, CANCEL_WORDS = t("broadcast.words_list"), t("broadcast.words_cancel")


def _data(ctx: Context) -> dict[str, Any]:
    data = ctx.data.setdefault(KEY, {})
    assert isinstance(data, dict)
    return data


def _audience(ctx: Context) -> Audience:
    return Audience.from_json(_data(ctx).get("audience") or {"unit_id": 0})


def _draft(ctx: Context) -> int:
    """Return the number of the announcement being written (its buttons name it)."""
    return int(_data(ctx).get("draft") or 0)


def _picked(ctx: Context) -> str:
    """Return what the press does, if it names the announcement being written now."""
    action, named = buttons.split(ctx.choice)
    presses.check_open(pressed=named, opened=_data(ctx).get("draft"), what="announcement")
    return action


def open_broadcast(ctx: Context) -> Outcome:
    """Start an announcement, or list or cancel broadcasts."""
    scopes = broadcasts.organizer_units(session=ctx.session, member=member(ctx))
    if not scopes:
        return end(t("broadcast.not_organizer"))
    argument = ctx.incoming.argument
    if ctx.catalogs.after_word(LIST_WORDS, argument) is not None:
        return _history(ctx)
    rest = ctx.catalogs.after_word(CANCEL_WORDS, argument)
    if rest is not None:
        if (number := number_in(rest.lstrip("#"))) is not None:
            return _cancel(ctx, number)
        if not broadcasts.running(session=ctx.session, member=member(ctx)):
            return end(t("broadcast.nothing_running"))
        ctx.data[KEY] = {}
        return goto("broadcast.cancel")
    ctx.data[KEY] = {"versions": {}, "draft": buttons.new_draft(ctx)}
    if len(scopes) == 1 and not children_of(session=ctx.session, unit_id=scopes[0].id or 0):
        _data(ctx)["audience"] = asdict(Audience(unit_id=scopes[0].id or 0))
        return goto("broadcast.text")
    return goto("broadcast.unit")


def _history(ctx: Context) -> Outcome:
    listed = broadcasts.history(session=ctx.session, member=member(ctx))
    tallies = store.tallies(session=ctx.session, broadcast_ids=[b.id or 0 for b in listed])
    return end(history_text([(b, tallies[b.id or 0]) for b in listed], ctx.settings.tz))


def _cancel(ctx: Context, broadcast_id: int) -> Outcome:
    stopped = broadcasts.cancel(
        session=ctx.session, member=member(ctx), broadcast_id=broadcast_id, now=ctx.now
    )
    ctx.data.pop(KEY, None)
    return end(t("broadcast.cancelled", id=broadcast_id, stopped=Number(stopped)))


def ask_unit(ctx: Context) -> tuple[Reply, ...]:
    """Offer the organizer's units and the units just below them."""
    scopes = broadcasts.organizer_units(session=ctx.session, member=member(ctx))
    offered = [*scopes]
    for scope in scopes:
        offered += children_of(session=ctx.session, unit_id=scope.id or 0)
    return question(
        t("broadcast.ask_unit"),
        *((f"unit:{u.id}", t("broadcast.option", name=u.name)) for u in offered[:12]),
    )


def on_unit(ctx: Context) -> Outcome:
    """Take the picked or typed unit, if the member organizes it."""
    picked = (ctx.choice or "").removeprefix("unit:")
    if not picked:
        picked = str(units.find_unit(session=ctx.session, ref=need_text(ctx)).id)
    unit = broadcasts.audience_unit(
        session=ctx.session, member=member(ctx), unit_id=number_in(picked) or 0
    )
    _data(ctx)["audience"] = asdict(Audience(unit_id=unit.id or 0))
    return goto("broadcast.text")


def on_text(ctx: Context) -> Outcome:
    """Keep the text (and a photo or document sent with it); a file alone asks for text."""
    data = _data(ctx)
    for attachment in ctx.incoming.attachments[:1]:
        data["attachment"] = {
            "kind": attachment.kind,
            "channel": attachment.channel or ctx.incoming.channel,  # a kept file's: KEPT
            "ref": attachment.file_ref,
        }
    caption = (ctx.incoming.caption or "").strip()
    if not ctx.text and not caption and data.get("attachment"):
        return goto("broadcast.text", Reply(t("broadcast.got_file")), ask=False)
    text = caption or need_text(ctx)
    data["versions"][ctx.language] = broadcasts.check_text(text)
    data["default"] = ctx.language
    return goto("broadcast.audience")


def ask_audience(ctx: Context) -> tuple[Reply, ...]:
    """Show who will get it, with buttons that change the audience."""
    audience = _audience(ctx)
    members, groups = broadcasts.count(session=ctx.session, member=member(ctx), audience=audience)
    unit = broadcasts.audience_unit(
        session=ctx.session, member=member(ctx), unit_id=audience.unit_id
    )
    everyone = t("broadcast.everyone")
    who = (
        "both"
        if audience.members and audience.groups
        else ("groups" if audience.groups else "members")
    )
    versions = _data(ctx).get("versions", {})
    return question(
        t(
            "broadcast.audience",
            unit=unit.name,
            who=AUDIENCE_LABELS[who],
            role=ROLE_LABELS.get(audience.role or "", everyone),
            language=LANGUAGE_LABELS.get(audience.language or "", everyone),
            kind=UNIT_KIND_LABELS.get(audience.kind or "", everyone),
            versions=", ".join(sorted(versions)),
            members=Number(members),
            groups=Number(groups),
        ),
        *_audience_buttons(ctx),
    )


def _audience_buttons(ctx: Context) -> tuple[tuple[str, Text], ...]:
    return buttons.naming(
        _draft(ctx),
        ("aud:who", t("broadcast.opt_who")),
        ("aud:role", t("broadcast.opt_role")),
        ("aud:language", t("broadcast.opt_language")),
        ("aud:kind", t("broadcast.opt_kind")),
        *(
            (f"version:{code}", t("broadcast.opt_version", language=LANGUAGE_LABELS[code]))
            for code in ctx.catalogs.languages
            if code != _data(ctx).get("default")
        ),
        ("aud:go", t("broadcast.opt_preview")),
    )


def audience_options(ctx: Context) -> tuple[Option, ...]:
    """The audience step's buttons, without counting the audience as its question does."""
    offered = [Option(value, label) for value, label in _audience_buttons(ctx)]
    return buttons.also_pressed(ctx, offered)


def _cycle(values: tuple[Any, ...], current: Any) -> Any:
    return values[(values.index(current) + 1) % len(values)] if current in values else values[0]


def on_audience(ctx: Context) -> Outcome:
    """Change one filter and show the audience again, or go on to the preview."""
    choice = _picked(ctx)
    if choice.startswith("version:"):
        code = choice.removeprefix("version:")
        if code not in ctx.catalogs.languages:
            raise Refused("common.pick_option")
        _data(ctx)["version"] = code
        return goto("broadcast.version")
    audience = _audience(ctx)
    if choice == "aud:go":
        counted = broadcasts.count(session=ctx.session, member=member(ctx), audience=audience)
        if not sum(counted):
            raise Refused("broadcast.nobody")
        _data(ctx)["counted"] = list(counted)  # the preview shows it without counting again
        return goto("broadcast.confirm")
    if choice == "aud:who":
        state = _cycle(
            ((True, False), (False, True), (True, True)), (audience.members, audience.groups)
        )
        audience.members, audience.groups = state
    elif choice == "aud:role":
        audience.role = _cycle((None, *roles.ROLES), audience.role)
    elif choice == "aud:language":
        audience.language = _cycle((None, *ctx.catalogs.languages), audience.language)
    elif choice == "aud:kind":
        audience.kind = _cycle((None, *units.KINDS), audience.kind)
    _data(ctx)["audience"] = asdict(audience)
    return goto("broadcast.audience")


def on_version(ctx: Context) -> Outcome:
    """Keep the text for one language and go back to the audience."""
    data = _data(ctx)
    data["versions"][str(data.get("version"))] = broadcasts.check_text(need_text(ctx))
    return goto("broadcast.audience")


def ask_confirm(ctx: Context) -> tuple[Reply, ...]:
    """Show the announcement as recipients will see it, the count, and send / schedule."""
    data = _data(ctx)
    members, groups = data["counted"]
    preview = broadcasts.announcement(data["versions"][data["default"]], data.get("attachment"))
    return (
        Reply(t("broadcast.preview_title")),
        preview,
        *question(
            t("broadcast.confirm", members=Number(members), groups=Number(groups)),
            *buttons.naming(
                _draft(ctx),
                ("send:now", t("broadcast.opt_now")),
                ("send:later", t("broadcast.opt_later")),
                ("send:cancel", t("broadcast.opt_cancel")),
            ),
        ),
    )


def on_confirm(ctx: Context) -> Outcome:
    """Send now, ask for a time, or drop the announcement."""
    action = _picked(ctx)
    if action == "send:later":
        return goto("broadcast.when")
    if action != "send:now":
        return cancel(ctx)
    return _create(ctx, ctx.now)


def on_when(ctx: Context) -> Outcome:
    """Schedule for a local 'dd/mm/yyyy hh:mm' in the future."""
    send_at = broadcasts.read_send_at(need_text(ctx), zone=ctx.settings.tz, now=ctx.now)
    return _create(ctx, send_at)


def _create(ctx: Context, send_at: datetime) -> Outcome:
    data = ctx.data.pop(KEY, {})
    made = broadcasts.create(
        session=ctx.session,
        member=member(ctx),
        audience=Audience.from_json(data.get("audience") or {"unit_id": 0}),
        versions=data.get("versions", {}),
        default_language=str(data.get("default")),
        attachment=data.get("attachment"),
        send_at=send_at,
        report_to=(ctx.incoming.channel, ctx.incoming.chat_id, ctx.language),
        now=ctx.now,
    )
    if made.status == SENDING:
        return end(t("broadcast.started", id=made.id or 0, count=Number(made.recipients)))
    when = made.send_at.astimezone(ctx.settings.tz).strftime("%d/%m/%Y %H:%M")
    return end(t("broadcast.scheduled", id=made.id or 0, when=when))


def ask_cancel(ctx: Context) -> tuple[Reply, ...]:
    """List the broadcasts that can still be stopped."""
    running = broadcasts.running(session=ctx.session, member=member(ctx))
    lines = tuple(
        t("broadcast.running_line", id=b.id or 0, status=BROADCAST_STATUS_LABELS[b.status])
        for b in running
    )
    return question(
        t("broadcast.ask_cancel", lines=Lines(lines)),
        *((f"stop:{b.id}", t("broadcast.opt_stop", id=b.id or 0)) for b in running[:10]),
    )


def on_cancel_pick(ctx: Context) -> Outcome:
    """Stop the picked broadcast (the services check it is the member's to stop)."""
    picked = (ctx.choice or ctx.text).removeprefix("stop:").lstrip("#")
    number = number_in(picked)
    if number is None:
        raise Refused("common.pick_option")
    return _cancel(ctx, number)


def cancel(ctx: Context) -> Outcome:
    """Leave without sending; nothing was saved."""
    ctx.data.pop(KEY, None)
    return end(t("broadcast.dropped"))


CONVERSATION = Conversation(
    name=KEY,
    steps={
        step.name: step
        for step in (
            Step("broadcast.unit", ask_unit, on_unit, free_text=True),
            text_step("broadcast.text", t("broadcast.ask_text"), on_text, "broadcast.unit"),
            Step(
                "broadcast.audience",
                ask_audience,
                on_audience,
                lambda ctx: "broadcast.text",
                options=audience_options,
            ),
            Step(
                "broadcast.version",
                lambda ctx: (
                    Reply(
                        t(
                            "broadcast.ask_version",
                            language=LANGUAGE_LABELS[str(_data(ctx).get("version"))],
                        )
                    ),
                ),
                on_version,
                lambda ctx: "broadcast.audience",
            ),
            buttons.button_step(
                "broadcast.confirm", ask_confirm, on_confirm, "broadcast.audience"
            ),
            text_step("broadcast.when", t("broadcast.ask_when"), on_when, "broadcast.confirm"),
            Step("broadcast.cancel", ask_cancel, on_cancel_pick, free_text=True),
        )
    },
    commands={"broadcast": open_broadcast},
    menu={"broadcast": t("command.broadcast")},
    on_cancel=cancel,
)
