"""A federation's two years of initiatives, generated and bulk-loaded for bench.digest.

The data is deterministic (one seed), so both backends get the same rows. Times are
generated as seconds since the start of the two years and stored as naive UTC, the
way `storage.types.UTCDateTime` stores them. Rows go in with COPY on PostgreSQL and
with one big executemany on SQLite, bypassing the ORM.
"""

import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.dialects.sqlite import DATETIME
from sqlmodel import SQLModel

from services.initiatives import (
    APPROVED,
    CHANGES_REQUESTED,
    DRAFT,
    FIELDS,
    RECOMMENDED,
    REJECTED,
    SUBMITTED,
    UNDER_REVIEW,
)
from services.levels import LEVELS
from storage.types import UTCDateTime

# Monday 08:00 in Vietnam (UTC+7, no daylight saving time): weekly digests go out.
NOW = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
DAYS = 730
DAY = 86_400.0
# The data starts at a local midnight, DAYS days before the day of NOW; times are
# seconds since then (stored naive UTC), so day k of the data starts at k * DAY.
_START = datetime(2026, 11, 29, 17, 0, tzinfo=UTC).replace(tzinfo=None) - timedelta(days=DAYS)
_NOW = (NOW.replace(tzinfo=None) - _START).total_seconds()
_SUNDAY = (6 - (_START + timedelta(hours=7)).weekday()) % 7  # the first Sunday's day
SEED = 20261130
ZONES = 30
MEMBERS_PER_UNIT = 8
BATCH = 20_000
_TABLES = SQLModel.metadata.tables

UNIT_COLUMNS = ("id", "parent_id", "name", "kind", "path", "created_at")
MEMBER_COLUMNS = ("id", "unit_id", "display_name", "language", "consent_at", "created_at")
CAMPAIGN_COLUMNS = (
    "id",
    "unit_id",
    "name",
    "starts_at",
    "ends_at",
    "target_count",
    "target_benefit_vnd",
    "created_by",
    "created_at",
)
INITIATIVE_COLUMNS = (
    "id",
    "unit_id",
    "submitter_id",
    "status",
    "title",
    "problem",
    "solution",
    "field",
    "estimated_benefit_vnd",
    "applied",
    "confidential",
    "created_at",
    "updated_at",
    "submitted_at",
    "review_unit_id",
    "level",
    "verified_benefit_vnd",
    "waiting_since",
    "decided_at",
    "campaign_id",
)
THINGS = ("máy dán nhãn", "băng tải", "khuôn ép", "dây chuyền sơn", "lò sấy", "máy cắt")
PROBLEMS = (
    "Máy thường xuyên dừng vì kẹt nguyên liệu, mỗi ca mất khoảng 40 phút.",
    "Tỷ lệ sản phẩm lỗi cao ở công đoạn hoàn thiện, phải làm lại nhiều.",
    "Công nhân phải cúi người nhiều lần, dễ đau lưng và mất an toàn.",
    "Điện năng tiêu thụ lớn vào giờ cao điểm, chi phí tăng mỗi tháng.",
)
SOLUTIONS = (
    "Lắp thêm cảm biến và bộ gạt tự động, chỉnh lại tốc độ băng tải.",
    "Thiết kế đồ gá mới bằng vật liệu có sẵn trong xưởng, chi phí thấp.",
    "Sắp xếp lại vị trí thao tác và thêm bàn nâng điều chỉnh độ cao.",
    "Chuyển lịch chạy máy sang giờ thấp điểm và thay đèn tiết kiệm điện.",
)


def at(seconds: float) -> datetime:
    """Return the stored (naive UTC) time `seconds` after the start of the two years."""
    return _START + timedelta(seconds=seconds)


@dataclass
class Federation:
    """The unit tree, its members and campaigns, as rows ready to load."""

    units: list[tuple[Any, ...]]
    members: list[tuple[Any, ...]]
    campaigns: list[tuple[Any, ...]]
    zone_of: dict[int, int]  # unit id -> index of its zone
    parent_of: dict[int, int]
    weights: list[tuple[int, float]]  # units that submit, and how much
    zone_campaigns: list[list[tuple[float, float, int]]]  # per zone: (start, end, id)


def federation(unit_count: int, rng: random.Random) -> Federation:
    """Build root > zones > enterprises > workshops, with members and campaigns."""
    zones = max(1, min(ZONES, (unit_count - 1) // 30))
    enterprises = min(5 * zones, max(zones, (unit_count - 1 - zones) // 6))
    workshops = unit_count - 1 - zones - enterprises
    created = at(0) - timedelta(days=30)
    units: list[tuple[Any, ...]] = [
        (1, None, "Liên đoàn Lao động tỉnh", "federation", "/1/", created)
    ]
    paths: dict[int, str] = {1: "/1/"}
    zone_of: dict[int, int] = {}
    parent_of: dict[int, int] = {}
    weights: list[tuple[int, float]] = []

    def add(parent: int, name: str, kind: str, zone: int, weight: float) -> int:
        unit_id = len(units) + 1
        paths[unit_id] = f"{paths[parent]}{unit_id}/"
        units.append((unit_id, parent, name, kind, paths[unit_id], created))
        zone_of[unit_id], parent_of[unit_id] = zone, parent
        if weight:
            weights.append((unit_id, weight))
        return unit_id

    zone_ids = [add(1, f"LĐLĐ khu vực {z + 1}", "zone_union", z, 0) for z in range(zones)]
    enterprise_ids = [
        add(zone_ids[e % zones], f"Công ty {e + 1}", "enterprise", e % zones, 0.3)
        for e in range(enterprises)
    ]
    for w in range(workshops):
        parent = enterprise_ids[w % enterprises]
        add(parent, f"Xưởng {w + 1}", "workshop", zone_of[parent], 0.0)
        weights.append((len(units), min(rng.paretovariate(1.3), 20.0)))
    members = [
        (m, u, f"Công nhân {m}", "vi", created, created)
        for u in range(1, len(units) + 1)
        for m in range((u - 1) * MEMBERS_PER_UNIT + 1, u * MEMBERS_PER_UNIT + 1)
    ]
    campaigns, per_zone = _campaigns(zone_ids, rng)
    return Federation(units, members, campaigns, zone_of, parent_of, weights, per_zone)


def _campaigns(
    zone_ids: Sequence[int], rng: random.Random
) -> tuple[list[tuple[Any, ...]], list[list[tuple[float, float, int]]]]:
    """Quarterly federation campaigns (the last one running now) and zone campaigns."""
    rows: list[tuple[Any, ...]] = []
    spans: list[tuple[int, float, float]] = []  # (unit, start, end) in seconds

    def add(unit_id: int, name: str, start_day: float, end_day: float) -> None:
        start, end = start_day * DAY, end_day * DAY  # local midnights
        created_by = (unit_id - 1) * MEMBERS_PER_UNIT + 1
        target = rng.choice((500, 1000, 2000, 5000))
        row = (len(rows) + 1, unit_id, name, at(start), at(end), target, target * 50_000_000)
        rows.append((*row, created_by, at(start - 7 * DAY)))
        spans.append((unit_id, start, end))

    for n, start_day in enumerate((30, 210, 390, 570, DAYS - 60)):
        add(1, f"Đợt thi đua {n + 1}", start_day, start_day + 95)
    for z, zone_id in enumerate(zone_ids):
        start_day = rng.randrange(20, DAYS - 120)
        add(zone_id, f"Thi đua khu vực {z + 1}", start_day, start_day + rng.randrange(30, 61))
        if z % 3 == 0:
            start_day = DAYS - rng.randrange(20, 41)
            add(zone_id, f"Thi đua cuối năm {z + 1}", start_day, DAYS + rng.randrange(10, 41))
    per_zone = [
        [(s, e, i + 1) for i, (u, s, e) in enumerate(spans) if u in (1, zone_id)]
        for zone_id in zone_ids
    ]
    return rows, per_zone


def submission_times(count: int, rng: random.Random) -> Iterator[float]:
    """Yield `count` submission times in order, on working hours, more and more of them.

    Days get half an even share and half a share growing linearly over the two years
    (the last weeks see 1.5x the average); Sundays get 30% of a weekday.
    """
    weights = [
        (0.5 + (day + 0.5) / DAYS) * (0.3 if day % 7 == _SUNDAY else 1.0) for day in range(DAYS)
    ]
    total, done, share = sum(weights), 0, 0.0
    for day, weight in enumerate(weights):
        share += weight
        today = round(count * share / total) - done
        done += today
        for hours in sorted(rng.uniform(7, 17) for _ in range(today)):
            yield min(day * DAY + hours * 3600, _NOW - 60)


def initiatives(count: int, tree: Federation, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    """Yield `count` initiatives as rows in INITIATIVE_COLUMNS order, ids in submission order.

    Most are decided within weeks, a few wait for months; some approved ones go up a level.
    """
    now = _NOW
    unit_ids = [u for u, _ in tree.weights]
    cumulative, total = [], 0.0
    for _, weight in tree.weights:
        total += weight
        cumulative.append(total)
    for row_id, sent in enumerate(submission_times(count, rng), start=1):
        unit = rng.choices(unit_ids, cum_weights=cumulative)[0]
        submitter = (unit - 1) * MEMBERS_PER_UNIT + rng.randrange(MEMBERS_PER_UNIT) + 1
        created = max(0.0, sent - rng.expovariate(1 / (2 * DAY)))
        estimated = _money(rng) if rng.random() < 0.85 else None
        status, updated, review_unit = SUBMITTED, sent, unit
        submitted: float | None = sent
        waiting: float | None = sent
        decided: float | None = None
        level: str | None = None
        verified: int | None = None
        campaign = _campaign(tree.zone_campaigns[tree.zone_of[unit]], sent, rng)
        fate = rng.random()
        answer = sent + rng.expovariate(1 / (9 * DAY))
        if fate < 0.04:  # never submitted
            status, created, submitted, waiting, campaign = DRAFT, sent, None, None, None
        elif fate < 0.055 or answer > now:  # stuck, or not decided yet
            pass
        elif fate < 0.11:
            status, waiting, updated = CHANGES_REQUESTED, None, answer
        elif fate < 0.12:
            status, waiting, updated = UNDER_REVIEW, None, answer
        elif fate < 0.36:
            status, waiting, decided, updated = REJECTED, None, answer, answer
        else:
            status, waiting, decided, updated = APPROVED, None, answer, answer
            level, verified = LEVELS[0], _verified(estimated, rng)
            up = answer + rng.expovariate(1 / (3 * DAY))
            above = up + rng.expovariate(1 / (12 * DAY))
            if fate > 0.9 and up < now:  # recommended to the council above
                review_unit = tree.parent_of.get(unit, unit)
                if above > now or fate > 0.99:
                    status, waiting, updated = RECOMMENDED, up, up
                else:
                    decided, updated = above, above
                    level = rng.choice(LEVELS[:2])
        yield (
            row_id,
            unit,
            submitter,
            status,
            f"Cải tiến {rng.choice(THINGS)} số {row_id}",
            rng.choice(PROBLEMS),
            rng.choice(SOLUTIONS),
            rng.choice(FIELDS),
            estimated,
            status == APPROVED or None,
            rng.random() < 0.03,
            at(created),
            at(updated),
            None if submitted is None else at(submitted),
            None if status == DRAFT else review_unit,
            level,
            verified,
            None if waiting is None else at(waiting),
            None if decided is None else at(decided),
            campaign,
        )


def _money(rng: random.Random) -> int:
    """An annual benefit in VND: median 40 million, rounded to thousands."""
    return int(round(min(rng.lognormvariate(17.5, 1.2), 5e11), -3))


def _verified(estimated: int | None, rng: random.Random) -> int | None:
    if rng.random() < 0.1:
        return None
    base = estimated if estimated is not None else _money(rng)
    return int(round(base * rng.uniform(0.4, 1.1), -3))


def _campaign(
    spans: Sequence[tuple[float, float, int]], submitted: float, rng: random.Random
) -> int | None:
    running = [i for start, end, i in spans if start <= submitted < end]
    return rng.choice(running) if running else None


Rows = Callable[[int, Federation, random.Random], Iterable[tuple[Any, ...]]]


def load(engine: Engine, initiative_count: int, unit_count: int, rows: Rows | None = None) -> None:
    """Load the federation and its initiatives (`rows`: other ones, in the same columns)
    into a migrated, empty database."""
    rng = random.Random(SEED)
    tree = federation(unit_count, rng)
    write = _copy if engine.dialect.name == "postgresql" else _executemany
    write(engine, "unit", UNIT_COLUMNS, tree.units)
    write(engine, "member", MEMBER_COLUMNS, tree.members)
    write(engine, "campaign", CAMPAIGN_COLUMNS, tree.campaigns)
    made = (rows or initiatives)(initiative_count, tree, rng)
    write(engine, "initiative", INITIATIVE_COLUMNS, made)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            for name in ("unit", "member", "campaign", "initiative"):
                sequence = f"pg_get_serial_sequence('{name}', 'id')"
                connection.execute(text(f"SELECT setval({sequence}, max(id)) FROM {name}"))
        # Autovacuum does this after a bulk load; VACUUM also lets index-only scans work.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))


def _copy(
    engine: Engine, name: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    raw = engine.raw_connection()
    try:
        psycopg_connection = raw.driver_connection
        assert psycopg_connection is not None
        with (
            psycopg_connection.cursor() as cursor,
            cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        psycopg_connection.commit()
    finally:
        raw.close()


def _executemany(
    engine: Engine, name: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    stamp = DATETIME().bind_processor(engine.dialect)  # type: ignore[no-untyped-call]  # the text SQLAlchemy stores
    assert stamp is not None
    times = [i for i, c in enumerate(columns) if isinstance(_TABLES[name].c[c].type, UTCDateTime)]

    def stored(row: tuple[Any, ...]) -> tuple[Any, ...]:
        values = list(row)
        for i in times:
            if values[i] is not None:
                values[i] = stamp(values[i])
        return tuple(values)

    sql = f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("BEGIN")
        iterator = iter(rows)
        while batch := list(islice(iterator, BATCH)):
            cursor.executemany(sql, [stored(row) for row in batch])
        cursor.execute("COMMIT")
        cursor.close()
    finally:
        raw.close()
