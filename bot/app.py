"""Build the core once, in one place: engine, catalogs, dispatcher and kept files."""

from dataclasses import dataclass

from sqlalchemy import Engine

from bot.dispatch.dispatcher import Clock, Dispatcher, utc_now
from core.settings import Settings
from handlers import get_conversations
from locales import Catalogs
from storage.db import make_engine, upgrade
from storage.files import FileStore


@dataclass(frozen=True)
class Core:
    """The pieces every channel shares."""

    settings: Settings
    engine: Engine
    catalogs: Catalogs
    dispatcher: Dispatcher
    files: FileStore  # bytes that cross messengers (see storage.files)


def build(settings: Settings, *, clock: Clock = utc_now, migrate: bool = True) -> Core:
    """Migrate the database and wire the dispatcher to it."""
    if migrate:
        upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    catalogs = Catalogs(zone=settings.tz)
    dispatcher = Dispatcher(
        engine=engine,
        settings=settings,
        catalogs=catalogs,
        conversations=get_conversations(),
        clock=clock,
    )
    return Core(settings, engine, catalogs, dispatcher, FileStore(settings.files_dir))
