"""Fresh databases for a benchmark run: a SQLite file, or a PostgreSQL database dropped after."""

import argparse
import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = {"sqlite": "SQLite file (WAL)", "postgresql": "PostgreSQL"}


def add_backends(parser: argparse.ArgumentParser, default: str = "sqlite,postgresql") -> None:
    """Add the `--backends` option every benchmark takes."""
    parser.add_argument(
        "--backends", default=default, help=f"comma-separated: {', '.join(BACKENDS)}"
    )


def chosen_backends(parser: argparse.ArgumentParser, value: str) -> list[str]:
    """Return the backends named in `--backends`, or stop with the parser's error."""
    backends = [b.strip() for b in value.split(",") if b.strip()]
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown or not backends:
        parser.error(f"unknown backend {', '.join(unknown)}; choose from {', '.join(BACKENDS)}")
    return backends


@contextlib.contextmanager
def database(backend: str, workdir: Path) -> Iterator[str]:
    """Yield the URL of an empty database of the backend; drop it afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    name = f"initiative_bot_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
