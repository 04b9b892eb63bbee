"""The `initiative-bot` command line: chat, database and administration."""

import asyncio
import contextlib
import logging
import os
import sys

import typer
from pydantic import ValidationError

from bot import admin, admin_forms, admin_import
from bot.app import Core, build
from bot.channels import console
from bot.channels.contract import Channel
from core.messages import Text
from core.settings import Settings
from locales import Catalogs
from storage.db import upgrade

logger = logging.getLogger(__name__)
# A traceback's local variables could hold a token: never print them.
app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help=__doc__,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
app.add_typer(db_app, name="db")
admin.register(app)
admin_forms.register(app)
admin_import.register(app)


@app.callback()
def main(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug details."),
) -> None:
    """Chatbot for improvement initiatives (sáng kiến)."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # httpx logs every request URL at INFO, and python-telegram-bot its API URL at DEBUG:
    # both contain the bot token.
    for name in ("httpx", "telegram"):
        logging.getLogger(name).setLevel(logging.WARNING)
    _check_settings()


def _check_settings() -> None:
    """Stop with a localized message naming each bad setting, never its value (it may
    be a secret)."""
    try:
        Settings()
    except ValidationError as error:
        language = os.environ.get("DEFAULT_LANGUAGE", "vi")
        catalogs = Catalogs()
        if language not in catalogs.languages:
            language = "vi"
        for problem in error.errors(include_url=False, include_input=False):
            name = "_".join(str(part) for part in problem["loc"]).upper() or "?"
            reason = str(problem["msg"]).removeprefix("Value error, ")
            text = Text("cli.setting_invalid", {"name": name, "reason": reason})
            typer.echo(catalogs.render(text, language), err=True)
        raise typer.Exit(2) from None


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply the database migrations."""
    upgrade(Settings().database_url, revision)


def _console_session(core: Core, user: str, name: str | None) -> console.ConsoleSession:
    return console.ConsoleSession(
        dispatcher=core.dispatcher,
        catalogs=core.catalogs,
        files_dir=core.settings.files_dir,
        user_id=user,
        name=name,
    )


def _zalo_channel(core: Core, webhook: str | None, listen: str) -> Channel:
    """Build the Zalo channel: a webhook server at `listen` for `webhook`, else polling."""
    from bot.channels.zalo import channel as zalo

    secret = core.settings.zalo_webhook_secret
    hook = None
    if webhook and secret is not None:
        hook = zalo.Webhook(webhook, secret.get_secret_value(), listen)
    return zalo.from_settings(core, hook)


@app.command()
def chat(
    user: str = typer.Option(..., "--user", help="Your user id in the console channel."),
    name: str | None = typer.Option(None, "--name", help="Your display name."),
    start: str | None = typer.Option(
        None, "--start", help="Send `/start CODE` first: join that unit, or be welcomed back."
    ),
) -> None:
    """Talk to the bot in this terminal: one message per line (a pipe works too).

    Only you and the bot: `run --console USER` also runs the scheduled jobs."""
    core = build(Settings())
    session = _console_session(core, user, name)
    first = () if start is None else (f"/start {start}",)
    try:
        console.run(session, sys.stdin, first=first)
    except KeyboardInterrupt:
        pass
    finally:
        core.engine.dispose()


@app.command()
def run(
    webhook: str | None = typer.Option(
        None, "--webhook", help="Public URL Telegram posts updates to (else long polling)."
    ),
    listen: str = typer.Option(
        "127.0.0.1:8080", "--listen", help="HOST:PORT of the webhook server."
    ),
    zalo_webhook: str | None = typer.Option(
        None, "--zalo-webhook", help="Public HTTPS URL Zalo posts updates to (else polling)."
    ),
    zalo_listen: str = typer.Option(
        "127.0.0.1:8082", "--zalo-listen", help="HOST:PORT of the Zalo webhook server."
    ),
    console_user: str | None = typer.Option(
        None, "--console", help="Also chat in this terminal, as this console user id."
    ),
    name: str | None = typer.Option(None, "--name", help="Your display name (--console)."),
) -> None:
    """Serve every configured channel in one process, with the scheduled jobs and the
    outbox: Telegram when TELEGRAM_BOT_TOKEN is set (TELEGRAM_DRIVER; long polling, or
    a webhook server), Zalo when ZALO_BOT_TOKEN is set (the same), this terminal with
    --console."""
    settings = Settings()
    secret = settings.telegram_webhook_secret
    no_token = settings.telegram_bot_token is None and settings.zalo_bot_token is None
    if no_token and console_user is None:
        admin.fail(Text("cli.no_channel", {}))
    if webhook and secret is None:
        admin.fail(Text("cli.webhook_secret_missing", {}))
    if zalo_webhook and settings.zalo_webhook_secret is None:
        admin.fail(Text("cli.zalo_webhook_secret_missing", {}))
    core = build(settings)
    # Start, leadership, backlog and recoveries at INFO (no personal data is logged).
    if not logging.getLogger().isEnabledFor(logging.INFO):
        logging.getLogger("bot").setLevel(logging.INFO)
    channels: list[Channel] = []
    if settings.telegram_bot_token is not None:
        from bot.channels.telegram.channel import Webhook
        from bot.channels.telegram.runner import from_settings

        hook = Webhook(webhook, secret.get_secret_value(), listen) if webhook and secret else None
        channels.append(from_settings(core, hook))
    if settings.zalo_bot_token is not None:
        channels.append(_zalo_channel(core, zalo_webhook, zalo_listen))
    if console_user is not None:
        session = _console_session(core, console_user, name)
        channels.append(console.ConsoleChannel(session, sys.stdin, sys.stdout))
    from bot.runtime import serve  # the leader's parts: APScheduler and the outbox

    logger.info(
        "serving %s on a %s database",
        ", ".join(channel.name for channel in channels),
        core.engine.dialect.name,
    )
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(core, channels))
    finally:
        core.engine.dispose()


@app.command()
def sandbox(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8081, "--port", help="Port to listen on."),
    per_second: int = typer.Option(30, "--per-second", help="Messages per second per bot."),
    zalo: bool = typer.Option(
        False, "--zalo", help="Name the Zalo face's URL in the log too (it is always served)."
    ),
) -> None:
    """Run the local Telegram and Zalo Bot API emulator (no Telegram or Zalo needed)."""
    from sandbox.limits import Limits
    from sandbox.server import SandboxConfig, serve

    logging.getLogger("sandbox").setLevel(logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        config = SandboxConfig(Limits(bot_per_second=per_second))
        asyncio.run(serve(host, port, config, own_process=True, zalo=zalo))
