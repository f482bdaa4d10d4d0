"""The entity draw over several processes: the same picks as ``draw.sampling``, with the
scan of big populations spread over spawned workers of the one pool helper
(``supervision.pools``).

Spawned, not forked: the caller may hold a database connection and threads, which a
worker must not inherit; as with any spawn-based pool, a calling script needs the
``if __name__ == "__main__":`` guard, and each worker re-imports its main module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from decimal import Decimal

from supervision import pools
from supervision.draw.sampling import DrawError, Pick, check_draw, draw_entities
from supervision.draw.scan import ScanResult, ScanTask

# Populations at least this big are scanned in worker processes when workers > 1;
# below it, starting processes costs more than it saves.
PARALLEL_MIN_IDS = 1_000_000
# Chunks in flight per worker: enough to keep every worker busy, few enough that
# memory stays flat whatever the population.
AHEAD_PER_WORKER = 2


def draw_in_processes(
    seed: str,
    strata: Mapping[str, Sequence[str]],
    ratios: Mapping[str, Decimal],
    *,
    workers: int = 1,
) -> list[Pick]:
    """``draw_entities`` with scans of ``PARALLEL_MIN_IDS`` ids or more spread over
    ``workers`` spawned processes (started on the first such scan, once per draw).

    Raises DrawError like ``draw_entities``, and if ``workers`` is below 1.
    """
    check_draw(seed, strata, ratios)  # the same errors first, before any process starts
    if workers < 1:
        raise DrawError("工作进程数必须至少为 1", "workers must be at least 1")
    with ExitStack() as stack:
        pool: ProcessPoolExecutor | None = None

        def scan_map(
            fn: Callable[[ScanTask], ScanResult], tasks: Iterable[ScanTask], /, *, ids: int
        ) -> Iterable[ScanResult]:
            nonlocal pool
            if workers == 1 or ids < PARALLEL_MIN_IDS:
                return map(fn, tasks)
            if pool is None:
                pool = stack.enter_context(pools.process_pool(workers, method="spawn"))
            return pools.in_order(pool, fn, tasks, ahead=AHEAD_PER_WORKER * workers)

        return draw_entities(seed, strata, ratios, scan_map=scan_map)
