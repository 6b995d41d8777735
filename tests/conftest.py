"""Shared fixtures: a database on SQLite and on PostgreSQL, the same tests running on both.

PostgreSQL tests use a database of their own per test run (``lapor_test_<pid>_<hex>``) so that
parallel runs on one server cannot see each other; it is dropped at the end.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import secrets
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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def engine(request, tmp_path) -> AsyncIterator[AsyncEngine]:
    """An engine with every table created, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    else:
        url = request.getfixturevalue("pg_database_url")
    eng = create_async_engine(url)
    async with eng.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)
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
