"""Time a federation's digest over a million initiatives against one hand-written query.

Run from the project directory:

    .venv/bin/python -m bench.digest [--initiatives 1000000] [--units 1000]
        [--backends sqlite,postgresql] [--repeat 7]

For each backend a fresh database is migrated and loaded with a federation's two years
of initiatives (bench/digest_data.py). Then `services.digests.build` runs for the
federation's scope over the last weekly and the last monthly period, against a single
aggregate SQL query that computes the same totals over the same subtree and period.
Every timing is taken `--repeat` times after one warm-up, the contenders interleaved.
On PostgreSQL the digest is also timed with every statement prepared and planned
generically, as a long-running bot may end up running it.
"""

import argparse
import logging
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import astuple, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, String, bindparam, create_engine, text

from bench import digest_data
from bench.databases import BACKENDS, add_backends, chosen_backends, database
from bench.tables import render
from core.settings import Settings
from locales import Catalogs
from services import campaigns, digest_schedule, digests
from services.initiatives import APPROVED, RECOMMENDED, REJECTED, WAITING
from services.units import path_ids
from storage import digests as digest_queries
from storage.db import make_engine, reading, upgrade
from storage.models import DigestSetting, Unit
from storage.types import UTCDateTime
from views.charts import draw
from views.digest import digest_chart

TARGET_MS = 1000.0  # on PostgreSQL
TARGET_RATIO = 1.5
PERIODS = ("weekly", "monthly")
# The baseline: what one would write by hand for the digest's totals. Its values are
# sent inlined, so that PostgreSQL plans it for them every time, never with a generic
# plan for a prepared statement (psycopg prepares a statement run five times).
_WAITING = ", ".join(f"'{status}'" for status in WAITING)  # under review is waiting too
BASELINE = text(
    f"""
    SELECT
      count(CASE WHEN i.submitted_at >= :start AND i.submitted_at < :end THEN 1 END),
      count(CASE WHEN i.decided_at >= :start AND i.decided_at < :end
                  AND i.status IN ('{APPROVED}', '{RECOMMENDED}') THEN 1 END),
      count(CASE WHEN i.decided_at >= :start AND i.decided_at < :end
                  AND i.status = '{REJECTED}' THEN 1 END),
      count(CASE WHEN i.status IN ({_WAITING}) THEN 1 END),
      count(CASE WHEN i.status IN ({_WAITING})
                  AND i.waiting_since < :overdue_before THEN 1 END),
      coalesce(sum(CASE WHEN i.submitted_at >= :start AND i.submitted_at < :end
                        THEN i.estimated_benefit_vnd END), 0),
      coalesce(sum(CASE WHEN i.decided_at >= :start AND i.decided_at < :end
                         AND i.status IN ('{APPROVED}', '{RECOMMENDED}')
                        THEN i.verified_benefit_vnd END), 0)
    FROM initiative i
    JOIN unit u ON u.id = i.unit_id
    WHERE u.path LIKE :subtree
      AND (i.submitted_at >= :start AND i.submitted_at < :end
           OR i.decided_at >= :start AND i.decided_at < :end
           OR i.status IN ({_WAITING}))
    """
).bindparams(
    bindparam("start", type_=UTCDateTime, literal_execute=True),
    bindparam("end", type_=UTCDateTime, literal_execute=True),
    bindparam("overdue_before", type_=UTCDateTime, literal_execute=True),
    bindparam("subtree", type_=String, literal_execute=True),
)


@dataclass(frozen=True)
class Period:
    """A digest to time: the scope, the period and the settings it is built with."""

    name: str
    scope: Unit
    start: datetime
    end: datetime
    now: datetime
    sla_days: int
    zone: ZoneInfo


@dataclass(frozen=True)
class Row:
    """One timed thing: its samples, and the baseline's if it is compared with one."""

    period: str
    label: str
    samples: list[float]
    baseline: list[float] | None = None


def periods(engine: Engine, settings: Settings) -> list[Period]:
    """Return the last weekly and monthly periods at NOW, for the federation."""
    with reading(engine) as session:
        root = session.get(Unit, 1)
        assert root is not None
    zone = settings.tz
    found = []
    for frequency in PERIODS:
        setting = DigestSetting(member_id=0, frequency=frequency, at_hour=8, weekday=0)
        start, end = digest_schedule.latest_period(setting, digest_data.NOW, zone)
        found.append(
            Period(frequency, root, start, end, digest_data.NOW, settings.review_sla_days, zone)
        )
    return found


def build(engine: Engine, period: Period) -> digests.Digest:
    """Build the digest of the period, in its own reading session as the bot would."""
    with reading(engine) as session:
        return digests.build(
            session=session,
            scope=period.scope,
            start=period.start,
            end=period.end,
            now=period.now,
            sla_days=period.sla_days,
            zone=period.zone,
        )


def baseline(engine: Engine, period: Period) -> tuple[int, ...]:
    """Compute the digest's totals with the one hand-written query."""
    params = {
        "start": period.start,
        "end": period.end,
        "overdue_before": period.now - timedelta(days=period.sla_days),
        "subtree": f"{period.scope.path}%",
    }
    with reading(engine) as session:
        row = session.execute(BASELINE, params).one()
    return tuple(int(n) for n in row)


def parts(engine: Engine, period: Period) -> dict[str, Callable[[], object]]:
    """Return what digests.build does, piece by piece, each in its own session."""
    p = period

    def part(work: Callable[[Any], object]) -> Callable[[], object]:
        def run() -> object:
            with reading(engine) as session:
                return work(session)

        return run

    overdue_before = p.now - timedelta(days=p.sla_days)
    return {
        "  counts per unit": part(
            lambda s: digest_queries.counts_per_unit(
                session=s,
                statement=digests.counts_statement(),
                path=p.scope.path,
                start=p.start,
                end=p.end,
                overdue_before=overdue_before,
            )
        ),
        "  units of the subtree": part(
            lambda s: digest_queries.units_under(session=s, path=p.scope.path)
        ),
        "  campaigns and progress": part(
            lambda s: campaigns.progress_of(
                session=s,
                campaigns=digest_queries.running_campaigns(
                    session=s, path=p.scope.path, above=path_ids(p.scope), now=p.now
                ),
            )
        ),
        "  top 3": part(
            lambda s: digest_queries.best_decided(
                session=s,
                path=p.scope.path,
                start=p.start,
                end=p.end,
                statuses=digests.RECOGNIZED,
                limit=digests.TOP_INITIATIVES,
            )
        ),
        "  submissions per day": part(
            lambda s: digests.daily(
                session=s, scope=p.scope, start=p.start, end=p.end, zone=p.zone
            )
        ),
    }


def sample(contenders: dict[str, Callable[[], object]], repeat: int) -> dict[str, list[float]]:
    """Time each contender `repeat` times (ms) after one warm-up, taking turns."""
    for work in contenders.values():
        work()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeat):
        for name, work in contenders.items():
            started = time.perf_counter()
            work()
            times[name].append((time.perf_counter() - started) * 1000)
    return times


def generic_plans(url: str) -> Engine:
    """Return an engine whose PostgreSQL sessions prepare every statement, planned generically.

    That is where a long-running bot ends up: psycopg prepares a statement once it ran
    five times on a connection, and PostgreSQL may then plan it without the values.
    """
    options = {"prepare_threshold": 0, "options": "-c plan_cache_mode=force_generic_plan"}
    return create_engine(url, connect_args=options, hide_parameters=True)


def measure(engine: Engine, period: Period, repeat: int, generic: Engine | None) -> list[Row]:
    """Check the digest against the baseline, then time both, the parts and the chart."""
    digest = build(engine, period)
    expected = baseline(engine, period)
    if astuple(digest.totals) != expected:
        raise SystemExit(f"{period.name}: digest {digest.totals} != baseline {expected}")
    contenders = {
        "digest": lambda: build(engine, period),
        "baseline": lambda: baseline(engine, period),
    }
    if generic is not None:
        contenders["generic"] = lambda: build(generic, period)
    whole = sample(contenders, repeat)
    pieces = sample(parts(engine, period), repeat)
    plain = digest_chart(digest, Catalogs(), "en")
    chart = sample({"chart": lambda: draw(plain)}, repeat)
    rows = [Row(period.name, "digests.build", whole["digest"], whole["baseline"])]
    if generic is not None:
        rows.append(
            Row(period.name, "digests.build, generic plans", whole["generic"], whole["baseline"])
        )
    return [
        *rows,
        *(Row(period.name, label, times) for label, times in pieces.items()),
        Row(period.name, "baseline query", whole["baseline"]),
        Row(period.name, "chart (matplotlib)", chart["chart"]),
    ]


def table(title: str, rows: Sequence[Row], backend: str) -> str:
    """Format one backend's rows; the target applies to digests.build."""
    limit = f"< {TARGET_MS:.0f} ms, " if backend == "postgresql" else ""
    head = ("period", "timed", "median ms", "min ms", "baseline ms", "ratio", "target")
    head = (*head[:-1], f"target {limit}≤ {TARGET_RATIO}x")
    lines = []
    width = max(len(row.label) for row in rows)
    for row in rows:
        median = statistics.median(row.samples)
        cells = [row.period, row.label.ljust(width), f"{median:.1f}", f"{min(row.samples):.1f}"]
        if row.baseline is None:
            cells += ["", "", ""]
        else:
            base = statistics.median(row.baseline)
            ratio = median / base
            fast = backend != "postgresql" or median < TARGET_MS
            verdict = "ok" if fast and ratio <= TARGET_RATIO else "MISSED"
            cells += [f"{base:.1f}", f"{ratio:.2f}", verdict]
        lines.append(cells)
    return render(title, head, lines)


def run_backend(backend: str, args: argparse.Namespace) -> str:
    """Load a fresh database of the backend, time everything and return its table."""
    settings = Settings(_env_file=None)
    with (
        tempfile.TemporaryDirectory(prefix="initiative-bot-bench-") as tmp,
        database(backend, Path(tmp)) as url,
    ):
        upgrade(url)
        engine = make_engine(url)
        generic = generic_plans(url) if backend == "postgresql" else None
        try:
            started = time.perf_counter()
            digest_data.load(engine, args.initiatives, args.units)
            loaded = time.perf_counter() - started
            rows = []
            chosen = periods(engine, settings)
            for period in chosen:
                rows += measure(engine, period, args.repeat, generic)
        finally:
            engine.dispose()
            if generic is not None:
                generic.dispose()
    spans = ", ".join(
        f"{p.name} {p.start.astimezone(p.zone):%Y-%m-%d}–{p.end.astimezone(p.zone):%Y-%m-%d}"
        for p in chosen
    )
    title = (
        f"\n{BACKENDS[backend]}: {args.initiatives:,} initiatives in {args.units:,} units "
        f"(loaded and analyzed in {loaded:.0f} s); {spans}; "
        f"median and min of {args.repeat} runs after a warm-up"
    )
    return table(title, rows, backend)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.digest", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--initiatives", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each thing")
    add_backends(parser)
    args = parser.parse_args(argv)
    args.backends = chosen_backends(parser, args.backends)
    if args.initiatives < 1 or args.units < 10 or args.repeat < 1:
        parser.error("need at least 1 initiative, 10 units and 1 run")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark on every chosen backend and print a table for each."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for backend in args.backends:
        print(run_backend(backend, args), flush=True)


if __name__ == "__main__":
    main()
