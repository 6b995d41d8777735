"""Shared fixtures: a database on SQLite and on PostgreSQL, the same tests running on both.

PostgreSQL tests use a database of their own per test run (``lapor_test_<pid>_<hex>``) so that
parallel runs on one server cannot see each other; it is dropped at the end. Its schema is made
once; each test then starts from empty tables (deleting a few rows costs milliseconds, creating
thirty tables and their indexes a second or more).

Temporary files (the tests' SQLite databases, the bot processes' working folders) live in memory
when the machine has a tmpfs: see ``pytest_configure``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import secrets
import tempfile
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

import storage.models  # noqa: F401  (registers every table)
from bot.i18n import build_i18n
from storage.base import Base

PG_ADMIN_URL = os.environ.get("LAPOR_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


def _pg_url(dbname: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname


def _pg_admin(sql: str) -> None:
    """Run one statement on the server's maintenance database.

    In a thread of its own: the fixture may be first asked for from inside a running loop.
    """

    async def run() -> None:
        engine = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(sql))
        finally:
            await engine.dispose()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


@pytest.fixture(scope="session")
def pg_database_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for this test run, dropped afterwards."""
    name = f"lapor_test_{os.getpid()}_{secrets.token_hex(3)}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url(name)
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Put temporary files in memory (``/dev/shm``) unless told otherwise.

    Every commit to a SQLite file waits for the disk: on these machines creating the schema in a
    file took ~1 s on disk against ~0.08 s in memory, and the suite commits thousands of times.
    No test checks durability against a power cut (kill -9 keeps the page cache), so nothing is
    lost by it. ``LAPOR_TEST_TMPDIR`` names another folder, or ``""`` for the system's default;
    ``--basetemp`` still wins. Set here, before pytest-xdist starts its workers, so they and the
    bot processes they start inherit it.
    """
    if hasattr(config, "workerinput") or config.option.basetemp:
        return
    target = os.environ.get("LAPOR_TEST_TMPDIR", "/dev/shm")
    if target and os.path.isdir(target) and os.access(target, os.W_OK):
        os.environ["TMPDIR"] = target
        tempfile.tempdir = None  # forget the folder tempfile chose before


async def _empty_pg_schema(eng: AsyncEngine) -> None:
    """Every table of the models, empty, with its id sequences restarted.

    The schema is created on first use in the run's database and then only emptied. A test that
    dropped it (``drop_all``) leaves tables missing, and then it is created again.
    """
    async with eng.begin() as conn:
        present = set(
            (await conn.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))).all()
        )
        if not set(Base.metadata.tables) <= present:
            await conn.run_sync(Base.metadata.drop_all)
            await conn.run_sync(Base.metadata.create_all)
            return
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(table.delete())
        await conn.execute(text(
            "SELECT setval(c.oid, 1, false) FROM pg_class c"
            " WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace"
        ))


@pytest.fixture
async def pg_empty_database_url(pg_database_url: str) -> str:
    """The run's PostgreSQL database with every table empty, for a test that builds its own engine
    on it (an App): what earlier tests left there would change what it sees."""
    eng = create_async_engine(pg_database_url)
    try:
        await _empty_pg_schema(eng)
    finally:
        await eng.dispose()
    return pg_database_url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def engine(request, tmp_path) -> AsyncIterator[AsyncEngine]:
    """An engine with every table created and empty, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        eng = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
        async with eng.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
    else:
        eng = create_async_engine(request.getfixturevalue("pg_database_url"))
        await _empty_pg_schema(eng)
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture(scope="module")
def i18n():
    """The catalogs the jobs render with; a module that needs another locale defines its own."""
    return build_i18n("id")


@pytest.fixture
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@pytest.fixture
async def session(session_factory) -> AsyncIterator[AsyncSession]:
    async with session_factory() as s:
        yield s
