"""Administration commands: units, invite codes, roles, seeding and export."""

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

import typer
from sqlmodel import Session

from bot.dispatch.dispatcher import utc_now
from core.errors import Refused
from core.messages import Money, Text
from core.settings import Settings
from locales import Catalogs
from services import export, invites, reward, roles, seed, units
from services.export import STATUSES
from storage.db import make_engine, transaction, upgrade
from storage.members import member_for
from storage.models import Member, Unit
from storage.units import all_units, newest_invite_codes
from views import workbook

unit_app = typer.Typer(no_args_is_help=True, help="Units of the union tree.")
member_app = typer.Typer(no_args_is_help=True, help="Members and their roles.")
JSON = typer.Option(False, "--json", help="Print machine-readable JSON.")


@cache
def _catalogs() -> tuple[Catalogs, str]:
    """Load the catalogs once a process, with the language to print in."""
    settings = Settings()
    return Catalogs(zone=settings.tz), settings.default_language


def render(text: Text) -> str:
    """Render a text in the operator's language."""
    catalogs, language = _catalogs()
    return catalogs.render(text, language)


def fail(text: Text) -> NoReturn:
    """Print a localized error to stderr and exit with status 1."""
    typer.echo(render(text), err=True)
    raise typer.Exit(1)


def say(text: Text) -> None:
    """Print a localized message to stdout."""
    typer.echo(render(text))


@contextmanager
def database() -> Iterator[Session]:
    """Open one migrated transaction for a command; a refusal becomes an error message."""
    settings = Settings()
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with transaction(engine) as session:
            yield session
    except Refused as refusal:
        fail(refusal.text)
    finally:
        engine.dispose()


def emit(as_json: bool, data: Any, human: Callable[[], None]) -> None:
    """Print `data` as JSON, or let `human` print it for people."""
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False))
    else:
        human()


@unit_app.command("add")
def unit_add(
    name: str,
    parent: str | None = typer.Option(None, "--parent", help="Parent unit id or name."),
    kind: str = typer.Option("enterprise", "--kind", help=f"One of: {', '.join(units.KINDS)}."),
    as_json: bool = JSON,
) -> None:
    """Add a unit and print its id and invite code."""
    with database() as session:
        above = units.find_unit(session=session, ref=parent) if parent else None
        unit = units.add_unit(session=session, name=name, kind=kind, parent=above, now=utc_now())
        code = units.current_invite(session=session, unit=unit, now=utc_now()).code
    emit(
        as_json,
        {"id": unit.id, "invite_code": code},
        lambda: say(Text("cli.unit_added", {"id": unit.id, "name": unit.name, "code": code})),
    )


@unit_app.command("list")
def unit_list(as_json: bool = JSON) -> None:
    """List every unit as a tree, with its active invite code."""
    with database() as session:
        codes = newest_invite_codes(session=session)
        rows: list[dict[str, Any]] = [
            {
                "id": unit.id,
                "parent_id": unit.parent_id,
                "name": unit.name,
                "kind": unit.kind,
                "depth": unit.path.count("/") - 2,
                "invite_code": codes.get(unit.id or 0),
            }
            for unit in all_units(session=session)
        ]

    def table() -> None:
        for row in rows:
            name = "  " * row["depth"] + row["name"]
            typer.echo(f"{row['id']:>5}  {name} [{row['kind']}]  {row['invite_code'] or '-'}")

    emit(as_json, rows, table)


@unit_app.command("reward")
def unit_reward(
    unit_ref: str = typer.Argument(..., metavar="UNIT"),
    rate: int | None = typer.Option(None, "--rate", help="Percent of the annual benefit."),
    base_wage: int | None = typer.Option(None, "--base-wage", help="Base wage in VND."),
    as_json: bool = JSON,
) -> None:
    """Show or set a unit's reward policy (its whole subtree follows it)."""
    with database() as session:
        unit = units.find_unit(session=session, ref=unit_ref)
        if rate is None and base_wage is None:
            policy = reward.policy_for(session=session, unit=unit)
        else:
            policy = reward.set_policy(
                session=session, unit=unit, rate_percent=rate, base_wage_vnd=base_wage
            )
        data = {
            "unit_id": unit.id,
            "rate_percent": policy.rate_percent,
            "base_wage_vnd": policy.base_wage_vnd,
        }
    emit(
        as_json,
        data,
        lambda: say(
            Text(
                "cli.reward_policy",
                {
                    "unit": unit.name,
                    "rate": policy.rate_percent,
                    "wage": Money(policy.base_wage_vnd) if policy.base_wage_vnd else "-",
                },
            )
        ),
    )


@unit_app.command("invite")
def unit_invite(
    unit_ref: str = typer.Argument(..., metavar="UNIT"),
    revoke: bool = typer.Option(
        False, "--revoke", help="Revoke the active codes; issue a new one."
    ),
    qr: Path | None = typer.Option(
        None,
        "--qr",
        metavar="FILE.png",
        dir_okay=False,
        resolve_path=True,
        help="Also write a QR code of the Telegram join link to this PNG file.",
    ),
    bot_username: str | None = typer.Option(
        None,
        "--bot-username",
        metavar="NAME",
        help="The Telegram bot's username (default: TELEGRAM_BOT_USERNAME).",
    ),
    as_json: bool = JSON,
) -> None:
    """Print the unit's invite code (or replace it with --revoke), optionally as a QR code."""
    bot_username = bot_username or Settings().telegram_bot_username
    if qr is not None and not bot_username:
        fail(Text("cli.bot_username_missing"))
    link: str | None = None
    with database() as session:
        unit = units.find_unit(session=session, ref=unit_ref)
        if revoke:
            units.revoke_invites(session=session, unit=unit, now=utc_now())
        code = units.current_invite(session=session, unit=unit, now=utc_now()).code
        if qr is not None:
            try:
                link = invites.deep_link(bot_username or "", code)
            except ValueError:
                fail(Text("cli.invite_link_invalid", {"username": bot_username, "code": code}))
    data: dict[str, Any] = {"unit_id": unit.id, "invite_code": code}
    if qr is not None and link is not None:
        try:
            invites.write_qr(link, qr)
        except OSError as error:
            fail(Text("cli.qr_unwritable", {"path": str(qr), "error": error.strerror or error}))
        data.update(link=link, qr=str(qr))

    def human() -> None:
        typer.echo(code)
        if link:
            typer.echo(link)

    emit(as_json, data, human)


def member_and_unit(session: Session, who: str, unit_ref: str) -> tuple[Member, Unit]:
    """Find the member behind CHANNEL:USER_ID and a unit by id or name, or refuse."""
    channel, _, user_id = who.partition(":")
    member = member_for(session=session, channel=channel, user_id=user_id)
    if member is None:
        raise Refused("cli.member_unknown", who=who)
    return member, units.find_unit(session=session, ref=unit_ref)


WHO = typer.Argument(..., metavar="CHANNEL:USER_ID")
ROLE = typer.Argument(..., help=f"One of: {', '.join(roles.ROLES)}.")
UNIT = typer.Option(..., "--unit", help="Unit id or name.")


@member_app.command("grant")
def member_grant(
    who: str = WHO, role: str = ROLE, unit_ref: str = UNIT, as_json: bool = JSON
) -> None:
    """Give a member a role over a unit and everything below it."""
    change_role(who, role, unit_ref, as_json, revoke=False)


@member_app.command("revoke")
def member_revoke(
    who: str = WHO, role: str = ROLE, unit_ref: str = UNIT, as_json: bool = JSON
) -> None:
    """Take a role over a unit away from a member."""
    change_role(who, role, unit_ref, as_json, revoke=True)


def change_role(who: str, role: str, unit_ref: str, as_json: bool, *, revoke: bool) -> None:
    """Grant or revoke a member's role over a unit, and say so."""
    with database() as session:
        member, unit = member_and_unit(session, who, unit_ref)
        if revoke:
            roles.revoke(session=session, member=member, unit=unit, role=role)
        else:
            roles.grant(session=session, member=member, unit=unit, role=role, now=utc_now())
    data: dict[str, Any] = {"member_id": member.id, "unit_id": unit.id, "role": role}
    if revoke:
        data["revoked"] = True
    params = {"who": who, "role": role, "unit": unit.name}
    said = Text("cli.role_revoked", params) if revoke else Text("cli.role_granted", params)
    emit(as_json, data, lambda: say(said))


def seed_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    as_json: bool = JSON,
) -> None:
    """Load a unit tree from a YAML file (loading it again adds nothing)."""
    with database() as session:
        seeded = seed.load_tree(session=session, text=file.read_text("utf-8"), now=utc_now())
    rows = [
        {
            "id": s.unit.id,
            "name": s.unit.name,
            "kind": s.unit.kind,
            "invite_code": s.invite_code,
            "created": s.created,
        }
        for s in seeded
    ]

    def table() -> None:
        for row in rows:
            typer.echo(f"{row['id']:>5}  {row['name']} [{row['kind']}]  {row['invite_code']}")

    emit(as_json, rows, table)


FORMATS = ("csv", "xlsx")
STATUS_HELP = "Only this status (repeat for several): " + ", ".join(STATUSES)


def export_command(
    fmt: str = typer.Option("csv", "--format", help="csv or xlsx (xlsx needs --output)."),
    unit_ref: str | None = typer.Option(None, "--unit", help="Only this unit's subtree."),
    output: Path | None = typer.Option(None, "--output", help="File to write (default stdout)."),
    since: str | None = typer.Option(
        None, "--from", metavar="DAY", help="Submitted on or after this local day (dd/mm/yyyy)."
    ),
    until: str | None = typer.Option(
        None, "--to", metavar="DAY", help="Submitted on or before this local day (dd/mm/yyyy)."
    ),
    campaign: str | None = typer.Option(
        None,
        "--campaign",
        metavar="ID|NAME",
        help="Only what counts toward this campaign (its id, or its whole name).",
    ),
    statuses: list[str] | None = typer.Option(None, "--status", help=STATUS_HELP),
) -> None:
    """Export initiatives, one row each: CSV (UTF-8 with BOM for Excel) or an XLSX workbook."""
    if fmt not in FORMATS:
        fail(Text("cli.format_unknown", {"format": fmt}))
    if fmt == "xlsx" and output is None:
        fail(Text("cli.export_needs_output"))
    settings = Settings()
    with database() as session:
        unit = units.find_unit(session=session, ref=unit_ref) if unit_ref else None
        only = export.filters(
            session=session,
            since=since,
            until=until,
            campaign=campaign,
            statuses=statuses or (),
            zone=settings.tz,
        )
        if fmt == "xlsx" and output is not None:
            write_workbook(export.rows(session=session, unit=unit, only=only), output, settings)
            return
        lines = export.csv_lines(session=session, unit=unit, only=only)
        if output is None:
            sys.stdout.reconfigure(encoding="utf-8", newline="")  # type: ignore[union-attr]
            sys.stdout.writelines(lines)
            sys.stdout.flush()
        else:
            with output.open("w", encoding="utf-8", newline="") as handle:
                handle.writelines(lines)


def write_workbook(rows: Iterable[export.Row], output: Path, settings: Settings) -> None:
    """Write the rows as a workbook next to `output`, then put it in its place whole."""
    catalogs, language = _catalogs()
    partial = output.with_name(f".{output.name}.part")
    try:
        with partial.open("wb") as handle:
            workbook.write(handle, rows, catalogs=catalogs, language=language, zone=settings.tz)
        partial.replace(output)
    except OSError as error:
        partial.unlink(missing_ok=True)
        fail(
            Text("cli.export_unwritable", {"path": str(output), "error": error.strerror or error})
        )


def register(app: typer.Typer) -> None:
    """Add the administration commands to the main application."""
    app.add_typer(unit_app, name="unit")
    app.add_typer(member_app, name="member")
    app.command("seed")(seed_command)
    app.command("export")(export_command)
