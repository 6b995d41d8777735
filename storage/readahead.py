"""A table read from the disk at a capped rate before a bulk read, so that the bulk read finds
it in memory (PostgreSQL, issue 15: the export of a year).

Why: the export's COPY reads the whole reports table (a sequential scan, then a sort), and the
sort returns no row before the scan has ended, so nothing the bot does while rows stream can
slow the scan down. On a host whose memory does not hold the table, that scan reads the disk as
fast as it can, and the citizens' commits queue behind it: each waits for its WAL to reach the
disk (bench/README.md, "Export of a year from the disk"). So the table is read first, a few
megabytes at a time in order, pausing between them so that the disk is read at most at
``max_mb_s``; the COPY then runs from the page cache. A chunk that came back faster than
``memory_mb_s`` was in memory already and cost the disk nothing: no pause. On a busy CPU a
cached chunk can come back slower than that and be paced too: an export then takes up to
(table size / ``max_mb_s``) longer, the bound either way (measured at load 12 on 2 cores).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

# Bytes read per statement: small enough that a pause comes every few tens of milliseconds at
# the disk's full speed, large enough that a cached table costs few round trips.
CHUNK_BYTES = 4 * 1024 * 1024
# A chunk read faster than this came from the page cache (the bench's disk gives ~500 MB/s).
MEMORY_MB_S = 1000.0


@dataclass
class ReadAhead:
    """What ``read_ahead`` did: bytes read, of which from the disk (slower than
    ``memory_mb_s``), and seconds paused."""

    bytes: int = 0
    from_disk: int = 0
    paused: float = 0.0


async def read_ahead(conn: Any, table: str, *, max_mb_s: float, memory_mb_s: float,
                     chunk_bytes: int = CHUNK_BYTES, clock: Callable[[], float] = time.monotonic,
                     sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> ReadAhead:
    """Every block of ``table`` (a name of ours, not user input) read once in the transaction of
    ``conn`` (asyncpg's connection), at most ``max_mb_s`` megabytes a second from the disk."""
    size, rows = await conn.fetchrow(
        f"SELECT pg_relation_size('{table}'), greatest(reltuples, 1) FROM pg_class WHERE oid = '{table}'::regclass")
    # A cursor over a sequential scan, moved forward a chunk's rows at a time: the scan reads its
    # blocks in order (the kernel reads ahead) through PostgreSQL's small ring of buffers for bulk
    # reads, so the citizens' pages stay in shared_buffers; MOVE sends no rows back.
    step = max(int(rows * chunk_bytes / max(size, 1)), 1)
    await conn.execute(f"DECLARE lapor_read_ahead NO SCROLL CURSOR FOR SELECT FROM {table}")
    done = ReadAhead()
    try:
        while True:
            t = clock()
            moved = int((await conn.execute(f"MOVE FORWARD {step} IN lapor_read_ahead")).split()[-1])
            took = clock() - t
            read = int(size * min(moved / rows, 1.0))
            done.bytes += read
            if moved < step:
                break
            if took * memory_mb_s * 1e6 < read:
                continue  # faster than the disk gives it: the page cache's
            done.from_disk += read
            pause = read / (max_mb_s * 1e6) - took
            if pause > 0:
                done.paused += pause
                await sleep(pause)
    finally:
        await conn.execute("CLOSE lapor_read_ahead")
    return done
