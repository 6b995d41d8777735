"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL.

A model change without a regenerated migration (scripts/regen-migration) fails here.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, MetaData, String, func, inspect, select, text
from sqlalchemy.ext.asyncio import create_async_engine

import storage.models  # noqa: F401  (registers every table)
from storage.base import Base
from storage.migrate import (
    MIGRATIONS_DIR,
    alembic_config,
    current_revision,
    head_from_files,
    head_revision,
    pending,
    upgrade_head,
)
from tests.conftest import _pg_admin, _pg_url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def empty_db_url(request, tmp_path) -> AsyncIterator[str]:
    """A database with no tables at all (the conftest engines come with create_all done)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrate.db'}"
        return
    name = f"lapor_mig_{os.getpid()}_{secrets.token_hex(3)}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url(name)
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _diff(conn: Connection) -> list:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    return compare_metadata(ctx, Base.metadata)


async def _schema_diff(url: str) -> list:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_diff)
    finally:
        await engine.dispose()


def test_single_initial_migration():
    # Until the first release the schema is one migration, rewritten by scripts/regen-migration.
    versions = MIGRATIONS_DIR / "versions"
    files = sorted(p.name for p in versions.glob("*.py") if p.name != "__init__.py")
    assert files == ["0001_initial.py"]
    assert head_revision() == "0001"
    # The start-up's check reads the head without Alembic (storage/migrate.py); the same answer.
    assert head_from_files() == head_revision()


async def test_upgrade_builds_the_model_schema(empty_db_url):
    assert await current_revision(empty_db_url) is None
    assert await pending(empty_db_url) is True

    await upgrade_head(empty_db_url)

    assert await current_revision(empty_db_url) == head_revision()
    assert await pending(empty_db_url) is False
    assert await _schema_diff(empty_db_url) == []


async def test_second_upgrade_is_a_noop(empty_db_url):
    await upgrade_head(empty_db_url)
    engine = create_async_engine(empty_db_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO fsm_state (bot_id, chat_id, user_id, thread_id,"
                    " business_connection_id, destiny, state, data, updated_at)"
                    " VALUES (1, 2, 3, 0, '', 'default', 'Form:title', '{}', CURRENT_TIMESTAMP)"
                )
            )
        async with engine.connect() as conn:
            tables_before = await conn.run_sync(lambda c: sorted(inspect(c).get_table_names()))

        await upgrade_head(empty_db_url)

        async with engine.connect() as conn:
            tables_after = await conn.run_sync(lambda c: sorted(inspect(c).get_table_names()))
            assert tables_after == tables_before
            assert await conn.scalar(text("SELECT count(*) FROM fsm_state")) == 1
            assert await conn.scalar(select(func.count()).select_from(text("alembic_version"))) == 1
    finally:
        await engine.dispose()
    assert await current_revision(empty_db_url) == head_revision()


async def test_env_opens_its_own_engine_from_the_url(tmp_path):
    # The path taken when Alembic is driven without a shared connection (e.g. `alembic` CLI
    # tooling); env.py runs its own event loop, so it must run outside ours.
    url = f"sqlite+aiosqlite:///{tmp_path / 'own.db'}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    assert await current_revision(url) == head_revision()
    assert await _schema_diff(url) == []


async def test_the_comparison_notices_drift(empty_db_url):
    # Guards the check above: a column whose type no longer matches must show up as a diff.
    await upgrade_head(empty_db_url)
    drifted = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(drifted)
    drifted.tables["fsm_state"].c.state.type = String(100)

    def diff(conn: Connection) -> list:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, drifted)

    engine = create_async_engine(empty_db_url)
    try:
        async with engine.connect() as conn:
            changes = await conn.run_sync(diff)
    finally:
        await engine.dispose()
    assert [c[0][0] for c in changes] == ["modify_type"]
