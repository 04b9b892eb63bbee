"""The export of a province's initiatives: XLSX streamed in flat memory, against the CSV.

    python -m bench.export [--sizes 100000,1000000] [--backends sqlite,postgresql]

For each backend and size, a fresh database gets bench.digest_data's federation with
that many initiatives (drafts are never exported, so a few fewer rows come out), then
`initiative-bot export` runs in a process of its own, once writing the XLSX workbook
and once the CSV (the plain streaming export: the baseline in the same run). The table
shows the time, rows a second, the process's peak memory and the file's size; the
target is memory flat in the number of initiatives (the largest size within 1.25 times
the smallest size's peak).
"""

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from bench import digest_data
from bench.databases import add_backends, chosen_backends, database
from bench.processes import peak_rss_mb
from bench.tables import render
from storage.db import make_engine, upgrade

UNITS = 2_000
FLAT = 1.25  # the largest size's peak memory at most this many times the smallest's
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Run:
    """One export: what it wrote and what it cost."""

    backend: str
    size: int
    fmt: str
    rows: int
    seconds: float
    peak_mb: float
    file_mb: float


def load(url: str, size: int) -> int:
    """Fill a fresh database; return how many initiatives an export holds."""
    upgrade(url)
    engine = make_engine(url)
    try:
        digest_data.load(engine, size, UNITS)
        with engine.connect() as connection:
            query = text("SELECT count(*) FROM initiative WHERE status <> 'draft'")
            return int(connection.execute(query).scalar_one())
    finally:
        engine.dispose()


def export(url: str, fmt: str, output: Path) -> tuple[float, float]:
    """Run `initiative-bot export` in a child; return its seconds and peak memory (MB)."""
    env = {**os.environ, "DATABASE_URL": url, "DEFAULT_LANGUAGE": "vi", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "bot", "export", "--format", fmt, "--output", str(output)]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    # The child's own high-water mark (VmHWM), read until it ends: ru_maxrss would keep
    # this process's peak across fork and exec.
    peak = 0.0
    while process.poll() is None:
        with contextlib.suppress(FileNotFoundError, RuntimeError, ProcessLookupError):
            peak = max(peak, peak_rss_mb(process.pid))
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"export --format {fmt} failed with status {process.returncode}")
    return seconds, peak


def measure(backend: str, size: int) -> list[Run]:
    """Load `size` initiatives into a fresh database and export them both ways."""
    runs = []
    with tempfile.TemporaryDirectory(prefix="initiative-bot-export-") as tmp:
        folder = Path(tmp)
        with database(backend, folder) as url:
            rows = load(url, size)
            for fmt in ("csv", "xlsx"):
                output = folder / f"export.{fmt}"
                seconds, peak = export(url, fmt, output)
                size_mb = output.stat().st_size / 2**20
                runs.append(Run(backend, size, fmt, rows, seconds, peak, size_mb))
                print(f"  {backend} {size:,} {fmt}: {seconds:.1f} s", file=sys.stderr)
    return runs


def table(runs: Sequence[Run]) -> str:
    """Format every run, with the flat-memory verdict per backend and format."""
    smallest: dict[tuple[str, str], float] = {}
    for run in sorted(runs, key=lambda r: r.size):
        smallest.setdefault((run.backend, run.fmt), run.peak_mb)
    head = (
        "backend",
        "initiatives",
        "format",
        "rows",
        "seconds",
        "rows/s",
        "peak MB",
        "file MB",
        f"peak vs smallest (≤ {FLAT})",
    )
    lines = []
    for run in runs:
        growth = run.peak_mb / smallest[(run.backend, run.fmt)]
        verdict = f"{growth:.2f} {'ok' if growth <= FLAT else 'MISSED'}"
        lines.append(
            (
                run.backend,
                f"{run.size:,}",
                run.fmt,
                f"{run.rows:,}",
                f"{run.seconds:.1f}",
                f"{run.rows / run.seconds:,.0f}",
                f"{run.peak_mb:.0f}",
                f"{run.file_mb:.0f}",
                verdict,
            )
        )
    return render("\nExport: XLSX (streamed) against CSV, one process each", head, lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Measure every chosen backend and size, then print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.export", description=__doc__)
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated sizes")
    add_backends(parser)
    args = parser.parse_args(argv)
    backends = chosen_backends(parser, args.backends)
    try:
        sizes = sorted(int(size) for size in args.sizes.split(",") if size.strip())
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        parser.error("--sizes takes positive numbers, e.g. 100000,1000000")
    runs = [run for backend in backends for size in sizes for run in measure(backend, size)]
    print(table(runs), flush=True)


if __name__ == "__main__":
    main()
