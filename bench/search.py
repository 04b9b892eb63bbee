"""/search over a million initiatives: the index against a plain LIKE scan (issue 19).

    python -m bench.search [--initiatives 1000000] [--queries 300] [--backends sqlite,postgresql]

Loads bench.digest_data's federation with initiatives whose titles and solutions are
drawn from a factory vocabulary, builds the search index, then times, for the same
queries typed without accents by members of random workshops:

- our search: `services.search.find`, what /search runs (the index, then loading and
  ranking up to 200 candidates in Python);
- its index part alone: `storage.search.matching`, the ids of the newest 200 matches;
- a plain LIKE scan: the recognized initiatives of the same enterprise whose title or
  solution contains the accented phrase (`LIKE '%khuôn ép%'`), newest 200 first. It
  cannot fold accents, so it finds less; it is the speed baseline.

Prints p50 and p99 per backend and method, and how many of the queries found anything.
"""

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, text
from sqlmodel import Session

from bench import digest_data
from bench.databases import BACKENDS, add_backends, chosen_backends, database
from bench.tables import render
from core.folding import fold, syllables
from services.search import CANDIDATES, RECOGNIZED, find, organization_of
from storage import search
from storage.db import make_engine, reading, upgrade
from storage.models import Member
from storage.units import unit_by_id

ACTIONS = (
    "Đồ gá thay khuôn nhanh",
    "Lắp cảm biến dừng tự động",
    "Hệ thống hút bụi",
    "Bộ đếm sản phẩm tự động",
    "Che chắn an toàn",
    "Tưới nguội tự động",
    "Lắp biến tần tiết kiệm điện",
    "Giảm tiếng ồn",
    "Thu hồi nhiệt thải",
    "Máng dẫn phôi",
    "Tháp đèn báo trạng thái",
    "Cữ dẫn hướng",
    "Bôi trơn tự động",
    "Kẹp phôi nhanh",
    "Giảm phế phẩm bavia",
    "Camera kiểm tra lỗi",
    "Bàn nâng hạ",
    "Hẹn giờ tắt",
    "Chống rò rỉ khí nén",
    "Nhắc bảo trì theo giờ chạy",
)
MACHINES = (
    "máy ép nhựa",
    "máy dập",
    "máy CNC",
    "máy tiện",
    "máy phay",
    "máy hàn",
    "băng tải",
    "máy đóng gói",
    "lò sấy",
    "máy nén khí",
    "máy cắt vải",
    "máy may",
    "máy in lụa",
    "máy chiết rót",
    "xe nâng",
    "robot hàn",
    "máy khoan",
    "máy mài",
    "máy uốn ống",
    "máy cắt laser",
    "máy phun sơn",
    "lò hơi",
    "bơm nước làm mát",
    "máy dệt",
    "máy nghiền",
)
SOLUTIONS = (
    "Dùng cảm biến quang và rơ le thời gian, chi phí thấp.",
    "Chế tạo từ thép tấm có sẵn trong xưởng, lắp trong một ca.",
    "Lập trình lại PLC, thêm nút dừng khẩn cấp.",
    "Thay động cơ bằng động cơ servo, giảm điện năng.",
    "Làm khung nhôm định hình, dễ tháo lắp khi bảo trì.",
    "Gắn van điện từ và bộ hẹn giờ.",
)
TITLE, SOLUTION = 4, 6  # their places in digest_data.INITIATIVE_COLUMNS
BATCH = 10_000


def worded(count: int, tree: digest_data.Federation, rng: random.Random) -> Iterator[Any]:
    """Yield digest_data's initiatives with titles and solutions from the vocabulary."""
    words = random.Random(19)
    for row in digest_data.initiatives(count, tree, rng):
        values = list(row)
        values[TITLE] = (
            f"{words.choice(ACTIONS)} {words.choice(MACHINES)} số {words.randint(1, 9)}"
        )
        values[SOLUTION] = words.choice(SOLUTIONS)
        yield tuple(values)


def build_index(engine: Engine, count: int) -> float:
    """Index every initiative, in batches; return the seconds it took."""
    started = time.perf_counter()
    postgres = engine.dialect.name == "postgresql"
    gin = f"ix_{search.TABLE}_document"
    if postgres:  # building the GIN index once is much faster than growing it
        with engine.begin() as connection:
            connection.execute(text(f"DROP INDEX {gin}"))
    for start in range(1, count + 1, BATCH):
        with Session(engine) as session, session.begin():
            ids = list(range(start, min(start + BATCH, count + 1)))
            search.refresh(session=session, initiative_ids=ids)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if postgres:
            connection.execute(text(f"CREATE INDEX {gin} ON {search.TABLE} USING gin (document)"))
            connection.execute(text(f"VACUUM ANALYZE {search.TABLE}"))
        else:
            connection.execute(
                text(f"INSERT INTO {search.TABLE}({search.TABLE}) VALUES ('optimize')")
            )
    return time.perf_counter() - started


def queries(count: int, rng: random.Random) -> list[tuple[str, str]]:
    """Return (accented phrase, what a worker types) pairs: 2 or 3 syllables, no accents."""
    made = []
    for _ in range(count):
        phrase = rng.choice((rng.choice(ACTIONS), rng.choice(MACHINES))).lower().split()
        size = min(len(phrase), rng.choice((2, 2, 3)))
        start = rng.randrange(len(phrase) - size + 1)
        accented = " ".join(phrase[start : start + size])
        made.append((accented, fold(accented)))
    return made


def like_scan(session: Session, member: Member, phrase: str) -> int:
    """The baseline: a LIKE over the recognized initiatives of the member's enterprise."""
    unit = unit_by_id(session=session, unit_id=member.unit_id)
    assert unit is not None
    organization = organization_of(session=session, unit=unit)
    statement = text(
        "SELECT i.id FROM initiative i JOIN unit u ON u.id = i.unit_id"
        " WHERE u.path LIKE :path AND i.status IN :statuses"
        " AND (i.title LIKE :phrase OR i.solution LIKE :phrase)"
        " ORDER BY i.id DESC LIMIT 200"
    ).bindparams(bindparam("statuses", expanding=True))
    params = {"path": f"{organization.path}%", "phrase": f"%{phrase}%", "statuses": RECOGNIZED}
    return len(session.execute(statement, params).all())


def ours(session: Session, member: Member, typed: str) -> int:
    """What /search does."""
    return len(find(session=session, member=member, query=typed))


def index_only(session: Session, member: Member, typed: str) -> int:
    """The index's part of it: the ids of the newest 200 matches, unranked."""
    unit = unit_by_id(session=session, unit_id=member.unit_id)
    assert unit is not None
    organization = organization_of(session=session, unit=unit)
    found = search.matching(
        session=session,
        words=syllables(typed),
        every_word=True,
        unit_id=organization.id or 0,
        statuses=RECOGNIZED,
        limit=CANDIDATES,
    )
    return len(found)


def timed(
    engine: Engine,
    members: list[int],
    asked: list[tuple[str, str]],
    run: Callable[[Session, Member, str], int],
    accented: bool,
) -> tuple[list[float], int]:
    """Run every query once, each in its own read session; return ms and hits."""
    times, hits = [], 0
    for (phrase, typed), member_id in zip(asked, members, strict=True):
        with reading(engine) as session:
            member = session.get(Member, member_id)
            assert member is not None
            started = time.perf_counter()
            found = run(session, member, phrase if accented else typed)
            times.append((time.perf_counter() - started) * 1000)
        hits += found > 0
    return times, hits


def workshop_members(engine: Engine) -> list[int]:
    """Return the ids of the members of workshops: who asks the queries."""
    statement = text(
        "SELECT m.id FROM member m JOIN unit u ON u.id = m.unit_id WHERE u.kind = 'workshop'"
    )
    with reading(engine) as session:
        return [int(row[0]) for row in session.execute(statement)]


def p(times: list[float], q: int) -> float:
    """Return the q-th percentile of `times`."""
    return statistics.quantiles(times, n=100, method="inclusive")[q - 1]


def main() -> None:
    """Load, index, time both methods on each backend, and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--initiatives", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=400)
    parser.add_argument("--queries", type=int, default=300)
    add_backends(parser)
    args = parser.parse_args()
    rows = []
    for backend in chosen_backends(parser, args.backends):
        with tempfile.TemporaryDirectory() as workdir, database(backend, Path(workdir)) as url:
            upgrade(url)
            engine = make_engine(url)
            started = time.perf_counter()
            digest_data.load(engine, args.initiatives, args.units, rows=worded)
            loaded = time.perf_counter() - started
            indexed = build_index(engine, args.initiatives)
            print(f"{BACKENDS[backend]}: loaded in {loaded:.0f} s, indexed in {indexed:.0f} s")
            rng = random.Random(6)
            asked = queries(args.queries, rng)
            workers = workshop_members(engine)
            members = [rng.choice(workers) for _ in asked]
            timed(engine, members[:20], asked[:20], ours, False)  # warm the caches
            for name, run, accented in (
                ("our search", ours, False),
                ("  its index part", index_only, False),
                ("LIKE scan", like_scan, True),
            ):
                times, hits = timed(engine, members, asked, run, accented)
                rows.append(
                    (
                        BACKENDS[backend],
                        name,
                        f"{args.initiatives:,}",
                        f"{p(times, 50):.1f}",
                        f"{p(times, 99):.1f}",
                        f"{hits}/{len(asked)}",
                        "ok" if run is not ours or p(times, 99) < 100 else "MISSED",
                    )
                )
            engine.dispose()
    head = ("backend", "method", "initiatives", "p50 ms", "p99 ms", "found any", "p99 < 100 ms")
    print(render("Search over the initiatives (issue 19)", head, rows))


if __name__ == "__main__":
    main()
