"""Where the leader draws digest charts: never on the event loop, never in a transaction.

A chart takes ~115 ms of matplotlib, nearly all of it holding the GIL. In a worker
thread that still slows the event loop serving replies; a pool of processes (created
at the first chart, shut down when the leader stops, at a lower priority) leaves it
alone.
"""

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from views.charts import DigestChart, draw

# Charts can wait: on a machine with few cores the processes serving replies (the bot,
# its database server) come first.
NICENESS = 10


class Drawing:
    """Draw charts in `processes` worker processes, or in a worker thread when 0."""

    def __init__(self, processes: int = 0) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    async def __call__(self, chart: DigestChart) -> bytes:
        """Draw one chart away from the event loop; return the PNG."""
        if not self.processes:
            return await asyncio.to_thread(draw, chart)
        if self._pool is None:
            # Not fork: the bot runs threads (database work, the scheduler), and a forked
            # child could inherit one of their locks held.
            context = multiprocessing.get_context("forkserver")
            # The server would import the main script (`initiative-bot`: the whole bot)
            # to fork the workers from; they need only the charts.
            context.set_forkserver_preload(["views.charts"])
            self._pool = ProcessPoolExecutor(
                self.processes, mp_context=context, initializer=os.nice, initargs=(NICENESS,)
            )
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, draw, chart)
        except BrokenProcessPool:
            self.close()  # a worker died (killed, out of memory): the next chart starts anew
            raise

    def close(self) -> None:
        """Stop the worker processes, if any were started."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
