"""Run the sandbox in a child process, so that its CPU time is not charged to the bots.

`python -m bench.sandbox_process` serves the sandbox with flood limits off, prints its
base URL and stops when its standard input closes.
"""

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.sandbox.limits import Limits
from bot.sandbox.server import SandboxConfig, running

START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
PROJECT = Path(__file__).resolve().parents[1]


async def serve() -> None:
    """Serve the sandbox and print its URL; return when standard input closes."""
    config = SandboxConfig(Limits(bot_per_second=0, private_per_second=0, group_per_minute=0))
    async with running(config) as url:
        print(url, flush=True)
        await asyncio.to_thread(sys.stdin.read)


@asynccontextmanager
async def sandbox_process() -> AsyncIterator[str]:
    """Run the sandbox in a child process while the block runs; yield its base URL."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.sandbox_process",
        cwd=PROJECT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT)
        if not line:
            raise RuntimeError("the sandbox process exited before it served")
        yield line.decode().strip()
    finally:
        process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's; it closes stdin
    asyncio.run(serve())
