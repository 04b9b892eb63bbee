"""Child processes of the benchmark: the sandbox, the echo bot and our bot.

Each runs in its own interpreter, as it would in production, so that no two share a
GIL and the load generator's CPU time is charged to none of them.
`python -m bench.processes` serves the sandbox with flood limits off and prints its URL.
"""

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from pathlib import Path

from sandbox.limits import Limits
from sandbox.server import SandboxConfig, keep_records_out_of_collections, running

START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
PROJECT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int | str = "self") -> float:
    """Return a process's peak resident memory in MiB: Linux's VmHWM, its own even
    after fork and exec (ru_maxrss would keep the parent's peak across them)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc (Linux only)")


@asynccontextmanager
async def child(
    *args: str, env: Mapping[str, str] | None = None, ready: bool = True
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """Run `python ARGS` until the block ends (SIGTERM, then SIGKILL).

    With `ready`, wait for the child's first line of output and yield it with the process.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=PROJECT,
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        line = b""
        if ready:
            line = await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT)
            if not line:
                raise RuntimeError(f"{' '.join(args)} exited before it was ready")
        yield process, line.decode().strip()
    finally:
        with suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()


def cpu_seconds(pid: int) -> float:
    """Return the user + system CPU time a running process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


@asynccontextmanager
async def sandbox_process() -> AsyncIterator[str]:
    """Run the sandbox in a child process while the block runs; yield its base URL."""
    async with child("-m", "bench.processes") as (_, url):
        yield url


async def serve() -> None:
    """Serve the sandbox and print its URL until SIGTERM."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    config = SandboxConfig(Limits(bot_per_second=0, private_per_second=0, group_per_minute=0))
    async with running(config) as url:
        print(url, flush=True)
        frozen = asyncio.create_task(keep_records_out_of_collections())
        await stop.wait()
        frozen.cancel()


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's
    asyncio.run(serve())
