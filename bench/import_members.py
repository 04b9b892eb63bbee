"""Import one province's member list (330,000 people) against a plain load of the same rows.

Each measurement runs in a process of its own, on a fresh database, so that its peak
memory (VmHWM) is its own:

- `executemany`: the file read with csv.reader and its rows inserted as they are, 1,000
  a transaction, by SQLAlchemy Core's executemany (no checks, no matching, no codes);
- `COPY` (PostgreSQL): the same rows through psycopg's COPY, one transaction;
- `import`: `import_members` on the same file (checks, matching, personal codes);
- `import again`: the same import a second time (every row unchanged);
- `import, 1/10` and `import, 2×`: a tenth and twice the rows, to show that the rate and
  the memory do not depend on the file's size.

Each load runs `--rounds` times (3), interleaved with the others, and the best time is
kept: the machine is shared, and a neighbour's burst should not decide a ratio.

Run: python -m bench.import_members [--rows 330000] [--backends sqlite,postgresql]
"""

import argparse
import csv
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert
from sqlmodel import select

from bench.databases import BACKENDS, add_backends, chosen_backends, database
from bench.member_list import people, write_csv
from bench.processes import peak_rss_mb
from bench.tables import render
from services import units
from services.member_import import import_members
from services.sheets import open_sheet
from storage.db import make_engine, reading, transaction, upgrade
from storage.models import RosterEntry, Unit, table

NOW = datetime(2026, 12, 6, tzinfo=UTC)
ZONES, COMPANIES, WORKSHOPS = 6, 25, 6  # 900 workshops under one federation
BATCH = 1000


def tree(units: list[str]) -> None:
    """Fill `units` with the relative paths of the province's workshops."""
    for z in range(1, ZONES + 1):
        for c in range(1, COMPANIES + 1):
            units += [f"KCN {z} / Công ty {z}-{c} / Xưởng {w}" for w in range(1, WORKSHOPS + 1)]


def build_tree(url: str) -> int:
    """Create the province's units in one transaction; return the federation's id."""
    with transaction(make_engine(url)) as session:
        add = partial(units.add_unit, session=session, now=NOW)
        top = add(name="LĐLĐ tỉnh", kind="federation", parent=None)
        for z in range(1, ZONES + 1):
            zone = add(name=f"KCN {z}", kind="zone_union", parent=top)
            for c in range(1, COMPANIES + 1):
                company = add(name=f"Công ty {z}-{c}", kind="enterprise", parent=zone)
                for w in range(1, WORKSHOPS + 1):
                    add(name=f"Xưởng {w}", kind="workshop", parent=company)
        return top.id or 0


def plain_rows(path: Path, organization: int) -> Any:
    """Yield the file's rows as RosterEntry columns, unchecked (the baseline's work)."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for n, name, employee_id, phone, _unit, _language, _roles in reader:
            yield {
                "organization_id": organization,
                "unit_id": organization,
                "name": name,
                "employee_id": employee_id,
                "phone": phone,
                "language": "vi",
                "roles": "worker",
                "code": f"C{n}",
                "member_id": None,
                "created_at": NOW,
                "updated_at": NOW,
            }


def run_executemany(url: str, path: Path, organization: int) -> None:
    """Insert the rows as they are, a batch a transaction."""
    engine = make_engine(url)
    batch: list[dict[str, Any]] = []
    for row in plain_rows(path, organization):
        batch.append(row)
        if len(batch) == BATCH:
            with transaction(engine) as session:
                session.connection().execute(insert(table(RosterEntry)), batch)
            batch = []
    if batch:
        with transaction(engine) as session:
            session.connection().execute(insert(table(RosterEntry)), batch)


def run_copy(url: str, path: Path, organization: int) -> None:
    """Load the rows through PostgreSQL's COPY, in one transaction."""
    import psycopg

    columns = list(next(plain_rows(path, organization)))
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        statement = f"COPY rosterentry ({', '.join(columns)}) FROM STDIN"
        with cursor.copy(statement) as copy:
            for row in plain_rows(path, organization):
                copy.write_row([row[c] for c in columns])


def run_import(url: str, path: Path, organization: int) -> None:
    """Import the file as `initiative-bot import members` does."""
    engine = make_engine(url)
    with reading(engine) as session:
        unit = session.get(Unit, organization)
    assert unit is not None
    errors: list[object] = []
    with open_sheet(path) as sheet:
        import_members(
            engine=engine,
            sheet=sheet,
            organization=unit,
            default_language="vi",
            now=NOW,
            dry_run=False,
            on_error=errors.append,
        )
    assert not errors, errors[:3]


KINDS = {"executemany": run_executemany, "COPY": run_copy, "import": run_import}


def child(kind: str, url: str, path: Path, organization: int, repeat: int) -> None:
    """Run one measurement (`repeat` times, timing the last) and print it as JSON."""
    for _ in range(repeat - 1):
        KINDS[kind](url, path, organization)
    started = time.perf_counter()
    KINDS[kind](url, path, organization)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "peak_mib": peak_rss_mb()}))


def measure(kind: str, url: str, path: Path, organization: int, repeat: int = 1) -> Any:
    """Run a measurement in a fresh process; return its seconds and peak memory."""
    args = [kind, url, str(path), str(organization), str(repeat)]
    done = subprocess.run(
        [sys.executable, "-m", "bench.import_members", "--child", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def entries(url: str) -> int:
    """Return how many roster entries the database holds."""
    engine = make_engine(url)
    with reading(engine) as session:
        count = session.exec(select(func.count()).select_from(RosterEntry)).one()
    engine.dispose()
    return count


def main() -> None:
    """Measure each backend (the best of `--rounds`, loads interleaved) and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=330_000)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each load; best kept")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    add_backends(parser)
    args = parser.parse_args()
    if args.child:
        kind, url, path, organization, repeat = args.child
        child(kind, url, Path(path), int(organization), int(repeat))
        return
    backends = chosen_backends(parser, args.backends)
    shops: list[str] = []
    tree(shops)
    results: list[list[str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        sizes = {"full": args.rows, "tenth": args.rows // 10, "double": args.rows * 2}
        files = {name: Path(tmp) / f"{name}.csv" for name in sizes}
        for name, count in sizes.items():
            write_csv(files[name], people(random.Random(18), count, shops))
        print(f"{args.rows:,} rows, {files['full'].stat().st_size >> 20} MiB", file=sys.stderr)
        for backend in backends:
            plans = [("executemany", "full", 1), ("import", "full", 1)]
            plans += [("import again", "full", 2), ("import, 1/10", "tenth", 1)]
            if backend == "postgresql":
                plans.insert(1, ("COPY", "full", 1))
            best: dict[str, dict[str, float]] = {}
            rounds = [plans] * args.rounds + [[("import, 2×", "double", 1)]]
            for round_plans in rounds:
                for label, size, repeat in round_plans:
                    workdir = Path(tempfile.mkdtemp(dir=tmp))
                    with database(backend, workdir) as url:
                        upgrade(url)
                        organization = build_tree(url)
                        kind = "import" if label.startswith("import") else label
                        got = measure(kind, url, files[size], organization, repeat)
                        assert entries(url) == sizes[size]  # every row, once
                    print(f"{backend} {label}: {got}", file=sys.stderr)
                    kept = best.setdefault(label, got)
                    kept["seconds"] = min(kept["seconds"], got["seconds"])
                    kept["peak_mib"] = max(kept["peak_mib"], got["peak_mib"])
            base = args.rows / best["executemany"]["seconds"]
            labels = [*(label for label, _, _ in plans), "import, 2×"]
            sized = {label: size for label, size, _ in [*plans, ("import, 2×", "double", 1)]}
            for label in labels:
                rows, seconds = sizes[sized[label]], best[label]["seconds"]
                results.append(
                    [
                        BACKENDS[backend],
                        label,
                        f"{rows:,}",
                        f"{seconds:.1f}",
                        f"{rows / seconds:,.0f}",
                        f"{rows / seconds / base:.2f}",
                        f"{best[label]['peak_mib']:.0f}",
                    ]
                )
    head = ["backend", "load", "rows", "best s", "rows/s", "÷ executemany", "peak MiB"]
    print(render("Importing a province's member list", head, results))


if __name__ == "__main__":
    main()
