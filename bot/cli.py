"""The `initiative-bot` command line: chat, database and administration."""

import asyncio
import contextlib
import logging
import sys

import typer

from bot import admin
from bot.app import build
from bot.channels import console
from core.messages import Text
from core.settings import Settings
from storage.db import upgrade

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
app.add_typer(db_app, name="db")
admin.register(app)


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


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply the database migrations."""
    upgrade(Settings().database_url, revision)


@app.command()
def chat(
    user: str = typer.Option(..., "--user", help="Your user id in the console channel."),
    name: str | None = typer.Option(None, "--name", help="Your display name."),
) -> None:
    """Talk to the bot in this terminal: one message per line (a pipe works too)."""
    core = build(Settings())
    session = console.ConsoleSession(
        dispatcher=core.dispatcher,
        catalogs=core.catalogs,
        files_dir=core.settings.files_dir,
        user_id=user,
        name=name,
    )
    try:
        console.run(session, sys.stdin)
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
) -> None:
    """Run the Telegram bot (TELEGRAM_DRIVER): long polling, or a webhook server."""
    from bot.channels.telegram.runner import run_telegram

    settings = Settings()
    if settings.telegram_bot_token is None:
        admin.fail(Text("cli.token_missing", {}))
    secret = settings.telegram_webhook_secret
    if webhook and secret is None:
        admin.fail(Text("cli.webhook_secret_missing", {}))
    core = build(settings)
    # Start, leadership, backlog and recoveries at INFO (no personal data is logged).
    if not logging.getLogger().isEnabledFor(logging.INFO):
        logging.getLogger("bot").setLevel(logging.INFO)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(
                run_telegram(
                    core,
                    token=settings.telegram_bot_token.get_secret_value(),
                    webhook_url=webhook,
                    secret=secret.get_secret_value() if secret else None,
                    listen=listen,
                )
            )
    finally:
        core.engine.dispose()


@app.command()
def sandbox(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8081, "--port", help="Port to listen on."),
    per_second: int = typer.Option(30, "--per-second", help="Messages per second per bot."),
) -> None:
    """Run the local Telegram Bot API emulator (no Telegram needed)."""
    from sandbox.limits import Limits
    from sandbox.server import SandboxConfig, serve

    logging.getLogger("sandbox").setLevel(logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        config = SandboxConfig(Limits(bot_per_second=per_second))
        asyncio.run(serve(host, port, config, own_process=True))
