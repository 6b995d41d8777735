"""A table read from the disk at a capped rate before a bulk read, so that the bulk read finds
it in memory (PostgreSQL, issue 15: the export of a year).

Why: the export's COPY reads the whole reports table (a sequential scan, then a sort), and the
sort returns no row before the scan has ended, so nothing the bot does while rows stream can
slow the scan down. On a host whose memory does not hold the table, that scan reads the disk as
fast as it can, and the citizens' commits queue behind it: each waits for its WAL to reach the
disk (bench/README.md, "Export of a year from the disk"). So the table is read first, a few
megabytes at a time in order, pausing between them so that the disk is read at most at
``max_mb_s``; the COPY then runs from the page cache. A chunk that came back faster than
``memory_mb_s`` was in memory already and cost the disk nothing: no pause.

Whether the table is in memory at all is asked first, of ~1,000 of its pages read at random
(``TABLESAMPLE SYSTEM``), twice: the second read finds them in memory, at the CPU's pace of the
moment, so what the first read took more is what the disk added: 104-109 µs a page for the cold
reports table at load 12, 35-73 µs when 60 % of it was cached, 0 for a table in memory. The time
of a sequential chunk alone could not tell them apart: the kernel reads ahead while PostgreSQL
works, so a chunk from the disk came back nearly as fast as from memory, and on a busy CPU a
cached chunk slower than ``memory_mb_s``: a cached table was paced for (table size /
``max_mb_s``), +6.5 s at load 12 (bench/README.md). A table whose sample came from memory is
not read ahead at all.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

# Bytes read per statement: small enough that a pause comes every few tens of milliseconds at
# the disk's full speed, large enough that a cached table costs few round trips.
CHUNK_BYTES = 4 * 1024 * 1024
# A chunk read faster than this came from the page cache (the bench's disk gives ~500 MB/s).
MEMORY_MB_S = 1000.0
# Pages read at random to tell a table in memory from one on the disk: 1 % of a 700 MB table, so
# PostgreSQL reads them through its ring of buffers for bulk reads (TABLESAMPLE SYSTEM does from
# 1 %): the citizens' pages stay in shared_buffers, and the sample read again comes from the page
# cache. Cold, ~0.1-0.3 s of random reads here.
SAMPLE_PAGES = 1000
# What the disk added per sampled page (the first read's time less the second's) above which the
# table is read ahead and paced: 104-109 µs cold, 35-73 µs 60 % cached, 0 in memory (1M bench,
# load 12; bench/README.md).
CACHED_PAGE_S = 25e-6


@dataclass
class ReadAhead:
    """What ``read_ahead`` did: seconds the disk added per page of the random sample, bytes read
    after it (none when the sample came from memory), of which from the disk (slower than
    ``memory_mb_s``), and seconds paused."""

    sampled: float = 0.0
    bytes: int = 0
    from_disk: int = 0
    paused: float = 0.0


async def read_ahead(conn: Any, table: str, *, max_mb_s: float, memory_mb_s: float,
                     chunk_bytes: int = CHUNK_BYTES, sample_pages: int = SAMPLE_PAGES,
                     cached_page_s: float = CACHED_PAGE_S, clock: Callable[[], float] = time.monotonic,
                     sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> ReadAhead:
    """Every block of ``table`` (a name of ours, not user input) read once in the transaction of
    ``conn`` (asyncpg's connection), at most ``max_mb_s`` megabytes a second from the disk;
    nothing more when the disk added under ``cached_page_s`` per page to ``sample_pages`` of
    them read at random (the table is in memory)."""
    size, rows, pages = await conn.fetchrow(
        f"SELECT pg_relation_size('{table}'), greatest(reltuples, 1), "
        f"pg_relation_size('{table}') / current_setting('block_size')::int "
        f"FROM pg_class WHERE oid = '{table}'::regclass")
    done = ReadAhead()
    if pages:
        # The same pages twice (REPEATABLE): the second time from memory, at this CPU's pace now.
        # What the first took more is what the disk added: the time of a read, not its speed,
        # which the load on the CPU moves as much as the disk does (bench/README.md).
        share = 100 * min(sample_pages, pages) / pages
        seed = random.randrange(1 << 30)
        sample = f"SELECT count(*) FROM {table} TABLESAMPLE SYSTEM ({share:.6f}) REPEATABLE ({seed})"
        t = clock()
        await conn.fetchval(sample)
        first = clock() - t
        t = clock()
        await conn.fetchval(sample)
        again = clock() - t
        done.sampled = max(first - again, 0.0) / min(sample_pages, pages)
        if done.sampled < cached_page_s:
            return done
    # A cursor over a sequential scan, moved forward a chunk's rows at a time: the scan reads its
    # blocks in order (the kernel reads ahead) through PostgreSQL's small ring of buffers for bulk
    # reads, so the citizens' pages stay in shared_buffers; MOVE sends no rows back.
    step = max(int(rows * chunk_bytes / max(size, 1)), 1)
    await conn.execute(f"DECLARE lapor_read_ahead NO SCROLL CURSOR FOR SELECT FROM {table}")
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
