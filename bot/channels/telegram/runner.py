"""Build the Telegram channel on the configured client library (TELEGRAM_DRIVER)."""

from bot.app import Core
from bot.channels.telegram.channel import TelegramChannel, Webhook


def build_channel(
    core: Core, driver: str, *, token: str, api_base: str, concurrency: int
) -> TelegramChannel:
    """Build the channel on a TELEGRAM_DRIVER's client; only that client is imported."""
    if driver == "ptb":
        from bot.channels.telegram.ptb_driver import PtbChannel

        return PtbChannel(core, token=token, api_base=api_base, concurrency=concurrency)
    from bot.channels.telegram.aiogram_driver import AiogramChannel

    return AiogramChannel(core, token=token, api_base=api_base, concurrency=concurrency)


def from_settings(core: Core, webhook: Webhook | None) -> TelegramChannel:
    """Build the channel the settings describe; None for `webhook` polls.

    TELEGRAM_BOT_TOKEN must be set.
    """
    settings = core.settings
    assert settings.telegram_bot_token is not None
    channel = build_channel(
        core,
        settings.telegram_driver,
        token=settings.telegram_bot_token.get_secret_value(),
        api_base=settings.telegram_api_base,
        concurrency=settings.telegram_concurrency,
    )
    channel.webhook = webhook
    return channel
