"""Fewer PostgreSQL parallel workers for the admin's bulk reads (issue 15).

/statistik's month counts and the export's COPY are the only statements that read a year of
reports; PostgreSQL plans them with parallel workers (up to ``max_parallel_workers_per_gather``,
2 by default), each a backend process of its own. On a host of a few cores those backends take
the cores the bot's own process needs for the citizens' replies while they run. One worker
instead of two keeps most of the speed-up and leaves a core free (figures: bench/README.md,
"Parallel workers for the admin's reads"). ``SET LOCAL``: it ends with the transaction, so the
pooled connection is back to the server's setting for whoever uses it next.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

# max_parallel_workers_per_gather for the admin's bulk reads; the server's default is 2.
ADMIN_PARALLEL_WORKERS = 1


async def limit_parallel_workers(conn: AsyncConnection) -> None:
    """For the rest of ``conn``'s transaction (which this begins): at most
    ``ADMIN_PARALLEL_WORKERS`` parallel workers per statement. Nothing on SQLite."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text(f"SET LOCAL max_parallel_workers_per_gather = {int(ADMIN_PARALLEL_WORKERS)}"))
