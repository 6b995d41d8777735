"""Fixtures shared by the storage tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiosqlite
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine


@pytest.fixture
async def app_engine(engine) -> AsyncIterator[AsyncEngine]:
    """The ``engine`` fixture's database (SQLite and PostgreSQL, tables empty) with an engine as
    the bot builds it (``storage.db.create_engine``: its drivers and listeners)."""
    built = create_engine(engine.url.render_as_string(hide_password=False))
    try:
        yield built
    finally:
        await built.dispose()


@pytest.fixture
def trips(monkeypatch) -> list[str]:
    """The calls sent to aiosqlite's thread (SQLite), by name, while the test runs."""
    seen: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return seen
