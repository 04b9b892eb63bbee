"""Typed settings read from the environment and `.env`."""

from datetime import time
from pathlib import Path
from typing import Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LANGUAGES = ("vi", "en", "id")
# The example values in .env.example contain this; they are refused at start.
PLACEHOLDER = "change-me"


def default_database_url() -> str:
    """Return the SQLite URL of the default database file under ./data/."""
    return f"sqlite:///{(Path.cwd() / 'data' / 'initiative-bot.db').resolve()}"


def parse_quiet_hours(value: str) -> tuple[time, time]:
    """Read quiet hours written as `21:00-07:00` (an empty range means none)."""
    try:
        start, end = (time.fromisoformat(part.strip()) for part in value.split("-"))
    except ValueError as exc:
        raise ValueError(f"QUIET_HOURS must look like 21:00-07:00, not {value!r}") from exc
    return start, end


class Settings(BaseSettings):
    """Configuration of one bot process; every field is documented in README."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = ""
    default_language: str = "vi"
    timezone: str = "Asia/Ho_Chi_Minh"
    files_dir: Path = Path("data/files")
    resume_after_minutes: int = 30
    telegram_bot_token: SecretStr | None = None
    telegram_api_base: str = "https://api.telegram.org"
    telegram_driver: Literal["aiogram", "ptb"] = "aiogram"
    telegram_webhook_secret: SecretStr | None = None
    # Chats in hand at once. They share transactions (group commit), not a connection
    # or thread each, so a larger number mostly means larger groups.
    telegram_concurrency: int = 32
    telegram_bot_username: str | None = None
    # Flood limits the outbox keeps to (Telegram's: 30/s overall, 1/s per private chat,
    # 20/min per group); paid broadcasts may raise the first to 1000.
    telegram_rate_per_second: int = 30
    telegram_rate_per_chat: int = 1
    telegram_rate_group_per_minute: int = 20
    # Zalo Bot Platform (docs/zalo.md). Zalo publishes no rate limits: these are
    # conservative guesses, and a 429 (which carries no retry hint) pauses sending for
    # ZALO_PAUSE_ON_429 seconds.
    zalo_bot_token: SecretStr | None = None
    zalo_api_base: str = "https://bot-api.zaloplatforms.com"
    zalo_webhook_secret: SecretStr | None = None
    zalo_concurrency: int = 32
    zalo_rate_per_second: int = 10
    zalo_rate_per_chat: int = 1
    zalo_rate_per_group: int = 20  # a minute
    zalo_pause_on_429: float = 10.0
    # Seconds a getUpdates long poll waits; stopping waits for the poll in flight (its
    # update would be lost otherwise), so it bounds how long a stop takes.
    zalo_poll_seconds: int = Field(default=20, ge=1, le=60)
    # Long polls in flight at a time: a crash can cost one update per poll (README).
    zalo_pollers: int = Field(default=1, ge=1, le=16)
    # Reminders and digests: none is sent in quiet hours (local time, hh:mm-hh:mm); a
    # review waiting longer than the SLA reminds the council, then its leaders.
    quiet_hours: str = "21:00-07:00"
    review_sla_days: int = 7
    # /export in chat builds the workbook while the member waits: past this many
    # initiatives it asks for a campaign, or the CLI export (README).
    chat_export_max_rows: int = Field(default=20_000, ge=1)
    # Processes the leader prepares digests (read and drawn) and makes queued documents
    # in, started at the first use; 0: a thread of its own process, which slows the
    # replies (bench/README.md).
    digest_chart_processes: int = 1
    # Among processes sharing a database, one leads (scheduler, outbox); another takes
    # over within about 1.3 times this after the leader dies.
    leader_lease_seconds: float = 30.0
    # Where a messenger that takes pictures by URL (Zalo) fetches the bot's kept files:
    # the public address of a reverse proxy to PUBLIC_FILES_LISTEN. Unset: such a
    # messenger gets the text of a message with a picture, and a line saying so.
    public_base_url: str | None = None
    public_files_listen: str = "127.0.0.1:8090"
    public_file_ttl_hours: int = 24
    # Kept files nothing in the database refers to are removed once they were not put for
    # this long (a daily sweep of the leader): longer than a signed URL lives.
    files_unreferenced_days: int = Field(default=7, ge=1)

    @field_validator("database_url")
    @classmethod
    def _fill_database_url(cls, value: str) -> str:
        return value or default_database_url()

    @field_validator(
        "telegram_bot_token", "telegram_webhook_secret", "zalo_bot_token", "zalo_webhook_secret"
    )
    @classmethod
    def _no_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and PLACEHOLDER in value.get_secret_value():
            raise ValueError("still the example value from .env.example; set a real one")
        return value

    @field_validator("zalo_webhook_secret")
    @classmethod
    def _zalo_secret_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not 8 <= len(value.get_secret_value()) <= 256:
            raise ValueError("ZALO_WEBHOOK_SECRET must be 8 to 256 characters (Zalo's rule)")
        return value

    @field_validator("default_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"DEFAULT_LANGUAGE must be one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown TIMEZONE {value!r}") from exc
        return value

    @field_validator("files_dir")
    @classmethod
    def _absolute_files_dir(cls, value: Path) -> Path:
        return value.resolve()

    @field_validator("quiet_hours")
    @classmethod
    def _hours_range(cls, value: str) -> str:
        parse_quiet_hours(value)
        return value

    @model_validator(mode="after")
    def _files_outlive_their_urls(self) -> Self:
        if self.files_unreferenced_days * 24 <= self.public_file_ttl_hours:
            raise ValueError(
                "FILES_UNREFERENCED_DAYS must be longer than PUBLIC_FILE_TTL_HOURS: a file"
                " is kept at least as long as a URL of it works"
            )
        return self

    @property
    def quiet(self) -> tuple[time, time]:
        """Return when quiet hours start and end, in local time."""
        return parse_quiet_hours(self.quiet_hours)

    @property
    def tz(self) -> ZoneInfo:
        """Return the display time zone."""
        return ZoneInfo(self.timezone)
